//! Model folders: what is saved loads back to the same scores, and a folder of another kind,
//! a newer version or a damaged file is refused with a message that says so.

mod model_support;

use std::sync::atomic::AtomicBool;

use candle_core::Device;
use scenelab::data::{Movie, Split};
use scenelab::model::ModelKind;
use scenelab::train::checkpoint::{CONFIG_FILE, WEIGHTS_FILE};
use scenelab::train::{CheckpointError, TrainConfig, TrainSettings, TrainedModel, train};

fn trained(kind: ModelKind, movies: &[Movie]) -> TrainedModel {
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    let split = Split::by_count(&ids, 1, 1, 0).unwrap();
    let config = TrainConfig {
        model: kind.default_config(),
        settings: TrainSettings {
            epochs: 1,
            seed: 3,
            ..TrainSettings::default()
        },
    };
    train(
        movies,
        &split,
        &config,
        &Device::Cpu,
        None,
        &AtomicBool::new(false),
    )
    .unwrap()
    .model
}

#[test]
fn save_then_load_predicts_the_same_scores() {
    let movies = model_support::small_movies(5, 31);
    let refs: Vec<&Movie> = movies.iter().collect();
    for kind in [ModelKind::Default, ModelKind::Bilstm] {
        let model = trained(kind, &movies);
        let before = model.predict(&refs).unwrap();
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path()).unwrap();
        let loaded = TrainedModel::load(dir.path(), Some(kind), &Device::Cpu).unwrap();
        assert_eq!(loaded.predict(&refs).unwrap(), before, "{kind}");
        // (JSON keeps f64 to the last digit or two only, so compare what must be exact.)
        assert!(
            loaded.meta.model == model.meta.model,
            "{kind}: config differs"
        );
        assert!(loaded.meta.normalization == model.meta.normalization);
        assert_eq!(loaded.meta.split, model.meta.split);
        assert_eq!(loaded.meta.curve.len(), model.meta.curve.len());
        assert_eq!(loaded.meta.split.test.len(), 1);
        assert_eq!(loaded.meta.scenelab_version, env!("CARGO_PKG_VERSION"));
        // Both files as shareable as any the user creates there, and nothing else left.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode();
            let plain = dir.path().join("plain");
            std::fs::File::create(&plain).unwrap();
            assert_eq!(
                mode(dir.path().join("model.safetensors")),
                mode(plain.clone())
            );
            assert_eq!(mode(dir.path().join("config.json")), mode(plain.clone()));
            std::fs::remove_file(plain).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "{kind}");
    }
}

fn saved_default() -> tempfile::TempDir {
    let movies = model_support::small_movies(4, 32);
    let dir = tempfile::tempdir().unwrap();
    trained(ModelKind::Default, &movies)
        .save(dir.path())
        .unwrap();
    dir
}

#[test]
fn a_model_of_another_kind_is_refused() {
    let dir = saved_default();
    let err = TrainedModel::load(dir.path(), Some(ModelKind::Wavenet), &Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::WrongKind { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("'default'") && msg.contains("'wavenet'"),
        "{msg}"
    );
}

#[test]
fn a_model_from_a_newer_scenelab_is_refused() {
    let dir = saved_default();
    let path = dir.path().join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let newer = text.replace(
        &format!("\"scenelab_version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"scenelab_version\": \"999.0.0\"",
    );
    assert_ne!(newer, text);
    std::fs::write(&path, newer).unwrap();
    let err = TrainedModel::load(dir.path(), None, &Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::NewerVersion { .. }), "{err}");
    assert!(err.to_string().contains("999.0.0"));
}

#[test]
fn damaged_files_are_refused() {
    let dir = saved_default();
    let weights = dir.path().join(WEIGHTS_FILE);
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = TrainedModel::load(dir.path(), None, &Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::BadWeights { .. }), "{err}");
    assert!(err.to_string().contains("corrupted"), "{err}");

    let dir = saved_default();
    std::fs::write(dir.path().join(CONFIG_FILE), "{\"format\": ").unwrap();
    let err = TrainedModel::load(dir.path(), None, &Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::BadConfig { .. }), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let err = TrainedModel::load(empty.path(), None, &Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(err, CheckpointError::NotAModel(_)), "{err}");
}

/// The reference's F1 is NaN when a movie gets no correct boundary; serde_json writes it as
/// null, and the checkpoint must still load.
#[test]
fn nan_metrics_survive_a_json_round_trip() {
    let m = scenelab::train::TestMetrics {
        ap: 0.1,
        map: 0.2,
        miou: 0.3,
        precision: 0.0,
        recall: 0.0,
        f1: f64::NAN,
    };
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains("\"f1\":null"), "{json}");
    let back: scenelab::train::TestMetrics = serde_json::from_str(&json).unwrap();
    assert!(back.f1.is_nan());
    assert_eq!(back.miou, 0.3);
}

/// Checkpoints written before decisions were stored have no "decision" key: they load, with
/// no decision; one with a decision loads it back.
#[test]
fn the_decision_is_optional_and_round_trips() {
    use scenelab::train::decision::{Decision, Objective};
    let dir = saved_default();
    let path = dir.path().join(CONFIG_FILE);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(json.as_object_mut().unwrap().remove("decision").is_some());
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let mut old = TrainedModel::load(dir.path(), None, &Device::Cpu).unwrap();
    assert_eq!(old.meta.decision, None);

    let d = Decision {
        threshold: 0.35,
        nms_window: 1,
        min_scene_len: 2,
        objective: Objective::F1,
    };
    old.meta.decision = Some(d);
    old.save(dir.path()).unwrap();
    let back = TrainedModel::load(dir.path(), None, &Device::Cpu).unwrap();
    assert_eq!(back.meta.decision, Some(d));
}
