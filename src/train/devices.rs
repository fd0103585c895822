//! The same training on two devices, compared: every model from the same seed, its scores
//! before and after training, each parameter's gradient on one batch, and single ops the
//! models are built from. `scenelab bench devices` prints it and fails on a mismatch;
//! `scripts/gpu-check.sh` runs it on a GPU machine (CUDA against the CPU).
//!
//! Scores are probabilities, compared in absolute terms. Gradients and op outputs range over
//! many magnitudes, so each is compared relative to its largest value: a difference of 1e-4
//! of the tensor's scale is what a changed summation order cannot explain.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Piece, TrainConfig, TrainSettings, TrainedModel, make_batch, masked_bce};
use crate::data::{Movie, Split};
use crate::model::layers::{BiLstmLayer, TemporalConv, reverse_index};
use crate::model::{BoundaryModel, ModelConfig, ModelKind, SeededVarMap};

/// A device's name for people: "CPU", "CUDA GPU 0".
pub fn device_label(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "CPU".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("CUDA GPU {gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("Metal GPU {gpu_id}"),
    }
}

/// `value` is above `limit`, or NaN.
fn exceeds(value: f64, limit: f64) -> bool {
    value.is_nan() || value > limit
}

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareSettings {
    /// The models, with their hyperparameters.
    pub models: Vec<ModelConfig>,
    /// Epochs each model trains on both devices.
    pub epochs: usize,
    /// Seeds the weights and the batch order on both devices.
    pub seed: u64,
    /// Largest difference that counts as agreeing: absolute on scores, relative to each
    /// tensor's largest value on gradients and ops.
    pub tolerance: f64,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            models: ModelKind::ALL.map(ModelKind::default_config).to_vec(),
            epochs: 1,
            seed: 0,
            tolerance: 1e-4,
        }
    }
}

/// Where two score lists differ most.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreDiff {
    pub max_abs_diff: f64,
    pub movie: String,
    pub transition: usize,
    pub a: f32,
    pub b: f32,
}

/// One parameter's gradient on the first training batch, on both devices.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TensorDiff {
    pub name: String,
    pub max_abs_diff: f64,
    /// The largest magnitude on device a (at least 1e-12).
    pub scale: f64,
}

impl TensorDiff {
    pub fn relative(&self) -> f64 {
        self.max_abs_diff / self.scale
    }
}

/// One model trained on both devices.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelComparison {
    pub model: ModelKind,
    /// Scores of every movie with the initial weights (the same on both devices).
    pub initial: ScoreDiff,
    /// Scores of every movie after training.
    pub trained: ScoreDiff,
    /// First epoch's training loss on a and on b (`None` when no epoch ran).
    pub loss: Option<(f64, f64)>,
    /// Seconds each device took to train.
    pub seconds: (f64, f64),
    /// Every parameter's gradient on the first training batch, largest relative difference
    /// first.
    pub gradients: Vec<TensorDiff>,
}

/// Both devices' results.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeviceReport {
    pub device_a: String,
    pub device_b: String,
    pub tolerance: f64,
    pub models: Vec<ModelComparison>,
    /// Single ops (outputs and gradients), largest relative difference first.
    pub ops: Vec<TensorDiff>,
}

impl DeviceReport {
    /// Everything that differs by more than the tolerance, one line each.
    pub fn mismatches(&self) -> Vec<String> {
        let tol = self.tolerance;
        let mut out = Vec::new();
        for m in &self.models {
            for (when, d) in [("initial", &m.initial), ("trained", &m.trained)] {
                if exceeds(d.max_abs_diff, tol) {
                    out.push(format!(
                        "{}: {when} scores differ by {:.2e} (movie {}, transition {}: {} vs {})",
                        m.model, d.max_abs_diff, d.movie, d.transition, d.a, d.b
                    ));
                }
            }
            for g in m.gradients.iter().filter(|g| exceeds(g.relative(), tol)) {
                out.push(format!(
                    "{}: gradient of {} differs by {:.2e} of its scale {:.2e}",
                    m.model,
                    g.name,
                    g.relative(),
                    g.scale
                ));
            }
        }
        for op in self.ops.iter().filter(|o| exceeds(o.relative(), tol)) {
            out.push(format!(
                "op {}: differs by {:.2e} of its scale {:.2e}",
                op.name,
                op.relative(),
                op.scale
            ));
        }
        out
    }

    /// The report as aligned text: a row per model, then the ops, then what differs.
    pub fn table(&self) -> String {
        let mut s = format!(
            "a: {}, b: {}; tolerance {:.0e} (scores absolute, gradients and ops relative to their scale)\n\n",
            self.device_a, self.device_b, self.tolerance
        );
        s.push_str(&format!(
            "{:<8} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10}  {}\n",
            "model",
            "initial",
            "trained",
            "loss a",
            "loss b",
            "s a",
            "s b",
            "gradient",
            "worst gradient"
        ));
        for m in &self.models {
            let (la, lb) = m.loss.map_or(("-".into(), "-".into()), |(a, b)| {
                (format!("{a:.6}"), format!("{b:.6}"))
            });
            let worst = m.gradients.first();
            s.push_str(&format!(
                "{:<8} {:>10.2e} {:>10.2e} {:>10} {:>10} {:>8.2} {:>8.2} {:>10}  {}\n",
                m.model.name(),
                m.initial.max_abs_diff,
                m.trained.max_abs_diff,
                la,
                lb,
                m.seconds.0,
                m.seconds.1,
                worst.map_or("-".into(), |g| format!("{:.2e}", g.relative())),
                worst.map_or("-", |g| g.name.as_str()),
            ));
        }
        s.push_str(&format!(
            "\n{:<36} {:>12} {:>12}\n",
            "op", "relative", "scale"
        ));
        for op in &self.ops {
            s.push_str(&format!(
                "{:<36} {:>12.2e} {:>12.2e}\n",
                op.name,
                op.relative(),
                op.scale
            ));
        }
        let bad = self.mismatches();
        if bad.is_empty() {
            s.push_str(&format!(
                "\nall scores, gradients and ops agree within {:.0e}\n",
                self.tolerance
            ));
        } else {
            s.push_str(&format!(
                "\n{} differ by more than {:.0e}:\n",
                bad.len(),
                self.tolerance
            ));
            for line in bad {
                s.push_str(&format!("  {line}\n"));
            }
        }
        s
    }
}

/// Largest absolute difference between two score lists per movie, and where it is.
pub fn score_diff(ids: &[String], a: &[Vec<f32>], b: &[Vec<f32>]) -> ScoreDiff {
    let mut worst = ScoreDiff {
        max_abs_diff: 0.0,
        movie: String::new(),
        transition: 0,
        a: 0.0,
        b: 0.0,
    };
    for ((id, sa), sb) in ids.iter().zip(a).zip(b) {
        if sa.len() != sb.len() {
            return ScoreDiff {
                max_abs_diff: f64::INFINITY,
                movie: id.clone(),
                transition: sa.len().min(sb.len()),
                a: f32::NAN,
                b: f32::NAN,
            };
        }
        for (j, (&x, &y)) in sa.iter().zip(sb).enumerate() {
            let d = (f64::from(x) - f64::from(y)).abs();
            // NaN on either side counts as the worst difference.
            if exceeds(d, worst.max_abs_diff) {
                worst = ScoreDiff {
                    max_abs_diff: if d.is_nan() { f64::INFINITY } else { d },
                    movie: id.clone(),
                    transition: j,
                    a: x,
                    b: y,
                };
            }
        }
    }
    worst
}

/// Largest absolute difference between two tensors of the same shape, and `a`'s largest
/// magnitude.
pub fn tensor_diff(name: &str, a: &Tensor, b: &Tensor) -> candle_core::Result<TensorDiff> {
    let flat = |t: &Tensor| -> candle_core::Result<Vec<f64>> {
        t.to_device(&Device::Cpu)?
            .to_dtype(DType::F64)?
            .flatten_all()?
            .to_vec1::<f64>()
    };
    let (va, vb) = (flat(a)?, flat(b)?);
    if va.len() != vb.len() || a.dims() != b.dims() {
        candle_core::bail!("{name}: shapes differ ({:?} vs {:?})", a.dims(), b.dims());
    }
    let mut diff = 0f64;
    let mut scale = 1e-12f64;
    for (x, y) in va.iter().zip(&vb) {
        let d = (x - y).abs();
        diff = if d.is_nan() {
            f64::INFINITY
        } else {
            diff.max(d)
        };
        scale = scale.max(x.abs());
    }
    Ok(TensorDiff {
        name: name.to_string(),
        max_abs_diff: diff,
        scale,
    })
}

/// What one device produced for one model.
struct Run {
    initial: Vec<Vec<f32>>,
    trained: Vec<Vec<f32>>,
    loss: Option<f64>,
    seconds: f64,
    gradients: Vec<(String, Tensor)>,
}

/// Train `kind` on `device`: its scores for `movies` before and after, the first epoch's
/// loss, the training time and the gradients on the first training batch.
fn run_on(
    movies: &[Movie],
    split: &Split,
    config: &TrainConfig,
    device: &Device,
) -> anyhow::Result<Run> {
    let cancel = AtomicBool::new(false);
    let all: Vec<&Movie> = movies.iter().collect();
    let untrained = TrainConfig {
        model: config.model.clone(),
        settings: TrainSettings {
            epochs: 0,
            ..config.settings.clone()
        },
    };
    let start = super::train(movies, split, &untrained, device, None, &cancel)?;
    let initial = super::with_deep_stack(|| start.model.predict(&all))?;
    let gradients = super::with_deep_stack(|| first_batch_gradients(&start.model, movies, split))?;
    let t0 = Instant::now();
    let done = super::train(movies, split, config, device, None, &cancel)?;
    let seconds = t0.elapsed().as_secs_f64();
    let trained = super::with_deep_stack(|| done.model.predict(&all))?;
    Ok(Run {
        initial,
        trained,
        loss: done.model.meta.curve.first().map(|r| r.train_loss),
        seconds,
        gradients,
    })
}

/// Each parameter's gradient of the training loss on the first `batch_movies` training
/// movies (whole), with `model`'s weights.
fn first_batch_gradients(
    model: &TrainedModel,
    movies: &[Movie],
    split: &Split,
) -> anyhow::Result<Vec<(String, Tensor)>> {
    let by_id: HashMap<&str, &Movie> = movies.iter().map(|m| (m.imdb_id.as_str(), m)).collect();
    let batch_movies = model.meta.training.batch_movies.max(1);
    let chosen: Vec<&Movie> = split
        .train
        .iter()
        .take(batch_movies)
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .collect();
    let rows: Vec<Vec<f32>> = chosen
        .iter()
        .map(|m| {
            let mut r = super::normalize::concat_features(m, model.meta.normalization.dims)?;
            model.meta.normalization.apply(&mut r);
            Ok(r)
        })
        .collect::<anyhow::Result<_>>()?;
    let pieces: Vec<Piece> = rows
        .iter()
        .zip(&chosen)
        .map(|(r, m)| Piece {
            rows: super::rows::RowSlice::F32(r),
            width: model.meta.normalization.dims.total(),
            truth: m.ground_truth.as_deref().unwrap_or(&[]),
        })
        .collect();
    let (batch, y, mask) = make_batch(&pieces, &model.device)?;
    let logits = model.model.forward(&batch, true)?;
    let pos_weight = model.meta.training.pos_weight.unwrap_or(1.0);
    let grads = masked_bce(&logits, &y, &mask, pos_weight)?.backward()?;
    let data = model
        .varmap
        .data()
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut out: Vec<(String, Tensor)> = data
        .iter()
        .filter_map(|(name, var)| {
            grads
                .get(var.as_tensor())
                .map(|g| (name.clone(), g.clone()))
        })
        .collect();
    out.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(out)
}

/// Train every model of `settings` on `split` of `movies` on `a` and on `b` and compare, then
/// the single ops. `say` hears each finished model.
pub fn compare_devices(
    movies: &[Movie],
    split: &Split,
    settings: &CompareSettings,
    a: &Device,
    b: &Device,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<DeviceReport> {
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    let mut models = Vec::new();
    for model in &settings.models {
        let kind = model.kind();
        let config = TrainConfig {
            model: model.clone(),
            settings: TrainSettings {
                epochs: settings.epochs,
                seed: settings.seed,
                ..TrainSettings::for_kind(kind)
            },
        };
        let ra = run_on(movies, split, &config, a)?;
        let rb = run_on(movies, split, &config, b)?;
        let mut gradients = Vec::new();
        for ((name, ga), (name_b, gb)) in ra.gradients.iter().zip(&rb.gradients) {
            anyhow::ensure!(
                name == name_b,
                "{kind}: the devices' models have different parameters ({name} vs {name_b})"
            );
            gradients.push(tensor_diff(name, ga, gb)?);
        }
        anyhow::ensure!(
            ra.gradients.len() == rb.gradients.len(),
            "{kind}: {} gradients on a, {} on b",
            ra.gradients.len(),
            rb.gradients.len()
        );
        gradients.sort_by(|x, y| y.relative().total_cmp(&x.relative()));
        let row = ModelComparison {
            model: kind,
            initial: score_diff(&ids, &ra.initial, &rb.initial),
            trained: score_diff(&ids, &ra.trained, &rb.trained),
            loss: ra.loss.zip(rb.loss),
            seconds: (ra.seconds, rb.seconds),
            gradients,
        };
        say(format!(
            "{kind}: scores differ by {:.2e} initially and {:.2e} after {} epoch(s); training took {:.2} s on a, {:.2} s on b",
            row.initial.max_abs_diff,
            row.trained.max_abs_diff,
            settings.epochs,
            row.seconds.0,
            row.seconds.1
        ));
        models.push(row);
    }
    let mut ops = compare_ops(a, b)?;
    ops.sort_by(|x, y| y.relative().total_cmp(&x.relative()));
    Ok(DeviceReport {
        device_a: device_label(a),
        device_b: device_label(b),
        tolerance: settings.tolerance,
        models,
        ops,
    })
}

/// Values in [-1, 1) drawn from `seed`, as a tensor on `device`.
fn random(shape: &[usize], seed: u64, device: &Device) -> candle_core::Result<Tensor> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(v, shape, device)
}

type Outputs = Vec<(String, Tensor)>;

/// `f(x)` and the gradient of `sum(f(x) * weights)` with respect to each input.
fn with_grads(name: &str, inputs: &[&Var], out: Tensor, seed: u64) -> candle_core::Result<Outputs> {
    let weights = random(out.dims(), seed, out.device())?;
    let grads = (&out * &weights)?.sum_all()?.backward()?;
    let mut v = vec![(name.to_string(), out.detach())];
    for (i, x) in inputs.iter().enumerate() {
        if let Some(g) = grads.get(x.as_tensor()) {
            v.push((format!("{name} (grad {i})"), g.clone()));
        }
    }
    Ok(v)
}

/// The ops the models are built from, with fixed inputs, on `device`: outputs and gradients.
fn op_outputs(device: &Device) -> candle_core::Result<Outputs> {
    let var = |shape: &[usize], seed: u64| -> candle_core::Result<Var> {
        Var::from_tensor(&random(shape, seed, device)?)
    };
    let mut out = Vec::new();

    let x = var(&[2, 57, 3584], 1)?;
    let w = var(&[3584, 64], 2)?;
    out.extend(with_grads(
        "matmul",
        &[&x, &w],
        x.as_tensor().broadcast_matmul(w.as_tensor())?,
        3,
    )?);

    let v = var(&[3, 40, 64], 4)?;
    let t = v.as_tensor();
    out.extend(with_grads(
        "sigmoid, tanh, exp, relu",
        &[&v],
        (((candle_nn::ops::sigmoid(t)? + t.tanh()?)? + (t * 0.5)?.exp()?)? + t.relu()?)?,
        5,
    )?);
    out.extend(with_grads(
        "sum, max, sqrt",
        &[&v],
        t.sum_keepdim(2)?
            .broadcast_add(&t.max_keepdim(1)?)?
            .broadcast_add(&(t.sqr()? + 1.0)?.sqrt()?.mean_keepdim(0)?)?,
        6,
    )?);
    out.push((
        "argmax".into(),
        t.argmax_keepdim(D::Minus1)?.to_dtype(DType::F32)?,
    ));

    let table = var(&[50, 8], 7)?;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let ids: Vec<u32> = (0..300).map(|_| rng.random_range(0..50u32)).collect();
    let ids = Tensor::from_vec(ids, 300, device)?;
    out.extend(with_grads(
        "index_select",
        &[&table],
        table.as_tensor().index_select(&ids, 0)?,
        9,
    )?);

    let x = var(&[2, 33, 24], 10)?;
    let map = candle_nn::VarMap::new();
    let conv = TemporalConv::new(24, 16, 3, 2, 2, SeededVarMap::var_builder(&map, 11, device))?;
    out.extend(with_grads(
        "temporal convolution",
        &[&x],
        conv.forward(&x)?,
        12,
    )?);

    let x = var(&[3, 17, 20], 13)?;
    let map = candle_nn::VarMap::new();
    let lstm = BiLstmLayer::new(20, 12, SeededVarMap::var_builder(&map, 14, device))?;
    let rev = reverse_index(&[17, 9, 13], 17, device)?;
    out.extend(with_grads(
        "bidirectional LSTM",
        &[&x],
        lstm.forward(&x, &rev)?,
        15,
    )?);

    let x = var(&[2, 30, 64], 16)?;
    let w = var(&[32, 4], 17)?;
    let b = var(&[32], 18)?;
    out.extend(with_grads(
        "LGSS window channel max",
        &[&x, &w, &b],
        crate::model::lgss::window_channel_max(x.as_tensor(), w.as_tensor(), b.as_tensor())?,
        19,
    )?);

    let logits = var(&[3, 50], 20)?;
    let targets = random(&[3, 50], 21, device)?
        .ge(0.6f64)?
        .to_dtype(DType::F32)?;
    let mask = random(&[3, 50], 22, device)?
        .ge(-0.8f64)?
        .to_dtype(DType::F32)?;
    out.extend(with_grads(
        "masked BCE",
        &[&logits],
        masked_bce(logits.as_tensor(), &targets, &mask, 7.5)?,
        23,
    )?);

    // One AdamW step with a fixed gradient.
    let p = var(&[64, 16], 24)?;
    let mut opt = AdamW::new(
        vec![p.clone()],
        ParamsAdamW {
            lr: 1e-3,
            weight_decay: 1e-2,
            ..ParamsAdamW::default()
        },
    )?;
    let g = random(&[64, 16], 25, device)?;
    opt.backward_step(&(p.as_tensor() * &g)?.sum_all()?)?;
    out.push(("AdamW step".into(), p.as_tensor().clone()));
    Ok(out)
}

/// [`op_outputs`] on both devices, compared.
pub fn compare_ops(a: &Device, b: &Device) -> anyhow::Result<Vec<TensorDiff>> {
    let oa = op_outputs(a)?;
    let ob = op_outputs(b)?;
    oa.iter()
        .zip(&ob)
        .map(|((name, ta), (_, tb))| Ok(tensor_diff(name, ta, tb)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_diff_finds_the_worst_transition_and_treats_nan_as_worst() {
        let ids = vec!["tt1".to_string(), "tt2".to_string()];
        let a = vec![vec![0.1, 0.2], vec![0.5, 0.6, 0.7]];
        let b = vec![vec![0.1, 0.25], vec![0.5, 0.6, 0.69]];
        let d = score_diff(&ids, &a, &b);
        assert_eq!((d.movie.as_str(), d.transition), ("tt1", 1));
        assert!((d.max_abs_diff - 0.05).abs() < 1e-6);
        let nan = vec![vec![0.1, 0.2], vec![0.5, f32::NAN, 0.7]];
        let d = score_diff(&ids, &a, &nan);
        assert_eq!((d.movie.as_str(), d.transition), ("tt2", 1));
        assert!(d.max_abs_diff.is_infinite());
        let short = vec![vec![0.1], vec![0.5, 0.6, 0.7]];
        assert!(score_diff(&ids, &a, &short).max_abs_diff.is_infinite());
    }
}
