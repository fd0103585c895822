//! Train → score the held-out movies → tune the decision: what `scenelab train` and the app's
//! Train run.
//!
//! 1. The usable movies (ground truth and all four modalities) are split by the split policy
//!    ([`training_split`]), seeded by the training seed.
//! 2. The model trains ([`train_observed`]), early stopping on the validation movies.
//! 3. The test movies are scored once: the reference's `>= 0.5` on the raw scores (stored as
//!    the checkpoint's `final_metrics`) and through the tuned decision.
//! 4. The decision step ([`decision`]) is tuned on the validation movies' scores and stored in
//!    the checkpoint's `decision`.

use candle_core::Device;

use super::predict::{ScoredMovies, score_movies};
use crate::data::{HeldOut, Movie, SplitPolicyError, training_split};
use crate::observer::Observer;
use crate::train::decision::{self, Decision, Objective, TunedDecision};
use crate::train::{
    TestMetrics, TrainConfig, TrainError, TrainEvent, TrainedModel, decided_test_metrics,
    test_metrics, train_observed,
};

/// What to train, on which split, and how to tune its decision.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    /// The model and its optimisation settings; `settings.seed` also seeds the split.
    pub config: TrainConfig,
    /// The test movies.
    pub held_out: HeldOut,
    /// What the decision maximises on the validation movies.
    pub objective: Objective,
    /// Tune peak picking (NMS window, minimum scene length) too, not only the threshold.
    pub peak_picking: bool,
    /// Score every movie with all four modalities (the app shows them as a source); otherwise
    /// only the validation movies are scored, to tune the decision.
    pub score_all: bool,
}

/// The test movies' figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// How many test movies were scored.
    pub movies: usize,
    /// The challenge's six scores at the reference's `>= 0.5` on the raw scores.
    pub raw: TestMetrics,
    /// The same through the tuned decision, when it is not the reference's `>= 0.5`.
    pub decided: Option<(Decision, TestMetrics)>,
}

/// A trained model with its decision, and what it scored.
pub struct TrainedRun {
    /// Its checkpoint metadata holds the split, the tuned decision and the raw test metrics.
    pub model: TrainedModel,
    /// `None` when there was no validation movie (the model keeps the reference's `>= 0.5`).
    pub tuned: Option<TunedDecision>,
    /// `None` when no test movie was held out.
    pub test: Option<TestResult>,
    /// Every movie's scores, when [`TrainRequest::score_all`].
    pub scored: Option<ScoredMovies>,
}

/// Why [`train_and_tune`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainWorkflowError {
    /// Too few usable movies, or held-out movies that cannot be held out.
    #[error(transparent)]
    Split(#[from] SplitPolicyError),
    /// Training itself failed or was cancelled before its first epoch ended.
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error("cannot score the movies: {0}")]
    Score(String),
    #[error("cannot score the test movies: {0}")]
    Test(String),
    #[error("cannot tune the decision on the validation movies: {0}")]
    Tune(String),
}

/// Train, score the test movies and tune the decision (see the module's steps) on `movies`;
/// the movies that cannot train are left out of the split. `observer` gets the training's
/// [`TrainEvent`]s and progress (steps), then `progress(0, 0, ...)` while scoring and tuning;
/// a cancel stops training and keeps the best epoch so far.
pub fn train_and_tune(
    movies: &[Movie],
    request: &TrainRequest,
    device: &Device,
    observer: &dyn Observer<TrainEvent>,
) -> Result<TrainedRun, TrainWorkflowError> {
    // Training looks movies up by id, so the unusable ones can stay in the slice.
    let ids: Vec<String> = movies
        .iter()
        .filter(|m| m.is_trainable())
        .map(|m| m.imdb_id.clone())
        .collect();
    let split = training_split(&ids, &request.held_out, request.config.settings.seed)?;
    let outcome = train_observed(movies, &split, &request.config, device, observer)?;
    let mut model = outcome.model;

    let grid = decision::grid_for(request.peak_picking);
    let (tuned, scored) = if request.score_all {
        observer.progress(0, 0, "scoring the movies");
        let scored =
            score_movies(&model, movies).map_err(|e| TrainWorkflowError::Score(e.to_string()))?;
        observer.progress(0, 0, "tuning the decision on the validation movies");
        let tuned = decision::tune_on_validation_scores(
            &model,
            movies,
            scored
                .scores
                .iter()
                .map(|(id, s)| (id.as_str(), s.as_slice())),
            request.objective,
            &grid,
        )
        .map_err(TrainWorkflowError::Tune)?;
        (tuned, Some(scored))
    } else {
        let tuned = decision::tune_on_validation(&model, movies, request.objective, &grid)
            .map_err(TrainWorkflowError::Tune)?;
        (tuned, None)
    };
    model.meta.decision = tuned.map(|t| t.decision);

    let test = if outcome.test_scores.is_empty() {
        None
    } else {
        let scores = &outcome.test_scores;
        let raw = test_metrics(movies, scores).map_err(TrainWorkflowError::Test)?;
        let decided = match model.meta.decision.filter(|d| !d.is_reference()) {
            Some(d) => Some((
                d,
                decided_test_metrics(movies, scores, &d).map_err(TrainWorkflowError::Test)?,
            )),
            None => None,
        };
        model.meta.final_metrics = Some(raw);
        Some(TestResult {
            movies: scores.len(),
            raw,
            decided,
        })
    };
    Ok(TrainedRun {
        model,
        tuned,
        test,
        scored,
    })
}
