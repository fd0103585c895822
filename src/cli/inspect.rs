//! `scenelab inspect`.

/// Arguments of `scenelab inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab inspect' is not available in this build yet")
}
