//! `scenelab bench`.

/// Arguments of `scenelab bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab bench' is not available in this build yet")
}
