//! Holding a large data set: features in f16 give the same predictions and metrics as f32,
//! the MovieNet-layout demo is the pkl demo's movies, and the app's Open folder offers f16.

mod app_support;

use std::sync::{Arc, Mutex};

use app_support::{assert_no_errors, harness, picker_answering, settle};
use egui_kittest::kittest::Queryable;
use scenelab::app::{App, AppOptions};

use std::sync::atomic::AtomicBool;

use candle_core::Device;
use scenelab::data::demo::{DemoConfig, write_demo, write_demo_movienet};
use scenelab::data::{Dataset, FeaturePrecision, Modality, Split};
use scenelab::model::ModelKind;
use scenelab::train::{self, TrainConfig, TrainSettings};

fn demo() -> DemoConfig {
    DemoConfig {
        movies: 6,
        seed: 11,
        min_shots: 40,
        max_shots: 90,
    }
}

fn load(dir: &std::path::Path, precision: FeaturePrecision) -> Dataset {
    let data = Dataset::load_dir_at(dir, precision, &|_| {}).unwrap();
    assert!(data.failures.is_empty(), "{:?}", data.failures);
    data
}

/// Train `kind` for `epochs` on `d`'s first 4 movies (the 5th validating, the 6th for the test).
fn train_on(d: &Dataset, kind: ModelKind, epochs: usize, seed: u64) -> train::TrainOutcome {
    let ids = d.ids();
    let split = Split {
        train: ids[..4].to_vec(),
        validation: ids[4..5].to_vec(),
        test: ids[5..].to_vec(),
    };
    let config = TrainConfig {
        model: kind.default_config(),
        settings: TrainSettings {
            epochs,
            seed,
            ..TrainSettings::for_kind(kind)
        },
    };
    train::train(
        &d.movies,
        &split,
        &config,
        &Device::Cpu,
        None,
        &AtomicBool::new(false),
    )
    .unwrap()
}

#[test]
fn f16_features_give_the_f32_predictions_and_metrics_in_half_the_memory() {
    let tmp = tempfile::tempdir().unwrap();
    write_demo(tmp.path(), &demo(), &|_, _| {}).unwrap();
    let full = load(tmp.path(), FeaturePrecision::F32);
    let half = load(tmp.path(), FeaturePrecision::F16);
    assert_eq!(full.ids(), half.ids());

    // Memory: every feature value takes 2 bytes instead of 4; labels and scores are kept.
    let feature_bytes = |d: &Dataset| -> usize {
        d.movies
            .iter()
            .flat_map(|m| m.features.iter().flatten())
            .map(|f| f.bytes())
            .sum()
    };
    assert_eq!(feature_bytes(&full), 2 * feature_bytes(&half));
    for (a, b) in full.movies.iter().zip(&half.movies) {
        assert_eq!(
            b.feature(Modality::Place).unwrap().precision(),
            FeaturePrecision::F16
        );
        assert_eq!(
            (&a.ground_truth, &a.prediction, &a.shot_end_frame),
            (&b.ground_truth, &b.prediction, &b.shot_end_frame)
        );
        // Each value within half precision's rounding (2^-11 relative, plus its subnormals).
        for m in Modality::ALL {
            let (x, y) = (a.feature(m).unwrap(), b.feature(m).unwrap());
            for (p, q) in x.values().iter().zip(y.values().iter()) {
                assert!((p - q).abs() <= p.abs() / 2048.0 + 1e-7, "{p} vs {q}");
            }
        }
    }

    // A model trained on the f32 movies scores the f16 ones as it scores the f32 ones.
    let outcome = train_on(&full, ModelKind::Wavenet, 1, 3);
    fn refs(d: &Dataset) -> Vec<&scenelab::data::Movie> {
        d.movies.iter().collect()
    }
    let a = outcome.model.predict(&refs(&full)).unwrap();
    let b = outcome.model.predict(&refs(&half)).unwrap();
    let mut largest = 0f32;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.len(), y.len());
        for (p, q) in x.iter().zip(y) {
            largest = largest.max((p - q).abs());
        }
    }
    assert!(largest < 2e-3, "f16 moves a probability by {largest}");
    assert!(
        a.iter().flatten().any(|&p| (p - 0.5).abs() > 0.01),
        "the model scores something"
    );
    let scored = |d: &Dataset, s: &[Vec<f32>]| -> Vec<(String, Vec<f32>)> {
        d.ids().into_iter().zip(s.iter().cloned()).collect()
    };
    let ma = train::test_metrics(&full.movies, &scored(&full, &a)).unwrap();
    let mb = train::test_metrics(&half.movies, &scored(&half, &b)).unwrap();
    for (x, y, what) in [
        (ma.ap, mb.ap, "AP"),
        (ma.map, mb.map, "mAP"),
        (ma.miou, mb.miou, "Miou"),
        (ma.f1, mb.f1, "F1"),
    ] {
        assert!((x - y).abs() < 5e-3, "{what}: f32 {x}, f16 {y}");
    }
}

#[test]
fn training_on_f16_movies_follows_training_on_f32() {
    let tmp = tempfile::tempdir().unwrap();
    write_demo(tmp.path(), &demo(), &|_, _| {}).unwrap();
    let full = load(tmp.path(), FeaturePrecision::F32);
    let half = load(tmp.path(), FeaturePrecision::F16);
    // The f16 run trains from f16 rows (half the memory of its copy) and differs from the
    // f32 run only by their rounding.
    let (a, b) = (
        train_on(&full, ModelKind::Default, 3, 5),
        train_on(&half, ModelKind::Default, 3, 5),
    );
    for (x, y) in a.model.meta.curve.iter().zip(&b.model.meta.curve) {
        let rel = (x.train_loss - y.train_loss).abs() / x.train_loss;
        assert!(
            rel < 1e-3,
            "epoch {}: loss {} vs {}",
            x.epoch,
            x.train_loss,
            y.train_loss
        );
    }
    let (sa, sb) = (&a.test_scores[0].1, &b.test_scores[0].1);
    let largest = sa
        .iter()
        .zip(sb)
        .map(|(p, q)| (p - q).abs())
        .fold(0f32, f32::max);
    assert!(
        largest < 5e-3,
        "f16 training moves a test probability by {largest}"
    );
    assert_eq!(a.model.meta.curve.len(), 3);
}

#[test]
fn movienet_demo_loads_to_the_pkl_demos_movies() {
    let tmp = tempfile::tempdir().unwrap();
    let (pkl, movienet) = (tmp.path().join("pkl"), tmp.path().join("movienet"));
    write_demo(&pkl, &demo(), &|_, _| {}).unwrap();
    let ids = write_demo_movienet(&movienet, &demo(), &|_, _| {})
        .unwrap()
        .ids;
    assert!(movienet.join("place_feat").join(&ids[0]).is_dir());
    let a = load(&pkl, FeaturePrecision::F32);
    let b = load(&movienet, FeaturePrecision::F32);
    assert!(a.movienet.is_none() && b.movienet.is_some());
    assert_eq!(a.ids(), b.ids());
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(a.ids(), sorted);
    for (x, y) in a.movies.iter().zip(&b.movies) {
        assert_eq!(x.n_shots, y.n_shots, "{}", x.imdb_id);
        assert_eq!(x.ground_truth, y.ground_truth, "{}", x.imdb_id);
        assert_eq!(x.shot_end_frame, y.shot_end_frame, "{}", x.imdb_id);
        assert_eq!(x.features, y.features, "{}", x.imdb_id);
        // MovieNet's layout has no field for a provided prediction.
        assert!(x.prediction.is_some() && y.prediction.is_none());
    }
    // Loaded as f16 from either layout, the movies agree too.
    let (a, b) = (
        load(&pkl, FeaturePrecision::F16),
        load(&movienet, FeaturePrecision::F16),
    );
    for (x, y) in a.movies.iter().zip(&b.movies) {
        assert_eq!(x.features, y.features, "{}", x.imdb_id);
    }
}

#[test]
fn the_apps_f16_box_holds_the_next_folder_in_f16_and_is_remembered() {
    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    write_demo_movienet(&movies, &demo(), &|_, _| {}).unwrap();
    let choice = Arc::new(Mutex::new(Some(movies.clone())));
    let settings_path = tmp.path().join("config").join("gui.json");
    let mut h = harness(App::new(AppOptions {
        picker: picker_answering(choice),
        settings_path: Some(settings_path.clone()),
        default_dir: tmp.path().join("data_dir"),
        demo: demo(),
    }));
    h.step();
    h.get_by_label("f16").click();
    settle(&mut h);
    assert_eq!(h.state().state.settings.features, FeaturePrecision::F16);
    h.get_all_by_label("Open folder…").next().unwrap().click();
    settle(&mut h);
    assert_no_errors(&h);
    assert_eq!(h.state().movies().len(), demo().movies);
    for m in h.state().movies() {
        for f in m.features.iter().flatten() {
            assert_eq!(f.precision(), FeaturePrecision::F16, "{}", m.imdb_id);
        }
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings_path).unwrap()).unwrap();
    assert_eq!(saved["features"], "f16");
}
