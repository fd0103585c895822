//! Which movies the numbers are about. A model knows its split (the imdb ids it trained,
//! validated and was tested on, as its checkpoint stores them): each loaded movie has a
//! [`Role`] for it, and the metrics, the comparison table and the curves are computed over a
//! [`Scope`] of the selected source's movies, by default its test movies, so the headline
//! numbers after Train are held out. The file's own predictions have no split: every movie
//! is scored.

use std::collections::HashMap;

use crate::data::{Movie, Split};

/// What a loaded movie was to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The model trained on it: its numbers on this movie are in-sample.
    Train,
    /// Held out from training, but used to stop training early and to tune the decision.
    Validation,
    /// Held out: never used to train or choose the model.
    Test,
    /// Not in the model's split at all (another folder's model, a movie it could not use).
    Unseen,
}

impl Role {
    /// How the movie list writes it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Train => "train",
            Role::Validation => "val",
            Role::Test => "test",
            Role::Unseen => "unseen",
        }
    }

    /// A sentence for a hover.
    pub fn explain(self) -> &'static str {
        match self {
            Role::Train => "the model trained on this movie: its numbers here are in-sample",
            Role::Validation => {
                "a validation movie: not trained on, but used to stop training and tune the decision"
            }
            Role::Test => "a test movie: held out, never used to train or choose the model",
            Role::Unseen => "not in the model's split: the model never saw this movie",
        }
    }
}

/// A model's split with each id's role, looked up per movie.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceSplit {
    pub split: Split,
    roles: HashMap<String, Role>,
}

impl SourceSplit {
    pub fn new(split: Split) -> Self {
        let mut roles = HashMap::new();
        // An id listed twice keeps its most cautious role: training wins.
        for (ids, role) in [
            (&split.test, Role::Test),
            (&split.validation, Role::Validation),
            (&split.train, Role::Train),
        ] {
            for id in ids {
                roles.insert(id.clone(), role);
            }
        }
        SourceSplit { split, roles }
    }

    pub fn role(&self, imdb_id: &str) -> Role {
        self.roles.get(imdb_id).copied().unwrap_or(Role::Unseen)
    }
}

/// The movies metrics are computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// The selected model's test movies (held out).
    #[default]
    Test,
    /// The selected model's validation movies.
    Validation,
    /// Every movie of the folder.
    All,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Test, Scope::Validation, Scope::All];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Test => "Test movies",
            Scope::Validation => "Validation movies",
            Scope::All => "All movies",
        }
    }

    /// What the selector and the headings write: the name and how many movies, e.g.
    /// "Test movies (7)".
    pub fn label(self, count: usize) -> String {
        format!("{} ({count})", self.name())
    }

    /// Whether a movie of `role` (`None`: the source has no split) is in this scope.
    pub fn includes(self, role: Option<Role>) -> bool {
        match self {
            Scope::All => true,
            Scope::Test => role == Some(Role::Test),
            Scope::Validation => role == Some(Role::Validation),
        }
    }

    /// The scope a source starts with: its test movies when the folder holds any, else all.
    pub fn default_for(split: Option<&SourceSplit>, movies: &[Movie]) -> Scope {
        match split {
            Some(s) if movies.iter().any(|m| s.role(&m.imdb_id) == Role::Test) => Scope::Test,
            _ => Scope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_split_and_scopes_the_roles() {
        let s = SourceSplit::new(Split {
            train: vec!["a".into(), "b".into()],
            validation: vec!["c".into()],
            test: vec!["d".into()],
        });
        assert_eq!(s.role("a"), Role::Train);
        assert_eq!(s.role("c"), Role::Validation);
        assert_eq!(s.role("d"), Role::Test);
        assert_eq!(s.role("z"), Role::Unseen);
        assert!(Scope::Test.includes(Some(Role::Test)));
        assert!(!Scope::Test.includes(Some(Role::Unseen)));
        assert!(!Scope::Test.includes(None));
        assert!(Scope::Validation.includes(Some(Role::Validation)));
        assert!(Scope::All.includes(None) && Scope::All.includes(Some(Role::Train)));
        assert_eq!(Scope::Test.label(7), "Test movies (7)");
    }
}
