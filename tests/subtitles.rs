//! Subtitles: SubRip files in every encoding MovieNet's come in (UTF-8 with and without BOM,
//! UTF-16 LE with CRLF, UTF-16 BE), an empty and a malformed file, lines mapped to shots at
//! 24 and 23.976 fps, and the app's dialogue strip and panel on a folder with a subtitle file.
//! Every fixture is written by the test.

mod app_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app_support::{
    assert_label, assert_no_errors, harness, harness_with_browser, settle, wait_until,
};
use eframe::egui;
use egui_kittest::kittest::Queryable;
use scenelab::app::picker::{PickOutcome, PickPurpose};
use scenelab::app::{Action, App, AppOptions, XAxis};
use scenelab::data::Dataset;
use scenelab::data::demo::{DemoConfig, write_demo};
use scenelab::data::subtitles::{
    ShotClock, SubtitleError, SubtitleLine, SubtitleSet, decode, read_srt,
};

/// Three cues: a tag to strip, two lines of text, a cue number alone on a text line.
const SRT: &str = "1\n00:00:01,500 --> 00:00:03,250\n<i>Men, are you over 40?</i>\n\n\
                   2\n00:00:04,000 --> 00:00:06,000\nHolà!\nQui est là ?\n\n\n\
                   3\n01:02:03,004 --> 01:02:04,000\n1984\n";

fn expected() -> Vec<SubtitleLine> {
    vec![
        SubtitleLine {
            start: 1.5,
            end: 3.25,
            text: "Men, are you over 40?".into(),
        },
        SubtitleLine {
            start: 4.0,
            end: 6.0,
            text: "Holà!\nQui est là ?".into(),
        },
        SubtitleLine {
            start: 3723.004,
            end: 3724.0,
            text: "1984".into(),
        },
    ]
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    std::iter::once(0xFEFFu16)
        .chain(text.encode_utf16())
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn assert_lines_close(got: &[SubtitleLine], want: &[SubtitleLine]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g.start - w.start).abs() < 1e-9, "{g:?} vs {w:?}");
        assert!((g.end - w.end).abs() < 1e-9, "{g:?} vs {w:?}");
        assert_eq!(g.text, w.text);
    }
}

#[test]
fn every_encoding_reads_to_the_same_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let crlf = SRT.replace('\n', "\r\n");
    let ascii = SRT.replace("Holà!\nQui est là ?", "Hello!\nWho is there?");
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("utf8.srt", SRT.as_bytes().to_vec(), "UTF-8"),
        (
            "utf8_bom.srt",
            [b"\xEF\xBB\xBF".as_slice(), SRT.as_bytes()].concat(),
            "UTF-8",
        ),
        ("utf8_crlf.srt", crlf.as_bytes().to_vec(), "UTF-8"),
        ("utf16le_crlf.srt", utf16(&crlf, false), "UTF-16LE"),
        ("utf16be.srt", utf16(SRT, true), "UTF-16BE"),
        ("ascii.srt", ascii.as_bytes().to_vec(), "ASCII"),
    ];
    for (name, bytes, encoding) in files {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let subs = read_srt(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(subs.encoding, encoding, "{name}");
        assert_eq!(subs.note, None, "{name}");
        let mut want = expected();
        if name == "ascii.srt" {
            want[1].text = "Hello!\nWho is there?".into();
        }
        assert_lines_close(&subs.lines, &want);
    }
    // Latin-1 bytes that are not UTF-8 are read as Windows-1252, with a note.
    let path = tmp.path().join("latin1.srt");
    std::fs::write(&path, b"1\n00:00:01,000 --> 00:00:02,000\nHol\xe0!\n").unwrap();
    let subs = read_srt(&path).unwrap();
    assert_eq!(subs.lines[0].text, "Holà!");
    assert!(subs.note.unwrap().contains("Windows-1252"));
    assert_eq!(decode(b"\xEF\xBB\xBFabc").0, "abc");
}

#[test]
fn an_empty_file_has_no_lines_and_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.srt", b"".as_slice()),
        ("bom_only.srt", b"\xEF\xBB\xBF".as_slice()),
        ("blank.srt", b"\r\n\r\n  \n".as_slice()),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let subs = read_srt(&path).unwrap();
        assert!(subs.lines.is_empty(), "{name}");
        assert!(
            subs.note.as_deref().unwrap().contains("no subtitle lines"),
            "{name}"
        );
    }
}

#[test]
fn a_malformed_file_is_a_clear_error_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "bad_time.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:xx,000 --> 00:00:05,000\nbroken\n",
            5,
            "time line",
        ),
        (
            "no_number.srt",
            "Hello there\nGeneral Kenobi\n",
            1,
            "cue number",
        ),
        (
            "number_only.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n",
            5,
            "without a time line",
        ),
    ];
    for (name, text, line, words) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = read_srt(&path).unwrap_err();
        match &err {
            SubtitleError::Malformed { line: l, .. } => assert_eq!(*l, line, "{name}: {err}"),
            other => panic!("{name}: {other}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(msg.contains(words), "{msg}");
        assert!(msg.contains(&format!("line {line}")), "{msg}");
    }
    // Binary junk is no SubRip either, and does not panic.
    let path = tmp.path().join("junk.srt");
    std::fs::write(&path, [0xFFu8, 0x00, 0x13, 0x37, 0x00, 0x00, 0xC3]).unwrap();
    assert!(read_srt(&path).is_err());
    // A missing file says which.
    let err = read_srt(&tmp.path().join("absent.srt")).unwrap_err();
    assert!(err.to_string().contains("absent.srt"), "{err}");
}

#[test]
fn lines_map_to_shots_through_the_frame_rate() {
    // Shots: frames 0-47, 48-95, 96-239, 240-479.
    let ends = [47i64, 95, 239, 479];
    let at_24 = ShotClock::new(&ends, 24.0).unwrap();
    let at_23976 = ShotClock::new(&ends, 23.976).unwrap();
    assert_eq!(at_24.span(1), (2.0, 4.0));
    assert_eq!(at_24.span(0), (0.0, 2.0));
    // 4.0 s is frame 96 at 24 fps (shot 2), frame 95.904 at 23.976 (still shot 1).
    assert_eq!(at_24.shot_at(4.0), 2);
    assert_eq!(at_23976.shot_at(4.0), 1);
    assert_eq!(at_23976.shot_at(4.01), 2);
    // Before the start and past the end clamp to the first and last shot.
    assert_eq!(at_24.shot_at(-1.0), 0);
    assert_eq!(at_24.shot_at(1e6), 3);
    let line = |start, end| SubtitleLine {
        start,
        end,
        text: String::new(),
    };
    // A line ending exactly on the cut stays in its shot; one running past it reaches the next.
    assert_eq!(at_24.shots_of(&line(2.5, 4.0)), (1, 1));
    assert_eq!(at_24.shots_of(&line(2.5, 4.5)), (1, 2));
    assert_eq!(at_23976.shots_of(&line(2.5, 4.0)), (1, 1));
    assert_eq!(at_23976.shots_of(&line(3.0, 10.5)), (1, 3));
    // On the shot axis a time sits inside its shot in proportion.
    assert!((at_24.shot_position(3.0) - 1.5).abs() < 1e-12);
    assert!((at_24.shot_position(7.0) - (2.0 + 3.0 / 6.0)).abs() < 1e-12);
    assert!(ShotClock::new(&ends, 0.0).is_none());
    assert!(ShotClock::new(&[], 24.0).is_none());
}

#[test]
fn a_subtitle_folder_is_found_in_movienet_layout_or_flat() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("subtitle")).unwrap();
    std::fs::write(tmp.path().join("subtitle").join("tt0000001.srt"), SRT).unwrap();
    std::fs::write(tmp.path().join("tt0000002.srt"), "garbage\n").unwrap();
    let set = SubtitleSet::load(tmp.path(), &["tt0000001", "tt0000002", "tt0000003"]);
    assert_eq!(set.readable(), 1);
    assert_eq!(
        set.get("tt0000001").unwrap().as_ref().unwrap().lines.len(),
        3
    );
    assert!(set.get("tt0000002").unwrap().is_err());
    assert!(set.get("tt0000003").is_none());
}

fn tiny_demo(dir: &Path) {
    let config = DemoConfig {
        movies: 2,
        seed: 3,
        min_shots: 120,
        max_shots: 160,
    };
    write_demo(dir, &config, &|_, _| {}).unwrap();
}

/// One subtitle line in each of the first `n` shots of a movie, timed at 24 fps: the line
/// of shot `k` says `line in shot k`.
fn srt_for(ends: &[i64], n: usize) -> String {
    let clock = ShotClock::new(ends, 24.0).unwrap();
    let stamp = |t: f64| {
        let ms = (t * 1000.0).round() as u64;
        format!(
            "{:02}:{:02}:{:02},{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    (0..n)
        .map(|k| {
            let (s, e) = clock.span(k);
            let (s, e) = (s + (e - s) * 0.25, s + (e - s) * 0.75);
            format!(
                "{}\r\n{} --> {}\r\nline in shot {k}\r\n\r\n",
                k + 1,
                stamp(s),
                stamp(e)
            )
        })
        .collect()
}

fn app_options(tmp: &Path, picker: Arc<dyn scenelab::app::picker::FolderPicker>) -> AppOptions {
    AppOptions {
        picker,
        settings_path: None,
        default_dir: tmp.join("data_dir"),
        demo: DemoConfig {
            movies: 1,
            seed: 0,
            min_shots: 50,
            max_shots: 60,
        },
    }
}

#[test]
fn the_app_shows_a_dialogue_strip_and_the_lines_around_the_shot() {
    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    tiny_demo(&movies);
    let data = Dataset::load_dir(&movies, &|_| {}).unwrap();
    let movie = &data.movies[0];
    let ends = movie.shot_end_frame.clone().unwrap();
    std::fs::create_dir_all(movies.join("subtitle")).unwrap();
    let srt = srt_for(&ends, movie.n_shots);
    std::fs::write(
        movies
            .join("subtitle")
            .join(format!("{}.srt", movie.imdb_id)),
        utf16(&srt, false),
    )
    .unwrap();

    let never = Arc::new(|_: Option<&Path>| PickOutcome::Cancelled);
    let mut app = App::new(app_options(tmp.path(), never));
    app.queue(Action::OpenFolder(movies.clone()));
    let mut h = harness(app);
    settle(&mut h);
    assert_no_errors(&h);
    assert!(h.state_mut().select_movie(&movie.imdb_id));
    settle(&mut h);
    let shown = h.state().shown_dialogue().clone();
    assert_eq!(shown.movie.as_deref(), Some(movie.imdb_id.as_str()));
    assert_eq!(shown.marks, movie.n_shots, "{shown:?}");
    assert_eq!(shown.note, None);
    // Nothing hovered: the panel says how to read it.
    assert_eq!(shown.transition, None);

    // The keyboard moves to the first boundary: the panel shows that cut's both sides.
    h.key_press(egui::Key::ArrowRight);
    settle(&mut h);
    let cut = h.state().timeline_cursor().expect("a boundary to jump to");
    let shown = h.state().shown_dialogue().clone();
    assert_eq!(shown.transition, Some(cut));
    let last_before = shown.before.last().expect("lines before the cut");
    assert!(
        last_before.ends_with(&format!("shot {cut}: line in shot {cut}")),
        "{shown:?}"
    );
    let first_after = shown.after.first().expect("lines after the cut");
    assert!(
        first_after.ends_with(&format!("shot {}: line in shot {}", cut + 1, cut + 1)),
        "{shown:?}"
    );
    assert_label(&h, last_before);
    assert_label(&h, first_after);
    assert!(
        h.query_all_by_label_contains(&format!("Dialogue around the cut after shot {cut}"))
            .count()
            >= 1
    );

    // On the time axis the same lines sit on the same shots.
    let (before, after) = (shown.before.clone(), shown.after.clone());
    // Queued as the Time button does.
    h.state_mut().queue(Action::SetAxis(XAxis::Time));
    settle(&mut h);
    assert_eq!(h.state().shown_dialogue().marks, movie.n_shots);
    h.key_press(egui::Key::ArrowRight);
    settle(&mut h);
    assert_eq!(h.state().timeline_cursor(), Some(cut));
    let shown = h.state().shown_dialogue().clone();
    assert_eq!((shown.before, shown.after), (before, after));

    // Back on the shot axis (where a new frame rate keeps the view and the cursor).
    h.state_mut().queue(Action::SetAxis(XAxis::Shot));
    settle(&mut h);
    h.key_press(egui::Key::ArrowRight);
    settle(&mut h);
    assert_eq!(h.state().timeline_cursor(), Some(cut));

    // The lines were timed at 24 fps; at 12 fps every time lands on a shot about twice as
    // far in, so the line after the cut is no longer that of the next shot.
    h.state_mut().queue(Action::SetFps(12.0));
    settle(&mut h);
    let shown = h.state().shown_dialogue().clone();
    assert_eq!(shown.transition, Some(cut));
    assert!(
        !shown.after[0].ends_with(&format!("line in shot {}", cut + 1)),
        "{shown:?}"
    );
    // The other movie keeps the default.
    let other = data.movies[1].imdb_id.clone();
    assert!(h.state_mut().select_movie(&other));
    settle(&mut h);
    assert_eq!(h.state().state.fps_of(&data.movies[1]), 24.0);
    assert_eq!(h.state().state.fps_of(movie), 12.0);
}

#[test]
fn subtitles_from_a_chosen_folder_replace_none() {
    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    tiny_demo(&movies);
    let data = Dataset::load_dir(&movies, &|_| {}).unwrap();
    let subs_dir = tmp.path().join("subs");
    std::fs::create_dir_all(&subs_dir).unwrap();
    for m in &data.movies {
        let ends = m.shot_end_frame.clone().unwrap();
        std::fs::write(
            subs_dir.join(format!("{}.srt", m.imdb_id)),
            srt_for(&ends, 5),
        )
        .unwrap();
    }
    let chosen = subs_dir.clone();
    let picker = Arc::new(move |_: Option<&Path>| PickOutcome::Picked(chosen.clone()));
    let mut app = App::new(app_options(tmp.path(), picker));
    app.queue(Action::OpenFolder(movies.clone()));
    let mut h = harness(app);
    settle(&mut h);
    assert_eq!(h.state().shown_dialogue().marks, 0);
    h.get_by_label("Subtitles…").click();
    settle(&mut h);
    assert_no_errors(&h);
    assert_eq!(h.state().shown_dialogue().marks, 5);
}

#[test]
fn without_a_system_dialog_the_in_app_browser_opens_and_its_choice_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    tiny_demo(&movies);
    let unavailable =
        Arc::new(|_: Option<&Path>| PickOutcome::Unavailable("no portal in this test".into()));
    let mut options = app_options(tmp.path(), unavailable);
    // The browser starts in the default folder when nothing is open: here the parent.
    options.default_dir = tmp.path().to_path_buf();
    let mut h = harness_with_browser(App::new(options));
    h.run();
    // The top bar's button (the empty state has one too).
    h.query_all_by_label("Open folder…").next().unwrap().click();
    wait_until(
        &mut h,
        Duration::from_secs(30),
        "the in-app browser did not open",
        |app| app.browser_purpose().is_some(),
    );
    h.run();
    assert_eq!(h.state().browser_purpose(), Some(PickPurpose::OpenMovies));
    assert_label(&h, scenelab::app::browser::CHOOSE);
    // Select the movies folder in the list, then choose it.
    h.get_by_label("🗀 movies").click();
    h.run();
    h.get_by_label(scenelab::app::browser::CHOOSE).click();
    settle(&mut h);
    assert_eq!(h.state().browser_purpose(), None);
    assert_no_errors(&h);
    let open = h.state().state.folder.as_ref().expect("the folder opened");
    assert_eq!(open.dir, movies);
    assert_eq!(open.movies.len(), 2);
}

#[test]
fn the_fonts_draw_the_browser_icons_and_music_notes() {
    // The harness panics on a glyph no font has; the browser's icons and the ♪ that marks
    // sung lines need egui's emoji fonts.
    let mut h = egui_kittest::Harness::builder().build_ui(|ui| {
        ui.label("🗀 🗋 📁 ⬆ ⟲ ♪ Holà");
    });
    h.run();
    assert!(h.query_by_label("🗀 🗋 📁 ⬆ ⟲ ♪ Holà").is_some());
}
