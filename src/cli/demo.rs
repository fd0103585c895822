//! `scenelab demo`: write synthetic movies in the real format.

use std::path::PathBuf;
use std::time::Instant;

use crate::data::demo::{DemoConfig, write_demo};

/// Arguments of `scenelab demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write `tt*.pkl` files into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of movies.
    #[arg(long, default_value_t = 64)]
    pub movies: usize,
    /// Seed: the same seed writes the same movies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fewest shots in a movie.
    #[arg(long, default_value_t = 600)]
    pub min_shots: usize,
    /// Most shots in a movie.
    #[arg(long, default_value_t = 3100)]
    pub max_shots: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = DemoConfig {
        movies: args.movies,
        seed: args.seed,
        min_shots: args.min_shots,
        max_shots: args.max_shots,
    };
    config.validate().map_err(|e| {
        use crate::data::demo::DemoConfigError as E;
        match e {
            E::NoMovies { .. } => anyhow::anyhow!("--movies must be at least 1"),
            E::TooFewShots { .. } => {
                anyhow::anyhow!("--min-shots must be at least 2 (a movie needs a transition)")
            }
            E::MinAboveMax {
                min_shots,
                max_shots,
            } => anyhow::anyhow!(
                "--min-shots ({min_shots}) is larger than --max-shots ({max_shots})"
            ),
            E::TooManyShots { .. } => anyhow::anyhow!("--max-shots above 100000 is not a movie"),
        }
    })?;
    let bar = super::progress_bar(config.movies as u64, "writing demo movies");
    let start = Instant::now();
    let files = write_demo(&args.out, &config, &|done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "wrote {} movies ({:.1} MB) to {} in {:.1} s",
        files.len(),
        bytes as f64 / 1e6,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
