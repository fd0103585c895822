//! Scores used while training. Validation mAP drives early stopping; it is computed here by
//! [`average_precision`] (scikit-learn's `average_precision_score`, as the challenge's
//! evaluator calls it) so that training depends on nothing but the scores.

/// Average precision of `scores` against `truth`, as scikit-learn computes it: precision at
/// each distinct threshold weighted by the recall gained there. `None` when `truth` has no
/// positive (scikit-learn warns and returns NaN).
pub fn average_precision(truth: &[bool], scores: &[f32]) -> Option<f64> {
    let positives = truth.iter().filter(|&&t| t).count();
    if positives == 0 || truth.len() != scores.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut ap = 0.0;
    let mut last_recall = 0.0;
    let mut i = 0;
    while i < order.len() {
        // All items tied at this score enter together.
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if truth[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let recall = tp as f64 / positives as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
    }
    Some(ap)
}

/// Validation scores of one epoch: mean per-movie AP (the reference's mAP) and AP over all
/// transitions pooled.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationScores {
    #[serde(deserialize_with = "super::f64_or_nan")]
    pub map: f64,
    #[serde(deserialize_with = "super::f64_or_nan")]
    pub ap: f64,
}

/// mAP over movies that have a boundary, and pooled AP.
pub fn validation_scores(truth: &[&[bool]], scores: &[Vec<f32>]) -> ValidationScores {
    let per_movie: Vec<f64> = truth
        .iter()
        .zip(scores)
        .filter_map(|(t, s)| average_precision(t, s))
        .collect();
    let map = if per_movie.is_empty() {
        0.0
    } else {
        per_movie.iter().sum::<f64>() / per_movie.len() as f64
    };
    let all_truth: Vec<bool> = truth.iter().flat_map(|t| t.iter().copied()).collect();
    let all_scores: Vec<f32> = scores.iter().flatten().copied().collect();
    ValidationScores {
        map,
        ap: average_precision(&all_truth, &all_scores).unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_ranking_scores_one() {
        let ap = average_precision(&[false, true, false, true], &[0.1, 0.9, 0.2, 0.8]);
        assert_eq!(ap, Some(1.0));
    }

    #[test]
    fn matches_scikit_learn_with_ties() {
        // sklearn.metrics.average_precision_score([1,0,1,0,1], [.9,.8,.8,.3,.3]) = 1/3 + 1/3·2/3 + 1/3·3/5 = 0.7555…
        let ap = average_precision(
            &[true, false, true, false, true],
            &[0.9, 0.8, 0.8, 0.3, 0.3],
        )
        .unwrap();
        assert!((ap - 0.755_555_556).abs() < 1e-6, "{ap}");
    }

    #[test]
    fn no_positive_has_no_ap() {
        assert_eq!(average_precision(&[false, false], &[0.1, 0.2]), None);
    }
}
