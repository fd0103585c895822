//! A safe pickle reader and writer for the movie files.
//!
//! Reading covers every opcode CPython writes in protocols 0 to 5 (only the out-of-band
//! buffers NEXT_BUFFER/READONLY_BUFFER are refused), plain pickles of torch tensors
//! (`_rebuild_tensor_v2/_v3` over `_load_from_bytes` legacy streams), legacy `torch.save`
//! files, `torch.save` zip archives and numpy arrays. Only allow-listed globals are resolved
//! (torch tensor rebuilds and storage types, numpy arrays and dtypes, `collections.OrderedDict`,
//! `_codecs.encode`, `bytes`/`bytearray`/`set`); nothing is ever executed, and any other
//! global is refused by name.
//!
//! Defences: every size the file claims is checked against the bytes present before anything
//! is allocated (strings, byte strings, frames, storages, numpy data, zip entries); element
//! counts × item size, storage offsets and shape × stride bounds use checked arithmetic; the
//! decoded arrays may not exceed 8 × the file size + 64 MiB in total (a zero stride could
//! otherwise expand a few bytes into gigabytes); MARK nesting, list nesting and nested
//! `torch.save` streams are bounded. The machine is iterative, so deep input cannot overflow
//! the stack. Truncated, empty or random input is an error, never a panic.
//!
//! What a record keeps: the top-level value must be a dict with str keys. str values are kept
//! as strings, tensors and numpy arrays as arrays, int/float/bool values as 0-d arrays
//! (i64/f64/bool), rectangular lists of numbers as arrays (bool, i64 or f64; a list of numpy
//! scalars of one dtype keeps it), and `None` values are treated as absent fields. A dict value
//! (an `OrderedDict` state dict in a `torch.save` checkpoint) is flattened into fields named
//! `outer.inner` (integer keys in decimal, 8 levels at most); an `OrderedDict`'s instance
//! attributes (a state dict's `_metadata`) are ignored. Any other
//! value becomes [`Field::Unreadable`] with the reason, so one bad field does not lose the
//! others; a refused global at the top of the file refuses the file.
//!
//! Writing: [`write_record`] pickles a record's arrays as torch tensors (the challenge's
//! files), [`write_record_as`] with [`ArrayForm::Numpy`] as numpy arrays (MovieNet's dict
//! pickles, which Python then reads without torch); both as CPython's pickler writes them.
//!
//! Checkpoints: [`read_state_dict`] reads the tensors of a PyTorch state dict from a
//! `torch.save` file, bare or under one of [`STATE_DICT_KEYS`] (a training checkpoint's other
//! entries, such as the epoch and the optimiser state, are listed but never decoded). The
//! `_metadata` attribute `nn.Module.state_dict()` sets on its `OrderedDict` is dropped; an
//! object of a refused global inside the state dict refuses the file, naming the global.
//!
//! This crate depends on nothing of SceneLab's app, models or file helpers, so the fuzz target
//! (`fuzz/`) builds it alone; [`fuzz::check`] is the property it fuzzes, also run by the tests.

mod array;
pub mod fuzz;
mod numpy;
mod record;
mod state_dict;
mod torch;
mod value;
mod vm;
mod writer;

pub use array::{ArrayData, DType, NdArray};
pub use state_dict::{STATE_DICT_KEYS, StateDict, read_state_dict, read_state_dict_file};
pub use writer::ArrayForm;

use std::path::Path;

/// One top-level field of a movie dict, as SceneLab understands it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Str(String),
    Array(NdArray),
    /// A value that could not be read, with the reason (for example an object of a global
    /// off the allow-list, such as a `pandas.Series`). The other fields are still read.
    Unreadable(String),
}

/// A movie file's top-level dict: field name → value, keys in file order.
pub type Record = Vec<(String, Field)>;

/// Lookup helper for [`Record`].
pub fn field<'a>(record: &'a Record, name: &str) -> Option<&'a Field> {
    record.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PickleError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "not a pickle: the file starts with {start}, where pickle.dump and torch.save output starts \
         with a protocol marker (0x80) or, in protocol 0 and 1, an opening bracket"
    )]
    NotAPickle { start: String },
    #[error(
        "the data ends early at byte {pos} while reading {what}: the file is truncated or not a pickle"
    )]
    Truncated { pos: usize, what: &'static str },
    #[error(
        "unknown pickle opcode 0x{op:02x} at byte {pos}: the file is not a pickle or is corrupt"
    )]
    UnknownOpcode { op: u8, pos: usize },
    #[error(
        "refusing to load global '{name}': SceneLab only loads torch tensors, numpy arrays and plain Python values"
    )]
    RefusedGlobal { name: String },
    #[error("{msg} (at byte {pos})")]
    Malformed { pos: usize, msg: String },
    #[error("unsupported at byte {pos}: {msg}")]
    Unsupported { pos: usize, msg: String },
    #[error("limit exceeded: {0}")]
    Limit(String),
    #[error("in the torch.save stream of a tensor's storage: {0}")]
    InStorage(Box<PickleError>),
    #[error("the file holds {found}, not a dict: a movie file is a pickled dict of named fields")]
    NotADict { found: String },
    #[error("the file's dict has {found} key: movie fields are named by strings")]
    KeyNotStr { found: String },
    #[error("field '{field}' {msg}")]
    Field { field: String, msg: String },
    #[error(
        "the file holds no state dict: no tensors at its top level, and none under {} (its keys: {keys})",
        STATE_DICT_KEYS.map(|k| format!("'{k}'")).join(", ")
    )]
    NoStateDict { keys: String },
    #[error("torch.save archive: {0}")]
    Archive(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Total bytes the decoded arrays of one file may take.
fn budget(file_len: usize) -> usize {
    file_len.saturating_mul(8).saturating_add(64 << 20)
}

/// Decode a movie file's bytes: a plain pickle (protocols 0-5), a legacy `torch.save` file
/// or a `torch.save` zip archive.
pub fn read_record(bytes: &[u8]) -> Result<Record, PickleError> {
    decode(bytes, record::to_record)
}

/// Run the pickle in `bytes` (plain, legacy `torch.save` or `torch.save` zip) and hand its
/// top-level value to `finish`, which turns it into what the caller keeps.
fn decode<T>(
    bytes: &[u8],
    finish: impl for<'x> FnOnce(&mut vm::Loader<'x>, value::Value) -> Result<T, PickleError>,
) -> Result<T, PickleError> {
    if bytes.is_empty() {
        return Err(PickleError::Empty);
    }
    let budget = budget(bytes.len());
    if bytes.starts_with(b"PK\x03\x04") {
        return torch::read_zip(bytes, budget, finish);
    }
    let mut loader = vm::Loader::new(budget);
    let (value, _) = loader
        .run(bytes, 0, &mut vm::Persistent::Refuse)
        .map_err(|e| {
            if plausible_start(bytes[0]) {
                e
            } else {
                not_a_pickle(bytes)
            }
        })?;
    if torch::is_magic(&loader, value) {
        let mut legacy = vm::Loader::new(budget);
        let value = torch::load_legacy(&mut legacy, bytes)?;
        return finish(&mut legacy, value);
    }
    finish(&mut loader, value)
}

/// Whether a pickle can begin with `byte`: PROTO (protocol 2 and later) or what a protocol 0
/// or 1 dump of a dict or list starts with (MARK, EMPTY_DICT, EMPTY_LIST, GLOBAL for an
/// `OrderedDict`), or of the magic number a legacy `torch.save` writes first (LONG, INT).
fn plausible_start(byte: u8) -> bool {
    matches!(byte, 0x80 | b'(' | b'}' | b']' | b'c' | b'L' | b'I')
}

/// The error for a file that is no pickle at all, showing its first bytes as Python would.
fn not_a_pickle(bytes: &[u8]) -> PickleError {
    let head: String = bytes
        .iter()
        .take(16)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    let more = if bytes.len() > 16 { "…" } else { "" };
    PickleError::NotAPickle {
        start: format!("b'{head}'{more}"),
    }
}

/// Read and decode one movie file.
pub fn read_record_file(path: &Path) -> Result<Record, PickleError> {
    let bytes = std::fs::read(path)?;
    read_record(&bytes)
}

/// Encode a record as `pickle.dump(d, f, protocol=4)` would with torch tensors: every array
/// becomes a contiguous CPU tensor whose storage type matches its dtype. To replace a file,
/// write these bytes under a temporary name and rename it into place (SceneLab's
/// `pickle::write_record_file` does).
pub fn write_record(record: &Record) -> Vec<u8> {
    writer::write(record, ArrayForm::Torch)
}

/// Encode a record as `pickle.dump(d, f, protocol=4)` would with its arrays in `form`:
/// [`ArrayForm::Torch`] is [`write_record`]; [`ArrayForm::Numpy`] writes numpy arrays (as
/// MovieNet's dict pickles hold them), which Python reads without torch. The reader reads
/// both forms.
pub fn write_record_as(record: &Record, form: ArrayForm) -> Vec<u8> {
    writer::write(record, form)
}
