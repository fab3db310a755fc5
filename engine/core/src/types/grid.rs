//! Divisibility by a fixed step without a hardware divide.
//!
//! Every book ticker and trade is checked against its instrument's tick and
//! step (the guard refuses an off-grid price as implausible). Prices are
//! 10^-8 fixed point, so a BTCUSDT bid is above 2^32 and `x % tick` is a
//! 64-bit `div`: four of them per ticker were the guard's whole cost in the
//! profile (docs/performance.md). A step known in advance turns the test
//! into a shift and a multiply (Granlund and Montgomery, "Division by
//! invariant integers using multiplication", 1994, section 9; Lemire et
//! al., "Faster remainder by direct computation", 2019): for an odd `d`
//! with inverse `inv` modulo 2^64, `n` is a multiple of `d` exactly when
//! `n * inv mod 2^64 <= (2^64 - 1) / d`; an even step `d' * 2^k` needs `k`
//! trailing zero bits first. No crate offers this divisibility test (the
//! `strength_reduce` family computes quotients and remainders, a multiply
//! more), so it is written here; the property test pins it to `%`.

/// A positive step's multiples, tested without dividing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Grid {
    /// The step (0 when it was not positive: nothing is on the grid).
    step: u64,
    /// Trailing zero bits of the step; 65 for no step (more than any
    /// value has, so nothing passes).
    shift: u32,
    /// The inverse of the step's odd part modulo 2^64.
    inv: u64,
    /// `u64::MAX / odd part`.
    max: u64,
}

impl Grid {
    /// The multiples of `step`; a step `<= 0` has none.
    pub const fn new(step: i64) -> Grid {
        if step <= 0 {
            return Grid {
                step: 0,
                shift: 65,
                inv: 0,
                max: 0,
            };
        }
        let d = step as u64;
        let shift = d.trailing_zeros();
        let odd = d >> shift;
        // Newton's iteration doubles the correct low bits each step:
        // an odd `odd` is its own inverse modulo 8 (3 bits), 5 steps → 96.
        let mut inv = odd;
        let mut i = 0;
        while i < 5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inv)));
            i += 1;
        }
        Grid {
            step: d,
            shift,
            inv,
            max: u64::MAX / odd,
        }
    }

    /// The step (raw units); 0 for a grid of no step.
    pub const fn step(self) -> u64 {
        self.step
    }

    /// Whether `x` is a whole multiple of the step (negative `x` as its
    /// magnitude, as `x % step == 0` answers).
    #[inline]
    pub const fn holds(self, x: i64) -> bool {
        let a = x.unsigned_abs();
        a.trailing_zeros() >= self.shift && (a >> self.shift).wrapping_mul(self.inv) <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::Grid;
    use proptest::prelude::*;

    fn by_remainder(x: i64, step: i64) -> bool {
        step > 0 && x % step == 0
    }

    #[test]
    fn steps_of_real_instruments() {
        // 10^-8 units: tick 0.10, 0.01, 0.5; step 0.001, 1; and 7 (odd).
        for step in [
            10_000_000i64,
            1_000_000,
            50_000_000,
            100_000,
            100_000_000,
            7,
            1,
        ] {
            let g = Grid::new(step);
            for k in [-3i64, -1, 0, 1, 2, 600_000, 6_000_000_000] {
                let x = k.saturating_mul(step);
                assert!(g.holds(x), "{x} on {step}");
                assert_eq!(
                    g.holds(x + 1),
                    by_remainder(x + 1, step),
                    "{} on {step}",
                    x + 1
                );
                assert_eq!(
                    g.holds(x - 1),
                    by_remainder(x - 1, step),
                    "{} on {step}",
                    x - 1
                );
            }
        }
        assert!(!Grid::new(0).holds(0));
        assert!(!Grid::new(-5).holds(10));
        assert!(Grid::new(1).holds(i64::MIN));
        assert!(Grid::new(2).holds(i64::MIN));
        assert!(!Grid::new(3).holds(i64::MIN));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn agrees_with_the_remainder(x in any::<i64>(), step in any::<i64>()) {
            prop_assert_eq!(Grid::new(step).holds(x), by_remainder(x, step));
        }

        #[test]
        fn agrees_on_multiples_and_neighbours(k in -1_000_000i64..1_000_000, e in 0u32..11, m in 1i64..100) {
            let step = m * 10i64.pow(e);
            let g = Grid::new(step);
            let x = k * step;
            for y in [x - 1, x, x + 1, x + step / 2] {
                prop_assert_eq!(g.holds(y), by_remainder(y, step));
            }
        }
    }
}
