//! Prediction sources: every set of per-transition scores the app can show and score.
//!
//! The file's own `scene_transition_boundary_prediction` is the first source; trained and
//! loaded models add theirs through [`SourceRegistry::add`]. A source may carry a decision
//! step ([`SourceDecision`]): when applied, its boundaries and threshold metrics come from
//! [`Decision::apply`], as `scenelab predict` writes them. A model's source carries its split
//! ([`SourceSplit`]): which movies it trained, validated and was tested on.

use eframe::egui;
use std::collections::HashMap;
use std::sync::Arc;

use egui::Color32;

use super::scope::{Role, SourceSplit};
use crate::data::{Movie, Scores};
use crate::train::decision::Decision;

/// A source's decision step: how its scores become boundaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceDecision {
    /// The decision in use (the user may have changed it).
    pub decision: Decision,
    /// The decision as tuned on validation movies (what Reset goes back to); `None` for a
    /// decision the user added.
    pub tuned: Option<Decision>,
    /// Off: plain `>= threshold` on the raw scores, as without a decision.
    pub applied: bool,
}

impl SourceDecision {
    /// A model's tuned decision, applied.
    pub fn tuned(decision: Decision) -> Self {
        SourceDecision {
            decision,
            tuned: Some(decision),
            applied: true,
        }
    }
}

/// What a decision is, as a cache key (the threshold by its bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionKey {
    pub threshold_bits: u32,
    pub nms_window: usize,
    pub min_scene_len: usize,
}

impl From<&Decision> for DecisionKey {
    fn from(d: &Decision) -> Self {
        DecisionKey {
            threshold_bits: d.threshold.to_bits(),
            nms_window: d.nms_window,
            min_scene_len: d.min_scene_len,
        }
    }
}

/// Name of the source holding each file's own predictions.
pub const PROVIDED: &str = "provided";

/// One set of scores: a name, a colour, and per movie id one score per transition.
#[derive(Debug, Clone)]
pub struct PredictionSource {
    pub name: String,
    pub colour: Color32,
    /// Keyed by imdb id, at the precision of their source (a file's float64 predictions stay
    /// float64). Shared with the metric workers without copying.
    pub scores: HashMap<String, Arc<Scores>>,
    /// Drawn in the timeline (the plot legend toggles it).
    pub visible: bool,
    /// The decision step, for a model that has one or when the user added one.
    pub decision: Option<SourceDecision>,
    /// The model's split; `None` for scores that come without one (the file's own).
    pub split: Option<Arc<SourceSplit>>,
}

impl PredictionSource {
    pub fn new(name: impl Into<String>, colour: Color32) -> Self {
        PredictionSource {
            name: name.into(),
            colour,
            scores: HashMap::new(),
            visible: true,
            decision: None,
            split: None,
        }
    }

    /// What the movie `imdb_id` was to this source's model (`None`: the source has no split).
    pub fn role(&self, imdb_id: &str) -> Option<Role> {
        self.split.as_ref().map(|s| s.role(imdb_id))
    }

    /// The decision to score and draw with, when there is one and it is applied.
    pub fn applied_decision(&self) -> Option<&Decision> {
        self.decision
            .as_ref()
            .filter(|d| d.applied)
            .map(|d| &d.decision)
    }

    /// The file's own predictions of each movie that has them.
    pub fn provided(movies: &[Movie]) -> Self {
        let mut s = PredictionSource::new(PROVIDED, palette(0));
        for m in movies {
            if let Some(p) = &m.prediction {
                s.scores.insert(m.imdb_id.clone(), Arc::new(p.clone()));
            }
        }
        s
    }

    /// Another set of labels as a source (`0`/`1` scores: a boundary scores 1): scored
    /// against the open folder's labels, it measures how far two annotations agree. Only
    /// movies of `open` with the same number of transitions are taken.
    pub fn from_labels(
        name: impl Into<String>,
        colour: Color32,
        labels: &[Movie],
        open: &[Movie],
    ) -> Self {
        let mut s = PredictionSource::new(name, colour);
        for m in labels {
            let Some(gt) = &m.ground_truth else { continue };
            if open
                .iter()
                .any(|o| o.imdb_id == m.imdb_id && o.n_transitions() == gt.len())
            {
                let v: Vec<f32> = gt.iter().map(|&b| f32::from(u8::from(b))).collect();
                s.scores
                    .insert(m.imdb_id.clone(), Arc::new(Scores::from_f32(&v)));
            }
        }
        s
    }

    pub fn scores_for(&self, imdb_id: &str) -> Option<&Arc<Scores>> {
        self.scores.get(imdb_id)
    }
}

/// Distinct, readable colours on a dark background, in the order sources are added.
pub fn palette(i: usize) -> Color32 {
    const COLOURS: [Color32; 8] = [
        Color32::from_rgb(80, 160, 255),
        Color32::from_rgb(230, 120, 230),
        Color32::from_rgb(250, 200, 60),
        Color32::from_rgb(90, 220, 210),
        Color32::from_rgb(255, 140, 90),
        Color32::from_rgb(170, 150, 255),
        Color32::from_rgb(200, 230, 120),
        Color32::from_rgb(240, 240, 240),
    ];
    COLOURS[i % COLOURS.len()]
}

/// All sources, and which one the metrics and the predicted boundaries use.
#[derive(Debug, Clone, Default)]
pub struct SourceRegistry {
    sources: Vec<PredictionSource>,
    /// Index of the source that metrics, predicted scenes and boundary classes use.
    pub selected: usize,
    /// Bumped on every change, so caches keyed on it know to rebuild.
    generation: u64,
}

impl SourceRegistry {
    /// A registry holding the provided predictions of `movies` (if any movie has them).
    pub fn for_movies(movies: &[Movie]) -> Self {
        let mut r = SourceRegistry::default();
        let provided = PredictionSource::provided(movies);
        if !provided.scores.is_empty() {
            r.add(provided);
        }
        r
    }

    /// Add a source, or replace the one with the same name. Returns its index.
    pub fn add(&mut self, source: PredictionSource) -> usize {
        self.generation += 1;
        if let Some(i) = self.sources.iter().position(|s| s.name == source.name) {
            self.sources[i] = source;
            i
        } else {
            self.sources.push(source);
            self.sources.len() - 1
        }
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&PredictionSource> {
        self.sources.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &PredictionSource> {
        self.sources.iter()
    }

    pub fn selected_source(&self) -> Option<&PredictionSource> {
        self.sources.get(self.selected)
    }

    pub fn select(&mut self, i: usize) {
        if i < self.sources.len() && i != self.selected {
            self.selected = i;
            self.generation += 1;
        }
    }

    pub fn set_visible(&mut self, i: usize, visible: bool) {
        if let Some(s) = self.sources.get_mut(i) {
            s.visible = visible;
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The selected source's applied decision.
    pub fn selected_decision(&self) -> Option<&Decision> {
        self.selected_source()?.applied_decision()
    }

    /// How the selected source's boundaries are drawn, for a caption: "NAME with its
    /// decision (…)" or "NAME at threshold T"; `None` without a selected source.
    pub fn selected_description(&self, threshold: f32) -> Option<String> {
        let source = self.selected_source()?;
        Some(match self.selected_decision() {
            Some(d) => format!("{} with its decision ({d})", source.name),
            None => format!("{} at threshold {threshold:.3}", source.name),
        })
    }

    /// Set (or remove) source `i`'s decision. Metric keys hold the selected source's
    /// decision; another source's change bumps the generation so comparisons recompute.
    pub fn set_decision(&mut self, i: usize, decision: Option<SourceDecision>) {
        let Some(s) = self.sources.get_mut(i) else {
            return;
        };
        if s.decision != decision {
            s.decision = decision;
            if i != self.selected {
                self.generation += 1;
            }
        }
    }

    /// The threshold moved: an applied decision of the selected source moves with it (one
    /// threshold on screen, whichever control set it).
    pub fn follow_threshold(&mut self, threshold: f32) {
        let i = self.selected;
        if let Some(mut d) = self.get(i).and_then(|s| s.decision)
            && d.applied
        {
            d.decision.threshold = threshold;
            self.set_decision(i, Some(d));
        }
    }

    /// Index of the source named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.sources.iter().position(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(id: &str, prediction: Option<Vec<f32>>) -> Movie {
        let n = prediction.as_ref().map_or(3, |p| p.len() + 1);
        Movie {
            imdb_id: id.into(),
            n_shots: n,
            features: Default::default(),
            ground_truth: Some(vec![false; n - 1]),
            prediction: prediction.map(|p| Scores::from_f32(&p)),
            shot_end_frame: Some((0..n as i64).map(|i| i * 10 + 9).collect()),
            uncertain: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn provided_source_holds_each_movie_with_predictions() {
        let movies = [
            movie("tt1", Some(vec![0.1, 0.9])),
            movie("tt2", None),
            movie("tt3", Some(vec![0.5])),
        ];
        let r = SourceRegistry::for_movies(&movies);
        assert_eq!(r.len(), 1);
        let s = r.selected_source().unwrap();
        assert_eq!(s.name, PROVIDED);
        assert_eq!(s.scores["tt1"].to_f32_vec(), [0.1, 0.9]);
        assert!(s.scores_for("tt2").is_none());
        assert_eq!(s.scores.len(), 2);
    }

    #[test]
    fn adding_a_source_with_the_same_name_replaces_it_and_bumps_generation() {
        let mut r = SourceRegistry::default();
        let g0 = r.generation();
        assert_eq!(r.add(PredictionSource::new("a", palette(0))), 0);
        assert_eq!(r.add(PredictionSource::new("b", palette(1))), 1);
        assert_eq!(r.add(PredictionSource::new("a", palette(2))), 0);
        assert_eq!(r.len(), 2);
        assert_eq!(r.get(0).unwrap().colour, palette(2));
        assert!(r.generation() > g0);
        r.select(1);
        assert_eq!(r.selected_source().unwrap().name, "b");
        r.select(7);
        assert_eq!(r.selected, 1);
    }

    #[test]
    fn an_applied_decision_of_the_selected_source_follows_the_threshold() {
        let mut r = SourceRegistry::default();
        r.add(PredictionSource::new("a", palette(0)));
        r.add(PredictionSource::new("b", palette(1)));
        let d = Decision {
            threshold: 0.3,
            nms_window: 2,
            ..Decision::default()
        };
        r.set_decision(0, Some(SourceDecision::tuned(d)));
        assert_eq!(r.selected_decision(), Some(&d));
        r.follow_threshold(0.7);
        assert_eq!(r.selected_decision().unwrap().threshold, 0.7);
        assert_eq!(r.get(0).unwrap().decision.unwrap().tuned, Some(d));
        // Not applied: the threshold is the app's alone.
        let mut off = r.get(0).unwrap().decision.unwrap();
        off.applied = false;
        r.set_decision(0, Some(off));
        assert_eq!(r.selected_decision(), None);
        r.follow_threshold(0.2);
        assert_eq!(r.get(0).unwrap().decision.unwrap().decision.threshold, 0.7);
        // Another source's change bumps the generation (comparisons recompute).
        let g = r.generation();
        r.set_decision(1, Some(SourceDecision::tuned(d)));
        assert!(r.generation() > g);
    }
}
