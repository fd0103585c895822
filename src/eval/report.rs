//! Everything about a set of scored movies in one pass: the reference metrics at a threshold,
//! precision-recall curves, a threshold sweep and a per-movie table.
//!
//! [`Evaluator::new`] does the threshold-independent work once (rank each movie's scores,
//! curves, AP, ground-truth scenes); after that, metrics at a threshold are a binary search
//! and one scene walk per movie, which is what the GUI repeats on every threshold change.

use rayon::prelude::*;

use super::miou::{self, MiouScratch};
use super::numeric::python_mean;
use super::rank::{self, PrCurve, Ranking};
use super::{EvalError, Metrics, MovieInput, MovieMetrics, check_movie};
use crate::data::ScorePrecision;

/// One movie, ready to be scored at any threshold.
#[derive(Debug, Clone)]
struct PreparedMovie {
    imdb_id: String,
    /// Exact scores, compared with thresholds rounded to `precision`.
    scores: Vec<f64>,
    precision: ScorePrecision,
    shot_end_frame: Vec<i64>,
    gt: miou::GtScenes,
    ranking: Ranking,
    curve: PrCurve,
    ap: f64,
}

impl PreparedMovie {
    fn new(movie: &MovieInput<'_>) -> Self {
        let scores = movie.scores.to_f64_vec();
        let ranking = Ranking::new(movie.ground_truth, &scores);
        let curve = ranking.pr_curve();
        let ap = curve.average_precision();
        let gt = miou::GtScenes::new(movie.ground_truth, movie.shot_end_frame);
        PreparedMovie {
            imdb_id: movie.imdb_id.to_owned(),
            scores,
            precision: movie.scores.precision(),
            shot_end_frame: movie.shot_end_frame.to_vec(),
            gt,
            ranking,
            curve,
            ap,
        }
    }

    /// The threshold as numpy compares it with this movie's scores.
    fn at(&self, threshold: f64) -> f64 {
        self.precision.threshold(threshold)
    }

    fn miou_at(&self, threshold: f64, pr_ends: &mut Vec<i64>, scratch: &mut MiouScratch) -> f64 {
        let threshold = self.at(threshold);
        miou::predicted_scene_ends_into(&self.scores, &self.shot_end_frame, threshold, pr_ends);
        miou::miou(&self.gt.ends, pr_ends, scratch)
    }

    /// P/R/F1 and Miou at every threshold. Thresholds are visited by increasing number of
    /// predicted boundaries, so the set of boundaries only grows: each new count hands the
    /// next transitions of the ranking to [`miou::IncrementalMiou`], which updates only the
    /// scenes they split, instead of re-scanning every score and re-walking every scene.
    fn sweep(&self, thresholds: &[f64]) -> MovieSweep {
        let k = thresholds.len();
        let mut s = MovieSweep {
            imdb_id: self.imdb_id.clone(),
            precision: Vec::with_capacity(k),
            recall: Vec::with_capacity(k),
            f1: Vec::with_capacity(k),
            miou: vec![0.0; k],
        };
        let mut predicted = Vec::with_capacity(k);
        for &t in thresholds {
            let t = self.at(t);
            let (p, r, f1) = self.ranking.precision_recall_f1(t);
            s.precision.push(p);
            s.recall.push(r);
            s.f1.push(f1);
            predicted.push(self.ranking.predicted_at(t));
        }
        let mut visit: Vec<usize> = (0..k).collect();
        visit.sort_by_key(|&q| predicted[q]);
        let added = self.boundaries_in_position_order(visit.iter().map(|&q| predicted[q]));
        let mut state = miou::IncrementalMiou::new(&self.gt, &self.shot_end_frame);
        let mut done = 0;
        let mut value = state.value();
        for q in visit {
            let upto = predicted[q];
            if upto > done {
                state.add_boundaries(&added[done..upto]);
                value = state.value();
                done = upto;
            }
            s.miou[q] = value;
        }
        s
    }

    /// The transitions of the ranking, regrouped: for each count `c` of `counts` (increasing),
    /// the transitions ranked between the previous count and `c` come out as
    /// `result[previous..c]`, sorted by position. A counting sort by group instead of
    /// sorting each group.
    fn boundaries_in_position_order(&self, counts: impl Iterator<Item = usize>) -> Vec<u32> {
        const NEVER: u32 = u32::MAX;
        let order = &self.ranking.order;
        let mut group_start = Vec::new();
        let mut group_of = vec![NEVER; order.len()];
        let mut lo = 0;
        for c in counts {
            if c > lo {
                let group = group_start.len() as u32;
                for &p in &order[lo..c] {
                    group_of[p as usize] = group;
                }
                group_start.push(lo);
                lo = c;
            }
        }
        let mut out = vec![0u32; lo];
        for (p, &group) in group_of.iter().enumerate() {
            if group != NEVER {
                let slot = &mut group_start[group as usize];
                out[*slot] = p as u32;
                *slot += 1;
            }
        }
        out
    }

    fn metrics_at(&self, threshold: f64) -> MovieMetrics {
        let (precision, recall, f1) = self.ranking.precision_recall_f1(self.at(threshold));
        let miou = self.miou_at(threshold, &mut Vec::new(), &mut MiouScratch::default());
        MovieMetrics {
            imdb_id: self.imdb_id.clone(),
            ap: self.ap,
            miou,
            precision,
            recall,
            f1,
        }
    }
}

/// Best value of a swept metric and the threshold that gives it (the lowest such threshold in
/// sweep order on ties; NaN values are skipped).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SweepBest {
    pub threshold: f64,
    pub value: f64,
}

/// One movie's metrics at every threshold of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MovieSweep {
    pub imdb_id: String,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub f1: Vec<f64>,
    pub miou: Vec<f64>,
}

/// Precision, Recall, F1 and Miou at each of a list of thresholds, averaged over movies with the
/// reference's rules (so `f1[k]` is NaN when any movie's F1 is 0/0 at `thresholds[k]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sweep {
    pub thresholds: Vec<f64>,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub f1: Vec<f64>,
    pub miou: Vec<f64>,
    pub best_f1: Option<SweepBest>,
    pub best_miou: Option<SweepBest>,
    pub per_movie: Vec<MovieSweep>,
}

impl Sweep {
    /// Means over movies (in input order) of the per-movie sweeps, and the best thresholds.
    fn from_movies(thresholds: &[f64], per_movie: Vec<MovieSweep>) -> Sweep {
        let mean_at = |f: fn(&MovieSweep) -> &Vec<f64>| -> Vec<f64> {
            let mut column = Vec::with_capacity(per_movie.len());
            (0..thresholds.len())
                .map(|k| {
                    column.clear();
                    column.extend(per_movie.iter().map(|s| f(s)[k]));
                    python_mean(&column)
                })
                .collect()
        };
        let precision = mean_at(|s| &s.precision);
        let recall = mean_at(|s| &s.recall);
        let f1 = mean_at(|s| &s.f1);
        let miou = mean_at(|s| &s.miou);
        Sweep {
            thresholds: thresholds.to_vec(),
            best_f1: best(thresholds, &f1),
            best_miou: best(thresholds, &miou),
            precision,
            recall,
            f1,
            miou,
            per_movie,
        }
    }

    /// `count` evenly spaced thresholds from 0 to 1 (`count = 101` gives steps of 0.01,
    /// each the f32 `k as f32 / 100.0` as numpy's `np.arange(101, dtype=np.float32) / 100`
    /// gives them, so 0.5 is exact).
    pub fn even_thresholds(count: usize) -> Vec<f64> {
        match count {
            0 => Vec::new(),
            1 => vec![0.5],
            _ => (0..count)
                .map(|k| f64::from(k as f32 / (count - 1) as f32))
                .collect(),
        }
    }
}

fn best(thresholds: &[f64], values: &[f64]) -> Option<SweepBest> {
    thresholds
        .iter()
        .zip(values)
        .filter(|(_, v)| !v.is_nan())
        .fold(
            None,
            |acc: Option<SweepBest>, (&threshold, &value)| match acc {
                Some(b) if b.value >= value => Some(b),
                _ => Some(SweepBest { threshold, value }),
            },
        )
}

/// One row of the per-movie table: sizes and the reference's scores at the threshold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MovieRow {
    pub imdb_id: String,
    pub shots: usize,
    pub transitions: usize,
    /// Ground-truth scene boundaries.
    pub boundaries: usize,
    /// Transitions with `score >= threshold`.
    pub predicted: usize,
    pub metrics: MovieMetrics,
}

/// Metrics at one threshold, curves, a sweep, and the per-movie table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub threshold: f64,
    pub metrics: Metrics,
    /// Per movie, in input order.
    pub curves: Vec<PrCurve>,
    /// Over all movies' transitions together (the curve of the pooled AP).
    pub pooled_curve: PrCurve,
    pub sweep: Sweep,
    pub table: Vec<MovieRow>,
}

/// Movies prepared for scoring at any threshold.
#[derive(Debug, Clone)]
pub struct Evaluator {
    movies: Vec<PreparedMovie>,
    pooled_curve: PrCurve,
    pooled_ap: f64,
}

impl Evaluator {
    /// Check and prepare the movies (see [`super::evaluate`] for what is refused).
    pub fn new(movies: &[MovieInput<'_>]) -> Result<Self, EvalError> {
        check_movies(movies)?;
        let (prepared, (pooled_curve, pooled_ap)) = rayon::join(
            || {
                movies
                    .par_iter()
                    .map(PreparedMovie::new)
                    .collect::<Vec<_>>()
            },
            || pooled(movies),
        );
        Ok(Evaluator {
            movies: prepared,
            pooled_curve,
            pooled_ap,
        })
    }

    pub fn len(&self) -> usize {
        self.movies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.movies.is_empty()
    }

    /// imdb ids in input order.
    pub fn imdb_ids(&self) -> impl Iterator<Item = &str> {
        self.movies.iter().map(|m| m.imdb_id.as_str())
    }

    /// AP over all movies pooled (threshold-independent).
    pub fn pooled_ap(&self) -> f64 {
        self.pooled_ap
    }

    /// Per-movie precision-recall curves, in input order.
    pub fn curves(&self) -> impl Iterator<Item = &PrCurve> {
        self.movies.iter().map(|m| &m.curve)
    }

    pub fn pooled_curve(&self) -> &PrCurve {
        &self.pooled_curve
    }

    /// The reference's metrics at `threshold`.
    pub fn metrics(&self, threshold: f64) -> Metrics {
        let per_movie: Vec<MovieMetrics> = self
            .movies
            .par_iter()
            .map(|m| m.metrics_at(threshold))
            .collect();
        let mean =
            |f: fn(&MovieMetrics) -> f64| python_mean(&per_movie.iter().map(f).collect::<Vec<_>>());
        Metrics {
            ap: self.pooled_ap,
            map: mean(|m| m.ap),
            miou: mean(|m| m.miou),
            precision: mean(|m| m.precision),
            recall: mean(|m| m.recall),
            f1: mean(|m| m.f1),
            per_movie,
        }
    }

    /// The per-movie table at `threshold`, from already computed `metrics`.
    pub fn table(&self, threshold: f64, metrics: &Metrics) -> Vec<MovieRow> {
        self.movies
            .iter()
            .zip(&metrics.per_movie)
            .map(|(m, mm)| MovieRow {
                imdb_id: m.imdb_id.clone(),
                shots: m.shot_end_frame.len(),
                transitions: m.scores.len(),
                boundaries: m.ranking.positives() as usize,
                predicted: m.ranking.predicted_at(m.at(threshold)),
                metrics: mm.clone(),
            })
            .collect()
    }

    /// Precision, Recall, F1 and Miou at every threshold. Each movie's ranking answers P/R/F1
    /// by binary search; Miou re-walks the scenes with the ground truth's scenes precomputed.
    pub fn sweep(&self, thresholds: &[f64]) -> Sweep {
        let per_movie: Vec<MovieSweep> = self
            .movies
            .par_iter()
            .map(|m| m.sweep(thresholds))
            .collect();
        Sweep::from_movies(thresholds, per_movie)
    }

    /// Metrics at `threshold`, the per-movie table and a sweep over `sweep_thresholds`;
    /// consumes the evaluator to hand over its curves without copying them.
    pub fn into_report(self, threshold: f64, sweep_thresholds: &[f64]) -> Report {
        let (metrics, sweep) =
            rayon::join(|| self.metrics(threshold), || self.sweep(sweep_thresholds));
        let table = self.table(threshold, &metrics);
        Report {
            threshold,
            metrics,
            curves: self.movies.into_iter().map(|m| m.curve).collect(),
            pooled_curve: self.pooled_curve,
            sweep,
            table,
        }
    }
}

/// Refuse the movies if any cannot be scored or an imdb id repeats, naming the movie.
fn check_movies(movies: &[MovieInput<'_>]) -> Result<(), EvalError> {
    if movies.is_empty() {
        return Err(EvalError::Empty);
    }
    let mut seen = std::collections::HashSet::new();
    for movie in movies {
        let problem = check_movie(movie)
            .or_else(|| (!seen.insert(movie.imdb_id)).then(|| "appears more than once".to_owned()));
        if let Some(problem) = problem {
            return Err(EvalError::Movie {
                imdb_id: movie.imdb_id.to_owned(),
                problem,
            });
        }
    }
    Ok(())
}

/// The pooled curve and AP: `np.concatenate` of all movies in input order (the ranking does
/// not depend on the order anyway, as ties are grouped).
fn pooled(movies: &[MovieInput<'_>]) -> (PrCurve, f64) {
    let scores: Vec<Vec<f64>> = movies.iter().map(|m| m.scores.to_f64_vec()).collect();
    let curve = rank::pooled_curve(
        movies
            .iter()
            .zip(&scores)
            .map(|(m, s)| (m.ground_truth, s.as_slice())),
    );
    let ap = curve.average_precision();
    (curve, ap)
}

/// Score `movies` at `threshold` with curves, a sweep over `sweep_thresholds` and the
/// per-movie table, in one pass over each movie's ranking.
///
/// Does what `Evaluator::new(movies)?.into_report(..)` does, but sweeps each movie right after
/// preparing it (while its data is in cache) and lets the pooled curve, one long sequential
/// sort, run alongside all of that instead of before the sweep.
pub fn report(
    movies: &[MovieInput<'_>],
    threshold: f64,
    sweep_thresholds: &[f64],
) -> Result<Report, EvalError> {
    check_movies(movies)?;
    let ((pooled_curve, pooled_ap), prepared) = rayon::join(
        || pooled(movies),
        || {
            movies
                .par_iter()
                .map(|m| {
                    let prepared = PreparedMovie::new(m);
                    let sweep = prepared.sweep(sweep_thresholds);
                    (prepared, sweep)
                })
                .collect::<Vec<_>>()
        },
    );
    let (prepared, sweeps): (Vec<_>, Vec<_>) = prepared.into_iter().unzip();
    let evaluator = Evaluator {
        movies: prepared,
        pooled_curve,
        pooled_ap,
    };
    let metrics = evaluator.metrics(threshold);
    let table = evaluator.table(threshold, &metrics);
    Ok(Report {
        threshold,
        metrics,
        curves: evaluator.movies.into_iter().map(|m| m.curve).collect(),
        pooled_curve: evaluator.pooled_curve,
        sweep: Sweep::from_movies(sweep_thresholds, sweeps),
        table,
    })
}
