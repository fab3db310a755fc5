//! The EMA-cross signal over two TA-Lib EMAs (`features::ta::Ema`).

use crate::features::ta::Ema;

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
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct EmaCross {
    fast: Ema,
    slow: Ema,
    above: Option<bool>,
}

impl EmaCross {
    /// A detector for the given periods.
    pub fn new(fast: u32, slow: u32) -> EmaCross {
        EmaCross {
            fast: Ema::new(fast as usize),
            slow: Ema::new(slow as usize),
            above: None,
        }
    }

    /// As new: the warm-up starts again.
    pub fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.above = None;
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
