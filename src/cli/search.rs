//! `scenelab search`.

/// Arguments of `scenelab search`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab search' is not available in this build yet")
}
