//! How the model fills: `[paper]` (fees, slippage, latency and the fill
//! switches, shared by paper runs and backtests) and the account rules
//! (wallet, leverage, funding, liquidation) an adapter fills in from its
//! own configuration.

use autobot_engine::config::{RangeError, Validate, check_range};
use autobot_engine::types::{Money, Qty, Rate, SCALE};
use serde::{Deserialize, Serialize};

fn on() -> bool {
    true
}

/// `[paper]`: the fill model of paper runs and backtests.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FillConfig {
    /// Taker fee as a fraction of notional, e.g. `"0.0004"` (0 ..= 0.01).
    pub taker_fee: Rate,
    /// Maker fee as a fraction of notional, e.g. `"0.0002"` (-0.001 ..= 0.01;
    /// negative is a rebate).
    pub maker_fee: Rate,
    /// Ticks of adverse slippage added to every taking fill (0 ..= 1000).
    pub slippage_ticks: u32,
    /// Exchange time between an order's cause and its arrival at the
    /// exchange, in ms (0 ..= 60000).
    pub latency_ms: u32,
    /// A taking order walks the visible levels (`true`), or fills whole at
    /// the opposite best (`false`).
    #[serde(default = "on")]
    pub depth_walk: bool,
    /// A resting order waits behind the quantity ahead of it at its price
    /// and fills from trades at its price (`true`), or only once the
    /// market trades through it (`false`).
    #[serde(default = "on")]
    pub queue_position: bool,
    /// Resting orders fill in parts as trades reach them (`true`), or whole
    /// once the market has traded their whole quantity past the queue (`false`).
    #[serde(default = "on")]
    pub partial_fills: bool,
}

impl Default for FillConfig {
    fn default() -> FillConfig {
        FillConfig {
            taker_fee: Rate::from_raw(SCALE / 2_500), // 0.04 %
            maker_fee: Rate::from_raw(SCALE / 5_000), // 0.02 %
            slippage_ticks: 0,
            latency_ms: 0,
            depth_walk: true,
            queue_position: true,
            partial_fills: true,
        }
    }
}

impl Validate for FillConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let rate = |s| Rate::parse(s).unwrap_or(Rate::ZERO);
        for (key, v, lo, hi) in [
            ("taker_fee", self.taker_fee, Rate::ZERO, rate("0.01")),
            ("maker_fee", self.maker_fee, rate("-0.001"), rate("0.01")),
        ] {
            if v < lo || v > hi {
                return Err(RangeError::new(at, key, v, format!("{lo} ..= {hi}")));
            }
        }
        check_range(at, "slippage_ticks", self.slippage_ticks, 0, 1000)?;
        check_range(at, "latency_ms", self.latency_ms, 0, 60_000)
    }
}

/// The account and the exchange's own rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRules {
    /// Starting USDT wallet balance.
    pub wallet: Money,
    /// Leverage of the initial-margin check at entry (notional / leverage
    /// must fit the available balance, else -2019); 0 checks nothing.
    pub leverage: u32,
    /// Funding rate the exchange charges at each funding time on symbols
    /// whose data carries no funding (zero: none).
    pub funding_rate: Rate,
    /// Hours between funding times (Binance: 8).
    pub funding_interval_hours: u32,
    /// Fee of a liquidation, fraction of the closed notional.
    pub liquidation_fee: Rate,
    /// Quantity quoted on each side of a bar's close when the data has
    /// bars and no book.
    pub bar_book_qty: Qty,
}

impl Default for AccountRules {
    fn default() -> AccountRules {
        AccountRules {
            wallet: Money::from_units(100_000).unwrap_or(Money::ZERO),
            leverage: 20,
            funding_rate: Rate::ZERO,
            funding_interval_hours: 8,
            liquidation_fee: Rate::from_raw(SCALE / 200), // 0.5 %
            bar_book_qty: Qty::from_units(1_000).unwrap_or(Qty::ONE),
        }
    }
}
