//! The evaluation report as files: the JSON `scenelab evaluate --json` prints (the app's Save
//! report writes the same object), and a CSV table of the movies and their totals.

use super::{Metrics, MovieRow};

/// A file (or movie) left out of the scores, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// The warning `scenelab evaluate` gives for a movie whose ground truth has no boundary.
pub fn no_boundary_warning(imdb_id: &str) -> String {
    format!(
        "{imdb_id}: no positive scene transitions in the ground truth; scored as the \
         reference does (AP 0, F1 NaN, which makes the mean F1 NaN)"
    )
}

/// NaN (and infinity) as `null`, as JSON has no such numbers.
fn json_number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// `evaluate --json`'s object: the reference's six totals, per-movie scores keyed by imdb id,
/// how many movies they cover, how many files were read (`movies` + skipped), the skipped
/// files and the warnings. NaN is `null`.
pub fn to_json(metrics: &Metrics, skipped: &[Skipped], warnings: &[String]) -> serde_json::Value {
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
        "movies": metrics.per_movie.len(),
        "files": metrics.per_movie.len() + skipped.len(),
        "skipped": skipped,
        "warnings": warnings,
    })
}

/// The CSV header: per movie its size and scores; the last row, `imdb_id` "total", the sums
/// of the sizes, the pooled AP, the mAP and the means (the figures `evaluate` prints).
pub const CSV_COLUMNS: [&str; 10] = [
    "imdb_id",
    "shots",
    "boundaries",
    "predicted",
    "AP",
    "mAP",
    "Miou",
    "Precision",
    "Recall",
    "F1",
];

/// A number as Rust's shortest text that reads back to the same f64 (`NaN` for NaN).
fn csv_number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else {
        x.to_string()
    }
}

/// The table of `rows` (from [`super::Evaluator::table`]) with a total row from `metrics`;
/// numbers at full precision, so they equal the JSON's. A movie's mAP cell is empty (mAP is
/// a mean over movies).
pub fn to_csv(rows: &[MovieRow], metrics: &Metrics) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to memory cannot fail.
    w.write_record(CSV_COLUMNS).expect("in-memory CSV");
    for r in rows {
        let m = &r.metrics;
        w.write_record([
            r.imdb_id.clone(),
            r.shots.to_string(),
            r.boundaries.to_string(),
            r.predicted.to_string(),
            csv_number(m.ap),
            String::new(),
            csv_number(m.miou),
            csv_number(m.precision),
            csv_number(m.recall),
            csv_number(m.f1),
        ])
        .expect("in-memory CSV");
    }
    let sum = |f: fn(&MovieRow) -> usize| rows.iter().map(f).sum::<usize>().to_string();
    w.write_record([
        "total".to_string(),
        sum(|r| r.shots),
        sum(|r| r.boundaries),
        sum(|r| r.predicted),
        csv_number(metrics.ap),
        csv_number(metrics.map),
        csv_number(metrics.miou),
        csv_number(metrics.precision),
        csv_number(metrics.recall),
        csv_number(metrics.f1),
    ])
    .expect("in-memory CSV");
    w.into_inner().expect("in-memory CSV")
}
