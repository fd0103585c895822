//! A model's errors, to walk through one by one: every false boundary (a predicted boundary
//! the labels do not have), highest score first, then every missed boundary (a labelled one
//! not predicted), lowest score first, so the most confident mistakes come first. Each entry
//! can carry a reviewer's tag; tags are kept as a review log (JSON and CSV) beside the data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What kind of error an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Predicted, not labelled.
    False,
    /// Labelled, not predicted.
    Missed,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::False => "false",
            ErrorKind::Missed => "missed",
        }
    }
}

/// One error of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewEntry {
    /// Index of the movie in the list the queue was built from.
    pub movie_index: usize,
    pub movie: String,
    pub transition: usize,
    pub score: f64,
    pub kind: ErrorKind,
}

/// One movie as the queue needs it: labels, scores and the predicted boundaries (one flag per
/// transition each).
pub struct MovieErrors<'a> {
    pub movie_index: usize,
    pub movie: &'a str,
    pub ground_truth: &'a [bool],
    pub scores: &'a [f64],
    pub predicted: &'a [bool],
}

/// The queue over `movies`: false boundaries by descending score, then missed boundaries by
/// ascending score (ties in movie, then transition order).
pub fn review_queue<'a>(movies: impl IntoIterator<Item = MovieErrors<'a>>) -> Vec<ReviewEntry> {
    let mut false_ones = Vec::new();
    let mut missed = Vec::new();
    for m in movies {
        let n = m
            .ground_truth
            .len()
            .min(m.scores.len())
            .min(m.predicted.len());
        for t in 0..n {
            let kind = match (m.ground_truth[t], m.predicted[t]) {
                (false, true) => ErrorKind::False,
                (true, false) => ErrorKind::Missed,
                _ => continue,
            };
            let entry = ReviewEntry {
                movie_index: m.movie_index,
                movie: m.movie.to_owned(),
                transition: t,
                score: m.scores[t],
                kind,
            };
            match kind {
                ErrorKind::False => false_ones.push(entry),
                ErrorKind::Missed => missed.push(entry),
            }
        }
    }
    false_ones.sort_by(|a, b| b.score.total_cmp(&a.score));
    missed.sort_by(|a, b| a.score.total_cmp(&b.score));
    false_ones.extend(missed);
    false_ones
}

/// A reviewer's verdict on an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    LabelWrong,
    ModelWrong,
    Unsure,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::LabelWrong, Verdict::ModelWrong, Verdict::Unsure];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::LabelWrong => "label wrong",
            Verdict::ModelWrong => "model wrong",
            Verdict::Unsure => "unsure",
        }
    }
}

/// A tag: a verdict, a free note, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub verdict: Option<Verdict>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Tag {
    pub fn is_empty(&self) -> bool {
        self.verdict.is_none() && self.note.is_empty()
    }

    /// As the table shows it: `label wrong: note`.
    pub fn text(&self) -> String {
        match (self.verdict, self.note.is_empty()) {
            (Some(v), true) => v.name().into(),
            (Some(v), false) => format!("{}: {}", v.name(), self.note),
            (None, _) => self.note.clone(),
        }
    }
}

/// Tags by (movie, transition), saved as `scenelab-review.json` and `scenelab-review.csv`
/// in the data folder.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewLog {
    pub tags: BTreeMap<(String, usize), Tag>,
}

/// One row of the review log's files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Row {
    movie: String,
    transition: usize,
    #[serde(flatten)]
    tag: Tag,
}

pub const REVIEW_JSON: &str = "scenelab-review.json";
pub const REVIEW_CSV: &str = "scenelab-review.csv";

impl ReviewLog {
    pub fn get(&self, movie: &str, transition: usize) -> Option<&Tag> {
        self.tags.get(&(movie.to_owned(), transition))
    }

    /// Set (or, with an empty tag, remove) the tag of a transition.
    pub fn set(&mut self, movie: &str, transition: usize, tag: Tag) {
        let key = (movie.to_owned(), transition);
        if tag.is_empty() {
            self.tags.remove(&key);
        } else {
            self.tags.insert(key, tag);
        }
    }

    /// The log of the folder `dir` (empty when it has none).
    ///
    /// Errors: the JSON file exists but cannot be read or parsed (named in the message).
    pub fn load(dir: &Path) -> anyhow::Result<ReviewLog> {
        let path = dir.join(REVIEW_JSON);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ReviewLog::default()),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        let rows: Vec<Row> = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a review log: {e}", path.display()))?;
        Ok(ReviewLog {
            tags: rows
                .into_iter()
                .map(|r| ((r.movie, r.transition), r.tag))
                .collect(),
        })
    }

    /// Write both files into `dir`, each whole or not at all; returns their paths.
    pub fn save(&self, dir: &Path) -> anyhow::Result<[PathBuf; 2]> {
        let rows: Vec<Row> = self
            .tags
            .iter()
            .map(|((movie, transition), tag)| Row {
                movie: movie.clone(),
                transition: *transition,
                tag: tag.clone(),
            })
            .collect();
        let json = dir.join(REVIEW_JSON);
        crate::files::write_atomic(&json, serde_json::to_string_pretty(&rows)?.as_bytes())?;
        let mut csv = String::from("movie,transition,verdict,note\n");
        for r in &rows {
            csv.push_str(&format!(
                "{},{},{},{}\n",
                csv_field(&r.movie),
                r.transition,
                r.tag.verdict.map_or("", Verdict::name),
                csv_field(&r.tag.note)
            ));
        }
        let csv_path = dir.join(REVIEW_CSV);
        crate::files::write_atomic(&csv_path, csv.as_bytes())?;
        Ok([json, csv_path])
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn false_boundaries_come_first_by_score_then_missed_ones_lowest_first() {
        let gt = [false, true, false, true, true];
        let scores = [0.9, 0.2, 0.6, 0.05, 0.8];
        let predicted: Vec<bool> = scores.iter().map(|&s| s >= 0.5).collect();
        let q = review_queue([MovieErrors {
            movie_index: 0,
            movie: "a",
            ground_truth: &gt,
            scores: &scores,
            predicted: &predicted,
        }]);
        let got: Vec<(usize, ErrorKind)> = q.iter().map(|e| (e.transition, e.kind)).collect();
        assert_eq!(
            got,
            [
                (0, ErrorKind::False),
                (2, ErrorKind::False),
                (3, ErrorKind::Missed),
                (1, ErrorKind::Missed)
            ]
        );
    }

    #[test]
    fn a_review_log_round_trips_and_writes_csv() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = ReviewLog::default();
        log.set(
            "tt1",
            4,
            Tag {
                verdict: Some(Verdict::LabelWrong),
                note: "cut, \"fade\"".into(),
            },
        );
        log.set(
            "tt2",
            0,
            Tag {
                verdict: None,
                note: "check".into(),
            },
        );
        log.set("tt2", 1, Tag::default());
        log.save(dir.path()).unwrap();
        assert_eq!(ReviewLog::load(dir.path()).unwrap(), log);
        let csv = std::fs::read_to_string(dir.path().join(REVIEW_CSV)).unwrap();
        assert_eq!(
            csv,
            "movie,transition,verdict,note\ntt1,4,label wrong,\"cut, \"\"fade\"\"\"\ntt2,0,,check\n"
        );
        assert_eq!(
            ReviewLog::load(&dir.path().join("none")).unwrap(),
            ReviewLog::default()
        );
    }
}
