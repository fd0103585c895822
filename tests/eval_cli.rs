//! `scenelab evaluate` on real movie files (written by PyTorch, copied from the shared pickle
//! fixtures) against the reference evaluator's scores in `pkl_expected.json`. Needs
//! `scenelab::pickle::read_record_file`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/metrics")
        .join(path)
}

fn run(args: &[&str]) -> (serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .arg("evaluate")
        .args(args)
        .arg("--allow-partial")
        .output()
        .expect("run scenelab");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "scenelab evaluate failed: {stderr}");
    let json = serde_json::from_slice(&out.stdout).expect("--json prints one JSON object");
    (json, stderr)
}

fn close(got: &serde_json::Value, want: &serde_json::Value, what: &str) {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-9, "{what}: got {g}, want {w}"),
        _ => assert!(
            got.is_null() && want.is_null(),
            "{what}: got {got}, want {want}"
        ),
    }
}

#[test]
fn json_matches_the_reference_and_names_bad_files() {
    let dir = fixture("pkl");
    let text = std::fs::read_to_string(fixture("pkl_expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    for want in expected.as_array().unwrap() {
        let threshold = want["threshold"].as_f64().unwrap().to_string();
        let (got, stderr) = run(&[dir.to_str().unwrap(), "--json", "--threshold", &threshold]);
        for key in ["AP", "mAP", "Miou", "Precision", "Recall", "F1"] {
            close(&got[key], &want[key], &format!("{key} at {threshold}"));
        }
        let per_movie = want["per_movie"].as_object().unwrap();
        assert_eq!(got["per_movie"].as_object().unwrap().len(), per_movie.len());
        for (id, scores) in per_movie {
            for (key, value) in scores.as_object().unwrap() {
                close(
                    &got["per_movie"][id][key],
                    value,
                    &format!("{id} {key} at {threshold}"),
                );
            }
        }
        // The two bad files are skipped with the reason, in JSON and on stderr.
        assert_eq!(got["movies"], 4);
        assert_eq!(got["files"], 6);
        let skipped = got["skipped"].as_array().unwrap();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        let reason = |file: &str| {
            skipped
                .iter()
                .find(|s| s["file"] == file)
                .unwrap_or_else(|| panic!("{file} not skipped: {skipped:?}"))["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(reason("bad_not_a_dict.pkl").contains("not a dict"));
        let mismatch = reason("bad_length_mismatch.pkl");
        assert!(mismatch.contains("transitions"), "{mismatch}");
        for s in skipped {
            assert!(
                stderr.contains(s["reason"].as_str().unwrap()),
                "stderr lacks {s}"
            );
        }
    }
}

#[test]
fn field_option_scores_another_field() {
    // The ground truth as scores is a perfect prediction.
    let dir = fixture("pkl");
    let (got, _) = run(&[
        dir.to_str().unwrap(),
        "--json",
        "--field",
        "scene_transition_boundary_ground_truth",
    ]);
    for key in ["AP", "mAP", "Miou", "Precision", "Recall", "F1"] {
        assert_eq!(got[key].as_f64(), Some(1.0), "{key}");
    }
}

#[test]
fn field_option_takes_the_names_export_takes() {
    // `ground_truth` (and its dashed spelling) is the ground truth's field, `prediction` the
    // prediction's, as for `scenelab export --field`.
    let dir = fixture("pkl");
    let dir = dir.to_str().unwrap();
    for name in ["ground_truth", "ground-truth"] {
        let (got, _) = run(&[dir, "--json", "--field", name]);
        for key in ["AP", "mAP", "Miou", "Precision", "Recall", "F1"] {
            assert_eq!(got[key].as_f64(), Some(1.0), "{name} {key}");
        }
    }
    let (default, _) = run(&[dir, "--json"]);
    let (short, _) = run(&[dir, "--json", "--field", "prediction"]);
    let (full, _) = run(&[
        dir,
        "--json",
        "--field",
        "scene_transition_boundary_prediction",
    ]);
    assert_eq!(short, default);
    assert_eq!(full, default);
}

/// `scenelab evaluate` with `args`, failing: its stderr.
fn run_failing(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .arg("evaluate")
        .args(args)
        .output()
        .expect("run scenelab");
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_field_no_file_has_is_answered_with_the_names_field_takes() {
    let dir = fixture("pkl");
    let dir = dir.to_str().unwrap();
    let choices = "prediction (the files' scene_transition_boundary_prediction), ground_truth \
                   (the files' scene_transition_boundary_ground_truth)";
    // A misspelt name, a name no field can have, and a model (which export takes, not evaluate).
    let err = run_failing(&[dir, "--field", "Prediction"]);
    assert!(
        err.contains("no field 'Prediction'") && err.contains(choices),
        "{err}"
    );
    let err = run_failing(&[dir, "--field", "ground truth"]);
    assert!(err.contains(choices), "{err}");
    let err = run_failing(&[dir, "--field", "model"]);
    assert!(
        err.contains(choices) && err.contains("scenelab predict"),
        "{err}"
    );
}

#[test]
fn table_lists_every_movie_and_the_means() {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["evaluate", fixture("pkl").to_str().unwrap()])
        .output()
        .unwrap();
    // Two of the six files cannot be scored: the totals are printed, said to cover 4 of 6
    // files, and the exit status is 2 so that a script does not take them for the whole.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scored 4 of 6 files") && stderr.contains("--allow-partial"),
        "{stderr}"
    );
    let table = String::from_utf8(out.stdout).unwrap();
    for id in [
        "tt0000004",
        "tt0000006",
        "tt0000007",
        "tt0000008",
        "mean of 4",
        "over 4 of 6 files",
        "mAP",
    ] {
        assert!(table.contains(id), "{id} missing from:\n{table}");
    }
}

#[test]
fn a_complete_folder_exits_zero_and_says_all() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["tt0000004_p5.pkl", "tt0000006_numpy.pkl"] {
        std::fs::copy(fixture("pkl").join(name), dir.path().join(name)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["evaluate", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("over all 2 files"), "{table}");
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["evaluate", dir.path().to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["movies"], 2);
    assert_eq!(json["skipped"], serde_json::json!([]));
}

#[test]
fn a_folder_without_movies_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["evaluate", empty.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .pkl files"));
}
