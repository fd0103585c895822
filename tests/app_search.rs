//! Searching from the app on tiny demo movies: the Search window runs the search in the
//! background with a row per finished trial, Load best model adds the retrained best
//! configuration as a source, and Cancel then Start on the same folder resumes the finished
//! trials instead of training them again; Open results shows a folder's search without training.

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::picker::PickOutcome;
use scenelab::app::scope::Scope;
use scenelab::app::search::SearchForm;
use scenelab::app::{Action, App, AppOptions};
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::model::ModelKind;
use scenelab::train::search::{BEST_DIR, TABLE_CSV, read_trials};

use app_support::{assert_label, assert_no_errors, harness, settle_within, wait_until};

fn tiny_demo() -> DemoConfig {
    DemoConfig {
        movies: 6,
        seed: 1,
        min_shots: 60,
        max_shots: 120,
    }
}

fn options(tmp: &Path) -> AppOptions {
    AppOptions {
        picker: Arc::new(|_: Option<&Path>| PickOutcome::Cancelled),
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: tiny_demo(),
    }
}

/// The tiny movies written and opened, the Search window open with a tiny WaveNet search
/// writing into `out`.
fn opened(tmp: &Path, out: &Path, trials: usize) -> Harness<'static, App> {
    let movies = tmp.join("movies");
    write_demo(&movies, &tiny_demo(), &|_, _| {}).unwrap();
    let mut app = App::new(options(tmp));
    app.queue(Action::OpenFolder(movies));
    let mut h = harness(app);
    settle_within(&mut h, Duration::from_secs(60));
    assert_eq!(h.state().movies().len(), 6);
    h.get_by_label("Search…").click();
    // `run` also checks that every widget has an accessible name.
    h.run();
    assert!(h.state().state.search.open);
    *h.state_mut().search_form_mut() = tiny_form(out, trials);
    h.step();
    h
}

fn tiny_form(out: &Path, trials: usize) -> SearchForm {
    let mut form = SearchForm::default();
    form.set_kind(ModelKind::Wavenet);
    form.trials = trials;
    form.folds = 2;
    form.epochs = 1;
    form.patience = 1;
    form.seed = 3;
    form.test_movies = 1;
    form.out_dir = out.display().to_string();
    form
}

#[test]
fn a_search_fills_the_table_and_its_best_model_becomes_a_source() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs").join("search-wavenet");
    let mut h = opened(tmp.path(), &out, 2);
    h.get_by_label("Start").click();
    settle_within(&mut h, Duration::from_secs(300));

    let state = &h.state().state;
    assert_no_errors(&h);
    let run = &state.search.run;
    assert!(run.error.is_none(), "{:?}", run.error);
    assert!(!state.search.is_running() && run.ended && !run.cancelled);
    // 6 movies, 1 for the test, 5 in two folds: 2 trials × 2 folds + the final fit.
    assert_eq!((run.train_movies, run.test_movies), (5, 1));
    assert_eq!((run.runs_done, run.runs_total), (5, 5));
    assert_eq!(run.fraction(), Some(1.0));
    assert_eq!(run.rows.len(), 2);
    let mut trials: Vec<usize> = run.rows.iter().map(|r| r.record.trial).collect();
    assert!(run.rows[0].record.map_mean >= run.rows[1].record.map_mean);
    trials.sort();
    assert_eq!(trials, vec![0, 1]);
    for row in &run.rows {
        assert_eq!(row.record.folds.len(), 2);
        assert!((0.0..=1.0).contains(&row.record.map_mean));
        assert!(!row.resumed);
        // The sampled hyperparameters are in the row (blocks 2-3 for WaveNet).
        let blocks = &row
            .params
            .iter()
            .find(|(n, _)| n == "num_blocks")
            .unwrap()
            .1;
        assert!(["2", "3"].contains(&blocks.as_str()), "{blocks}");
    }
    // The same table as the CLI writes, in the chosen folder.
    assert!(out.join(TABLE_CSV).is_file());
    assert_eq!(read_trials(&out.join("trials.jsonl")).unwrap().len(), 2);
    // Two rows in the window, the best mAP so far drawn over both trials.
    assert_eq!(h.query_all_by_label("finished").count(), 2);
    assert_eq!(run.chart().map.len(), 2);
    assert_eq!(run.chart().best_so_far.len(), 2);

    let best = run.final_result.as_ref().expect("a final model");
    assert_eq!(best.model_dir, out.join(BEST_DIR));
    assert_eq!(best.trial, run.rows[0].record.trial);
    let name = state.search.best_source_name().unwrap();
    let test_ids = best.test_ids.clone();

    h.get_by_label("Load best model").click();
    settle_within(&mut h, Duration::from_secs(60));
    let state = &h.state().state;
    assert_no_errors(&h);
    assert_eq!(state.search.loaded.as_deref(), Some(name.as_str()));
    let i = state
        .sources
        .position(&name)
        .expect("a source for the best model");
    assert_eq!(state.sources.selected, i);
    let source = state.sources.get(i).unwrap();
    for m in state.movies() {
        assert_eq!(source.scores[&m.imdb_id].len(), m.n_shots - 1);
    }
    // It carries the search's split: the test movie the search held out is its test movie,
    // and the metrics and the comparison default to it.
    let split = &source.split.as_ref().expect("the best model's split").split;
    assert_eq!(split.test, test_ids);
    assert_eq!(split.train.len() + split.validation.len(), 5);
    assert_eq!(state.scope(), Scope::Test);
    assert_label(&h, "Test movies (1)");
    let table = state.current_comparison().expect("a comparison");
    let row = table.rows.iter().find(|r| r.name == name).unwrap();
    assert!(row.result.is_ok());
    assert_eq!((table.movies, row.scored, row.trained_on), (1, 1, 0));
    // On the timeline legend and in the comparison table.
    assert!(h.query_all_by_label(&name).count() >= 2);

    // The folder's results read back without training: the same table and best model.
    let expected: Vec<_> = run_rows(&h);
    let form = h.state().search_form().clone();
    let mut changed = form.clone();
    changed.set_kind(ModelKind::Lgss);
    (
        changed.folds,
        changed.epochs,
        changed.seed,
        changed.test_movies,
    ) = (5, 7, 8, 2);
    changed.out_dir = out.display().to_string();
    *h.state_mut().search_form_mut() = changed;
    h.get_by_label("Open results").click();
    settle_within(&mut h, Duration::from_secs(60));
    let state = &h.state().state;
    assert_no_errors(&h);
    let run = &state.search.run;
    let read = run_rows(&h);
    assert_eq!(read.len(), expected.len());
    for ((t0, m0), (t1, m1)) in read.iter().zip(&expected) {
        // JSON keeps the scores to the last bit or two.
        assert!(
            t0 == t1 && (m0 - m1).abs() < 1e-12,
            "{read:?} vs {expected:?}"
        );
    }
    assert!(run.rows.iter().all(|r| r.resumed));
    assert_eq!(run.kind, Some(ModelKind::Wavenet));
    assert_eq!(
        run.final_result.as_ref().map(|f| f.model_dir.clone()),
        Some(out.join(BEST_DIR))
    );
    assert_eq!(h.query_all_by_label("earlier run").count(), 2);
    // The form takes the search's settings back, so Start would resume it.
    assert_eq!(h.state().search_form(), &form);
}

/// `(trial, mean mAP)` of the table's rows, in order.
fn run_rows(h: &Harness<'_, App>) -> Vec<(usize, f64)> {
    h.state()
        .state
        .search
        .run
        .rows
        .iter()
        .map(|r| (r.record.trial, r.record.map_mean))
        .collect()
}

#[test]
fn cancel_keeps_finished_trials_and_start_resumes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out: PathBuf = tmp.path().join("resumable");
    let mut h = opened(tmp.path(), &out, 1000);
    h.get_by_label("Start").click();
    wait_until(
        &mut h,
        Duration::from_secs(300),
        "no trial finished",
        |app| !app.search_run().rows.is_empty(),
    );
    h.get_by_label("Cancel").click();
    settle_within(&mut h, Duration::from_secs(120));
    let state = &h.state().state;
    assert_no_errors(&h);
    let run = &state.search.run;
    assert!(run.cancelled && run.final_result.is_none());
    let kept = run.rows.len();
    assert!((1..1000).contains(&kept));
    assert_eq!(read_trials(&out.join("trials.jsonl")).unwrap().len(), kept);

    // Again with one more trial: the finished ones are read back, one is trained.
    let form = tiny_form(&out, kept + 1);
    *h.state_mut().search_form_mut() = form;
    h.step();
    h.get_by_label("Start").click();
    settle_within(&mut h, Duration::from_secs(300));
    let state = &h.state().state;
    assert_no_errors(&h);
    let run = &state.search.run;
    assert!(!run.cancelled);
    assert_eq!(run.rows.len(), kept + 1);
    assert_eq!(run.rows.iter().filter(|r| r.resumed).count(), kept);
    // One trial × 2 folds, then the final fit.
    assert_eq!(run.runs_total, 3);
    assert_eq!(h.query_all_by_label("earlier run").count(), kept);
    assert_eq!(h.query_all_by_label("finished").count(), 1);
    assert!(run.final_result.is_some());
}

#[test]
fn a_search_without_test_movies_has_a_best_model_and_a_rerun_keeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("no-test");
    let mut h = opened(tmp.path(), &out, 1);
    h.state_mut().search_form_mut().test_movies = 0;
    h.step();
    h.get_by_label("Start").click();
    settle_within(&mut h, Duration::from_secs(300));
    let state = &h.state().state;
    assert_no_errors(&h);
    let run = &state.search.run;
    assert!(run.error.is_none(), "{:?}", run.error);
    let best = run.final_result.as_ref().expect("a final model");
    assert!(best.test.is_none() && best.test_ids.is_empty());
    assert!(out.join(BEST_DIR).join("model.safetensors").is_file());
    h.get_by_label_contains("No test movies were held out");

    // Start again: everything is finished and the final fit is kept, not redone.
    h.get_by_label("Start").click();
    settle_within(&mut h, Duration::from_secs(300));
    let state = &h.state().state;
    assert_no_errors(&h);
    let run = &state.search.run;
    assert_eq!(run.runs_total, 0);
    assert!(run.final_reused && run.final_result.is_some());
    h.get_by_label_contains("by an earlier run");
}
