//! numpy objects: `dtype` (with its BUILD state), arrays made by `_reconstruct` + BUILD
//! (protocols 0-4), by `_frombuffer` (protocol 5) and scalars, all checked against the bytes
//! they carry before anything is allocated.

use std::borrow::Cow;

use super::array::{ArrayData, gather_bytes};
use super::value::{Global, NumpyDtype, Obj, ObjId, Value};
use super::vm::Loader;
use super::{DType, NdArray, PickleError};

fn err(pos: usize, msg: impl Into<String>) -> PickleError {
    PickleError::Malformed {
        pos,
        msg: msg.into(),
    }
}

/// Parse a dtype string such as `f4`, `<i8`, `b1`.
fn parse_dtype(pos: usize, code: &str) -> Result<NumpyDtype, PickleError> {
    let (big_endian, rest) = match code.as_bytes().first() {
        Some(b'>') => (true, &code[1..]),
        Some(b'<' | b'|' | b'=') => (false, &code[1..]),
        _ => (false, code),
    };
    let dtype = match rest {
        "f4" | "float32" => DType::F32,
        "f8" | "float64" | "d" => DType::F64,
        "f2" | "float16" | "e" => DType::F16,
        "i8" | "int64" => DType::I64,
        "i4" | "int32" => DType::I32,
        "i2" | "int16" => DType::I16,
        "i1" | "int8" => DType::I8,
        "u1" | "uint8" => DType::U8,
        "b1" | "bool" | "?" => DType::Bool,
        other => {
            return Err(PickleError::Unsupported {
                pos,
                msg: format!(
                    "numpy dtype '{other:.20}' (SceneLab reads f2/f4/f8, i1/i2/i4/i8, u1 and bool)"
                ),
            });
        }
    };
    Ok(NumpyDtype { dtype, big_endian })
}

/// `numpy.dtype(code, align, copy)`.
pub(crate) fn make_dtype(
    loader: &mut Loader<'_>,
    pos: usize,
    args: &[Value],
) -> Result<Value, PickleError> {
    let code = args
        .first()
        .and_then(|&c| loader.arena.as_str(c))
        .ok_or_else(|| err(pos, "numpy.dtype needs a type string"))?;
    let d = parse_dtype(pos, code)?;
    Ok(loader.arena.push(Obj::NumpyDtype(d)))
}

/// BUILD of a dtype: `(version, byteorder, subarray, names, fields, elsize, alignment, flags)`.
pub(crate) fn set_dtype_state(
    loader: &mut Loader<'_>,
    pos: usize,
    id: ObjId,
    state: Value,
) -> Result<(), PickleError> {
    let s = loader
        .arena
        .as_seq(state)
        .ok_or_else(|| err(pos, "numpy dtype state is not a tuple"))?;
    let order = s
        .get(1)
        .and_then(|&o| loader.arena.as_str(o))
        .ok_or_else(|| err(pos, "numpy dtype state has no byte order"))?;
    if s.get(2..5)
        .is_some_and(|x| x.iter().any(|&v| v != Value::None))
    {
        return Err(PickleError::Unsupported {
            pos,
            msg: "structured or sub-array numpy dtypes".into(),
        });
    }
    let big = order == ">";
    if let Obj::NumpyDtype(d) = loader.arena.get_mut(id) {
        d.big_endian = big;
    }
    Ok(())
}

/// `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`: an empty array that a
/// BUILD fills in.
pub(crate) fn reconstruct(
    loader: &mut Loader<'_>,
    pos: usize,
    args: &[Value],
) -> Result<Value, PickleError> {
    match args.first() {
        Some(Value::Obj(id))
            if matches!(loader.arena.get(*id), Obj::Global(Global::NumpyNdarray)) =>
        {
            Ok(loader.arena.push(Obj::NumpyPending))
        }
        _ => Err(err(
            pos,
            "_reconstruct of something other than numpy.ndarray",
        )),
    }
}

fn dtype_of(loader: &Loader<'_>, pos: usize, v: Value) -> Result<NumpyDtype, PickleError> {
    match v {
        Value::Obj(id) => match loader.arena.get(id) {
            Obj::NumpyDtype(d) => Ok(*d),
            _ => Err(err(pos, "numpy array dtype is not a dtype")),
        },
        _ => Err(err(pos, "numpy array dtype is not a dtype")),
    }
}

fn shape_of(loader: &Loader<'_>, pos: usize, v: Value) -> Result<Vec<usize>, PickleError> {
    let s = loader
        .arena
        .as_seq(v)
        .ok_or_else(|| err(pos, "numpy array shape is not a tuple"))?;
    s.iter()
        .map(|&x| match x {
            Value::Int(i) => {
                usize::try_from(i).map_err(|_| err(pos, "negative numpy array dimension"))
            }
            _ => Err(err(pos, "numpy array dimension is not an int")),
        })
        .collect()
}

/// The raw bytes of a numpy data argument: bytes, or a latin-1 str from Python 2.
fn data_bytes<'s>(
    loader: &'s Loader<'_>,
    pos: usize,
    v: Value,
) -> Result<Cow<'s, [u8]>, PickleError> {
    match v {
        Value::Obj(id) => match loader.arena.get(id) {
            Obj::Bytes(b) => Ok(Cow::Borrowed(&b[..])),
            Obj::Str(s) => {
                let bytes: Option<Vec<u8>> =
                    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
                bytes
                    .map(Cow::Owned)
                    .ok_or_else(|| err(pos, "numpy array data string is not latin-1"))
            }
            Obj::List(_) => Err(PickleError::Unsupported {
                pos,
                msg: "numpy object arrays".into(),
            }),
            other => Err(err(pos, format!("numpy array data is a {}", other.kind()))),
        },
        _ => Err(err(pos, "numpy array data is not bytes")),
    }
}

/// Build a C-order array from raw bytes in C (or Fortran) order, checking every size.
fn array_from(
    pos: usize,
    d: NumpyDtype,
    shape: Vec<usize>,
    bytes: &[u8],
    fortran: bool,
    budget: &mut usize,
) -> Result<NdArray, PickleError> {
    let isz = d.dtype.size();
    let numel = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| err(pos, "numpy array shape overflows"))?;
    let nbytes = numel
        .checked_mul(isz)
        .ok_or_else(|| err(pos, "numpy array shape overflows"))?;
    if nbytes != bytes.len() {
        return Err(err(
            pos,
            format!(
                "numpy array of shape {shape:?} ({}) needs {nbytes} bytes but holds {}",
                d.dtype.name(),
                bytes.len()
            ),
        ));
    }
    if nbytes > *budget {
        return Err(PickleError::Limit(format!(
            "numpy array of shape {shape:?} is larger than this file may expand to"
        )));
    }
    *budget -= nbytes;
    let mut owned: Option<Vec<u8>> = None;
    if d.big_endian && isz > 1 {
        let mut v = bytes.to_vec();
        v.chunks_exact_mut(isz).for_each(<[u8]>::reverse);
        owned = Some(v);
    }
    if fortran && shape.len() > 1 && numel > 0 {
        let mut stride = Vec::with_capacity(shape.len());
        let mut acc = 1usize;
        for &s in &shape {
            stride.push(acc);
            acc *= s;
        }
        let src = owned.as_deref().unwrap_or(bytes);
        owned = Some(gather_bytes(src, isz, 0, &shape, &stride));
    }
    let data = ArrayData::from_le_bytes(d.dtype, owned.as_deref().unwrap_or(bytes));
    Ok(NdArray { shape, data })
}

/// BUILD of an ndarray: `(version, shape, dtype, is_fortran, data)` (version may be absent).
pub(crate) fn set_array_state(
    loader: &mut Loader<'_>,
    pos: usize,
    id: ObjId,
    state: Value,
) -> Result<(), PickleError> {
    let s = loader
        .arena
        .as_seq(state)
        .ok_or_else(|| err(pos, "numpy array state is not a tuple"))?
        .to_vec();
    let s = match s.len() {
        5 => &s[1..],
        4 => &s[..],
        n => return Err(err(pos, format!("numpy array state has {n} items"))),
    };
    let shape = shape_of(loader, pos, s[0])?;
    let d = dtype_of(loader, pos, s[1])?;
    let fortran = matches!(s[2], Value::Bool(true) | Value::Int(1));
    let mut budget = loader.budget;
    let array = {
        let bytes = data_bytes(loader, pos, s[3])?;
        array_from(pos, d, shape, &bytes, fortran, &mut budget)?
    };
    loader.budget = budget;
    *loader.arena.get_mut(id) = Obj::Array(array);
    Ok(())
}

/// `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)` (protocol 5 arrays).
pub(crate) fn from_buffer(
    loader: &mut Loader<'_>,
    pos: usize,
    args: &[Value],
) -> Result<Value, PickleError> {
    let [buf, dtype, shape, order] = args else {
        return Err(err(pos, "_frombuffer takes (buffer, dtype, shape, order)"));
    };
    let d = dtype_of(loader, pos, *dtype)?;
    let shape = shape_of(loader, pos, *shape)?;
    let fortran = match loader.arena.as_str(*order) {
        Some("C") | Some("A") | Some("K") => false,
        Some("F") => true,
        _ => return Err(err(pos, "_frombuffer order is not 'C' or 'F'")),
    };
    let mut budget = loader.budget;
    let array = {
        let bytes = match *buf {
            Value::Obj(id) => match loader.arena.get(id) {
                Obj::Bytes(b) => b,
                other => return Err(err(pos, format!("_frombuffer of a {}", other.kind()))),
            },
            _ => return Err(err(pos, "_frombuffer of a non-buffer")),
        };
        array_from(pos, d, shape, bytes, fortran, &mut budget)?
    };
    loader.budget = budget;
    Ok(loader.arena.push(Obj::Array(array)))
}

/// `numpy.core.multiarray.scalar(dtype, bytes)`: a numpy scalar, kept as a 0-d array.
pub(crate) fn scalar(
    loader: &mut Loader<'_>,
    pos: usize,
    args: &[Value],
) -> Result<Value, PickleError> {
    let [dtype, data] = args else {
        return Err(err(pos, "numpy scalar takes (dtype, bytes)"));
    };
    let d = dtype_of(loader, pos, *dtype)?;
    let mut budget = loader.budget;
    let array = {
        let bytes = data_bytes(loader, pos, *data)?;
        array_from(pos, d, Vec::new(), &bytes, false, &mut budget)?
    };
    loader.budget = budget;
    Ok(loader.arena.push(Obj::Array(array)))
}
