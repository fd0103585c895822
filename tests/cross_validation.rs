//! Movie-level k-fold cross-validation (`scenelab bench train --folds K`): every movie is
//! tested exactly once, and a fold's test movies never train or validate in that fold.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use scenelab::data::demo::{DemoConfig, generate_movie};
use scenelab::data::{FoldsError, Movie, cross_validation_splits};
use scenelab::model::ModelKind;
use scenelab::observer::{Channel, Quiet};
use scenelab::train::decision::Objective;
use scenelab::train::{TrainConfig, TrainSettings};
use scenelab::workflow::cross_validation::{
    CrossValidationRequest, cross_validate, folds_of, format_table, provided_row, results_json,
};

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("tt{i:07}")).collect()
}

/// Each fold's parts are disjoint, cover every movie, and every movie is tested once.
fn check_folds(all: &[String], splits: &[scenelab::data::Split]) {
    let mut tested: Vec<String> = Vec::new();
    for (i, s) in splits.iter().enumerate() {
        let test: HashSet<&String> = s.test.iter().collect();
        assert!(!s.test.is_empty(), "fold {i} tests nothing");
        assert!(!s.validation.is_empty(), "fold {i} validates on nothing");
        assert!(
            !s.train
                .iter()
                .chain(&s.validation)
                .any(|m| test.contains(m)),
            "fold {i}: a test movie trains or validates"
        );
        assert!(
            !s.train.iter().any(|m| s.validation.contains(m)),
            "fold {i}: a validation movie trains"
        );
        let mut joined: Vec<String> = s
            .train
            .iter()
            .chain(&s.validation)
            .chain(&s.test)
            .cloned()
            .collect();
        joined.sort();
        let mut want = all.to_vec();
        want.sort();
        assert_eq!(joined, want, "fold {i} leaves movies out");
        tested.extend(s.test.iter().cloned());
    }
    tested.sort();
    let mut want = all.to_vec();
    want.sort();
    assert_eq!(tested, want, "every movie is tested exactly once");
}

#[test]
fn every_movie_is_tested_exactly_once_and_never_trains_in_its_fold() {
    for (n, k) in [(64, 8), (23, 5), (10, 10), (57, 4), (4, 2)] {
        for seed in [0, 1, 42] {
            let all = ids(n);
            let splits = cross_validation_splits(&all, k, seed).unwrap();
            assert_eq!(splits.len(), k);
            check_folds(&all, &splits);
            let sizes: Vec<usize> = splits.iter().map(|s| s.test.len()).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            // A function of the set of movies and the seed, not of their order.
            let mut reversed = all.clone();
            reversed.reverse();
            assert_eq!(splits, cross_validation_splits(&reversed, k, seed).unwrap());
        }
    }
    let all = ids(64);
    let eight = cross_validation_splits(&all, 8, 0).unwrap();
    assert!(
        eight
            .iter()
            .all(|s| s.test.len() == 8 && s.validation.len() == 6)
    );
    assert_ne!(eight, cross_validation_splits(&all, 8, 1).unwrap());
}

#[test]
fn impossible_fold_counts_are_refused() {
    assert_eq!(
        cross_validation_splits(&ids(10), 1, 0),
        Err(FoldsError::TooFewFolds { folds: 1 })
    );
    assert_eq!(
        cross_validation_splits(&ids(4), 5, 0),
        Err(FoldsError::TooManyFolds {
            folds: 5,
            movies: 4
        })
    );
    assert_eq!(
        FoldsError::TooManyFolds {
            folds: 5,
            movies: 4
        }
        .to_string(),
        "cannot make 5 folds of 4 movies: each fold needs a test movie"
    );
}

fn movies() -> Vec<Movie> {
    let config = DemoConfig {
        movies: 6,
        seed: 3,
        min_shots: 40,
        max_shots: 70,
    };
    (0..config.movies)
        .map(|i| generate_movie(&config, i))
        .collect()
}

fn request() -> CrossValidationRequest {
    CrossValidationRequest {
        config: TrainConfig {
            model: ModelKind::Default.default_config(),
            settings: TrainSettings {
                epochs: 1,
                batch_movies: 2,
                seed: 7,
                ..TrainSettings::default()
            },
        },
        folds: 3,
        objective: Objective::Miou,
        peak_picking: false,
    }
}

#[test]
fn a_model_and_the_provided_prediction_are_scored_on_the_same_folds() {
    let movies = movies();
    let all: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    let request = request();
    let mut heard = 0;
    let row = cross_validate(
        &movies,
        &request,
        &candle_core::Device::Cpu,
        &Quiet,
        &mut |_| heard += 1,
    )
    .unwrap();
    assert_eq!(
        (row.name.as_str(), row.folds.len(), heard),
        ("default", 3, 3)
    );
    let splits: Vec<_> = row.folds.iter().map(|f| f.split.clone()).collect();
    check_folds(&all, &splits);
    assert_eq!(splits, folds_of(&movies, 3, 7).unwrap());

    let provided = provided_row(&movies, 3, 7, Objective::Miou, false).unwrap();
    let same: Vec<_> = provided.folds.iter().map(|f| f.split.clone()).collect();
    assert_eq!(
        same, splits,
        "the provided prediction is scored on the model's folds"
    );

    let summary = row.summary();
    let maps: Vec<f64> = row.folds.iter().map(|f| f.raw.map).collect();
    let mean = maps.iter().sum::<f64>() / 3.0;
    assert!((summary.map.mean - mean).abs() < 1e-12);
    assert!(summary.map.std >= 0.0 && summary.decided_miou.mean.is_finite());
    let table = format_table(&[provided, row]);
    assert!(table.contains("provided") && table.contains("default") && table.contains(" ± "));
}

#[test]
fn a_cancel_keeps_the_finished_folds() {
    let movies = movies();
    let cancel = AtomicBool::new(false);
    // Cancelled as the first fold finishes: the second never trains.
    let row = cross_validate(
        &movies,
        &request(),
        &candle_core::Device::Cpu,
        &Channel::new(None, &cancel),
        &mut |_| cancel.store(true, Ordering::Relaxed),
    )
    .unwrap();
    assert_eq!(row.folds.len(), 1);
    assert_eq!(row.folds[0].split, folds_of(&movies, 3, 7).unwrap()[0]);

    // The JSON `bench train --folds K --json` writes: each row with its summary.
    let json = results_json(std::slice::from_ref(&row));
    assert_eq!(json[0]["row"]["name"], "default");
    assert_eq!(json[0]["row"]["folds"].as_array().unwrap().len(), 1);
    assert_eq!(
        json[0]["summary"]["map"]["mean"].as_f64().unwrap(),
        row.folds[0].raw.map
    );
}
