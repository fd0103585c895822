//! Synthetic demo movies in the real format, with structure a model can learn.
//!
//! A movie is built scene by scene, the way films are: each scene has a location (which
//! recurs across the movie, and sometimes continues across a cut), two or three camera
//! setups that alternate within it (shot / reverse shot), a cast drawn from the movie's
//! characters (the leads appear in many scenes), an activity, and ambient sound tied to the
//! location, while music cues run across scene boundaries. So a single shot-to-shot change
//! is a weak cue (setups alternate inside scenes), and a model must compare windows of shots
//! and combine modalities; a boundary between two scenes at one location shows only in cast,
//! action and sound. Feature statistics follow the real data: non-negative sparse `place`,
//! signed `cast`, all-zero `cast`/`action` rows where nothing was detected, int32 end frames
//! with a median of 64 frames per shot, about 12 shots per scene.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, LogNormal, Normal, StandardNormal};
use rayon::prelude::*;

use super::{FeatureMatrix, Modality, Movie, Scores};

// Weights of each feature's parts: scene signal, shot-level variation (low rank), and
// per-dimension noise. Tuned so that no single cue is enough (see the module docs).
const P_LOC: f32 = 0.3;
const P_SETUP: f32 = 0.4;
const P_VAR: f32 = 0.6;
const P_SHARED: f32 = 0.8;
const P_IID: f32 = 0.3;
const C_CHAR: f32 = 0.6;
const C_VAR: f32 = 0.4;
const C_SHARED: f32 = 0.45;
const C_IID: f32 = 0.3;
const A_ACT: f32 = 0.3;
const A_VAR: f32 = 0.5;
const A_SHARED: f32 = 0.6;
const A_IID: f32 = 0.3;
const S_AMB: f32 = 0.3;
const S_MUSIC: f32 = 0.5;
const S_VAR: f32 = 0.5;
const S_SHARED: f32 = 0.6;
const S_IID: f32 = 0.3;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    pub movies: usize,
    pub seed: u64,
    pub min_shots: usize,
    pub max_shots: usize,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            movies: 64,
            seed: 0,
            min_shots: 600,
            max_shots: 3100,
        }
    }
}

/// A [`DemoConfig`] setting out of range, named with its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoConfigError {
    #[error("movies must be at least 1, got {movies}")]
    NoMovies { movies: usize },
    #[error("min_shots must be at least 2 (a movie needs a transition), got {min_shots}")]
    TooFewShots { min_shots: usize },
    #[error("min_shots ({min_shots}) is larger than max_shots ({max_shots})")]
    MinAboveMax { min_shots: usize, max_shots: usize },
    #[error("max_shots must be at most 100000 (more is not a movie), got {max_shots}")]
    TooManyShots { max_shots: usize },
}

impl DemoConfig {
    /// Check the numbers before any work starts.
    pub fn validate(&self) -> Result<(), DemoConfigError> {
        let (movies, min_shots, max_shots) = (self.movies, self.min_shots, self.max_shots);
        if movies < 1 {
            return Err(DemoConfigError::NoMovies { movies });
        }
        if min_shots < 2 {
            return Err(DemoConfigError::TooFewShots { min_shots });
        }
        if min_shots > max_shots {
            return Err(DemoConfigError::MinAboveMax {
                min_shots,
                max_shots,
            });
        }
        if max_shots > 100_000 {
            return Err(DemoConfigError::TooManyShots { max_shots });
        }
        Ok(())
    }
}

/// The imdb id of demo movie `index`: `tt9` then six digits, outside the fixtures' range.
pub fn demo_id(config: &DemoConfig, index: usize) -> String {
    format!(
        "tt9{:06}",
        (config.seed as usize % 1000) * 1000 + index % 1000
    )
}

fn standard(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

/// Per-movie material scenes are drawn from.
/// Shot-to-shot variation that is not about the scene (framing, lighting, motion): it lives
/// in a few directions, like real CNN features, so averaging over 2048 dimensions does not
/// wash it out and a window of shots is needed to see past it.
struct LowRankNoise {
    basis: Vec<Vec<f32>>,
}

impl LowRankNoise {
    fn new(rng: &mut ChaCha8Rng, dim: usize, rank: usize) -> LowRankNoise {
        let scale = 1.0 / (rank as f32).sqrt();
        let basis = (0..rank)
            .map(|_| standard(rng, dim).into_iter().map(|x| x * scale).collect())
            .collect();
        LowRankNoise { basis }
    }

    /// Add `amp` × a random combination of the basis (unit variance per dimension).
    fn add(&self, rng: &mut ChaCha8Rng, row: &mut [f32], amp: f32) {
        for b in &self.basis {
            let c: f32 = StandardNormal.sample(rng);
            let c = c * amp;
            for (v, x) in row.iter_mut().zip(b) {
                *v += c * x;
            }
        }
    }
}

struct Palette {
    locations: Vec<Vec<f32>>,
    /// Per location, its camera setups (offsets in the place space).
    setups: Vec<Vec<Vec<f32>>>,
    ambience: Vec<Vec<f32>>,
    characters: Vec<Vec<f32>>,
    activities: Vec<Vec<f32>>,
    music: Vec<Vec<f32>>,
    /// Per modality, indexed by [`Modality::index`].
    variation: [LowRankNoise; 4],
}

impl Palette {
    fn new(rng: &mut ChaCha8Rng) -> Palette {
        let n_loc = rng.random_range(15..40);
        let locations: Vec<Vec<f32>> = (0..n_loc).map(|_| standard(rng, 2048)).collect();
        let setups = (0..n_loc)
            .map(|_| (0..3).map(|_| standard(rng, 2048)).collect())
            .collect();
        let ambience = (0..n_loc).map(|_| standard(rng, 512)).collect();
        let n_char = rng.random_range(8..24);
        let characters = (0..n_char).map(|_| standard(rng, 512)).collect();
        let activities = (0..rng.random_range(6..14))
            .map(|_| standard(rng, 512))
            .collect();
        let music = (0..6).map(|_| standard(rng, 512)).collect();
        let variation = [
            LowRankNoise::new(rng, 2048, 12),
            LowRankNoise::new(rng, 512, 8),
            LowRankNoise::new(rng, 512, 8),
            LowRankNoise::new(rng, 512, 8),
        ];
        Palette {
            locations,
            setups,
            ambience,
            characters,
            activities,
            music,
            variation,
        }
    }
}

fn shared_variation(seed: u64) -> [LowRankNoise; 4] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_5CE7_E1AB);
    [
        LowRankNoise::new(&mut rng, 2048, 8),
        LowRankNoise::new(&mut rng, 512, 6),
        LowRankNoise::new(&mut rng, 512, 6),
        LowRankNoise::new(&mut rng, 512, 6),
    ]
}

/// Zipf-like pick: low indices (leads, main sets) come up far more often.
fn zipf(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let u: f64 = rng.random();
    ((n as f64).powf(u) - 1.0).floor().min(n as f64 - 1.0) as usize
}

struct Scene {
    len: usize,
    location: usize,
    setups: Vec<usize>,
    cast: Vec<usize>,
    activity: usize,
}

fn plan_scenes(rng: &mut ChaCha8Rng, p: &Palette, n_shots: usize) -> Vec<Scene> {
    // Scene lengths: 1 + Gamma(2, 5.5), mean about 12 shots, a long right tail.
    let gamma = Gamma::new(2.0, 5.5).expect("valid gamma");
    let mut scenes: Vec<Scene> = Vec::new();
    let mut total = 0;
    while total < n_shots {
        let len = (1 + gamma.sample(rng) as usize).min(n_shots - total);
        // A cut to another scene at the same place happens (a time jump, a new conversation).
        let location = match scenes.last() {
            Some(prev) if rng.random_bool(0.2) => prev.location,
            _ => zipf(rng, p.locations.len()),
        };
        let n_setups = rng.random_range(1..=3);
        let setups = (0..n_setups).map(|_| rng.random_range(0..3)).collect();
        let n_cast = rng.random_range(1..=4);
        let cast = (0..n_cast).map(|_| zipf(rng, p.characters.len())).collect();
        let activity = rng.random_range(0..p.activities.len());
        scenes.push(Scene {
            len,
            location,
            setups,
            cast,
            activity,
        });
        total += len;
    }
    scenes
}

/// Movie number `index` of the demo set for `config` (deterministic for the pair).
pub fn generate_movie(config: &DemoConfig, index: usize) -> Movie {
    let mut rng =
        ChaCha8Rng::seed_from_u64(config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index as u64);
    let n = rng.random_range(config.min_shots..=config.max_shots.max(config.min_shots));
    let palette = Palette::new(&mut rng);
    // Shared by every movie of a seed: variation a model can learn to look past.
    let shared = shared_variation(config.seed);
    let scenes = plan_scenes(&mut rng, &palette, n);
    let noise = Normal::new(0.0f32, 1.0).expect("valid normal");
    let shots = shot_features(&mut rng, &noise, &palette, &shared, &scenes, n);
    let shot_end_frame = shot_end_frames(&mut rng, n);
    let prediction = provided_prediction(&mut rng, &noise, &shots.ground_truth);

    let matrix = |data: Vec<f32>, cols: usize| Some(FeatureMatrix::new(n, cols, data));
    let mut features: [Option<FeatureMatrix>; 4] = Default::default();
    features[Modality::Place.index()] = matrix(shots.place, 2048);
    features[Modality::Cast.index()] = matrix(shots.cast, 512);
    features[Modality::Action.index()] = matrix(shots.action, 512);
    features[Modality::Audio.index()] = matrix(shots.audio, 512);
    Movie {
        imdb_id: demo_id(config, index),
        n_shots: n,
        features,
        ground_truth: Some(shots.ground_truth),
        prediction: Some(Scores::from_f32(&prediction)),
        shot_end_frame: Some(shot_end_frame),
        uncertain: Vec::new(),
        issues: Vec::new(),
        notes: Vec::new(),
    }
}

/// Every shot's four feature rows (row-major, `n` rows each) and the boundaries after them.
struct ShotFeatures {
    place: Vec<f32>,
    cast: Vec<f32>,
    action: Vec<f32>,
    audio: Vec<f32>,
    /// `n - 1` transitions: whether a scene ends there.
    ground_truth: Vec<bool>,
}

/// The features of `n` shots played through `scenes`.
fn shot_features(
    rng: &mut ChaCha8Rng,
    noise: &Normal<f32>,
    palette: &Palette,
    shared: &[LowRankNoise; 4],
    scenes: &[Scene],
    n: usize,
) -> ShotFeatures {
    let mut place = vec![0f32; n * 2048];
    let mut cast = vec![0f32; n * 512];
    let mut action = vec![0f32; n * 512];
    let mut audio = vec![0f32; n * 512];
    let mut ground_truth = Vec::with_capacity(n - 1);
    let mut music_left = 0usize;
    let mut music: Option<usize> = None;
    let mut shot = 0;
    for (s, scene) in scenes.iter().enumerate() {
        let loc = &palette.locations[scene.location];
        for k in 0..scene.len {
            let setup_idx = scene.setups[k % scene.setups.len()];
            let setup = &palette.setups[scene.location][setup_idx];
            // Place: a ReLU of location + camera setup + shot noise, sparse like CNN features.
            let row = &mut place[shot * 2048..(shot + 1) * 2048];
            for (d, v) in row.iter_mut().enumerate() {
                *v = P_LOC * loc[d] + P_SETUP * setup[d] + P_IID * noise.sample(rng) - 0.35;
            }
            palette.variation[0].add(rng, row, P_VAR);
            shared[0].add(rng, row, P_SHARED);
            row.iter_mut().for_each(|v| *v = v.max(0.0));
            // Cast: the character this setup frames (shot / reverse shot), sometimes two,
            // nobody detected in about a third of shots.
            if rng.random_bool(0.68) {
                let who = scene.cast[setup_idx % scene.cast.len()];
                let other = scene.cast[rng.random_range(0..scene.cast.len())];
                let two = rng.random_bool(0.25);
                let row = &mut cast[shot * 512..(shot + 1) * 512];
                for (d, v) in row.iter_mut().enumerate() {
                    let mut c = palette.characters[who][d];
                    if two {
                        c = 0.5 * (c + palette.characters[other][d]);
                    }
                    *v = C_CHAR * c + C_IID * noise.sample(rng);
                }
                palette.variation[1].add(rng, row, C_VAR);
                shared[1].add(rng, row, C_SHARED);
            }
            if rng.random_bool(0.78) {
                let row = &mut action[shot * 512..(shot + 1) * 512];
                let a = &palette.activities[scene.activity];
                for (d, v) in row.iter_mut().enumerate() {
                    *v = A_ACT * a[d] + A_IID * noise.sample(rng);
                }
                palette.variation[2].add(rng, row, A_VAR);
                shared[2].add(rng, row, A_SHARED);
            }
            // Music cues start and stop on their own clock, across scene boundaries.
            if music_left == 0 {
                music_left = rng.random_range(15..90);
                music = rng
                    .random_bool(0.5)
                    .then(|| rng.random_range(0..palette.music.len()));
            }
            music_left -= 1;
            let row = &mut audio[shot * 512..(shot + 1) * 512];
            let amb = &palette.ambience[scene.location];
            for (d, v) in row.iter_mut().enumerate() {
                let m = music.map_or(0.0, |m| palette.music[m][d]);
                *v = S_AMB * amb[d] + S_MUSIC * m + S_IID * noise.sample(rng);
            }
            palette.variation[3].add(rng, row, S_VAR);
            shared[3].add(rng, row, S_SHARED);
            if shot + 1 < n {
                ground_truth.push(k + 1 == scene.len && s + 1 < scenes.len());
            }
            shot += 1;
        }
    }
    ShotFeatures {
        place,
        cast,
        action,
        audio,
        ground_truth,
    }
}

/// Shot end frames: lengths log-normal with median 64 frames, mean about 111.
fn shot_end_frames(rng: &mut ChaCha8Rng, n: usize) -> Vec<i64> {
    let durations = LogNormal::new(64f64.ln(), 1.05).expect("valid log-normal");
    let mut end = -1i64;
    (0..n)
        .map(|_| {
            end += (durations.sample(rng).round() as i64).max(1);
            end
        })
        .collect()
}

/// The provided prediction: a plausible pre-trained model, right more often than not.
fn provided_prediction(rng: &mut ChaCha8Rng, noise: &Normal<f32>, truth: &[bool]) -> Vec<f32> {
    truth
        .iter()
        .map(|&b| {
            let z: f32 = if b { -1.0 } else { -2.9 } + 1.3 * noise.sample(rng);
            1.0 / (1.0 + (-z).exp())
        })
        .collect()
}

/// Movies a folder already holds, which demo movies written there would be mixed with (the
/// folder would load as one data set, and files a demo movie does not replace would stay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExistingMovies {
    /// `*.pkl` files (every one loads as a movie): how many, and the first by name.
    Pkl { count: usize, first: String },
    /// MovieNet's layout ([`super::movienet::Layout::detect`]) or its feature folders: the
    /// folders found, by name.
    MovieNet { folders: Vec<String> },
}

impl std::fmt::Display for ExistingMovies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExistingMovies::Pkl { count: 1, first } => write!(f, "a movie file, {first}"),
            ExistingMovies::Pkl { count, first } => {
                write!(f, "{count} movie files (.pkl), {first} the first")
            }
            ExistingMovies::MovieNet { folders } => {
                write!(f, "movies in MovieNet's layout ({}/)", folders.join("/, "))
            }
        }
    }
}

/// What movies `dir` holds already, `None` for a folder that does not exist, is empty, or
/// holds only other files (a README, subtitles): demo movies can go there unmixed.
pub fn existing_movies(dir: &Path) -> Option<ExistingMovies> {
    let mut pkl: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("pkl"))
        })
        .collect();
    if !pkl.is_empty() {
        pkl.sort();
        return Some(ExistingMovies::Pkl {
            count: pkl.len(),
            first: pkl.swap_remove(0),
        });
    }
    let layout = super::movienet::Layout::detect(dir);
    let folders: Vec<String> = layout
        .iter()
        .flat_map(|l| [&l.labels, &l.shots])
        .flatten()
        .chain(
            Modality::ALL
                .map(|m| dir.join(super::movienet::feature_folder(m)))
                .iter()
                .filter(|p| std::fs::read_dir(p).is_ok_and(|mut rd| rd.next().is_some())),
        )
        .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
        .collect();
    (!folders.is_empty()).then_some(ExistingMovies::MovieNet { folders })
}

/// Write every demo movie to `dir` as `<imdb id>.pkl`, in parallel, calling `progress(done,
/// total)` after each; returns the files written. Files already in `dir` are left (a movie
/// of the same id is replaced): check [`existing_movies`] first not to mix data sets.
pub fn write_demo(
    dir: &Path,
    config: &DemoConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<Vec<PathBuf>> {
    config.validate()?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let done = AtomicUsize::new(0);
    (0..config.movies)
        .into_par_iter()
        .map(|i| {
            let movie = generate_movie(config, i);
            let path = dir.join(format!("{}.pkl", movie.imdb_id));
            crate::pickle::write_record_file(&path, &movie.to_record())
                .with_context(|| format!("cannot write {}", path.display()))?;
            progress(done.fetch_add(1, Ordering::SeqCst) + 1, config.movies);
            Ok(path)
        })
        .collect()
}

/// Write every demo movie to `root` in MovieNet's layout ([`super::movienet::write_movie`]:
/// label and shot files, a `.npy` per shot for place and audio, a dict pickle per movie for
/// cast and action), in parallel, calling `progress(done, total)` after each; returns the
/// imdb ids and bytes written. The movies are those [`write_demo`] writes for the same
/// `config`; the layout has no field for the provided prediction, so that is not written.
/// Files already under `root` are left (an earlier movie's per-shot files past the new
/// movie's last shot stay): check [`existing_movies`] first not to mix data sets.
pub fn write_demo_movienet(
    root: &Path,
    config: &DemoConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<MovieNetDemo> {
    config.validate()?;
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create folder {}", root.display()))?;
    let done = AtomicUsize::new(0);
    let written: Vec<(String, u64)> = (0..config.movies)
        .into_par_iter()
        .map(|i| {
            let movie = generate_movie(config, i);
            let bytes = super::movienet::write_movie(root, &movie)
                .with_context(|| format!("cannot write movie {}", movie.imdb_id))?;
            progress(done.fetch_add(1, Ordering::SeqCst) + 1, config.movies);
            Ok((movie.imdb_id, bytes))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(MovieNetDemo {
        bytes: written.iter().map(|(_, b)| b).sum(),
        ids: written.into_iter().map(|(id, _)| id).collect(),
    })
}

/// What [`write_demo_movienet`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieNetDemo {
    /// The movies' imdb ids, in index order.
    pub ids: Vec<String>,
    /// Bytes of every file written (labels, shots, features), not of the folder.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DemoConfig {
        DemoConfig {
            movies: 3,
            seed: 7,
            min_shots: 100,
            max_shots: 300,
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        assert_eq!(generate_movie(&small(), 1), generate_movie(&small(), 1));
        assert_ne!(generate_movie(&small(), 1), generate_movie(&small(), 2));
    }

    #[test]
    fn movies_are_consistent_and_realistic() {
        let cfg = DemoConfig {
            movies: 4,
            seed: 3,
            min_shots: 600,
            max_shots: 1200,
        };
        let mut boundaries = 0usize;
        let mut transitions = 0usize;
        for i in 0..cfg.movies {
            let m = generate_movie(&cfg, i);
            // Round-trip through the consistency checks a loaded file goes through.
            let again = Movie::from_record(m.to_record()).expect("demo movie is consistent");
            assert_eq!(again, m);
            assert!((600..=1200).contains(&m.n_shots));
            let gt = m.ground_truth.as_ref().unwrap();
            boundaries += gt.iter().filter(|&&b| b).count();
            transitions += gt.len();
            let cast = m.feature(Modality::Cast).unwrap();
            let empty = (0..cast.rows)
                .filter(|&r| cast.row(r).iter().all(|&x| x == 0.0))
                .count();
            assert!(
                empty > 0,
                "some cast rows are all zero, as in the real data"
            );
            let place = m.feature(Modality::Place).unwrap();
            assert!(place.values().iter().all(|&x| x >= 0.0));
        }
        let rate = boundaries as f64 / transitions as f64;
        assert!((0.05..0.12).contains(&rate), "boundary rate {rate}");
    }

    #[test]
    fn bad_configs_are_refused() {
        let mut c = small();
        c.min_shots = 500;
        assert!(c.validate().is_err());
        c.min_shots = 1;
        let e = c.validate().unwrap_err();
        assert_eq!(e, DemoConfigError::TooFewShots { min_shots: 1 });
        assert!(
            e.to_string().starts_with("min_shots must be at least 2"),
            "{e}"
        );
    }
}
