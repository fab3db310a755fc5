//! Value types shared by every crate: exact decimals, ids, times, instruments.

mod decimal;
mod grid;
mod ids;
mod instrument;
mod margin;

pub use decimal::{
    DecimalError, Money, Price, Qty, Rate, Rounding, SCALE, SCALE_DIGITS,
    div_round as div_round_i128,
};
pub use grid::Grid;
pub use ids::{ClientOrderId, ExchangeOrderId, MonoNanos, Seq, Side, SymbolId, UnixNanos};
pub use instrument::{Instrument, SYMBOL_LEN, SymbolName};
pub use margin::{
    Bracket, BracketError, Brackets, CrossMargin, LiquidationGap, LiquidationMemo, MAX_BRACKETS,
    closer_than, liquidation_distance, liquidation_gap, liquidation_price,
};
