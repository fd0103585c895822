//! WaveNet, as the challenge notebook builds it in Keras: stacks of dilated 1-D convolutions
//! (kernel 2, dilation doubling per layer, 'same' padding with `r/2` zeros on the left and
//! `r - r/2` on the right), ReLU after each, a 1×1 convolution and one sigmoid output per shot.
//!
//! The output at shot `i + 1` is the boundary after shot `i`: the notebook pre-pads the labels
//! by one, and `/work/shared/baselines/torch_baselines.py` aligns them the same way.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Dense, TemporalConv};
use super::{BoundaryModel, ShotBatch};
use crate::data::FeatureDims;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// Feature widths per modality (from the data set it trains on); the model reads their
    /// concatenation, `input_dims.total()` columns a shot.
    pub input_dims: FeatureDims,
    /// Layers per block; layer `k` of a block has dilation `2^k`.
    pub num_layers: usize,
    pub num_blocks: usize,
    /// Filters of every dilated convolution.
    pub filters: usize,
    /// Filters of the final 1×1 convolution.
    pub last_filters: usize,
    /// AdamW learning rate (the tuned notebook setting: Adam at 1e-3).
    pub learning_rate: f64,
    /// Draw the dilated convolutions' weights with He (Kaiming) initialisation and zero
    /// biases instead of torch's default (uniform ±1/√fan_in). With torch's default, each of
    /// the 27 narrow ReLU layers shrinks the signal's variance about six-fold, so nothing
    /// reaches the output and the model does not learn (measured on full-size demo data:
    /// test mAP 0.09, no better than chance, for us and for `torch_baselines.py`).
    pub he_init: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            input_dims: FeatureDims::CHALLENGE,
            num_layers: 9,
            num_blocks: 3,
            filters: 13,
            last_filters: 10,
            learning_rate: 1e-3,
            he_init: true,
        }
    }
}

impl Config {
    /// Dilation of every convolution, in order.
    pub fn rates(&self) -> Vec<usize> {
        (0..self.num_blocks)
            .flat_map(|_| (0..self.num_layers).map(|k| 1usize << k))
            .collect()
    }
}

pub struct WaveNet {
    convs: Vec<TemporalConv>,
    last: Dense,
    out: Dense,
}

impl WaveNet {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<WaveNet> {
        let mut convs = Vec::new();
        let mut channels = cfg.input_dims.total();
        for (i, r) in cfg.rates().into_iter().enumerate() {
            let (w_init, b_init) = if cfg.he_init {
                // fan_in = channels × kernel; ReLU gain √2.
                let std = (2.0 / (channels * 2) as f64).sqrt();
                (
                    candle_nn::Init::Randn {
                        mean: 0.0,
                        stdev: std,
                    },
                    candle_nn::Init::Const(0.0),
                )
            } else {
                let init = crate::model::torch_uniform(channels * 2);
                (init, init)
            };
            convs.push(TemporalConv::with_init(
                channels,
                cfg.filters,
                2,
                r,
                r / 2,
                w_init,
                b_init,
                vb.pp(format!("conv{i}")),
            )?);
            channels = cfg.filters;
        }
        Ok(WaveNet {
            convs,
            last: Dense::new(cfg.filters, cfg.last_filters, vb.pp("last"))?,
            out: Dense::new(cfg.last_filters, 1, vb.pp("out"))?,
        })
    }

    /// One logit per shot `[batch, shots]`.
    pub fn per_shot(&self, batch: &ShotBatch) -> Result<Tensor> {
        let mut h = batch.x.clone();
        for conv in &self.convs {
            h = conv.forward(&h)?.relu()?.broadcast_mul(&batch.mask)?;
        }
        let h = self.last.forward(&h)?;
        self.out.forward(&h)?.squeeze(2)
    }
}

impl BoundaryModel for WaveNet {
    fn forward(&self, batch: &ShotBatch, _train: bool) -> Result<Tensor> {
        let per_shot = self.per_shot(batch)?;
        let t = per_shot.dim(1)?;
        per_shot.narrow(1, 1, t.saturating_sub(1))
    }
}
