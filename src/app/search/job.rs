//! The search jobs (search, open results, load the best model), their payloads, and the
//! app's side of the search window's requests.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::SearchAction;
use super::results::{SavedSearch, read_saved_search};
use super::run::SearchRun;
use crate::app::App;
use crate::app::jobs::{Deliver, JobObserver, Reporter};
use crate::app::training::{self, ModelScores, usable_for_training};
use crate::data::{Movie, SplitError};
use crate::train::search::{self, SearchConfig, SearchError, SearchEvent, SearchOutcome};

/// The search job's progress, for the table and the chart.
pub(super) struct SearchProgress(pub SearchEvent);

/// The search job's answer.
pub(super) struct SearchFinished(pub Result<SearchOutcome, String>);

/// The Open results job's answer.
pub(super) struct SearchOpened(pub Result<Box<SavedSearch>, String>);

/// The Load best model job's answer.
pub(super) struct BestLoaded {
    pub name: String,
    pub result: Result<ModelScores, String>,
}

/// The search job: [`search::search_observed`] on the loaded movies (it leaves out those
/// without ground truth or a modality, by id, so no movie is copied), forwarding its progress
/// and events; errors in the form's terms.
pub(super) fn run_search_job(
    r: &Reporter<App>,
    movies: Arc<Vec<Movie>>,
    config: SearchConfig,
    cancel: Arc<AtomicBool>,
) -> Result<SearchOutcome, String> {
    let observer = JobObserver {
        reporter: r,
        cancel: Some(&cancel),
        wrap: SearchProgress,
    };
    search::search_observed(&movies, &config, &observer).map_err(|e| {
        let usable = movies.iter().filter(|m| usable_for_training(m)).count();
        search_message(e, usable, &config)
    })
}

/// A search error in the form's terms (its fields: Folds, Test movies, Output folder).
pub(super) fn search_message(e: SearchError, usable: usize, config: &SearchConfig) -> String {
    match e {
        SearchError::TooFewFolds { folds } => {
            format!(
                "Folds must be at least 2, got {folds}: one fold validates while the others train"
            )
        }
        SearchError::TooFewTrainingMovies { .. }
        | SearchError::Split(SplitError::TooFew { .. }) => {
            format!(
                "{usable} usable movie(s) (with ground truth and all four feature modalities): too few for {} test movies and {} folds; lower Test movies or Folds",
                config.test_movies, config.folds
            )
        }
        other => other.to_string(),
    }
}

impl App {
    pub(in crate::app) fn apply_search(&mut self, action: SearchAction) {
        match action {
            SearchAction::Show(open) => self.state.search.open = open,
            SearchAction::Start => self.start_search(),
            SearchAction::Cancel => self.state.search.request_cancel(),
            SearchAction::LoadBest => self.load_best(),
            SearchAction::OpenResults => {
                let search = &self.state.search;
                if search.is_running() || self.jobs.is_running::<SearchOpened>() {
                    return;
                }
                let out = PathBuf::from(self.search_panel.form.out_dir.trim());
                let label = format!("{OPEN_JOB} {}", out.display());
                self.jobs.spawn_answering(
                    label,
                    move |_| read_saved_search(&out).map(Box::new),
                    SearchOpened,
                );
            }
        }
    }

    fn start_search(&mut self) {
        let search = &mut self.state.search;
        if search.is_running() || self.jobs.is_running::<SearchFinished>() {
            return;
        }
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error("Open a folder of movies before searching.".into());
            return;
        };
        if self.search_panel.form.out_dir.trim().is_empty() {
            self.state
                .push_error("Choose an output folder for the search's results.".into());
            return;
        }
        let movies = folder.movies.clone();
        let config = self.search_panel.form.config();
        let cancel = Arc::new(AtomicBool::new(false));
        search.cancel = Some(cancel.clone());
        search.run = SearchRun::starting(&config);
        search.loaded = None;
        let label = format!(
            "{SEARCH_JOB} {} in {}",
            config.kind,
            config.out_dir.display()
        );
        self.jobs.spawn_answering(
            label,
            move |r| run_search_job(r, movies, config, cancel),
            SearchFinished,
        );
    }

    fn load_best(&mut self) {
        let search = &self.state.search;
        let (Some(f), Some(name)) = (&search.run.final_result, search.best_source_name()) else {
            self.state
                .push_error("No best model yet: let a search finish first.".into());
            return;
        };
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error("Open a folder of movies before loading a model to score them.".into());
            return;
        };
        if self.jobs.is_running::<BestLoaded>() {
            return;
        }
        let movies = folder.movies.clone();
        let dir = f.model_dir.clone();
        self.state.search.loading_best = true;
        let label = format!("{BEST_JOB} {}", dir.display());
        self.jobs.spawn_answering(
            label,
            move |_| training::load_and_score(&dir, &movies),
            |result| BestLoaded { name, result },
        );
    }
}

impl Deliver<App> for SearchProgress {
    fn deliver(self, app: &mut App) {
        app.state.search.run.apply(&self.0);
    }
}

impl Deliver<App> for SearchFinished {
    fn deliver(self, app: &mut App) {
        let search = &mut app.state.search;
        let cancelled = search
            .cancel
            .take()
            .is_some_and(|c| c.load(Ordering::Relaxed));
        search.run.finish(&self.0);
        if let Err(e) = self.0
            && !cancelled
        {
            app.state.push_error(format!("Search: {e}"));
        }
    }
}

impl Deliver<App> for SearchOpened {
    fn deliver(self, app: &mut App) {
        let search = &mut app.state.search;
        match self.0 {
            // A search started meanwhile owns the window.
            Ok(_) if search.is_running() => {}
            Ok(saved) => {
                app.search_panel.form.take_saved(&saved);
                let summary_error = saved.summary_error.clone();
                search.run = SearchRun::from_saved(*saved);
                search.loaded = None;
                if let Some(e) = summary_error {
                    app.state
                        .push_error(format!("The search's final result: {e}"));
                }
            }
            Err(e) => app
                .state
                .push_error(format!("Could not read the search results: {e}")),
        }
    }
}

impl Deliver<App> for BestLoaded {
    fn deliver(self, app: &mut App) {
        app.state.search.loading_best = false;
        match self.result {
            Ok(scores) => {
                app.state.search.loaded = Some(self.name.clone());
                app.add_model_source(self.name, scores);
            }
            Err(e) => app
                .state
                .push_error(format!("Could not load the search's best model: {e}")),
        }
    }
}

/// Job labels: what the status line says (jobs are found by their payload type).
pub(super) const SEARCH_JOB: &str = "Searching";
pub(super) const BEST_JOB: &str = "Scoring the movies with the best model in";
pub(super) const OPEN_JOB: &str = "Reading the search results in";
