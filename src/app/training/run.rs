//! A training run as the window shows it: progress, the loss and validation curves.

use crate::model::ModelKind;
use crate::train::{EpochRecord, StopReason, TrainEvent};

/// Progress of the current (or last) training run.
#[derive(Debug, Clone, Default)]
pub struct TrainingRun {
    pub kind: Option<ModelKind>,
    /// `(0-based fold, folds)` when this run is a fold of a cross-validation.
    pub fold: Option<(usize, usize)>,
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub split: (usize, usize, usize),
    /// `[epoch as a fraction, loss]` of every optimisation step.
    pub step_loss: Vec<[f64; 2]>,
    pub records: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    pub eta_seconds: Option<f64>,
    pub stop: Option<StopReason>,
    pub error: Option<String>,
}

impl TrainingRun {
    pub fn steps_done(&self) -> usize {
        self.step_loss.len()
    }

    /// Fraction of all steps done, once training has said how many there are.
    pub fn fraction(&self) -> Option<f32> {
        let total = self.epochs * self.steps_per_epoch;
        (total > 0).then(|| (self.steps_done() as f32 / total as f32).min(1.0))
    }

    pub fn apply(&mut self, ev: &TrainEvent) {
        match ev {
            TrainEvent::Started {
                train_movies,
                validation_movies,
                test_movies,
                epochs,
                steps_per_epoch,
                ..
            } => {
                self.epochs = *epochs;
                self.steps_per_epoch = *steps_per_epoch;
                self.split = (*train_movies, *validation_movies, *test_movies);
            }
            TrainEvent::Step {
                epoch,
                step,
                steps_per_epoch,
                loss,
                ..
            } => {
                // `epoch` and `step` are 1-based; the point sits where the step ends.
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.step_loss.push([x, *loss]);
            }
            TrainEvent::Epoch {
                record,
                best_epoch,
                eta_seconds,
            } => {
                self.records.push(record.clone());
                self.best_epoch = *best_epoch;
                self.eta_seconds = Some(*eta_seconds);
            }
            TrainEvent::Finished { stop, best_epoch } => {
                self.stop = Some(*stop);
                self.best_epoch = *best_epoch;
                self.eta_seconds = None;
            }
        }
    }

    /// `[epoch, mean training loss]` per epoch.
    pub fn epoch_loss(&self) -> Vec<[f64; 2]> {
        self.records
            .iter()
            .map(|r| [r.epoch as f64, r.train_loss])
            .collect()
    }

    /// `[epoch, validation mAP]` of the epochs that had validation movies.
    pub fn validation_map(&self) -> Vec<[f64; 2]> {
        self.records
            .iter()
            .filter_map(|r| r.validation.map(|v| [r.epoch as f64, v.map]))
            .collect()
    }
}
