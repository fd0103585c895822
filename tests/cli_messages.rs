//! What the command line says to a new user: advice that fits the folder (a MovieNet folder
//! of labels and shot frames only), no such field named as such, one line per reason instead
//! of one per movie, exit codes (1: nothing done, 2: a partial result), and messages that say
//! what to give.

use std::path::{Path, PathBuf};
use std::process::Command;

use scenelab::data::demo::{DemoConfig, write_demo, write_demo_movienet};
use scenelab::observer::Quiet;
use scenelab::workflow::convert::convert;

/// What a run of the binary gave: exit code, stdout, stderr.
struct Ran {
    code: Option<i32>,
    out: String,
    err: String,
}

fn scenelab(args: &[&str]) -> Ran {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .output()
        .unwrap();
    Ran {
        code: out.status.code(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

fn small(movies: usize, seed: u64) -> DemoConfig {
    DemoConfig {
        movies,
        seed,
        min_shots: 20,
        max_shots: 30,
    }
}

/// A MovieNet folder as /work/shared/movienet318 is: label318/ and shot_movie318/ only.
fn movienet_without_features(root: &Path, movies: usize) -> Vec<String> {
    let ids = write_demo_movienet(root, &small(movies, 5), &|_, _| {})
        .unwrap()
        .ids;
    for dir in ["place_feat", "cast_feat", "act_feat", "aud_feat"] {
        std::fs::remove_dir_all(root.join(dir)).unwrap();
    }
    ids
}

/// Lines of `text` that start with `lead`.
fn lines_starting(text: &str, lead: &str) -> usize {
    text.lines().filter(|l| l.starts_with(lead)).count()
}

#[test]
fn evaluate_without_features_suggests_checking_the_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = tmp.path().join("bare");
    movienet_without_features(&bare, 4);
    let r = scenelab(&["evaluate", &p(&bare)]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(r.err.contains("none has features"), "{}", r.err);
    assert!(r.err.contains("--field ground_truth"), "{}", r.err);
    assert!(!r.err.contains("--model"), "{}", r.err);
}

#[test]
fn evaluate_with_features_suggests_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    write_demo_movienet(&full, &small(3, 5), &|_, _| {}).unwrap();
    let r = scenelab(&["evaluate", &p(&full)]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(r.err.contains("scenelab predict"), "{}", r.err);
    assert!(r.err.contains("--model MODEL"), "{}", r.err);
    assert_eq!(r.err.lines().count(), 1, "{}", r.err);
}

#[test]
fn evaluate_names_a_field_no_file_holds_and_lists_those_they_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pkl");
    write_demo(&dir, &small(3, 2), &|_, _| {}).unwrap();
    let r = scenelab(&["evaluate", &p(&dir), "--field", "uncertain"]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(r.err.contains("there is no field 'uncertain'"), "{}", r.err);
    assert!(
        r.err.contains("scene_transition_boundary_prediction")
            && r.err.contains("scene_transition_boundary_ground_truth"),
        "{}",
        r.err
    );
    assert!(!r.err.contains("scenelab predict"), "{}", r.err);
    // One message, not a line per movie.
    assert_eq!(lines_starting(&r.err, "skipped"), 0, "{}", r.err);
}

#[test]
fn evaluate_scores_a_movie_without_the_uncertain_field_as_having_none() {
    // SceneLab writes the uncertain field only for movies with an uncertain label: the demo
    // movies have none, so each is scored as having no uncertain transition.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pkl");
    write_demo(&dir, &small(3, 2), &|_, _| {}).unwrap();
    let r = scenelab(&[
        "evaluate",
        &p(&dir),
        "--field",
        "scene_transition_boundary_uncertain",
        "--json",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    let json: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(json["movies"], 3);
    // No transition is predicted a boundary, so none is a true one.
    assert_eq!(json["Recall"], 0.0, "{json}");
    assert!(
        r.err.contains("scored as no uncertain transition"),
        "{}",
        r.err
    );
    // Nothing found in any movie: F1 is the reference's NaN, and the note says why.
    assert!(json["F1"].is_null(), "{json}");
    assert!(
        r.err
            .contains("F1 is NaN because 3 movies have no correctly found boundary"),
        "{}",
        r.err
    );
}

/// Train a one-epoch model on small demo movies (with features) into `tmp/model`.
fn train_small(tmp: &Path, features: &str) -> (PathBuf, Ran) {
    let pkl = tmp.join("train_pkl");
    let model = tmp.join("model");
    write_demo(&pkl, &small(4, 3), &|_, _| {}).unwrap();
    let r = scenelab(&[
        "train",
        &p(&pkl),
        "--model",
        "wavenet",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--features",
        features,
        "--out",
        &p(&model),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.err);
    (model, r)
}

fn predict(dir: &Path, model: &Path, out: &Path, extra: &[&str]) -> Ran {
    let (dir, model, out) = (p(dir), p(model), p(out));
    let mut args = vec![
        "predict", &dir, "--model", &model, "--device", "cpu", "--out", &out,
    ];
    args.extend_from_slice(extra);
    scenelab(&args)
}

#[test]
fn train_says_how_training_ended() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, r) = train_small(tmp.path(), "f32");
    let said = format!("{}{}", r.out, r.err);
    assert!(said.contains("training completed: 1 epoch"), "{said}");
    assert!(
        !said.contains("Completed") && !said.contains("Some("),
        "{said}"
    );
    assert!(!said.contains("f16"), "{said}");
}

#[test]
fn train_confirms_f16_features() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, r) = train_small(tmp.path(), "f16");
    let said = format!("{}{}", r.out, r.err);
    assert!(
        said.contains("features held as f16 (half the memory)"),
        "{said}"
    );
}

#[test]
fn predict_refuses_a_movienet_folder_it_cannot_score_in_one_message_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = train_small(tmp.path(), "f32");
    let bare = tmp.path().join("bare");
    movienet_without_features(&bare, 6);
    let out = tmp.path().join("out_mn");
    let r = predict(&bare, &model, &out, &[]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(!out.exists(), "{}", r.err);
    assert_eq!(lines_starting(&r.err, "error:"), 1, "{}", r.err);
    assert!(r.err.contains("6 movies, as "), "{}", r.err);
}

#[test]
fn predict_collapses_repeated_errors_of_pkl_files() {
    // The movies of a featureless MovieNet folder as pkl files (read one at a time): the
    // first few in full, then a count; no empty OUT is left.
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = train_small(tmp.path(), "f32");
    let bare = tmp.path().join("bare");
    movienet_without_features(&bare, 6);
    let bare_pkl = tmp.path().join("bare_pkl");
    convert(&bare, &bare_pkl, None, &Quiet).unwrap();
    let out = tmp.path().join("out_pkl");
    let r = predict(&bare_pkl, &model, &out, &[]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(!out.exists(), "{}", r.err);
    assert!(
        r.err.contains("… and 3 more movies for the same reason as"),
        "{}",
        r.err
    );
    assert_eq!(lines_starting(&r.err, "error: movie 'tt"), 3, "{}", r.err);
}

#[test]
fn train_collapses_repeated_skips() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = tmp.path().join("bare");
    movienet_without_features(&bare, 6);
    let r = scenelab(&["train", &p(&bare), "--device", "cpu"]);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert_eq!(
        lines_starting(&r.err, "warning: skipped 'tt"),
        3,
        "{}",
        r.err
    );
    assert!(
        r.err
            .contains("warning: skipped … and 3 more movies for the same reason as"),
        "{}",
        r.err
    );
}

#[test]
fn predict_names_the_movies_it_cannot_score_and_exits_2_for_a_partial_result() {
    // Some movies fit: the others are named by their movie (not by OUT/<id>.pkl), and the
    // partial result exits with 2 unless --allow-partial.
    let tmp = tempfile::tempdir().unwrap();
    let (model, _) = train_small(tmp.path(), "f32");
    let mixed = tmp.path().join("mixed");
    let ids = write_demo_movienet(&mixed, &small(3, 5), &|_, _| {})
        .unwrap()
        .ids;
    std::fs::remove_dir_all(mixed.join("place_feat").join(&ids[1])).unwrap();
    let out = tmp.path().join("out_mixed");
    let r = predict(&mixed, &model, &out, &[]);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert!(
        r.err.contains(&format!("error: movie '{}'", ids[1])),
        "{}",
        r.err
    );
    assert!(!r.err.contains(&format!("{}.pkl", ids[1])), "{}", r.err);
    assert!(r.out.contains("wrote 2 scored movies (of 3)"), "{}", r.out);
    assert_eq!(
        predict(&mixed, &model, &out, &["--allow-partial"]).code,
        Some(0)
    );
}

#[test]
fn export_exits_1_when_nothing_is_written_and_2_for_a_part() {
    let tmp = tempfile::tempdir().unwrap();
    // MovieNet's layout has no prediction.
    let mn = tmp.path().join("mn");
    movienet_without_features(&mn, 3);
    let out = tmp.path().join("scenes");
    let export = |dir: &Path| {
        scenelab(&[
            "export",
            &p(dir),
            "--field",
            "prediction",
            "--format",
            "csv",
            "--out",
            &p(&out),
        ])
    };
    let r = export(&mn);
    assert_eq!(r.code, Some(1), "{}", r.err);
    assert!(!r.out.contains("wrote 0"), "{}", r.out);
    assert!(r.err.contains("none of the 3 movies"), "{}", r.err);
    // Without features a model cannot score them either: only the labels are suggested.
    assert!(r.err.contains("--field ground_truth"), "{}", r.err);
    assert!(!r.err.contains("--model"), "{}", r.err);
    assert!(!out.exists());

    // Pkl files with a prediction beside converted ones without: a partial result.
    let mixed = tmp.path().join("mixed");
    write_demo(&mixed, &small(2, 9), &|_, _| {}).unwrap();
    convert(&mn, &tmp.path().join("mn_pkl"), None, &Quiet).unwrap();
    for f in std::fs::read_dir(tmp.path().join("mn_pkl")).unwrap() {
        let f: PathBuf = f.unwrap().path();
        std::fs::copy(&f, mixed.join(f.file_name().unwrap())).unwrap();
    }
    let r = export(&mixed);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert!(r.out.contains("of 2 movies"), "{}", r.out);
}

#[test]
fn inspect_of_an_empty_folder_says_what_to_give() {
    let tmp = tempfile::tempdir().unwrap();
    let r = scenelab(&["inspect", &p(tmp.path())]);
    assert_eq!(r.code, Some(1));
    assert!(r.err.contains("MovieNet"), "{}", r.err);
    assert!(r.err.contains("scenelab demo"), "{}", r.err);
}

#[test]
fn a_missing_split_file_gives_its_os_error_once() {
    let tmp = tempfile::tempdir().unwrap();
    let pkl = tmp.path().join("pkl");
    write_demo(&pkl, &small(3, 1), &|_, _| {}).unwrap();
    let missing = tmp.path().join("missing.json");
    let r = scenelab(&["train", &p(&pkl), "--split-file", &p(&missing)]);
    assert_eq!(r.code, Some(1));
    assert!(r.err.contains("missing.json"), "{}", r.err);
    assert_eq!(r.err.matches("os error 2").count(), 1, "{}", r.err);
}

#[test]
fn predict_says_what_model_to_give_and_where_to_write() {
    let tmp = tempfile::tempdir().unwrap();
    let pkl = tmp.path().join("pkl");
    write_demo(&pkl, &small(3, 1), &|_, _| {}).unwrap();
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "some notes, not a model\n").unwrap();
    let out = tmp.path().join("out");
    let r = predict(&pkl, &notes, &out, &[]);
    assert_eq!(r.code, Some(1));
    assert!(r.err.contains("scenelab train"), "{}", r.err);
    assert!(r.err.contains(".pth") && r.err.contains(".safetensors"));
    assert!(!out.exists());

    // Neither --out nor --in-place: clap names both.
    let r = scenelab(&["predict", &p(&pkl), "--model", &p(&notes)]);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert!(
        r.err.contains("--out") && r.err.contains("--in-place"),
        "{}",
        r.err
    );
    let r = scenelab(&[
        "predict",
        &p(&pkl),
        "--model",
        &p(&notes),
        "--out",
        &p(&out),
        "--in-place",
    ]);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert!(r.err.contains("cannot be used with"), "{}", r.err);
}

#[test]
fn the_demo_summary_names_both_layouts() {
    let r = scenelab(&["--help"]);
    let line = r
        .out
        .lines()
        .find(|l| l.trim_start().starts_with("demo"))
        .unwrap();
    assert!(line.contains("--layout movienet"), "{line}");
    assert!(!line.contains("real pkl format"), "{line}");
}

#[test]
fn evaluate_collapses_repeated_skips() {
    // Two movies with a prediction beside five without: three named, then a count.
    let tmp = tempfile::tempdir().unwrap();
    let mn = tmp.path().join("mn");
    movienet_without_features(&mn, 5);
    let dir = tmp.path().join("mixed");
    convert(&mn, &dir, None, &Quiet).unwrap();
    write_demo(&dir, &small(2, 9), &|_, _| {}).unwrap();
    let r = scenelab(&["evaluate", &p(&dir)]);
    assert_eq!(r.code, Some(2), "{}", r.err);
    assert_eq!(lines_starting(&r.err, "skipped tt"), 3, "{}", r.err);
    assert!(
        r.err
            .contains("skipped … and 2 more movies for the same reason as"),
        "{}",
        r.err
    );
}
