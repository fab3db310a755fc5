//! Plausibility of inputs from outside: the checks that keep one message,
//! whatever its field values, from moving the engine's clock by years,
//! freezing a book, or valuing a position at a price nobody traded.
//!
//! # What is implausible
//! - **Time**: an exchange time further than a window (default 5 min) from
//!   where it should be: from the last accepted time in the core, from the
//!   receive clock at a gateway ([`FeedClock`]).
//! - **Update ids**: a book ticker whose update id jumps further than
//!   `max_update_jump` past the last one (a later ticker would be refused
//!   as out of order forever).
//! - **Prices**: a book ticker, trade or mark price further than
//!   `max_price_jump` (a fraction) from the last accepted price, or a book
//!   or trade price off the instrument's tick grid.
//! - **Quantities**: negative, off the step grid, or a trade larger than
//!   the instrument's `LOT_SIZE.maxQty`.
//!
//! # Confirmation ([`Candidate`])
//! Real markets do jump: a feed reconnects after an outage, a backtest's
//! data has a gap. So an implausible value is refused and remembered; if the
//! very next value of the same kind agrees with it (it is itself near the
//! remembered one, not back near the old reference), the jump is real and
//! that second value is accepted. One message alone can never move the
//! reference; a jump costs the one input that announced it.
//!
//! Pure functions and small values: the core keeps them in its state (they
//! are deterministic), the market gateway and the simulator at their edge.

use crate::types::{Price, Rate, SCALE};

/// Why an input was refused as implausible (alert value, counter index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Implausible {
    /// Exchange time outside the window.
    Time = 0,
    /// A book ticker's update id jumped too far.
    UpdateId = 1,
    /// A price too far from the last accepted one.
    PriceJump = 2,
    /// A price off the tick grid, or a quantity off the step grid.
    OffGrid = 3,
    /// A quantity out of the instrument's bounds.
    Quantity = 4,
}

impl Implausible {
    /// Every reason, in number order.
    pub const ALL: [Implausible; 5] = [
        Implausible::Time,
        Implausible::UpdateId,
        Implausible::PriceJump,
        Implausible::OffGrid,
        Implausible::Quantity,
    ];

    /// How people read it.
    pub const fn name(self) -> &'static str {
        match self {
            Implausible::Time => "implausible time",
            Implausible::UpdateId => "implausible update id",
            Implausible::PriceJump => "implausible price jump",
            Implausible::OffGrid => "off the tick or step grid",
            Implausible::Quantity => "implausible quantity",
        }
    }
}

/// Counts per [`Implausible`] reason.
pub type ImplausibleCounts = [u64; 5];

/// One remembered implausible value, waiting for the next value of its
/// kind to confirm it (0: none).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Candidate(pub u64);

impl Candidate {
    /// An implausible `value` arrived. `true` when it confirms the
    /// remembered candidate (`agrees(candidate, value)`): accept it.
    /// Otherwise it is remembered in place of the old one: refuse it.
    pub fn confirms(&mut self, value: u64, agrees: impl Fn(u64, u64) -> bool) -> bool {
        let confirmed = self.0 != 0 && agrees(self.0, value);
        self.0 = if confirmed { 0 } else { value.max(1) };
        confirmed
    }

    /// A plausible value arrived: nothing waits any more.
    pub fn clear(&mut self) {
        self.0 = 0;
    }

    /// An update id after `last` (`None`: no id yet): `true` when it is
    /// within `max_jump`, or beyond it and confirming the id remembered
    /// before (the next id continues from it); `false` (refuse it)
    /// otherwise. An id at or below `last` is the caller's to judge (out of
    /// order).
    pub fn admits_id(&mut self, last: Option<u64>, id: u64, max_jump: u64) -> bool {
        if last.is_none_or(|last| id <= last.saturating_add(max_jump)) {
            self.clear();
            return true;
        }
        self.confirms(id, |c, v| v >= c && v - c <= max_jump)
    }
}

/// `|a − b| > band × b` for positive prices, exactly (cross-multiplied).
pub fn jumps(a: Price, b: Price, band: Rate) -> bool {
    let gap = (i128::from(a.raw()) - i128::from(b.raw())).abs();
    gap * i128::from(SCALE) > i128::from(band.raw()) * i128::from(b.raw())
}

/// Two prices within `band` of each other (either way).
pub fn near(a: u64, b: u64, band: Rate) -> bool {
    let (a, b) = (Price::from_raw(a as i64), Price::from_raw(b as i64));
    !jumps(a, b, band) || !jumps(b, a, band)
}

/// `|a − b| <= window`.
pub fn within(a: u64, b: u64, window: u64) -> bool {
    a.abs_diff(b) <= window
}

/// The edge check of a feed's exchange times against the receive clock.
///
/// A message is plausible when its exchange time moved, since the last
/// accepted message, by what the receive clock moved, give or take the
/// window: |Δexchange − Δreceive| ≤ window. It does not need the two
/// clocks to agree (a simulator replays 2024 in 2026, a host's clock is
/// skewed), only to move together, so it holds for captures replayed at
/// any pace slower than the window per message, and across reconnects.
/// [`FeedClock::REANCHOR`] consecutive refused messages that agree with
/// each other re-anchor it (a bad first message, or the exchange's clock
/// stepping).
#[derive(Clone, Copy, Debug, Default)]
pub struct FeedClock {
    window: u64,
    /// Last accepted (exchange ns, receive ns); none before the first.
    anchor: Option<(u64, u64)>,
    /// The run of refused messages that agree with each other.
    pending: Option<(u64, u64, u32)>,
}

impl FeedClock {
    /// Refused messages in a row, agreeing with each other, that move the
    /// anchor to them.
    pub const REANCHOR: u32 = 3;

    /// A clock that allows `window_ns` of drift per message.
    pub fn new(window_ns: u64) -> FeedClock {
        FeedClock {
            window: window_ns,
            anchor: None,
            pending: None,
        }
    }

    fn agrees(&self, (e0, r0): (u64, u64), e: u64, r: u64) -> bool {
        let de = i128::from(e) - i128::from(e0);
        let dr = i128::from(r) - i128::from(r0);
        (de - dr).unsigned_abs() <= u128::from(self.window)
    }

    /// `true` if a message stamped `exchange_ns` and received at
    /// `recv_ns` is plausible (it becomes the anchor). A zero exchange time
    /// (a message without one) always passes and changes nothing.
    pub fn check(&mut self, exchange_ns: u64, recv_ns: u64) -> bool {
        if exchange_ns == 0 {
            return true;
        }
        let Some(anchor) = self.anchor else {
            self.anchor = Some((exchange_ns, recv_ns));
            return true;
        };
        if self.agrees(anchor, exchange_ns, recv_ns) {
            self.anchor = Some((exchange_ns, recv_ns));
            self.pending = None;
            return true;
        }
        let run = match self.pending {
            Some((e, r, n)) if self.agrees((e, r), exchange_ns, recv_ns) => n + 1,
            _ => 1,
        };
        if run >= Self::REANCHOR {
            self.anchor = Some((exchange_ns, recv_ns));
            self.pending = None;
            return true;
        }
        self.pending = Some((exchange_ns, recv_ns, run));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN5: u64 = 300_000_000_000;

    #[test]
    fn a_candidate_needs_the_next_value_to_agree() {
        let mut c = Candidate::default();
        let close = |a: u64, b: u64| within(a, b, 10);
        assert!(!c.confirms(1000, close), "the first jump is refused");
        assert!(c.confirms(1005, close), "the next agrees: accepted");
        assert!(!c.confirms(5000, close));
        c.clear();
        assert!(!c.confirms(5001, close), "cleared by a plausible value");
        let mut ids = Candidate::default();
        assert!(
            ids.admits_id(None, u64::MAX, 100),
            "nothing to compare with"
        );
        assert!(ids.admits_id(Some(100), 150, 100));
        assert!(
            !ids.admits_id(Some(100), 1_000_000, 100),
            "a jump alone is refused"
        );
        assert!(
            ids.admits_id(Some(100), 1_000_050, 100),
            "the next id continues it"
        );
        assert!(!ids.admits_id(Some(100), u64::MAX, 100));
        assert!(ids.admits_id(Some(100), 120, 100), "the stream goes on");
    }

    #[test]
    fn prices_jump_by_fraction() {
        let p = |s: &str| Price::parse(s).unwrap();
        let band = Rate::parse("0.10").unwrap();
        assert!(
            !jumps(p("110"), p("100"), band),
            "exactly 10% is not a jump"
        );
        assert!(jumps(p("110.01"), p("100"), band));
        assert!(jumps(p("89.99"), p("100"), band));
    }

    #[test]
    fn the_feed_clock_follows_the_receive_clock_and_reanchors() {
        let mut c = FeedClock::new(MIN5);
        let t = 1_723_161_256_313_000_000;
        assert!(c.check(t, 10));
        assert!(c.check(t + 1_000_000, 20), "1 ms on");
        // Ten minutes of outage: both clocks moved.
        assert!(c.check(t + 600_000_000_000, 600_000_000_020));
        // A message from the far future: refused, and the next good one passes.
        assert!(!c.check(u64::MAX / 2, 600_000_000_030));
        assert!(c.check(t + 600_001_000_000, 600_001_000_020));
        // A replay 100x faster than real time: 1 s of exchange time per 10 ms.
        let mut c = FeedClock::new(MIN5);
        for i in 0..1000u64 {
            assert!(c.check(t + i * 1_000_000_000, i * 10_000_000));
        }
        // A bad first message: three agreeing messages re-anchor.
        let mut c = FeedClock::new(MIN5);
        assert!(c.check(u64::MAX / 2, 0));
        assert!(!c.check(t, 1));
        assert!(!c.check(t + 1, 2));
        assert!(c.check(t + 2, 3));
        assert!(c.check(t + 3, 4));
    }
}
