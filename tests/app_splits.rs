//! The app knows splits: after Train, the movie list shows each movie's role in the model's
//! split, and the metrics default to the model's test movies, equal to what `scenelab
//! evaluate` prints for a folder holding only those movies with the model's predictions
//! (written by the app's Export, and by `scenelab predict` with the saved model). Switching
//! to all movies changes them, the comparison table follows, and a movie the model trained on
//! is marked where its own numbers show.

mod app_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_support::{assert_label, assert_no_errors, harness, picker_answering, settle_within};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::metrics::{TRAINED_MARK, format_metric};
use scenelab::app::scope::{Role, Scope};
use scenelab::app::training::TrainingForm;
use scenelab::app::{Action, App, AppOptions};
use scenelab::data::Split;
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::eval::Metrics;
use scenelab::model::{ModelConfig, ModelKind};

fn demo() -> DemoConfig {
    DemoConfig {
        movies: 12,
        seed: 4,
        min_shots: 60,
        max_shots: 120,
    }
}

fn options(tmp: &Path, choice: Arc<Mutex<Option<PathBuf>>>) -> AppOptions {
    AppOptions {
        picker: picker_answering(choice),
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: demo(),
    }
}

fn settle(h: &mut Harness<'_, App>) {
    settle_within(h, Duration::from_secs(300));
}

/// Run the `scenelab` binary, failing with its stderr.
fn scenelab(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .output()
        .expect("run scenelab");
    assert!(
        out.status.success(),
        "scenelab {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `scenelab evaluate DIR --json`.
fn evaluate_cli(dir: &Path) -> serde_json::Value {
    let stdout = scenelab(&["evaluate", dir.to_str().unwrap(), "--json"]);
    serde_json::from_slice(&stdout).expect("--json prints one JSON object")
}

/// `v` as the JSON parser reads it back from its shortest text (`None`: NaN, written null), so
/// two equal f64 compare equal however the parser rounds.
fn via_json(v: f64) -> Option<f64> {
    serde_json::from_str::<serde_json::Value>(&serde_json::to_string(&v).unwrap())
        .unwrap()
        .as_f64()
}

/// The app's totals and per-movie scores equal `evaluate`'s JSON, to the last bit.
fn assert_equals_cli(shown: &Metrics, cli: &serde_json::Value) {
    let totals = [
        ("AP", shown.ap),
        ("mAP", shown.map),
        ("Miou", shown.miou),
        ("Precision", shown.precision),
        ("Recall", shown.recall),
        ("F1", shown.f1),
    ];
    for (key, v) in totals {
        assert_eq!(cli[key].as_f64(), via_json(v), "{key}: {cli}");
    }
    let per_movie = cli["per_movie"].as_object().unwrap();
    assert_eq!(per_movie.len(), shown.per_movie.len(), "{cli}");
    for m in &shown.per_movie {
        let got = &per_movie[&m.imdb_id];
        for (key, v) in [("AP", m.ap), ("Miou", m.miou), ("F1", m.f1)] {
            assert_eq!(got[key].as_f64(), via_json(v), "{} {key}", m.imdb_id);
        }
    }
}

/// A folder holding copies of `ids`' files from `from`.
fn only(from: &Path, ids: &[String], to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for id in ids {
        let name = format!("{id}.pkl");
        std::fs::copy(from.join(&name), to.join(&name)).unwrap();
    }
    to.to_path_buf()
}

#[test]
fn metrics_default_to_the_test_movies_and_equal_evaluate_on_them() {
    let tmp = tempfile::tempdir().unwrap();
    let movies_dir = tmp.path().join("movies");
    write_demo(&movies_dir, &demo(), &|_, _| {}).unwrap();
    let choice = Arc::new(Mutex::new(None));
    let mut app = App::new(options(tmp.path(), choice.clone()));
    app.queue(Action::OpenFolder(movies_dir.clone()));
    let mut h = harness(app);
    settle(&mut h);
    // The file's predictions have no split: every movie is scored, no roles.
    assert_eq!(h.state().scope(), Scope::All);
    assert!(h.state().state.role(0).is_none());
    assert_eq!(h.query_all_by_label("Role").count(), 0);

    // Train a tiny WaveNet; 7 of 64 rounded up holds 2 of the 12 movies out for the test.
    h.get_by_label("Train…").click();
    h.run();
    let mut form = TrainingForm::for_kind(ModelKind::Wavenet);
    if let ModelConfig::Wavenet(c) = &mut form.model {
        c.num_blocks = 1;
        c.num_layers = 2;
        c.filters = 4;
        c.last_filters = 4;
    }
    form.settings.epochs = 2;
    form.settings.patience = 2;
    form.settings.batch_movies = 2;
    form.test_movies = h.state().training_form().test_movies;
    assert_eq!(form.test_movies, 2);
    h.state_mut().train_with(form);
    settle(&mut h);
    h.state_mut().queue(Action::ShowTraining(false));
    settle(&mut h);

    let state = &h.state().state;
    assert_no_errors(&h);
    let model = state.training.last_model.clone().expect("a trained model");
    let split: Split = model.meta.split.clone();
    assert_eq!(
        (split.train.len(), split.validation.len(), split.test.len()),
        (9, 1, 2)
    );
    let source = state.sources.selected_source().unwrap();
    assert_eq!(source.name, "wavenet #1");
    assert_eq!(source.split.as_ref().unwrap().split, split);

    // Each movie's role, in the state and in the list.
    let role_of = |id: &String| {
        if split.train.contains(id) {
            Role::Train
        } else if split.validation.contains(id) {
            Role::Validation
        } else {
            assert!(split.test.contains(id));
            Role::Test
        }
    };
    let movies = state.movies().to_vec();
    for (i, m) in movies.iter().enumerate() {
        assert_eq!(state.role(i), Some(role_of(&m.imdb_id)), "{}", m.imdb_id);
    }
    assert_label(&h, "Role");
    assert_eq!(h.query_all_by_label("test").count(), 2);
    assert_eq!(h.query_all_by_label("val").count(), 1);
    assert_eq!(h.query_all_by_label("train").count(), 9);

    // The metrics default to the test movies, with their count, labelled as held out.
    assert_eq!(state.scope(), Scope::Test);
    assert_eq!(state.scope_count(Scope::Test), 2);
    assert_label(&h, "Test movies (2)");
    assert_label(&h, "Validation movies (1)");
    assert_label(&h, "All movies (12)");
    assert_label(&h, "Test movies (2), held out");
    let test_metrics = state.shown_metrics().expect("metrics").clone();
    let mut test_ids = split.test.clone();
    test_ids.sort();
    let shown_ids: Vec<&str> = test_metrics
        .per_movie
        .iter()
        .map(|m| m.imdb_id.as_str())
        .collect();
    assert_eq!(shown_ids, test_ids);
    for v in [test_metrics.map, test_metrics.miou, test_metrics.f1] {
        assert_label(&h, &format_metric(v));
    }
    // The curves are of the same movies.
    let sweep = state.sweep.as_ref().unwrap();
    assert_eq!(sweep.key.scope, Scope::Test);
    assert_eq!(sweep.scored.len(), 2);
    // Every source in the comparison is scored on the selected source's test movies.
    let table = state.current_comparison().expect("a comparison");
    assert_eq!(table.movies, 2);
    assert_eq!(table.rows.len(), 2);
    for row in &table.rows {
        assert_eq!(row.scored, 2, "{}", row.name);
        assert_eq!(row.trained_on, 0, "{}", row.name);
    }
    let trained_row = table.rows.iter().find(|r| r.name == "wavenet #1").unwrap();
    assert_eq!(
        format!("{:?}", trained_row.result.as_ref().unwrap().miou),
        format!("{:?}", test_metrics.miou)
    );

    // Equal to `scenelab evaluate` on a folder holding only the test movies with the model's
    // predictions: as the app exports them...
    let exported = tmp.path().join("exported");
    *choice.lock().unwrap() = Some(exported.clone());
    h.get_by_label("Export predictions…").click();
    settle(&mut h);
    let test_only = only(&exported, &split.test, &tmp.path().join("test_exported"));
    assert_equals_cli(&test_metrics, &evaluate_cli(&test_only));
    // ... and as `scenelab predict` writes them with the saved model.
    let model_dir = tmp.path().join("model");
    *choice.lock().unwrap() = Some(model_dir.clone());
    h.get_by_label("Save model…").click();
    settle(&mut h);
    let originals = only(&movies_dir, &split.test, &tmp.path().join("test_movies"));
    let predicted = tmp.path().join("test_predicted");
    scenelab(&[
        "predict",
        originals.to_str().unwrap(),
        "--model",
        model_dir.to_str().unwrap(),
        "--out",
        predicted.to_str().unwrap(),
    ]);
    assert_equals_cli(&test_metrics, &evaluate_cli(&predicted));

    // A training movie keeps its own numbers, marked, in the list and the metrics panel.
    let train_movie = movies
        .iter()
        .find(|m| split.train.contains(&m.imdb_id))
        .unwrap();
    assert!(h.state_mut().select_movie(&train_movie.imdb_id));
    settle(&mut h);
    let own = h
        .state()
        .state
        .selected_movie_metrics()
        .expect("a training movie's own numbers")
        .clone();
    assert_eq!(own.imdb_id, train_movie.imdb_id);
    assert_label(&h, &format!("{} {TRAINED_MARK}", train_movie.imdb_id));
    assert_label(&h, &format!("{} {TRAINED_MARK}", format_metric(own.ap)));
    assert!(
        h.query_all_by_label_contains("its numbers are in-sample")
            .count()
            >= 1
    );
    // The totals did not move: still the test movies.
    assert_eq!(
        format!("{:?}", h.state().shown_metrics().unwrap()),
        format!("{test_metrics:?}")
    );

    // All movies: other numbers, equal to `evaluate` on the whole exported folder, labelled
    // as including the training movies; the comparison follows.
    h.get_by_label("All movies (12)").click();
    settle(&mut h);
    let state = &h.state().state;
    assert_eq!(state.scope(), Scope::All);
    let all_metrics = state.shown_metrics().unwrap().clone();
    assert_ne!(format!("{all_metrics:?}"), format!("{test_metrics:?}"));
    assert_ne!(all_metrics.miou, test_metrics.miou);
    assert_eq!(all_metrics.per_movie.len(), 12);
    assert_equals_cli(&all_metrics, &evaluate_cli(&exported));
    assert_label(&h, &format!("All movies (12) {TRAINED_MARK}"));
    assert!(
        h.query_all_by_label_contains("includes 9 movies the model trained on")
            .count()
            >= 1
    );
    assert_label(&h, &format_metric(all_metrics.miou));
    // A movie's own numbers do not depend on the scope.
    assert_eq!(
        format!("{:?}", state.selected_movie_metrics().unwrap()),
        format!("{own:?}")
    );
    let table = state.current_comparison().expect("a comparison");
    assert_eq!(table.movies, 12);
    let trained_row = table.rows.iter().find(|r| r.name == "wavenet #1").unwrap();
    assert_eq!((trained_row.scored, trained_row.trained_on), (12, 9));
    assert_label(&h, &format!("wavenet #1 {TRAINED_MARK}"));
    let sweep = state.sweep.as_ref().unwrap();
    assert_eq!((sweep.key.scope, sweep.scored.len()), (Scope::All, 12));

    // The validation movie alone.
    h.get_by_label("Validation movies (1)").click();
    settle(&mut h);
    let state = &h.state().state;
    assert_eq!(state.scope(), Scope::Validation);
    let ids: Vec<&str> = state
        .shown_metrics()
        .unwrap()
        .per_movie
        .iter()
        .map(|m| m.imdb_id.as_str())
        .collect();
    assert_eq!(ids, [split.validation[0].as_str()]);

    // The file's own predictions: no split, no roles, every movie.
    let provided = state.sources.position("provided").unwrap();
    h.state_mut().queue(Action::SelectSource(provided));
    settle(&mut h);
    let state = &h.state().state;
    assert_eq!(state.scope(), Scope::All);
    assert_eq!(state.shown_metrics().unwrap().per_movie.len(), 12);
    assert_eq!(h.query_all_by_label("train").count(), 0);
    assert_eq!(h.query_all_by_label("Role").count(), 0);
    // Back to the model: the scope chosen for it is kept.
    let trained = state.sources.position("wavenet #1").unwrap();
    h.state_mut().queue(Action::SelectSource(trained));
    settle(&mut h);
    assert_eq!(h.state().scope(), Scope::Validation);
}
