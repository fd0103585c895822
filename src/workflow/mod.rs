//! The workflows the command line and the app share, each written once; both call these and
//! re-implement none. Progress, events and cancelling go through one
//! [`crate::observer::Observer`].
//!
//! | workflow | here | command line | app |
//! |---|---|---|---|
//! | the split policy (test movies by count or by ids, a tenth of the rest validating) | [`crate::data::split`] | `train`, `search`, `bench` | Train (its form's split preview), Search |
//! | train → score the held-out movies → tune the decision | [`train::train_and_tune`] | `scenelab train` | Train |
//! | load a model (folder or PyTorch weight file) and score movies | [`predict::load_and_score`], [`predict::score_movies`], [`predict::scores_to_write`] | `scenelab predict`, `scenelab export --field model` | Load model, Load PyTorch weights, Load best model |
//! | write a folder's movie files with their predictions | [`export::write_predictions`] | `scenelab predict` | Export predictions |
//! | write each movie's scenes as a scene-list file (CSV, JSON, EDL) | [`scenes::write_scene_lists`] | `scenelab export` | Export scenes |
//! | movie-level k-fold cross-validation of a model and of the files' provided prediction | [`cross_validation::cross_validate`], [`cross_validation::provided_row`] | `bench train --folds K` | Train (Cross-validate) |
//! | write a folder's edited ground truth (new folder, or in place keeping `.orig`) | [`labels::save_labels`] | (none) | Edit labels: Save labels…, Save in place |
//! | a MovieNet folder to pkl files and back | [`convert::convert`] | `scenelab convert` | (Open folder reads either layout) |
//! | hyperparameter search | [`crate::train::search::search_observed`] | `scenelab search` | Search |
//!
//! Errors are typed and name the setting and its value ("folds must be at least 2, got 1");
//! the command line phrases them with its flags, the app with its form's fields.

pub mod convert;
pub mod cross_validation;
pub mod device;
pub mod export;
pub mod labels;
pub mod predict;
pub mod scenes;
pub mod train;

pub use device::DeviceArg;
