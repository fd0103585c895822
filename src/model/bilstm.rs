//! BiLSTM: two bidirectional LSTM layers of 32 units over the shot sequence and one sigmoid
//! output per shot. As for WaveNet, the output at shot `i + 1` is the boundary after shot `i`
//! (the backward direction has already seen shot `i + 1`'s successors, the forward one shot
//! `i` and its predecessors).

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{BiLstmLayer, Dense, reverse_index};
use super::{BoundaryModel, ShotBatch};
use crate::data::FeatureDims;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// Feature widths per modality (from the data set it trains on); the model reads their
    /// concatenation, `input_dims.total()` columns a shot.
    pub input_dims: FeatureDims,
    /// Units per direction.
    pub hidden: usize,
    pub layers: usize,
    pub learning_rate: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            input_dims: FeatureDims::CHALLENGE,
            hidden: 32,
            layers: 2,
            learning_rate: 2e-3,
        }
    }
}

pub struct BiLstmModel {
    layers: Vec<BiLstmLayer>,
    out: Dense,
}

impl BiLstmModel {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<BiLstmModel> {
        let mut layers = Vec::new();
        let mut input = cfg.input_dims.total();
        for i in 0..cfg.layers {
            layers.push(BiLstmLayer::new(
                input,
                cfg.hidden,
                vb.pp(format!("lstm{i}")),
            )?);
            input = 2 * cfg.hidden;
        }
        Ok(BiLstmModel {
            layers,
            out: Dense::new(input, 1, vb.pp("out"))?,
        })
    }
}

impl BoundaryModel for BiLstmModel {
    fn forward(&self, batch: &ShotBatch, _train: bool) -> Result<Tensor> {
        let t = batch.shots();
        let rev = reverse_index(&batch.lengths, t, batch.x.device())?;
        let mut h = batch.x.clone();
        for layer in &self.layers {
            h = layer.forward(&h, &rev)?.broadcast_mul(&batch.mask)?;
        }
        let per_shot = self.out.forward(&h)?.squeeze(2)?;
        per_shot.narrow(1, 1, t.saturating_sub(1))
    }
}
