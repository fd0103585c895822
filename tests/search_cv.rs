//! Random search on tiny synthetic movies: folds are whole movies, the test movies stay out,
//! trials are a pure function of the seed, and a rerun resumes instead of retraining.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;

use scenelab::data::demo::{DemoConfig, generate_movie};
use scenelab::data::split::fold_split;
use scenelab::data::{Movie, Split};
use scenelab::model::ModelKind;
use scenelab::train::TrainedModel;
use scenelab::train::decision::Objective;
use scenelab::train::search::{
    self, SearchConfig, SearchError, SearchEvent, SearchOutcome, run_search,
};
use scenelab::train::space;

fn movies(seed: u64) -> Vec<Movie> {
    let config = DemoConfig {
        movies: 8,
        seed,
        min_shots: 60,
        max_shots: 120,
    };
    (0..config.movies)
        .map(|i| generate_movie(&config, i))
        .collect()
}

fn tiny(kind: ModelKind, dir: &Path, trials: usize, final_fit: bool) -> SearchConfig {
    let mut c = SearchConfig::new(kind, dir.to_path_buf());
    c.trials = trials;
    c.folds = 3;
    c.seed = 5;
    c.test_movies = 2;
    c.settings.epochs = 1;
    c.settings.batch_movies = 2;
    c.final_fit = final_fit;
    c
}

/// Run a search and its events.
fn search_events(movies: &[Movie], config: &SearchConfig) -> (SearchOutcome, Vec<SearchEvent>) {
    let (tx, rx) = mpsc::channel();
    let outcome = run_search(movies, config, Some(&tx), &AtomicBool::new(false)).unwrap();
    drop(tx);
    (outcome, rx.iter().collect())
}

/// Run a search and count the training runs it finished (one per fold).
fn search_counting(movies: &[Movie], config: &SearchConfig) -> (SearchOutcome, usize) {
    let (outcome, events) = search_events(movies, config);
    let folds = events
        .iter()
        .filter(|e| matches!(e, SearchEvent::FoldFinished { .. }))
        .count();
    (outcome, folds)
}

#[test]
fn folds_are_whole_movies_and_never_hold_a_test_movie() {
    let mut movies = movies(11);
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    // A movie without ground truth is left out of every split (not copied, not trained on).
    let mut unlabelled = movies[0].clone();
    unlabelled.imdb_id = "tt9999999".into();
    unlabelled.ground_truth = None;
    movies.push(unlabelled);
    let dir = tempfile::tempdir().unwrap();
    let config = tiny(ModelKind::Wavenet, dir.path(), 1, false);
    let (outcome, _) = search_counting(&movies, &config);
    let split = &outcome.split;
    assert!(
        split
            .train
            .iter()
            .chain(&split.validation)
            .chain(&split.test)
            .all(|id| id != "tt9999999"),
        "{split:?}"
    );

    // The same test movies as `scenelab train` holds out.
    let expected_test = Split::by_count(&ids, 0, 2, 5).unwrap().test;
    let test: HashSet<&String> = outcome.split.test.iter().collect();
    assert_eq!(test, expected_test.iter().collect());

    let trial = &outcome.trials[0];
    assert_eq!(trial.folds.len(), 3);
    let mut seen = HashSet::new();
    for fold in &trial.folds {
        for id in &fold.validation_ids {
            assert!(!test.contains(id), "test movie {id} in fold {}", fold.fold);
            assert!(seen.insert(id.clone()), "movie {id} is in two folds");
        }
    }
    let train: HashSet<String> = outcome.split.train.iter().cloned().collect();
    assert_eq!(seen, train, "the folds cover exactly the training movies");

    // Each fold's training side (train + early-stopping validation) avoids the fold and the
    // test movies.
    let folds = Split::k_folds(&outcome.split.train, 3, 5);
    for f in 0..3 {
        let s = fold_split(&folds, f, 5).unwrap();
        for id in s.train.iter().chain(&s.validation) {
            assert!(
                !s.test.contains(id),
                "fold {f} trains on its own movie {id}"
            );
            assert!(!test.contains(id), "fold {f} trains on test movie {id}");
        }
        assert_eq!(
            s.train.len() + s.validation.len() + s.test.len(),
            train.len()
        );
    }
}

#[test]
fn the_same_seed_draws_the_same_trials() {
    let base = scenelab::train::TrainSettings::default();
    for kind in ModelKind::ALL {
        let a: Vec<_> = (0..6)
            .map(|i| space::trial_config(kind, 9, i, &base))
            .collect();
        let b: Vec<_> = (0..6)
            .map(|i| space::trial_config(kind, 9, i, &base))
            .collect();
        assert_eq!(a, b, "{kind}");
        let other: Vec<_> = (0..6)
            .map(|i| space::trial_config(kind, 10, i, &base))
            .collect();
        assert_ne!(a, other, "{kind}: another seed should draw other trials");
        let distinct: HashSet<String> = a.iter().map(|c| format!("{c:?}")).collect();
        assert!(
            distinct.len() > 1,
            "{kind}: trials of one seed should differ"
        );
    }

    // And two searches with one seed train the same configurations.
    let movies = movies(12);
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (o1, _) = search_counting(&movies, &tiny(ModelKind::Default, d1.path(), 2, false));
    let (o2, _) = search_counting(&movies, &tiny(ModelKind::Default, d2.path(), 2, false));
    let configs = |o: &SearchOutcome| {
        let mut v: Vec<_> = o.trials.iter().map(|t| (t.trial, t.config())).collect();
        v.sort_by_key(|p| p.0);
        v
    };
    assert_eq!(configs(&o1), configs(&o2));
}

#[test]
fn wavenet_space_stays_in_its_declared_ranges() {
    let base = scenelab::train::TrainSettings::default();
    for i in 0..50 {
        let c = space::trial_config(ModelKind::Wavenet, 3, i, &base);
        let scenelab::model::ModelConfig::Wavenet(w) = &c.model else {
            panic!("not a WaveNet config");
        };
        assert!((2..=3).contains(&w.num_blocks));
        assert!((4..=10).contains(&w.num_layers));
        assert!((10..=20).contains(&w.filters));
        assert!((2..=10).contains(&w.last_filters));
        let lr = c.settings.learning_rate.unwrap();
        assert!((3e-4..=3e-3).contains(&lr), "{lr}");
        assert!((1e-4..=1e-1).contains(&c.settings.weight_decay));
    }
}

#[test]
fn a_rerun_resumes_without_retraining_finished_trials() {
    let movies = movies(13);
    let dir = tempfile::tempdir().unwrap();
    let trials_file = dir.path().join(search::TRIALS_FILE);

    let (first, runs) = search_counting(&movies, &tiny(ModelKind::Wavenet, dir.path(), 2, false));
    assert_eq!((first.ran, first.resumed, runs), (2, 0, 6));
    let started_with = |events: &[SearchEvent]| match &events[0] {
        SearchEvent::Started { resumed, .. } => {
            let mut t: Vec<usize> = resumed.iter().map(|r| r.trial).collect();
            t.sort();
            t
        }
        e => panic!("first event {e:?}"),
    };
    let after_first = std::fs::read_to_string(&trials_file).unwrap();
    assert_eq!(after_first.lines().count(), 2);

    // Asking for one more trial trains only that one.
    let (second, runs) = search_counting(&movies, &tiny(ModelKind::Wavenet, dir.path(), 3, false));
    assert_eq!((second.ran, second.resumed, runs), (1, 2, 3));
    let after_second = std::fs::read_to_string(&trials_file).unwrap();
    assert!(
        after_second.starts_with(&after_first),
        "finished trials were rewritten"
    );
    assert_eq!(after_second.lines().count(), 3);
    let mut trials: Vec<usize> = second.trials.iter().map(|t| t.trial).collect();
    trials.sort();
    assert_eq!(trials, [0, 1, 2]);
    // The resumed trials carry their recorded scores.
    for t in &first.trials {
        let again = second.trials.iter().find(|r| r.trial == t.trial).unwrap();
        assert_eq!(again.config(), t.config());
        assert!((again.map_mean - t.map_mean).abs() < 1e-12);
        assert_eq!(again.folds.len(), t.folds.len());
    }

    // Everything finished: nothing to train. The finished trials come with the first event.
    let (third, events) = search_events(&movies, &tiny(ModelKind::Wavenet, dir.path(), 3, false));
    assert_eq!((third.ran, third.resumed), (0, 3));
    assert_eq!(started_with(&events), [0, 1, 2]);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SearchEvent::FoldFinished { .. }))
    );
    assert_eq!(std::fs::read_to_string(&trials_file).unwrap(), after_second);

    // The table is sorted by mean validation mAP.
    assert!(
        third
            .trials
            .windows(2)
            .all(|w| w[0].map_mean >= w[1].map_mean)
    );
    let csv = std::fs::read_to_string(dir.path().join(search::TABLE_CSV)).unwrap();
    assert_eq!(csv.lines().count(), 4);

    // Another seed in the same folder is refused, not mixed in.
    let mut other = tiny(ModelKind::Wavenet, dir.path(), 3, false);
    other.seed = 6;
    let err = run_search(&movies, &other, None, &AtomicBool::new(false)).unwrap_err();
    assert!(matches!(err, SearchError::Mismatch { .. }), "{err}");
    // So is another objective: the final fit would tune another way than the header says.
    let mut other = tiny(ModelKind::Wavenet, dir.path(), 3, false);
    other.objective = Objective::F1;
    let err = run_search(&movies, &other, None, &AtomicBool::new(false)).unwrap_err();
    assert!(err.to_string().contains("objective"), "{err}");
    // Another test count says which one resumes it; a folder with other movies says so.
    let mut other = tiny(ModelKind::Wavenet, dir.path(), 3, false);
    other.test_movies = 1;
    let err = run_search(&movies, &other, None, &AtomicBool::new(false)).unwrap_err();
    assert!(err.to_string().contains("held out 2, not 1"), "{err}");
    let same = tiny(ModelKind::Wavenet, dir.path(), 3, false);
    let fewer = &movies[..movies.len() - 1];
    let err = run_search(fewer, &same, None, &AtomicBool::new(false)).unwrap_err();
    assert!(err.to_string().contains("this folder has"), "{err}");

    // A folder of an older SceneLab (no version in its header) is refused plainly.
    let header = dir.path().join(search::HEADER_FILE);
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&header).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("version");
    std::fs::write(&header, value.to_string()).unwrap();
    let err = run_search(
        &movies,
        &tiny(ModelKind::Wavenet, dir.path(), 3, false),
        None,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(matches!(err, SearchError::OtherVersion { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("another SceneLab version") && message.contains("another output folder"),
        "{message}"
    );
    assert!(!message.contains("pass the same settings"), "{message}");
}

#[test]
fn a_torn_last_line_is_ignored_and_the_trial_redone() {
    let movies = movies(14);
    let dir = tempfile::tempdir().unwrap();
    let config = tiny(ModelKind::Wavenet, dir.path(), 2, false);
    search_counting(&movies, &config);
    let trials_file = dir.path().join(search::TRIALS_FILE);
    let text = std::fs::read_to_string(&trials_file).unwrap();
    let first_line_end = text.find('\n').unwrap() + 1;
    // Keep the first trial and half of the second, as a kill mid-write would.
    let torn = &text[..first_line_end + (text.len() - first_line_end) / 2];
    std::fs::write(&trials_file, torn).unwrap();
    let (outcome, runs) = search_counting(&movies, &config);
    assert_eq!((outcome.resumed, outcome.ran, runs), (1, 1, 3));
    assert_eq!(search::read_trials(&trials_file).unwrap().len(), 2);
    let text = std::fs::read_to_string(&trials_file).unwrap();
    assert!(text.ends_with('\n') && text.lines().count() == 2, "{text}");
}

#[test]
fn cancelling_keeps_finished_trials_only() {
    let movies = movies(15);
    let dir = tempfile::tempdir().unwrap();
    let config = tiny(ModelKind::Wavenet, dir.path(), 3, true);
    let cancel = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel();
    let outcome = std::thread::scope(|s| {
        let h = s.spawn(|| run_search(&movies, &config, Some(&tx), &cancel));
        for e in rx.iter() {
            if matches!(e, SearchEvent::TrialFinished { .. }) {
                cancel.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            if matches!(e, SearchEvent::Finished { .. }) {
                break;
            }
        }
        h.join().unwrap()
    })
    .unwrap();
    assert!(outcome.cancelled);
    assert_eq!(outcome.trials.len(), 1);
    assert!(outcome.final_result.is_none());
    assert_eq!(
        search::read_trials(&dir.path().join(search::TRIALS_FILE))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_final_fit_saves_a_model_and_scores_the_test_movies_once() {
    let movies = movies(16);
    let dir = tempfile::tempdir().unwrap();
    let (outcome, _) = search_counting(&movies, &tiny(ModelKind::Default, dir.path(), 2, true));
    let f = outcome.final_result.clone().expect("a final result");
    assert_eq!(f.trial, outcome.trials[0].trial);
    assert_eq!(f.test_ids, outcome.split.test);
    let model = TrainedModel::load(
        &f.model_dir,
        Some(ModelKind::Default),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    // Trained on the training movies only, with the search's test movies as its test split.
    assert_eq!(model.meta.split.test, outcome.split.test);
    assert!(
        model
            .meta
            .split
            .train
            .iter()
            .all(|id| !f.test_ids.contains(id))
    );
    let test = f.test.expect("test scores");
    // NaN scores (F1 of 0/0) are kept too: the checkpoint reads them back.
    assert_eq!(
        format!("{:?}", model.meta.final_metrics),
        format!("{:?}", Some(test.raw))
    );
    // The tuned decision is in the checkpoint: what `predict` and the app apply.
    assert_eq!(model.meta.decision, Some(f.decision.decision));
    assert!(f.decision.value >= f.decision.reference_value);
    for m in [test.raw, test.decided] {
        assert!(
            (0.0..=1.0).contains(&m.map) && (0.0..=1.0).contains(&m.miou),
            "{m:?}"
        );
    }
    let summary_path = dir.path().join(search::SUMMARY_FILE);
    let summary = std::fs::read_to_string(&summary_path).unwrap();
    let saved = search::read_summary(dir.path())
        .unwrap()
        .expect("a summary");
    // JSON keeps the scores to the last bit or two.
    let same = |a: &search::FinalResult, b: &search::FinalResult| {
        a.trial == b.trial
            && a.model_dir == b.model_dir
            && a.decision.decision == b.decision.decision
            && a.grid == b.grid
            && a.test_ids == b.test_ids
            && (a.decision.value - b.decision.value).abs() < 1e-12
            && a.test
                .map(|t| t.decided.miou)
                .zip(b.test.map(|t| t.decided.miou))
                .is_some_and(|(x, y)| (x - y).abs() < 1e-12)
    };
    assert!(same(&saved, &f), "{saved:?} vs {f:?}");

    // A rerun with nothing left to do keeps the final fit instead of training it again.
    let weights = f.model_dir.join("model.safetensors");
    let written = std::fs::metadata(&weights).unwrap().modified().unwrap();
    let (again, events) = search_events(&movies, &tiny(ModelKind::Default, dir.path(), 2, true));
    assert!(again.final_reused && again.ran == 0);
    assert!(matches!(events[0], SearchEvent::Started { runs: 0, .. }));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, SearchEvent::FinalFitStarted { .. })),
        "the final fit ran again"
    );
    assert!(same(again.final_result.as_ref().unwrap(), &f));
    assert_eq!(std::fs::read_to_string(&summary_path).unwrap(), summary);
    assert_eq!(
        std::fs::metadata(&weights).unwrap().modified().unwrap(),
        written
    );

    // A saved final fit of another trial than the best one is redone.
    let other = outcome.trials[1].trial;
    let mut value: serde_json::Value = serde_json::from_str(&summary).unwrap();
    value["trial"] = other.into();
    std::fs::write(&summary_path, value.to_string()).unwrap();
    let (redone, events) = search_events(&movies, &tiny(ModelKind::Default, dir.path(), 2, true));
    assert!(!redone.final_reused);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SearchEvent::FinalFitStarted { trial } if *trial == f.trial))
    );
    assert_eq!(redone.final_result.unwrap().trial, f.trial);
    assert_eq!(
        search::read_summary(dir.path()).unwrap().unwrap().trial,
        f.trial
    );
}

#[test]
fn a_search_without_test_movies_saves_its_best_model() {
    let movies = movies(17);
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny(ModelKind::Wavenet, dir.path(), 1, true);
    config.test_movies = 0;
    let (outcome, _) = search_counting(&movies, &config);
    assert!(outcome.split.test.is_empty());
    let f = outcome.final_result.expect("a final result");
    assert!(f.test.is_none() && f.test_ids.is_empty());
    let model = TrainedModel::load(&f.model_dir, None, &candle_core::Device::Cpu).unwrap();
    assert_eq!(model.meta.final_metrics, None);
    assert_eq!(model.meta.decision, Some(f.decision.decision));
    let saved = search::read_summary(dir.path())
        .unwrap()
        .expect("a summary");
    assert!(saved.test.is_none());
}
