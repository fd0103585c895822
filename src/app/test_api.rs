//! A small API to drive the app from tests (and scripts) without reaching into its fields:
//! select a movie, read the metrics the panel shows, start a job, see whether it is done.
//! Each call does what a click does: it queues the [`Action`] the panel would, applied at the
//! start of the next frame.

use crate::data::Movie;
use crate::eval::Metrics;
use eframe::egui;

use super::scope::Scope;
use super::search::{SearchAction, SearchForm, SearchRun};
use super::training::{CrossValidationRun, TrainingForm, TrainingRun};
use super::{Action, App};

impl App {
    /// Select the movie with this IMDb id, as a click in the movie list does; `false` (and
    /// nothing queued) when the open folder has no such movie.
    pub fn select_movie(&mut self, imdb_id: &str) -> bool {
        let index = self
            .state
            .movies()
            .iter()
            .position(|m| m.imdb_id == imdb_id);
        if let Some(i) = index {
            self.queue(Action::SelectMovie(i));
        }
        index.is_some()
    }

    /// The open folder's movies, in folder order (what [`Action::SelectMovie`] indexes).
    pub fn movies(&self) -> &[Movie] {
        self.state.movies()
    }

    /// The index of the selected movie in [`App::movies`].
    pub fn selected_index(&self) -> Option<usize> {
        self.state.selected_movie
    }

    /// The IMDb id of the selected movie.
    pub fn selected_movie_id(&self) -> Option<&str> {
        self.state.selected().map(|m| m.imdb_id.as_str())
    }

    /// The totals the metrics panel shows (once computed for the current threshold, sources
    /// and scope).
    pub fn shown_metrics(&self) -> Option<&Metrics> {
        self.state.shown_metrics()
    }

    /// The threshold the top bar shows.
    pub fn threshold(&self) -> f32 {
        self.state.threshold
    }

    /// The movies the metrics, the comparison and the curves are over.
    pub fn scope(&self) -> Scope {
        self.state.scope()
    }

    /// The messages in the error area, oldest first.
    pub fn errors(&self) -> &[String] {
        &self.state.errors
    }

    /// The index of the prediction source named `name`.
    pub fn source_index(&self, name: &str) -> Option<usize> {
        self.state.sources.position(name)
    }

    /// Fill in the training form and press Train.
    pub fn train_with(&mut self, form: TrainingForm) {
        *self.training_form_mut() = form;
        self.queue(Action::StartTraining);
    }

    /// Fill in the search form and press Start.
    pub fn search_with(&mut self, form: SearchForm) {
        *self.search_form_mut() = form;
        self.queue(Action::Search(SearchAction::Start));
    }

    /// The training run as the training window shows it.
    pub fn training_run(&self) -> &TrainingRun {
        &self.state.training.run
    }

    /// The current or last cross-validation as the training window shows it.
    pub fn cross_validation(&self) -> Option<&CrossValidationRun> {
        self.state.training.cross_validation.as_ref()
    }

    /// The search run as the search window shows it.
    pub fn search_run(&self) -> &SearchRun {
        &self.state.search.run
    }

    /// Whether a background job (loading, training, searching, ...) is running.
    pub fn is_busy(&self) -> bool {
        self.jobs.is_busy()
    }

    /// The ground-truth edits since the folder was opened (or last saved).
    pub fn edit_log(&self) -> &crate::data::edit::EditLog {
        &self.state.edit.log
    }

    /// Whether the prompt to replay a journal of unsaved edits is showing.
    pub fn offers_replay(&self) -> bool {
        self.state.edit.offer.is_some()
    }

    /// What the last save of edited labels wrote, as the timeline says it.
    pub fn last_saved(&self) -> Option<&str> {
        self.state.edit.last_saved.as_deref()
    }

    /// Where the timeline's ground-truth scene band was drawn in the last frame.
    pub fn truth_band(&self) -> Option<egui::Rect> {
        self.timeline.truth_band()
    }
}
