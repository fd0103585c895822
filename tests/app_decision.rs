//! The decision step in the app: a model loaded from a checkpoint brings its decision, the
//! decision box changes it, and the timeline's predicted boundaries and the metrics follow,
//! the metrics being what `evaluate` gives on the decided scores (what `predict` writes).

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use app_support::{assert_label, assert_no_errors, picker_answering, settle};
use candle_core::Device;
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::metrics::format_metric;
use scenelab::app::scope::Scope;
use scenelab::app::{Action, App, AppOptions};
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::data::{Dataset, Movie, Split};
use scenelab::eval::{Metrics, MovieInput, evaluate};
use scenelab::model::{ModelConfig, ModelKind};
use scenelab::train::decision::{Decision, Objective};
use scenelab::train::{TrainConfig, TrainSettings, train};

fn tiny_demo() -> DemoConfig {
    DemoConfig {
        movies: 5,
        seed: 3,
        min_shots: 60,
        max_shots: 120,
    }
}

fn options(tmp: &Path, choice: Arc<Mutex<Option<PathBuf>>>) -> AppOptions {
    AppOptions {
        picker: picker_answering(choice),
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: tiny_demo(),
    }
}

/// Exact equality of metrics, NaN (the reference's F1 of a movie without a hit) included:
/// `Debug` writes every f64 so that it reads back to the same bits.
fn assert_same(shown: &Metrics, want: &Metrics) {
    assert_eq!(format!("{shown:?}"), format!("{want:?}"));
}

/// A tiny WaveNet trained on `movies` and saved to `dir` with `decision` in its config.json.
fn save_tiny_model(movies: &[Movie], dir: &Path, decision: Decision) {
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    let split = Split::by_count(&ids, 1, 1, 0).unwrap();
    let mut model = ModelKind::Wavenet.default_config();
    if let ModelConfig::Wavenet(c) = &mut model {
        c.num_blocks = 1;
        c.num_layers = 2;
        c.filters = 4;
        c.last_filters = 4;
    }
    let config = TrainConfig {
        model,
        settings: TrainSettings {
            epochs: 2,
            batch_movies: 2,
            seed: 1,
            ..TrainSettings::default()
        },
    };
    let mut trained = train(
        movies,
        &split,
        &config,
        &Device::Cpu,
        None,
        &AtomicBool::new(false),
    )
    .unwrap()
    .model;
    trained.meta.decision = Some(decision);
    trained.save(dir).unwrap();
}

/// `evaluate` of `scores` (by movie, in folder order) passed through `decision`, or raw at
/// `threshold` without one.
fn expected(
    movies: &[Movie],
    scores: &[Vec<f32>],
    decision: Option<&Decision>,
    threshold: f32,
) -> Metrics {
    let used: Vec<Vec<f32>> = scores
        .iter()
        .map(|s| decision.map_or_else(|| s.clone(), |d| d.apply(s)))
        .collect();
    let inputs: Vec<MovieInput> = movies
        .iter()
        .zip(&used)
        .map(|(m, s)| MovieInput::of(m, s.into()).unwrap())
        .collect();
    let at = if decision.is_some() { 0.5 } else { threshold };
    evaluate(&inputs, f64::from(at)).unwrap()
}

/// The `q` quantile of every score, rounded to 0.001 (what the decision box can hold).
fn quantile(scores: &[Vec<f32>], q: f64) -> f32 {
    let mut all: Vec<f32> = scores.iter().flatten().copied().collect();
    all.sort_by(f32::total_cmp);
    let v = all[((all.len() - 1) as f64 * q) as usize];
    (v * 1000.0).round() / 1000.0
}

#[test]
fn the_decision_box_moves_boundaries_and_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("movies");
    write_demo(&dir, &tiny_demo(), &|_, _| {}).unwrap();
    let movies = Dataset::load_dir(&dir, &|_| {}).unwrap().movies;
    let model_dir = tmp.path().join("model");
    let stored = Decision {
        threshold: 0.45,
        objective: Objective::Miou,
        ..Decision::default()
    };
    save_tiny_model(&movies, &model_dir, stored);

    let choice = Arc::new(Mutex::new(Some(model_dir.clone())));
    let mut app = App::new(options(tmp.path(), choice));
    app.queue(Action::OpenFolder(dir));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.ui_inner(ui), app);
    settle(&mut h);
    h.get_by_label("Load model…").click();
    settle(&mut h);

    // The loaded source is selected, with the checkpoint's decision applied and its split:
    // the metrics start on its one test movie.
    let state = &h.state().state;
    assert_no_errors(&h);
    let source = state.sources.selected_source().unwrap();
    assert_eq!(source.name, "wavenet (model)");
    let split = &source.split.as_ref().expect("the checkpoint's split").split;
    let ids: Vec<String> = state.movies().iter().map(|m| m.imdb_id.clone()).collect();
    assert_eq!(split, &Split::by_count(&ids, 1, 1, 0).unwrap());
    assert_eq!(state.scope(), Scope::Test);
    assert_eq!(
        state.shown_metrics().unwrap().per_movie[0].imdb_id,
        split.test[0]
    );
    // This test is about the decision: score every movie.
    h.get_by_label("All movies (5)").click();
    settle(&mut h);
    let state = &h.state().state;
    assert_eq!(state.scope(), Scope::All);
    let source = state.sources.selected_source().unwrap();
    assert_eq!(state.sources.selected_decision(), Some(&stored));
    assert_eq!(state.threshold, stored.threshold);
    let movies: Vec<Movie> = state.movies().to_vec();
    let scores: Vec<Vec<f32>> = movies
        .iter()
        .map(|m| source.scores[&m.imdb_id].to_f32_vec())
        .collect();
    let shown = |h: &Harness<'_, App>| {
        h.state()
            .state
            .current_metrics()
            .expect("metrics for the current decision")
            .result
            .clone()
            .unwrap()
    };
    assert_same(&shown(&h), &expected(&movies, &scores, Some(&stored), 0.5));

    // Change the threshold and the NMS window in the decision box.
    let threshold = quantile(&scores, 0.8);
    h.get_by_role_and_label(Role::SpinButton, "Decision threshold")
        .set_value_accesskit(f64::from(threshold));
    h.step();
    h.get_by_role_and_label(Role::SpinButton, "NMS window")
        .set_value_accesskit(2.0);
    settle(&mut h);
    let decision = Decision {
        threshold,
        nms_window: 2,
        ..stored
    };
    let state = &h.state().state;
    assert_eq!(state.sources.selected_decision(), Some(&decision));
    // One threshold on screen: the app's follows the decision's.
    assert_eq!(state.threshold, threshold);
    let want = expected(&movies, &scores, Some(&decision), 0.5);
    assert_ne!(
        format!("{want:?}"),
        format!("{:?}", expected(&movies, &scores, None, threshold)),
        "the minimum scene length must change something for this test to mean anything"
    );
    assert_same(&shown(&h), &want);
    assert_ne!(
        want.miou,
        expected(&movies, &scores, Some(&stored), 0.5).miou,
        "the change must matter for this test to mean anything"
    );
    assert_label(&h, &format_metric(want.miou));
    assert_label(&h, &format_metric(want.f1));
    // The timeline's predicted boundaries are the decision's.
    let sel = state.selected_movie.unwrap();
    let boundaries = decision.boundaries(&scores[sel]);
    let predicted: Vec<usize> = (0..boundaries.len()).filter(|&t| boundaries[t]).collect();
    assert_eq!(state.view.predicted, predicted);
    // The comparison row of the source is scored with its decision too.
    let row = state
        .current_comparison()
        .unwrap()
        .rows
        .iter()
        .find(|r| r.name == "wavenet (model)")
        .unwrap();
    assert_eq!(row.result.as_ref().unwrap().miou, want.miou);

    // The top-bar slider moves the decision's threshold while it is applied.
    let lower = quantile(&scores, 0.6);
    h.get_by_role_and_label(Role::Slider, "Threshold")
        .set_value_accesskit(f64::from(lower));
    settle(&mut h);
    let moved = Decision {
        threshold: lower,
        ..decision
    };
    assert_eq!(h.state().state.sources.selected_decision(), Some(&moved));
    assert_same(&shown(&h), &expected(&movies, &scores, Some(&moved), 0.5));

    // Off: raw scores at the threshold, as without a decision.
    h.get_by_role_and_label(Role::CheckBox, "Apply decision")
        .click();
    settle(&mut h);
    let state = &h.state().state;
    assert_eq!(state.sources.selected_decision(), None);
    let raw = expected(&movies, &scores, None, lower);
    assert_same(&shown(&h), &raw);
    assert_label(&h, &format_metric(raw.miou));
    let sel_scores = &scores[state.selected_movie.unwrap()];
    let at_threshold: Vec<usize> = (0..sel_scores.len())
        .filter(|&t| sel_scores[t] >= lower)
        .collect();
    assert_eq!(state.view.predicted, at_threshold);

    // Reset brings the stored decision back, applied or not.
    h.get_by_label("Reset").click();
    settle(&mut h);
    let d = h.state().state.sources.selected_source().unwrap().decision;
    assert_eq!(d.map(|d| d.decision), Some(stored));
}

#[test]
fn peak_picking_can_be_added_to_a_source_without_a_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("movies");
    write_demo(&dir, &tiny_demo(), &|_, _| {}).unwrap();
    let mut app = App::new(options(tmp.path(), Arc::new(Mutex::new(None))));
    app.queue(Action::OpenFolder(dir));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.ui_inner(ui), app);
    settle(&mut h);
    let state = &h.state().state;
    assert_eq!(state.sources.selected_source().unwrap().name, "provided");
    assert!(state.sources.selected_decision().is_none());
    let movies: Vec<Movie> = state.movies().to_vec();
    let scores: Vec<Vec<f32>> = movies
        .iter()
        .map(|m| m.prediction.as_ref().unwrap().to_f32_vec())
        .collect();
    let threshold = state.threshold;
    let before = h.state().state.current_metrics().unwrap().result.clone();
    assert_same(
        &before.unwrap(),
        &expected(&movies, &scores, None, threshold),
    );

    h.get_by_label("Add peak picking").click();
    settle(&mut h);
    h.get_by_role_and_label(Role::SpinButton, "Minimum scene length")
        .set_value_accesskit(4.0);
    settle(&mut h);
    let decision = Decision {
        threshold,
        nms_window: 2,
        min_scene_len: 4,
        ..Decision::default()
    };
    let state = &h.state().state;
    assert_eq!(state.sources.selected_decision(), Some(&decision));
    let want = expected(&movies, &scores, Some(&decision), 0.5);
    assert_ne!(
        format!("{want:?}"),
        format!("{:?}", expected(&movies, &scores, None, threshold)),
        "the minimum scene length must change something for this test to mean anything"
    );
    assert_same(
        state.current_metrics().unwrap().result.as_ref().unwrap(),
        &want,
    );
    assert_label(&h, &format_metric(want.miou));

    h.get_by_label("Remove").click();
    settle(&mut h);
    assert!(
        h.state()
            .state
            .sources
            .selected_source()
            .unwrap()
            .decision
            .is_none()
    );
}
