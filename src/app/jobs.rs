//! Background work: each job runs on its own thread and reports over one channel.
//!
//! The runner knows no feature. A job has an id, a label for the status line and a kind: the
//! type of the payload it answers with, which the feature that starts it owns. A payload
//! implements [`Deliver`]: how it changes the target (the [`App`](super::App)) once it reaches
//! the UI thread. [`Jobs::is_running`] asks by that type, so a feature finds its own jobs
//! without matching labels.
//!
//! The UI thread drains the channel once per frame ([`Jobs::poll`]) and applies each payload;
//! every send wakes the UI with `request_repaint`, so progress shows while the window is
//! otherwise idle.

use eframe::egui;
use std::any::TypeId;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::observer::Observer;

pub type JobId = u64;

/// What a job's payload does to `T` (the app) on the UI thread. Each feature owns the payload
/// types of its jobs and implements this for them.
pub trait Deliver<T>: Send + 'static {
    fn deliver(self, target: &mut T);
}

/// A payload on its way to the UI thread.
type Delivery<T> = Box<dyn FnOnce(&mut T) + Send>;

/// What a job tells the UI thread.
pub enum JobEvent<T> {
    Progress {
        job: JobId,
        done: usize,
        total: usize,
        note: String,
    },
    /// A payload (a result or a feature's own progress), applied by [`JobEvent::deliver`].
    Payload(Delivery<T>),
    /// The job's closure returned (after sending its result) or panicked (`Some(message)`).
    Finished { job: JobId, panic: Option<String> },
}

impl<T> JobEvent<T> {
    fn payload(p: impl Deliver<T>) -> Self {
        JobEvent::Payload(Box::new(move |t: &mut T| p.deliver(t)))
    }
}

/// A job in flight, as the status line shows it.
#[derive(Debug, Clone)]
pub struct RunningJob {
    pub id: JobId,
    pub label: String,
    pub done: usize,
    pub total: usize,
    pub note: String,
    /// The type of the payload the job answers with (see [`Jobs::is_running`]).
    kind: TypeId,
}

impl RunningJob {
    /// Fraction done, if the job has said how much there is.
    pub fn fraction(&self) -> Option<f32> {
        (self.total > 0).then(|| self.done as f32 / self.total as f32)
    }
}

/// Handle given to a job's closure: report progress and payloads.
pub struct Reporter<T> {
    job: JobId,
    tx: Sender<JobEvent<T>>,
    ctx: Option<egui::Context>,
}

impl<T> Clone for Reporter<T> {
    fn clone(&self) -> Self {
        Reporter {
            job: self.job,
            tx: self.tx.clone(),
            ctx: self.ctx.clone(),
        }
    }
}

impl<T: 'static> Reporter<T> {
    pub fn progress(&self, done: usize, total: usize, note: impl Into<String>) {
        self.send_event(JobEvent::Progress {
            job: self.job,
            done,
            total,
            note: note.into(),
        });
    }

    /// Send a payload to the UI thread.
    pub fn send(&self, payload: impl Deliver<T>) {
        self.send_event(JobEvent::payload(payload));
    }

    fn send_event(&self, event: JobEvent<T>) {
        // The receiver only goes away when the app closes; nothing is left to tell then.
        let _ = self.tx.send(event);
        if let Some(ctx) = &self.ctx {
            ctx.request_repaint();
        }
    }
}

/// A job's own progress, for a workflow whose events the UI does not need: they are dropped.
impl<E, T: 'static> Observer<E> for Reporter<T> {
    fn progress(&self, done: usize, total: usize, what: &str) {
        Reporter::progress(self, done, total, what);
    }
}

/// A library workflow's [`Observer`] inside a job: progress goes to the status line, each
/// event to the UI thread as the payload `wrap` makes of it, and the job's cancel flag (if
/// any) cancels.
pub struct JobObserver<'a, T, E, P> {
    pub reporter: &'a Reporter<T>,
    pub cancel: Option<&'a AtomicBool>,
    pub wrap: fn(E) -> P,
}

impl<T: 'static, E, P: Deliver<T>> Observer<E> for JobObserver<'_, T, E, P> {
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
pub struct Jobs<T> {
    tx: Sender<JobEvent<T>>,
    rx: Receiver<JobEvent<T>>,
    running: Vec<RunningJob>,
    next_id: JobId,
    ctx: Option<egui::Context>,
}

impl<T> Default for Jobs<T> {
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

impl<T: 'static> Jobs<T> {
    /// The context to wake when a job reports; set once the first frame runs.
    pub fn set_context(&mut self, ctx: &egui::Context) {
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
        }
    }

    pub fn context(&self) -> Option<&egui::Context> {
        self.ctx.as_ref()
    }

    /// Run `work` on a new thread as a job of `kind` (the type id of its answer, see
    /// [`Jobs::is_running`]). A panic inside it becomes an error message, not a crash.
    fn spawn_kind(
        &mut self,
        kind: TypeId,
        label: String,
        work: impl FnOnce(&Reporter<T>) + Send + 'static,
    ) -> JobId {
        let id = self.next_id;
        self.next_id += 1;
        self.running.push(RunningJob {
            id,
            label: label.clone(),
            done: 0,
            total: 0,
            note: String::new(),
            kind,
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
                reporter.send_event(JobEvent::Finished { job: id, panic });
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

    /// Run `work` on a new thread and send the payload `answer` makes of its result however
    /// it ends: a panic becomes an `Err`, so whatever waits for the answer (a spinner, a
    /// Cancel button, a running flag) is always released. The job's kind is `P`.
    pub fn spawn_answering<R: 'static, P: Deliver<T>>(
        &mut self,
        label: impl Into<String>,
        work: impl FnOnce(&Reporter<T>) -> Result<R, String> + Send + 'static,
        answer: impl FnOnce(Result<R, String>) -> P + Send + 'static,
    ) -> JobId {
        // Shared so that the answer is still sent when no thread could start.
        let answer = Arc::new(Mutex::new(Some(answer)));
        let in_job = answer.clone();
        let id = self.spawn_kind(TypeId::of::<P>(), label.into(), move |r| {
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
        // Not running right after `spawn_kind`: the thread never started (finished jobs
        // leave the list only in `poll`, on this thread).
        if !self.running.iter().any(|j| j.id == id)
            && let Some(answer) = answer.lock().unwrap_or_else(|e| e.into_inner()).take()
        {
            let _ = self.tx.send(JobEvent::payload(answer(Err(
                "could not start a background thread".into(),
            ))));
        }
        id
    }

    /// Take every event that arrived since the last frame, updating progress on the way.
    pub fn poll(&mut self) -> Vec<JobEvent<T>> {
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
                JobEvent::Payload(_) => {}
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

    /// Whether a job answering with payload type `P` is running.
    pub fn is_running<P: 'static>(&self) -> bool {
        let kind = TypeId::of::<P>();
        self.running.iter().any(|j| j.kind == kind)
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

    /// What the test jobs deliver to: the answers, in order.
    #[derive(Default)]
    struct Answers(Vec<(String, Result<usize, String>)>);

    struct Answer(String, Result<usize, String>);

    impl Deliver<Answers> for Answer {
        fn deliver(self, target: &mut Answers) {
            target.0.push((self.0, self.1));
        }
    }

    struct Other;

    impl Deliver<Answers> for Other {
        fn deliver(self, _: &mut Answers) {}
    }

    fn drain_until_idle(jobs: &mut Jobs<Answers>) -> (Answers, Vec<Option<String>>) {
        let start = Instant::now();
        let mut answers = Answers::default();
        let mut finished = Vec::new();
        loop {
            let idle = !jobs.is_busy();
            for ev in jobs.poll() {
                match ev {
                    JobEvent::Payload(p) => p(&mut answers),
                    JobEvent::Finished { panic, .. } => finished.push(panic),
                    JobEvent::Progress { .. } => {}
                }
            }
            if idle || start.elapsed() > Duration::from_secs(10) {
                return (answers, finished);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn progress_updates_the_running_job_and_finish_removes_it() {
        let mut jobs = Jobs::default();
        let (go_tx, go_rx) = channel::<()>();
        jobs.spawn_answering(
            "Loading x",
            move |r| {
                r.progress(3, 10, "file 3");
                go_rx.recv().unwrap();
                Ok(1)
            },
            |result| Answer("x".into(), result),
        );
        assert!(jobs.is_running::<Answer>());
        assert!(!jobs.is_running::<Other>());
        let start = Instant::now();
        while jobs.running()[0].done != 3 && start.elapsed() < Duration::from_secs(5) {
            jobs.poll();
        }
        assert_eq!(jobs.running()[0].fraction(), Some(0.3));
        assert_eq!(jobs.running()[0].note, "file 3");
        assert_eq!(jobs.running()[0].label, "Loading x");
        go_tx.send(()).unwrap();
        let (answers, _) = drain_until_idle(&mut jobs);
        assert!(!jobs.is_busy());
        assert_eq!(answers.0, vec![("x".to_string(), Ok(1))]);
    }

    #[test]
    fn a_job_that_owes_an_answer_answers_even_when_it_panics() {
        let mut jobs = Jobs::default();
        jobs.spawn_answering(
            "Training",
            |_| -> Result<usize, String> { panic!("candle broke") },
            |result| Answer("x".into(), result),
        );
        jobs.spawn_answering("Demo", |_| Ok(3), |result| Answer("y".into(), result));
        let (mut answers, finished) = drain_until_idle(&mut jobs);
        answers.0.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(answers.0.len(), 2);
        let err = answers.0[0].1.clone().unwrap_err();
        assert!(err.contains("candle broke"), "{err}");
        assert_eq!(answers.0[1].1, Ok(3));
        // The panic became the answer, so the job itself ended normally.
        assert_eq!(finished, vec![None, None]);
    }

    #[test]
    fn a_panicking_answer_is_reported_when_the_job_finishes() {
        let mut jobs: Jobs<Answers> = Jobs::default();
        jobs.spawn_answering(
            "boom",
            |_| Ok(1),
            |_: Result<usize, String>| -> Answer { panic!("the loader broke") },
        );
        let (answers, finished) = drain_until_idle(&mut jobs);
        assert!(answers.0.is_empty());
        assert_eq!(finished, vec![Some("the loader broke".to_string())]);
    }
}
