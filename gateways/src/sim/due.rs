//! The load generator's framing: the simulator puts each message's
//! intended send time in front of its text frame, and the load test's
//! market gateway stamps the events with it ([`DueTime`]), so every stage
//! "from socket read" is measured from when the message was due: sender lag
//! and socket queueing included (coordinated-omission correction).
//!
//! Both ends live here, so the prefix's layout is written down once and the
//! live gateway knows nothing of it (it is generic over its
//! [`FrameClock`]).

use std::fmt::Write as _;

use autobot_engine::runtime::LatencyRecorder;
use autobot_engine::runtime::latency::Stage;
use autobot_engine::types::MonoNanos;

use crate::binance::market::FrameClock;

/// Length of the prefix: 20 digits of `clock::mono_now` ns and a space.
pub const DUE_PREFIX_LEN: usize = 21;

/// Writes `message` behind its due time into `out` (cleared first).
pub fn frame(out: &mut String, due: MonoNanos, message: &str) {
    out.clear();
    let _ = write!(out, "{:020} {message}", due.0);
}

/// `<20-digit due ns> <message>` → (due, message); `None` for a frame
/// without the prefix.
pub fn unframe(frame: &[u8]) -> Option<(MonoNanos, &[u8])> {
    let n = DUE_PREFIX_LEN;
    let (head, rest) = (frame.get(..n)?, frame.get(n..)?);
    if head[n - 1] != b' ' {
        return None;
    }
    let due = std::str::from_utf8(&head[..n - 1]).ok()?.parse().ok()?;
    Some((MonoNanos(due), rest))
}

/// The load test's frame clock: events are stamped with the frame's due
/// time, and the `delivery` stage (due → socket read) is recorded. A frame
/// without the prefix is stamped with its read and goes to the parser
/// whole (which refuses it).
#[derive(Debug)]
pub struct DueTime {
    delivery: Option<LatencyRecorder>,
}

impl DueTime {
    /// Records `delivery` into `latency` when given.
    pub fn new(latency: Option<LatencyRecorder>) -> DueTime {
        DueTime { delivery: latency }
    }
}

impl FrameClock for DueTime {
    fn stamp<'f>(&mut self, read: MonoNanos, frame: &'f [u8]) -> (MonoNanos, &'f [u8]) {
        let Some((due, message)) = unframe(frame) else {
            return (read, frame);
        };
        if let Some(d) = self.delivery.as_mut() {
            d.stages()
                .record(Stage::Delivery, read.saturating_since(due));
            d.tick(read);
        }
        (due, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips_and_a_bare_message_is_left_whole() {
        let mut out = String::new();
        frame(&mut out, MonoNanos(1_234), "{\"x\":1}");
        assert_eq!(out.len(), DUE_PREFIX_LEN + 7);
        let (due, msg) = unframe(out.as_bytes()).unwrap();
        assert_eq!((due, msg), (MonoNanos(1_234), &b"{\"x\":1}"[..]));
        let mut clock = DueTime::new(None);
        assert_eq!(
            clock.stamp(MonoNanos(9), out.as_bytes()),
            (MonoNanos(1_234), msg)
        );
        let bare = b"{\"stream\":\"btcusdt@trade\"}";
        assert_eq!(unframe(bare), None);
        assert_eq!(clock.stamp(MonoNanos(9), bare), (MonoNanos(9), &bare[..]));
        assert_eq!(unframe(b"12345678901234567890x{}"), None, "no space");
    }
}
