//! SceneLab: movie scene segmentation.
//!
//! Data flows one way: files → [`pickle`] → [`data`] → ([`model`] / [`train`]) → [`eval`] →
//! [`app`] / [`cli`].

pub mod app;
pub mod cli;
pub mod data;
pub mod eval;
pub mod files;
pub mod model;
pub mod pickle;
pub mod train;
