//! A folder of movies, loaded in parallel; one bad file is reported, not fatal. A folder is
//! either `*.pkl` movie files (the challenge's layout) or MovieNet's own layout
//! ([`super::movienet`]); either may carry a split file (`meta/split*.json`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rayon::prelude::*;

use super::movienet::{self, Layout};
use super::{FeaturePrecision, Movie, Split};
use crate::pickle;

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadFailure {
    pub path: PathBuf,
    pub error: String,
}

/// Progress of a folder load, reported after each file.
#[derive(Debug, Clone)]
pub struct LoadProgress {
    pub done: usize,
    pub total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub last_file: PathBuf,
}

/// Movies of one folder, sorted by imdb id, and the files that failed.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub root: Option<PathBuf>,
    pub movies: Vec<Movie>,
    pub failures: Vec<LoadFailure>,
    /// The folder's split file (`meta/split*.json`) and its train / val / test, when it has
    /// one that reads (one that does not is listed in `failures`).
    pub split: Option<(PathBuf, Split)>,
    /// The MovieNet layout the movies came from (`None`: `*.pkl` files).
    pub movienet: Option<Layout>,
}

/// Why a folder could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    // The reason is in the message and not a `source`, so that a chain printed whole
    // (`{:#}`) says it once.
    #[error("cannot read folder {path}: {error}")]
    Folder {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The folder has no movie file; demo movies can be made there.
    #[error(
        "{} holds no *.pkl movie files and no MovieNet label*/ or shot_movie*/ folder",
        path.display()
    )]
    NoMovies { path: PathBuf },
}

/// Load one movie file: decode the pickle, then check the fields agree.
pub fn load_movie_file(path: &Path) -> Result<Movie, String> {
    let record = pickle::read_record_file(path).map_err(|e| e.to_string())?;
    Movie::from_record(record).map_err(|e| e.to_string())
}

/// The `*.pkl` files [`Dataset::load_dir`] loads from `dir`: [`DataError::NoMovies`] when none.
fn pkl_files_to_load(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let files = Dataset::movie_files(dir)?;
    if files.is_empty() {
        return Err(DataError::NoMovies {
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// The movies of a MovieNet layout: [`DataError::NoMovies`] when none.
fn movienet_ids(layout: &Layout) -> Result<Vec<String>, DataError> {
    let ids = layout.ids();
    if ids.is_empty() {
        return Err(DataError::NoMovies {
            path: layout.root.clone(),
        });
    }
    Ok(ids)
}

/// `movie` with its features held at `precision`.
fn at_precision(mut movie: Movie, precision: FeaturePrecision) -> Movie {
    movie.set_feature_precision(precision);
    movie
}

impl Dataset {
    /// Every `*.pkl` directly in `dir`, sorted by name.
    pub fn movie_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
        let folder_err = |error| DataError::Folder {
            path: dir.to_path_buf(),
            error,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(folder_err)? {
            let path = entry.map_err(folder_err)?.path();
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pkl"))
                && path.is_file()
            {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// Check, without reading a movie, that [`Dataset::load_dir`] finds movies in `dir`, so that
    /// a command can refuse a wrong folder before it starts other work. Errors: those of
    /// `load_dir` for the folder itself ([`DataError::Folder`], [`DataError::NoMovies`]).
    pub fn check_dir(dir: &Path) -> Result<(), DataError> {
        match Layout::detect(dir) {
            Some(layout) => movienet_ids(&layout).map(drop),
            None => pkl_files_to_load(dir).map(drop),
        }
    }

    /// Whether `dir` holds movies: a `*.pkl` file or a MovieNet layout.
    pub fn is_movie_folder(dir: &Path) -> bool {
        Layout::detect(dir).is_some()
            || std::fs::read_dir(dir).is_ok_and(|rd| {
                rd.filter_map(Result::ok).any(|e| {
                    e.path()
                        .extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("pkl"))
                })
            })
    }

    /// Load the movies of `dir` in parallel: every `*.pkl` in it or, when it has MovieNet's
    /// layout, every movie of that ([`movienet`]), with its split file if it has one.
    /// `progress` is called after each movie (from worker threads). A file or movie that fails
    /// is listed in `failures`; the others still load.
    pub fn load_dir(
        dir: &Path,
        progress: &(dyn Fn(&LoadProgress) + Sync),
    ) -> Result<Dataset, DataError> {
        Self::load_dir_at(dir, FeaturePrecision::F32, progress)
    }

    /// [`Dataset::load_dir`] holding the features at `precision`: each movie is converted by
    /// the worker that read it, so an f32 copy of at most one movie per thread exists at a
    /// time and the set's features take `precision.size()` bytes per value.
    pub fn load_dir_at(
        dir: &Path,
        precision: FeaturePrecision,
        progress: &(dyn Fn(&LoadProgress) + Sync),
    ) -> Result<Dataset, DataError> {
        let mut data = match Layout::detect(dir) {
            Some(layout) => Self::load_movienet(layout, precision, progress)?,
            None => Self::load_pkl_dir(dir, precision, progress)?,
        };
        if let Some(path) = movienet::find_split_file(dir) {
            match Split::read_file(&path) {
                Ok(split) => data.split = Some((path, split)),
                Err(e) => data.failures.push(LoadFailure {
                    path,
                    error: e.to_string(),
                }),
            }
        }
        Ok(data)
    }

    /// Every movie of a MovieNet layout, in parallel.
    fn load_movienet(
        layout: Layout,
        precision: FeaturePrecision,
        progress: &(dyn Fn(&LoadProgress) + Sync),
    ) -> Result<Dataset, DataError> {
        let ids = movienet_ids(&layout)?;
        let files: Vec<Vec<PathBuf>> = ids.iter().map(|id| layout.movie_files(id)).collect();
        let sizes: Vec<u64> = files
            .iter()
            .map(|f| {
                f.iter()
                    .filter_map(|p| p.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .collect();
        let bytes_total = sizes.iter().sum();
        let done = AtomicUsize::new(0);
        let bytes_done = AtomicU64::new(0);
        let report = Mutex::new(());
        // A movie is named by its label file (else its first file, else its id) in failures.
        let names: Vec<PathBuf> = ids
            .iter()
            .zip(&files)
            .map(|(id, f)| f.first().cloned().unwrap_or_else(|| layout.root.join(id)))
            .collect();
        let results: Vec<Result<Movie, LoadFailure>> = ids
            .par_iter()
            .zip(names.par_iter().zip(sizes.par_iter()))
            .map(|(id, (name, &size))| {
                let result = movienet::load_movie(&layout, id)
                    .map(|m| at_precision(m, precision))
                    .map_err(|error| LoadFailure {
                        path: name.clone(),
                        error,
                    });
                let _guard = report.lock().unwrap_or_else(|e| e.into_inner());
                progress(&LoadProgress {
                    done: done.fetch_add(1, Ordering::SeqCst) + 1,
                    total: ids.len(),
                    bytes_done: bytes_done.fetch_add(size, Ordering::SeqCst) + size,
                    bytes_total,
                    last_file: name.clone(),
                });
                result
            })
            .collect();
        let mut data = Self::from_results(Some(layout.root.clone()), names, results);
        data.movienet = Some(layout);
        Ok(data)
    }

    /// Every `*.pkl` of `dir`, in parallel.
    fn load_pkl_dir(
        dir: &Path,
        precision: FeaturePrecision,
        progress: &(dyn Fn(&LoadProgress) + Sync),
    ) -> Result<Dataset, DataError> {
        let files = pkl_files_to_load(dir)?;
        let sizes: Vec<u64> = files
            .iter()
            .map(|p| p.metadata().map(|m| m.len()).unwrap_or(0))
            .collect();
        let bytes_total = sizes.iter().sum();
        let done = AtomicUsize::new(0);
        let bytes_done = AtomicU64::new(0);
        // Serialises progress calls so `done` is seen increasing.
        let report = Mutex::new(());
        let results: Vec<Result<Movie, LoadFailure>> = files
            .par_iter()
            .zip(sizes.par_iter())
            .map(|(path, &size)| {
                let result = load_movie_file(path)
                    .map(|m| at_precision(m, precision))
                    .map_err(|error| LoadFailure {
                        path: path.clone(),
                        error,
                    });
                let _guard = report.lock().unwrap_or_else(|e| e.into_inner());
                let p = LoadProgress {
                    done: done.fetch_add(1, Ordering::SeqCst) + 1,
                    total: files.len(),
                    bytes_done: bytes_done.fetch_add(size, Ordering::SeqCst) + size,
                    bytes_total,
                    last_file: path.clone(),
                };
                progress(&p);
                result
            })
            .collect();
        Ok(Self::from_results(Some(dir.to_path_buf()), files, results))
    }

    fn from_results(
        root: Option<PathBuf>,
        files: Vec<PathBuf>,
        results: Vec<Result<Movie, LoadFailure>>,
    ) -> Dataset {
        let mut movies: Vec<(PathBuf, Movie)> = Vec::new();
        let mut failures = Vec::new();
        for (path, r) in files.into_iter().zip(results) {
            match r {
                Ok(m) => movies.push((path, m)),
                Err(f) => failures.push(f),
            }
        }
        movies.sort_by(|a, b| a.1.imdb_id.cmp(&b.1.imdb_id).then_with(|| a.0.cmp(&b.0)));
        // Two files claiming one movie would be scored twice: keep the first, report the rest.
        let mut kept: Vec<(PathBuf, Movie)> = Vec::with_capacity(movies.len());
        for (path, m) in movies {
            match kept.last() {
                Some((first, k)) if k.imdb_id == m.imdb_id => failures.push(LoadFailure {
                    error: format!(
                        "duplicate imdb_id '{}' (already loaded from {})",
                        m.imdb_id,
                        first.display()
                    ),
                    path,
                }),
                _ => kept.push((path, m)),
            }
        }
        failures.sort_by(|a, b| a.path.cmp(&b.path));
        Dataset {
            root,
            movies: kept.into_iter().map(|(_, m)| m).collect(),
            failures,
            ..Dataset::default()
        }
    }

    /// A dataset of movies already in memory (demo data, tests).
    pub fn from_movies(mut movies: Vec<Movie>) -> Dataset {
        movies.sort_by(|a, b| a.imdb_id.cmp(&b.imdb_id));
        Dataset {
            movies,
            ..Dataset::default()
        }
    }

    pub fn movie(&self, imdb_id: &str) -> Option<&Movie> {
        self.movies.iter().find(|m| m.imdb_id == imdb_id)
    }

    pub fn ids(&self) -> Vec<String> {
        self.movies.iter().map(|m| m.imdb_id.clone()).collect()
    }

    /// Bytes of all decoded tensors.
    pub fn tensor_bytes(&self) -> usize {
        self.movies.iter().map(Movie::tensor_bytes).sum()
    }
}
