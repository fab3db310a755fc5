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

/// Where the replay's output digest first departs from the recorded one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The first divergent input is in `from..=at`: `from` is the first
    /// input not known to match (so `from == at` names it exactly, which is
    /// the case wherever the recorded checkpoints are dense).
    pub from: Seq,
    /// The first input after which the digests are known to differ.
    pub at: Seq,
    /// The recorded digest and output count after `at`.
    pub recorded: (u64, u64),
    /// The replay's digest and output count after `at`.
    pub replayed: (u64, u64),
}

impl Divergence {
    /// The divergent input is known exactly.
    pub fn exact(&self) -> bool {
        self.from == self.at
    }
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Inputs fed to the core.
    pub events: u64,
    /// Recorded checkpoints compared.
    pub checkpoints_checked: u64,
    /// Inputs after which the recorded digest was known and compared.
    pub inputs_verified: u64,
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
/// processed every input before `start`, as the recording did), calling
/// `each(input, core, sink)` after every input (the sink holds the outputs it
/// caused), and comparing the core's digest after each input with the
/// recorded one wherever the checkpoints make it known (see
/// `runtime::journaller`, Checkpoints).
pub fn feed<S: OutputSink>(
    journal: &Journal,
    core: &mut Core,
    start: Seq,
    until: Option<Seq>,
    sink: &mut S,
    mut each: impl FnMut(&InputEvent, &Core, &mut S),
) -> Result<ReplayReport, ReplayError> {
    let mut report = ReplayReport::default();
    // A checkpoint about input X sits after X in the file, possibly after
    // later inputs too (the dedicated journaller appends it when the core
    // hands it over): a second cursor runs ahead over the same mapping.
    let mut checkpoints = journal
        .records_from(start.0)
        .filter_map(|r| Checkpoint::from_record(&r))
        .peekable();
    // The recorded digest after the last checkpoint passed; before the first,
    // that of the state the replay starts from.
    let mut expected = (core.digest(), core.outputs());
    let mut unverified_from = start;
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
        let seq = ev.header.seq;
        report.events += 1;
        report.last_seq = Some(seq);
        while checkpoints.next_if(|cp| cp.last_seq < seq).is_some() {}
        let recorded = if checkpoints.peek().is_some_and(|cp| cp.last_seq == seq) {
            while let Some(cp) = checkpoints.next_if(|cp| cp.last_seq == seq) {
                report.checkpoints_checked += 1;
                expected = (cp.digest, cp.outputs);
            }
            Some(expected)
        } else if checkpoints.peek().is_some_and(|cp| cp.dense) {
            // The recording emitted nothing here (or it would have a
            // checkpoint): its digest is still the last one recorded.
            Some(expected)
        } else {
            None // after the last checkpoint, or in a gap a crash left
        };
        let Some(recorded) = recorded else { continue };
        report.inputs_verified += 1;
        let replayed = (core.digest(), core.outputs());
        if replayed == recorded {
            unverified_from = seq.next();
        } else if report.divergence.is_none() {
            report.divergence = Some(Divergence {
                from: unverified_from,
                at: seq,
                recorded,
                replayed,
            });
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
