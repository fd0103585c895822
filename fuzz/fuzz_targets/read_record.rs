//! Fuzz target: `read_record` on arbitrary bytes must return, never panic or abort; whatever
//! it accepts must survive write → read unchanged. The property is
//! `scenelab_pickle::fuzz::check`, which the regular tests also run on the fixtures, the seeds
//! and mutations of them (`crates/scenelab-pickle/tests/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scenelab_pickle::fuzz::check(data);
});
