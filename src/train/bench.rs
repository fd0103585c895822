//! Training benchmark: each model trained on the same split, timed, and scored on the test
//! movies. `benches/train.rs` runs it on full-size demo data; `scenelab bench train` can call
//! [`bench_training`] too.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use candle_core::Device;

use super::decision::{self, Decision, Objective};
use super::{TestMetrics, TrainConfig, TrainSettings, ValidationScores, metrics, test_metrics};
use crate::data::{HeldOut, Movie, Split, default_test_count, training_split};
use crate::model::ModelKind;

/// One model's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchRow {
    pub model: ModelKind,
    pub seconds_per_epoch: f64,
    /// Of which the optimisation steps (validation excluded), as PyTorch scripts time it.
    pub train_seconds_per_epoch: f64,
    pub epochs_run: usize,
    pub best_epoch: Option<usize>,
    /// Test AP and mAP computed by the training code's own AP.
    pub test_scores: ValidationScores,
    /// The reference metrics from `eval::evaluate`, or why they are missing.
    pub test_metrics: Result<TestMetrics, String>,
    /// The decision (threshold and peak picking, for Miou) tuned on the validation movies.
    pub decision: Option<Decision>,
    /// The reference metrics of the test scores with `decision` applied.
    pub decided_metrics: Option<Result<TestMetrics, String>>,
}

/// Train every kind in `kinds` on `split` and score it on the test movies. `epochs` overrides
/// [`ModelKind::default_epochs`]; `report` hears each finished row.
pub fn bench_training(
    movies: &[Movie],
    split: &Split,
    kinds: &[ModelKind],
    epochs: Option<usize>,
    seed: u64,
    device: &Device,
    report: &mut dyn FnMut(&BenchRow),
) -> anyhow::Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    for &kind in kinds {
        let config = TrainConfig {
            model: kind.default_config(),
            settings: TrainSettings {
                epochs: epochs.unwrap_or_else(|| kind.default_epochs()),
                seed,
                ..TrainSettings::for_kind(kind)
            },
        };
        let t0 = Instant::now();
        let out = super::train(
            movies,
            split,
            &config,
            device,
            None,
            &AtomicBool::new(false),
        )?;
        let seconds = t0.elapsed().as_secs_f64();
        let meta = &out.model.meta;
        let epochs_run = meta.curve.len();
        let by_id: std::collections::HashMap<&str, &Movie> =
            movies.iter().map(|m| (m.imdb_id.as_str(), m)).collect();
        let truth: Vec<&[bool]> = out
            .test_scores
            .iter()
            .map(|(id, _)| by_id[id.as_str()].ground_truth.as_deref().unwrap_or(&[]))
            .collect();
        let scores: Vec<Vec<f32>> = out.test_scores.iter().map(|(_, s)| s.clone()).collect();
        let decision = decision::tune_on_validation(
            &out.model,
            movies,
            Objective::Miou,
            &decision::grid_for(true),
        )
        .map_err(|e| anyhow::anyhow!("tuning the decision: {e}"))?
        .map(|t| t.decision);
        let decided_metrics =
            decision.map(|d| super::decided_test_metrics(movies, &out.test_scores, &d));
        let row = BenchRow {
            model: kind,
            train_seconds_per_epoch: meta.curve.iter().map(|r| r.train_seconds).sum::<f64>()
                / epochs_run.max(1) as f64,
            seconds_per_epoch: meta.curve.iter().map(|r| r.seconds).sum::<f64>()
                / epochs_run.max(1) as f64,
            epochs_run,
            best_epoch: meta.best_epoch,
            test_scores: metrics::validation_scores(&truth, &scores),
            test_metrics: test_metrics(movies, &out.test_scores),
            decision,
            decided_metrics,
        };
        tracing::info!(model = %kind, seconds, "benchmarked");
        report(&row);
        rows.push(row);
    }
    Ok(rows)
}

/// `n_movies` full-size demo movies generated in memory (the demo generator's defaults, as
/// `scenelab demo` writes them).
pub fn demo_movies(n_movies: usize, say: &mut dyn FnMut(String)) -> anyhow::Result<Vec<Movie>> {
    use rayon::prelude::*;
    let config = crate::data::demo::DemoConfig {
        movies: n_movies,
        ..crate::data::demo::DemoConfig::default()
    };
    config.validate()?;
    let t0 = Instant::now();
    let movies: Vec<Movie> = (0..config.movies)
        .into_par_iter()
        .map(|i| crate::data::demo::generate_movie(&config, i))
        .collect();
    let shots: usize = movies.iter().map(|m| m.n_shots).sum();
    say(format!(
        "{} demo movies, {shots} shots, generated in {:.1} s",
        movies.len(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(movies)
}

/// The benchmark's split: `test_ids` (for example the ones `torch_baselines.py` prints, to
/// compare on the same movies) or [`default_test_count`] movies (7 of 64) drawn with seed 42;
/// a tenth of the rest validates.
pub fn benchmark_split(movies: &[Movie], test_ids: Option<&[String]>) -> anyhow::Result<Split> {
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    let held_out = match test_ids {
        Some(test) => HeldOut::Ids(test.to_vec()),
        None => HeldOut::AtMost(default_test_count(ids.len())),
    };
    Ok(training_split(&ids, &held_out, 42)?)
}

/// [`bench_training`] with seed 0, telling `say` about the split and each finished model.
pub fn run_benchmark(
    movies: &[Movie],
    split: &Split,
    kinds: &[ModelKind],
    epochs: Option<usize>,
    device: &Device,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<Vec<BenchRow>> {
    say(format!(
        "split: {} train, {} validation, {} test",
        split.train.len(),
        split.validation.len(),
        split.test.len()
    ));
    bench_training(movies, split, kinds, epochs, 0, device, &mut |r| {
        say(format!(
            "{}: {:.1} s/epoch ({:.1} s training, the rest validating), {} epochs (best {}), test mAP {:.4}",
            r.model,
            r.seconds_per_epoch,
            r.train_seconds_per_epoch,
            r.epochs_run,
            r.best_epoch.map_or("-".into(), |e| e.to_string()),
            r.test_scores.map
        ))
    })
}

/// The standard benchmark: [`demo_movies`], [`benchmark_split`] without given test ids, then
/// [`run_benchmark`].
pub fn demo_benchmark(
    n_movies: usize,
    kinds: &[ModelKind],
    epochs: Option<usize>,
    device: &Device,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<Vec<BenchRow>> {
    let movies = demo_movies(n_movies, say)?;
    let split = benchmark_split(&movies, None)?;
    run_benchmark(&movies, &split, kinds, epochs, device, say)
}

/// The rows as aligned text tables: the reference's `>= 0.5`, then with each model's decision
/// tuned on its validation movies.
pub fn format_table(rows: &[BenchRow]) -> String {
    let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    let mut s = format!(
        "{:<8} {:>9} {:>9} {:>6} {:>5} {:>7} {:>7} {:>7} {:>7}\n",
        "model", "s/epoch", "train s", "epochs", "best", "AP", "mAP", "Miou", "F1"
    );
    for r in rows {
        let m = r.test_metrics.as_ref().ok();
        s.push_str(&format!(
            "{:<8} {:>9.1} {:>9.1} {:>6} {:>5} {:>7} {:>7} {:>7} {:>7}\n",
            r.model.name(),
            r.seconds_per_epoch,
            r.train_seconds_per_epoch,
            r.epochs_run,
            r.best_epoch.map_or("-".into(), |e| e.to_string()),
            cell(m.map_or(Some(r.test_scores.ap), |m| Some(m.ap))),
            cell(m.map_or(Some(r.test_scores.map), |m| Some(m.map))),
            cell(m.map(|m| m.miou)),
            cell(m.map(|m| m.f1)),
        ));
    }
    s.push_str(&format!(
        "\nwith the decision tuned on the validation movies (for Miou):\n{:<8} {:>7} {:>7} {:>7} {:>7}  decision\n",
        "model", "AP", "mAP", "Miou", "F1"
    ));
    for r in rows {
        let m = r.decided_metrics.as_ref().and_then(|m| m.as_ref().ok());
        s.push_str(&format!(
            "{:<8} {:>7} {:>7} {:>7} {:>7}  {}\n",
            r.model.name(),
            cell(m.map(|m| m.ap)),
            cell(m.map(|m| m.map)),
            cell(m.map(|m| m.miou)),
            cell(m.map(|m| m.f1)),
            r.decision
                .map_or("none (no validation movies)".into(), |d| d.to_string()),
        ));
    }
    s
}
