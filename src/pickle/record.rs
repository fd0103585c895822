//! Turns the decoded top-level value into a [`Record`]: a dict with str keys whose values are
//! strings or arrays. Tensors are materialized here; numbers become 0-d arrays, lists of
//! numbers n-d arrays, `None` values are left out, anything else is an error naming the field.

use std::collections::HashMap;

use super::array::ArrayData;
use super::value::{Obj, ObjId, Value};
use super::vm::Loader;
use super::{Field, NdArray, PickleError, Record, torch};

/// Deepest list nesting turned into an array.
const MAX_LIST_DEPTH: usize = 32;

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
            other => {
                return Err(PickleError::NotADict {
                    found: article(other.kind()),
                });
            }
        },
        other => {
            return Err(PickleError::NotADict {
                found: article(loader.arena.describe(other)),
            });
        }
    };
    let mut record: Record = Vec::with_capacity(pairs.len());
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut made: HashMap<ObjId, usize> = HashMap::new();
    for (k, v) in pairs {
        let key = loader
            .arena
            .as_str(k)
            .ok_or_else(|| PickleError::KeyNotStr {
                found: article(loader.arena.describe(k)),
            })?
            .to_owned();
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
            _ => convert(loader, v).map_err(|msg| PickleError::Field {
                field: key.clone(),
                msg,
            })?,
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
