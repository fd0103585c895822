//! The property the fuzz target checks, kept here so that `fuzz/fuzz_targets/read_record.rs`
//! and the regular tests (`tests/fuzz_corpus.rs`) run the same code.

use crate::{read_record, read_state_dict, write_record};

/// Check one input: [`read_state_dict`] on arbitrary bytes returns and never panics;
/// [`read_record`] on arbitrary bytes returns (a record or an error) and
/// never panics, aborts or allocates without bound; a record it accepts survives
/// write → read → write with the same encoding. Returns whether the input was accepted.
///
/// # Panics
///
/// When the property fails (that is the bug the fuzzer reports), or when reading itself panics.
pub fn check(data: &[u8]) -> bool {
    // The checkpoint reader runs the same machine on the same bytes: it must not panic either.
    let _ = read_state_dict(data);
    let Ok(record) = read_record(data) else {
        return false;
    };
    let bytes = write_record(&record);
    let again = match read_record(&bytes) {
        Ok(again) => again,
        Err(e) => panic!("a written record does not read back: {e}"),
    };
    // NaN != NaN, so compare the encodings rather than the values. (The writer writes every
    // key, dtype, shape and element, so equal encodings mean equal records.)
    assert!(
        write_record(&again) == bytes,
        "write → read → write changed the encoding"
    );
    true
}
