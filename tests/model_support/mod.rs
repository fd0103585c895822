//! Small synthetic movies shared by the model and training tests.
#![allow(dead_code)]

use scenelab::data::Movie;
use scenelab::data::demo::{DemoConfig, generate_movie};

/// `n` demo movies of 30 to 60 shots: the real format and structure, at test size.
pub fn small_movies(n: usize, seed: u64) -> Vec<Movie> {
    let config = DemoConfig {
        movies: n,
        seed,
        min_shots: 30,
        max_shots: 60,
    };
    (0..n).map(|i| generate_movie(&config, i)).collect()
}
