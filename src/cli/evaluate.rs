//! `scenelab evaluate`.

/// Arguments of `scenelab evaluate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab evaluate' is not available in this build yet")
}
