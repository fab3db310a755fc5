//! The live trade store: during `autobot run` a projector thread keeps
//! the store current while the core trades.
//!
//! # Why it follows the journal, not the output ring
//! The store needs more than the core's outputs: fills are inputs (the
//! exchange's reports) and equity is the core's state. And a reader of the
//! output ring either slows the core (the ring waits for its slowest
//! reader) or drops what it cannot keep up with, and a store must not drop
//! a fill. So, like the snapshotter, the projector runs a shadow core that
//! follows the journal with a `Tailer` and turns each journaled input and
//! the shadow's outputs into rows through the same
//! [`Projection`](super::Projection) as `autobot store rebuild`: the live
//! store holds the rows a rebuild would, and the trading core never knows
//! it exists (it reads files the journaller already wrote).
//!
//! # Lag and failure
//! Rows are committed at least every [`COMMIT_EVERY`] while inputs come,
//! with the run's `runs` row saying how far the store is; the most inputs
//! the projector ever found waiting at once is reported when the run ends
//! (`behind_max`). A database error stops the projector, never the run:
//! the summary says so, and `autobot store rebuild` makes the store again.
//! A resumed run projects its journal again from the first input.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use autobot_engine::core::Core;
use autobot_engine::replay::Collect;
use autobot_journal::Tailer;

use super::{Counts, Db, Projection, RunRow, Target};
use crate::config::AppConfig;

/// How often rows become visible while inputs come.
pub const COMMIT_EVERY: Duration = Duration::from_millis(200);
/// How long the projector sleeps when the journal has nothing new.
const IDLE: Duration = Duration::from_millis(2);
/// "Follow on": no end sequence set yet.
const OPEN: u64 = u64::MAX;

/// What the live store did.
#[derive(Clone, Debug, Default)]
pub struct LiveOutcome {
    /// The store (a path, or a URL without password).
    pub store: String,
    /// Rows written, per table.
    pub counts: Counts,
    /// The most inputs found waiting at once (journaled, not yet
    /// projected).
    pub behind_max: u64,
    /// Transactions committed.
    pub commits: u64,
    /// Why it stopped early (the store then lacks the rest of the run).
    pub error: Option<String>,
}

/// A running projector.
pub struct LiveStore {
    end: Arc<AtomicU64>,
    abandon: Arc<AtomicBool>,
    handle: Option<JoinHandle<LiveOutcome>>,
}

impl LiveStore {
    /// Opens the run's store (refusing the run if it cannot: an operator
    /// who configured a shared store wants to hear now) and starts
    /// following `run_dir/journal` from its first input.
    pub fn start(cfg: &AppConfig, run_dir: &Path) -> anyhow::Result<LiveStore> {
        let target = Target::of(run_dir, &cfg.store.url);
        let db = target.open(true)?;
        let end = Arc::new(AtomicU64::new(OPEN));
        let abandon = Arc::new(AtomicBool::new(false));
        let follower = Follower {
            db,
            run: super::run_name(run_dir),
            journal: run_dir.join("journal"),
            cfg: cfg.clone(),
            end: Arc::clone(&end),
            abandon: Arc::clone(&abandon),
        };
        let handle = std::thread::Builder::new()
            .name("autobot-store".into())
            .spawn(move || follower.run())?;
        Ok(LiveStore {
            end,
            abandon,
            handle: Some(handle),
        })
    }

    /// Projects up to (not including) input `next_seq`, the journal's end,
    /// writes the last rows and reports.
    pub fn finish(mut self, next_seq: u64) -> LiveOutcome {
        self.end.store(next_seq, Ordering::Release);
        let Some(h) = self.handle.take() else {
            return LiveOutcome::default();
        };
        h.thread().unpark();
        h.join().unwrap_or_else(|_| LiveOutcome {
            error: Some("the store's thread panicked (a bug)".into()),
            ..LiveOutcome::default()
        })
    }
}

impl Drop for LiveStore {
    /// A run that failed: stop without finishing (the store keeps what
    /// it committed; its `runs` row says it is not complete).
    fn drop(&mut self) {
        if let Some(h) = &self.handle {
            self.abandon.store(true, Ordering::Release);
            h.thread().unpark();
        }
    }
}

struct Follower {
    db: Box<dyn Db>,
    run: String,
    journal: PathBuf,
    cfg: AppConfig,
    end: Arc<AtomicU64>,
    abandon: Arc<AtomicBool>,
}

impl Follower {
    fn run(mut self) -> LiveOutcome {
        let mut out = LiveOutcome {
            store: self.db.describe(),
            ..LiveOutcome::default()
        };
        let core_cfg = self.cfg.core();
        let mut core = Core::new(&core_cfg);
        let mut p = Projection::new(&self.cfg, &core_cfg);
        if let Err(e) = self.follow(&mut core, &mut p, &mut out) {
            out.error = Some(format!("{e:#}"));
        }
        out.counts = p.counts;
        out
    }

    fn row(&self, p: &Projection, complete: bool) -> RunRow {
        RunRow {
            run: self.run.clone(),
            journal: self.journal.display().to_string(),
            last_seq: p.last_seq,
            inputs: p.counts.inputs,
            live: true,
            complete,
        }
    }

    fn follow(
        &mut self,
        core: &mut Core,
        p: &mut Projection,
        out: &mut LiveOutcome,
    ) -> anyhow::Result<()> {
        // The run's earlier rows (a resume) go in the first transaction.
        self.db.begin()?;
        self.db.clear(&self.run)?;
        self.db.mark(&self.row(p, false))?;
        self.db.commit()?;
        out.commits += 1;
        let mut tailer = Tailer::new(&self.journal, 0);
        let mut sink = Collect::default();
        let mut rows = Vec::new();
        let mut open_tx = false;
        let mut last_commit = Instant::now();
        loop {
            if self.abandon.load(Ordering::Acquire) {
                return Ok(());
            }
            let end = self.end.load(Ordering::Acquire);
            let mut bad = None;
            let n = tailer.poll(|meta, payload| {
                if bad.is_some() {
                    return;
                }
                match autobot_engine::event::input_from_bytes(payload) {
                    Ok(ev) => {
                        core.on_event(&ev, &mut sink);
                        p.input(&ev, &sink.0, core, &mut rows);
                        sink.0.clear();
                    }
                    Err(e) => bad = Some(format!("journal input {}: {}", meta.seq, e.0)),
                }
            })?;
            if let Some(b) = bad {
                anyhow::bail!(b);
            }
            out.behind_max = out.behind_max.max(n as u64);
            if !rows.is_empty() && !open_tx {
                self.db.begin()?;
                open_tx = true;
            }
            for r in rows.drain(..) {
                self.db.put(&self.run, &r)?;
            }
            let done = tailer.next_seq() >= end;
            if open_tx && (done || n == 0 || last_commit.elapsed() >= COMMIT_EVERY) {
                self.db.mark(&self.row(p, false))?;
                self.db.commit()?;
                out.commits += 1;
                open_tx = false;
                last_commit = Instant::now();
            }
            if done {
                break;
            }
            if n == 0 {
                std::thread::park_timeout(IDLE);
            }
        }
        p.end(core, &mut rows);
        self.db.begin()?;
        for r in rows.drain(..) {
            self.db.put(&self.run, &r)?;
        }
        self.db.mark(&self.row(p, true))?;
        self.db.commit()?;
        out.commits += 1;
        Ok(())
    }
}
