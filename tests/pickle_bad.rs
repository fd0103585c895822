//! Files that must be refused, and hostile input: every `bad_*` fixture gets a message that
//! says what is wrong; the malicious one names the refused global and runs nothing; huge
//! claimed sizes, deep nesting, missing memo entries and random bytes are errors, not panics.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use scenelab::data::Movie;
use scenelab::pickle::{
    ArrayData, Field, NdArray, PickleError, field, read_record, read_record_file, write_record,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle")
}

/// Why `bytes` cannot be read: the file's error, or the first field that is unreadable (a
/// bad field is reported on that field and the file's other fields still load).
fn refusal(bytes: &[u8]) -> String {
    match read_record(bytes) {
        Ok(r) => r
            .iter()
            .find_map(|(k, f)| match f {
                Field::Unreadable(why) => Some(format!("field '{k}' {why}")),
                _ => None,
            })
            .unwrap_or_else(|| {
                panic!("accepted: {:?}", r.iter().map(|f| &f.0).collect::<Vec<_>>())
            }),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malicious_pickle_is_refused_by_name_and_runs_nothing() {
    let marker = Path::new("/tmp/scene-fixture-pwned");
    let _ = std::fs::remove_file(marker);
    let err = read_record_file(&fixtures().join("bad_malicious.pkl")).unwrap_err();
    assert!(matches!(err, PickleError::RefusedGlobal { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("'posix.system'"), "{msg}");
    assert!(msg.contains("SceneLab only loads"), "{msg}");
    assert!(!marker.exists(), "the pickle's command ran");
}

#[test]
fn not_a_dict_says_so() {
    let msg = read_record_file(&fixtures().join("bad_not_a_dict.pkl"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not a dict"), "{msg}");
    assert!(msg.contains("a list"), "{msg}");
}

#[test]
fn truncated_file_is_an_error_naming_truncation() {
    let msg = read_record_file(&fixtures().join("bad_truncated.pkl"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("truncated"), "{msg}");
    // Every prefix of a good file is refused without panicking.
    let good = std::fs::read(fixtures().join("tt0000008_eval_only.pkl")).unwrap();
    for n in 0..good.len() {
        assert!(
            read_record(&good[..n]).is_err(),
            "prefix of {n} bytes accepted"
        );
    }
}

#[test]
fn length_mismatch_leaves_that_field_out_naming_both_lengths() {
    let record = read_record_file(&fixtures().join("bad_length_mismatch.pkl")).unwrap();
    let movie = Movie::from_record(record).unwrap();
    assert!(movie.ground_truth.is_none());
    let issue = movie
        .issue("scene_transition_boundary_ground_truth")
        .expect("the ground truth is named")
        .to_string();
    assert!(
        issue.contains("has 5 values") && issue.contains("10 shots"),
        "{issue}"
    );
    // The rest of the movie is still there.
    assert!(movie.has_all_features() && movie.prediction.is_some());
}

#[test]
fn an_object_off_the_allow_list_is_refused_on_its_field_only() {
    // {"imdb_id": "tt1", "p": pandas.core.series.Series(...) via NEWOBJ + BUILD, "x": [1.0]}
    let mut p = b"\x80\x04}(\x8c\x07imdb_id\x8c\x03tt1\x8c\x01p".to_vec();
    p.extend_from_slice(b"\x8c\x12pandas.core.series\x8c\x06Series\x93)\x81}b");
    p.extend_from_slice(b"\x8c\x01x]G?\xf0\x00\x00\x00\x00\x00\x00au.");
    let record = read_record(&p).unwrap();
    match field(&record, "p") {
        Some(Field::Unreadable(why)) => assert!(why.contains("pandas.core.series.Series"), "{why}"),
        other => panic!("p is {other:?}"),
    }
    assert!(matches!(field(&record, "x"), Some(Field::Array(_))));
    assert!(matches!(field(&record, "imdb_id"), Some(Field::Str(_))));
}

#[test]
fn missing_place_is_fine_for_evaluation() {
    let record = read_record_file(&fixtures().join("bad_missing_place.pkl")).unwrap();
    assert!(field(&record, "place").is_none());
    let movie = Movie::from_record(record).unwrap();
    assert!(movie.ground_truth.is_some() && movie.prediction.is_some());
}

#[test]
fn empty_input_is_an_error() {
    assert!(matches!(read_record(&[]), Err(PickleError::Empty)));
    assert!(refusal(b"\x80\x04").contains("truncated"));
}

#[test]
fn a_file_that_is_no_pickle_says_so_and_shows_its_start() {
    let msg = refusal(b"hello, this is a text file\n");
    assert!(msg.starts_with("not a pickle"), "{msg}");
    assert!(msg.contains("b'hello, this is a'"), "{msg}");
    let msg = refusal(b"\x89PNG\r\n");
    assert!(msg.contains("b'\\x89PNG\\r\\n'"), "{msg}");
    // A broken protocol 0 pickle keeps the decoder's own message.
    assert!(!refusal(b"(dp0\nS'a").starts_with("not a pickle"));
}

#[test]
fn huge_claimed_sizes_are_refused_before_allocating() {
    // BINBYTES8 / BINUNICODE8 / FRAME claiming 2^62 bytes.
    for op in [0x8eu8, 0x8d, 0x96, 0x95] {
        let mut p = vec![0x80, 4, op];
        p.extend_from_slice(&(1u64 << 62).to_le_bytes());
        p.extend_from_slice(b"xyz.");
        assert!(refusal(&p).contains("truncated"), "opcode {op:#x}");
    }
    // LONG4 with a huge length.
    assert!(refusal(b"\x80\x02\x8b\xff\xff\xff\x7f.").contains("truncated"));
    // A tensor whose storage declares 2^40 floats but holds 4 bytes.
    let record = vec![(
        "x".to_string(),
        Field::Array(NdArray {
            shape: vec![1],
            data: ArrayData::F32(vec![1.0]),
        }),
    )];
    let good = write_record(&record);
    let pos = good
        .windows(5)
        .position(|w| w == b"cpuq\x03")
        .expect("storage pickle")
        + 5;
    let mut bad = good.clone();
    // numel K\x01 -> still one byte; patch the i64 count after the key list instead.
    let count = good.windows(3).position(|w| w == b"a.\x01").expect("count") + 2;
    bad[count..count + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(bad[pos] == b'K');
    assert!(refusal(&bad).contains("holds 1099511627776 elements"));
}

#[test]
fn tensor_views_outside_their_storage_are_refused() {
    // Hand-made protocol 2 pickle: a 4-float storage viewed as shape (3,) stride (2,).
    let record = vec![(
        "x".to_string(),
        Field::Array(NdArray {
            shape: vec![4],
            data: ArrayData::F32(vec![1.0, 2.0, 3.0, 4.0]),
        }),
    )];
    let good = write_record(&record);
    // Size tuple (4,) then stride tuple (1,): `K\x04\x85\x94K\x01\x85\x94`.
    let at = good
        .windows(8)
        .position(|w| w == b"K\x04\x85\x94K\x01\x85\x94")
        .unwrap();
    let mut bad = good.clone();
    bad[at + 1] = 3;
    bad[at + 5] = 2;
    let msg = refusal(&bad);
    assert!(
        msg.contains("field 'x'") && msg.contains("reaches element 4"),
        "{msg}"
    );
    // Offset past the end.
    let mut bad = good.clone();
    let off = at - 2;
    assert_eq!(&bad[off..off + 2], b"K\x00");
    bad[off + 1] = 1;
    assert!(refusal(&bad).contains("reaches element 4"));
}

#[test]
fn deep_nesting_is_bounded() {
    // 100 000 nested lists built with MARK: refused by the MARK limit.
    let mut p = vec![0x80, 2];
    p.extend(std::iter::repeat_n(b'(', 100_000));
    p.push(b'.');
    assert!(refusal(&p).contains("nested deeper"));
    // 100 000 nested lists built with EMPTY_LIST/APPEND: fine for the machine, refused when
    // turned into an array.
    let mut p = vec![0x80, 2, b'}', b'X', 1, 0, 0, 0, b'k'];
    p.extend(std::iter::repeat_n(b']', 100_000));
    p.extend(std::iter::repeat_n(b'a', 99_999));
    p.extend_from_slice(b"s.");
    let msg = refusal(&p);
    assert!(
        msg.contains("field 'k'") && msg.contains("nested deeper"),
        "{msg}"
    );
    // A list that contains itself.
    let msg = refusal(b"\x80\x02}X\x01\x00\x00\x00k]q\x00h\x00as.");
    assert!(msg.contains("field 'k'"), "{msg}");
}

#[test]
fn missing_memo_entries_are_errors() {
    assert!(refusal(b"\x80\x02h\x05.").contains("memo entry 5"));
    assert!(refusal(b"\x80\x02j\xff\xff\xff\xff.").contains("memo entry 4294967295"));
    assert!(refusal(b"(g7\n.").contains("memo entry 7"));
}

#[test]
fn stack_and_mark_misuse_are_errors() {
    for p in [
        &b"."[..],
        b"\x80\x02a.",
        b"\x80\x02t.",
        b"\x80\x02)R.",
        b"\x80\x02Ks.",
        b"\x80\x02\x93.",
    ] {
        refusal(p);
    }
    assert!(refusal(b"\x80\x02\x97.").contains("NEXT_BUFFER"));
    assert!(refusal(b"\x80\x09}.").contains("protocol 9"));
    assert!(refusal(b"\x80\x02\xff").contains("unknown pickle opcode 0xff"));
}

#[test]
fn refused_globals_are_named_in_every_form() {
    assert!(refusal(b"cos\nsystem\n(S'true'\ntR.").contains("'os.system'"));
    assert!(refusal(b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.").contains("'builtins.eval'"));
    assert!(refusal(b"(ios\nsystem\nS'x'\n.").contains("'os.system'"));
    // Inside a storage's torch.save stream too.
    let mut inner = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.\x80\x02}.\x80\x02csubprocess\nPopen\n.".to_vec();
    inner.extend_from_slice(b"\x80\x02].");
    let mut p = b"\x80\x03}X\x01\x00\x00\x00xctorch.storage\n_load_from_bytes\nB".to_vec();
    p.extend_from_slice(&(inner.len() as u32).to_le_bytes());
    p.extend_from_slice(&inner);
    p.extend_from_slice(b"\x85Rs.");
    let msg = refusal(&p);
    assert!(
        msg.contains("'subprocess.Popen'") && msg.contains("storage"),
        "{msg}"
    );
}

#[test]
fn top_level_values_other_than_dicts_are_named() {
    assert!(refusal(b"\x80\x02K\x05.").contains("holds an int, not a dict"));
    assert!(refusal(b"\x80\x02N.").contains("holds None, not a dict"));
    assert!(refusal(b"\x80\x02}K\x01K\x02s.").contains("has an int key"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_record(&bytes);
    }

    #[test]
    fn random_bytes_after_a_header_never_panic(
        proto in 0u8..6,
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut p = vec![0x80, proto];
        p.extend_from_slice(&bytes);
        let _ = read_record(&p);
    }

    #[test]
    fn mutated_fixture_never_panics(
        flips in proptest::collection::vec((0usize..1605, any::<u8>()), 1..8),
        cut in 0usize..1606,
    ) {
        let mut good = std::fs::read(fixtures().join("tt0000008_eval_only.pkl")).unwrap();
        for (i, b) in flips {
            good[i] = b;
        }
        good.truncate(cut);
        let _ = read_record(&good);
    }
}

#[test]
fn zip_storage_entries_must_match_their_declared_size() {
    let path = fixtures().join("synth_bad/bad_zip_short_storage.pkl");
    let msg = read_record_file(&path).unwrap_err().to_string();
    assert!(
        msg.contains("holds 40 bytes but the tensor storage needs 48"),
        "{msg}"
    );
    // Random bytes after a zip signature are a zip error, not a panic.
    assert!(refusal(b"PK\x03\x04garbage").contains("torch.save archive"));
}
