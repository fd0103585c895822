//! The GPU check's logic, on the CPU: `scenelab bench devices` trains every model on two
//! devices and compares (here the CPU against itself, which must agree exactly), reports and
//! fails on mismatches, and `scripts/gpu-check.sh --cpu-only` runs end to end.

use std::path::Path;
use std::process::Command;

use candle_core::Device;
use scenelab::data::demo::{DemoConfig, generate_movie};
use scenelab::model::{ModelConfig, ModelKind};
use scenelab::train::devices::{
    CompareSettings, DeviceReport, ModelComparison, ScoreDiff, TensorDiff, compare_devices,
};

fn tiny_movies(n: usize) -> Vec<scenelab::data::Movie> {
    let config = DemoConfig {
        movies: n,
        seed: 3,
        min_shots: 12,
        max_shots: 24,
    };
    (0..n).map(|i| generate_movie(&config, i)).collect()
}

#[test]
fn every_model_agrees_with_itself_on_the_cpu() {
    let movies = tiny_movies(4);
    let split = scenelab::train::bench::benchmark_split(&movies, None).unwrap();
    // Every model, LGSS narrowed (its published 512 channels and units take a minute here).
    let mut settings = CompareSettings::default();
    for m in &mut settings.models {
        if let ModelConfig::Lgss(c) = m {
            c.channels = 16;
            c.hidden = 16;
            c.dense = 8;
        }
    }
    let mut lines = Vec::new();
    let report = compare_devices(
        &movies,
        &split,
        &settings,
        &Device::Cpu,
        &Device::Cpu,
        &mut |l| lines.push(l),
    )
    .unwrap();
    assert_eq!(lines.len(), ModelKind::ALL.len());
    let kinds: Vec<ModelKind> = report.models.iter().map(|m| m.model).collect();
    assert_eq!(kinds, ModelKind::ALL);
    for m in &report.models {
        assert_eq!(m.initial.max_abs_diff, 0.0, "{}", m.model);
        assert_eq!(m.trained.max_abs_diff, 0.0, "{}", m.model);
        assert!(!m.gradients.is_empty(), "{}", m.model);
        assert!(
            m.gradients.iter().all(|g| g.max_abs_diff == 0.0),
            "{}",
            m.model
        );
        let (la, lb) = m.loss.expect("one epoch ran");
        assert!(la.is_finite() && la == lb, "{}: {la} vs {lb}", m.model);
    }
    assert!(report.ops.len() >= 10, "{:?}", report.ops);
    assert!(
        report.ops.iter().all(|o| o.max_abs_diff == 0.0),
        "{:?}",
        report.ops
    );
    assert!(report.mismatches().is_empty());
    let table = report.table();
    for kind in ModelKind::ALL {
        assert!(table.contains(kind.name()), "{table}");
    }
    assert!(table.contains("LGSS window channel max"), "{table}");
    assert!(table.contains("agree within 1e-4"), "{table}");
}

#[test]
fn differences_beyond_the_tolerance_are_listed_by_model_gradient_and_op() {
    let same = ScoreDiff {
        max_abs_diff: 2e-5,
        movie: "tt1".into(),
        transition: 3,
        a: 0.5,
        b: 0.50002,
    };
    let far = ScoreDiff {
        max_abs_diff: 3e-3,
        movie: "tt2".into(),
        transition: 7,
        a: 0.4,
        b: 0.403,
    };
    let report = DeviceReport {
        device_a: "CUDA GPU 0".into(),
        device_b: "CPU".into(),
        tolerance: 1e-4,
        models: vec![ModelComparison {
            model: ModelKind::Lgss,
            initial: same,
            trained: far,
            loss: Some((0.7, 0.7)),
            seconds: (1.0, 2.0),
            gradients: vec![
                TensorDiff {
                    name: "place.conv.weight".into(),
                    max_abs_diff: 0.5,
                    scale: 10.0,
                },
                TensorDiff {
                    name: "out.bias".into(),
                    max_abs_diff: 1e-6,
                    scale: 1.0,
                },
            ],
        }],
        ops: vec![
            TensorDiff {
                name: "matmul".into(),
                max_abs_diff: f64::NAN,
                scale: 1.0,
            },
            TensorDiff {
                name: "index_select".into(),
                max_abs_diff: 0.0,
                scale: 1.0,
            },
        ],
    };
    let bad = report.mismatches();
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad[0].contains("lgss: trained scores") && bad[0].contains("tt2"));
    assert!(bad[1].contains("place.conv.weight"));
    assert!(bad[2].contains("op matmul"));
    let table = report.table();
    assert!(table.contains("3 differ by more than 1e-4"), "{table}");
}

#[test]
fn bench_devices_prints_the_table_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("devices.json");
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["bench", "devices", "--a", "cpu", "--b", "cpu"])
        .args(["--models", "default,wavenet", "--movies", "3"])
        .args(["--min-shots", "12", "--max-shots", "20", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("device a: CPU"), "{stderr}");
    assert!(
        stdout.contains("wavenet") && stdout.contains("agree"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["models"].as_array().unwrap().len(), 2);

    // A tolerance the CLI refuses names its flag.
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args([
            "bench",
            "devices",
            "--a",
            "cpu",
            "--b",
            "cpu",
            "--tolerance=-1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tolerance"));
}

#[test]
fn the_gpu_check_script_runs_end_to_end_on_the_cpu() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root.join("scripts/gpu-check.sh"))
        .arg("--cpu-only")
        .arg(env!("CARGO_BIN_EXE_scenelab"))
        .env("GPU_CHECK_DIR", work.path())
        .envs([
            ("EQ_MODELS", "default,wavenet"),
            ("SPEED_MODELS", "default,wavenet"),
            ("EQ_MOVIES", "3"),
            ("EQ_MIN_SHOTS", "12"),
            ("EQ_MAX_SHOTS", "20"),
            ("SPEED_MOVIES", "4"),
            ("SPEED_MIN_SHOTS", "12"),
            ("SPEED_MAX_SHOTS", "24"),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("gpu-check passed"), "{stdout}");
    // Both sides' seconds per epoch, for both models.
    let rows: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("seconds per epoch"))
        .skip(2)
        .take(2)
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(
        rows[0].starts_with("default") && rows[1].starts_with("wavenet"),
        "{rows:?}"
    );
    for f in ["devices.json", "train-cpu.json", "train-cpu2.json"] {
        assert!(work.path().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn auto_is_the_default_device_and_lists_only_what_the_build_has() {
    use scenelab::cli::train::DeviceArg;
    assert_eq!(DeviceArg::default(), DeviceArg::Auto);
    let has_cuda = DeviceArg::available().contains(&DeviceArg::Cuda);
    assert_eq!(has_cuda, cfg!(feature = "cuda"));
    assert!(DeviceArg::available().starts_with(&[DeviceArg::Auto, DeviceArg::Cpu]));
    let (device, line) = DeviceArg::Auto.resolve().unwrap();
    if !cfg!(feature = "cuda") {
        assert!(device.is_cpu());
        assert!(
            line.starts_with("CPU (auto: this build has no CUDA"),
            "{line}"
        );
        let err = DeviceArg::Cuda.resolve().unwrap_err().to_string();
        assert!(
            err.contains("--features cuda") && err.contains("choose the CPU"),
            "{err}"
        );
    }
    for command in ["train", "predict"] {
        let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("[default: auto]"), "{command}: {help}");
    }
}
