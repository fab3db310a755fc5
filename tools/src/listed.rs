//! Instruments from Binance's listing instead of the config: a backtest of
//! a symbol the config does not name takes its trading rules (tick, step,
//! minimum notional, quantity limits) from an exchangeInfo snapshot, so
//! any USD-M perpetual's official data files backtest with no hand-written
//! instrument (rules and brackets as `config::listing` fills them).
//!
//! The shipped snapshot is `config/exchange-info.json` (Binance's
//! `GET /fapi/v1/exchangeInfo` of 2025-08-07, 25 symbols; from
//! thrasher-corp/gocryptotrader's test data, MIT). Name the symbol in the
//! config to give its real brackets.

use std::path::{Path, PathBuf};

use autobot_engine::config::contract_refusal;
use autobot_gateways::binance::exchange_info::ExchangeInfo;

use crate::config::AppConfig;

/// The shipped snapshot, relative to the repository root.
pub const SNAPSHOT: &str = "config/exchange-info.json";

pub use crate::config::listing::{DEFAULT_BRACKETS, instrument};

/// Why a data file's symbol cannot be traded from the listing.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    /// The snapshot could not be read.
    #[error("exchangeInfo snapshot {path}: {reason}")]
    Snapshot {
        /// Its path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Neither configured nor listed.
    #[error(
        "{symbol} ({file}) is neither a configured instrument (configured: {configured}) nor listed in the exchangeInfo snapshot {snapshot}"
    )]
    Unlisted {
        /// The symbol.
        symbol: String,
        /// The configured symbols.
        configured: String,
        /// The data file.
        file: PathBuf,
        /// The snapshot.
        snapshot: PathBuf,
    },
    /// Listed, but not a USD-M perpetual that trades.
    #[error("{symbol} ({file}) is listed as {what}: autobot trades USD-M perpetuals")]
    NotPerpetual {
        /// The symbol.
        symbol: String,
        /// The data file.
        file: PathBuf,
        /// Its contract type and status.
        what: String,
    },
}

/// Reads an exchangeInfo snapshot.
pub fn load(path: &Path) -> Result<ExchangeInfo, ListingError> {
    crate::config::listing::read(path).map_err(|reason| ListingError::Snapshot {
        path: path.to_path_buf(),
        reason,
    })
}

/// The symbol a data file names: the first part of its name, upper-cased
/// (`FILUSDT-1m-2023-08.csv`).
fn file_symbol(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_uppercase())
        .unwrap_or_default();
    name.split(['-', '_', '.'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `cfg` with an instrument, from the snapshot at `snapshot`, for every
/// data file whose symbol the config does not name (appended in file
/// order); the symbols added. The snapshot is read only when needed.
pub fn with_listed(
    cfg: &AppConfig,
    files: &[PathBuf],
    snapshot: &Path,
) -> Result<(AppConfig, Vec<String>), ListingError> {
    let named: Vec<(String, PathBuf)> = files.iter().map(|f| (file_symbol(f), f.clone())).collect();
    add_listed(cfg, &named, snapshot)
}

/// [`with_listed`] for the symbols of an imported journal (`autobot
/// import`'s manifest, in `SymbolId` order), named after its directory.
pub fn with_listed_symbols(
    cfg: &AppConfig,
    symbols: &[String],
    import_dir: &Path,
    snapshot: &Path,
) -> Result<(AppConfig, Vec<String>), ListingError> {
    let named: Vec<(String, PathBuf)> = symbols
        .iter()
        .map(|s| (s.clone(), import_dir.to_path_buf()))
        .collect();
    add_listed(cfg, &named, snapshot)
}

/// `cfg` with a listed instrument for each `(symbol, where it was met)`
/// the config does not name.
fn add_listed(
    cfg: &AppConfig,
    named: &[(String, PathBuf)],
    snapshot: &Path,
) -> Result<(AppConfig, Vec<String>), ListingError> {
    let mut out = cfg.clone();
    let mut added = Vec::new();
    let mut info: Option<ExchangeInfo> = None;
    for (symbol, file) in named {
        let symbol = symbol.clone();
        if symbol.is_empty() || out.instruments.iter().any(|i| i.symbol == symbol) {
            continue;
        }
        if contract_refusal(&symbol).is_some() && !symbol.contains("USD") {
            // Not a symbol at all (a funding file's prefix, say): the data
            // reader names what it is.
            continue;
        }
        if info.is_none() {
            info = Some(load(snapshot)?);
        }
        let rules =
            info.as_ref()
                .and_then(|i| i.get(&symbol))
                .ok_or_else(|| ListingError::Unlisted {
                    symbol: symbol.clone(),
                    configured: cfg
                        .instruments
                        .iter()
                        .map(|i| i.symbol.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    file: file.clone(),
                    snapshot: snapshot.to_path_buf(),
                })?;
        if rules.contract_type != "PERPETUAL" || contract_refusal(&symbol).is_some() {
            return Err(ListingError::NotPerpetual {
                symbol,
                file: file.clone(),
                what: format!("{} ({})", rules.contract_type, rules.status),
            });
        }
        out.instruments.push(instrument(rules));
        added.push(symbol);
    }
    Ok((out, added))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_brackets_are_a_valid_table() {
        let info = load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(SNAPSHOT),
        )
        .unwrap();
        let xrp = instrument(info.get("XRPUSDT").unwrap());
        assert!(xrp.bracket_table().is_ok(), "{:?}", xrp.bracket_table());
        assert_eq!(
            file_symbol(Path::new("/d/xrpusdt-1m-2024-08.csv")),
            "XRPUSDT"
        );
    }
}
