//! A folder of movies as the app holds it: the decoded movies (shared, never copied) and
//! the files that could not be read, each with its error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::Movie;

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
}

impl LoadedFolder {
    pub fn new(dir: PathBuf, movies: Vec<Movie>, bad: Vec<BadFile>) -> Self {
        LoadedFolder {
            dir,
            movies: Arc::new(movies),
            bad,
        }
    }

    /// Bytes held by the decoded tensors of every movie.
    pub fn tensor_bytes(&self) -> usize {
        self.movies.iter().map(Movie::tensor_bytes).sum()
    }
}

/// Read every `*.pkl` movie of `dir`, calling `progress(done, total, file)` as it goes.
pub fn load_folder(
    dir: &Path,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> anyhow::Result<LoadedFolder> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read folder {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pkl") && p.is_file())
        .collect();
    files.sort();
    let total = files.len();
    let mut movies = Vec::with_capacity(total);
    let mut bad = Vec::new();
    for (i, path) in files.into_iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        progress(i, total, &name);
        let movie = crate::pickle::read_record_file(&path)
            .map_err(|e| e.to_string())
            .and_then(|r| Movie::from_record(r).map_err(|e| e.to_string()));
        match movie {
            Ok(m) => movies.push(m),
            Err(error) => bad.push(BadFile { path, error }),
        }
    }
    progress(total, total, "");
    Ok(LoadedFolder::new(dir.to_path_buf(), movies, bad))
}

/// Whether `dir` holds at least one `*.pkl` file.
pub fn has_movie_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "pkl"))
    })
}

/// Write `spec.movies` synthetic movies into `dir`, calling `progress(done, total)`.
/// Returns how many were written.
pub fn write_demo(
    dir: &Path,
    spec: super::DemoSpec,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<usize> {
    // TEMPORARY until `data::demo::write_demo` lands on main.
    let _ = (dir, spec, progress);
    anyhow::bail!("the demo generator is not in this build yet")
}
