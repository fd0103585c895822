//! Decoded n-dimensional arrays: what a torch tensor or numpy array becomes once read.

use half::{bf16, f16};

/// Element type of an array, named as `scenelab inspect --json` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::I64 => "i64",
            DType::I32 => "i32",
            DType::I16 => "i16",
            DType::I8 => "i8",
            DType::U8 => "u8",
            DType::Bool => "bool",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }
}

/// Contiguous (row-major) element storage of one array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    I16(Vec<i16>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
}

/// A dense row-major array with its shape. Views, offsets and strides of the source file
/// are already resolved: `data` holds exactly `shape.iter().product()` elements.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    pub shape: Vec<usize>,
    pub data: ArrayData,
}

impl ArrayData {
    pub fn dtype(&self) -> DType {
        match self {
            ArrayData::F32(_) => DType::F32,
            ArrayData::F64(_) => DType::F64,
            ArrayData::F16(_) => DType::F16,
            ArrayData::BF16(_) => DType::BF16,
            ArrayData::I64(_) => DType::I64,
            ArrayData::I32(_) => DType::I32,
            ArrayData::I16(_) => DType::I16,
            ArrayData::I8(_) => DType::I8,
            ArrayData::U8(_) => DType::U8,
            ArrayData::Bool(_) => DType::Bool,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F64(v) => v.len(),
            ArrayData::F16(v) => v.len(),
            ArrayData::BF16(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::I32(v) => v.len(),
            ArrayData::I16(v) => v.len(),
            ArrayData::I8(v) => v.len(),
            ArrayData::U8(v) => v.len(),
            ArrayData::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every element as f64 (bool as 0/1), in storage order.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            ArrayData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::F64(v) => v.clone(),
            ArrayData::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
            ArrayData::BF16(v) => v.iter().map(|x| x.to_f64()).collect(),
            ArrayData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::I16(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::I8(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::U8(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::Bool(v) => v.iter().map(|&x| if x { 1.0 } else { 0.0 }).collect(),
        }
    }

    /// Sum of all elements as f64 (bool true = 1), accumulated in storage order.
    pub fn sum_f64(&self) -> f64 {
        fn sum<T: Copy>(v: &[T], f: impl Fn(T) -> f64) -> f64 {
            v.iter().fold(0.0, |acc, &x| acc + f(x))
        }
        match self {
            ArrayData::F32(v) => sum(v, f64::from),
            ArrayData::F64(v) => sum(v, |x| x),
            ArrayData::F16(v) => sum(v, |x| x.to_f64()),
            ArrayData::BF16(v) => sum(v, |x| x.to_f64()),
            ArrayData::I64(v) => sum(v, |x| x as f64),
            ArrayData::I32(v) => sum(v, f64::from),
            ArrayData::I16(v) => sum(v, f64::from),
            ArrayData::I8(v) => sum(v, f64::from),
            ArrayData::U8(v) => sum(v, f64::from),
            ArrayData::Bool(v) => sum(v, |x| if x { 1.0 } else { 0.0 }),
        }
    }

    /// Decode contiguous little-endian elements (`bytes.len()` must be a multiple of the
    /// element size). Bool is any non-zero byte, as torch and numpy read it.
    pub fn from_le_bytes(dtype: DType, bytes: &[u8]) -> ArrayData {
        fn de<T, const N: usize>(b: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunk of N bytes")))
                .collect()
        }
        match dtype {
            DType::F32 => ArrayData::F32(de(bytes, f32::from_le_bytes)),
            DType::F64 => ArrayData::F64(de(bytes, f64::from_le_bytes)),
            DType::F16 => ArrayData::F16(de(bytes, f16::from_le_bytes)),
            DType::BF16 => ArrayData::BF16(de(bytes, bf16::from_le_bytes)),
            DType::I64 => ArrayData::I64(de(bytes, i64::from_le_bytes)),
            DType::I32 => ArrayData::I32(de(bytes, i32::from_le_bytes)),
            DType::I16 => ArrayData::I16(de(bytes, i16::from_le_bytes)),
            DType::I8 => ArrayData::I8(bytes.iter().map(|&b| b as i8).collect()),
            DType::U8 => ArrayData::U8(bytes.to_vec()),
            DType::Bool => ArrayData::Bool(bytes.iter().map(|&b| b != 0).collect()),
        }
    }

    /// Append the elements as little-endian bytes to `out` (what the writer stores).
    pub fn extend_le_bytes(&self, out: &mut Vec<u8>) {
        fn le<T: Copy, const N: usize>(v: &[T], out: &mut Vec<u8>, f: impl Fn(T) -> [u8; N]) {
            // Fill a zeroed tail in place: this compiles to a straight copy loop.
            let start = out.len();
            out.resize(start + v.len() * N, 0);
            for (c, &x) in out[start..].chunks_exact_mut(N).zip(v) {
                c.copy_from_slice(&f(x));
            }
        }
        match self {
            ArrayData::F32(v) => le(v, out, f32::to_le_bytes),
            ArrayData::F64(v) => le(v, out, f64::to_le_bytes),
            ArrayData::F16(v) => le(v, out, f16::to_le_bytes),
            ArrayData::BF16(v) => le(v, out, bf16::to_le_bytes),
            ArrayData::I64(v) => le(v, out, i64::to_le_bytes),
            ArrayData::I32(v) => le(v, out, i32::to_le_bytes),
            ArrayData::I16(v) => le(v, out, i16::to_le_bytes),
            ArrayData::I8(v) => le(v, out, i8::to_le_bytes),
            ArrayData::U8(v) => out.extend_from_slice(v),
            ArrayData::Bool(v) => out.extend(v.iter().map(|&b| b as u8)),
        }
    }

    /// The elements as little-endian bytes, contiguous (what `expected.json` hashes).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
            v.iter().flat_map(|&x| f(x)).collect()
        }
        match self {
            ArrayData::F32(v) => le(v, f32::to_le_bytes),
            ArrayData::F64(v) => le(v, f64::to_le_bytes),
            ArrayData::F16(v) => le(v, f16::to_le_bytes),
            ArrayData::BF16(v) => le(v, bf16::to_le_bytes),
            ArrayData::I64(v) => le(v, i64::to_le_bytes),
            ArrayData::I32(v) => le(v, i32::to_le_bytes),
            ArrayData::I16(v) => le(v, i16::to_le_bytes),
            ArrayData::I8(v) => le(v, i8::to_le_bytes),
            ArrayData::U8(v) => v.clone(),
            ArrayData::Bool(v) => v.iter().map(|&b| b as u8).collect(),
        }
    }
}

impl NdArray {
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    pub fn numel(&self) -> usize {
        self.data.len()
    }
}

/// Copy the elements of a strided view into contiguous row-major bytes. `offset` and
/// `stride` are in elements of `itemsize` bytes; the caller has checked that every index
/// the view reaches lies inside `bytes`.
pub(crate) fn gather_bytes(
    bytes: &[u8],
    itemsize: usize,
    offset: usize,
    shape: &[usize],
    stride: &[usize],
) -> Vec<u8> {
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel * itemsize);
    if numel == 0 {
        return out;
    }
    let Some((&inner, outer_shape)) = shape.split_last() else {
        out.extend_from_slice(&bytes[offset * itemsize..(offset + 1) * itemsize]);
        return out;
    };
    let inner_stride = stride[shape.len() - 1];
    let mut idx = vec![0usize; outer_shape.len()];
    for _ in 0..numel / inner {
        let base = offset + idx.iter().zip(stride).map(|(&i, &s)| i * s).sum::<usize>();
        if inner_stride == 1 {
            out.extend_from_slice(&bytes[base * itemsize..(base + inner) * itemsize]);
        } else {
            for j in 0..inner {
                let e = (base + j * inner_stride) * itemsize;
                out.extend_from_slice(&bytes[e..e + itemsize]);
            }
        }
        for d in (0..outer_shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < outer_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}
