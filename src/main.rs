//! The `scenelab` binary: parses the command line and dispatches. All work lives in the library.

use clap::{Parser, Subcommand};
use scenelab::cli;

#[derive(Parser)]
#[command(
    name = "scenelab",
    version,
    about = "Movie scene segmentation: timelines, models and reference-exact metrics"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the desktop app (the default with no subcommand).
    Gui(cli::gui::Args),
    /// Write synthetic demo movies: pkl files, or MovieNet's layout with --layout movienet.
    Demo(cli::demo::Args),
    /// List each file's fields with dtype and shape, shot and scene counts, and errors.
    Inspect(cli::inspect::Args),
    /// Score predictions exactly as the challenge's evaluate_sceneseg.py does.
    Evaluate(cli::evaluate::Args),
    /// Train a boundary model on a folder of movies.
    Train(cli::train::Args),
    /// Write a model's predictions for every movie of a folder.
    Predict(cli::predict::Args),
    /// Write each movie's scenes as PySceneDetect CSV, LGSS JSON or a CMX 3600 EDL.
    Export(cli::export::Args),
    /// Write a model's weights for its PyTorch twin (python/scenelab_torch.py).
    ExportTorch(cli::export_torch::Args),
    /// Random hyperparameter search with movie-level cross-validation.
    Search(cli::search::Args),
    /// Benchmarks: loading, evaluation, rendering, training.
    Bench(cli::bench::Args),
    /// Convert a MovieNet folder to the challenge's pkl files, or pkl files to MovieNet's layout.
    Convert(cli::convert::Args),
}

fn main() -> std::process::ExitCode {
    cli::tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if !matches!(cli.command, None | Some(Command::Gui(_))) {
        cli::quiet_on_broken_pipe();
    }
    let result = match cli.command.unwrap_or(Command::Gui(cli::gui::Args {
        dir: None,
        models: Vec::new(),
    })) {
        Command::Gui(a) => cli::gui::run(a),
        Command::Demo(a) => cli::demo::run(a),
        Command::Inspect(a) => cli::inspect::run(a),
        Command::Evaluate(a) => cli::evaluate::run(a),
        Command::Train(a) => cli::train::run(a),
        Command::Predict(a) => cli::predict::run(a),
        Command::Export(a) => cli::export::run(a),
        Command::ExportTorch(a) => cli::export_torch::run(a),
        Command::Search(a) => cli::search::run(a),
        Command::Bench(a) => cli::bench::run(a),
        Command::Convert(a) => cli::convert::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let text = cli::error_text(&e);
            match cli::hint(&e) {
                Some(hint) => eprintln!("error: {text} ({hint})"),
                None => eprintln!("error: {text}"),
            }
            std::process::ExitCode::from(cli::exit_status(&e))
        }
    }
}
