//! Movie-level k-fold cross-validation: every movie of a folder is a test movie exactly once.
//!
//! 1. The usable movies are cut into `folds` folds ([`cross_validation_splits`]); fold `i`'s
//!    movies are its test movies, a tenth of the others validate, the rest train.
//! 2. Each fold runs the training workflow ([`train_and_tune`]: train with early stopping on
//!    the validation movies, score the test movies, tune the decision on the validation
//!    movies) with the fold's test movies held out.
//! 3. The files' provided prediction is scored on the same folds: its test movies at the
//!    reference's `>= 0.5`, and through a decision tuned on the fold's validation movies the
//!    same way, so the two rows compare like with like.
//!
//! The summary is the mean and sample standard deviation over folds of each score.

use std::time::Instant;

use candle_core::Device;

use super::train::{TrainRequest, TrainWorkflowError, train_and_tune};
use crate::data::{FoldsError, HeldOut, Movie, Split, cross_validation_splits};
use crate::observer::Observer;
use crate::train::decision::{self, Decision, Objective};
use crate::train::search::mean_std;
use crate::train::{TestMetrics, TrainConfig, TrainEvent, decided_test_metrics, test_metrics};

/// What to cross-validate.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidationRequest {
    /// The model and its optimisation settings; `settings.seed` seeds the folds, the
    /// validation movies and the weights.
    pub config: TrainConfig,
    pub folds: usize,
    /// What the decision maximises on each fold's validation movies.
    pub objective: Objective,
    /// Tune peak picking (NMS window, minimum scene length) too, not only the threshold.
    pub peak_picking: bool,
}

/// One fold's test scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FoldResult {
    /// 0-based.
    pub fold: usize,
    pub split: Split,
    /// At the reference's `>= 0.5` on the raw scores.
    pub raw: TestMetrics,
    /// The decision tuned on the fold's validation movies (`None`: none validated).
    pub decision: Option<Decision>,
    /// Through `decision` (the raw figures when it is the reference's rule).
    pub decided: TestMetrics,
    /// Epochs run and the best one (a model's rows only).
    pub epochs_run: Option<usize>,
    pub best_epoch: Option<usize>,
    /// Wall time of the fold (training, scoring, tuning).
    pub seconds: f64,
}

impl FoldResult {
    /// The fold's test figures in the tables' order: AP, mAP, Miou and F1 at `>= 0.5`, then
    /// Miou and F1 through the tuned decision.
    pub fn figures(&self) -> [f64; 6] {
        [
            self.raw.ap,
            self.raw.map,
            self.raw.miou,
            self.raw.f1,
            self.decided.miou,
            self.decided.f1,
        ]
    }
}

/// Mean and sample standard deviation over folds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Spread {
    pub mean: f64,
    pub std: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        let (mean, std) = mean_std(values);
        Spread { mean, std }
    }
}

impl std::fmt::Display for Spread {
    /// `0.5123 ± 0.0312`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4} ± {:.4}", self.mean, self.std)
    }
}

/// The summary of a row: each score's mean ± spread over folds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CrossValidationSummary {
    pub ap: Spread,
    pub map: Spread,
    pub miou: Spread,
    pub f1: Spread,
    /// Through each fold's tuned decision.
    pub decided_miou: Spread,
    pub decided_f1: Spread,
}

/// A model's (or the provided prediction's) folds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CrossValidationRow {
    /// `default`, `lgss`, ... or `provided`.
    pub name: String,
    pub folds: Vec<FoldResult>,
}

impl CrossValidationRow {
    pub fn summary(&self) -> CrossValidationSummary {
        let of = |f: &dyn Fn(&FoldResult) -> f64| {
            Spread::of(&self.folds.iter().map(f).collect::<Vec<_>>())
        };
        CrossValidationSummary {
            ap: of(&|r| r.raw.ap),
            map: of(&|r| r.raw.map),
            miou: of(&|r| r.raw.miou),
            f1: of(&|r| r.raw.f1),
            decided_miou: of(&|r| r.decided.miou),
            decided_f1: of(&|r| r.decided.f1),
        }
    }
}

/// Why cross-validation failed.
#[derive(Debug, thiserror::Error)]
pub enum CrossValidationError {
    #[error(transparent)]
    Folds(#[from] FoldsError),
    #[error("fold {fold}: {source}")]
    Fold {
        fold: usize,
        #[source]
        source: TrainWorkflowError,
    },
    #[error("fold {fold}: {message}")]
    Score { fold: usize, message: String },
}

/// The folds of `movies` (the usable ones) that [`cross_validate`] runs with `seed`.
pub fn folds_of(
    movies: &[Movie],
    folds: usize,
    seed: u64,
) -> Result<Vec<Split>, CrossValidationError> {
    let ids: Vec<String> = movies
        .iter()
        .filter(|m| m.is_trainable())
        .map(|m| m.imdb_id.clone())
        .collect();
    Ok(cross_validation_splits(&ids, folds, seed)?)
}

/// Cross-validate `request.config` on `movies`: one [`train_and_tune`] per fold. `observer`
/// gets each fold's training events (each fold's begin with [`TrainEvent::Started`]) and
/// progress; `on_fold` hears each finished fold.
///
/// A cancel (`observer.cancelled()`) stops it between folds or inside one: the fold cut short
/// is dropped (its model did not finish training), and the row holds the folds finished so far,
/// fewer than `request.folds`.
pub fn cross_validate(
    movies: &[Movie],
    request: &CrossValidationRequest,
    device: &Device,
    observer: &dyn Observer<TrainEvent>,
    on_fold: &mut dyn FnMut(&FoldResult),
) -> Result<CrossValidationRow, CrossValidationError> {
    let seed = request.config.settings.seed;
    let splits = folds_of(movies, request.folds, seed)?;
    let mut folds = Vec::with_capacity(splits.len());
    for (fold, split) in splits.into_iter().enumerate() {
        if observer.cancelled() {
            break;
        }
        let t0 = Instant::now();
        let train_request = TrainRequest {
            config: request.config.clone(),
            held_out: HeldOut::Ids(split.test.clone()),
            objective: request.objective,
            peak_picking: request.peak_picking,
            score_all: false,
        };
        let run = train_and_tune(movies, &train_request, device, observer);
        if observer.cancelled() {
            break;
        }
        let run = run.map_err(|source| CrossValidationError::Fold { fold, source })?;
        // The workflow makes its split by the same policy; say so if that ever changes.
        if run.model.meta.split != split {
            return Err(CrossValidationError::Score {
                fold,
                message: "the training workflow split the movies differently from the fold".into(),
            });
        }
        let test = run.test.ok_or_else(|| CrossValidationError::Score {
            fold,
            message: "no test movie was scored".into(),
        })?;
        let meta = &run.model.meta;
        let result = FoldResult {
            fold,
            split,
            raw: test.raw,
            decision: meta.decision,
            decided: test.decided.map_or(test.raw, |(_, m)| m),
            epochs_run: Some(meta.curve.len()),
            best_epoch: meta.best_epoch,
            seconds: t0.elapsed().as_secs_f64(),
        };
        on_fold(&result);
        folds.push(result);
    }
    Ok(CrossValidationRow {
        name: request.config.model.kind().name().into(),
        folds,
    })
}

/// The files' provided prediction (`scene_transition_boundary_prediction`) scored on the
/// folds of [`folds_of`] with `seed`: each fold's test movies at `>= 0.5`, and through a
/// decision tuned on the fold's validation movies' provided predictions. An error when a
/// movie has no provided prediction.
pub fn provided_row(
    movies: &[Movie],
    folds: usize,
    seed: u64,
    objective: Objective,
    peak_picking: bool,
) -> Result<CrossValidationRow, CrossValidationError> {
    let by_id: std::collections::HashMap<&str, &Movie> =
        movies.iter().map(|m| (m.imdb_id.as_str(), m)).collect();
    let grid = decision::grid_for(peak_picking);
    let mut rows = Vec::new();
    for (fold, split) in folds_of(movies, folds, seed)?.into_iter().enumerate() {
        let t0 = Instant::now();
        let err = |message: String| CrossValidationError::Score { fold, message };
        let provided = |id: &str| -> Result<Vec<f32>, CrossValidationError> {
            by_id[id]
                .prediction
                .as_ref()
                .map(|p| p.to_f32_vec())
                .ok_or_else(|| err(format!("movie '{id}' has no provided prediction")))
        };
        let test: Vec<(String, Vec<f32>)> = split
            .test
            .iter()
            .map(|id| Ok((id.clone(), provided(id)?)))
            .collect::<Result<_, CrossValidationError>>()?;
        let raw = test_metrics(movies, &test).map_err(err)?;
        let (decision, decided) = if split.validation.is_empty() {
            (None, raw)
        } else {
            let validation: Vec<&Movie> = split
                .validation
                .iter()
                .map(|id| by_id[id.as_str()])
                .collect();
            let scores = split
                .validation
                .iter()
                .map(|id| provided(id))
                .collect::<Result<Vec<_>, _>>()?;
            let tuned =
                decision::tune_scored(&validation, scores, objective, &grid).map_err(err)?;
            let decided = if tuned.decision.is_reference() {
                raw
            } else {
                decided_test_metrics(movies, &test, &tuned.decision).map_err(err)?
            };
            (Some(tuned.decision), decided)
        };
        rows.push(FoldResult {
            fold,
            split,
            raw,
            decision,
            decided,
            epochs_run: None,
            best_epoch: None,
            seconds: t0.elapsed().as_secs_f64(),
        });
    }
    Ok(CrossValidationRow {
        name: "provided".into(),
        folds: rows,
    })
}

/// The rows as JSON, as `scenelab bench train --folds K --json` writes them and the app's
/// Save results: an array with one object per row, `{"row": {name, folds: [FoldResult]},
/// "summary": CrossValidationSummary}`.
pub fn results_json(rows: &[CrossValidationRow]) -> serde_json::Value {
    rows.iter()
        .map(|r| serde_json::json!({ "row": r, "summary": r.summary() }))
        .collect()
}

/// The rows as text: each fold's scores per row, then the summary (mean ± standard deviation
/// over folds).
pub fn format_table(rows: &[CrossValidationRow]) -> String {
    let mut s = format!(
        "{:<10} {:>4} {:>5} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}  decision\n",
        "row", "fold", "test", "AP", "mAP", "Miou", "F1", "Miou*", "F1*", "epochs", "seconds"
    );
    for r in rows {
        for f in &r.folds {
            let [ap, map, miou, f1, decided_miou, decided_f1] = f.figures();
            s.push_str(&format!(
                "{:<10} {:>4} {:>5} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>7} {:>8.1}  {}\n",
                r.name,
                f.fold + 1,
                f.split.test.len(),
                ap,
                map,
                miou,
                f1,
                decided_miou,
                decided_f1,
                match (f.epochs_run, f.best_epoch) {
                    (Some(e), Some(b)) => format!("{e}({b})"),
                    (Some(e), None) => e.to_string(),
                    _ => "-".into(),
                },
                f.seconds,
                f.decision.map_or("-".into(), |d| d.to_string()),
            ));
        }
    }
    s.push_str(&format!(
        "\nmean ± standard deviation over folds (* through the decision tuned on each fold's validation movies):\n{:<10} {:>5} {:>17} {:>17} {:>17} {:>17} {:>17} {:>17}\n",
        "row", "folds", "AP", "mAP", "Miou", "F1", "Miou*", "F1*"
    ));
    for r in rows {
        let m = r.summary();
        s.push_str(&format!(
            "{:<10} {:>5} {:>17} {:>17} {:>17} {:>17} {:>17} {:>17}\n",
            r.name,
            r.folds.len(),
            m.ap.to_string(),
            m.map.to_string(),
            m.miou.to_string(),
            m.f1.to_string(),
            m.decided_miou.to_string(),
            m.decided_f1.to_string(),
        ));
    }
    s
}
