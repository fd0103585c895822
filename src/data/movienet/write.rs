//! Writing a movie in MovieNet's layout (what `scenelab convert` writes from pkl files).

use std::path::Path;

use npyz::WriterBuilder;

use super::feature_folder;
use crate::data::{FeatureMatrix, Modality, Movie};
use crate::pickle::{ArrayData, ArrayForm, Field, NdArray, Record};

/// The names `write_movie` gives the layout's folders, as MovieNet-318 names them.
pub struct MovieNetFiles;

impl MovieNetFiles {
    pub const LABELS: &'static str = "label318";
    pub const SHOTS: &'static str = "shot_movie318";
    /// The split file, under the root.
    pub const SPLIT: &'static str = "meta/split318.json";
}

/// A `.npy` file's bytes holding `row` as float32 `[len]`.
fn npy_bytes(row: &[f32]) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[row.len() as u64])
        .writer(&mut bytes)
        .begin_nd()?;
    w.extend(row.iter().copied())?;
    w.finish()?;
    Ok(bytes)
}

/// Write `bytes` to `path` (creating its folder) whole or not at all; returns their count.
fn put(path: &Path, bytes: &[u8]) -> anyhow::Result<u64> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::files::write_replacing(path, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(bytes.len() as u64)
}

/// A per-shot folder (`place_feat/<imdb>/shot_SSSS.npy`): one float32 vector per shot.
/// Returns the bytes written.
fn write_shot_folder(dir: &Path, f: &FeatureMatrix) -> anyhow::Result<u64> {
    let mut bytes = 0;
    for i in 0..f.rows {
        bytes += put(
            &dir.join(format!("shot_{i:04}.npy")),
            &npy_bytes(&f.row(i))?,
        )?;
    }
    Ok(bytes)
}

/// A dict pickle (`cast_feat/<imdb>.pkl`): `SSSS` → the shot's row as a float32 numpy array,
/// shaped `[1, d]` (one face) for cast and `[d]` for action, as MovieNet's own files hold
/// them (so Python reads them with numpy alone). Cast rows of zeros (no face) get no key.
/// Returns the bytes written.
fn write_shot_dict(path: &Path, f: &FeatureMatrix, cast: bool) -> anyhow::Result<u64> {
    let record: Record = (0..f.rows)
        .filter(|&i| !cast || f.row(i).iter().any(|&x| x != 0.0))
        .map(|i| {
            let shape = if cast { vec![1, f.cols] } else { vec![f.cols] };
            (
                format!("{i:04}"),
                Field::Array(NdArray {
                    shape,
                    data: ArrayData::F32(f.row(i).into_owned()),
                }),
            )
        })
        .collect();
    put(
        path,
        &crate::pickle::write_record_as(&record, ArrayForm::Numpy),
    )
}

/// Write `movie` under `root` in MovieNet's layout: `label318/<imdb>.txt` (a line per
/// transition, `SSSS L` with 1, 0, or -1 where the label is uncertain), `shot_movie318/<imdb>.txt`
/// (start frame = the previous shot's end + 1, the first 0; end frame; and as the three
/// keyframe columns the start, middle and end frames, since the pkl files hold no keyframes),
/// `place_feat/<imdb>/shot_SSSS.npy`, `cast_feat/<imdb>.pkl` (one face row per shot with a
/// nonzero cast row), `act_feat/<imdb>.pkl`, `aud_feat/<imdb>/shot_SSSS.npy`. What the movie
/// lacks is not written. Each file is written under a temporary name and renamed into place;
/// files of an earlier movie of the same id that this one does not replace (per-shot files
/// past its last shot) are left as they are, so write into a folder without that movie.
/// The dict pickles hold float32 numpy arrays, as MovieNet's own do (SceneLab reads numpy
/// arrays and torch tensors alike). Returns the bytes written, all files together.
pub fn write_movie(root: &Path, movie: &Movie) -> anyhow::Result<u64> {
    let id = &movie.imdb_id;
    let mut bytes = 0;
    if let Some(gt) = &movie.ground_truth {
        let mut text = String::new();
        for (t, &b) in gt.iter().enumerate() {
            let label = match (b, movie.uncertain.binary_search(&t).is_ok()) {
                (true, true) => "-1",
                (true, false) => "1",
                (false, _) => "0",
            };
            text.push_str(&format!("{t:04} {label}\n"));
        }
        bytes += put(
            &root.join(MovieNetFiles::LABELS).join(format!("{id}.txt")),
            text.as_bytes(),
        )?;
    }
    if let Some(ends) = &movie.shot_end_frame {
        let mut text = String::new();
        let mut start = 0;
        for &end in ends {
            let mid = start + (end - start) / 2;
            text.push_str(&format!("{start} {end} {start} {mid} {end}\n"));
            start = end + 1;
        }
        bytes += put(
            &root.join(MovieNetFiles::SHOTS).join(format!("{id}.txt")),
            text.as_bytes(),
        )?;
    }
    for m in Modality::ALL {
        let Some(f) = movie.feature(m) else {
            continue;
        };
        let dir = root.join(feature_folder(m));
        bytes += match m {
            Modality::Place | Modality::Audio => write_shot_folder(&dir.join(id), f)?,
            Modality::Cast | Modality::Action => {
                write_shot_dict(&dir.join(format!("{id}.pkl")), f, m == Modality::Cast)?
            }
        };
    }
    Ok(bytes)
}
