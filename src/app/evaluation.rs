//! Metrics off the UI thread: a worker that scores at the current threshold (the newest
//! request wins; stale ones are skipped) and sweeps over thresholds for the curves.

use eframe::egui;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::data::Movie;
use crate::eval::{Metrics, MovieInput, evaluate};

use super::jobs::{JobEvent, Reporter};
use super::sources::PredictionSource;

/// One source's scores lined up with the movies of a folder.
#[derive(Clone)]
pub struct ScoreSet {
    pub movies: Arc<Vec<Movie>>,
    pub scores: Vec<Option<Arc<[f32]>>>,
}

impl ScoreSet {
    pub fn new(movies: Arc<Vec<Movie>>, source: &PredictionSource) -> Self {
        let scores = movies
            .iter()
            .map(|m| source.scores_for(&m.imdb_id).cloned())
            .collect();
        ScoreSet { movies, scores }
    }

    /// The movies that can be scored (ground truth, end frames and scores present), as
    /// metric inputs in folder order, with their indices.
    pub fn inputs(&self) -> (Vec<MovieInput<'_>>, Vec<usize>) {
        let mut inputs = Vec::with_capacity(self.movies.len());
        let mut idx = Vec::with_capacity(self.movies.len());
        for (i, (m, s)) in self.movies.iter().zip(&self.scores).enumerate() {
            if let (Some(gt), Some(ends), Some(scores)) = (&m.ground_truth, &m.shot_end_frame, s) {
                inputs.push(MovieInput {
                    imdb_id: &m.imdb_id,
                    ground_truth: gt,
                    scores,
                    shot_end_frame: ends,
                });
                idx.push(i);
            }
        }
        (inputs, idx)
    }
}

/// What a metric result was computed for; the UI asks again when its key differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsKey {
    pub data: u64,
    pub sources: u64,
    pub threshold_bits: u32,
}

/// The metrics at one threshold.
#[derive(Debug, Clone)]
pub struct ThresholdMetrics {
    pub key: MetricsKey,
    pub threshold: f32,
    pub result: Result<Metrics, String>,
    /// Indices of the movies scored (the others lack ground truth, end frames or scores).
    pub scored: Vec<usize>,
}

impl ThresholdMetrics {
    pub fn compute(key: MetricsKey, set: &ScoreSet, threshold: f32) -> Self {
        let (inputs, scored) = set.inputs();
        let result = guarded(|| evaluate(&inputs, threshold).map_err(|e| e.to_string()));
        ThresholdMetrics {
            key,
            threshold,
            result,
            scored,
        }
    }
}

/// Run `f`, turning a panic into an error message: a broken metric must not take the
/// window down.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(format!("evaluation failed: {msg}"))
    })
}

struct Request {
    key: MetricsKey,
    set: ScoreSet,
    threshold: f32,
    ctx: Option<egui::Context>,
}

/// A long-lived thread scoring at the latest requested threshold.
pub struct MetricsWorker {
    tx: Sender<Request>,
}

impl MetricsWorker {
    pub fn start(events: Sender<JobEvent>) -> Self {
        let (tx, rx) = channel::<Request>();
        // If the thread cannot start, requests go nowhere and the panel keeps saying
        // "computing"; the app stays usable.
        let _ = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || worker_loop(&rx, &events));
        MetricsWorker { tx }
    }

    pub fn request(
        &self,
        key: MetricsKey,
        set: ScoreSet,
        threshold: f32,
        ctx: Option<egui::Context>,
    ) {
        let _ = self.tx.send(Request {
            key,
            set,
            threshold,
            ctx,
        });
    }
}

fn worker_loop(rx: &Receiver<Request>, events: &Sender<JobEvent>) {
    while let Ok(mut req) = rx.recv() {
        // Only the newest request matters: the threshold may have moved many times.
        while let Ok(newer) = rx.try_recv() {
            req = newer;
        }
        let result = ThresholdMetrics::compute(req.key, &req.set, req.threshold);
        if events.send(JobEvent::Metrics(result)).is_err() {
            return;
        }
        if let Some(ctx) = &req.ctx {
            ctx.request_repaint();
        }
    }
}

/// What a sweep was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepKey {
    pub data: u64,
    pub sources: u64,
}

/// F1 and Miou against threshold, and the precision-recall curve, of all scored movies.
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub key: SweepKey,
    pub thresholds: Vec<f32>,
    pub f1: Vec<f64>,
    pub miou: Vec<f64>,
    /// (recall, precision) points from the highest threshold to the lowest.
    pub pr_curve: Vec<[f64; 2]>,
    pub best_f1: Option<(f32, f64)>,
    pub best_miou: Option<(f32, f64)>,
    pub error: Option<String>,
}

/// Thresholds of the sweep: 0.00, 0.01, ..., 1.00 (as f32, like the CLI's).
pub fn sweep_thresholds() -> Vec<f32> {
    (0..=100).map(|i| i as f32 / 100.0).collect()
}

/// Run a sweep, reporting progress; returns early (without a result) when cancelled.
pub fn run_sweep(key: SweepKey, set: &ScoreSet, reporter: &Reporter) -> Option<SweepResult> {
    let (inputs, _) = set.inputs();
    let thresholds = sweep_thresholds();
    let mut f1 = Vec::with_capacity(thresholds.len());
    let mut miou = Vec::with_capacity(thresholds.len());
    let mut error = None;
    for (i, &t) in thresholds.iter().enumerate() {
        if reporter.cancelled() {
            return None;
        }
        reporter.progress(i, thresholds.len(), format!("threshold {t:.2}"));
        match guarded(|| evaluate(&inputs, t).map_err(|e| e.to_string())) {
            Ok(m) => {
                f1.push(m.f1);
                miou.push(m.miou);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let pr_curve = pr_curve(&inputs, 512);
    let (thresholds, f1, miou) = if error.is_some() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        (thresholds, f1, miou)
    };
    Some(SweepResult {
        key,
        best_f1: best(&thresholds, &f1),
        best_miou: best(&thresholds, &miou),
        thresholds,
        f1,
        miou,
        pr_curve,
        error,
    })
}

/// The threshold with the highest value (NaN ignored; the lowest threshold wins ties).
pub fn best(thresholds: &[f32], values: &[f64]) -> Option<(f32, f64)> {
    thresholds
        .iter()
        .zip(values)
        .filter(|(_, v)| !v.is_nan())
        .fold(None, |acc: Option<(f32, f64)>, (&t, &v)| match acc {
            Some((_, bv)) if bv >= v => acc,
            _ => Some((t, v)),
        })
}

/// Precision-recall points over all transitions of `inputs` pooled, one per distinct score
/// (as sklearn's `precision_recall_curve`), thinned to at most `max_points`.
pub fn pr_curve(inputs: &[MovieInput<'_>], max_points: usize) -> Vec<[f64; 2]> {
    let mut pairs: Vec<(f32, bool)> = inputs
        .iter()
        .flat_map(|m| m.scores.iter().copied().zip(m.ground_truth.iter().copied()))
        .collect();
    let positives = pairs.iter().filter(|p| p.1).count();
    if positives == 0 || pairs.is_empty() {
        return Vec::new();
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    for (i, &(score, truth)) in pairs.iter().enumerate() {
        if truth {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = pairs.get(i + 1).is_none_or(|next| next.0 != score);
        if last_of_tie {
            points.push([tp as f64 / positives as f64, tp as f64 / (tp + fp) as f64]);
        }
    }
    thin(points, max_points)
}

/// Keep about `max_points` evenly spaced points, always keeping the first and last.
fn thin(points: Vec<[f64; 2]>, max_points: usize) -> Vec<[f64; 2]> {
    if points.len() <= max_points || max_points < 2 {
        return points;
    }
    let step = (points.len() - 1) as f64 / (max_points - 1) as f64;
    (0..max_points)
        .map(|k| points[((k as f64 * step).round() as usize).min(points.len() - 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_curve_steps_through_distinct_scores() {
        let gt = [true, false, true, false];
        let scores = [0.9, 0.8, 0.8, 0.1];
        let ends = [9, 19, 29, 39, 49];
        let input = MovieInput {
            imdb_id: "tt1",
            ground_truth: &gt,
            scores: &scores,
            shot_end_frame: &ends,
        };
        let c = pr_curve(&[input], 100);
        // 0.9: tp 1 fp 0; 0.8 (tie of two): tp 2 fp 1; 0.1: tp 2 fp 2.
        assert_eq!(c, vec![[0.5, 1.0], [1.0, 2.0 / 3.0], [1.0, 0.5]]);
    }

    #[test]
    fn best_skips_nan_and_prefers_the_lowest_threshold_on_ties() {
        let t = [0.1, 0.2, 0.3, 0.4];
        assert_eq!(best(&t, &[0.5, f64::NAN, 0.7, 0.7]), Some((0.3, 0.7)));
        assert_eq!(best(&t, &[f64::NAN; 4]), None);
    }

    #[test]
    fn thin_keeps_ends() {
        let pts: Vec<[f64; 2]> = (0..1000).map(|i| [i as f64, 0.0]).collect();
        let t = thin(pts, 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0][0], 0.0);
        assert_eq!(t[9][0], 999.0);
    }
}
