//! The runtime around the core: rings, stage threads, pinning, waiting,
//! the journaller stage, and the monotonic clock for latency stamps.
//!
//! Everything here may read clocks and do I/O; the core it drives may not.

mod affinity;
mod board;
pub mod clock;
mod event_times;
mod gauges;
mod journaller;
pub mod latency;
mod meta_writer;
pub mod notices;
mod os;
mod pipeline;
pub mod recorder;
mod ring;
mod snapshotter;
pub mod stamps;
mod wait;

pub use affinity::{check_host_cpus, isolated_cpus, parse_cpu_list, pin_current, rt_throttled};
pub use autobot_journal::checkpoint::{Checkpoint, KIND_DIGEST};
pub use board::{BoardSnapshot, CommandOutcome, NotTaken, PendingView, StatusBoard, SymbolStatus};
pub use gauges::{GaugeReading, PipelineGauges};
pub use journaller::{
    JournalContents, Journaller, ReadJournalError, appender_config, read_journal,
};
pub use pipeline::{
    CoreReport, HaltOnPanic, JournalReport, PipelineHandle, PipelineReport, RuntimeError, Started,
    start,
};
pub use recorder::{LatencyHub, LatencyRecorder};
pub use ring::{Closed, HaltFlag, Halted, InputPublisher, InputView, OutputReader, RingReader};
pub use snapshotter::{SnapshotPlan, Snapshotter, SnapshotterError, SnapshotterReport};
pub use stamps::OrderStampWriter;
pub use wait::Waiter;

use crate::event::InputEvent;

/// A cheap order-sensitive fingerprint of a stream of input events (receive
/// time, exchange time, kind). The core thread folds every event it consumes;
/// folding the journal the same way must give the same value, which shows the
/// core saw exactly the journaled events, once each, in order. A multiply-xor
/// mix (one multiplication per event) rather than a cryptographic hash: it
/// guards against lost, repeated or reordered events, not against an adversary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputFingerprint {
    value: u64,
    count: u64,
}

impl InputFingerprint {
    /// Folds one event in.
    #[inline]
    pub fn add(&mut self, ev: &InputEvent) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let x = ev.header.recv.0
            ^ ev.header.exchange.0.rotate_left(17)
            ^ (ev.body.kind_index() as u64).rotate_left(56)
            ^ ev.header.seq.0.rotate_left(32);
        self.value = (self.value.rotate_left(5) ^ x).wrapping_mul(K);
        self.count += 1;
    }

    /// The fingerprint.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Events folded.
    pub fn count(&self) -> u64 {
        self.count
    }
}
