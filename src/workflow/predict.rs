//! Load a model and score movies: what `scenelab predict` scores each file with, and what the
//! app's Load model and Load best model add as a prediction source.

use std::path::Path;

use candle_core::Device;

use crate::data::Movie;
use crate::model::ModelKind;
use crate::pickle::ArrayData;
use crate::train::decision::Decision;
use crate::train::torch_checkpoint::{Opened, open_model};
use crate::train::{CheckpointError, TrainedModel};

pub use crate::train::MovieScores;

/// A model's scores for a set of movies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoredMovies {
    /// The movies the model can read, in the order given.
    pub scores: MovieScores,
    /// The imdb ids of the movies that lack a modality, so were not scored.
    pub skipped: Vec<String>,
    /// The imdb ids of the movies whose feature widths differ from the model's (it was
    /// trained on other features), so were not scored.
    pub other_widths: Vec<String>,
}

/// Score every movie of `movies` that has all four modalities at the model's widths (on a
/// thread with a deep stack: the recurrent models need one for long movies); the others are
/// listed. Errors: no movie has the model's widths (the error names the first and both
/// widths), or the model failed on a movie.
pub fn score_movies(
    model: &TrainedModel,
    movies: &[Movie],
) -> Result<ScoredMovies, CheckpointError> {
    let dims = model.meta.normalization.dims;
    let mut out = ScoredMovies::default();
    let mut ready = Vec::new();
    let mut first_refusal = None;
    for m in movies {
        if !m.has_all_features() {
            out.skipped.push(m.imdb_id.clone());
        } else if let Err(e) = crate::train::normalize::check_features(m, dims) {
            out.other_widths.push(m.imdb_id.clone());
            first_refusal.get_or_insert(e);
        } else {
            ready.push(m);
        }
    }
    if let (true, Some(e)) = (ready.is_empty(), first_refusal) {
        return Err(CheckpointError::Model(e.to_string()));
    }
    let scores = crate::train::with_deep_stack(|| model.predict(&ready))?;
    out.scores = ready
        .iter()
        .map(|m| m.imdb_id.clone())
        .zip(scores)
        .collect();
    Ok(out)
}

/// Why `model` cannot score `movie` (a modality missing, or features of other widths than
/// the model was trained on), or `None` when it can. The same check as [`score_movies`]'s,
/// for a caller that wants to refuse before writing anything.
pub fn why_unscorable(model: &TrainedModel, movie: &Movie) -> Option<String> {
    crate::train::normalize::check_features(movie, model.meta.normalization.dims)
        .err()
        .map(|e| e.to_string())
}

/// One movie's scores as `scenelab predict` writes them: the model's probabilities (f32, one
/// per transition), through `decision` when given ([`Decision::apply`], so that the
/// reference's `>= 0.5` gives the decision's boundaries). Errors: the model failed on it.
pub fn scores_to_write(
    model: &TrainedModel,
    decision: Option<&Decision>,
    movie: &Movie,
) -> Result<ArrayData, CheckpointError> {
    let mut scores = model
        .predict(&[movie])?
        .pop()
        .ok_or_else(|| CheckpointError::Model("the model returned no scores".into()))?;
    if let Some(d) = decision {
        scores = d.apply(&scores);
    }
    Ok(ArrayData::F32(scores))
}

/// The decision `scenelab predict` applies: the checkpoint's, unless raw scores are asked for
/// or the checkpoint has none (or only the reference's `>= 0.5`, which changes nothing).
pub fn decision_to_apply(model: &TrainedModel, raw_scores: bool) -> Option<Decision> {
    model
        .meta
        .decision
        .filter(|d| !raw_scores && !d.is_reference())
}

/// Open the model at `path` onto `device` and score `movies` with it ([`score_movies`]).
/// `path` is a model folder (as `scenelab train`, a search or `scenelab export-torch` wrote
/// it, or a PyTorch twin's `save`) or a weight file (a PyTorch state dict or safetensors; see
/// [`crate::train::torch_checkpoint::open_model`]); `kind` asks for a model kind. Also
/// returns what opening a weight file assumed or ignored, for the user. Errors: the path
/// holds no model, or the model failed on a movie.
pub fn load_and_score(
    path: &Path,
    kind: Option<ModelKind>,
    movies: &[Movie],
    device: &Device,
) -> Result<(TrainedModel, ScoredMovies, Vec<String>), CheckpointError> {
    let Opened { model, notes } = open_model(path, kind, device)?;
    let scored = score_movies(&model, movies)?;
    Ok((model, scored, notes))
}
