//! Event times of the inputs that produced outputs, by sequence, for the
//! notice tap (see `notices`): the core thread writes, the tap reads.
//!
//! # Invariants
//! - One writer (the core thread); [`EventTimes::record`] allocates nothing.
//! - A reader gets a sequence's own time or none, never another input's:
//!   each entry is checked around the read like a seqlock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::types::{Seq, UnixNanos};

/// Entries of [`EventTimes`]: the tap may fall this many output-producing
/// inputs behind and still stamp exactly.
pub const TIME_SLOTS: usize = 1 << 16;

/// Event times of the inputs that produced outputs, by sequence: written by
/// the core thread only, read by the tap. See the module docs.
pub struct EventTimes {
    slots: Box<[TimeSlot]>,
}

/// One entry: `seq` is the sequence plus one (0: empty; `u64::MAX`: being
/// written), checked around the read of `at` like a seqlock.
#[derive(Default)]
struct TimeSlot {
    seq: AtomicU64,
    at: AtomicU64,
}

/// What [`EventTimes::lookup`] knows of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Its event time.
    Known(UnixNanos),
    /// Not written yet (the core emits before it writes).
    NotYet,
    /// Overwritten by a later input.
    Gone,
}

impl EventTimes {
    /// An empty table (allocated once, at start).
    pub fn new() -> Arc<EventTimes> {
        Arc::new(EventTimes {
            slots: (0..TIME_SLOTS).map(|_| TimeSlot::default()).collect(),
        })
    }

    fn slot(&self, seq: Seq) -> &TimeSlot {
        &self.slots[(seq.0 as usize) & (TIME_SLOTS - 1)]
    }

    /// Records the event time after input `seq` (one writer: the core
    /// thread).
    pub fn record(&self, seq: Seq, at: UnixNanos) {
        let s = self.slot(seq);
        s.seq.store(u64::MAX, Ordering::Relaxed);
        // The "being written" mark is visible before `at` changes.
        std::sync::atomic::fence(Ordering::Release);
        s.at.store(at.0, Ordering::Relaxed);
        s.seq.store(seq.0 + 1, Ordering::Release);
    }

    /// The event time after input `seq`, if the table still holds it.
    pub fn lookup(&self, seq: Seq) -> Lookup {
        let s = self.slot(seq);
        let before = s.seq.load(Ordering::Acquire);
        let at = s.at.load(Ordering::Relaxed);
        // The read of `at` completes before the mark is read again.
        std::sync::atomic::fence(Ordering::Acquire);
        let after = s.seq.load(Ordering::Relaxed);
        let want = seq.0 + 1;
        match (before == after, before) {
            (true, b) if b == want => Lookup::Known(UnixNanos(at)),
            // Torn by a concurrent write: a later input's (the core runs
            // ahead), or ours landing now.
            (false, _) | (true, u64::MAX) => Lookup::NotYet,
            (true, b) if b < want => Lookup::NotYet,
            _ => Lookup::Gone,
        }
    }

    /// The event time after `seq`, waiting up to `patience` for the core to
    /// write it (it does right after the input's outputs); 0 if unknown.
    pub fn wait_for(&self, seq: Seq, patience: Duration) -> UnixNanos {
        let since = std::time::Instant::now();
        loop {
            match self.lookup(seq) {
                Lookup::Known(t) => return t,
                Lookup::Gone => return UnixNanos(0),
                Lookup::NotYet if since.elapsed() >= patience => return UnixNanos(0),
                Lookup::NotYet => std::thread::yield_now(),
            }
        }
    }
}

impl std::fmt::Debug for EventTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventTimes")
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_known_until_a_full_table_later_overwrites_it() {
        let t = EventTimes::new();
        assert_eq!(t.lookup(Seq(7)), Lookup::NotYet);
        t.record(Seq(7), UnixNanos(1_000));
        assert_eq!(t.lookup(Seq(7)), Lookup::Known(UnixNanos(1_000)));
        // A later input in another slot leaves it alone.
        t.record(Seq(8), UnixNanos(2_000));
        assert_eq!(t.lookup(Seq(7)), Lookup::Known(UnixNanos(1_000)));
        // The input a full table later takes the slot.
        let later = Seq(7 + TIME_SLOTS as u64);
        assert_eq!(t.lookup(later), Lookup::NotYet);
        t.record(later, UnixNanos(3_000));
        assert_eq!(t.lookup(Seq(7)), Lookup::Gone);
        assert_eq!(t.lookup(later), Lookup::Known(UnixNanos(3_000)));
        assert_eq!(t.wait_for(Seq(7), Duration::ZERO), UnixNanos(0));
        // Never written: unknown once patience runs out.
        assert_eq!(t.wait_for(Seq(9), Duration::from_millis(1)), UnixNanos(0));
    }

    #[test]
    fn a_reader_waits_for_the_writer_and_never_sees_a_torn_pair() {
        let t = EventTimes::new();
        let writer = {
            let t = Arc::clone(&t);
            std::thread::spawn(move || {
                for s in 0..200_000u64 {
                    t.record(Seq(s), UnixNanos(s * 3));
                }
            })
        };
        for s in (0..200_000u64).step_by(997) {
            // Known as its own time, or gone (the writer lapped it).
            let at = t.wait_for(Seq(s), Duration::from_secs(10));
            assert!(at.0 == s * 3 || at.0 == 0, "seq {s}: {at:?}");
        }
        writer.join().unwrap();
        assert_eq!(t.lookup(Seq(199_999)), Lookup::Known(UnixNanos(599_997)));
    }
}
