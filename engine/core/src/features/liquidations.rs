//! Forced orders (`<symbol>@forceOrder`): the notional the exchange
//! liquidated on each side over the last `window` seconds of event time.
//!
//! A burst of long liquidations (forced sells) is selling that nobody
//! chose: strategies read it as flow that may exhaust itself, or as a move
//! that feeds on itself. The window is one-second buckets in a ring, so an
//! update is O(1) and moving the window on costs one bucket per second
//! passed (at most the window): no allocation after construction, exact
//! sums in 10^-8 USDT.
//!
//! # Invariants
//! - `sums` is the sum of the buckets, each of which holds only what fell
//!   in its second, for the seconds `second - window + 1 ..= second`.
//! - A print older than the window is not counted (it already left it).

use crate::types::{Money, Price, Qty, SCALE, Side, UnixNanos};

/// Liquidated notional by side, over the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiquidationSums {
    /// Forced sells: long positions liquidated.
    pub longs: Money,
    /// Forced buys: short positions liquidated.
    pub shorts: Money,
}

/// One symbol's liquidations over a sliding window of seconds.
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct LiquidationFlow {
    /// Raw notional (10^-8 USDT) per second, `[sells, buys]`, by second
    /// modulo the window.
    buckets: Vec<[i128; 2]>,
    /// The newest second the window has reached (0: none yet).
    second: u64,
    sums: [i128; 2],
}

impl LiquidationFlow {
    /// A window of `secs` seconds (at least 1); allocates here only.
    pub fn new(secs: u32) -> LiquidationFlow {
        LiquidationFlow {
            buckets: vec![[0; 2]; secs.max(1) as usize],
            second: 0,
            sums: [0; 2],
        }
    }

    fn window(&self) -> u64 {
        self.buckets.len() as u64
    }

    /// Moves the window's end to the second of `now`: the seconds that
    /// leave it are emptied.
    pub fn advance(&mut self, now: UnixNanos) {
        let s = now.0 / 1_000_000_000;
        if s <= self.second {
            return;
        }
        let gone = (s - self.second).min(self.window());
        for k in 1..=gone {
            let i = ((self.second + k) % self.window()) as usize;
            let b = std::mem::take(&mut self.buckets[i]);
            self.sums[0] -= b[0];
            self.sums[1] -= b[1];
        }
        self.second = s;
    }

    /// A forced order at `t` on `side`, filled `qty` at `price`.
    pub fn add(&mut self, t: UnixNanos, side: Side, price: Price, qty: Qty) {
        self.advance(t);
        let s = t.0 / 1_000_000_000;
        if s + self.window() <= self.second {
            return;
        }
        let notional = i128::from(price.raw()) * i128::from(qty.raw()) / i128::from(SCALE);
        let k = usize::from(side == Side::Buy);
        let i = (s % self.window()) as usize;
        self.buckets[i][k] += notional;
        self.sums[k] += notional;
    }

    /// The window's sums (as of the last `advance` or `add`).
    pub fn sums(&self) -> LiquidationSums {
        let money = |x: i128| Money::from_raw(i64::try_from(x).unwrap_or(i64::MAX));
        LiquidationSums {
            longs: money(self.sums[0]),
            shorts: money(self.sums[1]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> UnixNanos {
        UnixNanos((secs * 1e9) as u64 + 1_700_000_000_000_000_000)
    }

    fn usdt(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn sums_by_side_over_the_window_and_forgets_what_left_it() {
        let mut f = LiquidationFlow::new(60);
        let p = Price::parse("60000").unwrap();
        f.add(at(0.5), Side::Sell, p, Qty::parse("0.5").unwrap());
        f.add(at(10.0), Side::Buy, p, Qty::parse("0.1").unwrap());
        f.add(at(30.2), Side::Sell, p, Qty::parse("0.25").unwrap());
        assert_eq!(
            f.sums(),
            LiquidationSums {
                longs: usdt("45000"),
                shorts: usdt("6000")
            }
        );
        // At 60.x the second 0 has left the 60-second window.
        f.advance(at(60.1));
        assert_eq!(f.sums().longs, usdt("15000"));
        assert_eq!(f.sums().shorts, usdt("6000"));
        // At 90.x the second 30 has left too.
        f.advance(at(90.5));
        assert_eq!(f.sums(), LiquidationSums::default());
        // Late by more than the window: not counted; within it: counted.
        f.add(at(20.0), Side::Buy, p, Qty::parse("1").unwrap());
        assert_eq!(f.sums().shorts, Money::ZERO);
        f.add(at(85.0), Side::Buy, p, Qty::parse("1").unwrap());
        assert_eq!(f.sums().shorts, usdt("60000"));
        // A jump far beyond the window empties it at once.
        f.advance(at(10_000.0));
        assert_eq!(f.sums(), LiquidationSums::default());
    }

    proptest::proptest! {
        #[test]
        fn the_sums_are_those_of_the_prints_inside_the_window(
            prints in proptest::collection::vec((0u64..400, proptest::bool::ANY, 1i64..1_000_000), 1..200),
            window in 1u32..120,
        ) {
            let mut sorted = prints.clone();
            sorted.sort_by_key(|p| p.0);
            let mut f = LiquidationFlow::new(window);
            let price = Price::parse("100").unwrap();
            for (k, &(s, buy, q)) in sorted.iter().enumerate() {
                let side = if buy { Side::Buy } else { Side::Sell };
                f.add(UnixNanos(s * 1_000_000_000 + 7), side, price, Qty::from_raw(q));
                let want = |b: bool| -> i128 {
                    sorted[..=k]
                        .iter()
                        .filter(|p| p.1 == b && p.0 + u64::from(window) > s)
                        .map(|p| i128::from(p.2) * 100)
                        .sum()
                };
                proptest::prop_assert_eq!(i128::from(f.sums().shorts.raw()), want(true));
                proptest::prop_assert_eq!(i128::from(f.sums().longs.raw()), want(false));
            }
        }
    }
}
