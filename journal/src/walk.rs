//! Walking a journal's segments in parallel when it is opened.
//!
//! Every record's checksum is checked when a journal is opened, which is
//! most of the cost of opening one (a fifth of a backtest of an imported
//! journal, docs/performance.md). A segment's records can be checked on
//! their own: its header carries the checksum seed and the first sequence.
//! So the segments are mapped and walked on up to [`MAX_WALKERS`] threads,
//! and what ties each to the one before (its first sequence is where that
//! one ended, its id follows) is checked after, in file order, by the
//! caller (`reader::open_segments`), which therefore reports the same first
//! problem, in the same order of checks, as a walk on one thread.
//!
//! Invariant: [`walk_all`]'s results are in file order, one per file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::Mmap;

use crate::error::JournalError;
use crate::format::{SEGMENT_HEADER_LEN, SegmentHeader};
use crate::scan::{SegmentScan, Strictness, scan_segment};
use crate::segment::{SegmentFile, map_read, read_header};

/// Input records between two points of the sparse index.
pub const INDEX_EVERY: u64 = 1024;

/// A point of the sparse index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexPoint {
    /// Input sequence of the record.
    pub seq: u64,
    /// Largest exchange time of any input up to this one (a monotone envelope).
    pub time: u64,
    /// Segment index.
    pub segment: usize,
    /// Offset in the segment.
    pub offset: usize,
}

/// Threads that walk segments at most: past a few, the disk or the memory
/// bandwidth is the limit, not the checksums.
const MAX_WALKERS: usize = 4;

/// One segment mapped and walked on its own.
pub(crate) struct Walk {
    pub path: PathBuf,
    pub header: SegmentHeader,
    pub map: Mmap,
    /// Actual file length when shorter than the header's size.
    pub short: Option<u64>,
    /// Shorter than its header says, and not the last segment: refused
    /// (after the links to the segment before are checked), not walked.
    pub truncated: bool,
    /// The walk of its records (an `Err` only under [`Strictness::Whole`]).
    pub scan: Result<SegmentScan, JournalError>,
    /// Index points of its inputs, each `time` the largest exchange time
    /// up to it *within this segment* (the caller folds in the segments
    /// before).
    pub points: Vec<IndexPoint>,
    /// The largest exchange time of its inputs.
    pub envelope: u64,
}

/// Maps segment `i` (`file`) and walks its records; `last` when it is the
/// journal's last segment. `Err` for what stops a segment before its walk
/// (it cannot be mapped, its header is unreadable or names another first
/// sequence than its file name).
fn walk(
    i: usize,
    file: &SegmentFile,
    last: bool,
    strictness: Strictness,
) -> Result<Walk, JournalError> {
    let SegmentFile { path, first_seq } = file.clone();
    let map = map_read(&path)?;
    let header = read_header(&path, &map)?;
    if header.first_seq != first_seq {
        return Err(JournalError::BadSegment {
            path,
            reason: format!("header says first sequence {}", header.first_seq),
        });
    }
    let len = map.len() as u64;
    let short = (len < header.size).then_some(len);
    let truncated = short.is_some() && !last;
    let mut points = Vec::new();
    let mut envelope = 0u64;
    let scan = if truncated {
        // Never looked at: the caller refuses the segment first.
        Ok(SegmentScan::default())
    } else {
        scan_segment(
            &path,
            &map,
            header.seed(),
            (SEGMENT_HEADER_LEN, header.first_seq),
            last,
            strictness,
            |m, off, _| {
                if m.is_meta() {
                    return;
                }
                envelope = envelope.max(m.exchange);
                if m.seq % INDEX_EVERY == 0 {
                    points.push(IndexPoint {
                        seq: m.seq,
                        time: envelope,
                        segment: i,
                        offset: off,
                    });
                }
            },
        )
    };
    Ok(Walk {
        path,
        header,
        map,
        short,
        truncated,
        scan,
        points,
        envelope,
    })
}

/// Walks every segment of `files` (in file order), on several threads
/// when there are several segments and CPUs; one result per file, in file
/// order.
pub(crate) fn walk_all(
    files: &[SegmentFile],
    strictness: Strictness,
) -> Vec<Result<Walk, JournalError>> {
    let n = files.len();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let walkers = n.min(cpus).min(MAX_WALKERS);
    if walkers <= 1 {
        return files
            .iter()
            .enumerate()
            .map(|(i, f)| walk(i, f, i + 1 == n, strictness))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<Walk, JournalError>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..walkers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    // The counter hands out each index once.
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else {
                            return mine;
                        };
                        mine.push((i, walk(i, file, i + 1 == n, strictness)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    debug_assert_eq!(done.len(), n, "every segment walked once");
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, w)| w).collect()
}
