//! Torch objects: storages named by persistent ids, legacy `torch.save` streams (the bytes of
//! `torch.storage._load_from_bytes`, or a whole legacy file), `torch.save` zip archives, and
//! `_rebuild_tensor*` views turned into dense arrays with torch's offset/stride semantics.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};

use super::array::{ArrayData, gather_bytes};
use super::value::{Global, Obj, ObjId, Storage, StorageData, TensorView, Value};
use super::vm::{Loader, MAX_STREAM_DEPTH, Persistent};
use super::{DType, NdArray, PickleError};

/// torch's legacy magic number, as the LONG1 opcode stores it (0x1950a86a20f9469cfc6c).
pub(crate) const MAGIC: &[u8] = b"l\xfc\x9cF\xf9 j\xa8P\x19";
/// The only legacy serialization protocol torch has written.
const LEGACY_PROTOCOL: i64 = 1001;

fn err(pos: usize, msg: impl Into<String>) -> PickleError {
    PickleError::Malformed {
        pos,
        msg: msg.into(),
    }
}

/// Whether a value is torch's magic number.
pub(crate) fn is_magic(loader: &Loader<'_>, v: Value) -> bool {
    matches!(v, Value::Obj(id) if matches!(loader.arena.get(id), Obj::BigInt(b) if b == MAGIC))
}

fn as_usize(loader: &Loader<'_>, pos: usize, v: Value, what: &str) -> Result<usize, PickleError> {
    match v {
        Value::Int(i) => {
            usize::try_from(i).map_err(|_| err(pos, format!("{what} is negative ({i})")))
        }
        other => Err(err(
            pos,
            format!(
                "{what} is a {}, expected an int",
                loader.arena.describe(other)
            ),
        )),
    }
}

fn usize_tuple(
    loader: &Loader<'_>,
    pos: usize,
    v: Value,
    what: &str,
) -> Result<Vec<usize>, PickleError> {
    let seq = loader
        .arena
        .as_seq(v)
        .ok_or_else(|| err(pos, format!("{what} is not a tuple")))?;
    seq.iter()
        .map(|&x| as_usize(loader, pos, x, what))
        .collect()
}

/// `_rebuild_tensor{,_v2,_v3}(storage, offset, size, stride, ...)`.
pub(crate) fn rebuild_tensor(
    loader: &mut Loader<'_>,
    pos: usize,
    g: Global,
    args: &[Value],
) -> Result<Value, PickleError> {
    let min = match g {
        Global::RebuildTensor => 4,
        Global::RebuildTensorV2 => 6,
        _ => 7,
    };
    if args.len() < min {
        return Err(err(
            pos,
            format!("tensor rebuild takes {min} arguments, got {}", args.len()),
        ));
    }
    let storage = match args[0] {
        Value::Obj(id) if matches!(loader.arena.get(id), Obj::Storage(_)) => id,
        other => {
            return Err(err(
                pos,
                format!(
                    "tensor rebuilt from a {}, not a storage",
                    loader.arena.describe(other)
                ),
            ));
        }
    };
    let offset = as_usize(loader, pos, args[1], "tensor storage offset")?;
    let shape = usize_tuple(loader, pos, args[2], "tensor size")?;
    let stride = usize_tuple(loader, pos, args[3], "tensor stride")?;
    if shape.len() != stride.len() {
        return Err(err(pos, "tensor size and stride differ in length"));
    }
    let dtype = if g == Global::RebuildTensorV3 {
        match args[6] {
            Value::Obj(id) => match loader.arena.get(id) {
                Obj::Global(Global::TorchDtype(d)) => Some(*d),
                _ => return Err(err(pos, "_rebuild_tensor_v3 dtype is not a torch dtype")),
            },
            _ => return Err(err(pos, "_rebuild_tensor_v3 dtype is not a torch dtype")),
        }
    } else {
        None
    };
    Ok(loader.arena.push(Obj::Tensor(TensorView {
        storage,
        offset,
        shape,
        stride,
        dtype,
    })))
}

/// A storage's type and bytes, after following views.
fn storage_bytes<'s>(
    arena: &'s super::value::Arena<'_>,
    id: ObjId,
) -> Result<(DType, &'s [u8]), String> {
    let Obj::Storage(s) = arena.get(id) else {
        return Err("tensor storage is not a storage".into());
    };
    match &s.data {
        StorageData::Loaded(b) => Ok((s.dtype, b)),
        StorageData::Pending => {
            Err("the torch.save stream names a storage whose data it does not hold".into())
        }
        StorageData::View { root, offset, len } => {
            let (dtype, bytes) = storage_bytes_root(arena, *root)?;
            let isz = dtype.size();
            let range = offset
                .checked_add(*len)
                .and_then(|end| Some((offset.checked_mul(isz)?, end.checked_mul(isz)?)))
                .filter(|&(_, e)| e <= bytes.len())
                .ok_or("a storage view reaches past the end of its storage")?;
            Ok((dtype, &bytes[range.0..range.1]))
        }
    }
}

fn storage_bytes_root<'s>(
    arena: &'s super::value::Arena<'_>,
    id: ObjId,
) -> Result<(DType, &'s [u8]), String> {
    match arena.get(id) {
        Obj::Storage(Storage {
            dtype,
            data: StorageData::Loaded(b),
            ..
        }) => Ok((*dtype, b)),
        _ => Err("a storage view's root storage has no data".into()),
    }
}

/// Dense row-major array of a tensor view, exactly as torch's `set_` would see it.
pub(crate) fn materialize(
    arena: &super::value::Arena<'_>,
    view: &TensorView,
    budget: &mut usize,
) -> Result<NdArray, String> {
    let (storage_dtype, bytes) = storage_bytes(arena, view.storage)?;
    let dtype = view.dtype.unwrap_or(storage_dtype);
    let isz = dtype.size();
    if bytes.len() % isz != 0 {
        return Err(format!(
            "storage of {} bytes is not a whole number of {} elements",
            bytes.len(),
            dtype.name()
        ));
    }
    let storage_numel = bytes.len() / isz;
    let numel = view
        .shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or("tensor size overflows")?;
    if numel > 0 {
        let last = view
            .shape
            .iter()
            .zip(&view.stride)
            .try_fold(view.offset, |a, (&s, &st)| {
                a.checked_add((s - 1).checked_mul(st)?)
            })
            .ok_or("tensor strides overflow")?;
        if last >= storage_numel {
            return Err(format!(
                "tensor of size {:?}, stride {:?} and offset {} reaches element {} but its storage holds {} elements",
                view.shape, view.stride, view.offset, last, storage_numel
            ));
        }
    }
    let nbytes = numel.checked_mul(isz).ok_or("tensor size overflows")?;
    if nbytes > *budget {
        return Err(format!(
            "tensor of size {:?} would take {} bytes, more than this file may expand to",
            view.shape, nbytes
        ));
    }
    *budget -= nbytes;
    let contiguous = {
        let mut expected = 1usize;
        let mut ok = true;
        for (&s, &st) in view.shape.iter().zip(&view.stride).rev() {
            if s != 1 && st != expected {
                ok = false;
                break;
            }
            expected = expected.saturating_mul(s);
        }
        ok
    };
    let data = if numel == 0 {
        ArrayData::from_le_bytes(dtype, &[])
    } else if contiguous {
        let start = view.offset * isz;
        ArrayData::from_le_bytes(dtype, &bytes[start..start + nbytes])
    } else {
        let gathered = gather_bytes(bytes, isz, view.offset, &view.shape, &view.stride);
        ArrayData::from_le_bytes(dtype, &gathered)
    };
    Ok(NdArray {
        shape: view.shape.clone(),
        data,
    })
}

/// `torch.storage._load_from_bytes(b)`: `b` is a whole legacy `torch.save` stream of one storage.
pub(crate) fn load_from_bytes<'a>(
    loader: &mut Loader<'a>,
    pos: usize,
    args: &[Value],
) -> Result<Value, PickleError> {
    let [Value::Obj(id)] = args else {
        return Err(err(pos, "_load_from_bytes takes one bytes argument"));
    };
    let id = *id;
    if loader.depth >= MAX_STREAM_DEPTH {
        return Err(PickleError::Limit(format!(
            "torch.save streams nested deeper than {MAX_STREAM_DEPTH} levels"
        )));
    }
    let (depth, budget) = (loader.depth + 1, loader.budget);
    let nested = |e: PickleError| PickleError::InStorage(Box::new(e));
    let borrowed: Option<&'a [u8]> = match loader.arena.get(id) {
        Obj::Bytes(Cow::Borrowed(b)) => Some(*b),
        Obj::Bytes(Cow::Owned(_)) => None,
        other => {
            return Err(err(
                pos,
                format!("_load_from_bytes of a {}, expected bytes", other.kind()),
            ));
        }
    };
    let storage = match borrowed {
        Some(b) => storage_stream(b, depth, budget).map_err(nested)?,
        None => {
            // Bytes decoded from a protocol 2 `_codecs.encode` string: parse them where they
            // are and keep only the storage's own bytes.
            let Obj::Bytes(Cow::Owned(v)) = loader.arena.get_mut(id) else {
                unreachable!("checked above")
            };
            let owned = std::mem::take(v);
            let parsed = storage_stream(&owned, depth, budget).map(|s| Storage {
                dtype: s.dtype,
                numel: s.numel,
                data: match s.data {
                    StorageData::Loaded(b) => StorageData::Loaded(Cow::Owned(b.into_owned())),
                    _ => StorageData::Pending,
                },
            });
            if let Obj::Bytes(Cow::Owned(v)) = loader.arena.get_mut(id) {
                *v = owned;
            }
            parsed.map_err(nested)?
        }
    };
    Ok(loader.arena.push(Obj::Storage(storage)))
}

/// Move a storage's bytes out of an arena, following a view to its root.
fn take_storage<'b>(arena: &mut super::value::Arena<'b>, id: ObjId) -> Result<Storage<'b>, String> {
    let Obj::Storage(s) = arena.get(id) else {
        return Err(format!(
            "the stream holds a {}, not a storage",
            arena.get(id).kind()
        ));
    };
    let (dtype, numel) = (s.dtype, s.numel);
    let (root, range) = match &s.data {
        StorageData::Loaded(_) => (id, None),
        StorageData::Pending => {
            return Err("the torch.save stream names a storage whose data it does not hold".into());
        }
        StorageData::View { root, offset, len } => {
            let isz = dtype.size();
            let r = offset
                .checked_add(*len)
                .and_then(|e| Some((offset.checked_mul(isz)?, e.checked_mul(isz)?)))
                .ok_or("a storage view overflows")?;
            (*root, Some(r))
        }
    };
    let taken = std::mem::replace(arena.get_mut(root), Obj::List(Vec::new()));
    let Obj::Storage(Storage {
        data: StorageData::Loaded(bytes),
        ..
    }) = taken
    else {
        return Err("a storage view's root storage has no data".into());
    };
    let data = match range {
        None => bytes,
        Some((s, e)) if e <= bytes.len() => match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(&b[s..e]),
            Cow::Owned(v) => Cow::Owned(v[s..e].to_vec()),
        },
        Some(_) => return Err("a storage view reaches past the end of its storage".into()),
    };
    Ok(Storage {
        dtype,
        numel,
        data: StorageData::Loaded(data),
    })
}

/// Parse a legacy stream whose object is a storage; its bytes borrow from `bytes`.
fn storage_stream(bytes: &[u8], depth: u32, budget: usize) -> Result<Storage<'_>, PickleError> {
    let mut inner = Loader::new(budget);
    inner.depth = depth;
    inner.strict = true;
    let v = load_legacy(&mut inner, bytes)?;
    let Value::Obj(id) = v else {
        return Err(err(0, "the stream holds no storage"));
    };
    take_storage(&mut inner.arena, id).map_err(|m| err(0, m))
}

/// Read a legacy `torch.save` stream: magic, protocol, sys_info, the object pickle, the key
/// list, then per key an i64 element count and the raw little-endian elements.
pub(crate) fn load_legacy<'a>(
    loader: &mut Loader<'a>,
    data: &'a [u8],
) -> Result<Value, PickleError> {
    let mut refuse = Persistent::Refuse;
    let (magic, p) = loader.run(data, 0, &mut refuse)?;
    if !is_magic(loader, magic) {
        return Err(err(
            0,
            "not a torch.save stream (its magic number is missing)",
        ));
    }
    let (proto, p) = loader.run(data, p, &mut refuse)?;
    if proto != Value::Int(LEGACY_PROTOCOL) {
        return Err(err(p, "unsupported torch.save legacy protocol version"));
    }
    let (sys_info, p) = loader.run(data, p, &mut refuse)?;
    if !matches!(sys_info, Value::Obj(id) if matches!(loader.arena.get(id), Obj::Dict(_))) {
        return Err(err(p, "torch.save sys_info is not a dict"));
    }
    let mut keys: HashMap<String, ObjId> = HashMap::new();
    let (value, p) = loader.run(data, p, &mut Persistent::Legacy(&mut keys))?;
    let (key_list, mut p) = loader.run(data, p, &mut refuse)?;
    let key_list: Vec<String> = loader
        .arena
        .as_seq(key_list)
        .ok_or_else(|| err(p, "torch.save storage key list is not a list"))?
        .iter()
        .map(|&k| loader.arena.as_str(k).map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| err(p, "torch.save storage key is not a string"))?;
    for key in key_list {
        let id = *keys
            .get(&key)
            .ok_or_else(|| err(p, format!("storage '{key}' is listed but never used")))?;
        let count = data.get(p..p + 8).ok_or(PickleError::Truncated {
            pos: p,
            what: "a storage's element count",
        })?;
        let count = i64::from_le_bytes(count.try_into().expect("8 bytes"));
        p += 8;
        let Obj::Storage(s) = loader.arena.get_mut(id) else {
            unreachable!("keys only name storages");
        };
        if usize::try_from(count).ok() != Some(s.numel) {
            return Err(err(
                p - 8,
                format!(
                    "storage '{key}' holds {count} elements but was declared with {}",
                    s.numel
                ),
            ));
        }
        let nbytes = s
            .numel
            .checked_mul(s.dtype.size())
            .ok_or_else(|| err(p, "storage size overflows"))?;
        let end =
            p.checked_add(nbytes)
                .filter(|&e| e <= data.len())
                .ok_or(PickleError::Truncated {
                    pos: p,
                    what: "a storage's data (the file is shorter than the storage it declares)",
                })?;
        if matches!(s.data, StorageData::Pending) {
            s.data = StorageData::Loaded(Cow::Borrowed(&data[p..end]));
        }
        p = end;
    }
    Ok(value)
}

/// The entries of a `torch.save` zip archive, read on demand.
pub(crate) struct ZipStore<'a> {
    input: &'a [u8],
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    /// Folder of `data.pkl` inside the archive, with its trailing slash.
    prefix: String,
    cache: HashMap<String, ObjId>,
    budget: usize,
    /// The archive's `byteorder` entry says "big": storages are swapped to little-endian.
    big_endian: bool,
}

fn zip_err(e: impl std::fmt::Display) -> PickleError {
    PickleError::Archive(e.to_string())
}

impl<'a> ZipStore<'a> {
    fn open(input: &'a [u8], budget: usize) -> Result<Self, PickleError> {
        let archive = zip::ZipArchive::new(Cursor::new(input))
            .map_err(|e| zip_err(format!("not a readable zip file: {e}")))?;
        let pkl = archive
            .file_names()
            .filter_map(Result::ok)
            .find(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
            .map(|n| n.into_owned())
            .ok_or_else(|| zip_err("no data.pkl inside: this zip is not a torch.save file"))?;
        let prefix = pkl.trim_end_matches("data.pkl").to_owned();
        Ok(ZipStore {
            input,
            archive,
            prefix,
            cache: HashMap::new(),
            budget,
            big_endian: false,
        })
    }

    /// An entry's bytes: borrowed when stored uncompressed, else decompressed within limits.
    fn entry(&mut self, name: &str, expect: Option<usize>) -> Result<Cow<'a, [u8]>, PickleError> {
        let full = format!("{}{}", self.prefix, name);
        let input = self.input;
        let mut file = self
            .archive
            .by_name(&full)
            .map_err(|e| zip_err(format!("entry '{full}': {e}")))?;
        let size = usize::try_from(file.size()).map_err(|_| zip_err("entry too large"))?;
        if let Some(n) = expect
            && n != size
        {
            return Err(zip_err(format!(
                "entry '{full}' holds {size} bytes but the tensor storage needs {n}"
            )));
        }
        if file.compression() == zip::CompressionMethod::Stored
            && !file.encrypted()
            && let Some(start) = file.data_start()
        {
            let start = usize::try_from(start).map_err(|_| zip_err("bad entry offset"))?;
            return start
                .checked_add(size)
                .filter(|&e| e <= input.len())
                .map(|e| Cow::Borrowed(&input[start..e]))
                .ok_or_else(|| {
                    zip_err(format!("entry '{full}' reaches past the end of the file"))
                });
        }
        // Deflate expands at most ~1032:1; a larger claim is a lie told to make us allocate.
        let plausible = file
            .compressed_size()
            .saturating_mul(1032)
            .saturating_add(1024);
        if size as u64 > plausible || size > self.budget {
            return Err(zip_err(format!(
                "entry '{full}' claims an implausible size"
            )));
        }
        let mut out = Vec::with_capacity(size);
        file.by_ref()
            .take(size as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| zip_err(format!("entry '{full}': {e}")))?;
        if out.len() != size {
            return Err(zip_err(format!("entry '{full}' is not the size it claims")));
        }
        Ok(Cow::Owned(out))
    }
}

/// Read a `torch.save` zip archive (`<name>/data.pkl` + `<name>/data/<key>`).
pub(crate) fn read_zip<T>(
    input: &[u8],
    budget: usize,
    finish: impl for<'x> FnOnce(&mut Loader<'x>, Value) -> Result<T, PickleError>,
) -> Result<T, PickleError> {
    let mut store = ZipStore::open(input, budget)?;
    // Archives without the entry predate it and are little-endian.
    if let Ok(order) = store.entry("byteorder", None) {
        store.big_endian = match order.as_ref() {
            b"little" => false,
            b"big" => true,
            _ => return Err(PickleError::Archive("unknown byteorder entry".into())),
        };
    }
    let pkl = store.entry("data.pkl", None)?;
    let mut loader = Loader::new(budget);
    let (value, _) = loader.run(&pkl, 0, &mut Persistent::Zip(&mut store))?;
    finish(&mut loader, value)
}

/// Answer a persistent id: `('storage', storage_type, key, location, numel[, view_metadata])`.
pub(crate) fn persistent_load<'a>(
    loader: &mut Loader<'a>,
    pos: usize,
    pid: Value,
    persistent: &mut Persistent<'_, 'a>,
) -> Result<Value, PickleError> {
    if matches!(persistent, Persistent::Refuse) {
        return Err(err(
            pos,
            "a persistent id outside a torch.save stream (the pickle expects objects this reader does not have)",
        ));
    }
    let items = loader
        .arena
        .as_seq(pid)
        .ok_or_else(|| err(pos, "persistent id is not a tuple"))?
        .to_vec();
    if items.len() < 5 || loader.arena.as_str(items[0]) != Some("storage") {
        return Err(err(pos, "persistent id is not a torch storage"));
    }
    let dtype = match items[1] {
        Value::Obj(id) => match loader.arena.get(id) {
            Obj::Global(Global::StorageType(d)) => *d,
            _ => return Err(err(pos, "storage type is not a torch storage class")),
        },
        _ => return Err(err(pos, "storage type is not a torch storage class")),
    };
    let key = loader
        .arena
        .as_str(items[2])
        .ok_or_else(|| err(pos, "storage key is not a string"))?
        .to_owned();
    let numel = as_usize(loader, pos, items[4], "storage size")?;
    let nbytes = numel
        .checked_mul(dtype.size())
        .ok_or_else(|| err(pos, "storage size overflows"))?;
    match persistent {
        Persistent::Refuse => unreachable!("handled above"),
        Persistent::Legacy(keys) => {
            let root = match keys.get(&key) {
                Some(&id) => {
                    let Obj::Storage(s) = loader.arena.get(id) else {
                        unreachable!("keys only name storages")
                    };
                    if s.numel != numel || s.dtype != dtype {
                        return Err(err(
                            pos,
                            format!("storage '{key}' is declared twice differently"),
                        ));
                    }
                    id
                }
                None => {
                    let Value::Obj(id) = loader.arena.push(Obj::Storage(Storage {
                        dtype,
                        numel,
                        data: StorageData::Pending,
                    })) else {
                        unreachable!()
                    };
                    keys.insert(key, id);
                    id
                }
            };
            match items.get(5).copied() {
                None | Some(Value::None) => Ok(Value::Obj(root)),
                Some(view) => {
                    let v = loader
                        .arena
                        .as_seq(view)
                        .ok_or_else(|| err(pos, "storage view metadata is not a tuple"))?
                        .to_vec();
                    let [_, offset, len] = v[..] else {
                        return Err(err(pos, "storage view metadata is not (key, offset, size)"));
                    };
                    let offset = as_usize(loader, pos, offset, "storage view offset")?;
                    let len = as_usize(loader, pos, len, "storage view size")?;
                    if offset.checked_add(len).is_none_or(|e| e > numel) {
                        return Err(err(pos, "storage view reaches past its storage"));
                    }
                    Ok(loader.arena.push(Obj::Storage(Storage {
                        dtype,
                        numel: len,
                        data: StorageData::View { root, offset, len },
                    })))
                }
            }
        }
        Persistent::Zip(store) => {
            if let Some(&id) = store.cache.get(&key) {
                return Ok(Value::Obj(id));
            }
            let mut bytes = store.entry(&format!("data/{key}"), Some(nbytes))?;
            if store.big_endian && dtype.size() > 1 {
                bytes
                    .to_mut()
                    .chunks_exact_mut(dtype.size())
                    .for_each(<[u8]>::reverse);
            }
            let v = loader.arena.push(Obj::Storage(Storage {
                dtype,
                numel,
                data: StorageData::Loaded(bytes),
            }));
            let Value::Obj(id) = v else { unreachable!() };
            store.cache.insert(key, id);
            Ok(v)
        }
    }
}
