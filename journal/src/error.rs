//! Journal errors, named after the condition; each names the file.

use std::path::PathBuf;

/// Everything that can go wrong with a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An OS-level I/O error.
    #[error("{path}: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The directory holds no segment but other files.
    #[error("{path}: not an autobot journal (no segment files, other files present)")]
    NotAJournal {
        /// The directory.
        path: PathBuf,
    },
    /// The directory holds no journal at all.
    #[error("{path}: no journal here (no segment files)")]
    Empty {
        /// The directory.
        path: PathBuf,
    },
    /// A segment written by a newer autobot.
    #[error(
        "{path}: journal format version {version} is newer than this build reads ({})",
        crate::format::VERSION
    )]
    NewerVersion {
        /// The segment.
        path: PathBuf,
        /// Its version.
        version: u32,
    },
    /// A segment header that is not a journal header or is damaged.
    #[error("{path}: {reason}")]
    BadSegment {
        /// The segment.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A damaged record with valid data after it: never skipped.
    #[error("{path}: corrupt record at offset {offset}: {reason}")]
    Corrupt {
        /// The segment.
        path: PathBuf,
        /// Byte offset of the record in the segment.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A segment is missing: the next one does not continue the sequence.
    #[error(
        "{path}: starts at sequence {found}, but the journal before it ends at {expected_next} (a segment is missing)"
    )]
    MissingSegment {
        /// The segment after the gap.
        path: PathBuf,
        /// The sequence that should come next.
        expected_next: u64,
        /// The sequence the segment starts at.
        found: u64,
    },
    /// A segment other than the last is shorter than its header says.
    #[error("{path}: truncated to {len} bytes (header says {size})")]
    Truncated {
        /// The segment.
        path: PathBuf,
        /// Actual length.
        len: u64,
        /// Length the header records.
        size: u64,
    },
    /// A payload too large for a segment.
    #[error("record of {len} bytes does not fit a segment of {segment_size} bytes")]
    RecordTooLarge {
        /// Payload length.
        len: usize,
        /// Segment size.
        segment_size: u64,
    },
    /// `msync` failed. The appender stops accepting records (see the crate
    /// docs for why it never retries).
    #[error("{path}: sync failed, the journal is stopped: {source}")]
    SyncFailed {
        /// The segment.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The appender stopped after an earlier failure.
    #[error("the journal appender stopped after an earlier failure")]
    Stopped,
    /// A configuration value outside its range.
    #[error("segment size {0} is out of range; allowed: 4096 ..= 2^40, a multiple of 4096")]
    BadSegmentSize(u64),
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.into();
    move |source| JournalError::Io { path, source }
}
