//! Movie-level splits: every shot of a movie lands in the same part, so validation and test
//! scores measure movies the model has never seen.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Which movies train, validate (early stopping) and test, by imdb id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MovieSplit {
    pub train: Vec<String>,
    pub validation: Vec<String>,
    pub test: Vec<String>,
}

/// How the test movies are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSelection {
    /// The last `k` movies of the seeded shuffle.
    Count(usize),
    /// Exactly these imdb ids.
    Ids(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    #[error("test movie '{0}' is not in the folder")]
    UnknownTestId(String),
    #[error(
        "{available} movies cannot give {test} test movies and still train: lower --test-movies"
    )]
    TooFewMovies { available: usize, test: usize },
}

/// Split `ids` by movie: ids sorted then shuffled with `seed`; the test movies as asked; of the
/// rest, `validation_fraction` (at least one when two or more remain) validates.
pub fn split_movies(
    ids: &[String],
    test: &TestSelection,
    validation_fraction: f64,
    seed: u64,
) -> Result<MovieSplit, SplitError> {
    let mut order: Vec<String> = ids.to_vec();
    order.sort();
    order.dedup();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let (rest, test_ids): (Vec<String>, Vec<String>) = match test {
        TestSelection::Count(k) => {
            if *k >= order.len() {
                return Err(SplitError::TooFewMovies {
                    available: order.len(),
                    test: *k,
                });
            }
            let cut = order.len() - k;
            (order[..cut].to_vec(), order[cut..].to_vec())
        }
        TestSelection::Ids(wanted) => {
            if let Some(missing) = wanted.iter().find(|w| !order.contains(w)) {
                return Err(SplitError::UnknownTestId(missing.clone()));
            }
            let rest: Vec<String> = order.iter().filter(|id| !wanted.contains(id)).cloned().collect();
            if rest.is_empty() {
                return Err(SplitError::TooFewMovies {
                    available: order.len(),
                    test: wanted.len(),
                });
            }
            (rest, wanted.clone())
        }
    };
    let n_val = if rest.len() >= 2 {
        ((rest.len() as f64 * validation_fraction).round() as usize).clamp(1, rest.len() - 1)
    } else {
        0
    };
    let cut = rest.len() - n_val;
    Ok(MovieSplit {
        train: rest[..cut].to_vec(),
        validation: rest[cut..].to_vec(),
        test: test_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("tt{i:07}")).collect()
    }

    #[test]
    fn parts_are_disjoint_and_cover_every_movie() {
        let all = ids(64);
        let s = split_movies(&all, &TestSelection::Count(7), 0.1, 3).unwrap();
        assert_eq!(s.test.len(), 7);
        assert_eq!(s.validation.len(), 6);
        let mut joined: Vec<String> = [s.train, s.validation, s.test].concat();
        joined.sort();
        assert_eq!(joined, all);
    }

    #[test]
    fn same_seed_same_split_and_order_of_input_does_not_matter() {
        let all = ids(20);
        let mut reversed = all.clone();
        reversed.reverse();
        let a = split_movies(&all, &TestSelection::Count(3), 0.1, 9).unwrap();
        let b = split_movies(&reversed, &TestSelection::Count(3), 0.1, 9).unwrap();
        assert_eq!(a, b);
        let c = split_movies(&all, &TestSelection::Count(3), 0.1, 10).unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn explicit_test_ids_are_used_and_unknown_ones_refused() {
        let all = ids(10);
        let s = split_movies(&all, &TestSelection::Ids(vec![all[4].clone()]), 0.2, 1).unwrap();
        assert_eq!(s.test, vec![all[4].clone()]);
        assert!(!s.train.contains(&all[4]) && !s.validation.contains(&all[4]));
        let err = split_movies(&all, &TestSelection::Ids(vec!["tt9".into()]), 0.2, 1);
        assert_eq!(err, Err(SplitError::UnknownTestId("tt9".into())));
    }
}
