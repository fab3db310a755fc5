//! Each strategy instance's record: its last N closed round trips, as
//! returns on their entry notional, and the Kelly fraction they imply.
//!
//! # The estimate
//! With p the share of winning trips, W the mean win and L the mean loss
//! (returns on notional), the Kelly fraction of equity to risk per trade is
//! f* = p − (1 − p) · L / W (no loss yet: f* = p; no win: f* = −1). Until
//! N trips are known the estimate is conservative: the observed f* weighs
//! n/N, a configured prior the rest, so one lucky trip cannot size the
//! next entry and one loss cannot silence an instance.
//!
//! Exact fixed point throughout (10⁻⁸, `i128` intermediates): the estimate
//! is part of the core's deterministic state and decides order sizes.

use crate::types::{Money, Rate, SCALE};

/// The last trips of one instance (a ring allocated once).
#[derive(Clone, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct TripRecord {
    /// Returns on entry notional (raw `Rate`), oldest overwritten first.
    returns: Vec<i64>,
    /// Where the next return goes.
    next: usize,
    /// Returns held (≤ capacity).
    len: usize,
}

impl TripRecord {
    /// Room for the last `n` trips (`n` ≥ 1).
    pub fn new(n: u32) -> TripRecord {
        TripRecord {
            returns: vec![0; (n as usize).max(1)],
            next: 0,
            len: 0,
        }
    }

    /// Trips known (at most the window).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first trip.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A trip closed with net `pnl` on an entry notional of `notional`
    /// (ignored when the notional is not positive).
    pub fn record(&mut self, pnl: Money, notional: Money) {
        if !notional.is_positive() {
            return;
        }
        let r = i128::from(pnl.raw()) * i128::from(SCALE) / i128::from(notional.raw());
        let r =
            i64::try_from(r.clamp(-i128::from(SCALE) * 100, i128::from(SCALE) * 100)).unwrap_or(0);
        let cap = self.returns.len();
        self.returns[self.next] = r;
        self.next = (self.next + 1) % cap;
        self.len = (self.len + 1).min(cap);
    }

    /// f* of the trips held alone (`None` before the first).
    pub fn observed(&self) -> Option<Rate> {
        if self.len == 0 {
            return None;
        }
        let s = i128::from(SCALE);
        let (mut wins, mut losses, mut won, mut lost) = (0i128, 0i128, 0i128, 0i128);
        for &r in &self.returns[..self.len] {
            if r > 0 {
                wins += 1;
                won += i128::from(r);
            } else if r < 0 {
                losses += 1;
                lost -= i128::from(r);
            }
        }
        let n = self.len as i128;
        let p = wins * s / n;
        let f = if wins == 0 {
            -s
        } else if losses == 0 {
            p
        } else {
            // (1 − p) · L / W with L = lost / losses and W = won / wins.
            let ratio = lost * wins * s / (losses * won).max(1);
            p - (s - p) * ratio / s
        };
        Some(Rate::from_raw(i64::try_from(f.clamp(-s, s)).unwrap_or(0)))
    }

    /// f* blended with `prior` until the window is full:
    /// (n · f*_observed + (N − n) · prior) / N.
    pub fn kelly(&self, prior: Rate) -> Rate {
        let cap = self.returns.len() as i128;
        let n = self.len as i128;
        let observed = i128::from(self.observed().map_or(0, Rate::raw));
        let blended = (n * observed + (cap - n) * i128::from(prior.raw())) / cap;
        Rate::from_raw(i64::try_from(blended).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn kelly_by_hand() {
        let mut t = TripRecord::new(4);
        let prior = Rate::parse("0.1").unwrap();
        assert_eq!(t.kelly(prior), prior, "no trips: the prior");
        // Win 2%, lose 1%, win 2%, lose 1%: p = 0.5, W/L = 2, f* = 0.25.
        for pnl in ["20", "-10", "20", "-10"] {
            t.record(m(pnl), m("1000"));
        }
        assert_eq!(t.observed(), Some(Rate::parse("0.25").unwrap()));
        assert_eq!(t.kelly(prior), Rate::parse("0.25").unwrap(), "full window");
        // Four losses push the wins out of the window: no edge.
        for _ in 0..4 {
            t.record(m("-5"), m("1000"));
        }
        assert_eq!(t.kelly(prior), Rate::parse("-1").unwrap());
    }

    #[test]
    fn the_prior_weighs_until_the_window_fills() {
        let mut t = TripRecord::new(10);
        let prior = Rate::parse("0.1").unwrap();
        t.record(m("-10"), m("1000"));
        // (1 × −1 + 9 × 0.1) / 10 = −0.01.
        assert_eq!(t.kelly(prior), Rate::parse("-0.01").unwrap());
        t.record(m("30"), m("1000"));
        // p = 0.5, W/L = 3: f* = 0.5 − 0.5 / 3 = 0.33333333; (2 × f* + 8 × 0.1) / 10.
        assert_eq!(t.observed(), Some(Rate::from_raw(33_333_334)));
        assert_eq!(t.kelly(prior), Rate::from_raw(14_666_666));
    }
}
