//! Recovery when the appender opens a journal: validate every segment,
//! remove a torn tail, restore a last segment that was cut short, delete
//! stale prepared files, and report all of it.

use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use crate::error::{JournalError, io};
use crate::format::SegmentHeader;
use crate::reader::open_segments;
use crate::scan::Strictness;
use crate::segment::{allocate, map_write};

/// The writable last segment.
pub(crate) struct LastSegment {
    pub path: PathBuf,
    pub map: MmapMut,
    pub header: SegmentHeader,
    pub end: usize,
    pub sealed: bool,
}

/// What opening found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// A new journal was created.
    pub created: bool,
    /// Segments found.
    pub segments: usize,
    /// Input records found.
    pub records: u64,
    /// A torn tail that was removed: (segment, offset, bytes, what it
    /// was and why it was not a record).
    pub truncated: Option<(PathBuf, u64, u64, String)>,
    /// Where the removed tail's bytes were kept (beside the segment, so
    /// nothing is lost without a copy).
    pub kept: Option<PathBuf>,
    /// The last segment was shorter than its header said and was restored.
    pub extended: Option<(PathBuf, u64, u64)>,
    /// Stale prepared files deleted.
    pub removed_prepared: usize,
}

pub(crate) struct Recovered {
    pub report: OpenReport,
    pub last: Option<LastSegment>,
    pub next_seq: u64,
    pub last_seq: Option<u64>,
}

pub(crate) fn recover(dir: &Path) -> Result<Recovered, JournalError> {
    let (segments, prepared) = match open_segments(dir, Strictness::Whole) {
        Ok(o) => (o.segments, o.prepared),
        Err(JournalError::Empty { .. }) => {
            let (_, _, prepared) = crate::segment::list(dir)?;
            let removed = remove_all(&prepared)?;
            return Ok(Recovered {
                report: OpenReport {
                    created: true,
                    removed_prepared: removed,
                    ..OpenReport::default()
                },
                last: None,
                next_seq: 0,
                last_seq: None,
            });
        }
        Err(e) => return Err(e),
    };
    let mut report = OpenReport {
        segments: segments.len(),
        records: segments.iter().map(|s| s.scan.inputs).sum(),
        removed_prepared: remove_all(&prepared)?,
        ..OpenReport::default()
    };
    let Some(last) = segments.last() else {
        unreachable!("open_segments returns at least one segment")
    };
    let next_seq = last.scan.next_seq;
    let last_seq = next_seq
        .checked_sub(1)
        .filter(|_| report.records > 0 || next_seq > 0);
    let path = last.path.clone();
    if let Some(len) = last.short {
        // The file lost its end (copied or cut short): give it back its size;
        // the lost bytes read as zeros, after the last record that survived.
        let file = std::fs::File::options()
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        allocate(&file, &path, last.header.size)?;
        report.extended = Some((path.clone(), len, last.header.size));
    }
    let (header, end, sealed, torn) =
        (last.header, last.scan.end, last.scan.sealed, last.scan.torn);
    drop(segments);
    let (_, mut map) = map_write(&path)?;
    if let Some(t) = torn {
        // A copy first: a whole record whose checksum fails may be damage,
        // not a crash's leftovers, and an investigator wants its bytes.
        let kept = path.with_extension(format!("torn-{}", t.offset));
        std::fs::write(&kept, &map[t.offset..t.until]).map_err(io(&kept))?;
        report.kept = Some(kept);
        map[t.offset..t.until].fill(0);
        map.flush_range(t.offset, t.until - t.offset)
            .map_err(io(&path))?;
        report.truncated = Some((
            path.clone(),
            t.offset as u64,
            (t.until - t.offset) as u64,
            describe(&t),
        ));
    }
    Ok(Recovered {
        report,
        last: Some(LastSegment {
            path,
            map,
            header,
            end,
            sealed,
        }),
        next_seq,
        last_seq,
    })
}

/// What a torn tail was, in words.
fn describe(t: &crate::scan::Torn) -> String {
    match t.header {
        Some(m) if m.is_meta() => format!(
            "a whole checkpoint or stamp record (kind {}, about input {}) whose checksum does not match",
            m.kind, m.seq
        ),
        Some(m) => format!(
            "a whole record of input {} whose checksum does not match (its body never reached the disk, or was damaged since)",
            m.seq
        ),
        None => format!("an incomplete record ({})", t.reason),
    }
}

fn remove_all(paths: &[PathBuf]) -> Result<usize, JournalError> {
    for p in paths {
        std::fs::remove_file(p).map_err(io(p))?;
    }
    Ok(paths.len())
}
