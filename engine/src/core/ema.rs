//! Exponential moving averages and the EMA-cross signal.
//!
//! Convention (TA-Lib): `k = 2 / (n + 1)`; the first value is the simple mean of
//! the first `n` inputs; then `ema = ema + k * (x - ema)`. Floats are allowed
//! here (inside indicators only): IEEE-754 `f64` add/mul/sub/div are exact
//! functions of their inputs and Rust never fuses them, so the same inputs give
//! the same bits on every x86-64 CPU.

/// An EMA of period `n`, seeded by the SMA of its first `n` inputs.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Ema {
    period: u32,
    k: f64,
    seen: u32,
    sum: f64,
    value: f64,
}

impl Ema {
    /// A new EMA; `period` must be at least 1.
    pub fn new(period: u32) -> Ema {
        let period = period.max(1);
        Ema {
            period,
            k: 2.0 / (f64::from(period) + 1.0),
            seen: 0,
            sum: 0.0,
            value: 0.0,
        }
    }

    /// Adds one input; returns the EMA once warm.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.seen < self.period {
            self.seen += 1;
            self.sum += x;
            if self.seen < self.period {
                return None;
            }
            self.value = self.sum / f64::from(self.period);
            return Some(self.value);
        }
        self.value += self.k * (x - self.value);
        Some(self.value)
    }

    /// The current value once warm.
    pub fn value(&self) -> Option<f64> {
        (self.seen >= self.period).then_some(self.value)
    }
}

/// Direction of a cross.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cross {
    /// Fast EMA moved above the slow one.
    Up,
    /// Fast EMA moved below the slow one.
    Down,
}

/// Fast/slow EMA cross detector. Reports a cross only when the sign of
/// `fast - slow` changes after both are warm (being above at warm-up is not a
/// cross); equality keeps the previous sign so touching does not flicker.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct EmaCross {
    fast: Ema,
    slow: Ema,
    above: Option<bool>,
}

impl EmaCross {
    /// A detector for the given periods.
    pub fn new(fast: u32, slow: u32) -> EmaCross {
        EmaCross {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            above: None,
        }
    }

    /// Feeds one price; returns a cross if this price caused one.
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<Cross> {
        let f = self.fast.update(x);
        let s = self.slow.update(x);
        let now_above = match f?.total_cmp(&s?) {
            std::cmp::Ordering::Equal => return None,
            order => order == std::cmp::Ordering::Greater,
        };
        let prev = self.above.replace(now_above);
        match prev {
            Some(was) if was != now_above => Some(if now_above { Cross::Up } else { Cross::Down }),
            _ => None,
        }
    }

    /// Current fast and slow values, once warm.
    pub fn values(&self) -> Option<(f64, f64)> {
        Some((self.fast.value()?, self.slow.value()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ema_seeds_with_sma_then_smooths() {
        let mut e = Ema::new(3);
        assert_eq!(e.update(1.0), None);
        assert_eq!(e.update(2.0), None);
        assert_eq!(e.update(3.0), Some(2.0));
        // k = 0.5: 2 + 0.5 * (6 - 2) = 4
        assert_eq!(e.update(6.0), Some(4.0));
    }

    #[test]
    fn cross_fires_on_sign_change_only() {
        let mut c = EmaCross::new(2, 4);
        let mut crosses = Vec::new();
        for x in [10.0, 10.0, 10.0, 10.0, 11.0, 12.0, 13.0, 9.0, 8.0, 7.0] {
            if let Some(k) = c.update(x) {
                crosses.push(k);
            }
        }
        assert_eq!(crosses, vec![Cross::Down]);
    }
}
