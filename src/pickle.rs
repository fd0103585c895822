//! The pickle reader and writer: the `scenelab-pickle` crate (`crates/scenelab-pickle`), named
//! `crate::pickle` here, plus writing a record file whole or not at all with [`crate::files`].

pub use scenelab_pickle::*;

use std::path::Path;

/// Write a record to `path` through a temporary file in the same folder renamed into place,
/// so an existing file is never left half-overwritten.
pub fn write_record_file(path: &Path, record: &Record) -> Result<(), PickleError> {
    crate::files::write_atomic(path, &write_record(record))?;
    Ok(())
}
