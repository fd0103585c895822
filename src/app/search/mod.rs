//! Hyperparameter search from the app: the same random search with movie-level
//! cross-validation as `scenelab search` ([`crate::train::search::run_search`]), run on the
//! loaded movies in a background job, with a live table of trials sorted by score, a chart of
//! score per trial, progress with an ETA, and "Load best model" once the best configuration has
//! been retrained.
//!
//! [`SearchState`] is what the app knows about the search; [`SearchPanel`] (`ui.rs`) owns the
//! form (`form.rs`), draws it and returns [`Action`](super::Action)s. `run.rs` turns the job's events into the
//! table and chart, `results.rs` reads a search folder back, and `job.rs` holds the jobs (search,
//! open results, load the best model), the payloads they answer with, and the app's side of
//! [`SearchAction`]s.

mod form;
mod job;
mod results;
mod run;
#[cfg(test)]
mod tests;
mod ui;

pub use form::SearchForm;
pub use run::SearchRun;
pub use ui::SearchPanel;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Everything the app knows about searching.
#[derive(Default)]
pub struct SearchState {
    pub open: bool,
    pub run: SearchRun,
    /// Set while a search is in flight; Cancel stores `true`.
    pub cancel: Option<Arc<AtomicBool>>,
    /// The source name of the loaded best model, once loaded.
    pub loaded: Option<String>,
    /// The best model is scoring the movies.
    pub loading_best: bool,
}

impl SearchState {
    pub fn is_running(&self) -> bool {
        self.cancel.is_some()
    }

    pub fn request_cancel(&self) {
        if let Some(c) = &self.cancel {
            c.store(true, Ordering::Relaxed);
        }
    }

    /// The source name the best model of the last search gets.
    pub fn best_source_name(&self) -> Option<String> {
        let f = self.run.final_result.as_ref()?;
        let kind = self.run.kind?;
        let folder = self.run.out_dir.file_name().map_or_else(
            || self.run.out_dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Some(format!("{kind} best of {folder} (trial {})", f.trial))
    }
}

/// What the search panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchAction {
    /// Open or close the search window.
    Show(bool),
    /// Search what the form says on the open folder (on a background thread).
    Start,
    Cancel,
    /// Score the movies with the last search's best model and add it as a source.
    LoadBest,
    /// Show the results already in the output folder (of the app or `scenelab search`).
    OpenResults,
}
