//! Backtest inputs: Binance's public data files and bar CSVs read into
//! input events, several files merged in time order, and written once into
//! a journal (`autobot import`) so repeated backtests replay at full speed;
//! and `autobot generate`, the seeded synthetic market as Binance-format
//! CSVs.
//!
//! # Invariants
//! - The merged stream is in exchange-time order; events at the same time
//!   keep the order of the files as given, then of their rows, so the
//!   same files give the same stream.
//! - A file is refused, never guessed: an unknown layout names what was
//!   expected; a bad row names its file, line and column; rows out of time
//!   order and a damaged or truncated archive are errors.

pub mod ahead;
pub mod capture;
pub mod charts;
pub mod exchange;
pub mod feather;
pub mod generate;
pub mod html;
pub mod import;
pub mod merge;
pub mod metrics;
pub mod nautilus;
pub mod observe;
pub mod output;
pub mod record;
pub mod report;
pub mod rows;
pub mod run;
pub use crate::config::backtest as settings;
pub mod shard;
pub mod source;
pub mod sweep;
pub mod tardis;

use std::path::{Path, PathBuf};

pub use merge::{DataFile, Merged, SymbolFiles};
pub use rows::{CsvSource, Format};

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or decompressed.
    #[error("{}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file's layout is none of the known ones.
    #[error("{}: not a known data file; its first line is {first:?}, expected {expected}", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Its first line (cut at 120 characters).
        first: String,
        /// What the formats look like.
        expected: &'static str,
    },
    /// A row could not be used.
    #[error("{}:{line}: {problem}", path.display())]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// Files that must not be given together.
    #[error("{0}")]
    Conflict(String),
    /// The file's symbol is not known.
    #[error(
        "{}: the file name does not start with a configured symbol ({known}); name it like \
         BTCUSDT-aggTrades-2024-08-08.csv",
        path.display()
    )]
    NoSymbol {
        /// The file.
        path: PathBuf,
        /// The configured symbols.
        known: String,
    },
    /// The thread that reads ahead could not be started.
    #[error("cannot start the thread that reads the data files: {0}")]
    Thread(String),
}

impl InputError {
    /// A read error at `line` of `path` (a gzip that ends early, a damaged
    /// archive, bad UTF-8 in a quoted field).
    pub fn read(path: &Path, line: u64, e: &csv::Error) -> InputError {
        let io = match e.kind() {
            csv::ErrorKind::Io(io) => Some(io),
            _ => None,
        };
        InputError::Row {
            path: path.to_path_buf(),
            line,
            problem: read_problem(io, e),
        }
    }
}

/// What a reader's error says of its file: a gzip that ends early by that
/// name, another I/O error as it reads, else the reader's own message.
pub(crate) fn read_problem(io: Option<&std::io::Error>, e: &dyn std::fmt::Display) -> String {
    match io {
        Some(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends early (a truncated download?)".to_string()
        }
        Some(io) => io.to_string(),
        None => e.to_string(),
    }
}

/// The configured symbol a data file belongs to: its name's first part
/// (`BTCUSDT-aggTrades-2024-08-08.csv.gz`, `BTCUSDT_perp_1m.csv`), upper-cased.
pub fn symbol_of(path: &Path, symbols: &[String]) -> Result<usize, InputError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_uppercase())
        .unwrap_or_default();
    let head = name.split(['-', '_', '.']).next().unwrap_or_default();
    // freqtrade names a pair's file BASE_QUOTE_SETTLE-…: BTC_USDT_USDT is
    // BTCUSDT.
    let pair = feather::freqtrade_symbol(&name);
    symbols
        .iter()
        .position(|s| s.eq_ignore_ascii_case(head))
        .or_else(|| {
            let pair = pair.as_deref()?;
            symbols.iter().position(|s| s.eq_ignore_ascii_case(pair))
        })
        // Tardis names the symbol last: binance-futures_trades_2024-01-01_BTCUSDT.csv.gz.
        .or_else(|| {
            name.split(['-', '_', '.'])
                .find_map(|part| symbols.iter().position(|s| s.eq_ignore_ascii_case(part)))
        })
        // A NautilusTrader catalog names it by directory:
        // data/quote_tick/BTCUSDT-PERP.BINANCE/<time range>.parquet.
        .or_else(|| {
            let dir = path.parent()?.file_name()?.to_string_lossy().to_ascii_uppercase();
            let head = dir.split(['-', '.']).next()?.to_string();
            symbols.iter().position(|s| s.eq_ignore_ascii_case(&head))
        })
        .ok_or_else(|| InputError::NoSymbol {
            path: path.to_path_buf(),
            known: symbols.join(", "),
        })
}
