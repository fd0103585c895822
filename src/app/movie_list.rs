//! The movie list: one row per movie with its size and scores, sortable and filterable,
//! and the files that could not be read listed apart. For a model's source each row also
//! shows the movie's role in the model's split, and the numbers of a movie the model trained
//! on are marked.

use super::loader::LoadedFolder;
use super::metrics::TRAINED_MARK;
use super::scope::Role;
use super::{Action, AppState};
use crate::data::Movie;
use eframe::egui;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Movie,
    Role,
    Shots,
    Scenes,
    Ap,
    Miou,
}

impl Column {
    const ALL: [Column; 6] = [
        Column::Movie,
        Column::Role,
        Column::Shots,
        Column::Scenes,
        Column::Ap,
        Column::Miou,
    ];

    fn title(self) -> &'static str {
        match self {
            Column::Movie => "Movie",
            Column::Role => "Role",
            Column::Shots => "Shots",
            Column::Scenes => "Scenes",
            Column::Ap => "AP",
            Column::Miou => "Miou",
        }
    }
}

/// Held-out movies first when sorting by role.
fn role_rank(role: Option<Role>) -> f64 {
    match role {
        Some(Role::Test) => 0.0,
        Some(Role::Validation) => 1.0,
        Some(Role::Train) => 2.0,
        Some(Role::Unseen) => 3.0,
        None => f64::NAN,
    }
}

/// What a row shows; sizes computed once per folder, scores from the newest metrics.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    index: usize,
    shots: usize,
    scenes: Option<usize>,
}

pub struct MovieList {
    rows: Vec<Row>,
    filter: String,
    sort: Column,
    descending: bool,
    /// Movie indices as shown last frame (what up/down walk through).
    order: Vec<usize>,
    /// The selection the list last scrolled to, so it follows keyboard moves only.
    scrolled_to: Option<usize>,
}

impl Default for MovieList {
    fn default() -> Self {
        MovieList {
            rows: Vec::new(),
            filter: String::new(),
            sort: Column::Movie,
            descending: false,
            order: Vec::new(),
            scrolled_to: None,
        }
    }
}

impl MovieList {
    /// A new folder: recompute row sizes, keep sort and filter.
    pub fn reset(&mut self, folder: &LoadedFolder) {
        self.rows = folder
            .movies
            .iter()
            .enumerate()
            .map(|(index, m)| Row {
                index,
                shots: m.n_shots,
                scenes: m.n_scenes(),
            })
            .collect();
        self.order = (0..self.rows.len()).collect();
    }

    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The first movie in list order, once the list is sorted for `state`.
    pub fn first_listed(&mut self, state: &AppState) -> Option<usize> {
        self.update_order(state);
        self.order.first().copied()
    }

    fn update_order(&mut self, state: &AppState) {
        let movies = state.movies();
        let scores = per_movie_scores(state);
        let needle = self.filter.trim().to_lowercase();
        self.order.clear();
        self.order.extend(
            self.rows
                .iter()
                .filter(|r| {
                    needle.is_empty()
                        || movies
                            .get(r.index)
                            .is_some_and(|m| m.imdb_id.to_lowercase().contains(&needle))
                })
                .map(|r| r.index),
        );
        let key = |i: &usize| -> SortKey {
            let row = &self.rows[*i];
            match self.sort {
                Column::Movie => SortKey::Text(movies.get(*i).map_or("", |m| m.imdb_id.as_str())),
                Column::Role => SortKey::Num(role_rank(state.role(*i))),
                Column::Shots => SortKey::Num(row.shots as f64),
                Column::Scenes => SortKey::Num(row.scenes.map_or(f64::NAN, |s| s as f64)),
                Column::Ap => {
                    SortKey::Num(scores.get(*i).copied().flatten().map_or(f64::NAN, |s| s.0))
                }
                Column::Miou => {
                    SortKey::Num(scores.get(*i).copied().flatten().map_or(f64::NAN, |s| s.1))
                }
            }
        };
        let desc = self.descending;
        self.order.sort_by(|a, b| {
            let o = key(a).cmp(&key(b));
            if desc { o.reverse() } else { o }
        });
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        self.update_order(state);
        let Some(folder) = &state.folder else {
            return;
        };
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("imdb id")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        });
        ui.label(format!(
            "{} of {} movies",
            self.order.len(),
            folder.movies.len()
        ));
        let scores = per_movie_scores(state);
        // Roles only mean something for a model's source.
        let has_split = state.selected_split().is_some();
        let columns: Vec<Column> = Column::ALL
            .into_iter()
            .filter(|&c| has_split || c != Column::Role)
            .collect();
        let bad_height = if folder.bad.is_empty() { 0.0 } else { 160.0 };
        egui::ScrollArea::vertical()
            .id_salt("movie_rows")
            .max_height((ui.available_height() - bad_height).max(80.0))
            .show(ui, |ui| {
                egui::Grid::new("movie_grid")
                    .striped(true)
                    .num_columns(columns.len())
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        self.header_row(ui, &columns);
                        ui.end_row();
                        for &i in &self.order {
                            let (Some(movie), Some(row)) = (folder.movies.get(i), self.rows.get(i))
                            else {
                                continue;
                            };
                            let scores = scores.get(i).copied().flatten();
                            movie_row(
                                ui,
                                state,
                                (i, movie, row),
                                scores,
                                &mut self.scrolled_to,
                                actions,
                            );
                            ui.end_row();
                        }
                    });
            });
        if has_split && self.order.iter().any(|&i| state.trained_on(i)) {
            ui.weak(format!(
                "{TRAINED_MARK} the selected model trained on this movie: its numbers are in-sample"
            ));
        }
        problems(ui, folder);
    }

    /// The column titles: a click sorts by the column, a second click reverses.
    fn header_row(&mut self, ui: &mut egui::Ui, columns: &[Column]) {
        for &col in columns {
            let mark = if self.sort == col {
                if self.descending { " v" } else { " ^" }
            } else {
                ""
            };
            if ui
                .selectable_label(self.sort == col, format!("{}{mark}", col.title()))
                .on_hover_text("Sort by this column; click again to reverse")
                .clicked()
            {
                if self.sort == col {
                    self.descending = !self.descending;
                } else {
                    self.sort = col;
                    self.descending = matches!(col, Column::Ap | Column::Miou);
                }
            }
        }
    }
}

/// Follows the name of a movie whose labels were edited and not saved.
pub const EDITED_MARK: &str = "(edited)";

/// What the list draws after an edited movie's name.
const EDITED_GLYPH: &str = "✏";

/// One movie's row: its id (a click selects it), role, shots, scenes and scores.
/// (`scrolled_to`: the row last scrolled to, so the selection is followed once.)
fn movie_row(
    ui: &mut egui::Ui,
    state: &AppState,
    (i, movie, row): (usize, &Movie, &Row),
    scores: Option<(f64, f64)>,
    scrolled_to: &mut Option<usize>,
    actions: &mut Vec<Action>,
) {
    let has_split = state.selected_split().is_some();
    let selected = state.selected_movie == Some(i);
    // A movie with unusable fields is named in the warning colour.
    let edited = state
        .edit
        .log
        .done()
        .iter()
        .any(|e| e.movie == movie.imdb_id);
    let mut name = egui::RichText::new(&movie.imdb_id);
    if !movie.issues.is_empty() {
        name = name.color(ui.visuals().warn_fg_color);
    }
    let mut r = ui
        .horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 2.0;
            let r = ui.selectable_label(selected, name);
            // A slot of fixed width for the mark: marking a movie edited must not widen the
            // list, which would move the timeline under the pointer between two clicks.
            let (slot, _) =
                ui.allocate_exact_size(egui::vec2(14.0, r.rect.height()), egui::Sense::hover());
            if edited {
                ui.painter().text(
                    slot.center(),
                    egui::Align2::CENTER_CENTER,
                    EDITED_GLYPH,
                    egui::TextStyle::Body.resolve(ui.style()),
                    ui.visuals().warn_fg_color,
                );
            }
            r
        })
        .inner;
    if edited {
        // Screen readers (and tests) read the mark as words.
        let label = format!("{} {EDITED_MARK}", movie.imdb_id);
        r.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &label));
        r = r.on_hover_text("Its labels were edited and not saved yet");
    }
    if !movie.issues.is_empty() || !movie.notes.is_empty() {
        r = r.on_hover_text(issue_lines(movie));
    }
    if r.clicked() {
        actions.push(Action::SelectMovie(i));
    }
    if selected && *scrolled_to != Some(i) {
        // Follow the selection once (it may come from the keyboard).
        r.scroll_to_me(None);
        *scrolled_to = Some(i);
    }
    let role = state.role(i);
    if has_split {
        let role = role.unwrap_or(Role::Unseen);
        let text = egui::RichText::new(role.name());
        let text = match role {
            Role::Train => text.color(ui.visuals().warn_fg_color),
            Role::Test => text.strong(),
            Role::Validation | Role::Unseen => text,
        };
        ui.label(text).on_hover_text(role.explain());
    }
    ui.label(row.shots.to_string());
    ui.label(row.scenes.map_or("-".into(), |s| s.to_string()));
    match scores {
        // In-sample numbers carry the mark.
        Some((ap, miou)) if role == Some(Role::Train) => {
            for v in [ap, miou] {
                ui.colored_label(ui.visuals().warn_fg_color, format!("{v:.4} {TRAINED_MARK}"))
                    .on_hover_text(Role::Train.explain());
            }
        }
        Some((ap, miou)) => {
            ui.label(format!("{ap:.4}"));
            ui.label(format!("{miou:.4}"));
        }
        None => {
            ui.label("-");
            ui.label("-");
        }
    }
}

/// The movies with unusable fields and the files that could not be read, under the list.
fn problems(ui: &mut egui::Ui, folder: &LoadedFolder) {
    let warn = ui.visuals().warn_fg_color;
    let error = ui.visuals().error_fg_color;
    let issue_rows: Vec<(String, String, Option<egui::Color32>)> = folder
        .movies
        .iter()
        .filter(|m| !m.issues.is_empty())
        .map(|m| {
            let issues: Vec<String> = m.issues.iter().map(ToString::to_string).collect();
            (m.imdb_id.clone(), issues.join("\n"), Some(warn))
        })
        .collect();
    let title = format!(
        "Movies with fields that cannot be used: {}",
        issue_rows.len()
    );
    listed(ui, &title, "movie_issues", true, &issue_rows);
    // Caveats (a short label file, missing feature files): read, but worth knowing.
    let note_rows: Vec<(String, String, Option<egui::Color32>)> = folder
        .movies
        .iter()
        .filter(|m| !m.notes.is_empty())
        .map(|m| (m.imdb_id.clone(), m.notes.join("\n"), None))
        .collect();
    let title = format!("Movies read with notes: {}", note_rows.len());
    listed(ui, &title, "movie_notes", false, &note_rows);
    let bad_rows: Vec<(String, String, Option<egui::Color32>)> = folder
        .bad
        .iter()
        .map(|b| (b.file_name(), b.error.clone(), Some(error)))
        .collect();
    let title = format!("{} files could not be read", bad_rows.len());
    listed(ui, &title, "bad_files", true, &bad_rows);
}

/// Under a separator, a collapsible list titled `title` (nothing when `rows` is empty): each
/// row's name in bold over its text, in its colour if it has one.
fn listed(
    ui: &mut egui::Ui,
    title: &str,
    id: &str,
    open: bool,
    rows: &[(String, String, Option<egui::Color32>)],
) {
    if rows.is_empty() {
        return;
    }
    ui.separator();
    egui::CollapsingHeader::new(title)
        .id_salt(id)
        .default_open(open)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt((id, "rows"))
                .max_height(130.0)
                .show(ui, |ui| {
                    for (name, text, colour) in rows {
                        ui.label(egui::RichText::new(name).strong());
                        match colour {
                            Some(c) => ui.colored_label(*c, text),
                            None => ui.label(text),
                        };
                    }
                });
        });
}

/// A movie's unusable fields, one per line, then its notes.
fn issue_lines(movie: &crate::data::Movie) -> String {
    let lines: Vec<String> = movie
        .issues
        .iter()
        .map(ToString::to_string)
        .chain(movie.notes.iter().map(|n| format!("note: {n}")))
        .collect();
    lines.join("\n")
}

/// (AP, Miou) per movie index from the newest metrics (in the scope or not).
fn per_movie_scores(state: &AppState) -> Vec<Option<(f64, f64)>> {
    let mut out = vec![None; state.movies().len()];
    if let Some(m) = &state.metrics {
        if let Ok(metrics) = &m.result {
            for (&i, mm) in m.scored.iter().zip(&metrics.per_movie) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some((mm.ap, mm.miou));
                }
            }
        }
        for (i, mm) in &m.outside {
            if let Some(slot) = out.get_mut(*i) {
                *slot = Some((mm.ap, mm.miou));
            }
        }
    }
    out
}

/// Sort key where a missing number (NaN) sorts after every number.
#[derive(PartialEq)]
enum SortKey<'a> {
    Text(&'a str),
    Num(f64),
}

impl Eq for SortKey<'_> {}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
            (SortKey::Num(a), SortKey::Num(b)) => match (a.is_nan(), b.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => a.total_cmp(b),
            },
            (SortKey::Text(_), SortKey::Num(_)) => Ordering::Less,
            (SortKey::Num(_), SortKey::Text(_)) => Ordering::Greater,
        }
    }
}
