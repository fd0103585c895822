//! The search form: what Start will search, as the options of `scenelab search`.

use std::path::PathBuf;

use super::results::SavedSearch;
use crate::model::ModelKind;
use crate::train::TrainSettings;
use crate::train::decision::{self, Objective};
use crate::train::search::{self, SearchConfig};

/// What Start will search, as the form shows it (the options of `scenelab search`).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchForm {
    pub kind: ModelKind,
    /// Trials wanted in total; finished ones in the output folder count.
    pub trials: usize,
    pub folds: usize,
    /// Most epochs of every run (early stopping may end sooner).
    pub epochs: usize,
    pub patience: usize,
    pub seed: u64,
    pub test_movies: usize,
    /// What the decision step maximises on the validation movies.
    pub objective: Objective,
    /// Tune non-maximum suppression and the minimum scene length as well as the threshold.
    pub peak_picking: bool,
    /// Results folder; the same folder again resumes its search.
    pub out_dir: String,
}

/// The output folder `scenelab search --model KIND` uses without `--out`, as the form shows it.
pub(super) fn default_out_dir(kind: ModelKind) -> String {
    search::default_out_dir(kind).display().to_string()
}

impl Default for SearchForm {
    fn default() -> Self {
        let kind = ModelKind::Default;
        let defaults = SearchConfig::new(kind, PathBuf::new());
        SearchForm {
            kind,
            trials: defaults.trials,
            folds: defaults.folds,
            epochs: kind.default_epochs(),
            patience: defaults.settings.patience,
            seed: defaults.seed,
            test_movies: defaults.test_movies,
            objective: defaults.objective,
            peak_picking: true,
            out_dir: default_out_dir(kind),
        }
    }
}

impl SearchForm {
    /// Another kind: its default epochs and folder, unless the user changed them.
    pub fn set_kind(&mut self, kind: ModelKind) {
        if self.kind == kind {
            return;
        }
        if self.epochs == self.kind.default_epochs() {
            self.epochs = kind.default_epochs();
        }
        if self.out_dir == default_out_dir(self.kind) {
            self.out_dir = default_out_dir(kind);
        }
        self.kind = kind;
    }

    /// The settings of a saved search, so that Start resumes it (with more trials if asked).
    pub fn take_saved(&mut self, saved: &SavedSearch) {
        let h = &saved.header;
        self.kind = h.kind;
        self.folds = h.folds;
        self.seed = h.seed;
        self.epochs = h.settings.epochs;
        self.patience = h.settings.patience;
        self.test_movies = h.test_ids.len();
        self.trials = self.trials.max(saved.trials.len());
        self.objective = h.objective;
        // Peak picking is whatever goes beyond a plain threshold.
        self.peak_picking = h.grid.nms_windows.iter().any(|&w| w > 0)
            || h.grid.min_scene_lens.iter().any(|&l| l > 1);
        self.out_dir = saved.out_dir.display().to_string();
    }

    /// The library's configuration, as `scenelab search` builds it from the same options.
    pub fn config(&self) -> SearchConfig {
        let mut config = SearchConfig::new(self.kind, PathBuf::from(self.out_dir.trim()));
        config.trials = self.trials;
        config.folds = self.folds;
        config.seed = self.seed;
        config.test_movies = self.test_movies;
        config.settings = TrainSettings {
            epochs: self.epochs,
            patience: self.patience,
            ..config.settings
        };
        config.objective = self.objective;
        config.grid = decision::grid_for(self.peak_picking);
        config
    }
}
