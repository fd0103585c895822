//! Random hyperparameter search with movie-level cross-validation, kept honest:
//!
//! 1. The test movies are chosen first, with `scenelab train`'s rule
//!    (`Split::by_count(ids, 0, test_movies, seed)`), and are not read again until the end.
//! 2. Trial `i` draws its configuration from [`space::trial_config`] (a pure function of the
//!    seed) and trains once per fold of the training movies ([`Split::k_folds`]): fold `f`'s
//!    movies are scored, the other folds train, with a tenth of them held out for early
//!    stopping (as `train` does), so the fold's score never helped choose an epoch. A trial
//!    scores the mean over folds of the validation mAP (Miou alongside); spread is the sample
//!    standard deviation over folds.
//! 3. Each finished trial is appended to `trials.jsonl` at once (its out-of-fold predictions
//!    to `predictions/`), so a cancelled or killed search resumes where it stopped.
//! 4. The best configuration is retrained on all training movies (a tenth validating early
//!    stopping) and saved to `best/`; the decision step ([`decision::tune`]) is tuned on the
//!    best trial's out-of-fold predictions, which are validation predictions of every training
//!    movie, and stored in the checkpoint's `config.json`; finally the test movies (if any)
//!    are scored once, with and without the tuned decision. A rerun whose best trial already
//!    has its final fit in `summary.json` and `best/` reuses them instead of training again.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Sender;
use std::time::Instant;

use candle_core::Device;

use super::decision::{self, DecisionGrid, Objective, TunedDecision};
use super::{MovieScores, checkpoint, f64_or_nan, space};
use super::{
    TestMetrics, TrainConfig, TrainError, TrainEvent, TrainSettings, test_metrics, train_observed,
};
use crate::data::split::{fold_split, search_split};
use crate::data::{HeldOut, Movie, Split, SplitError, SplitPolicyError, training_split};
use crate::model::{ModelConfig, ModelKind};
use crate::observer::{Mapped, Observer};

pub const TRIALS_FILE: &str = "trials.jsonl";
pub const HEADER_FILE: &str = "search.json";
pub const TABLE_CSV: &str = "results.csv";
pub const TABLE_JSON: &str = "results.json";
pub const SUMMARY_FILE: &str = "summary.json";
pub const BEST_DIR: &str = "best";
pub const PREDICTIONS_DIR: &str = "predictions";
/// Marks a `search.json` as ours.
pub const FORMAT: &str = "scenelab-search";
/// Version of what a search folder holds: the files' layout, the space
/// ([`space::trial_config`]) and the default training settings ([`TrainSettings::for_kind`]).
/// Bump it whenever one of them changes, so that an older folder is refused with a plain
/// message instead of a confusing mismatch. Headers written before versions existed read as 0.
pub const SEARCH_VERSION: u32 = 1;

/// Where `scenelab search --model KIND` writes when given no `--out`, and the app's default
/// output folder, so that each resumes the other's searches.
pub fn default_out_dir(kind: ModelKind) -> PathBuf {
    PathBuf::from(format!("runs/search-{kind}"))
}

/// Whether `movie` can take part in a search: it needs ground truth and all four modalities.
pub fn searchable(movie: &Movie) -> bool {
    movie.is_trainable()
}

/// What to search and where to write it.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    pub kind: ModelKind,
    /// Trials wanted in total (finished ones found in `out_dir` count).
    pub trials: usize,
    pub folds: usize,
    /// Seeds the test split, the folds, the configurations and the training.
    pub seed: u64,
    pub test_movies: usize,
    /// Epochs, patience and batch size of every run; the space sets learning rate and weight
    /// decay, and `seed` replaces its seed.
    pub settings: TrainSettings,
    pub objective: Objective,
    pub grid: DecisionGrid,
    /// Retrain the best configuration, tune the decision and score the test movies.
    pub final_fit: bool,
    pub out_dir: PathBuf,
    pub device: Device,
}

impl SearchConfig {
    /// A search of `kind` with the model's default training settings and decision grid.
    pub fn new(kind: ModelKind, out_dir: PathBuf) -> SearchConfig {
        SearchConfig {
            kind,
            trials: 8,
            folds: 3,
            seed: 0,
            test_movies: 7,
            settings: TrainSettings::for_kind(kind),
            objective: Objective::Miou,
            grid: DecisionGrid::default(),
            final_fit: true,
            out_dir,
            device: Device::Cpu,
        }
    }

    fn base_settings(&self) -> TrainSettings {
        TrainSettings {
            seed: self.seed,
            ..self.settings.clone()
        }
    }

    /// Trial `index`'s configuration.
    pub fn trial_config(&self, index: usize) -> TrainConfig {
        space::trial_config(self.kind, self.seed, index, &self.base_settings())
    }
}

/// What identifies a search in its folder (`search.json`): a rerun must agree to resume.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchHeader {
    pub format: String,
    /// [`SEARCH_VERSION`] of the SceneLab that made the folder (0: before versions existed).
    #[serde(default)]
    pub version: u32,
    pub kind: ModelKind,
    pub seed: u64,
    pub folds: usize,
    pub settings: TrainSettings,
    pub test_ids: Vec<String>,
    pub train_ids: Vec<String>,
    /// What the final fit's decision is tuned for, and on which grid (peak picking or not).
    pub objective: Objective,
    pub grid: DecisionGrid,
}

/// One fold of a trial.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FoldRecord {
    pub fold: usize,
    /// The fold's movies, scored with a model that never saw them.
    pub validation_ids: Vec<String>,
    #[serde(deserialize_with = "f64_or_nan")]
    pub map: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub miou: f64,
    pub epochs_run: usize,
    pub best_epoch: Option<usize>,
    #[serde(deserialize_with = "f64_or_nan")]
    pub seconds: f64,
}

/// One finished trial: a line of `trials.jsonl`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrialRecord {
    pub trial: usize,
    pub model: ModelConfig,
    pub settings: TrainSettings,
    pub folds: Vec<FoldRecord>,
    // NaN (written as null) when a fold's score is: every score field reads null back as NaN.
    #[serde(deserialize_with = "f64_or_nan")]
    pub map_mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub map_std: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub miou_mean: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub miou_std: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub seconds: f64,
}

impl TrialRecord {
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            model: self.model.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt())
}

/// The test movies' scores of the final model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestScores {
    /// Raw scores at the reference's `>= 0.5`.
    pub raw: TestMetrics,
    /// Scores written through the tuned decision ([`decision::Decision::apply`]), at `>= 0.5`.
    pub decided: TestMetrics,
}

/// The retrained best configuration and its single look at the test movies.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinalResult {
    pub trial: usize,
    /// Where the checkpoint was saved.
    pub model_dir: PathBuf,
    /// Tuned on the best trial's out-of-fold predictions (training movies only).
    pub decision: TunedDecision,
    /// The grid the decision was tuned on.
    pub grid: DecisionGrid,
    pub test_ids: Vec<String>,
    /// `None` when the search held no test movie out.
    pub test: Option<TestScores>,
}

/// A search's results: the table (best first) and, unless cancelled or skipped, the final model.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub split: Split,
    /// Finished trials sorted by mean validation mAP, best first.
    pub trials: Vec<TrialRecord>,
    /// Trials read back from `trials.jsonl`.
    pub resumed: usize,
    /// Trials trained by this call.
    pub ran: usize,
    pub cancelled: bool,
    pub final_result: Option<FinalResult>,
    /// The final result is an earlier run's (its trial is still the best): nothing retrained.
    pub final_reused: bool,
}

/// Progress, sent while searching.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchEvent {
    Started {
        trials: usize,
        /// Finished trials read back from the folder (one record per trial).
        resumed: Vec<TrialRecord>,
        folds: usize,
        train_movies: usize,
        test_movies: usize,
        /// Training runs this call will do: unfinished trials × folds, plus the final fit
        /// (unless everything is finished and the final fit can be reused).
        runs: usize,
    },
    TrialStarted {
        trial: usize,
        config: TrainConfig,
    },
    /// A training run's own progress; `trial` and `fold` are `None` for the final fit.
    Train {
        trial: Option<usize>,
        fold: Option<usize>,
        event: TrainEvent,
    },
    FoldFinished {
        trial: usize,
        record: FoldRecord,
        /// Seconds left, from the mean run time so far.
        eta_seconds: f64,
    },
    TrialFinished {
        record: TrialRecord,
        eta_seconds: f64,
    },
    FinalFitStarted {
        trial: usize,
    },
    DecisionTuned(TunedDecision),
    Finished {
        cancelled: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The setting `folds` is below 2 (one fold validates while the others train).
    #[error("folds must be at least 2, got {folds} (one fold validates while the others train)")]
    TooFewFolds { folds: usize },
    /// After `test_movies` are held out, fewer training movies remain than `folds`.
    #[error(
        "training movies must be at least as many as folds ({folds}), got {training} after \
         holding out {test_movies} test movies"
    )]
    TooFewTrainingMovies {
        training: usize,
        folds: usize,
        test_movies: usize,
    },
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} belongs to another search ({what} differs): pass the same settings to resume it, or choose another output folder"
    )]
    Mismatch { path: PathBuf, what: String },
    #[error(
        "{path} was made by another SceneLab version ({detail}), so this SceneLab cannot resume it: choose another output folder, or delete this one to start over"
    )]
    OtherVersion { path: PathBuf, detail: String },
    #[error("{path} is not a SceneLab search header ({message}): choose another output folder")]
    NotAHeader { path: PathBuf, message: String },
    #[error("{path} cannot be read ({message}): delete it to redo the final fit")]
    BadSummary { path: PathBuf, message: String },
    #[error(
        "{path} line {line} is not a trial record ({message}): fix or delete that line to resume"
    )]
    BadTrial {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("trial {trial}, fold {fold}: {source}")]
    Train {
        trial: usize,
        fold: usize,
        source: TrainError,
    },
    #[error("final fit of trial {trial}: {source}")]
    FinalFit { trial: usize, source: TrainError },
    #[error("scoring: {0}")]
    Score(String),
    #[error("saving the best model: {0}")]
    Save(#[from] super::CheckpointError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SearchError + '_ {
    move |source| SearchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), SearchError> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| SearchError::Score(e.to_string()))?;
    crate::files::write_atomic(path, text.as_bytes()).map_err(io_err(path))
}

/// How `trials.jsonl` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Empty, or its last line ends with a newline.
    Complete,
    /// The last line is a whole record but has no newline: one must go before the next.
    NoNewline,
    /// The last line is a torn record (a write killed halfway): the file is cut to `keep`
    /// bytes.
    Torn { keep: u64 },
}

/// Keep one record per trial, the last written (the app and `scenelab search` may both have
/// finished a trial in one folder), at the place of its first.
pub fn dedup_trials(records: Vec<TrialRecord>) -> Vec<TrialRecord> {
    let mut at: HashMap<usize, usize> = HashMap::new();
    let mut out: Vec<TrialRecord> = Vec::with_capacity(records.len());
    for r in records {
        match at.get(&r.trial) {
            Some(&i) => out[i] = r,
            None => {
                at.insert(r.trial, out.len());
                out.push(r);
            }
        }
    }
    out
}

fn load_trials(path: &Path) -> Result<(Vec<TrialRecord>, Tail), SearchError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Vec::new(), Tail::Complete));
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut out = Vec::new();
    let mut tail = Tail::Complete;
    let mut start = 0usize;
    let mut number = 0usize;
    while start < bytes.len() {
        number += 1;
        let (end, last_without_newline) = match bytes[start..].iter().position(|&c| c == b'\n') {
            Some(i) => (start + i, false),
            None => (bytes.len(), true),
        };
        let line = &bytes[start..end];
        if line.iter().all(u8::is_ascii_whitespace) {
            if last_without_newline {
                tail = Tail::Torn { keep: start as u64 };
            }
        } else {
            match serde_json::from_slice::<TrialRecord>(line) {
                Ok(r) => {
                    out.push(r);
                    if last_without_newline {
                        tail = Tail::NoNewline;
                    }
                }
                Err(_) if last_without_newline => tail = Tail::Torn { keep: start as u64 },
                Err(e) => {
                    return Err(SearchError::BadTrial {
                        path: path.to_path_buf(),
                        line: number,
                        message: e.to_string(),
                    });
                }
            }
        }
        start = end + 1;
    }
    Ok((dedup_trials(out), tail))
}

/// Read `trials.jsonl`: one record per finished trial (the last one written, see
/// [`dedup_trials`]). A torn last line (a killed write) is ignored; any other bad line is an
/// error.
pub fn read_trials(path: &Path) -> Result<Vec<TrialRecord>, SearchError> {
    load_trials(path).map(|(records, _)| records)
}

fn append_trial(path: &Path, record: &TrialRecord) -> Result<(), SearchError> {
    let mut line = serde_json::to_string(record).map_err(|e| SearchError::Score(e.to_string()))?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    file.write_all(line.as_bytes()).map_err(io_err(path))?;
    file.sync_data().map_err(io_err(path))
}

/// Make the next appended trial start on a fresh line: cut a torn last line in place
/// ([`load_trials`] has already skipped it) or end a whole one with its newline. Neither
/// rewrites the file, so a kill meanwhile cannot lose the finished trials.
fn repair_tail(path: &Path, tail: Tail) -> Result<(), SearchError> {
    let mut file = match tail {
        Tail::Complete => return Ok(()),
        Tail::NoNewline | Tail::Torn { .. } => std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io_err(path))?,
    };
    match tail {
        Tail::Torn { keep } => file.set_len(keep).map_err(io_err(path))?,
        _ => file.write_all(b"\n").map_err(io_err(path))?,
    }
    file.sync_data().map_err(io_err(path))
}

/// Read a folder's `search.json`: `None` when there is none. A folder made by a SceneLab with
/// another [`SEARCH_VERSION`] is [`SearchError::OtherVersion`], whatever else it holds.
pub fn read_header(out: &Path) -> Result<Option<SearchHeader>, SearchError> {
    let path = out.join(HEADER_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let not_ours = |message: String| SearchError::NotAHeader {
        path: path.clone(),
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| not_ours(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(not_ours(format!("its format is not \"{FORMAT}\"")));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version != u64::from(SEARCH_VERSION) {
        let detail = if version == 0 {
            format!(
                "it records no search format version; this SceneLab writes version {SEARCH_VERSION}"
            )
        } else {
            format!(
                "search format version {version}; this SceneLab writes version {SEARCH_VERSION}"
            )
        };
        return Err(SearchError::OtherVersion { path, detail });
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| not_ours(e.to_string()))
}

/// Read a folder's `summary.json` (the final fit), its `model_dir` pointed at the folder's
/// `best/` wherever the search ran from. `None` when there is no summary, or no model in
/// `best/` to go with it.
pub fn read_summary(out: &Path) -> Result<Option<FinalResult>, SearchError> {
    let path = out.join(SUMMARY_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let result: FinalResult = serde_json::from_str(&text).map_err(|e| SearchError::BadSummary {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let model_dir = out.join(BEST_DIR);
    let has_model = model_dir.join(checkpoint::CONFIG_FILE).is_file()
        && model_dir.join(checkpoint::WEIGHTS_FILE).is_file();
    Ok(has_model.then_some(FinalResult {
        model_dir,
        ..result
    }))
}

fn predictions_path(out: &Path, trial: usize) -> PathBuf {
    out.join(PREDICTIONS_DIR)
        .join(format!("trial-{trial:04}.json"))
}

/// Sort best first: mean mAP, then trial index.
pub fn rank(trials: &mut [TrialRecord]) {
    trials.sort_by(|a, b| {
        b.map_mean
            .total_cmp(&a.map_mean)
            .then(a.trial.cmp(&b.trial))
    });
}

/// The results table as CSV: rank, trial, scores, then the searched hyperparameters.
pub fn table_csv(trials: &[TrialRecord]) -> String {
    let mut out = String::new();
    let params = |t: &TrialRecord| space::describe(&t.config());
    let names: Vec<String> = trials
        .first()
        .map(|t| params(t).into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    out.push_str("rank,trial,map_mean,map_std,miou_mean,miou_std,seconds");
    for n in &names {
        out.push(',');
        out.push_str(n);
    }
    out.push('\n');
    for (i, t) in trials.iter().enumerate() {
        out.push_str(&format!(
            "{},{},{:.6},{:.6},{:.6},{:.6},{:.1}",
            i + 1,
            t.trial,
            t.map_mean,
            t.map_std,
            t.miou_mean,
            t.miou_std,
            t.seconds
        ));
        for (_, v) in params(t) {
            out.push(',');
            out.push_str(&v);
        }
        out.push('\n');
    }
    out
}

fn write_tables(out: &Path, trials: &[TrialRecord]) -> Result<(), SearchError> {
    let csv = out.join(TABLE_CSV);
    crate::files::write_atomic(&csv, table_csv(trials).as_bytes()).map_err(io_err(&csv))?;
    write_json(&out.join(TABLE_JSON), &trials)
}

/// `value` as it reads back from JSON: serde_json may read a float back a bit off what it
/// wrote, so what a folder holds is compared with what this run would write, read back.
fn as_saved<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> Option<T> {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
}

/// Whether `record` (read from `trials.jsonl`) holds `drawn`.
fn same_as_saved(record: &TrialRecord, drawn: &TrainConfig) -> bool {
    as_saved(&drawn.model).is_some_and(|m| m == record.model)
        && as_saved(&drawn.settings).is_some_and(|s| s == record.settings)
}

/// Whether the final result saved in `out` is what the final fit would make now: the same
/// best trial, test movies, objective and grid, with its model in `best/`. The fit is
/// deterministic for a seed, so training again would only overwrite it with the same model.
fn reusable_final(
    out: &Path,
    best: &TrialRecord,
    config: &SearchConfig,
    split: &Split,
) -> Option<FinalResult> {
    let saved = match read_summary(out) {
        Ok(saved) => saved?,
        Err(e) => {
            tracing::warn!("{e}; the final fit runs again");
            return None;
        }
    };
    (saved.trial == best.trial
        && saved.test_ids == split.test
        && saved.decision.decision.objective == config.objective
        && as_saved(&config.grid).is_some_and(|g| g == saved.grid))
    .then_some(saved)
}

/// Search `config.kind`'s space on `movies`, sending events down `events` (if given) and
/// stopping once `cancel` is set: [`search_observed`] over a [`crate::observer::Channel`].
pub fn run_search(
    movies: &[Movie],
    config: &SearchConfig,
    events: Option<&Sender<SearchEvent>>,
    cancel: &AtomicBool,
) -> Result<SearchOutcome, SearchError> {
    search_observed(
        movies,
        config,
        &crate::observer::Channel::new(events, cancel),
    )
}

/// Search `config.kind`'s space on `movies`; movies without ground truth or a feature
/// modality ([`searchable`]) are left out (callers say so). `observer` gets every
/// [`SearchEvent`] (each run's [`TrainEvent`]s inside [`SearchEvent::Train`]) and
/// `progress(runs done, runs in all, "trial T, fold F of K" or "final fit")`; once it says
/// cancelled, the search stops at the next step, keeping the finished trials.
///
/// Errors: [`SearchError::TooFewFolds`] and [`SearchError::TooFewTrainingMovies`] before
/// anything is written; a folder of another search ([`SearchError::Mismatch`]), version or
/// format; a run that fails; files that cannot be read or written.
pub fn search_observed(
    movies: &[Movie],
    config: &SearchConfig,
    observer: &dyn Observer<SearchEvent>,
) -> Result<SearchOutcome, SearchError> {
    let plan = Plan::new(movies, config)?;
    plan.open_folder()?;
    let mut done = plan.finished_trials()?;
    let finished: std::collections::HashSet<usize> = done.iter().map(|r| r.trial).collect();
    let todo: Vec<usize> = (0..config.trials)
        .filter(|i| !finished.contains(i))
        .collect();
    let resumed = done.len();
    // With nothing to train the best trial is known now, and so is whether its fit is saved.
    let final_known_reusable = todo.is_empty() && {
        let mut table = done.clone();
        rank(&mut table);
        table.first().is_some_and(|best| {
            reusable_final(&config.out_dir, best, config, &plan.split).is_some()
        })
    };
    let final_runs = usize::from(config.final_fit && !final_known_reusable);
    let mut progress = Progress::new(todo.len() * config.folds, final_runs, config.folds);
    observer.event(SearchEvent::Started {
        trials: config.trials,
        resumed: done.clone(),
        folds: config.folds,
        train_movies: plan.split.train.len(),
        test_movies: plan.split.test.len(),
        runs: progress.total(),
    });

    let mut ran = 0;
    let mut cancelled = false;
    for &trial in &todo {
        let Some(record) = plan.run_trial(movies, trial, &mut progress, observer)? else {
            cancelled = true;
            break;
        };
        ran += 1;
        done.push(record.clone());
        let mut table = done.clone();
        rank(&mut table);
        write_tables(&config.out_dir, &table)?;
        observer.event(SearchEvent::TrialFinished {
            record,
            eta_seconds: progress.eta(),
        });
    }

    let mut table = done;
    rank(&mut table);
    write_tables(&config.out_dir, &table)?;
    let mut outcome = SearchOutcome {
        split: plan.split.clone(),
        trials: table,
        resumed,
        ran,
        cancelled,
        final_result: None,
        final_reused: false,
    };
    if cancelled || !config.final_fit || outcome.trials.is_empty() {
        observer.event(SearchEvent::Finished { cancelled });
        return Ok(outcome);
    }
    let best = outcome.trials[0].clone();
    if let Some(saved) = reusable_final(&config.out_dir, &best, config, &plan.split) {
        outcome.final_result = Some(saved);
        outcome.final_reused = true;
    } else {
        match plan.final_fit(movies, &best, &mut progress, observer)? {
            Some(result) => outcome.final_result = Some(result),
            None => outcome.cancelled = true,
        }
    }
    observer.event(SearchEvent::Finished {
        cancelled: outcome.cancelled,
    });
    Ok(outcome)
}

/// Training runs done and to do, for progress and the ETA.
struct Progress {
    started: Instant,
    done: usize,
    fold_runs: usize,
    final_runs: usize,
    /// The final fit trains on all K folds, a fold run on K - 1 of them.
    final_weight: f64,
}

impl Progress {
    fn new(fold_runs: usize, final_runs: usize, folds: usize) -> Self {
        Progress {
            started: Instant::now(),
            done: 0,
            fold_runs,
            final_runs,
            final_weight: folds as f64 / (folds.max(2) - 1) as f64,
        }
    }

    fn total(&self) -> usize {
        self.fold_runs + self.final_runs
    }

    /// Seconds left, from the mean run time so far (NaN before the first run ends).
    fn eta(&self) -> f64 {
        if self.done == 0 {
            return f64::NAN;
        }
        let per_run = self.started.elapsed().as_secs_f64() / self.done as f64;
        let left_folds = self.fold_runs.saturating_sub(self.done) as f64;
        per_run * (left_folds + self.final_runs as f64 * self.final_weight)
    }

    fn report(&self, observer: &dyn Observer<SearchEvent>, what: &str) {
        observer.progress(self.done, self.total(), what);
    }
}

/// A search's setup, checked: the searchable movies, the test split and the folds.
struct Plan<'c> {
    config: &'c SearchConfig,
    ids: Vec<String>,
    split: Split,
    folds: Vec<Vec<String>>,
}

impl<'c> Plan<'c> {
    fn new(movies: &[Movie], config: &'c SearchConfig) -> Result<Self, SearchError> {
        if config.folds < 2 {
            return Err(SearchError::TooFewFolds {
                folds: config.folds,
            });
        }
        // Only ids: the other movies are never in a split, so training never reads them.
        let ids: Vec<String> = movies
            .iter()
            .filter(|m| searchable(m))
            .map(|m| m.imdb_id.clone())
            .collect();
        let split = search_split(&ids, config.test_movies, config.seed)?;
        if split.train.len() < config.folds {
            return Err(SearchError::TooFewTrainingMovies {
                training: split.train.len(),
                folds: config.folds,
                test_movies: config.test_movies,
            });
        }
        let folds = Split::k_folds(&split.train, config.folds, config.seed);
        let out = &config.out_dir;
        std::fs::create_dir_all(out.join(PREDICTIONS_DIR)).map_err(io_err(out))?;
        Ok(Plan {
            config,
            ids,
            split,
            folds,
        })
    }

    /// What identifies this search in its folder.
    fn header(&self) -> SearchHeader {
        let config = self.config;
        SearchHeader {
            format: FORMAT.into(),
            version: SEARCH_VERSION,
            kind: config.kind,
            seed: config.seed,
            folds: config.folds,
            settings: config.base_settings(),
            test_ids: self.split.test.clone(),
            train_ids: self.split.train.clone(),
            objective: config.objective,
            grid: config.grid.clone(),
        }
    }

    /// Write the folder's header, or check that the one found is this search's: a rerun
    /// resumes only the same search.
    fn open_folder(&self) -> Result<(), SearchError> {
        let out = &self.config.out_dir;
        let header = self.header();
        let header_path = out.join(HEADER_FILE);
        let Some(found) = read_header(out)? else {
            return write_json(&header_path, &header);
        };
        let header = as_saved(&header).unwrap_or(header);
        let what = header_differences(&found, &header);
        if what.is_empty() {
            Ok(())
        } else {
            Err(SearchError::Mismatch {
                path: header_path,
                what: what.join(", "),
            })
        }
    }

    /// The trials already in `trials.jsonl` (a torn last line cut, a missing newline added),
    /// each checked to hold what this SceneLab draws for it.
    fn finished_trials(&self) -> Result<Vec<TrialRecord>, SearchError> {
        let trials_path = self.config.out_dir.join(TRIALS_FILE);
        let (done, tail) = load_trials(&trials_path)?;
        repair_tail(&trials_path, tail)?;
        for r in &done {
            // The header matched, so only another space can draw another configuration.
            if !same_as_saved(r, &self.config.trial_config(r.trial)) {
                return Err(SearchError::OtherVersion {
                    path: trials_path.clone(),
                    detail: format!(
                        "trial {}'s configuration is not what this SceneLab draws for it",
                        r.trial
                    ),
                });
            }
        }
        Ok(done)
    }

    /// Train trial `trial` once per fold and save it (its out-of-fold predictions, then its
    /// line of `trials.jsonl`); `None` when cancelled before its last fold finished.
    fn run_trial(
        &self,
        movies: &[Movie],
        trial: usize,
        progress: &mut Progress,
        observer: &dyn Observer<SearchEvent>,
    ) -> Result<Option<TrialRecord>, SearchError> {
        let config = self.config;
        let trial_config = config.trial_config(trial);
        observer.event(SearchEvent::TrialStarted {
            trial,
            config: trial_config.clone(),
        });
        let t0 = Instant::now();
        let mut records = Vec::new();
        let mut predictions: Vec<(String, Vec<f32>)> = Vec::new();
        for fold in 0..config.folds {
            let Some((record, scores)) =
                self.run_fold(movies, &trial_config, trial, fold, progress, observer)?
            else {
                return Ok(None);
            };
            progress.done += 1;
            progress.report(
                observer,
                &format!("trial {trial}, fold {} of {}", fold + 1, config.folds),
            );
            observer.event(SearchEvent::FoldFinished {
                trial,
                record: record.clone(),
                eta_seconds: progress.eta(),
            });
            records.push(record);
            predictions.extend(scores);
        }
        let maps: Vec<f64> = records.iter().map(|r| r.map).collect();
        let mious: Vec<f64> = records.iter().map(|r| r.miou).collect();
        let (map_mean, map_std) = mean_std(&maps);
        let (miou_mean, miou_std) = mean_std(&mious);
        let record = TrialRecord {
            trial,
            model: trial_config.model.clone(),
            settings: trial_config.settings.clone(),
            folds: records,
            map_mean,
            map_std,
            miou_mean,
            miou_std,
            seconds: t0.elapsed().as_secs_f64(),
        };
        predictions.sort_by(|a, b| a.0.cmp(&b.0));
        let out = &config.out_dir;
        // Predictions first: a trial line always has its predictions on disk.
        write_json(&predictions_path(out, trial), &predictions)?;
        append_trial(&out.join(TRIALS_FILE), &record)?;
        Ok(Some(record))
    }

    /// One fold of a trial: its record and the fold movies' scores, `None` when cancelled.
    fn run_fold(
        &self,
        movies: &[Movie],
        trial_config: &TrainConfig,
        trial: usize,
        fold: usize,
        progress: &Progress,
        observer: &dyn Observer<SearchEvent>,
    ) -> Result<Option<(FoldRecord, MovieScores)>, SearchError> {
        if observer.cancelled() {
            return Ok(None);
        }
        let fold_split = fold_split(&self.folds, fold, self.config.seed)?;
        progress.report(
            observer,
            &format!("trial {trial}, fold {} of {}", fold + 1, self.config.folds),
        );
        let f0 = Instant::now();
        let inner = Mapped {
            outer: observer,
            map: |event| {
                Some(SearchEvent::Train {
                    trial: Some(trial),
                    fold: Some(fold),
                    event,
                })
            },
        };
        let outcome = match train_observed(
            movies,
            &fold_split,
            trial_config,
            &self.config.device,
            &inner,
        ) {
            Ok(o) => o,
            Err(TrainError::Cancelled) => return Ok(None),
            Err(source) => {
                return Err(SearchError::Train {
                    trial,
                    fold,
                    source,
                });
            }
        };
        // A run cut short by a cancel is not a finished fold.
        if observer.cancelled() {
            return Ok(None);
        }
        let scores = test_metrics(movies, &outcome.test_scores).map_err(SearchError::Score)?;
        let record = FoldRecord {
            fold,
            validation_ids: fold_split.test.clone(),
            map: scores.map,
            miou: scores.miou,
            epochs_run: outcome.model.meta.curve.len(),
            best_epoch: outcome.model.meta.best_epoch,
            seconds: f0.elapsed().as_secs_f64(),
        };
        Ok(Some((record, outcome.test_scores)))
    }

    /// Retrain `best` on all training movies (a tenth validating early stopping), tune the
    /// decision on its out-of-fold predictions, score the test movies once and save the model
    /// to `best/` with `summary.json`; `None` when cancelled.
    fn final_fit(
        &self,
        movies: &[Movie],
        best: &TrialRecord,
        progress: &mut Progress,
        observer: &dyn Observer<SearchEvent>,
    ) -> Result<Option<FinalResult>, SearchError> {
        let config = self.config;
        let out = &config.out_dir;
        observer.event(SearchEvent::FinalFitStarted { trial: best.trial });
        progress.report(observer, "final fit");
        let final_split = training_split(
            &self.ids,
            &HeldOut::Ids(self.split.test.clone()),
            config.seed,
        )
        .map_err(|e| match e {
            SplitPolicyError::Split(e) => SearchError::Split(e),
            SplitPolicyError::TooFewMovies { usable } => SearchError::TooFewTrainingMovies {
                training: usable,
                folds: config.folds,
                test_movies: config.test_movies,
            },
        })?;
        let inner = Mapped {
            outer: observer,
            map: |event| {
                Some(SearchEvent::Train {
                    trial: None,
                    fold: None,
                    event,
                })
            },
        };
        let trained =
            match train_observed(movies, &final_split, &best.config(), &config.device, &inner) {
                Ok(o) if !observer.cancelled() => o,
                Ok(_) | Err(TrainError::Cancelled) => return Ok(None),
                Err(source) => {
                    return Err(SearchError::FinalFit {
                        trial: best.trial,
                        source,
                    });
                }
            };

        let tuned = self.tune_out_of_fold(movies, best)?;
        observer.event(SearchEvent::DecisionTuned(tuned));
        progress.done += 1;
        progress.report(observer, "final fit");

        // The one look at the test movies, if any were held out.
        let test = if trained.test_scores.is_empty() {
            None
        } else {
            let raw = test_metrics(movies, &trained.test_scores).map_err(SearchError::Score)?;
            let decided =
                super::decided_test_metrics(movies, &trained.test_scores, &tuned.decision)
                    .map_err(SearchError::Score)?;
            Some(TestScores { raw, decided })
        };

        let mut model = trained.model;
        model.meta.final_metrics = test.map(|t| t.raw);
        model.meta.decision = Some(tuned.decision);
        // An earlier summary no longer describes best/ once it is overwritten.
        let summary_path = out.join(SUMMARY_FILE);
        match std::fs::remove_file(&summary_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_err(&summary_path)(e));
            }
            _ => {}
        }
        let model_dir = out.join(BEST_DIR);
        model.save(&model_dir)?;
        let result = FinalResult {
            trial: best.trial,
            model_dir,
            decision: tuned,
            grid: config.grid.clone(),
            test_ids: self.split.test.clone(),
            test,
        };
        write_json(&summary_path, &result)?;
        Ok(Some(result))
    }

    /// The decision, tuned on validation predictions only: `best`'s out-of-fold scores (each
    /// training movie scored by the fold model that did not train on it).
    fn tune_out_of_fold(
        &self,
        movies: &[Movie],
        best: &TrialRecord,
    ) -> Result<TunedDecision, SearchError> {
        let oof_path = predictions_path(&self.config.out_dir, best.trial);
        let oof_text = std::fs::read_to_string(&oof_path).map_err(io_err(&oof_path))?;
        let oof: Vec<(String, Vec<f32>)> = serde_json::from_str(&oof_text)
            .map_err(|e| SearchError::Score(format!("{}: {e}", oof_path.display())))?;
        let by_id: HashMap<&str, &Movie> = movies.iter().map(|m| (m.imdb_id.as_str(), m)).collect();
        let oof_frames = super::end_frames(&by_id, &oof);
        let oof_inputs =
            super::scored_inputs(&by_id, &oof, &oof_frames).map_err(SearchError::Score)?;
        decision::tune(&oof_inputs, self.config.objective, &self.config.grid)
            .map_err(|e| SearchError::Score(e.to_string()))
    }
}

/// What differs between a folder's header `found` and this search's `header`, for people;
/// empty when the folder is this search's.
fn header_differences(found: &SearchHeader, header: &SearchHeader) -> Vec<String> {
    fn movies_of(h: &SearchHeader) -> Vec<&String> {
        let mut all: Vec<&String> = h.test_ids.iter().chain(&h.train_ids).collect();
        all.sort();
        all
    }
    // Say what to do about the movies: a changed folder cannot be fixed by a setting.
    let movies = if movies_of(found) != movies_of(header) {
        Some(format!(
            "the movies: it searched {} usable movies and this folder has {}, so the split \
             differs",
            found.test_ids.len() + found.train_ids.len(),
            header.test_ids.len() + header.train_ids.len()
        ))
    } else if found.test_ids.len() != header.test_ids.len() {
        Some(format!(
            "the test movies: it held out {}, not {}",
            found.test_ids.len(),
            header.test_ids.len()
        ))
    } else if found.test_ids != header.test_ids {
        Some("the test movies (another seed or folder)".to_string())
    } else {
        None
    };
    [
        (found.kind != header.kind, "model kind"),
        (found.seed != header.seed, "seed"),
        (found.folds != header.folds, "folds"),
        (
            found.settings != header.settings,
            "training settings (epochs, patience, batch)",
        ),
        (found.objective != header.objective, "objective"),
        (found.grid != header.grid, "decision grid (peak picking)"),
    ]
    .into_iter()
    .filter(|&(differs, _)| differs)
    .map(|(_, name)| name.to_string())
    .chain(movies)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(trial: usize, map_mean: f64) -> TrialRecord {
        let config = space::trial_config(ModelKind::Wavenet, 0, trial, &TrainSettings::default());
        TrialRecord {
            trial,
            model: config.model,
            settings: config.settings,
            folds: vec![FoldRecord {
                fold: 0,
                validation_ids: vec!["tt1".into()],
                map: map_mean,
                miou: f64::NAN,
                epochs_run: 1,
                best_epoch: None,
                seconds: 1.0,
            }],
            map_mean,
            map_std: f64::NAN,
            miou_mean: f64::NAN,
            miou_std: f64::NAN,
            seconds: 1.0,
        }
    }

    fn line(r: &TrialRecord) -> String {
        serde_json::to_string(r).unwrap()
    }

    #[test]
    fn nan_scores_read_back_from_a_trial_line() {
        let r = record(0, f64::NAN);
        let back: TrialRecord = serde_json::from_str(&line(&r)).unwrap();
        assert!(back.map_mean.is_nan() && back.miou_std.is_nan() && back.folds[0].miou.is_nan());
        assert_eq!(back.config(), r.config());
    }

    #[test]
    fn a_whole_last_line_without_newline_is_kept_and_ended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let text = format!("{}\n{}", line(&record(0, 0.1)), line(&record(1, 0.2)));
        std::fs::write(&path, &text).unwrap();
        let (records, tail) = load_trials(&path).unwrap();
        assert_eq!((records.len(), tail), (2, Tail::NoNewline));
        repair_tail(&path, tail).unwrap();
        append_trial(&path, &record(2, 0.3)).unwrap();
        let trials: Vec<usize> = read_trials(&path)
            .unwrap()
            .iter()
            .map(|r| r.trial)
            .collect();
        assert_eq!(trials, [0, 1, 2]);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with(&format!("{text}\n"))
        );
    }

    #[test]
    fn a_torn_last_line_is_cut_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let first = format!("{}\n", line(&record(0, 0.1)));
        let second = line(&record(1, 0.2));
        std::fs::write(&path, format!("{first}{}", &second[..second.len() / 2])).unwrap();
        let (records, tail) = load_trials(&path).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(
            tail,
            Tail::Torn {
                keep: first.len() as u64
            }
        );
        repair_tail(&path, tail).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        // A bad line that is not the last is an error, not skipped.
        std::fs::write(&path, format!("{{oops\n{first}")).unwrap();
        assert!(matches!(
            read_trials(&path),
            Err(SearchError::BadTrial { line: 1, .. })
        ));
    }

    #[test]
    fn duplicate_trials_keep_their_last_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TRIALS_FILE);
        let lines = [record(0, 0.1), record(1, 0.2), record(0, 0.4)]
            .iter()
            .map(|r| line(r) + "\n")
            .collect::<String>();
        std::fs::write(&path, lines).unwrap();
        let got: Vec<(usize, f64)> = read_trials(&path)
            .unwrap()
            .iter()
            .map(|r| (r.trial, r.map_mean))
            .collect();
        assert_eq!(got, [(0, 0.4), (1, 0.2)]);
    }
}
