//! Turns the decoded top-level value into a [`Record`]: a dict with str keys whose values are
//! strings or arrays; a value that is itself a dict (a `torch.save`d checkpoint's state dict)
//! is flattened into fields named `key.entry`. Tensors are materialized here; numbers become 0-d arrays, lists of
//! numbers n-d arrays, `None` values are left out, anything else is an error naming the field.

use std::collections::HashMap;

use super::array::ArrayData;
use super::value::{Arena, Obj, ObjId, Value};
use super::vm::Loader;
use super::{Field, NdArray, PickleError, Record, torch};

/// Deepest list nesting turned into an array.
const MAX_LIST_DEPTH: usize = 32;

/// Deepest dict nesting flattened into dotted field names.
const MAX_DICT_DEPTH: usize = 8;

fn article(kind: &str) -> String {
    let vowel = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    if kind == "None" {
        "None".into()
    } else {
        format!("{} {kind}", if vowel { "an" } else { "a" })
    }
}

pub(crate) fn to_record(loader: &mut Loader<'_>, top: Value) -> Result<Record, PickleError> {
    let pairs = match top {
        Value::Obj(id) => match loader.arena.get(id) {
            Obj::Dict(d) => d.clone(),
            Obj::Refused(name) => return Err(PickleError::RefusedGlobal { name: name.clone() }),
            other => return Err(not_a_dict(loader, article(other.kind()))),
        },
        other => {
            let found = article(loader.arena.describe(other));
            return Err(not_a_dict(loader, found));
        }
    };
    let mut named = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let key = loader
            .arena
            .as_str(k)
            .ok_or_else(|| PickleError::KeyNotStr {
                found: article(loader.arena.describe(k)),
            })?
            .to_owned();
        flatten(&loader.arena, key, v, 0, &mut named);
    }
    let mut record: Record = Vec::with_capacity(named.len());
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut made: HashMap<ObjId, usize> = HashMap::new();
    for (key, v) in named {
        let field = match v {
            Value::None => {
                // A None field is an absent field.
                if let Some(i) = position.remove(&key) {
                    record.remove(i);
                    position
                        .values_mut()
                        .filter(|p| **p > i)
                        .for_each(|p| *p -= 1);
                }
                continue;
            }
            Value::Obj(id) if made.contains_key(&id) => record[made[&id]].1.clone(),
            // One field that cannot be read is reported on that field; the rest still loads.
            _ => convert(loader, v).unwrap_or_else(Field::Unreadable),
        };
        let slot = match position.get(&key) {
            Some(&i) => {
                record[i].1 = field;
                i
            }
            None => {
                position.insert(key.clone(), record.len());
                record.push((key, field));
                record.len() - 1
            }
        };
        if let Value::Obj(id) = v {
            made.insert(id, slot);
        }
    }
    Ok(record)
}

/// `key → v`, with a dict value (a torch state dict, an `OrderedDict`) replaced by its entries
/// named `key.<entry>` (integer keys in decimal), down to [`MAX_DICT_DEPTH`] levels.
fn flatten(arena: &Arena, key: String, v: Value, depth: usize, out: &mut Vec<(String, Value)>) {
    let entries = match v {
        Value::Obj(id) => match arena.get(id) {
            Obj::Dict(d) => d.clone(),
            _ => return out.push((key, v)),
        },
        _ => return out.push((key, v)),
    };
    let name = |k: Value| match (k, arena.as_str(k)) {
        (_, Some(s)) => Some(s.to_owned()),
        (Value::Int(i), None) => Some(i.to_string()),
        _ => None,
    };
    // Too deep, or keyed by something other than names: kept whole (and reported unreadable).
    if depth >= MAX_DICT_DEPTH || entries.iter().any(|&(k, _)| name(k).is_none()) {
        return out.push((key, v));
    }
    for (k, sub) in entries {
        let sub_key = format!("{key}.{}", name(k).unwrap_or_default());
        flatten(arena, sub_key, sub, depth + 1, out);
    }
}

/// The file is no dict: if it refused a global on the way, that is the news (a pickle that
/// would have run something), else what it holds.
fn not_a_dict(loader: &Loader<'_>, found: String) -> PickleError {
    match &loader.first_refused {
        Some(name) => PickleError::RefusedGlobal { name: name.clone() },
        None => PickleError::NotADict { found },
    }
}

fn scalar(data: ArrayData) -> Field {
    Field::Array(NdArray {
        shape: Vec::new(),
        data,
    })
}

fn convert(loader: &mut Loader<'_>, v: Value) -> Result<Field, String> {
    match v {
        Value::None => unreachable!("None fields are skipped"),
        Value::Bool(b) => Ok(scalar(ArrayData::Bool(vec![b]))),
        Value::Int(i) => Ok(scalar(ArrayData::I64(vec![i]))),
        Value::Float(f) => Ok(scalar(ArrayData::F64(vec![f]))),
        Value::Obj(id) => match loader.arena.get(id) {
            Obj::Str(s) => Ok(Field::Str(s.to_string())),
            Obj::Bytes(b) => std::str::from_utf8(b)
                .map(|s| Field::Str(s.to_owned()))
                .map_err(|_| "holds bytes that are not text".into()),
            Obj::Tensor(view) => {
                let view = view.clone();
                torch::materialize(&loader.arena, &view, &mut loader.budget).map(Field::Array)
            }
            Obj::Array(_) => {
                let Obj::Array(a) =
                    std::mem::replace(loader.arena.get_mut(id), Obj::List(Vec::new()))
                else {
                    unreachable!()
                };
                Ok(Field::Array(a))
            }
            Obj::List(_) | Obj::Tuple(_) => list_to_array(loader, v).map(Field::Array),
            Obj::BigInt(_) => Err("holds an integer wider than 64 bits".into()),
            Obj::Refused(name) => Err(format!(
                "is a '{name}' object, which SceneLab does not load (nothing from the file is \
                 run): save it as a torch tensor, a numpy array or a list of numbers"
            )),
            other => Err(format!(
                "holds {}; SceneLab keeps strings, numbers and arrays",
                article(other.kind())
            )),
        },
    }
}

/// A (nested, rectangular) list of numbers as an array: bool if all are bool, i64 if all are
/// integers, else f64. An empty list is an f64 array of shape [0].
fn list_to_array(loader: &mut Loader<'_>, v: Value) -> Result<NdArray, String> {
    let arena = &loader.arena;
    let mut shape = Vec::new();
    let mut cur = v;
    while let Some(seq) = arena.as_seq(cur) {
        if shape.len() >= MAX_LIST_DEPTH {
            return Err(format!(
                "holds lists nested deeper than {MAX_LIST_DEPTH} levels"
            ));
        }
        shape.push(seq.len());
        match seq.first() {
            Some(&first) => cur = first,
            None => break,
        }
    }
    let numel = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .filter(|&n| n.saturating_mul(8) <= loader.budget)
        .ok_or("holds a list too large to keep")?;
    let mut leaves: Vec<Value> = Vec::with_capacity(numel);
    // Iterative walk: (value, depth).
    let mut todo = vec![(v, 0usize)];
    while let Some((x, depth)) = todo.pop() {
        if depth == shape.len() {
            match x {
                Value::Bool(_) | Value::Int(_) | Value::Float(_) => leaves.push(x),
                Value::Obj(id) if scalar_array(arena, id).is_some() => leaves.push(x),
                other => {
                    return Err(format!(
                        "holds a list of {}; only lists of numbers are kept",
                        arena.describe(other)
                    ));
                }
            }
            continue;
        }
        let seq = arena
            .as_seq(x)
            .filter(|s| s.len() == shape[depth])
            .ok_or("holds a ragged list; only rectangular lists of numbers are kept")?;
        todo.extend(seq.iter().rev().map(|&e| (e, depth + 1)));
    }
    loader.budget -= numel * 8;
    if let Some(data) = same_dtype_scalars(arena, &leaves) {
        return Ok(NdArray { shape, data });
    }
    let leaves: Vec<Value> = leaves
        .into_iter()
        .map(|x| match x {
            Value::Obj(id) => scalar_array(arena, id).map_or(x, python_number),
            _ => x,
        })
        .collect();
    let data = if !leaves.is_empty() && leaves.iter().all(|x| matches!(x, Value::Bool(_))) {
        ArrayData::Bool(
            leaves
                .iter()
                .map(|x| matches!(x, Value::Bool(true)))
                .collect(),
        )
    } else if !leaves.is_empty() && leaves.iter().all(|x| !matches!(x, Value::Float(_))) {
        ArrayData::I64(
            leaves
                .iter()
                .map(|x| match *x {
                    Value::Int(i) => i,
                    Value::Bool(b) => i64::from(b),
                    _ => 0,
                })
                .collect(),
        )
    } else {
        ArrayData::F64(
            leaves
                .iter()
                .map(|x| match *x {
                    Value::Int(i) => i as f64,
                    Value::Bool(b) => f64::from(u8::from(b)),
                    Value::Float(f) => f,
                    _ => 0.0,
                })
                .collect(),
        )
    };
    Ok(NdArray { shape, data })
}

/// The one element of a 0-d numpy array (what `numpy.float64(x)` and friends pickle as),
/// if `id` is one.
fn scalar_array<'x>(arena: &'x Arena<'_>, id: ObjId) -> Option<&'x ArrayData> {
    match arena.get(id) {
        Obj::Array(a) if a.shape.is_empty() && a.data.len() == 1 => Some(&a.data),
        _ => None,
    }
}

/// A numpy scalar as the Python number it equals (for lists that mix kinds).
fn python_number(data: &ArrayData) -> Value {
    match data {
        ArrayData::Bool(v) => Value::Bool(v[0]),
        ArrayData::F32(_) | ArrayData::F64(_) | ArrayData::F16(_) | ArrayData::BF16(_) => {
            Value::Float(data.to_f64_vec()[0])
        }
        ArrayData::I64(v) => Value::Int(v[0]),
        other => Value::Int(other.to_f64_vec()[0] as i64),
    }
}

/// A list whose leaves are all numpy scalars of one dtype keeps that dtype, as
/// `numpy.asarray` does (a list of `float64` scores stays float64, of `float32` float32).
fn same_dtype_scalars(arena: &Arena<'_>, leaves: &[Value]) -> Option<ArrayData> {
    let mut bytes = Vec::new();
    let mut dtype = None;
    for &leaf in leaves {
        let Value::Obj(id) = leaf else { return None };
        let data = scalar_array(arena, id)?;
        if *dtype.get_or_insert(data.dtype()) != data.dtype() {
            return None;
        }
        data.extend_le_bytes(&mut bytes);
    }
    dtype.map(|d| ArrayData::from_le_bytes(d, &bytes))
}
