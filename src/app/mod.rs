//! The desktop app: a folder of movies, a timeline of the selected one, and reference-exact
//! metrics that follow the threshold.
//!
//! [`AppState`] holds what the app knows; the panels (`top_bar`, `movie_list`, `timeline`,
//! `metrics_panel`, `empty_state`) draw it and return [`Action`]s, which [`App`] applies after
//! the frame. Slow work (loading, writing demo data, choosing a folder, metrics) runs on
//! background threads ([`jobs`], [`evaluation`]) so the window never stops drawing.

use eframe::egui;
pub mod decision_box;
pub mod empty_state;
pub mod evaluation;
pub mod jobs;
pub mod loader;
pub mod metrics_panel;
pub mod movie_list;
pub mod picker;
pub mod scope;
pub mod search_panel;
pub mod settings;
pub mod sources;
pub mod timeline;
pub mod top_bar;
pub mod training_panel;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::demo::DemoConfig;
use crate::data::{Scores, default_test_count};

use evaluation::{
    Comparison, MetricsKey, MetricsWorker, ScopeMask, ScoreSet, SweepKey, SweepResult,
    ThresholdMetrics,
};
use jobs::{JobEvent, Jobs};
use loader::LoadedFolder;
use picker::{FolderPicker, NativePicker, PickOutcome, PickPurpose};
use scope::{Role, Scope, SourceSplit};
use settings::Settings;
use sources::{DecisionKey, PredictionSource, SourceDecision, SourceRegistry};
use training_panel::{DEFAULT_TEST_MOVIES, ModelScores, TrainingForm, TrainingRun, TrainingState};
use view::{MovieView, XAxis};

/// Threshold the app starts with, as `scenelab evaluate` defaults to.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// The synthetic movies written when there is nothing to open: small enough that a first
/// run shows a movie within seconds.
pub fn first_run_demo() -> DemoConfig {
    DemoConfig {
        movies: 12,
        seed: 0,
        min_shots: 600,
        max_shots: 1500,
    }
}

/// How the app is wired to the outside world; tests replace the picker and the paths.
pub struct AppOptions {
    pub picker: Arc<dyn FolderPicker>,
    /// Where the last folder is remembered; `None` remembers nothing.
    pub settings_path: Option<PathBuf>,
    /// Opened when no folder is given or remembered (`data_dir/` in the current directory).
    pub default_dir: PathBuf,
    pub demo: DemoConfig,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            picker: Arc::new(NativePicker),
            settings_path: Settings::default_path(),
            default_dir: PathBuf::from("data_dir"),
            demo: first_run_demo(),
        }
    }
}

/// Something a panel asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Ask for a folder with the picker (on a background thread).
    PickFolder,
    OpenFolder(PathBuf),
    /// The last folder, else the default folder (filled with demo movies if it has none).
    OpenDefault,
    /// Write demo movies into the folder (by default the default folder if it holds no
    /// movies, else a `demo` folder inside it), then open it.
    MakeDemo(Option<PathBuf>),
    /// Compute the metrics and curves again.
    Evaluate,
    SelectMovie(usize),
    SetThreshold(f32),
    SelectSource(usize),
    /// Compute the metrics, the comparison and the curves over these movies of the selected
    /// source's split.
    SetScope(Scope),
    SetSourceVisible(usize, bool),
    SetAxis(XAxis),
    SetFps(f64),
    DismissError(usize),
    DismissAllErrors,
    ShowPathInput(bool),
    /// Open or close the training window.
    ShowTraining(bool),
    SetTrainingForm(Box<TrainingForm>),
    /// Train what the form says on the open folder (on a background thread).
    StartTraining,
    CancelTraining,
    /// The search window's requests.
    Search(search_panel::SearchAction),
    /// Ask for a folder with the picker, for something other than opening movies.
    PickFor(PickPurpose),
    /// Load a model folder and add its predictions as a source.
    LoadModel(PathBuf),
    /// Save the last trained model into a folder.
    SaveModel(PathBuf),
    /// Write the selected source's predictions into a folder of pkl files.
    ExportPredictions(PathBuf),
    /// Set or remove a source's decision step.
    SetDecision(usize, Option<SourceDecision>),
}

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
    pub search: search_panel::SearchState,
    /// Every source scored at the threshold (the newest received).
    pub comparison: Option<Comparison>,
    /// The movies the user chose to score (see [`AppState::scope`] for the one in use).
    pub chosen_scope: Scope,
}

impl AppState {
    fn new(settings: Settings) -> Self {
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
            search: search_panel::SearchState::default(),
            comparison: None,
            chosen_scope: Scope::default(),
        }
    }

    /// Show an error (once: the same message twice would only push the others away).
    pub fn push_error(&mut self, message: String) {
        if !self.errors.contains(&message) {
            self.errors.push(message);
        }
    }

    pub fn movies(&self) -> &[crate::data::Movie] {
        self.folder.as_ref().map_or(&[], |f| f.movies.as_slice())
    }

    pub fn selected(&self) -> Option<&crate::data::Movie> {
        self.selected_movie.and_then(|i| self.movies().get(i))
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

    fn score_set(&self) -> Option<ScoreSet> {
        let folder = self.folder.as_ref()?;
        let source = self.sources.selected_source()?;
        Some(ScoreSet::new(folder.movies.clone(), source).scoped(self.scope_mask()))
    }

    fn refresh_view(&mut self) {
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
            self.settings.fps,
            self.sources.generation(),
            scores.as_deref(),
            self.threshold,
            self.sources.selected_decision(),
        );
    }
}

/// The desktop app.
pub struct App {
    pub state: AppState,
    pub jobs: Jobs,
    options: AppOptions,
    metrics_worker: MetricsWorker,
    requested_metrics: Option<MetricsKey>,
    requested_sweep: Option<SweepKey>,
    settings_dirty: bool,
    actions: Vec<Action>,
    top_bar: top_bar::TopBar,
    movie_list: movie_list::MovieList,
    timeline: timeline::Timeline,
    metrics_panel: metrics_panel::MetricsPanel,
    empty_state: empty_state::EmptyState,
    training_panel: training_panel::TrainingPanel,
    search_panel: search_panel::SearchPanel,
    /// Model folders to load (as sources) once the next folder of movies has opened.
    models_after_open: Vec<PathBuf>,
}

impl App {
    /// Load `models` (model folders) as sources once the next folder of movies has opened.
    pub fn load_models_once_open(&mut self, models: Vec<PathBuf>) {
        self.models_after_open.extend(models);
    }

    pub fn new(options: AppOptions) -> Self {
        let settings = options
            .settings_path
            .as_deref()
            .map(Settings::load)
            .unwrap_or_default();
        let jobs = Jobs::default();
        let metrics_worker = MetricsWorker::start(jobs.sender());
        App {
            state: AppState::new(settings),
            jobs,
            options,
            metrics_worker,
            requested_metrics: None,
            requested_sweep: None,
            settings_dirty: false,
            actions: Vec::new(),
            top_bar: top_bar::TopBar::default(),
            movie_list: movie_list::MovieList::default(),
            timeline: timeline::Timeline::default(),
            metrics_panel: metrics_panel::MetricsPanel::default(),
            empty_state: empty_state::EmptyState::default(),
            training_panel: training_panel::TrainingPanel,
            search_panel: search_panel::SearchPanel,
            models_after_open: Vec::new(),
        }
    }

    /// Queue an action; it runs at the start of the next frame.
    pub fn queue(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// No job running, and metrics and curves are up to date with the current state.
    pub fn is_settled(&self) -> bool {
        let metrics_done =
            self.state.metrics_key().is_none() || self.state.current_metrics().is_some();
        let sweep_done = self.state.sweep_key().is_none()
            || self.state.sweep.as_ref().map(|s| s.key) == self.state.sweep_key();
        let comparison_done =
            self.state.metrics_key().is_none() || self.state.current_comparison().is_some();
        !self.jobs.is_busy()
            && metrics_done
            && sweep_done
            && comparison_done
            && self.actions.is_empty()
    }

    /// The transition the keyboard moved the timeline to.
    pub fn timeline_cursor(&self) -> Option<usize> {
        self.timeline.cursor()
    }

    /// The timeline plot's screen <-> plot transform as of the last frame.
    pub fn timeline_transform(&self) -> Option<egui_plot::PlotTransform> {
        self.timeline.transform()
    }

    /// The movie indices in the order the movie list shows them (sorted and filtered).
    pub fn listed_movies(&self) -> &[usize] {
        self.movie_list.order()
    }

    /// One frame of the whole app inside `ui`.
    pub fn ui_inner(&mut self, ui: &mut egui::Ui) {
        self.jobs.set_context(ui.ctx());
        for ev in self.jobs.poll() {
            self.handle_event(ev);
        }
        let pending = std::mem::take(&mut self.actions);
        for a in pending {
            self.apply(a);
        }
        self.state.refresh_view();
        self.request_metrics();

        let mut actions = Vec::new();
        self.keyboard(ui, &mut actions);

        egui::Panel::top("top_bar").show(ui, |ui| {
            self.top_bar.ui(ui, &self.state, &self.jobs, &mut actions);
        });
        if self.state.folder.is_none() {
            egui::CentralPanel::default().show(ui, |ui| {
                self.empty_state
                    .ui(ui, &self.state, &self.jobs, &mut actions);
            });
        } else {
            egui::Panel::left("movie_list")
                .resizable(true)
                .default_size(360.0)
                .show(ui, |ui| {
                    self.movie_list.ui(ui, &self.state, &mut actions);
                });
            egui::Panel::right("metrics")
                .resizable(true)
                .default_size(340.0)
                .show(ui, |ui| {
                    self.metrics_panel.ui(ui, &self.state, &mut actions);
                });
            egui::CentralPanel::default().show(ui, |ui| {
                self.timeline.ui(ui, &self.state, &mut actions);
            });
        }
        if self.state.training.open {
            self.training_panel.ui(ui.ctx(), &self.state, &mut actions);
        }
        if self.state.search.open {
            self.search_panel
                .window(ui.ctx(), &self.state, &mut actions);
        }
        self.actions.extend(actions);
        if !self.actions.is_empty() {
            ui.ctx().request_repaint();
        }
    }

    fn keyboard(&mut self, ui: &egui::Ui, actions: &mut Vec<Action>) {
        if ui.ctx().egui_wants_keyboard_input() || self.state.folder.is_none() {
            return;
        }
        let (up, down, left, right) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowUp),
                i.key_pressed(egui::Key::ArrowDown),
                i.key_pressed(egui::Key::ArrowLeft),
                i.key_pressed(egui::Key::ArrowRight),
            )
        });
        if up || down {
            let order = self.movie_list.order();
            let pos = self
                .state
                .selected_movie
                .and_then(|s| order.iter().position(|&i| i == s));
            let next = match (pos, down) {
                (Some(p), true) => order.get(p + 1),
                (Some(p), false) => p.checked_sub(1).and_then(|p| order.get(p)),
                (None, _) => order.first(),
            };
            if let Some(&i) = next {
                actions.push(Action::SelectMovie(i));
            }
        }
        if left || right {
            self.timeline.jump(&self.state.view, right);
        }
    }

    fn request_metrics(&mut self) {
        let Some(key) = self.state.metrics_key() else {
            return;
        };
        let ctx = self.jobs.context().cloned();
        // Prepare before asking for a threshold: the worker answers in order.
        let skey = key.sweep_key();
        if self.requested_sweep != Some(skey)
            && let Some(set) = self.state.score_set()
        {
            self.metrics_worker.prepare(skey, set, ctx.clone());
            self.requested_sweep = Some(skey);
            self.requested_metrics = None;
        }
        if self.requested_metrics != Some(key) {
            match (
                self.state.sources.selected_decision(),
                self.state.score_set(),
            ) {
                (Some(d), Some(set)) => self.metrics_worker.request_decided(key, set, *d, ctx),
                _ => self.metrics_worker.request(key, self.state.threshold, ctx),
            }
            self.requested_metrics = Some(key);
        }
        // One comparison at a time; when it lands the next frame asks for the newest key.
        if self.state.current_comparison().is_none()
            && !self.jobs.is_running(COMPARE_JOB)
            && let Some(folder) = &self.state.folder
        {
            let movies = folder.movies.clone();
            let sources: Vec<PredictionSource> = self.state.sources.iter().cloned().collect();
            let threshold = self.state.threshold;
            // Every source on the selected source's scope.
            let in_scope = self.state.scope_mask();
            self.jobs.spawn_answering(
                COMPARE_JOB,
                move |_| {
                    Ok(evaluation::compare_sources(
                        key, movies, &sources, threshold, in_scope,
                    ))
                },
                move |result| {
                    // A failed comparison still answers for its key, so it is not retried
                    // every frame.
                    JobEvent::Compared(
                        result.unwrap_or_else(|e| Comparison::failed(key, threshold, e)),
                    )
                },
            );
        }
    }

    fn handle_event(&mut self, ev: JobEvent) {
        match ev {
            JobEvent::Progress { .. } => {}
            JobEvent::Loaded { dir, result } => match result {
                Ok(folder) => {
                    self.open_loaded(folder);
                    for model in std::mem::take(&mut self.models_after_open) {
                        self.apply(Action::LoadModel(model));
                    }
                }
                Err(e) => self
                    .state
                    .push_error(format!("Could not open {}: {e}", dir.display())),
            },
            JobEvent::DemoWritten { dir, result } => match result {
                Ok(_) => self.apply(Action::OpenFolder(dir)),
                Err(e) => self.state.push_error(format!(
                    "Could not write demo movies to {}: {e}",
                    dir.display()
                )),
            },
            JobEvent::Picked { purpose, outcome } => match outcome {
                PickOutcome::Picked(dir) => self.apply(match purpose {
                    PickPurpose::OpenMovies => Action::OpenFolder(dir),
                    PickPurpose::LoadModel => Action::LoadModel(dir),
                    PickPurpose::SaveModel => Action::SaveModel(dir),
                    PickPurpose::ExportPredictions => Action::ExportPredictions(dir),
                }),
                PickOutcome::Cancelled => {}
                PickOutcome::Unavailable(msg) if purpose == PickPurpose::OpenMovies => {
                    self.state.notice = Some(msg);
                    self.state.show_path_input = true;
                }
                PickOutcome::Unavailable(msg) => self.state.push_error(msg),
            },
            JobEvent::Compared(c) => {
                // Stale rows still beat an empty table while the next ones compute.
                if self
                    .state
                    .metrics_key()
                    .is_some_and(|k| k.data == c.key.data)
                {
                    self.state.comparison = Some(c);
                }
            }
            JobEvent::Train(ev) => self.state.training.run.apply(&ev),
            JobEvent::Search(ev) => self.handle_search(*ev),
            JobEvent::Trained(result) => {
                let cancelled = self
                    .state
                    .training
                    .cancel
                    .take()
                    .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
                match result {
                    Ok(scores) => {
                        self.state.training.trained_count += 1;
                        let name = format!(
                            "{} #{}",
                            scores.model.kind(),
                            self.state.training.trained_count
                        );
                        self.state.training.last_model = Some(scores.model.clone());
                        self.state.training.last_source = Some(name.clone());
                        self.add_model_source(name, scores);
                    }
                    Err(e) => {
                        // A run the user cancelled says so in the training window only.
                        if !cancelled {
                            self.state.push_error(format!("Training: {e}"));
                        }
                        self.state.training.run.error = Some(e);
                    }
                }
            }
            JobEvent::ModelLoaded { dir, result } => match result {
                Ok(scores) => {
                    let folder = dir.file_name().map_or_else(
                        || dir.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    let name = format!("{} ({folder})", scores.model.kind());
                    self.add_model_source(name, scores);
                }
                Err(e) => self.state.push_error(format!(
                    "Could not load the model in {}: {e}",
                    dir.display()
                )),
            },
            JobEvent::ModelSaved(result) => match result {
                Ok(dir) => {
                    self.state.training.note = Some(format!("Model saved to {}", dir.display()))
                }
                Err(e) => self
                    .state
                    .push_error(format!("Could not save the model: {e}")),
            },
            JobEvent::Exported { out, result } => match result {
                Ok((written, without)) => {
                    let mut note = format!("Wrote {written} scored movies to {}", out.display());
                    if !without.is_empty() {
                        note.push_str(&format!(
                            "; {} movie(s) without scores in this source were left out",
                            without.len()
                        ));
                    }
                    self.state.training.note = Some(note);
                }
                Err(e) => self.state.push_error(format!(
                    "Could not export predictions to {}: {e}",
                    out.display()
                )),
            },
            JobEvent::Metrics(m) => {
                if let Err(e) = &m.result
                    && Some(m.key) == self.state.metrics_key()
                {
                    self.state.push_error(format!("Metrics: {e}"));
                }
                // Results for an older folder or source are useless; for an older threshold
                // they still beat an empty panel until the current one arrives.
                let relevant = self
                    .state
                    .metrics_key()
                    .is_some_and(|k| k.data == m.key.data && k.sources == m.key.sources);
                if relevant {
                    self.state.metrics = Some(m);
                }
            }
            JobEvent::Sweep(s) => {
                if Some(s.key) == self.state.sweep_key() {
                    if let Some(e) = &s.error {
                        self.state.push_error(format!("Metrics: {e}"));
                    }
                    self.state.sweep = Some(s);
                }
            }
            JobEvent::Finished { job: _, panic } => {
                if let Some(p) = panic {
                    self.state
                        .errors
                        .push(format!("A background task failed: {p}"));
                }
            }
        }
    }

    /// Show `folder` (what a finished load does; also for movies built in code).
    pub fn open_loaded(&mut self, folder: LoadedFolder) {
        let state = &mut self.state;
        // Test movies the forms hold out follow the folder's size, unless the user set them;
        // counted over the movies a model can train on, as `scenelab train` and `search` count.
        let trainable = |f: &LoadedFolder| f.movies.iter().filter(|m| m.is_trainable()).count();
        let automatic = state
            .folder
            .as_ref()
            .map_or(DEFAULT_TEST_MOVIES, |f| default_test_count(trainable(f)));
        for test_movies in [
            &mut state.training.form.test_movies,
            &mut state.search.form.test_movies,
        ] {
            if *test_movies == automatic {
                *test_movies = default_test_count(trainable(&folder));
            }
        }
        state.sources = SourceRegistry::for_movies(&folder.movies);
        state.data_generation += 1;
        state.metrics = None;
        state.sweep = None;
        state.comparison = None;
        state.view.clear();
        state.notice = None;
        state.show_path_input = false;
        let dir = folder.dir.clone();
        self.movie_list.reset(&folder);
        state.folder = Some(folder);
        // Show a movie at once: the first one the list shows.
        state.selected_movie = self.movie_list.first_listed(state);
        self.timeline.reset_view();
        let remembered = std::fs::canonicalize(&dir).unwrap_or(dir);
        if state.settings.last_folder.as_ref() != Some(&remembered) {
            state.settings.last_folder = Some(remembered);
            self.save_settings();
        }
    }

    fn save_settings(&mut self) {
        self.settings_dirty = false;
        if let Some(path) = &self.options.settings_path
            && let Err(e) = self.state.settings.save(path)
        {
            self.state.push_error(format!(
                "Could not remember settings in {}: {e:#}",
                path.display()
            ));
        }
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::PickFolder => self.apply(Action::PickFor(PickPurpose::OpenMovies)),
            Action::PickFor(purpose) => {
                if self.jobs.is_running(PICK_JOB) {
                    return;
                }
                let picker = self.options.picker.clone();
                let start = self
                    .state
                    .folder
                    .as_ref()
                    .map(|f| f.dir.clone())
                    .or_else(|| self.state.settings.last_folder.clone());
                // A dialog that fails in any way is one that is unavailable: the path field
                // then takes its place.
                self.jobs.spawn_answering(
                    PICK_JOB,
                    move |_| Ok(picker.pick_folder(start.as_deref())),
                    move |result| JobEvent::Picked {
                        purpose,
                        outcome: result.unwrap_or_else(PickOutcome::Unavailable),
                    },
                );
            }
            Action::ShowTraining(open) => self.state.training.open = open,
            Action::SetTrainingForm(form) => {
                if !self.state.training.is_running() {
                    self.state.training.form = *form;
                }
            }
            Action::StartTraining => self.start_training(),
            Action::CancelTraining => self.state.training.request_cancel(),
            Action::Search(a) => self.apply_search(a),
            Action::LoadModel(dir) => self.start_model_load(dir),
            Action::SaveModel(dir) => {
                let Some(model) = self.state.training.last_model.clone() else {
                    self.state
                        .push_error("No trained model to save yet: train one first.".into());
                    return;
                };
                let decision = self.state.training.decision_to_save(&self.state.sources);
                self.jobs.spawn_answering(
                    SAVE_JOB,
                    move |_| training_panel::save_model(&model, &dir, decision),
                    JobEvent::ModelSaved,
                );
            }
            Action::ExportPredictions(out) => self.start_export(out),
            Action::OpenFolder(dir) => self.start_loading(dir),
            Action::OpenDefault => {
                let last = self
                    .state
                    .settings
                    .last_folder
                    .clone()
                    .filter(|d| loader::has_movie_files(d));
                match last {
                    Some(dir) => self.start_loading(dir),
                    None => {
                        let dir = self.options.default_dir.clone();
                        if loader::has_movie_files(&dir) {
                            self.start_loading(dir);
                        } else {
                            self.apply(Action::MakeDemo(Some(dir)));
                        }
                    }
                }
            }
            Action::MakeDemo(dir) => {
                let dir = dir.unwrap_or_else(|| self.demo_target());
                self.start_demo(dir);
            }
            Action::Evaluate => {
                self.requested_metrics = None;
                self.requested_sweep = None;
            }
            Action::SelectMovie(i) => {
                if i < self.state.movies().len() && self.state.selected_movie != Some(i) {
                    self.state.selected_movie = Some(i);
                    self.timeline.reset_view();
                }
            }
            Action::SetThreshold(t) => {
                if t.is_finite() {
                    self.state.threshold = t.clamp(0.0, 1.0);
                    self.state.sources.follow_threshold(self.state.threshold);
                }
            }
            Action::SelectSource(i) => {
                self.state.sources.select(i);
                self.state.take_decision_threshold();
            }
            Action::SetScope(scope) => self.state.chosen_scope = scope,
            Action::SetDecision(i, d) => self.state.set_decision(i, d),
            Action::SetSourceVisible(i, v) => self.state.sources.set_visible(i, v),
            Action::SetAxis(a) => {
                if self.state.axis != a {
                    self.state.axis = a;
                    self.timeline.reset_view();
                }
            }
            Action::SetFps(fps) => {
                if fps.is_finite() && fps > 0.0 && fps != self.state.settings.fps {
                    self.state.settings.fps = fps;
                    self.timeline.reset_view();
                    // Written by `eframe::App::save`, not on every step of a drag.
                    self.settings_dirty = true;
                }
            }
            Action::DismissError(i) => {
                if i < self.state.errors.len() {
                    self.state.errors.remove(i);
                }
            }
            Action::DismissAllErrors => self.state.errors.clear(),
            Action::ShowPathInput(show) => self.state.show_path_input = show,
        }
    }

    /// Where "Make demo data" writes: the default folder while it holds no movies, else a
    /// `demo` folder inside it, so nobody's own files get mixed with demo ones.
    fn demo_target(&self) -> PathBuf {
        let dir = &self.options.default_dir;
        if loader::has_movie_files(dir) {
            dir.join("demo")
        } else {
            dir.clone()
        }
    }

    fn start_loading(&mut self, dir: PathBuf) {
        if self.jobs.is_running(LOAD_JOB) {
            self.state
                .push_error("A folder is already loading; wait for it to finish.".into());
            return;
        }
        let label = format!("{LOAD_JOB} {}", dir.display());
        let answer_dir = dir.clone();
        self.jobs.spawn_answering(
            label,
            move |r| {
                let progress = |done: usize, total: usize, file: &str| {
                    r.progress(done, total, file.to_string());
                };
                loader::load_folder(&dir, &progress).map_err(|e| e.to_string())
            },
            |result| JobEvent::Loaded {
                dir: answer_dir,
                result,
            },
        );
    }

    fn start_demo(&mut self, dir: PathBuf) {
        if self.jobs.is_running(DEMO_JOB) {
            return;
        }
        let config = self.options.demo.clone();
        let label = format!("{DEMO_JOB} {}", dir.display());
        let answer_dir = dir.clone();
        self.jobs.spawn_answering(
            label,
            move |r| {
                let progress = |done: usize, total: usize| {
                    r.progress(done, total, format!("movie {done} of {total}"));
                };
                loader::write_demo(&dir, &config, &progress).map_err(|e| format!("{e:#}"))
            },
            |result| JobEvent::DemoWritten {
                dir: answer_dir,
                result,
            },
        );
    }
}

impl App {
    fn start_training(&mut self) {
        let training = &mut self.state.training;
        if training.is_running() || self.jobs.is_running(TRAIN_JOB) {
            return;
        }
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error("Open a folder of movies before training.".into());
            return;
        };
        let movies = folder.movies.clone();
        let form = training.form.clone();
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        training.cancel = Some(cancel.clone());
        training.run = TrainingRun {
            kind: Some(form.model.kind()),
            ..TrainingRun::default()
        };
        training.note = None;
        let label = format!("{TRAIN_JOB} {}", form.model.kind());
        self.jobs.spawn_answering(
            label,
            move |r| training_panel::run_training(r, movies, form, cancel),
            JobEvent::Trained,
        );
    }

    fn start_model_load(&mut self, dir: PathBuf) {
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error("Open a folder of movies before loading a model to score them.".into());
            return;
        };
        let movies = folder.movies.clone();
        let label = format!("{MODEL_LOAD_JOB} {}", dir.display());
        let answer_dir = dir.clone();
        self.jobs.spawn_answering(
            label,
            move |_| training_panel::load_and_score(&dir, &movies),
            |result| JobEvent::ModelLoaded {
                dir: answer_dir,
                result,
            },
        );
    }

    fn start_export(&mut self, out: PathBuf) {
        let (Some(folder), Some(source)) =
            (&self.state.folder, self.state.sources.selected_source())
        else {
            self.state
                .push_error("Nothing to export: open a folder with a prediction source.".into());
            return;
        };
        let dir = folder.dir.clone();
        // The source is cloned (its scores are shared), so the decision is applied off the UI
        // thread.
        let source = source.clone();
        let label = format!("{EXPORT_JOB} {}", out.display());
        let answer_out = out.clone();
        self.jobs.spawn_answering(
            label,
            move |r| {
                let scores = decision_box::scores_to_write(&source);
                training_panel::export_predictions(r, &dir, &out, &scores)
                    .map_err(|e| format!("{e:#}"))
            },
            |result| JobEvent::Exported {
                out: answer_out,
                result,
            },
        );
    }

    /// A model's scores become a source on every timeline, selected for the metrics.
    fn add_model_source(&mut self, name: String, scores: ModelScores) {
        let mut source = PredictionSource::new(name, sources::palette(self.state.sources.len()));
        for (id, s) in scores.scores {
            source.scores.insert(id, Arc::new(Scores::from_f32(&s)));
        }
        source.decision = scores.model.meta.decision.map(SourceDecision::tuned);
        let split = SourceSplit::new(scores.model.meta.split.clone());
        // Held-out numbers first: the model's test movies, when the folder has them.
        self.state.chosen_scope = Scope::default_for(Some(&split), self.state.movies());
        source.split = Some(Arc::new(split));
        let i = self.state.sources.add(source);
        self.state.sources.select(i);
        self.state.take_decision_threshold();
        if !scores.skipped.is_empty() {
            self.state.training.note = Some(format!(
                "{} movie(s) lack one of the four feature modalities and were not scored: {}",
                scores.skipped.len(),
                scores.skipped.join(", ")
            ));
        }
    }
}

/// Job labels (also what the status line says).
// Labels are matched by prefix (`Jobs::is_running`): none may start another.
const LOAD_JOB: &str = "Loading movies from";
const DEMO_JOB: &str = "Writing demo movies to";
const PICK_JOB: &str = "Choosing a folder";
const COMPARE_JOB: &str = "Comparing sources";
const TRAIN_JOB: &str = "Training";
const MODEL_LOAD_JOB: &str = "Loading the model in";
const SAVE_JOB: &str = "Saving the model";
const EXPORT_JOB: &str = "Exporting predictions to";

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_inner(ui);
    }

    /// Called now and then and at exit: write settings changed since the last write.
    fn save(&mut self, _storage: &mut dyn eframe::Storage) {
        if self.settings_dirty {
            self.save_settings();
        }
    }
}

/// Where `scenelab gui` starts: `dir` if given, else the last folder, else `data_dir/`.
pub fn startup_action(dir: Option<&Path>) -> Action {
    match dir {
        Some(d) => Action::OpenFolder(d.to_path_buf()),
        None => Action::OpenDefault,
    }
}

/// Open the window and run until it is closed.
/// Open the window on `dir` (see [`startup_action`]), then load each of `models` as a
/// prediction source once the movies are open.
pub fn run(dir: Option<PathBuf>, models: Vec<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1600.0, 1000.0])
            .with_min_inner_size([800.0, 500.0])
            .with_title("SceneLab"),
        ..Default::default()
    };
    let mut app = App::new(AppOptions::default());
    app.queue(startup_action(dir.as_deref()));
    app.load_models_once_open(models);
    eframe::run_native("SceneLab", options, Box::new(move |_cc| Ok(Box::new(app))))
        .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}
