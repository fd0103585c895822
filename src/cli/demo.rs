//! `scenelab demo`: write synthetic movies as the challenge's pkl files or in MovieNet's
//! layout (`--layout movienet`).

use std::path::PathBuf;
use std::time::Instant;

use crate::data::demo::{DemoConfig, existing_movies, write_demo, write_demo_movienet};

/// The file layout `scenelab demo` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoLayout {
    /// One `tt*.pkl` file per movie, as the challenge's files.
    Pkl,
    /// MovieNet's layout: `label318/`, `shot_movie318/`, `place_feat/` and `aud_feat/` (a
    /// `.npy` per shot), `cast_feat/` and `act_feat/` (a pickle per movie).
    Movienet,
}

/// Arguments of `scenelab demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write the movies into (created if missing): empty, new, or without movies
    /// (a folder that holds `.pkl` files or MovieNet's layout is refused, not mixed).
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
    /// File layout: `pkl` files, or MovieNet's folders (`--movies 318 --min-shots 600
    /// --max-shots 2520` writes MovieNet-318's size: about 500,000 shots, 7 GB of features).
    #[arg(long, value_enum, default_value_t = DemoLayout::Pkl)]
    pub layout: DemoLayout,
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
    if args.out.is_file() {
        anyhow::bail!(
            "{} is a file: give --out a folder (new or empty) to write the demo movies into",
            args.out.display()
        );
    }
    if let Some(found) = existing_movies(&args.out) {
        anyhow::bail!(
            "{} already holds {found}: demo movies written there would be mixed with them into \
             one data set. Pick an empty or new folder with --out, or delete those movies first.",
            args.out.display()
        );
    }
    let bar = super::progress_bar(config.movies as u64, "writing demo movies");
    let start = Instant::now();
    let progress = |done: usize, _| bar.set_position(done as u64);
    let (movies, bytes) = match args.layout {
        DemoLayout::Pkl => {
            let files = write_demo(&args.out, &config, &progress)?;
            let bytes: u64 = files
                .iter()
                .filter_map(|f| f.metadata().ok())
                .map(|m| m.len())
                .sum();
            (files.len(), bytes)
        }
        DemoLayout::Movienet => {
            let written = write_demo_movienet(&args.out, &config, &progress)?;
            (written.ids.len(), written.bytes)
        }
    };
    bar.finish_and_clear();
    eprintln!(
        "wrote {movies} {} ({:.1} MB) to {} in {:.1} s",
        if movies == 1 { "movie" } else { "movies" },
        bytes as f64 / 1e6,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
