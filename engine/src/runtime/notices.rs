//! The notice tap: a second reader of the output ring that hands the
//! outputs a person should hear of (alerts, state and mode changes) to the
//! notifier through a bounded queue.
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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::ring::{Closed, OutputReader, RingReader};
use crate::event::{OutputBody, OutputEvent};

/// Notices the queue holds before the tap drops new ones.
pub const NOTICE_QUEUE: usize = 4096;

/// Outputs a person should hear of.
pub fn is_notice(ev: &OutputEvent) -> bool {
    matches!(
        ev.body,
        OutputBody::Alert(_) | OutputBody::StateChange(_) | OutputBody::ModeChange(_)
    )
}

/// The notifier's end of the tap.
#[derive(Debug)]
pub struct Notices {
    /// Notices, in output order.
    pub rx: Receiver<OutputEvent>,
    /// Notices dropped because the queue was full or nobody listened.
    pub dropped: Arc<AtomicU64>,
}

/// Starts the tap thread over `reader`; it ends when the output ring
/// closes (after the core).
pub(crate) fn start(reader: OutputReader) -> std::io::Result<(Notices, JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::sync_channel(NOTICE_QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&dropped);
    let thread = std::thread::Builder::new()
        .name("autobot-notices".into())
        .spawn(move || tap(reader, &tx, &count))?;
    Ok((Notices { rx, dropped }, thread))
}

fn tap(mut reader: OutputReader, tx: &SyncSender<OutputEvent>, dropped: &AtomicU64) {
    loop {
        let got = reader.with_batch(1024, |events| {
            for ev in events.filter(|e| is_notice(e)) {
                match tx.try_send(*ev) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        match got {
            Ok(Some(())) => {}
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(Closed) => return,
        }
    }
}
