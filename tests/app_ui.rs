//! The app's interactions on movies built in code: selection by click and keyboard, the
//! threshold slider, toggling a source in the legend, boundary jumps, the empty state and an
//! injected folder picker. No display or GPU needed.

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use app_support::{assert_label, harness, harness_with_browser, settle};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use scenelab::app::loader::LoadedFolder;
use scenelab::app::metrics::format_metric;
use scenelab::app::picker::PickOutcome;
use scenelab::app::{App, AppOptions, first_run_demo};
use scenelab::data::{Movie, Scores};

/// A movie of `n` shots with a boundary every 7-16 shots and scores that mostly agree.
fn synthetic_movie(id: &str, n: usize, seed: u64) -> Movie {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 33) as f64) / f64::from(1u32 << 31)
    };
    let mut gt = vec![false; n - 1];
    let mut i = 7 + (next() * 9.0) as usize;
    while i < n - 1 {
        gt[i] = true;
        i += 7 + (next() * 9.0) as usize;
    }
    let prediction: Vec<f32> = gt
        .iter()
        .map(|&b| {
            let base = if b { 0.65 } else { 0.15 };
            (base + (next() - 0.5) * 0.6).clamp(0.0, 1.0) as f32
        })
        .collect();
    let mut frame = -1i64;
    let ends = (0..n)
        .map(|_| {
            frame += 20 + (next() * 150.0) as i64;
            frame
        })
        .collect();
    Movie {
        imdb_id: id.into(),
        n_shots: n,
        features: Default::default(),
        ground_truth: Some(gt),
        prediction: Some(Scores::from_f32(&prediction)),
        shot_end_frame: Some(ends),
        uncertain: Vec::new(),
        issues: Vec::new(),
        notes: Vec::new(),
    }
}

fn options(picker: impl Fn(Option<&Path>) -> PickOutcome + Send + Sync + 'static) -> AppOptions {
    AppOptions {
        picker: Arc::new(picker),
        settings_path: None,
        default_dir: PathBuf::from("/nonexistent/scenelab-test-default"),
        demo: first_run_demo(),
    }
}

fn three_movies() -> LoadedFolder {
    LoadedFolder::new(
        PathBuf::from("/in/memory"),
        vec![
            synthetic_movie("tt0000003", 300, 3),
            synthetic_movie("tt0000001", 250, 1),
            synthetic_movie("tt0000002", 400, 2),
        ],
        Vec::new(),
    )
}

#[test]
fn selection_follows_clicks_and_arrow_keys_in_list_order() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    // The list sorts by id, and the first listed movie is shown at once.
    assert_eq!(h.state().listed_movies(), &[1, 2, 0]);
    assert_eq!(h.state().selected_index(), Some(1));

    h.get_by_label("tt0000003").click();
    h.step();
    h.step();
    assert_eq!(h.state().selected_index(), Some(0));

    h.key_press(egui::Key::ArrowUp);
    h.step();
    h.step();
    assert_eq!(h.state().selected_index(), Some(2), "up goes to tt0000002");
    h.key_press(egui::Key::ArrowUp);
    h.step();
    h.step();
    assert_eq!(h.state().selected_index(), Some(1));
    h.key_press(egui::Key::ArrowUp);
    h.step();
    h.step();
    assert_eq!(h.state().selected_index(), Some(1), "stays at the top");
    h.key_press(egui::Key::ArrowDown);
    h.step();
    h.step();
    assert_eq!(h.state().selected_index(), Some(2));
}

#[test]
fn arrow_keys_jump_between_boundaries() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    let events = h.state().state.view.events.clone();
    assert!(events.len() > 3);
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().timeline_cursor(), Some(events[0]));
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().timeline_cursor(), Some(events[1]));
    h.key_press(egui::Key::ArrowLeft);
    h.step();
    assert_eq!(h.state().timeline_cursor(), Some(events[0]));
}

#[test]
fn the_threshold_slider_moves_predicted_boundaries() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    let before = h.state().state.view.predicted.len();
    h.get_by_role_and_label(Role::Slider, "Threshold")
        .set_value_accesskit(0.3);
    h.step();
    h.step();
    assert_eq!(h.state().threshold(), 0.3f32);
    let movie = h.state().state.selected().unwrap().clone();
    let expected = movie
        .prediction
        .as_ref()
        .unwrap()
        .values()
        .iter()
        .filter(|&&p| p >= f64::from(0.3f32))
        .count();
    assert_eq!(h.state().state.view.predicted.len(), expected);
    assert!(
        expected > before,
        "a lower threshold predicts more boundaries"
    );
}

#[test]
fn the_legend_toggles_a_source() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    assert!(h.state().state.sources.get(0).unwrap().visible);
    h.get_by_role_and_label(Role::CheckBox, "provided").click();
    h.step();
    h.step();
    assert!(!h.state().state.sources.get(0).unwrap().visible);
    h.get_by_role_and_label(Role::CheckBox, "provided").click();
    h.step();
    h.step();
    assert!(h.state().state.sources.get(0).unwrap().visible);
}

#[test]
fn empty_state_offers_actions_and_a_missing_dialog_opens_the_in_app_browser() {
    let app = App::new(options(|_| {
        PickOutcome::Unavailable("No folder dialog can open here".into())
    }));
    let mut h = harness_with_browser(app);
    h.step();
    h.get_by_label("No movies open");
    assert!(h.query_all_by_label("Make demo data").count() >= 1);
    h.get_all_by_label("Open folder…").next().unwrap().click();
    settle(&mut h);
    assert_eq!(
        h.state().browser_purpose(),
        Some(scenelab::app::picker::PickPurpose::OpenMovies)
    );
    assert!(h.query_by_label("Or type a path").is_some());
    assert!(
        h.query_by_label_contains("No folder dialog can open here")
            .is_some()
    );
    assert!(h.state().state.folder.is_none());
}

#[test]
fn a_folder_that_cannot_be_read_shows_an_error_not_a_crash() {
    let app = App::new(options(|_| {
        PickOutcome::Picked(PathBuf::from("/nonexistent/scenelab/folder"))
    }));
    let mut h = harness(app);
    h.step();
    h.get_all_by_label("Open folder…").next().unwrap().click();
    settle(&mut h);
    assert!(h.state().state.folder.is_none());
    assert_eq!(h.state().errors().len(), 1);
    assert!(h.query_by_label_contains("cannot read folder").is_some());
    h.get_by_label("Dismiss").click();
    h.step();
    h.step();
    assert!(h.state().errors().is_empty());
}

#[test]
fn dragging_the_threshold_line_sets_the_threshold_and_hover_names_the_shot() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    let t = h.state().timeline_transform().expect("the plot was drawn");
    let x = t.frame().center().x;
    let at = |v: f64| egui::pos2(x, t.position_from_point_y(v));
    let press = |pos: egui::Pos2, pressed: bool| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    let bounds_before = *t.bounds();

    h.event(egui::Event::PointerMoved(at(0.5)));
    h.step();
    h.event(press(at(0.5), true));
    h.step();
    for v in [0.45, 0.35, 0.25] {
        h.event(egui::Event::PointerMoved(at(v)));
        h.step();
    }
    h.event(press(at(0.25), false));
    h.step();
    h.step();
    let threshold = h.state().threshold();
    assert!((threshold - 0.25).abs() < 0.01, "threshold {threshold}");
    assert_eq!(
        threshold,
        (threshold * 1000.0).round() / 1000.0,
        "rounded to 0.001"
    );
    let bounds_after = *h.state().timeline_transform().unwrap().bounds();
    assert_eq!(
        bounds_before.min()[0],
        bounds_after.min()[0],
        "the plot did not pan"
    );

    // Hovering names the shot under the pointer and every source's score.
    h.event(egui::Event::PointerMoved(at(0.8)));
    h.step();
    h.step();
    let x_value = t.value_from_position(at(0.8)).x;
    let shot = h.state().state.view.shot_at(x_value).unwrap();
    assert!(
        h.query_all_by_label_contains(&format!("Shot {shot} "))
            .count()
            >= 1,
        "no hover text for shot {shot}"
    );
    assert!(h.query_all_by_label_contains("provided: ").count() >= 1);
}

#[test]
fn the_mouse_wheel_zooms_the_timeline_around_the_pointer_and_not_past_the_movie() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    let t = h.state().timeline_transform().expect("the plot was drawn");
    let full = *t.bounds();
    let pointer = egui::pos2(
        t.frame().left() + 0.25 * t.frame().width(),
        t.frame().center().y,
    );
    let x_under_pointer = t.value_from_position(pointer).x;
    let wheel = |dy: f32| egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, dy),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(egui::Event::PointerMoved(pointer));
    h.step();
    h.event(wheel(100.0));
    for _ in 0..30 {
        h.step();
    }
    let zoomed = h.state().timeline_transform().unwrap();
    assert!(
        zoomed.bounds().width() < 0.8 * full.width(),
        "zoomed in: {} of {}",
        zoomed.bounds().width(),
        full.width()
    );
    let still_under = zoomed.value_from_position(pointer).x;
    assert!(
        (still_under - x_under_pointer).abs() < 0.02 * full.width(),
        "the point under the pointer stays put: {x_under_pointer} -> {still_under}"
    );
    h.event(wheel(-2000.0));
    for _ in 0..30 {
        h.step();
    }
    let out = *h.state().timeline_transform().unwrap().bounds();
    assert_eq!(
        (out.min()[0], out.max()[0]),
        (full.min()[0], full.max()[0]),
        "zooming out stops at the whole movie"
    );
}

#[test]
fn the_test_api_selects_by_id_and_reads_what_the_panels_show() {
    let mut app = App::new(options(|_| PickOutcome::Cancelled));
    app.open_loaded(three_movies());
    let mut h = harness(app);
    settle(&mut h);
    assert_eq!(h.state().selected_movie_id(), Some("tt0000001"));
    // An id the folder does not hold queues nothing.
    assert!(!h.state_mut().select_movie("tt9999999"));
    assert!(h.state_mut().select_movie("tt0000002"));
    settle(&mut h);
    assert_eq!(h.state().selected_movie_id(), Some("tt0000002"));
    assert_eq!(h.state().selected_index(), Some(2));
    assert_eq!(h.state().movies().len(), 3);
    assert_eq!(h.state().source_index("provided"), Some(0));
    assert!(!h.state().is_busy());
    assert!(h.state().errors().is_empty());
    // The totals the panel shows, at the threshold the top bar shows.
    let shown = h
        .state()
        .shown_metrics()
        .expect("metrics once settled")
        .clone();
    assert_eq!(h.state().threshold(), scenelab::app::DEFAULT_THRESHOLD);
    assert_label(&h, &format_metric(shown.miou));
}

#[test]
fn a_long_error_wraps_inside_the_window() {
    let app = App::new(options(|_| PickOutcome::Cancelled));
    let mut h = harness(app);
    h.step();
    let advice = "score this movie with a model trained on features like its own";
    let long = format!(
        "{}{advice}",
        "movie 'tt0000001' has 512 'action' columns, ".repeat(8)
    );
    h.state_mut().state.push_error(long);
    h.step();
    h.step();
    let label = h.get_by_label_contains(advice);
    let width = 1600.0;
    let rect = label.rect();
    assert!(
        rect.right() <= width && rect.height() > 20.0,
        "the error runs to x {} ({} high) in a {width}-wide window",
        rect.right(),
        rect.height()
    );
}
