//! Dialogue on the timeline: a strip under the scene bands with a mark per subtitle line
//! (aligned to the plot's x axis, its text on hover), and the lines on either side of the cut
//! after the hovered (or keyboard) shot. Lines are placed on shots through the movie's frame
//! rate ([`ShotClock`]).

use eframe::egui;
use egui::{Color32, Pos2, Rect};
use egui_plot::PlotTransform;

use super::AppState;
use super::timeline::format_time;
use super::view::XAxis;
use crate::data::Movie;
use crate::data::subtitles::{ShotClock, Subtitles};

const STRIP_HEIGHT: f32 = 14.0;
/// Lines shown on each side of a cut.
const LINES_PER_SIDE: usize = 3;
/// Height the strip and the panel take under the plot.
pub const RESERVED_HEIGHT: f32 = STRIP_HEIGHT + 6.0 + 22.0 + (LINES_PER_SIDE as f32 + 1.0) * 19.0;

const MARK_COLOURS: [Color32; 2] = [
    Color32::from_rgb(90, 180, 190),
    Color32::from_rgb(150, 215, 220),
];

/// What the dialogue strip and panel showed in the last frame (for tests and scripts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShownDialogue {
    /// The movie they belong to.
    pub movie: Option<String>,
    /// Subtitle lines placed on the movie's shots (marks of the strip, visible or not).
    pub marks: usize,
    /// The cut the panel is about: the transition after this shot.
    pub transition: Option<usize>,
    /// The lines before the cut (latest last) and after it (earliest first), as
    /// `time  shot: text`.
    pub before: Vec<String>,
    pub after: Vec<String>,
    /// Why there are no marks, or what the user should know about the file.
    pub note: Option<String>,
}

/// What a strip mark stands for.
#[derive(Debug, Clone, Copy)]
struct Mark {
    x0: f64,
    x1: f64,
    line: usize,
    first_shot: usize,
    last_shot: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    data: u64,
    subtitles: u64,
    movie: String64,
    axis: Option<XAxis>,
    fps_bits: u64,
}

/// A movie id folded into the key cheaply (the data generation and index decide the rest).
type String64 = u64;

fn hash_id(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The cached marks of the selected movie and what was last shown.
#[derive(Default)]
pub struct Dialogue {
    key: Option<Key>,
    /// Sorted by position, which is by start time.
    marks: Vec<Mark>,
    shown: ShownDialogue,
}

impl Dialogue {
    pub fn shown(&self) -> &ShownDialogue {
        &self.shown
    }

    /// Whether the selected movie has anything to show under the plot.
    pub fn has_rows(state: &AppState, movie: &Movie) -> bool {
        state.subtitles_of(movie).is_some()
    }

    /// Place the movie's subtitle lines on the x axis (cached per movie, axis and fps).
    fn refresh(&mut self, state: &AppState, movie: &Movie) {
        let fps = state.fps_of(movie);
        let key = Key {
            data: state.data_generation,
            subtitles: state.subtitle_generation,
            movie: hash_id(&movie.imdb_id),
            axis: state.view.axis,
            fps_bits: fps.to_bits(),
        };
        if self.key == Some(key) {
            return;
        }
        self.key = Some(key);
        self.marks.clear();
        self.shown = ShownDialogue {
            movie: Some(movie.imdb_id.clone()),
            ..ShownDialogue::default()
        };
        let subs = match state.subtitles_of(movie) {
            None => return,
            Some(Err(e)) => {
                self.shown.note = Some(e.clone());
                return;
            }
            Some(Ok(s)) => s,
        };
        self.shown.note.clone_from(&subs.note);
        let Some(clock) = movie
            .shot_end_frame
            .as_deref()
            .filter(|e| e.len() == movie.n_shots)
            .and_then(|e| ShotClock::new(e, fps))
        else {
            self.shown.note = Some(
                "This movie has no shot_end_frame, so its subtitles cannot be placed on shots."
                    .into(),
            );
            return;
        };
        let time_axis = state.view.axis == Some(XAxis::Time);
        let x = |t: f64| {
            if time_axis { t } else { clock.shot_position(t) }
        };
        self.marks = subs
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (first_shot, last_shot) = clock.shots_of(l);
                Mark {
                    x0: x(l.start),
                    x1: x(l.end),
                    line: i,
                    first_shot,
                    last_shot,
                }
            })
            .collect();
        // By position, then start: the same order, as x grows with time (times past the last
        // shot share its end).
        let start = |m: &Mark| subs.lines[m.line].start;
        self.marks
            .sort_by(|a, b| a.x0.total_cmp(&b.x0).then(start(a).total_cmp(&start(b))));
        self.shown.marks = self.marks.len();
    }

    /// The strip of dialogue marks, aligned with the plot above it.
    pub fn strip(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        movie: &Movie,
        transform: &PlotTransform,
    ) {
        self.refresh(state, movie);
        let (rect, response) = ui.allocate_exact_size(
            egui::vec2(ui.available_width(), STRIP_HEIGHT),
            egui::Sense::hover(),
        );
        let painter = ui.painter_at(rect);
        let weak = ui.visuals().weak_text_color();
        let label = if self.marks.is_empty() {
            self.shown.note.as_deref().unwrap_or("no subtitle lines")
        } else {
            "dialogue"
        };
        painter.text(
            Pos2::new(rect.left() + 2.0, rect.center().y),
            egui::Align2::LEFT_CENTER,
            label,
            egui::FontId::proportional(11.0),
            if self.marks.is_empty() && self.shown.note.is_some() {
                ui.visuals().warn_fg_color
            } else {
                weak
            },
        );
        let frame = *transform.frame();
        let (lo, hi) = (transform.bounds().min()[0], transform.bounds().max()[0]);
        let first = self.marks.partition_point(|m| m.x0 < lo);
        // A line that starts left of the view may still reach into it.
        let first = first.saturating_sub(1);
        let mut hovered = None;
        let pointer = response.hover_pos();
        for (k, m) in self.marks[first..].iter().enumerate() {
            if m.x0 > hi {
                break;
            }
            let l = transform.position_from_point_x(m.x0).max(frame.left());
            let r = transform
                .position_from_point_x(m.x1)
                .min(frame.right())
                .max(l + 1.0);
            if r <= frame.left() || l >= frame.right() {
                continue;
            }
            let mark = Rect::from_min_max(Pos2::new(l, rect.top()), Pos2::new(r, rect.bottom()));
            painter.rect_filled(mark, 0.0, MARK_COLOURS[(first + k) % 2]);
            if pointer.is_some_and(|p| p.x >= l - 1.0 && p.x <= r + 1.0) {
                hovered = Some(*m);
            }
        }
        if let (Some(m), Some(Ok(subs))) = (hovered, state.subtitles_of(movie)) {
            let line = &subs.lines[m.line];
            response.on_hover_text_at_pointer(format!(
                "{}–{}  shot {}{}\n{}",
                format_time(line.start),
                format_time(line.end),
                m.first_shot,
                if m.last_shot > m.first_shot {
                    format!("–{}", m.last_shot)
                } else {
                    String::new()
                },
                line.text
            ));
        }
    }

    /// The lines on either side of the cut after `shot` (the hovered or keyboard one).
    pub fn around(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        movie: &Movie,
        shot: Option<usize>,
    ) {
        self.refresh(state, movie);
        let Some(Ok(subs)) = state.subtitles_of(movie) else {
            return;
        };
        let clock = movie
            .shot_end_frame
            .as_deref()
            .and_then(|e| ShotClock::new(e, state.fps_of(movie)));
        let (Some(clock), Some(shot)) = (clock, shot.filter(|&s| s + 1 < movie.n_shots)) else {
            self.shown.transition = None;
            self.shown.before.clear();
            self.shown.after.clear();
            ui.weak(format!(
                "{} subtitle lines ({}, {} fps). Hover the plot (or use left/right) to read the dialogue on either side of a cut.",
                subs.lines.len(),
                subs.encoding,
                state.fps_of(movie)
            ));
            return;
        };
        let cut = clock.span(shot).1;
        let (before, after) = self.split_at_cut(subs, cut);
        let describe = |m: &Mark| {
            let line = &subs.lines[m.line];
            let across = if line.end > cut && line.start < cut {
                "  (runs across the cut)"
            } else {
                ""
            };
            format!(
                "{}  shot {}: {}{across}",
                format_time(line.start),
                m.first_shot,
                line.text.replace('\n', " / ")
            )
        };
        self.shown.transition = Some(shot);
        self.shown.before = before.iter().map(describe).collect();
        self.shown.after = after.iter().map(describe).collect();
        ui.strong(format!(
            "Dialogue around the cut after shot {shot} ({})",
            format_time(cut)
        ));
        let (b, a) = (&self.shown.before, &self.shown.after);
        ui.columns(2, |cols| {
            cols[0].weak(format!("before: shot {shot} and earlier"));
            for t in b {
                cols[0].add(egui::Label::new(t.as_str()).truncate());
            }
            cols[1].weak(format!("after: shot {} and later", shot + 1));
            for t in a {
                cols[1].add(egui::Label::new(t.as_str()).truncate());
            }
        });
    }

    /// The last lines that start before `cut` and the first ones at or after it.
    fn split_at_cut(&self, subs: &Subtitles, cut: f64) -> (Vec<Mark>, Vec<Mark>) {
        let marks = &self.marks;
        let split = marks.partition_point(|m| subs.lines[m.line].start < cut);
        (
            marks[split.saturating_sub(LINES_PER_SIDE)..split].to_vec(),
            marks[split..(split + LINES_PER_SIDE).min(marks.len())].to_vec(),
        )
    }
}
