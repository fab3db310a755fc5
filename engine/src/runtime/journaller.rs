//! The journaller stage: stamps each input event with its sequence and
//! appends it to the journal before any later stage may see it; appends the
//! core's output-digest checkpoints.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use autobot_journal::{Appender, AppenderConfig, Journal, JournalError, OpenReport, RecordMeta};

use crate::event::{ArchiveBuf, InputEvent};
use crate::types::Seq;

/// Meta-record kind of an output-digest checkpoint.
pub const KIND_DIGEST: u16 = 1;

/// The core's output digest after processing input `last_seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Last input processed.
    pub last_seq: Seq,
    /// Running output digest at that point.
    pub digest: u64,
    /// Outputs emitted so far.
    pub outputs: u64,
}

impl Checkpoint {
    /// Fixed little-endian encoding (24 bytes).
    pub fn encode(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&self.last_seq.0.to_le_bytes());
        b[8..16].copy_from_slice(&self.digest.to_le_bytes());
        b[16..24].copy_from_slice(&self.outputs.to_le_bytes());
        b
    }

    /// The checkpoint a journal record holds, if it is one.
    pub fn from_record(rec: &autobot_journal::Record<'_>) -> Option<Checkpoint> {
        if !rec.meta.is_meta() || rec.meta.kind != KIND_DIGEST {
            return None;
        }
        Checkpoint::decode(rec.payload)
    }

    /// Decodes a checkpoint payload.
    pub fn decode(b: &[u8]) -> Option<Checkpoint> {
        let word = |i: usize| -> Option<u64> {
            Some(u64::from_le_bytes(b.get(i..i + 8)?.try_into().ok()?))
        };
        (b.len() == 24).then_some(())?;
        Some(Checkpoint {
            last_seq: Seq(word(0)?),
            digest: word(8)?,
            outputs: word(16)?,
        })
    }
}

/// Hands checkpoints from the core thread to the journaller thread
/// (dedicated layout). The journaller looks after every batch: one relaxed
/// atomic load, and the lock only when a checkpoint is waiting (once per
/// checkpoint interval). A checkpoint not yet taken is replaced by a newer
/// one, which is only possible if the journaller falls a whole interval behind.
#[derive(Debug, Default)]
pub struct CheckpointSlot {
    pending: AtomicBool,
    inner: Mutex<SlotState>,
}

#[derive(Debug, Default)]
struct SlotState {
    pending: Option<Checkpoint>,
    final_posted: bool,
}

impl CheckpointSlot {
    /// Offers a checkpoint (replaces one not yet taken: the newest suffices).
    pub fn offer(&self, cp: Checkpoint, last: bool) {
        if let Ok(mut s) = self.inner.lock() {
            s.pending = Some(cp);
            s.final_posted |= last;
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Says the core finished without processing any input (nothing to record).
    pub fn offer_final_empty(&self) {
        if let Ok(mut s) = self.inner.lock() {
            s.final_posted = true;
        }
        self.pending.store(true, Ordering::Release);
    }

    /// Takes the pending checkpoint; the flag says whether it was the final one.
    pub fn take(&self) -> (Option<Checkpoint>, bool) {
        // A plain load first: the common case (nothing waiting) must not
        // take the cache line exclusively, as a swap would on every batch.
        if !self.pending.load(Ordering::Relaxed) || !self.pending.swap(false, Ordering::Acquire) {
            return (None, false);
        }
        match self.inner.lock() {
            Ok(mut s) => (s.pending.take(), s.final_posted),
            Err(_) => (None, true),
        }
    }
}

/// Appends input events and checkpoints to the journal.
#[derive(Debug)]
pub struct Journaller {
    app: Appender,
    buf: ArchiveBuf,
}

impl Journaller {
    /// Opens (recovering) or creates the journal.
    pub fn open(cfg: AppenderConfig) -> Result<(Journaller, OpenReport), JournalError> {
        let (app, report) = Appender::open(cfg)?;
        Ok((
            Journaller {
                app,
                buf: ArchiveBuf::default(),
            },
            report,
        ))
    }

    /// Stamps the next sequence into `ev` and appends it.
    #[inline]
    pub fn append(&mut self, ev: &mut InputEvent) -> Result<(), JournalError> {
        ev.header.seq = Seq(self.app.next_seq());
        let meta = RecordMeta {
            kind: ev.body.kind_index() as u16,
            flags: 0,
            seq: ev.header.seq.0,
            recv: ev.header.recv.0,
            exchange: ev.header.exchange.0,
        };
        self.app.append(&meta, self.buf.archive(ev))
    }

    /// Appends an output-digest checkpoint.
    pub fn checkpoint(&mut self, cp: &Checkpoint) -> Result<(), JournalError> {
        self.app
            .append_meta(KIND_DIGEST, cp.last_seq.0, &cp.encode())
    }

    /// Ends a batch (durability per policy) before the batch is released.
    pub fn end_batch(&mut self) -> Result<(), JournalError> {
        self.app.end_batch()
    }

    /// The sequence the next event will get.
    pub fn next_seq(&self) -> Seq {
        Seq(self.app.next_seq())
    }

    /// Records appended by this process.
    pub fn records(&self) -> u64 {
        self.app.records()
    }

    /// Bytes appended by this process.
    pub fn bytes(&self) -> u64 {
        self.app.bytes()
    }
}

/// A journal read back: its input events in order and its checkpoints.
#[derive(Debug, Default)]
pub struct JournalContents {
    /// Input events, in sequence order.
    pub events: Vec<InputEvent>,
    /// Digest checkpoints, in file order.
    pub checkpoints: Vec<Checkpoint>,
}

/// Reads a whole journal back (tests and small tools; replay streams).
pub fn read_journal(dir: &std::path::Path) -> Result<JournalContents, ReadJournalError> {
    let journal = Journal::open(dir)?;
    let mut out = JournalContents::default();
    for rec in journal.records() {
        if rec.meta.is_meta() {
            out.checkpoints.extend(Checkpoint::from_record(&rec));
            continue;
        }
        let ev =
            crate::event::input_from_bytes(rec.payload).map_err(|e| ReadJournalError::Decode {
                seq: rec.meta.seq,
                reason: e.0,
            })?;
        out.events.push(ev);
    }
    Ok(out)
}

/// Why a journal could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadJournalError {
    /// The journal itself is unreadable or corrupt.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A record is not a valid archived event.
    #[error("input {seq}: {reason}")]
    Decode {
        /// Its sequence.
        seq: u64,
        /// What rkyv reported.
        reason: String,
    },
}
