//! Training from the app: the form (model kind, its main hyperparameters, the optimisation
//! settings, the split, the device), the run's progress with its loss and validation curves,
//! and the background work behind Train, Load model, Save model and Export predictions.
//!
//! [`TrainingState`] is what the app knows about training; [`TrainingPanel`] draws it and
//! returns [`Action`]s. The work runs as jobs ([`super::jobs`]) that answer with this module's
//! payloads ([`Trained`], [`ModelLoaded`], [`ModelSaved`], [`Exported`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::jobs::{Deliver, JobObserver, Reporter};
use super::sources::SourceRegistry;
use super::{Action, App, AppState};
use crate::data::{HeldOut, Movie, Scores, Split, SplitPolicyError, training_split};
use crate::model::{ModelConfig, ModelKind};
use crate::train::decision::{Decision, Objective};
use crate::train::{
    CheckpointMeta, EpochRecord, StopReason, TrainConfig, TrainEvent, TrainSettings, TrainedModel,
};
use crate::workflow::DeviceArg;
use crate::workflow::export::{self, ExportError};
use crate::workflow::predict::{self, MovieScores, ScoredMovies};
use crate::workflow::train::{TrainRequest, TrainWorkflowError, train_and_tune};

/// Test movies held out before a folder is open: `default_test_count` of the challenge's 64.
pub const DEFAULT_TEST_MOVIES: usize = 7;

/// What Train will train, as the form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingForm {
    pub model: ModelConfig,
    pub settings: TrainSettings,
    /// Movies held out for the final test (capped so that two remain to train and validate).
    pub test_movies: usize,
    pub device: DeviceArg,
    /// What the decision step, tuned on the validation movies after training, maximises.
    pub objective: Objective,
    /// Tune peak picking (NMS window, minimum scene length) too, not only the threshold.
    pub peak_picking: bool,
}

impl Default for TrainingForm {
    fn default() -> Self {
        TrainingForm::for_kind(ModelKind::Default)
    }
}

impl TrainingForm {
    /// The kind's published config and training settings, with its own learning rate filled in.
    pub fn for_kind(kind: ModelKind) -> Self {
        let model = kind.default_config();
        TrainingForm {
            settings: TrainSettings {
                learning_rate: Some(model.learning_rate()),
                ..TrainSettings::for_kind(kind)
            },
            model,
            test_movies: DEFAULT_TEST_MOVIES,
            device: DeviceArg::Auto,
            objective: Objective::Miou,
            peak_picking: false,
        }
    }

    /// Another kind: its defaults, keeping the split, seed and device.
    pub fn set_kind(&mut self, kind: ModelKind) {
        if self.model.kind() == kind {
            return;
        }
        let mut next = TrainingForm::for_kind(kind);
        next.test_movies = self.test_movies;
        next.settings.seed = self.settings.seed;
        next.settings.patience = self.settings.patience;
        next.device = self.device;
        next.objective = self.objective;
        next.peak_picking = self.peak_picking;
        *self = next;
    }

    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            model: self.model.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The movies training can use: ground truth and all four modalities.
pub fn usable_for_training(m: &Movie) -> bool {
    m.is_trainable()
}

/// The split Train makes of `ids` (the usable movies): the split policy with the form's test
/// movies, fewer when needed so that two movies remain to train and validate.
pub fn split_for(ids: &[String], test_movies: usize, seed: u64) -> Result<Split, String> {
    training_split(ids, &HeldOut::AtMost(test_movies), seed).map_err(|e| split_message(&e))
}

/// A split error in the form's terms.
fn split_message(e: &SplitPolicyError) -> String {
    match e {
        SplitPolicyError::TooFewMovies { usable } => format!(
            "{usable} usable movie(s); training needs at least 2 with ground truth and all four feature modalities"
        ),
        SplitPolicyError::Split(e) => format!("{e}: lower Test movies"),
    }
}

/// Progress of the current (or last) training run.
#[derive(Debug, Clone, Default)]
pub struct TrainingRun {
    pub kind: Option<ModelKind>,
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub split: (usize, usize, usize),
    /// `[epoch as a fraction, loss]` of every optimisation step.
    pub step_loss: Vec<[f64; 2]>,
    pub records: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    pub eta_seconds: Option<f64>,
    pub stop: Option<StopReason>,
    pub error: Option<String>,
}

impl TrainingRun {
    pub fn steps_done(&self) -> usize {
        self.step_loss.len()
    }

    /// Fraction of all steps done, once training has said how many there are.
    pub fn fraction(&self) -> Option<f32> {
        let total = self.epochs * self.steps_per_epoch;
        (total > 0).then(|| (self.steps_done() as f32 / total as f32).min(1.0))
    }

    pub fn apply(&mut self, ev: &TrainEvent) {
        match ev {
            TrainEvent::Started {
                train_movies,
                validation_movies,
                test_movies,
                epochs,
                steps_per_epoch,
                ..
            } => {
                self.epochs = *epochs;
                self.steps_per_epoch = *steps_per_epoch;
                self.split = (*train_movies, *validation_movies, *test_movies);
            }
            TrainEvent::Step {
                epoch,
                step,
                steps_per_epoch,
                loss,
                ..
            } => {
                // `epoch` and `step` are 1-based; the point sits where the step ends.
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.step_loss.push([x, *loss]);
            }
            TrainEvent::Epoch {
                record,
                best_epoch,
                eta_seconds,
            } => {
                self.records.push(record.clone());
                self.best_epoch = *best_epoch;
                self.eta_seconds = Some(*eta_seconds);
            }
            TrainEvent::Finished { stop, best_epoch } => {
                self.stop = Some(*stop);
                self.best_epoch = *best_epoch;
                self.eta_seconds = None;
            }
        }
    }

    /// `[epoch, mean training loss]` per epoch.
    pub fn epoch_loss(&self) -> Vec<[f64; 2]> {
        self.records
            .iter()
            .map(|r| [r.epoch as f64, r.train_loss])
            .collect()
    }

    /// `[epoch, validation mAP]` of the epochs that had validation movies.
    pub fn validation_map(&self) -> Vec<[f64; 2]> {
        self.records
            .iter()
            .filter_map(|r| r.validation.map(|v| [r.epoch as f64, v.map]))
            .collect()
    }
}

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

    pub fn request_cancel(&self) {
        if let Some(c) = &self.cancel {
            c.store(true, Ordering::Relaxed);
        }
    }
}

/// A model and its scores for the loaded movies, ready to become a prediction source.
pub struct ModelScores {
    pub model: Arc<TrainedModel>,
    pub scores: MovieScores,
    /// Movies not scored (missing modalities).
    pub skipped: Vec<String>,
}

impl ModelScores {
    fn new(model: TrainedModel, scored: ScoredMovies) -> Self {
        ModelScores {
            model: Arc::new(model),
            scores: scored.scores,
            skipped: scored.skipped,
        }
    }
}

impl TrainingForm {
    /// What Train asks of the training workflow: every movie scored, to become a source.
    pub fn request(&self) -> TrainRequest {
        TrainRequest {
            config: self.config(),
            held_out: HeldOut::AtMost(self.test_movies),
            objective: self.objective,
            peak_picking: self.peak_picking,
            score_all: true,
        }
    }
}

/// The training job: [`train_and_tune`] with the form's settings, forwarding its progress and
/// events; the model and its scores of every loaded movie.
pub fn run_training(
    r: &Reporter<App>,
    movies: Arc<Vec<Movie>>,
    form: TrainingForm,
    cancel: Arc<AtomicBool>,
) -> Result<ModelScores, String> {
    let (device, device_line) = form.device.resolve().map_err(|e| format!("{e:#}"))?;
    r.progress(0, 0, format!("training on {device_line}"));
    let observer = JobObserver {
        reporter: r,
        cancel: Some(&cancel),
        wrap: TrainProgress,
    };
    let run =
        train_and_tune(&movies, &form.request(), &device, &observer).map_err(|e| match e {
            TrainWorkflowError::Split(e) => split_message(&e),
            other => other.to_string(),
        })?;
    Ok(ModelScores::new(run.model, run.scored.unwrap_or_default()))
}

/// The Load model job: read a model folder and score every loaded movie.
pub fn load_and_score(dir: &Path, movies: &[Movie]) -> Result<ModelScores, String> {
    let (model, scored) = predict::load_and_score(dir, movies, &candle_core::Device::Cpu)
        .map_err(|e| e.to_string())?;
    Ok(ModelScores::new(model, scored))
}

/// The Export predictions job: each movie file of `source_dir` written to `out` with every
/// field kept and its prediction replaced by `scores` (as `scenelab predict` writes them).
/// Returns how many files were written and the names of those without scores.
pub fn export_predictions(
    r: &Reporter<App>,
    source_dir: &Path,
    out: &Path,
    scores: &std::collections::HashMap<String, Arc<Scores>>,
) -> Result<(usize, Vec<String>), String> {
    let message = |e: ExportError| match e {
        ExportError::SameFolder { out } => format!(
            "{} is the folder the movies came from: choose another folder, so the originals stay as they are",
            out.display()
        ),
        other => other.to_string(),
    };
    export::prepare_output(source_dir, out).map_err(message)?;
    let files = crate::data::Dataset::movie_files(source_dir).map_err(|e| e.to_string())?;
    let score = |m: &Movie| Ok(scores.get(&m.imdb_id).map(|s| s.to_array_data()));
    let summary = export::write_predictions(&files, out, &score, true, r).map_err(message)?;
    Ok((summary.written, summary.without_scores))
}

/// The Save model job: the model with `decision` (see [`TrainingState::decision_to_save`]).
pub fn save_model(
    model: &TrainedModel,
    dir: &Path,
    decision: Option<Decision>,
) -> Result<PathBuf, String> {
    let meta = CheckpointMeta {
        decision,
        ..model.meta.clone()
    };
    model.save_as(dir, &meta).map_err(|e| e.to_string())?;
    Ok(dir.to_path_buf())
}

/// The training job's progress, for the window's curves.
pub struct TrainProgress(pub TrainEvent);

impl Deliver<App> for TrainProgress {
    fn deliver(self, app: &mut App) {
        app.state.training.run.apply(&self.0);
    }
}

/// The training job's answer: the model and its scores for the loaded movies, or why not.
pub struct Trained(pub Result<ModelScores, String>);

impl Deliver<App> for Trained {
    fn deliver(self, app: &mut App) {
        let training = &mut app.state.training;
        let cancelled = training
            .cancel
            .take()
            .is_some_and(|c| c.load(Ordering::Relaxed));
        match self.0 {
            Ok(scores) => {
                training.trained_count += 1;
                let name = format!("{} #{}", scores.model.kind(), training.trained_count);
                training.last_model = Some(scores.model.clone());
                training.last_source = Some(name.clone());
                app.add_model_source(name, scores);
            }
            Err(e) => {
                // A run the user cancelled says so in the training window only.
                if !cancelled {
                    app.state.push_error(format!("Training: {e}"));
                }
                app.state.training.run.error = Some(e);
            }
        }
    }
}

/// The Load model job's answer.
pub struct ModelLoaded {
    pub dir: PathBuf,
    pub result: Result<ModelScores, String>,
}

impl Deliver<App> for ModelLoaded {
    fn deliver(self, app: &mut App) {
        let dir = self.dir;
        match self.result {
            Ok(scores) => {
                let folder = dir.file_name().map_or_else(
                    || dir.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let name = format!("{} ({folder})", scores.model.kind());
                app.add_model_source(name, scores);
            }
            Err(e) => app.state.push_error(format!(
                "Could not load the model in {}: {e}",
                dir.display()
            )),
        }
    }
}

/// The Save model job's answer: the folder written.
pub struct ModelSaved(pub Result<PathBuf, String>);

impl Deliver<App> for ModelSaved {
    fn deliver(self, app: &mut App) {
        match self.0 {
            Ok(dir) => app.state.training.note = Some(format!("Model saved to {}", dir.display())),
            Err(e) => app
                .state
                .push_error(format!("Could not save the model: {e}")),
        }
    }
}

/// The Export predictions job's answer: files written and the movies the source has no
/// scores for.
pub struct Exported {
    pub out: PathBuf,
    pub result: Result<(usize, Vec<String>), String>,
}

impl Deliver<App> for Exported {
    fn deliver(self, app: &mut App) {
        let out = self.out;
        match self.result {
            Ok((written, without)) => {
                let mut note = format!("Wrote {written} scored movies to {}", out.display());
                if !without.is_empty() {
                    note.push_str(&format!(
                        "; {} movie(s) without scores in this source were left out",
                        without.len()
                    ));
                }
                app.state.training.note = Some(note);
            }
            Err(e) => app.state.push_error(format!(
                "Could not export predictions to {}: {e}",
                out.display()
            )),
        }
    }
}

/// The training window; it owns the form the user is filling in.
#[derive(Default)]
pub struct TrainingPanel {
    /// What Train will train (read when the run starts; not editable while one runs).
    pub form: TrainingForm,
}

impl TrainingPanel {
    /// The window, while it is open.
    pub fn window(&mut self, ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
        let mut open = state.training.open;
        egui::Window::new("Train a model")
            .open(&mut open)
            .default_width(460.0)
            // Tall enough for the form, progress and both curves without scrolling.
            .default_height(720.0)
            .resizable(true)
            .show(ctx, |ui| self.ui(ui, state, actions));
        if open != state.training.open {
            actions.push(Action::ShowTraining(open));
        }
    }

    /// The form, the run's progress and its curves.
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.form(ui, state);
                ui.separator();
                self.progress(ui, state, actions);
                ui.separator();
                self.curves(ui, &state.training.run);
            });
    }

    fn form(&mut self, ui: &mut egui::Ui, state: &AppState) {
        let t = &state.training;
        let form = &mut self.form;
        ui.add_enabled_ui(!t.is_running(), |ui| {
            egui::Grid::new("train_form")
                .num_columns(2)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    let l = ui.label("Model");
                    let mut kind = form.model.kind();
                    egui::ComboBox::from_id_salt("train_kind")
                        .selected_text(kind.name())
                        .show_ui(ui, |ui| {
                            for k in ModelKind::ALL {
                                ui.selectable_value(&mut kind, k, k.name());
                            }
                        })
                        .response
                        .labelled_by(l.id);
                    ui.end_row();
                    form.set_kind(kind);
                    hyperparameters(ui, &mut form.model);
                    let s = &mut form.settings;
                    number(ui, "Epochs", &mut s.epochs, 1..=1000);
                    let l = ui.label("Learning rate");
                    let mut lr = s.learning_rate.unwrap_or(form.model.learning_rate());
                    ui.add(
                        egui::DragValue::new(&mut lr)
                            .range(1e-6..=1.0)
                            .speed(1e-5)
                            .max_decimals(6),
                    )
                    .labelled_by(l.id);
                    s.learning_rate = Some(lr);
                    ui.end_row();
                    number(ui, "Batch movies", &mut s.batch_movies, 1..=64);
                    number(ui, "Patience", &mut s.patience, 1..=1000);
                    let l = ui.label("Seed");
                    ui.add(egui::DragValue::new(&mut s.seed)).labelled_by(l.id);
                    ui.end_row();
                    number(ui, "Test movies", &mut form.test_movies, 0..=1000);
                    let l = ui.label("Device");
                    // Only what this build has: CUDA when built with `--features cuda`.
                    egui::ComboBox::from_id_salt("train_device")
                        .selected_text(form.device.label())
                        .show_ui(ui, |ui| {
                            for &d in DeviceArg::available() {
                                ui.selectable_value(&mut form.device, d, d.label());
                            }
                        })
                        .response
                        .on_hover_text(
                            "Auto: CUDA when this build has it and a GPU answers, else the CPU",
                        )
                        .labelled_by(l.id);
                    ui.end_row();
                    ui.label("Decision tuned for")
                        .on_hover_text("Tuned on the validation movies after training");
                    ui.horizontal(|ui| {
                        for o in [Objective::Miou, Objective::F1] {
                            ui.selectable_value(&mut form.objective, o, o.name());
                        }
                        ui.checkbox(&mut form.peak_picking, "peak picking")
                            .on_hover_text("Also tune the NMS window and minimum scene length");
                    });
                    ui.end_row();
                });
        });
        let ids: Vec<String> = state
            .movies()
            .iter()
            .filter(|m| usable_for_training(m))
            .map(|m| m.imdb_id.clone())
            .collect();
        match split_for(&ids, form.test_movies, form.settings.seed) {
            Ok(s) => ui.label(format!(
                "Split: {} train, {} validate, {} test",
                s.train.len(),
                s.validation.len(),
                s.test.len()
            )),
            Err(e) => ui.colored_label(ui.visuals().warn_fg_color, format!("{e:#}")),
        };
    }

    fn progress(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let t = &state.training;
        ui.horizontal(|ui| {
            let can_train = !t.is_running() && state.folder.is_some();
            if ui
                .add_enabled(can_train, egui::Button::new("Train"))
                .on_hover_text("Train on the open folder's movies")
                .clicked()
            {
                actions.push(Action::StartTraining);
            }
            if ui
                .add_enabled(t.is_running(), egui::Button::new("Cancel"))
                .on_hover_text("Stop after the current step and keep the best epoch so far")
                .clicked()
            {
                actions.push(Action::CancelTraining);
            }
        });
        let run = &t.run;
        if let Some(f) = run.fraction() {
            let eta = match (t.is_running(), run.eta_seconds) {
                (true, Some(s)) => format!(", ETA {}", crate::train::format_duration(s)),
                (true, None) => ", ETA after the first epoch".to_string(),
                _ => String::new(),
            };
            let text = format!(
                "step {} of {}{eta}",
                run.steps_done(),
                run.epochs * run.steps_per_epoch
            );
            ui.add(egui::ProgressBar::new(f).text(text));
        } else if t.is_running() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("preparing…");
            });
        }
        if let Some(stop) = run.stop {
            let how = match stop {
                StopReason::Completed => "completed",
                StopReason::EarlyStopped => "stopped early",
                StopReason::Cancelled => "cancelled",
            };
            let best = run
                .best_epoch
                .map_or(String::new(), |b| format!(", best epoch {b}"));
            ui.label(format!("Training {how}{best}"));
        }
        if let Some(e) = &run.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(note) = &t.note {
            ui.label(note);
        }
    }

    fn curves(&mut self, ui: &mut egui::Ui, run: &TrainingRun) {
        ui.label("Training loss");
        Plot::new("train_loss_plot")
            .height(140.0)
            .legend(Legend::default())
            .x_axis_label("epoch")
            .show(ui, |p| {
                p.line(Line::new(
                    "per step",
                    PlotPoints::from(run.step_loss.clone()),
                ));
                p.points(Points::new("per epoch", PlotPoints::from(run.epoch_loss())).radius(3.0));
            });
        ui.label("Validation mAP");
        Plot::new("validation_map_plot")
            .height(120.0)
            .x_axis_label("epoch")
            .include_y(0.0)
            .include_y(1.0)
            .show(ui, |p| {
                let pts = run.validation_map();
                p.line(Line::new("validation mAP", PlotPoints::from(pts.clone())));
                p.points(Points::new("validation mAP", PlotPoints::from(pts)).radius(3.0));
            });
    }
}

fn number(ui: &mut egui::Ui, label: &str, v: &mut usize, range: std::ops::RangeInclusive<usize>) {
    // Labelled, so screen readers (and tests) find the field by its name.
    let l = ui.label(label);
    ui.add(egui::DragValue::new(v).range(range))
        .labelled_by(l.id);
    ui.end_row();
}

/// The main hyperparameters of each kind (the rest keep their published values).
fn hyperparameters(ui: &mut egui::Ui, model: &mut ModelConfig) {
    match model {
        ModelConfig::Default(c) => {
            number(
                ui,
                "Projection dim (0: off)",
                &mut c.projection_dim,
                0..=4096,
            );
            number(ui, "Hidden", &mut c.hidden, 1..=4096);
            number(ui, "Kernel", &mut c.kernel, 1..=31);
        }
        ModelConfig::Wavenet(c) => {
            number(ui, "Blocks", &mut c.num_blocks, 1..=16);
            number(ui, "Layers per block", &mut c.num_layers, 1..=16);
            number(ui, "Filters", &mut c.filters, 1..=1024);
            number(ui, "Last filters", &mut c.last_filters, 1..=1024);
        }
        ModelConfig::Bilstm(c) => {
            number(ui, "Hidden", &mut c.hidden, 1..=4096);
            number(ui, "Layers", &mut c.layers, 1..=8);
        }
        ModelConfig::Lgss(c) => {
            number(ui, "Channels", &mut c.channels, 1..=4096);
            number(ui, "Sequence length", &mut c.seq_len, 1..=64);
            number(ui, "Hidden", &mut c.hidden, 1..=4096);
            number(ui, "Dense", &mut c.dense, 1..=4096);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::validation_count;
    use crate::train::ValidationScores;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("tt{i:07}")).collect()
    }

    #[test]
    fn the_form_splits_by_the_policy_with_the_test_count_capped() {
        let ids = ids(20);
        let s = split_for(&ids, 7, 3).unwrap();
        assert_eq!(
            s,
            Split::by_count(&ids, validation_count(13), 7, 3).unwrap()
        );
        // Six movies cannot give seven to the test: two stay to train and validate.
        let few = split_for(&ids[..6], 7, 0).unwrap();
        assert_eq!(
            (few.train.len(), few.validation.len(), few.test.len()),
            (1, 1, 4)
        );
        // Said in the form's terms.
        let e = split_for(&ids[..1], 1, 0).unwrap_err();
        assert!(
            e.starts_with("1 usable movie(s); training needs at least 2"),
            "{e}"
        );
        assert_eq!(
            TrainingForm::default().request().held_out,
            HeldOut::AtMost(7)
        );
    }

    #[test]
    fn another_kind_takes_its_defaults_but_keeps_the_split_and_seed() {
        let mut f = TrainingForm::for_kind(ModelKind::Default);
        f.settings.seed = 9;
        f.test_movies = 3;
        f.settings.epochs = 2;
        f.set_kind(ModelKind::Lgss);
        assert_eq!(f.model, ModelKind::Lgss.default_config());
        assert_eq!(f.settings.epochs, ModelKind::Lgss.default_epochs());
        assert_eq!(f.settings.learning_rate, Some(f.model.learning_rate()));
        assert_eq!((f.settings.seed, f.test_movies), (9, 3));
    }

    #[test]
    fn events_build_the_progress_and_curves() {
        let mut run = TrainingRun::default();
        run.apply(&TrainEvent::Started {
            train_movies: 4,
            validation_movies: 1,
            test_movies: 1,
            epochs: 2,
            steps_per_epoch: 2,
            pos_weight: 3.0,
        });
        assert_eq!(run.fraction(), Some(0.0));
        for (epoch, step, loss) in [(1, 1, 0.9), (1, 2, 0.7), (2, 1, 0.5)] {
            run.apply(&TrainEvent::Step {
                epoch,
                step,
                steps_per_epoch: 2,
                loss,
                learning_rate: 1e-3,
            });
        }
        assert_eq!(run.step_loss, vec![[0.5, 0.9], [1.0, 0.7], [1.5, 0.5]]);
        assert_eq!(run.fraction(), Some(0.75));
        let validation = ValidationScores { map: 0.25, ap: 0.3 };
        run.apply(&TrainEvent::Epoch {
            record: EpochRecord {
                epoch: 1,
                train_loss: 0.8,
                validation_loss: Some(0.6),
                validation: Some(validation),
                learning_rate: 1e-3,
                seconds: 1.0,
                train_seconds: 0.9,
            },
            best_epoch: Some(1),
            eta_seconds: 1.5,
        });
        assert_eq!(run.epoch_loss(), vec![[1.0, 0.8]]);
        assert_eq!(run.validation_map(), vec![[1.0, 0.25]]);
        assert_eq!(run.eta_seconds, Some(1.5));
        run.apply(&TrainEvent::Finished {
            stop: StopReason::Cancelled,
            best_epoch: Some(1),
        });
        assert_eq!(run.stop, Some(StopReason::Cancelled));
        assert_eq!(run.eta_seconds, None);
    }
}
