//! `scenelab bench`: measurements a user can repeat on their own machine.
//!
//! Speed targets are checked here, never by timed unit tests (machines are shared and noisy).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::data::Dataset;

/// Arguments of `scenelab bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: Bench,
}

#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Load every movie of a folder (parallel decode), print the load rate.
    Load {
        /// Folder of `*.pkl` movies (make one with `scenelab demo --out DIR`).
        dir: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Train each model on full-size demo movies (57 train, 7 test), or on a folder, and print
    /// seconds per epoch, epochs run and test metrics from SceneLab's evaluator.
    Train {
        /// Train on this folder of tt*.pkl movies instead of generating demo movies (use the
        /// folder `torch_baselines.py` reads to compare side by side).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// File of test imdb ids, one per line (for example the `test` list that
        /// `torch_baselines.py` prints first); 7 movies drawn with seed 42 if omitted.
        #[arg(long)]
        test_ids: Option<PathBuf>,
        /// Write the rows as JSON to this file too.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Models to measure (default: all).
        #[arg(long, value_delimiter = ',')]
        models: Vec<crate::model::ModelKind>,
        /// Demo movies to generate (without --dir).
        #[arg(long, default_value_t = 64)]
        movies: usize,
        /// Epoch cap (default: each model's own).
        #[arg(long)]
        epochs: Option<usize>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.what {
        Bench::Load { dir, threads } => bench_load(dir, threads),
        Bench::Train {
            dir,
            test_ids,
            json,
            models,
            movies,
            epochs,
        } => {
            use crate::train::bench;
            let kinds = if models.is_empty() {
                crate::model::ModelKind::ALL.to_vec()
            } else {
                models
            };
            let say = &mut |line: String| eprintln!("{line}");
            let movies = match &dir {
                Some(dir) => super::train::load_trainable(dir, "training")?,
                None => bench::demo_movies(movies, say)?,
            };
            let test_ids = test_ids
                .as_deref()
                .map(super::train::read_test_ids)
                .transpose()?;
            let split = bench::benchmark_split(&movies, test_ids.as_deref())?;
            let rows = bench::run_benchmark(
                &movies,
                &split,
                &kinds,
                epochs,
                &candle_core::Device::Cpu,
                say,
            )?;
            println!("{}", bench::format_table(&rows));
            if let Some(path) = json {
                crate::files::write_atomic(&path, serde_json::to_string_pretty(&rows)?.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(())
        }
    }
}

fn bench_load(dir: PathBuf, threads: Option<usize>) -> anyhow::Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let files = Dataset::movie_files(&dir)?;
    let bar = super::progress_bar(files.len() as u64, "loading");
    let start = Instant::now();
    let dataset = pool.install(|| Dataset::load_dir(&dir, &|p| bar.set_position(p.done as u64)))?;
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let file_bytes: u64 = files
        .iter()
        .filter_map(|f| f.metadata().ok())
        .map(|m| m.len())
        .sum();
    let shots: usize = dataset.movies.iter().map(|m| m.n_shots).sum();
    println!(
        "loaded {} movies ({} failed), {} shots, {:.1} MB of files in {:.2} s with {} threads",
        dataset.movies.len(),
        dataset.failures.len(),
        shots,
        file_bytes as f64 / 1e6,
        secs,
        pool.current_num_threads()
    );
    println!(
        "load rate: {:.0} MB/s, {:.1} movies/s; decoded tensors {:.1} MB",
        file_bytes as f64 / 1e6 / secs,
        dataset.movies.len() as f64 / secs,
        dataset.tensor_bytes() as f64 / 1e6
    );
    for f in &dataset.failures {
        println!("failed: {}: {}", f.path.display(), f.error);
    }
    Ok(())
}
