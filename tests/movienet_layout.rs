//! MovieNet's own layout (label*/, shot_movie*/, meta/split*.json, place_feat/, cast_feat/,
//! act_feat/, aud_feat/) as a data set: a small layout built here with the gaps real folders
//! have (uncertain labels, a missing feature file, a short label file, missing cast keys, a
//! spectrogram audio file, a 2048-d action feature, a movie without features, a split file);
//! `evaluate` on it equals `evaluate` on its pkl conversion; `convert` round trips.

mod app_support;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use npyz::WriterBuilder;
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::data::{Dataset, HeldOut, Modality, Movie, Split, training_split};
use scenelab::eval::{Evaluator, MovieInput};
use scenelab::observer::Quiet;
use scenelab::pickle::{ArrayData, Field, NdArray, Record};
use scenelab::workflow::convert::{Direction, convert};

fn npy(path: &Path, shape: &[usize], values: &[f32]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut bytes)
        .begin_nd()
        .unwrap();
    w.extend(values.iter().copied()).unwrap();
    w.finish().unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn dict(path: &Path, entries: Vec<(String, Vec<usize>, Vec<f32>)>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let record: Record = entries
        .into_iter()
        .map(|(k, shape, v)| {
            (
                k,
                Field::Array(NdArray {
                    shape,
                    data: ArrayData::F32(v),
                }),
            )
        })
        .collect();
    std::fs::write(path, scenelab::pickle::write_record(&record)).unwrap();
}

fn text(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// A shot's feature value: distinct per movie, shot, modality and column.
fn value(movie: usize, shot: usize, modality: usize, col: usize) -> f32 {
    (movie * 1000 + shot * 10 + modality) as f32 + col as f32 / 4096.0
}

fn row(movie: usize, shot: usize, modality: usize, width: usize) -> Vec<f32> {
    (0..width)
        .map(|c| value(movie, shot, modality, c))
        .collect()
}

/// Shot files: shot `i` ends at frame `40 * i + 39 + i % 3` (starts one frame after the
/// previous end).
fn shot_lines(n: usize) -> Vec<String> {
    let mut start = 0;
    (0..n)
        .map(|i| {
            let end = 40 * i as i64 + 39 + (i % 3) as i64;
            let line = format!("{start} {end} {start} {start} {end}");
            start = end + 1;
            line
        })
        .collect()
}

fn label_lines(labels: &[i8]) -> Vec<String> {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{i:04} {l}"))
        .collect()
}

const ID1: &str = "tt0000001";
const ID2: &str = "tt0000002";
const ID3: &str = "tt0000003";

/// The layout: three movies with the gaps of real folders.
///
/// - `tt0000001`, 12 shots: labels with -1 at transitions 3 and 7; `place_feat` lacks shot 4;
///   `cast_feat` has two faces for shot 0 and no key for shots 2 and 9.
/// - `tt0000002`, 10 shots: the label file stops after shot 6 (transitions 7 and 8 have no
///   line); action features are 2048-d (MovieNet's tools) where the challenge's are 512;
///   `aud_feat` holds [257, 90] spectrograms.
/// - `tt0000003`, 6 shots: labels and shots only (no features).
/// - `meta/split318.json`: train tt0000001, tt0000003; test tt0000002.
fn write_layout(root: &Path) {
    let lab = root.join("label318");
    let shots = root.join("shot_movie318");
    // Movie 1.
    text(&shots.join(format!("{ID1}.txt")), &shot_lines(12));
    text(
        &lab.join(format!("{ID1}.txt")),
        &label_lines(&[0, 0, 0, -1, 0, 1, 0, -1, 0, 0, 1]),
    );
    for s in (0..12).filter(|&s| s != 4) {
        npy(
            &root.join(format!("place_feat/{ID1}/shot_{s:04}.npy")),
            &[2048],
            &row(1, s, 0, 2048),
        );
        npy(
            &root.join(format!("aud_feat/{ID1}/shot_{s:04}.npy")),
            &[512],
            &row(1, s, 3, 512),
        );
    }
    npy(
        &root.join(format!("aud_feat/{ID1}/shot_0004.npy")),
        &[1, 512],
        &row(1, 4, 3, 512),
    );
    let mut cast = Vec::new();
    for s in (0..12).filter(|&s| s != 2 && s != 9) {
        let (faces, values) = if s == 0 {
            // Two faces: the shot's feature is their mean, row(1, 0, 1, ..).
            let r = row(1, 0, 1, 512);
            let a: Vec<f32> = r.iter().map(|x| x - 1.0).collect();
            let b: Vec<f32> = r.iter().map(|x| x + 1.0).collect();
            (2, [a, b].concat())
        } else {
            (1, row(1, s, 1, 512))
        };
        cast.push((format!("{s:04}"), vec![faces, 512], values));
    }
    dict(&root.join(format!("cast_feat/{ID1}.pkl")), cast);
    dict(
        &root.join(format!("act_feat/{ID1}.pkl")),
        (0..12)
            .map(|s| (format!("{s:04}"), vec![512], row(1, s, 2, 512)))
            .collect(),
    );

    // Movie 2: a short label file, 2048-d action, spectrogram audio.
    text(&shots.join(format!("{ID2}.txt")), &shot_lines(10));
    text(
        &lab.join(format!("{ID2}.txt")),
        &label_lines(&[0, 1, 0, 0, -1, 0, 1]),
    );
    for s in 0..10 {
        npy(
            &root.join(format!("place_feat/{ID2}/shot_{s:04}.npy")),
            &[2048],
            &row(2, s, 0, 2048),
        );
        npy(
            &root.join(format!("aud_feat/{ID2}/shot_{s:04}.npy")),
            &[257, 90],
            &vec![0.5; 257 * 90],
        );
    }
    dict(
        &root.join(format!("cast_feat/{ID2}.pkl")),
        (0..10)
            .map(|s| (format!("{s:04}"), vec![1, 512], row(2, s, 1, 512)))
            .collect(),
    );
    dict(
        &root.join(format!("act_feat/{ID2}.pkl")),
        (0..10)
            .map(|s| (format!("{s:04}"), vec![2048], row(2, s, 2, 2048)))
            .collect(),
    );

    // Movie 3: no features.
    text(&shots.join(format!("{ID3}.txt")), &shot_lines(6));
    text(
        &lab.join(format!("{ID3}.txt")),
        &label_lines(&[0, -1, 0, 1, 0, 0]),
    );

    std::fs::create_dir_all(root.join("meta")).unwrap();
    std::fs::write(
        root.join("meta/split318.json"),
        format!(
            r#"{{"train": ["{ID1}", "{ID3}"], "val": [], "test": ["{ID2}"], "all": ["{ID1}", "{ID2}", "{ID3}"]}}"#
        ),
    )
    .unwrap();
}

fn load(dir: &Path) -> Dataset {
    Dataset::load_dir(dir, &|_| {}).unwrap()
}

fn movie<'a>(d: &'a Dataset, id: &str) -> &'a Movie {
    d.movie(id).unwrap_or_else(|| panic!("{id} not loaded"))
}

fn has_note(m: &Movie, parts: &[&str]) -> bool {
    m.notes.iter().any(|n| parts.iter().all(|p| n.contains(p)))
}

#[test]
fn a_movienet_folder_loads_with_its_gaps_reported() {
    let tmp = tempfile::tempdir().unwrap();
    write_layout(tmp.path());
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let d = Dataset::load_dir(tmp.path(), &|p| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(p.total, 3);
    })
    .unwrap();
    assert_eq!(calls.into_inner(), 3, "progress after each movie");
    assert!(d.failures.is_empty(), "{:?}", d.failures);
    assert_eq!(d.ids(), [ID1, ID2, ID3]);
    assert!(d.movienet.is_some());
    let (split_path, split) = d.split.as_ref().unwrap();
    assert!(split_path.ends_with("meta/split318.json"));
    assert_eq!(split.test, [ID2]);

    let m1 = movie(&d, ID1);
    assert_eq!(m1.n_shots, 12);
    let gt = m1.ground_truth.as_ref().unwrap();
    let bounds: Vec<usize> = (0..gt.len()).filter(|&i| gt[i]).collect();
    assert_eq!(bounds, [3, 5, 7, 10], "-1 counts as a boundary");
    assert_eq!(m1.uncertain, [3, 7]);
    let ends = m1.shot_end_frame.as_ref().unwrap();
    assert_eq!(&ends[..3], &[39, 80, 121]);
    let place = m1.feature(Modality::Place).unwrap();
    assert_eq!((place.rows, place.cols), (12, 2048));
    assert!(
        place.row(4).iter().all(|&x| x == 0.0),
        "missing file: zero row"
    );
    assert_eq!(place.row(5), row(1, 5, 0, 2048).as_slice());
    assert!(has_note(
        m1,
        &["place_feat/tt0000001", "1 of 12 shots", "0004"]
    ));
    let cast = m1.feature(Modality::Cast).unwrap();
    let mean0 = row(1, 0, 1, 512);
    for (a, b) in cast.row(0).iter().zip(&mean0) {
        assert!((a - b).abs() < 1e-3, "mean over faces: {a} vs {b}");
    }
    assert!(cast.row(2).iter().all(|&x| x == 0.0) && cast.row(9).iter().all(|&x| x == 0.0));
    assert!(has_note(
        m1,
        &["cast_feat/tt0000001.pkl", "2 of 12", "no face"]
    ));
    let audio = m1.feature(Modality::Audio).unwrap();
    assert_eq!(
        audio.row(4),
        row(1, 4, 3, 512).as_slice(),
        "[1, 512] reads as a vector"
    );
    assert!(m1.is_trainable());

    let m2 = movie(&d, ID2);
    let gt = m2.ground_truth.as_ref().unwrap();
    assert_eq!(gt.len(), 9);
    assert!(
        !gt[7] && !gt[8],
        "a short label file's missing transitions: no boundary"
    );
    assert_eq!(m2.uncertain, [4]);
    assert!(has_note(
        m2,
        &[
            "label318/tt0000002.txt",
            "2 of 9 transitions",
            "no boundary"
        ]
    ));
    assert!(
        m2.feature(Modality::Audio).is_none(),
        "spectrograms are left out"
    );
    assert!(has_note(
        m2,
        &["[257, 90]", "spectrogram", "aud_feat/tt0000002"]
    ));
    assert_eq!(m2.feature(Modality::Action).unwrap().cols, 2048);
    assert!(
        has_note(m2, &["'action'", "tt0000002", "2048 columns", "512"]),
        "{:?}",
        m2.notes
    );
    assert!(!m2.is_trainable());

    let m3 = movie(&d, ID3);
    assert!(m3.features.iter().all(Option::is_none));
    assert_eq!(m3.n_scenes(), Some(3));
    assert!(has_note(m3, &["place_feat/tt0000003", "missing"]));

    // The split file decides the training split (here among the trainable movies).
    let usable: Vec<String> = d
        .movies
        .iter()
        .filter(|m| m.is_trainable())
        .map(|m| m.imdb_id.clone())
        .collect();
    assert_eq!(usable, [ID1]);
    assert_eq!(
        split.restricted_to(&usable).unwrap(),
        Split {
            train: vec![ID1.into()],
            validation: vec![],
            test: vec![]
        }
    );
    // With a second trainable movie the split file's test movie is held out.
    let two = [ID1.to_string(), ID2.to_string()];
    let s = training_split(&two, &HeldOut::Given(split.clone()), 0).unwrap();
    assert_eq!(
        (s.train, s.test),
        (vec![ID1.to_string()], vec![ID2.to_string()])
    );
}

/// A deterministic score per transition, the same for both layouts.
fn scores(m: &Movie) -> Vec<f32> {
    (0..m.n_transitions())
        .map(|t| ((t * 7 + m.n_shots) % 10) as f32 / 10.0)
        .collect()
}

fn metrics(d: &Dataset) -> scenelab::eval::Metrics {
    let s: Vec<Vec<f32>> = d.movies.iter().map(scores).collect();
    let scores: Vec<scenelab::data::Scores> = s
        .iter()
        .map(|v| scenelab::data::Scores::from_f32(v))
        .collect();
    let inputs: Vec<MovieInput<'_>> = d
        .movies
        .iter()
        .zip(&scores)
        .map(|(m, s)| MovieInput::of(m, s.as_slice()).unwrap())
        .collect();
    Evaluator::new(&inputs).unwrap().metrics(0.5)
}

fn evaluate_json(dir: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args([
            "evaluate",
            "--json",
            "--field",
            "scene_transition_boundary_uncertain",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Warnings name the source's files, which differ between the layouts.
    v.as_object_mut().unwrap().remove("warnings");
    v
}

#[test]
fn evaluate_on_the_movienet_folder_equals_evaluate_on_its_pkl_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("movienet");
    let pkl = tmp.path().join("pkl");
    write_layout(&src);
    let summary = convert(&src, &pkl, None, &Quiet).unwrap();
    assert_eq!(summary.direction, Direction::MovieNetToPkl);
    assert_eq!((summary.written, summary.failed), (3, 0));
    assert_eq!(summary.split, Some(pkl.join("meta/split318.json")));
    let from_movienet = load(&src);
    let from_pkl = load(&pkl);
    assert!(from_pkl.movienet.is_none());
    assert_eq!(
        from_pkl.split.as_ref().unwrap().1,
        from_movienet.split.as_ref().unwrap().1
    );
    assert_eq!(metrics(&from_movienet), metrics(&from_pkl));
    // The command line, scoring a field both layouts hold (the uncertain flags: every
    // fixture movie has one) against the ground truth and the end frames.
    let a = evaluate_json(&src);
    assert_eq!(a["movies"], 3);
    assert_eq!(a, evaluate_json(&pkl));
}

/// What a conversion must keep of a movie.
fn kept(m: &Movie) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        &m.imdb_id,
        m.n_shots,
        &m.ground_truth,
        &m.uncertain,
        &m.shot_end_frame,
        &m.features,
    )
}

#[test]
fn convert_round_trips_ground_truth_end_frames_and_features() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("movienet");
    write_layout(&src);
    let pkl = tmp.path().join("pkl");
    let back = tmp.path().join("back");
    convert(&src, &pkl, None, &Quiet).unwrap();
    let summary = convert(&pkl, &back, None, &Quiet).unwrap();
    assert_eq!(summary.direction, Direction::PklToMovieNet);
    assert_eq!(summary.split, Some(back.join("meta/split318.json")));
    let (a, b) = (load(&src), load(&back));
    assert_eq!(a.movies.len(), 3);
    for (x, y) in a.movies.iter().zip(&b.movies) {
        assert_eq!(kept(x), kept(y));
    }
    // Labels come back with -1 where uncertain, a line per transition.
    let labels = std::fs::read_to_string(back.join(format!("label318/{ID1}.txt"))).unwrap();
    assert_eq!(labels.lines().nth(3), Some("0003 -1"));
    assert_eq!(labels.lines().count(), 11);
    // Shots start one frame after the previous end; keyframes are start, middle, end.
    let shots = std::fs::read_to_string(back.join(format!("shot_movie318/{ID1}.txt"))).unwrap();
    assert_eq!(shots.lines().nth(1), Some("40 80 40 60 80"));
    // A shot without a face gets no cast key.
    let cast =
        scenelab::pickle::read_record_file(&back.join(format!("cast_feat/{ID1}.pkl"))).unwrap();
    let keys: Vec<&str> = cast.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys.len(), 10);
    assert!(!keys.contains(&"0002") && !keys.contains(&"0009"));
    // The dict pickles hold float32 numpy arrays, as MovieNet's own (Python needs no torch):
    // cast rows as one face `[1, d]`, action rows `[d]`.
    for (folder, rows) in [
        ("cast_feat", cast),
        ("act_feat", {
            let path = back.join(format!("act_feat/{ID1}.pkl"));
            scenelab::pickle::read_record_file(&path).unwrap()
        }),
    ] {
        let bytes = std::fs::read(back.join(format!("{folder}/{ID1}.pkl"))).unwrap();
        let has = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
        assert!(has(b"numpy.core.multiarray") && !has(b"torch"), "{folder}");
        for (key, value) in &rows {
            let scenelab::pickle::Field::Array(a) = value else {
                panic!("{folder}[{key}] is not an array");
            };
            assert_eq!(a.dtype(), scenelab::pickle::DType::F32, "{folder}[{key}]");
            assert_eq!(a.shape.len(), if folder == "cast_feat" { 2 } else { 1 });
        }
    }
    assert!(
        !back.join(format!("aud_feat/{ID2}")).exists(),
        "audio was left out"
    );

    // From pkl files (demo movies, with a prediction that MovieNet cannot hold) and back.
    let demo = tmp.path().join("demo");
    let config = DemoConfig {
        movies: 3,
        seed: 5,
        min_shots: 20,
        max_shots: 40,
    };
    write_demo(&demo, &config, &|_, _| {}).unwrap();
    let mn = tmp.path().join("demo_movienet");
    let notes = std::sync::Mutex::new(Vec::new());
    struct Notes<'a>(&'a std::sync::Mutex<Vec<String>>);
    impl scenelab::observer::Observer<scenelab::workflow::convert::ConvertEvent> for Notes<'_> {
        fn event(&self, e: scenelab::workflow::convert::ConvertEvent) {
            self.0.lock().unwrap().push(format!("{e:?}"));
        }
    }
    convert(&demo, &mn, None, &Notes(&notes)).unwrap();
    assert!(
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("prediction is not written")),
        "{notes:?}"
    );
    let again = tmp.path().join("demo_again");
    convert(&mn, &again, None, &Quiet).unwrap();
    let (a, b) = (load(&demo), load(&again));
    assert_eq!(a.movies.len(), 3);
    for (x, y) in a.movies.iter().zip(&b.movies) {
        assert_eq!(kept(x), kept(y));
        assert!(y.prediction.is_none());
    }
}

#[test]
fn bad_label_and_shot_files_are_issues_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    text(&root.join("shot_movie318/tt1.txt"), &shot_lines(5));
    text(
        &root.join("label318/tt1.txt"),
        &["0000 0".into(), "0001 maybe".into()],
    );
    text(&root.join("shot_movie318/tt2.txt"), &shot_lines(3));
    text(
        &root.join("label318/tt2.txt"),
        &label_lines(&[0, 1, 0, 1, 1]),
    );
    text(
        &root.join("shot_movie318/tt3.txt"),
        &["0 10 x".into(), "bad".into()],
    );
    text(&root.join("label318/tt3.txt"), &label_lines(&[0, 1, 0]));
    // Labels with no shot file: the shots are counted from the labels.
    text(&root.join("label318/tt4.txt"), &label_lines(&[0, 1, 0]));
    let d = load(root);
    let m1 = movie(&d, "tt1");
    assert!(m1.ground_truth.is_none());
    let issue = m1.issue("scene_transition_boundary_ground_truth").unwrap();
    assert!(issue.problem.contains("label318/tt1.txt line 2"), "{issue}");
    assert_eq!(m1.n_shots, 5);
    let m2 = movie(&d, "tt2");
    let issue = m2.issue("scene_transition_boundary_ground_truth").unwrap();
    assert!(
        issue.problem.contains("but the movie has 3 shots"),
        "{issue}"
    );
    let m3 = movie(&d, "tt3");
    assert!(
        m3.issue("shot_end_frame")
            .unwrap()
            .problem
            .contains("line 2")
    );
    assert_eq!((m3.n_shots, m3.n_scenes()), (4, Some(2)));
    let m4 = movie(&d, "tt4");
    assert_eq!(m4.n_shots, 4);
    assert!(has_note(m4, &["no shot_movie file"]));
}

#[test]
fn numpy_pickled_cast_dicts_and_float64_npy_files_read() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/movienet");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    text(&root.join("shot_movie318/tt5.txt"), &shot_lines(5));
    std::fs::create_dir_all(root.join("cast_feat")).unwrap();
    std::fs::copy(
        fixtures.join("cast_numpy.pkl"),
        root.join("cast_feat/tt5.pkl"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("place_feat/tt5")).unwrap();
    std::fs::copy(
        fixtures.join("place_f64.npy"),
        root.join("place_feat/tt5/shot_0001.npy"),
    )
    .unwrap();
    let d = load(root);
    let m = movie(&d, "tt5");
    let cast = m.feature(Modality::Cast).unwrap();
    assert_eq!((cast.rows, cast.cols), (5, 4));
    assert_eq!(&*cast.row(0), &[2.0, 2.0, 2.0, 2.0]);
    assert_eq!(&*cast.row(1), &[0.5, -0.5, 0.25, 1.0]);
    assert!((2..5).all(|s| cast.row(s).iter().all(|&x| x == 0.0)));
    let place = m.feature(Modality::Place).unwrap();
    assert_eq!(&*place.row(1), &[0.0, 0.25, 0.5, 0.75, 1.0, 1.25]);
    assert!(has_note(m, &["place_feat/tt5", "4 of 5 shots"]));
}

fn scenelab(args: &[&str], dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_line_inspects_movienet_folders_and_takes_split_files() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("movienet");
    write_layout(&src);
    let (_, out, _) = scenelab(&["inspect"], &src);
    assert!(
        out.contains("MovieNet layout (label318, shot_movie318"),
        "{out}"
    );
    assert!(out.contains("tt0000001: 12 shots, 5 scenes"), "{out}");
    assert!(
        out.contains("note: label318/tt0000002.txt has no label for 2 of 9"),
        "{out}"
    );

    // A movie without features: train says why it skips it, and the split file decides.
    let split = tmp.path().join("only_test.json");
    std::fs::write(
        &split,
        format!(r#"{{"train": ["{ID3}"], "test": ["{ID1}"]}}"#),
    )
    .unwrap();
    let split_arg = split.display().to_string();
    let (ok, _, err) = scenelab(&["train", "--split-file", &split_arg], &src);
    assert!(!ok);
    assert!(
        err.contains("skipped 'tt0000003'") && err.contains("it has no features"),
        "{err}"
    );
    // Only tt0000001 is usable, and one movie cannot train.
    assert!(err.contains("1 usable movie(s)"), "{err}");

    // On a pkl folder too.
    let demo = tmp.path().join("demo");
    let config = DemoConfig {
        movies: 3,
        seed: 1,
        min_shots: 20,
        max_shots: 30,
    };
    let files = write_demo(&demo, &config, &|_, _| {}).unwrap();
    let ids: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    std::fs::write(
        &split,
        format!(
            r#"{{"train": [], "val": ["{}"], "test": ["{}"]}}"#,
            ids[0], ids[1]
        ),
    )
    .unwrap();
    let (ok, _, err) = scenelab(&["train", "--split-file", &split_arg], &demo);
    assert!(!ok);
    assert!(
        err.contains("names none of the 3 usable movie(s) for training"),
        "{err}"
    );
    assert!(err.contains("--split-file"), "{err}");
}

#[test]
fn the_app_opens_a_movienet_folder_with_its_split() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("movienet");
    write_layout(&src);
    let options = scenelab::app::AppOptions {
        picker: app_support::picker_answering(Arc::new(Mutex::new(None))),
        settings_path: Some(tmp.path().join("config").join("gui.json")),
        default_dir: tmp.path().join("data_dir"),
        demo: DemoConfig::default(),
    };
    let mut h = app_support::harness(scenelab::app::App::new(options));
    h.state_mut()
        .queue(scenelab::app::startup_action(Some(&src)));
    app_support::settle(&mut h);
    app_support::assert_no_errors(&h);
    // The layout's caveats are listed under the movies.
    app_support::assert_label(&h, "Movies read with notes: 3");
    let app = h.state();
    assert_eq!(app.movies().len(), 3);
    assert_eq!(app.movies()[0].uncertain, [3, 7]);
    let (file, split) = app.training_form().folder_split.clone().unwrap();
    assert_eq!(file, "meta/split318.json");
    assert_eq!(split.test, [ID2]);
    assert_eq!(
        app.training_form().request().held_out,
        HeldOut::Given(split)
    );
}

#[test]
fn a_model_scores_a_movienet_folder_as_it_scores_the_same_movies_in_pkl_files() {
    let tmp = tempfile::tempdir().unwrap();
    let pkl = tmp.path().join("pkl");
    let mn = tmp.path().join("movienet");
    let config = DemoConfig {
        movies: 4,
        seed: 3,
        min_shots: 30,
        max_shots: 50,
    };
    write_demo(&pkl, &config, &|_, _| {}).unwrap();
    convert(&pkl, &mn, None, &Quiet).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let p = |path: &Path| path.display().to_string();
    let model = p(&tmp.path().join("model"));
    run(&[
        "train",
        &p(&pkl),
        "--model",
        "wavenet",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        &model,
    ]);
    let (from_mn, from_pkl) = (tmp.path().join("pred_mn"), tmp.path().join("pred_pkl"));
    // A MovieNet folder has no pkl file to copy: its movies are written as pkl files.
    run(&[
        "predict",
        &p(&mn),
        "--model",
        &model,
        "--device",
        "cpu",
        "--out",
        &p(&from_mn),
    ]);
    run(&[
        "predict",
        &p(&pkl),
        "--model",
        &model,
        "--device",
        "cpu",
        "--out",
        &p(&from_pkl),
    ]);
    let a = run(&["evaluate", "--json", &p(&from_mn)]);
    let json: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(json["movies"], 4);
    assert_eq!(a, run(&["evaluate", "--json", &p(&from_pkl)]));
}

#[test]
fn convert_on_the_command_line_shows_its_first_caveat_and_lists_all_with_verbose() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("movienet");
    write_layout(&src);
    let (ok, _, err) = scenelab(&["convert", src.to_str().unwrap()], &tmp.path().join("pkl"));
    assert!(ok, "{err}");
    // A count, one example (whichever movie came first) and how to see them all.
    assert!(
        err.contains("caveat(s)") && err.contains("the first: tt") && err.contains("--verbose"),
        "{err}"
    );
    let (ok, _, err) = scenelab(
        &["convert", "--verbose", src.to_str().unwrap()],
        &tmp.path().join("pkl_verbose"),
    );
    assert!(ok, "{err}");
    assert!(
        err.lines().filter(|l| l.starts_with("note: ")).count() >= 2,
        "{err}"
    );
    assert!(!err.contains("the first:"), "{err}");
    // Into a folder that holds movies already, nothing is mixed in.
    let (ok, _, err) = scenelab(&["convert", src.to_str().unwrap()], &tmp.path().join("pkl"));
    assert!(!ok && err.contains("already holds"), "{err}");
}
