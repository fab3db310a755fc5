//! Market features computed incrementally from the events the core sees.
//!
//! - [`ta`]: classic indicators (SMA, EMA, RSI, MACD, Bollinger bands, ATR)
//!   with TA-Lib's conventions and operation order; `docs/indicators.md`
//!   says how each is seeded and smoothed, and where the reference values
//!   of the tests come from.
//!
//! Floats live only here (SPEC: floats only inside indicators); nothing
//! here reads a clock or allocates after construction.

pub mod ta;
