//! What a thread does when its ring has nothing for it (or no space).
//!
//! The `disruptor` crate's own wait strategies only apply to the threads it
//! manages; autobot drives its consumers through event pollers on its own
//! threads (so it can journal a batch before releasing it and hand the core
//! back at shutdown), hence this small idle strategy of its own.

use crate::config::WaitKind;

/// Spins before yielding under [`WaitKind::Yield`]: long enough to catch a
/// handoff that is already under way, short enough not to starve a 2-core host.
const SPINS_BEFORE_YIELD: u32 = 100;

/// Idle strategy of one thread.
#[derive(Clone, Copy, Debug)]
pub struct Waiter {
    kind: WaitKind,
    idle_rounds: u32,
}

impl Waiter {
    /// A waiter of the configured kind.
    pub fn new(kind: WaitKind) -> Waiter {
        Waiter {
            kind,
            idle_rounds: 0,
        }
    }

    /// Called when there was nothing to do.
    #[inline]
    pub fn idle(&mut self) {
        match self.kind {
            // Pure spin, like the disruptor crate's `BusySpin`: no PAUSE,
            // which costs ~40 ns per round on recent Intel cores and would
            // delay noticing an event. Only for isolated cores.
            WaitKind::BusySpin => {}
            WaitKind::Yield => {
                if self.idle_rounds < SPINS_BEFORE_YIELD {
                    self.idle_rounds += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Called after useful work: the next idle spell starts spinning again.
    #[inline]
    pub fn reset(&mut self) {
        self.idle_rounds = 0;
    }
}
