//! Editing the ground truth in the app: the edit mode's actions (set, clear, move, mark
//! uncertain, undo, redo) applied to the open movies through [`EditLog`], each step appended
//! to the folder's [`Journal`] first; the prompt that replays a journal left by a crash; and
//! saving the edited labels (into a new folder, or in place after a confirmation) as a job.
//! An edit bumps [`AppState::data_generation`], so the metrics, the comparison and the
//! curves are computed again, off the UI thread, for the new labels.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui;

use super::jobs::Deliver;
use super::{Action, App, AppState};
use crate::data::edit::{Edit, EditLog, Journal, Step, replay};
use crate::workflow::labels::{SaveTarget, SavedLabels, save_labels};

/// What the edit mode knows.
#[derive(Debug, Default)]
pub struct EditState {
    /// Clicks on the timeline edit the labels.
    pub mode: bool,
    /// Every edit since the folder was opened (or last saved).
    pub log: EditLog,
    /// Steps found in the folder's journal when it was opened, waiting for the user to replay
    /// or discard them.
    pub offer: Option<Vec<Step>>,
    /// The "save in place" confirmation is showing.
    pub confirm_in_place: bool,
    /// What the last save wrote, for the status line.
    pub last_saved: Option<String>,
}

impl EditState {
    /// The IMDb ids of the movies with unsaved edits.
    pub fn edited(&self) -> BTreeSet<String> {
        self.log.edited_movies()
    }
}

/// The edit mode's requests.
#[derive(Debug, Clone, PartialEq)]
pub enum EditAction {
    SetMode(bool),
    /// Set or clear the boundary at this transition of the selected movie.
    Toggle(usize),
    /// Mark this transition's boundary of the selected movie uncertain, or certain again.
    ToggleUncertain(usize),
    /// Move the selected movie's boundary from one transition to another.
    Move {
        from: usize,
        to: usize,
    },
    Undo,
    Redo,
    /// Write the labels into a new folder.
    SaveTo(PathBuf),
    /// Ask before writing over the folder's files.
    AskSaveInPlace,
    /// Write over the folder's files (each original kept once as `<file>.orig`).
    SaveInPlace,
    CancelSaveInPlace,
    /// Replay (`true`) or discard the journal found when the folder was opened.
    Replay(bool),
}

impl App {
    pub(super) fn apply_edit(&mut self, action: EditAction) {
        let changes_labels = matches!(
            action,
            EditAction::Toggle(_)
                | EditAction::ToggleUncertain(_)
                | EditAction::Move { .. }
                | EditAction::Undo
                | EditAction::Redo
        );
        // The journal's old steps go first: edits made before they are replayed or discarded
        // would not fit them.
        if changes_labels && self.state.edit.offer.is_some() {
            self.state.push_error(
                "Replay or discard the unsaved edits found in this folder before editing.".into(),
            );
            return;
        }
        match action {
            EditAction::SetMode(on) => self.state.edit.mode = on,
            EditAction::Toggle(t) => self.edit_selected(|m| Edit::toggle(m, t)),
            EditAction::ToggleUncertain(t) => self.edit_selected(|m| Edit::toggle_uncertain(m, t)),
            EditAction::Move { from, to } => {
                self.edit_selected(|m| Edit::move_boundary(m, from, to))
            }
            EditAction::Undo => self.log_step(Step::Undo),
            EditAction::Redo => self.log_step(Step::Redo),
            EditAction::SaveTo(dir) => self.start_label_save(SaveTarget::Folder(dir)),
            EditAction::AskSaveInPlace => self.state.edit.confirm_in_place = true,
            EditAction::CancelSaveInPlace => self.state.edit.confirm_in_place = false,
            EditAction::SaveInPlace => {
                self.state.edit.confirm_in_place = false;
                self.start_label_save(SaveTarget::InPlace);
            }
            EditAction::Replay(accept) => self.answer_offer(accept),
        }
    }

    fn edit_selected(
        &mut self,
        make: impl FnOnce(&crate::data::Movie) -> Result<Edit, crate::data::edit::EditError>,
    ) {
        let Some(movie) = self.state.selected() else {
            return;
        };
        match make(movie) {
            Ok(edit) => self.log_step(Step::Apply { edit }),
            Err(e) => self.state.push_error(format!("Cannot edit: {e}")),
        }
    }

    /// Apply a step to the open movies, journal it, and have everything derived from the
    /// labels computed again.
    fn log_step(&mut self, step: Step) {
        let Some(folder) = self.state.folder.as_mut() else {
            return;
        };
        // Copy-on-write: the metrics worker and running jobs keep the labels they started with.
        let movies: &mut Vec<crate::data::Movie> = Arc::make_mut(&mut folder.movies);
        match self.state.edit.log.step(movies, &step) {
            Ok(None) => return,
            Ok(Some(_)) => {}
            Err(e) => {
                self.state.push_error(format!("Cannot edit: {e}"));
                return;
            }
        }
        if let Err(e) = Journal::in_folder(&folder.dir).append(&step) {
            self.state.push_error(format!(
                "{e}: edits are not kept against a crash until it can be written (check the folder's permissions)"
            ));
        }
        self.labels_changed();
    }

    /// The open movies' labels changed: derived data follows.
    fn labels_changed(&mut self) {
        self.state.data_generation += 1;
        if let Some(folder) = &self.state.folder {
            self.movie_list.reset(folder);
        }
    }

    /// After a folder opened: offer the edits its journal holds, if any.
    pub(super) fn check_journal(&mut self) {
        self.state.edit.log = EditLog::default();
        self.state.edit.offer = None;
        self.state.edit.confirm_in_place = false;
        let Some(folder) = &self.state.folder else {
            return;
        };
        match Journal::in_folder(&folder.dir).read() {
            Ok(steps) if !steps.is_empty() => self.state.edit.offer = Some(steps),
            Ok(_) => {}
            Err(e) => self.state.push_error(e.to_string()),
        }
    }

    fn answer_offer(&mut self, accept: bool) {
        let Some(steps) = self.state.edit.offer.take() else {
            return;
        };
        let Some(folder) = self.state.folder.as_mut() else {
            return;
        };
        let journal = Journal::in_folder(&folder.dir);
        if !accept {
            if let Err(e) = journal.clear() {
                self.state.push_error(e.to_string());
            }
            return;
        }
        let movies: &mut Vec<crate::data::Movie> = Arc::make_mut(&mut folder.movies);
        let (log, error) = replay(movies, &steps);
        if let Some(e) = error {
            self.state.push_error(format!(
                "Replayed {} of the journal's edits; the next no longer fits the files: {e}",
                log.done().len()
            ));
        }
        self.state.edit.log = log;
        self.labels_changed();
    }

    fn start_label_save(&mut self, target: SaveTarget) {
        if self.jobs.is_running::<LabelsSaved>() {
            return;
        }
        let Some(folder) = &self.state.folder else {
            return;
        };
        let edited = self.state.edit.edited();
        if edited.is_empty() && target == SaveTarget::InPlace {
            self.state.push_error("No edited labels to save.".into());
            return;
        }
        let source = folder.dir.clone();
        let movies = folder.movies.clone();
        let movienet = folder.movienet;
        let data = self.state.data_generation;
        let label = match &target {
            SaveTarget::Folder(d) => format!("{SAVE_JOB} to {}", d.display()),
            SaveTarget::InPlace => format!("{SAVE_JOB} in {}", source.display()),
        };
        self.jobs.spawn_answering(
            label,
            move |_| {
                save_labels(&source, &movies, &edited, movienet, &target)
                    .map(|s| (target, s))
                    .map_err(|e| format!("{e:#}"))
            },
            move |result| LabelsSaved { data, result },
        );
    }
}

const SAVE_JOB: &str = "Saving labels";

/// The save job's answer.
pub struct LabelsSaved {
    data: u64,
    result: Result<(SaveTarget, SavedLabels), String>,
}

impl Deliver<App> for LabelsSaved {
    fn deliver(self, app: &mut App) {
        let state = &mut app.state;
        match self.result {
            Ok((target, saved)) => {
                let place = match &target {
                    SaveTarget::Folder(d) => d.display().to_string(),
                    SaveTarget::InPlace => "place".into(),
                };
                state.edit.last_saved = Some(format!(
                    "Saved {} edited movie(s) in {place}{}",
                    saved.edited.len(),
                    if saved.backups.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", originals kept as *{}",
                            crate::workflow::labels::BACKUP_SUFFIX
                        )
                    }
                ));
                // Saved while nothing changed since: the files hold every edit.
                if state.data_generation == self.data
                    && let Some(folder) = &state.folder
                {
                    state.edit.log.clear();
                    if let Err(e) = Journal::in_folder(&folder.dir).clear() {
                        state.push_error(e.to_string());
                    }
                }
            }
            Err(e) => state.push_error(format!("Could not save the labels: {e}")),
        }
    }
}

/// The windows the edit mode opens: the journal prompt and the in-place confirmation.
pub(super) fn windows(ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
    if let Some(steps) = &state.edit.offer {
        egui::Window::new("Unsaved edits")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                let edits = steps
                    .iter()
                    .filter(|s| matches!(s, Step::Apply { .. }))
                    .count();
                ui.label(format!(
                    "This folder has {edits} label edit(s) that were never saved (the app closed before saving)."
                ));
                ui.horizontal(|ui| {
                    if ui.button("Replay edits").clicked() {
                        actions.push(Action::Edit(EditAction::Replay(true)));
                    }
                    if ui.button("Discard edits").clicked() {
                        actions.push(Action::Edit(EditAction::Replay(false)));
                    }
                });
            });
    }
    if state.edit.confirm_in_place {
        egui::Window::new("Save labels in place")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                let n = state.edit.edited().len();
                ui.label(format!(
                    "Write the labels of {n} edited movie(s) over the folder's files? Each original is kept once beside it as <file>{}.",
                    crate::workflow::labels::BACKUP_SUFFIX
                ));
                ui.horizontal(|ui| {
                    if ui.button("Overwrite").clicked() {
                        actions.push(Action::Edit(EditAction::SaveInPlace));
                    }
                    if ui.button("Cancel").clicked() {
                        actions.push(Action::Edit(EditAction::CancelSaveInPlace));
                    }
                });
            });
    }
}

/// The edit mode's controls, Review errors and Compare labels: a row under the timeline's
/// header.
pub(super) fn controls(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    let edit = &state.edit;
    if ui
        .selectable_label(edit.mode, "Edit labels")
        .on_hover_text(
            "Click a transition to set or clear a boundary, right-click to mark it uncertain, drag a truth band's edge to move a boundary; Ctrl+Z / Ctrl+Shift+Z undo and redo",
        )
        .clicked()
    {
        actions.push(Action::Edit(EditAction::SetMode(!edit.mode)));
    }
    if ui
        .add_enabled(edit.log.can_undo(), egui::Button::new("Undo"))
        .clicked()
    {
        actions.push(Action::Edit(EditAction::Undo));
    }
    if ui
        .add_enabled(edit.log.can_redo(), egui::Button::new("Redo"))
        .clicked()
    {
        actions.push(Action::Edit(EditAction::Redo));
    }
    let edited = edit.log.can_undo();
    if ui
        .add_enabled(edited, egui::Button::new("Save labels…"))
        .on_hover_text("Write every movie with the edited labels into a new folder")
        .clicked()
    {
        actions.push(Action::PickFor(super::picker::PickPurpose::SaveLabels));
    }
    if ui
        .add_enabled(edited, egui::Button::new("Save in place"))
        .clicked()
    {
        actions.push(Action::Edit(EditAction::AskSaveInPlace));
    }
    ui.separator();
    if ui
        .button("Review errors…")
        .on_hover_text(
            "Every false and missed boundary of the selected source, to walk through and tag",
        )
        .clicked()
    {
        actions.push(Action::Review(super::review::ReviewAction::Show(true)));
    }
    if ui
        .button("Compare labels…")
        .on_hover_text(
            "Open another annotator's folder of these movies: its labels become a source scored against these",
        )
        .clicked()
    {
        actions.push(Action::PickFor(super::picker::PickPurpose::CompareLabels));
    }
    if let Some(s) = &edit.last_saved {
        ui.weak(s);
    }
}
