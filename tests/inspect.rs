//! `scenelab inspect --json` on the fixture folder: one line per file whose fields agree with
//! `expected.json`, bad files reported (with the reason) without hiding the good ones, and a
//! non-zero exit code because some files failed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle")
}

fn run(args: &[&str]) -> (bool, Vec<Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn json_report_of_the_fixture_folder_matches_expected() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    let dir = fixtures();
    let (success, lines, stderr) = run(&["--json", dir.to_str().unwrap()]);
    assert!(!success, "bad files must make the exit code non-zero");
    assert!(
        stderr.contains("3 of 13 files") && stderr.contains("1 more with a field"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 13, "one line per .pkl file");

    let by_name = |name: &str| {
        lines
            .iter()
            .find(|l| l["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no line for {name}"))
    };
    for (name, want) in expected.as_object().unwrap() {
        if name.starts_with('_') {
            continue;
        }
        let got = by_name(name);
        assert_eq!(got["ok"], Value::Bool(true), "{name}: {}", got["error"]);
        assert!(got["error"].is_null());
        assert!(got["shots"].as_u64().unwrap() >= 2);
        let want_fields = want["fields"].as_object().unwrap();
        let got_fields = got["fields"].as_object().unwrap();
        assert_eq!(got_fields.len(), want_fields.len(), "{name} field count");
        for (field, w) in want_fields {
            let g = &got_fields[field];
            if w["type"] == "str" {
                assert_eq!(g["dtype"], "str");
                assert_eq!(g["shape"], serde_json::json!([]));
                assert_eq!(g["value"], w["value"]);
                assert!(g.get("sum").is_none());
            } else {
                assert_eq!(g["dtype"], w["dtype"], "{name}:{field}");
                assert_eq!(g["shape"], w["shape"], "{name}:{field}");
                let (gs, ws) = (g["sum"].as_f64().unwrap(), w["sum"].as_f64().unwrap());
                assert!(close(gs, ws), "{name}:{field} sum {gs} != {ws}");
            }
        }
    }
    // Scene counts: ground-truth boundaries + 1.
    let eval_only = by_name("tt0000008_eval_only.pkl");
    assert_eq!(eval_only["shots"], 40);
    assert_eq!(eval_only["scenes"], 5);

    let malicious = by_name("bad_malicious.pkl");
    assert_eq!(malicious["ok"], false);
    assert!(
        malicious["error"]
            .as_str()
            .unwrap()
            .contains("posix.system")
    );
    assert!(!Path::new("/tmp/scene-fixture-pwned").exists());
    let not_dict = by_name("bad_not_a_dict.pkl");
    assert!(not_dict["error"].as_str().unwrap().contains("not a dict"));
    let truncated = by_name("bad_truncated.pkl");
    assert!(truncated["error"].as_str().unwrap().contains("truncated"));
    // Decodes, but ground truth and shots disagree: the movie is read without its ground
    // truth, whose status names both lengths; the other fields are ok.
    let mismatch = by_name("bad_length_mismatch.pkl");
    assert_eq!(mismatch["ok"], true);
    let fields = mismatch["fields"].as_object().unwrap();
    assert_eq!(fields.len(), 8);
    let status = fields["scene_transition_boundary_ground_truth"]["status"]
        .as_str()
        .unwrap();
    assert!(
        status.contains("has 5 values") && status.contains("10 shots"),
        "{status}"
    );
    assert_eq!(fields["place"]["status"], "ok");
    // Fine for evaluation: ok, and no place.
    let missing = by_name("bad_missing_place.pkl");
    assert_eq!(missing["ok"], true);
    assert!(missing["fields"].get("place").is_none());
}

#[test]
fn good_files_alone_succeed_and_text_mode_lists_fields() {
    let f = fixtures().join("tt0000001_p4.pkl");
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["inspect", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("48 shots, 9 scenes"), "{text}");
    assert!(
        text.contains("place") && text.contains("[48, 2048]"),
        "{text}"
    );
    let (ok, lines, _) = run(&["--json", "/nonexistent/movie.pkl"]);
    assert!(!ok);
    assert_eq!(lines[0]["ok"], false);
}
