//! A movie's normalised feature rows as training holds them: at the data set's precision, so
//! that a data set opened as f16 is also trained from an f16 copy (MovieNet-318 entire: about
//! 8.3 GB of rows as f32, 4.2 GB as f16). A batch widens its movies to f32 as it is built.

use std::borrow::Cow;

use half::f16;

use crate::data::FeaturePrecision;

/// Row-major `[shots, width]` values of one movie.
pub(crate) enum Rows {
    F32(Vec<f32>),
    F16(Vec<f16>),
}

/// A run of whole rows of a [`Rows`].
#[derive(Clone, Copy)]
pub(crate) enum RowSlice<'a> {
    F32(&'a [f32]),
    F16(&'a [f16]),
}

impl Rows {
    /// `values` held at `precision` (rounded to nearest for f16).
    pub(crate) fn at(values: Vec<f32>, precision: FeaturePrecision) -> Rows {
        match precision {
            FeaturePrecision::F32 => Rows::F32(values),
            FeaturePrecision::F16 => Rows::F16(values.into_iter().map(f16::from_f32).collect()),
        }
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.all().len()
    }

    pub(crate) fn all(&self) -> RowSlice<'_> {
        match self {
            Rows::F32(v) => RowSlice::F32(v),
            Rows::F16(v) => RowSlice::F16(v),
        }
    }

    /// Values `range` (whole rows: the caller multiplies by the width).
    pub(crate) fn slice(&self, range: std::ops::Range<usize>) -> RowSlice<'_> {
        match self {
            Rows::F32(v) => RowSlice::F32(&v[range]),
            Rows::F16(v) => RowSlice::F16(&v[range]),
        }
    }
}

impl<'a> RowSlice<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            RowSlice::F32(v) => v.len(),
            RowSlice::F16(v) => v.len(),
        }
    }

    /// The values as f32: borrowed when they are, widened otherwise.
    pub(crate) fn to_f32(self) -> Cow<'a, [f32]> {
        match self {
            RowSlice::F32(v) => Cow::Borrowed(v),
            RowSlice::F16(v) => Cow::Owned(v.iter().map(|x| x.to_f32()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_rows_round_to_nearest_and_widen_back() {
        let values = vec![0.0, 1.0, -2.5, 0.1, 1e-3];
        let rows = Rows::at(values.clone(), FeaturePrecision::F16);
        assert_eq!(rows.len(), 5);
        let back = rows.slice(1..4).to_f32();
        assert_eq!(&back[..2], &[1.0, -2.5]);
        assert!((back[2] - 0.1).abs() <= 0.1 * 2f32.powi(-11));
        let exact = Rows::at(values.clone(), FeaturePrecision::F32);
        assert!(matches!(exact.all().to_f32(), Cow::Borrowed(v) if v == values.as_slice()));
    }
}
