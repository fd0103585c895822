//! Seeded movie-level splits: a movie is wholly in train, validation or test.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Imdb ids in each part of a split.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Split {
    pub train: Vec<String>,
    pub validation: Vec<String>,
    pub test: Vec<String>,
}

/// Why a split cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    #[error(
        "cannot hold out {validation} validation and {test} test movies from {total}: at least one must remain for training"
    )]
    TooFew {
        total: usize,
        validation: usize,
        test: usize,
    },
    #[error("test id '{0}' is not among the loaded movies")]
    UnknownId(String),
    /// A given split (a split file) trains on none of the usable movies.
    #[error(
        "the split names none of the {usable} usable movie(s) for training (it lists {listed} \
         training movie(s))"
    )]
    GivenNoTraining { usable: usize, listed: usize },
}

/// Why a split file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SplitFileError {
    #[error("cannot read the split file {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the split file {} {problem}", path.display())]
    Bad {
        path: std::path::PathBuf,
        problem: String,
    },
}

/// A split file's parts as MovieNet writes them (`meta/split318.json`); `all` is ignored.
#[derive(serde::Deserialize)]
struct SplitFile {
    #[serde(default)]
    train: Vec<String>,
    #[serde(default, alias = "validation")]
    val: Vec<String>,
    #[serde(default)]
    test: Vec<String>,
}

/// Test movies held out by default from `movies`: the challenge benchmark's share (7 of its 64
/// movies, about 11%), rounded up, so a small folder still keeps most movies for training.
pub fn default_test_count(movies: usize) -> usize {
    (movies * 7).div_ceil(64)
}

/// `ids` sorted then shuffled by `seed`, so the result does not depend on load order.
fn shuffled(ids: &[String], seed: u64) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    v
}

impl Split {
    /// Read a split file: a JSON object with lists of imdb ids under `train`, `val` (or
    /// `validation`) and `test`, as MovieNet's `meta/split318.json` (whose `all` list is
    /// ignored). A movie in two parts, or a file with no part, is refused naming it.
    pub fn read_file(path: &std::path::Path) -> Result<Split, SplitFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| SplitFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Split::from_json(&text).map_err(|problem| SplitFileError::Bad {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// [`Split::read_file`] of a file's text; the error says what is wrong with it.
    pub fn from_json(text: &str) -> Result<Split, String> {
        let f: SplitFile = serde_json::from_str(text).map_err(|e| {
            format!("is not a JSON object of imdb id lists (train, val, test): {e}")
        })?;
        let split = Split {
            train: f.train,
            validation: f.val,
            test: f.test,
        };
        if split.train.is_empty() && split.validation.is_empty() && split.test.is_empty() {
            return Err("lists no imdb id under train, val or test".into());
        }
        let mut seen = std::collections::HashMap::new();
        for (part, ids) in split.parts() {
            for id in ids {
                if let Some(first) = seen.insert(id.as_str(), part)
                    && first != part
                {
                    return Err(format!("lists '{id}' under both {first} and {part}"));
                }
            }
        }
        Ok(split)
    }

    /// The parts with their names in split files (`train`, `val`, `test`).
    pub fn parts(&self) -> [(&'static str, &Vec<String>); 3] {
        [
            ("train", &self.train),
            ("val", &self.validation),
            ("test", &self.test),
        ]
    }

    /// The ids of `ids` that no part names (sorted).
    pub fn unlisted(&self, ids: &[String]) -> Vec<String> {
        let mut v: Vec<String> = ids
            .iter()
            .filter(|i| !self.parts().iter().any(|(_, p)| p.contains(i)))
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// This split restricted to `ids` (each part sorted); movies it does not name are left
    /// out. Refused when no movie of `ids` trains.
    pub fn restricted_to(&self, ids: &[String]) -> Result<Split, SplitError> {
        let keep = |part: &Vec<String>| {
            let mut v: Vec<String> = part.iter().filter(|i| ids.contains(i)).cloned().collect();
            v.sort();
            v.dedup();
            v
        };
        let split = Split {
            train: keep(&self.train),
            validation: keep(&self.validation),
            test: keep(&self.test),
        };
        if split.train.is_empty() {
            return Err(SplitError::GivenNoTraining {
                usable: ids.len(),
                listed: self.train.len(),
            });
        }
        Ok(split)
    }

    /// Shuffle `ids` with `seed`, then take `n_test` test and `n_validation` validation movies;
    /// the rest train.
    pub fn by_count(
        ids: &[String],
        n_validation: usize,
        n_test: usize,
        seed: u64,
    ) -> Result<Split, SplitError> {
        let v = shuffled(ids, seed);
        if n_validation + n_test >= v.len() {
            return Err(SplitError::TooFew {
                total: v.len(),
                validation: n_validation,
                test: n_test,
            });
        }
        let (test, rest) = v.split_at(n_test);
        let (validation, train) = rest.split_at(n_validation);
        Ok(Split {
            train: train.to_vec(),
            validation: validation.to_vec(),
            test: test.to_vec(),
        })
    }

    /// The given ids are the test set; `n_validation` of the rest (shuffled by `seed`) validate.
    pub fn with_test_ids(
        ids: &[String],
        test_ids: &[String],
        n_validation: usize,
        seed: u64,
    ) -> Result<Split, SplitError> {
        if let Some(unknown) = test_ids.iter().find(|t| !ids.contains(t)) {
            return Err(SplitError::UnknownId(unknown.clone()));
        }
        let rest: Vec<String> = ids
            .iter()
            .filter(|i| !test_ids.contains(i))
            .cloned()
            .collect();
        let v = shuffled(&rest, seed);
        if n_validation >= v.len() {
            return Err(SplitError::TooFew {
                total: ids.len(),
                validation: n_validation,
                test: test_ids.len(),
            });
        }
        let (validation, train) = v.split_at(n_validation);
        let mut test = test_ids.to_vec();
        test.sort();
        test.dedup();
        Ok(Split {
            train: train.to_vec(),
            validation: validation.to_vec(),
            test,
        })
    }

    /// `k` folds of `ids` (shuffled by `seed`), sizes differing by at most one; each movie is
    /// in exactly one fold. Fold `i` validates while the others train.
    pub fn k_folds(ids: &[String], k: usize, seed: u64) -> Vec<Vec<String>> {
        let v = shuffled(ids, seed);
        let k = k.max(1);
        let mut folds = vec![Vec::new(); k];
        for (i, id) in v.into_iter().enumerate() {
            folds[i % k].push(id);
        }
        folds
    }
}

/// Validation movies to hold out of `candidates` non-test movies: a tenth, at least one
/// when two or more remain (none for a single movie, which must train).
pub fn validation_count(candidates: usize) -> usize {
    if candidates < 2 {
        return 0;
    }
    ((candidates as f64 * 0.1).round() as usize).clamp(1, candidates - 1)
}

/// Which movies a training run holds out for the final test; the rest train, a tenth of them
/// ([`validation_count`]) validating early stopping and the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldOut {
    /// This many, chosen by the seeded shuffle (an error when too few movies remain).
    Count(usize),
    /// This many, but fewer when needed so that two movies remain to train and validate.
    AtMost(usize),
    /// These imdb ids.
    Ids(Vec<String>),
    /// This split (a split file's), restricted to the usable movies
    /// ([`Split::restricted_to`]): movies it does not name neither train nor test.
    Given(Split),
}

/// Why [`training_split`] cannot split.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitPolicyError {
    /// Training needs two movies (one trains, one validates or tests).
    #[error("training needs at least 2 usable movies, got {usable}")]
    TooFewMovies { usable: usize },
    #[error(transparent)]
    Split(#[from] SplitError),
}

/// The split a training run makes of `ids` (the usable movies): the test movies by `held_out`
/// and `seed`, then [`validation_count`] of the rest for validation. The test movies of a
/// count are the same whatever the validation count: those of `Split::by_count(ids, 0, n,
/// seed)`, which the search holds out too ([`search_split`]).
pub fn training_split(
    ids: &[String],
    held_out: &HeldOut,
    seed: u64,
) -> Result<Split, SplitPolicyError> {
    if ids.len() < 2 {
        return Err(SplitPolicyError::TooFewMovies { usable: ids.len() });
    }
    let by_count = |test: usize| {
        let rest = ids.len().saturating_sub(test);
        Split::by_count(ids, validation_count(rest), test, seed)
    };
    Ok(match held_out {
        HeldOut::Count(n) => by_count(*n)?,
        HeldOut::AtMost(n) => by_count((*n).min(ids.len() - 2))?,
        HeldOut::Ids(test) => {
            let rest = ids.len().saturating_sub(test.len());
            Split::with_test_ids(ids, test, validation_count(rest), seed)?
        }
        HeldOut::Given(split) => split.restricted_to(ids)?,
    })
}

/// The split a search makes of `ids`: the test movies of [`training_split`] with
/// `HeldOut::Count(test_movies)`, the rest as training movies (sorted) to cut into folds.
pub fn search_split(ids: &[String], test_movies: usize, seed: u64) -> Result<Split, SplitError> {
    let mut split = Split::by_count(ids, 0, test_movies, seed)?;
    split.train.sort();
    Ok(split)
}

/// Fold `fold` of `folds` ([`Split::k_folds`] of a search's training movies): its movies are
/// scored (`test`), the others train with [`validation_count`] of them held out for early
/// stopping.
pub fn fold_split(folds: &[Vec<String>], fold: usize, seed: u64) -> Result<Split, SplitError> {
    let rest: Vec<String> = folds
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != fold)
        .flat_map(|(_, f)| f.iter().cloned())
        .collect();
    let inner = Split::by_count(
        &rest,
        validation_count(rest.len()),
        0,
        seed.wrapping_add(fold as u64 + 1),
    )?;
    Ok(Split {
        train: inner.train,
        validation: inner.validation,
        test: folds[fold].clone(),
    })
}

/// Why [`cross_validation_splits`] cannot make its folds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FoldsError {
    #[error("cross-validation needs at least 2 folds, got {folds}")]
    TooFewFolds { folds: usize },
    #[error("cannot make {folds} folds of {movies} movies: each fold needs a test movie")]
    TooManyFolds { folds: usize, movies: usize },
    #[error(transparent)]
    Split(#[from] SplitPolicyError),
}

/// Movie-level k-fold cross-validation of `ids`: `folds` folds ([`Split::k_folds`] by `seed`),
/// and for fold `i` the split a training run with its movies held out makes
/// ([`training_split`] with `HeldOut::Ids`, the same `seed`): fold `i`'s movies are the test
/// movies, [`validation_count`] of the others validate (early stopping and the decision), the
/// rest train. Every movie is tested exactly once; a fold's test movies never train or
/// validate in that fold.
pub fn cross_validation_splits(
    ids: &[String],
    folds: usize,
    seed: u64,
) -> Result<Vec<Split>, FoldsError> {
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if folds < 2 {
        return Err(FoldsError::TooFewFolds { folds });
    }
    if folds > unique.len() {
        return Err(FoldsError::TooManyFolds {
            folds,
            movies: unique.len(),
        });
    }
    Split::k_folds(&unique, folds, seed)
        .into_iter()
        .map(|test| Ok(training_split(&unique, &HeldOut::Ids(test), seed)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("tt{i:07}")).collect()
    }

    #[test]
    fn parts_are_disjoint_and_cover_everything() {
        let all = ids(64);
        let s = Split::by_count(&all, 6, 7, 42).unwrap();
        assert_eq!(
            (s.train.len(), s.validation.len(), s.test.len()),
            (51, 6, 7)
        );
        let mut joined: Vec<String> = s
            .train
            .iter()
            .chain(&s.validation)
            .chain(&s.test)
            .cloned()
            .collect();
        joined.sort();
        assert_eq!(joined, all);
    }

    #[test]
    fn same_seed_same_split_other_seed_other_split() {
        let all = ids(64);
        assert_eq!(
            Split::by_count(&all, 6, 7, 1).unwrap(),
            Split::by_count(&all, 6, 7, 1).unwrap()
        );
        assert_ne!(
            Split::by_count(&all, 6, 7, 1).unwrap(),
            Split::by_count(&all, 6, 7, 2).unwrap()
        );
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(
            Split::by_count(&all, 6, 7, 1).unwrap(),
            Split::by_count(&reversed, 6, 7, 1).unwrap()
        );
    }

    #[test]
    fn too_few_movies_is_an_error() {
        assert!(Split::by_count(&ids(5), 2, 3, 0).is_err());
    }

    #[test]
    fn test_ids_are_kept_out() {
        let all = ids(20);
        let test = vec![all[3].clone(), all[7].clone()];
        let s = Split::with_test_ids(&all, &test, 3, 0).unwrap();
        assert_eq!(s.test, test);
        assert!(
            !s.train
                .iter()
                .chain(&s.validation)
                .any(|i| test.contains(i))
        );
        assert!(Split::with_test_ids(&all, &["tt9".into()], 3, 0).is_err());
    }

    #[test]
    fn folds_partition_the_movies() {
        let all = ids(23);
        let folds = Split::k_folds(&all, 5, 9);
        assert_eq!(folds.len(), 5);
        let mut joined: Vec<String> = folds.concat();
        joined.sort();
        assert_eq!(joined, all);
        assert!(folds.iter().all(|f| f.len() == 4 || f.len() == 5));
    }

    #[test]
    fn a_capped_count_leaves_two_movies_and_a_count_is_exact() {
        let ids = ids(20);
        let s = training_split(&ids, &HeldOut::AtMost(7), 3).unwrap();
        assert_eq!(
            s,
            Split::by_count(&ids, validation_count(13), 7, 3).unwrap()
        );
        assert_eq!(s, training_split(&ids, &HeldOut::Count(7), 3).unwrap());
        // Six movies cannot give seven to the test: two stay to train and validate.
        let few = training_split(&ids[..6], &HeldOut::AtMost(7), 0).unwrap();
        assert_eq!(
            (few.train.len(), few.validation.len(), few.test.len()),
            (1, 1, 4)
        );
        assert!(matches!(
            training_split(&ids[..6], &HeldOut::Count(7), 0),
            Err(SplitPolicyError::Split(SplitError::TooFew { .. }))
        ));
        assert_eq!(
            training_split(&ids[..1], &HeldOut::AtMost(1), 0),
            Err(SplitPolicyError::TooFewMovies { usable: 1 })
        );
        assert_eq!(
            SplitPolicyError::TooFewMovies { usable: 1 }.to_string(),
            "training needs at least 2 usable movies, got 1"
        );
    }

    #[test]
    fn a_split_file_reads_movienet_s_parts_and_restricts_to_the_usable_movies() {
        let text = r#"{"train": ["tt1", "tt2", "tt3"], "val": ["tt4"], "test": ["tt5"],
                       "all": ["tt1", "tt2", "tt3", "tt4", "tt5"]}"#;
        let split = Split::from_json(text).unwrap();
        assert_eq!(split.validation, ["tt4"]);
        let usable: Vec<String> = ["tt2", "tt1", "tt5", "tt9"].map(String::from).to_vec();
        assert_eq!(split.unlisted(&usable), ["tt9"]);
        let given = training_split(&usable, &HeldOut::Given(split.clone()), 0).unwrap();
        assert_eq!(given.train, ["tt1", "tt2"]);
        assert!(given.validation.is_empty());
        assert_eq!(given.test, ["tt5"]);
        let only_test: Vec<String> = ["tt5", "tt4"].map(String::from).to_vec();
        assert_eq!(
            training_split(&only_test, &HeldOut::Given(split), 0),
            Err(SplitPolicyError::Split(SplitError::GivenNoTraining {
                usable: 2,
                listed: 3
            }))
        );
        let twice = Split::from_json(r#"{"train": ["tt1"], "test": ["tt1"]}"#).unwrap_err();
        assert!(twice.contains("'tt1' under both train and test"), "{twice}");
        assert!(Split::from_json(r#"{"all": ["tt1"]}"#).is_err());
        assert!(Split::from_json("[1, 2]").is_err());
    }

    #[test]
    fn the_search_holds_out_the_training_test_movies() {
        let ids = ids(30);
        let train = training_split(&ids, &HeldOut::Count(4), 8).unwrap();
        let search = search_split(&ids, 4, 8).unwrap();
        assert_eq!(search.test, train.test);
        assert!(search.validation.is_empty());
        assert!(search.train.is_sorted());
        let by_ids = training_split(&ids, &HeldOut::Ids(search.test.clone()), 8).unwrap();
        let mut test = search.test.clone();
        test.sort();
        assert_eq!(by_ids.test, test);
        assert_eq!(by_ids.validation.len(), validation_count(26));
    }
}
