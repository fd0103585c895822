//! `scenelab train`.

/// Arguments of `scenelab train`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab train' is not available in this build yet")
}
