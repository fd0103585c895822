//! Movies and datasets: folder loading, validation, splits, the synthetic demo generator,
//! and writing predictions out.

mod movie;

pub use movie::{FeatureMatrix, Modality, Movie, MovieError};
