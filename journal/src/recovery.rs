//! Recovery when the appender opens a journal: validate every segment,
//! remove a torn tail, restore a last segment that was cut short, delete
//! stale prepared files, and report all of it.

use std::path::{Path, PathBuf};

use memmap2::MmapMut;

use crate::error::{JournalError, io};
use crate::format::SegmentHeader;
use crate::reader::open_segments;
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
    /// A torn tail that was removed: (segment, offset, bytes, reason).
    pub truncated: Option<(PathBuf, u64, u64, String)>,
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
    let (segments, prepared) = match open_segments(dir, |_, _, _| {}) {
        Ok(x) => x,
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
        map[t.offset..t.until].fill(0);
        map.flush_range(t.offset, t.until - t.offset)
            .map_err(io(&path))?;
        report.truncated = Some((
            path.clone(),
            t.offset as u64,
            (t.until - t.offset) as u64,
            t.reason.to_string(),
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

fn remove_all(paths: &[PathBuf]) -> Result<usize, JournalError> {
    for p in paths {
        std::fs::remove_file(p).map_err(io(p))?;
    }
    Ok(paths.len())
}
