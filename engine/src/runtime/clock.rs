//! The monotonic clock used for latency stamps (never by the core).

use crate::types::MonoNanos;

/// `CLOCK_MONOTONIC` in nanoseconds. Comparable across threads and processes
/// of this host (unlike `Instant`, whose origin is private), which the latency
/// stamps of events from other processes (the simulator) will need.
#[inline]
#[allow(unsafe_code)]
pub fn mono_now() -> MonoNanos {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on
    // every Linux kernel, so the call cannot fail with these arguments.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    MonoNanos(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
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
