//! The app's own folder browser (`egui_file`), for when no system dialog can open: no desktop
//! portal and no zenity, as on many plain X11 desktops. The native dialog stays the first
//! choice; the controller opens this one when the picker answers
//! [`PickOutcome::Unavailable`](super::picker::PickOutcome::Unavailable).

use std::path::{Path, PathBuf};

use eframe::egui;
use egui_file::{FileDialog, State};

use super::Action;
use super::picker::PickPurpose;

/// The label of the button that takes the folder shown (or the one selected in the list).
pub const CHOOSE: &str = "Choose this folder";

/// A folder browser open for one purpose.
pub struct InAppBrowser {
    purpose: PickPurpose,
    dialog: FileDialog,
}

impl InAppBrowser {
    /// Open at `start` (if it is a folder; else the current directory).
    pub fn open(purpose: PickPurpose, start: Option<&Path>) -> Self {
        // Weights are a file; everything else the app asks for is a folder.
        let dialog = if purpose == PickPurpose::LoadWeights {
            FileDialog::open_file().show_files_filter(Box::new(|path: &Path| {
                path.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| super::picker::WEIGHT_EXTENSIONS.contains(&e))
            }))
        } else {
            FileDialog::select_folder()
        };
        let mut dialog = dialog
            .title(purpose.title())
            .open_button_text(if purpose == PickPurpose::LoadWeights {
                "Load these weights".into()
            } else {
                CHOOSE.into()
            })
            .default_size([640.0, 420.0])
            .show_new_folder(matches!(
                purpose,
                PickPurpose::SaveModel
                    | PickPurpose::ExportPredictions
                    | PickPurpose::SaveCrossValidation
                    | PickPurpose::SaveLabels
            ))
            .show_rename(false);
        if let Some(dir) = start.filter(|d| d.is_dir()) {
            dialog = dialog.initial_path(dir);
        }
        dialog.open();
        InAppBrowser { purpose, dialog }
    }

    pub fn purpose(&self) -> PickPurpose {
        self.purpose
    }

    /// The folder the browser shows now.
    pub fn directory(&self) -> &Path {
        self.dialog.directory()
    }

    /// Draw the browser. `Some(action)` once a folder is chosen; `still_open` false once it
    /// is closed (chosen or cancelled).
    pub fn show(&mut self, ctx: &egui::Context) -> (Option<Action>, bool) {
        self.dialog.show(ctx);
        match self.dialog.state() {
            State::Open => (None, true),
            State::Selected => {
                let chosen: Option<PathBuf> = self.dialog.path().map(Path::to_path_buf);
                (chosen.map(|d| self.purpose.action(d)), false)
            }
            State::Closed | State::Cancelled => (None, false),
        }
    }
}
