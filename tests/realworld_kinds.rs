//! The kinds of prediction files users write (issue 11): every folder under
//! `tests/fixtures/realworld/` (the four shared real-world fixtures and the generated matrix of
//! dtypes x containers x fields, see `make_matrix.py`) is scored by the built binary and
//! compared with the reference's scores in its `expected.json`; `inspect` must read every file
//! that should be readable and refuse the negative kinds on the right field; `train` must use
//! every movie whose features and ground truth are fine, whatever its prediction holds.
//!
//! Each test checks all folders and reports every difference at once (one line per folder),
//! so a failure is a complete list of what is still wrong.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The six totals, keyed as `scenelab evaluate --json` prints them.
const TOTALS: [&str; 6] = ["AP", "mAP", "Miou", "Precision", "Recall", "F1"];
const PER_MOVIE: [&str; 5] = ["AP", "Miou", "Precision", "Recall", "F1"];
/// Values the reference computes with a fixed, short sequence of float64 operations (integer
/// counts divided; F1 = 2pr/(p+r); Python's left-to-right `sum(...) / n` over movies): any
/// faithful implementation gives them to the last bit. AP and Miou go through scikit-learn's
/// and numpy's reductions and are compared within 1e-9.
const BIT_EXACT: [&str; 3] = ["Precision", "Recall", "F1"];
const TOLERANCE: f64 = 1e-9;

const SHARED: [&str; 4] = [
    "bool_prediction_eval_only",
    "bool_prediction_train",
    "f64_rounding",
    "list_of_numpy_scalars",
];
const NEGATIVE: &str = "matrix/negative";
const EVAL_FIELDS: [&str; 3] = [
    "scene_transition_boundary_ground_truth",
    "scene_transition_boundary_prediction",
    "shot_end_frame",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld")
}

/// Every folder `scenelab evaluate` must score in full, relative to [`root`]: the shared
/// fixtures and the matrix (without the negative folder).
fn good_folders() -> Vec<String> {
    let mut folders: Vec<String> = SHARED.iter().map(|s| (*s).to_owned()).collect();
    let mut matrix: Vec<String> = std::fs::read_dir(root().join("matrix"))
        .expect("tests/fixtures/realworld/matrix exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| format!("matrix/{}", p.file_name().unwrap().to_string_lossy()))
        .filter(|p| p != NEGATIVE)
        .collect();
    matrix.sort();
    assert!(
        matrix.len() > 100,
        "the matrix has {} folders",
        matrix.len()
    );
    folders.extend(matrix);
    folders
}

fn expected(folder: &str) -> Value {
    let path = root().join(folder).join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn scenelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .output()
        .expect("run scenelab")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("fixture paths are UTF-8")
}

/// A message with the fixture root left out of its paths, for a failure list.
fn short(msg: &str) -> String {
    msg.replace(&format!("{}/", root().display()), "")
}

/// The last lines of stderr, joined, for a failure message.
fn stderr_tail(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    short(&lines[lines.len().saturating_sub(3)..].join(" | "))
}

/// `got` against `want` (null = NaN). `None` if equal as required.
fn compare(got: &Value, want: &Value, key: &str) -> Option<String> {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => {
            let exact = BIT_EXACT.contains(&key);
            let ok = if exact {
                g.to_bits() == w.to_bits()
            } else {
                (g - w).abs() <= TOLERANCE
            };
            (!ok).then(|| {
                let how = if exact { "bit-exact" } else { "1e-9" };
                format!("{key} {g} != {w} ({how})")
            })
        }
        _ if got.is_null() && want.is_null() => None,
        _ => Some(format!("{key} {got} != {want}")),
    }
}

/// The differences between `evaluate --json` output and one set of expected scores.
fn score_differences(got: &Value, want: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    for key in TOTALS {
        if let Some(d) = compare(&got[key], &want[key], key) {
            diffs.push(d);
        }
    }
    if let Some(n) = got.get("movies")
        && n != &want["movies"]
    {
        diffs.push(format!("movies {n} != {}", want["movies"]));
    }
    if let Some(want_movies) = want.get("per_movie").and_then(Value::as_object) {
        let got_movies = got["per_movie"].as_object().cloned().unwrap_or_default();
        let got_ids: BTreeSet<&String> = got_movies.keys().collect();
        let want_ids: BTreeSet<&String> = want_movies.keys().collect();
        if got_ids != want_ids {
            diffs.push(format!("per_movie ids {got_ids:?} != {want_ids:?}"));
        }
        for (id, w) in want_movies {
            let Some(g) = got_movies.get(id) else {
                continue;
            };
            for key in PER_MOVIE {
                if let Some(d) = compare(&g[key], &w[key], key) {
                    diffs.push(format!("{id} {d}"));
                }
            }
        }
    }
    diffs
}

/// The skipped files `evaluate --json` reports: `skipped` entries, and (as today's binary
/// says it) warnings that end in "skipped".
fn skipped_reasons(got: &Value) -> Vec<String> {
    let mut out: Vec<String> = got["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| format!("{}: {}", s["file"], s["reason"]))
        .collect();
    out.extend(
        got["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|w| w.ends_with("skipped"))
            .map(str::to_owned),
    );
    out
}

/// Run `evaluate DIR --json [--threshold T]` and list what differs from `want`.
fn evaluate_differences(folder: &str, threshold: Option<&str>, want: &Value) -> Vec<String> {
    let dir = root().join(folder);
    let mut args = vec!["evaluate", path_str(&dir), "--json"];
    if let Some(t) = threshold {
        args.extend(["--threshold", t]);
    }
    let out = scenelab(&args);
    let mut diffs = Vec::new();
    if !out.status.success() {
        diffs.push(format!(
            "exit {:?}: {}",
            out.status.code(),
            stderr_tail(&out)
        ));
    }
    let Ok(got) = serde_json::from_slice::<Value>(&out.stdout) else {
        return diffs;
    };
    let skipped = skipped_reasons(&got);
    if !skipped.is_empty() {
        diffs.push(short(&format!("skipped {skipped:?}")));
    }
    diffs.extend(score_differences(&got, want));
    diffs
}

fn report(what: &str, checked: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what} ({checked} checked): {} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The four shared fixtures score exactly their expected.json (bool predictions, float64
/// scores at full precision, a list of numpy float64 scalars).
#[test]
fn shared_realworld_fixtures_score_as_the_reference() {
    let mut failures = Vec::new();
    for folder in SHARED {
        let diffs = evaluate_differences(folder, None, &expected(folder));
        if !diffs.is_empty() {
            failures.push(format!("{folder}: {}", diffs.join("; ")));
        }
    }
    report("shared real-world folders", SHARED.len(), &failures);
}

/// Every matrix folder scores as the reference at 0.5 (its threshold) and at the other
/// thresholds its expected.json lists (the reference compares in the array's own dtype).
#[test]
fn matrix_scores_equal_the_reference() {
    let folders: Vec<String> = good_folders()
        .into_iter()
        .filter(|f| f.starts_with("matrix/"))
        .collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for folder in &folders {
        let want = expected(folder);
        let mut runs = vec![(None, want.clone())];
        if let Some(others) = want.get("thresholds").and_then(Value::as_object) {
            runs.extend(others.iter().map(|(t, w)| (Some(t.clone()), w.clone())));
        }
        for (threshold, w) in runs {
            checked += 1;
            let diffs = evaluate_differences(folder, threshold.as_deref(), &w);
            if !diffs.is_empty() {
                let at = threshold.map_or(String::new(), |t| format!(" --threshold {t}"));
                failures.push(format!("{folder}{at}: {}", diffs.join("; ")));
            }
        }
    }
    report("matrix folder x threshold runs", checked, &failures);
}

/// `inspect --json` over every folder: one JSON object per file and line.
fn inspect_all() -> Vec<Value> {
    let mut dirs: Vec<PathBuf> = good_folders().iter().map(|f| root().join(f)).collect();
    dirs.push(root().join(NEGATIVE));
    let mut args = vec!["inspect", "--json"];
    args.extend(dirs.iter().map(|d| path_str(d)));
    let out = scenelab(&args);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn line_for<'a>(lines: &'a [Value], folder: &str, file: &str) -> Option<&'a Value> {
    let want = root().join(folder).join(file);
    lines
        .iter()
        .find(|l| l["file"].as_str().is_some_and(|f| Path::new(f) == want))
}

fn pkl_files(folder: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join(folder))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pkl"))
        .collect();
    files.sort();
    files
}

/// The shot count a readable file must report: from expected.json's cases where listed.
fn shots(want: &Value, file: &str) -> Option<u64> {
    want["cases"][file]["shots"].as_u64()
}

/// `inspect` marks every file of every good folder ok, with its shot count.
#[test]
fn inspect_marks_every_readable_file_ok() {
    let lines = inspect_all();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut check = |folder: &str, file: &str, want_shots: Option<u64>| {
        checked += 1;
        let Some(line) = line_for(&lines, folder, file) else {
            failures.push(format!("{folder}/{file}: no line"));
            return;
        };
        if line["ok"] != Value::Bool(true) {
            failures.push(short(&format!(
                "{folder}/{file}: not ok: {}",
                line["error"]
            )));
        } else if let Some(n) = want_shots
            && line["shots"].as_u64() != Some(n)
        {
            failures.push(format!("{folder}/{file}: shots {} != {n}", line["shots"]));
        }
    };
    for folder in good_folders() {
        let want = expected(&folder);
        for file in pkl_files(&folder) {
            check(&folder, &file, shots(&want, &file));
        }
    }
    let want = expected(NEGATIVE);
    for file in pkl_files(NEGATIVE) {
        if want["cases"][&file].get("refused").is_none() {
            check(NEGATIVE, &file, shots(&want, &file));
        }
    }
    report("readable files", checked, &failures);
}

/// Every string in a JSON value, with the object keys on its way.
fn strings<'a>(v: &'a Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, &'a str)>) {
    match v {
        Value::String(s) => out.push((path.clone(), s)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, path, out)),
        Value::Object(o) => {
            for (k, x) in o {
                path.push(k.clone());
                strings(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The numbers written in a message (runs of digits).
fn numbers(msg: &str) -> BTreeSet<u64> {
    msg.split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Whether `msg` gives the reason `refused` asks for: its words (pandas), or enough of the
/// lengths involved, and not the dtype complaint of old.
fn gives_reason(msg: &str, refused: &Value) -> bool {
    let lower = msg.to_lowercase();
    let words = refused["reason_words"].as_array().into_iter().flatten();
    let words_ok = words
        .filter_map(Value::as_str)
        .all(|w| lower.contains(&w.to_lowercase()));
    let nums_ok = match refused["reason_numbers"].as_array() {
        None => true,
        Some(want) => {
            let found = numbers(msg);
            let hits = want
                .iter()
                .filter_map(Value::as_u64)
                .filter(|n| found.contains(n))
                .count();
            hits as u64 >= refused["reason_numbers_at_least"].as_u64().unwrap_or(1)
        }
    };
    let not_ok = refused["reason_not"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .all(|w| !lower.contains(w));
    words_ok && nums_ok && not_ok
}

/// The fields a refusal may be reported on: the one named, or any evaluation field.
fn refused_fields(refused: &Value) -> Vec<&str> {
    match refused["field"].as_str() {
        Some(f) => vec![f],
        None => EVAL_FIELDS.to_vec(),
    }
}

/// The negative kinds are refused on the right field, with the reason (the lengths; pandas),
/// and the files' other fields are still listed: the features of the files that have them.
#[test]
fn inspect_refuses_the_negative_kinds_on_their_field() {
    let lines = inspect_all();
    let want = expected(NEGATIVE);
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, case) in want["cases"].as_object().unwrap() {
        let Some(refused) = case.get("refused") else {
            continue;
        };
        checked += 1;
        let Some(line) = line_for(&lines, NEGATIVE, file) else {
            failures.push(format!("{file}: no line"));
            continue;
        };
        let mut found = Vec::new();
        strings(line, &mut Vec::new(), &mut found);
        let fields = refused_fields(refused);
        // A message on the field: under fields.FIELD, or naming FIELD.
        let on_field = found.iter().filter(|(path, s)| {
            path.first().is_none_or(|k| k != "file")
                && fields.iter().any(|f| {
                    (path.len() >= 2 && path[0] == "fields" && path[1] == *f) || s.contains(f)
                })
        });
        if !on_field.clone().any(|(_, s)| gives_reason(s, refused)) {
            let said: Vec<&str> = on_field.map(|(_, s)| *s).collect();
            failures.push(short(&format!(
                "{file} ({}): no message on {fields:?} gives the reason {refused}; said {said:?}, error {}",
                case["type"], line["error"]
            )));
        }
        let id = file.trim_end_matches(".pkl");
        if want["trainable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == id)
        {
            for (modality, dim) in [
                ("place", 2048),
                ("cast", 512),
                ("action", 512),
                ("audio", 512),
            ] {
                let shape = &line["fields"][modality]["shape"];
                if shape != &serde_json::json!([case["shots"], dim]) {
                    failures.push(format!("{file}: feature {modality} shape {shape}"));
                }
            }
        }
    }
    report("refused files", checked, &failures);
}

/// The skipped entry (or today's warning) that names `file`.
fn skip_reason_for(got: &Value, file: &str) -> Option<String> {
    let id = file.trim_end_matches(".pkl");
    skipped_reasons(got).into_iter().find(|r| r.contains(id))
}

/// `evaluate` on the negative folder scores the good movie, lists each refused file with its
/// reason in `skipped`, says "1 of 4" in the text, and exits 2 unless `--allow-partial`.
#[test]
fn evaluate_skips_the_negative_kinds_and_says_so() {
    let want = expected(NEGATIVE);
    let dir = root().join(NEGATIVE);
    let files = pkl_files(NEGATIVE);
    let mut failures = Vec::new();
    let total = files.len();
    let scored = want["movies"].as_u64().unwrap() as usize;

    let strict = scenelab(&["evaluate", path_str(&dir), "--json"]);
    if strict.status.code() != Some(2) {
        failures.push(format!(
            "without --allow-partial: exit {:?}, want 2 ({})",
            strict.status.code(),
            stderr_tail(&strict)
        ));
    }
    let partial = scenelab(&["evaluate", path_str(&dir), "--json", "--allow-partial"]);
    if !partial.status.success() {
        failures.push(format!(
            "with --allow-partial: exit {:?}, want 0 ({})",
            partial.status.code(),
            stderr_tail(&partial)
        ));
    }
    for (what, out) in [("strict", &strict), ("--allow-partial", &partial)] {
        let Ok(got) = serde_json::from_slice::<Value>(&out.stdout) else {
            failures.push(format!("{what}: no JSON on stdout ({})", stderr_tail(out)));
            continue;
        };
        if got["movies"].as_u64() != Some(scored as u64) {
            failures.push(format!(
                "{what}: \"movies\" is {}, want {scored}",
                got["movies"]
            ));
        }
        match got["skipped"].as_array() {
            Some(s) if s.len() == total - scored => {
                for entry in s {
                    if !entry["file"].is_string() || !entry["reason"].is_string() {
                        failures.push(format!("{what}: skipped entry {entry}"));
                    }
                }
            }
            other => failures.push(format!(
                "{what}: \"skipped\" is {other:?}, want {} entries",
                total - scored
            )),
        }
        for (file, case) in want["cases"].as_object().unwrap() {
            let Some(refused) = case.get("refused") else {
                continue;
            };
            match skip_reason_for(&got, file) {
                None => failures.push(format!("{what}: {file} not reported as skipped")),
                Some(r) if !gives_reason(&r, refused) => failures.push(short(&format!(
                    "{what}: {file}: reason {r:?} does not give {refused}"
                ))),
                Some(_) => {}
            }
        }
        for d in score_differences(&got, &want) {
            failures.push(format!("{what}: {d}"));
        }
    }
    let text = scenelab(&["evaluate", path_str(&dir), "--allow-partial"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&text.stdout),
        String::from_utf8_lossy(&text.stderr)
    );
    let count = format!("{scored} of {total}");
    if !all.contains(&count) {
        failures.push(short(&format!(
            "the text does not say \"{count}\" files: {}",
            all.trim()
        )));
    }
    report("negative folder", 3, &failures);
}

/// `scenelab train DIR --epochs 1` succeeds and trains (train + validation + test) on exactly
/// the movies listed, warning about none of them.
fn train_differences(folder: &str, trainable: &[&str]) -> Vec<String> {
    let out_dir = tempfile::tempdir().unwrap();
    let model = out_dir.path().join("model");
    let dir = root().join(folder);
    let out = scenelab(&[
        "train",
        path_str(&dir),
        "--epochs",
        "1",
        "--out",
        path_str(&model),
    ]);
    let mut diffs = Vec::new();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        diffs.push(format!(
            "exit {:?}: {}",
            out.status.code(),
            stderr_tail(&out)
        ));
    }
    for id in trainable {
        if let Some(w) = stderr.lines().find(|l| l.contains(id)) {
            diffs.push(format!("warns about {id}: {}", short(w)));
        }
    }
    // "training MODEL: A movies train, B validate early stopping, C held out for the test
    // (on DEVICE)"
    match stdout.lines().find(|l| l.starts_with("training ")) {
        Some(line) => {
            let used: u64 = line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|s| s.parse::<u64>().ok())
                .sum();
            if used != trainable.len() as u64 {
                diffs.push(format!(
                    "uses {used} movies, want {}: {line}",
                    trainable.len()
                ));
            }
        }
        None => diffs.push("no \"training ... on N movies\" line".into()),
    }
    diffs
}

/// A bool prediction (never used by training) does not keep `train` from either movie.
#[test]
fn train_uses_both_movies_with_bool_predictions() {
    let diffs = train_differences("bool_prediction_train", &["tt0000010", "tt0000011"]);
    report("bool_prediction_train", 1, &diffs);
}

/// An int prediction, a bool prediction of the wrong length and a pandas.Series prediction
/// leave the features and ground truth usable: `train` uses all three movies.
#[test]
fn train_uses_movies_whose_prediction_is_int_or_unreadable() {
    let want = expected(NEGATIVE);
    let trainable: Vec<&str> = want["trainable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let diffs = train_differences(NEGATIVE, &trainable);
    report("negative folder training", 1, &diffs);
}
