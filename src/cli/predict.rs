//! `scenelab predict`.

/// Arguments of `scenelab predict`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("'scenelab predict' is not available in this build yet")
}
