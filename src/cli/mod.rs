//! The command line's subcommands, one file each: arguments (clap) and what they run.

pub mod bench;
pub mod demo;
pub mod evaluate;
pub mod gui;
pub mod inspect;
pub mod predict;
pub mod search;
pub mod train;
