//! Per-transition scores kept at the precision their source holds.
//!
//! The reference evaluator ranks and thresholds exactly what the file holds: float64 scores
//! (scikit-learn's `predict_proba`) are not rounded to float32, a bool prediction counts as
//! 0/1, integers stay integers. So a prediction is kept as exact f64 values (every f16, bf16,
//! f32, bool and integer of up to 2^53 is one) together with the [`ScorePrecision`] at which
//! numpy compares it with a threshold. Conversion to f32 happens only where a model or a plot
//! consumes the scores.

use half::f16;

use crate::pickle::{ArrayData, DType};

/// The float type in which `scores >= threshold` is evaluated.
///
/// numpy compares an array with a Python float in the array's own float type (NEP 50, and the
/// value-based casting before it): a float32 array against `float32(threshold)`, a float16
/// array against `float16(threshold)`; integer and bool arrays are compared in float64.
/// bfloat16 has no numpy type (users convert with `.float()`), so it compares as float32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ScorePrecision {
    Half,
    Single,
    Double,
}

impl ScorePrecision {
    /// `threshold` rounded to this precision (to nearest, as numpy casts a Python float),
    /// widened back to f64 exactly. `x >= self.threshold(t)` on the exact f64 value of a score
    /// is then the comparison numpy makes.
    pub fn threshold(self, threshold: f64) -> f64 {
        match self {
            ScorePrecision::Half => f16::from_f64(threshold).to_f64(),
            ScorePrecision::Single => f64::from(threshold as f32),
            ScorePrecision::Double => threshold,
        }
    }

    /// The precision numpy gives the concatenation of arrays of precisions `self` and `other`
    /// (the wider one).
    pub fn max(self, other: ScorePrecision) -> ScorePrecision {
        use ScorePrecision::*;
        match (self, other) {
            (Double, _) | (_, Double) => Double,
            (Single, _) | (_, Single) => Single,
            _ => Half,
        }
    }
}

/// A borrowed view of per-transition scores: f32 values (what models produce), or exact f64
/// values with the precision they are compared at.
#[derive(Debug, Clone, Copy)]
pub enum ScoreSlice<'a> {
    F32(&'a [f32]),
    Exact {
        values: &'a [f64],
        precision: ScorePrecision,
    },
}

impl<'a> From<&'a [f32]> for ScoreSlice<'a> {
    fn from(v: &'a [f32]) -> Self {
        ScoreSlice::F32(v)
    }
}

impl<'a> From<&'a Vec<f32>> for ScoreSlice<'a> {
    fn from(v: &'a Vec<f32>) -> Self {
        ScoreSlice::F32(v)
    }
}

impl<'a> From<&'a Scores> for ScoreSlice<'a> {
    fn from(s: &'a Scores) -> Self {
        s.as_slice()
    }
}

impl ScoreSlice<'_> {
    pub fn len(&self) -> usize {
        match self {
            ScoreSlice::F32(v) => v.len(),
            ScoreSlice::Exact { values, .. } => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn precision(&self) -> ScorePrecision {
        match self {
            ScoreSlice::F32(_) => ScorePrecision::Single,
            ScoreSlice::Exact { precision, .. } => *precision,
        }
    }

    /// The score of transition `i`, exactly.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            ScoreSlice::F32(v) => f64::from(v[i]),
            ScoreSlice::Exact { values, .. } => values[i],
        }
    }

    /// Every score, exactly, as f64.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            ScoreSlice::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            ScoreSlice::Exact { values, .. } => values.to_vec(),
        }
    }

    /// The scores as f32: borrowed when they are f32 already, else rounded (for decisions,
    /// models and plots, never for metrics).
    pub fn as_f32(&self) -> std::borrow::Cow<'_, [f32]> {
        match self {
            ScoreSlice::F32(v) => std::borrow::Cow::Borrowed(v),
            ScoreSlice::Exact { .. } => std::borrow::Cow::Owned(self.to_f32_vec()),
        }
    }

    /// Every score rounded to f32 (for models and plots, never for metrics).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match self {
            ScoreSlice::F32(v) => v.to_vec(),
            ScoreSlice::Exact { values, .. } => values.iter().map(|&x| x as f32).collect(),
        }
    }

    /// Position of the first NaN or infinite score.
    pub fn first_non_finite(&self) -> Option<usize> {
        (0..self.len()).find(|&i| !self.get(i).is_finite())
    }
}

/// Per-transition scores as their source holds them: exact values, the precision they are
/// compared at, and the dtype they were read as (so writing them back loses nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    values: Vec<f64>,
    precision: ScorePrecision,
    dtype: DType,
}

impl Scores {
    /// Scores a model produced (f32).
    pub fn from_f32(values: &[f32]) -> Scores {
        Scores {
            values: values.iter().map(|&x| f64::from(x)).collect(),
            precision: ScorePrecision::Single,
            dtype: DType::F32,
        }
    }

    /// float64 scores, compared in float64.
    pub fn from_f64(values: Vec<f64>) -> Scores {
        Scores {
            values,
            precision: ScorePrecision::Double,
            dtype: DType::F64,
        }
    }

    /// The values of any numeric array, exact, with the precision numpy would compare them
    /// at. Integers wider than 2^53 would round; no score file holds such.
    pub fn from_array(data: &ArrayData) -> Scores {
        let dtype = data.dtype();
        let precision = match dtype {
            DType::F16 => ScorePrecision::Half,
            DType::F32 | DType::BF16 => ScorePrecision::Single,
            _ => ScorePrecision::Double,
        };
        Scores {
            values: data.to_f64_vec(),
            precision,
            dtype,
        }
    }

    pub fn as_slice(&self) -> ScoreSlice<'_> {
        ScoreSlice::Exact {
            values: &self.values,
            precision: self.precision,
        }
    }

    /// The exact values.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn precision(&self) -> ScorePrecision {
        self.precision
    }

    /// The dtype the scores were read as (f32 for model output).
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Rounded to f32, for models and plots.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        self.as_slice().to_f32_vec()
    }

    /// The scores in their own dtype again (exact: every value came from that dtype).
    pub fn to_array_data(&self) -> ArrayData {
        let v = &self.values;
        match self.dtype {
            DType::F32 => ArrayData::F32(v.iter().map(|&x| x as f32).collect()),
            DType::F64 => ArrayData::F64(v.clone()),
            DType::F16 => ArrayData::F16(v.iter().map(|&x| f16::from_f64(x)).collect()),
            DType::BF16 => ArrayData::BF16(v.iter().map(|&x| half::bf16::from_f64(x)).collect()),
            DType::I64 => ArrayData::I64(v.iter().map(|&x| x as i64).collect()),
            DType::I32 => ArrayData::I32(v.iter().map(|&x| x as i32).collect()),
            DType::I16 => ArrayData::I16(v.iter().map(|&x| x as i16).collect()),
            DType::I8 => ArrayData::I8(v.iter().map(|&x| x as i8).collect()),
            DType::U8 => ArrayData::U8(v.iter().map(|&x| x as u8).collect()),
            DType::Bool => ArrayData::Bool(v.iter().map(|&x| x != 0.0).collect()),
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_as_numpy_casts_them() {
        // 0.3 is below float32(0.3) and above float16(0.3).
        assert_eq!(ScorePrecision::Double.threshold(0.3), 0.3);
        assert_eq!(ScorePrecision::Single.threshold(0.3), f64::from(0.3f32));
        assert_eq!(
            ScorePrecision::Half.threshold(0.3),
            f16::from_f64(0.3).to_f64()
        );
        for p in [
            ScorePrecision::Half,
            ScorePrecision::Single,
            ScorePrecision::Double,
        ] {
            assert_eq!(p.threshold(0.5), 0.5);
        }
    }

    #[test]
    fn every_dtype_round_trips_exactly() {
        let arrays = [
            ArrayData::F64(vec![0.49999999, 0.1, 1e-300]),
            ArrayData::F32(vec![0.1, 0.7]),
            ArrayData::F16(vec![f16::from_f32(0.3)]),
            ArrayData::Bool(vec![true, false]),
            ArrayData::I64(vec![0, 1, -5]),
            ArrayData::U8(vec![0, 255]),
        ];
        for a in arrays {
            let s = Scores::from_array(&a);
            assert_eq!(s.to_array_data(), a);
        }
        let s = Scores::from_array(&ArrayData::F64(vec![0.49999999]));
        assert!(s.values()[0] < 0.5, "float64 scores are not rounded");
        assert_eq!(s.precision(), ScorePrecision::Double);
    }
}
