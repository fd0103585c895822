//! Search spaces: for each model kind, the hyperparameters a random search draws, declared as
//! one function per kind that fills that model's `Config` fields (so a renamed field breaks
//! the build here, next to its range). Every kind also draws the AdamW learning rate
//! (log-uniform, around the model's default) and the weight decay (log-uniform); no model has
//! dropout. Draws come from a seeded ChaCha8 stream per trial ([`trial_config`]), so trial `i`
//! of a seed is the same configuration whatever the number of trials, which is what lets a
//! search resume.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{TrainConfig, TrainSettings};
use crate::model::{ModelConfig, ModelKind, bilstm, lgss, multiscale, wavenet};

/// `exp` of a uniform draw between `ln lo` and `ln hi`.
pub fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

fn pick<T: Clone>(rng: &mut impl Rng, options: &[T]) -> T {
    options.choose(rng).expect("a non-empty choice").clone()
}

/// The settings every kind searches, on top of `base` (epochs, patience, batch, seed).
fn optimiser(rng: &mut impl Rng, base: &TrainSettings, learning_rate: f64) -> TrainSettings {
    TrainSettings {
        learning_rate: Some(learning_rate),
        weight_decay: log_uniform(rng, 1e-4, 1e-1),
        ..base.clone()
    }
}

/// SceneLab's multi-scale model: projection width, convolution width, kernel and dilations,
/// window widths.
pub fn default_model(rng: &mut impl Rng, base: &TrainSettings) -> TrainConfig {
    let learning_rate = log_uniform(rng, 5e-4, 5e-3);
    let model = multiscale::Config {
        similarity_widths: pick(
            rng,
            &[
                vec![1, 2, 4, 8],
                vec![1, 2, 4, 8, 16],
                vec![1, 2, 4, 8, 16, 32],
            ],
        ),
        // 0 (similarities only) is the default: on full-size demo data the projection
        // memorised the training movies (test mAP 0.44 with 64, 0.71 without).
        projection_dim: pick(rng, &[0, 0, 16, 32, 64]),
        difference_widths: pick(rng, &[vec![2], vec![2, 8], vec![1, 4, 16]]),
        hidden: pick(rng, &[16, 32, 48, 64, 96]),
        kernel: pick(rng, &[3, 5]),
        dilations: pick(rng, &[vec![1, 2], vec![1, 2, 4], vec![1, 2, 4, 8]]),
        learning_rate,
        ..multiscale::Config::default()
    };
    TrainConfig {
        model: ModelConfig::Default(model),
        settings: optimiser(rng, base, learning_rate),
    }
}

/// WaveNet: blocks 2-3, layers per block 4-10, filters 10-20, last filters 2-10.
pub fn wavenet(rng: &mut impl Rng, base: &TrainSettings) -> TrainConfig {
    let learning_rate = log_uniform(rng, 3e-4, 3e-3);
    let model = wavenet::Config {
        num_blocks: rng.random_range(2..=3),
        num_layers: rng.random_range(4..=10),
        filters: rng.random_range(10..=20),
        last_filters: rng.random_range(2..=10),
        learning_rate,
        ..wavenet::Config::default()
    };
    TrainConfig {
        model: ModelConfig::Wavenet(model),
        settings: optimiser(rng, base, learning_rate),
    }
}

/// BiLSTM: layers 1-10, units per direction 2-64.
pub fn bilstm(rng: &mut impl Rng, base: &TrainSettings) -> TrainConfig {
    let learning_rate = log_uniform(rng, 5e-4, 5e-3);
    let model = bilstm::Config {
        layers: rng.random_range(1..=10),
        hidden: rng.random_range(2..=64),
        learning_rate,
        ..bilstm::Config::default()
    };
    TrainConfig {
        model: ModelConfig::Bilstm(model),
        settings: optimiser(rng, base, learning_rate),
    }
}

/// LGSS: convolution channels, LSTM units, dense width, windows per sequence (the branch
/// weights keep the published values).
pub fn lgss(rng: &mut impl Rng, base: &TrainSettings) -> TrainConfig {
    let learning_rate = log_uniform(rng, 2e-4, 3e-3);
    let model = lgss::Config {
        channels: pick(rng, &[64, 128, 256, 512]),
        hidden: pick(rng, &[32, 64, 128, 256, 512]),
        dense: rng.random_range(32..=128),
        seq_len: rng.random_range(5..=20),
        learning_rate,
        ..lgss::Config::default()
    };
    TrainConfig {
        model: ModelConfig::Lgss(model),
        settings: optimiser(rng, base, learning_rate),
    }
}

/// One draw from `kind`'s space.
pub fn sample(kind: ModelKind, rng: &mut impl Rng, base: &TrainSettings) -> TrainConfig {
    match kind {
        ModelKind::Default => default_model(rng, base),
        ModelKind::Wavenet => wavenet(rng, base),
        ModelKind::Bilstm => bilstm(rng, base),
        ModelKind::Lgss => lgss(rng, base),
    }
}

/// Trial `index` of a search seeded with `seed`: drawn from its own ChaCha8 stream, a pure
/// function of `(kind, seed, index, base)`.
pub fn trial_config(kind: ModelKind, seed: u64, index: usize, base: &TrainSettings) -> TrainConfig {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    sample(kind, &mut rng, base)
}

/// The searched hyperparameters of a configuration as `(name, value)` pairs, for tables:
/// the model's fields (without its kind, input widths and learning rate), then the learning
/// rate and weight decay.
pub fn describe(config: &TrainConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(&config.model) {
        for (name, value) in fields {
            if matches!(name.as_str(), "kind" | "input_dims" | "learning_rate") {
                continue;
            }
            out.push((name, compact(&value)));
        }
    }
    let lr = config
        .settings
        .learning_rate
        .unwrap_or_else(|| config.model.learning_rate());
    out.push(("learning_rate".into(), format!("{lr:.3e}")));
    out.push((
        "weight_decay".into(),
        format!("{:.3e}", config.settings.weight_decay),
    ));
    out
}

fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => items.iter().map(compact).collect::<Vec<_>>().join(";"),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
