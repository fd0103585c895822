//! `scenelab convert`: a MovieNet folder to the challenge's pkl files, or pkl files to
//! MovieNet's layout ([`crate::data::movienet`]). The direction follows the source: a folder
//! with MovieNet's `label*/` or `shot_movie*/` folders becomes pkl files, any other folder's
//! `*.pkl` files become MovieNet's layout.
//!
//! What carries over: ground truth (with uncertain labels: -1 in a label file,
//! [`crate::data::FIELD_UNCERTAIN`] in a pkl file), shot end frames, the four modalities and
//! the split file (`meta/split*.json`, copied byte for byte). What cannot: a pkl file's
//! prediction (MovieNet's layout has no place for one; reported), MovieNet's keyframe columns
//! (the pkl files hold none; the written shot files give the start, middle and end frames),
//! and which per-shot feature files were missing (their zero rows are written as files).
//! Every file is written under a temporary name and renamed into place.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::data::movienet::{self, Layout, MovieNetFiles};
use crate::data::{Dataset, Movie, load_movie_file};
use crate::observer::Observer;
use crate::workflow::export::{ExportError, prepare_output};

/// Which way a conversion goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    MovieNetToPkl,
    PklToMovieNet,
}

/// Something a conversion reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum ConvertEvent {
    /// A movie could not be read or written; the others go on.
    Failed { movie: String, message: String },
    /// A movie was written with a caveat (a short label file, a prediction left behind).
    Note { movie: String, note: String },
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertSummary {
    pub direction: Direction,
    /// Movies written.
    pub written: usize,
    /// Movies that failed (each reported as [`ConvertEvent::Failed`]).
    pub failed: usize,
    /// Where the split file was written, if the source had one (or one was given).
    pub split: Option<PathBuf>,
}

/// Why a conversion cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Output(#[from] ExportError),
    #[error(
        "{} holds neither MovieNet's layout (label*/ or shot_movie*/ folders) nor *.pkl movie files",
        path.display()
    )]
    NoMovies { path: PathBuf },
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("cannot write the split file {}: {source}", path.display())]
    Split {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} already holds {found}: converted movies written there would be mixed with them \
         (and a shorter movie's per-shot files left behind). Pick an empty or new folder for \
         OUT, or delete those movies first.",
        path.display()
    )]
    OutputHoldsMovies {
        path: PathBuf,
        found: crate::data::demo::ExistingMovies,
    },
}

/// Convert the movies of `src` into `out` (created; not `src` itself), the way `src`'s layout
/// says ([`Direction`]). `split_file`: a split file to write instead of `src`'s own
/// `meta/split*.json`. `observer` gets `progress(movies done, movies, imdb id)` and a
/// [`ConvertEvent`] for each failure and caveat; movies are converted in parallel. A movie
/// that fails does not stop the others.
pub fn convert(
    src: &Path,
    out: &Path,
    split_file: Option<&Path>,
    observer: &dyn Observer<ConvertEvent>,
) -> Result<ConvertSummary, ConvertError> {
    let layout = Layout::detect(src);
    let (direction, jobs): (Direction, Vec<Job>) = match &layout {
        Some(layout) => (
            Direction::MovieNetToPkl,
            layout.ids().into_iter().map(Job::MovieNet).collect(),
        ),
        None => (
            Direction::PklToMovieNet,
            Dataset::movie_files(src)?
                .into_iter()
                .map(Job::Pkl)
                .collect(),
        ),
    };
    if jobs.is_empty() {
        return Err(ConvertError::NoMovies {
            path: src.to_path_buf(),
        });
    }
    prepare_output(src, out)?;
    if let Some(found) = crate::data::demo::existing_movies(out) {
        return Err(ConvertError::OutputHoldsMovies {
            path: out.to_path_buf(),
            found,
        });
    }
    let done = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    // Serialises the observer's calls so progress is seen increasing.
    let report = Mutex::new(());
    jobs.par_iter().for_each(|job| {
        let name = job.name();
        let result = job.run(layout.as_ref(), out);
        let _guard = report.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(notes) => {
                for note in notes {
                    observer.event(ConvertEvent::Note {
                        movie: name.clone(),
                        note,
                    });
                }
            }
            Err(message) => {
                failed.fetch_add(1, Ordering::SeqCst);
                observer.event(ConvertEvent::Failed {
                    movie: name.clone(),
                    message,
                });
            }
        }
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        observer.progress(n, jobs.len(), &name);
    });
    let split = copy_split(src, out, split_file)?;
    let failed = failed.into_inner();
    Ok(ConvertSummary {
        direction,
        written: jobs.len() - failed,
        failed,
        split,
    })
}

/// One movie to convert.
enum Job {
    MovieNet(String),
    Pkl(PathBuf),
}

impl Job {
    fn name(&self) -> String {
        match self {
            Job::MovieNet(id) => id.clone(),
            Job::Pkl(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
        }
    }

    /// Read the movie and write it in the other layout; its caveats, or why it failed.
    fn run(&self, layout: Option<&Layout>, out: &Path) -> Result<Vec<String>, String> {
        match (self, layout) {
            (Job::MovieNet(id), Some(layout)) => {
                let movie = movienet::load_movie(layout, id)?;
                let target = out.join(format!("{id}.pkl"));
                crate::pickle::write_record_file(&target, &movie.to_record())
                    .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
                Ok(caveats(&movie))
            }
            (Job::Pkl(path), _) => {
                let movie = load_movie_file(path)?;
                movienet::write_movie(out, &movie).map_err(|e| format!("{e:#}"))?;
                let mut notes = caveats(&movie);
                if movie.prediction.is_some() {
                    notes.push(
                        "its prediction is not written: MovieNet's layout has no place for one"
                            .into(),
                    );
                }
                Ok(notes)
            }
            (Job::MovieNet(id), None) => Err(format!("'{id}' has no MovieNet layout")),
        }
    }
}

/// A movie's notes and the fields it left out, as caveats of its conversion.
fn caveats(movie: &Movie) -> Vec<String> {
    movie
        .notes
        .iter()
        .cloned()
        .chain(movie.issues.iter().map(|i| format!("not converted: {i}")))
        .collect()
}

/// Copy the split file (`split_file`, else `src`'s `meta/split*.json`) into `out`: under its
/// own name in `meta/`, or as MovieNet's `meta/split318.json` for a given file.
fn copy_split(
    src: &Path,
    out: &Path,
    split_file: Option<&Path>,
) -> Result<Option<PathBuf>, ConvertError> {
    let Some(from) = split_file
        .map(Path::to_path_buf)
        .or_else(|| movienet::find_split_file(src))
    else {
        return Ok(None);
    };
    let target = match (split_file, from.file_name()) {
        (None, Some(name)) => out.join("meta").join(name),
        _ => out.join(MovieNetFiles::SPLIT),
    };
    let fail = |source| ConvertError::Split {
        path: target.clone(),
        source,
    };
    let bytes = std::fs::read(&from).map_err(|source| ConvertError::Split {
        path: from.clone(),
        source,
    })?;
    std::fs::create_dir_all(crate::files::parent_dir(&target)).map_err(fail)?;
    crate::files::write_atomic(&target, &bytes).map_err(fail)?;
    Ok(Some(target))
}
