//! Editing a folder's ground truth: an [`Edit`] changes the labels of some transitions of one
//! movie, an [`EditLog`] applies edits to the movies and undoes and redoes them, and a
//! [`Journal`] appends every step to a file as it happens (flushed to disk), so edits that
//! were not saved survive a crash and can be replayed when the folder is opened again.
//!
//! A transition's label is MovieNet's: no boundary (0), a boundary (1), or a boundary the
//! annotators were unsure of (-1). As everywhere in SceneLab, an uncertain boundary counts as
//! a boundary in [`Movie::ground_truth`] and is listed in [`Movie::uncertain`].

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Movie;

/// One transition's ground-truth label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// No scene boundary (MovieNet's 0).
    None,
    /// A scene boundary (1).
    Boundary,
    /// A scene boundary the annotators were unsure of (-1).
    Uncertain,
}

impl Label {
    pub fn is_boundary(self) -> bool {
        self != Label::None
    }

    /// MovieNet's label text: `0`, `1` or `-1`.
    pub fn movienet(self) -> &'static str {
        match self {
            Label::None => "0",
            Label::Boundary => "1",
            Label::Uncertain => "-1",
        }
    }
}

/// One transition's label before and after an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelChange {
    /// Transition index (between shots `transition` and `transition + 1`).
    pub transition: usize,
    pub before: Label,
    pub after: Label,
}

/// A change to one movie's labels: one or two transitions (a moved boundary clears one and
/// sets another), undone as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// The movie's IMDb id.
    pub movie: String,
    pub changes: Vec<LabelChange>,
}

/// Why an edit cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("no open movie is '{0}'")]
    NoMovie(String),
    #[error("movie '{0}' has no ground truth to edit")]
    NoGroundTruth(String),
    #[error("movie '{movie}' has {n} transitions; there is no transition {transition}")]
    NoTransition {
        movie: String,
        transition: usize,
        n: usize,
    },
    #[error("transition {transition} of '{movie}' is not a boundary, so it cannot be moved")]
    NotABoundary { movie: String, transition: usize },
    #[error("transition {transition} of '{movie}' is already a boundary")]
    AlreadyABoundary { movie: String, transition: usize },
    /// A replayed or redone edit expects labels the movie no longer has (the files changed).
    #[error(
        "transition {transition} of '{movie}' is labelled {found:?}, but the edit expects {expected:?}"
    )]
    Stale {
        movie: String,
        transition: usize,
        expected: Label,
        found: Label,
    },
}

/// The label of `transition` in `movie` (`None` without ground truth or past its end).
pub fn label_of(movie: &Movie, transition: usize) -> Option<Label> {
    let gt = movie.ground_truth.as_ref()?;
    let b = *gt.get(transition)?;
    Some(if !b {
        Label::None
    } else if movie.uncertain.binary_search(&transition).is_ok() {
        Label::Uncertain
    } else {
        Label::Boundary
    })
}

fn checked_label(movie: &Movie, transition: usize) -> Result<Label, EditError> {
    let Some(gt) = &movie.ground_truth else {
        return Err(EditError::NoGroundTruth(movie.imdb_id.clone()));
    };
    label_of(movie, transition).ok_or_else(|| EditError::NoTransition {
        movie: movie.imdb_id.clone(),
        transition,
        n: gt.len(),
    })
}

/// Set `transition`'s label (the ground truth is present and long enough: checked before).
fn set_label(movie: &mut Movie, transition: usize, label: Label) {
    if let Some(gt) = movie.ground_truth.as_mut() {
        gt[transition] = label.is_boundary();
    }
    match (movie.uncertain.binary_search(&transition), label) {
        (Ok(at), Label::None | Label::Boundary) => {
            movie.uncertain.remove(at);
        }
        (Err(at), Label::Uncertain) => movie.uncertain.insert(at, transition),
        _ => {}
    }
}

impl Edit {
    /// Set a boundary at `transition`, or clear the one there (uncertain or not).
    pub fn toggle(movie: &Movie, transition: usize) -> Result<Edit, EditError> {
        let before = checked_label(movie, transition)?;
        let after = if before.is_boundary() {
            Label::None
        } else {
            Label::Boundary
        };
        Ok(Edit::one(movie, transition, before, after))
    }

    /// Mark the label at `transition` uncertain, or certain again (a transition without a
    /// boundary becomes an uncertain boundary).
    pub fn toggle_uncertain(movie: &Movie, transition: usize) -> Result<Edit, EditError> {
        let before = checked_label(movie, transition)?;
        let after = if before == Label::Uncertain {
            Label::Boundary
        } else {
            Label::Uncertain
        };
        Ok(Edit::one(movie, transition, before, after))
    }

    /// Move the boundary at `from` to `to` (keeping whether it is uncertain).
    pub fn move_boundary(movie: &Movie, from: usize, to: usize) -> Result<Edit, EditError> {
        let label = checked_label(movie, from)?;
        let target = checked_label(movie, to)?;
        if !label.is_boundary() {
            return Err(EditError::NotABoundary {
                movie: movie.imdb_id.clone(),
                transition: from,
            });
        }
        if target.is_boundary() {
            return Err(EditError::AlreadyABoundary {
                movie: movie.imdb_id.clone(),
                transition: to,
            });
        }
        Ok(Edit {
            movie: movie.imdb_id.clone(),
            changes: vec![
                LabelChange {
                    transition: from,
                    before: label,
                    after: Label::None,
                },
                LabelChange {
                    transition: to,
                    before: Label::None,
                    after: label,
                },
            ],
        })
    }

    fn one(movie: &Movie, transition: usize, before: Label, after: Label) -> Edit {
        Edit {
            movie: movie.imdb_id.clone(),
            changes: vec![LabelChange {
                transition,
                before,
                after,
            }],
        }
    }

    /// The same edit the other way round.
    pub fn inverse(&self) -> Edit {
        Edit {
            movie: self.movie.clone(),
            changes: self
                .changes
                .iter()
                .rev()
                .map(|c| LabelChange {
                    transition: c.transition,
                    before: c.after,
                    after: c.before,
                })
                .collect(),
        }
    }

    /// Apply to `movies` (found by IMDb id) after checking every change's `before` label;
    /// returns the movie's index. Nothing changes on an error.
    pub fn apply_to(&self, movies: &mut [Movie]) -> Result<usize, EditError> {
        let index = movies
            .iter()
            .position(|m| m.imdb_id == self.movie)
            .ok_or_else(|| EditError::NoMovie(self.movie.clone()))?;
        let movie = &mut movies[index];
        // Changes apply in order, so the second change of a move sees the first applied.
        let mut scratch: Vec<(usize, Label)> = Vec::new();
        for c in &self.changes {
            let found = scratch
                .iter()
                .rev()
                .find(|(t, _)| *t == c.transition)
                .map(|(_, l)| *l)
                .map_or_else(|| checked_label(movie, c.transition), Ok)?;
            if found != c.before {
                return Err(EditError::Stale {
                    movie: self.movie.clone(),
                    transition: c.transition,
                    expected: c.before,
                    found,
                });
            }
            scratch.push((c.transition, c.after));
        }
        for c in &self.changes {
            set_label(movie, c.transition, c.after);
        }
        Ok(index)
    }
}

/// Every edit since the folder was opened, with the ones undone (redone in reverse order;
/// a new edit forgets them, as editors do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditLog {
    done: Vec<Edit>,
    undone: Vec<Edit>,
}

/// One step of an [`EditLog`], as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Apply { edit: Edit },
    Undo,
    Redo,
}

impl EditLog {
    /// Apply `edit` to `movies` and record it; returns the movie's index.
    pub fn apply(&mut self, movies: &mut [Movie], edit: Edit) -> Result<usize, EditError> {
        let index = edit.apply_to(movies)?;
        self.done.push(edit);
        self.undone.clear();
        Ok(index)
    }

    /// Undo the newest edit; returns the movie's index (`None`: nothing to undo).
    pub fn undo(&mut self, movies: &mut [Movie]) -> Result<Option<usize>, EditError> {
        let Some(edit) = self.done.last() else {
            return Ok(None);
        };
        let index = edit.inverse().apply_to(movies)?;
        self.undone.extend(self.done.pop());
        Ok(Some(index))
    }

    /// Redo the newest undone edit; returns the movie's index (`None`: nothing to redo).
    pub fn redo(&mut self, movies: &mut [Movie]) -> Result<Option<usize>, EditError> {
        let Some(edit) = self.undone.last() else {
            return Ok(None);
        };
        let index = edit.apply_to(movies)?;
        self.done.extend(self.undone.pop());
        Ok(Some(index))
    }

    /// Apply one journal step.
    pub fn step(&mut self, movies: &mut [Movie], step: &Step) -> Result<Option<usize>, EditError> {
        match step {
            Step::Apply { edit } => self.apply(movies, edit.clone()).map(Some),
            Step::Undo => self.undo(movies),
            Step::Redo => self.redo(movies),
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }

    /// The edits in effect, oldest first.
    pub fn done(&self) -> &[Edit] {
        &self.done
    }

    /// The IMDb ids of the movies an edit in effect touched.
    pub fn edited_movies(&self) -> BTreeSet<String> {
        self.done.iter().map(|e| e.movie.clone()).collect()
    }

    /// Forget every edit (after saving: the files now hold them).
    pub fn clear(&mut self) {
        self.done.clear();
        self.undone.clear();
    }
}

/// The journal's file name in a folder of movies.
pub const JOURNAL_FILE: &str = ".scenelab-edits.jsonl";

/// An append-only file of [`Step`]s, one JSON object a line, each synced to disk before
/// [`Journal::append`] returns.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
}

/// Why a journal could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot write the edit journal {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the edit journal {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Journal {
    /// The journal of the folder `dir` (not created until the first step).
    pub fn in_folder(dir: &Path) -> Journal {
        Journal {
            path: dir.join(JOURNAL_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `step` and wait for the disk.
    pub fn append(&self, step: &Step) -> Result<(), JournalError> {
        let err = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_string(step).map_err(|e| err(e.into()))?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        f.write_all(line.as_bytes()).map_err(err)?;
        f.sync_data().map_err(err)
    }

    /// The steps recorded, oldest first. A last line cut short by a crash is dropped, as is
    /// any line that does not parse (it can only be the torn end of a write).
    pub fn read(&self) -> Result<Vec<Step>, JournalError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(JournalError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// Remove the journal (its edits were saved or thrown away).
    pub fn clear(&self) -> Result<(), JournalError> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(JournalError::Write {
                path: self.path.clone(),
                source: e,
            }),
            _ => Ok(()),
        }
    }
}

/// Replay `steps` onto `movies`, returning the log they build; stops at the first step that no
/// longer fits the movies (the files changed since), returning that error with the log so far.
pub fn replay(movies: &mut [Movie], steps: &[Step]) -> (EditLog, Option<EditError>) {
    let mut log = EditLog::default();
    for s in steps {
        if let Err(e) = log.step(movies, s) {
            return (log, Some(e));
        }
    }
    (log, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(id: &str, gt: &[u8]) -> Movie {
        Movie {
            imdb_id: id.into(),
            n_shots: gt.len() + 1,
            features: Default::default(),
            ground_truth: Some(gt.iter().map(|&b| b != 0).collect()),
            prediction: None,
            shot_end_frame: None,
            uncertain: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn labels(m: &Movie) -> Vec<Label> {
        (0..m.n_transitions())
            .map(|t| label_of(m, t).unwrap())
            .collect()
    }

    #[test]
    fn set_clear_move_and_uncertain_change_exactly_their_transitions() {
        let mut movies = vec![movie("a", &[0, 1, 0, 0]), movie("b", &[1, 0])];
        let mut log = EditLog::default();
        let e = Edit::toggle(&movies[0], 3).unwrap();
        assert_eq!(log.apply(&mut movies, e), Ok(0));
        assert_eq!(movies[0].ground_truth, Some(vec![false, true, false, true]));
        let e = Edit::move_boundary(&movies[0], 1, 2).unwrap();
        log.apply(&mut movies, e).unwrap();
        assert_eq!(movies[0].ground_truth, Some(vec![false, false, true, true]));
        let e = Edit::toggle_uncertain(&movies[0], 2).unwrap();
        log.apply(&mut movies, e).unwrap();
        assert_eq!(movies[0].uncertain, vec![2]);
        // An uncertain boundary moves as one.
        let e = Edit::move_boundary(&movies[0], 2, 0).unwrap();
        log.apply(&mut movies, e).unwrap();
        assert_eq!(
            labels(&movies[0]),
            [Label::Uncertain, Label::None, Label::None, Label::Boundary]
        );
        // Clearing an uncertain boundary forgets that it was uncertain.
        let e = Edit::toggle(&movies[0], 0).unwrap();
        log.apply(&mut movies, e).unwrap();
        assert!(movies[0].uncertain.is_empty());
        assert_eq!(movies[1].ground_truth, Some(vec![true, false]));
        assert_eq!(log.edited_movies().into_iter().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn undo_and_redo_walk_every_edit_back_and_forth() {
        let start = vec![movie("a", &[0, 1, 0, 0]), movie("b", &[1, 0, 0])];
        let mut movies = start.clone();
        let mut log = EditLog::default();
        let mut states = vec![movies.clone()];
        for (m, make) in [
            (
                0,
                Edit::toggle as fn(&Movie, usize) -> Result<Edit, EditError>,
            ),
            (1, Edit::toggle_uncertain),
            (0, Edit::toggle),
        ] {
            let e = make(&movies[m], 2).unwrap();
            log.apply(&mut movies, e).unwrap();
            states.push(movies.clone());
        }
        let e = Edit::move_boundary(&movies[1], 0, 1).unwrap();
        log.apply(&mut movies, e).unwrap();
        states.push(movies.clone());
        for want in states.iter().rev().skip(1) {
            log.undo(&mut movies).unwrap().unwrap();
            assert_eq!(&movies, want);
        }
        assert_eq!(log.undo(&mut movies), Ok(None));
        assert_eq!(movies, start);
        for want in states.iter().skip(1) {
            log.redo(&mut movies).unwrap().unwrap();
            assert_eq!(&movies, want);
        }
        assert_eq!(log.redo(&mut movies), Ok(None));
        // A new edit after an undo forgets what was undone.
        log.undo(&mut movies).unwrap();
        let e = Edit::toggle(&movies[0], 0).unwrap();
        log.apply(&mut movies, e).unwrap();
        assert!(!log.can_redo());
    }

    #[test]
    fn impossible_edits_are_refused_and_change_nothing() {
        let mut movies = vec![movie("a", &[0, 1, 0])];
        assert!(matches!(
            Edit::toggle(&movies[0], 3),
            Err(EditError::NoTransition { n: 3, .. })
        ));
        assert!(matches!(
            Edit::move_boundary(&movies[0], 0, 2),
            Err(EditError::NotABoundary { .. })
        ));
        let stale = Edit::toggle(&movies[0], 0).unwrap();
        let mut log = EditLog::default();
        log.apply(&mut movies, stale.clone()).unwrap();
        let before = movies.clone();
        assert!(matches!(
            stale.apply_to(&mut movies),
            Err(EditError::Stale { .. })
        ));
        assert_eq!(movies, before);
        let mut no_gt = movie("c", &[0]);
        no_gt.ground_truth = None;
        assert!(matches!(
            Edit::toggle(&no_gt, 0),
            Err(EditError::NoGroundTruth(_))
        ));
    }

    #[test]
    fn a_journal_replays_to_the_same_labels_and_drops_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::in_folder(dir.path());
        let start = vec![movie("a", &[0, 1, 0, 0])];
        let mut movies = start.clone();
        let mut log = EditLog::default();
        let e = Edit::toggle(&movies[0], 0).unwrap();
        log.apply(&mut movies, e.clone()).unwrap();
        journal.append(&Step::Apply { edit: e }).unwrap();
        let e = Edit::move_boundary(&movies[0], 1, 3).unwrap();
        log.apply(&mut movies, e.clone()).unwrap();
        journal.append(&Step::Apply { edit: e }).unwrap();
        log.undo(&mut movies).unwrap();
        journal.append(&Step::Undo).unwrap();
        // A crash in the middle of a write.
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap()
            .write_all(b"{\"step\":\"red")
            .unwrap();

        let steps = journal.read().unwrap();
        assert_eq!(steps.len(), 3);
        let mut replayed = start.clone();
        let (replayed_log, error) = replay(&mut replayed, &steps);
        assert_eq!(error, None);
        assert_eq!(replayed, movies);
        assert_eq!(replayed_log, log);

        // Replayed onto other labels, the journal stops where it no longer fits.
        let mut other = vec![movie("a", &[1, 1, 0, 0])];
        let (_, error) = replay(&mut other, &steps);
        assert!(matches!(
            error,
            Some(EditError::Stale { transition: 0, .. })
        ));

        journal.clear().unwrap();
        assert!(journal.read().unwrap().is_empty());
        journal.clear().unwrap();
    }
}
