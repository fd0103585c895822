//! Metrics of all movies and of the selected one at the current threshold (the same numbers
//! `scenelab evaluate` prints), the precision-recall curve, and F1 / Miou against threshold.
//! Above them, the selected source's decision step ([`DecisionBox`]); while it is applied the
//! threshold metrics are those of the decided scores.
//!
//! For a model's source, the totals, the comparison and the curves are over a [`Scope`] of its
//! split (its test movies by default), chosen above the table; a movie the model trained on
//! is marked where its own numbers show.
//!
//! `evaluation.rs` computes what the panel shows off the UI thread (the metrics worker and the
//! comparison of sources); `decision_box.rs` draws and edits the decision step.

pub mod decision_box;
pub(crate) mod evaluation;

use eframe::egui;
use egui::Color32;
use egui_plot::{Corner, Legend, Line, LineStyle, Plot, PlotPoints, Points, VLine};

use super::scope::{Role, Scope};
use super::{Action, AppState};
use crate::eval::Metrics;
use decision_box::DecisionBox;
use evaluation::SweepResult;

const F1_COLOUR: Color32 = Color32::from_rgb(250, 200, 60);
const MIOU_COLOUR: Color32 = Color32::from_rgb(90, 220, 210);

/// How every metric value is written in the app (4 decimals, like `scenelab evaluate`).
pub fn format_metric(v: f64) -> String {
    format!("{v:.4}")
}

/// Beside a movie's own numbers when the selected model trained on it.
pub const TRAINED_MARK: &str = "†";

/// What numbers over `scope` are, for a model's source (`None` when the source has no split).
fn scope_note(state: &AppState, scope: Scope, trained: usize) -> Option<(String, bool)> {
    state.selected_split()?;
    Some(match scope {
        Scope::Test => (
            "held out: never used to train the model or to choose it".into(),
            false,
        ),
        Scope::Validation => (
            "held out from training, but used to stop it early and tune the decision".into(),
            false,
        ),
        Scope::All if trained > 0 => (
            format!("includes {trained} movies the model trained on: in-sample"),
            true,
        ),
        Scope::All => ("the model trained on none of these movies".into(), false),
    })
}

#[derive(Default)]
pub struct MetricsPanel {
    decision_box: DecisionBox,
}

impl MetricsPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        // Room on the right for the floating scroll bar, which would otherwise cover the
        // tables' last column (the comparison's F1) once the panel scrolls; a fixed margin,
        // so nothing moves when the bar appears.
        let bar = ui
            .spacing()
            .scroll
            .allocated_width()
            .max(ui.spacing().scroll.bar_width);
        egui::ScrollArea::vertical()
            .id_salt("metrics_scroll")
            .show(ui, |ui| {
                egui::Frame::new()
                    .inner_margin(egui::Margin {
                        right: bar.ceil() as i8 + 2,
                        ..Default::default()
                    })
                    .show(ui, |ui| {
                        ui.add_space(4.0);
                        self.decision_box.ui(ui, state, actions);
                        ui.separator();
                        self.table(ui, state, actions);
                        ui.separator();
                        self.comparison(ui, state);
                        ui.separator();
                        self.curves(ui, state, actions);
                    });
            });
    }

    /// Every source side by side at the threshold.
    fn comparison(&mut self, ui: &mut egui::Ui, state: &AppState) {
        let Some(c) = &state.comparison else {
            return;
        };
        ui.label(egui::RichText::new("Sources compared").strong());
        let source = state
            .sources
            .selected_source()
            .map_or("-", |s| s.name.as_str());
        if state.selected_split().is_some() {
            ui.label(match c.key.scope {
                super::scope::Scope::All => format!("every source on all {} movies", c.movies),
                scope => format!(
                    "every source on the {} of {source}",
                    scope.label(c.movies).to_lowercase()
                ),
            });
        }
        if state.current_comparison().is_none() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("updating (shown: threshold {:.3})", c.threshold));
            });
        }
        self.comparison_grid(ui, c);
    }

    /// The comparison's rows: a source's name, operating point and metrics each.
    fn comparison_grid(&self, ui: &mut egui::Ui, c: &evaluation::Comparison) {
        egui::Grid::new("comparison_grid")
            .striped(true)
            .num_columns(8)
            .spacing([10.0, 4.0])
            .show(ui, |ui| {
                for h in ["Source", "At", "AP", "mAP", "Miou", "P", "R", "F1"] {
                    ui.label(egui::RichText::new(h).strong());
                }
                ui.end_row();
                for row in &c.rows {
                    let how = row.decision.map_or_else(
                        || format!("at threshold {:.3}", c.threshold),
                        |d| format!("with its decision ({d})"),
                    );
                    // A model scored on movies it trained on says so.
                    let name = if row.trained_on > 0 {
                        format!("{} {TRAINED_MARK}", row.name)
                    } else {
                        row.name.clone()
                    };
                    let mut hover = format!("{} movies scored {how}", row.scored);
                    if row.trained_on > 0 {
                        hover.push_str(&format!(
                            "; {TRAINED_MARK} it trained on {} of them: in-sample",
                            row.trained_on
                        ));
                    }
                    ui.colored_label(row.colour, name).on_hover_text(hover);
                    // Which operating point each row is at, visible without hovering.
                    match row.decision {
                        Some(d) => ui.label("decision").on_hover_text(d.to_string()),
                        None => ui.label(format!("{:.3}", c.threshold)),
                    };
                    match &row.result {
                        Ok(m) => {
                            for v in [m.ap, m.map, m.miou, m.precision, m.recall, m.f1] {
                                ui.label(format_metric(v));
                            }
                        }
                        Err(e) => {
                            ui.colored_label(ui.visuals().error_fg_color, "—")
                                .on_hover_text(e);
                        }
                    }
                    ui.end_row();
                }
            });
    }

    fn table(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        ui.add_space(4.0);
        ui.heading("Metrics");
        source_line(ui, state);
        scope_selector(ui, state, actions);
        let Some(m) = &state.metrics else {
            if state.metrics_key().is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("computing…");
                });
            } else {
                ui.label("Nothing to score: no movie has predictions.");
            }
            return;
        };
        if state.current_metrics().is_none() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("updating (shown: threshold {:.3})", m.threshold));
            });
        }
        let all = match &m.result {
            Ok(all) => all,
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
                return;
            }
        };
        // The scope these totals were computed over (the newest may be of an earlier one).
        let scope = m.key.scope;
        let n_movies = state.scope_count(scope);
        if m.scored.len() < n_movies {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{} of {n_movies} movies lack ground truth, end frames or scores and are not scored",
                    n_movies - m.scored.len()
                ),
            );
        }
        let trained = m.scored.iter().filter(|&&i| state.trained_on(i)).count();
        if let Some((note, warn)) = scope_note(state, scope, trained) {
            if warn {
                ui.colored_label(ui.visuals().warn_fg_color, note);
            } else {
                ui.weak(note);
            }
        }
        metric_grid(ui, state, all, m.scored.len(), scope, trained);
    }

    fn curves(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let Some(sweep) = state
            .sweep
            .as_ref()
            .filter(|s| Some(s.key) == state.sweep_key())
        else {
            if state.metrics_key().is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("computing curves…");
                });
            }
            return;
        };
        let scope_label = sweep.key.scope.label(sweep.scored.len());
        ui.strong(format!("Precision-recall, {}", scope_label.to_lowercase()));
        pr_curve(ui, state, sweep);
        threshold_curves(ui, state, sweep, &scope_label, actions);
    }
}

/// Which source is scored, and at which threshold or decision.
fn source_line(ui: &mut egui::Ui, state: &AppState) {
    let source = state
        .sources
        .selected_source()
        .map_or("-", |s| s.name.as_str());
    match state.sources.selected_decision() {
        Some(d) => ui
            .label(format!("source {source}, decision: {d}"))
            .on_hover_text(
                "Scored on the decided scores at ≥ 0.5 (as `scenelab evaluate` scores \
                 `scenelab predict`'s output); AP and mAP then rank the decided scores",
            ),
        None => ui.label(format!("source {source}, threshold {:.3}", state.threshold)),
    };
}

/// The totals over `scope` (`scored` movies, `trained` of them in the model's training set)
/// beside the selected movie's own numbers, the in-sample ones marked.
fn metric_grid(
    ui: &mut egui::Ui,
    state: &AppState,
    all: &Metrics,
    scored: usize,
    scope: Scope,
    trained: usize,
) {
    let has_split = state.selected_split().is_some();
    let one = state.selected_movie_metrics();
    let one_name = state.selected().map_or_else(
        || "selected".to_string(),
        |movie| match state.selected_movie.and_then(|i| state.role(i)) {
            Some(Role::Train) => format!("{} {TRAINED_MARK}", movie.imdb_id),
            Some(role) => format!("{} ({})", movie.imdb_id, role.name()),
            None => movie.imdb_id.clone(),
        },
    );
    let selected_trained = state.selected_movie.is_some_and(|i| state.trained_on(i));
    egui::Grid::new("metric_grid")
        .striped(true)
        .num_columns(3)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.strong("");
            let label = scope.label(scored);
            match scope {
                Scope::Test if has_split => ui.strong(format!("{label}, held out")),
                Scope::All if has_split && trained > 0 => ui.colored_label(
                    ui.visuals().warn_fg_color,
                    egui::RichText::new(format!("{label} {TRAINED_MARK}")).strong(),
                ),
                _ => ui.strong(label),
            };
            if selected_trained {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    egui::RichText::new(one_name).strong(),
                )
                .on_hover_text(Role::Train.explain());
            } else {
                ui.strong(one_name);
            }
            ui.end_row();
            for (name, a, b) in rows(all, one) {
                ui.label(name);
                ui.monospace(format_metric(a));
                ui.monospace(b.map_or_else(|| "-".to_string(), format_metric));
                ui.end_row();
            }
        });
    if selected_trained {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("{TRAINED_MARK} the model trained on this movie: its numbers are in-sample"),
        );
    }
}

/// The precision-recall curve over the scope, and the selected movie's own.
fn pr_curve(ui: &mut egui::Ui, state: &AppState, sweep: &SweepResult) {
    let pooled = sweep.pr_curve.clone();
    let pooled_name = sweep.key.scope.name().to_lowercase();
    let selected = state
        .selected_movie
        .and_then(|i| sweep.movie_curve(i))
        .map(<[[f64; 2]]>::to_vec);
    let selected_name = state.selected().map_or_else(String::new, |m| {
        if state.selected_movie.is_some_and(|i| state.trained_on(i)) {
            format!("{} {TRAINED_MARK} (trained on)", m.imdb_id)
        } else {
            m.imdb_id.clone()
        }
    });
    Plot::new("pr_curve")
        .height(200.0)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("recall")
        .y_axis_label("precision")
        .legend(Legend::default().position(Corner::RightTop))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, move |p| {
            p.line(Line::new(pooled_name, PlotPoints::new(pooled)).color(Color32::LIGHT_BLUE));
            if let Some(points) = selected {
                p.line(
                    Line::new(selected_name, PlotPoints::new(points))
                        .color(Color32::from_rgb(230, 120, 230)),
                );
            }
        });
}

/// F1 and Miou against the threshold, with the best of each and a button to use it.
fn threshold_curves(
    ui: &mut egui::Ui,
    state: &AppState,
    sweep: &SweepResult,
    scope_label: &str,
    actions: &mut Vec<Action>,
) {
    ui.add_space(6.0);
    ui.strong(format!(
        "F1 and Miou against threshold, {}",
        scope_label.to_lowercase()
    ));
    if state
        .sources
        .selected_decision()
        .is_some_and(|d| d.suppresses())
    {
        ui.weak("of the raw scores, without the decision's peak picking");
    }
    let f1: Vec<[f64; 2]> = sweep
        .thresholds
        .iter()
        .zip(&sweep.f1)
        .map(|(&t, &v)| [f64::from(t), v])
        .filter(|p| p[1].is_finite())
        .collect();
    let miou: Vec<[f64; 2]> = sweep
        .thresholds
        .iter()
        .zip(&sweep.miou)
        .map(|(&t, &v)| [f64::from(t), v])
        .filter(|p| p[1].is_finite())
        .collect();
    let best_f1 = sweep.best_f1;
    let best_miou = sweep.best_miou;
    let threshold = f64::from(state.threshold);
    Plot::new("threshold_curves")
        .height(200.0)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("threshold")
        .legend(Legend::default().position(Corner::RightTop))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show(ui, move |p| {
            p.line(Line::new("F1", PlotPoints::new(f1)).color(F1_COLOUR));
            p.line(Line::new("Miou", PlotPoints::new(miou)).color(MIOU_COLOUR));
            p.vline(
                VLine::new("current", threshold)
                    .color(Color32::GRAY)
                    .style(LineStyle::dashed_loose()),
            );
            if let Some((t, v)) = best_f1 {
                p.points(
                    Points::new("best F1", PlotPoints::new(vec![[f64::from(t), v]]))
                        .color(F1_COLOUR)
                        .radius(5.0),
                );
            }
            if let Some((t, v)) = best_miou {
                p.points(
                    Points::new("best Miou", PlotPoints::new(vec![[f64::from(t), v]]))
                        .color(MIOU_COLOUR)
                        .radius(5.0),
                );
            }
        });
    // One row per metric, so a narrow panel never strands a button from its label.
    for (name, best) in [("F1", best_f1), ("Miou", best_miou)] {
        let Some((t, v)) = best else { continue };
        ui.horizontal(|ui| {
            ui.label(format!("best {name} {} at {t:.2}", format_metric(v)));
            if ui
                .small_button("use")
                .on_hover_text("Set the threshold here")
                .clicked()
            {
                actions.push(Action::SetThreshold(t));
            }
        });
    }
}

/// The scope choice, for a source with a split: each scope with its number of movies (one
/// without movies cannot be chosen).
fn scope_selector(ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
    if state.selected_split().is_none() {
        if state.folder.is_some() && !state.sources.is_empty() {
            ui.weak("scores without a split: every movie is scored");
        }
        return;
    }
    let current = state.scope();
    ui.horizontal_wrapped(|ui| {
        ui.label("Scored on");
        for scope in Scope::ALL {
            let count = state.scope_count(scope);
            let enabled = count > 0 || scope == Scope::All;
            let hover = match scope {
                Scope::Test => "The model's test movies: held out, never used to train or choose it",
                Scope::Validation => {
                    "The model's validation movies: not trained on, but used to stop training and tune the decision"
                }
                Scope::All => "Every open movie, the model's training movies included (in-sample)",
            };
            if ui
                .add_enabled(
                    enabled,
                    egui::Button::selectable(current == scope, scope.label(count)),
                )
                .on_hover_text(hover)
                .clicked()
                && current != scope
            {
                actions.push(Action::SetScope(scope));
            }
        }
    });
}

/// Table rows: name, all-movie value, selected-movie value (a single movie's mAP is its AP).
fn rows(
    all: &Metrics,
    one: Option<&crate::eval::MovieMetrics>,
) -> [(&'static str, f64, Option<f64>); 6] {
    [
        ("AP", all.ap, one.map(|m| m.ap)),
        ("mAP", all.map, one.map(|m| m.ap)),
        ("Miou", all.miou, one.map(|m| m.miou)),
        ("Precision", all.precision, one.map(|m| m.precision)),
        ("Recall", all.recall, one.map(|m| m.recall)),
        ("F1", all.f1, one.map(|m| m.f1)),
    ]
}
