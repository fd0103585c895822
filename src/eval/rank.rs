//! Transitions ranked by score, once per movie, and everything that follows from the ranking:
//! sklearn's precision-recall curve, average precision, and counts at any threshold.

use super::numeric::pairwise_sum_by;

/// Sort key of a score such that ascending keys are descending scores. `-0.0` is folded into
/// `0.0` first, so equal scores (as IEEE compares them) get equal keys.
fn descending_key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 0x8000_0000_0000_0000
    };
    !ascending
}

fn score_of_key(key: u64) -> f64 {
    let ascending = !key;
    let bits = if ascending >> 63 == 1 {
        ascending & 0x7fff_ffff_ffff_ffff
    } else {
        !ascending
    };
    f64::from_bits(bits)
}

/// Stable LSD radix sort of `items` by the 64-bit key that `key64` picks out of each; other
/// fields ride along. Byte passes where every key has the same byte are skipped, so scores
/// that came from f32 or f16 (whose low mantissa bytes are all zero) cost fewer passes.
fn radix_sort_by_u64<T: Copy + Default>(items: &mut Vec<T>, key64: impl Fn(&T) -> u64) {
    let n = items.len();
    let mut counts = [[0usize; 256]; 8];
    for k in items.iter() {
        let k = key64(k);
        for (pass, count) in counts.iter_mut().enumerate() {
            count[((k >> (8 * pass)) & 0xff) as usize] += 1;
        }
    }
    let mut scratch = vec![T::default(); n];
    for (pass, count) in counts.iter().enumerate() {
        if count.contains(&n) {
            continue;
        }
        let mut offset = [0usize; 256];
        let mut total = 0;
        for (o, &c) in offset.iter_mut().zip(count) {
            *o = total;
            total += c;
        }
        let shift = 8 * pass;
        for k in items.iter() {
            let b = ((key64(k) >> shift) & 0xff) as usize;
            scratch[offset[b]] = *k;
            offset[b] += 1;
        }
        std::mem::swap(items, &mut scratch);
    }
}

/// Scores in decreasing order with the running count of positives: what sklearn's
/// `_binary_clf_curve` derives from its sort, kept so that any threshold is a binary search.
#[derive(Debug, Clone)]
pub(crate) struct Ranking {
    /// Scores, highest first, exact.
    pub sorted_scores: Vec<f64>,
    /// `order[k]`: input position of the k-th highest score (ties in input order).
    pub order: Vec<u32>,
    /// `positives_above[k]`: positives among the `k` highest-scored transitions (length n + 1).
    pub positives_above: Vec<u32>,
}

impl Ranking {
    /// Rank transitions by score; `scores` must be finite (checked by the caller), as long as
    /// `labels`, and fewer than 2^32.
    pub fn new(labels: &[bool], scores: &[f64]) -> Self {
        debug_assert_eq!(labels.len(), scores.len());
        let mut keys: Vec<(u64, u32)> = scores
            .iter()
            .enumerate()
            .map(|(i, &score)| (descending_key(score), i as u32))
            .collect();
        radix_sort_by_u64(&mut keys, |k| k.0);
        let n = keys.len();
        let mut sorted_scores = Vec::with_capacity(n);
        let mut order = Vec::with_capacity(n);
        let mut positives_above = Vec::with_capacity(n + 1);
        let mut positives = 0u32;
        positives_above.push(0);
        for &(key, position) in &keys {
            sorted_scores.push(score_of_key(key));
            order.push(position);
            positives += u32::from(labels[position as usize]);
            positives_above.push(positives);
        }
        Ranking {
            sorted_scores,
            order,
            positives_above,
        }
    }

    pub fn positives(&self) -> u32 {
        *self.positives_above.last().unwrap_or(&0)
    }

    /// Number of transitions with `score >= threshold`; the caller rounds the threshold to
    /// the scores' precision first ([`crate::data::ScorePrecision::threshold`]), as numpy does.
    pub fn predicted_at(&self, threshold: f64) -> usize {
        self.sorted_scores.partition_point(|&s| s >= threshold)
    }

    /// The reference's `precision_recall`: `tps / tp_fp.sum()` and `tps / tp_fn.sum()`, integer
    /// counts divided in float64, with `np.nan_to_num` turning 0/0 into 0; then
    /// `F1 = 2 * p * r / (p + r)`, where 0/0 stays NaN.
    pub fn precision_recall_f1(&self, threshold: f64) -> (f64, f64, f64) {
        let predicted = self.predicted_at(threshold);
        let hits = f64::from(self.positives_above[predicted]);
        let nan_to_zero = |x: f64| if x.is_nan() { 0.0 } else { x };
        let p = nan_to_zero(hits / predicted as f64);
        let r = nan_to_zero(hits / f64::from(self.positives()));
        (p, r, 2.0 * p * r / (p + r))
    }

    /// sklearn's `precision_recall_curve(y_true, y_score)` (no `drop_intermediate`); see
    /// [`curve_from_runs`].
    pub fn pr_curve(&self) -> PrCurve {
        let scores = &self.sorted_scores;
        let runs = RunEnds::new(scores.len(), |a, b| scores[a] == scores[b]);
        curve_from_runs(
            runs.map(|end| (scores[end - 1], self.positives_above[end], end)),
            self.positives(),
            scores.len(),
        )
    }
}

/// Ends (exclusive) of the runs of equal items in a sorted sequence, first run first.
struct RunEnds<F> {
    next: usize,
    len: usize,
    same: F,
}

impl<F: Fn(usize, usize) -> bool> RunEnds<F> {
    fn new(len: usize, same: F) -> Self {
        RunEnds { next: 0, len, same }
    }
}

impl<F: Fn(usize, usize) -> bool> Iterator for RunEnds<F> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.len {
            return None;
        }
        let first = self.next;
        let mut end = first + 1;
        while end < self.len && (self.same)(first, end) {
            end += 1;
        }
        self.next = end;
        Some(end)
    }
}

/// sklearn's curve from the runs of equal scores in decreasing order, each given as
/// `(score, positives at or above it, transitions at or above it)`.
///
/// `_binary_clf_curve` keeps the last index of each run of equal scores, so the order
/// inside ties never matters; `tps` are exact integers in float64. This is the
/// scikit-learn >= 1.1 curve, which the fixtures' last digits confirm: it is not cut at
/// the first threshold of full recall (older versions were; the extra points add zeros
/// that move numpy's pairwise-summation blocks), and without positives recall is 1
/// everywhere (older versions divided 0/0 and gave NaN), so AP is 0.
/// `transitions` bounds the number of runs (it sizes the arrays once).
fn curve_from_runs(
    runs: impl Iterator<Item = (f64, u32, usize)>,
    positives: u32,
    transitions: usize,
) -> PrCurve {
    let total_positives = f64::from(positives);
    let mut thresholds = Vec::with_capacity(transitions);
    let mut precision = Vec::with_capacity(transitions + 1);
    let mut recall = Vec::with_capacity(transitions + 1);
    for (score, tps, predicted) in runs {
        let tps = f64::from(tps);
        thresholds.push(score);
        precision.push(tps / predicted as f64);
        recall.push(if positives == 0 {
            1.0
        } else {
            tps / total_positives
        });
    }
    // sklearn's output order: increasing thresholds, decreasing recall, then (1, 0).
    thresholds.reverse();
    precision.reverse();
    recall.reverse();
    precision.push(1.0);
    recall.push(0.0);
    PrCurve {
        thresholds,
        precision,
        recall,
    }
}

/// Sort 64-bit keys.
fn radix_sort_u64(keys: &mut Vec<u64>) {
    radix_sort_by_u64(keys, |&k| k);
}

/// The curve of all movies' transitions together (`np.concatenate` of every movie). Only the
/// score keys of positives and of negatives are sorted, separately (half the memory of
/// sorting keys with labels), then merged run by run of equal scores.
pub(crate) fn pooled_curve<'a>(
    movies: impl Iterator<Item = (&'a [bool], &'a [f64])> + Clone,
) -> PrCurve {
    let total: usize = movies.clone().map(|(l, _)| l.len()).sum();
    let positives: usize = movies
        .clone()
        .map(|(l, _)| l.iter().filter(|&&g| g).count())
        .sum();
    let mut pos = Vec::with_capacity(positives);
    let mut neg = Vec::with_capacity(total - positives);
    for (labels, scores) in movies {
        for (&l, &s) in labels.iter().zip(scores) {
            if l {
                pos.push(descending_key(s));
            } else {
                neg.push(descending_key(s));
            }
        }
    }
    radix_sort_u64(&mut pos);
    radix_sort_u64(&mut neg);
    let (mut i, mut j) = (0, 0);
    let runs = std::iter::from_fn(|| {
        let key = match (pos.get(i), neg.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => return None,
        };
        while pos.get(i) == Some(&key) {
            i += 1;
        }
        while neg.get(j) == Some(&key) {
            j += 1;
        }
        Some((score_of_key(key), i as u32, i + j))
    });
    curve_from_runs(runs, positives as u32, total)
}

/// A precision-recall curve in scikit-learn's layout.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PrCurve {
    /// The distinct scores, increasing, exact.
    pub thresholds: Vec<f64>,
    /// `precision[i]` and `recall[i]` of the predictions with `score >= thresholds[i]`; one
    /// more entry than `thresholds`, the final `(precision 1, recall 0)` point.
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
}

impl PrCurve {
    /// sklearn's step-function integral `-np.sum(np.diff(recall) * precision[:-1])`, with
    /// numpy's pairwise summation (and `-0.0` reported as `0.0`).
    pub fn average_precision(&self) -> f64 {
        let (recall, precision) = (&self.recall, &self.precision);
        let steps = recall.len().saturating_sub(1);
        // `np.sum` adds the identity 0.0 to the pairwise sum.
        let ap =
            -(0.0 + pairwise_sum_by(0, steps, &|i| (recall[i + 1] - recall[i]) * precision[i]));
        if ap == 0.0 { 0.0 } else { ap }
    }

    /// Number of points, including the final `(1, 0)`.
    pub fn len(&self) -> usize {
        self.precision.len()
    }

    pub fn is_empty(&self) -> bool {
        self.precision.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_scores_descending_and_round_trip() {
        let scores = [
            -1.5f64,
            -0.0,
            0.0,
            1e-40,
            1e-310,
            0.25,
            0.5,
            0.49999999,
            1.0,
            f64::MAX,
            f64::MIN,
        ];
        for &s in &scores {
            assert_eq!(score_of_key(descending_key(s)), s + 0.0);
        }
        assert_eq!(descending_key(-0.0), descending_key(0.0));
        let mut sorted = scores.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let keys: Vec<u64> = sorted.iter().map(|&s| descending_key(s)).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn radix_sort_is_stable_and_sorted() {
        let mut x = 12345u64;
        let mut keys: Vec<(u64, u32)> = (0..5000u32)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (((x >> 40) % 700) << 29, i)
            })
            .collect();
        let mut want = keys.clone();
        want.sort_by_key(|k| k.0);
        radix_sort_by_u64(&mut keys, |k| k.0);
        assert_eq!(keys, want);
    }

    #[test]
    fn radix_sort_u64_sorts() {
        let mut x = 777u64;
        for n in [0usize, 1, 2, 100, 5000] {
            let mut keys: Vec<u64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Few distinct values in the low bytes, all eight bytes varying.
                    x & 0xff0f_f0ff_ff0f_f0ff
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            radix_sort_u64(&mut keys);
            assert_eq!(keys, want);
        }
    }

    #[test]
    fn pooled_curve_equals_the_curve_of_the_concatenation() {
        let mut x = 4242u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..50 {
            let movies: Vec<(Vec<bool>, Vec<f64>)> = (0..1 + next() % 5)
                .map(|_| {
                    let n = 1 + (next() % 200) as usize;
                    let labels = (0..n).map(|_| next() % 4 == 0).collect();
                    let scores = (0..n)
                        .map(|_| {
                            (next() % 30) as f64 / 29.0 - if next() % 9 == 0 { 0.5 } else { 0.0 }
                        })
                        .collect();
                    (labels, scores)
                })
                .collect();
            let labels: Vec<bool> = movies.iter().flat_map(|m| m.0.clone()).collect();
            let scores: Vec<f64> = movies.iter().flat_map(|m| m.1.clone()).collect();
            let want = Ranking::new(&labels, &scores).pr_curve();
            let got = pooled_curve(movies.iter().map(|(l, s)| (l.as_slice(), s.as_slice())));
            assert_eq!(got, want);
        }
    }

    #[test]
    fn curve_groups_ties_like_sklearn() {
        // sklearn: precision_recall_curve([0, 1, 1, 0], [0.5, 0.5, 0.9, 0.1])
        //   precision [0.5, 0.6667, 1, 1], recall [1, 1, 0.5, 0], thresholds [0.1, 0.5, 0.9]
        let r = Ranking::new(&[false, true, true, false], &[0.5, 0.5, 0.9, 0.1]);
        assert_eq!(r.order, vec![2, 0, 1, 3]);
        let c = r.pr_curve();
        assert_eq!(c.thresholds, vec![0.1, 0.5, 0.9]);
        assert_eq!(c.precision, vec![0.5, 2.0 / 3.0, 1.0, 1.0]);
        assert_eq!(c.recall, vec![1.0, 1.0, 0.5, 0.0]);
        // AP = 0.5 * 1 + 0.5 * 2/3
        assert_eq!(c.average_precision(), 0.5 + 0.5 * (2.0 / 3.0));
        assert_eq!(r.predicted_at(0.5), 3);
        assert_eq!(r.precision_recall_f1(0.5), (2.0 / 3.0, 1.0, 0.8));
    }

    #[test]
    fn no_positives_gives_zero_ap_and_nan_f1() {
        let r = Ranking::new(&[false, false], &[0.2, 0.7]);
        assert_eq!(r.pr_curve().average_precision().to_bits(), 0.0f64.to_bits());
        let (p, rec, f1) = r.precision_recall_f1(0.5);
        assert_eq!((p, rec), (0.0, 0.0));
        assert!(f1.is_nan());
    }
}
