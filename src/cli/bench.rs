//! `scenelab bench`: measurements a user can repeat on their own machine.
//!
//! Speed targets are checked here, never by timed unit tests (machines are shared and noisy).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use super::train::DeviceArg;
use crate::data::{Dataset, FeaturePrecision};

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
        /// Folder of `*.pkl` movies or in MovieNet's layout (make one with `scenelab demo
        /// --out DIR [--layout movienet]`).
        dir: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// How the features are held in memory: f16 halves them.
        #[arg(long, value_enum, default_value_t = FeaturePrecision::F32)]
        features: FeaturePrecision,
        /// Write the figures as JSON to this file too.
        #[arg(long)]
        json: Option<PathBuf>,
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
        /// Where to train: auto takes CUDA when this binary was built with it and a GPU
        /// answers, else the CPU.
        #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
        device: DeviceArg,
        /// Movie-level k-fold cross-validation instead of one split: every movie is tested
        /// once, a tenth of each fold's other movies validate (early stopping, the decision),
        /// and the files' provided prediction is scored on the same folds as a row of its own.
        #[arg(long, conflicts_with = "test_ids")]
        folds: Option<usize>,
        /// Seeds the folds (with --folds), the validation movies and the weights.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// JSON merged into each model's default hyperparameters, for experiments (for
        /// example '{"similarity_widths":[1,2,4,8,16,32]}').
        #[arg(long)]
        model_config: Option<String>,
        /// JSON merged into each model's training settings, for experiments (for example
        /// '{"keep_empty_rows":true,"patience":8}').
        #[arg(long)]
        settings: Option<String>,
    },
    /// Train each model from the same seed on two devices (CUDA against the CPU, say) and
    /// compare: scores before and after training, each parameter's gradient on one batch,
    /// and single ops. Prints a table; exits non-zero when anything differs by more than the
    /// tolerance.
    Devices {
        /// One device.
        #[arg(long, value_enum, default_value_t = DeviceArg::Cuda)]
        a: DeviceArg,
        /// The other.
        #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
        b: DeviceArg,
        /// Models to compare (default: all).
        #[arg(long, value_delimiter = ',')]
        models: Vec<crate::model::ModelKind>,
        /// Compare on this folder of tt*.pkl movies instead of generating demo movies.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Demo movies to generate (without --dir).
        #[arg(long, default_value_t = 8)]
        movies: usize,
        /// Fewest shots of a demo movie.
        #[arg(long, default_value_t = 100)]
        min_shots: usize,
        /// Most shots of a demo movie.
        #[arg(long, default_value_t = 400)]
        max_shots: usize,
        /// Epochs each model trains on each device.
        #[arg(long, default_value_t = 1)]
        epochs: usize,
        /// Seeds the demo movies, the weights and the batch order.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Largest difference that agrees: absolute on scores, relative to each tensor's
        /// largest value on gradients and ops.
        #[arg(long, default_value_t = 1e-4)]
        tolerance: f64,
        /// Write the report as JSON to this file too.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.what {
        Bench::Load {
            dir,
            threads,
            features,
            json,
        } => bench_load(dir, threads, features, json),
        Bench::Train {
            dir,
            test_ids,
            json,
            models,
            movies,
            epochs,
            device,
            folds,
            seed,
            model_config,
            settings,
        } => {
            use crate::train::bench;
            anyhow::ensure!(
                folds.is_some() || (model_config.is_none() && settings.is_none() && seed == 0),
                "--model-config, --settings and --seed go with --folds"
            );
            if let Some(dir) = &dir {
                super::train::check_folder(dir)?;
            }
            let test_ids = test_ids
                .as_deref()
                .map(super::train::read_test_ids)
                .transpose()?;
            let device = device.open()?;
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
            if let Some(folds) = folds {
                return cross_validate(
                    &movies,
                    &kinds,
                    folds,
                    epochs,
                    seed,
                    model_config.as_deref(),
                    settings.as_deref(),
                    &device,
                    json.as_deref(),
                );
            }
            let split = bench::benchmark_split(&movies, test_ids.as_deref())?;
            let rows = bench::run_benchmark(&movies, &split, &kinds, epochs, &device, say)?;
            println!("{}", bench::format_table(&rows));
            if let Some(path) = json {
                crate::files::write_atomic(&path, serde_json::to_string_pretty(&rows)?.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(())
        }
        Bench::Devices {
            a,
            b,
            models,
            dir,
            movies,
            min_shots,
            max_shots,
            epochs,
            seed,
            tolerance,
            json,
        } => {
            anyhow::ensure!(
                tolerance >= 0.0,
                "--tolerance must be 0 or more, not {tolerance}"
            );
            let demo = crate::data::demo::DemoConfig {
                movies,
                seed,
                min_shots,
                max_shots,
            };
            match &dir {
                Some(dir) => super::train::check_folder(dir)?,
                None => demo.validate()?,
            }
            let (dev_a, line_a) = a.resolve()?;
            let (dev_b, line_b) = b.resolve()?;
            eprintln!("device a: {line_a}\ndevice b: {line_b}");
            let movies = match &dir {
                Some(dir) => super::train::load_trainable(dir, "training")?,
                None => (0..demo.movies)
                    .map(|i| crate::data::demo::generate_movie(&demo, i))
                    .collect(),
            };
            anyhow::ensure!(
                movies.len() >= 3,
                "comparing devices needs at least 3 usable movies (training, validation, test), not {}",
                movies.len()
            );
            let split = crate::train::bench::benchmark_split(&movies, None)?;
            let settings = crate::train::devices::CompareSettings {
                models: if models.is_empty() {
                    crate::model::ModelKind::ALL.to_vec()
                } else {
                    models
                }
                .into_iter()
                .map(crate::model::ModelKind::default_config)
                .collect(),
                epochs,
                seed,
                tolerance,
            };
            let report = crate::train::devices::compare_devices(
                &movies,
                &split,
                &settings,
                &dev_a,
                &dev_b,
                &mut |line| eprintln!("{line}"),
            )?;
            print!("{}", report.table());
            if let Some(path) = json {
                crate::files::write_atomic(
                    &path,
                    serde_json::to_string_pretty(&report)?.as_bytes(),
                )
                .with_context(|| format!("cannot write {}", path.display()))?;
            }
            let bad = report.mismatches().len();
            anyhow::ensure!(
                bad == 0,
                "{bad} comparison(s) differ between {} and {} by more than {tolerance:e}",
                report.device_a,
                report.device_b
            );
            Ok(())
        }
    }
}

/// `base` with the keys of `overrides` (a JSON object, from the flag `flag`) replaced.
fn merged<T: serde::Serialize + serde::de::DeserializeOwned>(
    base: T,
    overrides: Option<&str>,
    flag: &str,
) -> anyhow::Result<T> {
    let Some(text) = overrides else {
        return Ok(base);
    };
    let extra: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("{flag} is not JSON"))?;
    let serde_json::Value::Object(extra) = extra else {
        anyhow::bail!("{flag} must be a JSON object, not {text}");
    };
    let mut value = serde_json::to_value(&base)?;
    let object = value
        .as_object_mut()
        .context("settings are a JSON object")?;
    for (k, v) in extra {
        anyhow::ensure!(object.contains_key(&k), "{flag}: there is no '{k}'");
        object.insert(k, v);
    }
    serde_json::from_value(value).with_context(|| format!("{flag}: {text}"))
}

/// `scenelab bench train --folds K`: each model's cross-validated rows and the provided
/// prediction's on the same folds.
#[allow(clippy::too_many_arguments)]
fn cross_validate(
    movies: &[crate::data::Movie],
    kinds: &[crate::model::ModelKind],
    folds: usize,
    epochs: Option<usize>,
    seed: u64,
    overrides: Option<&str>,
    settings: Option<&str>,
    device: &candle_core::Device,
    json: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use crate::train::decision::Objective;
    use crate::train::{TrainConfig, TrainSettings};
    use crate::workflow::cross_validation as cv;
    let mut rows = Vec::new();
    match cv::provided_row(movies, folds, seed, Objective::Miou, true) {
        Ok(row) => rows.push(row),
        Err(cv::CrossValidationError::Folds(e)) => return Err(e.into()),
        Err(e) => eprintln!("warning: no provided-prediction row: {e}"),
    }
    let splits = cv::folds_of(movies, folds, seed)?;
    eprintln!(
        "{} movies, {folds} folds of {} to {} test movies (seed {seed}); each fold {} train, {} validation",
        splits.iter().map(|s| s.test.len()).sum::<usize>(),
        splits.iter().map(|s| s.test.len()).min().unwrap_or(0),
        splits.iter().map(|s| s.test.len()).max().unwrap_or(0),
        splits[0].train.len(),
        splits[0].validation.len(),
    );
    if let Some(p) = rows.first() {
        eprintln!("provided: mean test mAP {}", p.summary().map);
    }
    for &kind in kinds {
        let request = cv::CrossValidationRequest {
            config: TrainConfig {
                model: merged(kind.default_config(), overrides, "--model-config")?,
                settings: merged(
                    TrainSettings {
                        epochs: epochs.unwrap_or_else(|| kind.default_epochs()),
                        seed,
                        ..TrainSettings::for_kind(kind)
                    },
                    settings,
                    "--settings",
                )?,
            },
            folds,
            objective: Objective::Miou,
            peak_picking: true,
        };
        let row = cv::cross_validate(
            movies,
            &request,
            device,
            &crate::observer::Quiet,
            &mut |f| {
                let [ap, map, miou, f1, decided_miou, decided_f1] = f.figures();
                eprintln!(
                    "{kind} fold {}/{folds}: {} epochs (best {}), test AP {:.4} mAP {:.4} Miou {:.4} F1 {:.4}, tuned Miou {:.4} F1 {:.4}, {:.0} s",
                    f.fold + 1,
                    f.epochs_run.unwrap_or(0),
                    f.best_epoch.map_or("-".into(), |b| b.to_string()),
                    ap,
                    map,
                    miou,
                    f1,
                    decided_miou,
                    decided_f1,
                    f.seconds
                )
            },
        )?;
        eprintln!("{kind}: mean test mAP {}", row.summary().map);
        rows.push(row);
    }
    println!("{}", cv::format_table(&rows));
    if let Some(path) = json {
        let out = cv::results_json(&rows);
        crate::files::write_atomic(path, serde_json::to_string_pretty(&out)?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Bytes of every file under `dir`, at any depth.
pub(super) fn folder_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => folder_bytes(&e.path()),
                Ok(_) => e.metadata().map_or(0, |m| m.len()),
                Err(_) => 0,
            })
            .sum()
    })
}

/// The process's peak resident memory so far, in bytes: `VmHWM` of `/proc/self/status` on
/// Linux, else `getrusage`'s `ru_maxrss` (bytes on macOS, KiB elsewhere). `None` where
/// neither answers.
fn peak_rss_bytes() -> Option<u64> {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if let Some(kib) = kib {
            return Some(kib * 1024);
        }
    }
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            // SAFETY: initialised by the successful call above.
            let max = unsafe { usage.assume_init() }.ru_maxrss as u64;
            return Some(if cfg!(target_os = "macos") {
                max
            } else {
                max * 1024
            });
        }
    }
    None
}

/// What `scenelab bench load` measured (the `--json` file).
#[derive(Debug, serde::Serialize)]
struct LoadFigures {
    dir: PathBuf,
    layout: &'static str,
    features: FeaturePrecision,
    threads: usize,
    movies: usize,
    failed: usize,
    shots: usize,
    file_bytes: u64,
    seconds: f64,
    /// Bytes of the decoded features, labels and scores held after loading.
    tensor_bytes: usize,
    /// Peak resident memory of the process, loading included.
    peak_rss_bytes: Option<u64>,
}

fn bench_load(
    dir: PathBuf,
    threads: Option<usize>,
    features: FeaturePrecision,
    json: Option<PathBuf>,
) -> anyhow::Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    let files = Dataset::movie_files(&dir)?;
    let bar = super::progress_bar(files.len() as u64, "loading");
    let start = Instant::now();
    let dataset = pool.install(|| {
        Dataset::load_dir_at(&dir, features, &|p| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        })
    })?;
    let secs = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let file_bytes: u64 = if dataset.movienet.is_some() {
        // Every file of the layout: label, shot, split and feature files.
        folder_bytes(&dir)
    } else {
        files
            .iter()
            .filter_map(|f| f.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
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
    let peak = peak_rss_bytes();
    println!(
        "features held as {features}; peak memory (resident) {}",
        peak.map_or("unknown".into(), |b| format!("{:.1} MB", b as f64 / 1e6))
    );
    for f in &dataset.failures {
        println!("failed: {}: {}", f.path.display(), f.error);
    }
    if let Some(path) = json {
        let figures = LoadFigures {
            dir: dir.clone(),
            layout: if dataset.movienet.is_some() {
                "movienet"
            } else {
                "pkl"
            },
            features,
            threads: pool.current_num_threads(),
            movies: dataset.movies.len(),
            failed: dataset.failures.len(),
            shots,
            file_bytes,
            seconds: secs,
            tensor_bytes: dataset.tensor_bytes(),
            peak_rss_bytes: peak,
        };
        crate::files::write_atomic(&path, serde_json::to_string_pretty(&figures)?.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
