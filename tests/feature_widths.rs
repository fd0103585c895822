//! Feature widths come from the data: every model trains on the widths of its data set
//! (MovieNet's own 2048-d action features as well as the challenge's 512), records them in
//! its checkpoint, and refuses to score movies of other widths with a message naming both.

mod app_support;
mod model_support;

use std::path::Path;
use std::process::Command;

use candle_core::Device;
use candle_nn::VarMap;
use scenelab::data::{FeatureDims, FeatureMatrix, Modality, Movie, Split};
use scenelab::model::{BoundaryModel, Model, ModelKind, SeededVarMap, ShotBatch};
use scenelab::train::{TrainConfig, TrainError, TrainSettings, TrainedModel, train};
use scenelab::workflow::predict::score_movies;

/// The widths MovieNet's own extraction writes: action 2048 instead of 512.
const MOVIENET: FeatureDims = FeatureDims {
    place: 2048,
    cast: 512,
    action: 2048,
    audio: 512,
};

/// `movie` with 2048-d action features: each 512-d row tiled four times at other scales (an
/// all-zero row, nothing detected, stays all zero).
fn widen_action(mut movie: Movie) -> Movie {
    let action = movie.features[Modality::Action.index()].take().unwrap();
    let values = action.values();
    let data: Vec<f32> = values
        .chunks_exact(action.cols)
        .flat_map(|row| {
            [1.0f32, -0.5, 0.25, 2.0]
                .into_iter()
                .flat_map(move |scale| row.iter().map(move |v| v * scale))
        })
        .collect();
    movie.features[Modality::Action.index()] =
        Some(FeatureMatrix::new(action.rows, 4 * action.cols, data));
    movie
}

fn wide_movies(n: usize, seed: u64) -> Vec<Movie> {
    model_support::small_movies(n, seed)
        .into_iter()
        .map(widen_action)
        .collect()
}

fn split_of(movies: &[Movie]) -> Split {
    let ids: Vec<String> = movies.iter().map(|m| m.imdb_id.clone()).collect();
    Split {
        train: ids[..ids.len() - 2].to_vec(),
        validation: vec![ids[ids.len() - 2].clone()],
        test: vec![ids[ids.len() - 1].clone()],
    }
}

fn config(kind: ModelKind) -> TrainConfig {
    TrainConfig {
        model: kind.default_config(),
        settings: TrainSettings {
            epochs: 2,
            ..TrainSettings::for_kind(kind)
        },
    }
}

#[test]
fn a_model_trains_on_the_widths_of_its_data_and_records_them() {
    let movies = wide_movies(6, 3);
    let split = split_of(&movies);
    let cancel = Default::default();
    let out = train(
        &movies,
        &split,
        &config(ModelKind::Default),
        &Device::Cpu,
        None,
        &cancel,
    )
    .unwrap();
    let meta = &out.model.meta;
    assert_eq!(meta.model.input_dims(), MOVIENET);
    assert_eq!(meta.normalization.dims, MOVIENET);
    assert_eq!(meta.normalization.mean.len(), MOVIENET.total());
    assert_eq!(out.test_scores.len(), 1);

    // Saved and opened again, it reads the same widths and scores the same.
    let dir = tempfile::tempdir().unwrap();
    out.model.save(dir.path()).unwrap();
    let config = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    assert!(config.contains(r#""action": 2048"#), "{config}");
    let loaded = TrainedModel::load(dir.path(), None, &Device::Cpu).unwrap();
    assert_eq!(loaded.meta.model.input_dims(), MOVIENET);
    let refs: Vec<&Movie> = movies.iter().collect();
    assert_eq!(
        loaded.predict(&refs).unwrap(),
        out.model.predict(&refs).unwrap()
    );

    // Movies of the challenge's widths are refused, naming the movie and both widths.
    let challenge = model_support::small_movies(1, 9);
    let e = loaded.predict(&[&challenge[0]]).unwrap_err().to_string();
    assert!(
        e.contains(&challenge[0].imdb_id) && e.contains("512 'action'") && e.contains("2048"),
        "{e}"
    );

    // Scoring a folder (the app's Load model, `export --field model`) scores the movies of
    // the model's widths and lists the others; with none of its widths, it is refused.
    let mixed: Vec<Movie> = movies[..2]
        .iter()
        .cloned()
        .chain(challenge.clone())
        .collect();
    let scored = score_movies(&loaded, &mixed).unwrap();
    assert_eq!(scored.scores.len(), 2);
    assert_eq!(scored.other_widths, vec![challenge[0].imdb_id.clone()]);
    let e = score_movies(&loaded, &challenge).unwrap_err().to_string();
    assert!(
        e.contains("512 'action'") && e.contains("reads 2048"),
        "{e}"
    );
}

#[test]
fn every_movie_of_a_training_set_needs_the_same_widths() {
    let mut movies = model_support::small_movies(5, 4);
    let odd = movies.remove(2);
    let odd_id = odd.imdb_id.clone();
    movies.insert(2, widen_action(odd));
    let split = split_of(&movies);
    let cancel = Default::default();
    let e = train(
        &movies,
        &split,
        &config(ModelKind::Wavenet),
        &Device::Cpu,
        None,
        &cancel,
    )
    .err()
    .unwrap();
    assert!(matches!(e, TrainError::Features(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains(&odd_id) && text.contains("2048 'action'") && text.contains("512"),
        "{text}"
    );
}

#[test]
fn every_kind_reads_features_of_any_widths() {
    let dims = FeatureDims {
        place: 24,
        cast: 6,
        action: 40,
        audio: 10,
    };
    let lengths = [9usize, 14];
    let rows: Vec<Vec<f32>> = lengths
        .iter()
        .map(|&n| {
            (0..n * dims.total())
                .map(|k| ((k * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect()
        })
        .collect();
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let batch = ShotBatch::from_rows(&refs, dims.total(), &Device::Cpu).unwrap();
    for kind in ModelKind::ALL {
        let cfg = kind.default_config().with_input_dims(dims);
        let map = VarMap::new();
        let model = Model::new(&cfg, SeededVarMap::var_builder(&map, 1, &Device::Cpu)).unwrap();
        let logits = model.forward(&batch, false).unwrap();
        assert_eq!(logits.dims(), &[2, 13], "{kind}");
        let values = logits.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(values.iter().all(|v| v.is_finite()), "{kind}");
    }
}

fn scenelab(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_command_line_trains_on_a_movienet_folder_with_2048_d_action_features() {
    let tmp = tempfile::tempdir().unwrap();
    let wide = tmp.path().join("movienet");
    for movie in wide_movies(5, 6) {
        scenelab::data::movienet::write_movie(&wide, &movie).unwrap();
    }
    let model = tmp.path().join("model");
    let (ok, text) = scenelab(&[
        "train",
        path(&wide),
        "--out",
        path(&model),
        "--model",
        "wavenet",
        "--epochs",
        "1",
        "--test-movies",
        "1",
        "--device",
        "cpu",
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("feature widths: place 2048, cast 512, action 2048, audio 512"),
        "{text}"
    );
    let (ok, text) = scenelab(&[
        "predict",
        path(&wide),
        "--model",
        path(&model),
        "--out",
        path(&tmp.path().join("scored")),
        "--device",
        "cpu",
    ]);
    assert!(ok, "{text}");

    // The challenge's widths are refused by this model, naming both.
    let challenge = tmp.path().join("challenge");
    std::fs::create_dir(&challenge).unwrap();
    let movie = &model_support::small_movies(1, 8)[0];
    scenelab::data::movienet::write_movie(&challenge, movie).unwrap();
    let (ok, text) = scenelab(&[
        "predict",
        path(&challenge),
        "--model",
        path(&model),
        "--out",
        path(&tmp.path().join("refused")),
        "--device",
        "cpu",
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("512 'action'") && text.contains("reads 2048"),
        "{text}"
    );

    // A folder of both widths: the model's scenes of the movies it reads are exported, the
    // other movie is named, and the run counts as partial (exit 2) unless allowed.
    scenelab::data::movienet::write_movie(&challenge, &wide_movies(1, 6)[0]).unwrap();
    let scenes = tmp.path().join("scenes");
    let export = |extra: &[&str]| {
        let mut args = vec![
            "export",
            path(&challenge),
            "--field",
            "model",
            "--model",
            path(&model),
            "--format",
            "csv",
            "--out",
            path(&scenes),
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_scenelab"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = export(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&movie.imdb_id)
            && err.contains("512 'action' columns, but the model reads 2048"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&scenes).unwrap().count(), 1);
    assert!(export(&["--allow-partial"]).status.success());
}

#[test]
fn the_app_scores_the_movies_of_a_models_widths_and_names_the_others() {
    use egui_kittest::kittest::Queryable;
    use scenelab::app::{Action, App, AppOptions};
    use std::sync::{Arc, Mutex};

    let tmp = tempfile::tempdir().unwrap();
    let wide = wide_movies(5, 12);
    let split = split_of(&wide);
    let out = train(
        &wide,
        &split,
        &config(ModelKind::Wavenet),
        &Device::Cpu,
        None,
        &Default::default(),
    )
    .unwrap();
    let model = tmp.path().join("model");
    out.model.save(&model).unwrap();
    // A folder of three wide movies and one of the challenge's widths.
    let folder = tmp.path().join("movies");
    for movie in wide[..3]
        .iter()
        .cloned()
        .chain(model_support::small_movies(1, 13))
    {
        scenelab::data::movienet::write_movie(&folder, &movie).unwrap();
    }
    let narrow = model_support::small_movies(1, 13)[0].imdb_id.clone();

    let mut app = App::new(AppOptions {
        picker: app_support::picker_answering(Arc::new(Mutex::new(Some(model)))),
        settings_path: None,
        default_dir: tmp.path().join("data_dir"),
        demo: Default::default(),
    });
    app.queue(Action::OpenFolder(folder));
    let mut h = app_support::harness(app);
    app_support::settle(&mut h);
    h.get_by_label("Load model…").click();
    app_support::settle(&mut h);
    app_support::assert_no_errors(&h);
    let state = &h.state().state;
    let source = state
        .sources
        .get(
            state
                .sources
                .position("wavenet (model)")
                .expect("a model source"),
        )
        .unwrap();
    assert_eq!(source.scores.len(), 3);
    assert!(!source.scores.contains_key(&narrow));
    let note = state.training.note.clone().unwrap_or_default();
    assert!(
        note.contains("other feature widths")
            && note.contains(&narrow)
            && note.contains("action 2048"),
        "{note}"
    );
}
