//! Write each movie's scenes as a scene-list file (`<imdb>.csv`, `.json` or `.edl`, see
//! [`crate::export`]): `scenelab export` and the app's Export scenes.
//!
//! The scenes come from boundaries: the ground truth, or scores through the decision step,
//! so a file holds the scenes the metrics were computed on: [`threshold_boundaries`] cuts
//! where `scenelab evaluate` counts a predicted boundary, [`decided_boundaries`] where
//! `scenelab evaluate` does on what `scenelab predict` writes with that decision.

use std::path::{Path, PathBuf};

use crate::data::{FIELD_GROUND_TRUTH, FIELD_PREDICTION, FIELD_SHOT_END_FRAME, Movie, ScoreSlice};
use crate::export::{self, Format, FrameRate, RateError};
use crate::observer::Observer;
use crate::train::decision::Decision;

/// Boundaries where `score >= threshold`, compared at the scores' precision as numpy compares
/// (what `scenelab evaluate --threshold` counts as predicted boundaries).
pub fn threshold_boundaries(scores: ScoreSlice<'_>, threshold: f64) -> Vec<bool> {
    let t = scores.precision().threshold(threshold);
    (0..scores.len()).map(|i| scores.get(i) >= t).collect()
}

/// Boundaries of `decision` on `scores`: [`Decision::boundaries`] (on the scores as f32, as
/// [`Decision::apply`] reads them), except that the reference's rule compares at the scores'
/// own precision, as `evaluate` does on scores `predict` leaves unchanged.
pub fn decided_boundaries(scores: ScoreSlice<'_>, decision: &Decision) -> Vec<bool> {
    if decision.is_reference() {
        threshold_boundaries(scores, 0.5)
    } else {
        decision.boundaries(&scores.as_f32())
    }
}

/// The file's ground truth as boundaries. Errors: the movie has none (or an unusable one).
pub fn ground_truth_boundaries(movie: &Movie) -> Result<Vec<bool>, String> {
    movie
        .ground_truth
        .clone()
        .ok_or_else(|| missing(movie, FIELD_GROUND_TRUTH))
}

/// The file's own prediction through `threshold` (see [`threshold_boundaries`]).
pub fn prediction_boundaries(movie: &Movie, threshold: f64) -> Result<Vec<bool>, String> {
    let p = movie
        .prediction
        .as_ref()
        .ok_or_else(|| missing(movie, FIELD_PREDICTION))?;
    Ok(threshold_boundaries(p.as_slice(), threshold))
}

/// "no field 'x'", or the reason a field that is there could not be used.
pub fn missing(movie: &Movie, field: &str) -> String {
    match movie.issue(field) {
        Some(issue) => issue.to_string(),
        None => format!("no field '{field}'"),
    }
}

/// A movie's boundaries, or why it has none.
pub type BoundariesOf<'a> = dyn Fn(&Movie) -> Result<Vec<bool>, String> + Sync + 'a;

/// What to write: the format, and the frame rate that turns frames into times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SceneExport {
    pub format: Format,
    pub rate: FrameRate,
}

/// Why scene lists cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SceneExportError {
    #[error(transparent)]
    Rate(#[from] RateError),
    #[error("cannot create {}: {source}", out.display())]
    CreateFolder {
        out: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A movie left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedMovie {
    pub imdb_id: String,
    pub reason: String,
}

/// What [`write_scene_lists`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SceneExportSummary {
    /// Files written, in movie order.
    pub written: Vec<PathBuf>,
    /// Scenes in them.
    pub scenes: usize,
    /// Movies without boundaries or usable end frames (each also an observer event).
    pub skipped: Vec<SkippedMovie>,
}

/// Write `<imdb>.<ext>` for each of `movies` into `out` (created if needed; each file written
/// whole or not at all, [`crate::files::write_atomic`]), its scenes from `boundaries` and its
/// `shot_end_frame`. A movie that has no boundaries or end frames, or whose lengths disagree,
/// is skipped and reported (`observer.event`); `observer.progress` counts movies. Errors: an
/// EDL at a rate without a timecode base (before anything is written), the folder cannot be
/// created, a file cannot be written.
pub fn write_scene_lists(
    movies: &[Movie],
    boundaries: &BoundariesOf<'_>,
    request: SceneExport,
    out: &Path,
    observer: &dyn Observer<SkippedMovie>,
) -> Result<SceneExportSummary, SceneExportError> {
    if request.format == Format::Edl {
        request.rate.timecode_base()?;
    }
    std::fs::create_dir_all(out).map_err(|source| SceneExportError::CreateFolder {
        out: out.to_path_buf(),
        source,
    })?;
    let mut summary = SceneExportSummary::default();
    for (i, movie) in movies.iter().enumerate() {
        observer.progress(i, movies.len(), &movie.imdb_id);
        let scenes = file_stem(&movie.imdb_id)
            .and_then(|()| boundaries(movie))
            .and_then(|b| {
                let ends = movie
                    .shot_end_frame
                    .as_deref()
                    .ok_or_else(|| missing(movie, FIELD_SHOT_END_FRAME))?;
                export::scenes(&b, ends).map_err(|e| e.to_string())
            });
        let scenes = match scenes {
            Ok(s) => s,
            Err(reason) => {
                let skipped = SkippedMovie {
                    imdb_id: movie.imdb_id.clone(),
                    reason,
                };
                observer.event(skipped.clone());
                summary.skipped.push(skipped);
                continue;
            }
        };
        let bytes = request
            .format
            .write(&movie.imdb_id, &scenes, request.rate)?;
        let path = out.join(format!("{}.{}", movie.imdb_id, request.format.extension()));
        crate::files::write_atomic(&path, &bytes).map_err(|source| SceneExportError::Write {
            path: path.clone(),
            source,
        })?;
        summary.scenes += scenes.len();
        summary.written.push(path);
    }
    observer.progress(movies.len(), movies.len(), "");
    Ok(summary)
}

/// Whether `imdb_id` can name a file in the output folder (no separator, not `.` or `..`).
fn file_stem(imdb_id: &str) -> Result<(), String> {
    let bad = imdb_id.is_empty()
        || imdb_id == "."
        || imdb_id == ".."
        || imdb_id.contains(['/', '\\', '\0']);
    if bad {
        Err(format!("imdb id '{imdb_id}' cannot name a file"))
    } else {
        Ok(())
    }
}
