//! Top of book per symbol, from book tickers.
//!
//! Invariant: a stored top of book is two-sided and not crossed
//! (`0 < bid < ask`), and its update id never goes backwards. Updates that
//! would break either are refused by [`TopOfBook::apply`] and counted by the
//! caller.

use crate::event::BookTicker;
use crate::types::{Price, Qty, Side, UnixNanos};

/// Why a book ticker was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookReject {
    /// Bid at or above ask, or a non-positive price.
    Crossed,
    /// Update id older than the one already applied.
    OutOfOrder,
}

/// Best bid and ask of one symbol.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct TopOfBook {
    /// Last applied update id.
    pub update_id: u64,
    /// Best bid price (zero until the first update).
    pub bid_price: Price,
    /// Best bid quantity.
    pub bid_qty: Qty,
    /// Best ask price (zero until the first update).
    pub ask_price: Price,
    /// Best ask quantity.
    pub ask_qty: Qty,
    /// Exchange time of the last applied update.
    pub exchange_time: UnixNanos,
}

impl TopOfBook {
    /// Applies a book ticker, or says why it was refused.
    pub fn apply(&mut self, t: &BookTicker, exchange_time: UnixNanos) -> Result<(), BookReject> {
        if !t.bid_price.is_positive() || t.bid_price >= t.ask_price {
            return Err(BookReject::Crossed);
        }
        if self.is_valid() && t.update_id < self.update_id {
            return Err(BookReject::OutOfOrder);
        }
        *self = TopOfBook {
            update_id: t.update_id,
            bid_price: t.bid_price,
            bid_qty: t.bid_qty,
            ask_price: t.ask_price,
            ask_qty: t.ask_qty,
            exchange_time,
        };
        Ok(())
    }

    /// `true` once a two-sided update has been applied.
    pub fn is_valid(&self) -> bool {
        self.bid_price.is_positive()
    }

    /// Mid price, if the book is valid.
    pub fn mid(&self) -> Option<Price> {
        self.is_valid()
            .then(|| Price::mid(self.bid_price, self.ask_price))
    }

    /// The price a market order on `side` would take: the opposite best.
    pub fn taking_price(&self, side: Side) -> Option<Price> {
        if !self.is_valid() {
            return None;
        }
        Some(match side {
            Side::Buy => self.ask_price,
            Side::Sell => self.bid_price,
        })
    }

    /// Quantity at the opposite best for a market order on `side`.
    pub fn taking_qty(&self, side: Side) -> Qty {
        match side {
            Side::Buy => self.ask_qty,
            Side::Sell => self.bid_qty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticker(id: u64, bid: &str, ask: &str) -> BookTicker {
        BookTicker {
            update_id: id,
            bid_price: Price::parse(bid).unwrap(),
            bid_qty: Qty::ONE,
            ask_price: Price::parse(ask).unwrap(),
            ask_qty: Qty::ONE,
        }
    }

    #[test]
    fn refuses_crossed_and_out_of_order() {
        let mut b = TopOfBook::default();
        assert_eq!(
            b.apply(&ticker(1, "10", "10"), UnixNanos(0)),
            Err(BookReject::Crossed)
        );
        assert_eq!(
            b.apply(&ticker(1, "0", "10"), UnixNanos(0)),
            Err(BookReject::Crossed)
        );
        assert!(!b.is_valid());
        b.apply(&ticker(5, "10", "10.1"), UnixNanos(0)).unwrap();
        assert_eq!(
            b.apply(&ticker(4, "10", "10.2"), UnixNanos(0)),
            Err(BookReject::OutOfOrder)
        );
        assert_eq!(b.mid(), Some(Price::parse("10.05").unwrap()));
        assert_eq!(
            b.taking_price(Side::Buy),
            Some(Price::parse("10.1").unwrap())
        );
    }
}
