//! The timeline of the selected movie: score curves per source, the threshold (drag it),
//! ground-truth and predicted boundaries classed as correct, missed or false, and scene bands.

use eframe::egui;
use egui::{Color32, Id, Pos2, Rect, Stroke};
use egui_plot::{
    ColorConflictHandling, Corner, HLine, ItemId, Legend, LineStyle, MarkerShape, Plot, PlotMemory,
    PlotPoints, PlotTransform, Points, VLine,
};

use super::sources::SourceRegistry;
use super::view::{MovieView, XAxis, in_range};
use super::{Action, AppState};
use crate::data::Movie;

pub const CORRECT: &str = "correct boundary";
pub const MISSED: &str = "missed boundary";
pub const FALSE: &str = "false boundary";
pub const THRESHOLD: &str = "threshold";
pub const UNCERTAIN: &str = "uncertain boundary (label -1)";

const CORRECT_COLOUR: Color32 = Color32::from_rgb(70, 200, 90);
const MISSED_COLOUR: Color32 = Color32::from_rgb(255, 165, 0);
const FALSE_COLOUR: Color32 = Color32::from_rgb(235, 60, 60);
const THRESHOLD_COLOUR: Color32 = Color32::from_rgb(220, 220, 220);
const UNCERTAIN_COLOUR: Color32 = Color32::from_rgb(180, 140, 255);

/// Pixels within which a press grabs the threshold line.
const GRAB_PX: f32 = 6.0;
/// Transitions shown around a boundary the keyboard jumps to, when zoomed out further.
const JUMP_SPAN: usize = 60;

fn plot_id() -> Id {
    Id::unique("scenelab_timeline_plot")
}

#[derive(Default)]
pub struct Timeline {
    last_transform: Option<PlotTransform>,
    dragging_threshold: bool,
    reset: bool,
    /// Transition the keyboard moved to.
    cursor: Option<usize>,
    /// x range to show next frame (after a keyboard jump).
    pending_x: Option<(f64, f64)>,
    /// The dialogue strip and the lines around the hovered shot.
    dialogue: super::dialogue::Dialogue,
    /// The ground-truth boundary whose band edge is being dragged (edit mode).
    dragging_boundary: Option<usize>,
    /// Where the ground-truth band was drawn last frame.
    truth_band: Option<Rect>,
    /// A transition to show next frame with this many shots each side (the review queue).
    pending_focus: Option<(usize, usize)>,
}

impl Timeline {
    /// Show the whole movie next frame and forget the keyboard cursor.
    pub fn reset_view(&mut self) {
        self.reset = true;
        self.cursor = None;
        self.pending_x = None;
        self.dragging_threshold = false;
        self.dragging_boundary = None;
    }

    /// Show transition `t` with about `span` shots each side next frame, the keyboard cursor
    /// on it.
    pub fn focus(&mut self, t: usize, span: usize) {
        self.pending_focus = Some((t, span));
    }

    /// Where the ground-truth scene band was drawn last frame (screen coordinates).
    pub fn truth_band(&self) -> Option<Rect> {
        self.truth_band
    }

    pub fn cursor(&self) -> Option<usize> {
        self.cursor
    }

    /// What the dialogue strip and panel showed in the last frame.
    pub fn dialogue(&self) -> &super::dialogue::ShownDialogue {
        self.dialogue.shown()
    }

    /// The plot's transform as of the last frame (screen <-> plot coordinates).
    pub fn transform(&self) -> Option<PlotTransform> {
        self.last_transform
    }

    /// Move to the next (or previous) ground-truth or predicted boundary.
    pub fn jump(&mut self, view: &MovieView, forward: bool) {
        if view.edges.len() < 3 {
            return;
        }
        let from = match (self.cursor, self.last_transform) {
            (Some(c), _) if c + 1 < view.edges.len() => view.transition_x(c),
            (_, Some(t)) if forward => t.bounds().min()[0],
            (_, Some(t)) => t.bounds().max()[0],
            (_, None) if forward => f64::NEG_INFINITY,
            (_, None) => f64::INFINITY,
        };
        let Some(i) = view.neighbour_event(from, forward) else {
            return;
        };
        self.cursor = Some(i);
        let x = view.transition_x(i);
        let n_transitions = view.edges.len() - 2;
        let lo = view.transition_x(i.saturating_sub(JUMP_SPAN / 2));
        let hi = view.transition_x((i + JUMP_SPAN / 2).min(n_transitions - 1));
        let half = match self.last_transform {
            Some(t) if t.bounds().width() < hi - lo => t.bounds().width() / 2.0,
            _ => ((hi - lo) / 2.0).max(1e-6),
        };
        self.pending_x = Some((x - half, x + half));
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let Some(movie) = state.selected() else {
            ui.centered_and_justified(|ui| ui.label("Select a movie on the left."));
            return;
        };
        let view = &state.view;
        if view.edges.len() != movie.n_shots + 1 {
            return;
        }
        if let Some((t, span)) = self.pending_focus.take()
            && t < movie.n_transitions()
        {
            self.cursor = Some(t);
            let lo = view.edges[(t + 1).saturating_sub(span)];
            let hi = view.edges[(t + 1 + span).min(movie.n_shots)];
            self.pending_x = Some((lo, hi));
        }
        self.header(ui, state, movie, actions);
        ui.horizontal_wrapped(|ui| super::edit::controls(ui, state, actions));

        let band_height = 14.0;
        let hover_line = 22.0;
        let has_dialogue = super::dialogue::Dialogue::has_rows(state, movie);
        let dialogue_height = if has_dialogue {
            super::dialogue::RESERVED_HEIGHT
        } else {
            0.0
        };
        let plot_height =
            (ui.available_height() - 2.0 * band_height - hover_line - dialogue_height - 16.0)
                .max(120.0);

        let near_threshold = self.near_threshold(ui, state.threshold);
        if near_threshold || self.dragging_threshold {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeVertical);
        }

        let plot = self.plot(ui, state, movie, plot_height, near_threshold);
        let pending_x = self.pending_x.take();
        let cursor = self.cursor;
        let threshold = state.threshold;
        let sources = &state.sources;

        let response = plot.show(ui, |plot_ui| {
            if let Some(range) = pending_x {
                plot_ui.set_plot_bounds_x(range.0..=range.1);
            }
            let bounds = plot_ui.plot_bounds();
            let width_px = plot_ui.transform().frame().width().max(1.0) as usize;
            let visible = view.visible_transitions(bounds.min()[0], bounds.max()[0]);

            score_lines(plot_ui, movie, view, sources, visible.clone(), width_px);
            let selected_scores = sources
                .selected_source()
                .and_then(|s| s.scores_for(&movie.imdb_id));
            boundary_marks(plot_ui, view, selected_scores.map(|s| s.values()), &visible);
            uncertain_marks(plot_ui, movie, view, &visible);
            plot_ui.hline(
                HLine::new(THRESHOLD, f64::from(threshold))
                    .color(THRESHOLD_COLOUR)
                    .width(if near_threshold { 2.5 } else { 1.5 })
                    .style(LineStyle::dashed_loose()),
            );
            if let Some(c) = cursor.filter(|&c| c + 1 < view.edges.len()) {
                plot_ui.vline(
                    VLine::new("", view.transition_x(c))
                        .color(Color32::WHITE)
                        .style(LineStyle::dotted_dense())
                        .width(1.5),
                );
            }
        });

        let transform = response.transform;
        self.last_transform = Some(transform);
        self.threshold_drag(ui, &response.response, &transform, near_threshold, actions);
        if state.edit.mode && !self.dragging_threshold {
            edit_clicks(&response.response, view, &transform, actions);
        }
        sync_visibility(ui.ctx(), &state.sources, actions);

        let band = scene_bands(
            ui,
            view,
            &transform,
            movie.n_shots,
            band_height,
            state.edit.mode,
        );
        self.truth_band = Some(band.truth);
        if state.edit.mode {
            self.boundary_drag(ui, &band, view, &transform, actions);
        } else {
            self.dragging_boundary = None;
        }
        if has_dialogue {
            self.dialogue.strip(ui, state, movie, &transform);
        }
        let shot = self.shot_info(ui, state, movie, &transform);
        if has_dialogue {
            self.dialogue.around(ui, state, movie, shot);
        }
    }

    /// Under the plot: the hovered (else the cursor's) shot, or how to use the plot. Returns
    /// that shot.
    fn shot_info(
        &self,
        ui: &mut egui::Ui,
        state: &AppState,
        movie: &Movie,
        transform: &egui_plot::PlotTransform,
    ) -> Option<usize> {
        let view = &state.view;
        let info = match ui.input(|i| i.pointer.hover_pos()) {
            Some(p) if transform.frame().contains(p) => {
                view.shot_at(transform.value_from_position(p).x)
            }
            _ => self.cursor.map(|c| c.min(movie.n_shots - 1)),
        };
        match info {
            Some(s) => ui.label(hover_text(movie, view, &state.sources, s, state.fps_of(movie)).replace('\n', "   ")),
            None => ui.weak("Hover the plot for shot details. Drag the dashed line to set the threshold; wheel zooms, drag or shift+wheel pans, double click resets; arrow keys: up/down movie, left/right boundary."),
        };
        info
    }

    /// The plot's settings for this frame: legend, pan and zoom along x only (and no panning
    /// while the threshold is held), axes, the hover label, a pending reset.
    fn plot<'a>(
        &mut self,
        ui: &egui::Ui,
        state: &'a AppState,
        movie: &'a Movie,
        height: f32,
        near_threshold: bool,
    ) -> Plot<'a> {
        let view = &state.view;
        let axis = view.axis.unwrap_or(XAxis::Shot);
        let hidden = hidden_items(ui.ctx(), &state.sources);
        let x_end = *view.edges.last().unwrap_or(&1.0);
        self.wheel_zoom(ui, view.edges[0], x_end);
        let mut plot = Plot::new("timeline")
            .id(plot_id())
            .height(height)
            .legend(
                Legend::default()
                    .position(Corner::RightTop)
                    .follow_insertion_order(true)
                    // Lines and markers of a class share a name; show the markers' colour.
                    .color_conflict_handling(ColorConflictHandling::PickLast)
                    .hidden_items(hidden),
            )
            // Pan along x only (scores live in 0..1), and not while the threshold is held.
            .allow_drag([!(near_threshold || self.dragging_threshold), false])
            .allow_zoom([true, false])
            .allow_scroll([true, false])
            // In edit mode a double click is two edits' worth of clicks, not a zoom reset.
            .allow_double_click_reset(!state.edit.mode)
            .default_x_bounds(view.edges[0], x_end)
            .default_y_bounds(-0.02, 1.08)
            .y_axis_label("score")
            .x_axis_label(match axis {
                XAxis::Shot => "shot",
                XAxis::Time => "time",
            })
            .label_formatter(|pos| {
                let x = match pos {
                    egui_plot::HoverPosition::NearDataPoint { position, .. }
                    | egui_plot::HoverPosition::Elsewhere { position } => position.x,
                };
                view.shot_at(x)
                    .map(|s| hover_text(movie, view, &state.sources, s, state.fps_of(movie)))
            });
        if axis == XAxis::Time {
            plot = plot.x_axis_formatter(|mark, _| format_time(mark.value));
        }
        if std::mem::take(&mut self.reset) {
            plot = plot.reset();
        }
        plot
    }

    /// Whether a press (or the hover) is on the threshold line: it then grabs the threshold
    /// instead of panning (judged where the press started: a drag is only recognised after
    /// the pointer moved).
    fn near_threshold(&self, ui: &egui::Ui, threshold: f32) -> bool {
        let pointer = ui.input(|i| {
            if i.pointer.primary_down() {
                i.pointer.press_origin()
            } else {
                i.pointer.hover_pos()
            }
        });
        match (self.last_transform, pointer) {
            (Some(t), Some(p)) => {
                t.frame().contains(p)
                    && (t.position_from_point_y(f64::from(threshold)) - p.y).abs() <= GRAB_PX
            }
            _ => false,
        }
    }

    fn header(
        &mut self,
        ui: &mut egui::Ui,
        state: &AppState,
        movie: &Movie,
        actions: &mut Vec<Action>,
    ) {
        let view = &state.view;
        ui.horizontal_wrapped(|ui| {
            ui.heading(&movie.imdb_id);
            let predicted = if view.has_scores {
                format!("{} predicted scenes", view.predicted.len() + 1)
            } else if state.sources.selected_source().is_none() {
                "no prediction source".to_owned()
            } else {
                let source = state
                    .sources
                    .selected_source()
                    .map_or("", |s| s.name.as_str());
                let why = movie
                    .issue(crate::data::FIELD_PREDICTION)
                    .filter(|_| source == super::sources::PROVIDED)
                    .map_or_else(String::new, |i| format!(": {}", i.problem));
                format!("no usable scores from '{source}' for this movie{why}")
            };
            ui.label(format!(
                "{} shots, {} scenes, {predicted}",
                movie.n_shots,
                view.gt_boundaries.len() + 1,
            ));
            ui.separator();
            ui.label("x axis");
            let has_time = movie.shot_end_frame.is_some();
            if ui
                .selectable_label(state.axis == XAxis::Shot, "Shot index")
                .clicked()
            {
                actions.push(Action::SetAxis(XAxis::Shot));
            }
            if ui
                .add_enabled(
                    has_time,
                    egui::Button::selectable(state.axis == XAxis::Time, "Time"),
                )
                .on_disabled_hover_text("This movie has no shot_end_frame")
                .clicked()
            {
                actions.push(Action::SetAxis(XAxis::Time));
            }
            if has_time {
                // The movie's own: it places time and subtitles on its shots.
                let mut fps = state.fps_of(movie);
                let label = ui.label("fps");
                let r = ui
                    .add(
                        egui::DragValue::new(&mut fps)
                            .range(1.0..=240.0)
                            .speed(0.1)
                            .max_decimals(3),
                    )
                    .labelled_by(label.id);
                if r.changed() {
                    actions.push(Action::SetFps(fps));
                }
            }
            if ui.button("Reset view").clicked() {
                self.reset_view();
            }
            ui.separator();
            if ui
                .button("Subtitles…")
                .on_hover_text("Read the movies' subtitles (<imdb>.srt) from a folder")
                .clicked()
            {
                actions.push(Action::PickFor(super::picker::PickPurpose::Subtitles));
            }
        });
    }

    /// The plain mouse wheel zooms the x axis around the pointer, as timelines do (egui_plot
    /// zooms only with Ctrl held, which keeps working; shift+wheel pans). Never out past
    /// the whole movie.
    fn wheel_zoom(&mut self, ui: &egui::Ui, x_start: f64, x_end: f64) {
        // A reset or a keyboard jump this frame wins over the wheel.
        let Some(t) = self
            .last_transform
            .filter(|_| !self.reset && self.pending_x.is_none())
        else {
            return;
        };
        // `rect_contains_pointer` checks layers: scrolling a window or popup that floats over
        // the plot must not zoom it.
        if !ui.rect_contains_pointer(*t.frame()) {
            return;
        }
        let (pointer, dy, modified) = ui.input(|i| {
            (
                i.pointer.hover_pos(),
                i.smooth_scroll_delta.y,
                i.modifiers.ctrl || i.modifiers.command || i.modifiers.shift,
            )
        });
        let Some(p) = pointer else {
            return;
        };
        if dy == 0.0 || modified {
            return;
        }
        // Wheel up (positive) zooms in, by e for every 200 points scrolled.
        let factor = (f64::from(dy) / 200.0).exp();
        let x = t.value_from_position(p).x;
        let (lo, hi) = (t.bounds().min()[0], t.bounds().max()[0]);
        let (mut new_lo, mut new_hi) = (x - (x - lo) / factor, x + (hi - x) / factor);
        if new_hi - new_lo >= x_end - x_start {
            (new_lo, new_hi) = (x_start, x_end);
        }
        if new_hi - new_lo > 1e-6 {
            self.pending_x = Some((new_lo, new_hi));
        }
    }

    fn threshold_drag(
        &mut self,
        ui: &egui::Ui,
        response: &egui::Response,
        transform: &PlotTransform,
        near_threshold: bool,
        actions: &mut Vec<Action>,
    ) {
        if response.drag_started() && near_threshold {
            self.dragging_threshold = true;
        }
        if self.dragging_threshold {
            if let Some(p) = ui.input(|i| i.pointer.interact_pos()) {
                let y = transform.value_from_position(p).y;
                actions.push(Action::SetThreshold(round_threshold(y)));
            }
            if response.drag_stopped() || !ui.input(|i| i.pointer.primary_down()) {
                self.dragging_threshold = false;
            }
        }
    }
}

impl Timeline {
    /// Edit mode: a press near a boundary's edge on the truth band grabs it; released over
    /// another transition, the boundary moves there.
    fn boundary_drag(
        &mut self,
        ui: &egui::Ui,
        band: &Bands,
        view: &MovieView,
        transform: &PlotTransform,
        actions: &mut Vec<Action>,
    ) {
        let r = &band.response;
        if r.drag_started()
            && let Some(p) = ui.input(|i| i.pointer.press_origin())
            && band.truth.contains(p)
        {
            let x = transform.value_from_position(p).x;
            self.dragging_boundary = view.nearest_transition(x).filter(|&t| {
                view.gt_boundaries.binary_search(&t).is_ok()
                    && (transform.position_from_point_x(view.transition_x(t)) - p.x).abs()
                        <= BAND_GRAB_PX
            });
        }
        let Some(from) = self.dragging_boundary else {
            return;
        };
        ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        let pointer = ui.input(|i| i.pointer.interact_pos());
        if let Some(p) = pointer {
            ui.painter()
                .vline(p.x, band.truth.y_range(), Stroke::new(2.0, Color32::WHITE));
        }
        if r.drag_stopped() || !ui.input(|i| i.pointer.primary_down()) {
            self.dragging_boundary = None;
            let to =
                pointer.and_then(|p| view.nearest_transition(transform.value_from_position(p).x));
            if let Some(to) = to.filter(|&t| t != from) {
                actions.push(Action::Edit(super::edit::EditAction::Move { from, to }));
            }
        }
    }
}

/// Edit mode: a click on the plot sets or clears the boundary at the nearest transition (a
/// double click counts once), a right-click marks it uncertain (or certain again).
fn edit_clicks(
    response: &egui::Response,
    view: &MovieView,
    transform: &PlotTransform,
    actions: &mut Vec<Action>,
) {
    let Some(p) = response.interact_pointer_pos() else {
        return;
    };
    let Some(t) = view.nearest_transition(transform.value_from_position(p).x) else {
        return;
    };
    // The second click of a double (or third of a triple) click would undo the first: a
    // double click is one edit.
    let repeated = response.double_clicked() || response.triple_clicked();
    if response.clicked() && !repeated {
        actions.push(Action::Edit(super::edit::EditAction::Toggle(t)));
    } else if response.secondary_clicked() {
        actions.push(Action::Edit(super::edit::EditAction::ToggleUncertain(t)));
    }
}

/// Pixels within which a press on the truth band grabs a boundary.
const BAND_GRAB_PX: f32 = 6.0;

/// The scene bands as drawn: the truth row's rectangle and the bands' response.
struct Bands {
    truth: Rect,
    response: egui::Response,
}

/// A dragged threshold, rounded to 0.001 so it can be typed into `scenelab evaluate`.
pub fn round_threshold(y: f64) -> f32 {
    ((y.clamp(0.0, 1.0) * 1000.0).round() / 1000.0) as f32
}

/// Each source's scores over the visible transitions (hidden or absent ones as empty lines,
/// which keep their legend entries to toggle).
fn score_lines(
    plot_ui: &mut egui_plot::PlotUi<'_>,
    movie: &Movie,
    view: &MovieView,
    sources: &SourceRegistry,
    visible: std::ops::Range<usize>,
    width_px: usize,
) {
    for source in sources.iter() {
        let scores = source.scores_for(&movie.imdb_id);
        let points = match scores {
            Some(s) if source.visible => view.curve(s.values(), visible.clone(), 2 * width_px),
            // Hidden or absent: an empty line keeps the legend entry to toggle.
            _ => Vec::new(),
        };
        // `add`, not `line`: `line` drops empty series, and with them the legend entry.
        plot_ui.add(
            egui_plot::Line::new(source.name.as_str(), PlotPoints::new(points))
                .color(source.colour)
                .width(1.5),
        );
    }
}

/// The correct, missed and false boundaries as vertical lines, and marked on the selected
/// source's curve (`selected_scores`).
fn boundary_marks(
    plot_ui: &mut egui_plot::PlotUi<'_>,
    view: &MovieView,
    selected_scores: Option<&[f64]>,
    visible: &std::ops::Range<usize>,
) {
    for &i in in_range(&view.correct, visible) {
        plot_ui.vline(
            VLine::new(CORRECT, view.transition_x(i)).color(CORRECT_COLOUR.gamma_multiply(0.5)),
        );
    }
    for &i in in_range(&view.missed, visible) {
        plot_ui.vline(
            VLine::new(MISSED, view.transition_x(i)).color(MISSED_COLOUR.gamma_multiply(0.4)),
        );
    }
    for &i in in_range(&view.false_alarms, visible) {
        plot_ui.vline(
            VLine::new(FALSE, view.transition_x(i))
                .color(FALSE_COLOUR.gamma_multiply(0.5))
                .style(LineStyle::dashed_dense()),
        );
    }
    if let Some(values) = selected_scores {
        let marks = |list: &[usize]| -> Vec<[f64; 2]> {
            in_range(list, visible)
                .iter()
                .map(|&i| [view.transition_x(i), values[i]])
                .collect()
        };
        plot_ui.add(
            Points::new(CORRECT, PlotPoints::new(marks(&view.correct)))
                .color(CORRECT_COLOUR)
                .shape(MarkerShape::Diamond)
                .radius(4.0),
        );
        plot_ui.add(
            Points::new(MISSED, PlotPoints::new(marks(&view.missed)))
                .color(MISSED_COLOUR)
                .shape(MarkerShape::Circle)
                .filled(false)
                .radius(4.0),
        );
        plot_ui.add(
            Points::new(FALSE, PlotPoints::new(marks(&view.false_alarms)))
                .color(FALSE_COLOUR)
                .shape(MarkerShape::Diamond)
                .radius(4.0),
        );
    }
}

/// The transitions whose label was unsure (MovieNet's -1, counted as boundaries): a star at
/// the top of the plot, apart from the correct / missed classes.
fn uncertain_marks(
    plot_ui: &mut egui_plot::PlotUi<'_>,
    movie: &Movie,
    view: &MovieView,
    visible: &std::ops::Range<usize>,
) {
    let marks: Vec<[f64; 2]> = in_range(&movie.uncertain, visible)
        .iter()
        .map(|&i| [view.transition_x(i), 1.0])
        .collect();
    if marks.is_empty() {
        return;
    }
    plot_ui.add(
        Points::new(UNCERTAIN, PlotPoints::new(marks))
            .color(UNCERTAIN_COLOUR)
            .shape(MarkerShape::Asterisk)
            .radius(5.0),
    );
}

/// What the legend should hide: the sources the state says are hidden, plus whatever else
/// the user switched off in the legend.
fn hidden_items(ctx: &egui::Context, sources: &SourceRegistry) -> Vec<ItemId> {
    let source_ids: Vec<ItemId> = sources
        .iter()
        .map(|s| ItemId::new(s.name.as_str()))
        .collect();
    let mut hidden: Vec<ItemId> = PlotMemory::load(ctx, plot_id())
        .map(|m| {
            m.hidden_items
                .into_iter()
                .filter(|id| !source_ids.contains(id))
                .collect()
        })
        .unwrap_or_default();
    hidden.extend(
        sources
            .iter()
            .zip(&source_ids)
            .filter(|(s, _)| !s.visible)
            .map(|(_, id)| *id),
    );
    hidden
}

/// After a legend click, bring the sources' visibility in line with the legend.
fn sync_visibility(ctx: &egui::Context, sources: &SourceRegistry, actions: &mut Vec<Action>) {
    let Some(mem) = PlotMemory::load(ctx, plot_id()) else {
        return;
    };
    for (i, s) in sources.iter().enumerate() {
        let shown = !mem.hidden_items.contains(&ItemId::new(s.name.as_str()));
        if shown != s.visible {
            actions.push(Action::SetSourceVisible(i, shown));
        }
    }
}

/// Ground-truth and predicted scenes as alternating bands under the plot, aligned with it.
fn scene_bands(
    ui: &mut egui::Ui,
    view: &MovieView,
    transform: &PlotTransform,
    n_shots: usize,
    height: f32,
    editing: bool,
) -> Bands {
    let frame = *transform.frame();
    let sense = if editing {
        egui::Sense::click_and_drag()
    } else {
        egui::Sense::hover()
    };
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 2.0 * height + 4.0), sense);
    let truth = Rect::from_min_size(rect.min, egui::vec2(rect.width(), height));
    let painter = ui.painter_at(rect);
    // Without the selected source's scores there are no predicted scenes to draw (one band
    // over the whole movie would read as "one scene predicted").
    let rows = [
        (
            "truth",
            true,
            &view.gt_boundaries,
            [
                Color32::from_rgb(70, 90, 140),
                Color32::from_rgb(120, 150, 210),
            ],
        ),
        (
            "pred",
            view.has_scores,
            &view.predicted,
            [
                Color32::from_rgb(110, 80, 120),
                Color32::from_rgb(190, 140, 200),
            ],
        ),
    ];
    let (x0, x1) = (
        transform.value_from_position(frame.left_top()).x,
        transform.value_from_position(frame.right_top()).x,
    );
    for (row, (name, shown, boundaries, colours)) in rows.iter().enumerate() {
        let top = rect.top() + row as f32 * (height + 4.0);
        painter.text(
            Pos2::new(rect.left() + 2.0, top + height / 2.0),
            egui::Align2::LEFT_CENTER,
            *name,
            egui::FontId::proportional(11.0),
            ui.visuals().weak_text_color(),
        );
        if !shown {
            painter.text(
                Pos2::new(frame.left() + 4.0, top + height / 2.0),
                egui::Align2::LEFT_CENTER,
                "no scores from the selected source for this movie",
                egui::FontId::proportional(11.0),
                ui.visuals().weak_text_color(),
            );
            continue;
        }
        // First scene that ends inside the view: skip every scene left of it.
        let first = boundaries.partition_point(|&b| view.transition_x(b) < x0);
        let mut start_shot = if first == 0 {
            0
        } else {
            boundaries[first - 1] + 1
        };
        for (k, end_shot) in boundaries[first..]
            .iter()
            .copied()
            .chain(std::iter::once(n_shots - 1))
            .enumerate()
        {
            let (sx, ex) = (
                view.edges[start_shot],
                view.edges[(end_shot + 1).min(n_shots)],
            );
            if sx > x1 {
                break;
            }
            let l = transform.position_from_point_x(sx).max(frame.left());
            let r = transform.position_from_point_x(ex).min(frame.right());
            if r > l {
                let band = Rect::from_min_max(Pos2::new(l, top), Pos2::new(r, top + height));
                painter.rect_filled(band, 0.0, colours[(first + k) % 2]);
                if r - l > 3.0 {
                    painter.line_segment(
                        [band.left_top(), band.left_bottom()],
                        Stroke::new(1.0, Color32::BLACK),
                    );
                }
            }
            start_shot = end_shot + 1;
        }
    }
    if editing {
        response.widget_info(|| {
            egui::WidgetInfo::labeled(
                egui::Role::Canvas,
                true,
                "Scene bands: drag a truth band's edge to move a boundary",
            )
        });
    }
    Bands { truth, response }
}

/// What the hover tooltip says about shot `s` and the transition after it.
pub fn hover_text(
    movie: &Movie,
    view: &MovieView,
    sources: &SourceRegistry,
    s: usize,
    fps: f64,
) -> String {
    let mut text = format!("Shot {s}");
    if let Some(ends) = &movie.shot_end_frame {
        let start = if s == 0 { 0 } else { ends[s - 1] + 1 };
        let end = ends[s];
        text.push_str(&format!(
            "  frames {start}-{end}  time {}-{}",
            format_time(start as f64 / fps),
            format_time((end + 1) as f64 / fps)
        ));
    }
    if s + 1 < movie.n_shots {
        text.push_str(&format!("\nTransition {s}->{}:", s + 1));
        let gt = movie.ground_truth.as_ref().map(|g| g[s]);
        match gt {
            Some(true) if movie.uncertain.binary_search(&s).is_ok() => {
                text.push_str(" scene boundary, uncertain (the annotators were unsure)")
            }
            Some(true) => text.push_str(" scene boundary"),
            Some(false) => text.push_str(" no boundary"),
            None => {}
        }
        let class = if view.correct.binary_search(&s).is_ok() {
            Some(CORRECT)
        } else if view.missed.binary_search(&s).is_ok() {
            Some(MISSED)
        } else if view.false_alarms.binary_search(&s).is_ok() {
            Some(FALSE)
        } else {
            None
        };
        if let Some(c) = class {
            text.push_str(&format!(" ({c})"));
        }
        for src in sources.iter() {
            if let Some(score) = src
                .scores_for(&movie.imdb_id)
                .and_then(|v| v.values().get(s))
            {
                text.push_str(&format!("\n  {}: {score:.4}", src.name));
            }
        }
    }
    text
}

/// Seconds as `m:ss.s` (or `h:mm:ss` past an hour).
pub fn format_time(seconds: f64) -> String {
    if !seconds.is_finite() {
        return String::new();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let t = seconds.abs();
    let h = (t / 3600.0).floor();
    let m = ((t - h * 3600.0) / 60.0).floor();
    let s = t - h * 3600.0 - m * 60.0;
    if h > 0.0 {
        format!("{sign}{h}:{m:02}:{:02}", s.floor())
    } else {
        format!("{sign}{m}:{s:04.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        assert_eq!(format_time(0.0), "0:00.0");
        assert_eq!(format_time(75.25), "1:15.2");
        assert_eq!(format_time(3725.0), "1:02:05");
    }

    #[test]
    fn dragged_thresholds_round_to_a_thousandth_and_stay_in_range() {
        assert_eq!(round_threshold(0.41234), 0.412);
        assert_eq!(round_threshold(-0.3), 0.0);
        assert_eq!(round_threshold(1.7), 1.0);
    }
}
