//! One movie, shot by shot.

use super::scores::Scores;
use crate::pickle::{ArrayData, Field, NdArray, Record};

/// Names of the fields in a movie file, as the challenge writes them.
pub const FIELD_IMDB_ID: &str = "imdb_id";
pub const FIELD_GROUND_TRUTH: &str = "scene_transition_boundary_ground_truth";
pub const FIELD_PREDICTION: &str = "scene_transition_boundary_prediction";
pub const FIELD_SHOT_END_FRAME: &str = "shot_end_frame";
/// SceneLab's own optional field: per transition, whether the annotators were unsure (a
/// MovieNet label of -1). The challenge's files do not have it; its evaluator ignores it.
pub const FIELD_UNCERTAIN: &str = "scene_transition_boundary_uncertain";

/// The four feature modalities of a shot, in the order models concatenate them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Modality {
    Place,
    Cast,
    Action,
    Audio,
}

impl Modality {
    pub const ALL: [Modality; 4] = [
        Modality::Place,
        Modality::Cast,
        Modality::Action,
        Modality::Audio,
    ];

    /// Field name in the pkl file.
    pub fn field(self) -> &'static str {
        match self {
            Modality::Place => "place",
            Modality::Cast => "cast",
            Modality::Action => "action",
            Modality::Audio => "audio",
        }
    }

    /// Feature width in the challenge's files (MovieNet's own extraction can differ: its
    /// action features are 2048-d).
    pub fn dim(self) -> usize {
        match self {
            Modality::Place => 2048,
            _ => 512,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A row-major `[rows, cols]` matrix of f32 features, one row per shot.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    pub rows: usize,
    pub cols: usize,
    /// Shared, never copied: a movie cloned to edit its labels keeps its features in place.
    pub data: std::sync::Arc<[f32]>,
}

impl FeatureMatrix {
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<f32>()
    }
}

/// A field of a movie file that is present but cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field '{}' {}", self.field, self.problem)
    }
}

/// A movie: its features per modality and its per-transition labels and scores.
///
/// Every part may be absent (an evaluation-only file has no features, a prediction may be
/// unreadable), but what is present is consistent: `n_shots` rows per feature, `n_shots - 1`
/// transitions, non-decreasing end frames, finite features. Fields are read one by one: a
/// field that cannot be used is left out and listed in `issues`, and the rest stays usable.
#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    pub imdb_id: String,
    pub n_shots: usize,
    /// Indexed by [`Modality::index`].
    pub features: [Option<FeatureMatrix>; 4],
    pub ground_truth: Option<Vec<bool>>,
    /// The file's own `scene_transition_boundary_prediction`, at the file's precision.
    pub prediction: Option<Scores>,
    pub shot_end_frame: Option<Vec<i64>>,
    /// Transitions (ascending indices) whose label was "unsure" (MovieNet's -1). They count as
    /// boundaries in `ground_truth`, as the challenge's ground truth and MovieNet's code
    /// count them; the timeline marks them apart.
    pub uncertain: Vec<usize>,
    /// Fields present in the file but left out, with the reason, in reading order.
    pub issues: Vec<FieldIssue>,
    /// Fields read with a caveat (a `[n-1, 1]` column read as one value per transition).
    pub notes: Vec<String>,
}

/// What is wrong with a movie record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MovieError {
    #[error("the file is not a movie: {0}")]
    NotAMovie(String),
    #[error("field '{field}' {problem}")]
    BadField { field: String, problem: String },
    #[error("missing field '{0}'")]
    Missing(String),
}

impl Movie {
    pub fn feature(&self, m: Modality) -> Option<&FeatureMatrix> {
        self.features[m.index()].as_ref()
    }

    /// Number of shot transitions (`n_shots - 1`).
    pub fn n_transitions(&self) -> usize {
        self.n_shots.saturating_sub(1)
    }

    /// Number of ground-truth scenes (boundaries + 1), if the ground truth is present.
    pub fn n_scenes(&self) -> Option<usize> {
        self.ground_truth
            .as_ref()
            .map(|g| g.iter().filter(|&&b| b).count() + 1)
    }

    /// Whether all four modalities are present (needed for training and prediction).
    pub fn has_all_features(&self) -> bool {
        self.features.iter().all(Option::is_some)
    }

    /// Whether a model can train on (and be validated or tested on) this movie: it has ground
    /// truth and all four modalities.
    pub fn is_trainable(&self) -> bool {
        self.ground_truth.is_some() && self.has_all_features()
    }

    /// Bytes held by the decoded tensors of this movie.
    pub fn tensor_bytes(&self) -> usize {
        let f: usize = self
            .features
            .iter()
            .flatten()
            .map(FeatureMatrix::bytes)
            .sum();
        f + self.ground_truth.as_ref().map_or(0, Vec::len)
            + self.prediction.as_ref().map_or(0, Scores::bytes)
            + self.shot_end_frame.as_ref().map_or(0, |v| v.len() * 8)
    }

    /// Build a movie from a decoded file, field by field: a field that cannot be used (wrong
    /// dtype or shape, a length that disagrees with the others, unreadable) is listed in
    /// `issues` and left out. Refused only without a string `imdb_id`, or when no field
    /// gives at least two shots.
    pub fn from_record(record: Record) -> Result<Movie, MovieError> {
        super::fields::movie_from_record(record)
    }

    /// The problem of `field`, if the file had it but it could not be used.
    pub fn issue(&self, field: &str) -> Option<&FieldIssue> {
        self.issues.iter().find(|i| i.field == field)
    }

    /// The record `pickle::write_record` writes for this movie (fields in the challenge's order,
    /// and [`FIELD_UNCERTAIN`] after the ground truth when a transition is uncertain).
    pub fn to_record(&self) -> Record {
        let mut r: Record = vec![(FIELD_IMDB_ID.into(), Field::Str(self.imdb_id.clone()))];
        for m in Modality::ALL {
            if let Some(f) = self.feature(m) {
                r.push((
                    m.field().into(),
                    Field::Array(NdArray {
                        shape: vec![f.rows, f.cols],
                        data: ArrayData::F32(f.data.to_vec()),
                    }),
                ));
            }
        }
        if let Some(g) = &self.ground_truth {
            r.push((
                FIELD_GROUND_TRUTH.into(),
                Field::Array(NdArray {
                    shape: vec![g.len()],
                    data: ArrayData::Bool(g.clone()),
                }),
            ));
        }
        if let Some(p) = &self.prediction {
            r.push((
                FIELD_PREDICTION.into(),
                Field::Array(NdArray {
                    shape: vec![p.len()],
                    data: p.to_array_data(),
                }),
            ));
        }
        if !self.uncertain.is_empty() {
            let mut flags = vec![false; self.n_transitions()];
            for &t in &self.uncertain {
                if let Some(f) = flags.get_mut(t) {
                    *f = true;
                }
            }
            r.push((
                FIELD_UNCERTAIN.into(),
                Field::Array(NdArray {
                    shape: vec![flags.len()],
                    data: ArrayData::Bool(flags),
                }),
            ));
        }
        if let Some(s) = &self.shot_end_frame {
            // The real data holds end frames as int32; keep that unless a value does not fit.
            let data = if s.iter().all(|&v| i32::try_from(v).is_ok()) {
                ArrayData::I32(s.iter().map(|&v| v as i32).collect())
            } else {
                ArrayData::I64(s.clone())
            };
            r.push((
                FIELD_SHOT_END_FRAME.into(),
                Field::Array(NdArray {
                    shape: vec![s.len()],
                    data,
                }),
            ));
        }
        r
    }
}
