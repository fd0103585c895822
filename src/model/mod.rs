//! Boundary models: from shot features to one logit per shot transition.
//!
//! Every model reads the four modalities concatenated per shot (widths from the data its
//! config's `input_dims` records: the challenge's files hold place 2048, cast 512, action 512,
//! audio 512), already normalised with training-set statistics, as a padded batch of whole
//! movies ([`ShotBatch`]), and returns logits `[batch, shots - 1]`
//! (`sigmoid(logit)` is the probability that a scene ends after that shot). Padded shots never
//! influence a real shot's output: every model zeroes them between layers, so a movie scores the
//! same alone or batched with longer ones.
//!
//! One file per model, candle-transformers style (a serde `Config` with the published defaults,
//! `new(cfg, vb)`, `forward`): [`multiscale`] (our default), [`wavenet`], [`bilstm`], [`lgss`].
//! [`sceneseg`] runs LGSS checkpoints of the MovieScenes paper's code with SceneLab's LGSS.

pub mod bilstm;
pub mod layers;
pub mod lgss;
pub mod multiscale;
pub mod sceneseg;
pub mod torch_io;
pub mod wavenet;

use std::sync::Mutex;

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::FeatureDims;

/// A padded batch of whole movies.
#[derive(Debug, Clone)]
pub struct ShotBatch {
    /// `[batch, shots, width]` normalised features (`width`: the model's
    /// `input_dims.total()`), zero on padded shots.
    pub x: Tensor,
    /// `[batch, shots, 1]` f32: 1 on real shots, 0 on padding.
    pub mask: Tensor,
    /// Number of real shots of each movie.
    pub lengths: Vec<usize>,
}

impl ShotBatch {
    /// Build a batch from row-major `[n_i, width]` feature slices, padding to the longest.
    pub fn from_rows(movies: &[&[f32]], width: usize, device: &Device) -> Result<ShotBatch> {
        let width = width.max(1);
        let lengths: Vec<usize> = movies.iter().map(|m| m.len() / width).collect();
        let t = lengths.iter().copied().max().unwrap_or(0);
        let b = movies.len();
        let mut x = vec![0f32; b * t * width];
        let mut mask = vec![0f32; b * t];
        for (i, m) in movies.iter().enumerate() {
            x[i * t * width..i * t * width + m.len()].copy_from_slice(m);
            mask[i * t..i * t + lengths[i]].fill(1.0);
        }
        Ok(ShotBatch {
            x: Tensor::from_vec(x, (b, t, width), device)?,
            mask: Tensor::from_vec(mask, (b, t, 1), device)?,
            lengths,
        })
    }

    pub fn batch_size(&self) -> usize {
        self.lengths.len()
    }

    /// Padded number of shots.
    pub fn shots(&self) -> usize {
        self.lengths.iter().copied().max().unwrap_or(0)
    }
}

/// What every boundary model does.
pub trait BoundaryModel {
    /// Per-transition logits `[batch, shots - 1]`. `train` enables training-only behaviour.
    fn forward(&self, batch: &ShotBatch, train: bool) -> Result<Tensor>;
}

/// The models SceneLab trains.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Multi-scale window similarities + temporal convolutions (ours).
    Default,
    /// Dilated 1-D convolution stack (the challenge notebook's model).
    Wavenet,
    /// Two bidirectional LSTM layers over the shot sequence.
    Bilstm,
    /// Local-to-global scene segmentation (Rao et al., CVPR 2020).
    Lgss,
}

impl ModelKind {
    pub const ALL: [ModelKind; 4] = [
        ModelKind::Default,
        ModelKind::Wavenet,
        ModelKind::Bilstm,
        ModelKind::Lgss,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Default => "default",
            ModelKind::Wavenet => "wavenet",
            ModelKind::Bilstm => "bilstm",
            ModelKind::Lgss => "lgss",
        }
    }

    /// Epochs to train by default (early stopping usually ends sooner). LGSS is the costliest
    /// per epoch by far and its published recipe trains for only a few.
    pub fn default_epochs(self) -> usize {
        match self {
            ModelKind::Default => 30,
            ModelKind::Wavenet => 40,
            ModelKind::Bilstm => 30,
            ModelKind::Lgss => 6,
        }
    }

    /// Whole movies per optimisation step, and per forward pass when validating and predicting
    /// (candle keeps a forward pass's intermediates alive until its output is dropped). LGSS
    /// holds several `[windows, 2560]` sequences and their LSTM graph per movie: four
    /// full-length movies at once exceeded 15 GB.
    pub fn default_batch_movies(self) -> usize {
        match self {
            ModelKind::Lgss => 1,
            _ => 4,
        }
    }

    /// Shots per training piece (see `TrainSettings::chunk_shots`): the BiLSTM, whose cost is
    /// one step per shot of the longest sequence, trains on pieces; the others on whole movies.
    pub fn default_chunk_shots(self) -> Option<usize> {
        match self {
            ModelKind::Bilstm => Some(128),
            _ => None,
        }
    }

    /// The published (or, for ours, measured) hyperparameters.
    pub fn default_config(self) -> ModelConfig {
        match self {
            ModelKind::Default => ModelConfig::Default(multiscale::Config::default()),
            ModelKind::Wavenet => ModelConfig::Wavenet(wavenet::Config::default()),
            ModelKind::Bilstm => ModelConfig::Bilstm(bilstm::Config::default()),
            ModelKind::Lgss => ModelConfig::Lgss(lgss::Config::default()),
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A model's kind and hyperparameters, as stored in a checkpoint's `config.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    Default(multiscale::Config),
    Wavenet(wavenet::Config),
    Bilstm(bilstm::Config),
    Lgss(lgss::Config),
}

impl ModelConfig {
    pub fn kind(&self) -> ModelKind {
        match self {
            ModelConfig::Default(_) => ModelKind::Default,
            ModelConfig::Wavenet(_) => ModelKind::Wavenet,
            ModelConfig::Bilstm(_) => ModelKind::Bilstm,
            ModelConfig::Lgss(_) => ModelKind::Lgss,
        }
    }

    /// The feature widths the model reads.
    pub fn input_dims(&self) -> FeatureDims {
        match self {
            ModelConfig::Default(c) => c.input_dims,
            ModelConfig::Wavenet(c) => c.input_dims,
            ModelConfig::Bilstm(c) => c.input_dims,
            ModelConfig::Lgss(c) => c.input_dims,
        }
    }

    /// This config for features of widths `dims` (a data set's, see
    /// [`crate::train::normalize::dims_of`]).
    pub fn with_input_dims(&self, dims: FeatureDims) -> ModelConfig {
        let mut cfg = self.clone();
        match &mut cfg {
            ModelConfig::Default(c) => c.input_dims = dims,
            ModelConfig::Wavenet(c) => c.input_dims = dims,
            ModelConfig::Bilstm(c) => c.input_dims = dims,
            ModelConfig::Lgss(c) => c.input_dims = dims,
        }
        cfg
    }

    /// Learning rate the model trains well with under AdamW.
    pub fn learning_rate(&self) -> f64 {
        match self {
            ModelConfig::Default(c) => c.learning_rate,
            ModelConfig::Wavenet(c) => c.learning_rate,
            ModelConfig::Bilstm(c) => c.learning_rate,
            ModelConfig::Lgss(c) => c.learning_rate,
        }
    }
}

/// Any of the models, built from its config.
pub enum Model {
    Default(multiscale::MultiScale),
    Wavenet(wavenet::WaveNet),
    Bilstm(bilstm::BiLstmModel),
    Lgss(lgss::Lgss),
    /// A SceneSeg LGSS checkpoint ([`sceneseg`]): it scores raw features with SceneSeg's own
    /// windowing and has no SceneLab parameters, so it scores and never trains.
    SceneSeg(Box<sceneseg::SceneSegLgss>),
}

impl Model {
    pub fn new(cfg: &ModelConfig, vb: VarBuilder) -> Result<Model> {
        Ok(match cfg {
            ModelConfig::Default(c) => Model::Default(multiscale::MultiScale::new(c, vb)?),
            ModelConfig::Wavenet(c) => Model::Wavenet(wavenet::WaveNet::new(c, vb)?),
            ModelConfig::Bilstm(c) => Model::Bilstm(bilstm::BiLstmModel::new(c, vb)?),
            ModelConfig::Lgss(c) => Model::Lgss(lgss::Lgss::new(c, vb)?),
        })
    }
}

impl BoundaryModel for Model {
    fn forward(&self, batch: &ShotBatch, train: bool) -> Result<Tensor> {
        match self {
            Model::Default(m) => m.forward(batch, train),
            Model::Wavenet(m) => m.forward(batch, train),
            Model::Bilstm(m) => m.forward(batch, train),
            Model::Lgss(m) => m.forward(batch, train),
            Model::SceneSeg(m) => m.forward_batch(batch),
        }
    }
}

/// A [`VarMap`] whose new variables are drawn from a seeded generator, so that building a
/// model twice with the same seed gives the same weights (candle's CPU generator cannot be
/// seeded).
pub struct SeededVarMap {
    map: VarMap,
    rng: Mutex<ChaCha8Rng>,
}

impl SeededVarMap {
    pub fn new(map: VarMap, seed: u64) -> SeededVarMap {
        SeededVarMap {
            map,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// A VarBuilder creating its variables in `map`, initialised from `seed`.
    pub fn var_builder(map: &VarMap, seed: u64, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(
            Box::new(SeededVarMap::new(map.clone(), seed)),
            DType::F32,
            device.clone(),
        )
    }

    fn draw(&self, shape: &Shape, init: Init) -> Vec<f32> {
        let n = shape.elem_count();
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let uniform = |rng: &mut ChaCha8Rng, lo: f64, up: f64| -> Vec<f32> {
            (0..n)
                .map(|_| (lo + (up - lo) * rng.random::<f64>()) as f32)
                .collect()
        };
        let normal = |rng: &mut ChaCha8Rng, mean: f64, std: f64| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    (mean + std * z) as f32
                })
                .collect()
        };
        match init {
            Init::Const(c) => vec![c as f32; n],
            Init::Uniform { lo, up } => uniform(&mut rng, lo, up),
            Init::Randn { mean, stdev } => normal(&mut rng, mean, stdev),
            Init::Kaiming {
                dist,
                fan,
                non_linearity,
            } => {
                let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
                match dist {
                    candle_nn::init::NormalOrUniform::Uniform => {
                        let bound = 3f64.sqrt() * std;
                        uniform(&mut rng, -bound, bound)
                    }
                    candle_nn::init::NormalOrUniform::Normal => normal(&mut rng, 0.0, std),
                }
            }
        }
    }
}

impl candle_nn::var_builder::SimpleBackend for SeededVarMap {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        let mut data = self.map.data().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(var) = data.get(name) {
            if var.shape() != &s {
                candle_core::bail!(
                    "variable {name} has shape {:?}, expected {s:?}",
                    var.shape()
                );
            }
            return Ok(var.as_tensor().clone());
        }
        let values = self.draw(&s, h);
        let var = Var::from_tensor(&Tensor::from_vec(values, s, dev)?.to_dtype(dtype)?)?;
        let t = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> Result<Tensor> {
        let data = self.map.data().lock().unwrap_or_else(|e| e.into_inner());
        match data.get(name) {
            Some(v) => Ok(v.as_tensor().clone()),
            None => candle_core::bail!("no variable named {name}"),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        let data = self.map.data().lock().unwrap_or_else(|e| e.into_inner());
        data.contains_key(name)
    }
}

/// Torch's default init for a layer with `fan_in` inputs: uniform in ±1/√fan_in.
pub(crate) fn torch_uniform(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}
