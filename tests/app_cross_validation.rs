//! Cross-validation from the app's Train window on tiny demo movies: the table shows what
//! `workflow::cross_validation` gives for the same folder, settings and seed (the model's row
//! and the provided prediction's), Save results writes the JSON `scenelab bench train --folds K
//! --json` writes, and Cancel stops a run without an error.

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_support::{
    assert_label, assert_no_errors, harness, picker_answering, settle_within, wait_until,
};
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::training::{CV_RESULTS_FILE, TrainingForm};
use scenelab::app::{Action, App, AppOptions};
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::model::{ModelConfig, ModelKind};
use scenelab::observer::Quiet;
use scenelab::workflow::cross_validation::{
    CrossValidationRequest, CrossValidationRow, FoldResult, cross_validate, provided_row,
    results_json,
};

fn tiny_demo() -> DemoConfig {
    DemoConfig {
        movies: 6,
        seed: 2,
        min_shots: 60,
        max_shots: 120,
    }
}

/// The tiny movies opened, the Train window open with a tiny WaveNet, Cross-validate chosen
/// with `folds` folds (typed in, as a user would).
fn opened(
    tmp: &Path,
    choice: Arc<Mutex<Option<PathBuf>>>,
    epochs: usize,
    folds: usize,
) -> Harness<'static, App> {
    let movies = tmp.join("movies");
    write_demo(&movies, &tiny_demo(), &|_, _| {}).unwrap();
    let mut app = App::new(AppOptions {
        picker: picker_answering(choice),
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: tiny_demo(),
    });
    app.queue(Action::OpenFolder(movies));
    let mut h = harness(app);
    settle_within(&mut h, Duration::from_secs(60));
    assert_eq!(h.state().movies().len(), 6);
    h.get_by_label("Train…").click();
    h.run();
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
    form.settings.seed = 5;
    *h.state_mut().training_form_mut() = form;
    h.run();
    h.get_by_label("Cross-validate").click();
    h.run();
    // 8 folds by default, clamped to the 6 movies.
    assert_eq!(h.state().training_form().folds_for(6), 6);
    h.get_by_role_and_label(Role::SpinButton, "Folds")
        .set_value_accesskit(folds as f64);
    h.run();
    let form = h.state().training_form();
    assert!(form.cross_validate);
    assert_eq!(form.folds, folds);
    h
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 || (a.is_nan() && b.is_nan())
}

/// The same folds with the same scores (the wall time aside).
fn assert_same_folds(app: &CrossValidationRow, direct: &CrossValidationRow) {
    assert_eq!(app.name, direct.name);
    assert_eq!(app.folds.len(), direct.folds.len(), "{}", app.name);
    let figures = FoldResult::figures;
    for (a, d) in app.folds.iter().zip(&direct.folds) {
        assert_eq!((a.fold, &a.split), (d.fold, &d.split));
        assert_eq!(a.decision, d.decision, "{} fold {}", app.name, a.fold);
        assert_eq!((a.epochs_run, a.best_epoch), (d.epochs_run, d.best_epoch));
        let (fa, fd) = (figures(a), figures(d));
        assert!(
            fa.iter().zip(&fd).all(|(x, y)| close(*x, *y)),
            "{} fold {}: app {fa:?}, workflow {fd:?}",
            app.name,
            a.fold
        );
    }
}

#[test]
fn cross_validation_shows_the_workflows_figures_and_saves_them() {
    let tmp = tempfile::tempdir().unwrap();
    let choice = Arc::new(Mutex::new(None));
    let mut h = opened(tmp.path(), choice.clone(), 1, 3);
    h.get_by_label("Run cross-validation").click();
    settle_within(&mut h, Duration::from_secs(180));
    assert_no_errors(&h);

    // The workflow run directly on the same movies with the same settings and seed.
    let movies = h.state().movies().to_vec();
    let form = h.state().training_form().clone();
    let request = CrossValidationRequest {
        config: form.config(),
        folds: 3,
        objective: form.objective,
        peak_picking: form.peak_picking,
    };
    let seed = form.settings.seed;
    let provided = provided_row(&movies, 3, seed, form.objective, form.peak_picking).unwrap();
    let model = cross_validate(
        &movies,
        &request,
        &candle_core::Device::Cpu,
        &Quiet,
        &mut |_| {},
    )
    .unwrap();

    let cv = h.state().cross_validation().expect("a cross-validation");
    assert!(cv.ended && !cv.cancelled && cv.error.is_none());
    let rows = cv.rows();
    assert_eq!(
        rows.len(),
        2,
        "the provided prediction's row and the model's"
    );
    assert_same_folds(&rows[0], &provided);
    assert_same_folds(&rows[1], &model);
    // No source: the folds' models are not kept.
    assert!(h.state().source_index("wavenet #1").is_none());

    // The table shows each row's mean ± std over the folds as the workflow summarises them.
    assert_label(&h, "Cross-validated, held-out test movies");
    for row in [&provided, &model] {
        assert_label(&h, &row.name);
        let m = row.summary();
        for s in [m.ap, m.map, m.miou, m.f1, m.decided_miou, m.decided_f1] {
            assert_label(&h, &s.to_string());
        }
    }
    // Each fold on demand.
    h.get_by_label("Per fold").click();
    h.run();
    for f in &model.folds {
        assert_label(&h, &format!("{:.4}", f.raw.map));
    }

    // Save results writes what `bench train --folds K --json` writes for these rows.
    let out = tmp.path().join("results");
    std::fs::create_dir(&out).unwrap();
    *choice.lock().unwrap() = Some(out.clone());
    h.get_by_label("Save results (JSON)…").scroll_to_me();
    h.run();
    h.get_by_label("Save results (JSON)…").click();
    settle_within(&mut h, Duration::from_secs(60));
    assert_no_errors(&h);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(CV_RESULTS_FILE)).unwrap()).unwrap();
    let app_rows = h.state().cross_validation().unwrap().rows();
    // Through the same text, so floats compare as the file holds them.
    let want = serde_json::to_string_pretty(&results_json(&app_rows)).unwrap();
    assert_eq!(
        saved,
        serde_json::from_str::<serde_json::Value>(&want).unwrap()
    );
    assert_eq!(saved[0]["row"]["name"], "provided");
    assert_eq!(saved[1]["row"]["name"], "wavenet");
    assert!(close(
        saved[1]["summary"]["map"]["mean"].as_f64().unwrap(),
        model.summary().map.mean
    ));
}

#[test]
fn cancel_stops_a_cross_validation_without_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h = opened(tmp.path(), Arc::new(Mutex::new(None)), 500, 2);
    h.get_by_label("Run cross-validation").click();
    wait_until(&mut h, Duration::from_secs(60), "no step reported", |app| {
        app.training_run().steps_done() > 0
    });
    h.get_by_label("Cancel").click();
    settle_within(&mut h, Duration::from_secs(60));
    assert_no_errors(&h);
    let t = &h.state().state.training;
    assert!(!t.is_running());
    let cv = t.cross_validation.as_ref().unwrap();
    // Cancelled in the first fold's training: that fold is dropped, none finished.
    assert!(cv.ended && cv.cancelled && cv.error.is_none());
    assert!(cv.model.folds.is_empty());
    assert_label(
        &h,
        "Cancelled after 0 of 2 folds: the table holds the finished folds",
    );
    // The provided prediction's row is still shown.
    assert_label(&h, "provided");
}
