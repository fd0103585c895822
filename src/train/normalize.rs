//! Feature normalisation: per-feature mean and standard deviation over the training movies'
//! shots, stored with the model so prediction normalises exactly as training did.

use crate::data::{Modality, Movie};
use crate::model::FEATURE_DIM;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
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
            out.extend_from_slice(f.row(i));
        }
    }
    Ok(out)
}

impl Normalization {
    /// Statistics over every shot of `movies` (rows of concatenated features).
    pub fn fit(movies: &[&[f32]]) -> Normalization {
        let mut sum = vec![0f64; FEATURE_DIM];
        let mut sq = vec![0f64; FEATURE_DIM];
        let mut n = 0usize;
        for m in movies {
            for row in m.chunks_exact(FEATURE_DIM) {
                for ((s, q), &v) in sum.iter_mut().zip(&mut sq).zip(row) {
                    *s += v as f64;
                    *q += (v as f64) * (v as f64);
                }
                n += 1;
            }
        }
        let n = n.max(1) as f64;
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sum
            .iter()
            .zip(&sq)
            .map(|(s, q)| {
                let var = (q / n - (s / n) * (s / n)).max(0.0);
                // A constant feature carries nothing; dividing by 1 keeps it finite.
                if var > 1e-12 { var.sqrt() as f32 } else { 1.0 }
            })
            .collect();
        Normalization { mean, std }
    }

    /// Normalise rows in place.
    pub fn apply(&self, rows: &mut [f32]) {
        for row in rows.chunks_exact_mut(FEATURE_DIM) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
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
