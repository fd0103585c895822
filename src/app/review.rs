//! The review queue window: the selected source's errors at the current threshold or
//! decision ([`crate::eval::review`]), over all movies or its test movies, in a table; n, p
//! and Enter move the timeline to an error, zoomed to about ±20 shots; each error can be
//! tagged, and the tags are saved beside the data as the review log and loaded with it.

use eframe::egui;

use super::scope::Role;
use super::sources::DecisionKey;
use super::{Action, App, AppState};
use crate::eval::review::{MovieErrors, ReviewEntry, ReviewLog, Tag, Verdict, review_queue};

/// Transitions shown each side of an error the queue jumps to.
pub const FOCUS_SPAN: usize = 20;

/// A movie's index, id, labels, scores and predicted boundaries.
type QueueRow<'a> = (usize, &'a str, &'a [bool], &'a [f64], Vec<bool>);

/// What the queue was built for.
#[derive(Debug, Clone, Copy, PartialEq)]
struct QueueKey {
    data: u64,
    sources: u64,
    threshold_bits: u32,
    decision: Option<DecisionKey>,
    test_only: bool,
}

/// The review window's state.
#[derive(Debug, Default)]
pub struct ReviewState {
    pub open: bool,
    /// Only the selected source's test movies (when it has a split).
    pub test_only: bool,
    pub entries: Vec<ReviewEntry>,
    key: Option<QueueKey>,
    /// The entry the timeline was last moved to.
    pub current: Option<usize>,
    pub log: ReviewLog,
}

/// The review window's requests.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewAction {
    Show(bool),
    SetTestOnly(bool),
    /// Move the timeline to entry `k`.
    Go(usize),
    Next,
    Previous,
    /// Load another folder's labels as a source, to see where they disagree with the open
    /// folder's (on a background thread).
    LoadLabels(std::path::PathBuf),
    /// Tag a transition of a movie (an empty tag removes it); saved at once.
    Tag {
        movie: String,
        transition: usize,
        tag: Tag,
    },
}

impl AppState {
    /// Build the queue again if what it depends on changed.
    pub(super) fn refresh_review(&mut self) {
        if !self.review.open {
            return;
        }
        let key = QueueKey {
            data: self.data_generation,
            sources: self.sources.generation(),
            threshold_bits: self.threshold.to_bits(),
            decision: self.sources.selected_decision().map(DecisionKey::from),
            test_only: self.review.test_only,
        };
        if self.review.key == Some(key) {
            return;
        }
        self.review.key = Some(key);
        self.review.entries = self.build_queue();
        self.review.current = None;
    }

    fn build_queue(&self) -> Vec<ReviewEntry> {
        let Some(source) = self.sources.selected_source() else {
            return Vec::new();
        };
        let decision = self.sources.selected_decision();
        let has_split = self.selected_split().is_some();
        let rows: Vec<QueueRow<'_>> = self
            .movies()
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                !(self.review.test_only && has_split) || self.role(*i) == Some(Role::Test)
            })
            .filter_map(|(i, m)| {
                let gt = m.ground_truth.as_deref()?;
                let scores = source.scores_for(&m.imdb_id)?;
                if scores.len() != gt.len() {
                    return None;
                }
                // As the timeline and the metrics decide.
                let predicted = match decision {
                    Some(d) => d.boundaries(&scores.to_f32_vec()),
                    None => {
                        let t = scores.precision().threshold(f64::from(self.threshold));
                        scores.values().iter().map(|&p| p >= t).collect()
                    }
                };
                Some((i, m.imdb_id.as_str(), gt, scores.values(), predicted))
            })
            .collect();
        review_queue(rows.iter().map(|(i, id, gt, s, p)| MovieErrors {
            movie_index: *i,
            movie: id,
            ground_truth: gt,
            scores: s,
            predicted: p,
        }))
    }
}

impl App {
    pub(super) fn apply_review(&mut self, action: ReviewAction) {
        let review = &mut self.state.review;
        match action {
            ReviewAction::Show(open) => review.open = open,
            ReviewAction::SetTestOnly(on) => review.test_only = on,
            ReviewAction::Go(k) => self.review_go(k),
            ReviewAction::LoadLabels(dir) => self.start_labels_load(dir),
            ReviewAction::Next => {
                let k = review.current.map_or(0, |c| c + 1);
                self.review_go(k);
            }
            ReviewAction::Previous => {
                let k = review.current.map_or(0, |c| c.saturating_sub(1));
                self.review_go(k);
            }
            ReviewAction::Tag {
                movie,
                transition,
                tag,
            } => {
                review.log.set(&movie, transition, tag);
                if let Some(folder) = &self.state.folder
                    && let Err(e) = review.log.save(&folder.dir)
                {
                    self.state
                        .push_error(format!("Could not save the review log: {e:#}"));
                }
            }
        }
    }

    fn review_go(&mut self, k: usize) {
        // The queue of this frame's state (an edit may have changed it).
        self.state.refresh_review();
        let Some(entry) = self.state.review.entries.get(k).cloned() else {
            return;
        };
        self.state.review.current = Some(k);
        self.apply(Action::SelectMovie(entry.movie_index));
        self.timeline.focus(entry.transition, FOCUS_SPAN);
    }

    fn start_labels_load(&mut self, dir: std::path::PathBuf) {
        let label = format!("Reading labels from {}", dir.display());
        let answer_dir = dir.clone();
        self.jobs.spawn_answering(
            label,
            // Only the labels are read from it: its features are held at half size.
            move |_| {
                super::loader::load_folder(&dir, crate::data::FeaturePrecision::F16, &|_, _, _| {})
                    .map_err(|e| e.to_string())
            },
            move |result| LabelsLoaded {
                dir: answer_dir,
                result,
            },
        );
    }

    /// After a folder opened: its review log.
    pub(super) fn load_review_log(&mut self) {
        self.state.review.key = None;
        self.state.review.current = None;
        let Some(folder) = &self.state.folder else {
            return;
        };
        match ReviewLog::load(&folder.dir) {
            Ok(log) => self.state.review.log = log,
            Err(e) => {
                self.state.review.log = ReviewLog::default();
                self.state.push_error(format!("{e:#}"));
            }
        }
    }
}

/// The review window.
#[derive(Default)]
pub struct ReviewPanel {
    note: String,
    /// The entry the note field belongs to.
    note_for: Option<(String, usize)>,
}

impl ReviewPanel {
    pub fn window(&mut self, ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
        // Over the movie list's lower part, clear of the timeline it moves.
        let bottom_left = ctx.content_rect().left_bottom();
        let window = egui::Window::new("Review errors")
            .pivot(egui::Align2::LEFT_BOTTOM)
            .default_pos(bottom_left + egui::vec2(8.0, -8.0))
            .default_size([560.0, 360.0]);
        if !crate::app::window::show(ctx, window, |ui| self.ui(ui, state, actions)) {
            actions.push(Action::Review(ReviewAction::Show(false)));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let review = &state.review;
        ui.horizontal(|ui| {
            let how = state
                .sources
                .selected_description(state.threshold)
                .unwrap_or_else(|| "no source".into());
            ui.label(format!("{} errors of {how}", review.entries.len()));
            let mut test_only = review.test_only;
            if ui
                .add_enabled(
                    state.selected_split().is_some(),
                    egui::Checkbox::new(&mut test_only, "Test movies only"),
                )
                .changed()
            {
                actions.push(Action::Review(ReviewAction::SetTestOnly(test_only)));
            }
        });
        ui.weak("n / p: next / previous error, Enter: show the selected one again");
        self.tag_editor(ui, state, actions);
        ui.separator();
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        egui::Grid::new("review_head")
            .num_columns(6)
            .min_col_width(70.0)
            .show(ui, |ui| {
                for h in ["Movie", "Transition", "Time", "Score", "Kind", "Tag"] {
                    ui.strong(h);
                }
                ui.end_row();
            });
        egui::ScrollArea::vertical()
            .id_salt("review_rows")
            .show_rows(ui, row_height, review.entries.len(), |ui, range| {
                egui::Grid::new("review_grid")
                    .num_columns(6)
                    .min_col_width(70.0)
                    .striped(true)
                    .start_row(range.start)
                    .show(ui, |ui| {
                        for k in range {
                            let e = &review.entries[k];
                            let current = review.current == Some(k);
                            if ui.selectable_label(current, &e.movie).clicked() {
                                actions.push(Action::Review(ReviewAction::Go(k)));
                            }
                            ui.label(e.transition.to_string());
                            ui.label(time_of(state, e));
                            ui.label(format!("{:.4}", e.score));
                            ui.label(e.kind.name());
                            ui.label(
                                review
                                    .log
                                    .get(&e.movie, e.transition)
                                    .map_or_else(String::new, Tag::text),
                            );
                            ui.end_row();
                        }
                    });
            });
    }

    /// Verdict buttons and a note for the current entry.
    fn tag_editor(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let review = &state.review;
        let Some(e) = review.current.and_then(|k| review.entries.get(k)) else {
            return;
        };
        let key = (e.movie.clone(), e.transition);
        let tag = review
            .log
            .get(&e.movie, e.transition)
            .cloned()
            .unwrap_or_default();
        if self.note_for.as_ref() != Some(&key) {
            self.note = tag.note.clone();
            self.note_for = Some(key);
        }
        let mut send = |tag: Tag| {
            actions.push(Action::Review(ReviewAction::Tag {
                movie: e.movie.clone(),
                transition: e.transition,
                tag,
            }))
        };
        ui.horizontal(|ui| {
            ui.label(format!("{} transition {}:", e.movie, e.transition));
            for v in Verdict::ALL {
                if ui
                    .selectable_label(tag.verdict == Some(v), v.name())
                    .clicked()
                {
                    let verdict = (tag.verdict != Some(v)).then_some(v);
                    send(Tag {
                        verdict,
                        note: tag.note.clone(),
                    });
                }
            }
            let label = ui.label("note");
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.note).desired_width(160.0))
                .labelled_by(label.id);
            if r.lost_focus() && self.note != tag.note {
                send(Tag {
                    verdict: tag.verdict,
                    note: self.note.clone(),
                });
            }
        });
    }
}

/// The time of an entry's transition (the end of its shot), if the movie has end frames.
fn time_of(state: &AppState, e: &ReviewEntry) -> String {
    let Some(m) = state.movies().get(e.movie_index) else {
        return String::new();
    };
    m.shot_end_frame
        .as_ref()
        .and_then(|f| f.get(e.transition))
        .map_or_else(String::new, |&end| {
            super::timeline::format_time((end + 1) as f64 / state.fps_of(m))
        })
}

/// The review window's keys, while no text field has the keyboard.
pub(super) fn keys(ui: &egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    if !state.review.open {
        return;
    }
    let (n, p, enter) = ui.input(|i| {
        (
            i.key_pressed(egui::Key::N),
            i.key_pressed(egui::Key::P),
            i.key_pressed(egui::Key::Enter),
        )
    });
    if n {
        actions.push(Action::Review(ReviewAction::Next));
    } else if p {
        actions.push(Action::Review(ReviewAction::Previous));
    } else if enter {
        actions.push(Action::Review(ReviewAction::Go(
            state.review.current.unwrap_or(0),
        )));
    }
}

/// The second set of labels, read.
pub struct LabelsLoaded {
    dir: std::path::PathBuf,
    result: Result<super::loader::LoadedFolder, String>,
}

impl super::jobs::Deliver<App> for LabelsLoaded {
    fn deliver(self, app: &mut App) {
        let state = &mut app.state;
        let folder = match self.result {
            Ok(f) => f,
            Err(e) => {
                return state.push_error(format!("Could not read {}: {e}", self.dir.display()));
            }
        };
        let Some(open) = state.folder.as_ref() else {
            return;
        };
        let name = format!(
            "labels of {}",
            self.dir.file_name().map_or_else(
                || self.dir.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        );
        let colour = super::sources::palette(state.sources.len());
        let source = super::sources::PredictionSource::from_labels(
            name,
            colour,
            &folder.movies,
            &open.movies,
        );
        if source.scores.is_empty() {
            return state.push_error(format!(
                "{} has no labels for the open movies (same imdb ids and shot counts)",
                self.dir.display()
            ));
        }
        let i = state.sources.add(source);
        state.sources.select(i);
    }
}
