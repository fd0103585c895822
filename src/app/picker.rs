//! Choosing a folder: the native dialog in the app, a replacement in tests.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What came of asking the user for a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickOutcome {
    Picked(PathBuf),
    /// The user closed the dialog without choosing.
    Cancelled,
    /// No dialog could open here; the message says why.
    Unavailable(String),
}

/// What a picked folder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickPurpose {
    /// A folder of movies to open.
    OpenMovies,
    /// A model folder to load.
    LoadModel,
    /// A PyTorch weight file (state dict or safetensors) to load as a model.
    LoadWeights,
    /// Where to save the last trained model.
    SaveModel,
    /// Where to write the selected source's predictions.
    ExportPredictions,
    /// Where to write the cross-validation results.
    SaveCrossValidation,
    /// Where to write each movie's scene list.
    ExportScenes,
    /// Where to write the metrics report and the plot images.
    SaveReport,
    /// A folder of `<imdb>.srt` subtitle files for the open movies.
    Subtitles,
    /// Where to save the movies with their edited labels.
    SaveLabels,
    /// A second set of labels (another annotator's folder) to compare with.
    CompareLabels,
}

impl PickPurpose {
    /// What the dialog asks for, as its title.
    pub fn title(self) -> &'static str {
        match self {
            PickPurpose::OpenMovies => "Open a folder of movies (tt*.pkl or MovieNet's layout)",
            PickPurpose::LoadModel => "Load a model folder",
            PickPurpose::LoadWeights => "Load PyTorch or safetensors model weights",
            PickPurpose::SaveModel => "Save the model into a folder",
            PickPurpose::ExportPredictions => "Export predictions into a folder",
            PickPurpose::SaveCrossValidation => "Save cross-validation results into a folder",
            PickPurpose::ExportScenes => "Export each movie's scene list into a folder",
            PickPurpose::SaveReport => "Save the metrics report and plot images into a folder",
            PickPurpose::Subtitles => "Choose a folder of <imdb>.srt subtitles",
            PickPurpose::SaveLabels => "Save the movies with their edited labels into a new folder",
            PickPurpose::CompareLabels => {
                "Open another annotator's folder of the same movies to compare labels"
            }
        }
    }

    /// What the app does with the folder chosen for this purpose.
    pub fn action(self, dir: PathBuf) -> super::Action {
        use super::Action;
        match self {
            PickPurpose::OpenMovies => Action::OpenFolder(dir),
            PickPurpose::LoadModel | PickPurpose::LoadWeights => Action::LoadModel(dir),
            PickPurpose::SaveModel => Action::SaveModel(dir),
            PickPurpose::ExportPredictions => Action::ExportPredictions(dir),
            PickPurpose::SaveCrossValidation => Action::SaveCrossValidation(dir),
            PickPurpose::ExportScenes => {
                Action::Report(super::report::ReportAction::ExportScenes(dir))
            }
            PickPurpose::SaveReport => Action::Report(super::report::ReportAction::SaveReport(dir)),
            PickPurpose::Subtitles => Action::LoadSubtitles(dir),
            PickPurpose::SaveLabels => Action::Edit(super::edit::EditAction::SaveTo(dir)),
            PickPurpose::CompareLabels => {
                Action::Review(super::review::ReviewAction::LoadLabels(dir))
            }
        }
    }
}

/// Something that asks the user for a folder or a file. Called off the UI thread: it may
/// block. When it answers [`PickOutcome::Unavailable`], the app opens its own browser
/// ([`super::browser`]) instead.
pub trait FolderPicker: Send + Sync + 'static {
    fn pick_folder(&self, start: Option<&Path>) -> PickOutcome;

    /// A model weight file ([`WEIGHT_EXTENSIONS`]); by default what [`Self::pick_folder`]
    /// answers, so a test's picker answers both.
    fn pick_file(&self, start: Option<&Path>) -> PickOutcome {
        self.pick_folder(start)
    }
}

/// Extensions of the weight files Load PyTorch weights offers (`.pth.tar` ends in `tar`).
pub const WEIGHT_EXTENSIONS: [&str; 5] = ["pth", "pt", "tar", "bin", "safetensors"];

/// Closures are pickers, so tests can answer with a fixed folder.
impl<F> FolderPicker for F
where
    F: Fn(Option<&Path>) -> PickOutcome + Send + Sync + 'static,
{
    fn pick_folder(&self, start: Option<&Path>) -> PickOutcome {
        self(start)
    }
}

/// The system's folder dialog through rfd (xdg desktop portal, else zenity).
pub struct NativePicker;

/// A dialog a person cancels takes longer than this; an answer sooner means none opened.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(300);

impl FolderPicker for NativePicker {
    fn pick_folder(&self, start: Option<&Path>) -> PickOutcome {
        let dialog = rfd::FileDialog::new().set_title("Open a folder of tt*.pkl movies");
        ask(dialog, start, unavailable_message, |d| d.pick_folder())
    }

    fn pick_file(&self, start: Option<&Path>) -> PickOutcome {
        let dialog = rfd::FileDialog::new()
            .set_title("Load PyTorch or safetensors model weights")
            .add_filter("model weights", &WEIGHT_EXTENSIONS);
        let unavailable = || {
            "No system file dialog can open here (no desktop portal or zenity): choose the weights in the app's own browser, or open them with `scenelab gui DIR --model FILE`.".to_string()
        };
        ask(dialog, start, unavailable, |d| d.pick_file())
    }
}

/// Run a native dialog starting in `start`, telling a dialog that never opened from one the
/// user cancelled.
fn ask(
    mut dialog: rfd::FileDialog,
    start: Option<&Path>,
    unavailable: fn() -> String,
    pick: impl FnOnce(rfd::FileDialog) -> Option<PathBuf>,
) -> PickOutcome {
    let has_portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    if !has_portal && !on_path("zenity") {
        return PickOutcome::Unavailable(unavailable());
    }
    if let Some(dir) = start.filter(|d| d.is_dir()) {
        dialog = dialog.set_directory(dir);
    }
    let asked = Instant::now();
    match pick(dialog) {
        Some(path) => PickOutcome::Picked(path),
        None if asked.elapsed() < NO_DIALOG_WITHIN => PickOutcome::Unavailable(unavailable()),
        None => PickOutcome::Cancelled,
    }
}

fn unavailable_message() -> String {
    "No system folder dialog can open here (no desktop portal or zenity): choose the folder in the app's own browser, or type its path with Path…."
        .to_string()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closure_is_a_picker() {
        let p = |_: Option<&Path>| PickOutcome::Picked(PathBuf::from("/x"));
        assert_eq!(
            p.pick_folder(None),
            PickOutcome::Picked(PathBuf::from("/x"))
        );
    }
}
