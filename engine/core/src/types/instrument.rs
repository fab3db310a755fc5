//! Instrument specifications: the per-symbol precision that prices and
//! quantities are rounded to before anything reaches an exchange.

use super::{Grid, Money, Price, Qty, Rounding, SymbolId};

/// Longest symbol name kept inline (Binance USD-M names are far shorter).
pub const SYMBOL_LEN: usize = 16;

/// A symbol name stored inline so instrument tables need no heap strings.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct SymbolName {
    len: u8,
    bytes: [u8; SYMBOL_LEN],
}

impl SymbolName {
    /// `None` if `name` is empty, longer than [`SYMBOL_LEN`] or not uppercase
    /// ASCII letters and digits (the Binance symbol alphabet).
    pub fn new(name: &str) -> Option<SymbolName> {
        let b = name.as_bytes();
        if b.is_empty()
            || b.len() > SYMBOL_LEN
            || !b
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return None;
        }
        let mut bytes = [0u8; SYMBOL_LEN];
        bytes[..b.len()].copy_from_slice(b);
        Some(SymbolName {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        // Constructed only from validated ASCII in `new`.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("?")
    }
}

impl std::fmt::Debug for SymbolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for SymbolName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Trading rules of one instrument (from config now, `exchangeInfo` later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Instrument {
    /// Index in the instrument table; the id carried by events.
    pub id: SymbolId,
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub name: SymbolName,
    /// Price increment (`PRICE_FILTER.tickSize`).
    pub tick_size: Price,
    /// Quantity increment (`LOT_SIZE.stepSize`).
    pub step_size: Qty,
    /// Smallest order notional (`MIN_NOTIONAL.notional`).
    pub min_notional: Money,
    /// Smallest order quantity (`LOT_SIZE.minQty`).
    pub min_qty: Qty,
    /// Largest limit order quantity (`LOT_SIZE.maxQty`).
    pub max_qty: Qty,
    /// Largest market order quantity (`MARKET_LOT_SIZE.maxQty`).
    pub max_market_qty: Qty,
    /// `tick_size`'s multiples (`Instrument::new` keeps the two in step).
    pub tick_grid: Grid,
    /// `step_size`'s multiples.
    pub step_grid: Grid,
}

impl Instrument {
    /// Rules with their grids derived.
    pub const fn new(
        id: SymbolId,
        name: SymbolName,
        (tick_size, step_size): (Price, Qty),
        min_notional: Money,
        (min_qty, max_qty, max_market_qty): (Qty, Qty, Qty),
    ) -> Instrument {
        Instrument {
            id,
            name,
            tick_size,
            step_size,
            min_notional,
            min_qty,
            max_qty,
            max_market_qty,
            tick_grid: Grid::new(tick_size.raw()),
            step_grid: Grid::new(step_size.raw()),
        }
    }

    /// Whether `price` is on the tick grid.
    #[inline]
    pub fn on_tick(&self, price: Price) -> bool {
        debug_assert_eq!(self.tick_grid, Grid::new(self.tick_size.raw()));
        self.tick_grid.holds(price.raw())
    }

    /// Whether `qty` is on the step grid.
    #[inline]
    pub fn on_step(&self, qty: Qty) -> bool {
        debug_assert_eq!(self.step_grid, Grid::new(self.step_size.raw()));
        self.step_grid.holds(qty.raw())
    }

    /// Rounds an order price to the tick so the order never crosses further
    /// than intended: bids down, asks up.
    pub fn round_price(&self, price: Price, side: super::Side) -> Option<Price> {
        let mode = match side {
            super::Side::Buy => Rounding::Floor,
            super::Side::Sell => Rounding::Ceil,
        };
        price.round_to(self.tick_size, mode)
    }

    /// Rounds an order quantity to the step, never increasing its size.
    pub fn round_qty(&self, qty: Qty) -> Option<Qty> {
        qty.round_to(self.step_size, Rounding::TowardZero)
    }
}
