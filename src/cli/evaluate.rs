//! `scenelab evaluate`: score a folder of movie files as the challenge's evaluator does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::field::ScoreField;
use crate::data::fields::{
    Converted, end_frames_from_array, ground_truth_from_array, scores_from_array,
};
use crate::data::movienet::{self, Layout};
use crate::data::{
    FIELD_GROUND_TRUTH, FIELD_IMDB_ID, FIELD_SHOT_END_FRAME, FIELD_UNCERTAIN, Modality, Scores,
};
use crate::eval::{self, Evaluator, Metrics, MovieInput};
use crate::pickle::{self, Field, NdArray, Record};

/// Arguments of `scenelab evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of `*.pkl` movie files, or a MovieNet folder (label*/, shot_movie*/; features
    /// are not needed).
    pub dir: PathBuf,
    /// Field holding the scores to evaluate, one per shot transition: prediction (the files'
    /// scene_transition_boundary_prediction), ground_truth (scene_transition_boundary_ground_truth)
    /// or the name of another field of the files. The same names as `scenelab export --field`.
    #[arg(long, default_value = "prediction", value_parser = super::field::parse_evaluate)]
    pub field: ScoreField,
    /// A transition is a predicted boundary when its score is at least this (compared at the
    /// scores' precision, as numpy compares).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Exit 0 even when some files could not be scored (the totals then cover only the
    /// files read; the count is printed either way). Without it such a run exits with 2.
    #[arg(long)]
    pub allow_partial: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One movie's arrays as the evaluator needs them, scores at the file's precision.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedMovie {
    pub imdb_id: String,
    pub ground_truth: Vec<bool>,
    pub scores: Scores,
    pub shot_end_frame: Vec<i64>,
}

impl LoadedMovie {
    fn input(&self) -> MovieInput<'_> {
        MovieInput {
            imdb_id: &self.imdb_id,
            ground_truth: &self.ground_truth,
            scores: self.scores.as_slice(),
            shot_end_frame: &self.shot_end_frame,
        }
    }
}

pub use crate::eval::report_files::Skipped;

/// Movies that can be scored, the files that cannot, and caveats (movies scored with a note).
#[derive(Debug, Default)]
pub struct Loaded {
    pub movies: Vec<LoadedMovie>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// The names of the fields, in any file read, that hold one value per shot transition
    /// (the ground truth's length): those `--field` can score.
    pub score_fields: std::collections::BTreeSet<String>,
    /// How many of the files read hold a feature of any modality (place, cast, action,
    /// audio): a model can score only those.
    pub with_features: usize,
}

/// The fields of `record` with one value per transition, as the ground truth has: 1-D arrays
/// of its length (none when the record has no ground truth to measure by).
fn score_like_fields(record: &Record) -> Vec<String> {
    let Some(Field::Array(gt)) = pickle::field(record, FIELD_GROUND_TRUTH) else {
        return Vec::new();
    };
    record
        .iter()
        .filter_map(|(name, f)| match f {
            Field::Array(a) if a.shape.len() == 1 && a.shape == gt.shape => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// A copy of the array of field `name` (the evaluated fields are small), or why there is none.
fn array_field(record: &Record, name: &str) -> Result<NdArray, String> {
    match pickle::field(record, name) {
        Some(Field::Array(a)) => Ok(a.clone()),
        Some(Field::Str(_)) => Err(format!("field '{name}' is a string, not an array")),
        Some(Field::Unreadable(reason)) => Err(format!("field '{name}' {reason}")),
        None => Err(format!("missing field '{name}'")),
    }
}

/// Read one field with `convert`, naming the field in its error and keeping its note.
fn read_field<T>(
    record: &Record,
    name: &str,
    convert: fn(NdArray) -> Converted<T>,
    notes: &mut Vec<String>,
) -> Result<T, String> {
    let (value, note) =
        convert(array_field(record, name)?).map_err(|e| format!("field '{name}' {e}"))?;
    notes.extend(note.map(|n| format!("field '{name}' {n}")));
    Ok(value)
}

/// Take what the evaluator needs from one file's record: the ground truth, the scores of
/// `field` (any field, not only the file's own predictions) at the file's precision, the end
/// frames. `Err` names the problem; the caller adds the movie's name. Caveats go to `notes`.
pub fn movie_from_record(
    record: &Record,
    fallback_id: &str,
    field: &str,
    notes: &mut Vec<String>,
) -> Result<LoadedMovie, String> {
    let imdb_id = match pickle::field(record, FIELD_IMDB_ID) {
        Some(Field::Str(s)) => s.clone(),
        _ => {
            notes.push(format!(
                "no string field '{FIELD_IMDB_ID}'; using the file name"
            ));
            fallback_id.to_owned()
        }
    };
    let ground_truth = read_field(record, FIELD_GROUND_TRUTH, ground_truth_from_array, notes)?;
    let scores = if field == FIELD_UNCERTAIN && pickle::field(record, field).is_none() {
        // SceneLab writes this field only for a movie with an uncertain (-1) label, so its
        // absence says that no transition is uncertain: scored as all false, not skipped.
        notes.push(format!(
            "no field '{field}' (written only when a label is uncertain): scored as no \
             uncertain transition"
        ));
        Scores::from_array(&crate::pickle::ArrayData::Bool(vec![
            false;
            ground_truth.len()
        ]))
    } else {
        read_field(record, field, scores_from_array, notes)?
    };
    let shot_end_frame = read_field(record, FIELD_SHOT_END_FRAME, end_frames_from_array, notes)?;
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
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "pkl") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Read every file and keep the movies that can be scored. Each file that cannot is listed
/// in `skipped` with the reason; movies without boundaries are kept (the reference scores
/// them: AP 0, F1 NaN) with a warning.
pub fn load_movies(files: &[PathBuf], field: &str) -> Loaded {
    let sources = files.iter().map(|path| {
        let name = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone());
        let record = pickle::read_record_file(path)
            .map(|r| (r, Vec::new()))
            .map_err(|e| format!("cannot read it: {e}"));
        (name, stem, record)
    });
    load_records(sources, field)
}

/// [`load_movies`] for the movies of a MovieNet folder, each assembled into the record a pkl
/// file holds ([`movienet::movie_record`]); a movie's layout notes become warnings, and a
/// file the layout could not use is a warning too (the score does not need it unless it is
/// the ground truth or the end frames, whose absence then skips the movie).
pub fn load_movienet(layout: &Layout, field: &str) -> Loaded {
    let sources = layout.ids().into_iter().map(|id| {
        let record = movienet::movie_record(layout, &id).map(|r| {
            let mut notes = r.notes;
            notes.extend(r.issues.iter().map(|i| format!("left out: {i}")));
            (r.record, notes)
        });
        (id.clone(), id, record)
    });
    load_records(sources, field)
}

/// Scores every `(name, stem, record and its notes)` of `sources` as [`load_movies`] says.
fn load_records(
    sources: impl Iterator<Item = (String, String, Result<(Record, Vec<String>), String>)>,
    field: &str,
) -> Loaded {
    let mut loaded = Loaded::default();
    let mut seen = std::collections::HashSet::new();
    // Caveats by text, with the files they concern: one line each, however many files.
    let mut noted: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, stem, record) in sources {
        let mut skip = |reason: String| {
            loaded.skipped.push(Skipped {
                file: name.clone(),
                reason,
            })
        };
        let (record, mut notes) = match record {
            Ok(r) => r,
            Err(e) => {
                skip(e);
                continue;
            }
        };
        loaded.score_fields.extend(score_like_fields(&record));
        if Modality::ALL
            .into_iter()
            .any(|m| pickle::field(&record, m.field()).is_some())
        {
            loaded.with_features += 1;
        }
        let movie = match movie_from_record(&record, &stem, field, &mut notes) {
            Ok(m) => m,
            Err(problem) => {
                skip(problem);
                continue;
            }
        };
        if let Some(problem) = eval::check_movie(&movie.input()) {
            skip(format!("movie '{}': {problem}", movie.imdb_id));
            continue;
        }
        if !seen.insert(movie.imdb_id.clone()) {
            skip(format!(
                "imdb id '{}' already seen in another file",
                movie.imdb_id
            ));
            continue;
        }
        for n in notes {
            noted.entry(n).or_default().push(stem.clone());
        }
        if !movie.ground_truth.contains(&true) {
            loaded
                .warnings
                .push(crate::eval::report_files::no_boundary_warning(
                    &movie.imdb_id,
                ));
        }
        loaded.movies.push(movie);
    }
    for (note, files) in noted {
        let which = match files.as_slice() {
            [one] => one.clone(),
            [first, ..] => format!("{} files ({first}, …)", files.len()),
            [] => continue,
        };
        loaded.warnings.push(format!("{which}: {note}"));
    }
    loaded
}

/// `--json`: the reference's six totals, per-movie scores, how many movies they cover, the
/// skipped files and the warnings ([`crate::eval::report_files::to_json`]). NaN is `null`.
pub fn to_json(metrics: &Metrics, loaded: &Loaded) -> serde_json::Value {
    crate::eval::report_files::to_json(metrics, &loaded.skipped, &loaded.warnings)
}

/// The readable table: one row per movie, then the means (the reference's mAP, Miou,
/// Precision, Recall, F1) and the pooled AP.
pub fn to_table(evaluator: &Evaluator, metrics: &Metrics, threshold: f64, files: usize) -> String {
    let table = evaluator.table(threshold, metrics);
    let width = table
        .iter()
        .map(|r| r.imdb_id.len())
        .max()
        .unwrap_or(0)
        .max(10);
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
            row.imdb_id,
            row.shots,
            row.boundaries,
            row.predicted,
            m.ap,
            m.miou,
            m.precision,
            m.recall,
            m.f1
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
    let over = if files == table.len() {
        format!("over all {files} files")
    } else {
        format!("over {} of {files} files", table.len())
    };
    let _ = writeln!(
        out,
        "\n{over}, threshold {threshold}   AP (pooled) {:.4}   mAP {:.4}   Miou {:.4}   Precision {:.4}   Recall {:.4}   F1 {:.4}",
        metrics.ap, metrics.map, metrics.miou, metrics.precision, metrics.recall, metrics.f1
    );
    out
}

/// Why the mean F1 is NaN, when it is: the movies whose F1 is 0/0 (no correctly found
/// boundary, so precision and recall are both 0). The reference's mean keeps the NaN, and so
/// does SceneLab, so the figures stay the reference's; this says where it comes from.
fn nan_f1_note(evaluator: &Evaluator, metrics: &Metrics, threshold: f64) -> Option<String> {
    if !metrics.f1.is_nan() {
        return None;
    }
    let movies: Vec<String> = evaluator
        .table(threshold, metrics)
        .into_iter()
        .filter(|r| r.metrics.f1.is_nan())
        .map(|r| r.imdb_id)
        .collect();
    let (shown, more) = (
        movies.iter().take(5).cloned().collect::<Vec<_>>(),
        movies.len().saturating_sub(5),
    );
    Some(format!(
        "F1 is NaN because {} {} no correctly found boundary (precision and recall 0, so \
         2PR/(P+R) is 0/0): {}{}; the reference evaluator averages the NaN as it is",
        movies.len(),
        if movies.len() == 1 {
            "movie has"
        } else {
            "movies have"
        },
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// The error when every one of the `files` movies lacks `field` (none is scored and each was
/// skipped for that alone), with advice that fits the folder; `None` otherwise.
///
/// * a name no file holds: there is no such field; the files' score-like fields are listed;
/// * the prediction, in movies with features: a model's can be written with `scenelab
///   predict`;
/// * the prediction, in movies without features (a MovieNet folder of labels and shot
///   frames): only the labels can be checked (`--field ground_truth`) until features are
///   added.
fn no_movie_holds(
    args: &Args,
    field: &str,
    loaded: &Loaded,
    files: usize,
    movienet: bool,
) -> Option<anyhow::Error> {
    let missing = format!("missing field '{field}'");
    if !loaded.movies.is_empty() || loaded.skipped.iter().any(|s| s.reason != missing) {
        return None;
    }
    let dir = args.dir.display();
    let held = if loaded.score_fields.is_empty() {
        "they hold no field with one value per shot transition".to_owned()
    } else {
        format!(
            "the fields they hold with one value per shot transition are {}",
            loaded
                .score_fields
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let what = if movienet {
        format!("of the MovieNet folder {dir}")
    } else {
        format!("in {dir}")
    };
    Some(match &args.field {
        ScoreField::Prediction if loaded.with_features == 0 => anyhow::anyhow!(
            "none of the {files} movies {what} has a prediction ('{field}'), and none has \
             features a model could predict one from: check the labels with --field \
             ground_truth, or add the features (place, cast, action, audio) and write a \
             model's prediction with `scenelab predict`"
        ),
        ScoreField::Prediction => anyhow::anyhow!(
            "none of the {files} movies {what} has a prediction ('{field}'): write a model's \
             with `scenelab predict {dir} --model MODEL --out OUT` and evaluate OUT, or score \
             another field with --field ({held})"
        ),
        _ => anyhow::anyhow!(
            "there is no field '{field}' in any of the {files} movies {what}: {held}; pass one \
             of them (or prediction, ground_truth) to --field"
        ),
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let field = args
        .field
        .file_field()
        .ok_or_else(|| anyhow::anyhow!("--field: {}", super::field::EVALUATE.refusal("model")))?;
    let movienet = Layout::detect(&args.dir);
    let (loaded, files) = match &movienet {
        Some(layout) => {
            let loaded = load_movienet(layout, field);
            let n = loaded.movies.len() + loaded.skipped.len();
            if n == 0 {
                anyhow::bail!(
                    "{} has MovieNet's folders but no movie in them",
                    args.dir.display()
                );
            }
            (loaded, n)
        }
        None => {
            let files = pkl_files(&args.dir)?;
            if files.is_empty() {
                anyhow::bail!(
                    "no .pkl files in {}; point 'scenelab evaluate' at the folder of movie files \
                     (or of a MovieNet layout)",
                    args.dir.display()
                );
            }
            (load_movies(&files, field), files.len())
        }
    };
    if let Some(e) = no_movie_holds(&args, field, &loaded, files, movienet.is_some()) {
        // One line, not one per movie: every movie lacks the field.
        return Err(e);
    }
    super::repeats::print_collapsed(
        "skipped ",
        loaded
            .skipped
            .iter()
            .map(|s| (s.file.as_str(), s.reason.as_str())),
    );
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    if loaded.movies.is_empty() {
        let missing = format!("missing field '{field}'");
        let without = loaded
            .skipped
            .iter()
            .filter(|s| s.reason == missing)
            .count();
        if matches!(args.field, ScoreField::Other(_)) && without > 0 {
            // Most likely a misspelt name: say which names --field takes.
            anyhow::bail!(
                "none of the {files} files in {} could be scored (see the reasons above), {without} \
                 of them having no field '{field}': --field {}",
                args.dir.display(),
                super::field::EVALUATE.refusal(field)
            );
        }
        anyhow::bail!(
            "none of the {} files in {} could be scored (see the reasons above)",
            files,
            args.dir.display()
        );
    }
    let inputs: Vec<MovieInput> = loaded.movies.iter().map(LoadedMovie::input).collect();
    let evaluator = Evaluator::new(&inputs)?;
    let metrics = evaluator.metrics(args.threshold);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&metrics, &loaded))?
        );
    } else {
        print!("{}", to_table(&evaluator, &metrics, args.threshold, files));
    }
    if let Some(note) = nan_f1_note(&evaluator, &metrics, args.threshold) {
        eprintln!("note: {note}");
    }
    if !loaded.skipped.is_empty() && !args.allow_partial {
        return Err(super::Partial {
            scored: loaded.movies.len(),
            files,
        }
        .into());
    }
    Ok(())
}
