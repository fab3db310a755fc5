//! The journaller stage: stamps each input event with its sequence and
//! appends it to the journal before any later stage may see it.

use std::path::Path;

use autobot_journal::{AppLog, JournalError};

use crate::event::{ArchiveBuf, InputEvent};
use crate::types::Seq;

/// Appends input events to the journal, assigning sequences in ring order.
#[derive(Debug)]
pub struct Journaller {
    log: AppLog,
    buf: ArchiveBuf,
    next_seq: Seq,
}

impl Journaller {
    /// Creates the journal file.
    pub fn create(path: &Path) -> Result<Journaller, JournalError> {
        Ok(Journaller {
            log: AppLog::create(path)?,
            buf: ArchiveBuf::default(),
            next_seq: Seq(0),
        })
    }

    /// Stamps the next sequence into `ev` and appends it.
    #[inline]
    pub fn append(&mut self, ev: &mut InputEvent) -> Result<(), JournalError> {
        ev.header.seq = self.next_seq;
        self.next_seq = self.next_seq.next();
        self.log.append(self.buf.archive(ev))
    }

    /// Ends a batch: the records reach the OS before the batch is released.
    pub fn end_batch(&mut self) -> Result<(), JournalError> {
        self.log.flush()
    }

    /// Records appended.
    pub fn records(&self) -> u64 {
        self.log.records()
    }

    /// Bytes written.
    pub fn bytes(&self) -> u64 {
        self.log.bytes()
    }
}

/// Reads every event of a journal back, in sequence order.
pub fn read_journal(path: &Path) -> Result<Vec<InputEvent>, ReadJournalError> {
    let reader = autobot_journal::AppLogReader::open(path)?;
    let mut out = Vec::new();
    for rec in reader {
        let rec = rec?;
        let ev =
            crate::event::input_from_bytes(&rec.payload).map_err(|e| ReadJournalError::Decode {
                index: rec.index,
                reason: e.0,
            })?;
        out.push(ev);
    }
    Ok(out)
}

/// Why a journal could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadJournalError {
    /// The log itself is unreadable or corrupt.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A record is not a valid archived event.
    #[error("record {index}: {reason}")]
    Decode {
        /// Record index.
        index: u64,
        /// What rkyv reported.
        reason: String,
    },
}
