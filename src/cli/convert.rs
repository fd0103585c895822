//! `scenelab convert SRC OUT`: a MovieNet folder to the challenge's pkl files, or a folder of
//! pkl files to MovieNet's layout ([`crate::workflow::convert`]), with a progress bar.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::ProgressBar;

use crate::observer::Observer;
use crate::workflow::convert::{self, ConvertError, ConvertEvent, Direction};
use crate::workflow::export::ExportError;

/// Arguments of `scenelab convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A MovieNet folder (label*/, shot_movie*/, meta/, *_feat/) to write as pkl files, or a
    /// folder of *.pkl movies to write in MovieNet's layout.
    pub src: PathBuf,
    /// Folder to write into (created if needed; must differ from SRC). Files of the same name
    /// there are replaced.
    pub out: PathBuf,
    /// Split file to write into OUT/meta/split318.json instead of SRC's own meta/split*.json
    /// (JSON lists of imdb ids under "train", "val" and "test").
    #[arg(long)]
    pub split_file: Option<PathBuf>,
    /// Print every movie's caveats (short label files, missing feature files), not only
    /// their count.
    #[arg(long)]
    pub verbose: bool,
}

/// Conversion's progress on the terminal: a bar of movies, a line per failure, and the
/// caveats counted, the first kept as an example (all printed with `--verbose`).
struct ConvertBar {
    bar: ProgressBar,
    verbose: bool,
    notes: AtomicUsize,
    first_note: std::sync::Mutex<Option<String>>,
}

impl Observer<ConvertEvent> for ConvertBar {
    fn progress(&self, done: usize, total: usize, what: &str) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        self.bar.set_message(what.to_string());
    }

    fn event(&self, event: ConvertEvent) {
        match event {
            ConvertEvent::Failed { movie, message } => {
                super::print_above(&self.bar, format!("error: {movie}: {message}"))
            }
            ConvertEvent::Note { movie, note } => {
                self.notes.fetch_add(1, Ordering::Relaxed);
                let line = format!("{movie}: {note}");
                if self.verbose {
                    super::print_above(&self.bar, format!("note: {line}"));
                }
                self.first_note
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(line);
            }
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let observer = ConvertBar {
        bar: super::progress_bar(0, "converting"),
        verbose: args.verbose,
        notes: AtomicUsize::new(0),
        first_note: Default::default(),
    };
    let summary = convert::convert(&args.src, &args.out, args.split_file.as_deref(), &observer)
        .map_err(|e| match e {
            ConvertError::Output(ExportError::SameFolder { .. }) => anyhow::anyhow!(
                "OUT is the source folder {}: pass another folder",
                args.src.display()
            ),
            other => other.into(),
        })?;
    observer.bar.finish_and_clear();
    let what = match summary.direction {
        Direction::MovieNetToPkl => "MovieNet movies as pkl files",
        Direction::PklToMovieNet => "pkl movies in MovieNet's layout",
    };
    println!("wrote {} {what} to {}", summary.written, args.out.display());
    if let Some(split) = &summary.split {
        println!("split file written to {}", split.display());
    }
    let notes = observer.notes.into_inner();
    let first = observer
        .first_note
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    if let (false, Some(first)) = (args.verbose, first) {
        eprintln!(
            "{notes} caveat(s) (short label files, missing feature files, fields left behind), \
             the first: {first}\npass --verbose to list them all"
        );
    }
    anyhow::ensure!(
        summary.failed == 0,
        "{} movie(s) could not be converted (see above)",
        summary.failed
    );
    Ok(())
}
