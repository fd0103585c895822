//! `scenelab search`: random hyperparameter search with movie-level cross-validation, the
//! best configuration retrained and scored once on the held-out test movies.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::{SplitError, default_test_count};
use crate::model::ModelKind;
use crate::observer::Observer;
use crate::train::TestMetrics;
use crate::train::decision::{self, Objective};
use crate::train::search::{
    self, SearchConfig, SearchError, SearchEvent, SearchOutcome, TrialRecord,
};
use crate::train::{TrainEvent, TrainSettings, space};

/// Arguments of `scenelab search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of tt*.pkl movies.
    pub dir: PathBuf,
    /// Which model's space to search.
    #[arg(long, value_enum, default_value_t = ModelKind::Default)]
    pub model: ModelKind,
    /// Configurations to try (a rerun with more trials adds to the finished ones).
    #[arg(long, default_value_t = 8)]
    pub trials: usize,
    /// Cross-validation folds of the training movies.
    #[arg(long, default_value_t = 3)]
    pub folds: usize,
    /// Seeds the test split, the folds, the configurations and the weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Movies held out for the final test, chosen as `scenelab train` chooses them [default:
    /// 7 per 64 movies, rounded up].
    #[arg(long)]
    pub test_movies: Option<usize>,
    /// Maximum epochs of every run (early stopping may end sooner); the model's default if
    /// omitted.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Epochs without a better validation mAP before a run stops.
    #[arg(long, default_value_t = TrainSettings::default().patience)]
    pub patience: usize,
    /// What the decision step (threshold, peak picking) maximises on validation movies.
    #[arg(long, value_enum, default_value_t = Objective::Miou)]
    pub objective: Objective,
    /// Tune the threshold only, without peak picking.
    #[arg(long)]
    pub no_peak_picking: bool,
    /// Stop after the trials: no final fit and no test scores.
    #[arg(long)]
    pub no_final: bool,
    /// Results folder (rerun with the same folder to resume); `runs/search-<model>` if omitted.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where every trial trains: `auto` takes CUDA when this binary was built with it and a GPU
    /// answers, else the CPU, and says which.
    #[arg(long, value_enum, default_value_t = crate::workflow::DeviceArg::Auto)]
    pub device: crate::workflow::DeviceArg,
}

/// A line above the progress bar, or plain to stderr when the bar is hidden (not a terminal:
/// a log file still gets every line).
fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        super::print_above(bar, line);
    }
}

/// The results table for the terminal: rank, trial, scores, hyperparameters.
pub fn table_text(trials: &[TrialRecord]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec![
        "rank".to_string(),
        "trial".into(),
        "mAP".into(),
        "±".into(),
        "Miou".into(),
        "±".into(),
        "time".into(),
    ];
    if let Some(t) = trials.first() {
        header.extend(space::describe(&t.config()).into_iter().map(|(n, _)| n));
    }
    rows.push(header);
    for (i, t) in trials.iter().enumerate() {
        let mut row = vec![
            (i + 1).to_string(),
            t.trial.to_string(),
            format!("{:.4}", t.map_mean),
            format!("{:.4}", t.map_std),
            format!("{:.4}", t.miou_mean),
            format!("{:.4}", t.miou_std),
            crate::train::format_duration(t.seconds),
        ];
        row.extend(space::describe(&t.config()).into_iter().map(|(_, v)| v));
        rows.push(row);
    }
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(s, &w)| format!("{s:>w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn metrics_row(label: &str, m: &TestMetrics) -> String {
    format!(
        "{label:<24} {:>8.4} {:>8.4} {:>8.4} {:>10.4} {:>8.4} {:>8.4}",
        m.ap, m.map, m.miou, m.precision, m.recall, m.f1
    )
}

fn print_outcome(outcome: &SearchOutcome, out: &std::path::Path) {
    println!();
    println!(
        "{} finished trials ({} resumed, {} run now), best first; scores are the mean (±) over folds of the validation movies:",
        outcome.trials.len(),
        outcome.resumed,
        outcome.ran
    );
    print!("{}", table_text(&outcome.trials));
    println!(
        "table written to {} and {}",
        out.join(search::TABLE_CSV).display(),
        out.join(search::TABLE_JSON).display()
    );
    if let Some(f) = &outcome.final_result {
        println!();
        println!(
            "decision tuned on the best trial's out-of-fold predictions (training movies only): {}",
            f.decision
        );
        if let Some(test) = &f.test {
            println!(
                "test movies ({}), scored once with trial {} retrained on all training movies:",
                f.test_ids.len(),
                f.trial
            );
            println!(
                "{:<24} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8}",
                "", "AP", "mAP", "Miou", "Precision", "Recall", "F1"
            );
            println!("{}", metrics_row("raw scores, >= 0.5", &test.raw));
            println!("{}", metrics_row("tuned decision", &test.decided));
        } else {
            println!(
                "no test movies were held out (--test-movies 0): trial {} retrained on all training movies has no test scores",
                f.trial
            );
        }
        if outcome.final_reused {
            println!(
                "best model (trial {} is still the best, so an earlier run's final fit is kept) in {}",
                f.trial,
                f.model_dir.display()
            );
        } else {
            println!("best model saved to {}", f.model_dir.display());
        }
    } else if outcome.cancelled {
        println!("cancelled: rerun the same command to resume from the finished trials");
    }
}

/// The search's progress on the terminal: a bar of training runs, a line per trial and fold;
/// Ctrl-C cancels.
struct SearchBar<'a> {
    bar: ProgressBar,
    config: &'a SearchConfig,
    cancel: &'a AtomicBool,
    /// The last ETA the search gave, and which run is training.
    eta: Mutex<(f64, String)>,
}

impl Observer<SearchEvent> for SearchBar<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn event(&self, event: SearchEvent) {
        let bar = &self.bar;
        let mut guard = self.eta.lock().unwrap_or_else(|e| e.into_inner());
        let (eta, place) = &mut *guard;
        match event {
            SearchEvent::Started {
                trials,
                resumed,
                folds,
                train_movies,
                test_movies,
                runs,
            } => {
                bar.set_length(runs as u64);
                say(
                    bar,
                    format!(
                        "searching {} with {trials} trials × {folds} folds on {train_movies} training movies ({test_movies} test movies kept out); {} trials already finished in {}",
                        self.config.kind,
                        resumed.len(),
                        self.config.out_dir.display()
                    ),
                );
            }
            SearchEvent::TrialStarted { trial, config: c } => {
                let params: Vec<String> = space::describe(&c)
                    .into_iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect();
                say(bar, format!("trial {trial}: {}", params.join(" ")));
            }
            SearchEvent::Train { trial, fold, event } => {
                *place = match (trial, fold) {
                    (Some(t), Some(f)) => format!("trial {t} fold {f}"),
                    _ => "final fit".into(),
                };
                if let TrainEvent::Epoch { record, .. } = event {
                    let val = record
                        .validation
                        .map_or(String::new(), |v| format!(" early-stop mAP {:.4}", v.map));
                    bar.set_message(format!(
                        "{place} epoch {}{val} | ETA {}",
                        record.epoch,
                        crate::train::format_duration(*eta)
                    ));
                }
            }
            SearchEvent::FoldFinished {
                trial,
                record,
                eta_seconds,
            } => {
                *eta = eta_seconds;
                bar.inc(1);
                say(
                    bar,
                    format!(
                        "  trial {trial} fold {}: mAP {:.4} Miou {:.4} ({} epochs, {})",
                        record.fold,
                        record.map,
                        record.miou,
                        record.epochs_run,
                        crate::train::format_duration(record.seconds)
                    ),
                );
                bar.set_message(format!(
                    "{place} done | ETA {}",
                    crate::train::format_duration(*eta)
                ));
            }
            SearchEvent::TrialFinished {
                record,
                eta_seconds,
            } => {
                *eta = eta_seconds;
                say(
                    bar,
                    format!(
                        "trial {} finished: mAP {:.4} ± {:.4}, Miou {:.4} ± {:.4}",
                        record.trial,
                        record.map_mean,
                        record.map_std,
                        record.miou_mean,
                        record.miou_std
                    ),
                );
            }
            SearchEvent::FinalFitStarted { trial } => {
                say(
                    bar,
                    format!("retraining trial {trial} on all training movies"),
                );
            }
            SearchEvent::DecisionTuned(_) => bar.inc(1),
            SearchEvent::Finished { .. } => {}
        }
    }
}

/// A search error in the command line's terms: the folder and the flags that change it.
fn explain(e: SearchError, args: &Args, usable: usize, test_movies: usize) -> anyhow::Error {
    match e {
        SearchError::TooFewFolds { .. } => anyhow::anyhow!(
            "--folds must be at least 2 (one fold validates while the others train)"
        ),
        SearchError::TooFewTrainingMovies { .. }
        | SearchError::Split(SplitError::TooFew { .. }) => {
            anyhow::anyhow!(
                "{} has {usable} usable movies: too few for {test_movies} test movies and {} \
                 folds: lower --folds or --test-movies",
                args.dir.display(),
                args.folds
            )
        }
        e @ (SearchError::Mismatch { .. }
        | SearchError::OtherVersion { .. }
        | SearchError::NotAHeader { .. }) => anyhow::anyhow!("{e} (--out)"),
        other => other.into(),
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let movies = super::train::load_trainable(&args.dir, "searching")?;
    let test_movies = args
        .test_movies
        .unwrap_or_else(|| default_test_count(movies.len()));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| search::default_out_dir(args.model));
    let mut config = SearchConfig::new(args.model, out.clone());
    config.device = args.device.open()?;
    config.trials = args.trials;
    config.folds = args.folds;
    config.seed = args.seed;
    config.test_movies = test_movies;
    config.settings.epochs = args.epochs.unwrap_or_else(|| args.model.default_epochs());
    config.settings.patience = args.patience;
    config.objective = args.objective;
    config.final_fit = !args.no_final;
    config.grid = decision::grid_for(!args.no_peak_picking);

    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = Arc::clone(&cancel);
        ctrlc::set_handler(move || {
            if cancel.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C: stop now.
                std::process::exit(130);
            }
            eprintln!("\ncancelling after the current step (finished trials are kept; Ctrl-C again to quit now)");
        })
        .context("cannot install the Ctrl-C handler")?;
    }

    let bar = SearchBar {
        bar: ProgressBar::new(0).with_style(
            ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} runs {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        config: &config,
        cancel: &cancel,
        eta: Mutex::new((f64::NAN, String::new())),
    };
    let outcome = search::search_observed(&movies, &config, &bar)
        .map_err(|e| explain(e, &args, movies.len(), test_movies))?;
    bar.bar.finish_and_clear();
    print_outcome(&outcome, &out);
    Ok(())
}
