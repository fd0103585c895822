//! Training boundary models: movie-level split, normalisation fitted on the training movies,
//! whole movies batched with masks (padded shots never count in the loss or the metrics),
//! class imbalance weighted in the loss, AdamW with warmup and cosine decay, validation mAP
//! every epoch with early stopping and the best weights kept. Deterministic for a seed on a
//! CPU. Progress goes out as [`TrainEvent`]s; an `AtomicBool` cancels at any step.

pub mod bench;
pub mod checkpoint;
pub mod decision;
pub mod devices;
pub mod metrics;
pub mod normalize;
mod rows;
pub mod search;
pub mod space;
pub mod torch_checkpoint;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use checkpoint::{CheckpointError, CheckpointMeta, TrainedModel};
pub use metrics::ValidationScores;
pub use normalize::{FeatureError, Normalization, NormalizationFit};
use rows::{RowSlice, Rows};

use crate::data::{FeatureDims, FeaturePrecision, Movie, Split};
use crate::model::{BoundaryModel, Model, ModelConfig, SeededVarMap, ShotBatch};
use crate::observer::Observer;

/// Reads a JSON number, or `null` as NaN: serde_json writes NaN (the reference's F1 when a
/// movie has no correct boundary) as `null`, and a checkpoint must load back what it saved.
pub(crate) fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize as _;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Optimisation settings (the model's own hyperparameters live in its config).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrainSettings {
    /// Upper bound on epochs; early stopping may end sooner.
    pub epochs: usize,
    /// Movies per optimisation step.
    pub batch_movies: usize,
    /// Cut each training movie into pieces of about this many shots (at a random offset each
    /// epoch) that run side by side in the batch; `None` trains on whole movies. Recurrent
    /// models need it on a CPU: their cost is one small step per shot of the longest sequence,
    /// so 4 movies of 3,000 shots as 100 pieces of 128 take 23 times fewer steps. Validation
    /// and prediction always read whole movies.
    pub chunk_shots: Option<usize>,
    /// AdamW peak learning rate; `None` takes the model's own.
    pub learning_rate: Option<f64>,
    pub weight_decay: f64,
    /// Linear warmup length in epochs, then cosine decay to zero at the last epoch.
    pub warmup_epochs: f64,
    /// Epochs without a better validation mAP before stopping.
    pub patience: usize,
    /// Weight of boundary transitions in the loss; `None` takes negatives / positives of
    /// the training movies.
    pub pos_weight: Option<f64>,
    /// Seeds the weights and the batch order.
    pub seed: u64,
    /// Keep each modality's all-zero rows (nothing detected) zero when normalising, and fit
    /// the statistics without them ([`Normalization::keep_empty_rows`]). On by default: on
    /// movies with real scene structure it raised the default model's cross-validated test
    /// mAP from 0.42 to 0.56 (docs/benchmark.md); `false` gives the plain per-dimension z-score.
    pub keep_empty_rows: bool,
    /// Modalities read as they are (mean 0, deviation 1 in the normalisation): the models
    /// that compare shots by cosine see post-ReLU place features better unscaled.
    pub unscaled_modalities: Vec<crate::data::Modality>,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            epochs: 30,
            batch_movies: 4,
            chunk_shots: None,
            learning_rate: None,
            weight_decay: 1e-2,
            warmup_epochs: 1.0,
            patience: 6,
            pos_weight: None,
            seed: 0,
            keep_empty_rows: true,
            unscaled_modalities: Vec::new(),
        }
    }
}

impl TrainSettings {
    /// The settings `kind` trains well with: its epoch cap, movies per step and pieces.
    pub fn for_kind(kind: crate::model::ModelKind) -> TrainSettings {
        TrainSettings {
            epochs: kind.default_epochs(),
            batch_movies: kind.default_batch_movies(),
            chunk_shots: kind.default_chunk_shots(),
            ..TrainSettings::default()
        }
    }
}

/// What to train and how.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub model: ModelConfig,
    pub settings: TrainSettings,
}

/// One epoch of the training curve.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    #[serde(deserialize_with = "f64_or_nan")]
    pub train_loss: f64,
    /// `None` when there are no validation movies.
    pub validation_loss: Option<f64>,
    pub validation: Option<ValidationScores>,
    #[serde(deserialize_with = "f64_or_nan")]
    pub learning_rate: f64,
    /// Wall time of the epoch, validation included.
    #[serde(deserialize_with = "f64_or_nan")]
    pub seconds: f64,
    /// Wall time of the optimisation steps alone (what a framework comparison times).
    #[serde(default, deserialize_with = "f64_or_nan")]
    pub train_seconds: f64,
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Completed,
    EarlyStopped,
    Cancelled,
}

/// The challenge's six scores on the test movies.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestMetrics {
    #[serde(deserialize_with = "f64_or_nan")]
    pub ap: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub map: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub miou: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub precision: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub recall: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub f1: f64,
}

/// Progress, sent while training.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    Started {
        train_movies: usize,
        validation_movies: usize,
        test_movies: usize,
        epochs: usize,
        steps_per_epoch: usize,
        pos_weight: f64,
        /// The feature widths of the data set, which the model reads and records.
        feature_dims: FeatureDims,
    },
    /// One optimisation step finished.
    Step {
        /// 1-based.
        epoch: usize,
        /// 1-based within the epoch: `steps_per_epoch` at its last step, so
        /// `(epoch - 1) + step / steps_per_epoch` epochs are done.
        step: usize,
        steps_per_epoch: usize,
        loss: f64,
        learning_rate: f64,
    },
    Epoch {
        record: EpochRecord,
        best_epoch: Option<usize>,
        /// Seconds left if every remaining epoch runs.
        eta_seconds: f64,
    },
    Finished {
        stop: StopReason,
        best_epoch: Option<usize>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("the split names movie '{0}', which is not among the loaded movies")]
    UnknownMovie(String),
    #[error("no training movies: the folder needs at least one movie besides the test movies")]
    NoTrainingMovies,
    #[error(
        "movie '{0}' has no scene_transition_boundary_ground_truth: it cannot train or be scored"
    )]
    NoGroundTruth(String),
    #[error("the training movies have no scene boundary at all: nothing to learn")]
    NoBoundaries,
    /// Boxed: the error names two movies and the widths, and search errors carry it.
    #[error(transparent)]
    Features(Box<FeatureError>),
    #[error("training was cancelled before the first epoch ended")]
    Cancelled,
    #[error("model error: {0}")]
    Candle(#[from] candle_core::Error),
}

/// `(imdb_id, probability per transition)` of each scored movie: `n_shots - 1` values in
/// `[0, 1]`.
pub type MovieScores = Vec<(String, Vec<f32>)>;

/// A trained model and its scores on the test movies.
pub struct TrainOutcome {
    pub model: TrainedModel,
    /// Each test movie's scores, in split order.
    pub test_scores: MovieScores,
}

/// Stack for training and scoring threads: autograd walks and drops the recurrent models'
/// op graphs recursively, thousands of nodes deep for a long movie.
const DEEP_STACK: usize = 1 << 30;

/// Run `f` on a thread with a deep stack and wait for it.
pub fn with_deep_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("scenelab-train".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(s, f)
            .expect("spawning the training thread");
        match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Learning rate at `step` (0-based) of `total`: linear warmup, then cosine decay.
pub fn learning_rate_at(base: f64, step: usize, warmup: usize, total: usize) -> f64 {
    if step < warmup {
        return base * (step + 1) as f64 / warmup as f64;
    }
    let span = total.saturating_sub(warmup).max(1) as f64;
    let progress = ((step - warmup) as f64 / span).min(1.0);
    base * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// Mean of the pos-weighted binary cross-entropy over real transitions.
pub fn masked_bce(
    logits: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
    pos_weight: f64,
) -> candle_core::Result<Tensor> {
    // softplus(z) = max(z, 0) + log(1 + exp(-|z|)), stable for any z.
    let tail = (logits.abs()?.neg()?.exp()? + 1.0)?.log()?;
    let sp_pos = (logits.neg()?.relu()? + &tail)?; // -log σ(z)
    let sp_neg = (logits.relu()? + &tail)?; // -log(1 - σ(z))
    let pos = ((targets * sp_pos)? * pos_weight)?;
    let neg = (targets.neg()? + 1.0)?.mul(&sp_neg)?;
    let per = ((pos + neg)? * mask)?;
    // Divided on the device: reading the count back would wait for the GPU mid-step.
    let count = mask.sum_all()?.clamp(1f32, f32::MAX)?;
    per.sum_all()? * count.recip()?
}

impl From<FeatureError> for TrainError {
    fn from(e: FeatureError) -> Self {
        TrainError::Features(Box::new(e))
    }
}

/// A movie ready for batching: normalised rows (`width` columns each, at the data set's
/// precision) and labels.
struct Prepared<'a> {
    id: &'a str,
    rows: Rows,
    width: usize,
    truth: &'a [bool],
}

impl Prepared<'_> {
    fn shots(&self) -> usize {
        self.rows.len() / self.width.max(1)
    }
}

/// A run of consecutive shots of one movie (`width` columns a shot) and the transitions
/// between them.
#[derive(Clone, Copy)]
struct Piece<'a> {
    rows: RowSlice<'a>,
    width: usize,
    truth: &'a [bool],
}

impl<'a> Prepared<'a> {
    fn whole(&'a self) -> Piece<'a> {
        Piece {
            rows: self.rows.all(),
            width: self.width,
            truth: self.truth,
        }
    }

    /// Pieces of about `len` shots, the first cut `offset` shots in (`offset < len`).
    /// Neighbours share one shot, so every transition falls in exactly one piece.
    fn pieces(&'a self, len: usize, offset: usize) -> Vec<Piece<'a>> {
        let n = self.shots();
        let len = len.max(2);
        let mut cuts = vec![0];
        let mut next = if offset == 0 { len } else { offset };
        while next + 1 < n {
            cuts.push(next);
            next += len;
        }
        let d = self.width;
        (0..cuts.len())
            .map(|k| {
                let start = cuts[k];
                let end = cuts.get(k + 1).map_or(n, |&c| c + 1);
                Piece {
                    rows: self.rows.slice(start * d..end * d),
                    width: d,
                    truth: &self.truth
                        [start.min(self.truth.len())..(end - 1).min(self.truth.len())],
                }
            })
            .collect()
    }
}

/// Batch tensors, labels `[b, t-1]` and their mask.
fn make_batch(
    movies: &[Piece<'_>],
    device: &Device,
) -> candle_core::Result<(ShotBatch, Tensor, Tensor)> {
    let widened: Vec<std::borrow::Cow<'_, [f32]>> =
        movies.iter().map(|m| m.rows.to_f32()).collect();
    let rows: Vec<&[f32]> = widened.iter().map(|r| r.as_ref()).collect();
    let width = movies.first().map_or(1, |m| m.width);
    let batch = ShotBatch::from_rows(&rows, width, device)?;
    let tr = batch.shots().saturating_sub(1);
    let mut y = vec![0f32; movies.len() * tr];
    let mut mask = vec![0f32; movies.len() * tr];
    for (i, m) in movies.iter().enumerate() {
        for (j, &b) in m.truth.iter().enumerate() {
            y[i * tr + j] = f32::from(u8::from(b));
            mask[i * tr + j] = 1.0;
        }
    }
    let y = Tensor::from_vec(y, (movies.len(), tr), device)?;
    let mask = Tensor::from_vec(mask, (movies.len(), tr), device)?;
    Ok((batch, y, mask))
}

/// Batches of training movies for one epoch: shuffled, then grouped with movies of similar
/// length (pools of four batches sorted by length) so little of a batch is padding.
fn epoch_batches(
    n: usize,
    lengths: &[usize],
    batch: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut batches = Vec::new();
    for pool in order.chunks(batch * 4) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| lengths[i]);
        batches.extend(pool.chunks(batch).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    batches
}

fn snapshot(varmap: &VarMap) -> candle_core::Result<HashMap<String, Tensor>> {
    let data = varmap.data().lock().unwrap_or_else(|e| e.into_inner());
    data.iter()
        .map(|(k, v)| Ok((k.clone(), v.as_tensor().copy()?)))
        .collect()
}

fn restore(varmap: &VarMap, saved: &HashMap<String, Tensor>) -> candle_core::Result<()> {
    let data = varmap.data().lock().unwrap_or_else(|e| e.into_inner());
    for (k, v) in data.iter() {
        if let Some(t) = saved.get(k) {
            v.set(t)?;
        }
    }
    Ok(())
}

/// Train `config.model` on `split` of `movies`, sending progress down `events` (if given) and
/// stopping at the next step once `cancel` is set: [`train_observed`] over a
/// [`crate::observer::Channel`].
pub fn train(
    movies: &[Movie],
    split: &Split,
    config: &TrainConfig,
    device: &Device,
    events: Option<&Sender<TrainEvent>>,
    cancel: &AtomicBool,
) -> Result<TrainOutcome, TrainError> {
    train_observed(
        movies,
        split,
        config,
        device,
        &crate::observer::Channel::new(events, cancel),
    )
}

/// Train `config.model` on `split` of `movies` (looked up by id; movies outside the split are
/// never read). `observer` gets a [`TrainEvent`] for the start, every step and epoch, and the
/// end, and `progress(steps done, steps in all epochs, "epoch E, loss L")` after every step;
/// once it says cancelled, training stops before the next step and keeps the best epoch so far
/// ([`TrainError::Cancelled`] if no epoch finished). Runs on a thread with a deep stack.
pub fn train_observed(
    movies: &[Movie],
    split: &Split,
    config: &TrainConfig,
    device: &Device,
    observer: &dyn Observer<TrainEvent>,
) -> Result<TrainOutcome, TrainError> {
    with_deep_stack(|| train_inner(movies, split, config, device, observer))
}

/// The movies of each part of `split`, looked up in `movies`; training and validation movies
/// need ground truth.
struct SplitMovies<'a> {
    train: Vec<&'a Movie>,
    validation: Vec<&'a Movie>,
    test: Vec<&'a Movie>,
}

impl<'a> SplitMovies<'a> {
    fn find(movies: &'a [Movie], split: &Split) -> Result<Self, TrainError> {
        let by_id: HashMap<&str, &Movie> = movies.iter().map(|m| (m.imdb_id.as_str(), m)).collect();
        let find = |ids: &[String], need_truth: bool| -> Result<Vec<&'a Movie>, TrainError> {
            ids.iter()
                .map(|id| {
                    let m = by_id
                        .get(id.as_str())
                        .copied()
                        .ok_or_else(|| TrainError::UnknownMovie(id.clone()))?;
                    if need_truth && m.ground_truth.is_none() {
                        return Err(TrainError::NoGroundTruth(id.clone()));
                    }
                    Ok(m)
                })
                .collect()
        };
        let found = SplitMovies {
            train: find(&split.train, true)?,
            validation: find(&split.validation, true)?,
            test: find(&split.test, false)?,
        };
        if found.train.is_empty() {
            return Err(TrainError::NoTrainingMovies);
        }
        Ok(found)
    }
}

/// The training and validation movies normalised with statistics of the training movies.
struct PreparedSets<'a> {
    train: Vec<Prepared<'a>>,
    validation: Vec<Prepared<'a>>,
    norm: Normalization,
}

impl SplitMovies<'_> {
    /// The feature widths of every movie of the split, which must agree.
    fn dims(&self) -> Result<FeatureDims, normalize::FeatureError> {
        let all: Vec<&Movie> = [&self.train, &self.validation, &self.test]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        normalize::dims_of(&all)
    }
}

/// The split's movies normalised for a model reading features of widths `dims`, held at the
/// training movies' precision (f16 when the data set was opened as f16). The statistics are
/// fitted a movie at a time, so no f32 copy of the whole set exists at any point.
fn prepare_sets<'a>(
    found: &SplitMovies<'a>,
    dims: FeatureDims,
    settings: &TrainSettings,
) -> Result<PreparedSets<'a>, TrainError> {
    let mut fit = NormalizationFit::new(dims, settings.keep_empty_rows);
    for m in &found.train {
        fit.add(&normalize::concat_features(m, dims)?);
    }
    let mut norm = fit.finish();
    for &m in &settings.unscaled_modalities {
        norm.leave_unscaled(m);
    }
    let precision = found
        .train
        .first()
        .and_then(|m| m.feature(crate::data::Modality::Place))
        .map_or(FeaturePrecision::F32, |f| f.precision());
    let prepare = |m: &'a Movie| -> Result<Prepared<'a>, TrainError> {
        let mut rows = normalize::concat_features(m, dims)?;
        norm.apply(&mut rows);
        Ok(Prepared {
            id: m.imdb_id.as_str(),
            rows: Rows::at(rows, precision),
            width: dims.total(),
            truth: m.ground_truth.as_deref().unwrap_or(&[]),
        })
    };
    let train = found
        .train
        .iter()
        .map(|m| prepare(m))
        .collect::<Result<_, _>>()?;
    let validation = found
        .validation
        .iter()
        .map(|m| prepare(m))
        .collect::<Result<_, _>>()?;
    Ok(PreparedSets {
        train,
        validation,
        norm,
    })
}

/// The model, its optimiser and the schedule of one run.
struct Run<'d> {
    varmap: VarMap,
    model: Model,
    opt: AdamW,
    device: &'d Device,
    base_lr: f64,
    pos_weight: f64,
    batch_movies: usize,
    steps_per_epoch: usize,
    total_steps: usize,
    warmup: usize,
}

impl<'d> Run<'d> {
    /// Weights seeded by `config.settings.seed`; the boundary weight from the training
    /// movies' counts unless the settings fix it.
    fn new(
        config: &TrainConfig,
        train_set: &[Prepared<'_>],
        device: &'d Device,
    ) -> Result<Self, TrainError> {
        let settings = &config.settings;
        let positives: usize = train_set
            .iter()
            .map(|m| m.truth.iter().filter(|&&b| b).count())
            .sum();
        let transitions: usize = train_set.iter().map(|m| m.truth.len()).sum();
        if positives == 0 {
            return Err(TrainError::NoBoundaries);
        }
        let pos_weight = settings
            .pos_weight
            .unwrap_or((transitions - positives) as f64 / positives as f64);
        let base_lr = settings
            .learning_rate
            .unwrap_or_else(|| config.model.learning_rate());

        let varmap = VarMap::new();
        let vb = SeededVarMap::var_builder(&varmap, settings.seed, device);
        let model = Model::new(&config.model, vb)?;
        let opt = AdamW::new(
            varmap.all_vars(),
            ParamsAdamW {
                lr: base_lr,
                weight_decay: settings.weight_decay,
                ..ParamsAdamW::default()
            },
        )?;
        let batch_movies = settings.batch_movies.max(1);
        let steps_per_epoch = train_set.len().div_ceil(batch_movies);
        Ok(Run {
            varmap,
            model,
            opt,
            device,
            base_lr,
            pos_weight,
            batch_movies,
            steps_per_epoch,
            total_steps: steps_per_epoch * settings.epochs,
            warmup: ((settings.warmup_epochs * steps_per_epoch as f64).round() as usize).max(1),
        })
    }

    /// One epoch's optimisation steps: `(loss summed over transitions, transitions)`, or
    /// `None` when cancelled before a step.
    fn train_epoch(
        &mut self,
        epoch: usize,
        train_set: &[Prepared<'_>],
        settings: &TrainSettings,
        rng: &mut ChaCha8Rng,
        global_step: &mut usize,
        observer: &dyn Observer<TrainEvent>,
    ) -> Result<Option<(f64, usize)>, TrainError> {
        let lengths: Vec<usize> = train_set.iter().map(Prepared::shots).collect();
        let mut loss_sum = 0.0;
        let mut loss_weight = 0usize;
        let batches = epoch_batches(train_set.len(), &lengths, self.batch_movies, rng);
        for (step, idx) in batches.iter().enumerate() {
            if observer.cancelled() {
                return Ok(None);
            }
            let lr = learning_rate_at(self.base_lr, *global_step, self.warmup, self.total_steps);
            self.opt.set_learning_rate(lr);
            let members: Vec<Piece> = match settings.chunk_shots {
                None => idx.iter().map(|&i| train_set[i].whole()).collect(),
                Some(len) => idx
                    .iter()
                    .flat_map(|&i| train_set[i].pieces(len, rng.random_range(0..len.max(1))))
                    .collect(),
            };
            let (batch, y, mask) = make_batch(&members, self.device)?;
            let logits = self.model.forward(&batch, true)?;
            let loss = masked_bce(&logits, &y, &mask, self.pos_weight)?;
            self.opt.backward_step(&loss)?;
            // The one value read back from the device per step, for the progress events. On
            // a GPU it waits for the step to finish, so the GPU idles while the host builds
            // and uploads the next batch: milliseconds, against a step over whole movies.
            let loss = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            let n: usize = members.iter().map(|m| m.truth.len()).sum();
            loss_sum += loss * n as f64;
            loss_weight += n;
            *global_step += 1;
            observer.event(TrainEvent::Step {
                epoch,
                step: step + 1,
                steps_per_epoch: self.steps_per_epoch,
                loss,
                learning_rate: lr,
            });
            observer.progress(
                *global_step,
                self.total_steps,
                &format!("epoch {epoch}, loss {loss:.4}"),
            );
        }
        Ok(Some((loss_sum, loss_weight)))
    }
}

/// What the epochs made: the curve, the best epoch's weights and why they ended.
struct Fitted {
    curve: Vec<EpochRecord>,
    best: Option<(usize, f64, HashMap<String, Tensor>)>,
    stop: StopReason,
}

/// Epochs until the cap, early stopping or a cancel, validating after each.
fn fit(
    run: &mut Run<'_>,
    sets: &PreparedSets<'_>,
    settings: &TrainSettings,
    observer: &dyn Observer<TrainEvent>,
) -> Result<Fitted, TrainError> {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed.wrapping_add(0x5eed));
    let mut fitted = Fitted {
        curve: Vec::new(),
        best: None,
        stop: StopReason::Completed,
    };
    let mut since_best = 0usize;
    let mut global_step = 0usize;
    let started = Instant::now();

    for epoch in 1..=settings.epochs {
        let t0 = Instant::now();
        let trained = run.train_epoch(
            epoch,
            &sets.train,
            settings,
            &mut rng,
            &mut global_step,
            observer,
        )?;
        let Some((loss_sum, loss_weight)) = trained.filter(|_| !observer.cancelled()) else {
            fitted.stop = StopReason::Cancelled;
            break;
        };
        let train_seconds = t0.elapsed().as_secs_f64();

        let (validation_loss, validation) = if sets.validation.is_empty() {
            (None, None)
        } else {
            let (loss, scores) = validate(
                &run.model,
                &sets.validation,
                run.batch_movies,
                run.pos_weight,
                run.device,
            )?;
            (Some(loss), Some(scores))
        };
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / loss_weight.max(1) as f64,
            validation_loss,
            validation,
            learning_rate: run.opt.learning_rate(),
            seconds: t0.elapsed().as_secs_f64(),
            train_seconds,
        };
        match validation {
            Some(v) if fitted.best.as_ref().is_none_or(|(_, m, _)| v.map > *m) => {
                fitted.best = Some((epoch, v.map, snapshot(&run.varmap)?));
                since_best = 0;
            }
            Some(_) => since_best += 1,
            None => {}
        }
        tracing::info!(
            epoch,
            train_loss = record.train_loss,
            validation_map = validation.map(|v| v.map),
            seconds = record.seconds,
            "epoch done"
        );
        let per_epoch = started.elapsed().as_secs_f64() / epoch as f64;
        observer.event(TrainEvent::Epoch {
            record: record.clone(),
            best_epoch: fitted.best.as_ref().map(|b| b.0),
            eta_seconds: per_epoch * (settings.epochs - epoch) as f64,
        });
        fitted.curve.push(record);
        if since_best >= settings.patience.max(1) && epoch < settings.epochs {
            fitted.stop = StopReason::EarlyStopped;
            break;
        }
    }
    Ok(fitted)
}

fn train_inner(
    movies: &[Movie],
    split: &Split,
    config: &TrainConfig,
    device: &Device,
    observer: &dyn Observer<TrainEvent>,
) -> Result<TrainOutcome, TrainError> {
    let found = SplitMovies::find(movies, split)?;
    // The model reads the widths of the data it trains on, and records them.
    let dims = found.dims()?;
    let config = &TrainConfig {
        model: config.model.with_input_dims(dims),
        settings: config.settings.clone(),
    };
    let sets = prepare_sets(&found, dims, &config.settings)?;
    let mut run = Run::new(config, &sets.train, device)?;
    let settings = &config.settings;
    observer.event(TrainEvent::Started {
        train_movies: sets.train.len(),
        validation_movies: sets.validation.len(),
        test_movies: found.test.len(),
        epochs: settings.epochs,
        steps_per_epoch: run.steps_per_epoch,
        pos_weight: run.pos_weight,
        feature_dims: dims,
    });

    let Fitted { curve, best, stop } = fit(&mut run, &sets, settings, observer)?;
    if stop == StopReason::Cancelled && curve.is_empty() {
        return Err(TrainError::Cancelled);
    }
    if let Some((_, _, saved)) = &best {
        restore(&run.varmap, saved)?;
    }
    let best_epoch = best.as_ref().map(|b| b.0);
    observer.event(TrainEvent::Finished { stop, best_epoch });

    let mut settings_used = settings.clone();
    settings_used.learning_rate = Some(run.base_lr);
    settings_used.pos_weight = Some(run.pos_weight);
    let trained = TrainedModel {
        meta: CheckpointMeta {
            format: checkpoint::FORMAT.into(),
            scenelab_version: env!("CARGO_PKG_VERSION").into(),
            model: config.model.clone(),
            normalization: sets.norm,
            split: split.clone(),
            training: settings_used,
            curve,
            best_epoch,
            stop,
            final_metrics: None,
            decision: None,
        },
        varmap: run.varmap,
        model: run.model,
        device: device.clone(),
    };
    score_test_movies(trained, &found.test)
}

/// The trained model with its scores of the test movies.
fn score_test_movies(trained: TrainedModel, test: &[&Movie]) -> Result<TrainOutcome, TrainError> {
    let scores = if test.is_empty() {
        Vec::new()
    } else {
        trained.predict(test).map_err(|e| match e {
            CheckpointError::Model(m) => TrainError::Candle(candle_core::Error::Msg(m)),
            other => TrainError::Candle(candle_core::Error::Msg(other.to_string())),
        })?
    };
    let test_scores = test.iter().map(|m| m.imdb_id.clone()).zip(scores).collect();
    Ok(TrainOutcome {
        model: trained,
        test_scores,
    })
}

/// Validation loss and scores, whole movies batched.
fn validate(
    model: &Model,
    set: &[Prepared<'_>],
    batch_movies: usize,
    pos_weight: f64,
    device: &Device,
) -> candle_core::Result<(f64, ValidationScores)> {
    let mut order: Vec<usize> = (0..set.len()).collect();
    order.sort_by_key(|&i| set[i].shots());
    let mut scores = vec![Vec::new(); set.len()];
    let (mut loss_sum, mut weight) = (0.0, 0usize);
    for chunk in order.chunks(batch_movies.max(1)) {
        let members: Vec<Piece> = chunk.iter().map(|&i| set[i].whole()).collect();
        let (batch, y, mask) = make_batch(&members, device)?;
        let logits = model.forward(&batch, false)?.detach();
        let loss = masked_bce(&logits, &y, &mask, pos_weight)?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?;
        let n: usize = members.iter().map(|m| m.truth.len()).sum();
        loss_sum += loss * n as f64;
        weight += n;
        let probs = candle_nn::ops::sigmoid(&logits)?.to_vec2::<f32>()?;
        for ((&i, p), m) in chunk.iter().zip(probs).zip(&members) {
            scores[i] = p[..m.truth.len()].to_vec();
        }
    }
    let truth: Vec<&[bool]> = set.iter().map(|m| m.truth).collect();
    debug_assert!(set.iter().all(|m| !m.id.is_empty()));
    Ok((
        loss_sum / weight.max(1) as f64,
        metrics::validation_scores(&truth, &scores),
    ))
}

/// A run's length or ETA for people: `42s`, `3m 05s`, `1h 02m` (`?` when unknown).
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "?".into();
    }
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

/// End frames of each scored movie (by id), for Miou; shot indices stand in for a movie
/// without `shot_end_frame`, and an unknown id gets none ([`scored_inputs`] refuses it).
pub(crate) fn end_frames(
    by_id: &HashMap<&str, &Movie>,
    scores: &[(String, Vec<f32>)],
) -> Vec<Vec<i64>> {
    scores
        .iter()
        .map(|(id, _)| {
            by_id.get(id.as_str()).map_or_else(Vec::new, |m| {
                m.shot_end_frame
                    .clone()
                    .unwrap_or_else(|| (0..m.n_shots as i64).collect())
            })
        })
        .collect()
}

/// The evaluator's inputs for `scores` of the movies in `by_id`, with `frames` from
/// [`end_frames`]; every movie needs ground truth.
pub(crate) fn scored_inputs<'a>(
    by_id: &HashMap<&str, &'a Movie>,
    scores: &'a [(String, Vec<f32>)],
    frames: &'a [Vec<i64>],
) -> Result<Vec<crate::eval::MovieInput<'a>>, String> {
    scores
        .iter()
        .zip(frames)
        .map(|((id, s), f)| {
            let m = by_id.get(id.as_str()).ok_or(format!("no movie '{id}'"))?;
            let truth = m
                .ground_truth
                .as_deref()
                .ok_or(format!("movie '{id}' has no ground truth"))?;
            Ok(crate::eval::MovieInput {
                imdb_id: id,
                ground_truth: truth,
                scores: s.into(),
                shot_end_frame: f,
            })
        })
        .collect()
}

/// [`test_metrics`] of the scores `decision` maps them to: the figures `scenelab evaluate`
/// gives on what `scenelab predict` writes with that decision.
pub fn decided_test_metrics(
    movies: &[Movie],
    scores: &[(String, Vec<f32>)],
    decision: &decision::Decision,
) -> Result<TestMetrics, String> {
    let decided: Vec<(String, Vec<f32>)> = scores
        .iter()
        .map(|(id, s)| (id.clone(), decision.apply(s)))
        .collect();
    test_metrics(movies, &decided)
}

/// The challenge's scores of `scores` (`(imdb_id, probabilities)`) on `movies` at threshold
/// 0.5, from [`crate::eval::evaluate`].
pub fn test_metrics(
    movies: &[Movie],
    scores: &[(String, Vec<f32>)],
) -> Result<TestMetrics, String> {
    let by_id: HashMap<&str, &Movie> = movies.iter().map(|m| (m.imdb_id.as_str(), m)).collect();
    let frames = end_frames(&by_id, scores);
    let inputs = scored_inputs(&by_id, scores, &frames)?;
    let m = crate::eval::evaluate(&inputs, 0.5).map_err(|e| e.to_string())?;
    Ok(TestMetrics {
        ap: m.ap,
        map: m.map,
        miou: m.miou,
        precision: m.precision,
        recall: m.recall,
        f1: m.f1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(format_duration(41.6), "42s");
        assert_eq!(format_duration(185.0), "3m 05s");
        assert_eq!(format_duration(3725.0), "1h 02m");
        assert_eq!(format_duration(f64::NAN), "?");
        assert_eq!(format_duration(-3.0), "0s");
    }

    #[test]
    fn training_holds_its_normalised_rows_at_the_movies_precision() {
        use crate::data::demo::{DemoConfig, generate_movie};
        let config = DemoConfig {
            movies: 3,
            seed: 2,
            min_shots: 20,
            max_shots: 30,
        };
        let movies: Vec<Movie> = (0..3).map(|i| generate_movie(&config, i)).collect();
        let half: Vec<Movie> = movies
            .iter()
            .cloned()
            .map(|mut m| {
                for f in m.features.iter_mut() {
                    *f = f.take().map(|f| f.into_precision(FeaturePrecision::F16));
                }
                m
            })
            .collect();
        let settings = TrainSettings::default();
        for (set, f16) in [(&movies, false), (&half, true)] {
            let found = SplitMovies {
                train: vec![&set[0], &set[1]],
                validation: vec![&set[2]],
                test: Vec::new(),
            };
            let dims = found.dims().unwrap();
            let sets = prepare_sets(&found, dims, &settings).unwrap();
            for p in sets.train.iter().chain(&sets.validation) {
                assert_eq!(matches!(p.rows, Rows::F16(_)), f16, "{}", p.id);
                assert_eq!(p.rows.len(), p.shots() * dims.total());
            }
        }
    }

    #[test]
    fn pieces_cover_every_transition_exactly_once() {
        let d = FeatureDims::CHALLENGE.total();
        for n in [1usize, 2, 3, 7, 128, 129, 300] {
            let truth: Vec<bool> = (0..n.saturating_sub(1)).map(|j| j % 3 == 0).collect();
            let movie = Prepared {
                id: "tt1",
                rows: Rows::F32((0..n * d).map(|v| (v / d) as f32).collect()),
                width: d,
                truth: &truth,
            };
            for (len, offset) in [(2, 0), (2, 1), (5, 3), (128, 0), (128, 127)] {
                let pieces = movie.pieces(len, offset);
                let mut seen = Vec::new();
                for p in &pieces {
                    let shots = p.rows.len() / d;
                    assert_eq!(p.truth.len(), shots.saturating_sub(1), "n {n} len {len}");
                    let first = p.rows.to_f32()[0] as usize;
                    seen.extend(first..first + p.truth.len());
                    assert_eq!(&truth[first..first + p.truth.len()], p.truth);
                }
                let all: Vec<usize> = (0..truth.len()).collect();
                assert_eq!(seen, all, "n {n} len {len} offset {offset}");
            }
        }
    }
}
