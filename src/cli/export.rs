//! `scenelab export`: each movie's scenes as a scene-list file (PySceneDetect CSV, LGSS JSON or
//! CMX 3600 EDL), from the ground truth, the files' prediction through a threshold (and
//! optional peak picking), or a model's scores through its tuned decision.

use std::path::PathBuf;

use anyhow::Context as _;

use super::field::ScoreField;
use crate::data::{Dataset, Movie};
use crate::export::{Format, FrameRate};
use crate::model::ModelKind;
use crate::observer::Observer;
use crate::train::TrainedModel;
use crate::train::decision::Decision;
use crate::train::torch_checkpoint::check_model_path;
use crate::workflow::DeviceArg;
use crate::workflow::predict;
use crate::workflow::scenes::{self, SceneExport, SkippedMovie};

/// Arguments of `scenelab export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of movie files.
    pub dir: PathBuf,
    /// Whose scenes: prediction (the files' scene_transition_boundary_prediction),
    /// ground_truth (scene_transition_boundary_ground_truth), or model (the scores of
    /// --model). The same names as `scenelab evaluate --field`.
    #[arg(long, value_parser = super::field::parse_export)]
    pub field: ScoreField,
    /// File format: csv (PySceneDetect's scene list), json (LGSS's pred_scene.json) or edl
    /// (CMX 3600).
    #[arg(long, value_enum)]
    pub format: Format,
    /// Frame rate of the movies, for times and timecodes: 24, 25, 23.976 (read as
    /// 24000/1001, like PySceneDetect), 29.97 or N/D. An EDL needs a whole or NTSC rate.
    #[arg(long, default_value = "24")]
    pub fps: FrameRate,
    /// Folder for the files, one per movie (`<imdb>.csv` etc.; created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// A transition is a boundary when its score is at least this. Default: 0.5 for
    /// --field prediction; the model's tuned threshold for --field model.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Peak picking: keep a boundary only where its score is the highest within ±W
    /// transitions. Default: off for --field prediction, the model's for --field model.
    #[arg(long)]
    pub nms_window: Option<usize>,
    /// Peak picking: scenes of at least this many shots. Default as for --nms-window.
    #[arg(long)]
    pub min_scene_len: Option<usize>,
    /// The model whose scenes to write (with --field model): anything `scenelab predict
    /// --model` takes, a model folder written by `scenelab train` or `scenelab export-torch`
    /// or a PyTorch weight file (.pth, .pt, .pth.tar, .bin, .safetensors).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The model kind of a weight file in --model, when its names do not tell it.
    #[arg(long, value_enum, requires = "model")]
    pub kind: Option<ModelKind>,
    /// Where a model computes (with --model).
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
    /// Exit 0 even when some movies had no scenes to write (they are listed either way).
    #[arg(long)]
    pub allow_partial: bool,
}

/// Some movies had no scenes to write: exit status 2 without --allow-partial.
#[derive(Debug, thiserror::Error)]
#[error(
    "wrote {written} of {movies} movies; the others were skipped (reasons above): pass \
     --allow-partial to accept that"
)]
pub struct PartialExport {
    pub written: usize,
    pub movies: usize,
}

/// Skipped movies printed as they come: the first few of each reason, then a count
/// ([`super::repeats::Repeats`]).
#[derive(Default)]
struct Lines(super::repeats::Repeats);

impl Observer<SkippedMovie> for Lines {
    fn event(&self, s: SkippedMovie) {
        if self.0.admit(&s.imdb_id, &s.reason) {
            eprintln!(
                "{}",
                super::repeats::line("skipped ", &s.imdb_id, &s.reason)
            );
        }
    }
}

/// The decision for `--field model`: the checkpoint's, with any flag given replacing its part
/// (the reference's rule when the model has none).
fn model_decision(model: &TrainedModel, args: &Args) -> Decision {
    let base = model.meta.decision.unwrap_or_default();
    Decision {
        threshold: args.threshold.map_or(base.threshold, |t| t as f32),
        nms_window: args.nms_window.unwrap_or(base.nms_window),
        min_scene_len: args.min_scene_len.unwrap_or(base.min_scene_len),
        ..base
    }
}

/// `--field` naming a field other than the prediction and the ground truth: export reads
/// only those (the parser refuses the others; this is its error for a caller that did not).
fn not_exported(name: &str) -> anyhow::Error {
    anyhow::anyhow!("--field: {}", super::field::EXPORT.refusal(name))
}

/// Check the flags together and that the paths exist, before anything is loaded.
fn check_args(args: &Args) -> anyhow::Result<()> {
    match (&args.field, &args.model) {
        (ScoreField::Model, None) => anyhow::bail!("--field model needs --model MODEL"),
        (ScoreField::Model, Some(model)) => check_model_path(model).context("--model")?,
        (ScoreField::Prediction | ScoreField::GroundTruth, Some(_)) => anyhow::bail!(
            "--model is only used with --field model (the model's scores); drop --model for \
             the files' own {}",
            if args.field == ScoreField::Prediction {
                "prediction"
            } else {
                "ground truth"
            }
        ),
        (ScoreField::Other(name), _) => return Err(not_exported(name)),
        (ScoreField::Prediction | ScoreField::GroundTruth, None) => {}
    }
    let peak_flags =
        args.threshold.is_some() || args.nms_window.is_some() || args.min_scene_len.is_some();
    if args.field == ScoreField::GroundTruth && peak_flags {
        anyhow::bail!(
            "--threshold, --nms-window and --min-scene-len apply to scores, not to --field ground_truth"
        );
    }
    if let Some(t) = args.threshold {
        anyhow::ensure!(t.is_finite(), "--threshold must be a number, got {t}");
    }
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    check_args(&args)?;
    if args.format == Format::Edl {
        args.fps.timecode_base().context("--fps")?;
    }
    let bar = super::progress_bar(0, "loading");
    let dataset = Dataset::load_dir(&args.dir, &|p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    })?;
    bar.finish_and_clear();
    for f in &dataset.failures {
        eprintln!("skipped {}: {}", f.path.display(), f.error);
    }
    let movies = &dataset.movies;
    let out_existed = args.out.exists();
    let lines = Lines::default();
    let request = SceneExport {
        format: args.format,
        rate: args.fps,
    };
    let summary = match &args.field {
        ScoreField::GroundTruth => {
            eprintln!("scenes of the ground truth");
            scenes::write_scene_lists(
                movies,
                &scenes::ground_truth_boundaries,
                request,
                &args.out,
                &lines,
            )?
        }
        ScoreField::Prediction => {
            let threshold = args.threshold.unwrap_or(0.5);
            let peaks = Decision {
                threshold: threshold as f32,
                nms_window: args.nms_window.unwrap_or(0),
                min_scene_len: args.min_scene_len.unwrap_or(1),
                ..Decision::default()
            };
            let boundaries = |m: &Movie| -> Result<Vec<bool>, String> {
                if !peaks.suppresses() {
                    return scenes::prediction_boundaries(m, threshold);
                }
                let p = m
                    .prediction
                    .as_ref()
                    .ok_or_else(|| scenes::missing(m, crate::data::FIELD_PREDICTION))?;
                Ok(peaks.boundaries(&p.to_f32_vec()))
            };
            eprintln!("scenes of the files' prediction, {peaks}");
            scenes::write_scene_lists(movies, &boundaries, request, &args.out, &lines)?
        }
        ScoreField::Other(name) => return Err(not_exported(name)),
        ScoreField::Model => {
            let path = args
                .model
                .as_ref()
                .context("--field model needs --model MODEL")?;
            let device = args.device.open()?;
            let model = super::open_model(path, args.kind, &device)?;
            let decision = model_decision(&model, &args);
            eprintln!(
                "scenes of the '{}' model in {}, {decision}",
                model.kind(),
                path.display()
            );
            let scored = predict::score_movies(&model, movies)?;
            let by_id: std::collections::HashMap<&str, &Vec<f32>> = scored
                .scores
                .iter()
                .map(|(id, s)| (id.as_str(), s))
                .collect();
            let boundaries = |m: &Movie| -> Result<Vec<bool>, String> {
                // Why a movie has no scores, worded as `predict` words it.
                let s = by_id.get(m.imdb_id.as_str()).ok_or_else(|| {
                    predict::why_unscorable(&model, m)
                        .unwrap_or_else(|| "the model gave no scores for it".into())
                })?;
                Ok(scenes::decided_boundaries((*s).into(), &decision))
            };
            scenes::write_scene_lists(movies, &boundaries, request, &args.out, &lines)?
        }
    };
    for line in lines.0.summary() {
        eprintln!("skipped {line}");
    }
    let total = movies.len() + dataset.failures.len();
    if summary.written.is_empty() {
        // Nothing written is a failure (exit 1), not a partial result: no empty folder is
        // left behind when the run made it.
        if !out_existed {
            let _ = std::fs::remove_dir(&args.out);
        }
        anyhow::bail!(
            "none of the {total} movies of {} had scenes to write (reasons above){}",
            args.dir.display(),
            match args.field {
                // A model needs features: suggest one only where some movie has them.
                ScoreField::Prediction if movies.iter().any(Movie::has_all_features) =>
                    ": pass --field ground_truth, or --field model with --model MODEL",
                ScoreField::Prediction =>
                    ": pass --field ground_truth (no movie has the features a model reads)",
                _ => "",
            }
        );
    }
    println!(
        "wrote {} scenes of {} movies to {} ({}, {})",
        summary.scenes,
        summary.written.len(),
        args.out.display(),
        args.format.label(),
        args.fps
    );
    if summary.written.len() < total && !args.allow_partial {
        return Err(PartialExport {
            written: summary.written.len(),
            movies: total,
        }
        .into());
    }
    Ok(())
}
