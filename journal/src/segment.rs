//! Segment files: listing, creating (allocated and pre-faulted), mapping.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapMut, MmapOptions};

use crate::error::{JournalError, io};
use crate::format::{
    HeaderProblem, MIN_SEGMENT_SIZE, PREPARED_EXT, SEGMENT_EXT, SEGMENT_HEADER_LEN, SegmentHeader,
};

/// Page size assumed for pre-faulting and sync ranges.
pub const PAGE: usize = 4096;

/// Checks a configured segment size.
pub fn check_segment_size(size: u64) -> Result<(), JournalError> {
    if !(MIN_SEGMENT_SIZE..=1 << 40).contains(&size) || !size.is_multiple_of(PAGE as u64) {
        return Err(JournalError::BadSegmentSize(size));
    }
    Ok(())
}

/// A segment file found in a journal directory.
#[derive(Debug, Clone)]
pub struct SegmentFile {
    /// Its path.
    pub path: PathBuf,
    /// First sequence, from the file name.
    pub first_seq: u64,
}

/// Lists the segment files of `dir`, ordered by first sequence. Also
/// returns whether other (non-journal) files are present and the prepared
/// files found.
pub fn list(dir: &Path) -> Result<(Vec<SegmentFile>, bool, Vec<PathBuf>), JournalError> {
    let mut segs = Vec::new();
    let mut prepared = Vec::new();
    let mut others = false;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str());
        let stem = path.file_stem().and_then(|s| s.to_str());
        match (ext, stem) {
            (Some(SEGMENT_EXT), Some(stem)) if stem.len() == 20 => match stem.parse::<u64>() {
                Ok(first_seq) => segs.push(SegmentFile { path, first_seq }),
                Err(_) => others = true,
            },
            (Some(PREPARED_EXT), _) => prepared.push(path),
            _ => others = true,
        }
    }
    segs.sort_by_key(|s| s.first_seq);
    Ok((segs, others, prepared))
}

/// Reads and checks a segment's header.
pub fn read_header(path: &Path, map: &[u8]) -> Result<SegmentHeader, JournalError> {
    SegmentHeader::decode(map).map_err(|p| match p {
        HeaderProblem::Version(version) => JournalError::NewerVersion {
            path: path.to_path_buf(),
            version,
        },
        HeaderProblem::Magic => JournalError::BadSegment {
            path: path.to_path_buf(),
            reason: "not a journal segment (bad magic)".into(),
        },
        HeaderProblem::Damaged => JournalError::BadSegment {
            path: path.to_path_buf(),
            reason: "damaged segment header".into(),
        },
    })
}

/// Maps a segment read-only.
pub fn map_read(path: &Path) -> Result<Mmap, JournalError> {
    let file = File::open(path).map_err(io(path))?;
    // SAFETY: the mapping is read-only. Another process may be appending to
    // the file (a tailer), which is why readers only trust bytes after
    // loading the record's `len` with acquire ordering and checking the
    // checksum; the file is never truncated under a reader by this crate
    // except by recovery, which runs before any reader in normal operation.
    #[allow(unsafe_code)]
    unsafe { MmapOptions::new().map(&file) }.map_err(io(path))
}

/// Maps a segment read-write.
pub fn map_write(path: &Path) -> Result<(File, MmapMut), JournalError> {
    let file = File::options()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io(path))?;
    // SAFETY: the appender is the journal's single writer (one per directory
    // by contract); the file keeps its size for the mapping's lifetime.
    #[allow(unsafe_code)]
    let map = unsafe { MmapOptions::new().map_mut(&file) }.map_err(io(path))?;
    Ok((file, map))
}

/// Allocates `size` bytes for `file`: real blocks when the file system
/// supports it (so appends never hit ENOSPC or allocate on the hot path),
/// else a sparse extension.
pub fn allocate(file: &File, path: &Path, size: u64) -> Result<(), JournalError> {
    match crate::os::fallocate(file, size) {
        Ok(crate::os::Allocated::Blocks) => Ok(()),
        Ok(crate::os::Allocated::Unsupported) => file.set_len(size).map_err(io(path)),
        Err(crate::os::FallocateError::TooLarge) => Err(JournalError::BadSegmentSize(size)),
        Err(crate::os::FallocateError::Os(source)) => Err(JournalError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A segment file created, allocated, mapped and pre-faulted, not yet
/// named as part of the journal.
#[derive(Debug)]
pub struct Prepared {
    /// Its temporary path.
    pub path: PathBuf,
    /// The mapping.
    pub map: MmapMut,
}

/// Creates `dir/{segment_id}.prep` of `size` bytes and touches every page,
/// so the first append into each page takes no page fault.
pub fn prepare(dir: &Path, segment_id: u64, size: u64) -> Result<Prepared, JournalError> {
    let path = dir.join(format!("{segment_id:020}.{PREPARED_EXT}"));
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(io(&path))?;
    allocate(&file, &path, size)?;
    let (_, mut map) = map_write(&path)?;
    // Write-fault every page now (a shared file mapping populated by
    // MAP_POPULATE would still fault on the first write of each page).
    for page in map.chunks_mut(PAGE) {
        page[0] = 0;
    }
    Ok(Prepared { path, map })
}

/// Turns a prepared file into segment `header`: writes the header, makes it
/// durable, and renames the file to its segment name.
pub fn install(
    dir: &Path,
    mut prepared: Prepared,
    header: &SegmentHeader,
) -> Result<(PathBuf, MmapMut), JournalError> {
    prepared.map[..SEGMENT_HEADER_LEN].copy_from_slice(&header.encode());
    prepared
        .map
        .flush_range(0, SEGMENT_HEADER_LEN)
        .map_err(io(&prepared.path))?;
    let path = dir.join(crate::format::segment_name(header.first_seq));
    std::fs::rename(&prepared.path, &path).map_err(io(&path))?;
    sync_dir(dir)?;
    Ok((path, prepared.map))
}

/// Makes a directory's entries (a new or renamed segment) durable.
pub fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}
