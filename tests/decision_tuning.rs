//! The decision step: tuning on validation predictions never loses to the reference's 0.5,
//! peak picking helps where scores are smeared over neighbours, and `apply` carries the
//! decision through the reference's fixed `>= 0.5`.

use proptest::prelude::*;
use scenelab::eval::{MovieInput, evaluate};
use scenelab::train::decision::{Decision, DecisionGrid, Objective, objective_value, tune};

struct Case {
    id: String,
    truth: Vec<bool>,
    scores: Vec<f32>,
    frames: Vec<i64>,
}

impl Case {
    fn input(&self) -> MovieInput<'_> {
        MovieInput {
            imdb_id: &self.id,
            ground_truth: &self.truth,
            scores: (&self.scores).into(),
            shot_end_frame: &self.frames,
        }
    }
}

/// Movies with a boundary every `scene` shots; `score(t, is_boundary, distance to the nearest
/// boundary)` gives each transition's score.
fn cases(n_movies: usize, score: impl Fn(usize, bool, usize) -> f32) -> Vec<Case> {
    (0..n_movies)
        .map(|k| {
            let transitions = 150 + 17 * k;
            let scene = 9 + k % 4;
            let truth: Vec<bool> = (0..transitions).map(|t| t % scene == scene - 1).collect();
            let boundaries: Vec<usize> = (0..transitions).filter(|&t| truth[t]).collect();
            let scores = (0..transitions)
                .map(|t| {
                    let d = boundaries
                        .iter()
                        .map(|&b| b.abs_diff(t))
                        .min()
                        .unwrap_or(99);
                    score(t + k, truth[t], d)
                })
                .collect();
            Case {
                id: format!("tt{k:07}"),
                truth,
                scores,
                frames: (0..=transitions as i64).map(|i| i * 24 + 5).collect(),
            }
        })
        .collect()
}

fn wobble(t: usize) -> f32 {
    ((t * 37) % 11) as f32 / 200.0
}

#[test]
fn a_low_threshold_wins_when_every_score_is_below_one_half() {
    // Boundaries score about 0.35, the rest about 0.1: nothing reaches 0.5.
    let cases = cases(5, |t, b, _| {
        if b {
            0.33 + wobble(t)
        } else {
            0.08 + wobble(t)
        }
    });
    let inputs: Vec<MovieInput> = cases.iter().map(Case::input).collect();
    let tuned = tune(&inputs, Objective::Miou, &DecisionGrid::thresholds_only()).unwrap();
    let at_half = evaluate(&inputs, 0.5).unwrap().miou;
    assert_eq!(tuned.reference_value, at_half);
    assert!(tuned.value > at_half + 0.2, "{tuned:?}");
    assert!(tuned.decision.threshold < 0.33, "{tuned:?}");
    assert_eq!(
        objective_value(&inputs, &tuned.decision, Objective::Miou).unwrap(),
        tuned.value
    );
}

#[test]
fn peak_picking_wins_when_scores_spill_onto_neighbours() {
    // Boundaries score 0.55 to 0.95 and their neighbours 0.60 to 0.65: no threshold separates
    // them, but a boundary is usually the peak of its neighbourhood.
    let cases = cases(5, |t, b, d| match (b, d) {
        (true, _) => 0.55 + ((t * 13) % 9) as f32 / 20.0,
        (false, 1) => 0.6 + wobble(t) / 2.0,
        _ => 0.1 + wobble(t),
    });
    let inputs: Vec<MovieInput> = cases.iter().map(Case::input).collect();
    let thresholds = tune(&inputs, Objective::Miou, &DecisionGrid::thresholds_only()).unwrap();
    let full = tune(&inputs, Objective::Miou, &DecisionGrid::default()).unwrap();
    assert!(
        full.value > thresholds.value + 0.02,
        "{full:?} vs {thresholds:?}"
    );
    assert!(full.decision.suppresses(), "{full:?}");
    assert!(full.value > full.reference_value + 0.05, "{full:?}");

    // F1 can be chosen instead, and also never loses to 0.5.
    let f1 = tune(&inputs, Objective::F1, &DecisionGrid::default()).unwrap();
    assert_eq!(f1.decision.objective, Objective::F1);
    assert!(f1.value >= f1.reference_value);
    assert!(f1.value > 0.9, "{f1:?}");
}

#[test]
fn tuning_keeps_the_reference_when_nothing_is_better() {
    // Perfectly separated at 0.5: the reference rule is already the best.
    let cases = cases(3, |_, b, _| if b { 0.9 } else { 0.1 });
    let inputs: Vec<MovieInput> = cases.iter().map(Case::input).collect();
    let tuned = tune(&inputs, Objective::Miou, &DecisionGrid::default()).unwrap();
    assert_eq!(tuned.value, tuned.reference_value);
    assert!(tuned.decision.is_reference(), "{tuned:?}");
}

#[test]
fn decisions_survive_a_json_round_trip() {
    let d = Decision {
        threshold: 0.35,
        nms_window: 2,
        min_scene_len: 3,
        objective: Objective::F1,
    };
    let text = serde_json::to_string(&d).unwrap();
    assert_eq!(serde_json::from_str::<Decision>(&text).unwrap(), d);
    // Missing fields take the reference rule's values.
    assert_eq!(
        serde_json::from_str::<Decision>("{}").unwrap(),
        Decision::default()
    );
}

fn scores_strategy() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(0f32..=1f32, 2..300)
}

proptest! {
    #[test]
    fn the_default_decision_is_the_identity(scores in scores_strategy()) {
        let d = Decision::default();
        prop_assert_eq!(d.apply(&scores), scores.clone());
        let at_half: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();
        prop_assert_eq!(d.boundaries(&scores), at_half);
    }

    #[test]
    fn applied_scores_reproduce_the_decision_at_one_half(
        scores in scores_strategy(),
        threshold in 0.01f32..0.99,
        nms_window in 0usize..5,
        min_scene_len in 0usize..6,
    ) {
        let d = Decision { threshold, nms_window, min_scene_len, objective: Objective::Miou };
        let applied = d.apply(&scores);
        let at_half: Vec<bool> = applied.iter().map(|&s| s >= 0.5).collect();
        prop_assert_eq!(at_half, d.boundaries(&scores));
        prop_assert!(applied.iter().all(|s| (0.0..=1.0).contains(s)));
    }

    #[test]
    fn a_pure_threshold_keeps_the_ranking(
        scores in scores_strategy(),
        threshold in 0.01f32..0.99,
    ) {
        let d = Decision { threshold, ..Decision::default() };
        let applied = d.apply(&scores);
        for i in 0..scores.len() {
            for j in 0..scores.len() {
                if scores[i] < scores[j] {
                    prop_assert!(applied[i] <= applied[j]);
                }
            }
        }
    }
}
