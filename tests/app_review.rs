//! Correcting the ground truth in the app: the edit mode sets, clears, moves and marks
//! boundaries with the mouse, Ctrl+Z / Ctrl+Shift+Z undo and redo, the metrics follow the
//! labels, saving writes exactly the edited labels (into a new folder, or in place with the
//! original kept), and edits left unsaved by a crash are replayed from the folder's journal.

mod app_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use app_support::{assert_label, assert_no_errors, picker_answering, settle};
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::{App, AppOptions};
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::data::edit::JOURNAL_FILE;
use scenelab::data::{Dataset, FIELD_GROUND_TRUTH, FIELD_UNCERTAIN, Movie};
use scenelab::eval::{MovieInput, evaluate};
use scenelab::pickle::read_record_file;

fn options(tmp: &Path, choice: Arc<Mutex<Option<PathBuf>>>) -> AppOptions {
    AppOptions {
        picker: picker_answering(choice),
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: DemoConfig::default(),
    }
}

/// Three small demo movies (with a provided prediction) in `dir`.
fn demo_folder(dir: &Path) {
    let config = DemoConfig {
        movies: 3,
        seed: 7,
        min_shots: 60,
        max_shots: 90,
    };
    write_demo(dir, &config, &|_, _| {}).unwrap();
}

fn open(tmp: &Path, data: &Path, choice: Arc<Mutex<Option<PathBuf>>>) -> Harness<'static, App> {
    let mut app = App::new(options(tmp, choice));
    app.queue(scenelab::app::Action::OpenFolder(data.to_path_buf()));
    let mut h = app_support::harness(app);
    settle(&mut h);
    assert_no_errors(&h);
    h
}

fn selected(h: &Harness<'_, App>) -> Movie {
    h.state()
        .state
        .selected()
        .expect("a movie is selected")
        .clone()
}

fn gt(m: &Movie) -> Vec<bool> {
    m.ground_truth.clone().unwrap()
}

/// The screen position of transition `t` of the selected movie on the plot (or, with
/// `band`, on the ground-truth band).
fn at_transition(h: &Harness<'_, App>, t: usize, band: bool) -> egui::Pos2 {
    let tr = h.state().timeline_transform().expect("the plot was drawn");
    let x = tr.position_from_point_x(h.state().state.view.transition_x(t));
    let y = if band {
        h.state().truth_band().unwrap().center().y
    } else {
        tr.frame().center().y
    };
    egui::pos2(x, y)
}

fn button(pos: egui::Pos2, button: egui::PointerButton, pressed: bool) -> egui::Event {
    egui::Event::PointerButton {
        pos,
        button,
        pressed,
        modifiers: egui::Modifiers::NONE,
    }
}

fn click(h: &mut Harness<'_, App>, pos: egui::Pos2, which: egui::PointerButton) {
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    h.event(button(pos, which, true));
    h.step();
    h.event(button(pos, which, false));
    h.step();
    settle(h);
}

/// Click transition `t` on the plot.
fn click_at(h: &mut Harness<'_, App>, t: usize, which: egui::PointerButton) {
    let pos = at_transition(h, t, false);
    click(h, pos, which);
}

/// Drag the truth band from transition `from` to transition `to`.
fn drag_band(h: &mut Harness<'_, App>, from: usize, to: usize) {
    let (a, b) = (at_transition(h, from, true), at_transition(h, to, true));
    drag(h, a, b);
}

fn drag(h: &mut Harness<'_, App>, from: egui::Pos2, to: egui::Pos2) {
    h.event(egui::Event::PointerMoved(from));
    h.step();
    h.event(button(from, egui::PointerButton::Primary, true));
    h.step();
    for k in 1..=4 {
        let p = from + (to - from) * (k as f32 / 4.0);
        h.event(egui::Event::PointerMoved(p));
        h.step();
    }
    h.event(button(to, egui::PointerButton::Primary, false));
    h.step();
    settle(h);
}

fn key(h: &mut Harness<'_, App>, modifiers: egui::Modifiers) {
    for pressed in [true, false] {
        h.event(egui::Event::Key {
            key: egui::Key::Z,
            physical_key: None,
            pressed,
            repeat: false,
            modifiers,
        });
    }
    h.step();
    settle(h);
}

/// `evaluate` of the movies' own predictions against their labels at the app's threshold.
fn metrics_of(movies: &[Movie], threshold: f32) -> scenelab::eval::Metrics {
    let inputs: Vec<MovieInput> = movies
        .iter()
        .map(|m| MovieInput::of(m, m.prediction.as_ref().unwrap().into()).unwrap())
        .collect();
    evaluate(&inputs, f64::from(threshold)).unwrap()
}

fn assert_metrics_follow(h: &Harness<'_, App>) {
    let want = metrics_of(h.state().movies(), h.state().threshold());
    let shown = h.state().shown_metrics().expect("metrics are shown");
    assert_eq!(format!("{shown:?}"), format!("{want:?}"));
}

/// The first transition after `from` with label `boundary`, whose neighbours are not
/// boundaries (so a click or a drag there is unambiguous).
fn transition_where(m: &Movie, from: usize, boundary: bool) -> usize {
    let g = gt(m);
    (from.max(1)..g.len() - 3)
        .find(|&t| g[t] == boundary && !g[t - 1] && !g[t + 1] && !g[t + 2])
        .expect("such a transition")
}

#[test]
fn clicks_and_drags_edit_the_labels_undo_redo_walk_them_and_metrics_follow() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("movies");
    demo_folder(&data);
    let mut h = open(tmp.path(), &data, Arc::default());
    let original = selected(&h);
    let id = original.imdb_id.clone();
    h.get_by_label("Edit labels").click();
    settle(&mut h);

    // A click sets a boundary where there was none.
    let t_set = transition_where(&original, 5, false);
    click_at(&mut h, t_set, egui::PointerButton::Primary);
    let after_set = selected(&h);
    let mut want = gt(&original);
    want[t_set] = true;
    assert_eq!(gt(&after_set), want);
    assert_metrics_follow(&h);
    assert_label(&h, &format!("{id} (edited)"));

    // A right-click marks it uncertain.
    click_at(&mut h, t_set, egui::PointerButton::Secondary);
    assert_eq!(selected(&h).uncertain, vec![t_set]);
    assert_eq!(gt(&selected(&h)), want);

    // A drag of a boundary's edge on the truth band moves it.
    let b = transition_where(&selected(&h), t_set + 3, true);
    let to = b + 2;
    drag_band(&mut h, b, to);
    want[b] = false;
    want[to] = true;
    assert_eq!(gt(&selected(&h)), want);
    assert_metrics_follow(&h);

    // A click on a boundary clears it.
    click_at(&mut h, to, egui::PointerButton::Primary);
    want[to] = false;
    assert_eq!(gt(&selected(&h)), want);
    let edited = selected(&h);
    assert_eq!(h.state().edit_log().done().len(), 4);
    // The labels were copied to be edited, the features were not.
    let features = |m: &Movie| match &m.features[0].as_ref().unwrap().data {
        scenelab::data::FeatureData::F32(v) => v.clone(),
        other => panic!("demo features load as f32, not {:?}", other.precision()),
    };
    assert!(Arc::ptr_eq(&features(&original), &features(&edited)));

    // Ctrl+Z four times: back to the file's labels, and the metrics with them.
    for _ in 0..4 {
        key(&mut h, egui::Modifiers::COMMAND);
    }
    assert_eq!(selected(&h), original);
    assert_metrics_follow(&h);
    assert!(h.query_by_label(&format!("{id} (edited)")).is_none());
    // Ctrl+Shift+Z four times: every edit again.
    for _ in 0..4 {
        key(&mut h, egui::Modifiers::COMMAND | egui::Modifiers::SHIFT);
    }
    assert_eq!(selected(&h), edited);
    assert_metrics_follow(&h);
    assert_no_errors(&h);
}

#[test]
fn a_double_click_is_one_edit_and_keeps_the_zoom() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("movies");
    demo_folder(&data);
    // Frames a sixtieth of a second apart, as on screen: egui's double click is two clicks
    // within 0.3 s, and kittest's default frames are a quarter second apart.
    let mut app = App::new(options(tmp.path(), Arc::default()));
    app.queue(scenelab::app::Action::OpenFolder(data.clone()));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .with_step_dt(1.0 / 60.0)
        .build_ui_state(|ui, app: &mut App| app.ui_inner(ui), app);
    settle(&mut h);
    let original = selected(&h);
    h.get_by_label("Edit labels").click();
    settle(&mut h);
    let t = transition_where(&original, 5, false);
    let before = h.state().timeline_transform().unwrap().bounds().range_x();
    let frame = *h.state().timeline_transform().unwrap().frame();
    let pos = at_transition(&h, t, false);
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    for _ in 0..2 {
        h.event(button(pos, egui::PointerButton::Primary, true));
        h.step();
        h.event(button(pos, egui::PointerButton::Primary, false));
        h.step();
    }
    settle(&mut h);
    let mut want = gt(&original);
    want[t] = true;
    assert_eq!(
        gt(&selected(&h)),
        want,
        "the second click must not undo the first"
    );
    assert_eq!(h.state().edit_log().done().len(), 1);
    let after = h.state().timeline_transform().unwrap().bounds().range_x();
    assert_eq!(
        before, after,
        "a double click in edit mode does not reset the zoom"
    );
    // The edited mark does not widen the movie list: the plot stays under the pointer.
    assert_eq!(*h.state().timeline_transform().unwrap().frame(), frame);
}

/// Every field of `a` except the labels equals `b`'s.
fn assert_same_but_labels(a: &Path, b: &Path) {
    let strip = |p: &Path| {
        let mut r = read_record_file(p).unwrap();
        r.retain(|(k, _)| k != FIELD_GROUND_TRUTH && k != FIELD_UNCERTAIN);
        r
    };
    assert_eq!(strip(a), strip(b), "{} vs {}", a.display(), b.display());
}

fn evaluate_cli(dir: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["evaluate", dir.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn saving_writes_exactly_the_edited_labels_and_evaluate_scores_them() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("movies");
    demo_folder(&data);
    let choice = Arc::new(Mutex::new(None));
    let mut h = open(tmp.path(), &data, choice.clone());
    let original = selected(&h);
    h.get_by_label("Edit labels").click();
    settle(&mut h);
    let t_set = transition_where(&original, 3, false);
    click_at(&mut h, t_set, egui::PointerButton::Primary);
    click_at(&mut h, t_set, egui::PointerButton::Secondary);
    let b = transition_where(&selected(&h), t_set + 3, true);
    click_at(&mut h, b, egui::PointerButton::Primary);
    let edited: Vec<Movie> = h.state().movies().to_vec();
    assert!(data.join(JOURNAL_FILE).is_file(), "edits are journalled");

    // Into a new folder.
    let out = tmp.path().join("saved");
    *choice.lock().unwrap() = Some(out.clone());
    h.get_by_label("Save labels…").click();
    settle(&mut h);
    assert_no_errors(&h);
    assert!(h.state().last_saved().is_some());
    assert!(
        !data.join(JOURNAL_FILE).exists(),
        "saved: the journal is cleared"
    );
    let saved = Dataset::load_dir(&out, &|_| {}).unwrap();
    assert!(saved.failures.is_empty());
    assert_eq!(
        saved.movies, edited,
        "read back, the saved folder is the edited movies"
    );
    for file in Dataset::movie_files(&data).unwrap() {
        assert_same_but_labels(&file, &out.join(file.file_name().unwrap()));
    }
    let cli = evaluate_cli(&out);
    let want = metrics_of(&edited, 0.5);
    for (key, v) in [("AP", want.ap), ("mAP", want.map), ("Miou", want.miou)] {
        assert_eq!(cli[key].as_f64(), Some(v), "{key}");
    }
    assert_ne!(
        format!("{:?}", metrics_of(&edited, 0.5)),
        format!(
            "{:?}",
            metrics_of(&Dataset::load_dir(&data, &|_| {}).unwrap().movies, 0.5)
        ),
        "the edits change the scores"
    );

    // In place, after the confirmation: the original is kept once as .orig.
    let t2 = transition_where(&selected(&h), b + 3, false);
    click_at(&mut h, t2, egui::PointerButton::Primary);
    let edited: Vec<Movie> = h.state().movies().to_vec();
    h.get_by_label("Save in place").click();
    settle(&mut h);
    h.get_by_label("Overwrite").click();
    settle(&mut h);
    assert_no_errors(&h);
    let file = data.join(format!("{}.pkl", original.imdb_id));
    let backup = data.join(format!("{}.pkl.orig", original.imdb_id));
    let kept = Movie::from_record(read_record_file(&backup).unwrap()).unwrap();
    assert_eq!(kept, original, "the original is kept beside the file");
    assert_same_but_labels(&backup, &file);
    let reread = Dataset::load_dir(&data, &|_| {}).unwrap();
    assert_eq!(reread.movies, edited);
    assert!(h.state().edit_log().done().is_empty());
    assert!(!data.join(JOURNAL_FILE).exists());
}

#[test]
fn unsaved_edits_are_replayed_from_the_journal_after_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("movies");
    demo_folder(&data);
    let edited = {
        let mut h = open(tmp.path(), &data, Arc::default());
        let original = selected(&h);
        h.get_by_label("Edit labels").click();
        settle(&mut h);
        let t = transition_where(&original, 4, false);
        click_at(&mut h, t, egui::PointerButton::Primary);
        let b = transition_where(&selected(&h), t + 3, true);
        drag_band(&mut h, b, b + 2);
        // Undone, then a new edit: the journal holds the whole history.
        key(&mut h, egui::Modifiers::COMMAND);
        click_at(&mut h, b, egui::PointerButton::Secondary);
        assert_eq!(h.state().edit_log().done().len(), 2);
        h.state().movies().to_vec()
        // The app is dropped here without saving: a crash as far as the files know.
    };
    let files_before = Dataset::load_dir(&data, &|_| {}).unwrap().movies;
    assert_ne!(files_before, edited, "nothing was saved");

    let mut h = open(tmp.path(), &data, Arc::default());
    assert!(h.state().offers_replay());
    // No edit before the prompt is answered.
    h.state_mut().queue(scenelab::app::Action::Edit(
        scenelab::app::edit::EditAction::Toggle(0),
    ));
    settle(&mut h);
    assert_eq!(h.state().errors().len(), 1);
    assert_eq!(h.state().movies(), files_before.as_slice());
    h.state_mut().queue(scenelab::app::Action::DismissAllErrors);
    h.get_by_label("Replay edits").click();
    settle(&mut h);
    assert!(!h.state().offers_replay());
    assert_eq!(h.state().movies(), edited.as_slice());
    assert_eq!(h.state().edit_log().done().len(), 2);
    assert_metrics_follow(&h);
    // Undo reaches back past the crash.
    key(&mut h, egui::Modifiers::COMMAND);
    key(&mut h, egui::Modifiers::COMMAND);
    assert_eq!(h.state().movies(), files_before.as_slice());

    // Discarding forgets the journal.
    drop(h);
    let mut h = open(tmp.path(), &data, Arc::default());
    assert!(h.state().offers_replay());
    h.get_by_label("Discard edits").click();
    settle(&mut h);
    assert_eq!(h.state().movies(), files_before.as_slice());
    assert!(!data.join(JOURNAL_FILE).exists());
}

fn press(h: &mut Harness<'_, App>, key: egui::Key) {
    for pressed in [true, false] {
        h.event(egui::Event::Key {
            key,
            physical_key: None,
            pressed,
            repeat: false,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.step();
    settle(h);
}

#[test]
fn the_review_queue_walks_the_errors_and_keeps_tags_beside_the_data() {
    use scenelab::app::review::ReviewAction;
    use scenelab::eval::review::{ErrorKind, Tag, Verdict};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("movies");
    demo_folder(&data);
    let mut h = open(tmp.path(), &data, Arc::default());
    h.get_by_label("Review errors…").click();
    settle(&mut h);
    let entries = h.state().state.review.entries.clone();
    assert!(entries.len() >= 3, "the demo prediction makes errors");
    // Every false boundary first, highest score first, then the missed ones lowest first.
    let split = entries
        .iter()
        .position(|e| e.kind == ErrorKind::Missed)
        .unwrap_or(entries.len());
    assert!(entries[split..].iter().all(|e| e.kind == ErrorKind::Missed));
    assert!(
        entries[..split]
            .windows(2)
            .all(|w| w[0].score >= w[1].score)
    );
    assert!(
        entries[split..]
            .windows(2)
            .all(|w| w[0].score <= w[1].score)
    );
    // Exactly the timeline's false and missed boundaries, over every movie.
    let threshold = h.state().threshold();
    let want: usize = h
        .state()
        .movies()
        .iter()
        .map(|m| {
            let g = gt(m);
            let s = m.prediction.as_ref().unwrap();
            let t = s.precision().threshold(f64::from(threshold));
            s.values()
                .iter()
                .zip(&g)
                .filter(|(p, b)| (**p >= t) != **b)
                .count()
        })
        .sum();
    assert_eq!(entries.len(), want);

    let check_at = |h: &Harness<'_, App>, k: usize| {
        let e = &entries[k];
        assert_eq!(h.state().selected_index(), Some(e.movie_index));
        assert_eq!(h.state().timeline_cursor(), Some(e.transition));
        let b = *h.state().timeline_transform().unwrap().bounds();
        let view = &h.state().state.view;
        let x = view.transition_x(e.transition);
        assert!(b.min()[0] <= x && x <= b.max()[0], "the error is in view");
        // About ±20 shots (fewer at a movie's ends).
        assert!(b.width() <= 41.0 + 1e-6, "zoomed in: {}", b.width());
        assert!(b.width() >= 20.0, "zoomed in: {}", b.width());
    };
    press(&mut h, egui::Key::N);
    check_at(&h, 0);
    press(&mut h, egui::Key::N);
    check_at(&h, 1);
    press(&mut h, egui::Key::N);
    check_at(&h, 2);
    press(&mut h, egui::Key::P);
    check_at(&h, 1);
    press(&mut h, egui::Key::Enter);
    check_at(&h, 1);

    // A tag is saved beside the data and loaded with it.
    h.get_by_label("label wrong").click();
    settle(&mut h);
    let e = &entries[1];
    let want_tag = Tag {
        verdict: Some(Verdict::LabelWrong),
        note: String::new(),
    };
    assert_eq!(
        h.state().state.review.log.get(&e.movie, e.transition),
        Some(&want_tag)
    );
    h.state_mut()
        .queue(scenelab::app::Action::Review(ReviewAction::Tag {
            movie: entries[0].movie.clone(),
            transition: entries[0].transition,
            tag: Tag {
                verdict: None,
                note: "a fade, \"soft\" cut".into(),
            },
        }));
    settle(&mut h);
    let csv = std::fs::read_to_string(data.join("scenelab-review.csv")).unwrap();
    assert!(csv.contains("label wrong"), "{csv}");
    assert!(csv.contains("\"a fade, \"\"soft\"\" cut\""), "{csv}");
    let saved = h.state().state.review.log.clone();
    drop(h);
    let h = open(tmp.path(), &data, Arc::default());
    assert_eq!(h.state().state.review.log, saved);
}

#[test]
fn a_second_annotators_labels_are_scored_against_the_first_and_their_disagreements_listed() {
    use scenelab::app::review::ReviewAction;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("movies");
    demo_folder(&data);
    // The second annotator: the same movies, a few labels flipped.
    let other = tmp.path().join("annotator2");
    std::fs::create_dir_all(&other).unwrap();
    let mut flipped = 0;
    for file in Dataset::movie_files(&data).unwrap() {
        let mut m = Movie::from_record(read_record_file(&file).unwrap()).unwrap();
        let g = m.ground_truth.as_mut().unwrap();
        for t in (3..g.len()).step_by(17) {
            g[t] = !g[t];
            flipped += 1;
        }
        scenelab::pickle::write_record_file(&other.join(file.file_name().unwrap()), &m.to_record())
            .unwrap();
    }
    let mut h = open(tmp.path(), &data, Arc::default());
    h.state_mut()
        .queue(scenelab::app::Action::Review(ReviewAction::LoadLabels(
            other.clone(),
        )));
    settle(&mut h);
    assert_no_errors(&h);
    assert!(h.state().source_index("labels of annotator2").is_some());
    assert_eq!(
        h.state().state.sources.selected_source().unwrap().name,
        "labels of annotator2"
    );
    let second = Dataset::load_dir(&other, &|_| {}).unwrap().movies;
    let first = h.state().movies().to_vec();
    let as_scores: Vec<Vec<f32>> = second
        .iter()
        .map(|m| gt(m).iter().map(|&b| f32::from(u8::from(b))).collect())
        .collect();
    let inputs: Vec<MovieInput> = first
        .iter()
        .zip(&as_scores)
        .map(|(m, s)| MovieInput::of(m, s.into()).unwrap())
        .collect();
    let want = evaluate(&inputs, 0.5).unwrap();
    let shown = h.state().shown_metrics().expect("metrics");
    assert_eq!(format!("{shown:?}"), format!("{want:?}"));
    assert!(want.f1 < 1.0);
    h.get_by_label("Review errors…").click();
    settle(&mut h);
    assert_eq!(h.state().state.review.entries.len(), flipped);
}

#[test]
fn a_movienet_folder_gets_its_label_files_rewritten_in_place() {
    use scenelab::data::movienet::{MovieNetFiles, write_movie};
    let tmp = tempfile::tempdir().unwrap();
    let pkl = tmp.path().join("pkl");
    demo_folder(&pkl);
    let root = tmp.path().join("movienet");
    for m in Dataset::load_dir(&pkl, &|_| {}).unwrap().movies {
        write_movie(&root, &m).unwrap();
    }
    let mut h = open(tmp.path(), &root, Arc::default());
    let original = selected(&h);
    h.get_by_label("Edit labels").click();
    settle(&mut h);
    let t = transition_where(&original, 2, false);
    click_at(&mut h, t, egui::PointerButton::Secondary);
    let b = transition_where(&selected(&h), t + 3, true);
    click_at(&mut h, b, egui::PointerButton::Primary);
    h.get_by_label("Save in place").click();
    settle(&mut h);
    h.get_by_label("Overwrite").click();
    settle(&mut h);
    assert_no_errors(&h);
    let labels = root.join(MovieNetFiles::LABELS);
    let file = labels.join(format!("{}.txt", original.imdb_id));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("{t:04} -1\n")), "{text}");
    assert!(text.contains(&format!("{b:04} 0\n")), "{text}");
    assert_eq!(text.lines().count(), original.n_transitions());
    let kept = std::fs::read_to_string(labels.join(format!("{}.txt.orig", original.imdb_id)));
    assert!(kept.unwrap().contains(&format!("{b:04} 1\n")));
    let edited = h.state().movies().to_vec();
    assert_eq!(Dataset::load_dir(&root, &|_| {}).unwrap().movies, edited);
}
