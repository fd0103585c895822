//! `--field` of `scenelab evaluate` and `scenelab export`: whose scores a command reads. One
//! parser for both, so that both take the same names (`prediction`, `ground_truth`, or the
//! files' full field names) and refuse a wrong one with the same list of choices.

use crate::data::{FIELD_GROUND_TRUTH, FIELD_PREDICTION};

/// What `--field` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoreField {
    /// The files' `scene_transition_boundary_prediction`: `prediction` or the full name.
    Prediction,
    /// The files' `scene_transition_boundary_ground_truth`: `ground_truth`, `ground-truth` or
    /// the full name.
    GroundTruth,
    /// The scores of the model in `--model`: `model`.
    Model,
    /// Another field of the files, by its name (`scene_transition_boundary_uncertain`).
    Other(String),
}

/// The names a command takes besides `prediction` and `ground_truth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    /// `model`: a model's scores (with `--model`).
    pub model: bool,
    /// The name of any other field of the files.
    pub other_fields: bool,
}

/// `scenelab evaluate` scores the files' fields, any of them.
pub const EVALUATE: Choices = Choices {
    model: false,
    other_fields: true,
};

/// `scenelab export` writes the scenes of the prediction, the ground truth or a model.
pub const EXPORT: Choices = Choices {
    model: true,
    other_fields: false,
};

impl Choices {
    /// The error for `given`: the names these choices take.
    pub fn refusal(self, given: &str) -> String {
        let mut names = vec![
            format!("prediction (the files' {FIELD_PREDICTION})"),
            format!("ground_truth (the files' {FIELD_GROUND_TRUTH})"),
        ];
        if self.model {
            names.push("model (the scores of the model in --model)".into());
        }
        if self.other_fields {
            names.push("the name of another field of the files (letters, digits, _ . -)".into());
        }
        let last = names.pop().unwrap_or_default();
        let mut message = format!("'{given}' is none of {} or {last}", names.join(", "));
        if given == "model" && !self.model {
            message.push_str(
                "; for a model's scores, write them with `scenelab predict DIR --model MODEL \
                 --out OUT` and score OUT",
            );
        }
        message
    }
}

/// Whether `s` can name a field of the files: letters, digits, `_`, `.` and `-`.
fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl ScoreField {
    /// Read `--field`'s value, taking the names `choices` allows. Errors: the
    /// [`Choices::refusal`] of the value.
    pub fn parse(s: &str, choices: Choices) -> Result<ScoreField, String> {
        let field = match s {
            "prediction" | FIELD_PREDICTION => ScoreField::Prediction,
            "ground_truth" | "ground-truth" | FIELD_GROUND_TRUTH => ScoreField::GroundTruth,
            "model" => ScoreField::Model,
            other if is_field_name(other) => ScoreField::Other(other.into()),
            _ => return Err(choices.refusal(s)),
        };
        let allowed = match field {
            ScoreField::Model => choices.model,
            ScoreField::Other(_) => choices.other_fields,
            ScoreField::Prediction | ScoreField::GroundTruth => true,
        };
        if allowed {
            Ok(field)
        } else {
            Err(choices.refusal(s))
        }
    }

    /// The field of a movie file that holds these scores; `None` for [`ScoreField::Model`].
    pub fn file_field(&self) -> Option<&str> {
        match self {
            ScoreField::Prediction => Some(FIELD_PREDICTION),
            ScoreField::GroundTruth => Some(FIELD_GROUND_TRUTH),
            ScoreField::Model => None,
            ScoreField::Other(name) => Some(name),
        }
    }
}

/// clap's parser for `scenelab evaluate --field` ([`EVALUATE`]).
pub fn parse_evaluate(s: &str) -> Result<ScoreField, String> {
    ScoreField::parse(s, EVALUATE)
}

/// clap's parser for `scenelab export --field` ([`EXPORT`]).
pub fn parse_export(s: &str) -> Result<ScoreField, String> {
    ScoreField::parse(s, EXPORT)
}
