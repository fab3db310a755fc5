//! Event time: the core's only clock. It is the largest exchange or timer
//! time admitted, and it moves at most the plausibility window per input
//! unless the next market input confirms a jump (a feed that resumes after
//! a gap, an exchange clock that stepped). It owns nothing else, so its
//! rules are tested here alone; `Core` acts on its verdicts (alerts,
//! refusals, what falls due).

use crate::plausible::{Candidate, within};
use crate::types::UnixNanos;

/// What an input's time does to event time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeVerdict {
    /// Within the window (or unstamped): it moves event time.
    Moves,
    /// A report stamped outside the window: applied, but it does not move
    /// event time.
    Stays,
    /// A jump beyond the window, confirmed by the market input after it:
    /// it moves event time, and the jump (ms) is worth an alert.
    Jumps(u64),
    /// A market input beyond the window, not (yet) confirmed: refused.
    Refused,
}

/// Event time and the jump waiting for confirmation.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub(crate) struct EventClock {
    now: UnixNanos,
    /// A market time beyond the window, waiting for the next to confirm it.
    candidate: Candidate,
}

impl EventClock {
    /// Event time (zero before the first stamped input).
    #[inline]
    pub(crate) fn now(&self) -> UnixNanos {
        self.now
    }

    /// Judges an input stamped `time` (`market`: market data, which alone
    /// may confirm a jump) against a window of `window` ns.
    pub(crate) fn judge(&mut self, time: UnixNanos, market: bool, window: u64) -> TimeVerdict {
        let (t, now) = (time.0, self.now.0);
        if t == 0 || now == 0 || within(t, now, window) {
            if market && t != 0 {
                self.candidate.clear();
            }
            return TimeVerdict::Moves;
        }
        if !market {
            return TimeVerdict::Stays;
        }
        if t > now
            && self
                .candidate
                .confirms(t, |c, v| v >= c && within(c, v, window))
        {
            return TimeVerdict::Jumps((t - now) / 1_000_000);
        }
        TimeVerdict::Refused
    }

    /// Moves event time to `t` if it is later; the time it moved from
    /// (`None`: it did not move).
    #[inline]
    pub(crate) fn advance(&mut self, t: UnixNanos) -> Option<UnixNanos> {
        if t <= self.now {
            return None;
        }
        Some(std::mem::replace(&mut self.now, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    const WINDOW: u64 = 300 * S;

    #[test]
    fn time_moves_within_the_window_and_never_back() {
        let mut c = EventClock::default();
        assert_eq!(
            c.judge(UnixNanos(1_000 * S), true, WINDOW),
            TimeVerdict::Moves
        );
        assert_eq!(c.advance(UnixNanos(1_000 * S)), Some(UnixNanos(0)));
        assert_eq!(
            c.judge(UnixNanos(1_100 * S), true, WINDOW),
            TimeVerdict::Moves
        );
        assert_eq!(c.advance(UnixNanos(1_100 * S)), Some(UnixNanos(1_000 * S)));
        assert_eq!(c.advance(UnixNanos(1_050 * S)), None, "never backwards");
        assert_eq!(c.now(), UnixNanos(1_100 * S));
    }

    #[test]
    fn a_jump_needs_a_second_market_input_to_confirm_it() {
        let mut c = EventClock::default();
        c.advance(UnixNanos(1_000 * S));
        let far = UnixNanos(10_000 * S);
        assert_eq!(c.judge(far, true, WINDOW), TimeVerdict::Refused);
        assert_eq!(c.now(), UnixNanos(1_000 * S));
        // A report that far off is applied without moving time.
        assert_eq!(c.judge(far, false, WINDOW), TimeVerdict::Stays);
        // The next market input near it confirms the jump.
        assert_eq!(
            c.judge(UnixNanos(10_001 * S), true, WINDOW),
            TimeVerdict::Jumps(9_001_000)
        );
    }

    #[test]
    fn a_jump_into_the_past_is_never_confirmed() {
        let mut c = EventClock::default();
        c.advance(UnixNanos(10_000 * S));
        for _ in 0..3 {
            assert_eq!(
                c.judge(UnixNanos(1_000 * S), true, WINDOW),
                TimeVerdict::Refused
            );
        }
    }
}
