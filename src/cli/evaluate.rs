//! `scenelab evaluate`: score a folder of movie files as the challenge's evaluator does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::data::{FIELD_GROUND_TRUTH, FIELD_IMDB_ID, FIELD_PREDICTION, FIELD_SHOT_END_FRAME};
use crate::eval::{self, Evaluator, Metrics, MovieInput};
use crate::pickle::{self, ArrayData, Field, NdArray, Record};

/// Arguments of `scenelab evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of `*.pkl` movie files (features are not needed).
    pub dir: PathBuf,
    /// Field holding the scores to evaluate, one per shot transition.
    #[arg(long, default_value = FIELD_PREDICTION)]
    pub field: String,
    /// A transition is a predicted boundary when its score is at least this.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One movie's arrays as the evaluator needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedMovie {
    pub imdb_id: String,
    pub ground_truth: Vec<bool>,
    pub scores: Vec<f32>,
    pub shot_end_frame: Vec<i64>,
}

impl LoadedMovie {
    fn input(&self) -> MovieInput<'_> {
        MovieInput {
            imdb_id: &self.imdb_id,
            ground_truth: &self.ground_truth,
            scores: &self.scores,
            shot_end_frame: &self.shot_end_frame,
        }
    }
}

/// Movies that can be scored, and a message for each one that cannot (or that is scored
/// with a caveat).
#[derive(Debug, Default)]
pub struct Loaded {
    pub movies: Vec<LoadedMovie>,
    pub warnings: Vec<String>,
}

fn one_dimensional<'a>(array: &'a NdArray, name: &str) -> Result<&'a ArrayData, String> {
    if array.shape.len() != 1 {
        return Err(format!(
            "field '{name}' has shape {:?}; expected one value per transition or shot",
            array.shape
        ));
    }
    Ok(&array.data)
}

fn array_field<'a>(record: &'a Record, name: &str) -> Result<&'a NdArray, String> {
    match pickle::field(record, name) {
        Some(Field::Array(a)) => Ok(a),
        Some(Field::Str(_)) => Err(format!("field '{name}' is a string, not an array")),
        None => Err(format!("missing field '{name}'")),
    }
}

/// Ground truth as the reference reads it: `gt == 1` for precision/recall and truthiness for
/// scenes, which agree only for 0/1 values, so anything else is refused.
fn ground_truth(record: &Record) -> Result<Vec<bool>, String> {
    let data = one_dimensional(array_field(record, FIELD_GROUND_TRUTH)?, FIELD_GROUND_TRUTH)?;
    if let ArrayData::Bool(v) = data {
        return Ok(v.clone());
    }
    let values = data.to_f64_vec();
    match values.iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(i) => Err(format!(
            "field '{FIELD_GROUND_TRUTH}' holds {} at transition {i}; expected 0 or 1",
            values[i]
        )),
        None => Ok(values.iter().map(|&v| v == 1.0).collect()),
    }
}

/// The scores of `name`, taken from the record directly (any field, not only the file's own
/// predictions). float64 scores are rounded to float32, with a warning if that changes any.
fn scores(record: &Record, name: &str, id: &str, warnings: &mut Vec<String>) -> Result<Vec<f32>, String> {
    let data = one_dimensional(array_field(record, name)?, name)?;
    Ok(match data {
        ArrayData::F32(v) => v.clone(),
        ArrayData::F64(v) => {
            let rounded: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            if v.iter().zip(&rounded).any(|(&a, &b)| f64::from(b) != a && !a.is_nan()) {
                warnings.push(format!(
                    "{id}: '{name}' is float64; scored as float32, so the last digits may \
                     differ from the reference evaluator"
                ));
            }
            rounded
        }
        ArrayData::Bool(v) => v.iter().map(|&b| f32::from(u8::from(b))).collect(),
        other => other.to_f64_vec().iter().map(|&x| x as f32).collect(),
    })
}

fn end_frames(record: &Record) -> Result<Vec<i64>, String> {
    let data = one_dimensional(array_field(record, FIELD_SHOT_END_FRAME)?, FIELD_SHOT_END_FRAME)?;
    match data {
        ArrayData::I64(v) => Ok(v.clone()),
        ArrayData::I32(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
        ArrayData::I16(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
        ArrayData::I8(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
        ArrayData::U8(v) => Ok(v.iter().map(|&x| i64::from(x)).collect()),
        other => Err(format!(
            "field '{FIELD_SHOT_END_FRAME}' has dtype {}; expected integer frame numbers",
            other.dtype().name()
        )),
    }
}

/// Take what the evaluator needs from one file's record. `Err` names the problem; the
/// caller adds the movie's name.
pub fn movie_from_record(
    record: &Record,
    fallback_id: &str,
    field: &str,
    warnings: &mut Vec<String>,
) -> Result<LoadedMovie, String> {
    let imdb_id = match pickle::field(record, FIELD_IMDB_ID) {
        Some(Field::Str(s)) => s.clone(),
        _ => {
            warnings.push(format!(
                "{fallback_id}: no string field '{FIELD_IMDB_ID}'; using the file name"
            ));
            fallback_id.to_owned()
        }
    };
    let ground_truth = ground_truth(record)?;
    let scores = scores(record, field, &imdb_id, warnings)?;
    let shot_end_frame = end_frames(record)?;
    Ok(LoadedMovie {
        imdb_id,
        ground_truth,
        scores,
        shot_end_frame,
    })
}

/// The `*.pkl` files of `dir`, sorted by name so that results do not depend on the
/// filesystem (the reference uses `glob` order, which only moves the last digits of the means).
pub fn pkl_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "pkl") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Read every file and keep the movies that can be scored. Each movie that cannot gets a
/// warning naming it; movies without boundaries are kept (the reference scores them: AP 0,
/// F1 NaN) with a warning.
pub fn load_movies(files: &[PathBuf], field: &str) -> Loaded {
    let mut loaded = Loaded::default();
    let mut seen = std::collections::HashSet::new();
    for path in files {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let record = match pickle::read_record_file(path) {
            Ok(r) => r,
            Err(e) => {
                loaded
                    .warnings
                    .push(format!("{stem}: cannot read {}: {e}; skipped", path.display()));
                continue;
            }
        };
        let movie = match movie_from_record(&record, &stem, field, &mut loaded.warnings) {
            Ok(m) => m,
            Err(problem) => {
                loaded.warnings.push(format!("{stem}: {problem}; skipped"));
                continue;
            }
        };
        if let Some(problem) = eval::check_movie(&movie.input()) {
            loaded
                .warnings
                .push(format!("{}: {problem}; skipped", movie.imdb_id));
            continue;
        }
        if !seen.insert(movie.imdb_id.clone()) {
            loaded.warnings.push(format!(
                "{}: imdb id already seen in another file ({}); skipped",
                movie.imdb_id,
                path.display()
            ));
            continue;
        }
        if !movie.ground_truth.contains(&true) {
            loaded.warnings.push(format!(
                "{}: no positive scene transitions in the ground truth; scored as the \
                 reference does (AP 0, F1 NaN, which makes the mean F1 NaN)",
                movie.imdb_id
            ));
        }
        loaded.movies.push(movie);
    }
    loaded
}

fn json_number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// `--json`: the reference's six totals, per-movie scores and the warnings. NaN is `null`.
pub fn to_json(metrics: &Metrics, warnings: &[String]) -> serde_json::Value {
    let per_movie: serde_json::Map<String, serde_json::Value> = metrics
        .per_movie
        .iter()
        .map(|m| {
            (
                m.imdb_id.clone(),
                serde_json::json!({
                    "AP": json_number(m.ap),
                    "Miou": json_number(m.miou),
                    "Precision": json_number(m.precision),
                    "Recall": json_number(m.recall),
                    "F1": json_number(m.f1),
                }),
            )
        })
        .collect();
    serde_json::json!({
        "AP": json_number(metrics.ap),
        "mAP": json_number(metrics.map),
        "Miou": json_number(metrics.miou),
        "Precision": json_number(metrics.precision),
        "Recall": json_number(metrics.recall),
        "F1": json_number(metrics.f1),
        "per_movie": per_movie,
        "warnings": warnings,
    })
}

/// The readable table: one row per movie, then the means (the reference's mAP, Miou,
/// Precision, Recall, F1) and the pooled AP.
pub fn to_table(evaluator: &Evaluator, metrics: &Metrics, threshold: f32) -> String {
    let table = evaluator.table(threshold, metrics);
    let width = table.iter().map(|r| r.imdb_id.len()).max().unwrap_or(0).max(10);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$} {:>6} {:>6} {:>6}  {:>7} {:>7} {:>9} {:>7} {:>7}",
        "movie", "shots", "bounds", "pred", "AP", "Miou", "Precision", "Recall", "F1"
    );
    for row in &table {
        let m = &row.metrics;
        let _ = writeln!(
            out,
            "{:<width$} {:>6} {:>6} {:>6}  {:>7.4} {:>7.4} {:>9.4} {:>7.4} {:>7.4}",
            row.imdb_id, row.shots, row.boundaries, row.predicted, m.ap, m.miou, m.precision,
            m.recall, m.f1
        );
    }
    let shots: usize = table.iter().map(|r| r.shots).sum();
    let bounds: usize = table.iter().map(|r| r.boundaries).sum();
    let pred: usize = table.iter().map(|r| r.predicted).sum();
    let _ = writeln!(
        out,
        "{:<width$} {:>6} {:>6} {:>6}  {:>7.4} {:>7.4} {:>9.4} {:>7.4} {:>7.4}",
        format!("mean of {}", table.len()),
        shots,
        bounds,
        pred,
        metrics.map,
        metrics.miou,
        metrics.precision,
        metrics.recall,
        metrics.f1
    );
    let _ = writeln!(
        out,
        "\nthreshold {threshold}   AP (pooled) {:.4}   mAP {:.4}   Miou {:.4}   Precision {:.4}   Recall {:.4}   F1 {:.4}",
        metrics.ap, metrics.map, metrics.miou, metrics.precision, metrics.recall, metrics.f1
    );
    out
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let files = pkl_files(&args.dir)?;
    if files.is_empty() {
        anyhow::bail!(
            "no .pkl files in {}; point 'scenelab evaluate' at the folder of movie files",
            args.dir.display()
        );
    }
    let loaded = load_movies(&files, &args.field);
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    if loaded.movies.is_empty() {
        anyhow::bail!(
            "none of the {} files in {} could be scored (see the warnings above)",
            files.len(),
            args.dir.display()
        );
    }
    let inputs: Vec<MovieInput> = loaded.movies.iter().map(LoadedMovie::input).collect();
    let evaluator = Evaluator::new(&inputs)?;
    let metrics = evaluator.metrics(args.threshold);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&metrics, &loaded.warnings))?);
    } else {
        print!("{}", to_table(&evaluator, &metrics, args.threshold));
    }
    Ok(())
}
