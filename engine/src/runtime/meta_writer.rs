//! The core thread's writer of meta records: its output-digest checkpoints
//! (at most one per input) and its latency stamps (batched, see `stamps`),
//! into the journal it owns (inline layout) or over the meta ring to the
//! dedicated journaller. In the inline layout it also appends the execution
//! thread's order stamps, since the core thread owns the journal there.

use super::HaltFlag;
use super::journaller::{CoreMeta, Journaller, MetaPublisher};
use super::stamps::{CoreStamp, OrderStampReader, StampBatch};
use super::wait::Waiter;
use crate::core::Core;
use crate::event::InputEvent;
use crate::types::MonoNanos;
use autobot_journal::checkpoint::Checkpoint;

/// Where the core thread's checkpoints and stamps go: straight into the
/// journal it owns (inline layout, which then also appends the execution
/// thread's order stamps), or over a ring to the journaller thread
/// (dedicated).
#[allow(
    clippy::large_enum_variant,
    reason = "one value per core thread, created once and never moved on the hot path"
)]
pub(super) enum MetaSink {
    Inline(Journaller, OrderStampReader),
    Ring(MetaPublisher),
}

/// Writes the core's checkpoints (at most one per input) and latency
/// stamps (batched, see `stamps`).
pub(super) struct MetaWriter {
    pub(super) to: MetaSink,
    last: Option<crate::types::Seq>,
    stamps: StampBatch<CoreStamp>,
}

impl MetaWriter {
    pub(super) fn new(to: MetaSink) -> Self {
        MetaWriter {
            to,
            last: None,
            stamps: StampBatch::default(),
        }
    }

    pub(super) fn journal(&mut self) -> Option<&mut Journaller> {
        match &mut self.to {
            MetaSink::Inline(j, _) => Some(j),
            MetaSink::Ring(_) => None,
        }
    }

    /// The core started on `ev` at `start`; its decision was out at `done`.
    #[inline]
    pub(super) fn core_stamp(
        &mut self,
        ev: &InputEvent,
        start: MonoNanos,
        done: MonoNanos,
    ) -> Result<(), autobot_journal::JournalError> {
        let stamp = CoreStamp::new(ev.header.seq, ev.header.recv, start, done);
        if self.stamps.push(stamp, done) {
            self.flush_stamps()?;
        }
        Ok(())
    }

    /// At a clock reading `now`: hands over stamps that are due, and (inline)
    /// appends the order stamps that arrived.
    #[inline]
    pub(super) fn tick(&mut self, now: MonoNanos) -> Result<(), autobot_journal::JournalError> {
        if self.stamps.due(now) {
            self.flush_stamps()?;
        }
        if let MetaSink::Inline(j, order_stamps) = &mut self.to {
            order_stamps.drain(j)?;
        }
        Ok(())
    }

    fn flush_stamps(&mut self) -> Result<(), autobot_journal::JournalError> {
        if self.stamps.is_empty() {
            return Ok(());
        }
        match &mut self.to {
            MetaSink::Inline(j, _) => j.stamps(&self.stamps)?,
            MetaSink::Ring(r) => r.push(&CoreMeta::Stamps(self.stamps)),
        }
        self.stamps.clear();
        Ok(())
    }

    /// Records the core's digest after its last input (once per input).
    /// `dense`: every input since the previous checkpoint that emitted an
    /// output has its own checkpoint.
    pub(super) fn checkpoint(
        &mut self,
        core: &Core,
        dense: bool,
    ) -> Result<(), autobot_journal::JournalError> {
        let Some(last_seq) = core.last_seq() else {
            return Ok(());
        };
        if self.last == Some(last_seq) {
            return Ok(());
        }
        self.last = Some(last_seq);
        let cp = Checkpoint {
            last_seq: last_seq.0,
            digest: core.digest(),
            outputs: core.outputs(),
            dense,
        };
        match &mut self.to {
            MetaSink::Inline(j, _) => j.checkpoint(&cp),
            MetaSink::Ring(r) => {
                r.push(&CoreMeta::Checkpoint(cp));
                Ok(())
            }
        }
    }

    /// Makes the checkpoints and stamps written so far durable (inline
    /// layout, after the execution thread's last order stamps; the
    /// dedicated journaller does so when the core drops its end of the
    /// ring). Call after the output ring is closed: the execution thread
    /// ends only then.
    pub(super) fn flush(
        &mut self,
        halt: &HaltFlag,
        waiter: &mut Waiter,
    ) -> Result<(), autobot_journal::JournalError> {
        self.flush_stamps()?;
        match &mut self.to {
            MetaSink::Inline(j, order_stamps) => {
                order_stamps.drain_to_end(j, halt, waiter)?;
                j.end_batch()
            }
            MetaSink::Ring(_) => Ok(()),
        }
    }
}
