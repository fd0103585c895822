//! The page shown while no folder is open.

use super::jobs::Jobs;
use super::{Action, AppState};
use eframe::egui;

#[derive(Default)]
pub struct EmptyState {
    path_input: String,
}

impl EmptyState {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        jobs: &Jobs<super::App>,
        actions: &mut Vec<Action>,
    ) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.25);
            if jobs.is_busy() {
                ui.heading("Opening…");
                ui.add_space(8.0);
                for job in jobs.running() {
                    ui.label(&job.label);
                    if let Some(f) = job.fraction() {
                        ui.add(
                            egui::ProgressBar::new(f)
                                .desired_width(400.0)
                                .show_percentage(),
                        );
                    }
                }
                return;
            }
            ui.heading("No movies open");
            ui.add_space(8.0);
            ui.label(
                "Open a folder of tt*.pkl movie files (as the scene segmentation challenge \
                 ships them), or write a few synthetic demo movies to try the app.",
            );
            ui.add_space(16.0);
            ui.horizontal(|ui| {
                // Centre the two buttons.
                let w = 300.0;
                ui.add_space(((ui.available_width() - w) / 2.0).max(0.0));
                if ui
                    .add_sized([140.0, 32.0], egui::Button::new("Open folder…"))
                    .clicked()
                {
                    actions.push(Action::PickFolder);
                }
                if ui
                    .add_sized([140.0, 32.0], egui::Button::new("Make demo data"))
                    .clicked()
                {
                    actions.push(Action::MakeDemo(None));
                }
            });
            ui.add_space(16.0);
            if let Some(notice) = &state.notice {
                ui.colored_label(ui.visuals().warn_fg_color, notice);
            }
            ui.horizontal(|ui| {
                let w = 560.0;
                ui.add_space(((ui.available_width() - w) / 2.0).max(0.0));
                let label = ui.label("Or type a path");
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.path_input)
                            .hint_text("/path/to/folder")
                            .desired_width(340.0),
                    )
                    .labelled_by(label.id);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button("Open path").clicked() || enter) && !self.path_input.trim().is_empty()
                {
                    actions.push(Action::OpenFolder(self.path_input.trim().into()));
                }
            });
        });
    }
}
