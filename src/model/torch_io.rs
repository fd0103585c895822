//! PyTorch interchange: the weights of SceneLab's models as PyTorch state dicts.
//!
//! Every model's parameter names are its candle `VarBuilder` paths (`conv0.weight`,
//! `lstm1.w_hh`, `place.fc2.bias`), which are also attribute paths of its PyTorch twin in
//! `python/scenelab_torch.py` (same names, same shapes, same layouts), so a twin's
//! `state_dict()` loads here and SceneLab's weights load into the twin. Beside the
//! parameters, a twin holds the feature normalisation as the buffers [`NORMALIZATION_MEAN`],
//! [`NORMALIZATION_STD`] and [`NORMALIZATION_KEEP_EMPTY_ROWS`].
//!
//! This module reads weight files ([`read_weights`]: `torch.save` files through the safe
//! pickle reader, and safetensors), recognises the model they belong to ([`detect_kind`]),
//! recovers its sizes from the weight shapes or the twin's description ([`TwinSpec`],
//! [`infer_config`]), and checks names and shapes against the model ([`check_names`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::{ModelConfig, ModelKind, bilstm, lgss, multiscale, wavenet};
use crate::data::{FeatureDims, Modality};
use crate::pickle::{ArrayData, NdArray};

/// Buffer holding the per-feature means SceneLab normalises with (`[input_dims.total()]` f32: 3584 for the challenge's widths).
pub const NORMALIZATION_MEAN: &str = "normalization.mean";
/// Buffer holding the per-feature standard deviations (`[input_dims.total()]` f32).
pub const NORMALIZATION_STD: &str = "normalization.std";
/// Buffer saying whether all-zero modality rows stay zero (`[]` bool).
pub const NORMALIZATION_KEEP_EMPTY_ROWS: &str = "normalization.keep_empty_rows";
/// What a twin's description says in its `format` field.
pub const TWIN_FORMAT: &str = "scenelab-torch-twin";
/// Prefixes wrappers add to every name: `nn.DataParallel` / `DistributedDataParallel`, and
/// `torch.compile`.
const WRAPPER_PREFIXES: [&str; 2] = ["module.", "_orig_mod."];

/// Why a weight file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TorchImportError {
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "refusing to load global '{0}': nothing in the file is run, so SceneLab reads only tensors and plain values; save the model's state_dict(), not the model object"
    )]
    Refused(String),
    #[error("{0}")]
    Pickle(crate::pickle::PickleError),
    #[error("it is not a valid safetensors file: {0}")]
    Safetensors(String),
    #[error(
        "it is neither a torch.save file nor a safetensors file (it starts with {0}): give a model folder written by `scenelab train` or a weight file (.pth, .pt, .pth.tar, .bin, .safetensors)"
    )]
    UnknownFormat(String),
    #[error(
        "it is a movie file (a pickled dict of a movie's fields: {fields}), not a model: give a model folder written by `scenelab train` or a weight file (.pth, .pt, .pth.tar, .bin, .safetensors); movie files belong in the folder of movies to score"
    )]
    MovieFile { fields: String },
    #[error(
        "tensor '{name}' has element type {dtype}, which SceneLab does not load (weights are floating point)"
    )]
    DType { name: String, dtype: String },
    #[error(
        "its weight names match none of SceneLab's models (names such as {sample}); give the kind with --kind, or save the state dict of a twin from python/scenelab_torch.py"
    )]
    UnknownKind { sample: String },
    #[error("the weights do not fit a '{kind}' model: {message}")]
    Mismatch { kind: ModelKind, message: String },
    #[error("tensor '{name}': {message}")]
    BadTensor { name: String, message: String },
    #[error("its twin description is not valid: {0}")]
    BadTwin(String),
}

/// The tensors of a weight file, with wrapper prefixes removed.
#[derive(Debug)]
pub struct WeightFile {
    /// Name → tensor on the CPU: floating-point tensors as f32, bool tensors as u8,
    /// integer tensors as i64.
    pub tensors: HashMap<String, Tensor>,
    /// What was done to read it, for the user: the key the state dict was under, entries
    /// ignored, prefixes removed.
    pub notes: Vec<String>,
}

/// Whether `bytes` start like a safetensors file: an 8-byte little-endian header length that
/// fits the file, then a JSON object.
fn looks_like_safetensors(bytes: &[u8]) -> bool {
    bytes.len() >= 10
        && bytes[8] == b'{'
        && u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default())
            .checked_add(8)
            .is_some_and(|end| end <= bytes.len() as u64)
}

/// Read a weight file: a `torch.save` file (zip archive or legacy; `.pth`, `.pt`, `.pth.tar`,
/// `.bin`) holding a state dict bare or under `state_dict`, `model`, `model_state_dict` or
/// `net` (other entries, such as `epoch` and `optimizer`, are ignored), or a safetensors
/// file. The format is recognised from the bytes, not the extension; a pickle of any protocol
/// goes to the reader. Nothing in the file is executed; a pickled object of a global off the
/// reader's allow-list is refused, naming it ([`TorchImportError::Refused`]), and a movie file
/// is refused as one ([`TorchImportError::MovieFile`]).
/// A prefix every name shares (`module.` from `nn.DataParallel`, `_orig_mod.` from
/// `torch.compile`) is removed.
pub fn read_weights(path: &Path) -> Result<WeightFile, TorchImportError> {
    let bytes = std::fs::read(path)?;
    let mut notes = Vec::new();
    let arrays: Vec<(String, NdArray)> = if looks_like_safetensors(&bytes) {
        read_safetensors(&bytes)?
    } else {
        // Every pickle protocol goes to the reader (0 and 1 start with an opcode, not 0x80),
        // so that a refused global is named; it decides what is no pickle at all.
        use crate::pickle::PickleError as P;
        let sd = crate::pickle::read_state_dict(&bytes).map_err(|e| match e {
            P::RefusedGlobal { name } => TorchImportError::Refused(name),
            P::Empty | P::NotAPickle { .. } => unknown_format(&bytes),
            P::NoStateDict { .. } => movie_file(&bytes).unwrap_or(TorchImportError::Pickle(e)),
            other => TorchImportError::Pickle(other),
        })?;
        if sd.found_under.is_empty() && movie_keys(sd.tensors.iter().map(|(n, _)| n), &sd.ignored) {
            return Err(
                movie_file(&bytes).unwrap_or_else(|| TorchImportError::MovieFile {
                    fields: MOVIE_KEYS.join(", "),
                }),
            );
        }
        if !sd.found_under.is_empty() {
            notes.push(format!(
                "read the state dict under '{}'",
                sd.found_under.join("' / '")
            ));
        }
        if !sd.ignored.is_empty() {
            notes.push(format!("ignored: {}", sd.ignored.join(", ")));
        }
        sd.tensors
    };
    let mut names: Vec<String> = arrays.iter().map(|(n, _)| n.clone()).collect();
    for prefix in WRAPPER_PREFIXES {
        if !names.is_empty() && names.iter().all(|n| n.starts_with(prefix)) {
            names = names
                .iter()
                .map(|n| n[prefix.len()..].to_string())
                .collect();
            notes.push(format!("removed the '{prefix}' prefix of every name"));
        }
    }
    let mut tensors = HashMap::with_capacity(arrays.len());
    for (name, (_, array)) in names.into_iter().zip(arrays) {
        let t = to_tensor(&name, array)?;
        tensors.insert(name, t);
    }
    Ok(WeightFile { tensors, notes })
}

/// The error for bytes that are neither format, showing how they start as Python would.
fn unknown_format(bytes: &[u8]) -> TorchImportError {
    let head: String = bytes
        .iter()
        .take(8)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    TorchImportError::UnknownFormat(format!("b'{head}'"))
}

/// Fields a challenge movie file has and no state dict does: its id, and the per-shot
/// fields evaluation reads.
const MOVIE_KEYS: [&str; 3] = [
    crate::data::FIELD_IMDB_ID,
    crate::data::FIELD_SHOT_END_FRAME,
    crate::data::FIELD_GROUND_TRUTH,
];

/// Whether a dict with these keys is a movie's: its `imdb_id` and one of the other
/// [`MOVIE_KEYS`].
fn movie_keys<'a>(tensors: impl IntoIterator<Item = &'a String>, others: &'a [String]) -> bool {
    let keys: Vec<&String> = tensors.into_iter().chain(others).collect();
    let has = |k: &str| keys.iter().any(|n| *n == k);
    has(MOVIE_KEYS[0]) && MOVIE_KEYS[1..].iter().any(|k| has(k))
}

/// [`TorchImportError::MovieFile`] when `bytes` read as a movie file (a dict with a movie's
/// fields), naming its first fields; `None` otherwise. Read as safely as a movie is.
fn movie_file(bytes: &[u8]) -> Option<TorchImportError> {
    let record = crate::pickle::read_record(bytes).ok()?;
    let keys: Vec<String> = record.iter().map(|(k, _)| k.clone()).collect();
    if !movie_keys(&keys, &[]) {
        return None;
    }
    let shown: Vec<&str> = keys.iter().take(4).map(String::as_str).collect();
    let more = if keys.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    Some(TorchImportError::MovieFile {
        fields: format!("{}{more}", shown.join(", ")),
    })
}

fn read_safetensors(bytes: &[u8]) -> Result<Vec<(String, NdArray)>, TorchImportError> {
    use crate::pickle::DType as P;
    use safetensors::Dtype as S;
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| TorchImportError::Safetensors(e.to_string()))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let dtype = match view.dtype() {
            S::F32 => P::F32,
            S::F64 => P::F64,
            S::F16 => P::F16,
            S::BF16 => P::BF16,
            S::I64 => P::I64,
            S::I32 => P::I32,
            S::I16 => P::I16,
            S::I8 => P::I8,
            S::U8 => P::U8,
            S::BOOL => P::Bool,
            other => {
                return Err(TorchImportError::DType {
                    name,
                    dtype: format!("{other:?}"),
                });
            }
        };
        out.push((
            name,
            NdArray {
                shape: view.shape().to_vec(),
                data: ArrayData::from_le_bytes(dtype, view.data()),
            },
        ));
    }
    // safetensors keeps no order; sorted names make notes and errors reproducible.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn to_tensor(name: &str, array: NdArray) -> Result<Tensor, TorchImportError> {
    let shape = array.shape.clone();
    let dev = &Device::Cpu;
    let t = match array.data {
        ArrayData::F32(v) => Tensor::from_vec(v, shape, dev),
        ArrayData::F64(_) | ArrayData::F16(_) | ArrayData::BF16(_) => {
            let v: Vec<f32> = array
                .data
                .to_f64_vec()
                .into_iter()
                .map(|x| x as f32)
                .collect();
            Tensor::from_vec(v, shape, dev)
        }
        ArrayData::Bool(v) => Tensor::from_vec(v.into_iter().map(u8::from).collect(), shape, dev),
        ArrayData::U8(v) => Tensor::from_vec(v, shape, dev),
        ArrayData::I64(_) | ArrayData::I32(_) | ArrayData::I16(_) | ArrayData::I8(_) => {
            let v: Vec<i64> = array
                .data
                .to_f64_vec()
                .into_iter()
                .map(|x| x as i64)
                .collect();
            Tensor::from_vec(v, shape, dev)
        }
    };
    t.map_err(|e| TorchImportError::BadTensor {
        name: name.into(),
        message: e.to_string(),
    })
}

/// Whether `name` is one of the normalisation buffers rather than a model parameter.
pub fn is_normalization(name: &str) -> bool {
    [
        NORMALIZATION_MEAN,
        NORMALIZATION_STD,
        NORMALIZATION_KEEP_EMPTY_ROWS,
    ]
    .contains(&name)
}

/// The model whose parameter names these are: LGSS has per-modality branches (`place.…`),
/// WaveNet a `last` layer, the BiLSTM `lstm0.w_ih`, the default model `conv0` and `out`
/// without `last`. `None` when none fits.
pub fn detect_kind<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<ModelKind> {
    let names: Vec<&str> = names.into_iter().collect();
    let has = |n: &str| names.contains(&n);
    if has("place.conv.weight") || has("cast.conv.weight") {
        Some(ModelKind::Lgss)
    } else if has("last.weight") && has("conv0.weight") {
        Some(ModelKind::Wavenet)
    } else if has("lstm0.w_ih") {
        Some(ModelKind::Bilstm)
    } else if has("conv0.weight") && has("out.weight") {
        Some(ModelKind::Default)
    } else {
        None
    }
}

/// A twin's class and constructor arguments, as `config.json`'s `torch` section holds them:
/// `python/scenelab_torch.py`'s `build(spec)` makes the twin from it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TwinSpec {
    /// [`TWIN_FORMAT`].
    pub format: String,
    /// The twin's class in `scenelab_torch`: `MultiScale`, `WaveNet`, `BiLstm` or `Lgss`.
    pub class: String,
    /// Its constructor's keyword arguments: the model config's fields that shape the
    /// network (the training-only ones, such as the learning rate, are left out).
    pub kwargs: serde_json::Map<String, serde_json::Value>,
}

/// The twin class of each kind.
pub fn twin_class(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Default => "MultiScale",
        ModelKind::Wavenet => "WaveNet",
        ModelKind::Bilstm => "BiLstm",
        ModelKind::Lgss => "Lgss",
    }
}

/// Config fields that do not shape the network.
const TRAINING_ONLY: [&str; 2] = ["learning_rate", "he_init"];

impl TwinSpec {
    /// The twin of a model config.
    pub fn of(cfg: &ModelConfig) -> TwinSpec {
        let mut kwargs = match serde_json::to_value(cfg) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        kwargs.remove("kind");
        for k in TRAINING_ONLY {
            kwargs.remove(k);
        }
        TwinSpec {
            format: TWIN_FORMAT.into(),
            class: twin_class(cfg.kind()).into(),
            kwargs,
        }
    }

    /// The model config it describes (training-only fields at their defaults).
    pub fn config(&self) -> Result<ModelConfig, TorchImportError> {
        let kind = ModelKind::ALL
            .into_iter()
            .find(|&k| twin_class(k) == self.class)
            .ok_or_else(|| {
                TorchImportError::BadTwin(format!(
                    "class '{}' is none of {}",
                    self.class,
                    ModelKind::ALL.map(twin_class).join(", ")
                ))
            })?;
        let mut value = self.kwargs.clone();
        value.insert("kind".into(), kind.name().into());
        serde_json::from_value(serde_json::Value::Object(value))
            .map_err(|e| TorchImportError::BadTwin(format!("{} kwargs: {e}", self.class)))
    }
}

fn dims(
    tensors: &HashMap<String, Tensor>,
    name: &str,
    kind: ModelKind,
) -> Result<Vec<usize>, TorchImportError> {
    tensors
        .get(name)
        .map(|t| t.dims().to_vec())
        .ok_or_else(|| TorchImportError::Mismatch {
            kind,
            message: format!("'{name}' is missing"),
        })
}

fn dim(
    tensors: &HashMap<String, Tensor>,
    name: &str,
    axis: usize,
    kind: ModelKind,
) -> Result<usize, TorchImportError> {
    let d = dims(tensors, name, kind)?;
    d.get(axis)
        .copied()
        .ok_or_else(|| TorchImportError::Mismatch {
            kind,
            message: format!("'{name}' has shape {d:?}, with no axis {axis}"),
        })
}

/// How many of `prefix0.suffix`, `prefix1.suffix`, … exist, counting from 0.
fn count_numbered(tensors: &HashMap<String, Tensor>, prefix: &str, suffix: &str) -> usize {
    (0..)
        .take_while(|i| tensors.contains_key(&format!("{prefix}{i}.{suffix}")))
        .count()
}

/// Powers of two `start, 2·start, …`, `n` of them.
fn powers(start: usize, n: usize) -> Vec<usize> {
    (0..n).map(|i| start << i).collect()
}

/// A `kind` model's config from its weights' shapes. What shapes cannot tell takes the
/// published default, and each such assumption is added to `notes`: WaveNet's split of its
/// convolutions into blocks (blocks of 9 layers when the count allows), the default model's
/// window widths and dilations, LGSS's windows per sequence and branch weights.
pub fn infer_config(
    kind: ModelKind,
    tensors: &HashMap<String, Tensor>,
    notes: &mut Vec<String>,
) -> Result<ModelConfig, TorchImportError> {
    let mismatch = |message: String| TorchImportError::Mismatch { kind, message };
    let cfg = match kind {
        ModelKind::Wavenet => {
            let d = wavenet::Config::default();
            let n = count_numbered(tensors, "conv", "weight");
            let filters = dim(tensors, "conv0.bias", 0, kind)?;
            let (num_layers, num_blocks) = if n.is_multiple_of(d.num_layers) {
                (d.num_layers, n / d.num_layers)
            } else {
                (n, 1)
            };
            notes.push(format!(
                "assumed {num_blocks} block(s) of {num_layers} layers (dilations 1 to {}) for the {n} convolutions",
                1usize << (num_layers - 1)
            ));
            ModelConfig::Wavenet(wavenet::Config {
                num_layers,
                num_blocks,
                filters,
                last_filters: dim(tensors, "last.bias", 0, kind)?,
                ..d
            })
        }
        ModelKind::Bilstm => ModelConfig::Bilstm(bilstm::Config {
            hidden: dim(tensors, "lstm0.w_hh", 1, kind)?,
            layers: count_numbered(tensors, "lstm", "w_ih"),
            ..bilstm::Config::default()
        }),
        ModelKind::Default => {
            let d = multiscale::Config::default();
            let hidden = dim(tensors, "conv0.bias", 0, kind)?;
            let w = dims(tensors, "conv0.weight", kind)?;
            if w.len() != 2 || hidden == 0 || w[1] % hidden != 0 {
                return Err(mismatch(format!(
                    "'conv0.weight' has shape {w:?}, not [features, kernel × {hidden}]"
                )));
            }
            let n_convs = count_numbered(tensors, "conv", "weight");
            let projection_dim = if tensors.contains_key("projection.weight") {
                dim(tensors, "projection.weight", 1, kind)?
            } else {
                0
            };
            let n_modalities = Modality::ALL.len();
            let (similarity_widths, difference_widths) = if let Some(n) = w[0]
                .checked_sub(n_modalities * d.similarity_widths.len())
                .and_then(|rest| {
                    rest.checked_div(projection_dim)
                        .filter(|n| n * projection_dim == rest)
                }) {
                let dw = if n == d.difference_widths.len() {
                    d.difference_widths.clone()
                } else {
                    powers(2, n)
                };
                (d.similarity_widths.clone(), dw)
            } else if projection_dim == 0 {
                if !w[0].is_multiple_of(n_modalities) {
                    return Err(mismatch(format!(
                        "'conv0.weight' reads {} features, not a multiple of {n_modalities} similarities",
                        w[0]
                    )));
                }
                (powers(1, w[0] / n_modalities), d.difference_widths.clone())
            } else {
                return Err(mismatch(format!(
                    "'conv0.weight' reads {} features, which the default similarity widths and a {projection_dim}-wide projection do not make: save the twin's config.json beside the weights",
                    w[0]
                )));
            };
            let dilations = if n_convs == d.dilations.len() {
                d.dilations.clone()
            } else {
                powers(1, n_convs)
            };
            notes.push(format!(
                "assumed similarity widths {similarity_widths:?}, dilations {dilations:?}{}",
                if projection_dim > 0 {
                    format!(", difference widths {difference_widths:?}")
                } else {
                    String::new()
                }
            ));
            ModelConfig::Default(multiscale::Config {
                similarity_widths,
                projection_dim,
                difference_widths,
                hidden,
                kernel: w[1] / hidden,
                dilations,
                ..d
            })
        }
        ModelKind::Lgss => {
            let d = lgss::Config::default();
            notes.push(format!(
                "assumed {} windows per sequence and branch weights {:?}",
                d.seq_len, d.weights
            ));
            ModelConfig::Lgss(lgss::Config {
                channels: dim(tensors, "place.conv.bias", 0, kind)?,
                hidden: dim(tensors, "place.lstm.w_hh", 1, kind)?,
                dense: dim(tensors, "place.fc1.bias", 0, kind)?,
                ..d
            })
        }
    };
    let dims = infer_dims(&cfg, tensors, notes)?;
    Ok(cfg.with_input_dims(dims))
}

/// The feature widths a model's weights read. LGSS's branches tell each modality's width
/// (`<modality>.lstm.w_ih` reads the features and the channels). The others tell only the
/// total (WaveNet's first convolution, the BiLSTM's first layer, the default model's
/// projection, or the `normalization.*` buffers), and the split is assumed: the challenge's
/// widths, or MovieNet's own (action 2048) for that total, said in `notes`.
/// Errors: the weights disagree about the total, or it is neither of those.
fn infer_dims(
    cfg: &ModelConfig,
    tensors: &HashMap<String, Tensor>,
    notes: &mut Vec<String>,
) -> Result<FeatureDims, TorchImportError> {
    let kind = cfg.kind();
    let mismatch = |message: String| TorchImportError::Mismatch { kind, message };
    if let ModelConfig::Lgss(c) = cfg {
        return Modality::ALL
            .iter()
            .try_fold(FeatureDims::CHALLENGE, |dims, &m| {
                let name = format!("{}.lstm.w_ih", m.field());
                let read = dim(tensors, &name, 0, kind)?;
                let width = read
                    .checked_sub(c.channels)
                    .filter(|&w| w > 0)
                    .ok_or_else(|| {
                        mismatch(format!(
                            "'{name}' reads {read} inputs, not the features plus {} channels",
                            c.channels
                        ))
                    })?;
                Ok(dims.with(m, width))
            });
    }
    let from_weights = match kind {
        ModelKind::Wavenet => Some(("conv0.weight", dim(tensors, "conv0.weight", 0, kind)?)),
        ModelKind::Bilstm => Some(("lstm0.w_ih", dim(tensors, "lstm0.w_ih", 0, kind)?)),
        _ if tensors.contains_key("projection.weight") => Some((
            "projection.weight",
            dim(tensors, "projection.weight", 0, kind)?,
        )),
        _ => None,
    };
    let from_buffers = tensors
        .get(NORMALIZATION_MEAN)
        .map(|t| (NORMALIZATION_MEAN, t.elem_count()));
    let total = match (from_weights, from_buffers) {
        (Some((a, x)), Some((b, y))) if x != y => {
            return Err(mismatch(format!(
                "'{a}' reads {x} features a shot but '{b}' holds {y} values"
            )));
        }
        (Some((_, x)), _) | (None, Some((_, x))) => Some(x),
        (None, None) => None,
    };
    let movienet = FeatureDims::CHALLENGE.with(Modality::Action, 2048);
    match total {
        Some(t) if t == FeatureDims::CHALLENGE.total() => Ok(FeatureDims::CHALLENGE),
        Some(t) if t == movienet.total() => {
            notes.push(format!(
                "assumed feature widths {movienet} (MovieNet's own extraction) for the {t} features a shot; save the twin's config.json beside the weights to give others"
            ));
            Ok(movienet)
        }
        Some(t) => Err(mismatch(format!(
            "the weights read {t} features a shot, which are not the challenge's widths ({}): save the twin's config.json (its input_dims) beside the weights",
            FeatureDims::CHALLENGE
        ))),
        None => {
            notes.push(format!(
                "assumed the challenge's feature widths ({}): nothing in the file says them",
                FeatureDims::CHALLENGE
            ));
            Ok(FeatureDims::CHALLENGE)
        }
    }
}

/// Check a weight file's parameters against the model's own (`expected`: name → shape):
/// every name present with its shape, nothing else besides the normalisation buffers.
/// Errors name the first missing, unexpected or misshapen weights.
pub fn check_names(
    kind: ModelKind,
    expected: &BTreeMap<String, Vec<usize>>,
    tensors: &HashMap<String, Tensor>,
) -> Result<(), TorchImportError> {
    let list = |v: Vec<&str>| -> String {
        let shown: Vec<String> = v.iter().take(5).map(|n| format!("'{n}'")).collect();
        let more = v.len().saturating_sub(shown.len());
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let missing: Vec<&str> = expected
        .keys()
        .filter(|n| !tensors.contains_key(*n))
        .map(String::as_str)
        .collect();
    let mut unexpected: Vec<&str> = tensors
        .keys()
        .filter(|n| !expected.contains_key(*n) && !is_normalization(n))
        .map(String::as_str)
        .collect();
    unexpected.sort_unstable();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing {}", list(missing)));
    }
    if !unexpected.is_empty() {
        problems.push(format!("unexpected {}", list(unexpected)));
    }
    for (name, shape) in expected {
        if let Some(t) = tensors.get(name) {
            if t.dims() != shape.as_slice() {
                problems.push(format!(
                    "'{name}' has shape {:?} where the model has {shape:?}",
                    t.dims()
                ));
            } else if t.dtype() != DType::F32 {
                problems.push(format!("'{name}' is not floating point"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TorchImportError::Mismatch {
            kind,
            message: problems.join("; "),
        })
    }
}
