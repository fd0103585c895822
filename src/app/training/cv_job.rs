//! The cross-validation job ([`cross_validate`] and [`provided_row`] on the open movies with the
//! form's settings), Save results, the payloads they answer with, and the app's side of the
//! requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::cv_run::CrossValidationRun;
use super::form::{TrainingForm, split_message, usable_for_training};
use super::run::TrainingRun;
use crate::app::App;
use crate::app::jobs::{Deliver, JobObserver, Reporter};
use crate::data::{FoldsError, Movie, SplitPolicyError};
use crate::train::TrainEvent;
use crate::workflow::cross_validation::{
    CrossValidationError, CrossValidationRow, FoldResult, cross_validate, provided_row,
    results_json,
};

/// The file Save results writes into the chosen folder.
pub const CV_RESULTS_FILE: &str = "cross_validation.json";

/// The cross-validation job: the provided prediction's row first (sent at once), then the
/// model's folds, each sent as it finishes; the model's row (the finished folds when
/// cancelled), or why not in the form's terms.
pub(super) fn run_cross_validation(
    r: &Reporter<App>,
    movies: Arc<Vec<Movie>>,
    form: TrainingForm,
    cancel: Arc<AtomicBool>,
) -> Result<CrossValidationRow, String> {
    let usable = movies.iter().filter(|m| usable_for_training(m)).count();
    let request = form.cross_validation_request(usable);
    let (device, device_line) = form.device.resolve().map_err(|e| format!("{e:#}"))?;
    r.progress(0, 0, format!("cross-validating on {device_line}"));
    let provided = provided_row(
        &movies,
        request.folds,
        request.config.settings.seed,
        request.objective,
        request.peak_picking,
    );
    r.send(CvProvided(match provided {
        Ok(row) => Ok(row),
        // The model's folds could not be made either.
        Err(e @ CrossValidationError::Folds(_)) => return Err(cv_message(e)),
        Err(e) => Err(cv_message(e)),
    }));
    let observer = JobObserver {
        reporter: r,
        cancel: Some(&cancel),
        wrap: CvProgress,
    };
    cross_validate(&movies, &request, &device, &observer, &mut |fold| {
        r.send(CvFold(fold.clone()))
    })
    .map_err(cv_message)
}

/// A cross-validation error in the form's terms (its field Folds; folds counted from 1).
fn cv_message(e: CrossValidationError) -> String {
    match e {
        CrossValidationError::Folds(FoldsError::Split(SplitPolicyError::Split(e))) => {
            format!("{e}: lower Folds")
        }
        CrossValidationError::Folds(FoldsError::Split(e)) => split_message(&e),
        CrossValidationError::Folds(e) => format!("{e}: lower Folds"),
        CrossValidationError::Fold { fold, source } => format!("fold {}: {source}", fold + 1),
        CrossValidationError::Score { fold, message } => format!("fold {}: {message}", fold + 1),
    }
}

/// Write the rows as `scenelab bench train --folds K --json` does, to `dir`/[`CV_RESULTS_FILE`]
/// (whole or not at all).
pub(super) fn save_results(rows: &[CrossValidationRow], dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join(CV_RESULTS_FILE);
    let text = serde_json::to_string_pretty(&results_json(rows)).map_err(|e| e.to_string())?;
    crate::files::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The provided prediction's row (or why there is none).
pub(super) struct CvProvided(pub Result<CrossValidationRow, String>);

/// A fold's training event, for the progress and curves (each fold starts a new run).
pub(super) struct CvProgress(pub TrainEvent);

/// A finished fold.
pub(super) struct CvFold(pub FoldResult);

/// The job's answer: the model's row, or why not.
pub(super) struct CrossValidated(pub Result<CrossValidationRow, String>);

/// The Save results job's answer: the file written.
pub(super) struct CvSaved(pub Result<PathBuf, String>);

impl Deliver<App> for CvProvided {
    fn deliver(self, app: &mut App) {
        if let Some(cv) = &mut app.state.training.cross_validation {
            cv.provided = Some(self.0);
        }
    }
}

impl Deliver<App> for CvProgress {
    fn deliver(self, app: &mut App) {
        let training = &mut app.state.training;
        if let TrainEvent::Started { .. } = self.0 {
            let cv = training.cross_validation.as_mut();
            training.run = TrainingRun {
                kind: training.run.kind,
                fold: cv.as_ref().map(|cv| (cv.current_fold(), cv.folds)),
                ..TrainingRun::default()
            };
            if let Some(cv) = cv {
                cv.fold_started = Some(Instant::now());
            }
        }
        training.run.apply(&self.0);
    }
}

impl Deliver<App> for CvFold {
    fn deliver(self, app: &mut App) {
        if let Some(cv) = &mut app.state.training.cross_validation {
            cv.fold_finished(self.0);
        }
    }
}

impl Deliver<App> for CrossValidated {
    fn deliver(self, app: &mut App) {
        let training = &mut app.state.training;
        let cancelled = training.finish_run();
        let Some(cv) = &mut training.cross_validation else {
            return;
        };
        cv.ended = true;
        match self.0 {
            Ok(row) => {
                cv.cancelled = cancelled && row.folds.len() < cv.folds;
                cv.model = row;
            }
            Err(e) => {
                cv.cancelled = cancelled;
                cv.error = Some(e.clone());
                // A run the user cancelled says so in the training window only.
                if !cancelled {
                    app.state.push_error(format!("Cross-validation: {e}"));
                }
            }
        }
    }
}

impl Deliver<App> for CvSaved {
    fn deliver(self, app: &mut App) {
        match self.0 {
            Ok(path) => {
                app.state.training.note = Some(format!(
                    "Cross-validation results saved to {}",
                    path.display()
                ))
            }
            Err(e) => app
                .state
                .push_error(format!("Could not save the cross-validation results: {e}")),
        }
    }
}

impl App {
    pub(in crate::app) fn start_cross_validation(&mut self) {
        let running = self.jobs.is_running::<CrossValidated>();
        let Some((movies, form, cancel)) = self.begin_training_run(running, "cross-validating")
        else {
            return;
        };
        let usable = movies.iter().filter(|m| usable_for_training(m)).count();
        let folds = form.folds_for(usable);
        let kind = form.model.kind();
        self.state.training.cross_validation = Some(CrossValidationRun::starting(
            kind.name(),
            folds,
            form.settings.seed,
        ));
        let label = format!("{CV_JOB} {kind} ({folds} folds)");
        self.jobs.spawn_answering(
            label,
            move |r| run_cross_validation(r, movies, form, cancel),
            CrossValidated,
        );
    }

    pub(in crate::app) fn start_cv_save(&mut self, dir: PathBuf) {
        let rows = self
            .state
            .training
            .cross_validation
            .as_ref()
            .map(CrossValidationRun::rows)
            .unwrap_or_default();
        if rows.is_empty() {
            self.state.push_error(
                "No cross-validation results to save yet: run a cross-validation first.".into(),
            );
            return;
        }
        self.jobs
            .spawn_answering(CV_SAVE_JOB, move |_| save_results(&rows, &dir), CvSaved);
    }
}

/// Job labels: what the status line says (jobs are found by their payload type).
const CV_JOB: &str = "Cross-validating";
const CV_SAVE_JOB: &str = "Saving the cross-validation results";
