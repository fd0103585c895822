//! The training window: the form, the run's progress and its curves.

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::cv_ui;
use super::form::{TrainingForm, usable_for_training};
use super::run::TrainingRun;
use crate::app::{Action, AppState};
use crate::model::{ModelConfig, ModelKind};
use crate::train::StopReason;
use crate::train::decision::Objective;
use crate::workflow::DeviceArg;

/// The training window; it owns the form the user is filling in.
#[derive(Default)]
pub struct TrainingPanel {
    /// What Train will train (read when the run starts; not editable while one runs).
    pub form: TrainingForm,
}

impl TrainingPanel {
    /// The window, while it is open.
    pub fn window(&mut self, ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
        let window = egui::Window::new("Train a model")
            .default_width(460.0)
            // Tall enough for the form, progress and both curves without scrolling.
            .default_height(720.0)
            .resizable(true);
        if !crate::app::window::show(ctx, window, |ui| self.ui(ui, state, actions)) {
            actions.push(Action::ShowTraining(false));
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
        let ids: Vec<String> = state
            .movies()
            .iter()
            .filter(|m| usable_for_training(m))
            .map(|m| m.imdb_id.clone())
            .collect();
        let usable = ids.len();
        ui.add_enabled_ui(!t.is_running(), |ui| {
            egui::Grid::new("train_form")
                .num_columns(2)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    let kind = model_kind_row(ui, "train_kind", form.model.kind());
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
                    // Cross-validation tests every movie once: there is no count to hold out.
                    if !form.cross_validate && form.folder_split.is_none() {
                        number(ui, "Test movies", &mut form.test_movies, 0..=1000);
                    }
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
                    cv_ui::mode(ui, form, usable);
                });
        });
        if form.cross_validate {
            cv_ui::folds_preview(ui, form, state.movies(), usable);
            return;
        }
        let from = match &form.folder_split {
            Some((file, _)) => format!(" (from the folder's {file})"),
            None => String::new(),
        };
        match form.split_of(&ids) {
            Ok(s) => ui.label(format!(
                "Split{from}: {} train, {} validate, {} test",
                s.train.len(),
                s.validation.len(),
                s.test.len()
            )),
            Err(e) => ui.colored_label(ui.visuals().warn_fg_color, format!("{e:#}")),
        };
    }

    fn progress(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let t = &state.training;
        let cross_validating = t
            .cross_validation
            .as_ref()
            .filter(|cv| !cv.ended && t.is_running());
        ui.horizontal(|ui| {
            let can_train = !t.is_running() && state.folder.is_some();
            let (button, hover, action) = if self.form.cross_validate {
                (
                    "Run cross-validation",
                    "Train one model per fold on the open folder's movies and score each on its fold's test movies",
                    Action::StartCrossValidation,
                )
            } else {
                (
                    "Train",
                    "Train on the open folder's movies",
                    Action::StartTraining,
                )
            };
            if ui
                .add_enabled(can_train, egui::Button::new(button))
                .on_hover_text(hover)
                .clicked()
            {
                actions.push(action);
            }
            let cancel_hover = if cross_validating.is_some() {
                "Stop after the current step; the finished folds are kept"
            } else {
                "Stop after the current step and keep the best epoch so far"
            };
            if ui
                .add_enabled(t.is_running(), egui::Button::new("Cancel"))
                .on_hover_text(cancel_hover)
                .clicked()
            {
                actions.push(Action::CancelTraining);
            }
        });
        let run = &t.run;
        if let Some(cv) = cross_validating {
            cv_ui::progress(ui, cv, run);
        } else if let Some(f) = run.fraction() {
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
            ui.label(match run.fold {
                Some((i, k)) => format!("Fold {} of {k}: training {how}{best}", i + 1),
                None => format!("Training {how}{best}"),
            });
        }
        if let Some(e) = &run.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(note) = &t.note {
            ui.label(note);
        }
        if let Some(cv) = &t.cross_validation {
            ui.separator();
            cv_ui::results(ui, cv, t.is_running(), actions);
        }
    }

    fn curves(&mut self, ui: &mut egui::Ui, run: &TrainingRun) {
        match run.fold {
            Some((i, k)) => ui.label(format!("Training loss (fold {} of {k})", i + 1)),
            None => ui.label("Training loss"),
        };
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

pub(super) fn number(
    ui: &mut egui::Ui,
    label: &str,
    v: &mut usize,
    range: std::ops::RangeInclusive<usize>,
) {
    // Labelled, so screen readers (and tests) find the field by its name.
    let l = ui.label(label);
    ui.add(egui::DragValue::new(v).range(range))
        .labelled_by(l.id);
    ui.end_row();
}

/// The main hyperparameters of each kind (the rest keep their published values).
pub(super) fn hyperparameters(ui: &mut egui::Ui, model: &mut ModelConfig) {
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

/// A "Model" label and a menu of the model kinds (a form grid's two cells); the kind chosen.
pub(crate) fn model_kind_row(ui: &mut egui::Ui, id_salt: &str, mut kind: ModelKind) -> ModelKind {
    let l = ui.label("Model");
    egui::ComboBox::from_id_salt(id_salt)
        .selected_text(kind.name())
        .show_ui(ui, |ui| {
            for k in ModelKind::ALL {
                ui.selectable_value(&mut kind, k, k.name());
            }
        })
        .response
        .labelled_by(l.id);
    kind
}
