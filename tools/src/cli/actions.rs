//! The smaller subcommands' actions and value types of the command line
//! (`autobot store`, `autobot sweep`, `autobot simexchange --clock`), apart
//! from `main.rs` so it stays readable.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum StoreAction {
    /// Rebuild the run's store from its journal (or a backtest kept with
    /// --keep-journal): the same rows every time, and the rows a live
    /// store holds. Where the run's [store] url says: RUN_DIR/store.sqlite
    /// by default.
    Rebuild {
        /// Run directory.
        dir: PathBuf,
        /// Configuration [default: the run's config.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Write a SQLite store to this file instead.
        #[arg(long, value_name = "FILE", conflicts_with = "url")]
        out: Option<PathBuf>,
        /// Write to this PostgreSQL database instead
        /// (postgres://USER@HOST:PORT/DATABASE; password from
        /// AUTOBOT_STORE_PASSWORD), replacing the run's rows there.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SweepAction {
    /// Join the slices of a sharded sweep (each DIR the --out of one
    /// `backtest --sweep … --shard K/N`) into OUT/sweep.json and
    /// OUT/sweep.csv, the same bytes the unsharded sweep writes, and copy
    /// each point's report (pNNN/) into OUT. Refuses slices of different
    /// grids, a slice twice or missing.
    Merge {
        /// The shards' directories.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Where the merged sweep goes (may be one of the DIRs).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// `autobot simexchange --clock`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SimClockArg {
    /// The time of the market streamed.
    Data,
    /// The host's clock.
    Wall,
}
