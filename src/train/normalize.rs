//! Feature normalisation: per-feature mean and standard deviation over the training movies'
//! shots, stored with the model so prediction normalises exactly as training did.
//!
//! Real cast and action features are all-zero rows where nothing was detected (a third of
//! the cast rows, a seventh of the action rows). Z-scored like the other rows, every such row
//! becomes the same vector (minus the mean over the standard deviation), which looks like one
//! more face or action and hides the cue that the people change. With
//! [`Normalization::keep_empty_rows`] a modality's all-zero row stays zero (no evidence) and
//! the statistics are fitted on the rows that hold a detection.

use crate::data::{Modality, Movie};
use crate::model::{FEATURE_DIM, modality_range};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// A modality's all-zero row stays zero, and the statistics leave such rows out
    /// (checkpoints written before this existed read back `false`).
    #[serde(default)]
    pub keep_empty_rows: bool,
}

/// Whether the shot `row` (all four modalities) has an all-zero row in `m`.
fn empty(row: &[f32], m: Modality) -> bool {
    row[modality_range(m)].iter().all(|&v| v == 0.0)
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
    #[error("movie '{imdb_id}': '{field}' has {got} columns, expected {expected}")]
    Width {
        imdb_id: String,
        field: &'static str,
        got: usize,
        expected: usize,
    },
}

/// A movie's four modalities concatenated, row-major `[n_shots, FEATURE_DIM]`.
pub fn concat_features(movie: &Movie) -> Result<Vec<f32>, FeatureError> {
    let mut mats = Vec::with_capacity(4);
    for m in Modality::ALL {
        let f = movie.feature(m).ok_or_else(|| FeatureError::Missing {
            imdb_id: movie.imdb_id.clone(),
            field: m.field(),
        })?;
        if f.cols != m.dim() {
            return Err(FeatureError::Width {
                imdb_id: movie.imdb_id.clone(),
                field: m.field(),
                got: f.cols,
                expected: m.dim(),
            });
        }
        mats.push(f);
    }
    let mut out = Vec::with_capacity(movie.n_shots * FEATURE_DIM);
    for i in 0..movie.n_shots {
        for f in &mats {
            out.extend_from_slice(&f.row(i));
        }
    }
    Ok(out)
}

impl Normalization {
    /// Statistics over every shot of `movies` (rows of concatenated features).
    pub fn fit(movies: &[&[f32]]) -> Normalization {
        Normalization::fit_with(movies, false)
    }

    /// Statistics over the shots of `movies`; with `keep_empty_rows`, over each modality's
    /// rows that are not all zero, which then stay zero.
    pub fn fit_with(movies: &[&[f32]], keep_empty_rows: bool) -> Normalization {
        let mut sum = vec![0f64; FEATURE_DIM];
        let mut sq = vec![0f64; FEATURE_DIM];
        let mut n = [0usize; 4];
        for m in movies {
            for row in m.chunks_exact(FEATURE_DIM) {
                for modality in Modality::ALL {
                    if keep_empty_rows && empty(row, modality) {
                        continue;
                    }
                    let r = modality_range(modality);
                    for ((s, q), &v) in sum[r.clone()]
                        .iter_mut()
                        .zip(&mut sq[r.clone()])
                        .zip(&row[r])
                    {
                        *s += v as f64;
                        *q += (v as f64) * (v as f64);
                    }
                    n[modality.index()] += 1;
                }
            }
        }
        let mut mean = vec![0f32; FEATURE_DIM];
        let mut std = vec![1f32; FEATURE_DIM];
        for modality in Modality::ALL {
            let count = n[modality.index()].max(1) as f64;
            for j in modality_range(modality) {
                let mu = sum[j] / count;
                let var = (sq[j] / count - mu * mu).max(0.0);
                mean[j] = mu as f32;
                // A constant feature carries nothing; dividing by 1 keeps it finite.
                std[j] = if var > 1e-12 { var.sqrt() as f32 } else { 1.0 };
            }
        }
        Normalization {
            mean,
            std,
            keep_empty_rows,
        }
    }

    /// Leave modality `m` as it is: mean 0 and deviation 1 over its columns.
    pub fn leave_unscaled(&mut self, m: Modality) {
        let r = modality_range(m);
        self.mean[r.clone()].fill(0.0);
        self.std[r].fill(1.0);
    }

    /// Normalise rows in place.
    pub fn apply(&self, rows: &mut [f32]) {
        for row in rows.chunks_exact_mut(FEATURE_DIM) {
            if self.keep_empty_rows {
                for modality in Modality::ALL {
                    if empty(row, modality) {
                        continue;
                    }
                    let r = modality_range(modality);
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

    pub fn check(&self) -> Result<(), String> {
        if self.mean.len() != FEATURE_DIM || self.std.len() != FEATURE_DIM {
            return Err(format!(
                "normalisation has {} means and {} deviations, expected {FEATURE_DIM}",
                self.mean.len(),
                self.std.len()
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

    /// A shot row with `place` everywhere in place, `cast` in cast, zero elsewhere.
    fn row(place: f32, cast: f32) -> Vec<f32> {
        let mut r = vec![0f32; FEATURE_DIM];
        r[modality_range(Modality::Place)].fill(place);
        r[modality_range(Modality::Cast)].fill(cast);
        r
    }

    #[test]
    fn empty_rows_stay_zero_and_stay_out_of_the_statistics() {
        let rows: Vec<f32> = [row(1.0, 0.0), row(3.0, 2.0), row(5.0, 4.0)].concat();
        let keep = Normalization::fit_with(&[&rows], true);
        let cast = modality_range(Modality::Cast).start;
        // Cast statistics over the two detected rows only.
        assert_eq!((keep.mean[cast], keep.std[cast]), (3.0, 1.0));
        assert_eq!(keep.mean[0], 3.0);
        let mut applied = rows.clone();
        keep.apply(&mut applied);
        assert_eq!(applied[cast], 0.0, "an empty cast row stays empty");
        assert_eq!(applied[FEATURE_DIM + cast], -1.0);
        // Action and audio are empty everywhere: zero, with finite statistics.
        assert!(applied.iter().all(|v| v.is_finite()));
        assert!(keep.check().is_ok());

        let plain = Normalization::fit(&[&rows]);
        assert!(!plain.keep_empty_rows);
        assert_eq!(plain, Normalization::fit_with(&[&rows], false));
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
        assert_eq!(same[..FEATURE_DIM], rows[..FEATURE_DIM]);
        // Checkpoints written before the flag read back without it.
        let old: Normalization = serde_json::from_str(r#"{"mean":[0.0],"std":[1.0]}"#).unwrap();
        assert!(!old.keep_empty_rows);
    }
}
