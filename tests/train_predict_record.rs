//! `scenelab predict` keeps every field of a movie file and replaces only the prediction.

use scenelab::data::FIELD_PREDICTION;
use scenelab::pickle::{ArrayData, Field, NdArray};
use scenelab::workflow::export::with_prediction;

fn array(v: Vec<f32>) -> Field {
    Field::Array(NdArray {
        shape: vec![v.len()],
        data: ArrayData::F32(v),
    })
}

#[test]
fn the_prediction_is_replaced_in_place_and_everything_else_kept() {
    let record = vec![
        ("imdb_id".to_string(), Field::Str("tt0000001".into())),
        (FIELD_PREDICTION.to_string(), array(vec![0.0, 0.0])),
        ("shot_end_frame".to_string(), array(vec![1.0, 2.0, 3.0])),
    ];
    let out = with_prediction(record.clone(), ArrayData::F32(vec![0.25, 0.75]));
    assert_eq!(out.len(), 3);
    assert_eq!(out[0], record[0]);
    assert_eq!(out[1].0, FIELD_PREDICTION);
    assert_eq!(out[1].1, array(vec![0.25, 0.75]));
    assert_eq!(out[2], record[2]);
}

#[test]
fn a_file_without_prediction_gets_one() {
    let record = vec![("imdb_id".to_string(), Field::Str("tt0000002".into()))];
    let out = with_prediction(record, ArrayData::F32(vec![0.5]));
    assert_eq!(out.len(), 2);
    assert_eq!(out[1], (FIELD_PREDICTION.to_string(), array(vec![0.5])));
}

mod end_to_end {
    //! `scenelab train` tunes the decision on its validation movies and stores it in the
    //! checkpoint; `scenelab predict` writes scores through it unless `--raw-scores`.

    use std::path::Path;

    use candle_core::Device;
    use scenelab::cli::{predict, train};
    use scenelab::data::demo::{DemoConfig, write_demo};
    use scenelab::data::{Dataset, FIELD_PREDICTION, Movie};
    use scenelab::model::ModelKind;
    use scenelab::pickle::{ArrayData, Field, read_record_file};
    use scenelab::train::TrainedModel;
    use scenelab::train::checkpoint::CONFIG_FILE;
    use scenelab::train::decision::{self, Decision, Objective};

    fn movies_dir(dir: &Path) {
        let config = DemoConfig {
            movies: 6,
            seed: 4,
            min_shots: 40,
            max_shots: 80,
        };
        write_demo(dir, &config, &|_, _| {}).unwrap();
    }

    fn train_args(dir: &Path, out: &Path, objective: Objective) -> train::Args {
        train::Args {
            dir: dir.to_path_buf(),
            model: ModelKind::Wavenet,
            epochs: Some(1),
            test_movies: Some(1),
            test_ids: None,
            split_file: None,
            seed: 2,
            out: out.to_path_buf(),
            device: train::DeviceArg::Cpu,
            objective,
            peak_picking: false,
            features: scenelab::data::FeaturePrecision::F32,
        }
    }

    fn predict_args(dir: &Path, model: &Path, out: &Path, raw_scores: bool) -> predict::Args {
        predict::Args {
            dir: dir.to_path_buf(),
            model: model.to_path_buf(),
            kind: None,
            out: Some(out.to_path_buf()),
            in_place: false,
            device: train::DeviceArg::Cpu,
            raw_scores,
            allow_partial: false,
        }
    }

    /// The prediction written for each movie file of `out`, by imdb id.
    fn written(out: &Path) -> Vec<(String, Vec<f32>)> {
        Dataset::movie_files(out)
            .unwrap()
            .iter()
            .map(|f| {
                let record = read_record_file(f).unwrap();
                let id = match &record.iter().find(|(k, _)| k == "imdb_id").unwrap().1 {
                    Field::Str(s) => s.clone(),
                    other => panic!("imdb_id is {other:?}"),
                };
                let Field::Array(a) = &record
                    .iter()
                    .find(|(k, _)| k == FIELD_PREDICTION)
                    .unwrap()
                    .1
                else {
                    panic!("no prediction array")
                };
                let ArrayData::F32(v) = &a.data else {
                    panic!("prediction is not f32")
                };
                (id, v.clone())
            })
            .collect()
    }

    fn loaded(dir: &Path) -> Vec<Movie> {
        Dataset::load_dir(dir, &|_| {}).unwrap().movies
    }

    #[test]
    fn train_stores_a_decision_tuned_on_validation_movies_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("movies");
        movies_dir(&dir);
        let model_dir = tmp.path().join("model");
        train::run(train_args(&dir, &model_dir, Objective::F1)).unwrap();
        let model = TrainedModel::load(&model_dir, None, &Device::Cpu).unwrap();
        let d = model
            .meta
            .decision
            .expect("a tuned decision in config.json");
        // Threshold only by default, for the objective asked.
        assert_eq!((d.nms_window, d.min_scene_len), (0, 1));
        assert_eq!(d.objective, Objective::F1);
        // Without the test movie the same decision comes out: it never looked at it.
        let split = &model.meta.split;
        assert_eq!((split.validation.len(), split.test.len()), (1, 1));
        let without_test: Vec<Movie> = loaded(&dir)
            .into_iter()
            .filter(|m| !split.test.contains(&m.imdb_id))
            .collect();
        let again = decision::tune_on_validation(
            &model,
            &without_test,
            Objective::F1,
            &decision::grid_for(false),
        )
        .unwrap()
        .unwrap();
        assert_eq!(again.decision, d);
    }

    #[test]
    fn predict_applies_the_checkpoint_decision_unless_raw_scores_are_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("movies");
        movies_dir(&dir);
        let model_dir = tmp.path().join("model");
        train::run(train_args(&dir, &model_dir, Objective::Miou)).unwrap();
        // A decision that surely changes the scores, written into config.json as a tuned one
        // would be.
        let decision = Decision {
            threshold: 0.3,
            nms_window: 2,
            min_scene_len: 3,
            objective: Objective::Miou,
        };
        let config = model_dir.join(CONFIG_FILE);
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
        json["decision"] = serde_json::to_value(decision).unwrap();
        std::fs::write(&config, serde_json::to_string_pretty(&json).unwrap()).unwrap();

        let model = TrainedModel::load(&model_dir, None, &Device::Cpu).unwrap();
        assert_eq!(model.meta.decision, Some(decision));
        let movies = loaded(&dir);
        let refs: Vec<&Movie> = movies.iter().collect();
        let raw = model.predict(&refs).unwrap();

        let decided_dir = tmp.path().join("decided");
        predict::run(predict_args(&dir, &model_dir, &decided_dir, false)).unwrap();
        let raw_dir = tmp.path().join("raw");
        predict::run(predict_args(&dir, &model_dir, &raw_dir, true)).unwrap();
        let decided_out = written(&decided_dir);
        let raw_out = written(&raw_dir);
        assert_eq!(decided_out.len(), movies.len());
        let mut changed = 0;
        for (m, scores) in movies.iter().zip(&raw) {
            let d = &decided_out
                .iter()
                .find(|(id, _)| id == &m.imdb_id)
                .unwrap()
                .1;
            let r = &raw_out.iter().find(|(id, _)| id == &m.imdb_id).unwrap().1;
            assert_eq!(
                r, scores,
                "{}: --raw-scores writes the probabilities",
                m.imdb_id
            );
            assert_eq!(d, &decision.apply(scores), "{}", m.imdb_id);
            // The reference's >= 0.5 on the written scores gives the decision's boundaries.
            let cut: Vec<bool> = d.iter().map(|&x| x >= 0.5).collect();
            assert_eq!(cut, decision.boundaries(scores));
            changed += usize::from(d != scores);
        }
        assert!(changed > 0, "the decision changed no score");
    }
}
