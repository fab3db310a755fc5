//! Position and PnL of one symbol, in exact fixed-point.
//!
//! The position keeps its cost basis as an exact `i128` sum of `price × qty`
//! (raw units, scale 10^16) instead of a rounded average price, so a round
//! trip realizes exactly `Σ sells − Σ buys`. When part of a position is closed,
//! the closed share of the cost is `cost × closed / |qty|`, rounded half-even;
//! whatever rounding remains leaves with the last closing fill.

use crate::types::{Money, Price, Qty, Rounding, SCALE, Side};

use crate::types::div_round_i128 as div_round;

/// Why a fill could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionOverflow;

/// Position of one symbol.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Position {
    qty: Qty,
    cost: i128,
    /// Realized PnL at scale 10^16, rounded to money only when read, so the
    /// sum over many partial closes carries no per-fill rounding.
    realized16: i128,
    fees: Money,
    fills: u64,
}

impl Position {
    /// Signed quantity (long > 0).
    pub fn qty(&self) -> Qty {
        self.qty
    }

    /// Realized PnL before fees.
    pub fn realized(&self) -> Money {
        let r = div_round(self.realized16, i128::from(SCALE), Rounding::HalfEven);
        Money::from_raw(i64::try_from(r).unwrap_or(if r < 0 { i64::MIN } else { i64::MAX }))
    }

    /// Fees paid.
    pub fn fees(&self) -> Money {
        self.fees
    }

    /// Fills applied.
    pub fn fills(&self) -> u64 {
        self.fills
    }

    /// Signed cost basis, Σ price × qty at scale 10^16 (the liquidation
    /// price formula's `side × |q| × entry`).
    pub fn cost16(&self) -> i128 {
        self.cost
    }

    /// Average entry price (half-even), `None` when flat.
    pub fn avg_entry(&self) -> Option<Price> {
        if self.qty.is_zero() {
            return None;
        }
        // Cost and quantity share their sign; the price is their positive ratio.
        let avg = div_round(
            self.cost.abs(),
            i128::from(self.qty.raw()).abs(),
            Rounding::HalfEven,
        );
        i64::try_from(avg).ok().map(Price::from_raw)
    }

    /// Unrealized PnL at `mark` (half-even), `None` on overflow.
    pub fn unrealized(&self, mark: Price) -> Option<Money> {
        let value = i128::from(mark.raw()) * i128::from(self.qty.raw());
        let pnl = div_round(value - self.cost, i128::from(SCALE), Rounding::HalfEven);
        i64::try_from(pnl).ok().map(Money::from_raw)
    }

    /// Quantity and cost (scale 10^16) after a fill of `qty` at `price` on
    /// `side`, without applying it; `None` on overflow.
    pub fn projected(&self, side: Side, price: Price, qty: Qty) -> Option<(Qty, i128)> {
        let dq = i128::from(qty.raw()) * i128::from(side.sign());
        let held = i128::from(self.qty.raw());
        if held == 0 || held.signum() == dq.signum() {
            // Adding (the pre-trade case): no realized PnL to divide out.
            let cost = self
                .cost
                .checked_add(i128::from(price.raw()).checked_mul(dq)?)?;
            return Some((Qty::from_raw(i64::try_from(held + dq).ok()?), cost));
        }
        let mut next = *self;
        next.apply_fill(side, price, qty, Money::ZERO).ok()?;
        Some((next.qty, next.cost))
    }

    /// This position with its holding replaced by `qty` at an average entry
    /// of `entry` (the exchange's, when reconciling); realized PnL, fees
    /// and the fill count are kept. `None` on overflow.
    pub fn adopted(&self, qty: Qty, entry: Price) -> Option<Position> {
        let cost = i128::from(entry.raw()).checked_mul(i128::from(qty.raw()))?;
        Some(Position { qty, cost, ..*self })
    }

    /// Applies a fill of `qty` (> 0) at `price` on `side`, paying `fee`.
    /// On overflow nothing is changed.
    pub fn apply_fill(
        &mut self,
        side: Side,
        price: Price,
        qty: Qty,
        fee: Money,
    ) -> Result<(), PositionOverflow> {
        let mut next = *self;
        next.apply_unchecked(side, price, qty, fee)
            .ok_or(PositionOverflow)?;
        *self = next;
        Ok(())
    }

    fn apply_unchecked(&mut self, side: Side, price: Price, qty: Qty, fee: Money) -> Option<()> {
        let px = i128::from(price.raw());
        let dq = i128::from(qty.raw()) * i128::from(side.sign());
        let held = i128::from(self.qty.raw());
        let mut realized16: i128 = 0; // scale 10^16
        if held == 0 || held.signum() == dq.signum() {
            self.cost = self.cost.checked_add(px.checked_mul(dq)?)?;
            self.qty = Qty::from_raw(i64::try_from(held + dq).ok()?);
        } else {
            let closing = dq.abs().min(held.abs());
            let removed = div_round(
                self.cost.checked_mul(closing)?,
                held.abs(),
                Rounding::HalfEven,
            );
            realized16 = held.signum() * px * closing - removed;
            self.cost -= removed;
            let after = held + dq.signum() * closing;
            let opening = dq.abs() - closing;
            if opening > 0 {
                // Flipped through zero: the rest opens a new position at `price`.
                self.cost = px * dq.signum() * opening;
                self.qty = Qty::from_raw(i64::try_from(dq.signum() * opening).ok()?);
            } else {
                // Closing all of it removes the whole remaining cost (closed
                // share = 1), so no rounding residue outlives the position.
                self.qty = Qty::from_raw(i64::try_from(after).ok()?);
            }
        }
        self.realized16 = self.realized16.checked_add(realized16)?;
        // The money view must stay representable.
        i64::try_from(div_round(
            self.realized16,
            i128::from(SCALE),
            Rounding::HalfEven,
        ))
        .ok()?;
        self.fees = self.fees.checked_add(fee)?;
        self.fills += 1;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    #[test]
    fn long_round_trip_realizes_exactly() {
        let mut pos = Position::default();
        pos.apply_fill(Side::Buy, p("100"), q("1"), Money::ZERO)
            .unwrap();
        pos.apply_fill(Side::Buy, p("101"), q("2"), Money::ZERO)
            .unwrap();
        assert_eq!(pos.avg_entry(), Some(p("100.66666667")));
        assert_eq!(pos.unrealized(p("102")).unwrap().to_string(), "4");
        pos.apply_fill(Side::Sell, p("103"), q("3"), Money::ZERO)
            .unwrap();
        assert_eq!(pos.qty(), Qty::ZERO);
        assert_eq!(pos.realized().to_string(), "7"); // 309 - 302
    }

    #[test]
    fn short_then_flip_long() {
        let mut pos = Position::default();
        pos.apply_fill(Side::Sell, p("50"), q("2"), Money::from_raw(1))
            .unwrap();
        pos.apply_fill(Side::Buy, p("45"), q("3"), Money::from_raw(1))
            .unwrap();
        assert_eq!(pos.realized().to_string(), "10");
        assert_eq!(pos.qty(), q("1"));
        assert_eq!(pos.avg_entry(), Some(p("45")));
        assert_eq!(pos.fees(), Money::from_raw(2));
        assert_eq!(pos.fills(), 2);
    }

    #[test]
    fn thirds_leave_no_residue() {
        let mut pos = Position::default();
        pos.apply_fill(Side::Buy, p("10"), q("3"), Money::ZERO)
            .unwrap();
        pos.apply_fill(Side::Buy, p("10.00000001"), q("1"), Money::ZERO)
            .unwrap();
        for _ in 0..3 {
            pos.apply_fill(Side::Sell, p("11"), q("1"), Money::ZERO)
                .unwrap();
        }
        pos.apply_fill(Side::Sell, p("11"), q("1"), Money::ZERO)
            .unwrap();
        // 44 - 40.00000001
        assert_eq!(pos.realized().to_string(), "3.99999999");
    }

    #[test]
    fn avg_entry_of_a_short_position_is_positive() {
        // Regression: the divisor was the signed quantity, negative when short.
        let mut pos = Position::default();
        pos.apply_fill(Side::Sell, p("100"), q("1"), Money::ZERO)
            .unwrap();
        pos.apply_fill(Side::Sell, p("103"), q("2"), Money::ZERO)
            .unwrap();
        assert_eq!(pos.avg_entry(), Some(p("102")));
        assert_eq!(pos.unrealized(p("101")).unwrap().to_string(), "3");
    }

    #[test]
    fn overflow_changes_nothing() {
        let mut pos = Position::default();
        pos.apply_fill(Side::Buy, p("10"), q("1"), Money::MAX)
            .unwrap();
        let before = pos;
        assert_eq!(
            pos.apply_fill(Side::Buy, p("10"), q("1"), Money::ONE),
            Err(PositionOverflow)
        );
        assert_eq!(pos, before);
    }
}
