//! The journal: the engine's source of truth. Every input event is appended
//! here before the core may act on it.
//!
//! This crate owns the on-disk format and nothing else; payloads are opaque
//! bytes (the engine archives events with rkyv). See [`format`] for the
//! layout field by field, [`Appender`] for durability and the failed-sync
//! policy, [`Journal`] for validated reading, [`Tailer`] for following a
//! journal another process is writing.
//!
//! # Invariants
//! - One appender per directory. Input records carry dense sequences.
//! - A record is committed by the release store of its `len`, after its
//!   header and payload; readers acquire-load `len` and verify the checksum.
//! - Readers never modify a journal. Recovery (on the appender's open) only
//!   removes a torn tail after the last valid record, and reports it.
//! - A damaged record followed by valid data is an error naming the segment
//!   and offset; it is never skipped. A reader may ask for the intact prefix
//!   before it ([`Journal::open_intact`]), and [`salvage`] copies what is
//!   readable into a new journal, marking lost inputs with a gap record.

mod appender;
pub mod checkpoint;
mod error;
pub mod format;
mod os;
mod reader;
mod recovery;
mod salvage;
mod scan;
mod segment;
mod snapshot;
mod walk;

pub use appender::{Appender, AppenderConfig, Durability};
pub use error::JournalError;
pub use format::RecordMeta;
pub use reader::{Damage, INDEX_EVERY, IndexPoint, Journal, Record, Records, SegmentView, Tailer};
pub use recovery::OpenReport;
pub use salvage::{Gap, SalvageReport, salvage};
pub use scan::Torn;
pub use snapshot::{
    SNAPSHOT_VERSION, Skipped, Snapshot, newest_valid, prune_snapshots, read_snapshot,
    write_snapshot,
};
