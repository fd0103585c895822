//! Unit tests of the training window's form, run state and jobs.

use super::form::split_for;
use super::*;
use crate::data::validation_count;
use crate::data::{HeldOut, Split};
use crate::model::ModelKind;
use crate::train::ValidationScores;
use crate::train::{EpochRecord, StopReason, TrainEvent};

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
