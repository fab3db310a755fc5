//! Getting per-thread latency histograms to one place while the run goes
//! on, without allocating or blocking on the recording threads.
//!
//! Each recording thread (core, dedicated journaller, execution, paper)
//! owns a [`LatencyRecorder`]: the [`StageHistograms`] it records into, and
//! a mailbox it shares with the collector. About once a second
//! ([`HANDOFF_EVERY_NS`], checked against a clock reading the thread has
//! anyway) the thread *swaps* its filled histograms for the clean spare in
//! the mailbox: a pointer swap under a `try_lock`, so a thread never waits
//! for the collector and never copies or allocates. The collector
//! ([`LatencyHub::collect`]) adds the filled set into its total, resets it
//! and puts it back as the spare — the expensive part, off the hot path.
//!
//! # Invariants
//! - Every recorded value reaches the total exactly once: it sits in the
//!   thread's active set until that set is handed off (swap, or at
//!   [`LatencyRecorder::finish`]), and a handed-off set is merged once and
//!   then reset.
//! - A hand-off happens only into an empty `filled` slot; if the collector
//!   is behind, the thread keeps recording into its active set and tries
//!   again at the next tick.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::latency::StageHistograms;
use crate::types::MonoNanos;

/// How often a recording thread offers its histograms to the collector.
pub const HANDOFF_EVERY_NS: u64 = 1_000_000_000;

#[derive(Debug, Default)]
struct Slot {
    /// Histograms a thread handed off, waiting to be merged.
    filled: Option<Box<StageHistograms>>,
    /// A reset set, ready for the thread to swap in.
    spare: Option<Box<StageHistograms>>,
    /// The thread has finished: nothing more will arrive.
    finished: bool,
}

/// The shared half of one thread's recorder.
#[derive(Debug, Default)]
struct Mailbox(Mutex<Slot>);

impl Mailbox {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A thread that panicked mid-swap leaves a consistent slot (every
        // field is replaced whole), so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands out recorders and collects what they recorded.
#[derive(Debug, Default)]
pub struct LatencyHub {
    mailboxes: Mutex<Vec<Arc<Mailbox>>>,
}

impl LatencyHub {
    /// A new hub, shared by the recording threads and the collector.
    pub fn new() -> Arc<LatencyHub> {
        Arc::new(LatencyHub::default())
    }

    /// A recorder for one thread (allocates its two histogram sets here,
    /// before the thread's steady state).
    pub fn recorder(&self) -> LatencyRecorder {
        let mailbox = Arc::new(Mailbox(Mutex::new(Slot {
            spare: Some(Box::default()),
            ..Slot::default()
        })));
        self.mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&mailbox));
        LatencyRecorder {
            active: Box::default(),
            mailbox,
            next_handoff: MonoNanos(0),
            journal: None,
        }
    }

    /// Adds everything handed off since the last call into `total`.
    /// `true` once every recorder has finished and nothing is left.
    pub fn collect(&self, total: &mut StageHistograms) -> bool {
        let boxes = self
            .mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut all_done = true;
        for mb in boxes {
            // Taken out of the lock, merged outside it: the thread may
            // swap again meanwhile only into the (then empty) slot.
            let filled = mb.lock().filled.take();
            if let Some(mut set) = filled {
                total.merge(&set);
                set.reset();
                let mut slot = mb.lock();
                if !slot.finished && slot.spare.is_none() {
                    slot.spare = Some(set);
                }
            }
            let slot = mb.lock();
            all_done &= slot.finished && slot.filled.is_none();
        }
        all_done
    }
}

/// One thread's latency histograms (see the module docs).
#[derive(Debug)]
pub struct LatencyRecorder {
    active: Box<StageHistograms>,
    mailbox: Arc<Mailbox>,
    next_handoff: MonoNanos,
    /// An execution thread's order-sent stamps, journaled as well.
    journal: Option<super::OrderStampWriter>,
}

impl LatencyRecorder {
    /// The histograms to record into.
    #[inline]
    pub fn stages(&mut self) -> &mut StageHistograms {
        &mut self.active
    }

    /// Also journals the order-sent stamps [`order_sent`](Self::order_sent)
    /// is given (an execution thread's recorder; see `stamps`).
    pub fn journaling(mut self, writer: Option<super::OrderStampWriter>) -> Self {
        self.journal = writer;
        self
    }

    /// An order caused by input `cause`, received at `recv`, was sent at
    /// `sent`: the `tick_to_order` stage when the cause is market data
    /// (`recv` non-zero; see `OutputEvent::recv`), also journaled if this
    /// recorder is [`journaling`](Self::journaling).
    #[inline]
    pub fn order_sent(&mut self, cause: crate::types::Seq, recv: MonoNanos, sent: MonoNanos) {
        if recv.0 == 0 {
            return;
        }
        self.active.record_order_sent(recv, sent);
        if let Some(j) = self.journal.as_mut() {
            j.sent(cause, recv, sent);
        }
    }

    /// Offers the active set to the collector if a hand-off is due at
    /// `now` (and hands over order stamps that are due). Never blocks,
    /// never allocates.
    #[inline]
    pub fn tick(&mut self, now: MonoNanos) {
        if let Some(j) = self.journal.as_mut() {
            j.tick(now);
        }
        if now.0 < self.next_handoff.0 {
            return;
        }
        self.next_handoff = MonoNanos(now.0.saturating_add(HANDOFF_EVERY_NS));
        let Ok(mut slot) = self.mailbox.0.try_lock() else {
            return;
        };
        if slot.filled.is_some() {
            return;
        }
        if let Some(spare) = slot.spare.take() {
            slot.filled = Some(std::mem::replace(&mut self.active, spare));
        }
    }

    /// Hands over everything still recorded (at the thread's end; a
    /// recorder dropped on an error path does the same).
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for LatencyRecorder {
    fn drop(&mut self) {
        let mut slot = self.mailbox.lock();
        let slot = &mut *slot;
        match (slot.filled.as_mut(), slot.spare.take()) {
            (Some(filled), _) => filled.merge(&self.active),
            (None, Some(mut spare)) => {
                std::mem::swap(&mut spare, &mut self.active);
                slot.filled = Some(spare);
            }
            // The collector holds the spare for a moment: allocating once,
            // at the thread's end, is fine.
            (None, None) => slot.filled = Some(std::mem::take(&mut self.active)),
        }
        slot.finished = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::latency::Stage;

    #[test]
    fn every_value_reaches_the_total_once() {
        let hub = LatencyHub::new();
        let mut a = hub.recorder();
        let mut b = hub.recorder();
        let mut total = StageHistograms::new();
        let mut now = 0u64;
        for i in 1..=10_000u64 {
            a.stages().record(Stage::Decide, i);
            b.stages().record(Stage::Journal, i);
            now += 1_000_000; // 1 ms per event: a hand-off every 1000
            a.tick(MonoNanos(now));
            b.tick(MonoNanos(now));
            if i % 3_000 == 0 {
                assert!(!hub.collect(&mut total));
            }
        }
        a.finish();
        assert!(!hub.collect(&mut total), "b has not finished");
        b.finish();
        assert!(hub.collect(&mut total));
        assert_eq!(total.get(Stage::Decide).len(), 10_000);
        assert_eq!(total.get(Stage::Journal).len(), 10_000);
        let decide = total.get(Stage::Decide);
        assert!(decide.equivalent(decide.max(), 10_000), "{}", decide.max());
    }
}
