//! Maximum IoU of scenes (`calc_miou` of the reference), without the dense IoU table.

use super::numeric::numpy_mean;

/// Largest frame number accepted: int64 frames convert to float64 exactly up to 2^53.
const MAX_FRAME: i64 = 1 << 53;

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
    if let Some(&last) = shot_end_frame.last()
        && last > MAX_FRAME
    {
        return Err(format!(
            "shot_end_frame reaches {last}; frame numbers above 2^53 are not supported"
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
/// `score >= threshold`, the threshold already rounded to the scores' precision.
/// Branch-free, as sweeps call it for every threshold.
pub(crate) fn predicted_scene_ends_into(
    scores: &[f64],
    shot_end_frame: &[i64],
    threshold: f64,
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
    if k == 0 {
        0
    } else {
        ends[k - 1].wrapping_add(1)
    }
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

/// `row_arg` of a row without a scene yet.
const NO_SCENE: (u32, u32) = (u32::MAX, u32::MAX);

/// The ground-truth scenes of a movie, in the shapes [`IncrementalMiou`] looks them up by.
#[derive(Debug, Clone)]
pub(crate) struct GtScenes {
    /// End frame of each scene (see [`scene_ends`]).
    pub ends: Vec<i64>,
    /// Last shot of each scene.
    last_shot: Vec<u32>,
    /// `row_of_shot[k]`: the scene that contains shot `k` (one entry per shot).
    row_of_shot: Vec<u32>,
}

impl GtScenes {
    /// Scenes of a movie with `ground_truth` per transition, from end frames that passed
    /// [`check_end_frames`] (one more than transitions).
    pub fn new(ground_truth: &[bool], shot_end_frame: &[i64]) -> Self {
        let t = ground_truth.len();
        let ends = scene_ends((0..t).filter(|&k| ground_truth[k]), shot_end_frame, t);
        let mut last_shot: Vec<u32> = (0..t)
            .filter(|&k| ground_truth[k])
            .map(|k| k as u32)
            .collect();
        last_shot.push(t as u32);
        let mut row_of_shot = Vec::with_capacity(t + 1);
        let mut row = 0u32;
        for &g in ground_truth {
            row_of_shot.push(row);
            row += u32::from(g);
        }
        row_of_shot.push(row);
        GtScenes {
            ends,
            last_shot,
            row_of_shot,
        }
    }

    fn first_shot(&self, row: usize) -> usize {
        if row == 0 {
            0
        } else {
            self.last_shot[row - 1] as usize + 1
        }
    }
}

/// Miou over a growing set of predicted boundaries, for threshold sweeps.
///
/// Keeps what the walk in [`miou`] ends with: the best IoU of each predicted scene (column
/// maxima) and of each ground-truth scene (row maxima), where each is the maximum over the
/// pairs of overlapping scenes, which are the cells the walk visits, each pair's IoU computed
/// by the same [`iou`]. Adding boundaries splits predicted scenes; only the pieces and the
/// ground-truth scenes that overlap a split scene change:
/// - each piece's column maximum is taken over the ground-truth scenes it overlaps, and each
///   of those pairs is offered to the ground-truth scene's row maximum too;
/// - a row maximum can only drop if it came from the split scene itself (the row remembers
///   which scene gave it); such a row starts over, from the pieces and, at the two ends of
///   the split scene, the untouched predicted scenes beyond it that the row also overlaps.
///
/// Predicted scenes are found through a bit set of their last shots; the column maxima are
/// kept in scene order (rebuilt by copying the runs between split scenes, as the means need
/// them contiguous). [`IncrementalMiou::value`] takes the same pairwise means over the same
/// arrays as [`miou`], so it equals [`miou`] bit for bit (tested at every threshold of
/// random movies).
#[derive(Debug)]
pub(crate) struct IncrementalMiou<'a> {
    shot_end_frame: &'a [i64],
    gt: &'a GtScenes,
    /// Bit `k`: a predicted scene ends at shot `k` (the last shot's bit is always set).
    ends_at: Vec<u64>,
    /// Column maxima: best IoU of each predicted scene, in scene order.
    col: Vec<f64>,
    /// The next `col`, built from it by each [`IncrementalMiou::add_boundaries`].
    next_col: Vec<f64>,
    /// Row maxima: best IoU of each ground-truth scene so far.
    row_max: Vec<f64>,
    /// The predicted scene (first and last shot) of each row's maximum, so that splitting
    /// any other predicted scene cannot lower it.
    row_arg: Vec<(u32, u32)>,
}

impl<'a> IncrementalMiou<'a> {
    /// No predicted boundary yet: one predicted scene covering the whole movie.
    pub fn new(gt: &'a GtScenes, shot_end_frame: &'a [i64]) -> Self {
        let shots = shot_end_frame.len();
        let last = shots - 1;
        let m = gt.ends.len();
        let mut state = IncrementalMiou {
            shot_end_frame,
            gt,
            ends_at: vec![0; shots.div_ceil(64)],
            col: Vec::with_capacity(shots),
            next_col: Vec::with_capacity(shots),
            row_max: vec![0.0; m],
            row_arg: vec![NO_SCENE; m],
        };
        state.set(last);
        let whole = state.add_piece(0, last);
        state.col.push(whole);
        state
    }

    fn set(&mut self, shot: usize) {
        self.ends_at[shot / 64] |= 1 << (shot % 64);
    }

    /// The last shot of the predicted scene after shot `k` ends, i.e. the first set bit
    /// after `k` (there is one: the last shot's bit is set and `k` is before it).
    fn next_end(&self, k: usize) -> usize {
        let from = k + 1;
        let mut w = from / 64;
        let mut bits = self.ends_at[w] & (!0u64 << (from % 64));
        while bits == 0 {
            w += 1;
            bits = self.ends_at[w];
        }
        w * 64 + bits.trailing_zeros() as usize
    }

    /// The first shot of the predicted scene that contains shot `k`: one after the last set
    /// bit before `k`, or 0.
    fn scene_first(&self, k: usize) -> usize {
        if k == 0 {
            return 0;
        }
        let before = k - 1;
        let mut w = before / 64;
        let mut bits = self.ends_at[w] & (!0u64 >> (63 - before % 64));
        loop {
            if bits != 0 {
                return w * 64 + 63 - bits.leading_zeros() as usize + 1;
            }
            if w == 0 {
                return 0;
            }
            w -= 1;
            bits = self.ends_at[w];
        }
    }

    /// First frame of shot `k`.
    fn shot_start(&self, k: usize) -> i64 {
        if k == 0 {
            0
        } else {
            self.shot_end_frame[k - 1] + 1
        }
    }

    /// IoU of ground-truth scene `row` and the predicted scene of shots `first..=last`.
    #[inline]
    fn pair(&self, row: usize, first: usize, last: usize) -> f64 {
        iou(
            start(&self.gt.ends, row),
            self.gt.ends[row],
            self.shot_start(first),
            self.shot_end_frame[last],
        )
    }

    /// Offer the IoU of `row` with the predicted scene `first..=last` to the row's maximum.
    /// Strictly greater only: on equal values the row keeps its scene (either gives the
    /// same maximum).
    #[inline]
    fn offer_row(&mut self, row: usize, iou: f64, first: usize, last: usize) {
        if iou > self.row_max[row] {
            self.row_max[row] = iou;
            self.row_arg[row] = (first as u32, last as u32);
        }
    }

    /// A new predicted scene, shots `first..=last`: its column maximum over the ground-truth
    /// scenes it overlaps (returned), each pair also offered to that scene's row maximum.
    fn add_piece(&mut self, first: usize, last: usize) -> f64 {
        let (s, e) = (self.shot_start(first), self.shot_end_frame[last]);
        let mut col = 0.0f64;
        let rows = self.gt.row_of_shot[first] as usize..=self.gt.row_of_shot[last] as usize;
        for i in rows {
            let v = iou(start(&self.gt.ends, i), self.gt.ends[i], s, e);
            col = col.max(v);
            self.offer_row(i, v, first, last);
        }
        col
    }

    /// Add predicted boundaries: the shots `fresh` (increasing, none already a scene end, all
    /// before the last shot) now end a predicted scene.
    pub fn add_boundaries(&mut self, fresh: &[u32]) {
        if fresh.is_empty() {
            return;
        }
        let gt = self.gt;
        let mut next_col = std::mem::take(&mut self.next_col);
        next_col.clear();
        let mut copied = 0; // old scenes before this one are in `next_col`
        let mut added = 0; // boundaries set so far in this call
        // Bits set in words below `counted_words`, for the rank of split scenes.
        let (mut counted_words, mut set_below) = (0, 0);
        let mut k = 0;
        while k < fresh.len() {
            // The predicted scene `first..=last` that fresh[k] splits, and the fresh
            // boundaries inside it.
            let p = fresh[k] as usize;
            let first = self.scene_first(p);
            let last = self.next_end(p);
            let from = k;
            while k < fresh.len() && (fresh[k] as usize) < last {
                k += 1;
            }
            let cuts = &fresh[from..k];

            // Copy the column maxima of the scenes before the split one (its rank before
            // this call: the set bits below its last shot, less those set by this call).
            let last_word = last / 64;
            while counted_words < last_word {
                set_below += self.ends_at[counted_words].count_ones() as usize;
                counted_words += 1;
            }
            let partial = self.ends_at[last_word] & ((1u64 << (last % 64)) - 1);
            let rank = set_below + partial.count_ones() as usize - added;
            next_col.extend_from_slice(&self.col[copied..rank]);
            copied = rank + 1;

            let c_row = gt.row_of_shot[first] as usize;
            let d_row = gt.row_of_shot[last] as usize;
            let split = (first as u32, last as u32);
            let mut restart_c = false;
            let mut restart_d = false;
            for i in c_row..=d_row {
                if self.row_arg[i] == split {
                    self.row_max[i] = 0.0;
                    self.row_arg[i] = NO_SCENE;
                    restart_c |= i == c_row;
                    restart_d |= i == d_row;
                }
            }
            for &q in cuts {
                self.set(q as usize);
                set_below += usize::from((q as usize / 64) < counted_words);
            }
            added += cuts.len();
            let mut s = first;
            for &q in cuts {
                next_col.push(self.add_piece(s, q as usize));
                s = q as usize + 1;
            }
            next_col.push(self.add_piece(s, last));

            // Rows that started over and reach beyond the split scene: the predicted scenes
            // there are unchanged, offer them again.
            if restart_c && gt.first_shot(c_row) < first {
                let row_first = gt.first_shot(c_row);
                let mut end = first - 1;
                loop {
                    let f = self.scene_first(end);
                    let iou = self.pair(c_row, f, end);
                    self.offer_row(c_row, iou, f, end);
                    if f <= row_first {
                        break;
                    }
                    end = f - 1;
                }
            }
            if restart_d && gt.last_shot[d_row] as usize > last {
                let row_last = gt.last_shot[d_row] as usize;
                let mut f = last + 1;
                loop {
                    let end = self.next_end(f - 1);
                    let iou = self.pair(d_row, f, end);
                    self.offer_row(d_row, iou, f, end);
                    if end >= row_last {
                        break;
                    }
                    f = end + 1;
                }
            }
        }
        next_col.extend_from_slice(&self.col[copied..]);
        self.next_col = std::mem::replace(&mut self.col, next_col);
    }

    /// `(mean of column maxima + mean of row maxima) / 2`, as [`miou`] computes it.
    pub fn value(&self) -> f64 {
        (numpy_mean(&self.col) + numpy_mean(&self.row_max)) / 2.0
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
            let scores: Vec<f64> = (0..t).map(|_| (next() % 1000) as f64 / 1000.0).collect();
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
        for case in 0..300 {
            // Up to 300 shots: several words of the bit set, and arrays past numpy's
            // 128-element blocks; ground truth from none to every transition.
            let shots = 2 + (next() % if case % 3 == 0 { 10 } else { 300 }) as usize;
            let mut frame = (next() % 3) as i64;
            let frames: Vec<i64> = (0..shots)
                .map(|_| {
                    let f = frame;
                    frame += 1 + (next() % 50) as i64;
                    f
                })
                .collect();
            let t = shots - 1;
            let density = 1 + next() % 8;
            let gt: Vec<bool> = (0..t).map(|_| next() % density == 0).collect();
            let scores: Vec<f64> = (0..t).map(|_| (next() % 20) as f64 / 20.0).collect();
            let gt_scenes = GtScenes::new(&gt, &frames);
            let gt_ends = scene_ends((0..t).filter(|&k| gt[k]), &frames, t);
            assert_eq!(gt_scenes.ends, gt_ends);
            let mut inc = IncrementalMiou::new(&gt_scenes, &frames);
            let mut on = vec![false; t];
            let mut pr_ends = Vec::new();
            for step in (0..=21).rev() {
                let threshold = step as f64 / 20.0;
                let fresh: Vec<u32> = (0..t)
                    .filter(|&k| !on[k] && scores[k] >= threshold)
                    .map(|k| k as u32)
                    .collect();
                (0..t).for_each(|k| on[k] |= scores[k] >= threshold);
                inc.add_boundaries(&fresh);
                predicted_scene_ends_into(&scores, &frames, threshold, &mut pr_ends);
                let want = miou(&gt_ends, &pr_ends, &mut scratch);
                assert_eq!(
                    inc.value().to_bits(),
                    want.to_bits(),
                    "case {case}, threshold {threshold}"
                );
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
