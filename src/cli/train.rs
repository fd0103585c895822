//! `scenelab train`: train a boundary model on a folder of movies, show progress, tune the
//! decision step on the validation movies, print the test metrics (with the reference's
//! `>= 0.5` and with the decision) and save the model folder with its decision.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{
    Dataset, FeaturePrecision, HeldOut, Movie, Split, SplitError, SplitPolicyError,
    default_test_count,
};
use crate::model::ModelKind;
use crate::observer::Observer;
use crate::train::decision::{Objective, TunedDecision};
use crate::train::{TestMetrics, TrainConfig, TrainEvent, TrainSettings};
pub use crate::workflow::DeviceArg;
use crate::workflow::train::{TrainRequest, TrainWorkflowError, train_and_tune};

/// Arguments of `scenelab train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of tt*.pkl movies, or a MovieNet folder (label*/, shot_movie*/, *_feat/).
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
    #[arg(long, conflicts_with = "split_file")]
    pub test_ids: Option<PathBuf>,
    /// Split file to train, validate and test by: JSON lists of imdb ids under "train",
    /// "val" and "test", as MovieNet's meta/split318.json [default: the folder's
    /// meta/split*.json when it has one and neither --test-movies nor --test-ids is given].
    /// Loaded movies it does not name are left out.
    #[arg(long, conflicts_with = "test_movies")]
    pub split_file: Option<PathBuf>,
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
    /// How the features are held in memory, and training's normalised copy of them: f16
    /// halves both (MovieNet-318 entire: about 8.3 GB each as f32).
    #[arg(long, value_enum, default_value_t = FeaturePrecision::F32)]
    pub features: FeaturePrecision,
}

/// What a folder's load error says first.
fn cannot_load(dir: &Path) -> String {
    format!("cannot load movies from {}", dir.display())
}

/// Check, before other work, that [`load_folder`] finds movies in `dir` (its error if not).
pub(crate) fn check_folder(dir: &Path) -> anyhow::Result<()> {
    Dataset::check_dir(dir).with_context(|| cannot_load(dir))
}

/// Load a folder with a progress bar, holding the features at `precision`, warning about
/// files that failed.
pub fn load_folder(dir: &Path, precision: FeaturePrecision) -> anyhow::Result<Dataset> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("loading {bar:30} {pos}/{len} files {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let data = Dataset::load_dir_at(dir, precision, &|p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    })
    .with_context(|| cannot_load(dir))?;
    bar.finish_and_clear();
    let failures: Vec<(String, String)> = data
        .failures
        .iter()
        .map(|f| (f.path.display().to_string(), f.error.to_string()))
        .collect();
    super::repeats::print_collapsed(
        "warning: skipped ",
        failures.iter().map(|(p, e)| (p.as_str(), e.as_str())),
    );
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

/// The movies of `dir` a model can train on, saying which others it skips and why (`work`:
/// "training" or "searching").
pub(crate) fn load_trainable(dir: &Path, work: &str) -> anyhow::Result<Vec<Movie>> {
    Ok(load_trainable_with_split(dir, FeaturePrecision::F32, work)?.0)
}

/// What a movie lacks for training ("ground truth", "the cast, audio features"), if anything.
pub(crate) fn lacks_for_training(m: &Movie) -> Option<String> {
    let missing: Vec<&str> = crate::data::Modality::ALL
        .into_iter()
        .filter(|&x| m.feature(x).is_none())
        .map(|x| x.field())
        .collect();
    let features = match missing.len() {
        0 => None,
        4 => Some("features (it has none of place, cast, action, audio)".to_owned()),
        _ => Some(format!("{} features", missing.join(", "))),
    };
    match (m.ground_truth.is_none(), features) {
        (false, None) => None,
        (true, None) => Some("ground truth".into()),
        (false, Some(f)) => Some(f),
        (true, Some(f)) => Some(format!("ground truth and {f}")),
    }
}

/// A split file and its parts.
pub(crate) type SplitFile = (PathBuf, Split);

/// [`load_trainable`], with the folder's split file (`meta/split*.json`) if it has one.
pub(crate) fn load_trainable_with_split(
    dir: &Path,
    precision: FeaturePrecision,
    work: &str,
) -> anyhow::Result<(Vec<Movie>, Option<SplitFile>)> {
    let data = load_folder(dir, precision)?;
    let mut skipped = Vec::new();
    let movies = data
        .movies
        .into_iter()
        .filter(|m| match lacks_for_training(m) {
            Some(lack) => {
                skipped.push((
                    format!("'{}'", m.imdb_id),
                    format!(
                        "{work} needs ground truth and all four feature modalities; it has no \
                         {lack}"
                    ),
                ));
                false
            }
            None => true,
        })
        .collect();
    // One line per reason after the first few movies: a folder without features would
    // otherwise print a line per movie.
    super::repeats::print_collapsed(
        "warning: skipped ",
        skipped.iter().map(|(id, why)| (id.as_str(), why.as_str())),
    );
    Ok((movies, data.split))
}

/// Training's progress on the terminal: a bar of steps, a line per epoch.
struct TrainBar<'a> {
    bar: ProgressBar,
    /// Said when training starts: what trains on what.
    model: ModelKind,
    device: &'a candle_core::Device,
    /// The last epoch's summary, shown after each step's loss.
    epoch_line: Mutex<String>,
    /// Epochs run so far (the last epoch event's), for the closing line.
    epochs_run: Mutex<usize>,
    /// Epochs without a better validation mAP that stop training early.
    patience: usize,
    /// How the features are held: f16 is said with the feature widths.
    precision: FeaturePrecision,
}

/// The closing line of a training run, for people: how it ended after how many epochs, and
/// the best epoch (whose weights are kept).
fn finished_line(
    stop: &crate::train::StopReason,
    epochs_run: usize,
    patience: usize,
    best_epoch: Option<usize>,
) -> String {
    use crate::train::StopReason;
    let best = best_epoch.map_or(String::new(), |b| format!(", best epoch {b}"));
    let epochs = if epochs_run == 1 { "epoch" } else { "epochs" };
    match stop {
        StopReason::Completed => format!("training completed: {epochs_run} {epochs}{best}"),
        StopReason::EarlyStopped => format!(
            "stopped early after {epochs_run} {epochs} (no better validation mAP for \
             {patience} epochs){best}"
        ),
        StopReason::Cancelled => format!("cancelled after {epochs_run} {epochs}{best}"),
    }
}

impl Observer<TrainEvent> for TrainBar<'_> {
    fn event(&self, event: TrainEvent) {
        let bar = &self.bar;
        let mut epoch_line = self.epoch_line.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            TrainEvent::Started {
                train_movies,
                validation_movies,
                test_movies,
                epochs,
                steps_per_epoch,
                pos_weight,
                feature_dims,
            } => {
                bar.suspend(|| {
                    println!(
                        "training {}: {train_movies} movies train, {validation_movies} \
                         validate early stopping, {test_movies} held out for the test (on {})",
                        self.model,
                        crate::train::devices::device_label(self.device)
                    );
                });
                bar.set_length((epochs * steps_per_epoch) as u64);
                let held = match self.precision {
                    FeaturePrecision::F16 => "; features held as f16 (half the memory)",
                    FeaturePrecision::F32 => "",
                };
                super::print_above(bar, format!("feature widths: {feature_dims}{held}"));
                super::print_above(bar, format!("boundary weight in the loss: {pos_weight:.2}"));
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
                *self.epochs_run.lock().unwrap_or_else(|e| e.into_inner()) = record.epoch;
                let val = record
                    .validation
                    .map_or(String::new(), |v| format!(" val mAP {:.4}", v.map));
                *epoch_line =
                    format!(" | last{val}, best epoch {best_epoch:?}, ETA {eta_seconds:.0} s");
                super::print_above(
                    bar,
                    format!(
                        "epoch {:>3}: loss {:.4}{val} ({:.1} s)",
                        record.epoch, record.train_loss, record.seconds
                    ),
                );
            }
            TrainEvent::Finished { stop, best_epoch } => {
                let run = *self.epochs_run.lock().unwrap_or_else(|e| e.into_inner());
                super::print_above(bar, finished_line(&stop, run, self.patience, best_epoch));
            }
        }
    }
}

/// A training error in the command line's terms: `dir` and the flags that change it.
fn explain(e: TrainWorkflowError, dir: &Path) -> anyhow::Error {
    match e {
        TrainWorkflowError::Split(SplitPolicyError::TooFewMovies { usable }) => anyhow::anyhow!(
            "{} has {usable} usable movie(s); training needs at least 2",
            dir.display()
        ),
        TrainWorkflowError::Split(SplitPolicyError::Split(
            e @ SplitError::GivenNoTraining { .. },
        )) => {
            anyhow::anyhow!(
                "{e} (the split file decides: see --split-file, or pass --test-movies or \
                 --test-ids to split by count or ids instead)"
            )
        }
        TrainWorkflowError::Split(SplitPolicyError::Split(e)) => {
            anyhow::anyhow!("{e} (see --test-movies and --test-ids)")
        }
        other => other.into(),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // The files the arguments name are read before the device is chosen, so that a wrong
    // path is the first thing said.
    check_folder(&args.dir)?;
    let split_file = match &args.split_file {
        Some(file) => Some((file.clone(), Split::read_file(file)?)),
        None => None,
    };
    let test_ids = args.test_ids.as_deref().map(read_test_ids).transpose()?;
    let device = args.device.open()?;
    let (movies, folder_split) = load_trainable_with_split(&args.dir, args.features, "training")?;
    let given = match (split_file, &test_ids, args.test_movies) {
        (Some(given), _, _) => Some(given),
        (None, None, None) => folder_split,
        _ => None,
    };
    let held_out = match (given, test_ids) {
        (Some((file, split)), _) => {
            let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
            let unlisted = split.unlisted(&ids);
            println!("split from {}", file.display());
            if !unlisted.is_empty() {
                eprintln!(
                    "warning: {} usable movie(s) are in no part of the split file and are left \
                     out (such as '{}')",
                    unlisted.len(),
                    unlisted[0]
                );
            }
            HeldOut::Given(split)
        }
        (None, Some(ids)) => HeldOut::Ids(ids),
        (None, None) => HeldOut::Count(
            args.test_movies
                .unwrap_or_else(|| default_test_count(movies.len())),
        ),
    };
    let settings = TrainSettings {
        epochs: args.epochs.unwrap_or_else(|| args.model.default_epochs()),
        seed: args.seed,
        ..TrainSettings::for_kind(args.model)
    };
    let patience = settings.patience.max(1);
    let request = TrainRequest {
        config: TrainConfig {
            model: args.model.default_config(),
            settings,
        },
        held_out,
        objective: args.objective,
        peak_picking: args.peak_picking,
        score_all: false,
    };
    let bar = TrainBar {
        bar: ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{bar:30} epoch {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        model: args.model,
        device: &device,
        epoch_line: Mutex::new(String::new()),
        epochs_run: Mutex::new(0),
        patience,
        precision: args.features,
    };
    let run =
        train_and_tune(&movies, &request, &device, &bar).map_err(|e| explain(e, &args.dir))?;
    bar.bar.finish_and_clear();

    let validation_movies = run.model.meta.split.validation.len();
    match &run.tuned {
        Some(t) => println!("{}", describe_tuned(t, validation_movies)),
        None => println!(
            "no validation movie to tune the decision on: the model keeps the reference's >= 0.5"
        ),
    }
    if let Some(test) = &run.test {
        println!("test metrics on {} movies (scores >= 0.5):", test.movies);
        print!("{}", metrics_table(&test.raw));
        if let Some((d, metrics)) = &test.decided {
            println!("test metrics with the tuned decision ({d}):");
            print!("{}", metrics_table(metrics));
        }
    }
    run.model.save(&args.out)?;
    println!("model saved to {}", args.out.display());
    Ok(())
}
