//! Reading a journal: validated, zero-copy, from a sequence or a time; and
//! tailing one that another thread or process is appending to.
//!
//! [`Journal::open`] never modifies anything: a torn tail is reported
//! ([`Journal::torn`]), not repaired (only the appender's recovery repairs).
//! [`Journal::open_intact`] reads a damaged journal up to its damage: the
//! intact prefix, with the damage named ([`Journal::damage`]).

use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::JournalError;
use crate::format::{
    RECORD_HEADER_LEN, RecordMeta, SEGMENT_HEADER_LEN, SegmentHeader, record_span,
};
use crate::scan::{SegmentScan, Slot, Strictness, Torn, parse};
use crate::segment::{list, map_read, read_header};
pub use crate::walk::{INDEX_EVERY, IndexPoint};
use crate::walk::{Walk, walk_all};

/// One validated segment.
#[derive(Debug)]
pub struct SegmentView {
    /// Its file.
    pub path: PathBuf,
    /// Its header.
    pub header: SegmentHeader,
    /// What the walk found.
    pub scan: SegmentScan,
    /// Actual file length when shorter than the header's size.
    pub short: Option<u64>,
    map: Mmap,
}

/// A record, borrowed from the mapping.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Header fields.
    pub meta: RecordMeta,
    /// Archived payload (8-byte aligned).
    pub payload: &'a [u8],
    /// Segment index.
    pub segment: usize,
    /// Offset in the segment.
    pub offset: usize,
}

/// Where a journal's readable records end ([`Journal::open_intact`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment file.
    pub path: PathBuf,
    /// Byte offset in it (0: the segment as a whole).
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
    /// The first input sequence that cannot be read: every input before it
    /// is intact.
    pub next_seq: u64,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at offset {}: {}; inputs before {} are intact",
            self.path.display(),
            self.offset,
            self.reason,
            self.next_seq
        )
    }
}

/// A read-only, validated view of a journal directory.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    segments: Vec<SegmentView>,
    index: Vec<IndexPoint>,
    damage: Option<Damage>,
}

/// What [`open_segments`] found.
pub(crate) struct Opened {
    pub segments: Vec<SegmentView>,
    pub prepared: Vec<PathBuf>,
    /// Under [`Strictness::Prefix`]: where reading stopped.
    pub damage: Option<Damage>,
    /// The sparse index of the inputs read.
    pub index: Vec<IndexPoint>,
}

/// Validates the segments of `dir` in order. Shared by readers and recovery.
/// Under [`Strictness::Prefix`], damage (in a record or a whole segment)
/// ends the walk instead of failing it. The segments' records are checked
/// on several threads ([`walk_all`]); their order is checked here, so the
/// first problem in file order is the one reported.
pub(crate) fn open_segments(dir: &Path, strictness: Strictness) -> Result<Opened, JournalError> {
    let (files, others, prepared) = list(dir)?;
    if files.is_empty() {
        return Err(if others {
            JournalError::NotAJournal {
                path: dir.to_path_buf(),
            }
        } else {
            JournalError::Empty {
                path: dir.to_path_buf(),
            }
        });
    }
    let walks = walk_all(&files, strictness);
    let mut out: Vec<SegmentView> = Vec::with_capacity(files.len());
    let mut index = Vec::new();
    // The largest exchange time of the inputs of the segments before.
    let mut envelope = 0u64;
    for (walked, file) in walks.into_iter().zip(files) {
        let next_seq = out.last().map_or(file.first_seq, |s| s.scan.next_seq);
        match (walked.and_then(|w| link(w, out.last())), strictness) {
            (Ok((view, points, top)), _) => {
                index.extend(points.into_iter().map(|p| IndexPoint {
                    time: p.time.max(envelope),
                    ..p
                }));
                envelope = envelope.max(top);
                let damage = view.scan.damage.clone();
                let (path, next) = (view.path.clone(), view.scan.next_seq);
                out.push(view);
                if let Some((offset, reason)) = damage {
                    return Ok(Opened {
                        segments: out,
                        prepared,
                        damage: Some(Damage {
                            path,
                            offset: offset as u64,
                            reason,
                            next_seq: next,
                        }),
                        index,
                    });
                }
            }
            (Err(e), Strictness::Prefix) => {
                let offset = match &e {
                    JournalError::Corrupt { offset, .. } => *offset,
                    _ => 0,
                };
                return Ok(Opened {
                    segments: out,
                    prepared,
                    damage: Some(Damage {
                        path: file.path,
                        offset,
                        reason: e.to_string(),
                        next_seq,
                    }),
                    index,
                });
            }
            (Err(e), Strictness::Whole) => return Err(e),
        }
    }
    Ok(Opened {
        segments: out,
        prepared,
        damage: None,
        index,
    })
}

/// Ties walked segment `w` to the one before it (`prev`): it begins where
/// that one ended and its id follows; then its own length and records.
/// The checks run in the order a walk on one thread made them.
fn link(
    w: Walk,
    prev: Option<&SegmentView>,
) -> Result<(SegmentView, Vec<IndexPoint>, u64), JournalError> {
    if let Some(prev) = prev {
        if w.header.first_seq != prev.scan.next_seq {
            return Err(JournalError::MissingSegment {
                path: w.path,
                expected_next: prev.scan.next_seq,
                found: w.header.first_seq,
            });
        }
        if w.header.segment_id != prev.header.segment_id + 1 {
            return Err(JournalError::BadSegment {
                path: w.path,
                reason: format!(
                    "segment id {} after {} (a segment is missing)",
                    w.header.segment_id, prev.header.segment_id
                ),
            });
        }
    }
    if w.truncated {
        return Err(JournalError::Truncated {
            path: w.path,
            len: w.map.len() as u64,
            size: w.header.size,
        });
    }
    let view = SegmentView {
        path: w.path,
        header: w.header,
        scan: w.scan?,
        short: w.short,
        map: w.map,
    };
    Ok((view, w.points, w.envelope))
}

impl Journal {
    /// Opens and validates every segment of `dir`; modifies nothing.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(dir, Strictness::Whole)
    }

    /// Opens the intact prefix of `dir`: every record before the first
    /// damage, which [`Journal::damage`] names (none: the whole journal,
    /// as [`Journal::open`] reads it). Modifies nothing.
    pub fn open_intact(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(dir, Strictness::Prefix)
    }

    /// Where the readable records end, when [`Journal::open_intact`]
    /// stopped at damage.
    pub fn damage(&self) -> Option<&Damage> {
        self.damage.as_ref()
    }

    fn open_with(dir: &Path, strictness: Strictness) -> Result<Journal, JournalError> {
        let opened = open_segments(dir, strictness)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
            segments: opened.segments,
            index: opened.index,
            damage: opened.damage,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The validated segments.
    pub fn segments(&self) -> &[SegmentView] {
        &self.segments
    }

    /// Sequence of the first input record.
    pub fn first_seq(&self) -> u64 {
        self.segments.first().map_or(0, |s| s.header.first_seq)
    }

    /// The sequence after the last input record.
    pub fn next_seq(&self) -> u64 {
        self.segments.last().map_or(0, |s| s.scan.next_seq)
    }

    /// A torn tail, if the last segment ends in one: (segment path, tail).
    pub fn torn(&self) -> Option<(&Path, Torn)> {
        let last = self.segments.last()?;
        last.scan.torn.map(|t| (last.path.as_path(), t))
    }

    /// The sparse index.
    pub fn index(&self) -> &[IndexPoint] {
        &self.index
    }

    /// Every record (inputs and checkpoints) in file order.
    pub fn records(&self) -> Records<'_> {
        Records {
            journal: self,
            segment: 0,
            offset: SEGMENT_HEADER_LEN,
            from_seq: 0,
        }
    }

    /// Records from the input at `seq` on (checkpoints after it included).
    pub fn records_from(&self, seq: u64) -> Records<'_> {
        let start = self.index.partition_point(|p| p.seq <= seq);
        let (segment, offset) = match start.checked_sub(1).map(|i| self.index[i]) {
            Some(p) => (p.segment, p.offset),
            None => (0, SEGMENT_HEADER_LEN),
        };
        Records {
            journal: self,
            segment,
            offset,
            from_seq: seq,
        }
    }

    /// The first input sequence whose exchange time is at or after `time`
    /// (Unix ns), or [`Journal::next_seq`] if none.
    pub fn seq_at_time(&self, time: u64) -> u64 {
        let start = self.index.partition_point(|p| p.time < time);
        let from = start
            .checked_sub(1)
            .map_or(self.first_seq(), |i| self.index[i].seq);
        self.records_from(from)
            .find(|r| !r.meta.is_meta() && r.meta.exchange >= time)
            .map_or(self.next_seq(), |r| r.meta.seq)
    }
}

/// Iterator over validated records.
#[derive(Debug)]
pub struct Records<'a> {
    journal: &'a Journal,
    segment: usize,
    offset: usize,
    from_seq: u64,
}

// `next` is always inlined: it is the replay loop's, and across crates a
// call returns its record through memory, where the caller's wider reloads
// of it stall on store forwarding (perf: most of the decoding's cost).
impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    #[inline(always)]
    fn next(&mut self) -> Option<Record<'a>> {
        loop {
            let seg = self.journal.segments.get(self.segment)?;
            if self.offset >= seg.scan.end {
                self.segment += 1;
                self.offset = SEGMENT_HEADER_LEN;
                continue;
            }
            // Validated by `open`: decode without re-checking.
            let map = &seg.map[..];
            let len = crate::format::u32_at(map, self.offset) as usize;
            let meta = crate::format::decode_record_meta(&map[self.offset..]);
            let rec = Record {
                meta,
                payload: &map
                    [self.offset + RECORD_HEADER_LEN..self.offset + RECORD_HEADER_LEN + len],
                segment: self.segment,
                offset: self.offset,
            };
            self.offset += record_span(len);
            if meta.seq < self.from_seq {
                continue;
            }
            return Some(rec);
        }
    }
}

/// Follows a journal that is being appended to, from a sequence on.
#[derive(Debug)]
pub struct Tailer {
    dir: PathBuf,
    map: Option<(Mmap, SegmentHeader, PathBuf)>,
    offset: usize,
    next_seq: u64,
}

impl Tailer {
    /// A tailer that will deliver input records from `from_seq` on.
    pub fn new(dir: &Path, from_seq: u64) -> Tailer {
        Tailer {
            dir: dir.to_path_buf(),
            map: None,
            offset: SEGMENT_HEADER_LEN,
            next_seq: from_seq,
        }
    }

    /// The next input sequence it will deliver.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn open_segment_for(&mut self, seq: u64) -> Result<bool, JournalError> {
        let (files, _, _) = list(&self.dir)?;
        let Some(file) = files.iter().rev().find(|f| f.first_seq <= seq) else {
            return Ok(false);
        };
        let map = map_read(&file.path)?;
        let header = read_header(&file.path, &map)?;
        self.map = Some((map, header, file.path.clone()));
        self.offset = SEGMENT_HEADER_LEN;
        Ok(true)
    }

    /// Calls `f` for every input record appended since the last call
    /// (checkpoints are skipped); returns how many it delivered.
    pub fn poll(&mut self, mut f: impl FnMut(&RecordMeta, &[u8])) -> Result<usize, JournalError> {
        let mut delivered = 0;
        loop {
            if self.map.is_none() && !self.open_segment_for(self.next_seq)? {
                return Ok(delivered);
            }
            let Some((map, header, path)) = self.map.as_ref() else {
                return Ok(delivered);
            };
            match parse(map, self.offset, header.seed()) {
                Slot::Empty => return Ok(delivered),
                Slot::Seal => {
                    // The next segment is installed right after the seal; until
                    // then, retry later.
                    let (files, _, _) = list(&self.dir)?;
                    if !files
                        .iter()
                        .any(|f| f.first_seq == self.next_seq && f.path != *path)
                    {
                        return Ok(delivered);
                    }
                    self.map = None;
                }
                Slot::Bad(reason) => {
                    return Err(JournalError::Corrupt {
                        path: path.clone(),
                        offset: self.offset as u64,
                        reason: reason.into(),
                    });
                }
                Slot::Record { meta, len } => {
                    let payload = &map
                        [self.offset + RECORD_HEADER_LEN..self.offset + RECORD_HEADER_LEN + len];
                    self.offset += record_span(len);
                    if meta.is_gap() {
                        // Inputs lost before a salvage's gap: the next
                        // (and the next segment's first) is `meta.seq`.
                        self.next_seq = self.next_seq.max(meta.seq);
                    }
                    if !meta.is_meta() && meta.seq >= self.next_seq {
                        f(&meta, payload);
                        self.next_seq = meta.seq + 1;
                        delivered += 1;
                    }
                }
            }
        }
    }
}
