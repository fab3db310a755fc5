//! Pieces of the `autobot` command line (the binary's own modules, kept
//! out of `main.rs` so each subcommand's handling reads on its own).

pub(crate) mod commands;
pub mod ctl;
pub mod grid;
pub mod instruments;
pub mod simexchange;

/// Failure that has already been reported in the command's output.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("verification failed")
    }
}

impl std::error::Error for Reported {}
