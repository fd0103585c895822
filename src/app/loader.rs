//! A folder of movies as the app holds it: the decoded movies (shared, never copied) and
//! the files that could not be read, each with its error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::demo::{self, DemoConfig};
use crate::data::subtitles::SubtitleSet;
use crate::data::{DataError, Dataset, FeaturePrecision, LoadProgress, Movie, Split};

/// A file of the folder that is not a usable movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFile {
    pub path: PathBuf,
    pub error: String,
}

impl BadFile {
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// The movies of one folder.
#[derive(Debug, Clone)]
pub struct LoadedFolder {
    pub dir: PathBuf,
    pub movies: Arc<Vec<Movie>>,
    pub bad: Vec<BadFile>,
    /// The folder's split file and its parts (Train then trains on its train movies).
    pub split: Option<(PathBuf, Split)>,
    /// Whether the movies came from MovieNet's layout rather than `*.pkl` files.
    pub movienet: bool,
    /// Subtitles found for the movies (in `subtitle/` of the folder, or a folder the user
    /// chose).
    pub subtitles: Arc<SubtitleSet>,
}

impl LoadedFolder {
    pub fn new(dir: PathBuf, movies: Vec<Movie>, bad: Vec<BadFile>) -> Self {
        LoadedFolder {
            dir,
            movies: Arc::new(movies),
            bad,
            split: None,
            movienet: false,
            subtitles: Arc::default(),
        }
    }

    /// Whether the features are held in f16 ([`FeaturePrecision::F16`]).
    pub fn half_features(&self) -> bool {
        self.movies
            .iter()
            .flat_map(|m| m.features.iter().flatten())
            .any(|f| f.precision() == FeaturePrecision::F16)
    }

    /// Bytes held by the decoded tensors of every movie.
    pub fn tensor_bytes(&self) -> usize {
        self.movies.iter().map(Movie::tensor_bytes).sum()
    }
}

impl From<Dataset> for LoadedFolder {
    fn from(d: Dataset) -> Self {
        let bad = d
            .failures
            .into_iter()
            .map(|f| BadFile {
                path: f.path,
                error: f.error,
            })
            .collect();
        let mut folder = LoadedFolder::new(d.root.unwrap_or_default(), d.movies, bad);
        folder.split = d.split;
        folder.movienet = d.movienet.is_some();
        folder
    }
}

/// Read every movie of `dir` (in parallel; `*.pkl` files or MovieNet's layout), holding the
/// features at `precision`, calling `progress(done, total, file)`.
pub fn load_folder(
    dir: &Path,
    precision: FeaturePrecision,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> Result<LoadedFolder, DataError> {
    let report = |p: &LoadProgress| {
        let name = p
            .last_file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        progress(p.done, p.total, &name);
    };
    let mut folder = LoadedFolder::from(Dataset::load_dir_at(dir, precision, &report)?);
    folder.dir = dir.to_path_buf();
    folder.subtitles = Arc::new(load_subtitles(dir, &folder.movies));
    Ok(folder)
}

/// The subtitles of `movies` in `dir` (`<imdb>.srt`, or `subtitle/<imdb>.srt` as MovieNet
/// lays them out).
pub fn load_subtitles(dir: &Path, movies: &[Movie]) -> SubtitleSet {
    let ids: Vec<&str> = movies.iter().map(|m| m.imdb_id.as_str()).collect();
    SubtitleSet::load(dir, &ids)
}

/// Whether `dir` holds movies: a `*.pkl` file or MovieNet's layout.
pub fn has_movie_files(dir: &Path) -> bool {
    Dataset::is_movie_folder(dir)
}

/// Write the demo movies of `config` into `dir`, calling `progress(done, total)`.
/// Returns how many were written.
pub fn write_demo(
    dir: &Path,
    config: &DemoConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<usize> {
    Ok(demo::write_demo(dir, config, progress)?.len())
}
