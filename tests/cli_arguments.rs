//! The commands that compute on a device check their arguments (paths exist, flags fit
//! together) before they choose the device and say which: a wrong path is the first thing a
//! user reads, not a `device: …` line.

use std::path::Path;
use std::process::Command;

use scenelab::data::demo::{DemoConfig, write_demo};

/// Run `scenelab` with `args`: whether it succeeded, and its stderr.
fn scenelab(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .output()
        .expect("run scenelab");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn wrong_arguments_are_refused_before_a_device_is_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = DemoConfig {
        movies: 3,
        seed: 1,
        min_shots: 12,
        max_shots: 20,
    };
    write_demo(&data, &config, &|_, _| {}).unwrap();
    let data = data.to_str().unwrap();
    let missing = tmp.path().join("missing");
    let missing = missing.to_str().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch/bilstm.pth");
    let weights = weights.to_str().unwrap();

    // Each wrong run, and what its error names.
    let runs: [(&[&str], &str); 9] = [
        (
            &["predict", missing, "--model", weights, "--out", out],
            "cannot load movies from",
        ),
        (
            &["predict", data, "--model", missing, "--out", out],
            "--model",
        ),
        (
            &["predict", data, "--model", weights, "--out", data],
            "--out is the source folder",
        ),
        (
            &["train", missing, "--epochs", "1"],
            "cannot load movies from",
        ),
        (
            &["train", data, "--test-ids", missing],
            "cannot read test ids",
        ),
        (&["train", data, "--split-file", missing], missing),
        (
            &[
                "export", data, "--field", "model", "--model", missing, "--format", "csv", "--out",
                out,
            ],
            "--model",
        ),
        (
            &["bench", "train", "--dir", missing],
            "cannot load movies from",
        ),
        (
            &[
                "bench", "devices", "--a", "cpu", "--b", "cpu", "--dir", missing,
            ],
            "cannot load movies from",
        ),
    ];
    for (args, names) in runs {
        let (ok, err) = scenelab(args);
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(names), "{args:?}: {err}");
        assert!(
            !err.contains("device"),
            "{args:?} chose a device first: {err}"
        );
    }
    // Right arguments do get the device line.
    let (ok, err) = scenelab(&[
        "predict", data, "--model", weights, "--out", out, "--device", "cpu",
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("device: CPU"), "{err}");
}
