//! The desktop app: a folder of movies, a timeline of the selected one, and reference-exact
//! metrics that follow the threshold.
//!
//! `mod.rs` keeps the frame loop ([`App::ui_inner`]). [`AppState`] (`state.rs`) is what the app
//! knows; the panels (`top_bar`, `movie_list`, `timeline`, `metrics` with its decision box,
//! `empty_state`, the `report` window (Export scenes, Save report), the `review` window (a
//! source's errors to walk and tag), and the `training` and `search` windows, which own their
//! forms) draw it and
//! return [`Action`]s, which the controller (`controller.rs`) applies before the next frame.
//! Slow work (loading, writing demo data, choosing a folder, comparing sources, training,
//! searching) runs as jobs (`jobs.rs`) that answer with payloads their feature owns; the
//! metrics and curves come from a long-lived worker (`metrics/evaluation.rs`); so the window
//! never stops drawing. `edit.rs` is the timeline's edit mode: ground-truth edits through
//! [`crate::data::edit::EditLog`], journalled, saved by [`crate::workflow::labels`].
//! `test_api.rs` is the small API tests drive the app with.

use eframe::egui;
pub mod browser;
pub(crate) mod controller;
pub mod dialogue;
pub mod edit;
pub(crate) mod empty_state;
pub(crate) mod jobs;
pub mod loader;
pub mod metrics;
pub(crate) mod movie_list;
pub mod picker;
pub mod report;
pub mod review;
pub mod scope;
pub mod search;
pub(crate) mod settings;
pub(crate) mod sources;
pub(crate) mod state;
mod test_api;
pub(crate) mod timeline;
pub(crate) mod top_bar;
pub mod training;
pub(crate) mod view;
mod window;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::demo::DemoConfig;

pub use controller::Action;
use jobs::Jobs;
use metrics::evaluation::{MetricsKey, MetricsWorker, SweepKey};
use picker::{FolderPicker, NativePicker};
use settings::Settings;
pub use state::AppState;
pub use view::XAxis;

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

/// The desktop app.
pub struct App {
    pub state: AppState,
    pub(crate) jobs: Jobs<App>,
    options: AppOptions,
    metrics_worker: MetricsWorker,
    requested_metrics: Option<MetricsKey>,
    requested_sweep: Option<SweepKey>,
    settings_dirty: bool,
    actions: Vec<Action>,
    top_bar: top_bar::TopBar,
    movie_list: movie_list::MovieList,
    timeline: timeline::Timeline,
    metrics_panel: metrics::MetricsPanel,
    empty_state: empty_state::EmptyState,
    training_panel: training::TrainingPanel,
    search_panel: search::SearchPanel,
    report_panel: report::ReportPanel,
    review_panel: review::ReviewPanel,
    /// Model folders to load (as sources) once the next folder of movies has opened.
    models_after_open: Vec<PathBuf>,
    /// The app's own folder browser, open when no system dialog could.
    browser: Option<browser::InAppBrowser>,
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
        let metrics_worker = MetricsWorker::start();
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
            metrics_panel: metrics::MetricsPanel::default(),
            empty_state: empty_state::EmptyState::default(),
            training_panel: training::TrainingPanel::default(),
            search_panel: search::SearchPanel::default(),
            report_panel: report::ReportPanel::default(),
            review_panel: review::ReviewPanel::default(),
            models_after_open: Vec::new(),
            browser: None,
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

    /// What the app's own folder browser is open for (`None`: it is closed).
    pub fn browser_purpose(&self) -> Option<picker::PickPurpose> {
        self.browser.as_ref().map(browser::InAppBrowser::purpose)
    }

    /// The dialogue strip and the lines around the hovered (or keyboard) shot, as last drawn.
    pub fn shown_dialogue(&self) -> &dialogue::ShownDialogue {
        self.timeline.dialogue()
    }

    /// The training window's form: what Train will train.
    pub fn training_form(&self) -> &training::TrainingForm {
        &self.training_panel.form
    }

    /// Fill in the training window's form (as the user would; ignored by a running job).
    pub fn training_form_mut(&mut self) -> &mut training::TrainingForm {
        &mut self.training_panel.form
    }

    /// The Export scenes window's form: what its export writes.
    pub fn export_form(&self) -> &report::ExportForm {
        &self.report_panel.form
    }

    /// Fill in the Export scenes form (as the user would).
    pub fn export_form_mut(&mut self) -> &mut report::ExportForm {
        &mut self.report_panel.form
    }

    /// The search window's form: what Start will search.
    pub fn search_form(&self) -> &search::SearchForm {
        &self.search_panel.form
    }

    /// Fill in the search window's form (as the user would; ignored by a running job).
    pub fn search_form_mut(&mut self) -> &mut search::SearchForm {
        &mut self.search_panel.form
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
        for answer in self.metrics_worker.poll() {
            self.handle_worker_answer(answer);
        }
        let pending = std::mem::take(&mut self.actions);
        for a in pending {
            self.apply(a);
        }
        self.state.refresh_view();
        self.state.refresh_review();
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
            self.training_panel
                .window(ui.ctx(), &self.state, &mut actions);
        }
        if self.state.search.open {
            self.search_panel
                .window(ui.ctx(), &self.state, &mut actions);
        }
        if self.state.report.open {
            self.report_panel
                .window(ui.ctx(), &self.state, &mut actions);
        }
        if self.state.review.open {
            self.review_panel
                .window(ui.ctx(), &self.state, &mut actions);
        }
        edit::windows(ui.ctx(), &self.state, &mut actions);
        if let Some(browser) = &mut self.browser {
            let (chosen, still_open) = browser.show(ui.ctx());
            actions.extend(chosen);
            if !still_open {
                self.browser = None;
            }
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
        // Redo first: Ctrl+Z alone would also match Ctrl+Shift+Z.
        let redo = ui.input_mut(|i| {
            i.consume_key(
                egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
                egui::Key::Z,
            )
        });
        let undo = ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z));
        if redo {
            actions.push(Action::Edit(edit::EditAction::Redo));
        } else if undo {
            actions.push(Action::Edit(edit::EditAction::Undo));
        }
        review::keys(ui, &self.state, actions);
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
}

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
