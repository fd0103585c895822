//! Training from the app: the form (model kind, its main hyperparameters, the optimisation
//! settings, the split, the device), the run's progress with its loss and validation curves,
//! and the background work behind Train, Load model, Save model and Export predictions.
//!
//! The form's Cross-validate choice runs movie-level k-fold cross-validation instead
//! ([`crate::workflow::cross_validation`], as `scenelab bench train --folds K`): one model per
//! fold, the provided prediction on the same folds, a table of mean ± std over folds.
//!
//! [`TrainingState`] is what the app knows about training; [`TrainingPanel`] (`ui.rs`) owns the
//! form (`form.rs`), draws it and returns [`Action`](super::Action)s. `run.rs` turns the run's events into
//! progress and curves; `job.rs` holds the jobs (`jobs.rs`: train, load, save, export),
//! the payloads they answer with, and the app's side of the training actions. `cv_run.rs`,
//! `cv_job.rs` and `cv_ui.rs` are the same for cross-validation.

mod cv_job;
mod cv_run;
mod cv_ui;
mod form;
mod job;
mod run;
#[cfg(test)]
mod tests;
mod ui;
pub(crate) use ui::model_kind_row;

pub use cv_job::CV_RESULTS_FILE;
pub use cv_run::CrossValidationRun;
pub use form::TrainingForm;
pub(crate) use form::usable_for_training;
pub(crate) use job::{ModelScores, load_and_score};
pub use run::TrainingRun;
pub use ui::TrainingPanel;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::sources::SourceRegistry;
use crate::train::TrainedModel;
use crate::train::decision::Decision;

/// Test movies held out before a folder is open: `default_test_count` of the challenge's 64.
pub const DEFAULT_TEST_MOVIES: usize = 7;

/// Cross-validation's folds unless the user sets them: 8 of the challenge's 64 movies test in
/// each fold, as `scenelab bench train --folds 8` runs it.
pub const DEFAULT_FOLDS: usize = 8;

/// Everything the app knows about training and models.
#[derive(Default)]
pub struct TrainingState {
    pub open: bool,
    pub run: TrainingRun,
    /// Set while a run is in flight; Cancel stores `true`.
    pub cancel: Option<Arc<AtomicBool>>,
    /// The newest trained model (what Save model writes).
    pub last_model: Option<Arc<TrainedModel>>,
    /// Models trained so far, for naming ("wavenet #2").
    pub trained_count: usize,
    /// The name of the source the newest trained model became.
    pub last_source: Option<String>,
    /// The last message of a finished model job (saved, exported, skipped movies).
    pub note: Option<String>,
    /// The current or last cross-validation (its folds' models are not kept).
    pub cross_validation: Option<CrossValidationRun>,
}

impl TrainingState {
    /// The decision Save model stores: the newest trained model's source's decision as the
    /// user left it when applied, else the tuned one.
    pub fn decision_to_save(&self, sources: &SourceRegistry) -> Option<Decision> {
        let tuned = self.last_model.as_ref()?.meta.decision;
        let source = sources.get(sources.position(self.last_source.as_deref()?)?)?;
        source.applied_decision().copied().or(tuned)
    }

    pub fn is_running(&self) -> bool {
        self.cancel.is_some()
    }

    /// End the run in flight: whether the user had cancelled it.
    pub fn finish_run(&mut self) -> bool {
        self.cancel
            .take()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn request_cancel(&self) {
        if let Some(c) = &self.cancel {
            c.store(true, Ordering::Relaxed);
        }
    }
}
