//! The on-disk format, field by field. All integers are little-endian.
//!
//! # Directory
//! A journal is a directory of segment files named `{first_seq:020}.seg`
//! (the sequence of the first input record they hold), plus `*.prep` files: the
//! next segment, allocated and pre-faulted ahead of need, not yet part of the
//! journal (ignored by readers, deleted by recovery).
//!
//! # Segment file
//! Fixed size (`segment_size`, pre-allocated with `fallocate`, zero-filled).
//!
//! | offset | size | field | meaning |
//! |---|---|---|---|
//! | 0 | 8 | `magic` | `"ABOTJRNL"` |
//! | 8 | 4 | `version` | format version, [`VERSION`]; a newer one is refused |
//! | 12 | 4 | `header_len` | [`SEGMENT_HEADER_LEN`] (64) |
//! | 16 | 8 | `segment_id` | 0, 1, 2, … in journal order |
//! | 24 | 8 | `first_seq` | sequence of the first input record; equals the file name |
//! | 32 | 8 | `size` | the file's size in bytes |
//! | 40 | 8 | `created` | wall-clock ns when the segment was opened (informational) |
//! | 48 | 8 | `header_check` | `xxh3_64(bytes 0..48)` |
//! | 56 | 8 | reserved | zero |
//!
//! Records follow from offset 64, each at an 8-byte aligned offset.
//!
//! # Record
//! | offset | size | field | meaning |
//! |---|---|---|---|
//! | 0 | 4 | `len` | payload length; **written last** (release store), so 0 means "no record here yet"; [`SEAL`] means "continued in the next segment" |
//! | 4 | 2 | `kind` | the payload's kind (the engine's event kind; opaque here) |
//! | 6 | 2 | `flags` | bit 0 [`FLAG_META`]: a checkpoint, not an input |
//! | 8 | 8 | `check` | see below |
//! | 16 | 8 | `seq` | input sequence (for a meta record: the last input it covers) |
//! | 24 | 8 | `recv` | gateway receive time, monotonic ns |
//! | 32 | 8 | `exchange` | exchange time, Unix ns |
//! | 40 | len | payload | rkyv archive of the event, 8-byte aligned |
//! | 40+len | 0–7 | pad | zeros up to the next multiple of 8 |
//!
//! `check = xxh3_64(bytes 16 .. 40+len, seed ^ (len << 32 | kind << 16 | flags))`
//! with the segment's `seed = segment_id × K ^ first_seq`: it covers every
//! field and the payload, and a record copied into another segment fails.
//! The hashed bytes are contiguous so the one-shot seeded XXH3 applies (a
//! seeded streaming hasher derives a 192-byte secret per record; measured
//! at half the append throughput).
//!
//! Input records carry dense sequences: each is one more than the previous
//! input record's, across segments; a segment's `first_seq` continues its
//! predecessor. Meta records (digest checkpoints) do not take a sequence.

/// Segment file magic.
pub const MAGIC: [u8; 8] = *b"ABOTJRNL";
/// Current format version.
pub const VERSION: u32 = 1;
/// Size of the segment header.
pub const SEGMENT_HEADER_LEN: usize = 64;
/// Size of a record header.
pub const RECORD_HEADER_LEN: usize = 40;
/// `len` value marking the end of a segment's records.
pub const SEAL: u32 = u32::MAX;
/// Flag bit: the record is a checkpoint (meta), not an input.
pub const FLAG_META: u16 = 1;
/// Meta-record kind reserved by the journal: a gap marker a salvage writes
/// where inputs were lost; its `seq` is the next input's sequence.
pub const KIND_GAP: u16 = u16::MAX;
/// Smallest segment accepted (a header and a few records).
pub const MIN_SEGMENT_SIZE: u64 = 4096;
/// Extension of segment files.
pub const SEGMENT_EXT: &str = "seg";
/// Extension of prepared, not yet used, segment files.
pub const PREPARED_EXT: &str = "prep";

const SEED_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// The record fields other than the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordMeta {
    /// Payload kind (opaque to the journal).
    pub kind: u16,
    /// Flag bits.
    pub flags: u16,
    /// Sequence.
    pub seq: u64,
    /// Receive time (monotonic ns).
    pub recv: u64,
    /// Exchange time (Unix ns).
    pub exchange: u64,
}

impl RecordMeta {
    /// `true` for a checkpoint record.
    pub fn is_meta(&self) -> bool {
        self.flags & FLAG_META != 0
    }

    /// `true` for a gap marker ([`KIND_GAP`]).
    pub fn is_gap(&self) -> bool {
        self.is_meta() && self.kind == KIND_GAP
    }
}

/// The segment header's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Position of the segment in the journal.
    pub segment_id: u64,
    /// Sequence of its first input record.
    pub first_seq: u64,
    /// File size.
    pub size: u64,
    /// Creation time (Unix ns).
    pub created: u64,
}

/// Why a segment header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Not the journal magic.
    Magic,
    /// A format version this build does not read.
    Version(u32),
    /// Header checksum or length wrong.
    Damaged,
}

impl SegmentHeader {
    /// Encodes the header.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&(SEGMENT_HEADER_LEN as u32).to_le_bytes());
        b[16..24].copy_from_slice(&self.segment_id.to_le_bytes());
        b[24..32].copy_from_slice(&self.first_seq.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.created.to_le_bytes());
        let check = xxhash_rust::xxh3::xxh3_64(&b[0..48]);
        b[48..56].copy_from_slice(&check.to_le_bytes());
        b
    }

    /// Decodes and checks a header.
    pub fn decode(b: &[u8]) -> Result<SegmentHeader, HeaderProblem> {
        if b.len() < SEGMENT_HEADER_LEN || b[0..8] != MAGIC {
            return Err(HeaderProblem::Magic);
        }
        let version = u32_at(b, 8);
        if version != VERSION {
            return Err(HeaderProblem::Version(version));
        }
        if u32_at(b, 12) as usize != SEGMENT_HEADER_LEN
            || u64_at(b, 48) != xxhash_rust::xxh3::xxh3_64(&b[0..48])
        {
            return Err(HeaderProblem::Damaged);
        }
        Ok(SegmentHeader {
            segment_id: u64_at(b, 16),
            first_seq: u64_at(b, 24),
            size: u64_at(b, 32),
            created: u64_at(b, 40),
        })
    }

    /// The checksum seed of records in this segment.
    pub fn seed(&self) -> u64 {
        self.segment_id.wrapping_mul(SEED_MUL) ^ self.first_seq
    }
}

/// Reads a little-endian `u32` at `at` (caller checked the bounds).
#[inline]
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

/// Reads a little-endian `u64` at `at` (caller checked the bounds).
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// The record checksum: `body` is bytes 16 .. 40+len of the record.
#[inline]
pub fn record_check(len: u32, kind: u16, flags: u16, body: &[u8], seed: u64) -> u64 {
    let fields = (u64::from(len) << 32) | (u64::from(kind) << 16) | u64::from(flags);
    xxhash_rust::xxh3::xxh3_64_with_seed(body, seed ^ fields)
}

/// Decodes the fields of a record (at its offset 0).
#[inline]
pub fn decode_record_meta(rec: &[u8]) -> RecordMeta {
    RecordMeta {
        kind: u16::from_le_bytes([rec[4], rec[5]]),
        flags: u16::from_le_bytes([rec[6], rec[7]]),
        seq: u64_at(rec, 16),
        recv: u64_at(rec, 24),
        exchange: u64_at(rec, 32),
    }
}

/// Bytes a record with `len` payload bytes occupies, padding included.
pub const fn record_span(len: usize) -> usize {
    (RECORD_HEADER_LEN + len + 7) & !7
}

/// File name of the segment starting at `first_seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.{SEGMENT_EXT}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_refusals() {
        let h = SegmentHeader {
            segment_id: 3,
            first_seq: 42,
            size: 8192,
            created: 7,
        };
        let b = h.encode();
        assert_eq!(SegmentHeader::decode(&b), Ok(h));
        let mut newer = b;
        newer[8] = 2;
        assert_eq!(
            SegmentHeader::decode(&newer),
            Err(HeaderProblem::Version(2))
        );
        let mut damaged = b;
        damaged[30] ^= 1;
        assert_eq!(SegmentHeader::decode(&damaged), Err(HeaderProblem::Damaged));
        assert_eq!(SegmentHeader::decode(b"nope"), Err(HeaderProblem::Magic));
    }

    #[test]
    fn spans_are_aligned() {
        assert_eq!(record_span(0), 40);
        assert_eq!(record_span(1), 48);
        assert_eq!(record_span(128), 168);
        assert_eq!(segment_name(5), "00000000000000000005.seg");
    }
}
