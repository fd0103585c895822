//! Frame cost and memory of the desktop app on a challenge-sized folder.
//!
//! Builds 64 demo movies of 600-3100 shots in memory (`data::demo::generate_movie`), opens
//! them in the app, and renders frames headless through egui (layout and tessellation) in
//! several situations. Reports CPU milliseconds per frame of the UI thread (from
//! `/proc/thread-self/schedstat`, so other processes on a busy machine do not count; wall time
//! is shown beside it; target < 8 ms) and the bytes the app holds against the bytes of the
//! loaded tensors (target <= 1.3x), counted by a global allocator wrapper.
//!
//! `cargo bench --bench frame`; `SCENELAB_BENCH_MOVIES=16` for a quicker run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use eframe::egui;
use rayon::prelude::*;
use scenelab::app::loader::LoadedFolder;
use scenelab::app::picker::PickOutcome;
use scenelab::app::{Action, App, AppOptions, first_run_demo};
use scenelab::data::demo::{DemoConfig, generate_movie};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

const SCREEN: egui::Vec2 = egui::vec2(1600.0, 1000.0);

/// Nanoseconds this thread has run on a CPU (Linux), if the kernel says.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Cost of one frame: CPU time of the UI thread (wall time where that is unknown) and wall time.
#[derive(Clone, Copy)]
struct Cost {
    cpu_ms: f64,
    wall_ms: f64,
}

struct Frames {
    ctx: egui::Context,
    app: App,
}

impl Frames {
    fn frame(&mut self, events: Vec<egui::Event>) -> Cost {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, SCREEN)),
            events,
            ..Default::default()
        };
        let cpu0 = thread_cpu_ns();
        let start = Instant::now();
        let app = &mut self.app;
        let mut out = self.ctx.run_ui(input, |ui| app.ui_inner(ui));
        // No GPU here: the font atlas upload has nowhere to go.
        out.textures_delta.clear();
        let meshes = self.ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(meshes);
        let wall_ms = start.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e6,
            _ => wall_ms,
        };
        Cost { cpu_ms, wall_ms }
    }

    fn settle(&mut self) {
        let start = Instant::now();
        while !self.app.is_settled() && start.elapsed() < Duration::from_secs(600) {
            self.frame(Vec::new());
            std::thread::sleep(Duration::from_millis(5));
        }
        for _ in 0..3 {
            self.frame(Vec::new());
        }
    }
}

struct Stats {
    mean: f64,
    p95: f64,
    max: f64,
}

fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let p95 = ms[((ms.len() as f64 * 0.95) as usize).min(ms.len() - 1)];
    Stats {
        mean,
        p95,
        max: *ms.last().unwrap(),
    }
}

fn report(name: &str, costs: &[Cost]) {
    let cpu = stats(costs.iter().map(|c| c.cpu_ms).collect());
    let wall = stats(costs.iter().map(|c| c.wall_ms).collect());
    let verdict = if cpu.mean < 8.0 { "ok" } else { "OVER 8 ms" };
    println!(
        "{name:<36} cpu mean {:>6.2} ms  p95 {:>6.2}  max {:>6.2} | wall mean {:>6.2}  p95 {:>6.2}  {verdict}",
        cpu.mean, cpu.p95, cpu.max, wall.mean, wall.p95
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let n_movies = std::env::var("SCENELAB_BENCH_MOVIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let config = DemoConfig {
        movies: n_movies,
        ..DemoConfig::default()
    };
    let before_data = live();
    let t = Instant::now();
    let movies: Vec<_> = (0..config.movies)
        .into_par_iter()
        .map(|i| generate_movie(&config, i))
        .collect();
    let folder = LoadedFolder::new("bench".into(), movies, Vec::new());
    let tensor_bytes = folder.tensor_bytes();
    let data_bytes = live() - before_data;
    let shots: usize = folder.movies.iter().map(|m| m.n_shots).sum();
    let max_shots = folder.movies.iter().map(|m| m.n_shots).max().unwrap_or(0);
    println!(
        "{} movies, {shots} shots (max {max_shots}), tensors {:.1} MiB, generated in {:.1} s",
        folder.movies.len(),
        tensor_bytes as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );

    let options = AppOptions {
        picker: Arc::new(|_: Option<&std::path::Path>| PickOutcome::Cancelled),
        settings_path: None,
        default_dir: "bench-data-dir-unused".into(),
        demo: first_run_demo(),
    };
    let mut f = Frames {
        ctx: egui::Context::default(),
        app: App::new(options),
    };
    // The longest movie: the worst case for the timeline.
    let longest = folder
        .movies
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| m.n_shots)
        .map(|(i, _)| i)
        .unwrap_or(0);
    f.app.open_loaded(folder);
    f.settle();
    f.app.queue(Action::SelectMovie(longest));
    f.settle();
    if !f.app.state.errors.is_empty() {
        println!("note: the app reports: {:?}", f.app.state.errors);
    }

    println!(
        "(the kernel advances a thread's CPU time in scheduler ticks, so single frames read as \
         0 or a few ms: trust the means over {} frames)",
        200
    );
    let n = 200;
    let idle: Vec<Cost> = (0..n).map(|_| f.frame(Vec::new())).collect();
    report("whole longest movie, idle", &idle);

    let plot_y = 400.0;
    let hover: Vec<Cost> = (0..n)
        .map(|k| {
            let x = 420.0 + (k as f32 * 3.7) % 700.0;
            let ev = vec![egui::Event::PointerMoved(egui::pos2(x, plot_y))];
            f.frame(ev)
        })
        .collect();
    report("hovering the timeline (tooltip)", &hover);

    let zoom: Vec<Cost> = (0..n)
        .map(|k| {
            let ev = vec![egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Line,
                delta: egui::vec2(0.0, if k < n / 2 { 1.0 } else { -1.0 }),
                phase: egui::TouchPhase::Move,
                modifiers: egui::Modifiers::CTRL,
                source: egui::MouseWheelSource::Wheel,
            }];
            f.frame(ev)
        })
        .collect();
    report("zooming in and out", &zoom);

    let thresholds: Vec<Cost> = (0..n)
        .map(|k| {
            f.app
                .queue(Action::SetThreshold(0.2 + (k % 60) as f32 / 100.0));
            f.frame(Vec::new())
        })
        .collect();
    report("moving the threshold every frame", &thresholds);

    let n_listed = f.app.listed_movies().len();
    let switching: Vec<Cost> = (0..n)
        .map(|k| {
            f.app.queue(Action::SelectMovie(k % n_listed));
            f.frame(Vec::new())
        })
        .collect();
    report("another movie every frame", &switching);
    f.settle();

    let app_bytes = live() - before_data;
    println!(
        "memory: data {:.1} MiB, app total {:.1} MiB, tensors {:.1} MiB -> app / tensors = {:.3} (target <= 1.3)",
        data_bytes as f64 / (1 << 20) as f64,
        app_bytes as f64 / (1 << 20) as f64,
        tensor_bytes as f64 / (1 << 20) as f64,
        app_bytes as f64 / tensor_bytes as f64
    );
}
