//! The search window: form, buttons and progress, chart, trial table, final result.

use eframe::egui;
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use super::SearchAction;
use super::form::{SearchForm, default_out_dir};
use super::run::SearchRun;
use crate::app::training::usable_for_training;
use crate::app::{Action, AppState};
use crate::train::decision::Objective;
use crate::train::search::{self, FinalResult, TestScores};

/// The search window; it owns the form the user is filling in.
#[derive(Default)]
pub struct SearchPanel {
    /// What Start will search (read when the search starts; not editable while one runs).
    pub form: SearchForm,
}

impl SearchPanel {
    /// The window, open while `state.search.open`.
    pub fn window(&mut self, ctx: &egui::Context, state: &AppState, actions: &mut Vec<Action>) {
        let window = egui::Window::new("Hyperparameter search")
            .default_pos([330.0, 110.0])
            .default_width(1040.0)
            .default_height(760.0)
            .resizable(true);
        if !crate::app::window::show(ctx, window, |ui| self.ui(ui, state, actions)) {
            actions.push(Action::Search(SearchAction::Show(false)));
        }
    }

    /// The window's contents: form, buttons and progress, chart, table, final result.
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.form(ui, state);
                ui.separator();
                self.controls(ui, state, actions);
                ui.separator();
                let s = &state.search;
                let trials = if s.run.trials > 0 {
                    s.run.trials
                } else {
                    self.form.trials
                };
                self.chart(ui, &s.run, trials);
                ui.separator();
                let run = &state.search.run;
                self.table(ui, run);
                if let Some(f) = &run.final_result {
                    ui.separator();
                    final_result(ui, f, run.final_reused);
                } else if let (Some(old), Some(best)) = (run.stale_final, run.rows.first()) {
                    ui.separator();
                    ui.label(format!(
                        "Trial {} now scores best, but the final fit has not run for it (the saved best model is of trial {old}): Start again with this folder to retrain it",
                        best.record.trial
                    ));
                }
            });
    }

    fn form(&mut self, ui: &mut egui::Ui, state: &AppState) {
        let s = &state.search;
        let form = &mut self.form;
        ui.add_enabled_ui(!s.is_running(), |ui| {
            egui::Grid::new("search_form")
                .num_columns(4)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    let kind = crate::app::training::model_kind_row(ui, "search_kind", form.kind);
                    form.set_kind(kind);
                    number(ui, "Trials", &mut form.trials, 1..=10_000);
                    ui.end_row();
                    number(ui, "Folds", &mut form.folds, 2..=20);
                    number(ui, "Epochs (most)", &mut form.epochs, 1..=1000);
                    ui.end_row();
                    number(ui, "Patience", &mut form.patience, 1..=1000);
                    let l = ui.label("Seed");
                    ui.add(egui::DragValue::new(&mut form.seed))
                        .labelled_by(l.id);
                    ui.end_row();
                    number(ui, "Test movies", &mut form.test_movies, 0..=1000);
                    let l = ui.label("Objective");
                    egui::ComboBox::from_id_salt("search_objective")
                        .selected_text(form.objective.name())
                        .show_ui(ui, |ui| {
                            for o in [Objective::Miou, Objective::F1] {
                                ui.selectable_value(&mut form.objective, o, o.name());
                            }
                        })
                        .response
                        .labelled_by(l.id)
                        .on_hover_text(
                            "What the threshold and peak picking maximise on validation movies",
                        );
                    ui.end_row();
                    ui.label("Peak picking");
                    ui.checkbox(&mut form.peak_picking, "tune NMS and minimum scene length");
                    ui.end_row();
                });
            ui.horizontal(|ui| {
                let label = ui.label("Output folder");
                ui.add(
                    egui::TextEdit::singleline(&mut form.out_dir)
                        .desired_width(420.0)
                        .hint_text(default_out_dir(form.kind)),
                )
                .labelled_by(label.id)
                .on_hover_text("Start again with the same folder to resume its search");
            });
        });
        let usable = state
            .movies()
            .iter()
            .filter(|m| usable_for_training(m))
            .count();
        let train = usable.saturating_sub(form.test_movies);
        let text = format!(
            "{usable} usable movies: {} test, {train} training in {} folds (each fold validates ~{} movies)",
            form.test_movies.min(usable),
            form.folds,
            train.div_ceil(form.folds.max(1))
        );
        if usable < form.test_movies + form.folds {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("{text}: too few, lower Test movies or Folds"),
            );
        } else {
            ui.label(text);
        }
    }

    fn controls(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let s = &state.search;
        let run = &s.run;
        ui.horizontal(|ui| {
            let can_start = !s.is_running() && state.folder.is_some();
            if ui
                .add_enabled(can_start, egui::Button::new("Start"))
                .on_hover_text(
                    "Search on the open folder's movies; a folder holding finished trials resumes",
                )
                .clicked()
            {
                actions.push(Action::Search(SearchAction::Start));
            }
            if ui
                .add_enabled(s.is_running(), egui::Button::new("Cancel"))
                .on_hover_text("Stop after the current step; finished trials are kept")
                .clicked()
            {
                actions.push(Action::Search(SearchAction::Cancel));
            }
            if ui
                .add_enabled(!s.is_running(), egui::Button::new("Open results"))
                .on_hover_text(
                    "Show the trials and best model already in the output folder, without training",
                )
                .clicked()
            {
                actions.push(Action::Search(SearchAction::OpenResults));
            }
            let can_load = run.final_result.is_some() && !s.is_running() && !s.loading_best;
            if ui
                .add_enabled(can_load, egui::Button::new("Load best model"))
                .on_hover_text(
                    "Score every movie with the retrained best configuration and add it as a source",
                )
                .clicked()
            {
                actions.push(Action::Search(SearchAction::LoadBest));
            }
            if s.loading_best {
                ui.spinner();
                ui.label("scoring the movies…");
            } else if let Some(name) = &s.loaded {
                ui.label(format!("loaded as \"{name}\""));
            }
        });
        if let Some(f) = run.fraction() {
            let eta = match (s.is_running(), run.eta_seconds()) {
                (true, Some(secs)) => format!(", ETA {}", crate::train::format_duration(secs)),
                (true, None) => ", ETA after the first fold".to_string(),
                _ => String::new(),
            };
            let text = format!("run {} of {}{eta}", run.runs_done, run.runs_total);
            ui.add(egui::ProgressBar::new(f).text(text));
        } else if s.is_running() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("preparing…");
            });
        }
        if s.is_running() {
            let what = match (&run.current, run.final_fit) {
                (Some(c), _) => format!(
                    "Training trial {} (trials 0 to {}), fold {} of {}",
                    c.trial,
                    run.trials.saturating_sub(1),
                    c.folds.len() + 1,
                    run.folds
                ),
                (None, Some(t)) => format!("Retraining trial {t} on all training movies"),
                _ => String::new(),
            };
            if !what.is_empty() {
                ui.label(what);
            }
        } else if run.ended && run.error.is_none() {
            let resumed = run.rows.iter().filter(|r| r.resumed).count();
            let mut text = format!(
                "{} finished trials ({resumed} from earlier runs) in {}",
                run.rows.len(),
                run.out_dir.display()
            );
            if run.cancelled {
                text.push_str(": cancelled; Start again with the same folder to resume");
            }
            ui.label(text);
        }
        if run.train_movies > 0 {
            ui.label(format!(
                "{} training movies in {} folds, {} test movies kept out until the end",
                run.train_movies, run.folds, run.test_movies
            ));
        }
        if let Some(e) = &run.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }

    /// `trials` sets the x range: the run's, or the form's before any run.
    fn chart(&mut self, ui: &mut egui::Ui, run: &SearchRun, trials: usize) {
        ui.label("Validation score per trial (mean over folds)");
        let series = run.chart();
        // Scores autoscale to show small differences; with none yet, the whole range.
        let top = if series.map.is_empty() { 1.0 } else { 0.0 };
        Plot::new("search_score_plot")
            .height(170.0)
            .legend(Legend::default())
            .x_axis_label("trial")
            .include_y(0.0)
            .include_y(top)
            .include_x(-0.5)
            .include_x(trials.max(1) as f64 - 0.5)
            .show(ui, move |p| {
                p.line(Line::new(
                    "best mAP so far",
                    PlotPoints::from(series.best_so_far),
                ));
                p.points(Points::new("mAP", PlotPoints::from(series.map)).radius(4.0));
                p.points(Points::new("Miou", PlotPoints::from(series.miou)).radius(3.0));
            });
    }

    fn table(&mut self, ui: &mut egui::Ui, run: &SearchRun) {
        let names: Vec<&str> = run
            .rows
            .first()
            .map(|r| r.params.as_slice())
            .or(run.current.as_ref().map(|c| c.params.as_slice()))
            .unwrap_or_default()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        if names.is_empty() {
            ui.label("No trials yet.");
            return;
        }
        ui.label("Trials, best mean validation mAP first");
        egui::ScrollArea::horizontal()
            .id_salt("search_table_scroll")
            .show(ui, |ui| {
                egui::Grid::new("search_table")
                    .striped(true)
                    .spacing([14.0, 4.0])
                    .show(ui, |ui| {
                        for h in ["rank", "trial", "mAP", "Miou", "time", "status"] {
                            ui.strong(h);
                        }
                        for n in &names {
                            ui.strong(*n);
                        }
                        ui.end_row();
                        for (i, row) in run.rows.iter().enumerate() {
                            let r = &row.record;
                            ui.label((i + 1).to_string());
                            ui.label(r.trial.to_string());
                            let map = format!("{:.4} ± {:.4}", r.map_mean, r.map_std);
                            if i == 0 {
                                ui.strong(map);
                            } else {
                                ui.label(map);
                            }
                            ui.label(format!("{:.4} ± {:.4}", r.miou_mean, r.miou_std));
                            ui.label(crate::train::format_duration(r.seconds));
                            ui.label(if row.resumed {
                                "earlier run"
                            } else {
                                "finished"
                            });
                            for (_, v) in &row.params {
                                ui.label(v);
                            }
                            ui.end_row();
                        }
                        if let Some(c) = &run.current {
                            ui.label("");
                            ui.label(c.trial.to_string());
                            let maps: Vec<f64> = c.folds.iter().map(|f| f.map).collect();
                            let mious: Vec<f64> = c.folds.iter().map(|f| f.miou).collect();
                            ui.label(partial(&maps));
                            ui.label(partial(&mious));
                            let secs: f64 = c.folds.iter().map(|f| f.seconds).sum();
                            ui.label(crate::train::format_duration(secs));
                            ui.label(format!(
                                "running fold {} of {}",
                                c.folds.len() + 1,
                                run.folds
                            ));
                            for (_, v) in &c.params {
                                ui.label(v);
                            }
                            ui.end_row();
                        }
                    });
            });
    }
}

/// The retrained best configuration: its tuned decision and its one look at the test movies.
pub(super) fn final_result(ui: &mut egui::Ui, f: &FinalResult, reused: bool) {
    let when = if reused {
        " by an earlier run (still the best trial)"
    } else {
        ""
    };
    ui.label(format!(
        "Best: trial {}, retrained on all training movies{when} and saved to {}",
        f.trial,
        f.model_dir.display()
    ));
    ui.label(format!(
        "Decision tuned on out-of-fold predictions (training movies only): {}",
        f.decision
    ));
    let Some(TestScores { raw, decided }) = &f.test else {
        ui.label("No test movies were held out: there are no test scores.");
        return;
    };
    ui.label(format!("Test movies ({}), scored once:", f.test_ids.len()));
    egui::Grid::new("search_test_metrics")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in ["", "AP", "mAP", "Miou", "Precision", "Recall", "F1"] {
                ui.strong(h);
            }
            ui.end_row();
            for (label, m) in [("raw scores, >= 0.5", raw), ("tuned decision", decided)] {
                ui.label(label);
                for v in [m.ap, m.map, m.miou, m.precision, m.recall, m.f1] {
                    ui.label(format!("{v:.4}"));
                }
                ui.end_row();
            }
        });
}

/// Mean ± spread of the folds finished so far.
pub(super) fn partial(values: &[f64]) -> String {
    if values.is_empty() {
        return "…".into();
    }
    let (mean, std) = search::mean_std(values);
    format!("{mean:.4} ± {std:.4} …")
}

pub(super) fn number(
    ui: &mut egui::Ui,
    label: &str,
    v: &mut usize,
    range: std::ops::RangeInclusive<usize>,
) {
    let l = ui.label(label);
    ui.add(egui::DragValue::new(v).range(range))
        .labelled_by(l.id);
}
