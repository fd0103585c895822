//! Scene segmentation metrics, equal to the challenge's `evaluate_sceneseg.py` to the last
//! digit (quirks included), plus curves and threshold sweeps.

/// One movie's inputs to the metrics: ground truth and scores per transition, end frame per shot.
#[derive(Debug, Clone, Copy)]
pub struct MovieInput<'a> {
    pub imdb_id: &'a str,
    pub ground_truth: &'a [bool],
    pub scores: &'a [f32],
    pub shot_end_frame: &'a [i64],
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
pub fn evaluate(_movies: &[MovieInput<'_>], _threshold: f32) -> Result<Metrics, EvalError> {
    unimplemented!("reference metrics")
}
