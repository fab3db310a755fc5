//! Salvage: copying what can still be read of a damaged journal into a new
//! one, never touching the original.
//!
//! The intact prefix (every record before the first damage, as
//! [`Journal::open_intact`] reads it) is copied record for record: same
//! sequences, times, kinds and payloads, so a replay of the copy equals a
//! replay of the original up to the damage, digest for digest. With
//! `skip_damaged`, the walk goes on past the damage: it looks for the next
//! valid record (every 8-byte boundary, the record alignment; a record is
//! trusted only if its checksum, seeded by its segment, matches), writes a
//! gap marker ([`crate::format::KIND_GAP`]) naming the lost inputs, and
//! copies on. Checkpoints after the first gap are not copied: the digests
//! they hold were computed over inputs the copy no longer has.
//!
//! # Invariants
//! - The source is only read (mapped read-only).
//! - The copy is a valid journal: dense sequences except across gap
//!   markers, which [`crate::scan`] accepts.

use std::path::{Path, PathBuf};

use crate::appender::{Appender, AppenderConfig};
use crate::error::{JournalError, io};
use crate::format::{RecordMeta, SEGMENT_HEADER_LEN};
use crate::reader::{Damage, Journal};
use crate::scan::{Strictness, next_valid, scan_segment};
use crate::segment::{list, map_read, read_header};

/// Inputs lost between two intact stretches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The first input sequence lost.
    pub from_seq: u64,
    /// The input sequence the copy resumes at.
    pub to_seq: u64,
    /// Where in the source it resumed: the segment file and offset.
    pub resumed_at: (PathBuf, u64),
}

/// What a salvage copied and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalvageReport {
    /// Input records copied.
    pub inputs: u64,
    /// Checkpoint and stamp records copied.
    pub metas: u64,
    /// Checkpoint and stamp records after the first gap, not copied.
    pub dropped_metas: u64,
    /// The first damage (none: the source was whole).
    pub damage: Option<Damage>,
    /// Stretches of inputs lost (only with `skip_damaged`).
    pub gaps: Vec<Gap>,
    /// Damage met after the first (only with `skip_damaged`): segment,
    /// offset (0: the segment as a whole) and why.
    pub unreadable: Vec<(PathBuf, u64, String)>,
}

/// Copies the readable records of the journal in `src` into a new journal
/// at `out` (which must not hold one). See the module docs.
pub fn salvage(
    src: &Path,
    out: AppenderConfig,
    skip_damaged: bool,
) -> Result<SalvageReport, JournalError> {
    if out.dir.exists()
        && std::fs::read_dir(&out.dir)
            .map_err(io(&out.dir))?
            .next()
            .is_some()
    {
        return Err(JournalError::BadSegment {
            path: out.dir.clone(),
            reason: "the salvage's output directory must be new or empty".into(),
        });
    }
    let journal = Journal::open_intact(src)?;
    let (mut appender, _) = Appender::open(out)?;
    let mut report = SalvageReport {
        damage: journal.damage().cloned(),
        ..SalvageReport::default()
    };
    if journal.first_seq() > 0 {
        appender.append_gap(journal.first_seq(), &gap_payload(0, 0, 0))?;
    }
    for rec in journal.records() {
        copy(&mut appender, &rec.meta, rec.payload, &mut report, false)?;
    }
    if skip_damaged && let Some(damage) = report.damage.clone() {
        walk_past(src, &damage, &mut appender, &mut report)?;
    }
    appender.end_batch()?;
    appender.sync()?;
    Ok(report)
}

fn copy(
    appender: &mut Appender,
    meta: &RecordMeta,
    payload: &[u8],
    report: &mut SalvageReport,
    after_gap: bool,
) -> Result<(), JournalError> {
    if meta.is_gap() {
        appender.append_gap(meta.seq, payload)?;
        report.metas += 1;
    } else if meta.is_meta() {
        if after_gap {
            report.dropped_metas += 1;
        } else {
            appender.append_meta(meta.kind, meta.seq, payload)?;
            report.metas += 1;
        }
    } else {
        appender.append(meta, payload)?;
        report.inputs += 1;
    }
    Ok(())
}

/// A gap marker's payload: the first lost sequence, and the source
/// segment id and offset where the copy resumed.
fn gap_payload(from_seq: u64, segment_id: u64, offset: u64) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&from_seq.to_le_bytes());
    b[8..16].copy_from_slice(&segment_id.to_le_bytes());
    b[16..].copy_from_slice(&offset.to_le_bytes());
    b
}

/// Walks the source's segments from the damage on, copying every intact
/// stretch after a gap marker.
fn walk_past(
    src: &Path,
    damage: &Damage,
    appender: &mut Appender,
    report: &mut SalvageReport,
) -> Result<(), JournalError> {
    let (files, _, _) = list(src)?;
    let n = files.len();
    let Some(first) = files.iter().position(|f| f.path == damage.path) else {
        return Ok(());
    };
    // Where to look for the next valid record in the damaged segment.
    let mut from = (damage.offset as usize).max(SEGMENT_HEADER_LEN) + 8;
    if damage.offset == 0 {
        // The segment as a whole was refused (its header): look through it
        // all the same, records carry their own checksums.
        from = SEGMENT_HEADER_LEN;
    }
    for (i, file) in files.iter().enumerate().skip(first) {
        let Ok(map) = map_read(&file.path) else {
            report
                .unreadable
                .push((file.path.clone(), 0, "cannot be mapped".into()));
            continue;
        };
        let Ok(header) = read_header(&file.path, &map) else {
            report
                .unreadable
                .push((file.path.clone(), 0, "its header is damaged".into()));
            continue;
        };
        let seed = header.seed();
        let mut at = if i == first { from } else { SEGMENT_HEADER_LEN };
        loop {
            let expected = appender.next_seq();
            let Some((k, meta)) = next_valid(&map, seed, (at, map.len()), expected) else {
                break;
            };
            if meta.is_meta() && !meta.is_gap() {
                // A checkpoint before the next input: nothing to resume at.
                at = k + 8;
                continue;
            }
            if meta.seq > expected {
                appender.append_gap(
                    meta.seq,
                    &gap_payload(expected, header.segment_id, k as u64),
                )?;
                report.gaps.push(Gap {
                    from_seq: expected,
                    to_seq: meta.seq,
                    resumed_at: (file.path.clone(), k as u64),
                });
            }
            let mut failed = None;
            let scan = scan_segment(
                &file.path,
                &map,
                seed,
                (k, meta.seq),
                i + 1 == n,
                Strictness::Prefix,
                |m, _, payload| {
                    if failed.is_none()
                        && let Err(e) = copy(appender, m, payload, report, true)
                    {
                        failed = Some(e);
                    }
                },
            )?;
            if let Some(e) = failed {
                return Err(e);
            }
            match scan.damage {
                Some((off, reason)) => {
                    report
                        .unreadable
                        .push((file.path.clone(), off as u64, reason));
                    at = off + 8;
                }
                None => break,
            }
        }
    }
    Ok(())
}
