//! `scenelab demo`: write synthetic movies in the real format.

use std::path::PathBuf;

/// Arguments of `scenelab demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write `tt*.pkl` files into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of movies.
    #[arg(long, default_value_t = 64)]
    pub movies: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 600)]
    pub min_shots: usize,
    #[arg(long, default_value_t = 3100)]
    pub max_shots: usize,
}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab demo' is not available in this build yet")
}
