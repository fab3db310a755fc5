//! The monotonic clock used for latency stamps (never by the core).
//!
//! # Which clock
//! [`init`] picks it once per process and says which: the CPU's time-stamp
//! counter, calibrated against `CLOCK_MONOTONIC`, when the CPU has an
//! invariant TSC (`constant_tsc` and `nonstop_tsc`) *and* the kernel itself
//! keeps time with it (clock source `tsc`: it has checked that the
//! counters of all CPUs agree); otherwise `clock_gettime(CLOCK_MONOTONIC)`.
//! Until `init` runs (tests, tools), `mono_now` is `clock_gettime`.
//!
//! # Invariants
//! - Both clocks count nanoseconds of `CLOCK_MONOTONIC` from the same
//!   origin: the TSC clock is anchored to it at calibration, and drifts
//!   from it only by the calibration error (ppm), so stamps taken on either
//!   side of `init` still subtract to the right latency.
//! - One calibration per process, shared by every thread: any two stamps of
//!   this process are comparable.

use std::sync::OnceLock;

use crate::types::MonoNanos;

/// The clock behind [`mono_now`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockSource {
    /// The invariant TSC, at this frequency (Hz), calibrated against
    /// `CLOCK_MONOTONIC`.
    Tsc {
        /// Counter ticks per second.
        hz: f64,
    },
    /// `clock_gettime(CLOCK_MONOTONIC)`, and why the TSC is not used.
    Monotonic {
        /// What ruled the TSC out.
        why: &'static str,
    },
}

impl std::fmt::Display for ClockSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockSource::Tsc { hz } => write!(
                f,
                "invariant TSC at {:.3} GHz, calibrated against CLOCK_MONOTONIC",
                hz / 1e9
            ),
            ClockSource::Monotonic { why } => write!(f, "clock_gettime(CLOCK_MONOTONIC) ({why})"),
        }
    }
}

/// A calibrated TSC: `ns = base_ns + (tsc − base_tsc) × mult / 2³²`.
#[derive(Clone, Copy, Debug)]
struct Tsc {
    base_tsc: u64,
    base_ns: u64,
    mult: u64,
}

static CLOCK: OnceLock<(Option<Tsc>, ClockSource)> = OnceLock::new();

#[cfg(target_arch = "x86_64")]
#[inline]
#[allow(unsafe_code)]
fn rdtsc() -> u64 {
    // SAFETY: RDTSC exists on every x86_64 CPU and only reads the counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
fn rdtsc() -> u64 {
    0
}

impl Tsc {
    #[inline]
    fn now(&self) -> u64 {
        // A CPU whose counter reads a hair behind the calibrating one's
        // gives the base, not a wrapped value.
        let ticks = rdtsc().saturating_sub(self.base_tsc);
        self.base_ns + ((u128::from(ticks) * u128::from(self.mult)) >> 32) as u64
    }
}

/// A (tsc, ns) pair read as close together as this thread manages.
fn paired() -> (u64, u64) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..16 {
        let a = rdtsc();
        let ns = crate::runtime::os::monotonic_ns();
        let b = rdtsc();
        if b.saturating_sub(a) < best.0 {
            best = (b.saturating_sub(a), a / 2 + b / 2, ns);
        }
    }
    (best.1, best.2)
}

/// Why the TSC cannot be this host's latency clock, if it cannot.
fn tsc_ruled_out() -> Option<&'static str> {
    if !cfg!(target_arch = "x86_64") {
        return Some("not an x86_64 CPU");
    }
    let flags = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = flags.lines().find(|l| l.starts_with("flags")).unwrap_or("");
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    if !(has("constant_tsc") && has("nonstop_tsc")) {
        return Some("the CPU has no invariant TSC");
    }
    let source =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .unwrap_or_default();
    if source.trim() != "tsc" {
        return Some("the kernel's clock source is not the TSC");
    }
    None
}

/// Measures the TSC against `CLOCK_MONOTONIC` over `span`.
fn calibrate(span: std::time::Duration) -> Option<Tsc> {
    let (t0, n0) = paired();
    std::thread::sleep(span);
    let (t1, n1) = paired();
    let (dt, dn) = (t1.checked_sub(t0)?, n1.checked_sub(n0)?);
    if dt == 0 || dn == 0 {
        return None;
    }
    let mult = u64::try_from((u128::from(dn) << 32) / u128::from(dt)).ok()?;
    Some(Tsc {
        base_tsc: t1,
        base_ns: n1,
        mult,
    })
}

/// Picks the clock (calibrating the TSC over 50 ms the first time) and
/// says which. Call once at start, before the threads that stamp.
pub fn init() -> ClockSource {
    CLOCK
        .get_or_init(|| match tsc_ruled_out() {
            Some(why) => (None, ClockSource::Monotonic { why }),
            None => match calibrate(std::time::Duration::from_millis(50)) {
                Some(t) => (
                    Some(t),
                    ClockSource::Tsc {
                        hz: 1e9 * 4_294_967_296.0 / t.mult as f64,
                    },
                ),
                None => (
                    None,
                    ClockSource::Monotonic {
                        why: "the TSC did not calibrate",
                    },
                ),
            },
        })
        .1
}

/// Nanoseconds of `CLOCK_MONOTONIC` (see the module docs for which clock
/// reads it). Comparable across the threads of this process.
#[inline]
pub fn mono_now() -> MonoNanos {
    match CLOCK.get() {
        Some((Some(tsc), _)) => MonoNanos(tsc.now()),
        _ => MonoNanos(crate::runtime::os::monotonic_ns()),
    }
}

/// `clock_gettime(CLOCK_MONOTONIC)` itself, whatever [`init`] chose (for
/// benchmarks that compare the two).
pub fn monotonic_now() -> MonoNanos {
    MonoNanos(crate::runtime::os::monotonic_ns())
}

/// A latency stamp: nanoseconds from `recv` to `now`, at least 1 (zero
/// means "not stamped"), saturating at `u32::MAX` (4.3 s).
#[inline]
pub fn stamp_since(recv: MonoNanos, now: MonoNanos) -> u32 {
    u32::try_from(now.saturating_since(recv))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// Stamps "parse done" into events a gateway has just parsed from a
/// message read at their `recv`.
#[inline]
pub fn stamp_parsed(events: &mut [crate::event::InputEvent]) {
    let now = mono_now();
    for ev in events {
        ev.header.stamps.parsed = stamp_since(ev.header.recv, now);
    }
}

/// Wall-clock time (for gateways stamping events that carry none).
pub fn unix_now() -> crate::types::UnixNanos {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::types::UnixNanos(d.as_nanos() as u64)
}

/// Wall-clock time in Unix milliseconds (the operator's side: dashboard
/// samples, notification times).
pub fn unix_now_ms() -> u64 {
    unix_now().0 / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_clock_keeps_to_clock_monotonic_and_never_goes_back() {
        let source = init();
        assert!(!source.to_string().is_empty());
        let mut last = mono_now().0;
        for _ in 0..200_000 {
            let now = mono_now().0;
            assert!(now >= last, "went back: {last} → {now}");
            last = now;
        }
        // Within 100 µs of CLOCK_MONOTONIC (the calibration error over a
        // test's lifetime is far below; the two reads are not simultaneous).
        for _ in 0..100 {
            let (a, m, b) = (
                mono_now().0,
                crate::runtime::os::monotonic_ns(),
                mono_now().0,
            );
            assert!(
                m + 100_000 >= a && b + 100_000 >= m,
                "{a} {m} {b} ({source})"
            );
        }
        if let ClockSource::Tsc { hz } = source {
            assert!((1e8..1e11).contains(&hz), "{hz}");
        }
    }
}
