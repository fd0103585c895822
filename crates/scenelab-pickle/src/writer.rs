//! The writer: a record as CPython's C pickler writes `pickle.dump(d, f, protocol=4)`, with the
//! same memo numbering and the same FRAMEs (a frame is closed at the first `save` once it holds
//! 64 KiB, and byte strings of 64 KiB or more are written outside any frame). Arrays are
//! written in one of two forms ([`ArrayForm`]):
//!
//! - torch tensors: `_rebuild_tensor_v2(_load_from_bytes(<legacy torch.save stream>), 0, size,
//!   stride, False, OrderedDict())`, as the challenge's files hold them;
//! - numpy arrays: `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` then BUILD
//!   with `(1, shape, dtype, False, <raw bytes>)`, the dtype being `numpy.dtype(code, False,
//!   True)` BUILT with `(3, byteorder, None, None, None, -1, -1, 0)`: what `ndarray.__reduce__`
//!   gives, as MovieNet's own dict pickles hold them. The module is named `numpy.core` (numpy
//!   1.x's name, which numpy 2 still loads) so that both numpy generations read the file.

use std::collections::HashMap;

use super::{ArrayData, DType, Field, NdArray, Record};

/// How [`write`] pickles arrays (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArrayForm {
    /// Contiguous CPU torch tensors whose storage type matches the dtype: reading the file
    /// in Python needs torch. The challenge's `tt*.pkl` files hold these.
    #[default]
    Torch,
    /// numpy arrays (C order, little-endian): reading the file in Python needs only numpy.
    /// numpy has no bfloat16, so bf16 arrays are written as float32 (exactly: every bf16 is a
    /// float32).
    Numpy,
}

const FRAME_SIZE_TARGET: usize = 64 * 1024;
const FRAME_SIZE_MIN: usize = 4;
const FRAME_HEADER_SIZE: usize = 9;
/// Items per MARK ... SETITEMS batch, as CPython.
const BATCH_SIZE: usize = 1000;

/// The globals the writer refers to, memoized once each like the pickler does.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Global {
    RebuildTensorV2,
    LoadFromBytes,
    OrderedDict,
    NumpyReconstruct,
    NumpyNdarray,
    NumpyDtype,
}

impl Global {
    fn path(self) -> (&'static str, &'static str) {
        match self {
            Global::RebuildTensorV2 => ("torch._utils", "_rebuild_tensor_v2"),
            Global::LoadFromBytes => ("torch.storage", "_load_from_bytes"),
            Global::OrderedDict => ("collections", "OrderedDict"),
            Global::NumpyReconstruct => ("numpy.core.multiarray", "_reconstruct"),
            Global::NumpyNdarray => ("numpy", "ndarray"),
            Global::NumpyDtype => ("numpy", "dtype"),
        }
    }
}

/// Emulates the C pickler's output buffer: framing, memo counter, opcode boundaries.
struct Pickler {
    out: Vec<u8>,
    frame_start: Option<usize>,
    framing: bool,
    memo_len: u32,
    globals: HashMap<Global, u32>,
    /// Strings Python holds once (module and attribute names are interned, one-character
    /// strings are cached), so the pickler memoizes them once and refers back: `numpy` of
    /// `numpy.ndarray` and `numpy.dtype`, a dtype's byte order.
    interned: HashMap<&'static str, u32>,
    /// numpy dtype objects already written (one object per dtype in numpy), by dtype.
    dtypes: HashMap<DType, u32>,
    /// `b'b'`, the one-byte bytes object every `_reconstruct` call gets (a cached object).
    numpy_tag: Option<u32>,
}

impl Pickler {
    fn write(&mut self, bytes: &[u8]) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.out.len());
            self.out.extend_from_slice(&[0xfe; FRAME_HEADER_SIZE]);
        }
        self.out.extend_from_slice(bytes);
    }

    fn commit_frame(&mut self) {
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = 0x95;
            self.out[start + 1..start + FRAME_HEADER_SIZE]
                .copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER_SIZE);
        }
    }

    /// Called at the start of every `save()`, like `_Pickler_OpcodeBoundary`.
    fn boundary(&mut self) {
        if let Some(start) = self.frame_start
            && self.out.len() - start - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET
        {
            self.commit_frame();
        }
    }

    /// `_Pickler_write_bytes`: large payloads go outside any frame.
    fn write_payload(&mut self, header: &[u8], len: usize, payload: impl FnOnce(&mut Vec<u8>)) {
        if len >= FRAME_SIZE_TARGET {
            self.commit_frame();
            self.out.extend_from_slice(header);
        } else {
            self.write(header);
        }
        payload(&mut self.out);
    }

    fn memoize(&mut self) -> u32 {
        self.write(&[0x94]);
        self.memo_len += 1;
        self.memo_len - 1
    }

    fn save_str(&mut self, s: &str) {
        self.boundary();
        let b = s.as_bytes();
        let mut header = Vec::with_capacity(9);
        if b.len() <= 0xff {
            header.extend_from_slice(&[0x8c, b.len() as u8]);
        } else if let Ok(n) = u32::try_from(b.len()) {
            header.push(b'X');
            header.extend_from_slice(&n.to_le_bytes());
        } else {
            header.push(0x8d);
            header.extend_from_slice(&(b.len() as u64).to_le_bytes());
        }
        self.write_payload(&header, b.len(), |out| out.extend_from_slice(b));
        self.memoize();
    }

    /// A str Python holds as one object: written and memoized the first time, then a memo get.
    fn save_interned(&mut self, s: &'static str) {
        self.boundary();
        match self.interned.get(s) {
            Some(&idx) => self.memo_get(idx),
            None => {
                self.save_str(s);
                self.interned.insert(s, self.memo_len - 1);
            }
        }
    }

    fn save_int(&mut self, v: i64) {
        self.boundary();
        let mut op = Vec::with_capacity(10);
        encode_int(&mut op, v);
        self.write(&op);
    }

    fn memo_get(&mut self, idx: u32) {
        if idx < 256 {
            self.write(&[b'h', idx as u8]);
        } else {
            let mut op = vec![b'j'];
            op.extend_from_slice(&idx.to_le_bytes());
            self.write(&op);
        }
    }

    fn save_global(&mut self, g: Global) {
        self.boundary();
        if let Some(&idx) = self.globals.get(&g) {
            self.memo_get(idx);
            return;
        }
        let (module, name) = g.path();
        self.save_interned(module);
        self.save_interned(name);
        self.write(&[0x93]);
        let idx = self.memoize();
        self.globals.insert(g, idx);
    }

    fn save_int_tuple(&mut self, items: &[usize]) {
        self.boundary();
        if items.is_empty() {
            self.write(b")");
            return;
        }
        if items.len() > 3 {
            self.write(b"(");
        }
        for &i in items {
            self.save_int(i as i64);
        }
        match items.len() {
            1 => self.write(&[0x85]),
            2 => self.write(&[0x86]),
            3 => self.write(&[0x87]),
            _ => self.write(b"t"),
        }
        self.memoize();
    }

    fn save_tensor(&mut self, a: &NdArray, key: &str) {
        debug_assert_eq!(
            a.numel(),
            a.shape.iter().product::<usize>(),
            "an NdArray holds shape.product() elements"
        );
        self.boundary();
        // save_reduce(_rebuild_tensor_v2, args)
        self.save_global(Global::RebuildTensorV2);
        self.boundary(); // save(args): a 6-tuple, MARK ... TUPLE
        self.write(b"(");
        {
            // save(storage): save_reduce(_load_from_bytes, (bytes,))
            self.boundary();
            self.save_global(Global::LoadFromBytes);
            self.boundary(); // save((bytes,))
            let head = legacy_head(a.dtype(), key, a.numel());
            let data_len = a.numel() * a.dtype().size();
            self.save_bytes(head.len() + data_len, |out| {
                out.extend_from_slice(&head);
                a.data.extend_le_bytes(out);
            });
            self.write(&[0x85]);
            self.memoize();
            self.write(b"R");
            self.memoize();
        }
        self.save_int(0);
        self.save_int_tuple(&a.shape);
        self.save_int_tuple(&contiguous_strides(&a.shape));
        self.boundary();
        self.write(&[0x89]);
        {
            // save(OrderedDict()): save_reduce(OrderedDict, ())
            self.boundary();
            self.save_global(Global::OrderedDict);
            self.boundary();
            self.write(b")");
            self.write(b"R");
            self.memoize();
        }
        self.write(b"t");
        self.memoize();
        self.write(b"R");
        self.memoize();
    }
}

impl Pickler {
    /// A byte string: SHORT_BINBYTES, BINBYTES or BINBYTES8 by length, memoized.
    fn save_bytes(&mut self, len: usize, payload: impl FnOnce(&mut Vec<u8>)) {
        self.boundary();
        let mut header = Vec::with_capacity(9);
        if len <= 0xff {
            header.extend_from_slice(&[b'C', len as u8]);
        } else if let Ok(n) = u32::try_from(len) {
            header.push(b'B');
            header.extend_from_slice(&n.to_le_bytes());
        } else {
            header.push(0x8e);
            header.extend_from_slice(&(len as u64).to_le_bytes());
        }
        self.write_payload(&header, len, payload);
        self.memoize();
    }

    /// `numpy.dtype(code, False, True)` BUILT with its state, or a memo get once written.
    fn save_numpy_dtype(&mut self, dtype: DType) {
        self.boundary();
        if let Some(&idx) = self.dtypes.get(&dtype) {
            self.memo_get(idx);
            return;
        }
        let (code, order) = numpy_code(dtype);
        self.save_global(Global::NumpyDtype);
        self.boundary(); // save(args)
        self.save_str(code);
        self.boundary();
        self.write(&[0x89]); // False: align
        self.boundary();
        self.write(&[0x88]); // True: copy
        self.write(&[0x87]);
        self.memoize();
        self.write(b"R");
        let idx = self.memoize();
        self.dtypes.insert(dtype, idx);
        // save(state): (3, order, None, None, None, -1, -1, 0), then BUILD.
        self.boundary();
        self.write(b"(");
        self.save_int(3);
        self.save_interned(order);
        for _ in 0..3 {
            self.boundary();
            self.write(b"N");
        }
        self.save_int(-1);
        self.save_int(-1);
        self.save_int(0);
        self.write(b"t");
        self.memoize();
        self.write(b"b");
    }

    /// An array as `ndarray.__reduce__` pickles it (see the module docs).
    fn save_numpy(&mut self, a: &NdArray) {
        debug_assert_eq!(
            a.numel(),
            a.shape.iter().product::<usize>(),
            "an NdArray holds shape.product() elements"
        );
        // numpy has no bfloat16: widen to float32, which holds every bf16 exactly.
        let widened;
        let data = match &a.data {
            ArrayData::BF16(v) => {
                widened = ArrayData::F32(v.iter().map(|x| x.to_f32()).collect());
                &widened
            }
            d => d,
        };
        self.boundary();
        // save_reduce(_reconstruct, (ndarray, (0,), b'b'), state)
        self.save_global(Global::NumpyReconstruct);
        self.boundary(); // save(args): a 3-tuple
        self.save_global(Global::NumpyNdarray);
        self.save_int_tuple(&[0]);
        match self.numpy_tag {
            Some(idx) => {
                self.boundary();
                self.memo_get(idx);
            }
            None => {
                self.save_bytes(1, |out| out.push(b'b'));
                self.numpy_tag = Some(self.memo_len - 1);
            }
        }
        self.write(&[0x87]);
        self.memoize();
        self.write(b"R");
        self.memoize();
        // save(state): (1, shape, dtype, False, data), then BUILD.
        self.boundary();
        self.write(b"(");
        self.save_int(1);
        self.save_int_tuple(&a.shape);
        self.save_numpy_dtype(data.dtype());
        self.boundary();
        self.write(&[0x89]); // False: C order
        self.save_bytes(a.numel() * data.dtype().size(), |out| {
            data.extend_le_bytes(out)
        });
        self.write(b"t");
        self.memoize();
        self.write(b"b");
    }
}

/// numpy's type code of `dtype` and the byte order its pickled state names (`|` where order
/// does not apply). bf16 has none: [`Pickler::save_numpy`] widens it first.
fn numpy_code(dtype: DType) -> (&'static str, &'static str) {
    match dtype {
        DType::F32 | DType::BF16 => ("f4", "<"),
        DType::F64 => ("f8", "<"),
        DType::F16 => ("f2", "<"),
        DType::I64 => ("i8", "<"),
        DType::I32 => ("i4", "<"),
        DType::I16 => ("i2", "<"),
        DType::I8 => ("i1", "|"),
        DType::U8 => ("u1", "|"),
        DType::Bool => ("b1", "|"),
    }
}

/// Minimal pickle integer opcode, as the C pickler picks it.
fn encode_int(out: &mut Vec<u8>, v: i64) {
    if let Ok(v32) = i32::try_from(v) {
        if (0..=0xff).contains(&v32) {
            out.extend_from_slice(&[b'K', v32 as u8]);
        } else if (0..=0xffff).contains(&v32) {
            out.push(b'M');
            out.extend_from_slice(&(v32 as u16).to_le_bytes());
        } else {
            out.push(b'J');
            out.extend_from_slice(&v32.to_le_bytes());
        }
        return;
    }
    // LONG1 with the fewest two's-complement bytes.
    let bytes = v.to_le_bytes();
    let mut n = 8;
    let fill = if v < 0 { 0xff } else { 0 };
    while n > 1 && bytes[n - 1] == fill && (bytes[n - 2] & 0x80 != 0) == (v < 0) {
        n -= 1;
    }
    out.extend_from_slice(&[0x8a, n as u8]);
    out.extend_from_slice(&bytes[..n]);
}

/// torch's contiguous strides (a size-0 dimension counts as 1).
fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut stride = vec![0; shape.len()];
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        stride[i] = acc;
        acc = acc.saturating_mul(shape[i].max(1));
    }
    stride
}

fn storage_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "FloatStorage",
        DType::F64 => "DoubleStorage",
        DType::F16 => "HalfStorage",
        DType::BF16 => "BFloat16Storage",
        DType::I64 => "LongStorage",
        DType::I32 => "IntStorage",
        DType::I16 => "ShortStorage",
        DType::I8 => "CharStorage",
        DType::U8 => "ByteStorage",
        DType::Bool => "BoolStorage",
    }
}

/// `BINUNICODE` + `BINPUT`, as protocol 2 writes a str.
fn p2_str(out: &mut Vec<u8>, s: &str, memo: u8) {
    out.push(b'X');
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(&[b'q', memo]);
}

/// Everything of a legacy `torch.save(storage)` stream before the storage's raw elements:
/// magic, protocol, sys_info, the storage pickle, the key list and the element count.
fn legacy_head(dtype: DType, key: &str, numel: usize) -> Vec<u8> {
    const PREFIX: &[u8] = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\
\x80\x02}q\x00(X\x10\x00\x00\x00protocol_versionq\x01M\xe9\x03X\r\x00\x00\x00little_endianq\x02\x88\
X\n\x00\x00\x00type_sizesq\x03}q\x04(X\x05\x00\x00\x00shortq\x05K\x02X\x03\x00\x00\x00intq\x06K\x04\
X\x04\x00\x00\x00longq\x07K\x04uu.";
    let mut out = Vec::with_capacity(PREFIX.len() + 120);
    out.extend_from_slice(PREFIX);
    out.extend_from_slice(b"\x80\x02(");
    p2_str(&mut out, "storage", 0);
    out.extend_from_slice(b"ctorch\n");
    out.extend_from_slice(storage_name(dtype).as_bytes());
    out.extend_from_slice(b"\nq\x01");
    p2_str(&mut out, key, 2);
    p2_str(&mut out, "cpu", 3);
    encode_int(&mut out, numel as i64);
    out.extend_from_slice(b"Ntq\x04Q.");
    out.extend_from_slice(b"\x80\x02]q\x00");
    p2_str(&mut out, key, 1);
    out.extend_from_slice(b"a.");
    out.extend_from_slice(&(numel as u64).to_le_bytes());
    out
}

/// A storage key as torch makes them (the decimal address of the storage): 14 digits, and
/// distinct per tensor so that the file reads like one written by torch.
fn storage_key(i: usize) -> String {
    format!("{}", 94_000_000_000_000u64 + 4096 * i as u64)
}

/// Encode a record with its arrays in `form` (see the module docs). Duplicate names keep the
/// last value, in the position of the first, as a Python dict built from the pairs would.
/// Unreadable fields are left out: there is nothing to write (callers that copy files say so).
pub(crate) fn write(record: &Record, form: ArrayForm) -> Vec<u8> {
    let mut fields: Vec<(&str, &Field)> = Vec::with_capacity(record.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (k, v) in record
        .iter()
        .filter(|(_, v)| !matches!(v, Field::Unreadable(_)))
    {
        match seen.get(k.as_str()) {
            Some(&i) => fields[i].1 = v,
            None => {
                seen.insert(k, fields.len());
                fields.push((k, v));
            }
        }
    }
    let payload: usize = fields
        .iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    Field::Str(s) => s.len(),
                    Field::Array(a) => a.numel() * a.dtype().size() + 400,
                    Field::Unreadable(_) => 0,
                }
        })
        .sum();
    let mut p = Pickler {
        out: Vec::with_capacity(payload + 256),
        frame_start: None,
        framing: false,
        memo_len: 0,
        globals: HashMap::new(),
        interned: HashMap::new(),
        dtypes: HashMap::new(),
        numpy_tag: None,
    };
    p.write(&[0x80, 4]);
    p.framing = true;
    // save(dict)
    p.boundary();
    p.write(b"}");
    p.memoize();
    let mut tensors = 0usize;
    let mut save_item = |p: &mut Pickler, k: &str, v: &Field| {
        p.save_str(k);
        match v {
            Field::Str(s) => p.save_str(s),
            Field::Array(a) => match form {
                ArrayForm::Torch => {
                    p.save_tensor(a, &storage_key(tensors));
                    tensors += 1;
                }
                ArrayForm::Numpy => p.save_numpy(a),
            },
            Field::Unreadable(_) => unreachable!("unreadable fields are left out above"),
        }
    };
    match fields.len() {
        0 => {}
        1 => {
            save_item(&mut p, fields[0].0, fields[0].1);
            p.write(b"s");
        }
        _ => {
            for batch in fields.chunks(BATCH_SIZE) {
                p.write(b"(");
                for (k, v) in batch {
                    save_item(&mut p, k, v);
                }
                p.write(b"u");
            }
        }
    }
    p.write(b".");
    p.commit_frame();
    p.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_as_cpython_writes_them() {
        let enc = |v| {
            let mut o = Vec::new();
            encode_int(&mut o, v);
            o
        };
        assert_eq!(enc(0), b"K\x00");
        assert_eq!(enc(2048), b"M\x00\x08");
        assert_eq!(enc(98304), b"J\x00\x80\x01\x00");
        assert_eq!(enc(-1), b"J\xff\xff\xff\xff");
        assert_eq!(enc(1 << 31), b"\x8a\x05\x00\x00\x00\x80\x00");
    }

    #[test]
    fn strides_follow_torch() {
        assert_eq!(contiguous_strides(&[48, 2048]), vec![2048, 1]);
        assert_eq!(contiguous_strides(&[3, 0]), vec![1, 1]);
        assert!(contiguous_strides(&[]).is_empty());
    }

    #[test]
    fn legacy_head_matches_torch() {
        // The head of the 'scene_transition_boundary_ground_truth' storage of tt0000001_p4.pkl.
        let head = legacy_head(DType::Bool, "94793937714560", 47);
        let want: &[u8] = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}q\x00(X\x10\x00\x00\x00protocol_versionq\x01M\xe9\x03X\r\x00\x00\x00little_endianq\x02\x88X\n\x00\x00\x00type_sizesq\x03}q\x04(X\x05\x00\x00\x00shortq\x05K\x02X\x03\x00\x00\x00intq\x06K\x04X\x04\x00\x00\x00longq\x07K\x04uu.\x80\x02(X\x07\x00\x00\x00storageq\x00ctorch\nBoolStorage\nq\x01X\x0e\x00\x00\x0094793937714560q\x02X\x03\x00\x00\x00cpuq\x03K/Ntq\x04Q.\x80\x02]q\x00X\x0e\x00\x00\x0094793937714560q\x01a./\x00\x00\x00\x00\x00\x00\x00";
        assert_eq!(head, want);
    }

    #[test]
    fn empty_record_is_an_empty_dict() {
        for form in [ArrayForm::Torch, ArrayForm::Numpy] {
            assert_eq!(write(&Vec::new(), form), b"\x80\x04}\x94.");
        }
    }

    fn array(shape: &[usize], data: ArrayData) -> Field {
        Field::Array(NdArray {
            shape: shape.to_vec(),
            data,
        })
    }

    #[test]
    fn numpy_arrays_of_every_dtype_read_back() {
        use half::{bf16, f16};
        let record: Record = vec![
            (
                "f32".into(),
                array(
                    &[2, 3],
                    ArrayData::F32(vec![0.5, -1.0, 2.0, 3.0, 0.0, 1e-3]),
                ),
            ),
            ("f32_0d".into(), array(&[], ArrayData::F32(vec![7.25]))),
            ("f64".into(), array(&[2], ArrayData::F64(vec![0.1, -2.5]))),
            (
                "f16".into(),
                array(&[2], ArrayData::F16(vec![f16::from_f32(1.5); 2])),
            ),
            ("i64".into(), array(&[2], ArrayData::I64(vec![-3, 1 << 40]))),
            ("i32".into(), array(&[1], ArrayData::I32(vec![-7]))),
            ("i16".into(), array(&[1], ArrayData::I16(vec![300]))),
            ("i8".into(), array(&[1], ArrayData::I8(vec![-8]))),
            ("u8".into(), array(&[3], ArrayData::U8(vec![0, 128, 255]))),
            (
                "bool".into(),
                array(&[3], ArrayData::Bool(vec![true, false, true])),
            ),
            ("empty".into(), array(&[0, 4], ArrayData::F32(Vec::new()))),
            ("name".into(), Field::Str("tt0000001".into())),
            // Written after an f32 array: the dtype and b'b' are memo gets.
            (
                "f32_again".into(),
                array(&[1, 2], ArrayData::F32(vec![4.0, 5.0])),
            ),
        ];
        let bytes = write(&record, ArrayForm::Numpy);
        assert!(!bytes.windows(5).any(|w| w == b"torch"), "no torch global");
        assert_eq!(crate::read_record(&bytes).unwrap(), record);

        // bf16 has no numpy dtype: it reads back as the same values in float32.
        let values = [1.0f32, -0.5, 3.0];
        let bf = vec![(
            "x".into(),
            array(&[3], ArrayData::BF16(values.map(bf16::from_f32).to_vec())),
        )];
        let back = crate::read_record(&write(&bf, ArrayForm::Numpy)).unwrap();
        assert_eq!(
            back,
            vec![("x".into(), array(&[3], ArrayData::F32(values.to_vec())))]
        );
    }

    #[test]
    fn large_numpy_arrays_go_outside_frames() {
        // 40,000 f32 = 160 KB: BINBYTES outside any frame, and the frames around it valid.
        let values: Vec<f32> = (0..40_000).map(|i| i as f32 * 0.25).collect();
        let record: Record = (0..3)
            .map(|k| {
                (
                    format!("{k:04}"),
                    array(&[values.len()], ArrayData::F32(values.clone())),
                )
            })
            .collect();
        let bytes = write(&record, ArrayForm::Numpy);
        assert_eq!(crate::read_record(&bytes).unwrap(), record);
    }
}
