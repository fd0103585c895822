//! The training form: what Train will train, and the split it makes of the open movies.

use super::{DEFAULT_FOLDS, DEFAULT_TEST_MOVIES};
use crate::data::{HeldOut, Movie, Split, SplitPolicyError, training_split};
use crate::model::{ModelConfig, ModelKind};
use crate::train::decision::Objective;
use crate::train::{TrainConfig, TrainSettings};
use crate::workflow::DeviceArg;
use crate::workflow::cross_validation::CrossValidationRequest;
use crate::workflow::train::TrainRequest;

/// What Train will train, as the form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingForm {
    pub model: ModelConfig,
    pub settings: TrainSettings,
    /// Movies held out for the final test (capped so that two remain to train and validate).
    pub test_movies: usize,
    pub device: DeviceArg,
    /// What the decision step, tuned on the validation movies after training, maximises.
    pub objective: Objective,
    /// Tune peak picking (NMS window, minimum scene length) too, not only the threshold.
    pub peak_picking: bool,
    /// Cross-validate (train one model per fold, keep none) instead of training one model on
    /// one split.
    pub cross_validate: bool,
    /// Folds asked for; [`TrainingForm::folds_for`] clamps it to what the folder allows.
    pub folds: usize,
    /// The open folder's split file (its name) and parts: when set, Train trains, validates
    /// and tests on its movies instead of holding out `test_movies`.
    pub folder_split: Option<(String, Split)>,
}

impl Default for TrainingForm {
    fn default() -> Self {
        TrainingForm::for_kind(ModelKind::Default)
    }
}

impl TrainingForm {
    /// The kind's published config and training settings, with its own learning rate filled in.
    pub fn for_kind(kind: ModelKind) -> Self {
        let model = kind.default_config();
        TrainingForm {
            settings: TrainSettings {
                learning_rate: Some(model.learning_rate()),
                ..TrainSettings::for_kind(kind)
            },
            model,
            test_movies: DEFAULT_TEST_MOVIES,
            device: DeviceArg::Auto,
            objective: Objective::Miou,
            peak_picking: false,
            cross_validate: false,
            folds: DEFAULT_FOLDS,
            folder_split: None,
        }
    }

    /// Another kind: its defaults, keeping the split, seed and device.
    pub fn set_kind(&mut self, kind: ModelKind) {
        if self.model.kind() == kind {
            return;
        }
        let mut next = TrainingForm::for_kind(kind);
        next.test_movies = self.test_movies;
        next.settings.seed = self.settings.seed;
        next.settings.patience = self.settings.patience;
        next.device = self.device;
        next.objective = self.objective;
        next.peak_picking = self.peak_picking;
        next.cross_validate = self.cross_validate;
        next.folds = self.folds;
        next.folder_split = self.folder_split.clone();
        *self = next;
    }

    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            model: self.model.clone(),
            settings: self.settings.clone(),
        }
    }
}

/// The movies training can use: ground truth and all four modalities.
pub fn usable_for_training(m: &Movie) -> bool {
    m.is_trainable()
}

/// The split Train makes of `ids` (the usable movies): the split policy with the form's test
/// movies, fewer when needed so that two movies remain to train and validate.
pub(super) fn split_for(ids: &[String], test_movies: usize, seed: u64) -> Result<Split, String> {
    training_split(ids, &HeldOut::AtMost(test_movies), seed).map_err(|e| split_message(&e))
}

impl TrainingForm {
    /// What Train holds out: the folder's split when it has one, else the form's test movies.
    pub fn held_out(&self) -> HeldOut {
        match &self.folder_split {
            Some((_, split)) => HeldOut::Given(split.clone()),
            None => HeldOut::AtMost(self.test_movies),
        }
    }

    /// The split Train makes of `ids` (the usable movies), or why it cannot.
    pub(super) fn split_of(&self, ids: &[String]) -> Result<Split, String> {
        match &self.folder_split {
            Some(_) => training_split(ids, &self.held_out(), self.settings.seed)
                .map_err(|e| split_message(&e)),
            None => split_for(ids, self.test_movies, self.settings.seed),
        }
    }
}

/// A split error in the form's terms.
pub(super) fn split_message(e: &SplitPolicyError) -> String {
    match e {
        SplitPolicyError::TooFewMovies { usable } => format!(
            "{usable} usable movie(s); training needs at least 2 with ground truth and all four feature modalities"
        ),
        SplitPolicyError::Split(e @ crate::data::SplitError::GivenNoTraining { .. }) => {
            format!("{e}: the folder's split file decides the split")
        }
        SplitPolicyError::Split(e) => format!("{e}: lower Test movies"),
    }
}

impl TrainingForm {
    /// What Train asks of the training workflow: every movie scored, to become a source.
    pub fn request(&self) -> TrainRequest {
        TrainRequest {
            config: self.config(),
            held_out: self.held_out(),
            objective: self.objective,
            peak_picking: self.peak_picking,
            score_all: true,
        }
    }
}

impl TrainingForm {
    /// The folds cross-validation makes of `usable` movies: the form's, at least 2 and at most
    /// one per movie (each fold needs a test movie).
    pub fn folds_for(&self, usable: usize) -> usize {
        self.folds.clamp(2, usable.max(2))
    }

    /// What Cross-validate asks of the cross-validation workflow, for `usable` movies.
    pub fn cross_validation_request(&self, usable: usize) -> CrossValidationRequest {
        CrossValidationRequest {
            config: self.config(),
            folds: self.folds_for(usable),
            objective: self.objective,
            peak_picking: self.peak_picking,
        }
    }
}
