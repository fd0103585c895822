//! Scene lists in the field's formats: PySceneDetect's CSV and LGSS's JSON read back to the
//! scenes they were written from, EDL events and timecodes at 23.976 and 25 fps, `scenelab
//! export` on a demo folder (ground truth, prediction, a missing field), and the app's Save
//! report against `scenelab evaluate --json`.

mod app_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use app_support::{assert_no_errors, harness, picker_answering, settle};
use egui_kittest::kittest::Queryable;
use scenelab::app::report::{ExportForm, ScenesOf};
use scenelab::app::{App, AppOptions, startup_action};
use scenelab::data::Dataset;
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::export::edl::{self, Event};
use scenelab::export::{Format, FrameRate, Scene, lgss_json, scene_csv, scenes};

fn rate(s: &str) -> FrameRate {
    s.parse().unwrap()
}

/// A movie of `n` shots with uneven lengths and a boundary every few shots.
fn movie(n: usize, seed: u64) -> (Vec<bool>, Vec<i64>) {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as i64
    };
    let mut end = -1i64;
    let ends: Vec<i64> = (0..n)
        .map(|_| {
            end += 1 + next() % 400;
            end
        })
        .collect();
    let boundaries = (0..n - 1).map(|_| next() % 7 == 0).collect();
    (boundaries, ends)
}

/// The CSV parsed back into scenes: frames from its 1-based columns, shots found by frame.
fn csv_scenes(bytes: &[u8], ends: &[i64], rate: FrameRate) -> Vec<Scene> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, scene_csv::COLUMNS);
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.unwrap();
        let int = |k: usize| rec[k].parse::<u64>().unwrap();
        let secs = |k: usize| rec[k].parse::<f64>().unwrap();
        assert_eq!(int(0), i as u64 + 1, "scene numbers count from 1");
        let start = int(1) - 1;
        let end_exclusive = int(4);
        assert_eq!(int(7), end_exclusive - start, "length in frames");
        // Times to the millisecond, from the exact rate.
        for (k, frame) in [(3, start), (6, end_exclusive), (9, end_exclusive - start)] {
            let want = frame as f64 * rate.den() as f64 / rate.num() as f64;
            assert!(
                (secs(k) - want).abs() <= 0.0005 + 1e-9,
                "column {k}: {} vs {want}",
                &rec[k]
            );
        }
        let first_shot = if start == 0 {
            0
        } else {
            ends.iter().position(|&e| e as u64 + 1 == start).unwrap() + 1
        };
        let last_shot = ends
            .iter()
            .position(|&e| e as u64 == end_exclusive - 1)
            .unwrap();
        out.push(Scene {
            first_shot,
            last_shot,
            start_frame: start,
            end_frame: end_exclusive - 1,
        });
    }
    out
}

#[test]
fn csv_and_json_read_back_to_the_same_scenes() {
    for seed in 0..20 {
        let (b, ends) = movie(50 + seed as usize * 13, seed);
        let want = scenes(&b, &ends).unwrap();
        for r in ["24", "23.976", "25", "29.97"] {
            let bytes = scene_csv::to_bytes(&want, rate(r));
            assert_eq!(
                csv_scenes(&bytes, &ends, rate(r)),
                want,
                "seed {seed} at {r}"
            );
        }
        let json = String::from_utf8(lgss_json::to_bytes(&want)).unwrap();
        assert_eq!(lgss_json::parse(&json).unwrap(), want, "seed {seed}");
        // Every shot of a scene is listed, as LGSS lists them.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let first = &v["0"]["shot"];
        assert_eq!(first.as_array().unwrap().len(), want[0].last_shot + 1);
        assert_eq!(first[0], "0000");
    }
}

#[test]
fn csv_rows_equal_pyscenedetects_own() {
    // scenedetect's test_cli_list_scenes expects these two rows at 24000/1001 fps for the
    // scenes [48, 90) and [90, 144).
    let s = [
        Scene {
            first_shot: 0,
            last_shot: 0,
            start_frame: 48,
            end_frame: 89,
        },
        Scene {
            first_shot: 1,
            last_shot: 1,
            start_frame: 90,
            end_frame: 143,
        },
    ];
    let text = String::from_utf8(scene_csv::to_bytes(&s, rate("23.976"))).unwrap();
    assert_eq!(
        text,
        "Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)\n\
         1,49,00:00:02.002,2.002,90,00:00:03.754,3.754,42,00:00:01.752,1.752\n\
         2,91,00:00:03.754,3.754,144,00:00:06.006,6.006,54,00:00:02.252,2.252\n"
    );
}

#[test]
fn json_is_laid_out_as_pythons_json_dump_with_indent_4() {
    let s = scenes(&[false, true], &[4, 9, 14]).unwrap();
    let text = String::from_utf8(lgss_json::to_bytes(&s)).unwrap();
    let want = r#"{
    "0": {
        "shot": [
            "0000",
            "0001"
        ],
        "frame": [
            "0",
            "9"
        ]
    },
    "1": {
        "shot": [
            "0002"
        ],
        "frame": [
            "10",
            "14"
        ]
    }
}"#;
    assert_eq!(text, want);
    // Keys in scene order past 9 (a sorted map would put "10" before "2").
    let many = scenes(
        &[true; 11],
        &(0..12).map(|i| i * 10 + 9).collect::<Vec<_>>(),
    )
    .unwrap();
    let text = String::from_utf8(lgss_json::to_bytes(&many)).unwrap();
    let keys: Vec<usize> = text
        .lines()
        .filter(|l| l.starts_with("    \""))
        .map(|l| {
            l.trim()
                .trim_start_matches('"')
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(keys, (0..12).collect::<Vec<_>>());
}

#[test]
fn edl_events_and_timecodes_at_23_976_and_25_fps() {
    // Frames chosen to cross a second, a minute and an hour.
    let ends = [47, 1439, 86_399, 90_000];
    let s = scenes(&[true, true, true], &ends).unwrap();
    let text = edl::to_string("tt0000001", &s, rate("25")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "TITLE: tt0000001");
    assert_eq!(lines[1], "FCM: NON-DROP FRAME");
    assert_eq!(lines[2], "");
    assert_eq!(
        lines[3],
        "001  AX       V     C        00:00:00:00 00:00:01:23 00:00:00:00 00:00:01:23"
    );
    assert_eq!(lines[4], "* FROM CLIP NAME: tt0000001");
    // 25 fps: frame 1440 is 57 s 15 f; 86,400 is 57 min 36 s; 90,001 is 1 h 0 min 0 s 1 f.
    assert!(
        lines[9].contains("00:00:57:15 00:57:36:00 00:00:57:15 00:57:36:00"),
        "{}",
        lines[9]
    );
    assert!(
        lines[12].ends_with("00:57:36:00 01:00:00:01"),
        "{}",
        lines[12]
    );
    // 23.976 counts 24 frames a timecode second: frame 1440 is exactly one minute.
    let ntsc = edl::to_string("tt0000001", &s, rate("23.976")).unwrap();
    let ev = ntsc.lines().find(|l| l.starts_with("003")).unwrap();
    assert!(ev.contains("00:01:00:00 01:00:00:00"), "{ev}");
    for r in ["25", "23.976", "24", "29.97", "50"] {
        let text = edl::to_string("tt0000001", &s, rate(r)).unwrap();
        let events = edl::parse_events(&text, rate(r)).unwrap();
        let want: Vec<Event> = s
            .iter()
            .enumerate()
            .map(|(i, sc)| Event {
                number: i as u32 + 1,
                source_in: sc.start_frame,
                source_out: sc.end_frame + 1,
                record_in: sc.start_frame,
                record_out: sc.end_frame + 1,
            })
            .collect();
        assert_eq!(events, want, "at {r}");
    }
    assert!(edl::to_string("tt0000001", &s, rate("12.5")).is_err());
}

fn demo(dir: &Path) {
    let config = DemoConfig {
        movies: 3,
        seed: 7,
        min_shots: 60,
        max_shots: 120,
    };
    write_demo(dir, &config, &|_, _| {}).unwrap();
}

fn scenelab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(args)
        .output()
        .unwrap()
}

/// `scenelab export DIR --field FIELD --format FORMAT --out OUT`, then `extra`.
fn export(
    dir: &Path,
    field: &str,
    format: &str,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let (dir, out) = (dir.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec![
        "export", dir, "--field", field, "--format", format, "--out", out,
    ];
    args.extend_from_slice(extra);
    scenelab(&args)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn the_export_command_writes_each_movies_ground_truth_and_predicted_scenes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    demo(&data);
    let dataset = Dataset::load_dir(&data, &|_| {}).unwrap();
    let out = tmp.path().join("gt");
    let o = export(&data, "ground_truth", "json", &out, &["--fps", "25"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written = files_in(&out);
    assert_eq!(written.len(), dataset.movies.len(), "{written:?}");
    for m in &dataset.movies {
        let text = std::fs::read_to_string(out.join(format!("{}.json", m.imdb_id))).unwrap();
        let want = scenes(
            m.ground_truth.as_ref().unwrap(),
            m.shot_end_frame.as_ref().unwrap(),
        )
        .unwrap();
        assert_eq!(lgss_json::parse(&text).unwrap(), want, "{}", m.imdb_id);
        assert_eq!(want.len(), m.n_scenes().unwrap());
    }

    // The files' prediction at a threshold, as CSV: the boundaries evaluate counts.
    let out = tmp.path().join("pred");
    let o = export(
        &data,
        "prediction",
        "csv",
        &out,
        &["--threshold", "0.4", "--fps", "23.976"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for m in &dataset.movies {
        let bytes = std::fs::read(out.join(format!("{}.csv", m.imdb_id))).unwrap();
        let p = m.prediction.as_ref().unwrap();
        let b: Vec<bool> = p.values().iter().map(|&v| v >= f64::from(0.4f32)).collect();
        let ends = m.shot_end_frame.as_ref().unwrap();
        assert_eq!(
            csv_scenes(&bytes, ends, rate("23.976")),
            scenes(&b, ends).unwrap()
        );
    }

    // An EDL at a rate without a timecode base is refused before anything is written.
    let o = export(
        &data,
        "ground_truth",
        "edl",
        &tmp.path().join("edl"),
        &["--fps", "12.5"],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--fps"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!tmp.path().join("edl").exists());
}

#[test]
fn a_missing_field_is_named_and_the_run_is_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    demo(&data);
    // One movie without its prediction.
    let first = Dataset::movie_files(&data).unwrap().remove(0);
    let mut record = scenelab::pickle::read_record_file(&first).unwrap();
    record.retain(|(k, _)| k != scenelab::data::FIELD_PREDICTION);
    scenelab::pickle::write_record_file(&first, &record).unwrap();
    let out = tmp.path().join("out");
    let o = export(&data, "prediction", "edl", &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no field 'scene_transition_boundary_prediction'"),
        "{err}"
    );
    assert!(err.contains("--allow-partial"), "{err}");
    assert_eq!(files_in(&out).len(), 2);
    assert!(
        export(&data, "prediction", "edl", &out, &["--allow-partial"])
            .status
            .success()
    );
    // --field model without a model says which flag is missing.
    let o = export(&data, "model", "csv", &out, &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--model MODEL"));
}

#[test]
fn export_takes_the_field_names_evaluate_takes_and_refuses_others_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    demo(&data);
    let data = data.to_str().unwrap();
    // The full field names write what the short ones write.
    for (short, full) in [
        ("ground_truth", "scene_transition_boundary_ground_truth"),
        ("prediction", "scene_transition_boundary_prediction"),
    ] {
        let (a, b) = (tmp.path().join(short), tmp.path().join(full));
        for (name, out) in [(short, &a), (full, &b)] {
            let o = export(Path::new(data), name, "csv", out, &[]);
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let (fa, fb) = (files_in(&a), files_in(&b));
        assert_eq!(fa.len(), 3);
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(x.file_name(), y.file_name());
            assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
        }
    }
    // A name neither command takes gets the same list of choices from both.
    let never = tmp.path().join("never");
    let refusal = |command: &str| -> String {
        let mut args = vec![command, data, "--field", "ground truth"];
        if command == "export" {
            args.extend(["--format", "csv", "--out", never.to_str().unwrap()]);
        }
        let o = scenelab(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let start = err
            .find("'ground truth' is none of")
            .unwrap_or_else(|| panic!("{err}"));
        err[start..].lines().next().unwrap().to_owned()
    };
    let (export, evaluate) = (refusal("export"), refusal("evaluate"));
    let shared = "'ground truth' is none of prediction (the files' \
                  scene_transition_boundary_prediction), ground_truth (the files' \
                  scene_transition_boundary_ground_truth)";
    assert!(export.starts_with(shared), "{export}");
    assert!(evaluate.starts_with(shared), "{evaluate}");
    assert!(
        export.contains("model (the scores of the model in --model)"),
        "{export}"
    );
}

#[test]
fn a_weight_files_scenes_are_those_of_its_predict_output() {
    use scenelab::model::ModelKind;

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    demo(&data);
    // A BiLSTM state dict PyTorch saved (tests/fixtures/torch/make_fixtures.py).
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch/bilstm.pth");
    let (fa, fb, err) =
        model_and_prediction_scenes(tmp.path(), &data, &weights, Some(ModelKind::Bilstm), true);
    assert!(err.contains("scenes of the 'bilstm' model"), "{err}");
    assert_eq!(fa.len(), 3);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.file_name(), y.file_name());
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
    }
}

/// `scenelab predict` of `data` with `model` (`raw_scores` as given), then `scenelab export
/// --format json` of the model's scenes (`--field model`) and of the written prediction's:
/// the two sets of files, sorted, and the first export's stderr.
fn model_and_prediction_scenes(
    tmp: &Path,
    data: &Path,
    model: &Path,
    kind: Option<scenelab::model::ModelKind>,
    raw_scores: bool,
) -> (Vec<PathBuf>, Vec<PathBuf>, String) {
    let predicted = tmp.join("predicted");
    scenelab::cli::predict::run(scenelab::cli::predict::Args {
        dir: data.to_path_buf(),
        model: model.to_path_buf(),
        kind,
        out: Some(predicted.clone()),
        in_place: false,
        device: scenelab::workflow::DeviceArg::Cpu,
        raw_scores,
        allow_partial: false,
    })
    .unwrap();
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    let kind_name = kind.map(|k| k.to_string());
    let mut extra = vec!["--model", model.to_str().unwrap(), "--device", "cpu"];
    if let Some(k) = &kind_name {
        extra.extend(["--kind", k]);
    }
    let o = export(data, "model", "json", &a, &extra);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    let o = export(&predicted, "prediction", "json", &b, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (files_in(&a), files_in(&b), err)
}

#[test]
fn save_report_writes_what_evaluate_prints_and_export_scenes_writes_the_edls() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    demo(&data);
    let choice = Arc::new(Mutex::new(None));
    let mut app = App::new(AppOptions {
        picker: picker_answering(choice.clone()),
        settings_path: None,
        default_dir: data.clone(),
        demo: DemoConfig::default(),
    });
    app.queue(startup_action(Some(&data)));
    let mut h = harness(app);
    settle(&mut h);
    assert_no_errors(&h);

    let out = tmp.path().join("report");
    *choice.lock().unwrap() = Some(out.clone());
    h.get_by_label("Save report…").click();
    settle(&mut h);
    assert_no_errors(&h);

    // report.json is the object `scenelab evaluate --json` prints for the folder, entire.
    let o = scenelab(&["evaluate", data.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(got, want);
    // report.csv: a row per movie and the totals, equal to the JSON's numbers.
    let mut r = csv::Reader::from_path(out.join("report.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), want["movies"].as_u64().unwrap() as usize + 1);
    let total = rows.last().unwrap();
    assert_eq!(&total[0], "total");
    for (col, key) in [
        (4, "AP"),
        (5, "mAP"),
        (6, "Miou"),
        (7, "Precision"),
        (8, "Recall"),
        (9, "F1"),
    ] {
        assert_eq!(
            total[col].parse::<f64>().unwrap(),
            want[key].as_f64().unwrap(),
            "{key}"
        );
    }
    for row in &rows[..rows.len() - 1] {
        let m = &want["per_movie"][&row[0]];
        assert_eq!(
            row[6].parse::<f64>().unwrap(),
            m["Miou"].as_f64().unwrap(),
            "{}",
            &row[0]
        );
        assert_eq!(
            row[4].parse::<f64>().unwrap(),
            m["AP"].as_f64().unwrap(),
            "{}",
            &row[0]
        );
    }
    // The three images: PNGs of the documented size with something drawn on them.
    let selected = h.state().selected_movie_id().unwrap().to_string();
    for name in [
        format!("timeline-{selected}.png"),
        "pr_curve.png".into(),
        "threshold_sweep.png".into(),
    ] {
        let img = image::open(out.join(&name)).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (1600, 600), "{name}");
        let coloured = img
            .pixels()
            .filter(|p| !(p[0] == p[1] && p[1] == p[2]))
            .count();
        assert!(coloured > 1000, "{name}: {coloured} coloured pixels");
    }

    // Export scenes: the ground truth as EDLs at 25 fps, one per movie, events = scenes.
    *h.state_mut().export_form_mut() = ExportForm {
        format: Format::Edl,
        fps: Some(25.0),
        of: ScenesOf::GroundTruth,
    };
    h.get_by_label("Export scenes…").click();
    settle(&mut h);
    let edls = tmp.path().join("edl");
    *choice.lock().unwrap() = Some(edls.clone());
    h.get_by_label("Choose folder and export…").click();
    settle(&mut h);
    assert_no_errors(&h);
    let movies = h.state().movies().to_vec();
    assert_eq!(files_in(&edls).len(), movies.len());
    for m in &movies {
        let text = std::fs::read_to_string(edls.join(format!("{}.edl", m.imdb_id))).unwrap();
        let events = edl::parse_events(&text, rate("25")).unwrap();
        let want = scenes(
            m.ground_truth.as_ref().unwrap(),
            m.shot_end_frame.as_ref().unwrap(),
        )
        .unwrap();
        let got: Vec<(u64, u64)> = events.iter().map(|e| (e.source_in, e.source_out)).collect();
        let want: Vec<(u64, u64)> = want
            .iter()
            .map(|s| (s.start_frame, s.end_frame + 1))
            .collect();
        assert_eq!(got, want, "{}", m.imdb_id);
    }
}

#[test]
fn a_models_scenes_are_those_of_its_predict_output() {
    use scenelab::cli::train;
    use scenelab::model::ModelKind;
    use scenelab::train::checkpoint::CONFIG_FILE;
    use scenelab::train::decision::{Decision, Objective};

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write_demo(
        &data,
        &DemoConfig {
            movies: 6,
            seed: 4,
            min_shots: 40,
            max_shots: 80,
        },
        &|_, _| {},
    )
    .unwrap();
    let model = tmp.path().join("model");
    train::run(train::Args {
        dir: data.clone(),
        model: ModelKind::Wavenet,
        epochs: Some(1),
        test_movies: Some(1),
        test_ids: None,
        split_file: None,
        seed: 2,
        out: model.clone(),
        device: train::DeviceArg::Cpu,
        objective: Objective::Miou,
        peak_picking: false,
        features: scenelab::data::FeaturePrecision::F32,
    })
    .unwrap();
    // A decision with peak picking, stored as a tuned one would be.
    let config = model.join(CONFIG_FILE);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    json["decision"] = serde_json::to_value(Decision {
        threshold: 0.3,
        nms_window: 2,
        min_scene_len: 3,
        objective: Objective::Miou,
    })
    .unwrap();
    std::fs::write(&config, serde_json::to_string_pretty(&json).unwrap()).unwrap();

    let (fa, fb, _) = model_and_prediction_scenes(tmp.path(), &data, &model, None, false);
    assert_eq!(fa.len(), 6);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.file_name(), y.file_name());
        let (sx, sy) = (
            lgss_json::parse(&std::fs::read_to_string(x).unwrap()).unwrap(),
            lgss_json::parse(&std::fs::read_to_string(y).unwrap()).unwrap(),
        );
        assert_eq!(sx, sy, "{}", x.display());
        // Peak picking at 3 shots: no scene but possibly the last is shorter.
        assert!(
            sx.iter().all(|s| s.last_shot - s.first_shot + 1 >= 3),
            "{}",
            x.display()
        );
    }
}
