//! A cross-validation run as the training window shows it: which fold trains, the finished
//! folds, the provided prediction's row on the same folds, and the ETA.

use std::time::Instant;

use super::run::TrainingRun;
use crate::workflow::cross_validation::{CrossValidationRow, FoldResult};

/// Progress and results of the current (or last) cross-validation.
#[derive(Debug, Clone)]
pub struct CrossValidationRun {
    /// Folds asked for.
    pub folds: usize,
    /// The seed of the folds, the validation movies and the weights.
    pub seed: u64,
    /// The model's finished folds (its name is the model kind's).
    pub model: CrossValidationRow,
    /// The files' provided prediction on the same folds, or why there is none; `None` until
    /// scored (before the first fold trains).
    pub provided: Option<Result<CrossValidationRow, String>>,
    /// When the fold now training started (its first training event reached the window).
    pub fold_started: Option<Instant>,
    /// The run ended (finished, cancelled or failed).
    pub ended: bool,
    /// Cancelled before its last fold finished.
    pub cancelled: bool,
    pub error: Option<String>,
}

impl CrossValidationRun {
    /// A fresh run of `folds` folds of the model `kind` (its name).
    pub fn starting(kind: &str, folds: usize, seed: u64) -> Self {
        CrossValidationRun {
            folds,
            seed,
            model: CrossValidationRow {
                name: kind.to_string(),
                folds: Vec::new(),
            },
            provided: None,
            fold_started: None,
            ended: false,
            cancelled: false,
            error: None,
        }
    }

    /// The 0-based fold training now (folds run in order).
    pub fn current_fold(&self) -> usize {
        self.model.folds.len()
    }

    /// A fold finished.
    pub fn fold_finished(&mut self, fold: FoldResult) {
        self.model.folds.push(fold);
        self.fold_started = None;
    }

    /// Fraction of all folds done, counting the current fold's training steps (`run`).
    pub fn fraction(&self, run: &TrainingRun) -> f32 {
        let current = if self.ended {
            0.0
        } else {
            run.fraction().unwrap_or(0.0)
        };
        ((self.model.folds.len() as f32 + current) / self.folds.max(1) as f32).clamp(0.0, 1.0)
    }

    /// Seconds left: the current fold's ETA (`run`'s, from its epochs so far) and, for each
    /// fold after it, the mean time of the finished folds (else the current fold's whole
    /// estimated time). `None` until the current fold has finished an epoch.
    pub fn eta_seconds(&self, run: &TrainingRun, now: Instant) -> Option<f64> {
        if self.ended {
            return None;
        }
        let current_left = run.eta_seconds?;
        let finished = &self.model.folds;
        let per_fold = if finished.is_empty() {
            let elapsed = self
                .fold_started
                .map_or(0.0, |t| now.duration_since(t).as_secs_f64());
            elapsed + current_left
        } else {
            finished.iter().map(|f| f.seconds).sum::<f64>() / finished.len() as f64
        };
        let after = self.folds.saturating_sub(self.current_fold() + 1);
        Some(current_left + after as f64 * per_fold)
    }

    /// The rows to show and save, as `scenelab bench train --folds K` orders them: the provided
    /// prediction's (when scored), then the model's (once a fold finished). Once the model has
    /// finished folds, the provided row keeps the same ones, so a run cancelled or failed
    /// part-way still compares like with like.
    pub fn rows(&self) -> Vec<CrossValidationRow> {
        let mut rows = Vec::new();
        if let Some(Ok(provided)) = &self.provided {
            let mut provided = provided.clone();
            if !self.model.folds.is_empty() {
                provided
                    .folds
                    .retain(|p| self.model.folds.iter().any(|m| m.fold == p.fold));
            }
            rows.push(provided);
        }
        if !self.model.folds.is_empty() {
            rows.push(self.model.clone());
        }
        rows
    }
}
