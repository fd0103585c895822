//! Training on small synthetic movies: the loss falls, runs are reproducible, events arrive,
//! and cancelling stops the run.

mod model_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use candle_core::Device;
use scenelab::data::{Movie, Split};
use scenelab::model::{ModelConfig, ModelKind, lgss};
use scenelab::train::{
    StopReason, TrainConfig, TrainError, TrainEvent, TrainSettings, TrainedModel, train,
};

fn split(movies: &[Movie], validation: usize) -> Split {
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    Split::by_count(&ids, validation, 0, 3).unwrap()
}

fn config(kind: ModelKind, epochs: usize) -> TrainConfig {
    let model = match kind {
        // LGSS at its published size spends a debug build's minutes on these tiny movies.
        ModelKind::Lgss => ModelConfig::Lgss(lgss::Config {
            channels: 64,
            hidden: 32,
            ..lgss::Config::default()
        }),
        other => other.default_config(),
    };
    TrainConfig {
        model,
        settings: TrainSettings {
            epochs,
            batch_movies: 1,
            seed: 7,
            ..TrainSettings::default()
        },
    }
}

fn run(movies: &[Movie], split: &Split, cfg: &TrainConfig) -> TrainedModel {
    train(
        movies,
        split,
        cfg,
        &Device::Cpu,
        None,
        &AtomicBool::new(false),
    )
    .unwrap()
    .model
}

#[test]
fn one_epoch_lowers_the_training_loss_of_every_model() {
    let movies = model_support::small_movies(6, 21);
    let split = split(&movies, 0);
    let train_refs: Vec<&Movie> = movies.iter().collect();
    for kind in ModelKind::ALL {
        // Zero epochs returns the seeded initial weights: the same start as the real run.
        let before = run(&movies, &split, &config(kind, 0))
            .loss(&train_refs)
            .unwrap();
        let after = run(&movies, &split, &config(kind, 1))
            .loss(&train_refs)
            .unwrap();
        assert!(after < before, "{kind}: loss {before} → {after}");
    }
}

#[test]
fn same_seed_gives_the_same_model() {
    let movies = model_support::small_movies(5, 22);
    let split = split(&movies, 1);
    let cfg = config(ModelKind::Default, 2);
    let refs: Vec<&Movie> = movies.iter().collect();
    let a = run(&movies, &split, &cfg);
    let b = run(&movies, &split, &cfg);
    assert_eq!(a.predict(&refs).unwrap(), b.predict(&refs).unwrap());
    assert_eq!(a.meta.curve, {
        let mut curve = b.meta.curve.clone();
        // Wall-clock time is the one thing allowed to differ.
        for (x, y) in curve.iter_mut().zip(&a.meta.curve) {
            x.seconds = y.seconds;
            x.train_seconds = y.train_seconds;
        }
        curve
    });
}

#[test]
fn events_report_every_step_and_epoch_with_validation_map() {
    let movies = model_support::small_movies(5, 23);
    let split = split(&movies, 1);
    let (tx, rx) = mpsc::channel();
    let out = train(
        &movies,
        &split,
        &config(ModelKind::Wavenet, 2),
        &Device::Cpu,
        Some(&tx),
        &AtomicBool::new(false),
    )
    .unwrap();
    drop(tx);
    let events: Vec<TrainEvent> = rx.iter().collect();
    let steps = events
        .iter()
        .filter(|e| matches!(e, TrainEvent::Step { .. }))
        .count();
    let epochs: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Epoch { record, .. } => Some(record.clone()),
            _ => None,
        })
        .collect();
    // 4 training movies one per step, two epochs.
    assert_eq!(steps, 8);
    assert_eq!(epochs.len(), 2);
    let map = epochs[1].validation.unwrap().map;
    assert!((0.0..=1.0).contains(&map));
    assert!(matches!(events.first(), Some(TrainEvent::Started { .. })));
    assert!(matches!(events.last(), Some(TrainEvent::Finished { .. })));
    assert_eq!(out.model.meta.curve, epochs);
}

#[test]
fn cancel_stops_training() {
    let movies = model_support::small_movies(5, 24);
    let split = split(&movies, 1);
    // Cancelled before anything ran: an error that says so.
    let err = train(
        &movies,
        &split,
        &config(ModelKind::Default, 3),
        &Device::Cpu,
        None,
        &AtomicBool::new(true),
    );
    assert!(matches!(err, Err(TrainError::Cancelled)));

    // Cancelled after the first epoch, from another thread: stops there.
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let handle = {
        let cancel = cancel.clone();
        let movies = movies.clone();
        let split = split.clone();
        std::thread::spawn(move || {
            train(
                &movies,
                &split,
                &config(ModelKind::Default, 50),
                &Device::Cpu,
                Some(&tx),
                &cancel,
            )
        })
    };
    for e in rx.iter() {
        if matches!(e, TrainEvent::Epoch { .. }) {
            cancel.store(true, Ordering::Relaxed);
        }
    }
    let model = handle.join().unwrap().unwrap().model;
    assert_eq!(model.meta.stop, StopReason::Cancelled);
    assert!(model.meta.curve.len() < 50);
}

#[test]
fn padded_transitions_never_count_in_the_loss() {
    use candle_core::Tensor;
    let dev = Device::Cpu;
    let targets = Tensor::new(&[[1f32, 0., 0., 0.], [0., 1., 0., 0.]], &dev).unwrap();
    // The second movie is two transitions shorter: its last two are padding.
    let mask = Tensor::new(&[[1f32, 1., 1., 1.], [1., 1., 0., 0.]], &dev).unwrap();
    let logits = Tensor::new(&[[2f32, -1., 0.5, -3.], [0.3, 1.2, 0., 0.]], &dev).unwrap();
    let garbage = Tensor::new(&[[2f32, -1., 0.5, -3.], [0.3, 1.2, 9., -7.]], &dev).unwrap();
    let loss = |l: &Tensor| {
        scenelab::train::masked_bce(l, &targets, &mask, 4.0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    };
    assert_eq!(loss(&logits), loss(&garbage));
    // And it is the pos-weighted mean over the six real transitions.
    let sp = |z: f32| (1.0 + z.exp()).ln();
    let expected =
        (4.0 * sp(-2.0) + sp(-1.0) + sp(0.5) + sp(-3.0) + sp(0.3) + 4.0 * sp(-1.2)) / 6.0;
    assert!((loss(&logits) - expected).abs() < 1e-5);
}
