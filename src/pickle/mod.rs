//! A safe pickle reader and writer for the movie files.
//!
//! Only allow-listed globals are resolved (torch tensor rebuilds and storages, numpy arrays,
//! `collections.OrderedDict`, `_codecs.encode`); nothing is ever executed. Every size the
//! file claims is checked against the bytes present before anything is allocated.

mod array;

pub use array::{ArrayData, DType, NdArray};

use std::path::Path;

/// One top-level field of a movie dict, as SceneLab understands it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Str(String),
    Array(NdArray),
}

/// A movie file's top-level dict: field name → value, keys in file order.
pub type Record = Vec<(String, Field)>;

/// Lookup helper for [`Record`].
pub fn field<'a>(record: &'a Record, name: &str) -> Option<&'a Field> {
    record.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Why a file could not be read or written. (Placeholder: the pickle work replaces it.)
#[derive(Debug, thiserror::Error)]
pub enum PickleError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Decode a movie file's bytes: a plain pickle (protocols 0-5) or a `torch.save` zip archive.
pub fn read_record(_bytes: &[u8]) -> Result<Record, PickleError> {
    unimplemented!("pickle reader")
}

/// Read and decode one movie file.
pub fn read_record_file(path: &Path) -> Result<Record, PickleError> {
    let bytes = std::fs::read(path)?;
    read_record(&bytes)
}

/// Encode a record as `pickle.dump(d, f, protocol=4)` would with torch tensors.
pub fn write_record(_record: &Record) -> Vec<u8> {
    unimplemented!("pickle writer")
}

/// Write a record to `path` through a temporary file renamed into place.
pub fn write_record_file(_path: &Path, _record: &Record) -> Result<(), PickleError> {
    unimplemented!("pickle writer")
}
