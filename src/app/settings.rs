//! What the app remembers between runs: a small JSON file in the user's config folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The folder opened last; opened again when the app starts without one.
    pub last_folder: Option<PathBuf>,
    /// Frame rate of movies without their own: turns `shot_end_frame` into time on the
    /// timeline and places subtitles on shots.
    pub fps: f64,
    /// Frame rates the user set for single movies, by IMDb id.
    pub movie_fps: BTreeMap<String, f64>,
    /// How the features of the folders opened next are held: f16 halves their memory
    /// (MovieNet-318 entire: 3.5 GB instead of 7 GB); models widen them to f32 per movie.
    pub features: crate::data::FeaturePrecision,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            last_folder: None,
            fps: crate::data::subtitles::DEFAULT_FPS,
            movie_fps: BTreeMap::new(),
            features: crate::data::FeaturePrecision::F32,
        }
    }
}

impl Settings {
    /// The frame rate of movie `imdb_id`: its own, else the default.
    pub fn fps_of(&self, imdb_id: &str) -> f64 {
        self.movie_fps.get(imdb_id).copied().unwrap_or(self.fps)
    }

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
            movie_fps: BTreeMap::from([("tt0047396".to_string(), 23.976)]),
            features: crate::data::FeaturePrecision::F16,
        };
        s.save(&path).unwrap();
        assert_eq!(Settings::load(&path), s);
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(Settings::load(&path), Settings::default());
    }
}
