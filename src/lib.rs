//! SceneLab: movie scene segmentation.
//!
//! Data flows one way: files → [`pickle`] → [`data`] → ([`model`] / [`train`]) → [`eval`] →
//! [`workflow`] → [`app`] / [`cli`]. Long work reports to an [`observer::Observer`].

pub mod app;
pub mod cli;
pub mod data;
pub mod eval;
pub mod export;
pub mod files;
pub mod model;
pub mod observer;
pub mod pickle;
pub mod train;
pub mod workflow;
