//! One movie, shot by shot.

use crate::pickle::{ArrayData, Field, NdArray, Record};

/// Names of the fields in a movie file, as the challenge writes them.
pub const FIELD_IMDB_ID: &str = "imdb_id";
pub const FIELD_GROUND_TRUTH: &str = "scene_transition_boundary_ground_truth";
pub const FIELD_PREDICTION: &str = "scene_transition_boundary_prediction";
pub const FIELD_SHOT_END_FRAME: &str = "shot_end_frame";

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

    /// Feature width in the real data.
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
    pub data: Vec<f32>,
}

impl FeatureMatrix {
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    pub fn bytes(&self) -> usize {
        self.data.len() * std::mem::size_of::<f32>()
    }
}

/// A movie: its features per modality and its per-transition labels and scores.
///
/// Every part may be absent (an evaluation-only file has no features), but what is present
/// is consistent: `n_shots` rows per feature, `n_shots - 1` transitions, strictly increasing
/// end frames, finite features.
#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    pub imdb_id: String,
    pub n_shots: usize,
    /// Indexed by [`Modality::index`].
    pub features: [Option<FeatureMatrix>; 4],
    pub ground_truth: Option<Vec<bool>>,
    /// The file's own `scene_transition_boundary_prediction`.
    pub prediction: Option<Vec<f32>>,
    pub shot_end_frame: Option<Vec<i64>>,
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
            + self.prediction.as_ref().map_or(0, |v| v.len() * 4)
            + self.shot_end_frame.as_ref().map_or(0, |v| v.len() * 8)
    }

    /// Build a movie from a decoded file and check that its parts agree.
    pub fn from_record(record: Record) -> Result<Movie, MovieError> {
        movie_from_record(record)
    }

    /// The record `pickle::write_record` writes for this movie (fields in the challenge's order).
    pub fn to_record(&self) -> Record {
        let mut r: Record = vec![(FIELD_IMDB_ID.into(), Field::Str(self.imdb_id.clone()))];
        for m in Modality::ALL {
            if let Some(f) = self.feature(m) {
                r.push((
                    m.field().into(),
                    Field::Array(NdArray {
                        shape: vec![f.rows, f.cols],
                        data: ArrayData::F32(f.data.clone()),
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
                    data: ArrayData::F32(p.clone()),
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

fn bad(field: &str, problem: impl Into<String>) -> MovieError {
    MovieError::BadField {
        field: field.into(),
        problem: problem.into(),
    }
}

fn take_array(record: &mut Record, name: &str) -> Result<Option<NdArray>, MovieError> {
    let Some(pos) = record.iter().position(|(k, _)| k == name) else {
        return Ok(None);
    };
    match record.swap_remove(pos).1 {
        Field::Array(a) => Ok(Some(a)),
        Field::Str(_) => Err(bad(name, "is a string, expected a tensor")),
    }
}

fn to_f32(name: &str, a: NdArray) -> Result<Vec<f32>, MovieError> {
    let v = match a.data {
        ArrayData::F32(v) => v,
        ArrayData::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        ArrayData::F16(v) => v.into_iter().map(|x| x.to_f32()).collect(),
        ArrayData::BF16(v) => v.into_iter().map(|x| x.to_f32()).collect(),
        other => {
            return Err(bad(
                name,
                format!("has dtype {}, expected a float type", other.dtype().name()),
            ));
        }
    };
    Ok(v)
}

fn movie_from_record(mut record: Record) -> Result<Movie, MovieError> {
    let imdb_id = match record.iter().find(|(k, _)| k == FIELD_IMDB_ID) {
        Some((_, Field::Str(s))) => s.clone(),
        Some(_) => return Err(bad(FIELD_IMDB_ID, "is not a string")),
        None => return Err(MovieError::Missing(FIELD_IMDB_ID.into())),
    };
    let mut n_shots: Option<(usize, &'static str)> = None;
    let mut agree = |n: usize, what: &'static str| -> Result<(), MovieError> {
        match n_shots {
            None => {
                n_shots = Some((n, what));
                Ok(())
            }
            Some((m, first)) if m != n => Err(bad(
                what,
                format!("implies {n} shots but '{first}' implies {m}"),
            )),
            _ => Ok(()),
        }
    };

    let mut features: [Option<FeatureMatrix>; 4] = Default::default();
    for m in Modality::ALL {
        let Some(a) = take_array(&mut record, m.field())? else {
            continue;
        };
        if a.shape.len() != 2 {
            return Err(bad(
                m.field(),
                format!("has shape {:?}, expected [shots, dims]", a.shape),
            ));
        }
        let (rows, cols) = (a.shape[0], a.shape[1]);
        let data = to_f32(m.field(), a)?;
        if let Some(i) = data.iter().position(|x| !x.is_finite()) {
            return Err(bad(
                m.field(),
                format!("has a non-finite value at shot {}", i / cols.max(1)),
            ));
        }
        agree(rows, m.field())?;
        features[m.index()] = Some(FeatureMatrix { rows, cols, data });
    }

    let ground_truth = match take_array(&mut record, FIELD_GROUND_TRUTH)? {
        None => None,
        Some(a) => {
            if a.shape.len() != 1 {
                return Err(bad(
                    FIELD_GROUND_TRUTH,
                    format!("has shape {:?}, expected [transitions]", a.shape),
                ));
            }
            let v: Vec<bool> = match a.data {
                ArrayData::Bool(v) => v,
                other => {
                    let f = other.to_f64_vec();
                    if let Some(x) = f.iter().find(|&&x| x != 0.0 && x != 1.0) {
                        return Err(bad(
                            FIELD_GROUND_TRUTH,
                            format!("holds {x}, expected 0 or 1"),
                        ));
                    }
                    f.into_iter().map(|x| x == 1.0).collect()
                }
            };
            agree(v.len() + 1, FIELD_GROUND_TRUTH)?;
            Some(v)
        }
    };
    let prediction = match take_array(&mut record, FIELD_PREDICTION)? {
        None => None,
        Some(a) => {
            if a.shape.len() != 1 {
                return Err(bad(
                    FIELD_PREDICTION,
                    format!("has shape {:?}, expected [transitions]", a.shape),
                ));
            }
            let v = to_f32(FIELD_PREDICTION, a)?;
            if v.iter().any(|x| x.is_nan()) {
                return Err(bad(FIELD_PREDICTION, "holds NaN"));
            }
            agree(v.len() + 1, FIELD_PREDICTION)?;
            Some(v)
        }
    };
    let shot_end_frame = match take_array(&mut record, FIELD_SHOT_END_FRAME)? {
        None => None,
        Some(a) => {
            if a.shape.len() != 1 {
                return Err(bad(
                    FIELD_SHOT_END_FRAME,
                    format!("has shape {:?}, expected [shots]", a.shape),
                ));
            }
            let v: Vec<i64> = match a.data {
                ArrayData::I64(v) => v,
                ArrayData::I32(v) => v.into_iter().map(i64::from).collect(),
                ArrayData::I16(v) => v.into_iter().map(i64::from).collect(),
                ArrayData::U8(v) => v.into_iter().map(i64::from).collect(),
                ArrayData::I8(v) => v.into_iter().map(i64::from).collect(),
                other => {
                    return Err(bad(
                        FIELD_SHOT_END_FRAME,
                        format!(
                            "has dtype {}, expected an integer type",
                            other.dtype().name()
                        ),
                    ));
                }
            };
            // Non-decreasing rather than strictly increasing: a zero-length shot is odd but
            // the reference evaluator accepts it, so refusing the file would lose a movie.
            if let Some(i) = v.windows(2).position(|w| w[1] < w[0]) {
                return Err(bad(
                    FIELD_SHOT_END_FRAME,
                    format!(
                        "decreases: shot {} ends at frame {}, shot {} at {}",
                        i,
                        v[i],
                        i + 1,
                        v[i + 1]
                    ),
                ));
            }
            agree(v.len(), FIELD_SHOT_END_FRAME)?;
            Some(v)
        }
    };
    let Some((n_shots, _)) = n_shots else {
        return Err(MovieError::NotAMovie(format!(
            "'{imdb_id}' has none of the fields place, cast, action, audio, {FIELD_GROUND_TRUTH}, {FIELD_PREDICTION}, {FIELD_SHOT_END_FRAME}"
        )));
    };
    if n_shots < 2 {
        return Err(MovieError::NotAMovie(format!(
            "'{imdb_id}' has {n_shots} shot(s); a movie needs at least 2"
        )));
    }
    Ok(Movie {
        imdb_id,
        n_shots,
        features,
        ground_truth,
        prediction,
        shot_end_frame,
    })
}
