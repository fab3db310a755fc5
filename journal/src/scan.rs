//! Walking a segment's records: the one validation routine that recovery,
//! readers and the tailer share.
//!
//! A record is trusted only if its `len` (loaded with acquire ordering,
//! because it is the commit mark a concurrent appender writes last) fits the
//! segment and its checksum matches. What follows the last good record
//! decides between the end of the data, a torn tail, and corruption:
//!
//! - zeros: the end;
//! - bytes that hold no valid record: a partially written (torn) record,
//!   recoverable only in the last segment;
//! - a valid record after a bad one: corruption, an error naming the segment
//!   and the offset (never skipped), or, for a reader that asks for the
//!   intact prefix ([`Strictness::Prefix`]), where the readable records end.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::JournalError;
use crate::format::{
    RECORD_HEADER_LEN, RecordMeta, SEAL, decode_record_meta, record_check, record_span, u64_at,
};

/// Loads the `len` word of the record at `off` with acquire ordering.
#[inline]
pub fn load_len(map: &[u8], off: usize) -> u32 {
    debug_assert!(off.is_multiple_of(8) && off + 4 <= map.len());
    let ptr = map[off..off + 4].as_ptr().cast::<u32>().cast_mut();
    // SAFETY: `off` is 8-aligned within a page-aligned mapping, so `ptr` is
    // aligned for `AtomicU32` and 4 bytes are in bounds (asserted above).
    // The word may be written concurrently by the appender (another thread
    // or process) through its own mapping of the same page; an atomic load
    // is the access that makes that sound. We never store through `ptr`.
    #[allow(unsafe_code)]
    let word = unsafe { AtomicU32::from_ptr(ptr) };
    u32::from_le(word.load(Ordering::Acquire))
}

/// What is found at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `len` is zero: no record (yet).
    Empty,
    /// The segment continues in the next one.
    Seal,
    /// A valid record.
    Record {
        /// Its fields.
        meta: RecordMeta,
        /// Payload length.
        len: usize,
    },
    /// Something that is not a valid record.
    Bad(&'static str),
}

/// Parses the slot at `off` of a segment mapping.
#[inline]
pub fn parse(map: &[u8], off: usize, seed: u64) -> Slot {
    if off + RECORD_HEADER_LEN > map.len() {
        if off + 4 <= map.len() && load_len(map, off) == SEAL {
            return Slot::Seal;
        }
        return Slot::Empty;
    }
    let len = load_len(map, off);
    if len == 0 {
        return Slot::Empty;
    }
    if len == SEAL {
        return Slot::Seal;
    }
    let len = len as usize;
    if off + RECORD_HEADER_LEN + len > map.len() {
        return Slot::Bad("length runs past the end of the segment");
    }
    let kind = u16::from_le_bytes([map[off + 4], map[off + 5]]);
    let flags = u16::from_le_bytes([map[off + 6], map[off + 7]]);
    let body = &map[off + 16..off + RECORD_HEADER_LEN + len];
    if record_check(len as u32, kind, flags, body, seed) != u64_at(map, off + 8) {
        return Slot::Bad("checksum mismatch");
    }
    Slot::Record {
        meta: decode_record_meta(&map[off..]),
        len,
    }
}

/// A torn (partially written) record at the end of the last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Torn {
    /// Offset of the torn record.
    pub offset: usize,
    /// End of the non-zero bytes it left.
    pub until: usize,
    /// Why it is not a record.
    pub reason: &'static str,
    /// Its header, when the header is whole and only the checksum fails
    /// (a record whose body did not reach the disk, or that was damaged
    /// after): what was lost.
    pub header: Option<RecordMeta>,
}

/// What a scan does with damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Damage is an error (writers, verification, a full read).
    Whole,
    /// Damage ends the segment's readable records ([`SegmentScan::damage`]).
    Prefix,
}

/// The result of walking one segment.
#[derive(Debug, Clone, Default)]
pub struct SegmentScan {
    /// Offset where the next record goes (after the last valid one).
    pub end: usize,
    /// The segment ends with a seal.
    pub sealed: bool,
    /// The input sequence after this segment's last input record.
    pub next_seq: u64,
    /// Input records.
    pub inputs: u64,
    /// Meta (checkpoint) records.
    pub metas: u64,
    /// A torn tail (only in the last segment).
    pub torn: Option<Torn>,
    /// Under [`Strictness::Prefix`]: where damage ends the readable
    /// records, and why (`end` is that offset).
    pub damage: Option<(usize, String)>,
}

fn last_nonzero(map: &[u8], from: usize) -> Option<usize> {
    let tail = &map[from.min(map.len())..];
    // A segment's zeroed tail is most of it: skip it 64 bytes at a time
    // (the byte-wise search was a fifth of opening a journal).
    let mut end = tail.len();
    while end >= 64 && tail[end - 64..end].iter().all(|b| *b == 0) {
        end -= 64;
    }
    tail[..end].iter().rposition(|b| *b != 0).map(|i| from + i)
}

/// Walks the records of one segment from `start` (a record boundary:
/// [`SEGMENT_HEADER_LEN`] for the whole segment), calling
/// `visit(meta, offset, payload)` for each valid one. `last` allows a torn
/// tail; otherwise anything but a seal at the end is damage, an error or
/// the end of the prefix as `strictness` says.
#[allow(clippy::too_many_arguments)]
pub fn scan_segment(
    path: &Path,
    map: &[u8],
    seed: u64,
    (start, first_seq): (usize, u64),
    last: bool,
    strictness: Strictness,
    mut visit: impl FnMut(&RecordMeta, usize, &[u8]),
) -> Result<SegmentScan, JournalError> {
    let mut s = SegmentScan {
        next_seq: first_seq,
        ..SegmentScan::default()
    };
    let corrupt = |s: &mut SegmentScan, offset: usize, reason: String| match strictness {
        Strictness::Whole => Err(JournalError::Corrupt {
            path: path.to_path_buf(),
            offset: offset as u64,
            reason,
        }),
        Strictness::Prefix => {
            s.end = offset;
            s.damage = Some((offset, reason));
            Ok(std::mem::take(s))
        }
    };
    let mut off = start;
    loop {
        match parse(map, off, seed) {
            Slot::Record { meta, len } => {
                if meta.is_gap() {
                    // Inputs lost before this point (a salvaged journal):
                    // the next input is `meta.seq`.
                    if meta.seq < s.next_seq {
                        let why = format!("a gap to sequence {} after {}", meta.seq, s.next_seq);
                        return corrupt(&mut s, off, why);
                    }
                    s.next_seq = meta.seq;
                    s.metas += 1;
                } else if meta.is_meta() {
                    if meta.seq >= s.next_seq {
                        let why = format!(
                            "checkpoint at sequence {} before that input was recorded",
                            meta.seq
                        );
                        return corrupt(&mut s, off, why);
                    }
                    s.metas += 1;
                } else {
                    if meta.seq != s.next_seq {
                        let why =
                            format!("sequence {} where {} was expected", meta.seq, s.next_seq);
                        return corrupt(&mut s, off, why);
                    }
                    s.next_seq += 1;
                    s.inputs += 1;
                }
                visit(
                    &meta,
                    off,
                    &map[off + RECORD_HEADER_LEN..off + RECORD_HEADER_LEN + len],
                );
                off += record_span(len);
            }
            Slot::Seal => {
                s.end = off;
                s.sealed = true;
                return Ok(s);
            }
            slot @ (Slot::Empty | Slot::Bad(_)) => {
                s.end = off;
                let reason = match slot {
                    Slot::Bad(r) => r,
                    _ => "partially written record",
                };
                let Some(until) = last_nonzero(map, off) else {
                    if !last && matches!(slot, Slot::Empty) {
                        return corrupt(
                            &mut s,
                            off,
                            "segment ends without a seal but is not the last".into(),
                        );
                    }
                    return Ok(s);
                };
                // Anything valid after the damage means data was lost in the middle.
                if next_valid(map, seed, (off + 8, until + 1), s.next_seq).is_some() {
                    return corrupt(&mut s, off, format!("{reason}, followed by valid records"));
                }
                if !last {
                    return corrupt(&mut s, off, reason.into());
                }
                s.torn = Some(Torn {
                    offset: off,
                    until: until + 1,
                    reason,
                    header: matches!(slot, Slot::Bad("checksum mismatch"))
                        .then(|| decode_record_meta(&map[off..])),
                });
                return Ok(s);
            }
        }
    }
}

/// The first valid record at or after `from` (8-aligned) that starts before
/// `until` and names sequence `min_seq` or later: where reading can resume
/// after damage. `(offset, meta)`.
pub fn next_valid(
    map: &[u8],
    seed: u64,
    (from, until): (usize, usize),
    min_seq: u64,
) -> Option<(usize, RecordMeta)> {
    let mut k = from;
    while k + RECORD_HEADER_LEN <= until {
        if let Slot::Record { meta, .. } = parse(map, k, seed)
            && meta.seq >= min_seq
        {
            return Some((k, meta));
        }
        k += 8;
    }
    None
}
