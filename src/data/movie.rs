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

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How feature values are held in memory. `F16` halves the memory of a data set (MovieNet-318
/// entire: about 7 GB as f32, 3.5 GB as f16) at a relative rounding error of at most 2^-11
/// per value; models still compute in f32 (a movie's rows are widened when a model reads
/// them).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum FeaturePrecision {
    /// 32-bit floats, as the files hold them.
    #[default]
    F32,
    /// IEEE half precision, 2 bytes a value.
    F16,
}

impl FeaturePrecision {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            FeaturePrecision::F32 => 4,
            FeaturePrecision::F16 => 2,
        }
    }
}

impl std::fmt::Display for FeaturePrecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FeaturePrecision::F32 => "f32",
            FeaturePrecision::F16 => "f16",
        })
    }
}

/// The values of a [`FeatureMatrix`], row-major, at the precision chosen when loading.
/// Shared, never copied: a movie cloned to edit its labels keeps its features in place.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureData {
    F32(std::sync::Arc<[f32]>),
    F16(std::sync::Arc<[half::f16]>),
}

impl FeatureData {
    pub fn len(&self) -> usize {
        match self {
            FeatureData::F32(v) => v.len(),
            FeatureData::F16(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn precision(&self) -> FeaturePrecision {
        match self {
            FeatureData::F32(_) => FeaturePrecision::F32,
            FeatureData::F16(_) => FeaturePrecision::F16,
        }
    }
}

/// A row-major `[rows, cols]` matrix of features, one row per shot, held as f32 or f16
/// ([`FeaturePrecision`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    pub rows: usize,
    pub cols: usize,
    pub data: FeatureData,
}

impl FeatureMatrix {
    /// An f32 matrix; `data.len()` must be `rows * cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> FeatureMatrix {
        debug_assert_eq!(data.len(), rows * cols);
        FeatureMatrix {
            rows,
            cols,
            data: FeatureData::F32(data.into()),
        }
    }

    /// Row `i` as f32: borrowed when held as f32, widened when held as f16.
    pub fn row(&self, i: usize) -> std::borrow::Cow<'_, [f32]> {
        let range = i * self.cols..(i + 1) * self.cols;
        match &self.data {
            FeatureData::F32(v) => std::borrow::Cow::Borrowed(&v[range]),
            FeatureData::F16(v) => v[range].iter().map(|x| x.to_f32()).collect(),
        }
    }

    /// The values as f32, borrowed when held so.
    pub fn values(&self) -> std::borrow::Cow<'_, [f32]> {
        match &self.data {
            FeatureData::F32(v) => std::borrow::Cow::Borrowed(&v[..]),
            FeatureData::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
        }
    }

    /// The values as f32, taking them when held so.
    pub fn into_values(self) -> Vec<f32> {
        match self.data {
            FeatureData::F32(v) => v.to_vec(),
            FeatureData::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
        }
    }

    pub fn precision(&self) -> FeaturePrecision {
        self.data.precision()
    }

    /// The matrix held at `precision` (f32 to f16 rounds to nearest; f16 to f32 is exact).
    pub fn into_precision(self, precision: FeaturePrecision) -> FeatureMatrix {
        let data = match (self.data, precision) {
            (FeatureData::F32(v), FeaturePrecision::F16) => {
                FeatureData::F16(v.iter().copied().map(half::f16::from_f32).collect())
            }
            (FeatureData::F16(v), FeaturePrecision::F32) => {
                FeatureData::F32(v.iter().map(|x| x.to_f32()).collect())
            }
            (same, _) => same,
        };
        FeatureMatrix { data, ..self }
    }

    pub fn bytes(&self) -> usize {
        self.data.len() * self.precision().size()
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

    /// Hold every feature matrix at `precision` (see [`FeaturePrecision`]).
    pub fn set_feature_precision(&mut self, precision: FeaturePrecision) {
        for f in &mut self.features {
            if let Some(m) = f.take() {
                *f = Some(m.into_precision(precision));
            }
        }
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
                        data: ArrayData::F32(f.values().into_owned()),
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
