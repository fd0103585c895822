//! Feature normalisation: per-feature mean and standard deviation over the training movies'
//! shots, stored with the model so prediction normalises exactly as training did.
//!
//! Real cast and action features are all-zero rows where nothing was detected (a third of
//! the cast rows, a seventh of the action rows). Z-scored like the other rows, every such row
//! becomes the same vector (minus the mean over the standard deviation), which looks like one
//! more face or action and hides the cue that the people change. With
//! [`Normalization::keep_empty_rows`] a modality's all-zero row stays zero (no evidence) and
//! the statistics are fitted on the rows that hold a detection.

use crate::data::{FeatureDims, FeatureMatrix, Modality, Movie};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    /// Per column of the concatenated features: `dims.total()` values.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// A modality's all-zero row stays zero, and the statistics leave such rows out
    /// (checkpoints written before this existed read back `false`).
    #[serde(default)]
    pub keep_empty_rows: bool,
    /// The feature widths the statistics are for (checkpoints written before this existed
    /// read back the challenge's).
    #[serde(default)]
    pub dims: FeatureDims,
}

/// Whether the shot `row` (all four modalities, `dims` wide) has an all-zero row in `m`.
fn empty(row: &[f32], dims: FeatureDims, m: Modality) -> bool {
    row[dims.range(m)].iter().all(|&v| v == 0.0)
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    #[error(
        "movie '{imdb_id}' has no '{field}' features: models read all four modalities (place, cast, action, audio)"
    )]
    Missing {
        imdb_id: String,
        field: &'static str,
    },
    #[error(
        "movie '{imdb_id}' has {got} '{field}' columns where movie '{first}' has {expected}: \
         the movies of a split (train, validation and test alike, as the model scores them \
         all) need the same feature widths (leave the odd movies out of the split, or extract \
         their features again)"
    )]
    Disagree {
        imdb_id: String,
        field: &'static str,
        got: usize,
        first: String,
        expected: usize,
    },
    #[error(
        "movie '{imdb_id}' has {got} '{field}' columns, but the model reads {expected} (it was \
         trained on features of widths {dims}): score this movie with a model trained on \
         features like its own"
    )]
    Width {
        imdb_id: String,
        field: &'static str,
        got: usize,
        expected: usize,
        dims: FeatureDims,
    },
}

fn missing(movie: &Movie, m: Modality) -> FeatureError {
    FeatureError::Missing {
        imdb_id: movie.imdb_id.clone(),
        field: m.field(),
    }
}

/// The feature widths of a set of movies, which must all agree (the first movie sets them;
/// none gives the challenge's). Errors: a movie lacks a modality, or differs from the first.
pub fn dims_of(movies: &[&Movie]) -> Result<FeatureDims, FeatureError> {
    let Some(first) = movies.first() else {
        return Ok(FeatureDims::CHALLENGE);
    };
    let mut dims = FeatureDims::CHALLENGE;
    for m in Modality::ALL {
        let f = first.feature(m).ok_or_else(|| missing(first, m))?;
        dims = dims.with(m, f.cols);
    }
    for movie in &movies[1..] {
        modalities(movie, dims).map_err(|e| match e {
            // Here the widths are the first movie's, not a model's.
            FeatureError::Width {
                imdb_id,
                field,
                got,
                expected,
                ..
            } => FeatureError::Disagree {
                imdb_id,
                field,
                got,
                first: first.imdb_id.clone(),
                expected,
            },
            other => other,
        })?;
    }
    Ok(dims)
}

/// A movie's four modalities, each checked against `dims`. Errors: a modality is missing or
/// is not as wide as `dims` says (the model's widths).
fn modalities(movie: &Movie, dims: FeatureDims) -> Result<Vec<&FeatureMatrix>, FeatureError> {
    Modality::ALL
        .iter()
        .map(|&m| {
            let f = movie.feature(m).ok_or_else(|| missing(movie, m))?;
            if f.cols != dims.get(m) {
                return Err(FeatureError::Width {
                    imdb_id: movie.imdb_id.clone(),
                    field: m.field(),
                    got: f.cols,
                    expected: dims.get(m),
                    dims,
                });
            }
            Ok(f)
        })
        .collect()
}

/// Whether a model reading features of widths `dims` can read `movie`. Errors: as
/// [`concat_features`].
pub fn check_features(movie: &Movie, dims: FeatureDims) -> Result<(), FeatureError> {
    modalities(movie, dims).map(|_| ())
}

/// A movie's four modalities concatenated, row-major `[n_shots, dims.total()]`. Errors: a
/// modality is missing or is not as wide as `dims` says (the model's widths).
pub fn concat_features(movie: &Movie, dims: FeatureDims) -> Result<Vec<f32>, FeatureError> {
    let mats = modalities(movie, dims)?;
    let mut out = Vec::with_capacity(movie.n_shots * dims.total());
    for i in 0..movie.n_shots {
        for f in &mats {
            out.extend_from_slice(&f.row(i));
        }
    }
    Ok(out)
}

/// [`Normalization::fit_with`] a movie at a time, so that only one movie's concatenated rows
/// need exist at once.
pub struct NormalizationFit {
    dims: FeatureDims,
    keep_empty_rows: bool,
    sum: Vec<f64>,
    sq: Vec<f64>,
    /// Rows counted per modality.
    n: [usize; 4],
}

impl NormalizationFit {
    pub fn new(dims: FeatureDims, keep_empty_rows: bool) -> NormalizationFit {
        NormalizationFit {
            dims,
            keep_empty_rows,
            sum: vec![0.0; dims.total()],
            sq: vec![0.0; dims.total()],
            n: [0; 4],
        }
    }

    /// Count the shots of one movie's rows (`dims.total()` wide).
    pub fn add(&mut self, rows: &[f32]) {
        let dims = self.dims;
        for row in rows.chunks_exact(dims.total()) {
            for modality in Modality::ALL {
                if self.keep_empty_rows && empty(row, dims, modality) {
                    continue;
                }
                let r = dims.range(modality);
                for ((s, q), &v) in self.sum[r.clone()]
                    .iter_mut()
                    .zip(&mut self.sq[r.clone()])
                    .zip(&row[r])
                {
                    *s += v as f64;
                    *q += (v as f64) * (v as f64);
                }
                self.n[modality.index()] += 1;
            }
        }
    }

    /// Mean and deviation per column over the rows counted.
    pub fn finish(self) -> Normalization {
        let mut norm = Normalization::identity(self.dims);
        norm.keep_empty_rows = self.keep_empty_rows;
        for modality in Modality::ALL {
            let count = self.n[modality.index()].max(1) as f64;
            for j in self.dims.range(modality) {
                let mu = self.sum[j] / count;
                let var = (self.sq[j] / count - mu * mu).max(0.0);
                norm.mean[j] = mu as f32;
                // A constant feature carries nothing; dividing by 1 keeps it finite.
                norm.std[j] = if var > 1e-12 { var.sqrt() as f32 } else { 1.0 };
            }
        }
        norm
    }
}

impl Normalization {
    /// No scaling: mean 0 and deviation 1 for every column of `dims`.
    pub fn identity(dims: FeatureDims) -> Normalization {
        Normalization {
            mean: vec![0.0; dims.total()],
            std: vec![1.0; dims.total()],
            keep_empty_rows: false,
            dims,
        }
    }

    /// Statistics over every shot of `movies` (rows of concatenated features, `dims` wide).
    pub fn fit(movies: &[&[f32]], dims: FeatureDims) -> Normalization {
        Normalization::fit_with(movies, dims, false)
    }

    /// Statistics over the shots of `movies`; with `keep_empty_rows`, over each modality's
    /// rows that are not all zero, which then stay zero.
    pub fn fit_with(movies: &[&[f32]], dims: FeatureDims, keep_empty_rows: bool) -> Normalization {
        let mut fit = NormalizationFit::new(dims, keep_empty_rows);
        for m in movies {
            fit.add(m);
        }
        fit.finish()
    }

    /// Leave modality `m` as it is: mean 0 and deviation 1 over its columns.
    pub fn leave_unscaled(&mut self, m: Modality) {
        let r = self.dims.range(m);
        self.mean[r.clone()].fill(0.0);
        self.std[r].fill(1.0);
    }

    /// Normalise rows (`dims.total()` wide) in place.
    pub fn apply(&self, rows: &mut [f32]) {
        let dims = self.dims;
        for row in rows.chunks_exact_mut(dims.total()) {
            if self.keep_empty_rows {
                for modality in Modality::ALL {
                    if empty(row, dims, modality) {
                        continue;
                    }
                    let r = dims.range(modality);
                    for ((v, m), s) in row[r.clone()]
                        .iter_mut()
                        .zip(&self.mean[r.clone()])
                        .zip(&self.std[r])
                    {
                        *v = (*v - m) / s;
                    }
                }
            } else {
                for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                    *v = (*v - m) / s;
                }
            }
        }
    }

    /// Errors: the vectors are not `dims.total()` long, or hold a non-finite mean or a
    /// non-positive deviation.
    pub fn check(&self) -> Result<(), String> {
        let width = self.dims.total();
        if self.mean.len() != width || self.std.len() != width {
            return Err(format!(
                "normalisation has {} means and {} deviations, expected {width} ({})",
                self.mean.len(),
                self.std.len(),
                self.dims
            ));
        }
        if self.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
            || self.mean.iter().any(|m| !m.is_finite())
        {
            return Err("normalisation holds a non-finite or non-positive value".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIMS: FeatureDims = FeatureDims::CHALLENGE;

    /// A shot row with `place` everywhere in place, `cast` in cast, zero elsewhere.
    fn row(place: f32, cast: f32) -> Vec<f32> {
        let mut r = vec![0f32; DIMS.total()];
        r[DIMS.range(Modality::Place)].fill(place);
        r[DIMS.range(Modality::Cast)].fill(cast);
        r
    }

    #[test]
    fn empty_rows_stay_zero_and_stay_out_of_the_statistics() {
        let rows: Vec<f32> = [row(1.0, 0.0), row(3.0, 2.0), row(5.0, 4.0)].concat();
        let keep = Normalization::fit_with(&[&rows], DIMS, true);
        let cast = DIMS.range(Modality::Cast).start;
        // Cast statistics over the two detected rows only.
        assert_eq!((keep.mean[cast], keep.std[cast]), (3.0, 1.0));
        assert_eq!(keep.mean[0], 3.0);
        let mut applied = rows.clone();
        keep.apply(&mut applied);
        assert_eq!(applied[cast], 0.0, "an empty cast row stays empty");
        assert_eq!(applied[DIMS.total() + cast], -1.0);
        // Action and audio are empty everywhere: zero, with finite statistics.
        assert!(applied.iter().all(|v| v.is_finite()));
        assert!(keep.check().is_ok());

        let plain = Normalization::fit(&[&rows], DIMS);
        assert!(!plain.keep_empty_rows);
        assert_eq!(plain, Normalization::fit_with(&[&rows], DIMS, false));
        let mut z = rows.clone();
        plain.apply(&mut z);
        assert!(
            z[cast] < -1.0,
            "z-scored, an empty row is a vector like any other"
        );
        let mut unscaled = keep.clone();
        unscaled.leave_unscaled(Modality::Place);
        let mut same = rows.clone();
        unscaled.apply(&mut same);
        assert_eq!(same[..DIMS.total()], rows[..DIMS.total()]);
        // Checkpoints written before the flag read back without it.
        let old: Normalization = serde_json::from_str(r#"{"mean":[0.0],"std":[1.0]}"#).unwrap();
        assert!(!old.keep_empty_rows);
        assert_eq!(old.dims, FeatureDims::CHALLENGE);
    }
}
