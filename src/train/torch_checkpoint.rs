//! Models in from PyTorch and out to it: a [`TrainedModel`] from a PyTorch state dict or
//! safetensors file ([`open_model`]), and a model's weights written for its PyTorch twin
//! ([`TrainedModel::export_torch`]). Names, shapes and the twin are described in
//! [`crate::model::torch_io`].

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;

use super::checkpoint::{CONFIG_FILE, FORMAT, WEIGHTS_FILE};
use super::normalize::Normalization;
use super::{CheckpointError, CheckpointMeta, StopReason, TrainSettings, TrainedModel};
use crate::data::FeatureDims;
use crate::model::torch_io::{
    self, NORMALIZATION_KEEP_EMPTY_ROWS, NORMALIZATION_MEAN, NORMALIZATION_STD, TorchImportError,
    TwinSpec,
};
use crate::model::{Model, ModelKind, SeededVarMap};

/// A model opened for scoring, and what opening it assumed or left out (for the user).
pub struct Opened {
    pub model: TrainedModel,
    pub notes: Vec<String>,
}

fn torch_error(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Torch {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The `torch` section of a `config.json`, if it has one.
fn twin_spec_in(config: &Path) -> Result<Option<TwinSpec>, CheckpointError> {
    if !config.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(config).map_err(|source| CheckpointError::Io {
        path: config.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| CheckpointError::BadConfig {
            path: config.to_path_buf(),
            message: e.to_string(),
        })?;
    match value.get("torch") {
        None => Ok(None),
        Some(spec) => {
            serde_json::from_value(spec.clone())
                .map(Some)
                .map_err(|e| CheckpointError::BadConfig {
                    path: config.to_path_buf(),
                    message: format!("its 'torch' section: {e}"),
                })
        }
    }
}

/// Whether `config` is a SceneLab model config (its `format` is ours).
fn is_scenelab_config(config: &Path) -> bool {
    std::fs::read_to_string(config)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(FORMAT))
}

/// Check, without reading it, that `path` is something [`open_model`] can open: an existing
/// folder or file. For refusing a wrong path before other work starts; `open_model` checks
/// the same. Errors: [`CheckpointError::Torch`] saying there is no such file or folder.
pub fn check_model_path(path: &Path) -> Result<(), CheckpointError> {
    if path.is_dir() || path.is_file() {
        Ok(())
    } else {
        Err(torch_error(
            path,
            "there is no such file or folder: give a model folder or a weight file",
        ))
    }
}

/// Open a model to score with, from any of:
/// * a SceneLab model folder (`scenelab train` or `scenelab export-torch` wrote it);
/// * a folder a twin's `scenelab_torch.save` wrote (`model.safetensors` and a `config.json`
///   naming the twin);
/// * a weight file: a PyTorch state dict (`.pth`, `.pt`, `.pth.tar`, `.bin`) or a safetensors
///   file; a `config.json` beside it with a `torch` section gives the model's sizes.
///
/// `kind` asks for a model kind: a folder of another kind is refused, and a weight file is
/// read as that kind instead of the one its names suggest. Errors: the path does not exist,
/// or what it holds does not make a model (the error says which part is wrong).
pub fn open_model(
    path: &Path,
    kind: Option<ModelKind>,
    device: &Device,
) -> Result<Opened, CheckpointError> {
    if path.is_dir() {
        let config = path.join(CONFIG_FILE);
        if is_scenelab_config(&config) || !config.is_file() {
            return Ok(Opened {
                model: TrainedModel::load(path, kind, device)?,
                notes: Vec::new(),
            });
        }
        let spec = twin_spec_in(&config)?;
        if spec.is_none() {
            return Err(CheckpointError::BadConfig {
                path: config,
                message: format!(
                    "it is neither a SceneLab model config ('format' \"{FORMAT}\") nor a twin's (a 'torch' section)"
                ),
            });
        }
        return from_weights(&path.join(WEIGHTS_FILE), kind, spec, device);
    }
    check_model_path(path)?;
    let parent = crate::files::parent_dir(path);
    let config = parent.join(CONFIG_FILE);
    if path.file_name() == Some(WEIGHTS_FILE.as_ref()) && is_scenelab_config(&config) {
        return Ok(Opened {
            model: TrainedModel::load(parent, kind, device)?,
            notes: Vec::new(),
        });
    }
    let spec = twin_spec_in(&config)?;
    from_weights(path, kind, spec, device)
}

/// A model from a weight file (see [`torch_io::read_weights`]): its kind from `kind`, else
/// `spec`'s class, else its names; its sizes from `spec`, else its shapes
/// ([`torch_io::infer_config`]); its normalisation from the `normalization.*` buffers, else
/// none (features used as they are, said in the notes).
pub fn from_weights(
    file: &Path,
    kind: Option<ModelKind>,
    spec: Option<TwinSpec>,
    device: &Device,
) -> Result<Opened, CheckpointError> {
    let err = |e: TorchImportError| torch_error(file, e);
    if !file.is_file() {
        return Err(CheckpointError::BadWeights {
            path: file.to_path_buf(),
            message: "the file is missing".into(),
        });
    }
    let weights = torch_io::read_weights(file).map_err(err)?;
    let mut notes = weights.notes;
    let tensors = weights.tensors;
    let spec_config = spec
        .as_ref()
        .map(TwinSpec::config)
        .transpose()
        .map_err(err)?;
    if kind.is_none_or(|k| k == ModelKind::Lgss)
        && spec.is_none()
        && crate::model::sceneseg::is_sceneseg(tensors.keys())
    {
        return sceneseg_model(file, &tensors, notes, device);
    }
    let detected = torch_io::detect_kind(tensors.keys().map(String::as_str));
    let kind = match (kind, &spec_config, detected) {
        (Some(k), Some(c), _) if c.kind() != k => {
            return Err(CheckpointError::WrongKind {
                path: file.to_path_buf(),
                found: c.kind(),
                expected: k,
            });
        }
        (Some(k), _, _) => k,
        (None, Some(c), _) => c.kind(),
        (None, None, Some(k)) => k,
        (None, None, None) => {
            let mut names: Vec<&str> = tensors.keys().map(String::as_str).collect();
            names.sort_unstable();
            let sample = names
                .iter()
                .take(4)
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(err(TorchImportError::UnknownKind { sample }));
        }
    };
    let cfg = match spec_config {
        Some(c) => c,
        None => torch_io::infer_config(kind, &tensors, &mut notes).map_err(err)?,
    };
    let varmap = VarMap::new();
    let vb = SeededVarMap::var_builder(&varmap, 0, device);
    let model = Model::new(&cfg, vb).map_err(|e| {
        err(TorchImportError::Mismatch {
            kind,
            message: e.to_string(),
        })
    })?;
    let expected = var_shapes(&varmap);
    torch_io::check_names(kind, &expected, &tensors).map_err(err)?;
    {
        let data = varmap.data().lock().unwrap_or_else(|e| e.into_inner());
        for (name, var) in data.iter() {
            let t = &tensors[name];
            let finite = t
                .flatten_all()
                .and_then(|f| f.to_vec1::<f32>())
                .is_ok_and(|v| v.iter().all(|x| x.is_finite()));
            if !finite {
                return Err(CheckpointError::BadWeights {
                    path: file.to_path_buf(),
                    message: format!("'{name}' holds a value that is not a finite f32"),
                });
            }
            t.to_device(device)
                .and_then(|t| var.set(&t))
                .map_err(|e| torch_error(file, format!("'{name}': {e}")))?;
        }
    }
    let normalization = normalization_of(&tensors, cfg.input_dims(), &mut notes)
        .map_err(|m| torch_error(file, m))?;
    let meta = imported_meta(cfg, normalization);
    Ok(Opened {
        model: TrainedModel {
            meta,
            varmap,
            model,
            device: device.clone(),
        },
        notes,
    })
}

/// The config of a model read from a weight file: no split, training curve or decision.
fn imported_meta(model: crate::model::ModelConfig, normalization: Normalization) -> CheckpointMeta {
    CheckpointMeta {
        format: FORMAT.into(),
        scenelab_version: env!("CARGO_PKG_VERSION").into(),
        training: TrainSettings::for_kind(model.kind()),
        model,
        normalization,
        split: Default::default(),
        curve: Vec::new(),
        best_epoch: None,
        stop: StopReason::Completed,
        final_metrics: None,
        decision: None,
    }
}

/// A SceneSeg LGSS checkpoint (the MovieScenes paper's code) as a model that scores with
/// SceneSeg's windowing on raw features ([`crate::model::sceneseg`]); its kind is `lgss`.
fn sceneseg_model(
    file: &Path,
    tensors: &std::collections::HashMap<String, Tensor>,
    mut notes: Vec<String>,
    device: &Device,
) -> Result<Opened, CheckpointError> {
    use crate::model::sceneseg::{SceneSegLgss, SceneSegSettings};
    let model = SceneSegLgss::from_state_dict(tensors, &SceneSegSettings::default())
        .map_err(|e| torch_error(file, e))?;
    notes.push(
        "a SceneSeg (MovieScenes) LGSS checkpoint: scored on raw features with SceneSeg's own windows of 4 shots and sequences of 10 windows".into(),
    );
    notes.extend(model.notes().iter().cloned());
    let dims = model.input_dims();
    let meta = imported_meta(
        crate::model::ModelConfig::Lgss(crate::model::lgss::Config {
            input_dims: dims,
            ..Default::default()
        }),
        Normalization::identity(dims),
    );
    Ok(Opened {
        model: TrainedModel {
            meta,
            varmap: VarMap::new(),
            model: Model::SceneSeg(Box::new(model)),
            device: device.clone(),
        },
        notes,
    })
}

/// The normalisation the `normalization.*` buffers hold for features of widths `dims`, or
/// none (mean 0, deviation 1).
fn normalization_of(
    tensors: &std::collections::HashMap<String, Tensor>,
    dims: FeatureDims,
    notes: &mut Vec<String>,
) -> Result<Normalization, String> {
    let width = dims.total();
    let vector = |name: &str| -> Result<Option<Vec<f32>>, String> {
        let Some(t) = tensors.get(name) else {
            return Ok(None);
        };
        if t.dims() != [width] || t.dtype() != DType::F32 {
            return Err(format!(
                "'{name}' has shape {:?} ({:?}), expected [{width}] floats (feature widths {dims})",
                t.dims(),
                t.dtype()
            ));
        }
        t.to_vec1::<f32>().map(Some).map_err(|e| e.to_string())
    };
    let (mean, std) = match (vector(NORMALIZATION_MEAN)?, vector(NORMALIZATION_STD)?) {
        (Some(mean), Some(std)) => (mean, std),
        (None, None) => {
            notes.push(
                "the file holds no normalisation statistics (normalization.mean / .std): features are used as they are".into(),
            );
            (vec![0.0; width], vec![1.0; width])
        }
        _ => {
            return Err(format!(
                "it holds only one of '{NORMALIZATION_MEAN}' and '{NORMALIZATION_STD}'"
            ));
        }
    };
    let keep_empty_rows = match tensors.get(NORMALIZATION_KEEP_EMPTY_ROWS) {
        None => false,
        Some(t) => t
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all()?.to_vec1::<f32>())
            .map_err(|e| format!("'{NORMALIZATION_KEEP_EMPTY_ROWS}': {e}"))?
            .first()
            .is_some_and(|&v| v != 0.0),
    };
    let n = Normalization {
        mean,
        std,
        keep_empty_rows,
        dims,
    };
    n.check()?;
    Ok(n)
}

/// A tensor as safetensors writes it: name, element type, shape, little-endian bytes.
type RawTensor = (String, safetensors::Dtype, Vec<usize>, Vec<u8>);

impl TrainedModel {
    /// The tensors [`TrainedModel::export_torch`] writes: every parameter under its name, and
    /// the normalisation buffers; f32 little-endian bytes (the flag as one bool byte).
    fn torch_tensors(&self) -> Result<Vec<RawTensor>, CheckpointError> {
        let f32_bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut out = Vec::new();
        let data = self.varmap.data().lock().unwrap_or_else(|e| e.into_inner());
        for (name, var) in data.iter() {
            let v = var
                .as_tensor()
                .to_dtype(DType::F32)
                .and_then(|t| t.flatten_all()?.to_vec1::<f32>())
                .map_err(|e| CheckpointError::Model(format!("'{name}': {e}")))?;
            out.push((
                name.clone(),
                safetensors::Dtype::F32,
                var.dims().to_vec(),
                f32_bytes(&v),
            ));
        }
        let n = &self.meta.normalization;
        out.push((
            NORMALIZATION_MEAN.into(),
            safetensors::Dtype::F32,
            vec![n.mean.len()],
            f32_bytes(&n.mean),
        ));
        out.push((
            NORMALIZATION_STD.into(),
            safetensors::Dtype::F32,
            vec![n.std.len()],
            f32_bytes(&n.std),
        ));
        out.push((
            NORMALIZATION_KEEP_EMPTY_ROWS.into(),
            safetensors::Dtype::BOOL,
            Vec::new(),
            vec![u8::from(n.keep_empty_rows)],
        ));
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// `model.safetensors` as [`TrainedModel::save`] and [`TrainedModel::export_torch`]
    /// write it: every parameter under its name and the normalisation buffers.
    pub(crate) fn torch_safetensors(&self) -> Result<Vec<u8>, CheckpointError> {
        let tensors = self.torch_tensors()?;
        let views = tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|v| (name.as_str(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CheckpointError::Model(e.to_string()))?;
        safetensors::serialize(views, None).map_err(|e| CheckpointError::Model(e.to_string()))
    }

    /// Write the model for its PyTorch twin into the folder `out` (created if needed): what
    /// [`TrainedModel::save`] writes, `model.safetensors` with every parameter under its
    /// twin's name plus the normalisation buffers, and `config.json` with a `torch` section
    /// naming the twin class and its constructor arguments ([`TwinSpec`]). In Python,
    /// `scenelab_torch.load(out)` gives the twin; the folder stays a SceneLab model folder.
    /// For a folder written by an older SceneLab (weights without the buffers, a config without
    /// the section), this rewrites it for the twin. Errors: a file cannot be written.
    pub fn export_torch(&self, out: &Path) -> Result<(), CheckpointError> {
        self.save(out)
    }
}

/// `config.json`'s text for `meta`: its fields and a `torch` section naming the twin.
pub(crate) fn config_json(meta: &CheckpointMeta) -> Result<String, CheckpointError> {
    let bad = |e: String| CheckpointError::Model(format!("the model's config: {e}"));
    let mut config = match serde_json::to_value(meta) {
        Ok(serde_json::Value::Object(m)) => m,
        Ok(_) => return Err(bad("not a JSON object".into())),
        Err(e) => return Err(bad(e.to_string())),
    };
    let spec = serde_json::to_value(TwinSpec::of(&meta.model)).map_err(|e| bad(e.to_string()))?;
    config.insert("torch".into(), spec);
    serde_json::to_string_pretty(&config).map_err(|e| bad(e.to_string()))
}

/// `kind`'s parameter names and shapes at `cfg`'s sizes, as [`TrainedModel::export_torch`]
/// writes them (normalisation buffers included).
pub fn torch_names(
    cfg: &crate::model::ModelConfig,
) -> candle_core::Result<BTreeMap<String, Vec<usize>>> {
    let varmap = VarMap::new();
    // candle's own initialisation: no seeded draws, which are slow in a debug build for
    // LGSS's full-size layers.
    Model::new(
        cfg,
        candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
    )?;
    let mut names = var_shapes(&varmap);
    let width = cfg.input_dims().total();
    names.insert(NORMALIZATION_MEAN.into(), vec![width]);
    names.insert(NORMALIZATION_STD.into(), vec![width]);
    names.insert(NORMALIZATION_KEEP_EMPTY_ROWS.into(), Vec::new());
    Ok(names)
}

/// Each variable of `varmap` by name, with its shape.
fn var_shapes(varmap: &VarMap) -> BTreeMap<String, Vec<usize>> {
    varmap
        .data()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(n, v)| (n.clone(), v.dims().to_vec()))
        .collect()
}
