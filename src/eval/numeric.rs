//! Floating-point reductions in the order the reference's Python and numpy perform them.
//!
//! The last digits of a float sum depend on the order of the additions, so each reduction of
//! the reference has its twin here: numpy's `np.sum` / `.mean()` ([`numpy_sum`],
//! [`numpy_mean`]) and Python's builtin `sum` ([`python_sum`]).

/// Block size below which numpy sums with eight interleaved accumulators (`PW_BLOCKSIZE`).
const PAIRWISE_BLOCK: usize = 128;

/// `np.sum` of a contiguous float64 array.
///
/// `np.add.reduce` starts from the identity `0.0` and adds numpy's pairwise sum of all the
/// elements (`pairwise_sum_DOUBLE` in `loops_utils.h.src`). A contiguous array that needs no
/// cast reaches the inner loop in one piece, so there is no outer chunking.
pub fn numpy_sum(values: &[f64]) -> f64 {
    0.0 + pairwise_sum(values)
}

/// `arr.mean()` of a contiguous float64 array: the sum above divided by the element count.
/// An empty array gives NaN, as numpy does (with a warning).
pub fn numpy_mean(values: &[f64]) -> f64 {
    numpy_sum(values) / values.len() as f64
}

/// numpy's pairwise summation, operation for operation:
/// - fewer than 8 elements: sequential, starting from -0.0 (so an all -0.0 input stays -0.0);
/// - up to 128: eight accumulators over the multiple-of-8 prefix, combined as
///   `((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`, then the remainder added in order;
/// - above: split at half the length rounded down to a multiple of 8, and add the two halves.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = -0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= PAIRWISE_BLOCK {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(block) {
                *acc += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// [`pairwise_sum`] of the virtual array `term(start), ..., term(start + n - 1)`, for sums of
/// products that need not be stored first (sklearn's AP step sum). Same operations in the
/// same order as [`pairwise_sum`] (tested against each other).
pub fn pairwise_sum_by(start: usize, n: usize, term: &impl Fn(usize) -> f64) -> f64 {
    if n < 8 {
        let mut res = -0.0;
        for i in start..start + n {
            res += term(i);
        }
        res
    } else if n <= PAIRWISE_BLOCK {
        let mut r = [0.0; 8];
        for (k, acc) in r.iter_mut().enumerate() {
            *acc = term(start + k);
        }
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (k, acc) in r.iter_mut().enumerate() {
                *acc += term(start + i + k);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for k in whole..n {
            res += term(start + k);
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum_by(start, n2, term) + pairwise_sum_by(start + n2, n - n2, term)
    }
}

/// Python's builtin `sum(values)` over numpy float64 scalars: `0 + v0 + v1 + ...`, strictly
/// left to right. (Python 3.12 compensates sums of exact `float`s, but the reference's
/// values are `np.float64`, which take the plain `__add__` path.)
pub fn python_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |acc, x| acc + x)
}

/// `sum(values) / len(values)` as the reference writes its means.
pub fn python_mean(values: &[f64]) -> f64 {
    python_sum(values.iter().copied()) / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward transcription of numpy's C code with explicit indices, to check the
    /// slice-based version against.
    fn pairwise_reference(a: &[f64], start: usize, n: usize) -> f64 {
        if n < 8 {
            let mut res = -0.0;
            for i in 0..n {
                res += a[start + i];
            }
            res
        } else if n <= 128 {
            let mut r = [0.0; 8];
            r.copy_from_slice(&a[start..start + 8]);
            let mut i = 8;
            while i < n - (n % 8) {
                for (j, acc) in r.iter_mut().enumerate() {
                    *acc += a[start + i + j];
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            while i < n {
                res += a[start + i];
                i += 1;
            }
            res
        } else {
            let n2 = n / 2 - (n / 2) % 8;
            pairwise_reference(a, start, n2) + pairwise_reference(a, start + n2, n - n2)
        }
    }

    #[test]
    fn pairwise_matches_transcription_for_many_lengths() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let values: Vec<f64> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 11) as f64 / (1u64 << 53) as f64 * 10.0 - 3.0
            })
            .collect();
        for n in (0..300).chain([511, 1000, 1024, 1999, 2000]) {
            let got = pairwise_sum(&values[..n]);
            let want = pairwise_reference(&values, 0, n);
            assert_eq!(got.to_bits(), want.to_bits(), "n = {n}");
            let by = pairwise_sum_by(0, n, &|i| values[i]);
            assert_eq!(by.to_bits(), want.to_bits(), "n = {n}");
        }
    }

    #[test]
    fn pairwise_differs_from_sequential_where_numpy_does() {
        // 1e16 absorbs each lone 1.0 of a left-to-right sum (ties round to even), while
        // numpy's accumulators add the ones together before they meet 1e16.
        let mut v = vec![1e16];
        v.extend([1.0; 15]);
        assert_eq!(python_sum(v.iter().copied()), 1e16);
        assert_eq!(numpy_sum(&v), 1e16 + 14.0);
        assert_eq!(numpy_mean(&[1.0, 2.0, 4.0]), 7.0 / 3.0);
        assert!(numpy_mean(&[]).is_nan());
    }

    #[test]
    fn sums_keep_nan() {
        assert!(python_mean(&[1.0, f64::NAN]).is_nan());
        assert!(numpy_sum(&[f64::NAN; 20]).is_nan());
    }
}
