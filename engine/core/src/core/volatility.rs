//! Realized volatility of the mid price: an exponentially weighted mean of
//! squared returns, in basis points per book update.
//!
//! Floats are allowed inside indicators (SPEC 3). Only `+ − × ÷` and `sqrt`
//! are used, all correctly rounded by IEEE 754, so every x86-64 host computes
//! the same bits; the smoothing factor is `2 / (span + 1)` (the TA-Lib EMA
//! convention) rather than a half-life, which would need `pow`.

use crate::types::{Price, Rate};

/// EWMA volatility of one symbol's mid.
#[derive(Clone, Copy, Debug, PartialEq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Volatility {
    alpha: f64,
    span: u32,
    variance: f64,
    last: f64,
    samples: u32,
}

impl Volatility {
    /// A volatility over about `span` updates (span >= 1).
    pub fn new(span: u32) -> Volatility {
        Volatility {
            alpha: 2.0 / (f64::from(span.max(1)) + 1.0),
            span: span.max(1),
            variance: 0.0,
            last: 0.0,
            samples: 0,
        }
    }

    /// Folds in a new mid price (> 0). The return is taken of the raw
    /// fixed-point values, whose scale cancels: one division per update,
    /// not three.
    pub fn update(&mut self, mid: Price) {
        let mid = mid.raw() as f64;
        if self.last > 0.0 {
            let r = (mid - self.last) / self.last * 10_000.0;
            self.variance += self.alpha * (r * r - self.variance);
            self.samples = self.samples.saturating_add(1);
        }
        self.last = mid;
    }

    /// `true` once `span` returns have been seen (before that the estimate
    /// is not trusted and the volatility rules do not apply).
    pub fn is_warm(&self) -> bool {
        self.samples >= self.span
    }

    /// Volatility in basis points per update, as an exact ratio (rounded to
    /// 10^-8 bp), so rules compare it without floats. Derived when asked
    /// (by an order's risk check, a view), not at every book update: the
    /// square root and the rounding are the costly part of an update.
    pub fn bps(&self) -> Rate {
        Rate::from_f64(self.variance.sqrt()).unwrap_or(Rate::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(p: f64) -> Price {
        Price::from_f64(p).unwrap()
    }

    #[test]
    fn alternating_moves_of_one_bp_give_one_bp() {
        let mut v = Volatility::new(10);
        let mut p = 10_000.0;
        for i in 0..2000 {
            v.update(price(p));
            p = if i % 2 == 0 { p * 1.0001 } else { p / 1.0001 };
        }
        assert!(v.is_warm());
        let bps = v.bps().to_f64();
        assert!((bps - 1.0).abs() < 0.001, "{bps}");
    }

    #[test]
    fn cold_until_span_returns() {
        let mut v = Volatility::new(3);
        for p in [100.0, 101.0, 100.0] {
            v.update(price(p));
        }
        assert!(!v.is_warm());
        v.update(price(101.0));
        assert!(v.is_warm());
    }
}
