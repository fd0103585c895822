//! Training benchmark on full-size demo data (64 movies of 600–3,100 shots, the demo
//! generator's defaults): 57 movies train (a tenth of them validate for early stopping),
//! 7 test. Prints seconds per epoch, epochs run and test scores per model.
//!
//! `cargo bench --bench train -- [MODEL,...] [--epochs N] [--movies N]`

use candle_core::Device;
use scenelab::model::ModelKind;
use scenelab::train::bench::{demo_benchmark, format_table};

fn main() -> anyhow::Result<()> {
    // RUST_LOG=info shows every epoch.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
    let rows = demo_benchmark(n_movies, &kinds, epochs, &Device::Cpu, &mut |line| {
        println!("{line}")
    })?;
    print!("{}", format_table(&rows));
    Ok(())
}
