//! `[backtest]`: how the simulated exchange of a backtest behaves beyond
//! the fees, slippage and latency it shares with paper execution
//! (`[paper]`), and how the report samples returns.

use autobot_engine::config::{RangeError, Validate, check_range};
use autobot_engine::types::Rate;
use serde::Deserialize;

/// Where an order's latency comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyModel {
    /// `[paper] latency_ms` for every order.
    Constant,
    /// `latency_ms` plus the feed delay of the input that caused the
    /// order: its receive time minus its exchange time, less the smallest
    /// such gap seen so far (which takes out the capturing host's clock
    /// skew). Inputs without a receive time (CSV rows) add nothing.
    Capture,
}

/// `[backtest]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestConfig {
    /// Latency model of orders and cancels.
    pub latency: LatencyModel,
    /// Funding rate charged at each funding time when the data carries no
    /// mark-price stream for the symbol ("0": none), -0.03 ..= 0.03.
    pub funding_rate: Rate,
    /// Hours between funding times (Binance: 8), 1 ..= 24.
    pub funding_interval_hours: u32,
    /// Fee of a liquidation, fraction of the closed notional, 0 ..= 0.05.
    pub liquidation_fee: Rate,
    /// Quantity quoted at each bar's close when the data has bars and no
    /// book (the fill price source of bar backtests), base units.
    pub bar_book_qty: autobot_engine::types::Qty,
    /// Length of the return periods of Sharpe and Sortino, and of the
    /// equity curve's points, in seconds of exchange time (1 ..= 604800).
    pub returns_secs: u64,
    /// Periods per year that annualize Sharpe and Sortino (the crypto
    /// market trades all year: 8760 for hourly returns), 1 ..= 31536000.
    pub periods_per_year: u64,
}

impl Validate for BacktestConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let rate = |s| Rate::parse(s).unwrap_or(Rate::ZERO);
        for (key, v, lo, hi) in [
            (
                "funding_rate",
                self.funding_rate,
                rate("-0.03"),
                rate("0.03"),
            ),
            (
                "liquidation_fee",
                self.liquidation_fee,
                Rate::ZERO,
                rate("0.05"),
            ),
        ] {
            if v < lo || v > hi {
                return Err(RangeError::new(at, key, v, format!("{lo} ..= {hi}")));
            }
        }
        if !self.bar_book_qty.is_positive() {
            return Err(RangeError::new(
                at,
                "bar_book_qty",
                self.bar_book_qty,
                "> 0",
            ));
        }
        check_range(
            at,
            "funding_interval_hours",
            self.funding_interval_hours,
            1,
            24,
        )?;
        check_range(at, "returns_secs", self.returns_secs, 1, 604_800)?;
        check_range(at, "periods_per_year", self.periods_per_year, 1, 31_536_000)
    }
}
