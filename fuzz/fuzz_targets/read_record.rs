//! Fuzz target: `pickle::read_record` on arbitrary bytes must return, never panic or abort;
//! whatever it accepts must survive write → read unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/pickle/mod.rs"]
mod pickle;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = pickle::read_record(data) {
        let bytes = pickle::write_record(&record);
        let again = pickle::read_record(&bytes).expect("a written record reads back");
        // NaN != NaN, so compare the encodings rather than the values.
        assert_eq!(pickle::write_record(&again), bytes);
    }
});
