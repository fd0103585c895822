//! The fuzz target's property on every regular test run: every pickle fixture under
//! `tests/fixtures`, the fuzz seeds (the fixtures' first 16 KiB, as `fuzz/seed.sh` writes them,
//! and the committed corpus in `fuzz/seeds/read_record`) and a few thousand deterministic
//! mutations of them go through [`scenelab_pickle::fuzz::check`], the function the fuzz target
//! `fuzz/fuzz_targets/read_record.rs` calls. A real fuzz run: see `fuzz/README.md`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use scenelab_pickle::fuzz::check;

/// Mutated inputs per run: a few seconds in a debug build.
const MUTATIONS: usize = 4000;
/// Fuzz seeds are cut to this length, as `fuzz/seed.sh` cuts them.
const SEED_LEN: usize = 16 * 1024;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` whose name ends with one of `exts` (all files for `None`), sorted.
fn files(dir: &Path, exts: Option<&[&str]>, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files(&p, exts, out);
        } else if exts.is_none_or(|exts| {
            p.extension()
                .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
        }) {
            out.push(p);
        }
    }
}

/// `(name, bytes)` of every pickle fixture, whole.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = repo().join("tests/fixtures");
    let mut paths = Vec::new();
    files(&root, Some(&["pkl", "pt", "pth"]), &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap().display().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The fuzz seeds: each fixture's first 16 KiB, then the committed corpus.
fn seeds(fixtures: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut seeds: Vec<(String, Vec<u8>)> = fixtures
        .iter()
        .map(|(name, bytes)| {
            let head = &bytes[..bytes.len().min(SEED_LEN)];
            (format!("{name} (first 16 KiB)"), head.to_vec())
        })
        .collect();
    let root = repo().join("fuzz/seeds/read_record");
    let mut paths = Vec::new();
    files(&root, None, &mut paths);
    seeds.extend(paths.into_iter().map(|p| {
        let name = format!(
            "fuzz/seeds/read_record/{}",
            p.file_name().unwrap().display()
        );
        (name, std::fs::read(&p).unwrap())
    }));
    seeds
}

/// SplitMix64: a fixed seed gives the same mutations on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Opcodes that change the machine's structure (marks, memo, frames, calls, containers).
const OPCODES: &[u8] = b"(.02qhj\x94\x95Rbt]}eus\x85\x86\x87X\x8c\x8dBCc\x93Q\x8a\x8bJKM\x88\x89N";
/// Claimed sizes and counts at the edges.
const SIZES: &[u32] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    u32::MAX,
];

/// One random edit of `data`: a bit flip, an interesting byte or 4-byte size, a truncation,
/// inserted random bytes or an opcode, a deleted range or a copied range.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>) {
    if data.is_empty() {
        data.push(OPCODES[rng.below(OPCODES.len())]);
        return;
    }
    let at = rng.below(data.len());
    match rng.below(8) {
        0 => data[at] ^= 1 << rng.below(8),
        1 => data[at] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)],
        2 => {
            let size = SIZES[rng.below(SIZES.len())].to_le_bytes();
            let end = (at + 4).min(data.len());
            data[at..end].copy_from_slice(&size[..end - at]);
        }
        3 => data.truncate(at),
        4 => {
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        5 => data.insert(at, OPCODES[rng.below(OPCODES.len())]),
        6 => {
            let end = (at + 1 + rng.below(64)).min(data.len());
            data.drain(at..end);
        }
        _ => {
            let end = (at + 1 + rng.below(64)).min(data.len());
            let chunk = data[at..end].to_vec();
            let to = rng.below(data.len() + 1);
            data.splice(to..to, chunk);
        }
    }
}

/// Inputs run, and how many of them were accepted.
struct Tally {
    run: usize,
    accepted: usize,
}

/// Run `check` on each input; on failure keep the input under the temporary folder and name it.
fn run(inputs: impl IntoIterator<Item = (String, Vec<u8>)>) -> Tally {
    let mut failures = Vec::new();
    let mut tally = Tally {
        run: 0,
        accepted: 0,
    };
    for (name, data) in inputs {
        tally.run += 1;
        match catch_unwind(AssertUnwindSafe(|| check(&data))) {
            Ok(accepted) => tally.accepted += usize::from(accepted),
            Err(_) => {
                let dir = std::env::temp_dir().join("scenelab-fuzz-failures");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("failure-{}", failures.len()));
                std::fs::write(&path, &data).unwrap();
                failures.push(format!("{name} (saved as {})", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs fail the fuzz check:\n{}",
        failures.len(),
        tally.run,
        failures.join("\n")
    );
    tally
}

/// One input per seed, with one to four edits, named for a failure message.
fn mutations(
    rng: &mut Rng,
    seeds: &[(String, Vec<u8>)],
    start: usize,
    n: usize,
) -> Vec<(String, Vec<u8>)> {
    (start..start + n)
        .map(|i| {
            let (name, base) = &seeds[rng.below(seeds.len())];
            let mut data = base.clone();
            let edits = 1 + rng.below(4);
            for _ in 0..edits {
                mutate_once(rng, &mut data);
            }
            (format!("mutation {i} ({edits} edits) of {name}"), data)
        })
        .collect()
}

#[test]
fn every_fixture_passes_the_fuzz_check() {
    let fixtures = fixtures();
    // pickle/, metrics/pkl/ and realworld/ (the matrix alone has hundreds): a moved folder
    // must not leave this test with nothing to read.
    assert!(fixtures.len() >= 300, "only {} fixtures", fixtures.len());
    for dir in ["pickle/", "metrics/", "realworld/matrix/"] {
        assert!(fixtures.iter().any(|(n, _)| n.starts_with(dir)), "{dir}");
    }
    let tally = run(fixtures);
    // Most fixtures are good files, so the write → read half of the check runs on them.
    assert!(
        tally.accepted * 2 > tally.run,
        "{} of {}",
        tally.accepted,
        tally.run
    );
}

#[test]
fn the_fuzz_seeds_pass_the_fuzz_check() {
    let seeds = seeds(&fixtures());
    let committed = seeds.iter().filter(|(n, _)| n.starts_with("fuzz/")).count();
    assert!(
        committed >= 50,
        "only {committed} seeds in fuzz/seeds/read_record"
    );
    run(seeds);
}

/// Mutations of the seeds: a fixed number, or for `SCENELAB_FUZZ_SECS` seconds when set (a
/// long run without libFuzzer; `SCENELAB_FUZZ_SEED` picks another sequence).
#[test]
fn seeded_mutations_pass_the_fuzz_check() {
    let seeds = seeds(&fixtures());
    let secs: Option<u64> = std::env::var("SCENELAB_FUZZ_SECS").ok().map(|s| {
        s.parse()
            .expect("SCENELAB_FUZZ_SECS is a number of seconds")
    });
    let seed: u64 = std::env::var("SCENELAB_FUZZ_SEED")
        .map(|s| s.parse().expect("SCENELAB_FUZZ_SEED is a number"))
        .unwrap_or(0x5ce7_e1ab);
    let mut rng = Rng(seed);
    match secs {
        None => {
            let tally = run(mutations(&mut rng, &seeds, 0, MUTATIONS));
            // Both halves of the check run: some edits leave a readable file, most do not.
            assert!(
                tally.accepted > MUTATIONS / 100 && tally.accepted < MUTATIONS / 2,
                "{} of {MUTATIONS} mutations accepted",
                tally.accepted
            );
        }
        Some(secs) => {
            let end = Instant::now() + Duration::from_secs(secs);
            let (mut done, mut accepted) = (0, 0);
            while Instant::now() < end {
                let tally = run(mutations(&mut rng, &seeds, done, 1000));
                done += tally.run;
                accepted += tally.accepted;
            }
            eprintln!("{done} mutations in {secs} s ({accepted} accepted), none failed");
        }
    }
}
