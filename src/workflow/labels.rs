//! Write a folder's edited ground truth back: each edited movie's file with only
//! `scene_transition_boundary_ground_truth` (and SceneLab's uncertain flags) replaced, every
//! other field kept as it was read, in its own dtype. Into a new folder (every movie file
//! there, the unedited ones copied byte for byte), or in place, where each file is first
//! kept once as `<file>.orig` beside it. A MovieNet folder gets its label text files
//! (`SSSS L`, L one of 0, 1, -1) rewritten in place; saved into a new folder it becomes the
//! challenge's pkl files, one per movie. Every file is written under a temporary name and
//! renamed into place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::data::edit::label_of;
use crate::data::movienet::Layout;
use crate::data::{Dataset, FIELD_GROUND_TRUTH, FIELD_IMDB_ID, FIELD_UNCERTAIN, Movie};
use crate::pickle::{ArrayData, Field, NdArray, Record};

/// Where edited labels go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveTarget {
    /// A new folder (created if missing; not the folder the movies came from).
    Folder(PathBuf),
    /// Over the folder's own files, each kept once as `<file>.orig` first.
    InPlace,
}

/// What [`save_labels`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SavedLabels {
    /// Files written with edited labels.
    pub edited: Vec<PathBuf>,
    /// Files copied unchanged (into a new folder).
    pub copied: Vec<PathBuf>,
    /// Originals kept beside their files (in place; only the first save of a file keeps one).
    pub backups: Vec<PathBuf>,
}

/// The suffix of a file's kept original.
pub const BACKUP_SUFFIX: &str = ".orig";

/// `path` with [`BACKUP_SUFFIX`] appended to its name.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// A ground-truth array of `labels` in the dtype and shape of `like` (the file's own field),
/// so a reader sees the same kind of array it saw before.
fn bools_like(like: Option<&NdArray>, labels: &[bool]) -> NdArray {
    let f = |b: &bool| u8::from(*b);
    let data = match like.map(|a| &a.data) {
        Some(ArrayData::F32(_)) => ArrayData::F32(labels.iter().map(|b| f32::from(f(b))).collect()),
        Some(ArrayData::F64(_)) => ArrayData::F64(labels.iter().map(|b| f64::from(f(b))).collect()),
        Some(ArrayData::F16(_)) => ArrayData::F16(
            labels
                .iter()
                .map(|b| half::f16::from_f32(f32::from(f(b))))
                .collect(),
        ),
        Some(ArrayData::BF16(_)) => ArrayData::BF16(
            labels
                .iter()
                .map(|b| half::bf16::from_f32(f32::from(f(b))))
                .collect(),
        ),
        Some(ArrayData::I64(_)) => ArrayData::I64(labels.iter().map(|b| i64::from(f(b))).collect()),
        Some(ArrayData::I32(_)) => ArrayData::I32(labels.iter().map(|b| i32::from(f(b))).collect()),
        Some(ArrayData::I16(_)) => ArrayData::I16(labels.iter().map(|b| i16::from(f(b))).collect()),
        Some(ArrayData::I8(_)) => ArrayData::I8(labels.iter().map(|b| f(b) as i8).collect()),
        Some(ArrayData::U8(_)) => ArrayData::U8(labels.iter().map(f).collect()),
        Some(ArrayData::Bool(_)) | None => ArrayData::Bool(labels.to_vec()),
    };
    // A `[n-1, 1]` column stays a column.
    let shape = match like {
        Some(a) if a.shape.iter().product::<usize>() == labels.len() => a.shape.clone(),
        _ => vec![labels.len()],
    };
    NdArray { shape, data }
}

/// `record` with its ground truth (and uncertain flags) replaced by `movie`'s labels; every
/// other field untouched. The uncertain field is written when the movie has an uncertain
/// transition or the file already had the field.
pub fn with_labels(mut record: Record, movie: &Movie) -> Record {
    let Some(gt) = &movie.ground_truth else {
        return record;
    };
    let array_of = |record: &Record, name: &str| {
        record.iter().find_map(|(k, v)| match v {
            Field::Array(a) if k == name => Some(a.clone()),
            _ => None,
        })
    };
    let put = |record: &mut Record, name: &str, value: NdArray, after: &str| {
        let field = Field::Array(value);
        if let Some((_, v)) = record.iter_mut().find(|(k, _)| k == name) {
            *v = field;
        } else {
            let at = record
                .iter()
                .position(|(k, _)| k == after)
                .map_or(record.len(), |i| i + 1);
            record.insert(at, (name.into(), field));
        }
    };
    let old = array_of(&record, FIELD_GROUND_TRUTH);
    put(
        &mut record,
        FIELD_GROUND_TRUTH,
        bools_like(old.as_ref(), gt),
        FIELD_IMDB_ID,
    );
    let had_uncertain = record.iter().any(|(k, _)| k == FIELD_UNCERTAIN);
    if had_uncertain || !movie.uncertain.is_empty() {
        let flags: Vec<bool> = (0..gt.len())
            .map(|t| movie.uncertain.binary_search(&t).is_ok())
            .collect();
        let old = array_of(&record, FIELD_UNCERTAIN);
        put(
            &mut record,
            FIELD_UNCERTAIN,
            bools_like(old.as_ref(), &flags),
            FIELD_GROUND_TRUTH,
        );
    }
    record
}

/// MovieNet's label file of `movie`: a line `SSSS L` per transition.
pub fn movienet_label_text(movie: &Movie) -> String {
    (0..movie.n_transitions())
        .filter_map(|t| label_of(movie, t).map(|l| format!("{t:04} {}\n", l.movienet())))
        .collect()
}

/// Keep `path` once as `<path>.orig` (nothing if a backup is already there); returns the
/// backup written.
fn keep_original(path: &Path) -> anyhow::Result<Option<PathBuf>> {
    let backup = backup_path(path);
    if backup.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    crate::files::write_atomic(&backup, &bytes)
        .with_context(|| format!("cannot keep the original as {}", backup.display()))?;
    Ok(Some(backup))
}

/// Write the labels of `movies` whose IMDb id is in `edited` (see the module's text).
/// `source` is the folder they were read from, `movienet` whether it has MovieNet's layout.
///
/// Errors: `target` is `source` itself (say [`SaveTarget::InPlace`]), a folder or file that
/// cannot be read or written (named in the message). Files written before an error stay
/// written, each whole.
pub fn save_labels(
    source: &Path,
    movies: &[Movie],
    edited: &BTreeSet<String>,
    movienet: bool,
    target: &SaveTarget,
) -> anyhow::Result<SavedLabels> {
    if let SaveTarget::Folder(out) = target {
        if super::export::same_folder(source, out) {
            anyhow::bail!(
                "{} is the folder the movies came from: save in place instead, or choose another folder",
                out.display()
            );
        }
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    }
    if movienet {
        save_movienet(source, movies, edited, target)
    } else {
        save_pkl(source, movies, edited, target)
    }
}

fn save_pkl(
    source: &Path,
    movies: &[Movie],
    edited: &BTreeSet<String>,
    target: &SaveTarget,
) -> anyhow::Result<SavedLabels> {
    let mut saved = SavedLabels::default();
    for file in Dataset::movie_files(source)? {
        let name = file.file_name().context("a movie file has no name")?;
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
        // The challenge names each file after its movie; read the id only when it does not.
        let by_name = stem.filter(|s| movies.iter().any(|m| &m.imdb_id == s));
        let (id, record) = match by_name {
            Some(id) if !edited.contains(&id) => (id, None),
            _ => {
                let record = crate::pickle::read_record_file(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let id = record.iter().find_map(|(k, v)| match v {
                    Field::Str(s) if k == FIELD_IMDB_ID => Some(s.clone()),
                    _ => None,
                });
                (id.unwrap_or_default(), Some(record))
            }
        };
        let movie = movies
            .iter()
            .find(|m| m.imdb_id == id)
            .filter(|_| edited.contains(&id));
        match (movie, target) {
            (Some(movie), _) => {
                let record = match record {
                    Some(r) => r,
                    None => crate::pickle::read_record_file(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?,
                };
                let out = match target {
                    SaveTarget::Folder(dir) => dir.join(name),
                    SaveTarget::InPlace => {
                        saved.backups.extend(keep_original(&file)?);
                        file.clone()
                    }
                };
                crate::pickle::write_record_file(&out, &with_labels(record, movie))
                    .with_context(|| format!("cannot write {}", out.display()))?;
                saved.edited.push(out);
            }
            (None, SaveTarget::Folder(dir)) => {
                let out = dir.join(name);
                let bytes = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                crate::files::write_atomic(&out, &bytes)
                    .with_context(|| format!("cannot write {}", out.display()))?;
                saved.copied.push(out);
            }
            (None, SaveTarget::InPlace) => {}
        }
    }
    Ok(saved)
}

fn save_movienet(
    source: &Path,
    movies: &[Movie],
    edited: &BTreeSet<String>,
    target: &SaveTarget,
) -> anyhow::Result<SavedLabels> {
    let mut saved = SavedLabels::default();
    match target {
        SaveTarget::Folder(dir) => {
            // As `scenelab convert` writes a MovieNet folder: the challenge's pkl files.
            for movie in movies {
                let out = dir.join(format!("{}.pkl", movie.imdb_id));
                crate::pickle::write_record_file(&out, &movie.to_record())
                    .with_context(|| format!("cannot write {}", out.display()))?;
                if edited.contains(&movie.imdb_id) {
                    saved.edited.push(out);
                } else {
                    saved.copied.push(out);
                }
            }
        }
        SaveTarget::InPlace => {
            let labels = Layout::detect(source)
                .and_then(|l| l.labels)
                .with_context(|| {
                    format!(
                        "{} has no MovieNet label folder to write to",
                        source.display()
                    )
                })?;
            for movie in movies.iter().filter(|m| edited.contains(&m.imdb_id)) {
                let out = labels.join(format!("{}.txt", movie.imdb_id));
                if out.exists() {
                    saved.backups.extend(keep_original(&out)?);
                }
                crate::files::write_atomic(&out, movienet_label_text(movie).as_bytes())
                    .with_context(|| format!("cannot write {}", out.display()))?;
                saved.edited.push(out);
            }
        }
    }
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(gt: &[bool], uncertain: Vec<usize>) -> Movie {
        Movie {
            imdb_id: "tt1".into(),
            n_shots: gt.len() + 1,
            features: Default::default(),
            ground_truth: Some(gt.to_vec()),
            prediction: None,
            shot_end_frame: None,
            uncertain,
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn field(r: &Record, name: &str) -> NdArray {
        r.iter()
            .find_map(|(k, v)| match v {
                Field::Array(a) if k == name => Some(a.clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn labels_keep_the_files_dtype_and_shape_and_nothing_else_changes() {
        let other = (
            "shot_end_frame".to_string(),
            Field::Array(NdArray {
                shape: vec![4],
                data: ArrayData::I32(vec![3, 9, 20, 31]),
            }),
        );
        let record: Record = vec![
            ("imdb_id".into(), Field::Str("tt1".into())),
            (
                FIELD_GROUND_TRUTH.into(),
                Field::Array(NdArray {
                    shape: vec![3, 1],
                    data: ArrayData::F32(vec![0.0, 1.0, 0.0]),
                }),
            ),
            other.clone(),
        ];
        let out = with_labels(record, &movie(&[true, false, true], vec![2]));
        let gt = field(&out, FIELD_GROUND_TRUTH);
        assert_eq!(gt.shape, vec![3, 1]);
        assert_eq!(gt.data, ArrayData::F32(vec![1.0, 0.0, 1.0]));
        // The uncertain flags come right after the ground truth; the rest as it was.
        assert_eq!(out[2].0, FIELD_UNCERTAIN);
        assert_eq!(
            field(&out, FIELD_UNCERTAIN).data,
            ArrayData::Bool(vec![false, false, true])
        );
        assert_eq!(out[3], other);
        assert_eq!(out.len(), 4);

        // A file with int64 labels and no uncertain transition gets no uncertain field.
        let record: Record = vec![(
            FIELD_GROUND_TRUTH.into(),
            Field::Array(NdArray {
                shape: vec![2],
                data: ArrayData::I64(vec![1, 1]),
            }),
        )];
        let out = with_labels(record, &movie(&[false, true], Vec::new()));
        assert_eq!(out.len(), 1);
        assert_eq!(
            field(&out, FIELD_GROUND_TRUTH).data,
            ArrayData::I64(vec![0, 1])
        );
    }

    #[test]
    fn movienet_label_text_writes_one_line_per_transition() {
        let m = movie(&[false, true, true], vec![2]);
        assert_eq!(movienet_label_text(&m), "0000 0\n0001 1\n0002 -1\n");
        assert_eq!(
            backup_path(Path::new("/d/tt1.pkl")),
            PathBuf::from("/d/tt1.pkl.orig")
        );
    }

    #[test]
    fn saving_into_the_source_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = save_labels(
            dir.path(),
            &[],
            &BTreeSet::new(),
            false,
            &SaveTarget::Folder(dir.path().to_path_buf()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("save in place instead"), "{err}");
    }
}
