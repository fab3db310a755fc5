//! What a thread does when its ring has nothing for it (or no space).
//!
//! The `disruptor` crate's own wait strategies only apply to the threads it
//! manages; autobot drives its consumers through event pollers on its own
//! threads (so it can journal a batch before releasing it and hand the core
//! back at shutdown), hence this small idle strategy of its own.
//!
//! # Parking (`wait = "park"`)
//! A consumer that found nothing for a while sleeps on the pipeline's
//! [`Doorbell`], and every producer rings it after publishing (and every
//! stage after releasing a batch to the next). The handshake cannot lose a
//! wake-up: a waiter first counts itself among the sleepers and reads the
//! bell's epoch, then polls its rings once more, and only then sleeps, and
//! only while the epoch is unchanged; a producer publishes, then (after a
//! full fence) looks for sleepers and, seeing one, moves the epoch and
//! wakes them. Either the producer sees the sleeper or the sleeper's last
//! poll sees the event. One bell serves the whole pipeline: a wake-up that
//! was for another stage costs a poll. Sleeps are also bounded
//! ([`PARK_TIMEOUT`]) so the idle-time duties of each loop (latency files,
//! stamp batches) still run on a quiet market.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::Duration;

use crate::config::WaitKind;

/// Spins before yielding under [`WaitKind::Yield`] and [`WaitKind::Park`]:
/// long enough to catch a handoff that is already under way, short enough
/// not to starve a 2-core host.
const SPINS_BEFORE_YIELD: u32 = 100;

/// Yields (after the spins) before a [`WaitKind::Park`] waiter sleeps:
/// about 20–100 µs on an idle machine, so a steady stream of events is
/// caught without a wake-up while a quiet market costs no CPU.
const YIELDS_BEFORE_PARK: u32 = 64;

/// Longest sleep of a parked waiter when no event wakes it.
pub const PARK_TIMEOUT: Duration = Duration::from_millis(1);

/// Where parked waiters sleep and what producers ring (module docs).
#[derive(Debug, Default)]
pub struct Doorbell {
    /// Moved by every ring that found sleepers; the futex word.
    epoch: AtomicU32,
    /// Waiters between arming and waking.
    sleepers: AtomicU32,
    /// Rings that woke someone (a gauge for tests and reports).
    wakes: std::sync::atomic::AtomicU64,
}

impl Doorbell {
    /// Wakes every parked waiter, if any. Call after publishing (or after
    /// releasing a batch to the next stage).
    #[inline]
    pub fn ring(&self) {
        // Orders the publish before the look at `sleepers` (the waiter
        // orders its arming before its last poll the same way).
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            self.epoch.fetch_add(1, Ordering::Release);
            self.wakes.fetch_add(1, Ordering::Relaxed);
            super::os::futex_wake_all(&self.epoch);
        }
    }

    /// Waiters asleep or about to sleep.
    pub fn sleepers(&self) -> u32 {
        self.sleepers.load(Ordering::Relaxed)
    }

    /// Rings `bell`, if the pipeline has one (its wait parks).
    #[inline]
    pub(crate) fn ring_if(bell: Option<&Doorbell>) {
        if let Some(b) = bell {
            b.ring();
        }
    }

    /// Rings that found a waiter asleep (or about to sleep).
    pub fn wakes(&self) -> u64 {
        self.wakes.load(Ordering::Relaxed)
    }
}

/// Idle strategy of one thread.
#[derive(Debug)]
pub struct Waiter {
    kind: WaitKind,
    idle_rounds: u32,
    /// Where a parking waiter sleeps; without one it never sleeps.
    bell: Option<Arc<Doorbell>>,
    /// Armed: counted among the sleepers, with the epoch read then.
    armed: Option<u32>,
    /// Sleeps that ran to [`PARK_TIMEOUT`] (no ring woke them).
    timeouts: u64,
}

impl Waiter {
    /// A waiter of the configured kind that never sleeps (under
    /// [`WaitKind::Park`] it keeps yielding): for producers waiting for
    /// room, which no consumer rings for.
    pub fn new(kind: WaitKind) -> Waiter {
        Waiter {
            kind,
            idle_rounds: 0,
            bell: None,
            armed: None,
            timeouts: 0,
        }
    }

    /// A consumer's waiter: under [`WaitKind::Park`] it sleeps on `bell`
    /// (the pipeline's, when its wait parks) once a spell of spins and
    /// yields found nothing; without a bell it is [`Waiter::new`]'s.
    pub fn parking(kind: WaitKind, bell: Option<Arc<Doorbell>>) -> Waiter {
        Waiter {
            bell,
            ..Waiter::new(kind)
        }
    }

    /// The configured kind.
    pub fn kind(&self) -> WaitKind {
        self.kind
    }

    /// Called when there was nothing to do. The caller polls again after
    /// each call (a parking waiter's arming relies on that poll).
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
            WaitKind::Park => {
                if self.idle_rounds < SPINS_BEFORE_YIELD {
                    self.idle_rounds += 1;
                    std::hint::spin_loop();
                } else if self.idle_rounds < SPINS_BEFORE_YIELD + YIELDS_BEFORE_PARK
                    || self.bell.is_none()
                {
                    self.idle_rounds = self.idle_rounds.saturating_add(1);
                    std::thread::yield_now();
                } else {
                    self.park();
                }
            }
        }
    }

    /// Arms on the first call (the caller's next poll is the last before
    /// sleeping), sleeps on the second.
    #[cold]
    fn park(&mut self) {
        let Some(bell) = self.bell.as_deref() else {
            return;
        };
        match self.armed {
            None => {
                bell.sleepers.fetch_add(1, Ordering::SeqCst);
                self.armed = Some(bell.epoch.load(Ordering::Acquire));
            }
            Some(epoch) => {
                if super::os::futex_wait(&bell.epoch, epoch, PARK_TIMEOUT) {
                    self.timeouts += 1;
                }
                self.disarm();
            }
        }
    }

    fn disarm(&mut self) {
        if self.armed.take().is_some()
            && let Some(bell) = self.bell.as_deref()
        {
            bell.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Called after useful work: the next idle spell starts spinning again.
    #[inline]
    pub fn reset(&mut self) {
        self.idle_rounds = 0;
        if self.armed.is_some() {
            self.disarm();
        }
    }
}

/// A copy starts unarmed: an armed waiter's place among the sleepers is
/// its own (each disarms once), not its copy's.
impl Clone for Waiter {
    fn clone(&self) -> Waiter {
        Waiter {
            kind: self.kind,
            idle_rounds: self.idle_rounds,
            bell: self.bell.clone(),
            armed: None,
            timeouts: 0,
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Idles `w` until `ready` holds (the caller's poll).
    fn wait_for(w: &mut Waiter, ready: &AtomicBool) {
        while !ready.load(Ordering::Acquire) {
            w.idle();
        }
        w.reset();
    }

    #[test]
    fn a_parked_waiter_is_woken_by_the_ring() {
        let bell = Arc::new(Doorbell::default());
        let ready = Arc::new(AtomicBool::new(false));
        let (b, r) = (Arc::clone(&bell), Arc::clone(&ready));
        let waiter = std::thread::spawn(move || {
            let mut w = Waiter::parking(WaitKind::Park, Some(b));
            wait_for(&mut w, &r);
            w.timeouts
        });
        // Once the waiter is about to sleep: publish and ring.
        while bell.sleepers.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        ready.store(true, Ordering::Release);
        bell.ring();
        let timeouts = waiter.join().unwrap();
        // The ring found the sleeper, unless it had just run out its
        // sleep (a CI machine can hold the ringing thread that long).
        assert!(bell.wakes() == 1 || timeouts > 0);
        assert_eq!(bell.sleepers.load(Ordering::SeqCst), 0, "disarmed");
    }

    /// Whether thread `tid` of this process is asleep (state `S`), read
    /// from `/proc`: a state the test can poll for instead of sleeping.
    fn asleep(tid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('S')))
            .unwrap_or(false)
    }

    #[test]
    fn handoffs_lose_no_wake_up() {
        // Each round the producer publishes once the consumer is armed
        // (odd rounds: the race between its last poll and its sleep) or
        // asleep in the kernel (even rounds: the wake-up itself). A lost
        // wake-up leaves the consumer asleep to the timeout, so the test
        // reads how many sleeps ran out.
        let bell = Arc::new(Doorbell::default());
        let turn = Arc::new(AtomicU32::new(0));
        let done = Arc::new(AtomicU32::new(0));
        let tid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        let rounds = 400u32;
        let (b, t, d, id) = (
            Arc::clone(&bell),
            Arc::clone(&turn),
            Arc::clone(&done),
            Arc::clone(&tid),
        );
        let consumer = std::thread::spawn(move || {
            id.store(crate::runtime::os::thread_id(), Ordering::Release);
            let mut w = Waiter::parking(WaitKind::Park, Some(b));
            for i in 1..=rounds {
                while t.load(Ordering::Acquire) < i {
                    w.idle();
                }
                w.reset();
                d.store(i, Ordering::Release);
            }
            w.timeouts
        });
        while tid.load(Ordering::Acquire) == 0 {
            std::thread::yield_now();
        }
        let tid = tid.load(Ordering::Acquire);
        for i in 1..=rounds {
            while done.load(Ordering::Acquire) < i - 1
                || bell.sleepers.load(Ordering::SeqCst) == 0
                || (i % 2 == 0 && !asleep(tid))
            {
                std::thread::yield_now();
            }
            turn.store(i, Ordering::Release);
            bell.ring();
        }
        let timeouts = consumer.join().unwrap();
        // A loaded CI machine may keep the producer off the CPU for a
        // millisecond between seeing the sleeper and ringing now and
        // then; a lost wake-up would time out every even round.
        assert!(
            timeouts < u64::from(rounds / 20),
            "{timeouts} of {rounds} sleeps timed out"
        );
        assert!(
            bell.wakes() >= u64::from(rounds / 2) - timeouts,
            "{}",
            bell.wakes()
        );
    }

    #[test]
    fn a_copy_of_an_armed_waiter_is_not_counted_twice() {
        let bell = Arc::new(Doorbell::default());
        let mut w = Waiter::parking(WaitKind::Park, Some(Arc::clone(&bell)));
        while bell.sleepers() == 0 {
            w.idle();
        }
        let copy = w.clone();
        drop(w);
        assert_eq!(bell.sleepers(), 0);
        drop(copy);
        assert_eq!(bell.sleepers(), 0, "no second disarm");
    }

    #[test]
    fn yield_and_busy_spin_never_sleep_and_park_without_a_bell_yields() {
        for kind in [WaitKind::Yield, WaitKind::BusySpin, WaitKind::Park] {
            let mut w = Waiter::new(kind);
            for _ in 0..10_000 {
                w.idle();
            }
            assert!(w.armed.is_none(), "{kind:?}");
        }
    }
}
