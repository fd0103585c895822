//! `scenelab predict`: score every movie of a folder with a trained model and write each
//! file back with every field kept and `scene_transition_boundary_prediction` replaced.
//! The source folder is only changed with `--in-place`, which first copies the originals
//! into a backup folder beside them.
//!
//! By default the scores written go through the checkpoint's decision ([`Decision::apply`]),
//! so the reference evaluator's `>= 0.5` cut gives the decision's boundaries; `--raw-scores`
//! writes the model's probabilities unchanged.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::data::Movie;
use crate::model::ModelKind;
use crate::observer::Observer;
use crate::pickle::ArrayData;
use crate::train::torch_checkpoint::check_model_path;
use crate::workflow::DeviceArg;
use crate::workflow::export::{self, ExportError, ExportEvent};
use crate::workflow::predict;

use super::repeats::Repeats;

/// Arguments of `scenelab predict`.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("target")
        .required(true)
        .args(["out", "in_place"])
))]
pub struct Args {
    /// Folder of tt*.pkl movies, or a MovieNet folder (label*/, shot_movie*/, features), to
    /// score; a MovieNet folder's movies are written as pkl files.
    pub dir: PathBuf,
    /// Model folder written by `scenelab train` or `scenelab export-torch`, or a PyTorch
    /// weight file: a state dict saved with torch.save (.pth, .pt, .pth.tar, .bin; bare or
    /// under 'state_dict', 'model', 'model_state_dict' or 'net') or a safetensors file, with
    /// the names of a twin in python/scenelab_torch.py.
    #[arg(long)]
    pub model: PathBuf,
    /// The model kind of a weight file, when its names do not tell it (they usually do).
    #[arg(long, value_enum)]
    pub kind: Option<ModelKind>,
    /// Folder for the scored files (created if needed); must differ from DIR.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite the files in DIR, after copying the originals to DIR/scenelab-backup-<time>.
    #[arg(long)]
    pub in_place: bool,
    /// Where to compute: auto takes CUDA when this binary was built with it and a GPU
    /// answers, else the CPU.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
    /// Write the model's probabilities unchanged instead of applying the checkpoint's
    /// decision (threshold and peak picking tuned on validation movies).
    #[arg(long)]
    pub raw_scores: bool,
    /// Exit 0 even when some movies could not be scored (they are named either way). Without
    /// it such a run exits with 2; a run that scores no movie exits with 1.
    #[arg(long)]
    pub allow_partial: bool,
}

use crate::workflow::predict::decision_to_apply;

/// Writing's progress on the terminal: a bar of files, an error line per failed movie (the
/// first few of each reason, then a count: [`Repeats`]).
struct FilesBar(ProgressBar, Repeats);

impl Observer<ExportEvent> for FilesBar {
    fn progress(&self, done: usize, _total: usize, what: &str) {
        self.0.set_position(done as u64);
        self.0.set_message(what.to_string());
    }

    fn event(&self, event: ExportEvent) {
        let ExportEvent::Failed { movie, message } = event;
        if self.1.admit(&movie, &message) {
            super::print_above(&self.0, super::repeats::line("error: ", &movie, &message));
        }
    }
}

/// The movies of a MovieNet folder `model` can score; those it cannot are named on stderr
/// (collapsed by reason). Errors: it can score none (one message, with each reason's count).
fn scorable(
    model: &crate::train::TrainedModel,
    movies: &[Movie],
    args: &Args,
) -> anyhow::Result<Vec<Movie>> {
    let mut ready = Vec::new();
    let mut refused = Vec::new();
    for m in movies {
        match predict::why_unscorable(model, m) {
            Some(why) => refused.push((m.imdb_id.as_str(), why)),
            None => ready.push(m.clone()),
        }
    }
    if ready.is_empty() {
        let repeats = Repeats::default();
        for (id, why) in &refused {
            repeats.admit(id, why);
        }
        let reasons: Vec<String> = repeats
            .reasons()
            .into_iter()
            .map(|r| match r.count {
                1 => format!("{}: {}", r.first, r.message),
                n => format!("{n} movies, as {}: {}", r.first, r.message),
            })
            .collect();
        anyhow::bail!(
            "the model in {} can score none of the {} movies of {}, so nothing was written.\n{}",
            args.model.display(),
            movies.len(),
            args.dir.display(),
            reasons.join("\n")
        );
    }
    super::repeats::print_collapsed(
        "error: ",
        refused.iter().map(|(id, why)| (*id, why.as_str())),
    );
    Ok(ready)
}

/// The error for `--out` naming the folder the movies come from.
fn out_is_source(dir: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "--out is the source folder {}: pass another folder, or --in-place to overwrite (with a backup)",
        dir.display()
    )
}

/// Check the arguments before anything is opened: DIR holds movies, --in-place can overwrite
/// them, --out is another folder, --model exists. Returns whether DIR is a MovieNet folder.
fn check_args(args: &Args) -> anyhow::Result<bool> {
    super::train::check_folder(&args.dir)?;
    // A MovieNet folder has no pkl file to copy: its movies are loaded and written as the
    // challenge's pkl files with the prediction.
    let movienet = crate::data::movienet::Layout::detect(&args.dir).is_some();
    anyhow::ensure!(
        !(movienet && args.in_place),
        "{} is a MovieNet folder, which has no pkl files to overwrite: pass --out \
         OUT_DIR to write the scored movies as pkl files",
        args.dir.display()
    );
    if let (false, Some(out)) = (args.in_place, &args.out)
        && export::same_folder(&args.dir, out)
    {
        return Err(out_is_source(&args.dir));
    }
    check_model_path(&args.model).context("--model")?;
    Ok(movienet)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let movienet = check_args(&args)?;
    let device = args.device.open()?;
    let model = super::open_model(&args.model, args.kind, &device)?;
    // A MovieNet folder's movies are all loaded before anything is written: each is checked
    // against the model, and nothing (not even OUT) is made when none fits it.
    let (movienet, unscorable) = if movienet {
        let movies =
            super::train::load_folder(&args.dir, crate::data::FeaturePrecision::F32)?.movies;
        let ready = scorable(&model, &movies, &args)?;
        let unscorable = movies.len() - ready.len();
        (Some(ready), unscorable)
    } else {
        (None, 0)
    };
    let files = crate::data::Dataset::movie_files(&args.dir)?;
    let count = movienet.as_ref().map_or(files.len(), Vec::len) + unscorable;
    let out_existed = args.out.as_ref().is_some_and(|o| o.exists());
    let out_dir = if args.in_place {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let backup = args.dir.join(format!("scenelab-backup-{stamp}"));
        std::fs::create_dir_all(&backup)
            .with_context(|| format!("cannot create backup folder {}", backup.display()))?;
        for f in &files {
            let name = f.file_name().context("a movie file has no name")?;
            std::fs::copy(f, backup.join(name))
                .with_context(|| format!("cannot back up {}", f.display()))?;
        }
        println!("originals backed up to {}", backup.display());
        args.dir.clone()
    } else {
        let out = args
            .out
            .clone()
            .context("pass --out OUT_DIR or --in-place")?;
        export::prepare_output(&args.dir, &out).map_err(|e| match e {
            ExportError::SameFolder { .. } => out_is_source(&args.dir),
            other => other.into(),
        })?;
        out
    };

    println!(
        "scoring {} movies with a '{}' model from {}",
        count,
        model.kind(),
        args.model.display()
    );
    let decision = decision_to_apply(&model, args.raw_scores);
    match (&decision, &model.meta.decision) {
        (Some(d), _) => eprintln!(
            "applying the model's decision ({d}): scores are mapped so that >= 0.5 gives its boundaries; pass --raw-scores for the probabilities"
        ),
        (None, Some(d)) if args.raw_scores => {
            eprintln!(
                "writing raw probabilities (--raw-scores): the model's decision ({d}) is not applied"
            )
        }
        (None, Some(_)) => eprintln!(
            "the model's tuned decision is the reference's >= 0.5: writing its probabilities unchanged"
        ),
        (None, None) if model.meta.curve.is_empty() => eprintln!(
            "writing raw probabilities: a weight file carries no tuned decision; evaluate with --threshold, or tune one in the app's Decision panel"
        ),
        (None, None) => eprintln!(
            "writing raw probabilities: this model has no tuned decision (it predates them); retrain to get one"
        ),
    }
    let bar = FilesBar(
        ProgressBar::new(count as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        Repeats::default(),
    );
    let score = |movie: &Movie| -> anyhow::Result<Option<ArrayData>> {
        Ok(Some(predict::scores_to_write(
            &model,
            decision.as_ref(),
            movie,
        )?))
    };
    let summary = match &movienet {
        Some(movies) => export::write_movie_predictions(movies, &out_dir, &score, false, &bar)?,
        None => export::write_predictions(&files, &out_dir, &score, false, &bar)?,
    };
    bar.0.finish_and_clear();
    for line in bar.1.summary() {
        eprintln!("error: {line}");
    }
    let written = summary.written;
    if written == 0 {
        if !out_existed && !args.in_place {
            // Leave no empty folder behind for a run that wrote nothing (only an empty one is
            // removed; one that existed before is left alone).
            let _ = std::fs::remove_dir(&out_dir);
        }
        anyhow::bail!(
            "none of the {count} movies of {} could be scored (reasons above), so nothing was \
             written",
            args.dir.display()
        );
    }
    let of = if written < count {
        format!(" (of {count})")
    } else {
        String::new()
    };
    println!("wrote {written} scored movies{of} to {}", out_dir.display());
    if written < count && !args.allow_partial {
        return Err(super::Partial {
            scored: written,
            files: count,
        }
        .into());
    }
    Ok(())
}
