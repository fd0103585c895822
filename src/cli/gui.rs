//! `scenelab gui [DIR]` (and `scenelab` with no arguments): the desktop app.

use std::path::PathBuf;

/// Arguments of `scenelab gui`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of `tt*.pkl` movies to open. Default: the last folder opened, else `data_dir/`
    /// (filled with demo movies first if it holds none).
    pub dir: Option<PathBuf>,
    /// A model folder (as `scenelab train` writes it) or a PyTorch weight file (a twin's state
    /// dict or safetensors) to load as a prediction source once the movies are open; repeat
    /// for several.
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::app::run(args.dir, args.models)
}
