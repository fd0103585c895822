//! Building blocks shared by the models, written for whole-movie batches on a CPU: every layer
//! works on `[batch, time, channels]` with a handful of large tensor ops, never per shot.

use candle_core::{D, Device, Result, Tensor};
use candle_nn::VarBuilder;

use super::torch_uniform;

/// `y[t] = x[t + offset]` along dim 1, zero where `t + offset` falls outside.
pub fn shift_time(x: &Tensor, offset: isize) -> Result<Tensor> {
    let t = x.dim(1)?;
    let k = offset.unsigned_abs();
    if offset == 0 {
        return Ok(x.clone());
    }
    if k >= t {
        return x.zeros_like();
    }
    if offset > 0 {
        x.narrow(1, k, t - k)?.pad_with_zeros(1, 0, k)
    } else {
        x.narrow(1, 0, t - k)?.pad_with_zeros(1, k, 0)
    }
}

/// A dense layer on the last dimension, initialised as torch's `nn.Linear`.
#[derive(Debug, Clone)]
pub struct Dense {
    /// `[in, out]`, so `x.matmul(w)` needs no transpose.
    w: Tensor,
    b: Tensor,
}

impl Dense {
    pub fn new(input: usize, output: usize, vb: VarBuilder) -> Result<Dense> {
        let init = torch_uniform(input);
        Ok(Dense {
            w: vb.get_with_hints((input, output), "weight", init)?,
            b: vb.get_with_hints(output, "bias", init)?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.broadcast_matmul(&self.w)?.broadcast_add(&self.b)
    }
}

/// A 1-D convolution over time on `[batch, time, channels]` with explicit left/right zero
/// padding (so 'same' padding of an even kernel can be asymmetric, as Keras does).
///
/// It is one matmul producing every tap's output followed by shifted sums: cheaper than
/// im2col when the input is wide (WaveNet's first layer reads 3,584 features) and its
/// backward pass is plain matmul + narrow, fast on a CPU.
#[derive(Debug, Clone)]
pub struct TemporalConv {
    /// `[in, kernel * out]`: tap `j`'s weights are columns `j*out..(j+1)*out`.
    w: Tensor,
    b: Tensor,
    kernel: usize,
    dilation: usize,
    pad_left: usize,
    out: usize,
}

impl TemporalConv {
    pub fn new(
        input: usize,
        output: usize,
        kernel: usize,
        dilation: usize,
        pad_left: usize,
        vb: VarBuilder,
    ) -> Result<TemporalConv> {
        let init = torch_uniform(input * kernel);
        Self::with_init(input, output, kernel, dilation, pad_left, init, init, vb)
    }

    /// As [`TemporalConv::new`], with the weights and the bias drawn from `w_init`, `b_init`.
    #[allow(clippy::too_many_arguments)]
    pub fn with_init(
        input: usize,
        output: usize,
        kernel: usize,
        dilation: usize,
        pad_left: usize,
        w_init: candle_nn::Init,
        b_init: candle_nn::Init,
        vb: VarBuilder,
    ) -> Result<TemporalConv> {
        Ok(TemporalConv {
            w: vb.get_with_hints((input, kernel * output), "weight", w_init)?,
            b: vb.get_with_hints(output, "bias", b_init)?,
            kernel,
            dilation,
            pad_left,
            out: output,
        })
    }

    /// 'same' output length: `pad_left` on the left, the rest on the right.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let taps = x.broadcast_matmul(&self.w)?;
        let mut y: Option<Tensor> = None;
        for j in 0..self.kernel {
            let offset = (j * self.dilation) as isize - self.pad_left as isize;
            let tap = shift_time(&taps.narrow(D::Minus1, j * self.out, self.out)?, offset)?;
            y = Some(match y {
                None => tap,
                Some(acc) => (acc + tap)?,
            });
        }
        match y {
            Some(y) => y.broadcast_add(&self.b),
            None => candle_core::bail!("a convolution needs a kernel of at least 1"),
        }
    }
}

/// Index that reverses each sequence within its own length along the flattened
/// `[batch * time]` axis, leaving padding in place, so a reversed pass starts at each
/// sequence's real end. Its own inverse.
pub fn reverse_index(lengths: &[usize], time: usize, device: &Device) -> Result<Tensor> {
    let mut idx = Vec::with_capacity(lengths.len() * time);
    for (b, &n) in lengths.iter().enumerate() {
        let n = n.min(time);
        let base = (b * time) as u32;
        idx.extend((0..n).rev().map(|t| base + t as u32));
        idx.extend((n..time).map(|t| base + t as u32));
    }
    Tensor::from_vec(idx, lengths.len() * time, device)
}

/// The slices `x[i]` along `dim`, each keeping `dim` with length 1, cut by repeated halving.
///
/// Candle's backward pass of `narrow` adds a zero-padded gradient the size of the whole input,
/// so taking `T` steps with `T` narrows of one tensor costs `T` full-size additions (quadratic
/// in the sequence length: it made a 3,000-shot BiLSTM epoch take minutes). Halving costs one
/// full-size addition per level, `log2 T` in all.
pub fn split_steps(x: &Tensor, dim: usize) -> Result<Vec<Tensor>> {
    fn go(x: &Tensor, dim: usize, out: &mut Vec<Tensor>) -> Result<()> {
        let n = x.dim(dim)?;
        if n <= 1 {
            out.push(x.clone());
            return Ok(());
        }
        let half = n / 2;
        go(&x.narrow(dim, 0, half)?, dim, out)?;
        go(&x.narrow(dim, half, n - half)?, dim, out)
    }
    let mut out = Vec::with_capacity(x.dim(dim)?);
    if x.dim(dim)? > 0 {
        go(x, dim, &mut out)?;
    }
    Ok(out)
}

/// One bidirectional LSTM layer (torch gate order i, f, g, o). Both directions run in the
/// same batched matmuls, and the input projection of every step is one matmul up front, so
/// each time step costs a few small ops whatever the input width.
#[derive(Debug, Clone)]
pub struct BiLstmLayer {
    /// `[in, 8 * hidden]`: forward direction's gates then the backward direction's.
    w_ih: Tensor,
    b: Tensor,
    /// `[2, hidden, 4 * hidden]`.
    w_hh: Tensor,
    hidden: usize,
}

impl BiLstmLayer {
    pub fn new(input: usize, hidden: usize, vb: VarBuilder) -> Result<BiLstmLayer> {
        let init = torch_uniform(hidden);
        Ok(BiLstmLayer {
            w_ih: vb.get_with_hints((input, 8 * hidden), "w_ih", init)?,
            b: vb.get_with_hints(8 * hidden, "bias", init)?,
            w_hh: vb.get_with_hints((2, hidden, 4 * hidden), "w_hh", init)?,
            hidden,
        })
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// `x [batch, time, in]` → `[batch, time, 2 * hidden]` (forward states then backward).
    /// `rev` is [`reverse_index`] for the batch's lengths; outputs on padding are unspecified.
    pub fn forward(&self, x: &Tensor, rev: &Tensor) -> Result<Tensor> {
        let (b, t, input) = x.dims3()?;
        let h4 = 4 * self.hidden;
        let gates = x
            .reshape((b * t, input))?
            .matmul(&self.w_ih)?
            .broadcast_add(&self.b)?;
        let fwd = gates.narrow(1, 0, h4)?;
        let bwd = gates
            .narrow(1, h4, h4)?
            .contiguous()?
            .index_select(rev, 0)?;
        // [2, time, batch, 4h] so that each step reads one contiguous slab.
        let gates = Tensor::stack(&[fwd.reshape((b, t, h4))?, bwd.reshape((b, t, h4))?], 0)?
            .transpose(1, 2)?
            .contiguous()?;
        let hd = self.hidden;
        let mut h = Tensor::zeros((2, b, hd), x.dtype(), x.device())?;
        let mut c = h.clone();
        let mut outputs = Vec::with_capacity(t);
        for step_gates in split_steps(&gates, 1)? {
            let g = (step_gates.squeeze(1)? + h.matmul(&self.w_hh)?)?;
            let sig = candle_nn::ops::sigmoid(&g)?;
            let i = sig.narrow(2, 0, hd)?;
            let f = sig.narrow(2, hd, hd)?;
            let o = sig.narrow(2, 3 * hd, hd)?;
            let cell = g.narrow(2, 2 * hd, hd)?.tanh()?;
            c = ((f * &c)? + (i * cell)?)?;
            h = (o * c.tanh()?)?;
            outputs.push(h.clone());
        }
        // [2, batch, time, hidden]
        let out = Tensor::stack(&outputs, 2)?;
        let fwd = out.get(0)?;
        let bwd = out
            .get(1)?
            .contiguous()?
            .reshape((b * t, hd))?
            .index_select(rev, 0)?
            .reshape((b, t, hd))?;
        Tensor::cat(&[fwd, bwd], 2)
    }
}

/// Sums of `w` consecutive rows ending at each row (`[batch, time, c]`), for every power of
/// two up to `max_width`: `out[k][t] = x[t - 2^k + 1] + … + x[t]`, rows before 0 counting 0.
/// Built by doubling, so `log2(max_width)` shifted adds rather than a cumulative sum
/// (candle's cumsum is a T×T matmul).
pub fn left_box_sums(x: &Tensor, max_width: usize) -> Result<Vec<Tensor>> {
    let mut sums = vec![x.clone()];
    let mut w = 1;
    while w * 2 <= max_width {
        let last = sums.last().cloned().unwrap_or_else(|| x.clone());
        sums.push((&last + shift_time(&last, -(w as isize))?)?);
        w *= 2;
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    #[test]
    fn split_steps_gives_every_step_in_order_and_the_same_gradient() {
        for t in [1usize, 2, 5, 8, 13] {
            let values: Vec<f32> = (0..2 * t * 3).map(|v| v as f32).collect();
            let x = Var::from_tensor(&Tensor::from_vec(values, (2, t, 3), &Device::Cpu).unwrap())
                .unwrap();
            let steps = split_steps(&x, 1).unwrap();
            assert_eq!(steps.len(), t);
            let weights: Vec<Tensor> = (0..t)
                .map(|i| Tensor::full((i + 1) as f32, (2, 1, 3), &Device::Cpu).unwrap())
                .collect();
            let mut total = Tensor::zeros((), candle_core::DType::F32, &Device::Cpu).unwrap();
            for (i, s) in steps.iter().enumerate() {
                assert_eq!(
                    s.to_vec3::<f32>().unwrap(),
                    x.narrow(1, i, 1).unwrap().to_vec3::<f32>().unwrap()
                );
                total = (total + (s * &weights[i]).unwrap().sum_all().unwrap()).unwrap();
            }
            let grads = total.backward().unwrap();
            let g = grads.get(&x).unwrap().to_vec3::<f32>().unwrap();
            for row in &g {
                for (i, step) in row.iter().enumerate() {
                    assert!(step.iter().all(|&v| v == (i + 1) as f32), "t {t}: {g:?}");
                }
            }
        }
    }
}
