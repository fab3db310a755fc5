//! Feeding a journal into a core: restore on restart, `autobot replay`,
//! verification against the recorded digest checkpoints.
//!
//! Records are validated by [`Journal::open`] (checksums, sequences); each
//! payload is then decoded with rkyv's checked access, so a journal crafted
//! to pass the checksum still cannot make the replay read out of bounds.

use autobot_journal::Journal;

use crate::core::{Core, OutputSink};
use crate::event::{InputEvent, OutputEvent};
use crate::runtime::Checkpoint;
use crate::types::Seq;

/// The first checkpoint whose digest differs from the replay's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The checkpoint as recorded.
    pub recorded: Checkpoint,
    /// The replay's digest after the same input.
    pub replayed_digest: u64,
    /// The replay's output count after the same input.
    pub replayed_outputs: u64,
    /// The last checkpoint that matched: the first divergent input lies
    /// after it and at or before `recorded.last_seq`.
    pub last_match: Option<Seq>,
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Inputs fed to the core.
    pub events: u64,
    /// Checkpoints compared.
    pub checkpoints_checked: u64,
    /// The first divergence, if any.
    pub divergence: Option<Divergence>,
    /// The last input fed.
    pub last_seq: Option<Seq>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A record does not decode as an input event.
    #[error("input {seq}: {reason}")]
    Decode {
        /// Its sequence.
        seq: u64,
        /// What rkyv reported.
        reason: String,
    },
}

/// Feeds the journal's inputs in `range` to `core` (which has already
/// processed every input before `start`), calling `each(input, core, sink)`
/// after every input (the sink holds the outputs it caused), and comparing every
/// checkpoint at or after `start` with the core's digest.
pub fn feed<S: OutputSink>(
    journal: &Journal,
    core: &mut Core,
    start: Seq,
    until: Option<Seq>,
    sink: &mut S,
    mut each: impl FnMut(&InputEvent, &Core, &mut S),
) -> Result<ReplayReport, ReplayError> {
    let mut report = ReplayReport::default();
    let mut last_match = None;
    // A checkpoint about input X may sit after later inputs in the file (the
    // dedicated journaller appends it when the core hands it over), so all
    // checkpoints are collected first and each is compared right after X.
    let mut checkpoints: Vec<Checkpoint> = journal
        .records()
        .filter_map(|r| Checkpoint::from_record(&r))
        .filter(|cp| cp.last_seq >= start)
        .collect();
    checkpoints.sort_by_key(|cp| cp.last_seq);
    let mut next_cp = checkpoints.iter().peekable();
    for rec in journal.records_from(start.0) {
        if rec.meta.is_meta() {
            continue;
        }
        if until.is_some_and(|u| rec.meta.seq > u.0) {
            break;
        }
        let ev = crate::event::input_from_bytes(rec.payload).map_err(|e| ReplayError::Decode {
            seq: rec.meta.seq,
            reason: e.0,
        })?;
        core.on_event(&ev, sink);
        each(&ev, core, sink);
        report.events += 1;
        report.last_seq = Some(ev.header.seq);
        while let Some(cp) = next_cp.next_if(|cp| cp.last_seq <= ev.header.seq) {
            if cp.last_seq < ev.header.seq {
                continue; // about an input this replay did not process
            }
            report.checkpoints_checked += 1;
            if report.divergence.is_some() {
                continue;
            }
            if cp.digest == core.digest() && cp.outputs == core.outputs() {
                last_match = Some(cp.last_seq);
            } else {
                report.divergence = Some(Divergence {
                    recorded: *cp,
                    replayed_digest: core.digest(),
                    replayed_outputs: core.outputs(),
                    last_match,
                });
            }
        }
    }
    Ok(report)
}

/// Collects outputs into a reusable buffer (for tracing).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<OutputEvent>);

impl OutputSink for Collect {
    fn emit(&mut self, out: &OutputEvent) {
        self.0.push(*out);
    }
}
