//! The command line's subcommands, one file each: arguments (clap) and what they run.

pub mod bench;
pub mod convert;
pub mod demo;
pub mod evaluate;
pub mod export;
pub mod export_torch;
pub mod field;
pub mod gui;
pub mod inspect;
pub mod predict;
pub mod repeats;
pub mod search;
pub mod train;

/// A run that did its work on part of its input only: the results were printed, and the
/// process exits with status 2 so that a script does not mistake them for the whole.
#[derive(Debug, thiserror::Error)]
#[error(
    "scored {scored} of {files} files; the others were skipped (reasons above): pass \
     --allow-partial to accept a partial score"
)]
pub struct Partial {
    pub scored: usize,
    pub files: usize,
}

/// What to do about `e`, in the command line's terms, when the library's message does not say
/// it: a folder without movies can get demo ones.
pub fn hint(e: &anyhow::Error) -> Option<String> {
    e.chain()
        .find_map(|c| match c.downcast_ref::<crate::data::DataError>()? {
            crate::data::DataError::NoMovies { path } => Some(format!(
                "make demo data with `scenelab demo --out {}`",
                path.display()
            )),
            _ => None,
        })
}

/// `e` as one line for the user: its messages from the outermost in, joined by ": ", less
/// any cause whose text the message before it already ends with (an error that shows its
/// source in its own text, as `cannot read FILE: No such file …` does, would otherwise say
/// the OS error twice).
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Open `--model` as `scenelab predict` does, for every command that takes one: a model folder
/// or a weight file ([`crate::train::torch_checkpoint::open_model`]), the flag named in its
/// error, and what opening assumed printed on stderr.
pub fn open_model(
    path: &std::path::Path,
    kind: Option<crate::model::ModelKind>,
    device: &candle_core::Device,
) -> anyhow::Result<crate::train::TrainedModel> {
    use anyhow::Context as _;
    let crate::train::torch_checkpoint::Opened { model, notes } =
        crate::train::torch_checkpoint::open_model(path, kind, device).context("--model")?;
    for note in &notes {
        eprintln!("{}: {note}", path.display());
    }
    Ok(model)
}

/// The exit status for an error: 2 for [`Partial`] and [`export::PartialExport`], else 1.
pub fn exit_status(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<Partial>().is_some() || e.downcast_ref::<export::PartialExport>().is_some()
    {
        2
    } else {
        1
    }
}

/// Keep freed memory in the process instead of handing it back to the kernel at once.
///
/// Training frees and allocates tensors of tens of megabytes every step. glibc returns such
/// blocks to the kernel (they are mmapped, or trimmed off the heap), so each step pays for
/// fresh zeroed pages: a third of LGSS's time on full-size movies went to page faults. With
/// blocks up to 32 MB served from the heap and the heap not trimmed, an LGSS epoch on 12
/// full-size movies took 24.2 s instead of 32.7 s, for 1.5% more peak memory. Other
/// platforms' allocators are left as they are.
/// End quietly when a reader of stdout goes away (`scenelab evaluate DIR | head`), as Unix
/// tools do, instead of panicking in `println!`. For the command-line tools only: the app keeps
/// Rust's default (SIGPIPE ignored), so a closed socket cannot end it.
pub fn quiet_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread
    // exists, and a refused value leaves glibc's default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
    }
}

/// Print a line above `bar`. indicatif drops `println` on a hidden bar (stderr not a
/// terminal, as in a log file or a pipe), which would lose errors and notes there.
pub fn print_above(bar: &indicatif::ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        eprintln!("{}", line.as_ref());
    } else {
        bar.println(line);
    }
}

/// A terminal progress bar in SceneLab's style (hidden when stderr is not a terminal).
pub fn progress_bar(len: u64, message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({elapsed} elapsed, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}
