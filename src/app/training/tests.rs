//! Unit tests of the training window's form, run state and jobs.

use super::form::split_for;
use super::*;
use crate::data::validation_count;
use crate::data::{HeldOut, Split};
use crate::model::ModelKind;
use crate::train::ValidationScores;
use crate::train::{EpochRecord, StopReason, TestMetrics, TrainEvent};
use crate::workflow::cross_validation::{CrossValidationRow, FoldResult};

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("tt{i:07}")).collect()
}

#[test]
fn the_form_splits_by_the_policy_with_the_test_count_capped() {
    let ids = ids(20);
    let s = split_for(&ids, 7, 3).unwrap();
    assert_eq!(
        s,
        Split::by_count(&ids, validation_count(13), 7, 3).unwrap()
    );
    // Six movies cannot give seven to the test: two stay to train and validate.
    let few = split_for(&ids[..6], 7, 0).unwrap();
    assert_eq!(
        (few.train.len(), few.validation.len(), few.test.len()),
        (1, 1, 4)
    );
    // Said in the form's terms.
    let e = split_for(&ids[..1], 1, 0).unwrap_err();
    assert!(
        e.starts_with("1 usable movie(s); training needs at least 2"),
        "{e}"
    );
    assert_eq!(
        TrainingForm::default().request().held_out,
        HeldOut::AtMost(7)
    );
}

#[test]
fn another_kind_takes_its_defaults_but_keeps_the_split_and_seed() {
    let mut f = TrainingForm::for_kind(ModelKind::Default);
    f.settings.seed = 9;
    f.test_movies = 3;
    f.settings.epochs = 2;
    f.set_kind(ModelKind::Lgss);
    assert_eq!(f.model, ModelKind::Lgss.default_config());
    assert_eq!(f.settings.epochs, ModelKind::Lgss.default_epochs());
    assert_eq!(f.settings.learning_rate, Some(f.model.learning_rate()));
    assert_eq!((f.settings.seed, f.test_movies), (9, 3));
}

#[test]
fn events_build_the_progress_and_curves() {
    let mut run = TrainingRun::default();
    run.apply(&TrainEvent::Started {
        train_movies: 4,
        validation_movies: 1,
        test_movies: 1,
        epochs: 2,
        steps_per_epoch: 2,
        pos_weight: 3.0,
        feature_dims: Default::default(),
    });
    assert_eq!(run.fraction(), Some(0.0));
    for (epoch, step, loss) in [(1, 1, 0.9), (1, 2, 0.7), (2, 1, 0.5)] {
        run.apply(&TrainEvent::Step {
            epoch,
            step,
            steps_per_epoch: 2,
            loss,
            learning_rate: 1e-3,
        });
    }
    assert_eq!(run.step_loss, vec![[0.5, 0.9], [1.0, 0.7], [1.5, 0.5]]);
    assert_eq!(run.fraction(), Some(0.75));
    let validation = ValidationScores { map: 0.25, ap: 0.3 };
    run.apply(&TrainEvent::Epoch {
        record: EpochRecord {
            epoch: 1,
            train_loss: 0.8,
            validation_loss: Some(0.6),
            validation: Some(validation),
            learning_rate: 1e-3,
            seconds: 1.0,
            train_seconds: 0.9,
        },
        best_epoch: Some(1),
        eta_seconds: 1.5,
    });
    assert_eq!(run.epoch_loss(), vec![[1.0, 0.8]]);
    assert_eq!(run.validation_map(), vec![[1.0, 0.25]]);
    assert_eq!(run.eta_seconds, Some(1.5));
    run.apply(&TrainEvent::Finished {
        stop: StopReason::Cancelled,
        best_epoch: Some(1),
    });
    assert_eq!(run.stop, Some(StopReason::Cancelled));
    assert_eq!(run.eta_seconds, None);
}

fn fold(i: usize, map: f64, seconds: f64) -> FoldResult {
    let m = TestMetrics {
        ap: map,
        map,
        miou: 0.5,
        precision: 0.5,
        recall: 0.5,
        f1: 0.5,
    };
    FoldResult {
        fold: i,
        split: Split {
            train: ids(3),
            validation: Vec::new(),
            test: vec![format!("tt{i}")],
        },
        raw: m,
        decision: None,
        decided: m,
        epochs_run: Some(2),
        best_epoch: Some(1),
        seconds,
    }
}

#[test]
fn the_provided_row_keeps_the_models_finished_folds() {
    let mut cv = CrossValidationRun::starting("wavenet", 3, 0);
    assert!(cv.rows().is_empty());
    cv.provided = Some(Ok(CrossValidationRow {
        name: "provided".into(),
        folds: (0..3).map(|i| fold(i, 0.1 * i as f64, 0.0)).collect(),
    }));
    // Before a fold finishes the provided prediction shows over every fold.
    let rows = cv.rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].folds.len(), 3);
    cv.fold_finished(fold(0, 0.4, 10.0));
    cv.fold_finished(fold(1, 0.6, 20.0));
    let rows = cv.rows();
    assert_eq!(
        rows.iter()
            .map(|r| (r.name.as_str(), r.folds.len()))
            .collect::<Vec<_>>(),
        [("provided", 2), ("wavenet", 2)]
    );
    assert!((rows[0].summary().map.mean - 0.05).abs() < 1e-12);
    assert!((rows[1].summary().map.mean - 0.5).abs() < 1e-12);
}

#[test]
fn progress_and_eta_count_the_folds() {
    let mut cv = CrossValidationRun::starting("wavenet", 4, 0);
    let mut run = TrainingRun::default();
    run.apply(&TrainEvent::Started {
        train_movies: 4,
        validation_movies: 1,
        test_movies: 1,
        epochs: 2,
        steps_per_epoch: 1,
        pos_weight: 3.0,
        feature_dims: Default::default(),
    });
    run.apply(&TrainEvent::Step {
        epoch: 1,
        step: 1,
        steps_per_epoch: 1,
        loss: 0.5,
        learning_rate: 1e-3,
    });
    // Half of the first of four folds.
    assert_eq!(cv.fraction(&run), 0.125);
    let now = std::time::Instant::now();
    assert_eq!(cv.eta_seconds(&run, now), None);
    run.eta_seconds = Some(5.0);
    // Started 5 s ago with 5 s left: 10 s a fold, three more folds after this one.
    cv.fold_started = Some(now - std::time::Duration::from_secs(5));
    assert!((cv.eta_seconds(&run, now).unwrap() - 35.0).abs() < 1e-9);
    // Once folds finished, their mean time counts (8 s): 5 s + 2 × 8 s.
    cv.fold_finished(fold(0, 0.4, 8.0));
    assert!((cv.eta_seconds(&run, now).unwrap() - 21.0).abs() < 1e-9);
    assert_eq!(cv.fraction(&run), 0.375);
    cv.ended = true;
    assert_eq!(cv.eta_seconds(&run, now), None);
    assert_eq!(cv.fraction(&run), 0.25);
}

#[test]
fn folds_are_clamped_to_the_usable_movies() {
    let f = TrainingForm::default();
    assert_eq!(f.folds, DEFAULT_FOLDS);
    assert_eq!(f.folds_for(64), 8);
    assert_eq!(f.folds_for(5), 5);
    assert_eq!(f.folds_for(0), 2);
    let request = f.cross_validation_request(6);
    assert_eq!(request.folds, 6);
    assert_eq!(request.config, f.config());
    let mut g = f.clone();
    g.cross_validate = true;
    g.folds = 3;
    g.set_kind(ModelKind::Lgss);
    assert!(g.cross_validate);
    assert_eq!(g.folds, 3);
}
