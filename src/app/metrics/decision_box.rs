//! The selected source's decision step, shown and edited above the metrics: apply on/off,
//! threshold, non-maximum suppression window and minimum scene length.
//!
//! The decision lives in the source (`SourceDecision`); [`DecisionBox`] draws it and
//! returns [`Action::SetDecision`]. While a decision is applied its threshold is the app's
//! threshold (the top-bar slider and the timeline's line move both), the timeline's predicted
//! boundaries are the decision's, and the threshold metrics are those of the decided scores
//! at `>= 0.5` (see `evaluation.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui;

use crate::app::sources::{PredictionSource, SourceDecision};
use crate::app::{Action, AppState};
use crate::data::Scores;
use crate::train::decision::Decision;

impl AppState {
    /// An applied decision of the selected source sets the threshold.
    pub fn take_decision_threshold(&mut self) {
        if let Some(d) = self.sources.selected_decision() {
            self.threshold = d.threshold;
        }
    }

    /// Set or remove source `i`'s decision (the threshold follows when it is selected).
    pub fn set_decision(&mut self, i: usize, decision: Option<SourceDecision>) {
        let decision = decision.map(|mut d| {
            d.decision.threshold = if d.decision.threshold.is_finite() {
                d.decision.threshold.clamp(0.0, 1.0)
            } else {
                self.threshold
            };
            d.decision.min_scene_len = d.decision.min_scene_len.max(1);
            d
        });
        self.sources.set_decision(i, decision);
        if i == self.sources.selected {
            self.take_decision_threshold();
        }
    }
}

/// The scores Export writes for `source`: through its applied decision, as `scenelab predict`
/// writes them, so the reference evaluator's `>= 0.5` gives the boundaries the app shows.
pub fn scores_to_write(source: &PredictionSource) -> HashMap<String, Arc<Scores>> {
    match source.applied_decision() {
        Some(d) => source
            .scores
            .iter()
            .map(|(id, s)| {
                let decided = Scores::from_f32(&d.apply(&s.to_f32_vec()));
                (id.clone(), Arc::new(decided))
            })
            .collect(),
        None => source.scores.clone(),
    }
}

/// Largest NMS half-window and minimum scene length offered (in transitions / shots).
const MAX_NMS_WINDOW: usize = 50;
const MAX_SCENE_LEN: usize = 200;

#[derive(Default)]
pub struct DecisionBox;

impl DecisionBox {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &AppState, actions: &mut Vec<Action>) {
        let i = state.sources.selected;
        let Some(source) = state.sources.selected_source() else {
            return;
        };
        ui.strong("Decision");
        let Some(current) = source.decision else {
            offer_peak_picking(ui, i, state.threshold, actions);
            return;
        };
        let mut next = current;
        ui.checkbox(&mut next.applied, "Apply decision")
            .on_hover_text(
                "On: boundaries and Miou, precision, recall and F1 come from the decision, on the \
             scores `scenelab predict` writes. Off: scores ≥ the threshold.",
            );
        ui.add_enabled_ui(next.applied, |ui| {
            egui::Grid::new("decision_grid")
                .num_columns(2)
                .spacing([12.0, 4.0])
                .show(ui, |ui| decision_fields(ui, &mut next.decision));
        });
        ui.horizontal_wrapped(|ui| match current.tuned {
            Some(tuned) => {
                ui.weak(format!(
                    "Tuned for {} on the validation movies: {tuned}",
                    tuned.objective.name()
                ));
                if ui
                    .add_enabled(next.decision != tuned, egui::Button::new("Reset"))
                    .on_hover_text("Back to the tuned decision")
                    .clicked()
                {
                    next.decision = tuned;
                }
            }
            None => {
                ui.weak("Added here, not tuned.");
                if ui.small_button("Remove").clicked() {
                    actions.push(Action::SetDecision(i, None));
                }
            }
        });
        if next != current {
            actions.push(Action::SetDecision(i, Some(next)));
        }
    }
}

/// For a source without a decision step: a button that adds peak picking at `threshold`.
fn offer_peak_picking(ui: &mut egui::Ui, i: usize, threshold: f32, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        ui.weak("No decision step: boundaries are scores ≥ the threshold.");
        if ui
            .small_button("Add peak picking")
            .on_hover_text(
                "Keep only local peaks and a minimum scene length on top of the threshold \
                 (starting at NMS ±2 and scenes of 2 shots or more; edit them below)",
            )
            .clicked()
        {
            // A start that does something: the all-off decision would change nothing.
            let decision = Decision {
                threshold,
                nms_window: 2,
                min_scene_len: 2,
                ..Decision::default()
            };
            actions.push(Action::SetDecision(
                i,
                Some(SourceDecision {
                    decision,
                    tuned: None,
                    applied: true,
                }),
            ));
        }
    });
}

/// The decision's threshold, NMS window and minimum scene length, edited in `d`.
fn decision_fields(ui: &mut egui::Ui, d: &mut Decision) {
    let label = ui.label("Decision threshold");
    ui.add(
        egui::DragValue::new(&mut d.threshold)
            .range(0.0..=1.0)
            .speed(0.002)
            .fixed_decimals(3),
    )
    .labelled_by(label.id)
    .on_hover_text("A transition is a candidate when its score is at least this");
    ui.end_row();
    let label = ui.label("NMS window");
    ui.add(
        egui::DragValue::new(&mut d.nms_window)
            .range(0..=MAX_NMS_WINDOW)
            .prefix("± ")
            .suffix(" transitions"),
    )
    .labelled_by(label.id)
    .on_hover_text(
        "A candidate survives only if no score within this many transitions is \
         higher; 0 turns it off",
    );
    ui.end_row();
    let label = ui.label("Minimum scene length");
    let unit = if d.min_scene_len == 1 {
        " shot"
    } else {
        " shots"
    };
    ui.add(
        egui::DragValue::new(&mut d.min_scene_len)
            .range(1..=MAX_SCENE_LEN)
            .suffix(unit),
    )
    .labelled_by(label.id)
    .on_hover_text(
        "Boundaries are taken by decreasing score while every scene keeps at \
         least this many shots; 1 turns it off",
    );
    ui.end_row();
}
