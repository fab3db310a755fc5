//! The two stage loops the pipeline's threads run: the dedicated
//! journaller's, and the core's (which journals each batch itself in the
//! inline layout). Each owns its stage's waiting and its shutdown order
//! (module docs of `pipeline`, Shutdown and Failure).

use std::path::PathBuf;
use std::sync::Arc;

use super::super::InputFingerprint;
use super::super::clock::mono_now;
use super::super::journaller::{Journaller, MetaReader};
use super::super::latency::is_market_data;
use super::super::meta_writer::MetaWriter;
use super::super::recorder::LatencyRecorder;
use super::super::ring::{Closed, HaltFlag, OutputPublisher, RingReader};
use super::super::stamps::OrderStampReader;
use super::super::wait::{Doorbell, Waiter};
use super::{CoreReport, JournalReport, MAX_BATCH, RuntimeError};
use crate::core::Core;
use crate::event::{InputBody, InputEvent};
use crate::types::MonoNanos;

/// The dedicated journaller and what its thread needs besides the rings.
pub(super) struct JournalStage {
    pub(super) journal: Journaller,
    pub(super) path: PathBuf,
    pub(super) waiter: Waiter,
    /// Rung after each batch journaled (the core may be asleep for it).
    pub(super) bell: Option<Arc<Doorbell>>,
    pub(super) latency: LatencyRecorder,
    pub(super) gauges: Arc<super::super::PipelineGauges>,
}

pub(super) fn journal_loop<R: RingReader<InputEvent>>(
    mut reader: R,
    mut checkpoints: MetaReader,
    mut order_stamps: OrderStampReader,
    stage: JournalStage,
    halt: &HaltFlag,
) -> Result<JournalReport, RuntimeError> {
    let JournalStage {
        mut journal,
        path,
        mut waiter,
        bell,
        mut latency,
        gauges,
    } = stage;
    let fail = |e: autobot_journal::JournalError| {
        halt.halt();
        RuntimeError::from(e)
    };
    let mut append_checkpoints = |journal: &mut Journaller| {
        checkpoints.with_batch(MAX_BATCH, |metas| {
            for m in metas {
                journal.core_meta(m)?;
            }
            Ok(())
        })
    };
    loop {
        let batch = reader.with_batch(MAX_BATCH, |events| {
            let mut n = 0;
            for ev in events {
                let mut ev = *ev;
                journal.append_stamped(&mut ev)?;
                latency.stages().record_journal(&ev);
                n += 1;
            }
            journal.end_batch()?;
            gauges.journaled(n);
            Ok(())
        });
        let idle = match batch {
            Ok(Some(r)) => {
                r.map_err(fail)?;
                Doorbell::ring_if(bell.as_deref());
                false
            }
            Ok(None) => true,
            Err(Closed) => break,
        };
        // The meta ring closes only when the core thread ends, which
        // the loop below waits for; here it is drained as it fills.
        if let Ok(Some(r)) = append_checkpoints(&mut journal) {
            r.map_err(fail)?;
        }
        order_stamps.drain(&mut journal).map_err(fail)?;
        latency.tick(mono_now());
        if idle {
            waiter.idle();
        } else {
            waiter.reset();
        }
    }
    latency.finish();
    // The core finishes after this stage: take its checkpoints until it drops
    // its end of the ring (after its final one).
    loop {
        match append_checkpoints(&mut journal) {
            Ok(Some(r)) => {
                r.map_err(fail)?;
                waiter.reset();
            }
            Ok(None) if halt.is_halted() => break,
            Ok(None) => waiter.idle(),
            Err(Closed) => break,
        }
    }
    // The execution thread ends after the core (the output ring closes
    // with it): its last order stamps come now.
    order_stamps
        .drain_to_end(&mut journal, halt, &mut waiter)
        .map_err(fail)?;
    journal.end_batch().map_err(fail)?;
    Ok(JournalReport::of(&journal, path))
}

impl JournalReport {
    pub(super) fn of(journal: &Journaller, path: PathBuf) -> JournalReport {
        JournalReport {
            path,
            records: journal.records(),
            bytes: journal.bytes(),
            next_seq: journal.next_seq().0,
            fingerprint: journal.fingerprint(),
        }
    }
}

/// The core and what its thread needs besides the ring.
pub(super) struct CoreStage {
    pub(super) core: Core,
    /// Where the core thread copies the headline state after each batch.
    pub(super) board: Arc<super::super::StatusBoard>,
    pub(super) next_seq: crate::types::Seq,
    pub(super) checkpoint_every: u64,
    pub(super) output: OutputPublisher,
    pub(super) waiter: Waiter,
    /// Rung after each batch (the view's reader may be asleep for it).
    pub(super) bell: Option<Arc<Doorbell>>,
    /// The core thread's latency histograms.
    pub(super) latency: LatencyRecorder,
    /// Where the core counts what it processed (and journaled, inline).
    pub(super) gauges: Arc<super::super::PipelineGauges>,
}

pub(super) fn core_loop<R: RingReader<InputEvent>>(
    mut reader: R,
    stage: CoreStage,
    checkpoints: &mut MetaWriter,
    halt: &HaltFlag,
) -> Result<CoreReport, RuntimeError> {
    let CoreStage {
        mut core,
        board,
        mut next_seq,
        checkpoint_every,
        mut output,
        mut waiter,
        bell,
        mut latency,
        gauges,
    } = stage;
    // Pre-allocated so the steady state allocates nothing.
    let mut batch: Vec<InputEvent> = Vec::with_capacity(MAX_BATCH as usize);
    let mut fingerprint = InputFingerprint::default();
    let mut since_checkpoint = 0u64;
    let mut last_command = super::super::CommandOutcome::default();
    let fail = |e: autobot_journal::JournalError| {
        halt.halt();
        RuntimeError::from(e)
    };
    // A restored core has outputs of an earlier run that may have no
    // checkpoint (it crashed before journaling them): mark the gap.
    checkpoints.checkpoint(&core, false).map_err(fail)?;
    loop {
        let done = reader.with_batch(MAX_BATCH, |events| {
            batch.clear();
            for ev in events {
                let mut ev = *ev;
                ev.header.seq = next_seq;
                next_seq = next_seq.next();
                batch.push(ev);
            }
            // Inline layout: the whole batch is in the journal (and synced
            // per policy) before the core acts on any of it.
            if let Some(j) = checkpoints.journal() {
                for ev in batch.iter_mut() {
                    let counted = ev.header.seq;
                    j.append_stamped(ev)?;
                    debug_assert_eq!(ev.header.seq, counted, "core and journal sequences");
                }
                j.end_batch()?;
                gauges.journaled(batch.len() as u64);
            }
            // One clock read per event: an event starts when the one before
            // it in the batch is done (the bookkeeping between is the
            // next event's, and small).
            let mut start = mono_now();
            for ev in &batch {
                let outputs = core.outputs();
                output.cause_recv = if is_market_data(&ev.body) {
                    ev.header.recv
                } else {
                    MonoNanos(0)
                };
                if let InputBody::Operator(_) = ev.body {
                    last_command = super::super::CommandOutcome::of(&mut core, |c| {
                        c.on_event(ev, &mut output)
                    });
                } else {
                    core.on_event(ev, &mut output);
                }
                let done = mono_now();
                latency.stages().record_core(ev, start, done);
                checkpoints.core_stamp(ev, start, done)?;
                start = done;
                // The digest moved: record it, so the digest after every
                // input stays known (see `journaller`, Checkpoints).
                if core.outputs() != outputs {
                    output.caused(ev.header.seq, core.now());
                    checkpoints.checkpoint(&core, true)?;
                }
                fingerprint.add(ev);
                latency.stages().record_stamps(ev);
            }
            latency.tick(start);
            checkpoints.tick(start)?;
            board.publish(&core, &last_command);
            gauges.processed(batch.len() as u64);
            since_checkpoint += batch.len() as u64;
            if since_checkpoint >= checkpoint_every {
                since_checkpoint = 0;
                checkpoints.checkpoint(&core, true)?;
            }
            Ok::<(), autobot_journal::JournalError>(())
        });
        match done {
            Ok(Some(r)) => {
                r.map_err(fail)?;
                Doorbell::ring_if(bell.as_deref());
                waiter.reset();
            }
            Ok(None) => {
                if halt.is_halted() {
                    // The journaller failed; its error is reported by join.
                    break;
                }
                let now = mono_now();
                latency.tick(now);
                checkpoints.tick(now).map_err(fail)?;
                waiter.idle();
            }
            Err(Closed) => break,
        }
    }
    // Closes the output ring, so the execution thread can finish (and hand
    // over its last order stamps).
    let dropped_outputs = output.dropped();
    drop(output);
    if !halt.is_halted() {
        checkpoints.checkpoint(&core, true).map_err(fail)?;
        checkpoints.flush(halt, &mut waiter).map_err(fail)?;
    }
    latency.finish();
    Ok(CoreReport {
        core,
        fingerprint,
        dropped_outputs,
    })
}
