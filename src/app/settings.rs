//! What the app remembers between runs: a small JSON file in the user's config folder.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The folder opened last; opened again when the app starts without one.
    pub last_folder: Option<PathBuf>,
    /// Frame rate used to turn `shot_end_frame` into time on the timeline.
    pub fps: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            last_folder: None,
            fps: 24.0,
        }
    }
}

impl Settings {
    /// `$XDG_CONFIG_HOME/scenelab/gui.json`, else `~/.config/scenelab/gui.json`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("scenelab").join("gui.json"))
    }

    /// The settings at `path`; defaults if the file is missing or unreadable (a broken
    /// settings file must never keep the app from starting).
    pub fn load(path: &Path) -> Settings {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        crate::files::write_atomic(path, &serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_survive_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("gui.json");
        assert_eq!(Settings::load(&path), Settings::default());
        let s = Settings {
            last_folder: Some(PathBuf::from("/data/movies")),
            fps: 25.0,
        };
        s.save(&path).unwrap();
        assert_eq!(Settings::load(&path), s);
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(Settings::load(&path), Settings::default());
    }
}
