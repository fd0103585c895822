//! Every model maps a padded batch of movies to one logit per transition, and padding never
//! changes a movie's scores.

mod model_support;

use candle_core::Device;
use candle_nn::VarMap;
use scenelab::data::FeatureDims;
use scenelab::model::{
    BoundaryModel, Model, ModelConfig, ModelKind, SeededVarMap, ShotBatch, multiscale,
};
use scenelab::train::{Normalization, normalize::concat_features};

const DIMS: FeatureDims = FeatureDims::CHALLENGE;

fn rows(n: usize) -> Vec<Vec<f32>> {
    let movies = model_support::small_movies(n, 11);
    let mut rows: Vec<Vec<f32>> = movies
        .iter()
        .map(|m| concat_features(m, DIMS).unwrap())
        .collect();
    let norm = Normalization::fit(&rows.iter().map(Vec::as_slice).collect::<Vec<_>>(), DIMS);
    rows.iter_mut().for_each(|r| norm.apply(r));
    rows
}

fn build_config(config: &ModelConfig) -> Model {
    let map = VarMap::new();
    Model::new(config, SeededVarMap::var_builder(&map, 1, &Device::Cpu)).unwrap()
}

/// Every kind's default, plus the default model with its optional projection on (the search
/// samples it).
fn configs() -> Vec<(String, ModelConfig)> {
    let mut all: Vec<(String, ModelConfig)> = ModelKind::ALL
        .iter()
        .map(|k| (k.to_string(), k.default_config()))
        .collect();
    let projected = multiscale::Config {
        projection_dim: 16,
        ..multiscale::Config::default()
    };
    all.push(("default+projection".into(), ModelConfig::Default(projected)));
    all
}

#[test]
fn forward_gives_one_logit_per_transition_for_every_model() {
    let rows = rows(3);
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let batch = ShotBatch::from_rows(&refs, DIMS.total(), &Device::Cpu).unwrap();
    let t = batch.shots();
    for (kind, config) in configs() {
        let logits = build_config(&config).forward(&batch, false).unwrap();
        assert_eq!(logits.dims(), &[3, t - 1], "{kind}");
        let v = logits.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(
            v.iter().all(|x| x.is_finite()),
            "{kind} gives non-finite logits"
        );
    }
}

#[test]
fn a_movie_scores_the_same_alone_and_batched_with_longer_movies() {
    let mut rows = rows(4);
    rows.sort_by_key(Vec::len);
    let shortest = &rows[0];
    let alone = ShotBatch::from_rows(&[shortest.as_slice()], DIMS.total(), &Device::Cpu).unwrap();
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let batched = ShotBatch::from_rows(&refs, DIMS.total(), &Device::Cpu).unwrap();
    let n = alone.shots() - 1;
    assert!(
        batched.shots() > alone.shots(),
        "the demo gave equal lengths"
    );
    for (kind, config) in configs() {
        let model = build_config(&config);
        let a = model
            .forward(&alone, false)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let b = model
            .forward(&batched, false)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        for (x, y) in a[0].iter().zip(&b[0][..n]) {
            assert!((x - y).abs() < 1e-4, "{kind}: {x} alone vs {y} batched");
        }
    }
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let rows = rows(1);
    let batch = ShotBatch::from_rows(&[rows[0].as_slice()], DIMS.total(), &Device::Cpu).unwrap();
    let run = |seed| {
        let map = VarMap::new();
        let m = Model::new(
            &ModelKind::Default.default_config(),
            SeededVarMap::var_builder(&map, seed, &Device::Cpu),
        )
        .unwrap();
        m.forward(&batch, false).unwrap().to_vec2::<f32>().unwrap()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}
