//! Writer and reader of the single-file append-only log (format in the crate docs).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"ABJRNL\0\0";
const VERSION: u32 = 1;
const HEADER_LEN: u64 = 16;
/// Largest payload accepted (events are far smaller; this bounds a corrupt length).
const MAX_RECORD: u32 = 1 << 20;

/// Errors of the journal, named after the condition.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// An OS-level I/O error on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file does not start with the journal magic or has another version.
    #[error("{path}: not an autobot journal (bad magic or version)")]
    BadHeader {
        /// The file.
        path: PathBuf,
    },
    /// A record's checksum or length is wrong before the end of the file.
    #[error("{path}: corrupt record {index} at offset {offset}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Index of the record.
        index: u64,
        /// Byte offset of the record.
        offset: u64,
    },
    /// A payload larger than the format allows.
    #[error("record of {len} bytes exceeds the {MAX_RECORD}-byte limit")]
    TooLarge {
        /// Its length.
        len: usize,
    },
}

fn check(payload: &[u8], index: u64) -> u32 {
    xxhash_rust::xxh3::xxh3_64_with_seed(payload, index) as u32
}

fn pad_of(len: usize) -> usize {
    (8 - len % 8) % 8
}

/// The appender: single writer.
#[derive(Debug)]
pub struct AppLog {
    path: PathBuf,
    out: BufWriter<File>,
    records: u64,
    bytes: u64,
}

impl AppLog {
    /// Creates a new log at `path` (refuses to overwrite an existing file).
    pub fn create(path: &Path) -> Result<AppLog, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&MAGIC).map_err(io)?;
        out.write_all(&VERSION.to_le_bytes()).map_err(io)?;
        out.write_all(&0u32.to_le_bytes()).map_err(io)?;
        Ok(AppLog {
            path: path.to_path_buf(),
            out,
            records: 0,
            bytes: HEADER_LEN,
        })
    }

    /// Appends one record (buffered; see [`AppLog::flush`]).
    pub fn append(&mut self, payload: &[u8]) -> Result<(), JournalError> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|l| *l <= MAX_RECORD)
            .ok_or(JournalError::TooLarge { len: payload.len() })?;
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&len.to_le_bytes());
        head[4..].copy_from_slice(&check(payload, self.records).to_le_bytes());
        let pad = pad_of(payload.len());
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.write_all(&head).map_err(io)?;
        self.out.write_all(payload).map_err(io)?;
        self.out.write_all(&[0u8; 8][..pad]).map_err(io)?;
        self.records += 1;
        self.bytes += (8 + payload.len() + pad) as u64;
        Ok(())
    }

    /// Hands buffered records to the OS (a `write(2)`; no `fsync` in this
    /// version: a process crash loses nothing flushed, a host crash may).
    pub fn flush(&mut self) -> Result<(), JournalError> {
        self.out.flush().map_err(|source| JournalError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Records appended.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes appended, header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the log (0-based).
    pub index: u64,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// Sequential reader; stops at the end or at a torn tail.
#[derive(Debug)]
pub struct AppLogReader {
    path: PathBuf,
    input: BufReader<File>,
    len: u64,
    offset: u64,
    index: u64,
    torn_tail: Option<u64>,
}

impl AppLogReader {
    /// Opens a log and checks its header.
    pub fn open(path: &Path) -> Result<AppLogReader, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut header = [0u8; HEADER_LEN as usize];
        input
            .read_exact(&mut header)
            .map_err(|_| JournalError::BadHeader {
                path: path.to_path_buf(),
            })?;
        if header[..8] != MAGIC || header[8..12] != VERSION.to_le_bytes() {
            return Err(JournalError::BadHeader {
                path: path.to_path_buf(),
            });
        }
        Ok(AppLogReader {
            path: path.to_path_buf(),
            input,
            len,
            offset: HEADER_LEN,
            index: 0,
            torn_tail: None,
        })
    }

    /// Byte offset of a torn final record, if reading stopped at one.
    pub fn torn_tail(&self) -> Option<u64> {
        self.torn_tail
    }

    /// The next record, `Ok(None)` at the end (or at a torn tail, see
    /// [`AppLogReader::torn_tail`]), an error for corruption before the end.
    pub fn next_record(&mut self) -> Result<Option<Record>, JournalError> {
        if self.offset >= self.len || self.torn_tail.is_some() {
            return Ok(None);
        }
        let corrupt = |s: &Self| JournalError::Corrupt {
            path: s.path.clone(),
            index: s.index,
            offset: s.offset,
        };
        let remaining = self.len - self.offset;
        let mut head = [0u8; 8];
        if remaining < 8 || self.input.read_exact(&mut head).is_err() {
            self.torn_tail = Some(self.offset);
            return Ok(None);
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let want = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        let total = 8 + u64::from(len) + pad_of(len as usize) as u64;
        if len > MAX_RECORD {
            return Err(corrupt(self));
        }
        if total > remaining {
            self.torn_tail = Some(self.offset);
            return Ok(None);
        }
        let mut payload = vec![0u8; len as usize];
        let mut pad = [0u8; 8];
        let read = self
            .input
            .read_exact(&mut payload)
            .and_then(|()| self.input.read_exact(&mut pad[..pad_of(len as usize)]));
        read.map_err(|source| JournalError::Io {
            path: self.path.clone(),
            source,
        })?;
        if check(&payload, self.index) != want {
            // A bad last record is a torn append; anywhere else it is corruption.
            if self.offset + total == self.len {
                self.torn_tail = Some(self.offset);
                return Ok(None);
            }
            return Err(corrupt(self));
        }
        let rec = Record {
            index: self.index,
            payload,
        };
        self.index += 1;
        self.offset += total;
        Ok(Some(rec))
    }
}

impl Iterator for AppLogReader {
    type Item = Result<Record, JournalError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
