//! Background work: each job runs on its own thread and reports over one channel.
//!
//! The UI thread drains the channel once per frame ([`Jobs::poll`]); every send wakes the UI
//! with `request_repaint`, so progress shows while the window is otherwise idle.

use eframe::egui;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use super::evaluation::{Comparison, SweepResult, ThresholdMetrics};
use super::loader::LoadedFolder;
use super::picker::{PickOutcome, PickPurpose};
use super::training_panel::ModelScores;
use crate::observer::Observer;
use crate::train::TrainEvent;

pub type JobId = u64;

/// What a job (or the metric worker) tells the UI.
pub enum JobEvent {
    Progress {
        job: JobId,
        done: usize,
        total: usize,
        note: String,
    },
    Loaded {
        dir: PathBuf,
        result: Result<LoadedFolder, String>,
    },
    DemoWritten {
        dir: PathBuf,
        result: Result<usize, String>,
    },
    Picked {
        purpose: PickPurpose,
        outcome: PickOutcome,
    },
    Metrics(ThresholdMetrics),
    Sweep(SweepResult),
    /// Every source scored at one threshold, for the comparison table.
    Compared(Comparison),
    /// Progress of the training run.
    Train(TrainEvent),
    /// The training run ended: the model and its scores for the loaded movies, or why not.
    Trained(Result<ModelScores, String>),
    ModelLoaded {
        dir: PathBuf,
        result: Result<ModelScores, String>,
    },
    ModelSaved(Result<PathBuf, String>),
    Exported {
        out: PathBuf,
        /// Files written and the movies the source has no scores for.
        result: Result<(usize, Vec<String>), String>,
    },
    /// The search job's progress and results, and the best model's scores.
    Search(Box<super::search_panel::SearchJobEvent>),
    /// The job's closure returned (after sending its result) or panicked (`Some(message)`).
    Finished {
        job: JobId,
        panic: Option<String>,
    },
}

/// A job in flight, as the status line shows it.
#[derive(Debug, Clone)]
pub struct RunningJob {
    pub id: JobId,
    pub label: String,
    pub done: usize,
    pub total: usize,
    pub note: String,
}

impl RunningJob {
    /// Fraction done, if the job has said how much there is.
    pub fn fraction(&self) -> Option<f32> {
        (self.total > 0).then(|| self.done as f32 / self.total as f32)
    }
}

/// Handle given to a job's closure: report progress and results.
#[derive(Clone)]
pub struct Reporter {
    job: JobId,
    tx: Sender<JobEvent>,
    ctx: Option<egui::Context>,
}

impl Reporter {
    pub fn progress(&self, done: usize, total: usize, note: impl Into<String>) {
        self.send(JobEvent::Progress {
            job: self.job,
            done,
            total,
            note: note.into(),
        });
    }

    pub fn send(&self, event: JobEvent) {
        // The receiver only goes away when the app closes; nothing is left to tell then.
        let _ = self.tx.send(event);
        if let Some(ctx) = &self.ctx {
            ctx.request_repaint();
        }
    }
}

/// A job's own progress, for a workflow whose events the UI does not need: they are dropped.
impl<E> Observer<E> for Reporter {
    fn progress(&self, done: usize, total: usize, what: &str) {
        Reporter::progress(self, done, total, what);
    }
}

/// A library workflow's [`Observer`] inside a job: progress goes to the status line, each
/// event to the UI thread as the [`JobEvent`] `wrap` makes of it, and the job's cancel flag
/// (if any) cancels.
pub struct JobObserver<'a, E> {
    pub reporter: &'a Reporter,
    pub cancel: Option<&'a AtomicBool>,
    pub wrap: fn(E) -> JobEvent,
}

impl<E> Observer<E> for JobObserver<'_, E> {
    fn progress(&self, done: usize, total: usize, what: &str) {
        self.reporter.progress(done, total, what);
    }

    fn event(&self, event: E) {
        self.reporter.send((self.wrap)(event));
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// The job channel and the list of running jobs.
pub struct Jobs {
    tx: Sender<JobEvent>,
    rx: Receiver<JobEvent>,
    running: Vec<RunningJob>,
    next_id: JobId,
    ctx: Option<egui::Context>,
}

impl Default for Jobs {
    fn default() -> Self {
        let (tx, rx) = channel();
        Jobs {
            tx,
            rx,
            running: Vec::new(),
            next_id: 1,
            ctx: None,
        }
    }
}

impl Jobs {
    /// The context to wake when a job reports; set once the first frame runs.
    pub fn set_context(&mut self, ctx: &egui::Context) {
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
        }
    }

    pub fn context(&self) -> Option<&egui::Context> {
        self.ctx.as_ref()
    }

    /// A sender for long-lived workers that report outside any job.
    pub fn sender(&self) -> Sender<JobEvent> {
        self.tx.clone()
    }

    /// Run `work` on a new thread. A panic inside it becomes an error message, not a crash.
    pub fn spawn(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&Reporter) + Send + 'static,
    ) -> JobId {
        let id = self.next_id;
        self.next_id += 1;
        let label = label.into();
        self.running.push(RunningJob {
            id,
            label: label.clone(),
            done: 0,
            total: 0,
            note: String::new(),
        });
        let reporter = Reporter {
            job: id,
            tx: self.tx.clone(),
            ctx: self.ctx.clone(),
        };
        let spawned = std::thread::Builder::new()
            .name(format!("job-{id}"))
            .spawn(move || {
                let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(&reporter)));
                let panic = outcome.err().map(|p| panic_message(&*p));
                reporter.send(JobEvent::Finished { job: id, panic });
            });
        if let Err(e) = spawned {
            self.running.retain(|j| j.id != id);
            let _ = self.tx.send(JobEvent::Finished {
                job: id,
                panic: Some(format!("could not start a thread for '{label}': {e}")),
            });
        }
        id
    }

    /// Run `work` on a new thread and send `answer` with its result however it ends: a panic
    /// becomes an `Err`, so whatever waits for the answer (a spinner, a Cancel button, a
    /// running flag) is always released.
    pub fn spawn_answering<T: 'static>(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&Reporter) -> Result<T, String> + Send + 'static,
        answer: impl FnOnce(Result<T, String>) -> JobEvent + Send + 'static,
    ) -> JobId {
        // Shared so that the answer is still sent when no thread could start.
        let answer = Arc::new(Mutex::new(Some(answer)));
        let in_job = answer.clone();
        let id = self.spawn(label, move |r| {
            let result =
                std::panic::catch_unwind(AssertUnwindSafe(|| work(r))).unwrap_or_else(|p| {
                    Err(format!(
                        "it stopped on an internal error: {}",
                        panic_message(&*p)
                    ))
                });
            if let Some(answer) = in_job.lock().unwrap_or_else(|e| e.into_inner()).take() {
                r.send(answer(result));
            }
        });
        // Not running right after `spawn`: the thread never started (finished jobs leave the
        // list only in `poll`, on this thread).
        if !self.running.iter().any(|j| j.id == id)
            && let Some(answer) = answer.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            let _ = self
                .tx
                .send(answer(Err("could not start a background thread".into())));
        }
        id
    }

    /// Take every event that arrived since the last frame, updating progress on the way.
    pub fn poll(&mut self) -> Vec<JobEvent> {
        let mut out = Vec::new();
        while let Ok(ev) = self.rx.try_recv() {
            match &ev {
                JobEvent::Progress {
                    job,
                    done,
                    total,
                    note,
                } => {
                    if let Some(j) = self.running.iter_mut().find(|j| j.id == *job) {
                        j.done = *done;
                        j.total = *total;
                        j.note.clone_from(note);
                    }
                }
                JobEvent::Finished { job, .. } => self.running.retain(|j| j.id != *job),
                _ => {}
            }
            out.push(ev);
        }
        out
    }

    pub fn running(&self) -> &[RunningJob] {
        &self.running
    }

    pub fn is_busy(&self) -> bool {
        !self.running.is_empty()
    }

    /// Whether a job with a label starting with `prefix` is running.
    pub fn is_running(&self, prefix: &str) -> bool {
        self.running.iter().any(|j| j.label.starts_with(prefix))
    }
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn drain_until_idle(jobs: &mut Jobs) -> Vec<JobEvent> {
        let start = Instant::now();
        let mut all = Vec::new();
        while jobs.is_busy() && start.elapsed() < Duration::from_secs(10) {
            all.extend(jobs.poll());
            std::thread::sleep(Duration::from_millis(2));
        }
        all.extend(jobs.poll());
        all
    }

    #[test]
    fn progress_updates_the_running_job_and_finish_removes_it() {
        let mut jobs = Jobs::default();
        let (go_tx, go_rx) = channel::<()>();
        jobs.spawn("Loading x", move |r| {
            r.progress(3, 10, "file 3");
            go_rx.recv().unwrap();
        });
        assert!(jobs.is_running("Loading"));
        let start = Instant::now();
        while jobs.running()[0].done != 3 && start.elapsed() < Duration::from_secs(5) {
            jobs.poll();
        }
        assert_eq!(jobs.running()[0].fraction(), Some(0.3));
        assert_eq!(jobs.running()[0].note, "file 3");
        go_tx.send(()).unwrap();
        drain_until_idle(&mut jobs);
        assert!(!jobs.is_busy());
    }

    #[test]
    fn a_panicking_job_reports_its_message() {
        let mut jobs = Jobs::default();
        jobs.spawn("boom", |_| panic!("the loader broke"));
        let events = drain_until_idle(&mut jobs);
        let msg = events.iter().find_map(|e| match e {
            JobEvent::Finished { panic, .. } => panic.clone(),
            _ => None,
        });
        assert_eq!(msg.as_deref(), Some("the loader broke"));
    }

    #[test]
    fn a_job_that_owes_an_answer_answers_even_when_it_panics() {
        let mut jobs = Jobs::default();
        jobs.spawn_answering(
            "Training",
            |_| -> Result<usize, String> { panic!("candle broke") },
            |result| JobEvent::DemoWritten {
                dir: "x".into(),
                result,
            },
        );
        jobs.spawn_answering(
            "Demo",
            |_| Ok(3),
            |result| JobEvent::DemoWritten {
                dir: "y".into(),
                result,
            },
        );
        let mut answers: Vec<(String, Result<usize, String>)> = drain_until_idle(&mut jobs)
            .into_iter()
            .filter_map(|e| match e {
                JobEvent::DemoWritten { dir, result } => Some((dir.display().to_string(), result)),
                _ => None,
            })
            .collect();
        answers.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(answers.len(), 2);
        let err = answers[0].1.clone().unwrap_err();
        assert!(err.contains("candle broke"), "{err}");
        assert_eq!(answers[1].1, Ok(3));
    }
}
