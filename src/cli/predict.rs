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

use super::train::DeviceArg;
use crate::data::{Dataset, FIELD_PREDICTION, Movie};
use crate::pickle::{ArrayData, Field, NdArray, Record};
use crate::train::TrainedModel;
use crate::train::decision::Decision;

/// Arguments of `scenelab predict`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of tt*.pkl movies to score.
    pub dir: PathBuf,
    /// Model folder written by `scenelab train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Folder for the scored files (created if needed); must differ from DIR.
    #[arg(long, required_unless_present = "in_place")]
    pub out: Option<PathBuf>,
    /// Overwrite the files in DIR, after copying the originals to DIR/scenelab-backup-<time>.
    #[arg(long, conflicts_with = "out")]
    pub in_place: bool,
    /// Where to compute: auto takes CUDA when this binary was built with it and a GPU
    /// answers, else the CPU.
    #[arg(long, value_enum, default_value_t = DeviceArg::Auto)]
    pub device: DeviceArg,
    /// Write the model's probabilities unchanged instead of applying the checkpoint's
    /// decision (threshold and peak picking tuned on validation movies).
    #[arg(long)]
    pub raw_scores: bool,
}

/// The decision `predict` applies: the checkpoint's, unless raw scores are asked for or the
/// checkpoint has none (or only the reference's `>= 0.5`, which changes nothing).
pub fn decision_to_apply(model: &TrainedModel, raw_scores: bool) -> Option<Decision> {
    model
        .meta
        .decision
        .filter(|d| !raw_scores && !d.is_reference())
}

/// `record` with its prediction field replaced by `scores` (appended if it had none).
pub fn with_prediction(mut record: Record, scores: &[f32]) -> Record {
    let field = Field::Array(NdArray {
        shape: vec![scores.len()],
        data: ArrayData::F32(scores.to_vec()),
    });
    match record.iter_mut().find(|(k, _)| k == FIELD_PREDICTION) {
        Some((_, v)) => *v = field,
        None => record.push((FIELD_PREDICTION.into(), field)),
    }
    record
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Score one file (through `decision` if given) and write it to `target`.
fn predict_file(
    model: &TrainedModel,
    decision: Option<&Decision>,
    source: &Path,
    target: &Path,
) -> anyhow::Result<()> {
    let record = crate::pickle::read_record_file(source).context("cannot read it")?;
    let movie = Movie::from_record(record.clone())?;
    let mut scores = model
        .predict(&[&movie])?
        .pop()
        .context("the model returned no scores")?;
    if let Some(d) = decision {
        scores = d.apply(&scores);
    }
    crate::pickle::write_record_file(target, &with_prediction(record, &scores))
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let device = args.device.open()?;
    let model = TrainedModel::load(&args.model, None, &device)?;
    let files = Dataset::movie_files(&args.dir)?;
    anyhow::ensure!(
        !files.is_empty(),
        "{} holds no *.pkl movie files",
        args.dir.display()
    );
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
        anyhow::ensure!(
            !same_folder(&out, &args.dir),
            "--out is the source folder {}: pass another folder, or --in-place to overwrite (with a backup)",
            args.dir.display()
        );
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        out
    };

    println!(
        "scoring {} movies with a '{}' model from {}",
        files.len(),
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
        (None, None) => eprintln!(
            "writing raw probabilities: this model has no tuned decision (it predates them); retrain to get one"
        ),
    }
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0usize;
    for f in &files {
        let name = f.file_name().context("a movie file has no name")?;
        bar.set_message(name.to_string_lossy().into_owned());
        if let Err(e) = predict_file(&model, decision.as_ref(), f, &out_dir.join(name)) {
            bar.println(format!("error: {}: {e:#}", f.display()));
            failed += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "wrote {} scored movies to {}",
        files.len() - failed,
        out_dir.display()
    );
    anyhow::ensure!(
        failed == 0,
        "{failed} movie(s) could not be scored (see above)"
    );
    Ok(())
}
