//! Training benchmark on full-size demo data (64 movies of 600–3,100 shots, the demo
//! generator's defaults): 57 movies train (a tenth of them validate for early stopping),
//! 7 test. Prints seconds per epoch, epochs run and test scores per model.
//!
//! `cargo bench --bench train -- [MODEL,...] [--epochs N] [--movies N]`

use candle_core::Device;
use rayon::prelude::*;
use scenelab::data::Split;
use scenelab::data::demo::{DemoConfig, generate_movie};
use scenelab::model::ModelKind;
use scenelab::train::bench::{bench_training, format_table};
use scenelab::train::validation_count;

fn main() -> anyhow::Result<()> {
    let mut kinds: Vec<ModelKind> = ModelKind::ALL.to_vec();
    let mut epochs = None;
    let mut n_movies = 64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {}
            "--epochs" => epochs = args.next().and_then(|v| v.parse().ok()),
            "--movies" => n_movies = args.next().and_then(|v| v.parse().ok()).unwrap_or(64),
            list => {
                kinds = list
                    .split(',')
                    .map(|k| {
                        <ModelKind as clap::ValueEnum>::from_str(k, true)
                            .map_err(|e| anyhow::anyhow!("unknown model '{k}': {e}"))
                    })
                    .collect::<anyhow::Result<_>>()?
            }
        }
    }
    let config = DemoConfig {
        movies: n_movies,
        ..DemoConfig::default()
    };
    let t0 = std::time::Instant::now();
    let movies: Vec<_> = (0..config.movies)
        .into_par_iter()
        .map(|i| generate_movie(&config, i))
        .collect();
    let shots: usize = movies.iter().map(|m| m.n_shots).sum();
    println!(
        "{} demo movies, {shots} shots, generated in {:.1} s",
        movies.len(),
        t0.elapsed().as_secs_f64()
    );
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    let n_test = 7.min(movies.len().saturating_sub(2));
    let split = Split::by_count(&ids, validation_count(movies.len() - n_test), n_test, 42)?;
    println!(
        "split: {} train, {} validation, {} test",
        split.train.len(),
        split.validation.len(),
        split.test.len()
    );
    let rows = bench_training(&movies, &split, &kinds, epochs, 0, &Device::Cpu, &mut |r| {
        println!(
            "{}: {:.1} s/epoch, {} epochs, test mAP {:.4}",
            r.model, r.seconds_per_epoch, r.epochs_run, r.test_scores.map
        );
    })?;
    print!("{}", format_table(&rows));
    Ok(())
}
