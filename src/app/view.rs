//! Derived data of the selected movie, cached and rebuilt only when its inputs change:
//! shot positions on the x axis, ground-truth and predicted boundaries, boundary classes.
//! Drawing reads from here and does work proportional to what is visible.

use std::ops::Range;

use super::sources::DecisionKey;
use crate::data::{Movie, Scores};
use crate::train::decision::Decision;

/// What the timeline's x axis measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XAxis {
    /// Shot index: shot `s` spans `[s, s + 1)`.
    Shot,
    /// Seconds, from `shot_end_frame` at the user's frame rate.
    Time,
}

/// Inputs that decide the geometry.
#[derive(Debug, Clone, Copy, PartialEq)]
struct GeometryKey {
    data: u64,
    movie: usize,
    axis: XAxis,
    fps: f64,
}

/// Inputs that decide the predicted boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PredictionKey {
    sources: u64,
    threshold_bits: u32,
    decision: Option<DecisionKey>,
}

/// The selected movie, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct MovieView {
    geometry: Option<GeometryKey>,
    prediction: Option<PredictionKey>,
    /// The axis actually used (time falls back to shots without end frames).
    pub axis: Option<XAxis>,
    /// `n_shots + 1` positions: shot `s` spans `edges[s]..edges[s + 1]`; transition `i`
    /// (after shot `i`) sits at `edges[i + 1]`.
    pub edges: Vec<f64>,
    pub gt_boundaries: Vec<usize>,
    /// Transitions whose selected-source score is at or above the threshold (or, with a
    /// decision, the decision's boundaries).
    pub predicted: Vec<usize>,
    /// Whether the selected source has usable scores for this movie; without them nothing is
    /// predicted, so no boundary is called correct, missed or false.
    pub has_scores: bool,
    /// Ground-truth boundaries that are predicted.
    pub correct: Vec<usize>,
    /// Ground-truth boundaries that are not predicted.
    pub missed: Vec<usize>,
    /// Predicted boundaries that are not in the ground truth.
    pub false_alarms: Vec<usize>,
    /// Every ground-truth or predicted boundary, sorted: where left/right jump to.
    pub events: Vec<usize>,
    /// How many times anything was rebuilt (for tests of the caching).
    pub rebuilds: u64,
}

impl MovieView {
    /// Bring the cache up to date; cheap when nothing changed. With `decision`, predicted
    /// boundaries are [`Decision::boundaries`] of the scores and `threshold` is unused.
    #[allow(clippy::too_many_arguments)]
    pub fn refresh(
        &mut self,
        data: u64,
        movie_index: usize,
        movie: &Movie,
        axis: XAxis,
        fps: f64,
        sources: u64,
        scores: Option<&Scores>,
        threshold: f32,
        decision: Option<&Decision>,
    ) {
        let gkey = GeometryKey {
            data,
            movie: movie_index,
            axis,
            fps,
        };
        let geometry_changed = self.geometry != Some(gkey);
        if geometry_changed {
            self.build_geometry(movie, axis, fps);
            self.geometry = Some(gkey);
        }
        let pkey = PredictionKey {
            sources,
            threshold_bits: threshold.to_bits(),
            decision: decision.map(DecisionKey::from),
        };
        if geometry_changed || self.prediction != Some(pkey) {
            self.build_prediction(movie, scores, threshold, decision);
            self.prediction = Some(pkey);
        }
    }

    /// Forget everything (a new folder was opened).
    pub fn clear(&mut self) {
        let rebuilds = self.rebuilds;
        *self = MovieView {
            rebuilds,
            ..MovieView::default()
        };
    }

    fn build_geometry(&mut self, movie: &Movie, axis: XAxis, fps: f64) {
        self.rebuilds += 1;
        let n = movie.n_shots;
        let ends = movie
            .shot_end_frame
            .as_ref()
            .filter(|e| e.len() == n && fps > 0.0);
        self.edges.clear();
        self.edges.reserve(n + 1);
        match (axis, ends) {
            (XAxis::Time, Some(ends)) => {
                self.edges.push(0.0);
                self.edges
                    .extend(ends.iter().map(|&e| (e as f64 + 1.0) / fps));
                self.axis = Some(XAxis::Time);
            }
            _ => {
                self.edges.extend((0..=n).map(|s| s as f64));
                self.axis = Some(XAxis::Shot);
            }
        }
        self.gt_boundaries = movie.ground_truth.as_ref().map_or_else(Vec::new, |g| {
            g.iter()
                .enumerate()
                .filter_map(|(i, &b)| b.then_some(i))
                .collect()
        });
    }

    fn build_prediction(
        &mut self,
        movie: &Movie,
        scores: Option<&Scores>,
        threshold: f32,
        decision: Option<&Decision>,
    ) {
        self.rebuilds += 1;
        let scores = scores.filter(|s| s.len() == movie.n_transitions());
        let flags: Vec<bool> = match (scores, decision) {
            (Some(s), Some(d)) => d.boundaries(&s.to_f32_vec()),
            (Some(s), None) => {
                // Compared at the scores' precision, as the metrics are.
                let t = s.precision().threshold(f64::from(threshold));
                s.values().iter().map(|&p| p >= t).collect()
            }
            (None, _) => Vec::new(),
        };
        self.has_scores = scores.is_some();
        self.predicted = flags
            .iter()
            .enumerate()
            .filter_map(|(i, &b)| b.then_some(i))
            .collect();
        let gt = movie.ground_truth.as_deref().unwrap_or(&[]);
        let is_predicted = |i: usize| flags.get(i).copied().unwrap_or(false);
        self.correct.clear();
        self.missed.clear();
        let has_scores = self.has_scores;
        for &i in self.gt_boundaries.iter().filter(|_| has_scores) {
            if is_predicted(i) {
                self.correct.push(i);
            } else {
                self.missed.push(i);
            }
        }
        self.false_alarms = self
            .predicted
            .iter()
            .copied()
            .filter(|&i| !gt.get(i).copied().unwrap_or(false))
            .collect();
        self.events = merge_sorted(&self.gt_boundaries, &self.predicted);
    }

    /// x of transition `i` (the end of shot `i`).
    pub fn transition_x(&self, i: usize) -> f64 {
        self.edges[i + 1]
    }

    /// The transition nearest to `x` (`None` for a movie of one shot).
    pub fn nearest_transition(&self, x: f64) -> Option<usize> {
        let n_transitions = self.edges.len().checked_sub(2).filter(|&n| n > 0)?;
        let xs = &self.edges[1..=n_transitions];
        let right = xs.partition_point(|&e| e < x);
        Some(match right {
            0 => 0,
            r if r == n_transitions => n_transitions - 1,
            r if (xs[r] - x) < (x - xs[r - 1]) => r,
            r => r - 1,
        })
    }

    /// The shot under `x`, if `x` falls inside the movie.
    pub fn shot_at(&self, x: f64) -> Option<usize> {
        let n = self.edges.len().checked_sub(1)?;
        if n == 0 || x < self.edges[0] || x >= self.edges[n] {
            return None;
        }
        Some(self.edges[1..].partition_point(|&e| e <= x).min(n - 1))
    }

    /// Transitions with x inside `[x0, x1]`, plus one on each side so lines reach the edge.
    pub fn visible_transitions(&self, x0: f64, x1: f64) -> Range<usize> {
        let n_transitions = self.edges.len().saturating_sub(2);
        if n_transitions == 0 {
            return 0..0;
        }
        let xs = &self.edges[1..=n_transitions];
        let start = xs.partition_point(|&x| x < x0).saturating_sub(1);
        let end = (xs.partition_point(|&x| x <= x1) + 1).min(n_transitions);
        start..end.max(start)
    }

    /// The next boundary event strictly right of `x` (or left, with `forward == false`).
    pub fn neighbour_event(&self, x: f64, forward: bool) -> Option<usize> {
        if forward {
            self.events
                .iter()
                .copied()
                .find(|&i| self.transition_x(i) > x + 1e-9)
        } else {
            self.events
                .iter()
                .rev()
                .copied()
                .find(|&i| self.transition_x(i) < x - 1e-9)
        }
    }

    /// Scenes as shot ranges `first..=last`, given the boundaries that end them.
    pub fn scenes(
        boundaries: &[usize],
        n_shots: usize,
    ) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut start = 0usize;
        let last = n_shots.saturating_sub(1);
        boundaries
            .iter()
            .map(move |&b| b.min(last))
            .chain(std::iter::once(last))
            .filter_map(move |end| {
                let s = start;
                start = end + 1;
                (end >= s).then_some((s, end))
            })
    }

    /// A score curve over `range` of transitions with at most about `max_points` points:
    /// when more transitions than that are visible, each bucket keeps its lowest and highest
    /// score (in x order) so no peak disappears when zoomed out.
    pub fn curve(&self, scores: &[f64], range: Range<usize>, max_points: usize) -> Vec<[f64; 2]> {
        let range = range.start.min(scores.len())..range.end.min(scores.len());
        let count = range.len();
        if count <= max_points.max(2) {
            return range.map(|i| [self.transition_x(i), scores[i]]).collect();
        }
        let buckets = (max_points / 2).max(1);
        let mut out = Vec::with_capacity(buckets * 2);
        for b in 0..buckets {
            let lo = range.start + b * count / buckets;
            let hi = range.start + (b + 1) * count / buckets;
            if lo >= hi {
                continue;
            }
            let (mut imin, mut imax) = (lo, lo);
            for i in lo..hi {
                if scores[i] < scores[imin] {
                    imin = i;
                }
                if scores[i] > scores[imax] {
                    imax = i;
                }
            }
            let (a, b) = if imin <= imax {
                (imin, imax)
            } else {
                (imax, imin)
            };
            out.push([self.transition_x(a), scores[a]]);
            if b != a {
                out.push([self.transition_x(b), scores[b]]);
            }
        }
        out
    }
}

/// The part of a sorted list of transitions that falls in `range` (binary search, so drawing
/// costs what is visible, not what the movie holds).
pub fn in_range<'a>(sorted: &'a [usize], range: &Range<usize>) -> &'a [usize] {
    let lo = sorted.partition_point(|&i| i < range.start);
    let hi = sorted.partition_point(|&i| i < range.end);
    &sorted[lo..hi.max(lo)]
}

fn merge_sorted(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                i += 1;
                j += 1;
                x
            }
            (Some(&x), Some(&y)) if x < y => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => break,
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie() -> Movie {
        // 6 shots, 5 transitions; boundaries after shots 1 and 3.
        Movie {
            imdb_id: "tt1".into(),
            n_shots: 6,
            features: Default::default(),
            ground_truth: Some(vec![false, true, false, true, false]),
            prediction: Some(Scores::from_f32(&[0.1, 0.9, 0.7, 0.2, 0.3])),
            shot_end_frame: Some(vec![23, 47, 71, 95, 119, 143]),
            uncertain: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn classes_follow_the_threshold() {
        let m = movie();
        let mut v = MovieView::default();
        v.refresh(
            1,
            0,
            &m,
            XAxis::Shot,
            24.0,
            1,
            m.prediction.as_ref(),
            0.5,
            None,
        );
        assert_eq!(v.gt_boundaries, vec![1, 3]);
        assert_eq!(v.predicted, vec![1, 2]);
        assert_eq!(v.correct, vec![1]);
        assert_eq!(v.missed, vec![3]);
        assert_eq!(v.false_alarms, vec![2]);
        assert_eq!(v.events, vec![1, 2, 3]);
        let builds = v.rebuilds;
        v.refresh(
            1,
            0,
            &m,
            XAxis::Shot,
            24.0,
            1,
            m.prediction.as_ref(),
            0.5,
            None,
        );
        assert_eq!(v.rebuilds, builds, "unchanged inputs must not rebuild");
        v.refresh(
            1,
            0,
            &m,
            XAxis::Shot,
            24.0,
            1,
            m.prediction.as_ref(),
            0.15,
            None,
        );
        assert_eq!(
            v.rebuilds,
            builds + 1,
            "a threshold change rebuilds predictions only"
        );
        assert_eq!(v.predicted, vec![1, 2, 3, 4]);
        assert_eq!(v.missed, Vec::<usize>::new());
        assert_eq!(v.false_alarms, vec![2, 4]);
    }

    #[test]
    fn a_decision_picks_the_predicted_boundaries() {
        let m = movie();
        let mut v = MovieView::default();
        let d = Decision {
            threshold: 0.15,
            nms_window: 1,
            ..Decision::default()
        };
        let s = m.prediction.as_ref();
        v.refresh(1, 0, &m, XAxis::Shot, 24.0, 1, s, 0.15, Some(&d));
        // Peaks within ±1 of the candidates 1..=4: 0.9 at 1 and 0.3 at 4.
        assert_eq!(v.predicted, vec![1, 4]);
        assert_eq!(v.correct, vec![1]);
        assert_eq!(v.missed, vec![3]);
        assert_eq!(v.false_alarms, vec![4]);
        let builds = v.rebuilds;
        let wider = Decision { nms_window: 3, ..d };
        v.refresh(1, 0, &m, XAxis::Shot, 24.0, 1, s, 0.15, Some(&wider));
        assert_eq!(v.rebuilds, builds + 1, "a decision change rebuilds");
        assert_eq!(v.predicted, vec![1]);
    }

    #[test]
    fn time_axis_uses_end_frames_and_shot_lookup_inverts_it() {
        let m = movie();
        let mut v = MovieView::default();
        v.refresh(1, 0, &m, XAxis::Time, 24.0, 1, None, 0.5, None);
        assert_eq!(v.axis, Some(XAxis::Time));
        assert_eq!(v.edges, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(v.transition_x(1), 2.0);
        assert_eq!(v.shot_at(0.0), Some(0));
        assert_eq!(v.shot_at(2.5), Some(2));
        assert_eq!(v.shot_at(5.99), Some(5));
        assert_eq!(v.shot_at(6.0), None);
        assert_eq!(v.shot_at(-0.1), None);
        let mut no_frames = m.clone();
        no_frames.shot_end_frame = None;
        v.refresh(2, 0, &no_frames, XAxis::Time, 24.0, 1, None, 0.5, None);
        assert_eq!(v.axis, Some(XAxis::Shot));
    }

    #[test]
    fn scenes_cover_every_shot_once() {
        let s: Vec<_> = MovieView::scenes(&[1, 3], 6).collect();
        assert_eq!(s, vec![(0, 1), (2, 3), (4, 5)]);
        let s: Vec<_> = MovieView::scenes(&[], 4).collect();
        assert_eq!(s, vec![(0, 3)]);
    }

    #[test]
    fn neighbour_events_jump_in_both_directions() {
        let m = movie();
        let mut v = MovieView::default();
        v.refresh(
            1,
            0,
            &m,
            XAxis::Shot,
            24.0,
            1,
            m.prediction.as_ref(),
            0.5,
            None,
        );
        // Transition i sits at x = i + 1.
        assert_eq!(v.neighbour_event(0.0, true), Some(1));
        assert_eq!(v.neighbour_event(2.0, true), Some(2));
        assert_eq!(v.neighbour_event(4.0, true), None);
        assert_eq!(v.neighbour_event(4.0, false), Some(2));
        assert_eq!(v.neighbour_event(2.0, false), None);
    }

    #[test]
    fn decimated_curve_keeps_peaks_and_stays_small() {
        let n = 10_001;
        let m = Movie {
            imdb_id: "tt2".into(),
            n_shots: n,
            features: Default::default(),
            ground_truth: None,
            prediction: None,
            shot_end_frame: None,
            uncertain: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
        };
        let mut scores = vec![0.1f64; n - 1];
        scores[4321] = 0.99;
        scores[777] = 0.0;
        let mut v = MovieView::default();
        v.refresh(1, 0, &m, XAxis::Shot, 24.0, 1, None, 0.5, None);
        let all = v.visible_transitions(0.0, n as f64);
        assert_eq!(all, 0..n - 1);
        let c = v.curve(&scores, all, 1000);
        assert!(c.len() <= 1000);
        assert!(c.iter().any(|p| p[1] == 0.99));
        assert!(c.iter().any(|p| p[1] == 0.0));
        assert!(c.windows(2).all(|w| w[0][0] <= w[1][0]));
        let zoomed = v.visible_transitions(100.0, 110.0);
        assert!(zoomed.len() <= 13, "{zoomed:?}");
        assert_eq!(v.curve(&scores, zoomed.clone(), 1000).len(), zoomed.len());
    }
}
