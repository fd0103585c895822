//! `scenelab demo` writes into an empty or new folder, or one without movies (a README is
//! fine), and refuses a folder that holds movies (pkl files or MovieNet's layout) rather than
//! mixing two data sets; the size it reports is that of the files it wrote.

use std::path::Path;
use std::process::Command;

use scenelab::data::demo::{DemoConfig, ExistingMovies, existing_movies, write_demo};

/// Run `scenelab demo --out OUT` with small movies and `extra` flags: whether it succeeded,
/// and its stderr.
fn demo(out: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["demo", "--out"])
        .arg(out)
        .args(["--movies", "2", "--min-shots", "20", "--max-shots", "40"])
        .args(extra)
        .output()
        .expect("run scenelab");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file under `dir` with its bytes, by path.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The size in `wrote N movies (X MB)`, in MB.
fn reported_mb(stderr: &str) -> f64 {
    let (_, rest) = stderr.split_once("movies (").expect(stderr);
    let (mb, _) = rest.split_once(" MB)").expect(stderr);
    mb.parse().unwrap()
}

/// Total bytes of the files of `dir` but `README.md`, in MB.
fn movie_mb(dir: &Path) -> f64 {
    let bytes: usize = files(dir)
        .iter()
        .filter(|(name, _)| name != "README.md")
        .map(|(_, b)| b.len())
        .sum();
    bytes as f64 / 1e6
}

#[test]
fn a_folder_with_a_readme_gets_demo_movies_and_the_size_written() {
    let tmp = tempfile::tempdir().unwrap();
    for layout in ["pkl", "movienet"] {
        let out = tmp.path().join(layout);
        std::fs::create_dir_all(&out).unwrap();
        // A README as big as the movies would double the size if the folder were counted.
        std::fs::write(out.join("README.md"), vec![b'#'; 3_000_000]).unwrap();
        let (ok, stderr) = demo(&out, &["--layout", layout]);
        assert!(ok, "{layout}: {stderr}");
        assert!(stderr.contains("wrote 2 movies"), "{stderr}");
        let written = movie_mb(&out);
        assert!(written > 0.1, "{layout}: {written} MB");
        assert!(
            (reported_mb(&stderr) - written).abs() <= 0.05,
            "{layout}: reported {stderr}, wrote {written:.2} MB"
        );
    }
    // A folder that does not exist yet is made.
    let (ok, stderr) = demo(&tmp.path().join("new/deeper"), &[]);
    assert!(ok, "{stderr}");
}

#[test]
fn a_folder_with_movies_is_refused_and_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let pkl = tmp.path().join("pkl");
    let movienet = tmp.path().join("movienet");
    assert!(demo(&pkl, &[]).0);
    assert!(demo(&movienet, &["--layout", "movienet"]).0);
    for (dir, what) in [
        (&pkl, "2 movie files (.pkl), tt9000000.pkl the first"),
        (&movienet, "MovieNet's layout (label318/, shot_movie318/"),
    ] {
        let before = files(dir);
        // Another seed: the refusal does not depend on what would be written.
        for layout in ["pkl", "movienet"] {
            let (ok, stderr) = demo(dir, &["--layout", layout, "--seed", "3"]);
            assert!(!ok, "{layout} into {}: {stderr}", dir.display());
            for part in [what, "--out", "empty or new folder", "delete those movies"] {
                assert!(stderr.contains(part), "{part:?} missing in: {stderr}");
            }
        }
        assert!(files(dir) == before, "{} was changed", dir.display());
    }
}

#[test]
fn existing_movies_are_pkl_files_or_movienet_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert_eq!(existing_movies(&dir), None, "a folder that does not exist");
    std::fs::create_dir_all(dir.join("subtitle")).unwrap();
    std::fs::write(dir.join("README.md"), "data").unwrap();
    std::fs::write(dir.join("tt0000001.srt"), "1\n").unwrap();
    assert_eq!(existing_movies(&dir), None, "a README and subtitles");
    // An empty feature folder holds nothing yet.
    std::fs::create_dir_all(dir.join("place_feat")).unwrap();
    assert_eq!(existing_movies(&dir), None);

    std::fs::create_dir_all(dir.join("place_feat/tt0000001")).unwrap();
    assert_eq!(
        existing_movies(&dir),
        Some(ExistingMovies::MovieNet {
            folders: vec!["place_feat".into()]
        })
    );
    std::fs::create_dir_all(dir.join("label318")).unwrap();
    std::fs::write(dir.join("label318/tt0000001.txt"), "0000 0\n").unwrap();
    assert_eq!(
        existing_movies(&dir),
        Some(ExistingMovies::MovieNet {
            folders: vec!["label318".into(), "place_feat".into()]
        })
    );

    // Any pkl file loads as a movie, so any counts.
    let pkl = tmp.path().join("pkl");
    write_demo(
        &pkl,
        &DemoConfig {
            movies: 1,
            seed: 2,
            min_shots: 10,
            max_shots: 10,
        },
        &|_, _| {},
    )
    .unwrap();
    std::fs::write(pkl.join("notes.PKL"), b"").unwrap();
    let found = existing_movies(&pkl).unwrap();
    assert_eq!(
        found,
        ExistingMovies::Pkl {
            count: 2,
            first: "notes.PKL".into()
        }
    );
    assert_eq!(
        found.to_string(),
        "2 movie files (.pkl), notes.PKL the first"
    );
}

#[test]
fn a_file_given_as_the_folder_is_named_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("afile");
    std::fs::write(&file, "not a folder").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .args(["demo", "--movies", "1", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("is a file: give --out a folder"),
        "{stderr}"
    );
}
