//! PyTorch checkpoints: the tensors of a state dict saved with `torch.save`, either the bare
//! `model.state_dict()` or a training checkpoint holding one under a key (`{'state_dict': …,
//! 'epoch': n, 'optimizer': …}`, as SceneSeg and most training scripts save them).
//!
//! Only the chosen state dict's tensors are materialised: optimiser and scheduler state,
//! epochs and the like are named in [`StateDict::ignored`] and never decoded into arrays.

use std::path::Path;

use super::value::{Obj, Value};
use super::vm::Loader;
use super::{NdArray, PickleError, torch};

/// The keys a training checkpoint keeps its model's state dict under, in the order they are
/// tried.
pub const STATE_DICT_KEYS: [&str; 4] = ["state_dict", "model", "model_state_dict", "net"];

/// Wrappers followed inside one another at most (`{'model': {'state_dict': …}}`).
const MAX_WRAPPERS: usize = 4;

/// A state dict's tensors, as a checkpoint file holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDict {
    /// Parameter name (as saved, `module.` prefixes included) → array, in file order.
    pub tensors: Vec<(String, NdArray)>,
    /// The keys followed to reach the state dict (`["state_dict"]`), empty when the file is
    /// the state dict itself.
    pub found_under: Vec<String>,
    /// Entries left unread: the checkpoint's other keys (`epoch`, `optimizer`, …) and the
    /// state dict's values that are not tensors, each as a dotted path.
    pub ignored: Vec<String>,
}

/// Read the state dict in a `torch.save` file's bytes (zip archive or legacy format, or a
/// plain pickle of tensors).
///
/// Errors: the file is no pickle or is corrupt; its top level is not a dict; no tensors are
/// found at its top level or under one of [`STATE_DICT_KEYS`]
/// ([`PickleError::NoStateDict`], naming its keys); a value of the state dict, or of the dict
/// searched for one when none is found, is an object of a global off the allow-list
/// ([`PickleError::RefusedGlobal`], naming it: nothing is run).
pub fn read_state_dict(bytes: &[u8]) -> Result<StateDict, PickleError> {
    super::decode(bytes, to_state_dict)
}

/// [`read_state_dict`] of a file.
pub fn read_state_dict_file(path: &Path) -> Result<StateDict, PickleError> {
    let bytes = std::fs::read(path)?;
    read_state_dict(&bytes)
}

/// A dict's entries with their keys as strings (`None` for a key that is not one).
fn entries(loader: &Loader<'_>, v: Value) -> Option<Vec<(Option<String>, Value)>> {
    let Value::Obj(id) = v else { return None };
    let Obj::Dict(pairs) = loader.arena.get(id) else {
        return None;
    };
    Some(
        pairs
            .iter()
            .map(|&(k, v)| (loader.arena.as_str(k).map(str::to_owned), v))
            .collect(),
    )
}

fn is_tensor(loader: &Loader<'_>, v: Value) -> bool {
    matches!(v, Value::Obj(id) if matches!(loader.arena.get(id), Obj::Tensor(_)))
}

fn to_state_dict(loader: &mut Loader<'_>, top: Value) -> Result<StateDict, PickleError> {
    let mut current = match entries(loader, top) {
        Some(e) => e,
        None => {
            if let Some(name) = &loader.first_refused {
                return Err(PickleError::RefusedGlobal { name: name.clone() });
            }
            return Err(PickleError::NotADict {
                found: loader.arena.describe(top).into(),
            });
        }
    };
    let mut found_under = Vec::new();
    let mut ignored = Vec::new();
    let prefix =
        |path: &[String]| -> String { path.iter().map(|p| format!("{p}.")).collect::<String>() };
    for _ in 0..MAX_WRAPPERS {
        let wrapped = STATE_DICT_KEYS.iter().find_map(|&key| {
            current
                .iter()
                .find(|(k, _)| k.as_deref() == Some(key))
                .and_then(|&(_, v)| entries(loader, v).map(|e| (key, e)))
        });
        let Some((key, inner)) = wrapped else { break };
        let p = prefix(&found_under);
        ignored.extend(
            current
                .iter()
                .filter(|(k, _)| k.as_deref() != Some(key))
                .map(|(k, _)| format!("{p}{}", k.as_deref().unwrap_or("<non-str key>"))),
        );
        found_under.push(key.to_owned());
        current = inner;
    }
    if !current.iter().any(|&(_, v)| is_tensor(loader, v)) {
        // An object off the allow-list where tensors were looked for (a whole model saved,
        // say) is the likelier cause than a missing key: name it.
        if let Some(name) = current.iter().find_map(|&(_, v)| match v {
            Value::Obj(id) => match loader.arena.get(id) {
                Obj::Refused(name) => Some(name.clone()),
                _ => None,
            },
            _ => None,
        }) {
            return Err(PickleError::RefusedGlobal { name });
        }
        let keys: Vec<String> = current
            .iter()
            .map(|(k, _)| format!("'{}'", k.as_deref().unwrap_or("<non-str key>")))
            .take(12)
            .collect();
        let more = if current.len() > keys.len() {
            ", …"
        } else {
            ""
        };
        return Err(PickleError::NoStateDict {
            keys: if keys.is_empty() {
                "none".into()
            } else {
                format!("{}{more}", keys.join(", "))
            },
        });
    }
    let p = prefix(&found_under);
    let mut tensors = Vec::with_capacity(current.len());
    for (key, v) in current {
        let Some(key) = key else {
            return Err(PickleError::KeyNotStr {
                found: loader.arena.describe(v).into(),
            });
        };
        let Value::Obj(id) = v else {
            ignored.push(format!("{p}{key}"));
            continue;
        };
        match loader.arena.get(id) {
            Obj::Tensor(view) => {
                let view = view.clone();
                let array = torch::materialize(&loader.arena, &view, &mut loader.budget).map_err(
                    |msg| PickleError::Field {
                        field: format!("{p}{key}"),
                        msg,
                    },
                )?;
                tensors.push((key, array));
            }
            Obj::Refused(name) => {
                return Err(PickleError::RefusedGlobal { name: name.clone() });
            }
            _ => ignored.push(format!("{p}{key}")),
        }
    }
    Ok(StateDict {
        tensors,
        found_under,
        ignored,
    })
}
