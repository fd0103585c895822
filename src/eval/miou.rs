//! Maximum IoU of scenes (`calc_miou` of the reference), without the dense IoU table.

use super::numeric::numpy_mean;

/// Check what the reference's scene walk silently assumes: end frames start at 0 or later and
/// strictly increase. Then every scene is a non-empty frame range, every cell the walk visits
/// is a pair of overlapping scenes (IoU in (0, 1]), and the walk's `j -= 1` never goes below 0.
/// On other frames the reference can visit disjoint scenes and trip its own
/// `iou_table.min() >= 0` assertion, so such movies are refused up front.
pub(crate) fn check_end_frames(shot_end_frame: &[i64]) -> Result<(), String> {
    if let Some(&first) = shot_end_frame.first()
        && first < 0
    {
        return Err(format!(
            "shot_end_frame starts at {first}; frames must be 0 or more"
        ));
    }
    for (shot, w) in shot_end_frame.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(format!(
                "shot_end_frame must increase, but shot {} ends at frame {} and shot {} at {}",
                shot,
                w[0],
                shot + 1,
                w[1]
            ));
        }
    }
    Ok(())
}

/// End frames of the scenes cut after the transitions `boundaries` (increasing transition
/// indices), as `scene_frame_ranges` computes them: `shot_end_frame[end_shots]` and then
/// `shot_end_frame[len(scene_transitions)]`. numpy holds them in `end_shots.dtype` (int64), so
/// i64 here whatever the file's dtype; scene `k` starts at `end[k - 1] + 1`, the first at 0.
pub(crate) fn scene_ends(
    boundaries: impl Iterator<Item = usize>,
    shot_end_frame: &[i64],
    n_transitions: usize,
) -> Vec<i64> {
    let mut ends: Vec<i64> = boundaries.map(|b| shot_end_frame[b]).collect();
    ends.push(shot_end_frame[n_transitions]);
    ends
}

/// Predicted scene ends at `threshold` into `ends` (reused): the transitions with
/// `score >= threshold` compared as f32. Branch-free, as sweeps call it for every threshold.
pub(crate) fn predicted_scene_ends_into(
    scores: &[f32],
    shot_end_frame: &[i64],
    threshold: f32,
    ends: &mut Vec<i64>,
) {
    ends.clear();
    ends.resize(scores.len() + 1, 0);
    let mut written = 0;
    for (i, &s) in scores.iter().enumerate() {
        ends[written] = shot_end_frame[i];
        written += usize::from(s >= threshold);
    }
    ends[written] = shot_end_frame[scores.len()];
    ends.truncate(written + 1);
}

/// Scratch buffers of [`miou`], reused across calls.
#[derive(Debug, Default)]
pub(crate) struct MiouScratch {
    row_max: Vec<f64>,
    col_max: Vec<f64>,
}

#[inline]
fn start(ends: &[i64], k: usize) -> i64 {
    if k == 0 { 0 } else { ends[k - 1].wrapping_add(1) }
}

/// The reference's `iou(x, y)`: int64 arithmetic (wrapping, like numpy), then true division
/// of the two int64 scalars in float64.
#[inline]
fn iou(s0: i64, e0: i64, s1: i64, e1: i64) -> f64 {
    let (smin, smax) = if s1 > s0 { (s0, s1) } else { (s1, s0) };
    let (emin, emax) = if e1 > e0 { (e0, e1) } else { (e1, e0) };
    let inter = emin.wrapping_sub(smax).wrapping_add(1);
    let union = emax.wrapping_sub(smin).wrapping_add(1);
    inter as f64 / union as f64
}

/// Miou of one movie from ground-truth and predicted scene ends (see [`scene_ends`]), on end
/// frames that passed [`check_end_frames`].
///
/// The reference fills an m×n `iou_table` of zeros by this walk, then takes
/// `(table.max(axis=0).mean() + table.max(axis=1).mean()) / 2`. The walk is kept statement for
/// statement, including its `break`s: on increasing frames it visits exactly the overlapping
/// (ground truth, prediction) pairs, and the outer `break` fires only on the last ground-truth
/// scene. Instead of the table, each visit updates the maximum of its row and column. A cell
/// the walk does not visit stays 0, and visited cells are > 0, so a row's maximum is its
/// largest visited cell, or 0 for a row with none (likewise columns); a cell visited twice
/// gets the same value both times. The maxima arrays are in table order, and their means use
/// numpy's pairwise summation.
pub(crate) fn miou(gt_ends: &[i64], pr_ends: &[i64], scratch: &mut MiouScratch) -> f64 {
    let m = gt_ends.len();
    let n = pr_ends.len();
    let MiouScratch { row_max, col_max } = scratch;
    row_max.clear();
    row_max.resize(m, 0.0);
    col_max.clear();
    col_max.resize(n, 0.0);

    let mut j = 0usize;
    let mut pr_start = 0i64; // start(pr_ends, j), carried along instead of recomputed
    let mut gt_start = 0i64;
    for (i, &gt_end) in gt_ends.iter().enumerate() {
        let mut best_in_row = 0.0f64;
        // "j start prior to i end"
        while pr_start <= gt_end {
            let pr_end = pr_ends[j];
            let v = iou(gt_start, gt_end, pr_start, pr_end);
            debug_assert!(v > 0.0, "walk visited disjoint scenes");
            best_in_row = best_in_row.max(v);
            col_max[j] = col_max[j].max(v);
            if j < n - 1 {
                j += 1;
                pr_start = pr_end.wrapping_add(1);
            } else {
                break;
            }
        }
        row_max[i] = best_in_row;
        // "j end prior to (i + 1) start": only true once j is the last prediction and i the
        // last ground-truth scene, as both partitions end at the same frame.
        if pr_ends[j] < gt_end.wrapping_add(1) {
            break;
        }
        // "j start later than (i + 1) start": step back to the prediction that straddles the
        // boundary. It exists because the first prediction starts at 0.
        if pr_start > gt_end.wrapping_add(1) {
            j -= 1;
            pr_start = start(pr_ends, j);
        }
        gt_start = gt_end.wrapping_add(1);
    }
    (numpy_mean(col_max) + numpy_mean(row_max)) / 2.0
}

/// Miou over a growing set of predicted boundaries, for threshold sweeps.
///
/// Holds the maxima arrays of the walk in [`miou`] (one per predicted scene, one per
/// ground-truth scene) and updates only what new boundaries change: a predicted scene that
/// is split gets its pieces' column maxima computed over the ground-truth scenes they
/// overlap, and the ground-truth scenes it overlapped get their row maxima recomputed. Every
/// value is the maximum over the same overlapping pairs the walk visits, and the means use
/// the same pairwise summation over arrays in the same order, so [`IncrementalMiou::value`]
/// equals [`miou`] bit for bit (tested at every threshold of random movies).
#[derive(Debug)]
pub(crate) struct IncrementalMiou<'a> {
    gt_ends: &'a [i64],
    /// Predicted scene ends, increasing; the last is the movie's last frame.
    ends: Vec<i64>,
    /// Column maxima: best IoU of each predicted scene.
    col: Vec<f64>,
    /// Row maxima: best IoU of each ground-truth scene.
    row: Vec<f64>,
    next_ends: Vec<i64>,
    next_col: Vec<f64>,
    dirty_rows: Vec<(usize, usize)>,
}

impl<'a> IncrementalMiou<'a> {
    /// No predicted boundary yet: one predicted scene covering the whole movie.
    pub fn new(gt_ends: &'a [i64]) -> Self {
        let last = *gt_ends.last().expect("at least one scene");
        let mut state = IncrementalMiou {
            gt_ends,
            ends: vec![last],
            col: Vec::new(),
            row: Vec::new(),
            next_ends: Vec::new(),
            next_col: Vec::new(),
            dirty_rows: Vec::new(),
        };
        state.col.push(state.col_value(0, last));
        state.row.resize(gt_ends.len(), 0.0);
        state.update_rows(0, gt_ends.len() - 1);
        state
    }

    /// Index of the ground-truth scene that contains `frame`.
    fn gt_scene_of(&self, frame: i64) -> usize {
        self.gt_ends.partition_point(|&e| e < frame)
    }

    /// Best IoU of the predicted scene `[s, e]` with the ground-truth scenes it overlaps.
    fn col_value(&self, s: i64, e: i64) -> f64 {
        let mut i = self.gt_scene_of(s);
        let mut best = 0.0f64;
        while i < self.gt_ends.len() && start(self.gt_ends, i) <= e {
            best = best.max(iou(start(self.gt_ends, i), self.gt_ends[i], s, e));
            i += 1;
        }
        best
    }

    /// Recompute the row maxima of ground-truth scenes `first..=last` from the current
    /// predicted scenes.
    fn update_rows(&mut self, first: usize, last: usize) {
        let a = start(self.gt_ends, first);
        let mut j = self.ends.partition_point(|&e| e < a);
        for i in first..=last {
            let (gs, ge) = (start(self.gt_ends, i), self.gt_ends[i]);
            while self.ends[j] < gs {
                j += 1;
            }
            let mut best = 0.0f64;
            let mut k = j;
            while k < self.ends.len() && start(&self.ends, k) <= ge {
                best = best.max(iou(gs, ge, start(&self.ends, k), self.ends[k]));
                k += 1;
            }
            self.row[i] = best;
        }
    }

    /// Add predicted boundaries at the end frames `frames` (increasing, none already present).
    pub fn add_boundaries(&mut self, frames: &[i64]) {
        if frames.is_empty() {
            return;
        }
        let mut next_ends = std::mem::take(&mut self.next_ends);
        let mut next_col = std::mem::take(&mut self.next_col);
        next_ends.clear();
        next_col.clear();
        self.dirty_rows.clear();
        let mut copied = 0; // old scenes before this index are in next_*
        let mut k = 0;
        while k < frames.len() {
            // The old scene j = [c, d] that contains frames[k] (d > frames[k]).
            let j = copied + self.ends[copied..].partition_point(|&e| e < frames[k]);
            next_ends.extend_from_slice(&self.ends[copied..j]);
            next_col.extend_from_slice(&self.col[copied..j]);
            let (c, d) = (start(&self.ends, j), self.ends[j]);
            let mut s = c;
            while k < frames.len() && frames[k] < d {
                let e = frames[k];
                next_ends.push(e);
                next_col.push(self.col_value(s, e));
                s = e.wrapping_add(1);
                k += 1;
            }
            next_ends.push(d);
            next_col.push(self.col_value(s, d));
            self.dirty_rows
                .push((self.gt_scene_of(c), self.gt_scene_of(d)));
            copied = j + 1;
        }
        next_ends.extend_from_slice(&self.ends[copied..]);
        next_col.extend_from_slice(&self.col[copied..]);
        std::mem::swap(&mut self.ends, &mut next_ends);
        std::mem::swap(&mut self.col, &mut next_col);
        self.next_ends = next_ends;
        self.next_col = next_col;

        let dirty = std::mem::take(&mut self.dirty_rows);
        let mut done_upto = 0; // rows below this are up to date
        for &(first, last) in &dirty {
            let first = first.max(done_upto);
            if first <= last {
                self.update_rows(first, last);
                done_upto = last + 1;
            }
        }
        self.dirty_rows = dirty;
    }

    /// `(mean of column maxima + mean of row maxima) / 2`, as [`miou`] computes it.
    pub fn value(&self) -> f64 {
        (numpy_mean(&self.col) + numpy_mean(&self.row)) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's algorithm with the dense table, transcribed literally.
    fn dense_reference(gt: &[i64], pr: &[i64]) -> f64 {
        let (m, n) = (gt.len(), pr.len());
        let mut table = vec![vec![0.0f64; n]; m];
        let mut j: isize = 0;
        for i in 0..m {
            loop {
                let ju = j as usize;
                if start(pr, ju) > gt[i] {
                    break;
                }
                table[i][ju] = iou(start(gt, i), gt[i], start(pr, ju), pr[ju]);
                if ju < n - 1 {
                    j += 1;
                } else {
                    break;
                }
            }
            let ju = j as usize;
            if pr[ju] < gt[i] + 1 {
                break;
            }
            if start(pr, ju) > gt[i] + 1 {
                j -= 1;
            }
        }
        let col: Vec<f64> = (0..n)
            .map(|c| (0..m).map(|r| table[r][c]).fold(f64::MIN, f64::max))
            .collect();
        let row: Vec<f64> = table
            .iter()
            .map(|r| r.iter().copied().fold(f64::MIN, f64::max))
            .collect();
        (numpy_mean(&col) + numpy_mean(&row)) / 2.0
    }

    #[test]
    fn sparse_walk_equals_dense_table() {
        let mut x = 99u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut scratch = MiouScratch::default();
        for _ in 0..300 {
            let shots = 2 + (next() % 60) as usize;
            let mut frame = (next() % 3) as i64;
            let frames: Vec<i64> = (0..shots)
                .map(|_| {
                    let f = frame;
                    frame += 1 + (next() % 40) as i64;
                    f
                })
                .collect();
            check_end_frames(&frames).unwrap();
            let t = shots - 1;
            let gt: Vec<bool> = (0..t).map(|_| next() % 5 == 0).collect();
            let scores: Vec<f32> = (0..t).map(|_| (next() % 1000) as f32 / 1000.0).collect();
            let gt_ends = scene_ends((0..t).filter(|&k| gt[k]), &frames, t);
            let mut pr_ends = Vec::new();
            predicted_scene_ends_into(&scores, &frames, 0.7, &mut pr_ends);
            let want = scene_ends((0..t).filter(|&k| scores[k] >= 0.7), &frames, t);
            assert_eq!(pr_ends, want);
            let got = miou(&gt_ends, &pr_ends, &mut scratch);
            assert_eq!(got.to_bits(), dense_reference(&gt_ends, &pr_ends).to_bits());
        }
    }

    #[test]
    fn incremental_equals_walk_at_every_threshold() {
        let mut x = 7u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut scratch = MiouScratch::default();
        for _ in 0..100 {
            let shots = 2 + (next() % 80) as usize;
            let mut frame = (next() % 3) as i64;
            let frames: Vec<i64> = (0..shots)
                .map(|_| {
                    let f = frame;
                    frame += 1 + (next() % 50) as i64;
                    f
                })
                .collect();
            let t = shots - 1;
            let gt: Vec<bool> = (0..t).map(|_| next() % 6 == 0).collect();
            let scores: Vec<f32> = (0..t).map(|_| (next() % 20) as f32 / 20.0).collect();
            let gt_ends = scene_ends((0..t).filter(|&k| gt[k]), &frames, t);
            let mut inc = IncrementalMiou::new(&gt_ends);
            let mut on = vec![false; t];
            let mut pr_ends = Vec::new();
            for step in (0..=21).rev() {
                let threshold = step as f32 / 20.0;
                let fresh: Vec<i64> = (0..t)
                    .filter(|&k| !on[k] && scores[k] >= threshold)
                    .map(|k| frames[k])
                    .collect();
                (0..t).for_each(|k| on[k] |= scores[k] >= threshold);
                inc.add_boundaries(&fresh);
                predicted_scene_ends_into(&scores, &frames, threshold, &mut pr_ends);
                let want = miou(&gt_ends, &pr_ends, &mut scratch);
                assert_eq!(inc.value().to_bits(), want.to_bits(), "threshold {threshold}");
            }
        }
    }

    #[test]
    fn identical_segmentations_score_one() {
        let frames = [10, 20, 30, 40];
        let ends = scene_ends([1].into_iter(), &frames, 3);
        assert_eq!(ends, vec![20, 40]);
        assert_eq!(miou(&ends, &ends, &mut MiouScratch::default()), 1.0);
    }

    #[test]
    fn end_frames_are_checked() {
        assert!(check_end_frames(&[0, 5, 9]).is_ok());
        let err = check_end_frames(&[0, 5, 5]).unwrap_err();
        assert!(err.contains("shot 1 ends at frame 5"), "{err}");
        assert!(check_end_frames(&[-1, 5]).is_err());
    }
}
