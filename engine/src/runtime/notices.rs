//! The notice tap: a second reader of the output ring that hands the
//! outputs a person should hear of (alerts, state and mode changes) to the
//! notifier, the decisions an operator reads on the dashboard (veto
//! audits, strategy signals and the advisor's records, orders and
//! cancels) to its read model, and the feature vectors to the advisor
//! stage, each through its own bounded queue.
//!
//! # Never slows the core
//! The core's output ring waits for its slowest reader, so this one does
//! nothing but filter and `try_send`: when the queue is full (the notifier
//! is behind, or nobody listens) the notice is dropped and counted, never
//! waited for. Delivery, retries and rate limits happen on the notifier's
//! own threads, outside the pipeline. Idle, the thread sleeps a
//! millisecond rather than spin or yield: a notice a millisecond late costs
//! nothing, while a spinning thread takes a CPU from the gateways on a
//! shared machine (the load bench showed it). A millisecond of outputs is
//! far less than the output ring holds, so the core never waits for it.
//!
//! # Event time
//! An output carries no time (the core's digest must not depend on one),
//! yet a person reading a notice or a decision needs to know when it
//! happened in the market. The core thread writes the event time after
//! each input that produced outputs into [`EventTimes`], a fixed table
//! indexed by sequence (two stores, no allocation), and the tap stamps
//! each output it forwards with its cause's time ([`Stamped`]). An entry
//! the core has since overwritten (the tap a full table behind) leaves
//! the time unknown rather than wrong.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::ring::{Closed, OutputReader, RingReader};
use crate::event::{OutputBody, OutputEvent};
use crate::types::UnixNanos;

pub use super::event_times::EventTimes;

/// Notices the queue holds before the tap drops new ones.
pub const NOTICE_QUEUE: usize = 4096;
/// Decision records the dashboard's queue holds before the tap drops new
/// ones (the dashboard drains it at least twice a second).
pub const RECORD_QUEUE: usize = 16_384;

/// Outputs a person should hear of.
pub fn is_notice(ev: &OutputEvent) -> bool {
    matches!(
        ev.body,
        OutputBody::Alert(_) | OutputBody::StateChange(_) | OutputBody::ModeChange(_)
    )
}

/// Outputs the dashboard's decision log keeps.
pub fn is_record(ev: &OutputEvent) -> bool {
    matches!(
        ev.body,
        OutputBody::Audit(_)
            | OutputBody::Signal(_)
            | OutputBody::Advice(_)
            | OutputBody::NewOrder(_)
            | OutputBody::Cancel(_)
    )
}

/// Outputs the advisor stage reads: the parts of each feature vector.
pub fn is_features(ev: &OutputEvent) -> bool {
    matches!(ev.body, OutputBody::Features { .. })
}

/// Feature outputs the advisor's queue holds before the tap drops new ones
/// (two per symbol per closed bar).
pub const ADVICE_QUEUE: usize = 8192;

/// An output and the event time of the input that caused it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamped {
    /// The output.
    pub out: OutputEvent,
    /// The core's event time after its cause, Unix ns (0: not known).
    pub at: UnixNanos,
}

/// How long the tap waits for the core to write a time (it is written
/// microseconds after the outputs; this bounds a halted core).
const TIME_PATIENCE: Duration = Duration::from_millis(500);

/// One end of the tap (the notifier's notices, or the dashboard's
/// records).
#[derive(Debug)]
pub struct Notices {
    /// The outputs with their event time, in output order.
    pub rx: Receiver<Stamped>,
    /// Outputs dropped because the queue was full or nobody listened.
    pub dropped: Arc<AtomicU64>,
}

/// Starts the tap thread over `reader`; it ends when the output ring
/// closes (after the core).
/// One queue of the tap: its sender and drop count.
struct Queue {
    tx: SyncSender<Stamped>,
    dropped: Arc<AtomicU64>,
}

impl Queue {
    fn new(size: usize) -> (Queue, Notices) {
        let (tx, rx) = std::sync::mpsc::sync_channel(size);
        let dropped = Arc::new(AtomicU64::new(0));
        let end = Notices {
            rx,
            dropped: Arc::clone(&dropped),
        };
        (Queue { tx, dropped }, end)
    }

    fn offer(&self, ev: Stamped) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(ev) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The tap's ends: notices for the notifier, records for the dashboard,
/// feature vectors for the advisor stage.
pub(crate) struct TapEnds {
    pub notices: Notices,
    pub records: Notices,
    pub advice: Notices,
}

/// Starts the tap thread over `reader`; it ends when the output ring
/// closes (after the core). `times`: where the core thread writes its
/// event times.
pub(crate) fn start(
    reader: OutputReader,
    times: Arc<EventTimes>,
) -> std::io::Result<(TapEnds, JoinHandle<()>)> {
    let (notices, notice_end) = Queue::new(NOTICE_QUEUE);
    let (records, record_end) = Queue::new(RECORD_QUEUE);
    let (advice, advice_end) = Queue::new(ADVICE_QUEUE);
    let thread = std::thread::Builder::new()
        .name("autobot-notices".into())
        .spawn(move || tap(reader, &times, [&notices, &records, &advice]))?;
    let ends = TapEnds {
        notices: notice_end,
        records: record_end,
        advice: advice_end,
    };
    Ok((ends, thread))
}

fn tap(mut reader: OutputReader, times: &EventTimes, queues: [&Queue; 3]) {
    // Copied out of the ring before waiting for a time: the core may be
    // waiting for room in the ring to emit the rest of that very input's
    // outputs, and writes its time only after them.
    let mut taken: Vec<(usize, OutputEvent)> = Vec::with_capacity(TAP_BATCH as usize);
    loop {
        taken.clear();
        let got = reader.with_batch(TAP_BATCH, |events| {
            for ev in events {
                if is_notice(ev) {
                    taken.push((0, *ev));
                } else if is_record(ev) {
                    taken.push((1, *ev));
                } else if is_features(ev) {
                    taken.push((2, *ev));
                }
            }
        });
        for (queue, ev) in &taken {
            queues[*queue].offer(Stamped {
                out: *ev,
                at: times.wait_for(ev.cause, TIME_PATIENCE),
            });
        }
        match got {
            Ok(Some(())) => {}
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(Closed) => return,
        }
    }
}

/// Outputs the tap takes from the ring at a time.
const TAP_BATCH: u64 = 1024;

/// Fills as the gateways published them (`OrderUpdate`s with a filled
/// quantity), for the dashboard's trade history: the publishers copy each
/// into this bounded queue after publishing it, never waiting on it.
#[derive(Debug)]
pub struct Fills {
    /// The fills, in publish order.
    pub rx: Receiver<crate::event::InputEvent>,
    /// Fills not copied because the queue was full or nobody read it.
    pub dropped: Arc<AtomicU64>,
}

/// Fills the queue holds before the publishers drop new copies.
pub const FILL_QUEUE: usize = 8192;

/// The publishers' end of the fill copies and one end per reader (`N`
/// of them: the dashboard, the notifier).
pub(crate) fn fill_mirror<const N: usize>() -> (super::ring::FillMirror, [Fills; N]) {
    let mut queues = Vec::with_capacity(N);
    let ends = std::array::from_fn(|_| {
        let (tx, rx) = std::sync::mpsc::sync_channel(FILL_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        queues.push((tx, Arc::clone(&dropped)));
        Fills { rx, dropped }
    });
    (super::ring::FillMirror { queues }, ends)
}
