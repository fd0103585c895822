//! The command line's subcommands, one file each: arguments (clap) and what they run.

pub mod bench;
pub mod demo;
pub mod evaluate;
pub mod gui;
pub mod inspect;
pub mod predict;
pub mod search;
pub mod train;

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
