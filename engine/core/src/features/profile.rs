//! Volume profile: traded volume per price bucket since the last reset, with
//! the point of control (POC) and the value area.
//!
//! # Layout and cost
//! `buckets` fixed buckets of `width` each, centred on the first price after
//! a reset. A trade adds its quantity to one bucket and may move the POC:
//! O(1), because volumes only grow between resets, so the POC can only move
//! to the bucket just added to. Volume outside the buckets is counted apart
//! (`outside`) and left out of the POC and value area. The value area is
//! O(buckets) and computed when asked (once per bar, not per trade).
//!
//! # Conventions
//! - POC: the bucket with the most volume; on a tie the one that reached the
//!   volume first keeps it.
//! - Value area (the CBOT rule): start at the POC, then repeatedly add the
//!   neighbouring bucket (above or below) with more volume, the one above on
//!   a tie, until the area holds `share` of the in-range volume.
//! - Volumes and prices are exact fixed-point integers.

use crate::types::{Price, Qty, Rate, SCALE};

/// Traded volume by price.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct VolumeProfile {
    width: i64,
    /// Raw price of bucket 0's lower edge (valid once `started`).
    base: i64,
    started: bool,
    volume: Vec<i64>,
    total: i128,
    outside: i128,
    poc: usize,
}

/// The value area: `[low, high)` holds the share of volume asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueArea {
    /// Lower edge of the lowest bucket in the area.
    pub low: Price,
    /// Upper edge of the highest bucket in the area.
    pub high: Price,
    /// Lower edge of the POC bucket.
    pub poc: Price,
}

impl VolumeProfile {
    /// `buckets` buckets (>= 1) of `width` (> 0) each; allocates here only.
    pub fn new(buckets: usize, width: Price) -> VolumeProfile {
        VolumeProfile {
            width: width.raw().max(1),
            base: 0,
            started: false,
            volume: vec![0; buckets.max(1)],
            total: 0,
            outside: 0,
            poc: 0,
        }
    }

    /// Forgets all volume; the next trade re-centres the buckets.
    pub fn reset(&mut self) {
        self.volume.fill(0);
        self.started = false;
        self.total = 0;
        self.outside = 0;
        self.poc = 0;
    }

    /// Adds a trade's quantity at its price (non-positive values ignored).
    #[inline]
    pub fn update(&mut self, price: Price, qty: Qty) {
        if !price.is_positive() || !qty.is_positive() {
            return;
        }
        let n = self.volume.len();
        if !self.started {
            let half = i64::try_from(n / 2).unwrap_or(0);
            let bucket = price.raw().div_euclid(self.width);
            self.base = bucket.saturating_sub(half).saturating_mul(self.width);
            self.started = true;
        }
        let i = price.raw().saturating_sub(self.base).div_euclid(self.width);
        let Some(i) = usize::try_from(i).ok().filter(|&i| i < n) else {
            self.outside += i128::from(qty.raw());
            return;
        };
        self.volume[i] = self.volume[i].saturating_add(qty.raw());
        self.total += i128::from(qty.raw());
        if self.volume[i] > self.volume[self.poc] {
            self.poc = i;
        }
    }

    fn edge(&self, i: usize) -> Price {
        Price::from_raw(self.base + i as i64 * self.width)
    }

    /// Lower edge of the point-of-control bucket.
    pub fn poc(&self) -> Option<Price> {
        (self.total > 0).then(|| self.edge(self.poc))
    }

    /// Volume outside the buckets since the reset.
    pub fn outside(&self) -> Qty {
        Qty::from_raw(i64::try_from(self.outside).unwrap_or(i64::MAX))
    }

    /// The value area holding `share` (0 < share <= 1, e.g. 0.70) of the
    /// in-range volume.
    pub fn value_area(&self, share: Rate) -> Option<ValueArea> {
        if self.total == 0 || !share.is_positive() {
            return None;
        }
        let share = i128::from(share.raw().min(SCALE));
        let (mut lo, mut hi) = (self.poc, self.poc);
        let mut held = i128::from(self.volume[self.poc]);
        // held / total >= share, without division.
        while held * i128::from(SCALE) < share * self.total {
            let below = lo.checked_sub(1).map(|i| self.volume[i]);
            let above = self.volume.get(hi + 1).copied();
            match (below, above) {
                (Some(b), Some(a)) if b > a => {
                    lo -= 1;
                    held += i128::from(b);
                }
                (_, Some(a)) => {
                    hi += 1;
                    held += i128::from(a);
                }
                (Some(b), None) => {
                    lo -= 1;
                    held += i128::from(b);
                }
                (None, None) => break,
            }
        }
        Some(ValueArea {
            low: self.edge(lo),
            high: self.edge(hi + 1),
            poc: self.edge(self.poc),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }
    fn q(s: &str) -> Qty {
        s.parse().unwrap()
    }

    #[test]
    fn poc_and_value_area_by_the_cbot_rule() {
        // Buckets of 1.0 centred on 100: [95, 105).
        let mut vp = VolumeProfile::new(10, p("1"));
        for (price, qty) in [
            ("100.5", "10"),
            ("101.2", "6"),
            ("99.9", "4"),
            ("102", "3"),
            ("98", "2"),
            ("97", "1"),
            ("200", "50"),
        ] {
            vp.update(p(price), q(qty));
        }
        assert_eq!(vp.poc(), Some(p("100")));
        assert_eq!(vp.outside(), q("50"));
        // total 26; 70 % = 18.2: 10 (POC) + 6 above = 16 + 4 below = 20.
        let va = vp.value_area(Rate::from_raw(70_000_000)).unwrap();
        assert_eq!((va.low, va.high, va.poc), (p("99"), p("102"), p("100")));
        // All of it: every bucket with volume.
        let all = vp.value_area(Rate::ONE).unwrap();
        assert_eq!((all.low, all.high), (p("97"), p("103")));
    }

    #[test]
    fn a_tie_keeps_the_first_poc_and_reset_recentres() {
        let mut vp = VolumeProfile::new(4, p("1"));
        vp.update(p("10"), q("1"));
        vp.update(p("11"), q("1"));
        assert_eq!(vp.poc(), Some(p("10")));
        vp.reset();
        assert_eq!(vp.poc(), None);
        vp.update(p("50"), q("1"));
        assert_eq!(vp.poc(), Some(p("50")));
        assert_eq!(vp.outside(), Qty::ZERO);
    }
}
