//! The exchange's listing as the source of trading rules: an
//! `[[instruments]]` entry may name only its symbol, and every rule it
//! leaves out (tick and step size, minimum notional, quantity limits) is
//! taken from an exchangeInfo snapshot (`[exchange] listing`, by default
//! `exchange-info.json` beside the config file; refreshed with
//! `autobot instruments --refresh`). A rule given in the file overrides
//! the listing's.
//!
//! exchangeInfo carries no maintenance-margin brackets (those come from
//! the signed `leverageBracket`), so an instrument that gives none gets
//! [`DEFAULT_BRACKETS`]: a conservative alt-coin table (higher maintenance
//! margin than BTC's), so liquidations come early rather than late.
//!
//! Testnet and live runs then check every rule against the exchange's own
//! exchangeInfo at start and adopt the exchange's (`exchange`).

use std::path::Path;

use autobot_engine::config::{BracketConfig, ConfigError, InstrumentConfig};
use autobot_engine::types::{Money, Rate};
use autobot_gateways::binance::exchange_info::{ExchangeInfo, SymbolRules, parse_exchange_info};

/// `[notional cap, maintenance margin rate, cum]` of a listed instrument:
/// 1 % to 5 000, 2.5 % to 25 000, 5 % to 100 000, 10 % to 250 000,
/// 12.5 % to 1 000 000 (each `cum` the one the rows below imply).
pub const DEFAULT_BRACKETS: [(&str, &str, &str); 5] = [
    ("5000", "0.01", "0"),
    ("25000", "0.025", "75"),
    ("100000", "0.05", "700"),
    ("250000", "0.1", "5700"),
    ("1000000", "0.125", "11950"),
];

/// The rule keys an `[[instruments]]` entry may leave to the listing.
pub const RULE_KEYS: [&str; 6] = [
    "tick_size",
    "step_size",
    "min_notional",
    "min_qty",
    "max_qty",
    "max_market_qty",
];

/// Reads an exchangeInfo snapshot; the reason it cannot be read.
pub fn read(path: &Path) -> Result<ExchangeInfo, String> {
    let mut body = std::fs::read(path).map_err(|e| e.to_string())?;
    parse_exchange_info(&mut body).map_err(|e| e.to_string())
}

fn default_brackets() -> Vec<BracketConfig> {
    DEFAULT_BRACKETS
        .iter()
        .map(|&(cap, mmr, cum)| {
            BracketConfig(
                Money::parse(cap).unwrap_or(Money::ZERO),
                Rate::parse(mmr).unwrap_or(Rate::ZERO),
                Money::parse(cum).unwrap_or(Money::ZERO),
            )
        })
        .collect()
}

/// The instrument of a listed symbol: its rules, [`DEFAULT_BRACKETS`].
pub fn instrument(rules: &SymbolRules) -> InstrumentConfig {
    let mut ins = InstrumentConfig {
        symbol: rules.symbol.clone(),
        tick_size: Default::default(),
        step_size: Default::default(),
        min_notional: Money::ZERO,
        min_qty: Default::default(),
        max_qty: Default::default(),
        max_market_qty: Default::default(),
        brackets: Vec::new(),
    };
    fill(&mut ins, rules);
    ins
}

/// Fills the rules `ins` leaves out (zero) from `rules`, and the default
/// brackets if it gives none.
fn fill(ins: &mut InstrumentConfig, rules: &SymbolRules) {
    if !ins.tick_size.is_positive() {
        ins.tick_size = rules.tick_size;
    }
    if !ins.step_size.is_positive() {
        ins.step_size = rules.step_size;
    }
    if ins.min_notional.is_zero() {
        ins.min_notional = rules.min_notional;
    }
    if !ins.min_qty.is_positive() {
        ins.min_qty = rules.min_qty;
    }
    if !ins.max_qty.is_positive() {
        ins.max_qty = rules.max_qty;
    }
    if !ins.max_market_qty.is_positive() {
        ins.max_market_qty = rules.max_market_qty;
    }
    if ins.brackets.is_empty() {
        ins.brackets = default_brackets();
    }
}

/// `true` if `ins` leaves a rule to the listing.
pub fn incomplete(ins: &InstrumentConfig) -> bool {
    !ins.tick_size.is_positive()
        || !ins.step_size.is_positive()
        || !ins.min_qty.is_positive()
        || !ins.max_qty.is_positive()
        || !ins.max_market_qty.is_positive()
        || ins.brackets.is_empty()
}

/// Completes every instrument of `list` that leaves rules out, from the
/// listing at `listing` (read only if one does). `file` is the config,
/// for the error.
pub fn complete(
    list: &mut [InstrumentConfig],
    listing: &Path,
    file: &Path,
) -> Result<(), ConfigError> {
    let refuse = |i: usize, reason: String| ConfigError::Invalid {
        file: file.to_path_buf(),
        line: 0,
        key: format!("instruments[{i}]"),
        reason,
    };
    let mut info: Option<ExchangeInfo> = None;
    for (i, ins) in list.iter_mut().enumerate() {
        if !incomplete(ins) {
            continue;
        }
        if info.is_none() {
            let read = read(listing).map_err(|why| {
                refuse(
                    i,
                    format!(
                        "{} leaves trading rules out and the listing {} cannot be read ({why}); \
                         give the rules, or fetch the listing with `autobot instruments --refresh`",
                        ins.symbol,
                        listing.display()
                    ),
                )
            })?;
            info = Some(read);
        }
        let Some(rules) = info.as_ref().and_then(|l| l.get(&ins.symbol)) else {
            return Err(refuse(
                i,
                format!(
                    "{} leaves trading rules out and is not in the listing {}; give the rules, \
                     or refresh the listing with `autobot instruments --refresh`",
                    ins.symbol,
                    listing.display()
                ),
            ));
        };
        if rules.contract_type != "PERPETUAL" || rules.status != "TRADING" {
            return Err(refuse(
                i,
                format!(
                    "{} is listed as {} ({}): autobot trades USD-M perpetuals",
                    ins.symbol, rules.contract_type, rules.status
                ),
            ));
        }
        fill(ins, rules);
    }
    Ok(())
}
