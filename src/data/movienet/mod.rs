//! MovieNet's own layout (MovieNet-SSeg, "scene318", as AnyiRao/SceneSeg's LGSS reads it): a
//! folder with
//!
//! | path | content |
//! |---|---|
//! | `label*/<imdb>.txt` | a line per shot, `SSSS L`: 1 a scene ends after the shot, 0 not, -1 unsure |
//! | `shot_movie*/<imdb>.txt` | a line per shot, `start_frame end_frame kf1 kf2 kf3` |
//! | `meta/split*.json` | `{"train": [...], "val": [...], "test": [...], "all": [...]}` |
//! | `place_feat/<imdb>/shot_SSSS.npy` | a feature vector per shot (2048-d) |
//! | `cast_feat/<imdb>.pkl` | dict `SSSS` → `[faces, 512]`; the shot's feature is the mean over faces |
//! | `act_feat/<imdb>.pkl` | dict `SSSS` → `[512]` (2048-d from MovieNet's own tools) |
//! | `aud_feat/<imdb>/shot_SSSS.npy` | `[512]`, or a `[257, 90]` spectrogram (noted, left out) |
//!
//! Each movie is assembled into the record a challenge pkl file holds ([`movie_record`]) and
//! read by the same field checks as a pkl file, so everything downstream (inspect, evaluate,
//! train, the app) sees one kind of movie. How the layout's gaps are read:
//!
//! - **Unsure labels** (-1) are boundaries, as the challenge's ground truth and MovieNet's
//!   code count them, and are kept per transition in [`crate::data::FIELD_UNCERTAIN`].
//! - **Short label files** (a file can stop a line or two before the last shot): the
//!   transitions without a line are read as no boundary, and a note names them. A line for
//!   the last shot is ignored (no transition follows it).
//! - **Missing feature files or keys** give zero rows (for `cast_feat`: no face in the shot),
//!   with a note counting them; a modality with no shot at all is left out.
//! - **Shot count**: the `shot_movie` file's lines; without one, the longest of the label
//!   file (its last labelled shot plus the one after) and the per-shot folders.
//!
//! Problems that make a file unusable (an unreadable label file, widths that disagree) leave
//! that field out and are listed in the movie's `issues`; the rest of the movie still loads.

mod features;
mod labels;
mod write;

pub use labels::{ShotFrames, parse_label_file, parse_shot_file};
pub use write::{MovieNetFiles, write_movie};

use std::path::{Path, PathBuf};

use super::movie::{
    FIELD_GROUND_TRUTH, FIELD_IMDB_ID, FIELD_SHOT_END_FRAME, FIELD_UNCERTAIN, FieldIssue, Modality,
    Movie,
};
use crate::pickle::{ArrayData, Field, NdArray, Record};
use features::FeatureRead;
use labels::{labels_to_transitions, read_text, some_shots};

/// The folders of a MovieNet layout found under `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub root: PathBuf,
    /// The first `label*` folder (by name).
    pub labels: Option<PathBuf>,
    /// The first `shot_movie*` folder (by name).
    pub shots: Option<PathBuf>,
    /// `meta/split*.json`, the first by name.
    pub split_file: Option<PathBuf>,
    /// `place_feat`, `cast_feat`, `act_feat`, `aud_feat`, indexed by [`Modality::index`].
    pub features: [Option<PathBuf>; 4],
}

/// A modality's folder name in the layout.
pub fn feature_folder(m: Modality) -> &'static str {
    match m {
        Modality::Place => "place_feat",
        Modality::Cast => "cast_feat",
        Modality::Action => "act_feat",
        Modality::Audio => "aud_feat",
    }
}

/// The first sub-folder of `dir` whose name starts with `prefix` and that holds a `.txt`
/// file (sorted by name): a folder that merely shares the name is not MovieNet's.
fn first_dir(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let has_txt = |p: &Path| {
        std::fs::read_dir(p).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        })
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .filter(|p| p.is_dir() && has_txt(p))
        .collect();
    found.sort();
    found.into_iter().next()
}

/// `meta/split*.json` under `dir`, the first by name: a MovieNet split file, also looked for
/// in folders of pkl files.
pub fn find_split_file(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("meta"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .map(|n| n.to_string_lossy())
                    .is_some_and(|n| n.starts_with("split") && n.ends_with(".json"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The stems of the files of `dir` ending in `ext` (".txt", ".pkl"), or of its folders.
fn stems(dir: &Path, ext: Option<&str>) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match ext {
                Some(ext) => name.strip_suffix(ext).map(str::to_owned),
                None => e.path().is_dir().then_some(name),
            }
        })
        .filter(|s| !s.is_empty() && !s.starts_with('.'))
        .collect()
}

impl Layout {
    /// The layout of `dir`, when it has a `label*` or `shot_movie*` folder holding `.txt` files.
    pub fn detect(dir: &Path) -> Option<Layout> {
        let labels = first_dir(dir, "label");
        let shots = first_dir(dir, "shot_movie");
        if labels.is_none() && shots.is_none() {
            return None;
        }
        Some(Layout {
            root: dir.to_path_buf(),
            labels,
            shots,
            split_file: find_split_file(dir),
            features: Modality::ALL.map(|m| {
                let p = dir.join(feature_folder(m));
                p.is_dir().then_some(p)
            }),
        })
    }

    /// Every imdb id with a label, shot or feature file, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for dir in [&self.labels, &self.shots].into_iter().flatten() {
            ids.extend(stems(dir, Some(".txt")));
        }
        for m in Modality::ALL {
            if let Some(dir) = &self.features[m.index()] {
                ids.extend(match m {
                    Modality::Cast | Modality::Action => stems(dir, Some(".pkl")),
                    _ => stems(dir, None),
                });
            }
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// A path under the root as the user sees it in messages (`label318/tt0047396.txt`).
    fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The files of movie `id` that exist, for progress (label, shot and feature dict files).
    pub fn movie_files(&self, id: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = [&self.labels, &self.shots]
            .into_iter()
            .flatten()
            .map(|d| d.join(format!("{id}.txt")))
            .collect();
        for m in [Modality::Cast, Modality::Action] {
            if let Some(d) = &self.features[m.index()] {
                files.push(d.join(format!("{id}.pkl")));
            }
        }
        files.retain(|f| f.is_file());
        files
    }
}

/// A movie of the layout as a challenge record, with what reading it found.
#[derive(Debug, Clone, Default)]
pub struct MovieRecord {
    pub record: Record,
    /// Caveats (short label files, missing feature files, spectrograms left out).
    pub notes: Vec<String>,
    /// Files left out, by the record field they would have filled.
    pub issues: Vec<FieldIssue>,
}

fn array(shape: Vec<usize>, data: ArrayData) -> Field {
    Field::Array(NdArray { shape, data })
}

/// Movie `id` of `layout` as the record a challenge pkl file holds (end frames, ground truth,
/// [`FIELD_UNCERTAIN`] when a label is unsure, the features present). `Err`: nothing gives
/// the movie's shots.
pub fn movie_record(layout: &Layout, id: &str) -> Result<MovieRecord, String> {
    let mut out = MovieRecord::default();
    let issue = |out: &mut MovieRecord, field: &str, problem: String| {
        out.issues.push(FieldIssue {
            field: field.into(),
            problem,
        })
    };
    let text_of = |dir: &Option<PathBuf>| {
        dir.as_ref()
            .map(|d| d.join(format!("{id}.txt")))
            .filter(|p| p.is_file())
    };

    // Shots: the shot file's lines.
    let shot_path = text_of(&layout.shots);
    let shots = match &shot_path {
        Some(p) => match read_text(p).and_then(|t| parse_shot_file(&t, &layout.show(p))) {
            Ok(s) => Some(s),
            Err(e) => {
                issue(&mut out, FIELD_SHOT_END_FRAME, e);
                None
            }
        },
        None => None,
    };
    let label_path = text_of(&layout.labels);
    let labels = match &label_path {
        Some(p) => match read_text(p).and_then(|t| parse_label_file(&t, &layout.show(p))) {
            Ok(l) => Some(l),
            Err(e) => {
                issue(&mut out, FIELD_GROUND_TRUTH, e);
                None
            }
        },
        None => None,
    };
    let folder_of = |m: Modality| {
        layout.features[m.index()]
            .as_ref()
            .map(|d| d.join(id))
            .filter(|d| d.is_dir())
    };
    let n_shots = match &shots {
        Some(s) => s.len(),
        None => {
            let from_labels = labels
                .as_ref()
                .and_then(|l| l.iter().map(|&(s, _)| s + 2).max())
                .unwrap_or(0);
            let from_folders = [Modality::Place, Modality::Audio]
                .into_iter()
                .filter_map(folder_of)
                .filter_map(|d| features::shot_files(&d).ok())
                .filter_map(|f| f.keys().next_back().map(|s| s + 1))
                .max()
                .unwrap_or(0);
            let n = from_labels.max(from_folders);
            if n > 0 {
                out.notes.push(format!(
                    "no shot_movie file: {n} shots counted from the label and feature files, \
                     and no end frames"
                ));
            }
            n
        }
    };
    if n_shots == 0 {
        return Err(format!(
            "'{id}' has no usable shot_movie, label or per-shot feature file"
        ));
    }

    out.record
        .push((FIELD_IMDB_ID.into(), Field::Str(id.to_owned())));
    if let Some(shots) = &shots {
        out.record.push((
            FIELD_SHOT_END_FRAME.into(),
            array(
                vec![shots.len()],
                ArrayData::I64(shots.iter().map(|s| s.end).collect()),
            ),
        ));
    }
    if let (Some(labels), Some(path)) = (&labels, &label_path) {
        match labels_to_transitions(labels, n_shots, &layout.show(path)) {
            Ok(read) => {
                if !read.missing.is_empty() {
                    out.notes.push(format!(
                        "{} has no label for {} of {} transitions (after shots {}): read as no \
                         boundary",
                        layout.show(path),
                        read.missing.len(),
                        n_shots - 1,
                        some_shots(&read.missing)
                    ));
                }
                let n = read.boundaries.len();
                out.record.push((
                    FIELD_GROUND_TRUTH.into(),
                    array(vec![n], ArrayData::Bool(read.boundaries)),
                ));
                if read.uncertain.contains(&true) {
                    out.record.push((
                        FIELD_UNCERTAIN.into(),
                        array(vec![n], ArrayData::Bool(read.uncertain)),
                    ));
                }
            }
            Err(e) => issue(&mut out, FIELD_GROUND_TRUTH, e),
        }
    }

    for m in Modality::ALL {
        let Some(dir) = &layout.features[m.index()] else {
            continue;
        };
        let source = format!("{}/{id}", feature_folder(m));
        let read = match m {
            Modality::Place | Modality::Audio => match folder_of(m) {
                Some(d) => features::read_shot_folder(&d, n_shots, &source),
                None => Ok(missing_movie(&source)),
            },
            Modality::Cast | Modality::Action => {
                let path = dir.join(format!("{id}.pkl"));
                let absent = if m == Modality::Cast {
                    "no face: their rows are zero"
                } else {
                    "their rows are zero"
                };
                if path.is_file() {
                    features::read_shot_dict(&path, n_shots, &format!("{source}.pkl"), absent)
                } else {
                    Ok(missing_movie(&format!("{source}.pkl")))
                }
            }
        };
        match read {
            Ok(FeatureRead { matrix, notes }) => {
                out.notes.extend(notes);
                if let Some(f) = matrix {
                    out.record.push((
                        m.field().into(),
                        array(vec![f.rows, f.cols], ArrayData::F32(f.into_values())),
                    ));
                }
            }
            Err(e) => issue(&mut out, m.field(), e),
        }
    }
    Ok(out)
}

/// A feature folder of the layout without this movie.
fn missing_movie(source: &str) -> FeatureRead {
    FeatureRead {
        matrix: None,
        notes: vec![format!("{source} is missing: the modality is left out")],
    }
}

/// Movie `id` of `layout`, read as a pkl file's record is ([`Movie::from_record`]), with the
/// layout's notes and issues first.
pub fn load_movie(layout: &Layout, id: &str) -> Result<Movie, String> {
    let read = movie_record(layout, id)?;
    let mut movie = Movie::from_record(read.record).map_err(|e| e.to_string())?;
    let mut issues = read.issues;
    issues.append(&mut movie.issues);
    movie.issues = issues;
    let mut notes = read.notes;
    notes.append(&mut movie.notes);
    movie.notes = notes;
    Ok(movie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_label_or_shot_folders_is_not_movienet() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Layout::detect(dir.path()).is_none());
        std::fs::create_dir(dir.path().join("label318")).unwrap();
        std::fs::create_dir(dir.path().join("place_feat")).unwrap();
        assert!(
            Layout::detect(dir.path()).is_none(),
            "an empty label folder is no layout"
        );
        std::fs::write(dir.path().join("label318/tt1.txt"), "0000 1\n").unwrap();
        let layout = Layout::detect(dir.path()).unwrap();
        assert!(layout.shots.is_none());
        assert!(layout.features[Modality::Place.index()].is_some());
        assert!(layout.features[Modality::Cast.index()].is_none());
    }
}
