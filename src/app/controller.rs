//! The controller: [`Action`]s the panels ask for and the answers of background jobs, applied
//! to the [`App`] between frames.

use std::path::PathBuf;

use crate::data::default_test_count;

use super::jobs::{Deliver, JobEvent};
use super::loader::{self, LoadedFolder};
use super::metrics::evaluation::{self, Comparison, WorkerAnswer};
use super::picker::{PickOutcome, PickPurpose};
use super::scope::Scope;
use super::sources::{PredictionSource, SourceDecision, SourceRegistry};
use super::training::DEFAULT_TEST_MOVIES;
use super::view::XAxis;
use super::{App, search};

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
    /// Set the selected movie's frame rate (it places time and subtitles on its shots).
    SetFps(f64),
    /// Hold the features of folders opened from now on at this precision (remembered).
    SetFeaturePrecision(crate::data::FeaturePrecision),
    /// Read the open movies' subtitles from a folder (`<imdb>.srt` or
    /// `subtitle/<imdb>.srt`), on a background thread.
    LoadSubtitles(PathBuf),
    DismissError(usize),
    DismissAllErrors,
    ShowPathInput(bool),
    /// Open or close the training window.
    ShowTraining(bool),
    /// Train what the form says on the open folder (on a background thread).
    StartTraining,
    /// Cross-validate what the form says on the open folder (on a background thread);
    /// cancelled by [`Action::CancelTraining`].
    StartCrossValidation,
    CancelTraining,
    /// Write the cross-validation results into a folder.
    SaveCrossValidation(PathBuf),
    /// The search window's requests.
    Search(search::SearchAction),
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
    /// Export scenes and Save report.
    Report(super::report::ReportAction),
    /// Edit the ground truth, undo, redo, save.
    Edit(super::edit::EditAction),
    /// The review queue's requests.
    Review(super::review::ReviewAction),
}

impl App {
    pub(super) fn request_metrics(&mut self) {
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
            && !self.jobs.is_running::<Compared>()
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
                    Compared(result.unwrap_or_else(|e| Comparison::failed(key, threshold, e)))
                },
            );
        }
    }

    /// A job's event: its payload applied, a panic shown (progress is the status line's).
    pub(super) fn handle_event(&mut self, ev: JobEvent<App>) {
        match ev {
            JobEvent::Progress { .. } => {}
            JobEvent::Payload(deliver) => deliver(self),
            JobEvent::Finished { job: _, panic } => {
                if let Some(p) = panic {
                    self.state
                        .errors
                        .push(format!("A background task failed: {p}"));
                }
            }
        }
    }

    /// The metrics worker's answer.
    pub(super) fn handle_worker_answer(&mut self, answer: WorkerAnswer) {
        match answer {
            WorkerAnswer::Metrics(m) => {
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
            WorkerAnswer::Sweep(s) => {
                if Some(s.key) == self.state.sweep_key() {
                    if let Some(e) = &s.error {
                        self.state.push_error(format!("Metrics: {e}"));
                    }
                    self.state.sweep = Some(s);
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
            &mut self.training_panel.form.test_movies,
            &mut self.search_panel.form.test_movies,
        ] {
            if *test_movies == automatic {
                *test_movies = default_test_count(trainable(&folder));
            }
        }
        self.training_panel.form.folder_split = folder.split.as_ref().map(|(path, split)| {
            let name = path.strip_prefix(&folder.dir).unwrap_or(path);
            (name.display().to_string(), split.clone())
        });
        state.sources = SourceRegistry::for_movies(&folder.movies);
        state.data_generation += 1;
        state.metrics = None;
        state.sweep = None;
        state.comparison = None;
        state.view.clear();
        state.notice = None;
        state.show_path_input = false;
        state.subtitle_generation += 1;
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
        self.check_journal();
        self.load_review_log();
    }

    pub(super) fn save_settings(&mut self) {
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

    pub(super) fn apply(&mut self, action: Action) {
        match action {
            Action::PickFolder => self.apply(Action::PickFor(PickPurpose::OpenMovies)),
            Action::PickFor(purpose) => self.start_pick(purpose),
            Action::ShowTraining(open) => self.state.training.open = open,
            Action::StartTraining => self.start_training(),
            Action::StartCrossValidation => self.start_cross_validation(),
            Action::SaveCrossValidation(dir) => self.start_cv_save(dir),
            Action::CancelTraining => self.state.training.request_cancel(),
            Action::Search(a) => self.apply_search(a),
            Action::LoadModel(dir) => self.start_model_load(dir),
            Action::SaveModel(dir) => self.start_model_save(dir),
            Action::ExportPredictions(out) => self.start_export(out),
            Action::Report(a) => self.apply_report(a),
            Action::Edit(a) => self.apply_edit(a),
            Action::Review(a) => self.apply_review(a),
            Action::OpenFolder(dir) => self.start_loading(dir),
            Action::OpenDefault => self.open_default(),
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
                let Some(id) = self.state.selected().map(|m| m.imdb_id.clone()) else {
                    return;
                };
                if fps.is_finite() && fps > 0.0 && fps != self.state.settings.fps_of(&id) {
                    self.state.settings.movie_fps.insert(id, fps);
                    if self.state.axis == XAxis::Time {
                        self.timeline.reset_view();
                    }
                    // Written by `eframe::App::save`, not on every step of a drag.
                    self.settings_dirty = true;
                }
            }
            Action::SetFeaturePrecision(p) => {
                if self.state.settings.features != p {
                    self.state.settings.features = p;
                    self.save_settings();
                }
            }
            Action::LoadSubtitles(dir) => self.start_subtitles(dir),
            Action::DismissError(i) => {
                if i < self.state.errors.len() {
                    self.state.errors.remove(i);
                }
            }
            Action::DismissAllErrors => self.state.errors.clear(),
            Action::ShowPathInput(show) => self.state.show_path_input = show,
        }
    }

    /// Ask the picker for a folder for `purpose`, on a background thread (one at a time).
    fn start_pick(&mut self, purpose: PickPurpose) {
        if self.jobs.is_running::<Picked>() {
            return;
        }
        let picker = self.options.picker.clone();
        let start = self.pick_start();
        // A dialog that fails in any way is one that is unavailable: the app's own browser
        // then takes its place.
        self.jobs.spawn_answering(
            PICK_JOB,
            move |_| {
                Ok(if purpose == PickPurpose::LoadWeights {
                    picker.pick_file(start.as_deref())
                } else {
                    picker.pick_folder(start.as_deref())
                })
            },
            move |result| Picked {
                purpose,
                outcome: result.unwrap_or_else(PickOutcome::Unavailable),
            },
        );
    }

    /// Where a folder dialog starts: the open folder, else the last one, else the default.
    fn pick_start(&self) -> Option<PathBuf> {
        self.state
            .folder
            .as_ref()
            .map(|f| f.dir.clone())
            .or_else(|| self.state.settings.last_folder.clone())
            .or_else(|| Some(self.options.default_dir.clone()).filter(|d| d.is_dir()))
    }

    /// Open the app's own folder browser for `purpose` (no system dialog could open).
    pub(super) fn open_browser(&mut self, purpose: PickPurpose) {
        let start = self.pick_start();
        self.browser = Some(super::browser::InAppBrowser::open(
            purpose,
            start.as_deref(),
        ));
    }

    /// Read subtitles of the open movies from `dir`, then show them.
    fn start_subtitles(&mut self, dir: PathBuf) {
        let Some(folder) = &self.state.folder else {
            return;
        };
        let movies = folder.movies.clone();
        let data = self.state.data_generation;
        let label = format!("{SUBTITLE_JOB} {}", dir.display());
        self.jobs.spawn_answering(
            label,
            move |_| Ok(loader::load_subtitles(&dir, &movies)),
            move |result| SubtitlesLoaded { data, result },
        );
    }

    /// Open the last folder, else the default one (written with demo movies if it has none).
    fn open_default(&mut self) {
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
        if self.jobs.is_running::<FolderLoaded>() {
            self.state
                .push_error("A folder is already loading; wait for it to finish.".into());
            return;
        }
        let label = format!("{LOAD_JOB} {}", dir.display());
        let answer_dir = dir.clone();
        let precision = self.state.settings.features;
        self.jobs.spawn_answering(
            label,
            move |r| {
                let progress = |done: usize, total: usize, file: &str| {
                    r.progress(done, total, file.to_string());
                };
                loader::load_folder(&dir, precision, &progress).map_err(|e| e.to_string())
            },
            |result| FolderLoaded {
                dir: answer_dir,
                result,
            },
        );
    }

    fn start_demo(&mut self, dir: PathBuf) {
        if self.jobs.is_running::<DemoWritten>() {
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
            |result| DemoWritten {
                dir: answer_dir,
                result,
            },
        );
    }
}

/// Job labels: what the status line says (jobs are found by their payload type).
const LOAD_JOB: &str = "Loading movies from";
const DEMO_JOB: &str = "Writing demo movies to";
const PICK_JOB: &str = "Choosing a folder";
const COMPARE_JOB: &str = "Comparing sources";
const SUBTITLE_JOB: &str = "Reading subtitles from";

/// The subtitle job's answer, for the folder that was open when it started.
pub struct SubtitlesLoaded {
    data: u64,
    result: Result<crate::data::subtitles::SubtitleSet, String>,
}

impl Deliver<App> for SubtitlesLoaded {
    fn deliver(self, app: &mut App) {
        let state = &mut app.state;
        let Some(folder) = state
            .folder
            .as_mut()
            .filter(|_| state.data_generation == self.data)
        else {
            return;
        };
        match self.result {
            Ok(set) if set.movies.is_empty() => state.push_error(format!(
                "No subtitles for the open movies in {}: it needs files named <imdb>.srt (or a subtitle/ folder of them).",
                set.dir.as_deref().unwrap_or(std::path::Path::new("")).display()
            )),
            Ok(set) => {
                folder.subtitles = std::sync::Arc::new(set);
                state.subtitle_generation += 1;
            }
            Err(e) => state.push_error(format!("Could not read subtitles: {e}")),
        }
    }
}

/// The folder-loading job's answer.
pub struct FolderLoaded {
    dir: PathBuf,
    result: Result<LoadedFolder, String>,
}

impl Deliver<App> for FolderLoaded {
    fn deliver(self, app: &mut App) {
        match self.result {
            Ok(folder) => {
                app.open_loaded(folder);
                for model in std::mem::take(&mut app.models_after_open) {
                    app.apply(Action::LoadModel(model));
                }
            }
            Err(e) => app
                .state
                .push_error(format!("Could not open {}: {e}", self.dir.display())),
        }
    }
}

/// The demo-writing job's answer: how many movies were written.
pub struct DemoWritten {
    dir: PathBuf,
    result: Result<usize, String>,
}

impl Deliver<App> for DemoWritten {
    fn deliver(self, app: &mut App) {
        match self.result {
            Ok(_) => app.apply(Action::OpenFolder(self.dir)),
            Err(e) => app.state.push_error(format!(
                "Could not write demo movies to {}: {e}",
                self.dir.display()
            )),
        }
    }
}

/// The folder picker's answer, for what the folder was asked for.
pub struct Picked {
    purpose: PickPurpose,
    outcome: PickOutcome,
}

impl Deliver<App> for Picked {
    fn deliver(self, app: &mut App) {
        let purpose = self.purpose;
        match self.outcome {
            PickOutcome::Picked(dir) => app.apply(purpose.action(dir)),
            PickOutcome::Cancelled => {}
            PickOutcome::Unavailable(msg) => {
                app.state.notice = Some(msg);
                app.open_browser(purpose);
            }
        }
    }
}

/// The comparison job's answer: every source scored at one threshold.
pub struct Compared(Comparison);

impl Deliver<App> for Compared {
    fn deliver(self, app: &mut App) {
        let c = self.0;
        // Stale rows still beat an empty table while the next ones compute.
        if app
            .state
            .metrics_key()
            .is_some_and(|k| k.data == c.key.data)
        {
            app.state.comparison = Some(c);
        }
    }
}
