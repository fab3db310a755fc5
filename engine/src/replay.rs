//! Feeding a journal into a core: restore on restart, `autobot replay`,
//! verification against the recorded digest checkpoints.
//!
//! Records are validated by [`Journal::open`] (checksums, sequences); each
//! payload is then decoded with rkyv's checked access, so a journal crafted
//! to pass the checksum still cannot make the replay read out of bounds.

use autobot_journal::Journal;

use crate::core::{Core, OutputSink};
use crate::event::{InputEvent, OutputEvent};
use crate::types::Seq;
use autobot_journal::checkpoint::Checkpoint;

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

/// How far (in inputs) a checkpoint record may trail the input it is about:
/// the dedicated journaller runs ahead of the core by at most the input
/// ring (1 << 24 slots at most) plus a batch.
const MAX_CHECKPOINT_LAG: u64 = 1 << 25;

/// Feeds the journal's inputs in `range` to `core` (which has already
/// processed every input before `start`, as the recording did), calling
/// `each(input, core, sink)` after every input (the sink holds the outputs it
/// caused), and comparing the core's digest after each input with the
/// recorded one wherever the checkpoints make it known (see
/// `runtime::journaller`, Checkpoints). One pass over the journal.
pub fn feed<S: OutputSink>(
    journal: &Journal,
    core: &mut Core,
    start: Seq,
    until: Option<Seq>,
    sink: &mut S,
    mut each: impl FnMut(&InputEvent, &Core, &mut S),
) -> Result<ReplayReport, ReplayError> {
    let mut report = ReplayReport::default();
    // Nothing to verify against (an imported journal): remember nothing.
    let has_checkpoints = journal.segments().iter().any(|s| s.scan.metas > 0);
    let mut verifier = Verifier::new(start, (core.digest(), core.outputs()), has_checkpoints);
    let last = until.map_or(u64::MAX, |u| u.0);
    let mut ev = InputEvent::default();
    for rec in journal.records_from(start.0) {
        if rec.meta.is_meta() {
            match Checkpoint::from_record(&rec) {
                // Checkpoints are in input order: none about a fed input follows.
                Some(cp) if cp.last_seq > last => break,
                Some(cp) => verifier.checkpoint(&cp, &mut report),
                None => {}
            }
            continue;
        }
        if rec.meta.seq > last {
            // Checkpoints about the last inputs fed may still follow.
            if rec.meta.seq - last > MAX_CHECKPOINT_LAG {
                break;
            }
            continue;
        }
        crate::event::input_into(rec.payload, &mut ev).map_err(|e| ReplayError::Decode {
            seq: rec.meta.seq,
            reason: e.0,
        })?;
        core.on_event(&ev, sink);
        each(&ev, core, sink);
        report.events += 1;
        report.last_seq = Some(ev.header.seq);
        verifier.fed(ev.header.seq, (core.digest(), core.outputs()));
    }
    Ok(report)
}

/// Compares the replay's digest with the recorded one, in one pass.
///
/// A checkpoint about input X sits after X in the file, possibly after later
/// inputs too (the dedicated journaller appends it when the core hands it
/// over), so the replay runs ahead of the checkpoints. The digest only
/// changes when an output is emitted; it is enough to remember where the
/// replay's changed since the last verified input. When a dense checkpoint
/// about X arrives, the recording emitted nothing in between, so the replay
/// must not have either, and must match at X.
#[derive(Debug)]
struct Verifier {
    /// The recorded digest and output count before `unverified_from`.
    expected: (u64, u64),
    /// The first input not yet verified.
    unverified_from: Seq,
    /// The replay's (digest, outputs) after the last input fed.
    replayed: (u64, u64),
    /// Inputs at or after `unverified_from` after which the replay's
    /// digest changed, with its value then; oldest first.
    changes: std::collections::VecDeque<(Seq, (u64, u64))>,
    /// False once diverged (only the first divergence is reported) or when
    /// the journal holds no checkpoint.
    active: bool,
}

impl Verifier {
    fn new(start: Seq, state: (u64, u64), active: bool) -> Self {
        Verifier {
            expected: state,
            unverified_from: start,
            replayed: state,
            changes: std::collections::VecDeque::with_capacity(1024),
            active,
        }
    }

    fn fed(&mut self, seq: Seq, state: (u64, u64)) {
        if self.active && state != self.replayed {
            self.replayed = state;
            self.changes.push_back((seq, state));
        }
    }

    fn checkpoint(&mut self, cp: &Checkpoint, report: &mut ReplayReport) {
        let at = Seq(cp.last_seq);
        if at < self.unverified_from || !self.active {
            return; // before the replay's start, or a second one about the same input
        }
        report.checkpoints_checked += 1;
        let recorded = (cp.digest, cp.outputs);
        let first_change = self.changes.front().copied();
        let replayed_at = self
            .changes
            .iter()
            .take_while(|(s, _)| *s <= at)
            .last()
            .map_or(self.expected, |c| c.1);
        let divergence = match first_change {
            // The recording emitted nothing before `at`; the replay did.
            Some((s, state)) if cp.dense && s < at => Some(Divergence {
                from: s,
                at: s,
                recorded: self.expected,
                replayed: state,
            }),
            _ if replayed_at != recorded => Some(Divergence {
                from: if cp.dense { at } else { self.unverified_from },
                at,
                recorded,
                replayed: replayed_at,
            }),
            _ => None,
        };
        if divergence.is_some() {
            report.divergence = divergence;
            self.changes.clear();
            self.active = false;
            return;
        }
        report.inputs_verified += if cp.dense {
            at.0 - self.unverified_from.0 + 1
        } else {
            1
        };
        self.expected = recorded;
        self.unverified_from = at.next();
        while self.changes.front().is_some_and(|(s, _)| *s <= at) {
            self.changes.pop_front();
        }
    }
}

/// Collects outputs into a reusable buffer (for tracing).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<OutputEvent>);

impl OutputSink for Collect {
    fn emit(&mut self, out: &OutputEvent) {
        self.0.push(*out);
    }
}
