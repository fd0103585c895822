//! The threshold sweep (incremental, one pass per movie) equals `evaluate` run separately at
//! each threshold, bit for bit, on random movies: tied scores, thresholds equal to scores,
//! movies of two or three shots, movies without (or with only) boundaries.

use proptest::prelude::*;
use scenelab::eval::{EvalError, Evaluator, MovieInput, Sweep, evaluate};

#[derive(Debug, Clone)]
struct Movie {
    gt: Vec<bool>,
    scores: Vec<f32>,
    frames: Vec<i64>,
}

/// Scores from a few levels (ties) or anywhere in [-0.1, 1.1]; frames with gaps from 1 on.
fn movie() -> impl Strategy<Value = Movie> {
    let shots = prop_oneof![2usize..=3, 2usize..=40, 100usize..=300];
    (shots, 0u32..=4, any::<bool>()).prop_flat_map(|(shots, gt_rate, tied)| {
        let t = shots - 1;
        let score = if tied {
            (0u8..=10).prop_map(|k| f32::from(k) / 10.0).boxed()
        } else {
            (-0.1f32..1.1).boxed()
        };
        (
            proptest::collection::vec(0u32..4, t),
            proptest::collection::vec(score, t),
            0i64..3,
            proptest::collection::vec(1i64..60, t),
        )
            .prop_map(move |(gt, scores, first, gaps)| {
                let mut frames = vec![first];
                for g in gaps {
                    frames.push(frames.last().unwrap() + g);
                }
                Movie {
                    // rate 0: no boundaries; 4: every transition a boundary.
                    gt: gt.iter().map(|&r| r < gt_rate).collect(),
                    scores,
                    frames,
                }
            })
    })
}

fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn inputs<'a>(movies: &'a [Movie], ids: &'a [String]) -> Vec<MovieInput<'a>> {
    movies
        .iter()
        .zip(ids)
        .map(|(m, id)| MovieInput {
            imdb_id: id,
            ground_truth: &m.gt,
            scores: (&m.scores).into(),
            shot_end_frame: &m.frames,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sweep_equals_evaluate_bit_for_bit(
        movies in proptest::collection::vec(movie(), 1..6),
        extra in proptest::collection::vec(-0.2f32..1.2, 0..6),
    ) {
        let ids: Vec<String> = (0..movies.len()).map(|k| format!("tt{k:07}")).collect();
        let inputs = inputs(&movies, &ids);
        // Even steps, every score itself (the `>=` edge) and a few anywhere, unsorted.
        let mut thresholds = Sweep::even_thresholds(21);
        thresholds.extend(
            movies
                .iter()
                .flat_map(|m| m.scores.iter().take(8).map(|&s| f64::from(s))),
        );
        thresholds.extend(extra.iter().map(|&t| f64::from(t)));
        thresholds.reverse();
        let sweep = Evaluator::new(&inputs).unwrap().sweep(&thresholds);
        prop_assert_eq!(&sweep.thresholds, &thresholds);
        for (k, &t) in thresholds.iter().enumerate() {
            let m = evaluate(&inputs, t).unwrap();
            prop_assert!(same(sweep.precision[k], m.precision), "precision at {}", t);
            prop_assert!(same(sweep.recall[k], m.recall), "recall at {}", t);
            prop_assert!(same(sweep.f1[k], m.f1), "F1 at {}", t);
            prop_assert!(same(sweep.miou[k], m.miou), "Miou at {}: {} vs {}", t, sweep.miou[k], m.miou);
            for (s, mm) in sweep.per_movie.iter().zip(&m.per_movie) {
                prop_assert_eq!(&s.imdb_id, &mm.imdb_id);
                prop_assert!(same(s.precision[k], mm.precision));
                prop_assert!(same(s.recall[k], mm.recall));
                prop_assert!(same(s.f1[k], mm.f1));
                prop_assert!(same(s.miou[k], mm.miou), "{} Miou at {}", mm.imdb_id, t);
            }
        }
    }
}

#[test]
fn a_single_shot_movie_is_refused_by_name() {
    let ok = Movie {
        gt: vec![true, false],
        scores: vec![0.9, 0.1],
        frames: vec![0, 10, 20],
    };
    let single = Movie {
        gt: vec![],
        scores: vec![],
        frames: vec![5],
    };
    let movies = [ok, single];
    let ids = ["tt0000001".to_owned(), "tt0000002".to_owned()];
    let inputs = inputs(&movies, &ids);
    for err in [
        Evaluator::new(&inputs).unwrap_err(),
        evaluate(&inputs, 0.5).unwrap_err(),
    ] {
        match err {
            EvalError::Movie { imdb_id, problem } => {
                assert_eq!(imdb_id, "tt0000002");
                assert!(problem.contains("at least two shots"), "{problem}");
            }
            other => panic!("unexpected error {other:?}"),
        }
    }
}
