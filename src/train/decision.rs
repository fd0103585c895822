//! The decision step: from boundary scores to boundaries, tuned on validation movies.
//!
//! A [`Decision`] is a threshold plus optional peak picking: non-maximum suppression (a
//! boundary survives only if its score is the largest within ±`nms_window` transitions) and a
//! minimum scene length in shots (boundaries are accepted by decreasing score while both scenes
//! they would create stay at least `min_scene_len` shots long). [`tune`] searches a small grid
//! on validation predictions for the decision that maximises the reference's Miou (or F1).
//!
//! The reference evaluator reads one score per transition and always cuts at `>= 0.5`, so a
//! decision travels inside the scores: [`Decision::apply`] maps them so that `>= 0.5` gives
//! exactly the decision's boundaries. The map is built to keep ranking metrics honest: it is
//! increasing within three bands (kept boundaries → [0.5, 1], suppressed candidates →
//! [0.25, 0.5), scores under the threshold → [0, 0.25), or [0, 0.5) when nothing can be
//! suppressed). So a pure threshold change leaves every score's rank, and thus AP and mAP,
//! as they were (up to f32 rounding ties), and the default decision is the identity. Peak
//! picking moves only the suppressed candidates below the kept ones; AP on applied scores then
//! measures the decided ranking. Wherever a decision is applied (the app's metrics and
//! comparison, `train`'s "tuned decision" rows), SceneLab scores all six metrics on the decided
//! scores, as `scenelab evaluate` scores what `scenelab predict` writes, so the figures on
//! screen are the ones a file sent to someone else gives.

use std::collections::BTreeSet;

use super::TrainedModel;
use crate::data::Movie;
use crate::eval::{EvalError, MovieInput, evaluate};

/// What the decision is tuned for.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The reference's mean IoU of scenes.
    #[default]
    Miou,
    /// The reference's mean F1 of boundaries.
    F1,
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Miou => "Miou",
            Objective::F1 => "F1",
        }
    }
}

/// How boundary scores become boundaries.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Decision {
    /// A transition is a candidate when its score is `>= threshold`.
    pub threshold: f32,
    /// Half-width, in transitions, of the non-maximum suppression; 0 turns it off.
    pub nms_window: usize,
    /// Fewest shots a scene may have; 0 or 1 turns it off.
    pub min_scene_len: usize,
    /// What the decision was tuned for (informational).
    pub objective: Objective,
}

impl Default for Decision {
    /// The reference's rule: every score `>= 0.5` is a boundary.
    fn default() -> Self {
        Decision {
            threshold: 0.5,
            nms_window: 0,
            min_scene_len: 1,
            objective: Objective::Miou,
        }
    }
}

/// Lower edge of the band suppressed candidates are mapped into.
const SUPPRESSED_FLOOR: f64 = 0.25;

/// `s` from `[lo, hi]` linearly onto `[a, b]` (a single point maps to `a`).
fn band(s: f32, lo: f32, hi: f32, a: f64, b: f64) -> f64 {
    let span = f64::from(hi) - f64::from(lo);
    if span <= 0.0 {
        return a;
    }
    a + (f64::from(s) - f64::from(lo)) / span * (b - a)
}

impl Decision {
    /// Whether the decision can suppress a candidate (peak picking on).
    pub fn suppresses(&self) -> bool {
        self.nms_window > 0 || self.min_scene_len > 1
    }

    /// Whether this is the reference's rule (`>= 0.5`, no peak picking).
    pub fn is_reference(&self) -> bool {
        self.threshold == 0.5 && !self.suppresses()
    }

    /// The boundary after each transition of one movie (NaN scores are never boundaries).
    pub fn boundaries(&self, scores: &[f32]) -> Vec<bool> {
        let n = scores.len();
        let mut keep: Vec<bool> = scores.iter().map(|&s| s >= self.threshold).collect();
        if self.nms_window > 0 {
            let w = self.nms_window;
            let peak = |t: usize| {
                let s = scores[t];
                (t.saturating_sub(w)..=(t + w).min(n - 1))
                    .filter(|&j| j != t)
                    // Ties go to the earlier transition, so a flat run keeps one boundary.
                    .all(|j| !(scores[j] > s || (scores[j] == s && j < t)))
            };
            let peaks: Vec<bool> = (0..n).map(|t| keep[t] && peak(t)).collect();
            keep = peaks;
        }
        if self.min_scene_len > 1 {
            let len = self.min_scene_len;
            let mut order: Vec<usize> = (0..n).filter(|&t| keep[t]).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            // Transition t separates shot t from shot t + 1; a movie has n + 1 shots.
            let mut accepted = BTreeSet::new();
            for t in order {
                let left = accepted.range(..t).next_back().map_or(t + 1, |&p| t - p);
                let right = accepted.range(t + 1..).next().map_or(n - t, |&q| q - t);
                if left >= len && right >= len {
                    accepted.insert(t);
                }
            }
            keep = (0..n).map(|t| accepted.contains(&t)).collect();
        }
        keep
    }

    /// Scores mapped so that `>= 0.5` reproduces [`Decision::boundaries`] (see the module
    /// docs for the bands). The reference decision returns the scores unchanged; NaN stays NaN.
    pub fn apply(&self, scores: &[f32]) -> Vec<f32> {
        if self.is_reference() {
            return scores.to_vec();
        }
        let keep = self.boundaries(scores);
        let below_top = if self.suppresses() {
            SUPPRESSED_FLOOR
        } else {
            0.5
        };
        let under = |v: f64, top: f64| (v as f32).min((top as f32).next_down());
        let thr = self.threshold;
        scores
            .iter()
            .zip(keep)
            .map(|(&s, kept)| {
                if s.is_nan() {
                    s
                } else if kept {
                    (band(s, thr, 1.0, 0.5, 1.0) as f32).max(0.5)
                } else if s >= thr {
                    under(band(s, thr, 1.0, SUPPRESSED_FLOOR, 0.5), 0.5)
                        .max(SUPPRESSED_FLOOR as f32)
                } else {
                    under(band(s, 0.0, thr, 0.0, below_top), below_top)
                }
            })
            .collect()
    }
}

/// The values [`tune`] tries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DecisionGrid {
    pub thresholds: Vec<f32>,
    pub nms_windows: Vec<usize>,
    pub min_scene_lens: Vec<usize>,
}

impl Default for DecisionGrid {
    fn default() -> Self {
        DecisionGrid {
            // 0.05 steps, 0.5 exact.
            thresholds: (1..20).map(|k| k as f32 / 20.0).collect(),
            nms_windows: vec![0, 1, 2, 4],
            min_scene_lens: vec![1, 2, 3, 5],
        }
    }
}

impl DecisionGrid {
    /// Thresholds only: no peak picking.
    pub fn thresholds_only() -> Self {
        DecisionGrid {
            nms_windows: vec![0],
            min_scene_lens: vec![1],
            ..DecisionGrid::default()
        }
    }
}

/// The best decision found and how it compares with the reference's rule.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TunedDecision {
    pub decision: Decision,
    /// The objective with `decision` on the validation movies; NaN when no decision of the
    /// grid has a value (the reference's F1 is 0/0 when no boundary is found), and then
    /// `decision` is the reference's rule. Written as `null`, read back as NaN.
    #[serde(deserialize_with = "super::f64_or_nan")]
    pub value: f64,
    /// The objective with the reference's `>= 0.5` on the same movies (NaN likewise).
    #[serde(deserialize_with = "super::f64_or_nan")]
    pub reference_value: f64,
    /// Grid points evaluated.
    pub evaluated: usize,
}

/// The objective of `decision` on `movies` (NaN F1 counts as no value).
pub fn objective_value(
    movies: &[MovieInput<'_>],
    decision: &Decision,
    objective: Objective,
) -> Result<f64, EvalError> {
    let applied: Vec<Vec<f32>> = movies
        .iter()
        .map(|m| decision.apply(&m.scores.as_f32()))
        .collect();
    let inputs: Vec<MovieInput> = movies
        .iter()
        .zip(&applied)
        .map(|(m, s)| MovieInput {
            scores: s.into(),
            ..*m
        })
        .collect();
    let metrics = evaluate(&inputs, 0.5)?;
    Ok(match objective {
        Objective::Miou => metrics.miou,
        Objective::F1 => metrics.f1,
    })
}

/// The decision of `grid` that maximises `objective` on `movies` (validation movies only:
/// tuning on test movies would make their scores optimistic). The reference's rule is tried
/// first and replaced only by a strictly better one, so the result never scores below it.
pub fn tune(
    movies: &[MovieInput<'_>],
    objective: Objective,
    grid: &DecisionGrid,
) -> Result<TunedDecision, EvalError> {
    let reference = Decision {
        objective,
        ..Decision::default()
    };
    let score = |d: &Decision| objective_value(movies, d, objective);
    // A NaN value loses to any number; it stays NaN in the result (never -inf, which JSON
    // cannot hold either and which would not read back as what it was).
    let better = |v: f64, than: f64| !v.is_nan() && (than.is_nan() || v > than + 1e-12);
    let reference_value = score(&reference)?;
    let mut best = (reference, reference_value);
    let mut evaluated = 1;
    // Simplest first (no peak picking, then wider windows), so ties keep the simpler rule.
    for &nms_window in &grid.nms_windows {
        for &min_scene_len in &grid.min_scene_lens {
            for &threshold in &grid.thresholds {
                let d = Decision {
                    threshold,
                    nms_window,
                    min_scene_len,
                    objective,
                };
                if d == reference {
                    continue;
                }
                let v = score(&d)?;
                evaluated += 1;
                if better(v, best.1) {
                    best = (d, v);
                }
            }
        }
    }
    Ok(TunedDecision {
        decision: best.0,
        value: best.1,
        reference_value,
        evaluated,
    })
}

/// The grid `scenelab train` and the app's training tune on: thresholds only, or with
/// peak picking too.
pub fn grid_for(peak_picking: bool) -> DecisionGrid {
    if peak_picking {
        DecisionGrid::default()
    } else {
        DecisionGrid::thresholds_only()
    }
}

/// Tune `model`'s decision on its own validation movies (`meta.split.validation`; a split
/// never puts a test movie there), scoring them with the model. `None` when the split has
/// no validation movie. `movies` must hold the split's movies.
pub fn tune_on_validation(
    model: &TrainedModel,
    movies: &[Movie],
    objective: Objective,
    grid: &DecisionGrid,
) -> Result<Option<TunedDecision>, String> {
    let validation = validation_movies(model, movies)?;
    if validation.is_empty() {
        return Ok(None);
    }
    // The recurrent models need a deep stack to score long movies.
    let scores =
        super::with_deep_stack(|| model.predict(&validation)).map_err(|e| e.to_string())?;
    tune_scored(&validation, scores, objective, grid).map(Some)
}

/// [`tune_on_validation`] from scores already predicted for (at least) the validation movies,
/// looked up by imdb id, so that a caller scoring every movie anyway does not score them twice.
pub fn tune_on_validation_scores<'s>(
    model: &TrainedModel,
    movies: &[Movie],
    scores: impl IntoIterator<Item = (&'s str, &'s [f32])>,
    objective: Objective,
    grid: &DecisionGrid,
) -> Result<Option<TunedDecision>, String> {
    let validation = validation_movies(model, movies)?;
    if validation.is_empty() {
        return Ok(None);
    }
    let by_id: std::collections::HashMap<&str, &[f32]> = scores.into_iter().collect();
    let chosen = validation
        .iter()
        .map(|m| {
            by_id
                .get(m.imdb_id.as_str())
                .map(|s| s.to_vec())
                .ok_or_else(|| format!("validation movie '{}' was not scored", m.imdb_id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    tune_scored(&validation, chosen, objective, grid).map(Some)
}

/// The model's validation movies, found in `movies`.
fn validation_movies<'m>(
    model: &TrainedModel,
    movies: &'m [Movie],
) -> Result<Vec<&'m Movie>, String> {
    model
        .meta
        .split
        .validation
        .iter()
        .map(|id| {
            movies
                .iter()
                .find(|m| &m.imdb_id == id)
                .ok_or_else(|| format!("validation movie '{id}' is not among the loaded movies"))
        })
        .collect()
}

/// Tune on `movies` scored `scores` (in the same order): validation movies only, like
/// [`tune_on_validation`], for scores that come from elsewhere (a file's provided prediction).
pub fn tune_scored(
    movies: &[&Movie],
    scores: Vec<Vec<f32>>,
    objective: Objective,
    grid: &DecisionGrid,
) -> Result<TunedDecision, String> {
    let scored: Vec<(String, Vec<f32>)> = movies
        .iter()
        .map(|m| m.imdb_id.clone())
        .zip(scores)
        .collect();
    let by_id: std::collections::HashMap<&str, &Movie> =
        movies.iter().map(|m| (m.imdb_id.as_str(), *m)).collect();
    let frames = super::end_frames(&by_id, &scored);
    let inputs =
        super::scored_inputs(&by_id, &scored, &frames).map_err(|e| format!("validation: {e}"))?;
    tune(&inputs, objective, grid).map_err(|e| e.to_string())
}

impl std::fmt::Display for TunedDecision {
    /// `threshold 0.350, NMS window ±2; validation Miou 0.6123 (at >= 0.5: 0.5011)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.decision.objective.name();
        let value = |v: f64| {
            if v.is_nan() {
                "no value (no boundary found)".to_string()
            } else {
                format!("{v:.4}")
            }
        };
        write!(
            f,
            "{}; validation {name} {} (at >= 0.5: {})",
            self.decision,
            value(self.value),
            value(self.reference_value)
        )
    }
}

impl std::fmt::Display for Decision {
    /// `threshold 0.35, NMS ±2, scenes ≥ 3 shots` (peak picking only when on).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "threshold {:.3}", self.threshold)?;
        if self.nms_window > 0 {
            write!(f, ", NMS window ±{}", self.nms_window)?;
        }
        if self.min_scene_len > 1 {
            write!(f, ", scenes of at least {} shots", self.min_scene_len)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nms_keeps_local_peaks_only() {
        let d = Decision {
            threshold: 0.3,
            nms_window: 2,
            ..Decision::default()
        };
        let s = [0.1, 0.6, 0.7, 0.2, 0.1, 0.1, 0.4, 0.1];
        let b = d.boundaries(&s);
        assert_eq!(b, [false, false, true, false, false, false, true, false]);
    }

    #[test]
    fn min_scene_length_accepts_by_decreasing_score() {
        let d = Decision {
            threshold: 0.5,
            min_scene_len: 3,
            ..Decision::default()
        };
        // 9 transitions, 10 shots. 0.9 at t=4 first; t=5 (scene of 1 shot) refused; t=1 gives
        // a first scene of 2 shots: refused; t=7 leaves 3 and 2 shots: refused.
        let s = [0.1, 0.8, 0.1, 0.1, 0.9, 0.7, 0.1, 0.6, 0.1];
        let b = d.boundaries(&s);
        let kept: Vec<usize> = (0..s.len()).filter(|&t| b[t]).collect();
        assert_eq!(kept, [4]);
        let d2 = Decision {
            min_scene_len: 2,
            ..d
        };
        let b2 = d2.boundaries(&s);
        let kept2: Vec<usize> = (0..s.len()).filter(|&t| b2[t]).collect();
        assert_eq!(kept2, [1, 4, 7]);
    }

    #[test]
    fn a_tuning_without_any_value_reads_back_from_json() {
        // No score reaches any threshold of the grid: no boundary is ever found, so every
        // decision's F1 is 0/0.
        let truth = [false, true, false, false, true, false];
        let scores = [0.0f32; 6];
        let frames: Vec<i64> = (0..7).map(|i| i * 10).collect();
        let movie = MovieInput {
            imdb_id: "tt0000001",
            ground_truth: &truth,
            scores: (&scores[..]).into(),
            shot_end_frame: &frames,
        };
        let tuned = tune(&[movie], Objective::F1, &DecisionGrid::default()).unwrap();
        assert!(
            tuned.value.is_nan() && tuned.reference_value.is_nan(),
            "{tuned:?}"
        );
        assert!(tuned.decision.is_reference());
        let text = serde_json::to_string(&tuned).unwrap();
        let back: TunedDecision = serde_json::from_str(&text).unwrap();
        assert_eq!(back.decision, tuned.decision);
        assert!(back.value.is_nan() && back.reference_value.is_nan());
    }

    #[test]
    fn apply_reproduces_the_decision_at_one_half() {
        let s: Vec<f32> = (0..200)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        for d in [
            Decision {
                threshold: 0.3,
                ..Decision::default()
            },
            Decision {
                threshold: 0.8,
                nms_window: 3,
                min_scene_len: 4,
                ..Decision::default()
            },
            Decision {
                threshold: 0.05,
                nms_window: 1,
                ..Decision::default()
            },
        ] {
            let applied = d.apply(&s);
            let at_half: Vec<bool> = applied.iter().map(|&x| x >= 0.5).collect();
            assert_eq!(at_half, d.boundaries(&s), "{d:?}");
        }
    }
}
