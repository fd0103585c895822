//! A search run as the window shows it: the trial table, the chart, progress and ETA.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use super::results::SavedSearch;
use crate::model::ModelKind;
use crate::train::search::{
    FinalResult, FoldRecord, SearchConfig, SearchEvent, SearchOutcome, TrialRecord,
};
use crate::train::{TrainEvent, space};

/// A finished trial as the table shows it.
#[derive(Debug, Clone)]
pub struct TrialRow {
    pub record: TrialRecord,
    /// The sampled hyperparameters (`space::describe`), worked out once.
    pub params: Vec<(String, String)>,
    /// Read back from the output folder rather than trained by this run.
    pub resumed: bool,
}

impl TrialRow {
    fn new(record: TrialRecord, resumed: bool) -> Self {
        TrialRow {
            params: space::describe(&record.config()),
            record,
            resumed,
        }
    }
}

/// The trial being trained.
#[derive(Debug, Clone)]
pub struct RunningTrial {
    pub trial: usize,
    pub params: Vec<(String, String)>,
    pub folds: Vec<FoldRecord>,
}

/// Progress of the current (or last) search.
#[derive(Debug, Clone, Default)]
pub struct SearchRun {
    pub kind: Option<ModelKind>,
    pub out_dir: PathBuf,
    /// Trials wanted, folds, training and test movies, as the search started.
    pub trials: usize,
    pub folds: usize,
    pub train_movies: usize,
    pub test_movies: usize,
    /// Training runs this search does (unfinished trials × folds, plus the final fit).
    pub runs_total: usize,
    pub runs_done: usize,
    /// Epochs of the current training run (early stopping may end it sooner).
    pub run_epochs: usize,
    /// Fraction of the current training run done (its steps).
    pub run_fraction: f64,
    /// Finished trials, best (highest mean validation mAP) first.
    pub rows: Vec<TrialRow>,
    pub current: Option<RunningTrial>,
    /// The trial retrained on all training movies, while that runs.
    pub final_fit: Option<usize>,
    /// Seconds left as of the instant the search last said.
    pub eta: Option<(f64, Instant)>,
    /// The search ended (finished, cancelled or failed).
    pub ended: bool,
    pub cancelled: bool,
    pub final_result: Option<FinalResult>,
    /// `final_result` is an earlier run's final fit, reused because its trial is still best.
    pub final_reused: bool,
    /// The folder's saved final fit is of this trial, which is no longer the best one: the
    /// final fit has not run for the new best (its model is not offered).
    pub stale_final: Option<usize>,
    pub error: Option<String>,
}

impl SearchRun {
    /// A fresh run of `config` (nothing known yet).
    pub fn starting(config: &SearchConfig) -> Self {
        SearchRun {
            kind: Some(config.kind),
            out_dir: config.out_dir.clone(),
            trials: config.trials,
            folds: config.folds,
            ..SearchRun::default()
        }
    }

    /// Fraction of the search done, once it has said how many runs it makes.
    pub fn fraction(&self) -> Option<f32> {
        if self.runs_total == 0 {
            return None;
        }
        let done = self.runs_done as f64 + if self.ended { 0.0 } else { self.run_fraction };
        Some((done / self.runs_total as f64).clamp(0.0, 1.0) as f32)
    }

    /// Seconds left now.
    pub fn eta_seconds(&self) -> Option<f64> {
        self.eta
            .map(|(s, at)| (s - at.elapsed().as_secs_f64()).max(0.0))
    }

    /// Best first, as [`search::rank`] sorts the table.
    fn sort_rows(&mut self) {
        self.rows.sort_by(|a, b| {
            b.record
                .map_mean
                .total_cmp(&a.record.map_mean)
                .then(a.record.trial.cmp(&b.record.trial))
        });
    }

    fn insert(&mut self, row: TrialRow) {
        self.rows.retain(|r| r.record.trial != row.record.trial);
        self.rows.push(row);
        self.sort_rows();
    }

    /// Trials found in the output folder when the search started.
    pub fn add_resumed(&mut self, records: Vec<TrialRecord>) {
        let mut known: HashSet<usize> = self.rows.iter().map(|r| r.record.trial).collect();
        for r in records {
            if known.insert(r.trial) {
                self.rows.push(TrialRow::new(r, true));
            }
        }
        self.sort_rows();
    }

    fn set_eta(&mut self, seconds: f64) {
        self.eta = seconds.is_finite().then(|| (seconds, Instant::now()));
    }

    pub fn apply(&mut self, ev: &SearchEvent) {
        match ev {
            SearchEvent::Started {
                trials,
                resumed,
                folds,
                train_movies,
                test_movies,
                runs,
            } => {
                self.trials = *trials;
                self.folds = *folds;
                self.train_movies = *train_movies;
                self.test_movies = *test_movies;
                self.runs_total = *runs;
                // The search has accepted the folder: show what it resumes from.
                self.add_resumed(resumed.clone());
            }
            SearchEvent::TrialStarted { trial, config } => {
                self.current = Some(RunningTrial {
                    trial: *trial,
                    params: space::describe(config),
                    folds: Vec::new(),
                });
                self.run_fraction = 0.0;
            }
            SearchEvent::Train { event, .. } => match event {
                TrainEvent::Started { epochs, .. } => {
                    self.run_epochs = *epochs;
                    self.run_fraction = 0.0;
                }
                TrainEvent::Step {
                    epoch,
                    step,
                    steps_per_epoch,
                    ..
                } => {
                    let epochs = self.run_epochs.max(1) as f64;
                    let per_epoch = (*steps_per_epoch).max(1) as f64;
                    // Both 1-based: `step` of `steps_per_epoch` are done in this epoch.
                    let done = (*epoch - 1) as f64 + *step as f64 / per_epoch;
                    self.run_fraction = (done / epochs).min(1.0);
                }
                _ => {}
            },
            SearchEvent::FoldFinished {
                trial,
                record,
                eta_seconds,
            } => {
                self.runs_done += 1;
                self.run_fraction = 0.0;
                self.set_eta(*eta_seconds);
                if let Some(c) = self.current.as_mut().filter(|c| c.trial == *trial) {
                    c.folds.push(record.clone());
                }
            }
            SearchEvent::TrialFinished {
                record,
                eta_seconds,
            } => {
                self.set_eta(*eta_seconds);
                if self
                    .current
                    .as_ref()
                    .is_some_and(|c| c.trial == record.trial)
                {
                    self.current = None;
                }
                self.insert(TrialRow::new(record.clone(), false));
            }
            SearchEvent::FinalFitStarted { trial } => {
                self.current = None;
                self.final_fit = Some(*trial);
                self.run_fraction = 0.0;
            }
            SearchEvent::DecisionTuned(_) => {
                self.runs_done += 1;
                self.run_fraction = 0.0;
            }
            SearchEvent::Finished { cancelled } => {
                self.cancelled = *cancelled;
                self.eta = None;
            }
        }
    }

    /// The job ended with `result`.
    pub fn finish(&mut self, result: &Result<SearchOutcome, String>) {
        self.ended = true;
        self.current = None;
        self.final_fit = None;
        self.eta = None;
        self.run_fraction = 0.0;
        match result {
            Ok(outcome) => {
                let resumed: HashSet<usize> = self
                    .rows
                    .iter()
                    .filter(|r| r.resumed)
                    .map(|r| r.record.trial)
                    .collect();
                self.rows = outcome
                    .trials
                    .iter()
                    .map(|t| TrialRow::new(t.clone(), resumed.contains(&t.trial)))
                    .collect();
                self.sort_rows();
                self.cancelled = outcome.cancelled;
                self.final_result = outcome.final_result.clone();
                self.final_reused = outcome.final_reused;
            }
            Err(e) => self.error = Some(e.clone()),
        }
    }

    /// `[trial, mean validation mAP]` and `[trial, mean Miou]` of the finished trials, and the
    /// best mAP so far in trial order.
    pub fn chart(&self) -> ChartSeries {
        let mut by_trial: Vec<&TrialRecord> = self.rows.iter().map(|r| &r.record).collect();
        by_trial.sort_by_key(|r| r.trial);
        let mut best = f64::NEG_INFINITY;
        let mut best_so_far = Vec::new();
        for r in &by_trial {
            if r.map_mean.is_finite() && r.map_mean > best {
                best = r.map_mean;
            }
            if best.is_finite() {
                best_so_far.push([r.trial as f64, best]);
            }
        }
        ChartSeries {
            map: by_trial
                .iter()
                .map(|r| [r.trial as f64, r.map_mean])
                .collect(),
            miou: by_trial
                .iter()
                .map(|r| [r.trial as f64, r.miou_mean])
                .collect(),
            best_so_far,
        }
    }
}

/// The chart's points.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSeries {
    pub map: Vec<[f64; 2]>,
    pub miou: Vec<[f64; 2]>,
    pub best_so_far: Vec<[f64; 2]>,
}

impl SearchRun {
    /// The run as a saved search shows it: every trial read back, nothing running.
    pub fn from_saved(saved: SavedSearch) -> Self {
        let mut run = SearchRun {
            kind: Some(saved.header.kind),
            out_dir: saved.out_dir,
            trials: saved.trials.len(),
            folds: saved.header.folds,
            train_movies: saved.header.train_ids.len(),
            test_movies: saved.header.test_ids.len(),
            ended: true,
            final_result: saved.final_result,
            stale_final: saved.stale_final,
            ..SearchRun::default()
        };
        run.add_resumed(saved.trials);
        run
    }
}
