//! The app on real folders, through the real loading path: demo movies written by the app,
//! metric labels equal to `scenelab::eval::evaluate` at the threshold the user set, a source
//! toggled in the legend, a folder with broken files, and the folder remembered between runs.

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use app_support::{assert_label, assert_no_errors, harness, picker_answering, settle};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use scenelab::app::metrics::format_metric;
use scenelab::app::{App, AppOptions, startup_action};
use scenelab::data::Dataset;
use scenelab::data::demo::DemoConfig;
use scenelab::eval::{MovieInput, evaluate};

fn small_demo() -> DemoConfig {
    DemoConfig {
        movies: 4,
        seed: 0,
        min_shots: 150,
        max_shots: 400,
    }
}

/// Options whose picker answers with whatever `choice` holds.
fn options(tmp: &Path, choice: Arc<Mutex<Option<PathBuf>>>) -> AppOptions {
    AppOptions {
        picker: picker_answering(choice),
        settings_path: Some(tmp.join("config").join("gui.json")),
        default_dir: tmp.join("data_dir"),
        demo: small_demo(),
    }
}

#[test]
fn demo_folder_metrics_match_evaluate_at_the_chosen_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let choice = Arc::new(Mutex::new(None));
    let mut h = harness(App::new(options(tmp.path(), choice)));
    h.step();
    // The empty state offers demo data; it is written to the default folder and opened.
    h.get_all_by_label("Make demo data").next().unwrap().click();
    settle(&mut h);
    let data_dir = tmp.path().join("data_dir");
    assert_no_errors(&h);
    assert_eq!(h.state().movies().len(), 4);

    // The same movies, loaded independently, scored by the library.
    let dataset = Dataset::load_dir(&data_dir, &|_| {}).unwrap();
    let inputs: Vec<MovieInput<'_>> = dataset
        .movies
        .iter()
        .map(|m| MovieInput::of(m, m.prediction.as_ref().unwrap().as_slice()).unwrap())
        .collect();

    // Select the third movie by clicking it in the list.
    let third = dataset.movies[2].imdb_id.clone();
    h.get_by_label(&third).click();
    settle(&mut h);
    assert_eq!(h.state().selected_movie_id(), Some(third.as_str()));

    // Move the threshold with the slider.
    h.get_by_role_and_label(Role::Slider, "Threshold")
        .set_value_accesskit(0.37);
    settle(&mut h);
    let threshold = h.state().threshold();
    assert_eq!(threshold, 0.37f32);
    let expected = evaluate(&inputs, f64::from(threshold)).unwrap();
    let shown = h
        .state()
        .state
        .current_metrics()
        .expect("metrics for the current threshold")
        .result
        .clone()
        .unwrap();
    assert_eq!(
        shown, expected,
        "the app must score exactly as evaluate does"
    );
    for v in [
        expected.ap,
        expected.map,
        expected.miou,
        expected.precision,
        expected.recall,
        expected.f1,
    ] {
        assert_label(&h, &format_metric(v));
    }
    let one = &expected.per_movie[2];
    assert_eq!(one.imdb_id, third);
    for v in [one.ap, one.miou, one.precision, one.recall, one.f1] {
        assert_label(&h, &format_metric(v));
    }
    // The move mattered: at the default threshold the numbers differ.
    assert_ne!(evaluate(&inputs, 0.5).unwrap(), expected);

    // Toggle the provided predictions off and on in the legend.
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
fn a_folder_with_bad_files_lists_them_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    std::fs::create_dir_all(&movies).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle");
    let mut n_files = 0;
    for e in std::fs::read_dir(&fixtures).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pkl") {
            std::fs::copy(&p, movies.join(p.file_name().unwrap())).unwrap();
            n_files += 1;
        }
    }
    let choice = Arc::new(Mutex::new(Some(movies.clone())));
    let mut h = harness(App::new(options(tmp.path(), choice)));
    h.step();
    h.get_all_by_label("Open folder…").next().unwrap().click();
    settle(&mut h);

    let folder = h.state().state.folder.as_ref().expect("the folder opened");
    let bad: Vec<String> = folder.bad.iter().map(|b| b.file_name()).collect();
    for name in [
        "bad_malicious.pkl",
        "bad_not_a_dict.pkl",
        "bad_truncated.pkl",
    ] {
        assert!(
            bad.contains(&name.to_string()),
            "{name} not listed: {bad:?}"
        );
    }
    assert_eq!(folder.movies.len() + folder.bad.len(), n_files);
    assert!(folder.movies.len() >= 7);
    let errors: Vec<String> = folder.bad.iter().map(|b| b.error.clone()).collect();
    assert_label(&h, &format!("{} files could not be read", bad.len()));
    for (name, error) in bad.iter().zip(&errors) {
        assert_label(&h, name);
        assert_label(&h, error);
    }
    // A movie with a field of the wrong length loads, with that field named as unusable.
    let odd: Vec<&scenelab::data::Movie> = folder
        .movies
        .iter()
        .filter(|m| !m.issues.is_empty())
        .collect();
    assert_eq!(odd.len(), 1, "{odd:?}");
    assert_label(&h, "Movies with fields that cannot be used: 1");
    let issue = odd[0].issues[0].to_string();
    assert!(issue.contains("transition"), "{issue}");
    assert_label(&h, &issue);
    // A movie is shown and scored.
    assert!(h.state().state.selected().is_some());
    assert!(h.state().state.current_metrics().is_some());
}

#[test]
fn first_run_writes_demo_data_and_later_runs_reopen_the_last_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let choice = Arc::new(Mutex::new(None));
    // data_dir/ as shipped: a README and no movies yet.
    let data_dir = tmp.path().join("data_dir");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(data_dir.join("README.md"), "Put movie folders here.\n").unwrap();
    let mut h = harness(App::new(options(tmp.path(), choice.clone())));
    h.state_mut().queue(startup_action(None));
    settle(&mut h);
    assert_eq!(h.state().movies().len(), 4);
    assert!(
        h.state().state.selected().is_some(),
        "a movie shows at once"
    );
    assert_eq!(
        h.state().state.settings.last_folder,
        Some(std::fs::canonicalize(&data_dir).unwrap())
    );

    // Open another folder: demo movies with another seed.
    let other = tmp.path().join("other");
    let config = DemoConfig {
        seed: 9,
        movies: 2,
        ..small_demo()
    };
    scenelab::data::demo::write_demo(&other, &config, &|_, _| {}).unwrap();
    *choice.lock().unwrap() = Some(other.clone());
    h.get_by_label("Open folder…").click();
    settle(&mut h);
    assert_eq!(h.state().movies().len(), 2);

    // A new run without a folder opens the last one.
    let mut h2 = harness(App::new(options(tmp.path(), choice)));
    h2.state_mut().queue(startup_action(None));
    settle(&mut h2);
    let f = h2.state().state.folder.as_ref().unwrap();
    assert_eq!(
        std::fs::canonicalize(&f.dir).unwrap(),
        std::fs::canonicalize(&other).unwrap()
    );
}
