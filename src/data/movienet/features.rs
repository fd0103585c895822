//! MovieNet's feature files: a `.npy` vector per shot in a folder per movie (`place_feat`,
//! `aud_feat`), or a pickled dict per movie of shot index → array (`cast_feat`, `act_feat`).
//! Shots without a feature get a zero row, and the notes say how many.

use std::collections::BTreeMap;
use std::path::Path;

use super::labels::some_shots;
use crate::data::FeatureMatrix;
use crate::pickle::{ArrayData, Field};

/// A modality read for one movie: the matrix (`None` when left out, with the reason in
/// `notes`) and the caveats.
#[derive(Debug, Default)]
pub struct FeatureRead {
    pub matrix: Option<FeatureMatrix>,
    pub notes: Vec<String>,
}

/// The shot files of a per-shot folder (`shot_SSSS.npy`), by shot index.
pub fn shot_files(dir: &Path) -> Result<BTreeMap<usize, std::path::PathBuf>, String> {
    let mut files = BTreeMap::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(index) = name
            .strip_prefix("shot_")
            .and_then(|n| n.strip_suffix(".npy"))
            .and_then(|n| n.parse::<usize>().ok())
        {
            files.insert(index, entry.path());
        }
    }
    Ok(files)
}

/// One `.npy` file's shape and values as f32 (float32 read as is, float64 narrowed).
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f32>), String> {
    let bad = |e: &dyn std::fmt::Display| format!("cannot read {}: {e}", path.display());
    let bytes = std::fs::read(path).map_err(|e| bad(&e))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| bad(&e))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let dtype = npy.dtype().descr();
    let values: Vec<f32> = match npy.try_data::<f32>() {
        Ok(r) => r.collect::<std::io::Result<_>>().map_err(|e| bad(&e))?,
        Err(npy) => match npy.try_data::<f64>() {
            Ok(r) => r
                .map(|x| x.map(|x| x as f32))
                .collect::<std::io::Result<_>>()
                .map_err(|e| bad(&e))?,
            Err(_) => {
                return Err(format!(
                    "{} has dtype {dtype}; expected float32 or float64 features",
                    path.display()
                ));
            }
        },
    };
    Ok((shape, values))
}

/// The width of a feature vector of `shape` (`[d]` or `[1, d]`), `None` for anything else
/// (a spectrogram `[257, 90]`).
fn vector_width(shape: &[usize]) -> Option<usize> {
    match shape {
        [d] | [1, d] => Some(*d),
        _ => None,
    }
}

/// Fills a `[n_shots, width]` matrix row by row; the first row sets the width.
struct Rows {
    n_shots: usize,
    width: Option<(usize, usize)>,
    data: Vec<f32>,
    filled: Vec<bool>,
}

impl Rows {
    fn new(n_shots: usize) -> Self {
        Rows {
            n_shots,
            width: None,
            data: Vec::new(),
            filled: vec![false; n_shots],
        }
    }

    /// Put `row` at `shot`; a width other than the first shot's is refused naming both.
    fn put(&mut self, shot: usize, row: &[f32], what: &str) -> Result<(), String> {
        let (width, first) = *self.width.get_or_insert((row.len(), shot));
        if row.len() != width {
            return Err(format!(
                "{what} is {} wide, but shot {first:04}'s is {width}",
                row.len()
            ));
        }
        if self.data.is_empty() {
            self.data = vec![0.0; self.n_shots * width];
        }
        self.data[shot * width..(shot + 1) * width].copy_from_slice(row);
        self.filled[shot] = true;
        Ok(())
    }

    /// The matrix, with a note on the shots left at zero (`why`: what their absence means).
    fn finish(self, source: &str, why: &str, notes: &mut Vec<String>) -> Option<FeatureMatrix> {
        let (cols, _) = self.width?;
        let missing: Vec<usize> = (0..self.n_shots).filter(|&i| !self.filled[i]).collect();
        if !missing.is_empty() {
            notes.push(format!(
                "{source} has no feature for {} of {} shots ({}): {why}",
                missing.len(),
                self.n_shots,
                some_shots(&missing)
            ));
        }
        Some(FeatureMatrix::new(self.n_shots, cols, self.data))
    }
}

/// A per-shot folder (`place_feat/<imdb>` or `aud_feat/<imdb>`) as a `[n_shots, d]` matrix.
/// `source` names the folder for notes. A spectrogram (a 2-D array, as the paper's audio
/// branch reads) leaves the modality out with a note; so does a folder with no shot file.
/// `Err`: a file that cannot be read or disagrees in width.
pub fn read_shot_folder(dir: &Path, n_shots: usize, source: &str) -> Result<FeatureRead, String> {
    let mut read = FeatureRead::default();
    let files = shot_files(dir)?;
    let beyond = files.range(n_shots..).count();
    if beyond > 0 {
        read.notes.push(format!(
            "{source} has {beyond} file(s) for shots past the movie's last ({:04}); ignored",
            n_shots.saturating_sub(1)
        ));
    }
    let mut rows = Rows::new(n_shots);
    for (&shot, path) in files.range(..n_shots) {
        let (shape, values) = read_npy(path)?;
        let Some(_) = vector_width(&shape) else {
            read.notes.push(format!(
                "{} is a {shape:?} array (a spectrogram, as the paper's audio network reads), \
                 not a feature vector: {source} is left out",
                path.display()
            ));
            return Ok(read);
        };
        rows.put(shot, &values, &path.display().to_string())?;
    }
    read.matrix = rows.finish(source, "their rows are zero", &mut read.notes);
    if read.matrix.is_none() {
        read.notes.push(format!(
            "{source} has no shot file: the modality is left out"
        ));
    }
    Ok(read)
}

/// A pickled dict of shot index string (`SSSS`) → array (`cast_feat/<imdb>.pkl`,
/// `act_feat/<imdb>.pkl`), read with SceneLab's safe pickle reader, as a `[n_shots, d]`
/// matrix. An array of several rows (`[faces, d]`) is averaged over its rows, as the paper's
/// cast feature is; `[0, d]` or a missing key is a zero row (`absent`: what that means, for
/// the note). `Err`: the file cannot be read, or a value is not numbers of one width.
pub fn read_shot_dict(
    path: &Path,
    n_shots: usize,
    source: &str,
    absent: &str,
) -> Result<FeatureRead, String> {
    let mut read = FeatureRead::default();
    let record = crate::pickle::read_record_file(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut rows = Rows::new(n_shots);
    let mut odd_keys = Vec::new();
    let mut beyond = 0;
    for (key, value) in record {
        let Ok(shot) = key.trim().parse::<usize>() else {
            odd_keys.push(key);
            continue;
        };
        if shot >= n_shots {
            beyond += 1;
            continue;
        }
        let what = format!("{source} key '{key}'");
        let array = match value {
            Field::Array(a) => a,
            Field::Str(_) => return Err(format!("{what} is a string, expected an array")),
            Field::Unreadable(reason) => return Err(format!("{what} {reason}")),
        };
        let values: Vec<f32> = match array.data {
            ArrayData::F32(v) => v,
            other => other.to_f64_vec().into_iter().map(|x| x as f32).collect(),
        };
        let (faces, width) = match array.shape.as_slice() {
            [d] => (1, *d),
            [f, d] => (*f, *d),
            shape => {
                return Err(format!(
                    "{what} has shape {shape:?}, expected [dims] or [faces, dims]"
                ));
            }
        };
        if faces == 0 {
            continue;
        }
        let mut mean = vec![0f32; width];
        for face in values.chunks_exact(width.max(1)) {
            for (m, v) in mean.iter_mut().zip(face) {
                *m += v / faces as f32;
            }
        }
        rows.put(shot, &mean, &what)?;
    }
    if !odd_keys.is_empty() {
        read.notes.push(format!(
            "{source} has {} key(s) that are no shot index (such as '{}'); ignored",
            odd_keys.len(),
            odd_keys[0]
        ));
    }
    if beyond > 0 {
        read.notes.push(format!(
            "{source} has {beyond} key(s) for shots past the movie's last ({:04}); ignored",
            n_shots.saturating_sub(1)
        ));
    }
    read.matrix = rows.finish(source, absent, &mut read.notes);
    if read.matrix.is_none() {
        read.notes.push(format!(
            "{source} has no shot's feature: the modality is left out"
        ));
    }
    Ok(read)
}
