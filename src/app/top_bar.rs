//! The top bar: folder actions, the scored source and threshold, the status line with
//! progress, the path field, and the error area.

use super::jobs::Jobs;
use super::picker::PickPurpose;
use super::report::ReportAction;
use super::{Action, AppState};
use eframe::egui;

#[derive(Default)]
pub struct TopBar {
    path_input: String,
}

impl TopBar {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        jobs: &Jobs<super::App>,
        actions: &mut Vec<Action>,
    ) {
        ui.add_space(4.0);
        // Wrapped: on a narrow window the buttons take a second row instead of pushing the
        // source and threshold controls off the screen.
        ui.horizontal_wrapped(|ui| {
            ui.heading("SceneLab");
            ui.separator();
            if ui
                .button("Open folder…")
                .on_hover_text("Choose a folder of tt*.pkl movies")
                .clicked()
            {
                actions.push(Action::PickFolder);
            }
            let mut half = state.settings.features == crate::data::FeaturePrecision::F16;
            if ui
                .checkbox(&mut half, "f16")
                .on_hover_text(
                    "Hold the features of the folders opened next in half precision: half the memory (MovieNet-318 entire: 3.5 GB instead of 7 GB), values within 0.05 % (models still compute in f32)",
                )
                .changed()
            {
                actions.push(Action::SetFeaturePrecision(if half {
                    crate::data::FeaturePrecision::F16
                } else {
                    crate::data::FeaturePrecision::F32
                }));
            }
            if ui
                .button("Path…")
                .on_hover_text("Type a folder's path")
                .clicked()
            {
                actions.push(Action::ShowPathInput(!state.show_path_input));
            }
            if ui
                .button("Make demo data")
                .on_hover_text("Write synthetic movies and open them")
                .clicked()
            {
                actions.push(Action::MakeDemo(None));
            }
            let can_score = state.metrics_key().is_some();
            if ui
                .add_enabled(can_score, egui::Button::new("Evaluate"))
                .on_hover_text("Compute the metrics and curves again")
                .clicked()
            {
                actions.push(Action::Evaluate);
            }
            ui.separator();
            self.model_buttons(ui, state, actions);
            ui.separator();
            self.source_and_threshold(ui, state, actions);
        });
        // Without a folder the empty state has its own path field.
        if state.show_path_input && state.folder.is_some() {
            self.path_row(ui, state, actions);
        }
        status_line(ui, state, jobs);
        if let Some(note) = &state.report.note {
            ui.weak(note);
        }
        error_area(ui, state, actions);
        ui.add_space(2.0);
    }

    fn source_and_threshold(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        actions: &mut Vec<Action>,
    ) {
        if state.sources.is_empty() {
            return;
        }
        let current = state
            .sources
            .selected_source()
            .map_or("", |s| s.name.as_str());
        // One group, label first, on a row of its own unless it fits after the buttons: a
        // group does not wrap inside itself, so it would run off the window.
        if ui.available_size_before_wrap().x < SOURCE_AND_THRESHOLD_WIDTH {
            ui.end_row();
        }
        ui.horizontal(|ui| {
            let label = ui.label("Source");
            egui::ComboBox::from_id_salt("source")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (i, s) in state.sources.iter().enumerate() {
                        if ui
                            .selectable_label(i == state.sources.selected, &s.name)
                            .clicked()
                        {
                            actions.push(Action::SelectSource(i));
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            let mut t = state.threshold;
            let label = ui.label("Threshold");
            let r = ui
                .add(
                    egui::Slider::new(&mut t, 0.0..=1.0)
                        .fixed_decimals(3)
                        .step_by(0.001),
                )
                .labelled_by(label.id);
            if r.changed() {
                actions.push(Action::SetThreshold(t));
            }
        });
    }

    fn model_buttons(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let has_folder = state.folder.is_some();
        if ui
            .add_enabled(has_folder, egui::Button::new("Train…"))
            .on_hover_text("Train a boundary model on the open folder")
            .clicked()
        {
            actions.push(Action::ShowTraining(!state.training.open));
        }
        if ui
            .add_enabled(has_folder, egui::Button::new("Search…"))
            .on_hover_text("Search hyperparameters with cross-validation on the open folder")
            .clicked()
        {
            actions.push(Action::Search(super::search::SearchAction::Show(
                !state.search.open,
            )));
        }
        if ui
            .add_enabled(has_folder, egui::Button::new("Load model…"))
            .on_hover_text(
                "Score the movies with a model folder written by Train or `scenelab train`",
            )
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::LoadModel));
        }
        if ui
            .add_enabled(has_folder, egui::Button::new("Load PyTorch weights…"))
            .on_hover_text(
                "Score the movies with a PyTorch state dict (.pth, .pt, .pth.tar, .bin) or a safetensors file holding a SceneLab twin's weights (python/scenelab_torch.py)",
            )
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::LoadWeights));
        }
        if ui
            .add_enabled(
                state.training.last_model.is_some(),
                egui::Button::new("Save model…"),
            )
            .on_hover_text("Write the last trained model into a folder")
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::SaveModel));
        }
        if ui
            .add_enabled(
                has_folder && state.sources.selected_source().is_some(),
                egui::Button::new("Export predictions…"),
            )
            .on_hover_text(
                "Write every movie file with the selected source's scores as its prediction into another folder",
            )
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::ExportPredictions));
        }
        if ui
            .add_enabled(has_folder, egui::Button::new("Export scenes…"))
            .on_hover_text(
                "Write each movie's scenes (ground truth or the selected source's) as PySceneDetect CSV, LGSS JSON or a CMX 3600 EDL",
            )
            .clicked()
        {
            actions.push(Action::Report(ReportAction::Show(!state.report.open)));
        }
        if ui
            .add_enabled(
                state.shown_metrics().is_some(),
                egui::Button::new("Save report…"),
            )
            .on_hover_text(
                "Write the metrics per movie and totals (CSV, and JSON as `scenelab evaluate --json`) and PNG images of the timeline and curves into a folder",
            )
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::SaveReport));
        }
    }

    fn path_row(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        if let Some(notice) = &state.notice {
            ui.colored_label(ui.visuals().warn_fg_color, notice);
        }
        ui.horizontal(|ui| {
            let label = ui.label("Folder path");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.path_input)
                        .hint_text("/path/to/folder/of/pkl/files")
                        .desired_width(500.0),
                )
                .labelled_by(label.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Open").clicked() || enter) && !self.path_input.trim().is_empty() {
                actions.push(Action::OpenFolder(self.path_input.trim().into()));
            }
        });
    }
}

fn status_line(ui: &mut egui::Ui, state: &AppState, jobs: &Jobs<super::App>) {
    ui.horizontal(|ui| {
        let running = jobs.running();
        let metrics_pending = state.metrics_key().is_some() && state.current_metrics().is_none();
        if running.is_empty() && !metrics_pending {
            let text = match &state.folder {
                Some(f) => format!(
                    "Ready: {} movies{} in {} ({:.2} GB in memory{})",
                    f.movies.len(),
                    if f.bad.is_empty() {
                        String::new()
                    } else {
                        format!(", {} unreadable files", f.bad.len())
                    },
                    f.dir.display(),
                    f.tensor_bytes() as f64 / 1e9,
                    if f.half_features() {
                        ", features as f16"
                    } else {
                        ""
                    }
                ),
                None => "No folder open".to_string(),
            };
            ui.label(text);
            return;
        }
        ui.spinner();
        if let Some(job) = running.first() {
            let mut text = job.label.clone();
            if !job.note.is_empty() {
                text.push_str(": ");
                text.push_str(&job.note);
            }
            ui.label(text);
            if let Some(f) = job.fraction() {
                ui.add(
                    egui::ProgressBar::new(f)
                        .desired_width(240.0)
                        .show_percentage(),
                );
            }
            if running.len() > 1 {
                ui.label(format!("(+{} more)", running.len() - 1));
            }
        } else {
            ui.label("Computing metrics…");
        }
    });
}

/// Room the source picker and the threshold slider take in the top bar, in points.
const SOURCE_AND_THRESHOLD_WIDTH: f32 = 560.0;

fn error_area(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    if state.errors.is_empty() {
        return;
    }
    egui::Frame::new()
        .fill(ui.visuals().error_fg_color.gamma_multiply(0.15))
        .inner_margin(6.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            for (i, e) in state.errors.iter().enumerate().rev().take(5) {
                ui.horizontal_top(|ui| {
                    if ui.small_button("Dismiss").clicked() {
                        actions.push(Action::DismissError(i));
                    }
                    // Wrapped: the advice at the end of a long error must stay readable.
                    let text = egui::RichText::new(e).color(ui.visuals().error_fg_color);
                    ui.add(egui::Label::new(text).wrap());
                });
            }
            if state.errors.len() > 1 && ui.small_button("Dismiss all").clicked() {
                actions.push(Action::DismissAllErrors);
            }
        });
}
