//! SceneLab's default model: multi-scale window similarities + a small temporal convolution
//! network.
//!
//! Why this design: a scene boundary is where what comes after a shot stops resembling what
//! came before it, at some time scale, in some modality (place changes with the set, cast with
//! the characters, audio with the music). So for every transition `t` (after shot `t`) and every
//! modality, the model measures the cosine similarity of the mean of the `w` shots ending at `t`
//! with the mean of the `w` shots starting at `t + 1`, for `w` = 1, 2, 4, 8, 16: 20 parameter-free
//! features that already carry most of the signal and cannot overfit the 57 training movies.
//! A learned low-rank projection of all 3,584 features (64 by default) adds what cosine
//! similarity misses: the left-minus-right difference of the projected window means at a few
//! widths, so the model can learn which directions of change matter. A few dilated temporal
//! convolutions over the transitions then compare each transition with its neighbours (a scene
//! boundary is a local maximum of dissimilarity, and scenes rarely last one shot) before one
//! logit per transition.
//!
//! Cost is linear in the number of shots with a few dozen whole-batch tensor ops (window sums
//! by doubling, no per-shot work), so it trains in seconds per epoch on two cores.

use candle_core::{D, Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Dense, TemporalConv, left_box_sums, shift_time};
use super::{BoundaryModel, FEATURE_DIM, ShotBatch, modality_range};
use crate::data::Modality;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    pub input_dim: usize,
    /// Window widths (powers of two) of the per-modality cosine similarities.
    pub similarity_widths: Vec<usize>,
    /// Width of the learned projection.
    pub projection_dim: usize,
    /// Window widths (powers of two) of the projected left-minus-right differences.
    pub difference_widths: Vec<usize>,
    /// Channels of the temporal convolutions.
    pub hidden: usize,
    /// Kernel of the temporal convolutions.
    pub kernel: usize,
    /// One temporal convolution per dilation.
    pub dilations: Vec<usize>,
    pub learning_rate: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            input_dim: FEATURE_DIM,
            similarity_widths: vec![1, 2, 4, 8, 16],
            projection_dim: 64,
            difference_widths: vec![2, 8],
            hidden: 64,
            kernel: 3,
            dilations: vec![1, 2, 4],
            learning_rate: 2e-3,
        }
    }
}

pub struct MultiScale {
    cfg: Config,
    projection: Dense,
    convs: Vec<TemporalConv>,
    out: Dense,
}

fn check_widths(name: &str, widths: &[usize]) -> Result<()> {
    if widths.is_empty() || widths.iter().any(|w| !w.is_power_of_two()) {
        candle_core::bail!("{name} must be non-empty powers of two, got {widths:?}");
    }
    Ok(())
}

impl MultiScale {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<MultiScale> {
        check_widths("similarity_widths", &cfg.similarity_widths)?;
        check_widths("difference_widths", &cfg.difference_widths)?;
        if cfg.input_dim != FEATURE_DIM {
            candle_core::bail!(
                "the default model reads the four modalities ({FEATURE_DIM} features), not {}",
                cfg.input_dim
            );
        }
        let n_features = Modality::ALL.len() * cfg.similarity_widths.len()
            + cfg.projection_dim * cfg.difference_widths.len();
        let mut convs = Vec::new();
        let mut channels = n_features;
        for (i, &d) in cfg.dilations.iter().enumerate() {
            let pad_left = d * (cfg.kernel - 1) / 2;
            convs.push(TemporalConv::new(
                channels,
                cfg.hidden,
                cfg.kernel,
                d,
                pad_left,
                vb.pp(format!("conv{i}")),
            )?);
            channels = cfg.hidden;
        }
        Ok(MultiScale {
            cfg: cfg.clone(),
            projection: Dense::new(cfg.input_dim, cfg.projection_dim, vb.pp("projection"))?,
            convs,
            out: Dense::new(channels, 1, vb.pp("out"))?,
        })
    }

    /// Cosine similarity of left and right window means, per modality and width:
    /// `[batch, shots, modalities * widths]`, row `t` for the transition after shot `t`.
    fn similarities(&self, batch: &ShotBatch) -> Result<Tensor> {
        let x = batch.x.detach();
        // Each shot's modality vector at unit length, so that the window mean weighs shots
        // equally; padding stays zero.
        let mut parts = Vec::new();
        for m in Modality::ALL {
            let r = modality_range(m);
            let xm = x.narrow(2, r.start, r.len())?;
            let norm = (xm.sqr()?.sum_keepdim(2)? + 1e-12)?.sqrt()?;
            parts.push(xm.broadcast_div(&norm)?);
        }
        let unit = Tensor::cat(&parts, 2)?;
        let max_width = self
            .cfg
            .similarity_widths
            .iter()
            .copied()
            .max()
            .unwrap_or(1);
        let sums = left_box_sums(&unit, max_width)?;
        let mut cols = Vec::new();
        for &w in &self.cfg.similarity_widths {
            let left = &sums[w.trailing_zeros() as usize];
            let right = shift_time(left, w as isize)?;
            let dot = (left * &right)?;
            let ll = left.sqr()?;
            let rr = right.sqr()?;
            for m in Modality::ALL {
                let r = modality_range(m);
                let sum = |t: &Tensor| t.narrow(2, r.start, r.len())?.sum_keepdim(2);
                let denom = ((sum(&ll)? * sum(&rr)?)? + 1e-12)?.sqrt()?;
                cols.push((sum(&dot)? / denom)?);
            }
        }
        Tensor::cat(&cols, 2)
    }

    /// Left-minus-right differences of projected window means: `[batch, shots, proj * widths]`.
    fn differences(&self, batch: &ShotBatch) -> Result<Tensor> {
        let z = self
            .projection
            .forward(&batch.x)?
            .broadcast_mul(&batch.mask)?;
        let max_width = self
            .cfg
            .difference_widths
            .iter()
            .copied()
            .max()
            .unwrap_or(1);
        let sums = left_box_sums(&z, max_width)?;
        let counts = left_box_sums(&batch.mask, max_width)?;
        let mut cols = Vec::new();
        for &w in &self.cfg.difference_widths {
            let k = w.trailing_zeros() as usize;
            let left = sums[k].broadcast_div(&counts[k].clamp(1f32, f32::MAX)?)?;
            let right_counts = shift_time(&counts[k], w as isize)?.clamp(1f32, f32::MAX)?;
            let right = shift_time(&sums[k], w as isize)?.broadcast_div(&right_counts)?;
            cols.push((left - right)?);
        }
        Tensor::cat(&cols, 2)
    }
}

impl BoundaryModel for MultiScale {
    fn forward(&self, batch: &ShotBatch, _train: bool) -> Result<Tensor> {
        let t = batch.shots();
        // Room after the last shot for the widest right-hand window, so a window running past
        // a movie's end sums its real shots whatever the batch's padded length.
        let room = self
            .cfg
            .similarity_widths
            .iter()
            .chain(&self.cfg.difference_widths)
            .copied()
            .max()
            .unwrap_or(1);
        let padded = ShotBatch {
            x: batch.x.pad_with_zeros(1, 0, room)?,
            mask: batch.mask.pad_with_zeros(1, 0, room)?,
            lengths: batch.lengths.clone(),
        };
        let batch = &padded;
        // Transition t exists when shot t + 1 does.
        let transition_mask = shift_time(&batch.mask, 1)?;
        let features = Tensor::cat(&[self.similarities(batch)?, self.differences(batch)?], 2)?
            .broadcast_mul(&transition_mask)?;
        let mut h = features;
        for (i, conv) in self.convs.iter().enumerate() {
            let y = conv.forward(&h)?.relu()?.broadcast_mul(&transition_mask)?;
            h = if i == 0 { y } else { (y + h)? };
        }
        let logits = self.out.forward(&h)?.squeeze(D::Minus1)?;
        logits.narrow(1, 0, t.saturating_sub(1))
    }
}
