//! The journal: an append-only log of opaque records (archived input events).
//!
//! This crate owns the on-disk format and nothing else; it does not know what
//! an event is. The engine's journaller stage appends one record per input
//! event before the core may see it.
//!
//! Format of this first version (`applog`, one file; the segmented, mmap'd
//! journal of SPEC section 9 replaces it):
//!
//! ```text
//! file   := header record*
//! header := magic "ABJRNL\0\0" (8) | version u32 LE = 1 | reserved u32 = 0
//! record := len u32 LE | check u32 LE | payload [len] | zero pad to 8
//! check  := low 32 bits of xxh3_64(payload, seed = record index)
//! ```
//!
//! Binding the checksum to the record index means a record copied to another
//! position fails verification. A torn tail (a crash mid-append) is detected by
//! the reader as a short or failing last record and reported, never returned.

mod applog;

pub use applog::{AppLog, AppLogReader, JournalError, Record};
