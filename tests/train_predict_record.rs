//! `scenelab predict` keeps every field of a movie file and replaces only the prediction.

use scenelab::cli::predict::with_prediction;
use scenelab::data::FIELD_PREDICTION;
use scenelab::pickle::{ArrayData, Field, NdArray};

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
    let out = with_prediction(record.clone(), &[0.25, 0.75]);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0], record[0]);
    assert_eq!(out[1].0, FIELD_PREDICTION);
    assert_eq!(out[1].1, array(vec![0.25, 0.75]));
    assert_eq!(out[2], record[2]);
}

#[test]
fn a_file_without_prediction_gets_one() {
    let record = vec![("imdb_id".to_string(), Field::Str("tt0000002".into()))];
    let out = with_prediction(record, &[0.5]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1], (FIELD_PREDICTION.to_string(), array(vec![0.5])));
}
