//! The Export scenes and Save report jobs and their answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ScenesOf;
use crate::app::App;
use crate::app::jobs::{Deliver, Reporter};
use crate::app::metrics::evaluation::{ScoreSet, SweepResult};
use crate::data::{Movie, Scores};
use crate::eval::Evaluator;
use crate::eval::report_files::{self, Skipped};
use crate::export::FrameRate;
use crate::export::plots::{self, Curve, Mark, Timeline};
use crate::train::decision::Decision;
use crate::workflow::scenes::{self, SceneExport, SceneExportSummary};

/// Where a movie's boundaries come from in the app.
#[derive(Clone)]
pub enum BoundarySource {
    GroundTruth,
    /// A source's scores through its applied decision, else cut at `threshold` (f32, as the
    /// app's threshold is; compared at the scores' precision as the metrics compare).
    Scores {
        scores: HashMap<String, Arc<Scores>>,
        decision: Option<Decision>,
        threshold: f32,
    },
}

impl BoundarySource {
    /// The boundaries of `movie` (what the timeline and the metrics count).
    pub fn boundaries(&self, movie: &Movie) -> Result<Vec<bool>, String> {
        match self {
            BoundarySource::GroundTruth => scenes::ground_truth_boundaries(movie),
            BoundarySource::Scores {
                scores,
                decision,
                threshold,
            } => {
                let s = scores
                    .get(&movie.imdb_id)
                    .ok_or_else(|| "the source has no scores for this movie".to_string())?;
                Ok(match decision {
                    Some(d) => scenes::decided_boundaries(s.as_slice(), d),
                    None => scenes::threshold_boundaries(s.as_slice(), f64::from(*threshold)),
                })
            }
        }
    }
}

/// The Export scenes job's answer.
pub(crate) struct ScenesExported {
    out: PathBuf,
    result: Result<SceneExportSummary, String>,
}

impl Deliver<App> for ScenesExported {
    fn deliver(self, app: &mut App) {
        match self.result {
            Ok(s) => {
                let mut note = format!(
                    "Wrote {} scenes of {} movies to {}",
                    s.scenes,
                    s.written.len(),
                    self.out.display()
                );
                if !s.skipped.is_empty() {
                    let which: Vec<String> = s
                        .skipped
                        .iter()
                        .take(3)
                        .map(|k| format!("{}: {}", k.imdb_id, k.reason))
                        .collect();
                    note.push_str(&format!(
                        "; {} movie(s) left out ({}{})",
                        s.skipped.len(),
                        which.join("; "),
                        if s.skipped.len() > 3 { "; …" } else { "" }
                    ));
                }
                app.state.report.note = Some(note);
            }
            Err(e) => app.state.push_error(format!(
                "Could not export scenes to {}: {e}",
                self.out.display()
            )),
        }
    }
}

/// What Save report writes from: the selected source's scores over the scope, how they are
/// cut, the folder's unreadable files, the curves and the selected movie.
pub struct ReportInput {
    pub set: ScoreSet,
    pub decision: Option<Decision>,
    pub threshold: f32,
    /// Files of the folder that could not be read (`evaluate` lists them as skipped).
    pub unreadable: Vec<Skipped>,
    pub sweep: Option<SweepResult>,
    /// Index of the movie whose timeline is drawn.
    pub selected: Option<usize>,
    pub source_name: String,
    pub source_colour: (u8, u8, u8),
    /// "all 64 movies", "test, 12 movies" (for the images' titles).
    pub scope_label: String,
}

/// The files Save report writes, in this order.
pub const REPORT_CSV: &str = "report.csv";
pub const REPORT_JSON: &str = "report.json";
pub const PR_CURVE_PNG: &str = "pr_curve.png";
pub const SWEEP_PNG: &str = "threshold_sweep.png";

/// `timeline-<imdb>.png`.
pub fn timeline_png_name(imdb_id: &str) -> String {
    format!("timeline-{imdb_id}.png")
}

/// The Save report job: scores the scope's movies as the metrics panel does (the decided
/// scores at 0.5, else the threshold), writes `report.csv`, `report.json` (the object
/// `scenelab evaluate --json` prints for the same movies and cut) and the images.
pub fn save_report(input: &ReportInput, out: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let (set, at) = match &input.decision {
        Some(d) => (input.set.decided(d), 0.5),
        None => (input.set.clone(), f64::from(input.threshold)),
    };
    let (inputs, scored) = set.inputs();
    let evaluator = Evaluator::new(&inputs).map_err(|e| e.to_string())?;
    let metrics = evaluator.metrics(at);
    let rows = evaluator.table(at, &metrics);
    let mut skipped = input.unreadable.clone();
    for (i, m) in set.movies.iter().enumerate() {
        let in_scope = set
            .in_scope
            .as_ref()
            .is_none_or(|s| s.get(i).copied().unwrap_or(false));
        if in_scope && !scored.contains(&i) {
            skipped.push(Skipped {
                file: m.imdb_id.clone(),
                reason: unscored_reason(m, set.scores[i].is_some()),
            });
        }
    }
    let warnings: Vec<String> = inputs
        .iter()
        .filter(|m| !m.ground_truth.contains(&true))
        .map(|m| report_files::no_boundary_warning(m.imdb_id))
        .collect();
    let json = report_files::to_json(&metrics, &skipped, &warnings);
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), String> {
        let path = out.join(name);
        crate::files::write_atomic(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
        Ok(())
    };
    write(REPORT_CSV, &report_files::to_csv(&rows, &metrics))?;
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
    write(REPORT_JSON, text.as_bytes())?;
    let how = match &input.decision {
        Some(d) => format!("decision: {d}"),
        None => format!("threshold {:.3}", input.threshold),
    };
    if let Some(i) = input.selected
        && let (Some(movie), Some(Some(raw))) = (input.set.movies.get(i), input.set.scores.get(i))
    {
        let source = BoundarySource::Scores {
            scores: HashMap::from([(movie.imdb_id.clone(), raw.clone())]),
            decision: input.decision,
            threshold: input.threshold,
        };
        let predicted = source.boundaries(movie)?;
        let scores = raw.to_f32_vec();
        let png = plots::timeline_png(&Timeline {
            title: format!("{}: {}, {how}", movie.imdb_id, input.source_name),
            scores: &scores,
            ground_truth: movie.ground_truth.as_deref(),
            predicted: &predicted,
            threshold: Some(input.threshold),
            score_colour: input.source_colour,
        })
        .map_err(|e| e.to_string())?;
        write(&timeline_png_name(&movie.imdb_id), &png)?;
    }
    if let Some(sweep) = &input.sweep {
        let mut curves = vec![Curve {
            name: input.scope_label.clone(),
            points: &sweep.pr_curve,
            colour: (70, 130, 200),
        }];
        let selected = input
            .selected
            .and_then(|i| Some((sweep.movie_curve(i)?, input.set.movies.get(i)?)));
        if let Some((points, movie)) = selected {
            curves.push(Curve {
                name: movie.imdb_id.clone(),
                points,
                colour: (200, 90, 200),
            });
        }
        let title = format!(
            "Precision-recall, {}: {}",
            input.scope_label, input.source_name
        );
        write(
            PR_CURVE_PNG,
            &plots::pr_curve_png(&title, &curves).map_err(|e| e.to_string())?,
        )?;
        let pairs = |v: &[f64]| -> Vec<[f64; 2]> {
            sweep
                .thresholds
                .iter()
                .zip(v)
                .map(|(&t, &y)| [f64::from(t), y])
                .collect()
        };
        let (f1, miou) = (pairs(&sweep.f1), pairs(&sweep.miou));
        let f1_colour = (220, 160, 20);
        let miou_colour = (40, 170, 160);
        let mut best = Vec::new();
        for (name, b, colour) in [
            ("best F1", sweep.best_f1, f1_colour),
            ("best Miou", sweep.best_miou, miou_colour),
        ] {
            if let Some((t, v)) = b {
                best.push(Mark {
                    name: name.into(),
                    at: [f64::from(t), v],
                    colour,
                });
            }
        }
        let png = plots::sweep_png(
            &format!(
                "F1 and Miou against threshold, {}: {}",
                input.scope_label, input.source_name
            ),
            &[
                Curve {
                    name: "F1".into(),
                    points: &f1,
                    colour: f1_colour,
                },
                Curve {
                    name: "Miou".into(),
                    points: &miou,
                    colour: miou_colour,
                },
            ],
            f64::from(input.threshold),
            &best,
        )
        .map_err(|e| e.to_string())?;
        write(SWEEP_PNG, &png)?;
    }
    Ok(written)
}

/// Why a movie of the scope was not scored.
fn unscored_reason(m: &Movie, has_scores: bool) -> String {
    let mut missing = Vec::new();
    if m.ground_truth.is_none() {
        missing.push("ground truth");
    }
    if m.shot_end_frame.is_none() {
        missing.push("shot end frames");
    }
    if !has_scores {
        missing.push("scores of this source");
    }
    format!("movie '{}' has no {}", m.imdb_id, missing.join(", no "))
}

/// The Save report job's answer: the files written.
pub(crate) struct ReportSaved {
    out: PathBuf,
    result: Result<Vec<PathBuf>, String>,
}

impl Deliver<App> for ReportSaved {
    fn deliver(self, app: &mut App) {
        match self.result {
            Ok(files) => {
                let names: Vec<String> = files
                    .iter()
                    .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .collect();
                app.state.report.note = Some(format!(
                    "Saved the report to {}: {}",
                    self.out.display(),
                    names.join(", ")
                ));
            }
            Err(e) => app.state.push_error(format!(
                "Could not save the report to {}: {e}",
                self.out.display()
            )),
        }
    }
}

impl App {
    pub(in crate::app) fn start_scene_export(&mut self, out: PathBuf) {
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error("Nothing to export: open a folder of movies first.".into());
            return;
        };
        let form = self.report_panel.form.clone();
        let rate = match FrameRate::from_fps(form.fps(&self.state)) {
            Ok(r) => r,
            Err(e) => {
                self.state.push_error(format!("Export scenes: {e}"));
                return;
            }
        };
        let source = match form.of {
            ScenesOf::GroundTruth => BoundarySource::GroundTruth,
            ScenesOf::SelectedSource => {
                let Some(s) = self.state.sources.selected_source() else {
                    self.state.push_error(
                        "Export scenes: no prediction source is selected; choose the ground truth or a source.".into(),
                    );
                    return;
                };
                BoundarySource::Scores {
                    scores: s.scores.clone(),
                    decision: s.applied_decision().copied(),
                    threshold: self.state.threshold,
                }
            }
        };
        let movies = folder.movies.clone();
        let request = SceneExport {
            format: form.format,
            rate,
        };
        let label = format!("{EXPORT_SCENES_JOB} {}", out.display());
        let answer_out = out.clone();
        self.jobs.spawn_answering(
            label,
            move |r: &Reporter<App>| {
                let boundaries = |m: &Movie| source.boundaries(m);
                scenes::write_scene_lists(&movies, &boundaries, request, &out, r)
                    .map_err(|e| e.to_string())
            },
            |result| ScenesExported {
                out: answer_out,
                result,
            },
        );
    }

    pub(in crate::app) fn start_report_save(&mut self, out: PathBuf) {
        let state = &self.state;
        let (Some(folder), Some(source), Some(set)) = (
            &state.folder,
            state.sources.selected_source(),
            state.score_set(),
        ) else {
            self.state.push_error(
                "Nothing to report: open a folder with a prediction source first.".into(),
            );
            return;
        };
        let scope = state.scope();
        let c = source.colour;
        let input = ReportInput {
            set,
            decision: state.sources.selected_decision().copied(),
            threshold: state.threshold,
            unreadable: folder
                .bad
                .iter()
                .map(|b| Skipped {
                    file: b.file_name(),
                    reason: format!("cannot read it: {}", b.error),
                })
                .collect(),
            sweep: state
                .sweep
                .clone()
                .filter(|s| Some(s.key) == state.sweep_key()),
            selected: state.selected_movie,
            source_name: source.name.clone(),
            source_colour: (c.r(), c.g(), c.b()),
            scope_label: scope.label(state.scope_count(scope)).to_lowercase(),
        };
        let label = format!("{REPORT_JOB} {}", out.display());
        let answer_out = out.clone();
        self.jobs.spawn_answering(
            label,
            move |_| save_report(&input, &out),
            |result| ReportSaved {
                out: answer_out,
                result,
            },
        );
    }
}

/// Job labels: what the status line says.
const EXPORT_SCENES_JOB: &str = "Exporting scenes to";
const REPORT_JOB: &str = "Saving the report to";
