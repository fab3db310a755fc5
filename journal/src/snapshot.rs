//! Snapshot files: the core's state at an input sequence.
//!
//! `{dir}/{seq:020}.snap`, written to a temporary name, synced, then renamed,
//! so a snapshot is either whole or absent. Layout (little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `"ABOTSNAP"` |
//! | 8 | 4 | version ([`SNAPSHOT_VERSION`]) |
//! | 12 | 4 | reserved, zero |
//! | 16 | 8 | `seq`: the last input the state includes |
//! | 24 | 8 | `fingerprint`: identifies the configuration (and format) the state belongs to |
//! | 32 | 8 | `len`: payload length |
//! | 40 | 8 | `check`: `xxh3_64(payload, seed = seq ^ fingerprint)` |
//! | 48 | len | payload (opaque here: the engine's rkyv archive of the core) |
//!
//! A snapshot that fails any check is skipped by [`newest_valid`] in favour
//! of an older one (and, failing all, a full replay by the caller).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{JournalError, io};
use crate::format::u64_at;

const MAGIC: [u8; 8] = *b"ABOTSNAP";
/// Current snapshot format version.
pub const SNAPSHOT_VERSION: u32 = 1;
const HEADER: usize = 48;

/// A snapshot read back and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Its file.
    pub path: PathBuf,
    /// Last input the state includes.
    pub seq: u64,
    /// Configuration fingerprint.
    pub fingerprint: u64,
    /// The state.
    pub payload: Vec<u8>,
}

fn check(payload: &[u8], seq: u64, fingerprint: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(payload, seq ^ fingerprint)
}

/// Writes a snapshot durably; returns its path.
pub fn write_snapshot(
    dir: &Path,
    seq: u64,
    fingerprint: u64,
    payload: &[u8],
) -> Result<PathBuf, JournalError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(format!("{seq:020}.snap"));
    let tmp = dir.join(format!("{seq:020}.snap.tmp"));
    let mut head = [0u8; HEADER];
    head[0..8].copy_from_slice(&MAGIC);
    head[8..12].copy_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    head[16..24].copy_from_slice(&seq.to_le_bytes());
    head[24..32].copy_from_slice(&fingerprint.to_le_bytes());
    head[32..40].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    head[40..48].copy_from_slice(&check(payload, seq, fingerprint).to_le_bytes());
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(&head)
        .and_then(|()| f.write_all(payload))
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    crate::segment::sync_dir(dir)?;
    Ok(path)
}

/// Deletes all but the newest `keep` snapshot files in `dir` (by sequence);
/// returns how many were deleted. Files that are not snapshots are left alone.
pub fn prune_snapshots(dir: &Path, keep: usize) -> Result<usize, JournalError> {
    let mut files = snapshot_files(dir, u64::MAX);
    let excess = files.len().saturating_sub(keep);
    for (_, path) in files.drain(..excess) {
        std::fs::remove_file(&path).map_err(io(&path))?;
    }
    Ok(excess)
}

/// Snapshot files in `dir` with `seq <= max_seq`, oldest first.
fn snapshot_files(dir: &Path, max_seq: u64) -> Vec<(u64, PathBuf)> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .filter_map(|p| {
            let seq = p.file_stem()?.to_str()?.parse::<u64>().ok()?;
            Some((seq, p))
        })
        .filter(|(seq, _)| *seq <= max_seq)
        .collect();
    files.sort();
    files
}

/// Why a snapshot file was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Reads and checks one snapshot file.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, String> {
    let b = std::fs::read(path).map_err(|e| e.to_string())?;
    if b.len() < HEADER || b[0..8] != MAGIC {
        return Err("not a snapshot".into());
    }
    let version = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    if version != SNAPSHOT_VERSION {
        return Err(format!("snapshot format version {version}"));
    }
    let (seq, fingerprint, len) = (u64_at(&b, 16), u64_at(&b, 24), u64_at(&b, 32));
    if b.len() as u64 != HEADER as u64 + len {
        return Err(format!(
            "{} bytes where the header says {}",
            b.len(),
            HEADER as u64 + len
        ));
    }
    let payload = b[HEADER..].to_vec();
    if check(&payload, seq, fingerprint) != u64_at(&b, 40) {
        return Err("checksum mismatch".into());
    }
    Ok(Snapshot {
        path: path.to_path_buf(),
        seq,
        fingerprint,
        payload,
    })
}

/// The newest snapshot in `dir` with `seq <= max_seq` and this fingerprint
/// that passes its checks, and the newer ones that were skipped, with why.
/// `accept` may refuse a snapshot whose payload does not restore.
pub fn newest_valid(
    dir: &Path,
    max_seq: u64,
    fingerprint: u64,
    mut accept: impl FnMut(&Snapshot) -> Result<(), String>,
) -> (Option<Snapshot>, Vec<Skipped>) {
    let files = snapshot_files(dir, max_seq);
    let mut skipped = Vec::new();
    for (_, path) in files.into_iter().rev() {
        let result = read_snapshot(&path).and_then(|s| {
            if s.fingerprint != fingerprint {
                return Err("taken with another configuration".into());
            }
            accept(&s)?;
            Ok(s)
        });
        match result {
            Ok(s) => return (Some(s), skipped),
            Err(reason) => skipped.push(Skipped { path, reason }),
        }
    }
    (None, skipped)
}
