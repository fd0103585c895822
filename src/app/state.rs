//! What the app knows: the open folder, the prediction sources, the selected movie, the
//! threshold, the newest metrics and the features' state. Panels read it; the controller
//! ([`super::controller`]), the features' own `job.rs` and the payloads of their jobs change it,
//! between frames.

use crate::data::Movie;

use super::loader::LoadedFolder;
use super::metrics::evaluation::{
    Comparison, MetricsKey, ScopeMask, ScoreSet, SweepKey, SweepResult, ThresholdMetrics,
};
use super::scope::{Role, Scope, SourceSplit};
use super::settings::Settings;
use super::sources::{DecisionKey, SourceRegistry};
use super::training::TrainingState;
use super::view::{MovieView, XAxis};
use super::{DEFAULT_THRESHOLD, search};

/// Everything the app knows, apart from how panels are scrolled or sorted.
pub struct AppState {
    pub folder: Option<LoadedFolder>,
    /// Bumped whenever another folder is opened.
    pub data_generation: u64,
    pub sources: SourceRegistry,
    pub selected_movie: Option<usize>,
    pub threshold: f32,
    pub axis: XAxis,
    pub settings: Settings,
    /// The newest metrics received (possibly for an older threshold while the next computes).
    pub metrics: Option<ThresholdMetrics>,
    pub sweep: Option<SweepResult>,
    /// Shown in the error area until dismissed.
    pub errors: Vec<String>,
    /// Why the path field is shown (e.g. no folder dialog available).
    pub notice: Option<String>,
    pub show_path_input: bool,
    /// Derived data of the selected movie.
    pub view: MovieView,
    pub training: TrainingState,
    pub search: search::SearchState,
    /// Export scenes and Save report.
    pub report: super::report::ReportState,
    /// Every source scored at the threshold (the newest received).
    pub comparison: Option<Comparison>,
    /// The movies the user chose to score (see [`AppState::scope`] for the one in use).
    pub chosen_scope: Scope,
    /// Bumped whenever the open folder's subtitles are replaced.
    pub subtitle_generation: u64,
    /// The ground-truth edits and the edit mode.
    pub edit: super::edit::EditState,
    /// The review queue window and its tags.
    pub review: super::review::ReviewState,
}

impl AppState {
    pub(super) fn new(settings: Settings) -> Self {
        AppState {
            folder: None,
            data_generation: 0,
            sources: SourceRegistry::default(),
            selected_movie: None,
            threshold: DEFAULT_THRESHOLD,
            axis: XAxis::Shot,
            settings,
            metrics: None,
            sweep: None,
            errors: Vec::new(),
            notice: None,
            show_path_input: false,
            view: MovieView::default(),
            training: TrainingState::default(),
            search: search::SearchState::default(),
            report: Default::default(),
            comparison: None,
            chosen_scope: Scope::default(),
            subtitle_generation: 0,
            edit: Default::default(),
            review: Default::default(),
        }
    }

    /// Show an error (once: the same message twice would only push the others away).
    pub fn push_error(&mut self, message: String) {
        if !self.errors.contains(&message) {
            self.errors.push(message);
        }
    }

    pub fn movies(&self) -> &[Movie] {
        self.folder.as_ref().map_or(&[], |f| f.movies.as_slice())
    }

    pub fn selected(&self) -> Option<&Movie> {
        self.selected_movie.and_then(|i| self.movies().get(i))
    }

    /// The frame rate of `movie` (its own, else the default).
    pub fn fps_of(&self, movie: &Movie) -> f64 {
        self.settings.fps_of(&movie.imdb_id)
    }

    /// The subtitles of `movie` in the open folder: read, unreadable (why), or none found.
    pub fn subtitles_of(
        &self,
        movie: &Movie,
    ) -> Option<&Result<crate::data::subtitles::Subtitles, String>> {
        self.folder.as_ref()?.subtitles.get(&movie.imdb_id)
    }

    /// The selected source's split (`None` for scores without one, like the file's own).
    pub fn selected_split(&self) -> Option<&SourceSplit> {
        self.sources.selected_source()?.split.as_deref()
    }

    /// What movie `index` was to the selected source's model (`None`: no split).
    pub fn role(&self, index: usize) -> Option<Role> {
        let movie = self.movies().get(index)?;
        self.sources.selected_source()?.role(&movie.imdb_id)
    }

    /// Whether the selected source's model trained on movie `index`.
    pub fn trained_on(&self, index: usize) -> bool {
        self.role(index) == Some(Role::Train)
    }

    /// How many of the open movies `scope` holds for the selected source.
    pub fn scope_count(&self, scope: Scope) -> usize {
        let source = self.sources.selected_source();
        self.movies()
            .iter()
            .filter(|m| scope.includes(source.and_then(|s| s.role(&m.imdb_id))))
            .count()
    }

    /// The movies the metrics, the comparison and the curves are over: the chosen scope for
    /// a source with a split, unless the folder holds none of its movies (then the source's
    /// default); every movie for a source without one.
    pub fn scope(&self) -> Scope {
        let Some(split) = self.selected_split() else {
            return Scope::All;
        };
        if self.chosen_scope == Scope::All || self.scope_count(self.chosen_scope) > 0 {
            self.chosen_scope
        } else {
            Scope::default_for(Some(split), self.movies())
        }
    }

    /// Which open movies [`AppState::scope`] holds (`None`: all of them).
    pub fn scope_mask(&self) -> ScopeMask {
        let scope = self.scope();
        if scope == Scope::All {
            return None;
        }
        let source = self.sources.selected_source();
        Some(
            self.movies()
                .iter()
                .map(|m| scope.includes(source.and_then(|s| s.role(&m.imdb_id))))
                .collect(),
        )
    }

    /// The key metrics should have now, if anything can be scored.
    pub fn metrics_key(&self) -> Option<MetricsKey> {
        (self.folder.is_some() && self.sources.selected_source().is_some()).then(|| MetricsKey {
            data: self.data_generation,
            sources: self.sources.generation(),
            threshold_bits: self.threshold.to_bits(),
            decision: self.sources.selected_decision().map(DecisionKey::from),
            scope: self.scope(),
        })
    }

    pub fn sweep_key(&self) -> Option<SweepKey> {
        self.metrics_key().map(MetricsKey::sweep_key)
    }

    /// Metrics computed for exactly the current threshold and sources.
    pub fn current_metrics(&self) -> Option<&ThresholdMetrics> {
        self.metrics
            .as_ref()
            .filter(|m| Some(m.key) == self.metrics_key())
    }

    /// The selected movie's own scores from the newest metrics (in the scope or not).
    pub fn selected_movie_metrics(&self) -> Option<&crate::eval::MovieMetrics> {
        self.metrics.as_ref()?.movie(self.selected_movie?)
    }

    /// The totals the metrics panel shows, once computed for exactly the current threshold,
    /// sources and scope (over the movies of [`AppState::scope`]).
    pub fn shown_metrics(&self) -> Option<&crate::eval::Metrics> {
        self.current_metrics()?.result.as_ref().ok()
    }

    /// The comparison computed for exactly the current threshold and sources.
    pub fn current_comparison(&self) -> Option<&Comparison> {
        self.comparison
            .as_ref()
            .filter(|c| Some(c.key) == self.metrics_key())
    }

    pub(super) fn score_set(&self) -> Option<ScoreSet> {
        let folder = self.folder.as_ref()?;
        let source = self.sources.selected_source()?;
        Some(ScoreSet::new(folder.movies.clone(), source).scoped(self.scope_mask()))
    }

    pub(super) fn refresh_view(&mut self) {
        let Some(i) = self.selected_movie else {
            return;
        };
        let Some(folder) = &self.folder else {
            return;
        };
        let Some(movie) = folder.movies.get(i) else {
            return;
        };
        let scores = self
            .sources
            .selected_source()
            .and_then(|s| s.scores_for(&movie.imdb_id))
            .cloned();
        self.view.refresh(
            self.data_generation,
            i,
            movie,
            self.axis,
            self.settings.fps_of(&movie.imdb_id),
            self.sources.generation(),
            scores.as_deref(),
            self.threshold,
            self.sources.selected_decision(),
        );
    }
}
