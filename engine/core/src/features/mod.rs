//! Market features computed incrementally from the events the core sees.
//!
//! - [`ta`]: classic indicators (SMA, EMA, RSI, MACD, Bollinger bands, ATR)
//!   with TA-Lib's conventions and operation order; `docs/indicators.md`
//!   says how each is seeded and smoothed, and where the reference values
//!   of the tests come from.
//! - [`flow`]: VWAP and trade-flow imbalance (exact, over a rolling window
//!   of trades), spread in basis points, order-book imbalance, realized
//!   volatility.
//! - [`profile`]: volume profile with point of control and value area.
//! - [`ichimoku`]: the Ichimoku cloud on bars (O(1) amortized updates).
//! - [`smc`]: smart-money-concepts structure on bars: swing points, breaks
//!   of structure and changes of character, fair value gaps, order blocks.
//! - [`series`]: indicators over a whole series at once through the bulk
//!   [`kernels`] (history, bar files, backtest series).
//! - [`set`]: what the core keeps per symbol from the trade stream.
//! - [`candles`]: candles on several timeframes from trades, and the check
//!   a closed candle must pass.
//!
//! Floats live only here (SPEC: floats only inside indicators); nothing
//! here reads a clock or allocates after construction.

pub mod candles;
pub mod flow;
pub mod ichimoku;
pub mod kernels;
pub mod liquidations;
pub mod profile;
pub mod series;
pub mod set;
pub mod smc;
pub mod ta;
pub mod vector;
pub mod vwap_bands;
