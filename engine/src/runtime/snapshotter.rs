//! Periodic snapshots without pausing the trading core.
//!
//! A *shadow core* — a copy of the core as it was restored at start — follows
//! the journal with a [`Tailer`] on a background thread and writes a snapshot
//! every `snapshot_every` inputs. The core is deterministic, so fed the same
//! journaled inputs the copy is in the same state as the trading core at the
//! same sequence, and the trading core never stops to serialize itself (an
//! LMAX-style replica rather than a pause). The copy is made through the
//! snapshot encoding itself, so every run also exercises the round trip.
//!
//! The thread is not pinned and sleeps briefly when the journal has nothing
//! new: it is housekeeping, and on a host with isolated CPUs it belongs on
//! the shared ones. Old snapshots beyond `snapshot_keep` are deleted.
//!
//! A snapshot failure (disk full, ...) stops the snapshotter, never the
//! pipeline: the journal alone still restores everything, only slower.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use autobot_journal::{JournalError, Tailer, prune_snapshots};

use crate::config::CoreConfig;
use crate::core::{Core, DiscardSink};
use crate::types::Seq;

/// How long the shadow core sleeps when the journal has nothing new. Short
/// enough that it never lags far behind, long enough to cost nothing.
const IDLE: Duration = Duration::from_millis(2);

/// Why the snapshotter stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotterError {
    /// The journal could not be followed or a snapshot not written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A journaled input does not decode.
    #[error("input {seq}: {reason}")]
    Decode {
        /// Its sequence.
        seq: u64,
        /// What rkyv reported.
        reason: String,
    },
    /// The core's state did not survive its own snapshot encoding.
    #[error("the core's state does not round-trip through a snapshot: {0}")]
    RoundTrip(String),
    /// The snapshot thread panicked (a bug).
    #[error("the snapshot thread panicked")]
    Panicked,
    /// The thread could not be started.
    #[error("cannot start the snapshot thread: {0}")]
    Spawn(std::io::Error),
}

/// What the snapshotter did.
#[derive(Debug, Default, Clone)]
pub struct SnapshotterReport {
    /// Snapshots written.
    pub written: u64,
    /// The newest one written.
    pub last: Option<PathBuf>,
    /// Inputs the shadow core processed.
    pub inputs: u64,
}

/// Where and how often to snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    /// The journal to follow.
    pub journal: PathBuf,
    /// The snapshot directory.
    pub dir: PathBuf,
    /// Inputs between snapshots.
    pub every: u64,
    /// Snapshots kept.
    pub keep: usize,
}

/// A running snapshotter.
#[derive(Debug)]
pub struct Snapshotter {
    stop: Arc<AtomicBool>,
    followed: Arc<AtomicU64>,
    handle: JoinHandle<(SnapshotterReport, Option<SnapshotterError>)>,
}

impl Snapshotter {
    /// A copy of `core` to follow the journal with, made through the
    /// snapshot encoding.
    pub fn shadow_of(core: &Core) -> Result<Core, SnapshotterError> {
        Core::from_snapshot(&core.to_snapshot()).map_err(SnapshotterError::RoundTrip)
    }

    /// Starts following the journal from the input after `shadow`'s last.
    pub fn start(
        plan: SnapshotPlan,
        shadow: Core,
        cfg: &CoreConfig,
    ) -> Result<Snapshotter, SnapshotterError> {
        let stop = Arc::new(AtomicBool::new(false));
        let followed = Arc::new(AtomicU64::new(shadow.last_seq().map_or(0, |s| s.0 + 1)));
        let (flag, progress) = (Arc::clone(&stop), Arc::clone(&followed));
        let cfg = cfg.clone();
        let handle = std::thread::Builder::new()
            .name("autobot-snapshot".into())
            .spawn(move || follow(&plan, shadow, &cfg, &flag, &progress))
            .map_err(SnapshotterError::Spawn)?;
        Ok(Snapshotter {
            stop,
            followed,
            handle,
        })
    }

    /// The next input the shadow core will process (all before it are in
    /// its state).
    pub fn followed(&self) -> Seq {
        Seq(self.followed.load(Ordering::Acquire))
    }

    /// Stops (without catching up: the final snapshot of a clean stop is
    /// the caller's) and reports; the error, if it stopped early.
    pub fn stop(self) -> (SnapshotterReport, Option<SnapshotterError>) {
        self.stop.store(true, Ordering::Release);
        self.handle.thread().unpark();
        self.handle.join().unwrap_or_else(|_| {
            (
                SnapshotterReport::default(),
                Some(SnapshotterError::Panicked),
            )
        })
    }
}

fn follow(
    plan: &SnapshotPlan,
    mut core: Core,
    cfg: &CoreConfig,
    stop: &AtomicBool,
    followed: &AtomicU64,
) -> (SnapshotterReport, Option<SnapshotterError>) {
    let mut report = SnapshotterReport::default();
    let from = core.last_seq().map_or(Seq(0), Seq::next);
    followed.store(from.0, Ordering::Release);
    let mut tailer = Tailer::new(&plan.journal, from.0);
    let mut since = 0u64;
    while !stop.load(Ordering::Acquire) {
        let mut bad = None;
        let polled = tailer.poll(|meta, payload| {
            if bad.is_some() {
                return;
            }
            match crate::event::input_from_bytes(payload) {
                Ok(ev) => {
                    core.on_event(&ev, &mut DiscardSink);
                    followed.store(meta.seq + 1, Ordering::Release);
                    since += 1;
                    if since == plan.every {
                        since = 0;
                        match write(plan, &core, cfg) {
                            Ok(path) => {
                                report.written += 1;
                                report.last = path;
                            }
                            Err(e) => bad = Some(e.into()),
                        }
                    }
                }
                Err(e) => {
                    bad = Some(SnapshotterError::Decode {
                        seq: meta.seq,
                        reason: e.0,
                    });
                }
            }
        });
        let n = match (polled, bad) {
            (Ok(n), None) => n,
            (Err(e), _) => return (report, Some(e.into())),
            (_, Some(e)) => return (report, Some(e)),
        };
        report.inputs += n as u64;
        if n == 0 {
            std::thread::park_timeout(IDLE);
        }
    }
    (report, None)
}

fn write(
    plan: &SnapshotPlan,
    core: &Core,
    cfg: &CoreConfig,
) -> Result<Option<PathBuf>, JournalError> {
    let path = crate::snapshot::save(&plan.dir, core, cfg)?;
    prune_snapshots(&plan.dir, plan.keep)?;
    Ok(path)
}
