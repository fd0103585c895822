//! LGSS checkpoints of the MovieScenes paper's code (AnyiRao/SceneSeg, `lgss/src/models/lgss.py`),
//! scored as SceneSeg's own test code scores them.
//!
//! SceneSeg saves `{'state_dict': nn.DataParallel(model).state_dict(), 'epoch': n}`; with the
//! `module.` prefix stripped, each modality's branch `bnet_<mode>` (`place`, `cast`, `act`,
//! `aud`) holds, at SceneSeg's full size (`lgss/config/all.py`: 512 similarity channels,
//! 512 LSTM units, windows of 4 shots, feature dims place 2048 / cast 512 / act 512):
//!
//! | parameter | shape |
//! |---|---|
//! | `bnet_<mode>.bnet.conv1.weight`, `.bias` | `[512, 1, 4, 1]`, `[512]` |
//! | `bnet_<mode>.bnet.cos.conv1.weight`, `.bias` | `[512, 1, 2, 1]`, `[512]` |
//! | `bnet_<mode>.lstm.weight_ih_l0[_reverse]` | `[2048, dim + 512]` |
//! | `bnet_<mode>.lstm.weight_hh_l0[_reverse]` | `[2048, 512]` |
//! | `bnet_<mode>.lstm.bias_ih_l0[_reverse]`, `bias_hh_l0[_reverse]` | `[2048]` |
//! | `bnet_<mode>.fc1.weight`, `.bias` | `[100, 1024]`, `[100]` |
//! | `bnet_<mode>.fc2.weight`, `.bias` | `[2, 100]`, `[2]` |
//!
//! These are SceneLab's LGSS branch ([`super::lgss`]) at its default config, parameter for
//! parameter: the convolutions are its `conv [512, 4]` and `cos_conv [512, 2]`, torch's LSTM
//! matrices transposed and the two directions side by side in its `lstm.w_ih [dim + 512, 4096]`
//! and `lstm.w_hh [2, 512, 2048]` (gate order i, f, g, o in both), `bias_ih + bias_hh` summed
//! into its `lstm.bias [4096]`, and the dense layers transposed (`[in, out]`). The audio branch
//! differs: SceneSeg's `bnet_aud` reads STFT spectrograms through a CNN (`bnet.audnet.*`, with
//! an unused `bnet.conv1`) and feeds the LSTM only the half-window cosine of the CNN's outputs
//! (`bnet.conv2`, LSTM input 512), so it cannot read the challenge's 512-d audio vectors; it is
//! left out and reported. (A `bnet_aud` laid out like the other branches is loaded as one.)
//!
//! How SceneSeg scores a movie (`lgss/src/data/all.py`, `run.py test()`), reproduced by
//! [`SceneSegLgss::score`]:
//! - the window of transition `t` (the boundary after shot `t`) is shots `t-1 ..= t+2`;
//! - shot `s` anchors a sequence if shots `s-6 ..= s+7` all exist (`seq_len + shot_num`
//!   shots around it); the anchors are walked in order, and `s` starts a sequence of the
//!   transitions `s-4 ..= s+5` when `s >= previous + 5` (the first needs `s >= 5`): sequences
//!   of 10 windows, stride 10, from transition 2 to the last anchor `s <= n - 8` of an
//!   `n`-shot movie (see [`sceneseg_sequences`]); its test loader also drops the last
//!   incomplete batch of 128 sequences of the whole test set (`drop_last=True`), which no
//!   per-movie scoring can reproduce;
//! - each sequence runs alone through every branch (BiLSTM state from zero, no padding);
//!   the branches' two logits are summed with the ratios and the score is
//!   `softmax(logits)[1]`.
//!
//! SceneLab's own LGSS differs there: its sequences start at transition 1 and the last one is
//! zero-padded (its BiLSTM runs over the real windows only); SceneSeg's sum of two-class logits
//! is the same as SceneLab's sum of logit differences under a sigmoid. SceneSeg scores no
//! transition outside its sequences; SceneLab needs a score for each, so the windows it leaves
//! out (transition 1 and the tail, or a whole movie of fewer than 14 shots) are scored by
//! sequences of `min(seq_len, windows)` windows aligned to the run they fill and kept inside
//! the movie, and the first and last transitions, which no window centres on, copy their
//! neighbour's score, as SceneLab's LGSS does. [`SceneSegScores::sceneseg`] says which
//! transitions are SceneSeg's own.
//!
//! SceneSeg feeds raw features (the cast feature is the mean of a shot's face features), so
//! features go in unnormalised, not with the training-set normalisation SceneLab's own models
//! read.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::ShotBatch;
use super::layers::reverse_index;
use super::lgss::{Branch, Config, WINDOW};
use crate::data::{FeatureData, FeatureDims, Modality, Movie};

/// SceneSeg's fusion ratios (`cfg.model.ratio` in `lgss/config/all.py`), place / cast / act /
/// aud. SceneSeg keeps them in its config, not in the checkpoint.
pub const DEFAULT_RATIOS: [f64; 4] = [0.5, 0.2, 0.2, 0.1];

/// SceneSeg's windows per sequence (`seq_len` in its configs); not stored in the checkpoint.
pub const DEFAULT_SEQ_LEN: usize = 10;

/// SceneSeg's branch name of each modality, in [`Modality::ALL`] order.
pub const BRANCH_NAMES: [&str; 4] = ["place", "cast", "act", "aud"];

/// How to read a SceneSeg checkpoint: what SceneSeg keeps in its config rather than in the
/// checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneSegSettings {
    /// Windows per sequence (SceneSeg's `seq_len`, even).
    pub seq_len: usize,
    /// Fusion ratios place / cast / act / aud (SceneSeg's `cfg.model.ratio`); `None` uses
    /// [`DEFAULT_RATIOS`] and says so in [`SceneSegLgss::notes`].
    pub ratios: Option<[f64; 4]>,
}

impl Default for SceneSegSettings {
    fn default() -> Self {
        SceneSegSettings {
            seq_len: DEFAULT_SEQ_LEN,
            ratios: None,
        }
    }
}

/// Why a state dict is not a SceneSeg LGSS SceneLab can score with, or why a movie cannot be
/// scored.
#[derive(Debug, thiserror::Error)]
pub enum SceneSegError {
    #[error(
        "parameter '{0}' is not part of a SceneSeg LGSS (its branches are bnet_place, bnet_cast, bnet_act, bnet_aud): is this a SceneSeg checkpoint?"
    )]
    Unexpected(String),
    #[error("parameter '{0}' is missing: a SceneSeg LGSS branch needs it")]
    Missing(String),
    #[error("parameter '{name}' has shape {found:?}, where SceneSeg's LGSS has {expected}")]
    Shape {
        name: String,
        found: Vec<usize>,
        expected: String,
    },
    #[error(
        "the checkpoint's windows are {0} shots (SceneSeg's shot_num): SceneLab's LGSS reads windows of 4"
    )]
    Window(usize),
    #[error("seq_len {0} is not a positive even number, as SceneSeg's sequences need")]
    SeqLen(usize),
    #[error(
        "the state dict holds no LGSS branch SceneLab can run (bnet_place, bnet_cast, bnet_act, or a bnet_aud reading vectors)"
    )]
    NoBranches,
    #[error(
        "the movie has no {modality} features, which the checkpoint's bnet_{branch} branch reads"
    )]
    MissingFeatures {
        modality: &'static str,
        branch: &'static str,
    },
    #[error(
        "the movie's {modality} features are {found:?}, where the checkpoint's bnet_{branch} branch reads [shots, {dim}] (and every modality needs the same shots)"
    )]
    Features {
        modality: &'static str,
        branch: &'static str,
        found: Vec<usize>,
        dim: usize,
    },
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// One branch SceneLab runs.
struct Loaded {
    modality: Modality,
    dim: usize,
    ratio: f64,
    branch: Branch,
}

/// Whether a state dict's names (after `module.` is stripped) are SceneSeg's LGSS branches
/// (`bnet_place.*`, `bnet_cast.*`, ...), which name none of SceneLab's own parameters.
pub fn is_sceneseg<'a>(mut names: impl Iterator<Item = &'a String>) -> bool {
    names.any(|n| {
        let n = n.strip_prefix("module.").unwrap_or(n);
        BRANCH_NAMES
            .iter()
            .any(|b| n.starts_with(&format!("bnet_{b}.")))
    })
}

/// A SceneSeg LGSS checkpoint as SceneLab runs it.
pub struct SceneSegLgss {
    branches: Vec<Loaded>,
    seq_len: usize,
    notes: Vec<String>,
    device: Device,
}

/// Per-transition scores of one movie.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneSegScores {
    /// Probability of a scene boundary after each shot but the last (`shots - 1` values).
    pub scores: Vec<f32>,
    /// The transitions SceneSeg's test code scores itself (the others are SceneLab's fill).
    pub sceneseg: Vec<Range<usize>>,
}

/// The sequences SceneSeg's test loader forms for a movie whose shots `0..n_shots` all have
/// features and labels, as transition ranges of `seq_len` each (transition `t` is scored by
/// the window of shots `t + 1 - shot_num/2 ..= t + shot_num/2`). From SceneSeg's
/// `lgss/src/data/all.py`: `data_pre` keeps shot `s` if all shots
/// `s + (-(w)//2 + 1) .. s + w//2 + 1`, `w = seq_len + shot_num`, exist (Python floor
/// division); `data_partition` starts a sequence `s - seq_len/2 + 1 ..= s + seq_len/2` at each
/// kept `s >= previous start + seq_len/2` (the first at `s >= seq_len/2`). A label file that
/// omits the last shot makes SceneSeg treat the movie as `n_shots - 1` shots here.
pub fn sceneseg_sequences(n_shots: usize, shot_num: usize, seq_len: usize) -> Vec<Range<usize>> {
    let n = n_shots as i64;
    let w = (seq_len + shot_num) as i64;
    let (lo, hi) = ((-w).div_euclid(2) + 1, w / 2 + 1);
    let half = (seq_len / 2) as i64;
    let mut out = Vec::new();
    let mut last = 0i64;
    for s in 0..n {
        if s + lo < 0 || s + hi > n || s < last + half {
            continue;
        }
        last = s + half;
        out.push((s - half + 1) as usize..(s + half + 1) as usize);
    }
    out
}

/// The name's tensor, with the shape checked against `expected` (`None` for "any").
fn take(
    params: &HashMap<String, Tensor>,
    name: &str,
    expected: &[Option<usize>],
) -> Result<Tensor, SceneSegError> {
    let t = params
        .get(name)
        .ok_or_else(|| SceneSegError::Missing(name.to_string()))?;
    let dims = t.dims();
    let fits = dims.len() == expected.len()
        && dims
            .iter()
            .zip(expected)
            .all(|(&d, e)| e.is_none_or(|e| e == d));
    if !fits {
        let want: Vec<String> = expected
            .iter()
            .map(|e| e.map_or("_".to_string(), |e| e.to_string()))
            .collect();
        return Err(SceneSegError::Shape {
            name: name.to_string(),
            found: dims.to_vec(),
            expected: format!("[{}]", want.join(", ")),
        });
    }
    Ok(t.to_dtype(DType::F32)?)
}

/// The parameter names of a branch laid out as SceneSeg's `LGSSone` over a `BNet`.
const BNET_PARAMS: [&str; 16] = [
    "bnet.conv1.weight",
    "bnet.conv1.bias",
    "bnet.cos.conv1.weight",
    "bnet.cos.conv1.bias",
    "lstm.weight_ih_l0",
    "lstm.weight_hh_l0",
    "lstm.bias_ih_l0",
    "lstm.bias_hh_l0",
    "lstm.weight_ih_l0_reverse",
    "lstm.weight_hh_l0_reverse",
    "lstm.bias_ih_l0_reverse",
    "lstm.bias_hh_l0_reverse",
    "fc1.weight",
    "fc1.bias",
    "fc2.weight",
    "fc2.bias",
];

/// SceneLab-named variables (under `prefix`) of one SceneSeg branch, its feature dim and
/// sizes.
fn convert_branch(
    params: &HashMap<String, Tensor>,
    mode: &str,
    prefix: &str,
    out: &mut HashMap<String, Tensor>,
) -> Result<(usize, Config), SceneSegError> {
    let p = |n: &str| format!("bnet_{mode}.{n}");
    let conv = take(
        params,
        &p("bnet.conv1.weight"),
        &[None, Some(1), None, Some(1)],
    )?;
    let (channels, window) = (conv.dim(0)?, conv.dim(2)?);
    if window != WINDOW {
        return Err(SceneSegError::Window(window));
    }
    let c = Some(channels);
    let conv_b = take(params, &p("bnet.conv1.bias"), &[c])?;
    let cos = take(
        params,
        &p("bnet.cos.conv1.weight"),
        &[c, Some(1), Some(2), Some(1)],
    )?;
    let cos_b = take(params, &p("bnet.cos.conv1.bias"), &[c])?;
    let w_ih = take(params, &p("lstm.weight_ih_l0"), &[None, None])?;
    let (gates, input) = w_ih.dims2()?;
    if gates % 4 != 0 || gates == 0 || input <= channels {
        return Err(SceneSegError::Shape {
            name: p("lstm.weight_ih_l0"),
            found: vec![gates, input],
            expected: format!("[4 × hidden, features + {channels}]"),
        });
    }
    let hidden = gates / 4;
    let (g, h) = (Some(gates), Some(hidden));
    let w_ih_r = take(params, &p("lstm.weight_ih_l0_reverse"), &[g, Some(input)])?;
    let w_hh = take(params, &p("lstm.weight_hh_l0"), &[g, h])?;
    let w_hh_r = take(params, &p("lstm.weight_hh_l0_reverse"), &[g, h])?;
    let bias =
        (take(params, &p("lstm.bias_ih_l0"), &[g])? + take(params, &p("lstm.bias_hh_l0"), &[g])?)?;
    let bias_r = (take(params, &p("lstm.bias_ih_l0_reverse"), &[g])?
        + take(params, &p("lstm.bias_hh_l0_reverse"), &[g])?)?;
    let fc1 = take(params, &p("fc1.weight"), &[None, Some(2 * hidden)])?;
    let dense = fc1.dim(0)?;
    let fc1_b = take(params, &p("fc1.bias"), &[Some(dense)])?;
    let fc2 = take(params, &p("fc2.weight"), &[Some(2), Some(dense)])?;
    let fc2_b = take(params, &p("fc2.bias"), &[Some(2)])?;

    let mut put = |name: &str, t: Tensor| -> Result<(), SceneSegError> {
        out.insert(format!("{prefix}.{name}"), t.contiguous()?);
        Ok(())
    };
    put("conv.weight", conv.reshape((channels, WINDOW))?)?;
    put("conv.bias", conv_b)?;
    put("cos_conv.weight", cos.reshape((channels, WINDOW / 2))?)?;
    put("cos_conv.bias", cos_b)?;
    put("lstm.w_ih", Tensor::cat(&[w_ih.t()?, w_ih_r.t()?], 1)?)?;
    put("lstm.bias", Tensor::cat(&[bias, bias_r], 0)?)?;
    put("lstm.w_hh", Tensor::stack(&[w_hh.t()?, w_hh_r.t()?], 0)?)?;
    put("fc1.weight", fc1.t()?)?;
    put("fc1.bias", fc1_b)?;
    put("fc2.weight", fc2.t()?)?;
    put("fc2.bias", fc2_b)?;
    let cfg = Config {
        channels,
        hidden,
        dense,
        ..Config::default()
    };
    Ok((input - channels, cfg))
}

impl SceneSegLgss {
    /// Map a SceneSeg state dict (name → tensor, any float dtype; a `module.` prefix from
    /// `nn.DataParallel` is stripped here if still present) onto SceneLab's LGSS branches.
    /// The branches present decide the modalities; channels, LSTM units, dense width, window
    /// and feature dims come from the weight shapes.
    ///
    /// Errors: a name outside SceneSeg's LGSS ([`SceneSegError::Unexpected`]), a missing or
    /// misshapen parameter (a unidirectional or multi-layer LSTM among them), windows other
    /// than 4 shots, a `seq_len` that is 0 or odd, or no branch SceneLab can run.
    pub fn from_state_dict(
        state_dict: &HashMap<String, Tensor>,
        settings: &SceneSegSettings,
    ) -> Result<SceneSegLgss, SceneSegError> {
        if settings.seq_len == 0 || !settings.seq_len.is_multiple_of(2) {
            return Err(SceneSegError::SeqLen(settings.seq_len));
        }
        let params: HashMap<String, Tensor> = state_dict
            .iter()
            .map(|(k, v)| {
                (
                    k.strip_prefix("module.").unwrap_or(k).to_string(),
                    v.clone(),
                )
            })
            .collect();
        // Every name must belong to a branch, and a BNet branch holds exactly its 16.
        let mut by_branch: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        let mut names: Vec<&String> = params.keys().collect();
        names.sort();
        for name in names {
            let branch = BRANCH_NAMES
                .iter()
                .position(|b| name.starts_with(&format!("bnet_{b}.")))
                .ok_or_else(|| SceneSegError::Unexpected(name.clone()))?;
            by_branch.entry(branch).or_default().push(name);
        }
        let device = params
            .values()
            .next()
            .map_or(Device::Cpu, |t| t.device().clone());
        let mut notes = Vec::new();
        let ratios = match settings.ratios {
            Some(r) => r,
            None => {
                notes.push(format!(
                    "the checkpoint holds no fusion ratios (SceneSeg keeps them in its config, cfg.model.ratio): using SceneSeg's defaults {} (place / cast / act / aud)",
                    DEFAULT_RATIOS.map(|r| r.to_string()).join(" / ")
                ));
                DEFAULT_RATIOS
            }
        };
        let mut vars = HashMap::new();
        let mut plan = Vec::new();
        for (&i, names) in &by_branch {
            let mode = BRANCH_NAMES[i];
            let modality = Modality::ALL[i];
            let spectrogram = names
                .iter()
                .any(|n| n.starts_with(&format!("bnet_{mode}.bnet.audnet.")));
            if spectrogram {
                notes.push(format!(
                    "bnet_{mode} is SceneSeg's audio branch, a CNN over STFT spectrograms: it cannot read 512-d audio vectors; left out (the other branches keep their ratios)"
                ));
                continue;
            }
            if let Some(extra) = names.iter().find(|n| {
                !BNET_PARAMS
                    .iter()
                    .any(|p| **n == format!("bnet_{mode}.{p}"))
            }) {
                return Err(SceneSegError::Unexpected(extra.to_string()));
            }
            let (dim, cfg) = convert_branch(&params, mode, modality.field(), &mut vars)?;
            plan.push((modality, dim, cfg));
        }
        if plan.is_empty() {
            return Err(SceneSegError::NoBranches);
        }
        let vb = VarBuilder::from_tensors(vars, DType::F32, &device);
        let branches = plan
            .into_iter()
            .map(|(modality, dim, cfg)| {
                let branch = Branch::new(dim, &cfg, vb.pp(modality.field()))?;
                Ok(Loaded {
                    modality,
                    dim,
                    ratio: ratios[modality.index()],
                    branch,
                })
            })
            .collect::<Result<_, SceneSegError>>()?;
        Ok(SceneSegLgss {
            branches,
            seq_len: settings.seq_len,
            notes,
            device,
        })
    }

    /// What loading left out or assumed, one sentence each, for the user to see.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The modalities the checkpoint scores with, and the feature width each reads.
    pub fn modalities(&self) -> Vec<(Modality, usize)> {
        self.branches.iter().map(|b| (b.modality, b.dim)).collect()
    }

    /// The feature widths of the batches [`SceneSegLgss::forward_batch`] reads: each branch's
    /// own, the challenge's for a modality without one (its columns are not read).
    pub fn input_dims(&self) -> FeatureDims {
        self.branches
            .iter()
            .fold(FeatureDims::CHALLENGE, |dims, b| {
                dims.with(b.modality, b.dim)
            })
    }

    /// Score a movie: `features[m]` is modality `m`'s raw `[shots, dim]` features (in
    /// [`Modality::ALL`] order; only the checkpoint's modalities are read, the others may be
    /// `None`). Every scored transition SceneSeg's test code scores gets exactly its score
    /// (see the module doc for the rest). A movie of fewer than 4 shots is padded with zero
    /// shots to one window.
    ///
    /// Errors: a modality the checkpoint reads is missing or has the wrong width, or the
    /// modalities disagree on the number of shots.
    pub fn score(&self, features: &[Option<&Tensor>; 4]) -> Result<SceneSegScores, SceneSegError> {
        let mut shots = None;
        let mut inputs = Vec::with_capacity(self.branches.len());
        for b in &self.branches {
            let (modality, branch) = (b.modality.field(), BRANCH_NAMES[b.modality.index()]);
            let x = features[b.modality.index()]
                .ok_or(SceneSegError::MissingFeatures { modality, branch })?;
            let bad = || SceneSegError::Features {
                modality,
                branch,
                found: x.dims().to_vec(),
                dim: b.dim,
            };
            let (n, d) = x.dims2().map_err(|_| bad())?;
            if d != b.dim || shots.is_some_and(|s| s != n) {
                return Err(bad());
            }
            shots = Some(n);
            inputs.push(x.to_device(&self.device)?.to_dtype(DType::F32)?);
        }
        let n_shots = shots.unwrap_or(0);
        if n_shots < 2 {
            return Ok(SceneSegScores {
                scores: Vec::new(),
                sceneseg: Vec::new(),
            });
        }
        let padded = n_shots.max(WINDOW);
        let windows = padded + 1 - WINDOW;
        // Transition scored by window 0.
        let first = WINDOW / 2 - 1;
        let sceneseg = sceneseg_sequences(n_shots, WINDOW, self.seq_len);
        // Sequences as window ranges, and which windows each one scores.
        let mut owner: Vec<Option<(usize, usize)>> = vec![None; windows];
        let mut sequences: Vec<Range<usize>> = Vec::new();
        for r in &sceneseg {
            let seq = r.start - first..r.end - first;
            for (k, w) in seq.clone().enumerate() {
                owner[w] = Some((sequences.len(), k));
            }
            sequences.push(seq);
        }
        let length = self.seq_len.min(windows);
        let mut w = 0;
        while w < windows {
            if owner[w].is_some() {
                w += 1;
                continue;
            }
            let end = (w..windows)
                .find(|&e| owner[e].is_some())
                .unwrap_or(windows);
            let mut pos = w;
            while pos < end {
                let start = pos.min(windows - length);
                for k in pos - start..length.min(end - start) {
                    owner[start + k] = Some((sequences.len(), k));
                }
                sequences.push(start..start + length);
                pos = start + length;
            }
            w = end;
        }
        let probs = self.run_sequences(&inputs, padded, &sequences)?;
        let per_window: Vec<f32> = owner
            .iter()
            .map(|o| o.map_or(f32::NAN, |(s, k)| probs[s][k]))
            .collect();
        let scores = (0..n_shots - 1)
            .map(|t| per_window[t.saturating_sub(first).min(windows - 1)])
            .collect();
        Ok(SceneSegScores { scores, sceneseg })
    }

    /// Per-transition logits `[batch, shots - 1]` of a padded batch of raw features (each
    /// the logit of [`SceneSegLgss::score`]'s probability, zero on padding), so that the
    /// checkpoint scores through the same paths as SceneLab's models (`predict`, the app).
    /// Errors: as [`SceneSegLgss::score`], for the first movie that fails.
    pub fn forward_batch(&self, batch: &ShotBatch) -> candle_core::Result<Tensor> {
        let width = batch.shots().saturating_sub(1);
        let dims = self.input_dims();
        let mut logits = vec![0f32; batch.batch_size() * width];
        for (i, &n) in batch.lengths.iter().enumerate() {
            let movie = batch.x.get(i)?.narrow(0, 0, n)?;
            let features = Modality::ALL
                .iter()
                .map(|&m| {
                    let r = dims.range(m);
                    movie.narrow(1, r.start, r.len())
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            let refs = [
                Some(&features[0]),
                Some(&features[1]),
                Some(&features[2]),
                Some(&features[3]),
            ];
            let scores = self
                .score(&refs)
                .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
            for (out, &p) in logits[i * width..].iter_mut().zip(&scores.scores) {
                // The sigmoid the scoring paths apply gives `p` back (to f32 rounding).
                let p = f64::from(p).clamp(1e-12, 1.0 - 1e-12);
                *out = (p.ln() - (-p).ln_1p()) as f32;
            }
        }
        Tensor::from_vec(logits, (batch.batch_size(), width), batch.x.device())
    }

    /// [`SceneSegLgss::score`] on a movie's own (raw) features.
    pub fn score_movie(&self, movie: &Movie) -> Result<SceneSegScores, SceneSegError> {
        let tensors: Vec<Option<Tensor>> = Modality::ALL
            .iter()
            .map(|&m| {
                movie
                    .feature(m)
                    .map(|f| match &f.data {
                        FeatureData::F32(v) => {
                            Tensor::from_slice(v, (f.rows, f.cols), &self.device)
                        }
                        // Held in f16 to save memory; the model computes in f32.
                        FeatureData::F16(v) => {
                            Tensor::from_slice(v, (f.rows, f.cols), &self.device)?
                                .to_dtype(DType::F32)
                        }
                    })
                    .transpose()
            })
            .collect::<candle_core::Result<_>>()?;
        let refs = [
            tensors[0].as_ref(),
            tensors[1].as_ref(),
            tensors[2].as_ref(),
            tensors[3].as_ref(),
        ];
        self.score(&refs)
    }

    /// `softmax(Σ ratio · logits)[1]` for every window of every sequence (window ranges of
    /// equal or two lengths), each sequence run on its own.
    fn run_sequences(
        &self,
        inputs: &[Tensor],
        padded: usize,
        sequences: &[Range<usize>],
    ) -> Result<Vec<Vec<f32>>, SceneSegError> {
        let mut fused: Vec<Option<Tensor>> = vec![None; sequences.len()];
        for (b, x) in self.branches.iter().zip(inputs) {
            let n = x.dim(0)?;
            let x = x.pad_with_zeros(0, 0, padded - n)?.unsqueeze(0)?;
            let h = b.branch.window_features(&x)?.squeeze(0)?; // [windows, width]
            // Sequences of one length run as one batch.
            let mut lengths: Vec<usize> = sequences.iter().map(|s| s.len()).collect();
            lengths.sort_unstable();
            lengths.dedup();
            for len in lengths {
                let ids: Vec<usize> = (0..sequences.len())
                    .filter(|&i| sequences[i].len() == len)
                    .collect();
                let rows: Vec<u32> = ids
                    .iter()
                    .flat_map(|&i| sequences[i].clone().map(|w| w as u32))
                    .collect();
                let rows = Tensor::from_vec(rows, ids.len() * len, &self.device)?;
                let width = h.dim(1)?;
                let seqs = h.index_select(&rows, 0)?.reshape((ids.len(), len, width))?;
                let rev = reverse_index(&vec![len; ids.len()], len, &self.device)?;
                let logits = (b.branch.sequence_logits(&seqs, &rev)? * b.ratio)?;
                for (j, &i) in ids.iter().enumerate() {
                    let l = logits.get(j)?;
                    fused[i] = Some(match fused[i].take() {
                        None => l,
                        Some(acc) => (acc + l)?,
                    });
                }
            }
        }
        fused
            .into_iter()
            .map(|l| {
                let Some(l) = l else {
                    candle_core::bail!("a sequence no branch scored");
                };
                let p = candle_nn::ops::softmax_last_dim(&l)?;
                p.narrow(1, 1, 1)?.squeeze(1)?.to_vec1::<f32>()
            })
            .collect::<candle_core::Result<_>>()
            .map_err(SceneSegError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lgss::Lgss;

    /// Zero tensors with the shapes of a full-size SceneSeg branch (`lgss/config/all.py`).
    fn full_size_branch(mode: &str, dim: usize) -> HashMap<String, Tensor> {
        let (c, h, dense) = (512, 512, 100);
        let shapes: [(&str, Vec<usize>); 16] = [
            ("bnet.conv1.weight", vec![c, 1, 4, 1]),
            ("bnet.conv1.bias", vec![c]),
            ("bnet.cos.conv1.weight", vec![c, 1, 2, 1]),
            ("bnet.cos.conv1.bias", vec![c]),
            ("lstm.weight_ih_l0", vec![4 * h, dim + c]),
            ("lstm.weight_hh_l0", vec![4 * h, h]),
            ("lstm.bias_ih_l0", vec![4 * h]),
            ("lstm.bias_hh_l0", vec![4 * h]),
            ("lstm.weight_ih_l0_reverse", vec![4 * h, dim + c]),
            ("lstm.weight_hh_l0_reverse", vec![4 * h, h]),
            ("lstm.bias_ih_l0_reverse", vec![4 * h]),
            ("lstm.bias_hh_l0_reverse", vec![4 * h]),
            ("fc1.weight", vec![dense, 2 * h]),
            ("fc1.bias", vec![dense]),
            ("fc2.weight", vec![2, dense]),
            ("fc2.bias", vec![2]),
        ];
        shapes
            .into_iter()
            .map(|(n, s)| {
                let t = Tensor::zeros(s, DType::F32, &Device::Cpu).unwrap();
                (format!("bnet_{mode}.{n}"), t)
            })
            .collect()
    }

    #[test]
    fn full_size_sceneseg_branches_are_scenelab_default_lgss_branches() {
        let map = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu);
        Lgss::new(&Config::default(), vb).unwrap();
        let scenelab: HashMap<String, Vec<usize>> = map
            .data()
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.dims().to_vec()))
            .collect();
        for (mode, modality, dim) in [
            ("place", Modality::Place, 2048),
            ("cast", Modality::Cast, 512),
            ("act", Modality::Action, 512),
        ] {
            let params = full_size_branch(mode, dim);
            let mut vars = HashMap::new();
            let (found, cfg) = convert_branch(&params, mode, modality.field(), &mut vars).unwrap();
            assert_eq!(found, FeatureDims::CHALLENGE.get(modality));
            let default = Config::default();
            assert_eq!(
                (cfg.channels, cfg.hidden, cfg.dense),
                (default.channels, default.hidden, default.dense)
            );
            let prefix = format!("{}.", modality.field());
            let ours = scenelab.keys().filter(|k| k.starts_with(&prefix)).count();
            assert_eq!(vars.len(), ours, "{mode}");
            for (k, t) in &vars {
                assert_eq!(scenelab.get(k), Some(&t.dims().to_vec()), "{k}");
            }
        }
    }

    #[test]
    fn sequences_start_at_transition_two_and_stride_by_seq_len() {
        // 37 shots: anchors 6, 16, 26 (36 is too close to the end).
        let got = sceneseg_sequences(37, 4, 10);
        assert_eq!(got, vec![2..12, 12..22, 22..32]);
        // The last anchor needs shots up to s + 7: 26 + 7 = 33 is the 34th shot.
        assert_eq!(sceneseg_sequences(34, 4, 10), vec![2..12, 12..22, 22..32]);
        assert_eq!(sceneseg_sequences(33, 4, 10), vec![2..12, 12..22]);
        assert!(sceneseg_sequences(13, 4, 10).is_empty());
        assert_eq!(sceneseg_sequences(14, 4, 10), vec![2..12]);
    }
}
