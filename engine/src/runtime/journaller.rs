//! The journaller stage: stamps each input event with its sequence and
//! appends it to the journal before any later stage may see it; appends the
//! core's output-digest checkpoints.
//!
//! Checkpoints are encoded beside the journal's format
//! (`autobot_journal::checkpoint`).

use std::path::Path;

use autobot_journal::checkpoint::{Checkpoint, KIND_DIGEST};
use autobot_journal::{
    Appender, AppenderConfig, Durability, Journal, JournalError, OpenReport, RecordMeta,
};

use crate::config::{DurabilityKind, JournalConfig};

use crate::event::{ArchiveBuf, InputEvent};
use crate::types::Seq;

/// What the core thread hands the dedicated journaller besides the inputs
/// (over the meta ring; the inline layout appends them directly).
#[derive(Clone, Copy, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "ring slots are fixed-size anyway; boxing would allocate on the hot path"
)]
pub(crate) enum CoreMeta {
    /// An output-digest checkpoint.
    Checkpoint(Checkpoint),
    /// A batch of the core's latency stamps.
    Stamps(super::stamps::StampBatch<super::stamps::CoreStamp>),
}

/// The core's handle on the meta ring: checkpoints and latency stamps for
/// the dedicated journaller.
pub(crate) type MetaPublisher = super::ring::CorePublisher<CoreMeta>;
/// The dedicated journaller's reader of the meta ring.
pub(crate) type MetaReader = disruptor::EventPoller<CoreMeta, disruptor::SingleProducerBarrier>;

impl Default for CoreMeta {
    fn default() -> Self {
        CoreMeta::Checkpoint(Checkpoint::default())
    }
}

/// Appends input events and checkpoints to the journal.
#[derive(Debug)]
pub struct Journaller {
    app: Appender,
    buf: ArchiveBuf,
    /// The inputs appended, as the journal numbered them (compared with
    /// the core's own fold at shutdown: one `seq` authority).
    fingerprint: super::InputFingerprint,
}

/// The appender settings of `[journal]` for a journal in `dir`.
pub fn appender_config(cfg: &JournalConfig, dir: &Path) -> AppenderConfig {
    AppenderConfig {
        dir: dir.to_path_buf(),
        segment_size: cfg.segment_mib << 20,
        durability: match cfg.durability {
            DurabilityKind::None => Durability::None,
            DurabilityKind::EveryBatch => Durability::EveryBatch,
            DurabilityKind::EveryN => Durability::EveryRecords(cfg.sync_every),
        },
    }
}

impl Journaller {
    /// Opens (recovering) or creates the journal.
    pub fn open(cfg: AppenderConfig) -> Result<(Journaller, OpenReport), JournalError> {
        let (app, report) = Appender::open(cfg)?;
        Ok((
            Journaller {
                app,
                buf: ArchiveBuf::default(),
                fingerprint: super::InputFingerprint::default(),
            },
            report,
        ))
    }

    /// See [`Appender::await_next_segment`].
    pub fn await_next_segment(&mut self) -> Result<(), JournalError> {
        self.app.await_next_segment()
    }

    /// Stamps the next sequence into `ev` and appends it. The journal is
    /// the one authority on an input's sequence: the core thread counts the
    /// same inputs, and the pipeline checks the two agree (in debug builds).
    #[inline]
    pub fn append(&mut self, ev: &mut InputEvent) -> Result<(), JournalError> {
        ev.header.seq = Seq(self.app.next_seq());
        self.fingerprint.add(ev);
        let meta = RecordMeta {
            kind: ev.body.kind_index() as u16,
            flags: 0,
            seq: ev.header.seq.0,
            recv: ev.header.recv.0,
            exchange: ev.header.exchange.0,
        };
        self.app.append(&meta, self.buf.archive(ev))
    }

    /// Stamps "journal written" (this host's clock, after the event's
    /// `recv`) into `ev` and appends it: the live pipeline's append. An
    /// import keeps its events' bytes free of this host's clock.
    #[inline]
    pub fn append_stamped(&mut self, ev: &mut InputEvent) -> Result<(), JournalError> {
        ev.header.stamps.journaled =
            super::clock::stamp_since(ev.header.recv, super::clock::mono_now());
        self.append(ev)
    }

    /// The inputs this journaller appended, folded in order.
    pub fn fingerprint(&self) -> super::InputFingerprint {
        self.fingerprint
    }

    /// Appends an output-digest checkpoint.
    pub fn checkpoint(&mut self, cp: &Checkpoint) -> Result<(), JournalError> {
        self.app.append_meta(KIND_DIGEST, cp.last_seq, &cp.encode())
    }

    /// Appends what the core sent.
    pub(crate) fn core_meta(&mut self, meta: &CoreMeta) -> Result<(), JournalError> {
        match meta {
            CoreMeta::Checkpoint(cp) => self.checkpoint(cp),
            CoreMeta::Stamps(batch) => self.stamps(batch),
        }
    }

    /// Appends a batch of latency stamps (see `stamps`); an empty batch
    /// appends nothing.
    pub fn stamps<T: super::stamps::StampEntry>(
        &mut self,
        batch: &super::stamps::StampBatch<T>,
    ) -> Result<(), JournalError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut buf = [0u8; super::stamps::RECORD_BYTES];
        let payload = batch.encode(&mut buf);
        self.app.append_meta(T::KIND, batch.last_seq().0, payload)
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
