//! Hyperparameter search from the app: the same random search with movie-level
//! cross-validation as `scenelab search` ([`crate::train::search::run_search`]), run on the
//! loaded movies in a background job, with a live table of trials sorted by score, a chart of
//! score per trial, progress with an ETA, and "Load best model" once the best configuration has
//! been retrained.
//!
//! [`SearchState`] is what the app knows about the search; [`SearchPanel`] draws it and
//! returns [`Action`]s. The job ([`run_search_job`]) forwards [`SearchEvent`]s as
//! its payloads ([`SearchProgress`], [`SearchFinished`], ...); [`App::apply_search`] is the app's side.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::jobs::{Deliver, JobObserver, Reporter};
use super::training_panel::{self, ModelScores, usable_for_training};
use super::{Action, App, AppState};
use crate::data::{Movie, SplitError};
use crate::model::ModelKind;
use crate::train::decision::{self, Objective};
use crate::train::search::{
    self, FinalResult, FoldRecord, SearchConfig, SearchError, SearchEvent, SearchOutcome,
    TestScores, TrialRecord,
};
use crate::train::{TrainEvent, TrainSettings, space};

/// What Start will search, as the form shows it (the options of `scenelab search`).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchForm {
    pub kind: ModelKind,
    /// Trials wanted in total; finished ones in the output folder count.
    pub trials: usize,
    pub folds: usize,
    /// Most epochs of every run (early stopping may end sooner).
    pub epochs: usize,
    pub patience: usize,
    pub seed: u64,
    pub test_movies: usize,
    /// What the decision step maximises on the validation movies.
    pub objective: Objective,
    /// Tune non-maximum suppression and the minimum scene length as well as the threshold.
    pub peak_picking: bool,
    /// Results folder; the same folder again resumes its search.
    pub out_dir: String,
}

/// The output folder `scenelab search --model KIND` uses without `--out`, as the form shows it.
fn default_out_dir(kind: ModelKind) -> String {
    search::default_out_dir(kind).display().to_string()
}

impl Default for SearchForm {
    fn default() -> Self {
        let kind = ModelKind::Default;
        let defaults = SearchConfig::new(kind, PathBuf::new());
        SearchForm {
            kind,
            trials: defaults.trials,
            folds: defaults.folds,
            epochs: kind.default_epochs(),
            patience: defaults.settings.patience,
            seed: defaults.seed,
            test_movies: defaults.test_movies,
            objective: defaults.objective,
            peak_picking: true,
            out_dir: default_out_dir(kind),
        }
    }
}

impl SearchForm {
    /// Another kind: its default epochs and folder, unless the user changed them.
    pub fn set_kind(&mut self, kind: ModelKind) {
        if self.kind == kind {
            return;
        }
        if self.epochs == self.kind.default_epochs() {
            self.epochs = kind.default_epochs();
        }
        if self.out_dir == default_out_dir(self.kind) {
            self.out_dir = default_out_dir(kind);
        }
        self.kind = kind;
    }

    /// The settings of a saved search, so that Start resumes it (with more trials if asked).
    pub fn take_saved(&mut self, saved: &SavedSearch) {
        let h = &saved.header;
        self.kind = h.kind;
        self.folds = h.folds;
        self.seed = h.seed;
        self.epochs = h.settings.epochs;
        self.patience = h.settings.patience;
        self.test_movies = h.test_ids.len();
        self.trials = self.trials.max(saved.trials.len());
        self.objective = h.objective;
        // Peak picking is whatever goes beyond a plain threshold.
        self.peak_picking = h.grid.nms_windows.iter().any(|&w| w > 0)
            || h.grid.min_scene_lens.iter().any(|&l| l > 1);
        self.out_dir = saved.out_dir.display().to_string();
    }

    /// The library's configuration, as `scenelab search` builds it from the same options.
    pub fn config(&self) -> SearchConfig {
        let mut config = SearchConfig::new(self.kind, PathBuf::from(self.out_dir.trim()));
        config.trials = self.trials;
        config.folds = self.folds;
        config.seed = self.seed;
        config.test_movies = self.test_movies;
        config.settings = TrainSettings {
            epochs: self.epochs,
            patience: self.patience,
            ..config.settings
        };
        config.objective = self.objective;
        config.grid = decision::grid_for(self.peak_picking);
        config
    }
}

/// A finished trial as the table shows it.
#[derive(Debug, Clone)]
pub struct TrialRow {
    pub record: TrialRecord,
    /// The sampled hyperparameters (`space::describe`), worked out once.
    pub params: Vec<(String, String)>,
    /// Read back from the output folder rather than trained by this run.
    pub resumed: bool,
}

impl TrialRow {
    fn new(record: TrialRecord, resumed: bool) -> Self {
        TrialRow {
            params: space::describe(&record.config()),
            record,
            resumed,
        }
    }
}

/// The trial being trained.
#[derive(Debug, Clone)]
pub struct RunningTrial {
    pub trial: usize,
    pub params: Vec<(String, String)>,
    pub folds: Vec<FoldRecord>,
}

/// Progress of the current (or last) search.
#[derive(Debug, Clone, Default)]
pub struct SearchRun {
    pub kind: Option<ModelKind>,
    pub out_dir: PathBuf,
    /// Trials wanted, folds, training and test movies, as the search started.
    pub trials: usize,
    pub folds: usize,
    pub train_movies: usize,
    pub test_movies: usize,
    /// Training runs this search does (unfinished trials × folds, plus the final fit).
    pub runs_total: usize,
    pub runs_done: usize,
    /// Epochs of the current training run (early stopping may end it sooner).
    pub run_epochs: usize,
    /// Fraction of the current training run done (its steps).
    pub run_fraction: f64,
    /// Finished trials, best (highest mean validation mAP) first.
    pub rows: Vec<TrialRow>,
    pub current: Option<RunningTrial>,
    /// The trial retrained on all training movies, while that runs.
    pub final_fit: Option<usize>,
    /// Seconds left as of the instant the search last said.
    pub eta: Option<(f64, Instant)>,
    /// The search ended (finished, cancelled or failed).
    pub ended: bool,
    pub cancelled: bool,
    pub final_result: Option<FinalResult>,
    /// `final_result` is an earlier run's final fit, reused because its trial is still best.
    pub final_reused: bool,
    /// The folder's saved final fit is of this trial, which is no longer the best one: the
    /// final fit has not run for the new best (its model is not offered).
    pub stale_final: Option<usize>,
    pub error: Option<String>,
}

impl SearchRun {
    /// A fresh run of `config` (nothing known yet).
    pub fn starting(config: &SearchConfig) -> Self {
        SearchRun {
            kind: Some(config.kind),
            out_dir: config.out_dir.clone(),
            trials: config.trials,
            folds: config.folds,
            ..SearchRun::default()
        }
    }

    /// Fraction of the search done, once it has said how many runs it makes.
    pub fn fraction(&self) -> Option<f32> {
        if self.runs_total == 0 {
            return None;
        }
        let done = self.runs_done as f64 + if self.ended { 0.0 } else { self.run_fraction };
        Some((done / self.runs_total as f64).clamp(0.0, 1.0) as f32)
    }

    /// Seconds left now.
    pub fn eta_seconds(&self) -> Option<f64> {
        self.eta
            .map(|(s, at)| (s - at.elapsed().as_secs_f64()).max(0.0))
    }

    /// Best first, as [`search::rank`] sorts the table.
    fn sort_rows(&mut self) {
        self.rows.sort_by(|a, b| {
            b.record
                .map_mean
                .total_cmp(&a.record.map_mean)
                .then(a.record.trial.cmp(&b.record.trial))
        });
    }

    fn insert(&mut self, row: TrialRow) {
        self.rows.retain(|r| r.record.trial != row.record.trial);
        self.rows.push(row);
        self.sort_rows();
    }

    /// Trials found in the output folder when the search started.
    pub fn add_resumed(&mut self, records: Vec<TrialRecord>) {
        let mut known: HashSet<usize> = self.rows.iter().map(|r| r.record.trial).collect();
        for r in records {
            if known.insert(r.trial) {
                self.rows.push(TrialRow::new(r, true));
            }
        }
        self.sort_rows();
    }

    fn set_eta(&mut self, seconds: f64) {
        self.eta = seconds.is_finite().then(|| (seconds, Instant::now()));
    }

    pub fn apply(&mut self, ev: &SearchEvent) {
        match ev {
            SearchEvent::Started {
                trials,
                resumed,
                folds,
                train_movies,
                test_movies,
                runs,
            } => {
                self.trials = *trials;
                self.folds = *folds;
                self.train_movies = *train_movies;
                self.test_movies = *test_movies;
                self.runs_total = *runs;
                // The search has accepted the folder: show what it resumes from.
                self.add_resumed(resumed.clone());
            }
            SearchEvent::TrialStarted { trial, config } => {
                self.current = Some(RunningTrial {
                    trial: *trial,
                    params: space::describe(config),
                    folds: Vec::new(),
                });
                self.run_fraction = 0.0;
            }
            SearchEvent::Train { event, .. } => match event {
                TrainEvent::Started { epochs, .. } => {
                    self.run_epochs = *epochs;
                    self.run_fraction = 0.0;
                }
                TrainEvent::Step {
                    epoch,
                    step,
                    steps_per_epoch,
                    ..
                } => {
                    let epochs = self.run_epochs.max(1) as f64;
                    let per_epoch = (*steps_per_epoch).max(1) as f64;
                    // Both 1-based: `step` of `steps_per_epoch` are done in this epoch.
                    let done = (*epoch - 1) as f64 + *step as f64 / per_epoch;
                    self.run_fraction = (done / epochs).min(1.0);
                }
                _ => {}
            },
            SearchEvent::FoldFinished {
                trial,
                record,
                eta_seconds,
            } => {
                self.runs_done += 1;
                self.run_fraction = 0.0;
                self.set_eta(*eta_seconds);
                if let Some(c) = self.current.as_mut().filter(|c| c.trial == *trial) {
                    c.folds.push(record.clone());
                }
            }
            SearchEvent::TrialFinished {
                record,
                eta_seconds,
            } => {
                self.set_eta(*eta_seconds);
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.trial == record.trial)
                {
                    self.current = None;
                }
                self.insert(TrialRow::new(record.clone(), false));
            }
            SearchEvent::FinalFitStarted { trial } => {
                self.current = None;
                self.final_fit = Some(*trial);
                self.run_fraction = 0.0;
            }
            SearchEvent::DecisionTuned(_) => {
                self.runs_done += 1;
                self.run_fraction = 0.0;
            }
            SearchEvent::Finished { cancelled } => {
                self.cancelled = *cancelled;
                self.eta = None;
            }
        }
    }

    /// The job ended with `result`.
    pub fn finish(&mut self, result: &Result<SearchOutcome, String>) {
        self.ended = true;
        self.current = None;
        self.final_fit = None;
        self.eta = None;
        self.run_fraction = 0.0;
        match result {
            Ok(outcome) => {
                let resumed: HashSet<usize> = self
                    .rows
                    .iter()
                    .filter(|r| r.resumed)
                    .map(|r| r.record.trial)
                    .collect();
                self.rows = outcome
                    .trials
                    .iter()
                    .map(|t| TrialRow::new(t.clone(), resumed.contains(&t.trial)))
                    .collect();
                self.sort_rows();
                self.cancelled = outcome.cancelled;
                self.final_result = outcome.final_result.clone();
                self.final_reused = outcome.final_reused;
            }
            Err(e) => self.error = Some(e.clone()),
        }
    }

    /// `[trial, mean validation mAP]` and `[trial, mean Miou]` of the finished trials, and the
    /// best mAP so far in trial order.
    pub fn chart(&self) -> ChartSeries {
        let mut by_trial: Vec<&TrialRecord> = self.rows.iter().map(|r| &r.record).collect();
        by_trial.sort_by_key(|r| r.trial);
        let mut best = f64::NEG_INFINITY;
        let mut best_so_far = Vec::new();
        for r in &by_trial {
            if r.map_mean.is_finite() && r.map_mean > best {
                best = r.map_mean;
            }
            if best.is_finite() {
                best_so_far.push([r.trial as f64, best]);
            }
        }
        ChartSeries {
            map: by_trial
                .iter()
                .map(|r| [r.trial as f64, r.map_mean])
                .collect(),
            miou: by_trial
                .iter()
                .map(|r| [r.trial as f64, r.miou_mean])
                .collect(),
            best_so_far,
        }
    }
}

/// The chart's points.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    pub map: Vec<[f64; 2]>,
    pub miou: Vec<[f64; 2]>,
    pub best_so_far: Vec<[f64; 2]>,
}

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
    SetForm(Box<SearchForm>),
    /// Search what the form says on the open folder (on a background thread).
    Start,
    Cancel,
    /// Score the movies with the last search's best model and add it as a source.
    LoadBest,
    /// Show the results already in the output folder (of the app or `scenelab search`).
    OpenResults,
}

/// The search job's progress, for the table and the chart.
pub struct SearchProgress(pub SearchEvent);

/// The search job's answer.
pub struct SearchFinished(pub Result<SearchOutcome, String>);

/// The Open results job's answer.
pub struct SearchOpened(pub Result<Box<SavedSearch>, String>);

/// The Load best model job's answer.
pub struct BestLoaded {
    pub name: String,
    pub result: Result<ModelScores, String>,
}

/// A finished (or cancelled) search read back from its folder.
#[derive(Debug, Clone)]
pub struct SavedSearch {
    pub out_dir: PathBuf,
    pub header: search::SearchHeader,
    /// One record per trial, best first.
    pub trials: Vec<TrialRecord>,
    /// The final fit, when it is of the table's best trial.
    pub final_result: Option<FinalResult>,
    /// The trial of a saved final fit that is no longer the best one.
    pub stale_final: Option<usize>,
    /// Why `summary.json` could not be read (the trials are still shown).
    pub summary_error: Option<String>,
}

/// Read what `run_search` wrote into `out`: its header, the finished trials and, if the best
/// configuration was retrained, the summary (its model looked for in `out/best`, wherever the
/// search ran from). A summary of a trial that is no longer the best (trials were added after
/// it, and the final fit did not run again) is not taken as the best model.
pub fn read_saved_search(out: &Path) -> Result<SavedSearch, String> {
    let header = search::read_header(out)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "{} has no {}: choose the folder a search wrote",
                out.display(),
                search::HEADER_FILE
            )
        })?;
    let mut trials =
        search::read_trials(&out.join(search::TRIALS_FILE)).map_err(|e| e.to_string())?;
    search::rank(&mut trials);
    let (summary, summary_error) = match search::read_summary(out) {
        Ok(s) => (s, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let best_trial = trials.first().map(|t| t.trial);
    let (final_result, stale_final) = match summary {
        Some(f) if Some(f.trial) == best_trial => (Some(f), None),
        Some(f) => (None, Some(f.trial)),
        None => (None, None),
    };
    Ok(SavedSearch {
        out_dir: out.to_path_buf(),
        header,
        trials,
        final_result,
        stale_final,
        summary_error,
    })
}

impl SearchRun {
    /// The run as a saved search shows it: every trial read back, nothing running.
    pub fn from_saved(saved: SavedSearch) -> Self {
        let mut run = SearchRun {
            kind: Some(saved.header.kind),
            out_dir: saved.out_dir,
            trials: saved.trials.len(),
            folds: saved.header.folds,
            train_movies: saved.header.train_ids.len(),
            test_movies: saved.header.test_ids.len(),
            ended: true,
            final_result: saved.final_result,
            stale_final: saved.stale_final,
            ..SearchRun::default()
        };
        run.add_resumed(saved.trials);
        run
    }
}

/// The search job: [`search::search_observed`] on the loaded movies (it leaves out those
/// without ground truth or a modality, by id, so no movie is copied), forwarding its progress
/// and events; errors in the form's terms.
pub fn run_search_job(
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
fn search_message(e: SearchError, usable: usize, config: &SearchConfig) -> String {
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
    pub(super) fn apply_search(&mut self, action: SearchAction) {
        match action {
            SearchAction::Show(open) => self.state.search.open = open,
            SearchAction::SetForm(form) => {
                if !self.state.search.is_running() {
                    self.search_panel.form = *form;
                }
            }
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
            move |_| training_panel::load_and_score(&dir, &movies),
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
const SEARCH_JOB: &str = "Searching";
const BEST_JOB: &str = "Scoring the movies with the best model in";
const OPEN_JOB: &str = "Reading the search results in";

/// The search window; it owns the form the user is filling in.
#[derive(Default)]
pub struct SearchPanel {
    /// What Start will search (read when the search starts; not editable while one runs).
    pub form: SearchForm,
}

impl SearchPanel {
    /// The window, open while `state.search.open`.
    pub fn window(&mut self, ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
        let mut open = state.search.open;
        egui::Window::new("Hyperparameter search")
            .open(&mut open)
            .default_pos([330.0, 110.0])
            .default_width(1040.0)
            .default_height(760.0)
            .resizable(true)
            .show(ctx, |ui| self.ui(ui, state, actions));
        if open != state.search.open {
            actions.push(Action::Search(SearchAction::Show(open)));
        }
    }

    /// The window's contents: form, buttons and progress, chart, table, final result.
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.form(ui, state);
                ui.separator();
                self.controls(ui, state, actions);
                ui.separator();
                let s = &state.search;
                let trials = if s.run.trials > 0 {
                    s.run.trials
                } else {
                    self.form.trials
                };
                self.chart(ui, &s.run, trials);
                ui.separator();
                let run = &state.search.run;
                self.table(ui, run);
                if let Some(f) = &run.final_result {
                    ui.separator();
                    final_result(ui, f, run.final_reused);
                } else if let (Some(old), Some(best)) = (run.stale_final, run.rows.first()) {
                    ui.separator();
                    ui.label(format!(
                        "Trial {} now scores best, but the final fit has not run for it (the saved best model is of trial {old}): Start again with this folder to retrain it",
                        best.record.trial
                    ));
                }
            });
    }

    fn form(&mut self, ui: &mut egui::Ui, state: &AppState) {
        let s = &state.search;
        let form = &mut self.form;
        ui.add_enabled_ui(!s.is_running(), |ui| {
            egui::Grid::new("search_form")
                .num_columns(4)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    let l = ui.label("Model");
                    let mut kind = form.kind;
                    egui::ComboBox::from_id_salt("search_kind")
                        .selected_text(kind.name())
                        .show_ui(ui, |ui| {
                            for k in ModelKind::ALL {
                                ui.selectable_value(&mut kind, k, k.name());
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    form.set_kind(kind);
                    number(ui, "Trials", &mut form.trials, 1..=10_000);
                    ui.end_row();
                    number(ui, "Folds", &mut form.folds, 2..=20);
                    number(ui, "Epochs (most)", &mut form.epochs, 1..=1000);
                    ui.end_row();
                    number(ui, "Patience", &mut form.patience, 1..=1000);
                    let l = ui.label("Seed");
                    ui.add(egui::DragValue::new(&mut form.seed))
                        .labelled_by(l.id);
                    ui.end_row();
                    number(ui, "Test movies", &mut form.test_movies, 0..=1000);
                    let l = ui.label("Objective");
                    egui::ComboBox::from_id_salt("search_objective")
                        .selected_text(form.objective.name())
                        .show_ui(ui, |ui| {
                            for o in [Objective::Miou, Objective::F1] {
                                ui.selectable_value(&mut form.objective, o, o.name());
                            }
                        })
                        .response
                        .labelled_by(l.id)
                        .on_hover_text(
                            "What the threshold and peak picking maximise on validation movies",
                        );
                    ui.end_row();
                    ui.label("Peak picking");
                    ui.checkbox(&mut form.peak_picking, "tune NMS and minimum scene length");
                    ui.end_row();
                });
            ui.horizontal(|ui| {
                let label = ui.label("Output folder");
                ui.add(
                    egui::TextEdit::singleline(&mut form.out_dir)
                        .desired_width(420.0)
                        .hint_text(default_out_dir(form.kind)),
                )
                .labelled_by(label.id)
                .on_hover_text("Start again with the same folder to resume its search");
            });
        });
        let usable = state
            .movies()
            .iter()
            .filter(|m| usable_for_training(m))
            .count();
        let train = usable.saturating_sub(form.test_movies);
        let text = format!(
            "{usable} usable movies: {} test, {train} training in {} folds (each fold validates ~{} movies)",
            form.test_movies.min(usable),
            form.folds,
            train.div_ceil(form.folds.max(1))
        );
        if usable < form.test_movies + form.folds {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{text}: too few, lower Test movies or Folds"),
            );
        } else {
            ui.label(text);
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let s = &state.search;
        let run = &s.run;
        ui.horizontal(|ui| {
            let can_start = !s.is_running() && state.folder.is_some();
            if ui
                .add_enabled(can_start, egui::Button::new("Start"))
                .on_hover_text(
                    "Search on the open folder's movies; a folder holding finished trials resumes",
                )
                .clicked()
            {
                actions.push(Action::Search(SearchAction::Start));
            }
            if ui
                .add_enabled(s.is_running(), egui::Button::new("Cancel"))
                .on_hover_text("Stop after the current step; finished trials are kept")
                .clicked()
            {
                actions.push(Action::Search(SearchAction::Cancel));
            }
            if ui
                .add_enabled(!s.is_running(), egui::Button::new("Open results"))
                .on_hover_text(
                    "Show the trials and best model already in the output folder, without training",
                )
                .clicked()
            {
                actions.push(Action::Search(SearchAction::OpenResults));
            }
            let can_load = run.final_result.is_some() && !s.is_running() && !s.loading_best;
            if ui
                .add_enabled(can_load, egui::Button::new("Load best model"))
                .on_hover_text(
                    "Score every movie with the retrained best configuration and add it as a source",
                )
                .clicked()
            {
                actions.push(Action::Search(SearchAction::LoadBest));
            }
            if s.loading_best {
                ui.spinner();
                ui.label("scoring the movies…");
            } else if let Some(name) = &s.loaded {
                ui.label(format!("loaded as \"{name}\""));
            }
        });
        if let Some(f) = run.fraction() {
            let eta = match (s.is_running(), run.eta_seconds()) {
                (true, Some(secs)) => format!(", ETA {}", crate::train::format_duration(secs)),
                (true, None) => ", ETA after the first fold".to_string(),
                _ => String::new(),
            };
            let text = format!("run {} of {}{eta}", run.runs_done, run.runs_total);
            ui.add(egui::ProgressBar::new(f).text(text));
        } else if s.is_running() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("preparing…");
            });
        }
        if s.is_running() {
            let what = match (&run.current, run.final_fit) {
                (Some(c), _) => format!(
                    "Training trial {} (trials 0 to {}), fold {} of {}",
                    c.trial,
                    run.trials.saturating_sub(1),
                    c.folds.len() + 1,
                    run.folds
                ),
                (None, Some(t)) => format!("Retraining trial {t} on all training movies"),
                _ => String::new(),
            };
            if !what.is_empty() {
                ui.label(what);
            }
        } else if run.ended && run.error.is_none() {
            let resumed = run.rows.iter().filter(|r| r.resumed).count();
            let mut text = format!(
                "{} finished trials ({resumed} from earlier runs) in {}",
                run.rows.len(),
                run.out_dir.display()
            );
            if run.cancelled {
                text.push_str(": cancelled; Start again with the same folder to resume");
            }
            ui.label(text);
        }
        if run.train_movies > 0 {
            ui.label(format!(
                "{} training movies in {} folds, {} test movies kept out until the end",
                run.train_movies, run.folds, run.test_movies
            ));
        }
        if let Some(e) = &run.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }

    /// `trials` sets the x range: the run's, or the form's before any run.
    fn chart(&mut self, ui: &mut egui::Ui, run: &SearchRun, trials: usize) {
        ui.label("Validation score per trial (mean over folds)");
        let series = run.chart();
        // Scores autoscale to show small differences; with none yet, the whole range.
        let top = if series.map.is_empty() { 1.0 } else { 0.0 };
        Plot::new("search_score_plot")
            .height(170.0)
            .legend(Legend::default())
            .x_axis_label("trial")
            .include_y(0.0)
            .include_y(top)
            .include_x(-0.5)
            .include_x(trials.max(1) as f64 - 0.5)
            .show(ui, move |p| {
                p.line(Line::new(
                    "best mAP so far",
                    PlotPoints::from(series.best_so_far),
                ));
                p.points(Points::new("mAP", PlotPoints::from(series.map)).radius(4.0));
                p.points(Points::new("Miou", PlotPoints::from(series.miou)).radius(3.0));
            });
    }

    fn table(&mut self, ui: &mut egui::Ui, run: &SearchRun) {
        let names: Vec<&str> = run
            .rows
            .first()
            .map(|r| r.params.as_slice())
            .or(run.current.as_ref().map(|c| c.params.as_slice()))
            .unwrap_or_default()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        if names.is_empty() {
            ui.label("No trials yet.");
            return;
        }
        ui.label("Trials, best mean validation mAP first");
        egui::ScrollArea::horizontal()
            .id_salt("search_table_scroll")
            .show(ui, |ui| {
                egui::Grid::new("search_table")
                    .striped(true)
                    .spacing([14.0, 4.0])
                    .show(ui, |ui| {
                        for h in ["rank", "trial", "mAP", "Miou", "time", "status"] {
                            ui.strong(h);
                        }
                        for n in &names {
                            ui.strong(*n);
                        }
                        ui.end_row();
                        for (i, row) in run.rows.iter().enumerate() {
                            let r = &row.record;
                            ui.label((i + 1).to_string());
                            ui.label(r.trial.to_string());
                            let map = format!("{:.4} ± {:.4}", r.map_mean, r.map_std);
                            if i == 0 {
                                ui.strong(map);
                            } else {
                                ui.label(map);
                            }
                            ui.label(format!("{:.4} ± {:.4}", r.miou_mean, r.miou_std));
                            ui.label(crate::train::format_duration(r.seconds));
                            ui.label(if row.resumed {
                                "earlier run"
                            } else {
                                "finished"
                            });
                            for (_, v) in &row.params {
                                ui.label(v);
                            }
                            ui.end_row();
                        }
                        if let Some(c) = &run.current {
                            ui.label("");
                            ui.label(c.trial.to_string());
                            let maps: Vec<f64> = c.folds.iter().map(|f| f.map).collect();
                            let mious: Vec<f64> = c.folds.iter().map(|f| f.miou).collect();
                            ui.label(partial(&maps));
                            ui.label(partial(&mious));
                            let secs: f64 = c.folds.iter().map(|f| f.seconds).sum();
                            ui.label(crate::train::format_duration(secs));
                            ui.label(format!(
                                "running fold {} of {}",
                                c.folds.len() + 1,
                                run.folds
                            ));
                            for (_, v) in &c.params {
                                ui.label(v);
                            }
                            ui.end_row();
                        }
                    });
            });
    }
}

/// The retrained best configuration: its tuned decision and its one look at the test movies.
fn final_result(ui: &mut egui::Ui, f: &FinalResult, reused: bool) {
    let when = if reused {
        " by an earlier run (still the best trial)"
    } else {
        ""
    };
    ui.label(format!(
        "Best: trial {}, retrained on all training movies{when} and saved to {}",
        f.trial,
        f.model_dir.display()
    ));
    ui.label(format!(
        "Decision tuned on out-of-fold predictions (training movies only): {}",
        f.decision
    ));
    let Some(TestScores { raw, decided }) = &f.test else {
        ui.label("No test movies were held out: there are no test scores.");
        return;
    };
    ui.label(format!("Test movies ({}), scored once:", f.test_ids.len()));
    egui::Grid::new("search_test_metrics")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in ["", "AP", "mAP", "Miou", "Precision", "Recall", "F1"] {
                ui.strong(h);
            }
            ui.end_row();
            for (label, m) in [("raw scores, >= 0.5", raw), ("tuned decision", decided)] {
                ui.label(label);
                for v in [m.ap, m.map, m.miou, m.precision, m.recall, m.f1] {
                    ui.label(format!("{v:.4}"));
                }
                ui.end_row();
            }
        });
}

/// Mean ± spread of the folds finished so far.
fn partial(values: &[f64]) -> String {
    if values.is_empty() {
        return "…".into();
    }
    let (mean, std) = search::mean_std(values);
    format!("{mean:.4} ± {std:.4} …")
}

fn number(ui: &mut egui::Ui, label: &str, v: &mut usize, range: std::ops::RangeInclusive<usize>) {
    let l = ui.label(label);
    ui.add(egui::DragValue::new(v).range(range))
        .labelled_by(l.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(trial: usize, map_mean: f64) -> TrialRecord {
        let config = space::trial_config(ModelKind::Wavenet, 0, trial, &TrainSettings::default());
        TrialRecord {
            trial,
            model: config.model,
            settings: config.settings,
            folds: Vec::new(),
            map_mean,
            map_std: 0.01,
            miou_mean: map_mean / 2.0,
            miou_std: 0.02,
            seconds: 1.0,
        }
    }

    fn fold(fold: usize) -> FoldRecord {
        FoldRecord {
            fold,
            validation_ids: vec![format!("tt{fold}")],
            map: 0.3,
            miou: 0.4,
            epochs_run: 2,
            best_epoch: Some(2),
            seconds: 1.0,
        }
    }

    fn header(objective: Objective, peak_picking: bool) -> search::SearchHeader {
        search::SearchHeader {
            format: search::FORMAT.into(),
            version: search::SEARCH_VERSION,
            kind: ModelKind::Wavenet,
            seed: 4,
            folds: 2,
            settings: TrainSettings::for_kind(ModelKind::Wavenet),
            test_ids: vec!["tt9".into()],
            train_ids: vec!["tt1".into(), "tt2".into()],
            objective,
            grid: decision::grid_for(peak_picking),
        }
    }

    /// A search folder holding trials 0 (mAP 0.2) and 1 (0.5), and a final fit of `summary_trial`.
    fn saved_folder(summary_trial: usize) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        fn json(v: &impl serde::Serialize) -> String {
            serde_json::to_string(v).unwrap()
        }
        std::fs::write(
            out.join(search::HEADER_FILE),
            json(&header(Objective::Miou, true)),
        )
        .unwrap();
        let lines: String = [record(0, 0.2), record(1, 0.5)]
            .iter()
            .map(|r| json(r) + "\n")
            .collect();
        std::fs::write(out.join(search::TRIALS_FILE), lines).unwrap();
        let best = out.join(search::BEST_DIR);
        std::fs::create_dir_all(&best).unwrap();
        std::fs::write(best.join(crate::train::checkpoint::CONFIG_FILE), "{}").unwrap();
        std::fs::write(best.join(crate::train::checkpoint::WEIGHTS_FILE), "").unwrap();
        let summary = FinalResult {
            trial: summary_trial,
            model_dir: PathBuf::from("elsewhere/best"),
            decision: decision::TunedDecision {
                decision: decision::Decision::default(),
                value: f64::NAN,
                reference_value: f64::NAN,
                evaluated: 1,
            },
            grid: decision::grid_for(true),
            test_ids: vec!["tt9".into()],
            test: None,
        };
        std::fs::write(out.join(search::SUMMARY_FILE), json(&summary)).unwrap();
        tmp
    }

    #[test]
    fn a_saved_final_fit_is_the_best_model_only_while_its_trial_is_best() {
        let current = saved_folder(1);
        let saved = read_saved_search(current.path()).unwrap();
        assert_eq!(saved.summary_error, None);
        let f = saved
            .final_result
            .as_ref()
            .expect("the final fit of the best trial");
        // NaN scores (an F1 objective with no value) read back; the model is the folder's.
        assert!(f.decision.value.is_nan());
        assert_eq!(f.model_dir, current.path().join(search::BEST_DIR));
        let run = SearchRun::from_saved(saved);
        assert_eq!(
            (run.final_result.map(|f| f.trial), run.stale_final),
            (Some(1), None)
        );

        // Trials were added after the final fit and one of them is better.
        let stale = saved_folder(0);
        let saved = read_saved_search(stale.path()).unwrap();
        assert!(saved.final_result.is_none());
        assert_eq!(saved.stale_final, Some(0));
        let state = SearchState {
            run: SearchRun::from_saved(saved),
            ..SearchState::default()
        };
        assert_eq!(state.run.rows[0].record.trial, 1);
        // Load best model has nothing to load.
        assert!(state.best_source_name().is_none());
    }

    #[test]
    fn an_unreadable_summary_is_reported_and_the_trials_still_shown() {
        let tmp = saved_folder(1);
        std::fs::write(tmp.path().join(search::SUMMARY_FILE), "{\"trial\": 1,").unwrap();
        let saved = read_saved_search(tmp.path()).unwrap();
        let e = saved.summary_error.as_deref().expect("an error");
        assert!(e.contains(search::SUMMARY_FILE), "{e}");
        assert!(saved.final_result.is_none());
        assert_eq!(saved.trials.len(), 2);
    }

    #[test]
    fn a_folder_of_another_version_says_to_choose_another() {
        let tmp = saved_folder(1);
        let mut h = header(Objective::Miou, true);
        h.version = 0;
        let mut value = serde_json::to_value(&h).unwrap();
        value.as_object_mut().unwrap().remove("version");
        std::fs::write(tmp.path().join(search::HEADER_FILE), value.to_string()).unwrap();
        let e = read_saved_search(tmp.path()).unwrap_err();
        assert!(
            e.contains("another SceneLab version") && e.contains("another output folder"),
            "{e}"
        );
    }

    #[test]
    fn open_results_takes_the_objective_and_grid_of_the_search() {
        for (objective, peak_picking) in [(Objective::F1, false), (Objective::Miou, true)] {
            let saved = SavedSearch {
                out_dir: PathBuf::from("runs/x"),
                header: header(objective, peak_picking),
                trials: vec![record(0, 0.2)],
                final_result: None,
                stale_final: None,
                summary_error: None,
            };
            let mut form = SearchForm {
                objective: Objective::Miou,
                peak_picking: !peak_picking,
                ..SearchForm::default()
            };
            form.take_saved(&saved);
            assert_eq!(
                (form.objective, form.peak_picking),
                (objective, peak_picking)
            );
            let config = form.config();
            assert_eq!(
                (config.objective, &config.grid),
                (objective, &saved.header.grid)
            );
        }
    }

    #[test]
    fn a_folder_without_a_search_says_what_to_choose() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_saved_search(tmp.path()).unwrap_err();
        assert!(e.contains(search::HEADER_FILE), "{e}");
    }

    #[test]
    fn another_kind_takes_its_defaults_unless_the_user_changed_them() {
        let mut f = SearchForm::default();
        f.set_kind(ModelKind::Lgss);
        assert_eq!(f.epochs, ModelKind::Lgss.default_epochs());
        assert_eq!(f.out_dir, "runs/search-lgss");
        f.epochs = 2;
        f.out_dir = "mine".into();
        f.set_kind(ModelKind::Wavenet);
        assert_eq!((f.epochs, f.out_dir.as_str()), (2, "mine"));
    }

    #[test]
    fn the_config_is_what_the_form_says() {
        let mut f = SearchForm::default();
        f.set_kind(ModelKind::Bilstm);
        f.trials = 5;
        f.folds = 4;
        f.epochs = 3;
        f.patience = 2;
        f.seed = 9;
        f.test_movies = 1;
        f.objective = Objective::F1;
        f.out_dir = " runs/x ".into();
        let c = f.config();
        assert_eq!(
            (c.kind, c.trials, c.folds, c.seed),
            (ModelKind::Bilstm, 5, 4, 9)
        );
        assert_eq!((c.test_movies, c.objective), (1, Objective::F1));
        assert_eq!((c.settings.epochs, c.settings.patience), (3, 2));
        assert_eq!(c.out_dir, PathBuf::from("runs/x"));
        assert_eq!(c.grid, crate::train::decision::DecisionGrid::default());
        f.peak_picking = false;
        assert_eq!(
            f.config().grid,
            crate::train::decision::DecisionGrid::thresholds_only()
        );
    }

    #[test]
    fn events_build_the_progress_table_and_chart() {
        let mut run = SearchRun::default();
        run.apply(&SearchEvent::Started {
            trials: 3,
            resumed: vec![record(0, 0.2)],
            folds: 2,
            train_movies: 6,
            test_movies: 2,
            runs: 5,
        });
        assert_eq!(run.fraction(), Some(0.0));
        assert_eq!(run.eta_seconds(), None);

        let r1 = record(1, 0.5);
        run.apply(&SearchEvent::TrialStarted {
            trial: 1,
            config: r1.config(),
        });
        run.apply(&SearchEvent::Train {
            trial: Some(1),
            fold: Some(0),
            event: TrainEvent::Started {
                train_movies: 3,
                validation_movies: 1,
                test_movies: 2,
                epochs: 2,
                steps_per_epoch: 2,
                pos_weight: 3.0,
            },
        });
        run.apply(&SearchEvent::Train {
            trial: Some(1),
            fold: Some(0),
            event: TrainEvent::Step {
                epoch: 1,
                step: 2,
                steps_per_epoch: 2,
                loss: 0.5,
                learning_rate: 1e-3,
            },
        });
        // Both steps of the first of two epochs: half of the first of five runs.
        assert_eq!(run.fraction(), Some(0.1));
        run.apply(&SearchEvent::FoldFinished {
            trial: 1,
            record: fold(0),
            eta_seconds: 40.0,
        });
        assert_eq!(run.runs_done, 1);
        assert_eq!(run.current.as_ref().unwrap().folds.len(), 1);
        let eta = run.eta_seconds().unwrap();
        assert!(eta > 39.0 && eta <= 40.0, "{eta}");

        run.apply(&SearchEvent::FoldFinished {
            trial: 1,
            record: fold(1),
            eta_seconds: f64::NAN,
        });
        run.apply(&SearchEvent::TrialFinished {
            record: r1,
            eta_seconds: 10.0,
        });
        assert!(run.current.is_none());
        let order: Vec<(usize, bool)> = run
            .rows
            .iter()
            .map(|r| (r.record.trial, r.resumed))
            .collect();
        assert_eq!(order, vec![(1, false), (0, true)]);
        assert!(run.rows[0].params.iter().any(|(n, _)| n == "num_blocks"));

        run.apply(&SearchEvent::TrialStarted {
            trial: 2,
            config: record(2, 0.0).config(),
        });
        run.apply(&SearchEvent::TrialFinished {
            record: record(2, 0.3),
            eta_seconds: 5.0,
        });
        let chart = run.chart();
        assert_eq!(chart.map, vec![[0.0, 0.2], [1.0, 0.5], [2.0, 0.3]]);
        assert_eq!(chart.miou, vec![[0.0, 0.1], [1.0, 0.25], [2.0, 0.15]]);
        assert_eq!(chart.best_so_far, vec![[0.0, 0.2], [1.0, 0.5], [2.0, 0.5]]);

        run.apply(&SearchEvent::Finished { cancelled: true });
        assert!(run.cancelled);
        assert_eq!(run.eta_seconds(), None);
    }

    #[test]
    fn the_outcome_replaces_the_live_rows_and_keeps_which_were_resumed() {
        let mut run = SearchRun::default();
        run.add_resumed(vec![record(0, 0.2)]);
        let outcome = SearchOutcome {
            split: crate::data::Split {
                train: Vec::new(),
                validation: Vec::new(),
                test: Vec::new(),
            },
            trials: vec![record(1, 0.4), record(0, 0.2)],
            resumed: 1,
            ran: 1,
            cancelled: false,
            final_result: None,
            final_reused: false,
        };
        run.finish(&Ok(outcome));
        assert!(run.ended && !run.cancelled);
        let order: Vec<(usize, bool)> = run
            .rows
            .iter()
            .map(|r| (r.record.trial, r.resumed))
            .collect();
        assert_eq!(order, vec![(1, false), (0, true)]);
        run.finish(&Err("disk full".into()));
        assert_eq!(run.error.as_deref(), Some("disk full"));
    }
}
