//! `cargo bench --bench eval`: scoring 64 synthetic movies of 3000 shots (the size of the
//! challenge set, a little larger) with curves and a 101-threshold sweep. Prints the median
//! of several runs per step.
//!
//! Side by side with the reference: `SCENELAB_EVAL_DUMP=movies.json cargo bench --bench eval`
//! also writes the movies and SceneLab's totals, and `python3 benches/reference_eval.py
//! movies.json REF_DIR` times `evaluate_sceneseg.py` (and the notebook way of getting curves and
//! a sweep from it) on the same movies and checks the totals agree.

use std::hint::black_box;
use std::time::{Duration, Instant};

use scenelab::eval::{Evaluator, MovieInput, Sweep, evaluate, report};

const MOVIES: usize = 64;
const SHOTS: usize = 3000;
const RUNS: usize = 15;

struct Movie {
    id: String,
    gt: Vec<bool>,
    scores: Vec<f32>,
    frames: Vec<i64>,
}

/// Movies like the real ones: 7.65% boundaries, low scores on most transitions and higher
/// ones near boundaries, ~111 frames per shot.
fn synthetic() -> Vec<Movie> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..MOVIES)
        .map(|k| {
            let gt: Vec<bool> = (0..SHOTS - 1).map(|_| uniform() < 0.0765).collect();
            let scores = gt
                .iter()
                .map(|&g| {
                    let noise = uniform() * uniform() * 0.8;
                    (noise + if g { 0.5 * uniform() } else { 0.0 }).min(1.0) as f32
                })
                .collect();
            let mut f = 0i64;
            let frames = (0..SHOTS)
                .map(|_| {
                    f += 1 + (uniform() * 220.0) as i64;
                    f
                })
                .collect();
            Movie {
                id: format!("tt{:07}", k),
                gt,
                scores,
                frames,
            }
        })
        .collect()
}

/// CPU time used so far by all threads of this process (Linux: the sum of
/// `/proc/self/task/*/schedstat`), which, unlike wall time, does not grow when other
/// processes compete for the cores.
fn process_cpu() -> Option<Duration> {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

struct Timing {
    median: Duration,
    min: Duration,
    /// CPU time per run, all threads together.
    cpu: Option<Duration>,
}

/// Median and fastest wall time of `RUNS` runs after one warm-up run, and CPU time per run.
fn measure(mut f: impl FnMut()) -> Timing {
    f(); // warm-up
    let cpu_before = process_cpu();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| (after.saturating_sub(before)) / RUNS as u32);
    times.sort();
    Timing {
        median: times[RUNS / 2],
        min: times[0],
        cpu,
    }
}

/// The movies and SceneLab's totals at 0.5, as JSON, for `benches/reference_eval.py`.
fn dump(movies: &[Movie], inputs: &[MovieInput], path: &str) {
    let m = evaluate(inputs, 0.5).expect("synthetic movies are valid");
    let json = serde_json::json!({
        "movies": movies.iter().map(|m| serde_json::json!({
            "imdb_id": m.id,
            "gt": m.gt,
            "scores": m.scores,
            "shot_end_frame": m.frames,
        })).collect::<Vec<_>>(),
        "scenelab": {
            "AP": m.ap, "mAP": m.map, "Miou": m.miou,
            "Precision": m.precision, "Recall": m.recall, "F1": m.f1,
        },
    });
    std::fs::write(path, serde_json::to_vec(&json).unwrap()).expect("writing the dump");
    eprintln!("wrote {path}");
}

fn main() {
    let movies = synthetic();
    let inputs: Vec<MovieInput> = movies
        .iter()
        .map(|m| MovieInput {
            imdb_id: &m.id,
            ground_truth: &m.gt,
            scores: (&m.scores).into(),
            shot_end_frame: &m.frames,
        })
        .collect();
    let thresholds = Sweep::even_thresholds(101);
    if let Ok(path) = std::env::var("SCENELAB_EVAL_DUMP") {
        dump(&movies, &inputs, &path);
    }
    let evaluator = Evaluator::new(&inputs).expect("synthetic movies are valid");

    let rows = [
        (
            "evaluate (reference metrics at 0.5)",
            measure(|| {
                black_box(evaluate(&inputs, 0.5).unwrap());
            }),
        ),
        (
            "Evaluator::new (rank, curves, AP)",
            measure(|| {
                black_box(Evaluator::new(&inputs).unwrap());
            }),
        ),
        (
            "Evaluator::metrics (one threshold)",
            measure(|| {
                black_box(evaluator.metrics(0.37));
            }),
        ),
        (
            "Evaluator::sweep (101 thresholds)",
            measure(|| {
                black_box(evaluator.sweep(&thresholds));
            }),
        ),
        (
            "report (all of it, from scratch)",
            measure(|| {
                black_box(report(&inputs, 0.5, &thresholds).unwrap());
            }),
        ),
    ];
    println!(
        "eval: {MOVIES} movies x {SHOTS} shots, median of {RUNS} runs, {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:<40} {:>11} {:>9} {:>12}",
        "step", "median ms", "min ms", "CPU ms/run"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for (name, t) in rows {
        let cpu = t.cpu.map_or("n/a".to_owned(), |c| format!("{:.3}", ms(c)));
        println!(
            "{name:<40} {:>11.3} {:>9.3} {:>12}",
            ms(t.median),
            ms(t.min),
            cpu
        );
    }
}
