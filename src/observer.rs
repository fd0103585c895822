//! How long-running work (training, search, scoring and writing folders) talks to whoever
//! started it: one [`Observer`] receives its progress and its events and says whether to
//! cancel.
//!
//! The work calls the observer on its own thread, so the caller needs no thread or channel of
//! its own: the command line implements it over a progress bar and a Ctrl-C flag
//! (`src/cli`), the app over its job channel to the UI thread (`src/app/jobs.rs`), tests over
//! an `mpsc` channel ([`Channel`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

/// Receives the progress and events `E` of one piece of work, and cancels it.
///
/// Every method has a default that ignores the call, so an observer implements only what it
/// shows. Calls come from the working thread (hence `Sync`), in order; they should return
/// quickly, as the work waits for them.
pub trait Observer<E>: Sync {
    /// `done` of `total` units of work are finished (`total` 0: not known yet); `what` says
    /// what is being done, for people ("epoch 3, loss 0.4120", "trial 2, fold 1 of 3").
    fn progress(&self, done: usize, total: usize, what: &str) {
        let _ = (done, total, what);
    }

    /// Something happened that the caller may show or keep (an epoch ended, a trial finished).
    fn event(&self, event: E) {
        let _ = event;
    }

    /// Whether the work should stop at the next point where it can (it keeps what is
    /// finished, and says it was cancelled in its result).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Sees nothing and never cancels.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl<E> Observer<E> for Quiet {}

/// Events sent down an optional channel, cancelled by a flag: the shape of
/// [`crate::train::train`]'s and [`crate::train::search::run_search`]'s arguments. A closed
/// receiver only means nobody watches any more. Progress is dropped (the events carry it).
pub struct Channel<'a, E> {
    pub events: Option<&'a Sender<E>>,
    pub cancel: &'a AtomicBool,
}

impl<'a, E> Channel<'a, E> {
    pub fn new(events: Option<&'a Sender<E>>, cancel: &'a AtomicBool) -> Self {
        Channel { events, cancel }
    }
}

impl<E: Send> Observer<E> for Channel<'_, E> {
    fn event(&self, event: E) {
        if let Some(tx) = self.events {
            let _ = tx.send(event);
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// An observer of `E` seen through an observer of `F`: events are turned into `F` by `map`
/// (dropped when it gives `None`), cancelling is the outer one's. Progress is dropped: the
/// outer work reports its own (a search counts runs, not the steps of each run).
pub struct Mapped<'a, F, M> {
    pub outer: &'a dyn Observer<F>,
    pub map: M,
}

impl<E, F, M: Fn(E) -> Option<F> + Sync> Observer<E> for Mapped<'_, F, M> {
    fn event(&self, event: E) {
        if let Some(e) = (self.map)(event) {
            self.outer.event(e);
        }
    }

    fn cancelled(&self) -> bool {
        self.outer.cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_forwards_events_and_reads_the_flag() {
        let (tx, rx) = std::sync::mpsc::channel();
        let cancel = AtomicBool::new(false);
        let o = Channel::new(Some(&tx), &cancel);
        o.progress(1, 2, "ignored");
        o.event(3);
        assert!(!Observer::<i32>::cancelled(&o));
        cancel.store(true, Ordering::Relaxed);
        assert!(Observer::<i32>::cancelled(&o));
        drop(tx);
        assert_eq!(rx.iter().collect::<Vec<i32>>(), [3]);
    }

    #[test]
    fn a_mapped_observer_wraps_or_drops_events_and_shares_the_cancel() {
        let (tx, rx) = std::sync::mpsc::channel();
        let cancel = AtomicBool::new(true);
        let outer = Channel::new(Some(&tx), &cancel);
        let inner = Mapped {
            outer: &outer,
            map: |e: i32| (e > 0).then(|| format!("#{e}")),
        };
        inner.event(-1);
        inner.event(2);
        assert!(inner.cancelled());
        drop(tx);
        assert_eq!(rx.iter().collect::<Vec<String>>(), ["#2"]);
    }
}
