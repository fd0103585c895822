//! Metrics off the UI thread: a worker that ranks the movies once per set of scores
//! ([`Evaluator`]), sweeps thresholds for the curves, and then scores at the newest requested
//! threshold (stale ones are skipped) with the same code as `scenelab evaluate`. A source
//! with an applied decision is scored on its decided scores ([`Decision::apply`]) at `>= 0.5`,
//! exactly as `scenelab evaluate` scores what `scenelab predict` writes; the sweep and its
//! curves stay on the raw scores.
//!
//! Totals, the sweep and the pooled curve are over the movies of a [`Scope`] (by default a
//! model's test movies); the movies outside it are still scored one by one, so each movie's
//! own numbers can be shown (marked when the model trained on it).

use eframe::egui;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::data::{Movie, Scores};
use crate::eval::{Evaluator, Metrics, MovieInput, MovieMetrics, PrCurve, Sweep, evaluate};
use crate::train::decision::Decision;

use crate::app::scope::{Role, Scope};
use crate::app::sources::{DecisionKey, PredictionSource};

/// Which movies of a folder are in a scope, by folder index (`None`: all of them).
pub type ScopeMask = Option<Arc<[bool]>>;

/// One source's scores lined up with the movies of a folder.
#[derive(Clone)]
pub struct ScoreSet {
    pub movies: Arc<Vec<Movie>>,
    pub scores: Vec<Option<Arc<Scores>>>,
    /// The movies totals, sweeps and pooled curves are over; the others are scored per movie
    /// only.
    pub in_scope: ScopeMask,
}

impl ScoreSet {
    /// All the movies in scope.
    pub fn new(movies: Arc<Vec<Movie>>, source: &PredictionSource) -> Self {
        let scores = movies
            .iter()
            .map(|m| source.scores_for(&m.imdb_id).cloned())
            .collect();
        ScoreSet {
            movies,
            scores,
            in_scope: None,
        }
    }

    /// The same scores with totals over `in_scope` only.
    pub fn scoped(self, in_scope: ScopeMask) -> Self {
        ScoreSet { in_scope, ..self }
    }

    fn is_in_scope(&self, i: usize) -> bool {
        self.in_scope
            .as_ref()
            .is_none_or(|m| m.get(i).copied().unwrap_or(false))
    }

    /// The same movies with every score set passed through `decision`.
    pub fn decided(&self, decision: &Decision) -> ScoreSet {
        ScoreSet {
            movies: self.movies.clone(),
            scores: self
                .scores
                .iter()
                .map(|s| {
                    s.as_ref()
                        .map(|s| Arc::new(Scores::from_f32(&decision.apply(&s.to_f32_vec()))))
                })
                .collect(),
            in_scope: self.in_scope.clone(),
        }
    }

    /// The movies of the scope that can be scored (ground truth, end frames and scores
    /// present), as metric inputs in folder order, with their indices.
    pub fn inputs(&self) -> (Vec<MovieInput<'_>>, Vec<usize>) {
        self.inputs_where(|i| self.is_in_scope(i))
    }

    /// The same for the scorable movies outside the scope.
    pub fn outside_inputs(&self) -> (Vec<MovieInput<'_>>, Vec<usize>) {
        self.inputs_where(|i| !self.is_in_scope(i))
    }

    fn inputs_where(&self, keep: impl Fn(usize) -> bool) -> (Vec<MovieInput<'_>>, Vec<usize>) {
        let mut inputs = Vec::with_capacity(self.movies.len());
        let mut idx = Vec::with_capacity(self.movies.len());
        for (i, (m, s)) in self.movies.iter().zip(&self.scores).enumerate() {
            if !keep(i) {
                continue;
            }
            if let Some(input) = s.as_ref().and_then(|s| MovieInput::of(m, s.as_slice())) {
                inputs.push(input);
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
    /// The selected source's applied decision, if any.
    pub decision: Option<DecisionKey>,
    /// The movies the totals are over (of the selected source's split).
    pub scope: Scope,
}

impl MetricsKey {
    pub fn sweep_key(self) -> SweepKey {
        SweepKey {
            data: self.data,
            sources: self.sources,
            scope: self.scope,
        }
    }
}

/// The metrics at one threshold.
#[derive(Debug, Clone)]
pub struct ThresholdMetrics {
    pub key: MetricsKey,
    pub threshold: f32,
    /// The decision the scores went through (then `threshold` is its threshold).
    pub decision: Option<Decision>,
    /// Totals over the scope's movies, with their per-movie scores.
    pub result: Result<Metrics, String>,
    /// Indices of the scope's movies scored (the others lack ground truth, end frames or
    /// scores), in the order of `Metrics::per_movie`.
    pub scored: Vec<usize>,
    /// Each scorable movie outside the scope, by folder index, scored on its own by the same
    /// code (its numbers do not depend on the other movies).
    pub outside: Vec<(usize, MovieMetrics)>,
}

impl ThresholdMetrics {
    /// The own scores of movie `index` (a folder index), in the scope or not.
    pub fn movie(&self, index: usize) -> Option<&MovieMetrics> {
        if let Ok(m) = &self.result
            && let Some(k) = self.scored.iter().position(|&i| i == index)
        {
            return m.per_movie.get(k);
        }
        self.outside
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, m)| m)
    }
}

/// What a sweep (and the evaluator behind it) was computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepKey {
    pub data: u64,
    pub sources: u64,
    pub scope: Scope,
}

/// F1 and Miou against threshold and the pooled precision-recall curve of the scope's
/// scored movies, and each scored movie's own curve (in the scope or not).
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub key: SweepKey,
    pub thresholds: Vec<f32>,
    pub f1: Vec<f64>,
    pub miou: Vec<f64>,
    /// (recall, precision) of the scope's transitions pooled, thinned for drawing.
    pub pr_curve: Vec<[f64; 2]>,
    /// The same per scored movie, in the order of `curve_movies`.
    pub movie_pr_curves: Vec<Vec<[f64; 2]>>,
    /// Folder indices of the movies with a curve: the scope's, then the others.
    pub curve_movies: Vec<usize>,
    /// The scope's scored movies.
    pub scored: Vec<usize>,
    pub best_f1: Option<(f32, f64)>,
    pub best_miou: Option<(f32, f64)>,
    pub error: Option<String>,
}

impl SweepResult {
    /// The precision-recall curve of movie `index` (a folder index), if it was scored.
    pub fn movie_curve(&self, index: usize) -> Option<&[[f64; 2]]> {
        let k = self.curve_movies.iter().position(|&i| i == index)?;
        self.movie_pr_curves.get(k).map(Vec::as_slice)
    }
}

/// One row of the source comparison: a source's totals at the compared threshold.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub name: String,
    pub colour: egui::Color32,
    /// Movies of the scope scored (those with ground truth, end frames and this source's
    /// scores).
    pub scored: usize,
    /// How many of them this row's own model trained on (its numbers on them are in-sample).
    pub trained_on: usize,
    /// The source's applied decision, which its row is scored with instead of the threshold.
    pub decision: Option<Decision>,
    pub result: Result<Metrics, String>,
}

/// Every source scored at one threshold, on the same movies.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub key: MetricsKey,
    pub threshold: f32,
    /// The movies in the scope every row is scored on (`key.scope` of the selected source).
    pub movies: usize,
    pub rows: Vec<SourceRow>,
}

impl Comparison {
    /// A comparison that could not be made: one row saying why.
    pub fn failed(key: MetricsKey, threshold: f32, error: String) -> Comparison {
        Comparison {
            key,
            threshold,
            movies: 0,
            rows: vec![SourceRow {
                name: "(all sources)".into(),
                colour: egui::Color32::GRAY,
                scored: 0,
                trained_on: 0,
                decision: None,
                result: Err(error),
            }],
        }
    }
}

/// Score each source at `threshold` with the same [`Evaluator`] the metrics use (a source
/// with an applied decision on its decided scores at 0.5), every one on the movies of
/// `in_scope`. Slow for a large folder: run it off the UI thread.
pub fn compare_sources(
    key: MetricsKey,
    movies: Arc<Vec<Movie>>,
    sources: &[PredictionSource],
    threshold: f32,
    in_scope: ScopeMask,
) -> Comparison {
    let in_scope_count = in_scope
        .as_ref()
        .map_or(movies.len(), |m| m.iter().filter(|&&b| b).count());
    let rows = sources
        .iter()
        .map(|source| {
            let decision = source.applied_decision().copied();
            let mut set = ScoreSet::new(movies.clone(), source).scoped(in_scope.clone());
            let mut at = threshold;
            if let Some(d) = &decision {
                set = set.decided(d);
                at = 0.5;
            }
            let (inputs, scored) = set.inputs();
            let trained_on = scored
                .iter()
                .filter(|&&i| source.role(&movies[i].imdb_id) == Some(Role::Train))
                .count();
            let result = guarded(|| {
                let mut m = Evaluator::new(&inputs)
                    .map_err(|e| e.to_string())?
                    .metrics(f64::from(at));
                // The table shows totals only.
                m.per_movie = Vec::new();
                Ok(m)
            });
            SourceRow {
                name: source.name.clone(),
                colour: source.colour,
                scored: scored.len(),
                trained_on,
                decision,
                result,
            }
        })
        .collect();
    Comparison {
        key,
        threshold,
        movies: in_scope_count,
        rows,
    }
}

/// Thresholds of the sweep: 0.00, 0.01, ..., 1.00 (f32 values, like the CLI's).
pub fn sweep_thresholds() -> Vec<f64> {
    Sweep::even_thresholds(101)
}

/// Points drawn per precision-recall curve at most.
const CURVE_POINTS: usize = 512;

enum Request {
    /// New movies or scores: rank them once, sweep, and keep the evaluator.
    Prepare { key: SweepKey, set: ScoreSet },
    /// Metrics at a threshold, from the prepared evaluator.
    Threshold { key: MetricsKey, threshold: f32 },
    /// Metrics of `set` through `decision` (no prepared evaluator needed).
    Decided {
        key: MetricsKey,
        set: ScoreSet,
        decision: Decision,
    },
}

struct Prepared {
    key: SweepKey,
    /// The scope's movies.
    evaluator: Result<Evaluator, String>,
    scored: Vec<usize>,
    /// The scorable movies outside the scope (`None` when there are none, or they cannot be
    /// scored: then they show no numbers of their own).
    outside: Option<Evaluator>,
    outside_scored: Vec<usize>,
}

impl Prepared {
    /// Each outside movie's own scores at `threshold`.
    fn outside_at(&self, threshold: f32) -> Vec<(usize, MovieMetrics)> {
        let Some(e) = &self.outside else {
            return Vec::new();
        };
        guarded(|| Ok(e.metrics(f64::from(threshold)).per_movie))
            .map(|per_movie| self.outside_scored.iter().copied().zip(per_movie).collect())
            .unwrap_or_default()
    }
}

/// A long-lived thread that prepares an [`Evaluator`] when the movies or scores change and
/// then scores at the newest requested threshold (stale thresholds are skipped).
pub struct MetricsWorker {
    tx: Sender<(Request, Option<egui::Context>)>,
    answers: Receiver<WorkerAnswer>,
}

/// What the [`MetricsWorker`] answers, in the order it computed them.
pub enum WorkerAnswer {
    Sweep(SweepResult),
    Metrics(ThresholdMetrics),
}

impl MetricsWorker {
    pub fn start() -> Self {
        let (tx, rx) = channel();
        let (answer_tx, answers) = channel();
        // If the thread cannot start, requests go nowhere and the panel keeps saying
        // "computing"; the app stays usable.
        let _ = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || worker_loop(&rx, &answer_tx));
        MetricsWorker { tx, answers }
    }

    /// Every answer that arrived since the last call.
    pub fn poll(&self) -> Vec<WorkerAnswer> {
        self.answers.try_iter().collect()
    }

    /// Rank `set` for scoring; later threshold requests with the same data and sources use it.
    pub fn prepare(&self, key: SweepKey, set: ScoreSet, ctx: Option<egui::Context>) {
        let _ = self.tx.send((Request::Prepare { key, set }, ctx));
    }

    pub fn request(&self, key: MetricsKey, threshold: f32, ctx: Option<egui::Context>) {
        let _ = self.tx.send((Request::Threshold { key, threshold }, ctx));
    }

    /// Metrics of `set` passed through `decision`, at `>= 0.5` (replaces a pending threshold
    /// request: only the newest scoring request is answered).
    pub fn request_decided(
        &self,
        key: MetricsKey,
        set: ScoreSet,
        decision: Decision,
        ctx: Option<egui::Context>,
    ) {
        let request = Request::Decided { key, set, decision };
        let _ = self.tx.send((request, ctx));
    }
}

fn worker_loop(rx: &Receiver<(Request, Option<egui::Context>)>, events: &Sender<WorkerAnswer>) {
    let mut current: Option<Prepared> = None;
    while let Ok(first) = rx.recv() {
        // Only the newest of each kind matters: the threshold may have moved many times.
        let (mut prepare, mut threshold, mut ctx) = (None, None, None);
        let mut take = |(req, c): (Request, Option<egui::Context>)| {
            ctx = c.or(ctx.take());
            match req {
                Request::Prepare { key, set } => {
                    prepare = Some((key, set));
                    threshold = None;
                }
                Request::Threshold { key, threshold: t } => {
                    threshold = Some(Scoring::Threshold(key, t))
                }
                Request::Decided { key, set, decision } => {
                    threshold = Some(Scoring::Decided(key, set, decision))
                }
            }
        };
        take(first);
        while let Ok(next) = rx.try_recv() {
            take(next);
        }
        if let Some((key, set)) = prepare {
            let (prepared, sweep) = prepare_and_sweep(key, &set);
            current = Some(prepared);
            if events.send(WorkerAnswer::Sweep(sweep)).is_err() {
                return;
            }
        }
        let answer = match threshold {
            Some(Scoring::Threshold(key, t)) => current
                .as_ref()
                .filter(|p| p.key == key.sweep_key())
                .map(|p| ThresholdMetrics {
                    key,
                    threshold: t,
                    decision: None,
                    result: match &p.evaluator {
                        Ok(e) => guarded(|| Ok(e.metrics(f64::from(t)))),
                        Err(e) => Err(e.clone()),
                    },
                    scored: p.scored.clone(),
                    outside: p.outside_at(t),
                }),
            Some(Scoring::Decided(key, set, decision)) => Some(score_decided(key, &set, decision)),
            None => None,
        };
        if let Some(m) = answer
            && events.send(WorkerAnswer::Metrics(m)).is_err()
        {
            return;
        }
        if let Some(ctx) = &ctx {
            ctx.request_repaint();
        }
    }
}

/// The newest scoring request of a batch.
enum Scoring {
    Threshold(MetricsKey, f32),
    Decided(MetricsKey, ScoreSet, Decision),
}

/// `set` through `decision`, scored by [`evaluate`] at `>= 0.5` (what `scenelab evaluate`
/// reports on `scenelab predict`'s output).
pub fn score_decided(key: MetricsKey, set: &ScoreSet, decision: Decision) -> ThresholdMetrics {
    let decided = set.decided(&decision);
    let (inputs, scored) = decided.inputs();
    let result = guarded(|| evaluate(&inputs, 0.5).map_err(|e| e.to_string()));
    let (outside_inputs, outside_scored) = decided.outside_inputs();
    let outside = if outside_inputs.is_empty() {
        Vec::new()
    } else {
        guarded(|| evaluate(&outside_inputs, 0.5).map_err(|e| e.to_string()))
            .map(|m| outside_scored.into_iter().zip(m.per_movie).collect())
            .unwrap_or_default()
    };
    ThresholdMetrics {
        key,
        threshold: decision.threshold,
        decision: Some(decision),
        result,
        scored,
        outside,
    }
}

fn prepare_and_sweep(key: SweepKey, set: &ScoreSet) -> (Prepared, SweepResult) {
    let (inputs, scored) = set.inputs();
    let evaluator = guarded(|| Evaluator::new(&inputs).map_err(|e| e.to_string()));
    let (outside_inputs, outside_scored) = set.outside_inputs();
    let outside = if outside_inputs.is_empty() {
        None
    } else {
        guarded(|| Evaluator::new(&outside_inputs).map_err(|e| e.to_string())).ok()
    };
    let thresholds = sweep_thresholds();
    let mut result = SweepResult {
        key,
        thresholds: Vec::new(),
        f1: Vec::new(),
        miou: Vec::new(),
        pr_curve: Vec::new(),
        movie_pr_curves: Vec::new(),
        curve_movies: Vec::new(),
        scored: scored.clone(),
        best_f1: None,
        best_miou: None,
        error: None,
    };
    match &evaluator {
        Ok(e) => match guarded(|| Ok(e.sweep(&thresholds))) {
            Ok(sweep) => {
                // The app's thresholds are f32; the sweep's are f32 values already.
                result.best_f1 = sweep.best_f1.map(|b| (b.threshold as f32, b.value));
                result.best_miou = sweep.best_miou.map(|b| (b.threshold as f32, b.value));
                result.thresholds = sweep.thresholds.iter().map(|&t| t as f32).collect();
                result.f1 = sweep.f1;
                result.miou = sweep.miou;
                result.pr_curve = curve_points(e.pooled_curve(), CURVE_POINTS);
                result.movie_pr_curves =
                    e.curves().map(|c| curve_points(c, CURVE_POINTS)).collect();
                result.curve_movies = scored.clone();
            }
            Err(msg) => result.error = Some(msg),
        },
        Err(msg) => result.error = Some(msg.clone()),
    }
    if let Some(e) = &outside {
        result
            .movie_pr_curves
            .extend(e.curves().map(|c| curve_points(c, CURVE_POINTS)));
        result.curve_movies.extend(&outside_scored);
    }
    (
        Prepared {
            key,
            evaluator,
            scored,
            outside,
            outside_scored,
        },
        result,
    )
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

/// A curve as (recall, precision) points, thinned to at most `max_points`.
pub fn curve_points(curve: &PrCurve, max_points: usize) -> Vec<[f64; 2]> {
    let points = curve
        .recall
        .iter()
        .zip(&curve.precision)
        .map(|(&r, &p)| [r, p])
        .collect();
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
    use crate::eval::evaluate;
    use std::time::Duration;

    fn movie(id: &str, gt: Vec<bool>, scores: Vec<f32>) -> Movie {
        let n = gt.len() + 1;
        Movie {
            imdb_id: id.into(),
            n_shots: n,
            features: Default::default(),
            ground_truth: Some(gt),
            prediction: Some(Scores::from_f32(&scores)),
            shot_end_frame: Some((0..n as i64).map(|i| i * 10 + 9).collect()),
            uncertain: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_worker_scores_like_evaluate_and_skips_unscorable_movies() {
        let mut no_truth = movie("tt3", vec![true, false], vec![0.9, 0.1]);
        no_truth.ground_truth = None;
        let movies = Arc::new(vec![
            movie(
                "tt1",
                vec![false, true, false, true],
                vec![0.2, 0.8, 0.6, 0.4],
            ),
            no_truth,
            movie("tt2", vec![true, false, false], vec![0.7, 0.1, 0.55]),
        ]);
        let source = PredictionSource::provided(&movies);
        let set = ScoreSet::new(movies.clone(), &source);
        let worker = MetricsWorker::start();
        let skey = SweepKey {
            data: 1,
            sources: 1,
            scope: Scope::All,
        };
        worker.prepare(skey, set.clone(), None);
        for t in [0.3f32, 0.5, 0.65] {
            let key = MetricsKey {
                data: 1,
                sources: 1,
                threshold_bits: t.to_bits(),
                decision: None,
                scope: Scope::All,
            };
            worker.request(key, t, None);
        }
        let (inputs, scored) = set.inputs();
        assert_eq!(scored, vec![0, 2]);
        let mut got_sweep = false;
        let mut last = None;
        while last.is_none() || !got_sweep {
            match worker
                .answers
                .recv_timeout(Duration::from_secs(10))
                .unwrap()
            {
                WorkerAnswer::Sweep(s) => {
                    assert_eq!(s.key, skey);
                    assert_eq!(s.thresholds.len(), 101);
                    let i = s.thresholds.iter().position(|&t| t == 0.5).unwrap();
                    assert_eq!(s.f1[i], evaluate(&inputs, 0.5).unwrap().f1);
                    assert!(s.movie_curve(2).is_some() && s.movie_curve(1).is_none());
                    got_sweep = true;
                }
                WorkerAnswer::Metrics(m) if m.threshold == 0.65 => last = Some(m),
                WorkerAnswer::Metrics(_) => {}
            }
        }
        let m = last.unwrap();
        assert_eq!(m.scored, vec![0, 2]);
        assert_eq!(m.result.unwrap(), evaluate(&inputs, 0.65).unwrap());
    }

    #[test]
    fn a_scope_totals_its_movies_and_still_scores_the_others_one_by_one() {
        let movies = Arc::new(vec![
            movie(
                "tt1",
                vec![false, true, false, true],
                vec![0.2, 0.8, 0.6, 0.4],
            ),
            movie("tt2", vec![true, false], vec![0.9, 0.3]),
            movie("tt3", vec![true, false, false], vec![0.7, 0.1, 0.55]),
        ]);
        let source = PredictionSource::provided(&movies);
        let all = ScoreSet::new(movies.clone(), &source);
        let set = all.clone().scoped(Some(Arc::from([true, false, true])));
        let (inputs, scored) = set.inputs();
        assert_eq!(scored, vec![0, 2]);
        assert_eq!(set.outside_inputs().1, vec![1]);
        let everything = evaluate(&all.inputs().0, 0.5).unwrap();
        let key = MetricsKey {
            data: 1,
            sources: 1,
            threshold_bits: 0.5f32.to_bits(),
            decision: None,
            scope: Scope::Test,
        };
        let (prepared, sweep) = prepare_and_sweep(key.sweep_key(), &set);
        assert_eq!(sweep.scored, vec![0, 2]);
        assert!((0..3).all(|i| sweep.movie_curve(i).is_some()));
        let at = |t: f32| {
            let e = prepared.evaluator.as_ref().unwrap();
            ThresholdMetrics {
                key,
                threshold: t,
                decision: None,
                result: Ok(e.metrics(f64::from(t))),
                scored: prepared.scored.clone(),
                outside: prepared.outside_at(t),
            }
        };
        let m = at(0.5);
        assert_eq!(m.result.as_ref().unwrap(), &evaluate(&inputs, 0.5).unwrap());
        for i in 0..3 {
            assert_eq!(m.movie(i), Some(&everything.per_movie[i]));
        }
        // Through a decision too.
        let d = Decision {
            threshold: 0.5,
            nms_window: 1,
            ..Decision::default()
        };
        let decided = score_decided(key, &set, d);
        let decided_all = all.decided(&d);
        let want_all = evaluate(&decided_all.inputs().0, 0.5).unwrap();
        let scope_set = set.decided(&d);
        assert_eq!(
            decided.result.as_ref().unwrap(),
            &evaluate(&scope_set.inputs().0, 0.5).unwrap()
        );
        assert_eq!(decided.movie(1), Some(&want_all.per_movie[1]));
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
