//! Every good fixture (written by real PyTorch/numpy) decodes to the dtypes, shapes, sums,
//! SHA-256 of the little-endian bytes and values recorded in `expected.json`.

use std::path::{Path, PathBuf};

use scenelab::pickle::{Field, NdArray, read_record_file};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle")
}

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

/// serde_json's float parsing may be one ULP off, so values compare to 1e-12.
fn same_values(got: &[f64], want: &[f64]) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(a, b)| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check_array(file: &str, name: &str, a: &NdArray, want: &Value) {
    let ctx = format!("{file}:{name}");
    assert_eq!(
        a.dtype().name(),
        want["dtype"].as_str().unwrap(),
        "{ctx} dtype"
    );
    let shape: Vec<usize> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(a.shape, shape, "{ctx} shape");
    assert_eq!(a.numel(), shape.iter().product::<usize>(), "{ctx} numel");
    let sum = a.data.sum_f64();
    let want_sum = want["sum"].as_f64().unwrap();
    assert!(close(sum, want_sum), "{ctx} sum {sum} != {want_sum}");
    let sha = hex(&Sha256::digest(a.data.to_le_bytes()));
    assert_eq!(sha, want["sha256_le"].as_str().unwrap(), "{ctx} sha256");

    let values = a.data.to_f64_vec();
    let cols = if shape.len() == 2 { shape[1] } else { 1 };
    if let Some(v) = want.get("values") {
        assert!(same_values(&values, &floats(v)), "{ctx} values");
    }
    if let Some(v) = want.get("first_row") {
        let v = floats(v);
        assert!(same_values(&values[..v.len()], &v), "{ctx} first row");
    }
    if let Some(v) = want.get("last_row_first16") {
        let v = floats(v);
        let start = values.len() - cols;
        assert!(
            same_values(&values[start..start + v.len()], &v),
            "{ctx} last row"
        );
    }
    if let Some(v) = want.get("row_sums") {
        let v = floats(v);
        assert_eq!(v.len(), shape[0], "{ctx} row count");
        for (i, (row, want)) in values.chunks(cols).zip(&v).enumerate() {
            let got: f64 = row.iter().sum();
            assert!(close(got, *want), "{ctx} row {i} sum {got} != {want}");
        }
    }
}

#[test]
fn every_good_fixture_matches_expected_json() {
    let expected = expected();
    let mut checked = 0;
    for (file, want) in &expected {
        if file.starts_with('_') {
            continue;
        }
        let record = read_record_file(&fixtures().join(file))
            .unwrap_or_else(|e| panic!("{file} failed to load: {e}"));
        let want_fields = want["fields"].as_object().unwrap();
        let names: Vec<&str> = record.iter().map(|(k, _)| k.as_str()).collect();
        let want_names: Vec<&str> = want_fields.keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort();
        let mut want_sorted = want_names.clone();
        want_sorted.sort();
        assert_eq!(sorted, want_sorted, "{file} field names");
        for (name, field) in &record {
            let w = &want_fields[name];
            match (field, w["type"].as_str().unwrap()) {
                (Field::Str(s), "str") => {
                    assert_eq!(s, w["value"].as_str().unwrap(), "{file}:{name}")
                }
                (Field::Array(a), "tensor" | "numpy") => check_array(file, name, a, w),
                (f, t) => panic!("{file}:{name}: decoded {f:?} but expected a {t}"),
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "all eight good fixtures were checked");
}

#[test]
fn fields_keep_file_order() {
    let record = read_record_file(&fixtures().join("tt0000001_p4.pkl")).unwrap();
    let names: Vec<&str> = record.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "imdb_id",
            "place",
            "cast",
            "action",
            "audio",
            "scene_transition_boundary_ground_truth",
            "scene_transition_boundary_prediction",
            "shot_end_frame"
        ]
    );
}

/// Synthetic fixtures (see `synth/make_synth.py`): protocols 0-5 text and binary forms,
/// shared storages, views, every storage type, a legacy `torch.save` file, numpy in
/// protocols 2 and 5 (`_frombuffer`, Fortran order, big-endian, scalars), plain values.
#[test]
fn every_synthetic_fixture_matches_its_expectations() {
    let dir = fixtures().join("synth");
    let text = std::fs::read_to_string(dir.join("synth_expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for (file, want) in expected.as_object().unwrap() {
        let record = read_record_file(&dir.join(file))
            .unwrap_or_else(|e| panic!("{file} failed to load: {e}"));
        let want_fields = want["fields"].as_object().unwrap();
        let expected_names: Vec<&str> = want_fields
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "nothing")
            .collect();
        let mut names: Vec<&str> = record.iter().map(|(k, _)| k.as_str()).collect();
        names.sort();
        let mut expected_sorted = expected_names.clone();
        expected_sorted.sort();
        assert_eq!(names, expected_sorted, "{file}: None fields are left out");
        for (name, field) in &record {
            let w = &want_fields[name];
            match (field, w["type"].as_str().unwrap()) {
                (Field::Str(s), "str") => assert_eq!(s, w["value"].as_str().unwrap()),
                (Field::Array(a), _) => check_array(file, name, a, w),
                (f, t) => panic!("{file}:{name}: decoded {f:?} but expected a {t}"),
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 11);
}
