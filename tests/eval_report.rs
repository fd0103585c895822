//! The report's curves and sweep agree with the reference metrics they extend.

use scenelab::eval::{Evaluator, MovieInput, Sweep, evaluate, report};

struct Data {
    ids: Vec<String>,
    gt: Vec<Vec<bool>>,
    scores: Vec<Vec<f32>>,
    frames: Vec<Vec<i64>>,
}

impl Data {
    /// Deterministic synthetic movies: ~8% boundaries, scores higher on boundaries, some
    /// scores repeated to make ties, and one movie without boundaries.
    fn new(movies: usize, shots: usize) -> Data {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut d = Data {
            ids: Vec::new(),
            gt: Vec::new(),
            scores: Vec::new(),
            frames: Vec::new(),
        };
        for k in 0..movies {
            let n = shots + k * 7;
            let gt: Vec<bool> = (0..n - 1).map(|_| k != 2 && next() < 0.08).collect();
            let scores: Vec<f32> = gt
                .iter()
                .map(|&g| {
                    let s = next() * 0.7 + if g { next() * 0.5 } else { 0.0 };
                    // Quantise a third of them so that ties occur.
                    let s = if next() < 0.33 {
                        (s * 20.0).round() / 20.0
                    } else {
                        s.min(1.0)
                    };
                    s as f32
                })
                .collect();
            let mut f = 0i64;
            let frames = (0..n)
                .map(|_| {
                    f += 1 + (next() * 200.0) as i64;
                    f
                })
                .collect();
            d.ids.push(format!("tt{:07}", 100 + k));
            d.gt.push(gt);
            d.scores.push(scores);
            d.frames.push(frames);
        }
        d
    }

    fn inputs(&self) -> Vec<MovieInput<'_>> {
        (0..self.ids.len())
            .map(|k| MovieInput {
                imdb_id: &self.ids[k],
                ground_truth: &self.gt[k],
                scores: (&self.scores[k]).into(),
                shot_end_frame: &self.frames[k],
            })
            .collect()
    }
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn sweep_equals_evaluate_at_each_threshold() {
    let data = Data::new(6, 400);
    let inputs = data.inputs();
    let thresholds = Sweep::even_thresholds(101);
    assert_eq!(thresholds[50], 0.5);
    let sweep = Evaluator::new(&inputs).unwrap().sweep(&thresholds);
    for (k, &t) in thresholds.iter().enumerate() {
        let m = evaluate(&inputs, t).unwrap();
        assert!(same(sweep.precision[k], m.precision), "precision at {t}");
        assert!(same(sweep.recall[k], m.recall), "recall at {t}");
        assert!(same(sweep.f1[k], m.f1), "F1 at {t}");
        assert!(same(sweep.miou[k], m.miou), "Miou at {t}");
        for (s, mm) in sweep.per_movie.iter().zip(&m.per_movie) {
            assert_eq!(s.imdb_id, mm.imdb_id);
            assert!(same(s.f1[k], mm.f1) && same(s.miou[k], mm.miou));
        }
    }
    // The movie without boundaries has precision and recall 0 (0/0 or 0/k), so its F1 is
    // 0/0 = NaN at every threshold, and so is the mean F1, as in the reference.
    assert!(sweep.f1.iter().all(|f| f.is_nan()));
    assert!(sweep.best_f1.is_none());
    let best = sweep.best_miou.unwrap();
    assert!(sweep.miou.iter().all(|&v| v <= best.value));
    assert_eq!(
        sweep.miou[thresholds
            .iter()
            .position(|&t| t == best.threshold)
            .unwrap()],
        best.value
    );
}

#[test]
fn best_f1_is_the_maximum_of_the_sweep() {
    let data = Data::new(5, 300);
    // Without the boundary-free movie, F1 is a number at most thresholds.
    let inputs: Vec<MovieInput> = data
        .inputs()
        .into_iter()
        .enumerate()
        .filter(|&(k, _)| k != 2)
        .map(|(_, m)| m)
        .collect();
    let thresholds = Sweep::even_thresholds(21);
    let sweep = Evaluator::new(&inputs).unwrap().sweep(&thresholds);
    let best = sweep.best_f1.unwrap();
    let finite: Vec<f64> = sweep.f1.iter().copied().filter(|f| !f.is_nan()).collect();
    assert!(finite.len() > 10);
    assert_eq!(best.value, finite.iter().copied().fold(f64::MIN, f64::max));
}

#[test]
fn curves_integrate_to_the_reported_ap() {
    let data = Data::new(6, 500);
    let inputs = data.inputs();
    let r = report(&inputs, 0.5, &Sweep::even_thresholds(11)).unwrap();
    assert_eq!(r.curves.len(), inputs.len());
    for (curve, m) in r.curves.iter().zip(&r.metrics.per_movie) {
        assert_eq!(curve.average_precision().to_bits(), m.ap.to_bits());
        assert_eq!(curve.precision.len(), curve.thresholds.len() + 1);
        assert!(curve.thresholds.windows(2).all(|w| w[0] < w[1]));
        assert!(curve.recall.windows(2).all(|w| w[0] >= w[1]));
    }
    assert_eq!(
        r.pooled_curve.average_precision().to_bits(),
        r.metrics.ap.to_bits()
    );
    let total: usize = inputs.iter().map(|m| m.scores.len()).sum();
    let distinct: std::collections::HashSet<u64> = inputs
        .iter()
        .flat_map(|m| m.scores.to_f64_vec().into_iter().map(|s| s.to_bits()))
        .collect();
    assert_eq!(r.pooled_curve.thresholds.len(), distinct.len());
    assert!(distinct.len() < total, "the data should have ties");
    // The movie without boundaries: recall 1 everywhere, AP 0.
    assert!(
        r.curves[2].recall[..r.curves[2].thresholds.len()]
            .iter()
            .all(|&x| x == 1.0)
    );
    assert_eq!(r.metrics.per_movie[2].ap, 0.0);
}

#[test]
fn report_equals_evaluate_and_fills_the_table() {
    let data = Data::new(4, 250);
    let inputs = data.inputs();
    let r = report(&inputs, 0.42, &[0.42]).unwrap();
    let m = evaluate(&inputs, 0.42).unwrap();
    let totals = |m: &scenelab::eval::Metrics| [m.ap, m.map, m.miou, m.precision, m.recall, m.f1];
    assert!(
        totals(&r.metrics)
            .iter()
            .zip(totals(&m))
            .all(|(&a, b)| same(a, b))
    );
    assert!(
        m.f1.is_nan(),
        "the boundary-free movie makes the mean F1 NaN"
    );
    for (a, b) in r.metrics.per_movie.iter().zip(&m.per_movie) {
        let v = |m: &scenelab::eval::MovieMetrics| [m.ap, m.miou, m.precision, m.recall, m.f1];
        assert_eq!(a.imdb_id, b.imdb_id);
        assert!(v(a).iter().zip(v(b)).all(|(&x, y)| same(x, y)));
    }
    assert!(same(r.sweep.miou[0], r.metrics.miou));
    for (row, m) in r.table.iter().zip(&inputs) {
        assert_eq!(row.imdb_id, m.imdb_id);
        assert_eq!(row.shots, m.shot_end_frame.len());
        assert_eq!(row.transitions, m.scores.len());
        assert_eq!(
            row.boundaries,
            m.ground_truth.iter().filter(|&&g| g).count()
        );
        assert_eq!(
            row.predicted,
            m.scores
                .to_f64_vec()
                .iter()
                .filter(|&&s| s >= f64::from(0.42f32))
                .count()
        );
    }
}

#[test]
fn bad_movies_are_named() {
    let data = Data::new(2, 50);
    let mut inputs = data.inputs();
    assert!(matches!(
        evaluate(&[], 0.5),
        Err(scenelab::eval::EvalError::Empty)
    ));
    let short = &data.scores[1][1..];
    inputs[1].scores = short.into();
    let err = evaluate(&inputs, 0.5).unwrap_err().to_string();
    assert!(
        err.contains(&data.ids[1]) && err.contains("scores"),
        "{err}"
    );
    inputs[1] = data.inputs()[1];
    let frames: Vec<i64> = data.frames[1].iter().map(|&f| f.min(300)).collect();
    inputs[1].shot_end_frame = &frames;
    let err = evaluate(&inputs, 0.5).unwrap_err().to_string();
    assert!(err.contains("must increase"), "{err}");
    inputs[1] = inputs[0];
    let err = evaluate(&inputs, 0.5).unwrap_err().to_string();
    assert!(err.contains("more than once"), "{err}");
}
