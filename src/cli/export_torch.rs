//! `scenelab export-torch`: write a model for its PyTorch twin (`python/scenelab_torch.py`):
//! `model.safetensors` under the twin's parameter names, with the normalisation buffers, and
//! a `config.json` naming the twin class and its sizes.

use std::path::PathBuf;

use anyhow::Context;

use crate::model::ModelKind;
use crate::model::torch_io::twin_class;
use crate::train::torch_checkpoint::{Opened, open_model};

/// Arguments of `scenelab export-torch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model folder written by `scenelab train` (or any model `scenelab predict --model`
    /// reads).
    pub model_dir: PathBuf,
    /// Folder to write model.safetensors and config.json into (created if needed).
    pub out: PathBuf,
    /// The model kind, when MODEL_DIR is a weight file whose names do not tell it.
    #[arg(long, value_enum)]
    pub kind: Option<ModelKind>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let Opened { model, notes } =
        open_model(&args.model_dir, args.kind, &candle_core::Device::Cpu).context("MODEL_DIR")?;
    for note in &notes {
        eprintln!("{}: {note}", args.model_dir.display());
    }
    model.export_torch(&args.out).with_context(|| {
        format!(
            "writing {} from MODEL_DIR {}",
            args.out.display(),
            args.model_dir.display()
        )
    })?;
    println!(
        "wrote a '{}' model for scenelab_torch.{} to {}",
        model.kind(),
        twin_class(model.kind()),
        args.out.display()
    );
    println!(
        "in Python (with python/ on sys.path): model = scenelab_torch.load({:?}); probabilities = model.score(raw_features, lengths)",
        args.out.display().to_string()
    );
    Ok(())
}
