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
    LiquidationMemo::default().price(brackets, qty, cost16, mark, margin)
}

/// The last liquidation price computed for a position and what it was
/// computed from: the formula's inputs, not the mark (which only picks the
/// bracket). The liquidation watch asks on every mark move, and these
/// inputs change only with fills, funding and other symbols' marks, so
/// most asks need no division. [`liquidation_price`] is a fresh memo's.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct LiquidationMemo {
    /// (qty, cost16, margin money + cum, mmr); qty 0: nothing stored.
    key: (i64, i128, i128, i64),
    price: Option<Price>,
}

impl LiquidationMemo {
    /// [`liquidation_price`], from the memo when its inputs are unchanged.
    pub fn price(
        &mut self,
        brackets: &Brackets,
        qty: Qty,
        cost16: i128,
        mark: Price,
        margin: CrossMargin,
    ) -> Option<Price> {
        if qty.is_zero() {
            return None;
        }
        let b = brackets.bracket(Money::notional(mark, qty, Rounding::HalfEven)?)?;
        let money = i128::from(margin.wallet.raw()) - i128::from(margin.other_maintenance.raw())
            + i128::from(margin.other_unrealized.raw())
            + i128::from(b.cum.raw());
        let key = (qty.raw(), cost16, money, b.mmr.raw());
        if self.key != key {
            self.key = key;
            self.price = price_of(formula(b, qty, cost16, margin));
        }
        self.price
    }

    /// The price last computed (none before, or when flat then).
    pub fn last(&self) -> Option<Price> {
        self.price
    }
}

/// `mark` is closer to `liquidation` than `min` (as a fraction of the
/// mark): exactly `liquidation_distance(mark, liquidation) < min`, without
/// the division (floor(x) < m ⇔ x < m for a whole m).
pub fn closer_than(mark: Price, liquidation: Price, min: Rate) -> bool {
    if !mark.is_positive() {
        return false;
    }
    let gap = (i128::from(mark.raw()) - i128::from(liquidation.raw())).abs();
    gap * i128::from(SCALE) < i128::from(min.raw()) * i128::from(mark.raw())
}

fn price_of(fraction: Option<(i128, i128)>) -> Option<Price> {
    let (num, den) = fraction?;
    let lp = div_round(num.checked_mul(i128::from(SCALE))?, den, Rounding::HalfEven);
    if lp <= 0 {
        return None;
    }
    i64::try_from(lp).ok().map(Price::from_raw)
}

/// The liquidation formula as a fraction `num / den` (both at scale 10^16,
/// `den > 0`), so that LP = num × 10^8 / den raw; `None` when flat, when
/// the denominator is zero, or on overflow.
fn formula(b: &Bracket, qty: Qty, cost16: i128, margin: CrossMargin) -> Option<(i128, i128)> {
    if qty.is_zero() {
        return None;
    }
    let q = i128::from(qty.raw());
    let scale = i128::from(SCALE);
    // Numerator: (WB − TMM₂ + UPNL₂ + cum) × 10^8 − side × |q| × EP.
    let money = i128::from(margin.wallet.raw()) - i128::from(margin.other_maintenance.raw())
        + i128::from(margin.other_unrealized.raw())
        + i128::from(b.cum.raw());
    let num = money.checked_mul(scale)?.checked_sub(cost16)?;
    // Denominator: |q| × mmr − side × |q| × 10^8.
    let den = q.abs().checked_mul(i128::from(b.mmr.raw()))? - q.checked_mul(scale)?;
    match den.signum() {
        0 => None,
        1 => Some((num, den)),
        _ => Some((-num, -den)),
    }
}

/// How the liquidation price of a position (as in [`liquidation_price`])
/// lies against a minimum distance from mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidationGap {
    /// No liquidation price (flat, or margin covers a move to zero), or one
    /// at least the minimum distance away.
    Clear,
    /// Closer than the minimum: the distance, rounded down.
    Near(Rate),
    /// The position's notional is above the last bracket.
    AboveBrackets,
}

/// Whether the liquidation price is closer to `mark` than `min` (a
/// fraction of mark), on the exact rational LP. The pre-trade check runs
/// on every order intent, so the passing path multiplies instead of
/// dividing; a product too large for i128 falls back to the rounded LP.
pub fn liquidation_gap(
    brackets: &Brackets,
    qty: Qty,
    cost16: i128,
    mark: Price,
    margin: CrossMargin,
    min: Rate,
) -> LiquidationGap {
    if qty.is_zero() || !mark.is_positive() {
        return LiquidationGap::Clear;
    }
    let Some(b) = Money::notional(mark, qty, Rounding::HalfEven).and_then(|n| brackets.bracket(n))
    else {
        return LiquidationGap::AboveBrackets;
    };
    let Some((num, den)) = formula(b, qty, cost16, margin) else {
        return LiquidationGap::Clear;
    };
    if num <= 0 {
        return LiquidationGap::Clear;
    }
    let scale = i128::from(SCALE);
    let m = i128::from(mark.raw());
    // |mark − num·10^8/den| / mark < min  ⇔  |mark·den − num·10^8|·10^8 < min·mark·den.
    let exact = (|| {
        let at_mark = m.checked_mul(den)?;
        let gap = at_mark
            .checked_sub(num.checked_mul(scale)?)?
            .checked_abs()?;
        let lhs = gap.checked_mul(scale)?;
        let rhs = i128::from(min.raw()).checked_mul(at_mark)?;
        Some((lhs, at_mark, lhs < rhs))
    })();
    match exact {
        Some((_, _, false)) => LiquidationGap::Clear,
        Some((lhs, at_mark, true)) => {
            let d = div_round(lhs, at_mark, Rounding::Floor);
            LiquidationGap::Near(Rate::from_raw(i64::try_from(d).unwrap_or(0)))
        }
        None => match liquidation_price(brackets, qty, cost16, mark, margin)
            .and_then(|lp| liquidation_distance(mark, lp))
        {
            Some(d) if d < min => LiquidationGap::Near(d),
            _ => LiquidationGap::Clear,
        },
    }
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

    proptest::proptest! {
        /// The division-free gap test agrees with the distance of the
        /// rounded liquidation price, except within two units of the
        /// minimum, where rounding the price may tip it.
        #[test]
        fn liquidation_gap_agrees_with_the_rounded_price(
            qty in -500_000_000i64..500_000_000,
            entry in 1_000_000_000_000i64..10_000_000_000_000,
            mark in 1_000_000_000_000i64..10_000_000_000_000,
            wallet in 0i64..5_000_000_000_000,
            min in 1i64..50_000_000,
        ) {
            let b = btc();
            let q = Qty::from_raw(qty);
            let cost16 = i128::from(qty) * i128::from(entry);
            let mark = Price::from_raw(mark);
            let margin = CrossMargin { wallet: Money::from_raw(wallet), ..CrossMargin::default() };
            let gap = liquidation_gap(&b, q, cost16, mark, margin, Rate::from_raw(min));
            let above = Money::notional(mark, q, Rounding::HalfEven)
                .and_then(|n| b.bracket(n))
                .is_none();
            match liquidation_price(&b, q, cost16, mark, margin)
                .and_then(|lp| liquidation_distance(mark, lp))
            {
                _ if above => proptest::prop_assert_eq!(gap, LiquidationGap::AboveBrackets),
                None => proptest::prop_assert_eq!(gap, LiquidationGap::Clear),
                Some(d) if d.raw() + 2 < min => {
                    let LiquidationGap::Near(e) = gap else {
                        return Err(proptest::test_runner::TestCaseError::fail(
                            format!("distance {d:?} < {min} but {gap:?}"),
                        ));
                    };
                    proptest::prop_assert!((e.raw() - d.raw()).abs() <= 2);
                }
                Some(d) if d.raw() > min + 2 => proptest::prop_assert_eq!(gap, LiquidationGap::Clear),
                Some(_) => {}
            }
        }

        /// A memo asked in any order (repeated inputs hit it) gives what a
        /// fresh computation gives, and `closer_than` is exactly the
        /// distance compared with the minimum.
        #[test]
        fn the_memo_and_the_division_free_compare_are_exact(
            asks in proptest::collection::vec(
                (-30i64..30, 0usize..3, 1_000_000_000_000i64..10_000_000_000_000, 0usize..2),
                1..40,
            ),
            min in 1i64..50_000_000,
        ) {
            let b = btc();
            let entries = [3_000_000_000_000i64, 6_000_000_000_000, 9_000_000_000_000];
            let wallets = [Money::from_raw(100_000_000_000), Money::from_raw(900_000_000_000)];
            let mut memo = LiquidationMemo::default();
            for (lots, e, mark, w) in asks {
                let q = Qty::from_raw(lots * 10_000_000);
                let cost16 = i128::from(q.raw()) * i128::from(entries[e]);
                let mark = Price::from_raw(mark);
                let margin = CrossMargin { wallet: wallets[w], ..CrossMargin::default() };
                let want = liquidation_price(&b, q, cost16, mark, margin);
                proptest::prop_assert_eq!(memo.price(&b, q, cost16, mark, margin), want);
                if let Some(lp) = want {
                    let min = Rate::from_raw(min);
                    let d = liquidation_distance(mark, lp).unwrap_or(Rate::MAX);
                    proptest::prop_assert_eq!(closer_than(mark, lp, min), d < min);
                }
            }
        }
    }
}
