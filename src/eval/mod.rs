//! Scene segmentation metrics, equal to the challenge's `evaluate_sceneseg.py` to the last
//! digit (quirks included), plus curves and threshold sweeps.
//!
//! What the reference computes, and where its quirks live:
//! - AP: scikit-learn's `average_precision_score` per movie and over all movies pooled
//!   ([`rank`]); mAP is Python's `sum(...) / len` of the per-movie APs. The fixtures match
//!   scikit-learn >= 1.1, so a movie without positive transitions has AP 0 (older versions
//!   gave NaN); it is still counted in mAP.
//! - Miou: scenes as frame ranges and the reference's own walk over them ([`miou`]).
//! - Scores are ranked and thresholded exactly as the file holds them ([`ScoreSlice`]):
//!   float64 stays float64, bool counts as 0/1; `score >= threshold` is compared at the
//!   scores' precision, the threshold rounded as numpy rounds a Python float for that array
//!   (float32 for float32, float16 for float16, float64 for float64, int and bool arrays).
//! - Precision, Recall, F1 at the threshold: 0/0 precision or
//!   recall is 0 (`np.nan_to_num`), 0/0 F1 stays NaN and makes the mean F1 NaN.
//! - Means over movies are Python `sum(...) / n`, left to right in input order; numpy
//!   reductions inside a movie use numpy's pairwise summation ([`numeric`]).

mod miou;
pub mod numeric;
mod rank;
mod report;
pub mod report_files;
pub mod review;

pub use crate::data::{ScorePrecision, ScoreSlice};
pub use rank::PrCurve;
pub use report::{Evaluator, MovieRow, MovieSweep, Report, Sweep, SweepBest, report};

/// One movie's inputs to the metrics: ground truth and scores per transition, end frame per shot.
#[derive(Debug, Clone, Copy)]
pub struct MovieInput<'a> {
    pub imdb_id: &'a str,
    pub ground_truth: &'a [bool],
    /// f32 model output (`(&v).into()`), or exact scores at the file's precision.
    pub scores: ScoreSlice<'a>,
    pub shot_end_frame: &'a [i64],
}

impl<'a> MovieInput<'a> {
    /// `movie` scored with `scores`; `None` when it lacks the ground truth or the shot end
    /// frames the metrics need.
    pub fn of(movie: &'a crate::data::Movie, scores: ScoreSlice<'a>) -> Option<MovieInput<'a>> {
        Some(MovieInput {
            imdb_id: &movie.imdb_id,
            ground_truth: movie.ground_truth.as_deref()?,
            scores,
            shot_end_frame: movie.shot_end_frame.as_deref()?,
        })
    }
}

/// The reference's scores for one movie.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MovieMetrics {
    pub imdb_id: String,
    pub ap: f64,
    pub miou: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// The reference's six totals and the per-movie scores, in input order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub ap: f64,
    pub map: f64,
    pub miou: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub per_movie: Vec<MovieMetrics>,
}

/// Why a set of movies cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("no movies to score")]
    Empty,
    #[error("movie '{imdb_id}': {problem}")]
    Movie { imdb_id: String, problem: String },
}

/// Score movies at `threshold` as `evaluate_sceneseg.py` does (default threshold 0.5).
///
/// Movies are refused (with the movie named) where the reference would crash or where its
/// dict would silently drop one: no transitions, scores and ground truth of different
/// lengths, `shot_end_frame` not one longer than the ground truth, a NaN or infinite score
/// (scikit-learn refuses those), end frames that do not start at 0 or later and strictly
/// increase (see [`miou`]), a repeated imdb id.
pub fn evaluate(movies: &[MovieInput<'_>], threshold: f64) -> Result<Metrics, EvalError> {
    Ok(Evaluator::new(movies)?.metrics(threshold))
}

/// Problems that keep a movie from being scored, or `None` if it can be.
pub fn check_movie(movie: &MovieInput<'_>) -> Option<String> {
    let t = movie.ground_truth.len();
    if t == 0 {
        return Some("no shot transitions (needs at least two shots)".into());
    }
    if movie.scores.len() != t {
        return Some(format!(
            "{} scores for {} ground-truth transitions",
            movie.scores.len(),
            t
        ));
    }
    if movie.shot_end_frame.len() != t + 1 {
        return Some(format!(
            "{} shot end frames for {} transitions (expected {})",
            movie.shot_end_frame.len(),
            t,
            t + 1
        ));
    }
    if let Some(i) = movie.scores.first_non_finite() {
        return Some(format!(
            "score {} at transition {i} is not a finite number",
            movie.scores.get(i)
        ));
    }
    miou::check_end_frames(movie.shot_end_frame).err()
}
