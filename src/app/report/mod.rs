//! Results out of the app: Export scenes (each movie's scenes of the ground truth or of the
//! selected source, through its decision, as PySceneDetect CSV, LGSS JSON or CMX 3600 EDL) and
//! Save report (the metrics per movie and totals as CSV, the JSON `scenelab evaluate --json`
//! prints, and PNG images of the timeline, the precision-recall curve and the threshold
//! sweep). Both write in a background job ([`job`]) into a folder the picker gives.

pub(crate) mod job;

use eframe::egui;

use super::picker::PickPurpose;
use super::{Action, AppState};
use crate::export::{Format, FrameRate};

/// Whose scenes Export scenes writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScenesOf {
    /// The selected source's, through its applied decision or the threshold (the boundaries
    /// the timeline shows).
    #[default]
    SelectedSource,
    GroundTruth,
}

/// The Export scenes form.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportForm {
    pub format: Format,
    /// Frames per second; `None` follows the timeline's fps setting.
    pub fps: Option<f64>,
    pub of: ScenesOf,
}

impl Default for ExportForm {
    fn default() -> Self {
        ExportForm {
            format: Format::Csv,
            fps: None,
            of: ScenesOf::default(),
        }
    }
}

impl ExportForm {
    /// The frame rate to write at: the form's, else the app's.
    pub fn fps(&self, state: &AppState) -> f64 {
        self.fps.unwrap_or(state.settings.fps)
    }
}

/// What the app knows about exports: whether the window is open, the last job's message.
#[derive(Debug, Default)]
pub struct ReportState {
    pub open: bool,
    /// What the last export or report wrote (or why it wrote less).
    pub note: Option<String>,
}

/// Requests of the export window and the top bar.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportAction {
    Show(bool),
    SetForm(ExportForm),
    /// Write the scenes into this folder (after the picker).
    ExportScenes(std::path::PathBuf),
    /// Write the report into this folder (after the picker).
    SaveReport(std::path::PathBuf),
}

/// The Export scenes window; it owns its form.
#[derive(Default)]
pub struct ReportPanel {
    pub form: ExportForm,
}

impl ReportPanel {
    pub fn window(&mut self, ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
        let window = egui::Window::new("Export scenes").resizable(false);
        if !crate::app::window::show(ctx, window, |ui| self.ui(ui, state, actions)) {
            actions.push(Action::Report(ReportAction::Show(false)));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let mut form = self.form.clone();
        egui::Grid::new("export_grid")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.label("Scenes of");
                ui.vertical(|ui| {
                    let source = state.sources.selected_source();
                    let how = state
                        .sources
                        .selected_description(state.threshold)
                        .unwrap_or_else(|| "the selected source (none)".into());
                    ui.add_enabled_ui(source.is_some(), |ui| {
                        ui.radio_value(&mut form.of, ScenesOf::SelectedSource, how);
                    });
                    ui.radio_value(&mut form.of, ScenesOf::GroundTruth, "the ground truth");
                });
                ui.end_row();
                ui.label("Format");
                ui.vertical(|ui| {
                    for f in Format::ALL {
                        ui.radio_value(&mut form.format, f, f.label());
                    }
                });
                ui.end_row();
                let label = ui.label("Frame rate");
                let mut fps = form.fps(state);
                let r = ui
                    .add(
                        egui::DragValue::new(&mut fps)
                            .range(1.0..=240.0)
                            .speed(0.01)
                            .max_decimals(3)
                            .suffix(" fps"),
                    )
                    .labelled_by(label.id)
                    .on_hover_text(
                        "For times and timecodes: 23.976 is read as 24000/1001, as PySceneDetect \
                         reads it; an EDL counts whole frames per timecode second (24 at 23.976)",
                    );
                if r.changed() {
                    form.fps = Some(fps);
                }
                ui.end_row();
            });
        let rate = FrameRate::from_fps(form.fps(state));
        let problem = match &rate {
            Err(e) => Some(e.to_string()),
            Ok(r) if form.format == Format::Edl => r.timecode_base().err().map(|e| e.to_string()),
            Ok(_) => None,
        };
        if let Some(p) = &problem {
            ui.colored_label(ui.visuals().error_fg_color, p);
        }
        let ready = state.folder.is_some()
            && problem.is_none()
            && (form.of == ScenesOf::GroundTruth || state.sources.selected_source().is_some());
        if ui
            .add_enabled(ready, egui::Button::new("Choose folder and export…"))
            .on_hover_text(
                "One file per movie, <imdb>.csv / .json / .edl, in the folder you choose",
            )
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::ExportScenes));
        }
        if let Some(note) = &state.report.note {
            ui.weak(note);
        }
        if form != self.form {
            actions.push(Action::Report(ReportAction::SetForm(form)));
        }
    }
}

impl super::App {
    pub(super) fn apply_report(&mut self, action: ReportAction) {
        match action {
            ReportAction::Show(open) => self.state.report.open = open,
            ReportAction::SetForm(form) => self.report_panel.form = form,
            ReportAction::ExportScenes(dir) => self.start_scene_export(dir),
            ReportAction::SaveReport(dir) => self.start_report_save(dir),
        }
    }
}
