//! `scenelab train`: train a boundary model on a folder of movies, show progress, tune the
//! decision step on the validation movies, print the test metrics (with the reference's
//! `>= 0.5` and with the decision) and save the model folder with its decision.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;

use anyhow::Context;
use candle_core::Device;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{Dataset, Movie, Split, default_test_count};
use crate::model::ModelKind;
use crate::train::decision::{self, Objective, TunedDecision};
use crate::train::devices::device_label;
use crate::train::{TestMetrics, TrainConfig, TrainEvent, TrainSettings, validation_count};

/// Arguments of `scenelab train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of tt*.pkl movies.
    pub dir: PathBuf,
    /// Which model to train.
    #[arg(long, value_enum, default_value_t = ModelKind::Default)]
    pub model: ModelKind,
    /// Maximum epochs (early stopping may end sooner); the model's default if omitted.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Movies held out for the final test, chosen by the seeded shuffle [default: 7 per 64
    /// movies, rounded up: 7 of 64, 2 of 12].
    #[arg(long, conflicts_with = "test_ids")]
    pub test_movies: Option<usize>,
    /// File of imdb ids (one per line) to hold out for the final test.
    #[arg(long)]
    pub test_ids: Option<PathBuf>,
    /// Seeds the split, the weights and the batch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder to write the trained model to.
    #[arg(long, default_value = "scenelab-model")]
    pub out: PathBuf,
    /// Where to compute: auto takes CUDA when this binary was built with it and a GPU
    /// answers, else the CPU.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
    /// What the decision step (tuned on the validation movies) maximises.
    #[arg(long, value_enum, default_value_t = Objective::Miou)]
    pub objective: Objective,
    /// Also tune peak picking (non-maximum suppression window, minimum scene length), not
    /// only the threshold.
    #[arg(long)]
    pub peak_picking: bool,
}

/// `--device`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// CUDA when this binary was built with it and a GPU answers, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl DeviceArg {
    /// The choices this build offers: `cuda` only when it was built with `--features cuda`.
    pub fn available() -> &'static [DeviceArg] {
        if candle_core::utils::cuda_is_available() {
            &[DeviceArg::Auto, DeviceArg::Cpu, DeviceArg::Cuda]
        } else {
            &[DeviceArg::Auto, DeviceArg::Cpu]
        }
    }

    /// The name people read: "Auto", "CPU", "CUDA".
    pub fn label(self) -> &'static str {
        match self {
            DeviceArg::Auto => "Auto",
            DeviceArg::Cpu => "CPU",
            DeviceArg::Cuda => "CUDA",
        }
    }

    /// The device, and a line saying which it is (and, for `auto`, why).
    pub fn resolve(self) -> anyhow::Result<(Device, String)> {
        match self {
            DeviceArg::Cpu => Ok((Device::Cpu, "CPU".into())),
            DeviceArg::Cuda => {
                let device = Device::new_cuda(0).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot use CUDA ({}); build SceneLab with `--features cuda` (see the README) on a machine with an NVIDIA GPU, or use the CPU (--device cpu)",
                        first_line(&e)
                    )
                })?;
                Ok((device, "CUDA GPU 0".into()))
            }
            DeviceArg::Auto if !candle_core::utils::cuda_is_available() => Ok((
                Device::Cpu,
                "CPU (auto: this build has no CUDA; see the README to build with --features cuda)"
                    .into(),
            )),
            DeviceArg::Auto => match Device::new_cuda(0) {
                Ok(device) => Ok((device, "CUDA GPU 0 (auto)".into())),
                Err(e) => Ok((
                    Device::Cpu,
                    format!("CPU (auto: no CUDA GPU answered: {})", first_line(&e)),
                )),
            },
        }
    }

    /// [`DeviceArg::resolve`], saying on stderr which device it took.
    pub fn open(self) -> anyhow::Result<Device> {
        let (device, line) = self.resolve()?;
        eprintln!("device: {line}");
        Ok(device)
    }
}

/// An error's first line: candle appends a backtrace to some.
fn first_line(e: &candle_core::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// Load a folder with a progress bar, warning about files that failed.
pub fn load_folder(dir: &Path) -> anyhow::Result<Dataset> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("loading {bar:30} {pos}/{len} files {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let data = Dataset::load_dir(dir, &|p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    })
    .with_context(|| format!("cannot load movies from {}", dir.display()))?;
    bar.finish_and_clear();
    for f in &data.failures {
        eprintln!("warning: skipped {}: {}", f.path.display(), f.error);
    }
    Ok(data)
}

pub(crate) fn read_test_ids(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read test ids from {}", path.display()))?;
    let ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    anyhow::ensure!(!ids.is_empty(), "{} lists no imdb id", path.display());
    Ok(ids)
}

/// The six reference metrics as a table.
pub fn metrics_table(m: &TestMetrics) -> String {
    format!(
        "{:>8} {:>8} {:>8} {:>10} {:>8} {:>8}\n{:>8.4} {:>8.4} {:>8.4} {:>10.4} {:>8.4} {:>8.4}\n",
        "AP",
        "mAP",
        "Miou",
        "Precision",
        "Recall",
        "F1",
        m.ap,
        m.map,
        m.miou,
        m.precision,
        m.recall,
        m.f1
    )
}

/// One line on a tuned decision: what it is and what it gained on the validation movies.
pub fn describe_tuned(t: &TunedDecision, validation_movies: usize) -> String {
    format!(
        "decision tuned on {validation_movies} validation movie(s) for {}: {t}",
        t.decision.objective.name()
    )
}

/// The movies of `dir` a model can train on, saying which others it skips and why.
pub(crate) fn load_trainable(dir: &Path) -> anyhow::Result<Vec<Movie>> {
    let data = load_folder(dir)?;
    Ok(data
        .movies
        .into_iter()
        .filter(|m| {
            let usable = m.is_trainable();
            if !usable {
                eprintln!(
                    "warning: skipped '{}': training needs ground truth and all four feature modalities",
                    m.imdb_id
                );
            }
            usable
        })
        .collect())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.device.open()?;
    let movies = load_trainable(&args.dir)?;
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    anyhow::ensure!(
        ids.len() >= 2,
        "{} has {} usable movie(s); training needs at least 2",
        args.dir.display(),
        ids.len()
    );
    let split = match &args.test_ids {
        Some(file) => {
            let test = read_test_ids(file)?;
            let rest = ids.len().saturating_sub(test.len());
            Split::with_test_ids(&ids, &test, validation_count(rest), args.seed)?
        }
        None => {
            let test = args
                .test_movies
                .unwrap_or_else(|| default_test_count(ids.len()));
            let rest = ids.len().saturating_sub(test);
            Split::by_count(&ids, validation_count(rest), test, args.seed)?
        }
    };
    let config = TrainConfig {
        model: args.model.default_config(),
        settings: TrainSettings {
            epochs: args.epochs.unwrap_or_else(|| args.model.default_epochs()),
            seed: args.seed,
            ..TrainSettings::for_kind(args.model)
        },
    };
    println!(
        "training {} on {} movies ({} validate early stopping, {} test) on {}",
        args.model,
        split.train.len(),
        split.validation.len(),
        split.test.len(),
        device_label(&device)
    );

    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:30} epoch {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (tx, rx) = mpsc::channel();
    let cancel = AtomicBool::new(false);
    let outcome = std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let tx = tx;
            crate::train::train(&movies, &split, &config, &device, Some(&tx), &cancel)
        });
        let mut epoch_line = String::new();
        for event in rx.iter() {
            match event {
                TrainEvent::Started {
                    epochs,
                    steps_per_epoch,
                    pos_weight,
                    ..
                } => {
                    bar.set_length((epochs * steps_per_epoch) as u64);
                    bar.println(format!("boundary weight in the loss: {pos_weight:.2}"));
                }
                TrainEvent::Step {
                    epoch, step, loss, ..
                } => {
                    bar.inc(1);
                    bar.set_message(format!("{epoch} step {step} loss {loss:.4}{epoch_line}"));
                }
                TrainEvent::Epoch {
                    record,
                    best_epoch,
                    eta_seconds,
                } => {
                    let val = record
                        .validation
                        .map_or(String::new(), |v| format!(" val mAP {:.4}", v.map));
                    epoch_line =
                        format!(" | last{val}, best epoch {best_epoch:?}, ETA {eta_seconds:.0} s");
                    bar.println(format!(
                        "epoch {:>3}: loss {:.4}{val} ({:.1} s)",
                        record.epoch, record.train_loss, record.seconds
                    ));
                }
                TrainEvent::Finished { stop, best_epoch } => {
                    bar.println(format!("stopped: {stop:?}, best epoch {best_epoch:?}"));
                }
            }
        }
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("the training thread panicked"))
    })??;
    bar.finish_and_clear();

    let mut model = outcome.model;
    let tuned = decision::tune_on_validation(
        &model,
        &movies,
        args.objective,
        &decision::grid_for(args.peak_picking),
    )
    .map_err(|e| anyhow::anyhow!("cannot tune the decision on the validation movies: {e}"))?;
    match &tuned {
        Some(t) => println!("{}", describe_tuned(t, split.validation.len())),
        None => println!(
            "no validation movie to tune the decision on: the model keeps the reference's >= 0.5"
        ),
    }
    model.meta.decision = tuned.map(|t| t.decision);
    if !outcome.test_scores.is_empty() {
        let metrics = crate::train::test_metrics(&movies, &outcome.test_scores)
            .map_err(|e| anyhow::anyhow!("cannot score the test movies: {e}"))?;
        model.meta.final_metrics = Some(metrics);
        println!(
            "test metrics on {} movies (scores >= 0.5):",
            outcome.test_scores.len()
        );
        print!("{}", metrics_table(&metrics));
        if let Some(d) = model.meta.decision.filter(|d| !d.is_reference()) {
            let metrics = crate::train::decided_test_metrics(&movies, &outcome.test_scores, &d)
                .map_err(|e| anyhow::anyhow!("cannot score the test movies: {e}"))?;
            println!("test metrics with the tuned decision ({d}):");
            print!("{}", metrics_table(&metrics));
        }
    }
    model.save(&args.out)?;
    println!("model saved to {}", args.out.display());
    Ok(())
}
