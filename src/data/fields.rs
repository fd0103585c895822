//! Reading a movie file's fields one by one, in every dtype and container users write.
//!
//! Each field is converted on its own: a prediction that is a `pandas.Series`, a ground truth
//! of the wrong length or a feature matrix with a NaN is reported on that field, and the
//! others stay usable (training needs the features and the ground truth; evaluation the ground
//! truth, a prediction and the end frames). The same conversions serve `scenelab evaluate`
//! for any field it is asked to score.

use super::movie::{
    FIELD_GROUND_TRUTH, FIELD_IMDB_ID, FIELD_PREDICTION, FIELD_SHOT_END_FRAME, FIELD_UNCERTAIN,
    FeatureMatrix, FieldIssue, Modality, Movie, MovieError,
};
use super::scores::Scores;
use crate::pickle::{ArrayData, Field, NdArray, Record};

/// A field's value and the caveat it was read with (`None`: read as is), or why it cannot
/// be used.
pub type Converted<T> = Result<(T, Option<String>), String>;

/// Converts one field's array, checking its length against the shot count.
type FieldReader<'a> = dyn FnMut(NdArray, &mut ShotCount) -> Result<Option<String>, String> + 'a;

/// One value per transition (or per shot) from an array of shape `[n]`, or `[n, 1]` /
/// `[1, n]` as a Keras output or a row vector is written; the caveat, if any, comes back as a
/// note. Other shapes are refused, naming the shape.
pub fn one_per_transition(array: NdArray, what: &str) -> Converted<ArrayData> {
    match array.shape.as_slice() {
        [_] => Ok((array.data, None)),
        &[_, 1] | &[1, _] => Ok((
            array.data,
            Some(format!(
                "is a single column or row ([{what}s, 1] or [1, {what}s]); read as one value per \
                 {what}"
            )),
        )),
        &[_, 2] if what == "transition" => Err(format!(
            "has shape {:?}, two values per {what} (predict_proba's output?); save one score per \
             {what}, e.g. the boundary column [:, 1]",
            array.shape
        )),
        shape => Err(format!(
            "has shape {shape:?}, expected one value per {what} (shape [{what}s], or a \
             [{what}s, 1] column)"
        )),
    }
}

/// Scores at the array's own precision (see [`Scores`]); NaN is refused (scikit-learn
/// refuses it too), naming the transition.
pub fn scores_from_array(array: NdArray) -> Converted<Scores> {
    let (data, note) = one_per_transition(array, "transition")?;
    let scores = Scores::from_array(&data);
    if let Some(i) = scores.as_slice().first_non_finite() {
        return Err(format!(
            "holds {} at transition {i}; scores must be finite numbers",
            scores.values()[i]
        ));
    }
    Ok((scores, note))
}

/// Ground truth as the reference reads it: `gt == 1` for precision and recall and truthiness
/// for scenes, which agree only for 0/1 values, so bool and any numeric dtype holding 0 and 1
/// are read, and anything else is refused naming the value.
pub fn ground_truth_from_array(array: NdArray) -> Converted<Vec<bool>> {
    let (data, note) = one_per_transition(array, "transition")?;
    if let ArrayData::Bool(v) = data {
        return Ok((v, note));
    }
    let values = data.to_f64_vec();
    match values.iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(i) => Err(format!(
            "holds {} at transition {i}; expected 0 or 1 (or bool)",
            values[i]
        )),
        None => Ok((values.iter().map(|&v| v == 1.0).collect(), note)),
    }
}

/// Shot end frames: any integer dtype (int32 in the real data, int64 in some copies), or
/// floats holding whole numbers; they may not decrease.
pub fn end_frames_from_array(array: NdArray) -> Converted<Vec<i64>> {
    let (data, note) = one_per_transition(array, "shot")?;
    let v: Vec<i64> = match data {
        ArrayData::I64(v) => v,
        ArrayData::I32(v) => v.into_iter().map(i64::from).collect(),
        ArrayData::I16(v) => v.into_iter().map(i64::from).collect(),
        ArrayData::I8(v) => v.into_iter().map(i64::from).collect(),
        ArrayData::U8(v) => v.into_iter().map(i64::from).collect(),
        other => {
            return Err(format!(
                "has dtype {}, expected integer frame numbers",
                other.dtype().name()
            ));
        }
    };
    // Non-decreasing rather than strictly increasing: a zero-length shot is odd but the
    // reference evaluator accepts it, so refusing the file would lose a movie.
    if let Some(i) = v.windows(2).position(|w| w[1] < w[0]) {
        return Err(format!(
            "decreases: shot {} ends at frame {}, shot {} at {}",
            i,
            v[i],
            i + 1,
            v[i + 1]
        ));
    }
    Ok((v, note))
}

/// A `[shots, dims]` feature matrix as f32 (what the models consume), from any numeric dtype.
fn features_from_array(array: NdArray) -> Result<FeatureMatrix, String> {
    let [rows, cols] = array.shape[..] else {
        return Err(format!(
            "has shape {:?}, expected [shots, dims]",
            array.shape
        ));
    };
    let data: Vec<f32> = match array.data {
        ArrayData::F32(v) => v,
        ArrayData::F16(v) => v.into_iter().map(|x| x.to_f32()).collect(),
        ArrayData::BF16(v) => v.into_iter().map(|x| x.to_f32()).collect(),
        other => other.to_f64_vec().into_iter().map(|x| x as f32).collect(),
    };
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        return Err(format!(
            "has a non-finite value at shot {}",
            i / cols.max(1)
        ));
    }
    Ok(FeatureMatrix::new(rows, cols, data))
}

/// The array of field `name`, or why it is not one. `Ok(None)`: the file has no such field.
pub fn take_array(record: &mut Record, name: &str) -> Result<Option<NdArray>, String> {
    let Some(pos) = record.iter().position(|(k, _)| k == name) else {
        return Ok(None);
    };
    match record.swap_remove(pos).1 {
        Field::Array(a) => Ok(Some(a)),
        Field::Str(_) => Err("is a string, expected a tensor or array".into()),
        Field::Unreadable(reason) => Err(reason),
    }
}

/// The shot count the fields agree on: the first field read sets it, and a later field of
/// another length is refused naming both lengths.
struct ShotCount {
    first: Option<(usize, &'static str)>,
}

impl ShotCount {
    /// Check that `field`, whose length implies `shots` shots, agrees with what came first.
    /// `per_shot`: the field has one value per shot (else one per transition).
    fn agree(&mut self, shots: usize, field: &'static str, per_shot: bool) -> Result<(), String> {
        let len = if per_shot {
            shots
        } else {
            shots.saturating_sub(1)
        };
        match self.first {
            None => {
                self.first = Some((shots, field));
                Ok(())
            }
            Some((n, first)) if n != shots => Err(if per_shot {
                format!("has {len} shots, but '{first}' gives {n} shots")
            } else {
                format!(
                    "has {len} values, but '{first}' gives {n} shots, so {} values (one per \
                     transition, shots - 1) are expected",
                    n.saturating_sub(1)
                )
            }),
            Some(_) => Ok(()),
        }
    }
}

pub(super) fn movie_from_record(mut record: Record) -> Result<Movie, MovieError> {
    let imdb_id = match record.iter().find(|(k, _)| k == FIELD_IMDB_ID) {
        Some((_, Field::Str(s))) => s.clone(),
        Some(_) => {
            return Err(MovieError::BadField {
                field: FIELD_IMDB_ID.into(),
                problem: "is not a string".into(),
            });
        }
        None => return Err(MovieError::Missing(FIELD_IMDB_ID.into())),
    };
    let mut issues = Vec::new();
    let mut notes = Vec::new();
    let mut count = ShotCount { first: None };
    // Reads one field; a problem becomes an issue on that field and the field is left out.
    let mut read = |record: &mut Record,
                    field: &'static str,
                    count: &mut ShotCount,
                    convert: &mut FieldReader<'_>| {
        let result = take_array(record, field).and_then(|a| match a {
            None => Ok(None),
            Some(a) => convert(a, count),
        });
        match result {
            Ok(Some(note)) => notes.push(format!("field '{field}' {note}")),
            Ok(None) => {}
            Err(problem) => issues.push(FieldIssue {
                field: field.into(),
                problem,
            }),
        }
    };

    // The end frames name the shots most directly, so they set the count first; the
    // user-written prediction comes last.
    let mut shot_end_frame = None;
    read(
        &mut record,
        FIELD_SHOT_END_FRAME,
        &mut count,
        &mut |a, c| {
            let (v, note) = end_frames_from_array(a)?;
            c.agree(v.len(), FIELD_SHOT_END_FRAME, true)?;
            shot_end_frame = Some(v);
            Ok(note)
        },
    );
    let mut ground_truth = None;
    read(&mut record, FIELD_GROUND_TRUTH, &mut count, &mut |a, c| {
        let (v, note) = ground_truth_from_array(a)?;
        c.agree(v.len() + 1, FIELD_GROUND_TRUTH, false)?;
        ground_truth = Some(v);
        Ok(note)
    });
    let mut uncertain = Vec::new();
    read(&mut record, FIELD_UNCERTAIN, &mut count, &mut |a, c| {
        let (v, note) = ground_truth_from_array(a)?;
        c.agree(v.len() + 1, FIELD_UNCERTAIN, false)?;
        uncertain = v
            .iter()
            .enumerate()
            .filter(|(_, u)| **u)
            .map(|(i, _)| i)
            .collect();
        Ok(note)
    });
    let mut features: [Option<FeatureMatrix>; 4] = Default::default();
    for m in Modality::ALL {
        read(&mut record, m.field(), &mut count, &mut |a, c| {
            let f = features_from_array(a)?;
            c.agree(f.rows, m.field(), true)?;
            let note = width_note(&imdb_id, m, f.cols);
            features[m.index()] = Some(f);
            Ok(note)
        });
    }
    let mut prediction = None;
    read(&mut record, FIELD_PREDICTION, &mut count, &mut |a, c| {
        let (s, note) = scores_from_array(a)?;
        c.agree(s.len() + 1, FIELD_PREDICTION, false)?;
        prediction = Some(s);
        Ok(note)
    });

    let Some((n_shots, _)) = count.first else {
        let why = if issues.is_empty() {
            format!(
                "has none of the fields place, cast, action, audio, {FIELD_GROUND_TRUTH}, \
                 {FIELD_PREDICTION}, {FIELD_SHOT_END_FRAME}"
            )
        } else {
            let list: Vec<String> = issues.iter().map(ToString::to_string).collect();
            format!("has no usable field: {}", list.join("; "))
        };
        return Err(MovieError::NotAMovie(format!("'{imdb_id}' {why}")));
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
        uncertain,
        issues,
        notes,
    })
}

/// A note when modality `m` of movie `imdb_id` is `cols` wide where the challenge's files hold
/// another width (MovieNet's own extraction writes 2048-d action features): models trained on
/// such a data set read it (they take their widths from the data), but a model trained on the
/// challenge's files refuses it.
pub fn width_note(imdb_id: &str, m: Modality, cols: usize) -> Option<String> {
    let challenge = super::FeatureDims::CHALLENGE.get(m);
    (cols != challenge).then(|| {
        format!(
            "of movie '{imdb_id}' has {cols} columns where the challenge's files hold \
             {challenge}: a model trained on this data reads it, but one trained on the \
             challenge's files refuses it"
        )
    })
}
