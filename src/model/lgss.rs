//! LGSS (Rao et al., "A Local-to-Global Approach to Multi-modal Movie Scene Segmentation",
//! CVPR 2020), as the MovieScenes repository runs it and `torch_baselines.py` reproduces it.
//!
//! Per modality, a boundary network looks at a window of 4 shots: a convolution across the
//! window (512 channels, kernel 4 × 1) followed by the max over the channels gives one value
//! per feature, and the cosine similarity of the two half-windows after a shared convolution
//! (512 channels, kernel 2 × 1) gives one value per channel. A BiLSTM runs over sequences of
//! 10 consecutive windows, two dense layers give two-class logits per window, and the four
//! branches are summed with weights 0.5 / 0.2 / 0.2 / 0.1 (place / cast / action / audio).
//! Window `i` covers shots `i..i+4` and scores the boundary after its second shot.
//!
//! Two exact rewrites keep whole movies batched on a CPU: the channel-max convolution is a
//! custom op that never materialises the `[windows, features, 512]` tensor (it keeps the
//! arg-max for the backward pass), and the half-window cosine similarity is computed from the
//! 4×4 Gram matrix and row sums of each window, since a convolution over rows is a linear map
//! of them (a `[windows, 512, features]` tensor is never built either).
//!
//! On a GPU the channel max runs as plain tensor ops: the arg-max channels are found piecewise
//! outside the autograd graph (at most 1 GiB of convolution output at a time), and the
//! gradients are built from them alone, so a full-size movie's place branch (3,000 windows ×
//! 2,048 features × 512 channels, 12.6 GB as one tensor) needs a few hundred megabytes in the
//! graph instead.

use candle_core::{
    CpuStorage, CudaStorage, CustomOp3, Device, Layout, MetalStorage, Result, Shape, Storage,
    Tensor,
};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use super::layers::{BiLstmLayer, Dense, reverse_index};
use super::{BoundaryModel, ShotBatch, torch_uniform};
use crate::data::{FeatureDims, Modality};

/// Shots per window (the convolution's height).
pub(super) const WINDOW: usize = 4;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    /// Feature widths per modality (from the data set it trains on): each branch reads its
    /// modality's columns of the concatenated features.
    pub input_dims: FeatureDims,
    /// Channels of both window convolutions.
    pub channels: usize,
    /// Windows per BiLSTM sequence.
    pub seq_len: usize,
    /// LSTM units per direction.
    pub hidden: usize,
    /// Width of the first dense layer.
    pub dense: usize,
    /// Branch weights, in [`Modality::ALL`] order.
    pub weights: [f64; 4],
    pub learning_rate: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            input_dims: FeatureDims::CHALLENGE,
            channels: 512,
            seq_len: 10,
            hidden: 512,
            dense: 100,
            weights: [0.5, 0.2, 0.2, 0.1],
            learning_rate: 1e-3,
        }
    }
}

/// `out[b, i, d] = max_c (Σ_k w[c, k] · x[b, i + k, d] + bias[c])` for windows of
/// [`WINDOW`] rows: a convolution across the window followed by the max over channels.
/// The forward pass keeps each output's arg-max channel for the backward pass, which would
/// otherwise redo the whole window convolution to find them again.
#[derive(Default)]
struct WindowChannelMax {
    args: std::sync::Mutex<Option<Vec<u32>>>,
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("window-max: {what} must be contiguous");
    };
    Ok(&s.as_slice::<f32>()?[start..end])
}

/// Per (batch, window) row of `d` features: the max over channels and the arg-max channel
/// (the first on ties). Branch-free selects, so the loop over features vectorises: this is
/// LGSS's hottest loop, run in the forward pass and again in the backward one.
fn window_max_row(x: &[f32], d: usize, w: &[f32], bias: &[f32], out: &mut [f32], arg: &mut [u32]) {
    let out = &mut out[..d];
    let arg = &mut arg[..d];
    out.fill(f32::NEG_INFINITY);
    arg.fill(0);
    // Equal-length slices zipped: no bounds checks left in the loop, so it vectorises.
    let (r0, rest) = x[..WINDOW * d].split_at(d);
    let (r1, rest) = rest.split_at(d);
    let (r2, r3) = rest.split_at(d);
    for (c, &bc) in bias.iter().enumerate() {
        let [w0, w1, w2, w3] = [
            w[c * WINDOW],
            w[c * WINDOW + 1],
            w[c * WINDOW + 2],
            w[c * WINDOW + 3],
        ];
        let c = c as u32;
        let cells = out.iter_mut().zip(arg.iter_mut());
        let inputs = r0.iter().zip(r1).zip(r2.iter().zip(r3));
        for ((o, a), ((&x0, &x1), (&x2, &x3))) in cells.zip(inputs) {
            let v = w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + bc;
            let better = v > *o;
            *o = if better { v } else { *o };
            *a = if better { c } else { *a };
        }
    }
}

impl CustomOp3 for WindowChannelMax {
    fn name(&self) -> &'static str {
        "window-channel-max"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (b, t, d) = l1.shape().dims3()?;
        let x = contiguous(s1, l1, "x")?;
        let w = contiguous(s2, l2, "weight")?;
        let bias = contiguous(s3, l3, "bias")?;
        let nw = t + 1 - WINDOW;
        let mut out = vec![0f32; b * nw * d];
        let mut args = vec![0u32; b * nw * d];
        out.par_chunks_mut(d)
            .zip(args.par_chunks_mut(d))
            .enumerate()
            .for_each(|(row, (o, a))| {
                let (bi, i) = (row / nw, row % nw);
                let xs = &x[(bi * t + i) * d..(bi * t + i + WINDOW) * d];
                window_max_row(xs, d, w, bias, o, a);
            });
        *self.args.lock().unwrap_or_else(|e| e.into_inner()) = Some(args);
        Ok((CpuStorage::F32(out), Shape::from((b, nw, d))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, t, d) = x.dims3()?;
        let c = bias.dim(0)?;
        let nw = t + 1 - WINDOW;
        let xv = x.flatten_all()?.to_vec1::<f32>()?;
        let wv = w.flatten_all()?.to_vec1::<f32>()?;
        let bv = bias.to_vec1::<f32>()?;
        let gv = grad.flatten_all()?.to_vec1::<f32>()?;
        let saved = self
            .args
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .filter(|a| a.len() == b * nw * d);
        // One movie per task: windows of a movie overlap in x, so its gradient rows are
        // accumulated by one thread; weight and bias gradients are summed afterwards.
        let parts: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = (0..b)
            .into_par_iter()
            .map(|bi| {
                let mut gx = vec![0f32; t * d];
                let mut gw = vec![0f32; c * WINDOW];
                let mut gb = vec![0f32; c];
                let mut out = vec![0f32; d];
                let mut recomputed = vec![0u32; d];
                for i in 0..nw {
                    let xs = &xv[(bi * t + i) * d..(bi * t + i + WINDOW) * d];
                    let row = (bi * nw + i) * d..(bi * nw + i + 1) * d;
                    let arg: &[u32] = match &saved {
                        Some(a) => &a[row.clone()],
                        None => {
                            window_max_row(xs, d, &wv, &bv, &mut out, &mut recomputed);
                            &recomputed
                        }
                    };
                    let g = &gv[row];
                    for j in 0..d {
                        let a = arg[j] as usize;
                        let gj = g[j];
                        gb[a] += gj;
                        for k in 0..WINDOW {
                            gx[(i + k) * d + j] += gj * wv[a * WINDOW + k];
                            gw[a * WINDOW + k] += gj * xs[k * d + j];
                        }
                    }
                }
                (gx, gw, gb)
            })
            .collect();
        let mut gx = Vec::with_capacity(b * t * d);
        let mut gw = vec![0f32; c * WINDOW];
        let mut gb = vec![0f32; c];
        for (px, pw, pb) in parts {
            gx.extend(px);
            gw.iter_mut().zip(pw).for_each(|(a, v)| *a += v);
            gb.iter_mut().zip(pb).for_each(|(a, v)| *a += v);
        }
        let dev = x.device();
        Ok((
            Some(Tensor::from_vec(gx, (b, t, d), dev)?),
            Some(Tensor::from_vec(gw, (c, WINDOW), dev)?),
            Some(Tensor::from_vec(gb, c, dev)?),
        ))
    }
}

/// The window convolution + channel max, `[b, t, d]` → `[b, t - 3, d]`.
pub(crate) fn window_channel_max(x: &Tensor, w: &Tensor, bias: &Tensor) -> Result<Tensor> {
    if matches!(x.device(), Device::Cpu) {
        return x.contiguous()?.apply_op3(
            &w.contiguous()?,
            &bias.contiguous()?,
            WindowChannelMax::default(),
        );
    }
    window_channel_max_by_args(x, w, bias)
}

/// `x`'s windows side by side: `[b, t, d]` → `[b, t - 3, d, WINDOW]`.
fn window_stack(x: &Tensor) -> Result<Tensor> {
    let nw = x.dim(1)? + 1 - WINDOW;
    let rows: Vec<Tensor> = (0..WINDOW)
        .map(|k| x.narrow(1, k, nw))
        .collect::<Result<_>>()?;
    Tensor::stack(&rows, 3)?.contiguous()
}

/// Convolution outputs (`[rows, channels]` f32) one piece of the arg-max search holds: 1 GiB.
const ARGMAX_PIECE_ELEMENTS: usize = 1 << 28;

/// [`window_channel_max`] in plain tensor ops, for any device: the max and arg-max channel of
/// every output are found piecewise outside the autograd graph, then [`WindowMaxFromArgs`]
/// puts the result in the graph with gradients built from the arg-max channels alone.
fn window_channel_max_by_args(x: &Tensor, w: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (xd, wd, bd) = (x.detach(), w.detach(), bias.detach());
    let (b, t, d) = xd.dims3()?;
    let c = bd.dim(0)?;
    let nw = t + 1 - WINDOW;
    let n = b * nw * d;
    let windows = window_stack(&xd)?.reshape((n, WINDOW))?;
    let wt = wd.t()?.contiguous()?; // [WINDOW, c]
    let piece = (ARGMAX_PIECE_ELEMENTS / c.max(1)).max(1);
    let (mut maxes, mut args) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < n {
        let len = piece.min(n - start);
        let z = windows
            .narrow(0, start, len)?
            .matmul(&wt)?
            .broadcast_add(&bd)?;
        maxes.push(z.max(1)?);
        args.push(z.argmax(1)?);
        start += len;
    }
    let out = Tensor::cat(&maxes, 0)?.reshape((b, nw, d))?;
    let arg = Tensor::cat(&args, 0)?.reshape((b, nw, d))?;
    x.contiguous()?.apply_op3(
        &w.contiguous()?,
        &bias.contiguous()?,
        WindowMaxFromArgs { out, arg },
    )
}

/// The channel max with its output and arg-max channels already computed (on any device):
/// the forward pass hands over `out`, the backward pass routes each output's gradient
/// through its arg-max channel with tensor ops.
struct WindowMaxFromArgs {
    /// `[b, t - 3, d]` f32.
    out: Tensor,
    /// `[b, t - 3, d]` u32: the channel each output took its max from.
    arg: Tensor,
}

impl WindowMaxFromArgs {
    /// A copy of `out`'s storage (its layout is made plain first, since a storage clone
    /// copies the whole buffer).
    fn output(&self) -> Result<(Storage, Shape)> {
        let l = self.out.layout();
        let out = if l.is_contiguous() && l.start_offset() == 0 {
            self.out.clone()
        } else {
            self.out.copy()?
        };
        let (storage, layout) = out.storage_and_layout();
        Ok((storage.try_clone(layout)?, layout.shape().clone()))
    }
}

impl CustomOp3 for WindowMaxFromArgs {
    fn name(&self) -> &'static str {
        "window-channel-max-from-args"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        match self.output()? {
            (Storage::Cpu(s), shape) => Ok((s, shape)),
            _ => candle_core::bail!("window-max: the output was computed on another device"),
        }
    }

    fn cuda_fwd(
        &self,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
        _: &CudaStorage,
        _: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        match self.output()? {
            (Storage::Cuda(s), shape) => Ok((s, shape)),
            _ => candle_core::bail!("window-max: the output was computed on another device"),
        }
    }

    fn metal_fwd(
        &self,
        _: &MetalStorage,
        _: &Layout,
        _: &MetalStorage,
        _: &Layout,
        _: &MetalStorage,
        _: &Layout,
    ) -> Result<(MetalStorage, Shape)> {
        match self.output()? {
            (Storage::Metal(s), shape) => Ok((s, shape)),
            _ => candle_core::bail!("window-max: the output was computed on another device"),
        }
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (x, w) = (x.detach(), w.detach());
        let (b, t, d) = x.dims3()?;
        let c = bias.dim(0)?;
        let nw = t + 1 - WINDOW;
        let n = b * nw * d;
        let arg = self.arg.flatten_all()?;
        let g = grad.detach().contiguous()?.reshape((n, 1))?;
        // x: each output's gradient times its channel's taps, back onto the rows it read.
        let taps = w.index_select(&arg, 0)?.broadcast_mul(&g)?;
        let taps = taps.reshape((b, nw, d, WINDOW))?;
        let mut gx: Option<Tensor> = None;
        for k in 0..WINDOW {
            let part = taps
                .narrow(3, k, 1)?
                .squeeze(3)?
                .pad_with_zeros(1, k, WINDOW - 1 - k)?;
            gx = Some(match gx {
                None => part,
                Some(acc) => (acc + part)?,
            });
        }
        // Weights and bias: per channel, the sums of g·x_k and of g over the outputs it won.
        let windows = window_stack(&x)?.reshape((n, WINDOW))?;
        let values = Tensor::cat(&[windows.broadcast_mul(&g)?, g], 1)?;
        let sums = sum_by_channel(&arg, &values, c)?;
        Ok((
            gx,
            Some(sums.narrow(1, 0, WINDOW)?.contiguous()?),
            Some(sums.narrow(1, WINDOW, 1)?.squeeze(1)?.contiguous()?),
        ))
    }
}

/// Independent running sums in [`sum_by_channel`].
const SCATTER_LANES: usize = 8192;

/// `out[c, j] = Σ values[i, j]` over the rows `i` with `ids[i] == c`: `[n]` u32 and `[n, m]`
/// → `[channels, m]`. Candle's scatter-add runs one thread per destination column, looping
/// over the rows, so the rows are dealt to [`SCATTER_LANES`] columns of their own (a GPU sums
/// them in parallel, deterministically) and the lanes are added up at the end.
fn sum_by_channel(ids: &Tensor, values: &Tensor, channels: usize) -> Result<Tensor> {
    let (n, m) = values.dims2()?;
    let lanes = SCATTER_LANES.min(n.max(1));
    let rows = n.div_ceil(lanes);
    let pad = rows * lanes - n;
    // Padded rows add zeros to channel 0.
    let values = values
        .pad_with_zeros(0, 0, pad)?
        .reshape((rows, lanes * m))?;
    let ids = ids
        .pad_with_zeros(0, 0, pad)?
        .reshape((rows, lanes, 1))?
        .broadcast_as((rows, lanes, m))?
        .contiguous()?
        .reshape((rows, lanes * m))?;
    Tensor::zeros((channels, lanes * m), values.dtype(), values.device())?
        .scatter_add(&ids, &values, 0)?
        .reshape((channels, lanes, m))?
        .sum(1)
}

/// One modality's branch: boundary network, BiLSTM over window sequences, two dense layers.
/// Its variables, under the modality's prefix: `conv.weight [channels, 4]`, `conv.bias`,
/// `cos_conv.weight [channels, 2]`, `cos_conv.bias`, `lstm.*` ([`BiLstmLayer`]),
/// `fc1.*`, `fc2.*` ([`Dense`], weights `[in, out]`).
pub(super) struct Branch {
    dim: usize,
    conv_w: Tensor,
    conv_b: Tensor,
    cos_w: Tensor,
    cos_b: Tensor,
    lstm: BiLstmLayer,
    fc1: Dense,
    fc2: Dense,
}

impl Branch {
    /// A branch reading `dim` features per shot; `cfg`'s channels, hidden and dense sizes.
    pub(super) fn new(dim: usize, cfg: &Config, vb: VarBuilder) -> Result<Branch> {
        let c = cfg.channels;
        let conv_init = torch_uniform(WINDOW);
        let cos_init = torch_uniform(WINDOW / 2);
        Ok(Branch {
            dim,
            conv_w: vb.get_with_hints((c, WINDOW), "conv.weight", conv_init)?,
            conv_b: vb.get_with_hints(c, "conv.bias", conv_init)?,
            cos_w: vb.get_with_hints((c, WINDOW / 2), "cos_conv.weight", cos_init)?,
            cos_b: vb.get_with_hints(c, "cos_conv.bias", cos_init)?,
            lstm: BiLstmLayer::new(dim + c, cfg.hidden, vb.pp("lstm"))?,
            fc1: Dense::new(2 * cfg.hidden, cfg.dense, vb.pp("fc1"))?,
            fc2: Dense::new(cfg.dense, 2, vb.pp("fc2"))?,
        })
    }

    /// Cosine similarity per channel of the convolved half-windows, `[b, t - 3, channels]`,
    /// from each window's row Gram matrix and row sums.
    fn half_window_cosine(&self, x: &Tensor) -> Result<Tensor> {
        let t = x.dim(1)?;
        let nw = t + 1 - WINDOW;
        // lag[l][t] = x[t] · x[t + l]
        let lag: Vec<Tensor> = (0..WINDOW)
            .map(|l| (x.narrow(1, 0, t - l)? * x.narrow(1, l, t - l)?)?.sum(2))
            .collect::<Result<_>>()?;
        let sums = x.sum(2)?;
        let at = |v: &Tensor, start: usize| v.narrow(1, start, nw);
        // Window rows x0..x3; q's columns in the order the coefficient rows below use.
        let q = Tensor::stack(
            &[
                at(&lag[2], 0)?, // x0·x2
                at(&lag[3], 0)?, // x0·x3
                at(&lag[1], 1)?, // x1·x2
                at(&lag[2], 1)?, // x1·x3
                at(&sums, 0)?,
                at(&sums, 1)?,
                at(&sums, 2)?,
                at(&sums, 3)?,
                at(&lag[0], 0)?, // x0·x0
                at(&lag[1], 0)?, // x0·x1
                at(&lag[0], 1)?, // x1·x1
                at(&lag[0], 2)?, // x2·x2
                at(&lag[1], 2)?, // x2·x3
                at(&lag[0], 3)?, // x3·x3
            ],
            2,
        )?;
        // Half-window a = u0·x0 + u1·x1 + β (per channel), b likewise on x2, x3.
        let u0 = self.cos_w.narrow(1, 0, 1)?.squeeze(1)?;
        let u1 = self.cos_w.narrow(1, 1, 1)?.squeeze(1)?;
        let beta = &self.cos_b;
        let aa = u0.sqr()?;
        let ab = (&u0 * &u1)?;
        let bb = u1.sqr()?;
        let ab2 = (&ab * 2.0)?;
        let bu0 = (beta * &u0)?;
        let bu1 = (beta * &u1)?;
        let bu0_2 = (&bu0 * 2.0)?;
        let bu1_2 = (&bu1 * 2.0)?;
        let zero = beta.zeros_like()?;
        let coef = |rows: [&Tensor; 14]| Tensor::stack(&rows, 0);
        let k_dot = coef([
            &aa, &ab, &ab, &bb, &bu0, &bu1, &bu0, &bu1, &zero, &zero, &zero, &zero, &zero, &zero,
        ])?;
        let k_a = coef([
            &zero, &zero, &zero, &zero, &bu0_2, &bu1_2, &zero, &zero, &aa, &ab2, &bb, &zero, &zero,
            &zero,
        ])?;
        let k_b = coef([
            &zero, &zero, &zero, &zero, &zero, &zero, &bu0_2, &bu1_2, &zero, &zero, &zero, &aa,
            &ab2, &bb,
        ])?;
        let constant = (beta.sqr()? * self.dim as f64)?;
        let dot = q.broadcast_matmul(&k_dot)?.broadcast_add(&constant)?;
        let na = q.broadcast_matmul(&k_a)?.broadcast_add(&constant)?;
        let nb = q.broadcast_matmul(&k_b)?.broadcast_add(&constant)?;
        let denom = (na.clamp(0f32, f32::MAX)? * nb.clamp(0f32, f32::MAX)?)?
            .clamp(1e-16f32, f32::MAX)?
            .sqrt()?;
        dot / denom
    }

    /// The boundary network's output per window, `[b, t - 3, dim + channels]`: the window
    /// convolution's max over channels, then the half-window cosine per channel.
    pub(super) fn window_features(&self, x: &Tensor) -> Result<Tensor> {
        let ctx = window_channel_max(x, &self.conv_w, &self.conv_b)?;
        let cos = self.half_window_cosine(x)?;
        Tensor::cat(&[ctx, cos], 2)
    }

    /// Two-class logits `[n, seq, 2]` for sequences of window features `[n, seq, width]`;
    /// `rev` is [`reverse_index`] of the sequences' lengths.
    pub(super) fn sequence_logits(&self, h: &Tensor, rev: &Tensor) -> Result<Tensor> {
        let h = self.lstm.forward(h, rev)?;
        self.fc2.forward(&self.fc1.forward(&h)?.relu()?)
    }

    /// Boundary logit (class 1 minus class 0) per window, `[b, t - 3]`.
    fn forward(&self, x: &Tensor, valid_windows: &[usize], seq_len: usize) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let nw = t + 1 - WINDOW;
        let h = self.window_features(x)?;
        let n_seq = nw.div_ceil(seq_len);
        let h = h.pad_with_zeros(1, 0, n_seq * seq_len - nw)?;
        let width = h.dim(2)?;
        let h = h.reshape((b * n_seq, seq_len, width))?;
        let lengths: Vec<usize> = (0..b)
            .flat_map(|bi| {
                (0..n_seq).map(move |s| valid_windows[bi].saturating_sub(s * seq_len).min(seq_len))
            })
            .collect();
        let rev = reverse_index(&lengths, seq_len, x.device())?;
        let logits = self.sequence_logits(&h, &rev)?; // [b*s, seq, 2]
        let boundary = (logits.narrow(2, 1, 1)? - logits.narrow(2, 0, 1)?)?;
        boundary.reshape((b, n_seq * seq_len))?.narrow(1, 0, nw)
    }
}

pub struct Lgss {
    cfg: Config,
    branches: Vec<Branch>,
}

impl Lgss {
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Lgss> {
        if cfg.seq_len == 0 {
            candle_core::bail!("LGSS needs sequences of at least one window");
        }
        let branches = Modality::ALL
            .iter()
            .map(|&m| Branch::new(cfg.input_dims.get(m), cfg, vb.pp(m.field())))
            .collect::<Result<_>>()?;
        Ok(Lgss {
            cfg: cfg.clone(),
            branches,
        })
    }
}

impl BoundaryModel for Lgss {
    fn forward(&self, batch: &ShotBatch, _train: bool) -> Result<Tensor> {
        let t = batch.shots();
        let b = batch.batch_size();
        // A movie shorter than a window still gets one (zero-padded) window.
        let x = batch.x.pad_with_zeros(1, 0, WINDOW.saturating_sub(t))?;
        let padded_t = x.dim(1)?;
        let nw = padded_t + 1 - WINDOW;
        let valid: Vec<usize> = batch
            .lengths
            .iter()
            .map(|&n| (n + 1).saturating_sub(WINDOW).max(1))
            .collect();
        let mut total: Option<Tensor> = None;
        for ((m, branch), weight) in Modality::ALL
            .iter()
            .zip(&self.branches)
            .zip(self.cfg.weights)
        {
            let r = self.cfg.input_dims.range(*m);
            let xm = x.narrow(2, r.start, r.len())?.contiguous()?;
            let logit = (branch.forward(&xm, &valid, self.cfg.seq_len)? * weight)?;
            total = Some(match total {
                None => logit,
                Some(acc) => (acc + logit)?,
            });
        }
        let Some(per_window) = total else {
            candle_core::bail!("LGSS has no branches");
        };
        // Transition j (after shot j) is window j - 1's boundary; the first and last
        // transitions, which no window centres on, take their nearest window's score.
        let transitions = t.saturating_sub(1);
        let mut idx = Vec::with_capacity(b * transitions);
        for (bi, &v) in valid.iter().enumerate() {
            for j in 0..transitions {
                let w = j.saturating_sub(1).min(v - 1);
                idx.push((bi * nw + w) as u32);
            }
        }
        let idx = Tensor::from_vec(idx, b * transitions, x.device())?;
        per_window
            .contiguous()?
            .flatten_all()?
            .index_select(&idx, 0)?
            .reshape((b, transitions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Var};

    fn random(shape: &[usize], seed: u64) -> Tensor {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn dense_window_max(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
        let nw = x.dim(1).unwrap() + 1 - WINDOW;
        let rows: Vec<Tensor> = (0..WINDOW).map(|k| x.narrow(1, k, nw).unwrap()).collect();
        Tensor::stack(&rows, 3)
            .unwrap()
            .contiguous()
            .unwrap()
            .broadcast_matmul(&w.t().unwrap())
            .unwrap()
            .broadcast_add(b)
            .unwrap()
            .max(D::Minus1)
            .unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn window_max_op_matches_the_dense_formula_forward_and_backward() {
        type Op = fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor>;
        // The CPU's custom op, and the tensor formulation GPUs run (here on the CPU).
        let ops: [(&str, Op); 2] = [
            ("cpu op", window_channel_max),
            ("by arg-max", window_channel_max_by_args),
        ];
        for (name, op) in ops {
            let x = Var::from_tensor(&random(&[2, 9, 5], 1)).unwrap();
            let w = Var::from_tensor(&random(&[7, WINDOW], 2)).unwrap();
            let b = Var::from_tensor(&random(&[7], 3)).unwrap();
            let fast = op(&x, &w, &b).unwrap();
            let slow = dense_window_max(&x, &w, &b);
            assert!(max_abs_diff(&fast, &slow) < 1e-5, "{name}");
            let g = random(&[2, 6, 5], 4);
            let gf = (&fast * &g).unwrap().sum_all().unwrap().backward().unwrap();
            let gs = (&slow * &g).unwrap().sum_all().unwrap().backward().unwrap();
            for v in [&x, &w, &b] {
                let d = max_abs_diff(gf.get(v).unwrap(), gs.get(v).unwrap());
                assert!(d < 1e-4, "{name}: gradient differs by {d}");
            }
        }
    }

    #[test]
    fn channel_sums_add_every_row_to_its_channel() {
        let (n, m, c) = (SCATTER_LANES + 3, 2, 5);
        let ids: Vec<u32> = (0..n).map(|i| (i * 7 % c) as u32).collect();
        let values: Vec<f32> = (0..n * m).map(|i| (i % 11) as f32).collect();
        let mut want = vec![0f32; c * m];
        for i in 0..n {
            for j in 0..m {
                want[ids[i] as usize * m + j] += values[i * m + j];
            }
        }
        let got = sum_by_channel(
            &Tensor::from_vec(ids, n, &Device::Cpu).unwrap(),
            &Tensor::from_vec(values, (n, m), &Device::Cpu).unwrap(),
            c,
        )
        .unwrap();
        assert_eq!(got.flatten_all().unwrap().to_vec1::<f32>().unwrap(), want);
    }

    #[test]
    fn gram_cosine_equals_convolve_then_cosine() {
        let dim = 6;
        let cfg = Config {
            channels: 5,
            hidden: 3,
            dense: 4,
            ..Config::default()
        };
        let map = candle_nn::VarMap::new();
        let vb = crate::model::SeededVarMap::var_builder(&map, 7, &Device::Cpu);
        let branch = Branch::new(dim, &cfg, vb).unwrap();
        let x = random(&[2, 8, dim], 5);
        let fast = branch.half_window_cosine(&x).unwrap();
        let nw = 8 + 1 - WINDOW;
        // Direct: a[c, d] = u0 x0[d] + u1 x1[d] + β, b likewise on x2, x3.
        let half = |k: usize| -> Tensor {
            let r0 = x.narrow(1, k, nw).unwrap().unsqueeze(2).unwrap();
            let r1 = x.narrow(1, k + 1, nw).unwrap().unsqueeze(2).unwrap();
            let u0 = branch
                .cos_w
                .narrow(1, 0, 1)
                .unwrap()
                .reshape((1, 1, 5, 1))
                .unwrap();
            let u1 = branch
                .cos_w
                .narrow(1, 1, 1)
                .unwrap()
                .reshape((1, 1, 5, 1))
                .unwrap();
            let beta = branch.cos_b.reshape((1, 1, 5, 1)).unwrap();
            (r0.broadcast_mul(&u0).unwrap() + r1.broadcast_mul(&u1).unwrap())
                .unwrap()
                .broadcast_add(&beta)
                .unwrap()
        };
        let (a, b) = (half(0), half(2));
        let dot = (&a * &b).unwrap().sum(3).unwrap();
        let na = a.sqr().unwrap().sum(3).unwrap().sqrt().unwrap();
        let nb = b.sqr().unwrap().sum(3).unwrap().sqrt().unwrap();
        let slow = (dot / (na * nb).unwrap()).unwrap();
        assert!(max_abs_diff(&fast, &slow) < 1e-4);
    }
}
