//! Model folders: `model.safetensors` (the weights under their `VarMap` names, plus the
//! normalisation as the buffers of the PyTorch twin) and `config.json` (kind,
//! hyperparameters, normalisation, split, training curve, final metrics, the decision step
//! tuned on the validation movies, SceneLab version, and the twin's class and sizes). Loading checks each part and says which one is wrong.

use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use candle_nn::VarMap;

use super::decision::Decision;
use super::normalize::{Normalization, check_features, concat_features};
use super::{EpochRecord, StopReason, TestMetrics, TrainSettings};
use crate::data::{Movie, Split};
use crate::model::{BoundaryModel, Model, ModelConfig, ModelKind, SeededVarMap, ShotBatch};

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// Marks a `config.json` as ours.
pub const FORMAT: &str = "scenelab-boundary-model";

/// Everything `config.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CheckpointMeta {
    pub format: String,
    pub scenelab_version: String,
    pub model: ModelConfig,
    pub normalization: Normalization,
    pub split: Split,
    pub training: TrainSettings,
    pub curve: Vec<EpochRecord>,
    pub best_epoch: Option<usize>,
    pub stop: StopReason,
    pub final_metrics: Option<TestMetrics>,
    /// How scores become boundaries, tuned on the validation movies; `None` in checkpoints
    /// written before decisions were stored (and then the reference's `>= 0.5` applies).
    #[serde(default)]
    pub decision: Option<Decision>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a SceneLab model folder: it has no {CONFIG_FILE}")]
    NotAModel(PathBuf),
    #[error("{path} is not a valid SceneLab model config: {message}")]
    BadConfig { path: PathBuf, message: String },
    #[error(
        "{path} holds a '{found}' model, but a '{expected}' model was asked for: choose a folder with a '{expected}' model"
    )]
    WrongKind {
        path: PathBuf,
        found: ModelKind,
        expected: ModelKind,
    },
    #[error(
        "{path} was written by SceneLab {found}, newer than this SceneLab {current}: upgrade SceneLab to load it"
    )]
    NewerVersion {
        path: PathBuf,
        found: String,
        current: String,
    },
    #[error("{path} is corrupted or does not match its config.json: {message}")]
    BadWeights { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Torch { path: PathBuf, message: String },
    #[error("{0}")]
    Model(String),
}

fn version_triple(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// A trained model ready to score movies.
pub struct TrainedModel {
    pub meta: CheckpointMeta,
    pub varmap: VarMap,
    pub model: Model,
    pub device: Device,
}

impl TrainedModel {
    pub fn kind(&self) -> ModelKind {
        self.meta.model.kind()
    }

    /// Boundary probabilities per transition for each movie, batching movies of similar
    /// length together. Each batch's movies are normalised as it is built, so memory holds
    /// one batch's f32 rows beside the movies, never a copy of all of them. Errors: a movie
    /// lacks a modality or has other feature widths than the model's (checked for every
    /// movie before any is scored), or the model fails.
    pub fn predict(&self, movies: &[&Movie]) -> Result<Vec<Vec<f32>>, CheckpointError> {
        let model_error = |e: &dyn std::fmt::Display| CheckpointError::Model(e.to_string());
        let dims = self.meta.normalization.dims;
        for m in movies {
            check_features(m, dims).map_err(|e| model_error(&e))?;
        }
        let mut order: Vec<usize> = (0..movies.len()).collect();
        order.sort_by_key(|&i| movies[i].n_shots);
        let mut out = vec![Vec::new(); movies.len()];
        for chunk in order.chunks(self.meta.training.batch_movies.max(1)) {
            let rows = chunk
                .iter()
                .map(|&i| {
                    let mut r = concat_features(movies[i], dims).map_err(|e| model_error(&e))?;
                    self.meta.normalization.apply(&mut r);
                    Ok(r)
                })
                .collect::<Result<Vec<_>, CheckpointError>>()?;
            let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
            let probs = predict_batch(&self.model, &refs, dims.total(), &self.device)
                .map_err(|e| model_error(&e))?;
            for (&i, p) in chunk.iter().zip(probs) {
                out[i] = p;
            }
        }
        Ok(out)
    }

    /// Mean pos-weighted binary cross-entropy on `movies` (which need ground truth), with the
    /// class weight the model was trained with.
    pub fn loss(&self, movies: &[&Movie]) -> Result<f64, CheckpointError> {
        let pos_weight = self.meta.training.pos_weight.unwrap_or(1.0);
        let scores = self.predict(movies)?;
        let (mut sum, mut n) = (0.0, 0usize);
        for (m, s) in movies.iter().zip(&scores) {
            let truth = m.ground_truth.as_deref().ok_or_else(|| {
                CheckpointError::Model(format!("movie '{}' has no ground truth", m.imdb_id))
            })?;
            for (&t, &p) in truth.iter().zip(s) {
                let p = (p as f64).clamp(1e-7, 1.0 - 1e-7);
                sum -= if t {
                    pos_weight * p.ln()
                } else {
                    (1.0 - p).ln()
                };
                n += 1;
            }
        }
        Ok(sum / n.max(1) as f64)
    }

    /// Write `model.safetensors` and `config.json` into `dir` (created if needed). Both are
    /// also what the model's PyTorch twin reads: the weights under the twin's names with the
    /// normalisation buffers, and the config with a `torch` section naming the twin (see
    /// [`super::torch_checkpoint`]).
    pub fn save(&self, dir: &Path) -> Result<(), CheckpointError> {
        self.save_as(dir, &self.meta)
    }

    /// [`TrainedModel::save`] with another `config.json` (e.g. a decision the user changed);
    /// `meta` must describe these weights.
    pub fn save_as(&self, dir: &Path, meta: &CheckpointMeta) -> Result<(), CheckpointError> {
        if matches!(self.model, crate::model::Model::SceneSeg(_)) {
            return Err(CheckpointError::Model(
                "a SceneSeg checkpoint is scored as it is and has no SceneLab weights to save: load its .pth.tar file again where it is needed".into(),
            ));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CheckpointError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // Both files are written in full under temporary names, then renamed into place
        // together, so an interrupted save never leaves a torn file or new weights beside an
        // old config (only the instant between the two renames).
        let weights = dir.join(WEIGHTS_FILE);
        let bytes = self.torch_safetensors()?;
        let mut weights_tmp = crate::files::temp_in(dir).map_err(io(dir))?;
        weights_tmp
            .write_all(&bytes)
            .and_then(|()| weights_tmp.as_file().sync_all())
            .map_err(io(&weights))?;
        let config = dir.join(CONFIG_FILE);
        let json = super::torch_checkpoint::config_json(meta)?;
        let mut config_tmp = crate::files::temp_in(dir).map_err(io(dir))?;
        config_tmp
            .write_all(json.as_bytes())
            .and_then(|()| config_tmp.as_file().sync_all())
            .map_err(io(&config))?;
        weights_tmp
            .persist(&weights)
            .map_err(|e| io(&weights)(e.error))?;
        config_tmp
            .persist(&config)
            .map_err(|e| io(&config)(e.error))?;
        Ok(())
    }

    /// Load a model folder; with `expected`, refuse a model of another kind.
    pub fn load(
        dir: &Path,
        expected: Option<ModelKind>,
        device: &Device,
    ) -> Result<TrainedModel, CheckpointError> {
        let config = dir.join(CONFIG_FILE);
        if !config.is_file() {
            return Err(CheckpointError::NotAModel(dir.to_path_buf()));
        }
        let text = std::fs::read_to_string(&config).map_err(|source| CheckpointError::Io {
            path: config.clone(),
            source,
        })?;
        let bad = |message: String| CheckpointError::BadConfig {
            path: config.clone(),
            message,
        };
        // Read the envelope first so that a newer format gives the version error, not a
        // field-by-field parse error.
        let envelope: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if envelope.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(bad(format!("'format' is not \"{FORMAT}\"")));
        }
        let found = envelope
            .get("scenelab_version")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("no 'scenelab_version'".into()))?;
        let current = env!("CARGO_PKG_VERSION");
        match (version_triple(found), version_triple(current)) {
            (Some(f), Some(c)) if f > c => {
                return Err(CheckpointError::NewerVersion {
                    path: config,
                    found: found.into(),
                    current: current.into(),
                });
            }
            (None, _) => return Err(bad(format!("version '{found}' is not x.y.z"))),
            _ => {}
        }
        let meta: CheckpointMeta =
            serde_json::from_value(envelope).map_err(|e| bad(e.to_string()))?;
        if let Some(expected) = expected
            && meta.model.kind() != expected
        {
            return Err(CheckpointError::WrongKind {
                path: dir.to_path_buf(),
                found: meta.model.kind(),
                expected,
            });
        }
        meta.normalization.check().map_err(bad)?;
        if meta.normalization.dims != meta.model.input_dims() {
            return Err(bad(format!(
                "its model reads features of widths {} but its normalisation is for {}",
                meta.model.input_dims(),
                meta.normalization.dims
            )));
        }
        let mut varmap = VarMap::new();
        let vb = SeededVarMap::var_builder(&varmap, 0, device);
        let model = Model::new(&meta.model, vb).map_err(|e| bad(e.to_string()))?;
        let weights = dir.join(WEIGHTS_FILE);
        if !weights.is_file() {
            return Err(CheckpointError::BadWeights {
                path: weights,
                message: "the file is missing".into(),
            });
        }
        varmap
            .load(&weights)
            .map_err(|e| CheckpointError::BadWeights {
                path: weights.clone(),
                message: e.to_string(),
            })?;
        // A file of the right names and shapes can still hold garbage.
        for var in varmap.all_vars() {
            let finite = var
                .as_tensor()
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map(|v| v.iter().all(|x| x.is_finite()))
                .unwrap_or(false);
            if !finite {
                return Err(CheckpointError::BadWeights {
                    path: weights,
                    message: "a weight is not a finite f32".into(),
                });
            }
        }
        Ok(TrainedModel {
            meta,
            varmap,
            model,
            device: device.clone(),
        })
    }
}

/// Probabilities per transition for normalised rows (`width` columns a shot) in one forward
/// pass, in input order.
fn predict_batch(
    model: &Model,
    rows: &[&[f32]],
    width: usize,
    device: &Device,
) -> candle_core::Result<Vec<Vec<f32>>> {
    let batch = ShotBatch::from_rows(rows, width, device)?;
    let probs: Tensor = candle_nn::ops::sigmoid(&model.forward(&batch, false)?.detach())?;
    Ok(probs
        .to_vec2::<f32>()?
        .into_iter()
        .zip(&batch.lengths)
        .map(|(p, &n)| p[..n - 1].to_vec())
        .collect())
}
