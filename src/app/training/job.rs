//! The model jobs (train, load, save, export), their payloads, and the app's side of the
//! training window's requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::form::{TrainingForm, split_message};
use super::run::TrainingRun;
use crate::app::App;
use crate::app::jobs::{Deliver, JobObserver, Reporter};
use crate::app::scope::{Scope, SourceSplit};
use crate::app::sources::{PredictionSource, SourceDecision};
use crate::data::{Movie, Scores};
use crate::train::decision::Decision;
use crate::train::{CheckpointMeta, TrainEvent, TrainedModel};
use crate::workflow::export::{self, ExportError};
use crate::workflow::predict::{self, MovieScores, ScoredMovies};
use crate::workflow::train::{TrainWorkflowError, train_and_tune};

/// A model and its scores for the loaded movies, ready to become a prediction source.
pub struct ModelScores {
    pub model: Arc<TrainedModel>,
    pub scores: MovieScores,
    /// Movies not scored (missing modalities).
    pub skipped: Vec<String>,
    /// Movies not scored (feature widths other than the model's), and the model's widths.
    pub other_widths: Vec<String>,
    /// What opening a weight file assumed or ignored (empty for SceneLab's own folders).
    pub notes: Vec<String>,
}

impl ModelScores {
    fn new(model: TrainedModel, scored: ScoredMovies) -> Self {
        ModelScores {
            model: Arc::new(model),
            scores: scored.scores,
            skipped: scored.skipped,
            other_widths: scored.other_widths,
            notes: Vec::new(),
        }
    }
}

/// The training job: [`train_and_tune`] with the form's settings, forwarding its progress and
/// events; the model and its scores of every loaded movie.
pub(super) fn run_training(
    r: &Reporter<App>,
    movies: Arc<Vec<Movie>>,
    form: TrainingForm,
    cancel: Arc<AtomicBool>,
) -> Result<ModelScores, String> {
    let (device, device_line) = form.device.resolve().map_err(|e| format!("{e:#}"))?;
    r.progress(0, 0, format!("training on {device_line}"));
    let observer = JobObserver {
        reporter: r,
        cancel: Some(&cancel),
        wrap: TrainProgress,
    };
    let run =
        train_and_tune(&movies, &form.request(), &device, &observer).map_err(|e| match e {
            TrainWorkflowError::Split(e) => split_message(&e),
            other => other.to_string(),
        })?;
    Ok(ModelScores::new(run.model, run.scored.unwrap_or_default()))
}

/// The Load model job: open a model folder or weight file (a PyTorch state dict or
/// safetensors, its kind told by its names) and score every loaded movie.
pub fn load_and_score(path: &Path, movies: &[Movie]) -> Result<ModelScores, String> {
    let (model, scored, notes) =
        predict::load_and_score(path, None, movies, &candle_core::Device::Cpu)
            .map_err(|e| e.to_string())?;
    let mut scores = ModelScores::new(model, scored);
    scores.notes = notes;
    Ok(scores)
}

/// The Export predictions job: each movie file of `source_dir` written to `out` with every
/// field kept and its prediction replaced by `scores` (as `scenelab predict` writes them);
/// for a MovieNet folder (`movienet`: its loaded movies), each movie as a challenge pkl file.
/// Returns how many files were written and the names of those without scores.
pub(super) fn export_predictions(
    r: &Reporter<App>,
    source_dir: &Path,
    out: &Path,
    scores: &std::collections::HashMap<String, Arc<Scores>>,
    movienet: Option<&[Movie]>,
) -> Result<(usize, Vec<String>), String> {
    let message = |e: ExportError| match e {
        ExportError::SameFolder { out } => format!(
            "{} is the folder the movies came from: choose another folder, so the originals stay as they are",
            out.display()
        ),
        other => other.to_string(),
    };
    export::prepare_output(source_dir, out).map_err(message)?;
    let score = |m: &Movie| Ok(scores.get(&m.imdb_id).map(|s| s.to_array_data()));
    let summary = if let Some(movies) = movienet {
        // No pkl file to copy: the loaded movies are written as the challenge's files.
        export::write_movie_predictions(movies, out, &score, true, r)
    } else {
        let files = crate::data::Dataset::movie_files(source_dir).map_err(|e| e.to_string())?;
        export::write_predictions(&files, out, &score, true, r)
    }
    .map_err(message)?;
    Ok((summary.written, summary.without_scores))
}

/// The Save model job: the model with `decision` (see [`TrainingState::decision_to_save`]).
pub(super) fn save_model(
    model: &TrainedModel,
    dir: &Path,
    decision: Option<Decision>,
) -> Result<PathBuf, String> {
    let meta = CheckpointMeta {
        decision,
        ..model.meta.clone()
    };
    model.save_as(dir, &meta).map_err(|e| e.to_string())?;
    Ok(dir.to_path_buf())
}

/// The training job's progress, for the window's curves.
pub(super) struct TrainProgress(pub TrainEvent);

impl Deliver<App> for TrainProgress {
    fn deliver(self, app: &mut App) {
        app.state.training.run.apply(&self.0);
    }
}

/// The training job's answer: the model and its scores for the loaded movies, or why not.
pub(super) struct Trained(pub Result<ModelScores, String>);

impl Deliver<App> for Trained {
    fn deliver(self, app: &mut App) {
        let training = &mut app.state.training;
        let cancelled = training.finish_run();
        match self.0 {
            Ok(scores) => {
                training.trained_count += 1;
                let name = format!("{} #{}", scores.model.kind(), training.trained_count);
                training.last_model = Some(scores.model.clone());
                training.last_source = Some(name.clone());
                app.add_model_source(name, scores);
            }
            Err(e) => {
                // A run the user cancelled says so in the training window only.
                if !cancelled {
                    app.state.push_error(format!("Training: {e}"));
                }
                app.state.training.run.error = Some(e);
            }
        }
    }
}

/// The Load model job's answer.
pub(super) struct ModelLoaded {
    pub dir: PathBuf,
    pub result: Result<ModelScores, String>,
}

impl Deliver<App> for ModelLoaded {
    fn deliver(self, app: &mut App) {
        let dir = self.dir;
        match self.result {
            Ok(scores) => {
                let folder = dir.file_name().map_or_else(
                    || dir.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let name = format!("{} ({folder})", scores.model.kind());
                app.add_model_source(name, scores);
            }
            Err(e) => app.state.push_error(format!(
                "Could not load the model in {}: {e}",
                dir.display()
            )),
        }
    }
}

/// The Save model job's answer: the folder written.
pub(super) struct ModelSaved(pub Result<PathBuf, String>);

impl Deliver<App> for ModelSaved {
    fn deliver(self, app: &mut App) {
        match self.0 {
            Ok(dir) => app.state.training.note = Some(format!("Model saved to {}", dir.display())),
            Err(e) => app
                .state
                .push_error(format!("Could not save the model: {e}")),
        }
    }
}

/// The Export predictions job's answer: files written and the movies the source has no
/// scores for.
pub(super) struct Exported {
    pub out: PathBuf,
    pub result: Result<(usize, Vec<String>), String>,
}

impl Deliver<App> for Exported {
    fn deliver(self, app: &mut App) {
        let out = self.out;
        match self.result {
            Ok((written, without)) => {
                let mut note = format!("Wrote {written} scored movies to {}", out.display());
                if !without.is_empty() {
                    note.push_str(&format!(
                        "; {} movie(s) without scores in this source were left out",
                        without.len()
                    ));
                }
                app.state.training.note = Some(note);
            }
            Err(e) => app.state.push_error(format!(
                "Could not export predictions to {}: {e}",
                out.display()
            )),
        }
    }
}

impl App {
    /// What a run of the Train window starts from (a single split or a cross-validation):
    /// `None` while one runs (or `job_running`) or without an open folder (said as an error
    /// naming `what`); else the folder's movies, the form as it is, and a fresh cancel flag,
    /// with the window's run state reset for the form's model.
    pub(in crate::app) fn begin_training_run(
        &mut self,
        job_running: bool,
        what: &str,
    ) -> Option<(Arc<Vec<Movie>>, TrainingForm, Arc<AtomicBool>)> {
        if self.state.training.is_running() || job_running {
            return None;
        }
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error(format!("Open a folder of movies before {what}."));
            return None;
        };
        let movies = folder.movies.clone();
        let form = self.training_panel.form.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let training = &mut self.state.training;
        training.cancel = Some(cancel.clone());
        training.run = TrainingRun {
            kind: Some(form.model.kind()),
            ..TrainingRun::default()
        };
        training.note = None;
        Some((movies, form, cancel))
    }

    pub(in crate::app) fn start_training(&mut self) {
        let running = self.jobs.is_running::<Trained>();
        let Some((movies, form, cancel)) = self.begin_training_run(running, "training") else {
            return;
        };
        let label = format!("{TRAIN_JOB} {}", form.model.kind());
        self.jobs.spawn_answering(
            label,
            move |r| run_training(r, movies, form, cancel),
            Trained,
        );
    }

    pub(in crate::app) fn start_model_save(&mut self, dir: PathBuf) {
        let Some(model) = self.state.training.last_model.clone() else {
            self.state
                .push_error("No trained model to save yet: train one first.".into());
            return;
        };
        let decision = self.state.training.decision_to_save(&self.state.sources);
        self.jobs.spawn_answering(
            SAVE_JOB,
            move |_| save_model(&model, &dir, decision),
            ModelSaved,
        );
    }

    pub(in crate::app) fn start_model_load(&mut self, dir: PathBuf) {
        let Some(folder) = &self.state.folder else {
            self.state
                .push_error("Open a folder of movies before loading a model to score them.".into());
            return;
        };
        let movies = folder.movies.clone();
        let label = format!("{MODEL_LOAD_JOB} {}", dir.display());
        let answer_dir = dir.clone();
        self.jobs.spawn_answering(
            label,
            move |_| load_and_score(&dir, &movies),
            |result| ModelLoaded {
                dir: answer_dir,
                result,
            },
        );
    }

    pub(in crate::app) fn start_export(&mut self, out: PathBuf) {
        let (Some(folder), Some(source)) =
            (&self.state.folder, self.state.sources.selected_source())
        else {
            self.state
                .push_error("Nothing to export: open a folder with a prediction source.".into());
            return;
        };
        let dir = folder.dir.clone();
        let movienet = folder.movienet.then(|| folder.movies.clone());
        // The source is cloned (its scores are shared), so the decision is applied off the UI
        // thread.
        let source = source.clone();
        let label = format!("{EXPORT_JOB} {}", out.display());
        let answer_out = out.clone();
        self.jobs.spawn_answering(
            label,
            move |r| {
                let scores = crate::app::metrics::decision_box::scores_to_write(&source);
                export_predictions(
                    r,
                    &dir,
                    &out,
                    &scores,
                    movienet.as_deref().map(Vec::as_slice),
                )
                .map_err(|e| format!("{e:#}"))
            },
            |result| Exported {
                out: answer_out,
                result,
            },
        );
    }

    /// A model's scores become a source on every timeline, selected for the metrics.
    pub(in crate::app) fn add_model_source(&mut self, name: String, scores: ModelScores) {
        let mut source =
            PredictionSource::new(name, crate::app::sources::palette(self.state.sources.len()));
        for (id, s) in scores.scores {
            source.scores.insert(id, Arc::new(Scores::from_f32(&s)));
        }
        source.decision = scores.model.meta.decision.map(SourceDecision::tuned);
        let split = SourceSplit::new(scores.model.meta.split.clone());
        // Held-out numbers first: the model's test movies, when the folder has them.
        self.state.chosen_scope = Scope::default_for(Some(&split), self.state.movies());
        source.split = Some(Arc::new(split));
        let i = self.state.sources.add(source);
        self.state.sources.select(i);
        self.state.take_decision_threshold();
        let mut notes = scores.notes;
        if !scores.skipped.is_empty() {
            notes.push(format!(
                "{} movie(s) lack one of the four feature modalities and were not scored: {}",
                scores.skipped.len(),
                scores.skipped.join(", ")
            ));
        }
        if !scores.other_widths.is_empty() {
            notes.push(format!(
                "{} movie(s) have other feature widths than the model reads ({}) and were not scored: {}",
                scores.other_widths.len(),
                scores.model.meta.normalization.dims,
                scores.other_widths.join(", ")
            ));
        }
        if !notes.is_empty() {
            self.state.training.note = Some(notes.join("; "));
        }
    }
}

/// Job labels: what the status line says (jobs are found by their payload type).
const TRAIN_JOB: &str = "Training";
const MODEL_LOAD_JOB: &str = "Loading the model in";
const SAVE_JOB: &str = "Saving the model";
const EXPORT_JOB: &str = "Exporting predictions to";
