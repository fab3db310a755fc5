//! Binance USD-M maintenance-margin brackets and the margin arithmetic on
//! them, in exact fixed point.
//!
//! A bracket covers position notionals in `(floor, cap]` (the first from 0)
//! and says the maintenance margin there:
//! `MM = notional × mmr − cum`, where `cum` (Binance's "maintenance amount")
//! makes MM continuous across brackets:
//! `cum_i = cum_{i-1} + floor_i × (mmr_i − mmr_{i-1})`. [`Brackets::new`]
//! checks that identity, so a mistyped bracket is refused at start.
//!
//! Liquidation price (cross margin, one-way mode, Binance's formula):
//!
//! ```text
//! LP = (WB − TMM₂ + UPNL₂ + cum₁ − side₁ × |q₁| × EP₁) / (|q₁| × mmr₁ − side₁ × |q₁|)
//! ```
//!
//! with WB the wallet balance, TMM₂ and UPNL₂ the maintenance margin and
//! unrealized PnL of every other position, and `side₁ × |q₁| × EP₁` the
//! position's signed cost. The bracket is the one of the position's current
//! notional at mark (Binance's calculator does the same).

use super::{Money, Price, Qty, Rate, Rounding, SCALE, div_round_i128 as div_round};

/// Most brackets an instrument has (Binance has at most 12 or so today).
pub const MAX_BRACKETS: usize = 16;

/// One bracket: notional cap, maintenance-margin rate, maintenance amount.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Bracket {
    /// Largest position notional in the bracket (USDT).
    pub cap: Money,
    /// Maintenance-margin rate.
    pub mmr: Rate,
    /// Maintenance amount (`cum`).
    pub cum: Money,
}

/// Why a bracket table was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BracketError {
    /// No bracket, or more than [`MAX_BRACKETS`].
    #[error("1 ..= {MAX_BRACKETS} brackets are needed")]
    Count,
    /// Caps must increase.
    #[error("bracket {0}: cap must exceed the previous cap")]
    CapOrder(usize),
    /// Rates must lie in (0, 1] and not decrease.
    #[error(
        "bracket {0}: maintenance margin rate must be in (0, 1] and not below the previous one"
    )]
    Rate(usize),
    /// `cum` does not follow from the previous bracket.
    #[error("bracket {index}: maintenance amount should be {expected}")]
    Cum {
        /// Bracket index.
        index: usize,
        /// The value the previous brackets imply.
        expected: Money,
    },
}

/// The brackets of one instrument, fixed capacity (no heap; part of the
/// core's state).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Brackets {
    len: u8,
    table: [Bracket; MAX_BRACKETS],
}

impl Brackets {
    /// Checks and stores a bracket table (lowest first).
    pub fn new(list: &[Bracket]) -> Result<Brackets, BracketError> {
        if list.is_empty() || list.len() > MAX_BRACKETS {
            return Err(BracketError::Count);
        }
        let mut table = [Bracket::default(); MAX_BRACKETS];
        let mut prev = Bracket::default();
        for (i, b) in list.iter().enumerate() {
            if b.cap <= prev.cap {
                return Err(BracketError::CapOrder(i));
            }
            if !b.mmr.is_positive() || b.mmr > Rate::ONE || b.mmr < prev.mmr {
                return Err(BracketError::Rate(i));
            }
            // floor × Δmmr, both scaled 10^8.
            let step = i128::from(prev.cap.raw()) * i128::from(b.mmr.raw() - prev.mmr.raw());
            let expected =
                i128::from(prev.cum.raw()) + div_round(step, i128::from(SCALE), Rounding::HalfEven);
            let expected = Money::from_raw(i64::try_from(expected).unwrap_or(i64::MAX));
            if b.cum != expected {
                return Err(BracketError::Cum { index: i, expected });
            }
            table[i] = *b;
            prev = *b;
        }
        Ok(Brackets {
            len: list.len() as u8,
            table,
        })
    }

    /// The brackets, lowest first.
    pub fn as_slice(&self) -> &[Bracket] {
        &self.table[..usize::from(self.len)]
    }

    /// The bracket of a position notional (|notional|); `None` above the
    /// last cap (the exchange would refuse such a position).
    pub fn bracket(&self, notional: Money) -> Option<&Bracket> {
        let n = notional.checked_abs()?;
        self.as_slice().iter().find(|b| n <= b.cap)
    }

    /// Maintenance margin of a position of |notional|, rounded up (the
    /// conservative side); `None` above the last cap or on overflow.
    pub fn maintenance(&self, notional: Money) -> Option<Money> {
        let n = notional.checked_abs()?;
        let b = self.bracket(n)?;
        let mm = div_round(
            i128::from(n.raw()) * i128::from(b.mmr.raw()),
            i128::from(SCALE),
            Rounding::Ceil,
        ) - i128::from(b.cum.raw());
        i64::try_from(mm.max(0)).ok().map(Money::from_raw)
    }
}

/// What the liquidation price of one position depends on besides itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossMargin {
    /// Wallet balance (WB).
    pub wallet: Money,
    /// Maintenance margin of every other position (TMM₂).
    pub other_maintenance: Money,
    /// Unrealized PnL of every other position (UPNL₂).
    pub other_unrealized: Money,
}

/// Liquidation price of a position of signed `qty` with signed cost
/// `cost16` (Σ price × qty, scale 10^16), at `mark`, under `margin`.
/// `None` when flat, when the position cannot be liquidated (a long whose
/// margin covers a fall to zero), or above the last bracket.
pub fn liquidation_price(
    brackets: &Brackets,
    qty: Qty,
    cost16: i128,
    mark: Price,
    margin: CrossMargin,
) -> Option<Price> {
    if qty.is_zero() {
        return None;
    }
    let notional = Money::notional(mark, qty, Rounding::HalfEven)?;
    let b = brackets.bracket(notional)?;
    let q = i128::from(qty.raw());
    let scale = i128::from(SCALE);
    // Numerator at scale 10^16: (WB − TMM₂ + UPNL₂ + cum) × 10^8 − side × |q| × EP.
    let money = i128::from(margin.wallet.raw()) - i128::from(margin.other_maintenance.raw())
        + i128::from(margin.other_unrealized.raw())
        + i128::from(b.cum.raw());
    let num = money.checked_mul(scale)?.checked_sub(cost16)?;
    // Denominator at scale 10^16: |q| × mmr − side × |q| × 10^8.
    let den = q.abs().checked_mul(i128::from(b.mmr.raw()))? - q.checked_mul(scale)?;
    if den == 0 {
        return None;
    }
    // div_round wants a positive divisor.
    let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
    let lp = div_round(num.checked_mul(scale)?, den, Rounding::HalfEven);
    if lp <= 0 {
        return None;
    }
    i64::try_from(lp).ok().map(Price::from_raw)
}

/// |mark − liquidation| / mark as an exact ratio (rounded down: the
/// conservative side); `None` for a non-positive mark.
pub fn liquidation_distance(mark: Price, liquidation: Price) -> Option<Rate> {
    if !mark.is_positive() {
        return None;
    }
    let gap = (i128::from(mark.raw()) - i128::from(liquidation.raw())).abs();
    let d = div_round(
        gap * i128::from(SCALE),
        i128::from(mark.raw()),
        Rounding::Floor,
    );
    i64::try_from(d).ok().map(Rate::from_raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }
    fn r(s: &str) -> Rate {
        Rate::parse(s).unwrap()
    }

    /// BTCUSDT's first four brackets (Binance, as in
    /// `shared/data/binance/rest/leverage_tiers.json`).
    pub(crate) fn btc() -> Brackets {
        Brackets::new(&[
            Bracket {
                cap: m("50000"),
                mmr: r("0.004"),
                cum: m("0"),
            },
            Bracket {
                cap: m("600000"),
                mmr: r("0.005"),
                cum: m("50"),
            },
            Bracket {
                cap: m("3000000"),
                mmr: r("0.0065"),
                cum: m("950"),
            },
            Bracket {
                cap: m("12000000"),
                mmr: r("0.01"),
                cum: m("11450"),
            },
        ])
        .unwrap()
    }

    #[test]
    fn maintenance_is_continuous_across_brackets() {
        let b = btc();
        assert_eq!(b.maintenance(m("50000")).unwrap(), m("200"));
        // Just above the first cap: 50000.01 × 0.005 − 50 = 200.00005 → up.
        assert_eq!(b.maintenance(m("50000.01")).unwrap(), m("200.00005"));
        assert_eq!(b.maintenance(m("-600000")).unwrap(), m("2950"));
        assert_eq!(b.maintenance(m("12000001")), None);
    }

    #[test]
    fn a_mistyped_cum_is_refused_with_the_right_value() {
        let err = Brackets::new(&[
            Bracket {
                cap: m("50000"),
                mmr: r("0.004"),
                cum: m("0"),
            },
            Bracket {
                cap: m("600000"),
                mmr: r("0.005"),
                cum: m("55"),
            },
        ]);
        assert_eq!(
            err,
            Err(BracketError::Cum {
                index: 1,
                expected: m("50")
            })
        );
        assert_eq!(Brackets::new(&[]), Err(BracketError::Count));
    }

    #[test]
    fn liquidation_price_of_a_long_and_a_short_by_hand() {
        let b = btc();
        let one = Qty::ONE;
        let wb = CrossMargin {
            wallet: m("10000"),
            ..CrossMargin::default()
        };
        // Long 1 BTC at 60000 (notional 60000: bracket 2, mmr 0.005, cum 50):
        // LP = (10000 + 50 − 60000) / (0.005 − 1) = 49950 / 0.995 = 50201.00502512…
        let cost = 60_000 * i128::from(SCALE) * i128::from(SCALE);
        let lp = liquidation_price(&b, one, cost, Price::parse("60000").unwrap(), wb).unwrap();
        assert_eq!(lp, Price::parse("50201.00502513").unwrap());
        // Short 1 BTC at 60000: LP = (10000 + 50 + 60000) / (0.005 + 1) = 69701.49253731…
        let lp = liquidation_price(
            &b,
            Qty::from_raw(-one.raw()),
            -cost,
            Price::parse("60000").unwrap(),
            wb,
        )
        .unwrap();
        assert_eq!(lp, Price::parse("69701.49253731").unwrap());
        let d = liquidation_distance(Price::parse("60000").unwrap(), lp).unwrap();
        assert_eq!(d, Rate::parse("0.16169154").unwrap());
    }

    #[test]
    fn a_fully_margined_long_has_no_liquidation_price() {
        let b = btc();
        let cost = 100 * i128::from(SCALE) * i128::from(SCALE) / 100;
        let wb = CrossMargin {
            wallet: m("10000"),
            ..CrossMargin::default()
        };
        // Long 0.01 BTC at 100 with 10000 USDT: liquidation would be below zero.
        let q = Qty::parse("0.01").unwrap();
        assert_eq!(
            liquidation_price(&b, q, cost, Price::parse("100").unwrap(), wb),
            None
        );
    }
}
