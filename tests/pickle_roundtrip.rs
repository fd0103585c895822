//! Writing: the record decoded from `tt0000001_p4.pkl` (written by PyTorch's `pickle.dump`,
//! protocol 4) is written back byte for byte, up to the storage keys (torch names a storage
//! by its memory address, which no writer can reproduce); every fixture round-trips
//! read → write → read; `write_record_file` replaces files atomically; and a dict of numpy
//! arrays is written as numpy itself pickles it (`numpy_writer/numpy_dict.pkl`, made by
//! `numpy_writer/make_fixture.py`).

use std::path::{Path, PathBuf};

use scenelab::pickle::{
    ArrayData, ArrayForm, Field, NdArray, Record, read_record, read_record_file, write_record,
    write_record_as, write_record_file,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle")
}

/// Positions and text of every storage key: `X\x0e\x00\x00\x00` + 14 digits + `q`.
fn storage_keys(bytes: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let pat = b"X\x0e\x00\x00\x00";
    let mut out = Vec::new();
    let mut i = 0;
    while i + pat.len() + 15 <= bytes.len() {
        if &bytes[i..i + pat.len()] == pat {
            let key = &bytes[i + pat.len()..i + pat.len() + 14];
            if key.iter().all(u8::is_ascii_digit) && bytes[i + pat.len() + 14] == b'q' {
                out.push((i + pat.len(), key.to_vec()));
                i += pat.len() + 14;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[test]
fn p4_fixture_is_reproduced_byte_for_byte_up_to_storage_keys() {
    let original = std::fs::read(fixtures().join("tt0000001_p4.pkl")).unwrap();
    let record = read_record(&original).unwrap();
    let written = write_record(&record);
    assert_eq!(written.len(), original.len(), "same length");

    let theirs = storage_keys(&original);
    let ours = storage_keys(&written);
    // Each of the 7 tensors names its key twice (persistent id and key list).
    assert_eq!(theirs.len(), 14);
    assert_eq!(
        theirs.iter().map(|k| k.0).collect::<Vec<_>>(),
        ours.iter().map(|k| k.0).collect::<Vec<_>>(),
        "keys at the same offsets"
    );
    let mut expected = original.clone();
    for (pos, key) in &ours {
        expected[*pos..*pos + 14].copy_from_slice(key);
    }
    if let Some(i) = (0..expected.len()).find(|&i| expected[i] != written[i]) {
        panic!(
            "first difference at byte {i}: expected {:?}, wrote {:?}",
            &expected[i.saturating_sub(8)..(i + 8).min(expected.len())],
            &written[i.saturating_sub(8)..(i + 8).min(written.len())]
        );
    }
}

#[test]
fn every_fixture_round_trips() {
    let entries = std::fs::read_dir(fixtures())
        .unwrap()
        .chain(std::fs::read_dir(fixtures().join("synth")).unwrap());
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".pkl") {
            continue;
        }
        let Ok(first) = read_record_file(&path) else {
            assert!(name.starts_with("bad_"), "{name} should load");
            continue;
        };
        let bytes = write_record(&first);
        let second =
            read_record(&bytes).unwrap_or_else(|e| panic!("{name}: rewritten file fails: {e}"));
        assert_eq!(first, second, "{name} round trip");
        // Writing is deterministic: the second write is identical.
        assert_eq!(write_record(&second), bytes, "{name} deterministic");
        count += 1;
    }
    assert_eq!(
        count,
        8 + 2 + 11,
        "good, decodable-bad and synthetic fixtures"
    );
}

#[test]
fn write_record_file_replaces_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tt0000042.pkl");
    let record: Record = vec![
        ("imdb_id".into(), Field::Str("tt0000042".into())),
        (
            "scene_transition_boundary_prediction".into(),
            Field::Array(NdArray {
                shape: vec![3],
                data: ArrayData::F32(vec![0.25, 0.5, 1.0]),
            }),
        ),
    ];
    std::fs::write(&path, b"old contents").unwrap();
    write_record_file(&path, &record).unwrap();
    assert_eq!(read_record_file(&path).unwrap(), record);
    // Only the target remains: the temporary file was renamed, not left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
    // A folder that does not exist is an error, not a panic.
    assert!(write_record_file(&dir.path().join("missing/x.pkl"), &record).is_err());
}

fn array(shape: &[usize], data: ArrayData) -> Field {
    Field::Array(NdArray {
        shape: shape.to_vec(),
        data,
    })
}

/// The dict `numpy_writer/make_fixture.py` pickles with numpy (`dict_to_write`).
fn numpy_fixture_record() -> Record {
    let f32s = |n: usize, f: fn(f32) -> f32| ArrayData::F32((0..n).map(|i| f(i as f32)).collect());
    vec![
        ("0000".into(), array(&[1, 4], f32s(4, |i| i * 0.5 - 1.0))),
        ("0001".into(), array(&[4], f32s(4, |i| i * 0.25))),
        ("0002".into(), array(&[512], f32s(512, |i| i / 8.0))),
        (
            "f64".into(),
            array(&[3], ArrayData::F64(vec![0.5, -2.0, 3.0])),
        ),
        (
            "f16".into(),
            array(
                &[2],
                ArrayData::F16(vec![half::f16::from_f32(1.5), half::f16::from_f32(-0.25)]),
            ),
        ),
        ("i64".into(), array(&[2], ArrayData::I64(vec![-3, 1 << 40]))),
        ("i32".into(), array(&[1], ArrayData::I32(vec![7]))),
        ("u8".into(), array(&[3], ArrayData::U8(vec![0, 128, 255]))),
        (
            "bool".into(),
            array(&[3], ArrayData::Bool(vec![true, false, true])),
        ),
        ("scalar".into(), array(&[], ArrayData::F32(vec![2.5]))),
    ]
}

#[test]
fn numpy_dict_is_written_as_numpy_pickles_it() {
    let original = std::fs::read(fixtures().join("numpy_writer/numpy_dict.pkl")).unwrap();
    let record = numpy_fixture_record();
    assert_eq!(
        read_record(&original).unwrap(),
        record,
        "the fixture reads as built here"
    );
    let written = write_record_as(&record, ArrayForm::Numpy);
    assert!(
        written == original,
        "SceneLab's numpy pickle differs from numpy's: first difference at byte {:?} \
         ({} vs {} bytes)",
        written.iter().zip(&original).position(|(a, b)| a != b),
        written.len(),
        original.len()
    );
    // The torch form of the same record reads back to the same record too.
    assert_eq!(read_record(&write_record(&record)).unwrap(), record);
}
