//! `scenelab inspect PATH... [--json]`: decode movie files in full (folders mean every `*.pkl`
//! in them, or every movie of a MovieNet folder, shown as the record it reads as) and list each file's fields with dtype, shape and sum, its shot and scene counts
//! (via `Movie::from_record`) and any error. A bad file is reported and the others are still
//! shown; the exit code is non-zero if any file failed or has a field that cannot be used.
//!
//! `--json` prints one object per file and line:
//! `{"file", "ok", "error", "shots", "scenes", "notes",
//!   "fields": {NAME: {"dtype", "shape", "sum", "status"}}}`.
//! Arrays give `sum` over all elements as f64 (true = 1). String fields give dtype `"str"`,
//! shape `[]`, no `sum`, and their text as `"value"`. A field that could not be read has
//! dtype `"unreadable"`. Each field's `status` is `"ok"` or why the movie cannot use it (a
//! wrong length names both lengths); a file is `ok` when it is a movie, even with some fields
//! unusable. A file that decodes but is not a movie has `ok: false`, the reason in `error`,
//! and its fields still listed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use std::sync::Arc;

use crate::data::Movie;
use crate::data::movienet::{self, Layout};
use crate::pickle::{Field, read_record_file};

/// Arguments of `scenelab inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Movie files (.pkl), or folders meaning every *.pkl in them, or every movie of a
    /// MovieNet folder (label*/, shot_movie*/, *_feat/).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print one JSON object per file and line instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One field as `inspect` shows it: the summary, not the data.
struct FieldSummary {
    name: String,
    /// `None` for a string or unreadable field.
    array: Option<(&'static str, Vec<usize>, f64)>,
    /// A string field's text, or why an unreadable field could not be read.
    text: String,
    unreadable: bool,
    /// Why the movie cannot use the field, if it cannot.
    problem: Option<String>,
}

impl FieldSummary {
    fn of(name: &str, f: &Field) -> Self {
        match f {
            Field::Str(s) => FieldSummary {
                name: name.to_owned(),
                array: None,
                text: s.clone(),
                unreadable: false,
                problem: None,
            },
            Field::Array(a) => FieldSummary {
                name: name.to_owned(),
                array: Some((a.dtype().name(), a.shape.clone(), a.data.sum_f64())),
                text: String::new(),
                unreadable: false,
                problem: None,
            },
            Field::Unreadable(reason) => FieldSummary {
                name: name.to_owned(),
                array: None,
                text: reason.clone(),
                unreadable: true,
                problem: Some(reason.clone()),
            },
        }
    }

    fn status(&self) -> &str {
        self.problem.as_deref().unwrap_or("ok")
    }

    fn json(&self) -> Value {
        let status = self.status();
        match &self.array {
            None if self.unreadable => {
                json!({"dtype": "unreadable", "shape": [], "status": status})
            }
            None => json!({"dtype": "str", "shape": [], "value": self.text, "status": status}),
            Some((dtype, shape, sum)) => {
                json!({"dtype": dtype, "shape": shape, "sum": sum, "status": status})
            }
        }
    }

    fn line(&self, width: usize) -> String {
        let name = &self.name;
        let mut line = match &self.array {
            None if self.unreadable => format!("  {name:width$}  unreadable"),
            None => format!("  {name:width$}  str    {:?}", self.text),
            Some((dtype, shape, sum)) => {
                format!("  {name:width$}  {dtype:<5}  {shape:?}  sum {sum}")
            }
        };
        match &self.problem {
            Some(p) => line.push_str(&format!("  UNUSABLE: {p}")),
            None => line.push_str("  ok"),
        }
        line
    }
}

/// What `inspect` learned about one file.
struct Report {
    file: PathBuf,
    fields: Vec<FieldSummary>,
    movie: Option<(usize, Option<usize>)>,
    notes: Vec<String>,
    error: Option<String>,
}

/// What `inspect` reads: a pkl file, or a movie of a MovieNet folder.
enum Item {
    File(PathBuf),
    MovieNet(Arc<Layout>, String),
}

/// The files of `paths` (a folder: its `*.pkl`, or every movie of its MovieNet layout).
fn list_items(paths: &[PathBuf]) -> anyhow::Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        if let Some(layout) = Layout::detect(p).filter(|_| p.is_dir()) {
            items.append(&mut files.drain(..).map(Item::File).collect());
            let ids = layout.ids();
            if ids.is_empty() {
                anyhow::bail!(
                    "{} has MovieNet's folders but no movie in them",
                    p.display()
                );
            }
            let layout = Arc::new(layout);
            items.extend(ids.into_iter().map(|id| Item::MovieNet(layout.clone(), id)));
        } else {
            files.append(&mut list_files(std::slice::from_ref(p))?);
        }
    }
    items.extend(files.into_iter().map(Item::File));
    Ok(items)
}

fn list_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot list folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "pkl"))
                .collect();
            found.sort();
            if found.is_empty() {
                // The wording (and the `scenelab demo` hint) of train and export.
                return Err(crate::data::DataError::NoMovies { path: p.clone() }.into());
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn inspect_file(file: &Path) -> Report {
    let mut report = Report {
        file: file.to_owned(),
        fields: Vec::new(),
        movie: None,
        notes: Vec::new(),
        error: None,
    };
    match read_record_file(file) {
        Err(e) => report.error = Some(e.to_string()),
        Ok(record) => {
            report.fields = record.iter().map(|(k, f)| FieldSummary::of(k, f)).collect();
            match Movie::from_record(record) {
                Ok(m) => {
                    report.movie = Some((m.n_shots, m.n_scenes()));
                    for issue in &m.issues {
                        if let Some(f) = report.fields.iter_mut().find(|f| f.name == issue.field) {
                            f.problem = Some(issue.problem.clone());
                        }
                    }
                    report.notes = m.notes;
                }
                Err(e) => report.error = Some(e.to_string()),
            }
        }
    }
    report
}

/// A MovieNet movie as a file's report: the fields of the record it is assembled into, the
/// files that could not be used as unusable fields, the layout's notes first.
fn inspect_movienet(layout: &Layout, id: &str) -> Report {
    let mut report = Report {
        file: layout.root.join(id),
        fields: Vec::new(),
        movie: None,
        notes: Vec::new(),
        error: None,
    };
    let read = match movienet::movie_record(layout, id) {
        Ok(r) => r,
        Err(e) => {
            report.error = Some(e);
            return report;
        }
    };
    report.fields = read
        .record
        .iter()
        .map(|(k, f)| FieldSummary::of(k, f))
        .collect();
    for issue in &read.issues {
        let mut f = FieldSummary::of(&issue.field, &Field::Unreadable(issue.problem.clone()));
        f.problem = Some(issue.problem.clone());
        report.fields.push(f);
    }
    report.notes = read.notes;
    match Movie::from_record(read.record) {
        Ok(m) => {
            report.movie = Some((m.n_shots, m.n_scenes()));
            for issue in &m.issues {
                if let Some(f) = report.fields.iter_mut().find(|f| f.name == issue.field) {
                    f.problem = Some(issue.problem.clone());
                }
            }
            report.notes.extend(m.notes);
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    report
}

/// One line on a MovieNet folder: which of its parts are there.
fn describe_layout(layout: &Layout) -> String {
    let show = |p: &Option<PathBuf>| {
        p.as_ref().map(|p| {
            p.strip_prefix(&layout.root)
                .unwrap_or(p)
                .display()
                .to_string()
        })
    };
    let mut parts: Vec<String> = [&layout.labels, &layout.shots, &layout.split_file]
        .into_iter()
        .filter_map(show)
        .collect();
    let features: Vec<String> = layout.features.iter().filter_map(show).collect();
    let features = if features.is_empty() {
        "no feature folder (place_feat, cast_feat, act_feat, aud_feat): the movies open for \
         viewing and evaluation, not for training"
            .to_owned()
    } else {
        parts.extend(features);
        String::new()
    };
    let mut line = format!(
        "{}: MovieNet layout ({})",
        layout.root.display(),
        parts.join(", ")
    );
    if !features.is_empty() {
        line.push_str(&format!("; {features}"));
    }
    line
}

fn report_json(r: &Report) -> Value {
    let fields: Map<String, Value> = r
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.json()))
        .collect();
    json!({
        "file": r.file.display().to_string(),
        "ok": r.error.is_none(),
        "error": r.error,
        "shots": r.movie.map(|m| m.0),
        "scenes": r.movie.and_then(|m| m.1),
        "notes": r.notes,
        "fields": fields,
    })
}

fn text_lines(r: &Report) -> Vec<String> {
    let mut lines = vec![match (&r.movie, &r.error) {
        (Some((shots, scenes)), _) => {
            let gt_unusable = r
                .fields
                .iter()
                .any(|f| f.name == crate::data::FIELD_GROUND_TRUTH && f.problem.is_some());
            let scenes = match scenes {
                Some(s) => format!("{s} scenes"),
                None if gt_unusable => "ground truth unusable".to_owned(),
                None => "no ground truth".to_owned(),
            };
            format!("{}: {shots} shots, {scenes}", r.file.display())
        }
        (_, Some(e)) => format!("{}: error: {e}", r.file.display()),
        (None, None) => r.file.display().to_string(),
    }];
    let width = r.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
    lines.extend(r.fields.iter().map(|f| f.line(width)));
    lines.extend(r.notes.iter().map(|n| format!("  note: {n}")));
    lines
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let items = list_items(&args.paths)?;
    // Decode in parallel but keep only the printed lines, so a folder of large movies is
    // never in memory at once; print in the order given.
    let reports: Vec<(bool, bool, Vec<String>)> = items
        .par_iter()
        .map(|item| {
            let r = match item {
                Item::File(f) => inspect_file(f),
                Item::MovieNet(layout, id) => inspect_movienet(layout, id),
            };
            let lines = if args.json {
                vec![report_json(&r).to_string()]
            } else {
                text_lines(&r)
            };
            let unusable_field = r.fields.iter().any(|f| f.problem.is_some());
            (r.error.is_none(), unusable_field, lines)
        })
        .collect();
    if !args.json {
        for p in &args.paths {
            if let Some(layout) = Layout::detect(p) {
                println!("{}", describe_layout(&layout));
            }
        }
    }
    let failed = reports.iter().filter(|(ok, _, _)| !ok).count();
    let with_issues = reports.iter().filter(|(ok, bad, _)| *ok && *bad).count();
    let mut out = std::io::stdout().lock();
    for line in reports.iter().flat_map(|(_, _, lines)| lines) {
        if let Err(e) = writeln!(out, "{line}") {
            // A closed pipe (`| head`) is not an error worth reporting.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    let n = reports.len();
    match (failed, with_issues) {
        (0, 0) => {}
        (_, 0) => anyhow::bail!("{failed} of {n} files could not be used"),
        (0, _) => anyhow::bail!(
            "{with_issues} of {n} files have a field that cannot be used (marked UNUSABLE)"
        ),
        _ => anyhow::bail!(
            "{failed} of {n} files could not be used, and {with_issues} more with a field that \
             cannot be used (marked UNUSABLE)"
        ),
    }
    Ok(())
}
