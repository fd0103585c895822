//! Training from the app on tiny demo movies: Train adds a prediction source on every
//! timeline and in the comparison table, Cancel stops a run, a saved model loads back as a
//! source with the same scores and decision, and Export writes the selected source's scores
//! (through its decision) into copies of the movie files (never into the source folder).

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_support::{assert_no_errors, harness, picker_answering, settle_within, wait_until};
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::training::TrainingForm;
use scenelab::app::{Action, App, AppOptions};
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::data::{Dataset, FIELD_PREDICTION};
use scenelab::model::{ModelConfig, ModelKind};
use scenelab::pickle::{ArrayData, Field, read_record_file};
use scenelab::train::StopReason;
use scenelab::train::decision::Objective;

fn tiny_demo() -> DemoConfig {
    DemoConfig {
        movies: 6,
        seed: 1,
        min_shots: 60,
        max_shots: 120,
    }
}

/// Options whose picker answers with whatever `choice` holds.
fn options(tmp: &Path, choice: Arc<Mutex<Option<PathBuf>>>) -> AppOptions {
    AppOptions {
        picker: picker_answering(choice),
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: tiny_demo(),
    }
}

/// The tiny movies written and opened, the training window open with a tiny WaveNet.
fn opened(tmp: &Path, choice: Arc<Mutex<Option<PathBuf>>>, epochs: usize) -> Harness<'static, App> {
    let movies = tmp.join("movies");
    write_demo(&movies, &tiny_demo(), &|_, _| {}).unwrap();
    let mut app = App::new(options(tmp, choice));
    app.queue(Action::OpenFolder(movies));
    let mut h = harness(app);
    settle_within(&mut h, Duration::from_secs(60));
    assert_eq!(h.state().movies().len(), 6);
    h.get_by_label("Train…").click();
    h.step();
    h.step();
    assert!(h.state().state.training.open);
    let mut form = TrainingForm::for_kind(ModelKind::Wavenet);
    if let ModelConfig::Wavenet(c) = &mut form.model {
        c.num_blocks = 1;
        c.num_layers = 2;
        c.filters = 4;
        c.last_filters = 4;
    }
    form.settings.epochs = epochs;
    form.settings.patience = epochs;
    form.settings.batch_movies = 2;
    form.test_movies = 1;
    *h.state_mut().training_form_mut() = form;
    h.step();
    h
}

#[test]
fn training_adds_a_source_with_curves_and_a_comparison_row() {
    let tmp = tempfile::tempdir().unwrap();
    let choice = Arc::new(Mutex::new(None));
    let mut h = opened(tmp.path(), choice.clone(), 2);
    h.get_by_label("Train").click();
    settle_within(&mut h, Duration::from_secs(120));

    let state = &h.state().state;
    let run = &state.training.run;
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.stop, Some(StopReason::Completed));
    assert_eq!(run.records.len(), 2);
    assert_eq!(run.steps_done(), 2 * run.steps_per_epoch);
    assert!(!run.step_loss.is_empty() && run.step_loss.iter().all(|p| p[1].is_finite()));
    // 6 movies, 1 test: 5 left, of which one validates (as `scenelab train` splits).
    assert_eq!(run.split, (4, 1, 1));
    assert_eq!(run.validation_map().len(), 2);

    let i = state
        .sources
        .position("wavenet #1")
        .expect("a source for the model");
    assert_eq!(state.sources.selected, i);
    let source = state.sources.get(i).unwrap();
    for m in state.movies() {
        assert_eq!(source.scores[&m.imdb_id].len(), m.n_shots - 1);
    }
    // The decision was tuned on the validation movie (threshold only, for Miou, by default),
    // stored in the model and applied to the source.
    let d = source.decision.expect("a tuned decision");
    assert!(d.applied);
    assert_eq!(d.tuned, Some(d.decision));
    assert_eq!((d.decision.nms_window, d.decision.min_scene_len), (0, 1));
    assert_eq!(d.decision.objective, Objective::Miou);
    let model = state.training.last_model.as_ref().unwrap();
    assert_eq!(model.meta.decision, Some(d.decision));
    assert_eq!(state.threshold, d.decision.threshold);
    let table = state
        .current_comparison()
        .expect("a comparison at the threshold");
    assert_eq!(table.rows.len(), state.sources.len());
    let row = table.rows.iter().find(|r| r.name == "wavenet #1").unwrap();
    let metrics = row.result.as_ref().unwrap();
    assert!((0.0..=1.0).contains(&metrics.map));
    // Every source on the model's held-out test movie (see app_splits.rs).
    assert_eq!((table.movies, row.scored), (1, 1));
    // In the timeline legend and the comparison table.
    assert!(h.query_all_by_label("wavenet #1").count() >= 2);
}

#[test]
fn cancel_stops_the_run_early() {
    let tmp = tempfile::tempdir().unwrap();
    let choice = Arc::new(Mutex::new(None));
    let mut h = opened(tmp.path(), choice, 500);
    h.get_by_label("Train").click();
    wait_until(&mut h, Duration::from_secs(60), "no step reported", |app| {
        app.training_run().steps_done() > 0
    });
    h.get_by_label("Cancel").click();
    settle_within(&mut h, Duration::from_secs(60));
    let t = &h.state().state.training;
    assert!(!t.is_running());
    assert!(t.run.records.len() < 500);
    // Cancelling is no error.
    assert_no_errors(&h);
    // Cancelled in the first epoch there is no model; later the best epoch so far is kept.
    match t.run.stop {
        Some(StopReason::Cancelled) => {
            assert!(h.state().source_index("wavenet #1").is_some())
        }
        other => {
            let err = t.run.error.as_deref().unwrap_or_default();
            assert!(err.contains("cancelled"), "stop {other:?}, error {err:?}");
        }
    }
}

#[test]
fn saved_model_loads_back_and_exports_predictions() {
    let tmp = tempfile::tempdir().unwrap();
    let choice = Arc::new(Mutex::new(None));
    let mut h = opened(tmp.path(), choice.clone(), 1);
    h.get_by_label("Train").click();
    settle_within(&mut h, Duration::from_secs(120));
    // Change the trained source's decision: Save model stores it as the user left it.
    let trained_i = h.state().source_index("wavenet #1").unwrap();
    let mut edited = h
        .state()
        .state
        .sources
        .get(trained_i)
        .unwrap()
        .decision
        .unwrap();
    edited.decision.nms_window = 1;
    h.state_mut()
        .queue(Action::SetDecision(trained_i, Some(edited)));
    settle_within(&mut h, Duration::from_secs(60));

    let model_dir = tmp.path().join("model");
    *choice.lock().unwrap() = Some(model_dir.clone());
    h.get_by_label("Save model…").click();
    settle_within(&mut h, Duration::from_secs(60));
    assert!(model_dir.join("config.json").is_file());

    h.get_by_label("Load model…").click();
    settle_within(&mut h, Duration::from_secs(60));
    let state = &h.state().state;
    assert_no_errors(&h);
    let trained = state
        .sources
        .get(state.sources.position("wavenet #1").unwrap())
        .unwrap();
    let loaded_i = state
        .sources
        .position("wavenet (model)")
        .expect("a source for the loaded model");
    let loaded = state.sources.get(loaded_i).unwrap();
    for m in state.movies() {
        let (a, b) = (&trained.scores[&m.imdb_id], &loaded.scores[&m.imdb_id]);
        assert!(
            a.values()
                .iter()
                .zip(b.values())
                .all(|(x, y)| (x - y).abs() < 1e-5)
        );
    }
    assert!(h.query_all_by_label("wavenet (model)").count() >= 1);
    // The decision came back with the model, and Export writes scores through it (as
    // `scenelab predict` does).
    let loaded_decision = loaded.decision.unwrap();
    assert_eq!(loaded_decision.decision, edited.decision);
    assert_eq!(loaded_decision.tuned, Some(edited.decision));
    assert_eq!(trained.decision, Some(edited));
    assert!(loaded.applied_decision().is_some());
    let expected = scenelab::app::metrics::decision_box::scores_to_write(loaded);

    // Export the selected (loaded) source.
    let out = tmp.path().join("scored");
    *choice.lock().unwrap() = Some(out.clone());
    h.get_by_label("Export predictions…").click();
    settle_within(&mut h, Duration::from_secs(60));
    let source_files = Dataset::movie_files(&tmp.path().join("movies")).unwrap();
    let written = Dataset::movie_files(&out).unwrap();
    assert_eq!(written.len(), source_files.len());
    for f in &source_files {
        let original = read_record_file(f).unwrap();
        let scored = read_record_file(&out.join(f.file_name().unwrap())).unwrap();
        assert_eq!(original.len(), scored.len());
        let id = match &original.iter().find(|(k, _)| k == "imdb_id").unwrap().1 {
            Field::Str(s) => s.clone(),
            other => panic!("imdb_id is {other:?}"),
        };
        for ((k0, v0), (k1, v1)) in original.iter().zip(&scored) {
            assert_eq!(k0, k1);
            if k0 == FIELD_PREDICTION {
                let Field::Array(a) = v1 else {
                    panic!("prediction is not an array")
                };
                assert_eq!(a.data, ArrayData::F32(expected[&id].to_f32_vec()));
            } else {
                assert_eq!(v0, v1, "field {k0} changed");
            }
        }
    }

    // The movies' own folder is refused.
    *choice.lock().unwrap() = Some(tmp.path().join("movies"));
    h.get_by_label("Export predictions…").click();
    settle_within(&mut h, Duration::from_secs(60));
    assert!(
        h.state()
            .state
            .errors
            .iter()
            .any(|e| e.contains("folder the movies came from")),
        "{:?}",
        h.state().errors()
    );
}

#[test]
fn test_movies_follow_the_folder_size_unless_the_user_set_them() {
    let tmp = tempfile::tempdir().unwrap();
    let mut app = App::new(options(tmp.path(), Arc::new(Mutex::new(None))));
    assert_eq!(app.training_form().test_movies, 7);
    let open = |h: &mut Harness<'_, App>, name: &str, movies: usize| {
        let dir = tmp.path().join(name);
        let config = DemoConfig {
            movies,
            ..tiny_demo()
        };
        write_demo(&dir, &config, &|_, _| {}).unwrap();
        h.state_mut().queue(Action::OpenFolder(dir));
        settle_within(h, Duration::from_secs(60));
        assert_eq!(h.state().movies().len(), movies);
    };
    app.search_form_mut().test_movies = 7;
    let mut h = harness(app);
    let test_movies = |h: &Harness<'_, App>| {
        let app = h.state();
        (
            app.training_form().test_movies,
            app.search_form().test_movies,
        )
    };
    // 7 of the challenge's 64 movies, rounded up: 2 of 12, 3 of 20.
    open(&mut h, "twelve", 12);
    assert_eq!(test_movies(&h), (2, 2));
    open(&mut h, "twenty", 20);
    assert_eq!(test_movies(&h), (3, 3));
    // Typed into the Train window's field, as a user would.
    h.get_by_label("Train…").click();
    h.run();
    h.get_by_role_and_label(Role::SpinButton, "Test movies")
        .set_value_accesskit(5.0);
    h.step();
    h.step();
    assert_eq!(test_movies(&h).0, 5);
    open(&mut h, "twelve_again", 12);
    assert_eq!(test_movies(&h), (5, 2), "a number the user set is kept");
}

/// The app on tiny demo movies with `weights` loaded through Load PyTorch weights… (the
/// picker answers with the file); the temporary folder lives as long as the first value.
fn load_weights_in_app(weights: &Path) -> (tempfile::TempDir, Harness<'static, App>) {
    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    write_demo(&movies, &tiny_demo(), &|_, _| {}).unwrap();
    let choice = Arc::new(Mutex::new(Some(weights.to_path_buf())));
    let mut app = App::new(options(tmp.path(), choice));
    app.queue(Action::OpenFolder(movies));
    let mut h = harness(app);
    settle_within(&mut h, Duration::from_secs(60));
    h.get_by_label("Load PyTorch weights…").click();
    settle_within(&mut h, Duration::from_secs(60));
    assert_no_errors(&h);
    (tmp, h)
}

/// Where the source called `name` is in the app's list; it must be there.
fn source_at(state: &scenelab::app::AppState, name: &str) -> usize {
    state
        .sources
        .position(name)
        .unwrap_or_else(|| panic!("a source named {name}"))
}

#[test]
fn pytorch_weights_load_as_a_source() {
    // A BiLSTM twin's state dict saved with torch.save (tests/fixtures/torch).
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch/bilstm.pth");
    let (_tmp, h) = load_weights_in_app(&weights);
    let state = &h.state().state;
    let source = state
        .sources
        .get(source_at(state, "bilstm (bilstm.pth)"))
        .unwrap();
    let opened =
        scenelab::train::torch_checkpoint::open_model(&weights, None, &candle_core::Device::Cpu)
            .unwrap();
    let all: Vec<&scenelab::data::Movie> = state.movies().iter().collect();
    let want = opened.model.predict(&all).unwrap();
    for (m, w) in all.iter().zip(want) {
        let got = source.scores[&m.imdb_id].values();
        assert_eq!(got.len(), w.len());
        assert!(
            got.iter()
                .zip(&w)
                .all(|(a, b)| (a - f64::from(*b)).abs() < 1e-6)
        );
    }
}

#[test]
fn a_sceneseg_checkpoint_loads_as_a_source_with_sceneseg_scores() {
    // LGSS saved as the MovieScenes code saves it, at SceneSeg's input widths
    // (tests/fixtures/sceneseg/make_fixture.py --wide).
    let weights = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sceneseg/wide/model_best.pth.tar");
    let (_tmp, h) = load_weights_in_app(&weights);
    let state = &h.state().state;
    let source = state
        .sources
        .get(source_at(state, "lgss (model_best.pth.tar)"))
        .unwrap();
    // The scores SceneSeg's windowing gives (checked against PyTorch in tests/sceneseg_lgss.rs).
    let tensors = scenelab::model::torch_io::read_weights(&weights)
        .unwrap()
        .tensors;
    let sceneseg = scenelab::model::sceneseg::SceneSegLgss::from_state_dict(
        &tensors,
        &scenelab::model::sceneseg::SceneSegSettings::default(),
    )
    .unwrap();
    for m in state.movies() {
        let want = sceneseg.score_movie(m).unwrap().scores;
        let got = source.scores[&m.imdb_id].values();
        assert_eq!(got.len(), want.len(), "{}", m.imdb_id);
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - f64::from(*b)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "{}: off by {worst}", m.imdb_id);
        assert!(
            want.iter().any(|&p| (p - want[0]).abs() > 1e-3),
            "the scores vary along the movie"
        );
    }
}
