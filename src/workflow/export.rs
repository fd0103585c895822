//! Write a folder's movie files with their predictions: each file copied with every field
//! kept and `scene_transition_boundary_prediction` replaced. `scenelab predict` writes a
//! model's scores this way, the app's Export predictions a source's. Movies that came from
//! MovieNet's layout (no pkl file to copy) are written as the challenge's pkl files
//! ([`write_movie_predictions`]).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::data::{FIELD_PREDICTION, Movie};
use crate::observer::Observer;
use crate::pickle::{ArrayData, Field, NdArray, Record};

/// `record` with its prediction field replaced by `scores`, one per transition, in their
/// own dtype (appended if it had none).
pub fn with_prediction(mut record: Record, scores: ArrayData) -> Record {
    let field = Field::Array(NdArray {
        shape: vec![scores.len()],
        data: scores,
    });
    match record.iter_mut().find(|(k, _)| k == FIELD_PREDICTION) {
        Some((_, v)) => *v = field,
        None => record.push((FIELD_PREDICTION.into(), field)),
    }
    record
}

/// Whether `a` and `b` are the same existing folder (false when either cannot be resolved).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Why predictions cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output folder is the source folder: the originals would be overwritten.
    #[error("the output folder {out} is the folder the movies came from")]
    SameFolder { out: PathBuf },
    #[error("cannot create {}: {source}", out.display())]
    CreateFolder {
        out: PathBuf,
        source: std::io::Error,
    },
    /// A file could not be read, scored or written (when stopping at the first failure).
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

/// What happened to a file while writing, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportEvent {
    /// A movie could not be read, scored or written; the others go on. `movie` names it: the
    /// source file's name, or the imdb id of a movie loaded from MovieNet's layout (the
    /// output file is named in `message` when writing it failed).
    Failed { movie: String, message: String },
}

/// What [`write_predictions`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportSummary {
    /// Files written.
    pub written: usize,
    /// The imdb ids of the movies the scorer had no scores for (not written).
    pub without_scores: Vec<String>,
    /// Files that failed (each reported as [`ExportEvent::Failed`]).
    pub failed: usize,
}

/// Check that `out` is not `source_dir` ([`ExportError::SameFolder`]) and create it.
pub fn prepare_output(source_dir: &Path, out: &Path) -> Result<(), ExportError> {
    if same_folder(source_dir, out) {
        return Err(ExportError::SameFolder {
            out: out.to_path_buf(),
        });
    }
    std::fs::create_dir_all(out).map_err(|source| ExportError::CreateFolder {
        out: out.to_path_buf(),
        source,
    })
}

/// Scores of one movie to write: `None` when there are none for it.
pub type Scorer<'a> = dyn Fn(&Movie) -> anyhow::Result<Option<ArrayData>> + Sync + 'a;

/// Write each of `files` (for example [`crate::data::Dataset::movie_files`] of a folder) into the folder `out` (see [`prepare_output`]) under its own name,
/// with every field kept and the prediction replaced by what `score` gives for its movie.
/// `observer` gets `progress(files done, files, file name)` before each file. A file that
/// cannot be read, scored or written stops the run with [`ExportError::File`] when
/// `stop_at_first_failure`, else it is reported as [`ExportEvent::Failed`] and counted.
pub fn write_predictions(
    files: &[PathBuf],
    out: &Path,
    score: &Scorer<'_>,
    stop_at_first_failure: bool,
    observer: &dyn Observer<ExportEvent>,
) -> Result<ExportSummary, ExportError> {
    let mut summary = ExportSummary::default();
    for (i, f) in files.iter().enumerate() {
        let name = f
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        observer.progress(i, files.len(), &name);
        match write_one(f, out, score) {
            Ok(()) => summary.written += 1,
            Err(WriteFailure::NoScores(id)) => summary.without_scores.push(id),
            Err(WriteFailure::Failed(e)) if stop_at_first_failure => {
                return Err(ExportError::File {
                    path: f.clone(),
                    message: format!("{e:#}"),
                });
            }
            Err(WriteFailure::Failed(e)) => {
                summary.failed += 1;
                observer.event(ExportEvent::Failed {
                    movie: name,
                    message: format!("{e:#}"),
                });
            }
        }
    }
    observer.progress(files.len(), files.len(), "");
    Ok(summary)
}

/// Write each of `movies` (loaded from a folder without pkl files: MovieNet's layout) into
/// `out` as `<imdb_id>.pkl`, the challenge's record ([`Movie::to_record`]) with the prediction
/// `score` gives. Progress, failures and the summary as [`write_predictions`].
pub fn write_movie_predictions(
    movies: &[Movie],
    out: &Path,
    score: &Scorer<'_>,
    stop_at_first_failure: bool,
    observer: &dyn Observer<ExportEvent>,
) -> Result<ExportSummary, ExportError> {
    let mut summary = ExportSummary::default();
    for (i, movie) in movies.iter().enumerate() {
        let target = out.join(format!("{}.pkl", movie.imdb_id));
        observer.progress(i, movies.len(), &movie.imdb_id);
        let written = score(movie).and_then(|scores| {
            let Some(scores) = scores else {
                return Ok(false);
            };
            crate::pickle::write_record_file(&target, &with_prediction(movie.to_record(), scores))
                .with_context(|| format!("cannot write {}", target.display()))?;
            Ok(true)
        });
        match written {
            Ok(true) => summary.written += 1,
            Ok(false) => summary.without_scores.push(movie.imdb_id.clone()),
            Err(e) if stop_at_first_failure => {
                return Err(ExportError::File {
                    path: target,
                    message: format!("{e:#}"),
                });
            }
            Err(e) => {
                summary.failed += 1;
                observer.event(ExportEvent::Failed {
                    movie: movie.imdb_id.clone(),
                    message: format!("{e:#}"),
                });
            }
        }
    }
    observer.progress(movies.len(), movies.len(), "");
    Ok(summary)
}

enum WriteFailure {
    NoScores(String),
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for WriteFailure {
    fn from(e: anyhow::Error) -> Self {
        WriteFailure::Failed(e)
    }
}

fn write_one(file: &Path, out: &Path, score: &Scorer<'_>) -> Result<(), WriteFailure> {
    let name = file.file_name().context("a movie file has no name")?;
    let record = crate::pickle::read_record_file(file).context("cannot read it")?;
    let movie = Movie::from_record(record.clone()).context("cannot read it")?;
    let Some(scores) = score(&movie)? else {
        return Err(WriteFailure::NoScores(movie.imdb_id));
    };
    let target = out.join(name);
    crate::pickle::write_record_file(&target, &with_prediction(record, scores))
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}
