//! Driving the app in tests: a window-sized harness, waiting for background work, pickers
//! that answer as told, label checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scenelab::app::App;
use scenelab::app::picker::{FolderPicker, PickOutcome};

/// The app in a 1600 × 1000 window.
pub fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut App| app.ui_inner(ui), app)
}

/// [`harness`] for tests that open the app's own folder browser: `egui_file`'s path and name
/// fields have no accessible name (the crate's, not the app's), so the check that every widget
/// has one is off.
pub fn harness_with_browser(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut App| app.ui_inner(ui), app)
}

/// Step until background work is done and the UI shows its result, failing after `limit`.
pub fn settle_within(h: &mut Harness<'_, App>, limit: Duration) {
    let start = Instant::now();
    loop {
        h.step();
        if h.state().is_settled() {
            break;
        }
        assert!(start.elapsed() < limit, "the app did not settle");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Until the UI stops asking for frames; this also checks that every widget on screen has
    // an accessible name.
    h.run();
}

/// [`settle_within`] a generous limit: shared machines are slow, not broken.
pub fn settle(h: &mut Harness<'_, App>) {
    settle_within(h, Duration::from_secs(300));
}

/// A folder picker that answers with whatever `choice` holds at the time (cancels on `None`).
pub fn picker_answering(choice: Arc<Mutex<Option<PathBuf>>>) -> Arc<dyn FolderPicker> {
    Arc::new(
        move |_: Option<&Path>| match choice.lock().unwrap().clone() {
            Some(p) => PickOutcome::Picked(p),
            None => PickOutcome::Cancelled,
        },
    )
}

pub fn assert_label(h: &Harness<'_, App>, text: &str) {
    assert!(
        h.query_all_by_label(text).count() >= 1,
        "no label reads '{text}'"
    );
}

/// Step until `done` holds of the app (a job reported something, a row appeared), failing
/// with `what` after `limit`. Unlike [`settle`] it does not wait for the jobs to end.
pub fn wait_until(
    h: &mut Harness<'_, App>,
    limit: Duration,
    what: &str,
    done: impl Fn(&App) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(start.elapsed() < limit, "{what}");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The error area is empty.
pub fn assert_no_errors(h: &Harness<'_, App>) {
    let errors = h.state().errors();
    assert!(errors.is_empty(), "{errors:?}");
}
