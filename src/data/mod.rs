//! Movies and datasets: folder loading, validation, splits, the synthetic demo generator,
//! and writing predictions out.

mod dataset;
mod dims;
pub mod edit;
pub mod fields;
pub use dataset::load_movie_file;
pub mod demo;
mod movie;
pub mod movienet;
mod scores;
pub mod split;
pub mod subtitles;

pub use dataset::{DataError, Dataset, LoadFailure, LoadProgress};
pub use dims::FeatureDims;
pub use movie::{
    FIELD_GROUND_TRUTH, FIELD_IMDB_ID, FIELD_PREDICTION, FIELD_SHOT_END_FRAME, FIELD_UNCERTAIN,
    FeatureData, FeatureMatrix, FeaturePrecision, FieldIssue, Modality, Movie, MovieError,
};
pub use scores::{ScorePrecision, ScoreSlice, Scores};
pub use split::{
    FoldsError, HeldOut, Split, SplitError, SplitFileError, SplitPolicyError,
    cross_validation_splits, default_test_count, training_split, validation_count,
};
