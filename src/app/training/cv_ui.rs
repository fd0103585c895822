//! The training window's cross-validation parts: the mode and folds in the form, the folds
//! preview, the progress, and the results table (mean ± std over folds, per fold on demand).

use std::time::Instant;

use eframe::egui;

use super::cv_job::CV_RESULTS_FILE;
use super::cv_run::CrossValidationRun;
use super::form::TrainingForm;
use super::run::TrainingRun;
use crate::app::Action;
use crate::app::picker::PickPurpose;
use crate::data::Movie;
use crate::workflow::cross_validation::{CrossValidationRow, folds_of};

/// What cross-validation does, for the hover.
const CROSS_VALIDATE_HOVER: &str = "Movie-level k-fold cross-validation, as `scenelab bench train --folds K`: \
the usable movies are cut into K folds; each fold's movies are tested once, by a model trained without them, \
while a tenth of the other movies validate (early stopping, the decision) and the rest train. \
The files' provided prediction is scored on the same folds. No model is kept.";

/// The form's Evaluate row (one split or cross-validation) and, when cross-validating, its
/// Folds (clamped to the `usable` movies), inside the form's grid.
pub(super) fn mode(ui: &mut egui::Ui, form: &mut TrainingForm, usable: usize) {
    ui.label("Evaluate")
        .on_hover_text("How the trained model is tested");
    ui.horizontal(|ui| {
        ui.selectable_value(&mut form.cross_validate, false, "One split")
            .on_hover_text(
                "Train one model on a train / validate / test split; its predictions become a source",
            );
        ui.selectable_value(&mut form.cross_validate, true, "Cross-validate")
            .on_hover_text(CROSS_VALIDATE_HOVER);
    });
    ui.end_row();
    if form.cross_validate {
        let l = ui.label("Folds");
        let mut folds = form.folds_for(usable);
        let changed = ui
            .add(egui::DragValue::new(&mut folds).range(2..=usable.max(2)))
            .on_hover_text(format!(
                "At least 2, at most one per usable movie ({usable} here). {CROSS_VALIDATE_HOVER}"
            ))
            .labelled_by(l.id)
            .changed();
        if changed {
            form.folds = folds;
        }
        ui.end_row();
    }
}

/// The folds the form makes of `movies`, or why it cannot.
pub(super) fn folds_preview(
    ui: &mut egui::Ui,
    form: &TrainingForm,
    movies: &[Movie],
    usable: usize,
) {
    let k = form.folds_for(usable);
    match folds_of(movies, k, form.settings.seed) {
        Ok(splits) => {
            let test = splits.iter().map(|s| s.test.len());
            let (min, max) = (test.clone().min().unwrap_or(0), test.max().unwrap_or(0));
            let sizes = if min == max {
                min.to_string()
            } else {
                format!("{min}–{max}")
            };
            ui.label(format!(
                "{k} folds of {sizes} test movies; in each, {} train and {} validate",
                splits[0].train.len(),
                splits[0].validation.len()
            ))
        }
        Err(e) => ui.colored_label(ui.visuals().warn_fg_color, format!("{e}: lower Folds")),
    };
}

/// The running cross-validation's progress: fold, epoch and ETA (`run` is the current fold's
/// training).
pub(super) fn progress(ui: &mut egui::Ui, cv: &CrossValidationRun, run: &TrainingRun) {
    let fold = (cv.current_fold() + 1).min(cv.folds);
    let mut text = format!("fold {fold} of {}", cv.folds);
    if run.epochs > 0 {
        let epoch = (run.steps_done() / run.steps_per_epoch.max(1) + 1).min(run.epochs);
        text.push_str(&format!(", epoch {epoch} of {}", run.epochs));
    }
    match cv.eta_seconds(run, Instant::now()) {
        Some(s) => text.push_str(&format!(", ETA {}", crate::train::format_duration(s))),
        None => text.push_str(", ETA after the first epoch"),
    }
    ui.add(egui::ProgressBar::new(cv.fraction(run)).text(text));
}

/// The results: one row per model and one for the provided prediction, each score's mean ± std
/// over the folds, the folds on demand, Save results.
pub(super) fn results(
    ui: &mut egui::Ui,
    cv: &CrossValidationRun,
    running: bool,
    actions: &mut Vec<Action>,
) {
    ui.strong("Cross-validated, held-out test movies");
    let done = cv.model.folds.len();
    if let Some(Err(e)) = &cv.provided {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("No provided-prediction row: {e}"),
        );
    }
    if let Some(e) = &cv.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    if cv.cancelled {
        ui.label(format!(
            "Cancelled after {done} of {} folds: the table holds the finished folds",
            cv.folds
        ));
    }
    let rows = cv.rows();
    if !rows.is_empty() {
        let over = if done > 0 {
            format!("{done} of {} folds", cv.folds)
        } else {
            format!("{} folds", cv.folds)
        };
        ui.label(format!(
            "Mean ± standard deviation over {over} (seed {}). AP, mAP, Miou and F1 at >= 0.5; \
             Miou* and F1* through the decision tuned on each fold's validation movies.",
            cv.seed
        ));
        egui::ScrollArea::horizontal()
            .id_salt("cv_summary_scroll")
            .show(ui, |ui| summary_table(ui, &rows));
        egui::CollapsingHeader::new("Per fold")
            .id_salt("cv_per_fold")
            .show(ui, |ui| {
                egui::ScrollArea::horizontal()
                    .id_salt("cv_folds_scroll")
                    .show(ui, |ui| fold_table(ui, &rows));
            });
        if ui
            .add_enabled(!running, egui::Button::new("Save results (JSON)…"))
            .on_hover_text(format!(
                "Write {CV_RESULTS_FILE} into a folder you choose, as `scenelab bench train --folds K --json` writes it"
            ))
            .clicked()
        {
            actions.push(Action::PickFor(PickPurpose::SaveCrossValidation));
        }
    }
    ui.label(
        "Cross-validation trains one model per fold and keeps none, so no source is added: \
         choose One split and Train to see a model's predictions on the timeline.",
    );
}

fn summary_table(ui: &mut egui::Ui, rows: &[CrossValidationRow]) {
    egui::Grid::new("cv_summary")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in [
                "row", "folds", "test AP", "test mAP", "Miou", "F1", "Miou*", "F1*",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for r in rows {
                let m = r.summary();
                ui.label(&r.name);
                ui.label(r.folds.len().to_string());
                for s in [m.ap, m.map, m.miou, m.f1, m.decided_miou, m.decided_f1] {
                    ui.label(s.to_string());
                }
                ui.end_row();
            }
        });
}

fn fold_table(ui: &mut egui::Ui, rows: &[CrossValidationRow]) {
    egui::Grid::new("cv_folds")
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in [
                "row", "fold", "test", "AP", "mAP", "Miou", "F1", "Miou*", "F1*", "epochs",
                "decision",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for r in rows {
                for f in &r.folds {
                    ui.label(&r.name);
                    ui.label((f.fold + 1).to_string());
                    ui.label(f.split.test.len().to_string());
                    for v in f.figures() {
                        ui.label(format!("{v:.4}"));
                    }
                    ui.label(match (f.epochs_run, f.best_epoch) {
                        (Some(e), Some(b)) => format!("{e} (best {b})"),
                        (Some(e), None) => e.to_string(),
                        _ => "–".into(),
                    });
                    ui.label(f.decision.map_or("–".into(), |d| d.to_string()));
                    ui.end_row();
                }
            }
        });
}
