//! Snapshots of the core: its whole state at an input sequence (rkyv), so a
//! restart or a replay need not start from the first input.
//!
//! Restoring = the newest valid snapshot at or before the wanted point, then
//! the journal's inputs after it. A snapshot that is damaged, was taken with
//! another configuration, or does not decode is skipped (and reported) in
//! favour of an older one, and failing all, a full replay from the start.
//! `tests/snapshot.rs` shows snapshot + tail gives exactly the state of a
//! full replay.

use std::path::{Path, PathBuf};

use autobot_journal::{Journal, JournalError, Skipped, newest_valid, write_snapshot};

use crate::config::CoreConfig;
use crate::core::{Core, DiscardSink};
use crate::replay::{ReplayError, feed};
use crate::types::Seq;

/// Identifies the core configuration (and this build's state layout) a
/// snapshot belongs to; a snapshot is only restored into the same.
pub fn fingerprint(cfg: &CoreConfig) -> u64 {
    let text = format!("core-state-v23 {cfg:?}");
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// Writes `core`'s state (at its last input) into `dir`.
pub fn save(dir: &Path, core: &Core, cfg: &CoreConfig) -> Result<Option<PathBuf>, JournalError> {
    let Some(seq) = core.last_seq() else {
        return Ok(None);
    };
    write_snapshot(dir, seq.0, fingerprint(cfg), &core.to_snapshot()).map(Some)
}

/// How a core was restored.
#[derive(Debug, Default)]
pub struct Restored {
    /// The snapshot used: its file and sequence.
    pub snapshot: Option<(PathBuf, Seq)>,
    /// Newer snapshots that were skipped, with why.
    pub skipped: Vec<Skipped>,
    /// Journal inputs fed after the snapshot (or from the start).
    pub replayed: u64,
    /// Where the restoring replay departed from the recorded digests, if it
    /// did (the build or the configuration decides differently from the
    /// recording: the restored state is the replay's).
    pub divergence: Option<crate::replay::Divergence>,
}

/// Restores a core to the state after input `until` (default: the
/// journal's last), from the newest usable snapshot in `snapshots` plus the
/// journal's inputs after it.
pub fn restore(
    journal: &Journal,
    snapshots: Option<&Path>,
    cfg: &CoreConfig,
    until: Option<Seq>,
) -> Result<(Core, Restored), ReplayError> {
    let last = until.map_or(journal.next_seq().saturating_sub(1), |u| u.0);
    let mut found = None;
    let mut skipped = Vec::new();
    if let Some(dir) = snapshots
        && journal.next_seq() > 0
    {
        let (snap, skips) = newest_valid(dir, last, fingerprint(cfg), |s| {
            Core::from_snapshot(&s.payload)
                .map(|c| found = Some(c))
                .map_err(|e| format!("does not decode: {e}"))
        });
        skipped = skips;
        if let (Some(s), Some(core)) = (snap, found.take()) {
            let start = Seq(s.seq + 1);
            let mut core = core;
            let r = feed(
                journal,
                &mut core,
                start,
                until,
                &mut DiscardSink,
                |_, _, _| {},
            )?;
            return Ok((
                core,
                Restored {
                    snapshot: Some((s.path, Seq(s.seq))),
                    skipped,
                    replayed: r.events,
                    divergence: r.divergence,
                },
            ));
        }
    }
    let mut core = Core::new(cfg);
    let r = feed(
        journal,
        &mut core,
        Seq(0),
        until,
        &mut DiscardSink,
        |_, _, _| {},
    )?;
    Ok((
        core,
        Restored {
            snapshot: None,
            skipped,
            replayed: r.events,
            divergence: r.divergence,
        },
    ))
}
