//! Unit tests of the search window's form, run state and jobs.

use std::path::PathBuf;

use super::results::{SavedSearch, read_saved_search};
use super::*;
use crate::model::ModelKind;
use crate::train::decision::{self, Objective};
use crate::train::search::{
    self, FinalResult, FoldRecord, SearchEvent, SearchOutcome, TrialRecord,
};
use crate::train::{TrainEvent, TrainSettings, space};

fn record(trial: usize, map_mean: f64) -> TrialRecord {
    let config = space::trial_config(ModelKind::Wavenet, 0, trial, &TrainSettings::default());
    TrialRecord {
        trial,
        model: config.model,
        settings: config.settings,
        folds: Vec::new(),
        map_mean,
        map_std: 0.01,
        miou_mean: map_mean / 2.0,
        miou_std: 0.02,
        seconds: 1.0,
    }
}

fn fold(fold: usize) -> FoldRecord {
    FoldRecord {
        fold,
        validation_ids: vec![format!("tt{fold}")],
        map: 0.3,
        miou: 0.4,
        epochs_run: 2,
        best_epoch: Some(2),
        seconds: 1.0,
    }
}

fn header(objective: Objective, peak_picking: bool) -> search::SearchHeader {
    search::SearchHeader {
        format: search::FORMAT.into(),
        version: search::SEARCH_VERSION,
        kind: ModelKind::Wavenet,
        seed: 4,
        folds: 2,
        settings: TrainSettings::for_kind(ModelKind::Wavenet),
        test_ids: vec!["tt9".into()],
        train_ids: vec!["tt1".into(), "tt2".into()],
        objective,
        grid: decision::grid_for(peak_picking),
    }
}

/// A search folder holding trials 0 (mAP 0.2) and 1 (0.5), and a final fit of `summary_trial`.
fn saved_folder(summary_trial: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    fn json(v: &impl serde::Serialize) -> String {
        serde_json::to_string(v).unwrap()
    }
    std::fs::write(
        out.join(search::HEADER_FILE),
        json(&header(Objective::Miou, true)),
    )
    .unwrap();
    let lines: String = [record(0, 0.2), record(1, 0.5)]
        .iter()
        .map(|r| json(r) + "\n")
        .collect();
    std::fs::write(out.join(search::TRIALS_FILE), lines).unwrap();
    let best = out.join(search::BEST_DIR);
    std::fs::create_dir_all(&best).unwrap();
    std::fs::write(best.join(crate::train::checkpoint::CONFIG_FILE), "{}").unwrap();
    std::fs::write(best.join(crate::train::checkpoint::WEIGHTS_FILE), "").unwrap();
    let summary = FinalResult {
        trial: summary_trial,
        model_dir: PathBuf::from("elsewhere/best"),
        decision: decision::TunedDecision {
            decision: decision::Decision::default(),
            value: f64::NAN,
            reference_value: f64::NAN,
            evaluated: 1,
        },
        grid: decision::grid_for(true),
        test_ids: vec!["tt9".into()],
        test: None,
    };
    std::fs::write(out.join(search::SUMMARY_FILE), json(&summary)).unwrap();
    tmp
}

#[test]
fn a_saved_final_fit_is_the_best_model_only_while_its_trial_is_best() {
    let current = saved_folder(1);
    let saved = read_saved_search(current.path()).unwrap();
    assert_eq!(saved.summary_error, None);
    let f = saved
        .final_result
        .as_ref()
        .expect("the final fit of the best trial");
    // NaN scores (an F1 objective with no value) read back; the model is the folder's.
    assert!(f.decision.value.is_nan());
    assert_eq!(f.model_dir, current.path().join(search::BEST_DIR));
    let run = SearchRun::from_saved(saved);
    assert_eq!(
        (run.final_result.map(|f| f.trial), run.stale_final),
        (Some(1), None)
    );

    // Trials were added after the final fit and one of them is better.
    let stale = saved_folder(0);
    let saved = read_saved_search(stale.path()).unwrap();
    assert!(saved.final_result.is_none());
    assert_eq!(saved.stale_final, Some(0));
    let state = SearchState {
        run: SearchRun::from_saved(saved),
        ..SearchState::default()
    };
    assert_eq!(state.run.rows[0].record.trial, 1);
    // Load best model has nothing to load.
    assert!(state.best_source_name().is_none());
}

#[test]
fn an_unreadable_summary_is_reported_and_the_trials_still_shown() {
    let tmp = saved_folder(1);
    std::fs::write(tmp.path().join(search::SUMMARY_FILE), "{\"trial\": 1,").unwrap();
    let saved = read_saved_search(tmp.path()).unwrap();
    let e = saved.summary_error.as_deref().expect("an error");
    assert!(e.contains(search::SUMMARY_FILE), "{e}");
    assert!(saved.final_result.is_none());
    assert_eq!(saved.trials.len(), 2);
}

#[test]
fn a_folder_of_another_version_says_to_choose_another() {
    let tmp = saved_folder(1);
    let mut h = header(Objective::Miou, true);
    h.version = 0;
    let mut value = serde_json::to_value(&h).unwrap();
    value.as_object_mut().unwrap().remove("version");
    std::fs::write(tmp.path().join(search::HEADER_FILE), value.to_string()).unwrap();
    let e = read_saved_search(tmp.path()).unwrap_err();
    assert!(
        e.contains("another SceneLab version") && e.contains("another output folder"),
        "{e}"
    );
}

#[test]
fn open_results_takes_the_objective_and_grid_of_the_search() {
    for (objective, peak_picking) in [(Objective::F1, false), (Objective::Miou, true)] {
        let saved = SavedSearch {
            out_dir: PathBuf::from("runs/x"),
            header: header(objective, peak_picking),
            trials: vec![record(0, 0.2)],
            final_result: None,
            stale_final: None,
            summary_error: None,
        };
        let mut form = SearchForm {
            objective: Objective::Miou,
            peak_picking: !peak_picking,
            ..SearchForm::default()
        };
        form.take_saved(&saved);
        assert_eq!(
            (form.objective, form.peak_picking),
            (objective, peak_picking)
        );
        let config = form.config();
        assert_eq!(
            (config.objective, &config.grid),
            (objective, &saved.header.grid)
        );
    }
}

#[test]
fn a_folder_without_a_search_says_what_to_choose() {
    let tmp = tempfile::tempdir().unwrap();
    let e = read_saved_search(tmp.path()).unwrap_err();
    assert!(e.contains(search::HEADER_FILE), "{e}");
}

#[test]
fn another_kind_takes_its_defaults_unless_the_user_changed_them() {
    let mut f = SearchForm::default();
    f.set_kind(ModelKind::Lgss);
    assert_eq!(f.epochs, ModelKind::Lgss.default_epochs());
    assert_eq!(f.out_dir, "runs/search-lgss");
    f.epochs = 2;
    f.out_dir = "mine".into();
    f.set_kind(ModelKind::Wavenet);
    assert_eq!((f.epochs, f.out_dir.as_str()), (2, "mine"));
}

#[test]
fn the_config_is_what_the_form_says() {
    let mut f = SearchForm::default();
    f.set_kind(ModelKind::Bilstm);
    f.trials = 5;
    f.folds = 4;
    f.epochs = 3;
    f.patience = 2;
    f.seed = 9;
    f.test_movies = 1;
    f.objective = Objective::F1;
    f.out_dir = " runs/x ".into();
    let c = f.config();
    assert_eq!(
        (c.kind, c.trials, c.folds, c.seed),
        (ModelKind::Bilstm, 5, 4, 9)
    );
    assert_eq!((c.test_movies, c.objective), (1, Objective::F1));
    assert_eq!((c.settings.epochs, c.settings.patience), (3, 2));
    assert_eq!(c.out_dir, PathBuf::from("runs/x"));
    assert_eq!(c.grid, crate::train::decision::DecisionGrid::default());
    f.peak_picking = false;
    assert_eq!(
        f.config().grid,
        crate::train::decision::DecisionGrid::thresholds_only()
    );
}

#[test]
fn events_build_the_progress_table_and_chart() {
    let mut run = SearchRun::default();
    run.apply(&SearchEvent::Started {
        trials: 3,
        resumed: vec![record(0, 0.2)],
        folds: 2,
        train_movies: 6,
        test_movies: 2,
        runs: 5,
    });
    assert_eq!(run.fraction(), Some(0.0));
    assert_eq!(run.eta_seconds(), None);

    let r1 = record(1, 0.5);
    run.apply(&SearchEvent::TrialStarted {
        trial: 1,
        config: r1.config(),
    });
    run.apply(&SearchEvent::Train {
        trial: Some(1),
        fold: Some(0),
        event: TrainEvent::Started {
            train_movies: 3,
            validation_movies: 1,
            test_movies: 2,
            epochs: 2,
            steps_per_epoch: 2,
            pos_weight: 3.0,
            feature_dims: Default::default(),
        },
    });
    run.apply(&SearchEvent::Train {
        trial: Some(1),
        fold: Some(0),
        event: TrainEvent::Step {
            epoch: 1,
            step: 2,
            steps_per_epoch: 2,
            loss: 0.5,
            learning_rate: 1e-3,
        },
    });
    // Both steps of the first of two epochs: half of the first of five runs.
    assert_eq!(run.fraction(), Some(0.1));
    run.apply(&SearchEvent::FoldFinished {
        trial: 1,
        record: fold(0),
        eta_seconds: 40.0,
    });
    assert_eq!(run.runs_done, 1);
    assert_eq!(run.current.as_ref().unwrap().folds.len(), 1);
    let eta = run.eta_seconds().unwrap();
    assert!(eta > 39.0 && eta <= 40.0, "{eta}");

    run.apply(&SearchEvent::FoldFinished {
        trial: 1,
        record: fold(1),
        eta_seconds: f64::NAN,
    });
    run.apply(&SearchEvent::TrialFinished {
        record: r1,
        eta_seconds: 10.0,
    });
    assert!(run.current.is_none());
    let order: Vec<(usize, bool)> = run
        .rows
        .iter()
        .map(|r| (r.record.trial, r.resumed))
        .collect();
    assert_eq!(order, vec![(1, false), (0, true)]);
    assert!(run.rows[0].params.iter().any(|(n, _)| n == "num_blocks"));

    run.apply(&SearchEvent::TrialStarted {
        trial: 2,
        config: record(2, 0.0).config(),
    });
    run.apply(&SearchEvent::TrialFinished {
        record: record(2, 0.3),
        eta_seconds: 5.0,
    });
    let chart = run.chart();
    assert_eq!(chart.map, vec![[0.0, 0.2], [1.0, 0.5], [2.0, 0.3]]);
    assert_eq!(chart.miou, vec![[0.0, 0.1], [1.0, 0.25], [2.0, 0.15]]);
    assert_eq!(chart.best_so_far, vec![[0.0, 0.2], [1.0, 0.5], [2.0, 0.5]]);

    run.apply(&SearchEvent::Finished { cancelled: true });
    assert!(run.cancelled);
    assert_eq!(run.eta_seconds(), None);
}

#[test]
fn the_outcome_replaces_the_live_rows_and_keeps_which_were_resumed() {
    let mut run = SearchRun::default();
    run.add_resumed(vec![record(0, 0.2)]);
    let outcome = SearchOutcome {
        split: crate::data::Split {
            train: Vec::new(),
            validation: Vec::new(),
            test: Vec::new(),
        },
        trials: vec![record(1, 0.4), record(0, 0.2)],
        resumed: 1,
        ran: 1,
        cancelled: false,
        final_result: None,
        final_reused: false,
    };
    run.finish(&Ok(outcome));
    assert!(run.ended && !run.cancelled);
    let order: Vec<(usize, bool)> = run
        .rows
        .iter()
        .map(|r| (r.record.trial, r.resumed))
        .collect();
    assert_eq!(order, vec![(1, false), (0, true)]);
    run.finish(&Err("disk full".into()));
    assert_eq!(run.error.as_deref(), Some("disk full"));
}
