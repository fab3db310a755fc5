//! Wiring of the input ring, the journaller, the core and the output ring.
//!
//! ```text
//!  gateways ──publish──> INPUT RING ──> [journaller] ──> core ──> view (last stage)
//!                                                         │
//!                                                         └──> OUTPUT RING ──> execution
//! ```
//!
//! - `Layout::Dedicated`: the journaller polls the ring on its own thread; the
//!   core's poller depends on it. `Layout::Inline`: the core thread journals
//!   each batch (append + flush) before processing it.
//! - The view is an optional last stage that sees events after the core (the
//!   paper exchange keeps its book from it, so it fills at prices the engine
//!   has seen).
//!
//! # Shutdown
//! The input ring shuts down when its last publisher is dropped; each stage
//! drains what was published and exits. The core thread then drops the output
//! producer, which shuts down the output ring. A gateway that both consumes
//! the output ring and publishes into the input ring (execution) must drop
//! its publisher once it has seen the core's `StateChange{to: Stopped}`
//! output (the core sends that in answer to an `OperatorAction::Shutdown`
//! input and emits no order after it), otherwise neither ring can close.
//! The execution thread that took [`Started::order_stamp_writer`] drops it
//! when it ends (after the output ring closed); the journal's owner appends
//! its last order stamps until then, and only then finishes the journal.
//!
//! # Failure
//! If the journal cannot be written the stage sets the shared [`HaltFlag`]:
//! the core stops (it must not act on unjournaled events), publishers return
//! [`Halted`](super::Halted), and `join` reports the journal error.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use disruptor::{BusySpin, build_multi_producer, build_single_producer};

mod stages;

use super::journaller::{CoreMeta, Journaller, MetaPublisher, MetaReader};
use super::meta_writer::{MetaSink, MetaWriter};
use super::ring::{
    CorePublisher, HaltFlag, InputPublisher, InputView, OutputPublisher, OutputReader, RingReader,
};
use super::stamps::{OrderStampReader, OrderStampWriter, UnclaimedWriter, order_stamp_ring};
use super::wait::{Doorbell, Waiter};
use super::{InputFingerprint, affinity};
use crate::config::{CoreConfig, EngineConfig, JournalConfig, Layout, WaitKind};
use crate::core::Core;
use crate::event::{InputEvent, OutputEvent};
use stages::{CoreStage, JournalStage, core_loop, journal_loop};

/// Most events a stage takes per batch (bounds the latency of a batch).
const MAX_BATCH: u64 = 256;

/// Slots of the core → journaller meta ring (dedicated layout). The
/// journaller drains it after every batch; the core waits only if it falls
/// this many checkpoints (or stamp batches) behind.
const META_RING_SIZE: usize = 4096;

/// Slots of the execution → journal order-stamp ring, in batches of
/// `stamps::STAMPS_PER_RECORD`; a batch that finds it full is dropped.
const ORDER_STAMP_RING_SIZE: usize = 256;

/// Why the pipeline stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The journal could not be created or written.
    #[error("journal: {0}")]
    Journal(#[from] autobot_journal::JournalError),
    /// A stage thread panicked (a bug; the message is the panic payload).
    #[error("{thread} thread panicked: {message}")]
    Panicked {
        /// Thread name.
        thread: &'static str,
        /// Panic message.
        message: String,
    },
    /// The journal could not be read back to restore the core.
    #[error("restoring the core from the journal: {0}")]
    Restore(#[from] crate::replay::ReplayError),
    /// The snapshotter could not start.
    #[error(transparent)]
    Snapshotter(#[from] super::SnapshotterError),
    /// A thread could not be spawned.
    #[error("cannot start the {thread} thread: {source}")]
    Spawn {
        /// Thread name.
        thread: &'static str,
        /// OS error.
        source: std::io::Error,
    },
}

/// What the core thread hands back at shutdown.
#[derive(Debug)]
pub struct CoreReport {
    /// The core, with its final state.
    pub core: Core,
    /// Fingerprint of the input order the core consumed.
    pub fingerprint: InputFingerprint,
    /// Outputs lost because the pipeline halted while the output ring was full.
    pub dropped_outputs: u64,
}

/// What the journal stage hands back.
#[derive(Debug, Clone)]
pub struct JournalReport {
    /// The journal directory.
    pub path: PathBuf,
    /// Records appended by this run (inputs and checkpoints).
    pub records: u64,
    /// Bytes appended by this run.
    pub bytes: u64,
    /// The sequence after the last input journaled.
    pub next_seq: u64,
    /// Fingerprint of the inputs journaled by this run, as the journal
    /// numbered them.
    pub fingerprint: InputFingerprint,
}

/// Everything a finished pipeline reports.
#[derive(Debug)]
pub struct PipelineReport {
    /// The core's report.
    pub core: CoreReport,
    /// The journal's report.
    pub journal: JournalReport,
    /// What the periodic snapshotter did, if one ran.
    pub snapshots: Option<super::SnapshotterReport>,
    /// Warnings for the operator (pinning, a snapshotter that stopped).
    pub warnings: Vec<String>,
}

/// Handles of a started pipeline, to hand out to gateways.
pub struct Started {
    /// The first input publisher; clone one per gateway thread.
    pub publisher: InputPublisher,
    /// The core's headline state, refreshed by the core thread after each
    /// batch (operator status, metrics).
    pub board: Arc<super::StatusBoard>,
    /// The output ring reader, for the execution gateway.
    pub outputs: OutputReader,
    /// Alerts, state and mode changes for the notifier (a bounded queue:
    /// when nobody takes them they are dropped and counted, the core never
    /// waits).
    pub notices: super::notices::Notices,
    /// Veto audits, signals, orders and cancels for the dashboard's
    /// decision log (bounded the same way).
    pub records: super::notices::Notices,
    /// The parts of each feature vector the core hands out, for the
    /// advisor stage (bounded the same way; none without models).
    pub advice: super::notices::Notices,
    /// Copies of the fills the gateways published, for the dashboard's
    /// trade history (bounded the same way).
    pub fills: super::notices::Fills,
    /// The same fills for the notifier (large fills).
    pub notify_fills: super::notices::Fills,
    /// The last-stage view of the input ring, if requested.
    pub view: Option<InputView>,
    /// What opening the journal found (recovery) and how many inputs of an
    /// earlier run were replayed into the core before starting.
    pub recovery: autobot_journal::OpenReport,
    /// How the core was restored from an earlier run (snapshot, inputs replayed).
    pub restore: crate::snapshot::Restored,
    /// The core's digest after the restore (and its output count).
    pub restored_digest: (u64, u64),
    /// Market-data inputs among the restored ones.
    pub restored_market_events: u64,
    /// Orders the restored core holds open (in flight when the earlier run
    /// stopped); the execution gateway must know them.
    pub open_orders: Vec<crate::core::OpenOrder>,
    /// The sequence the first input of this run will get.
    pub first_seq: crate::types::Seq,
    /// Collects the stage threads' latency histograms (and hands out
    /// recorders to gateway threads).
    pub latency: Arc<super::LatencyHub>,
    /// Published, journaled and processed counts (ring fill, journal lag).
    pub gauges: Arc<super::PipelineGauges>,
    /// The journal's end for order-sent stamps, until the execution thread
    /// takes it ([`Started::order_stamp_writer`]).
    order_stamps: Option<UnclaimedWriter>,
    /// Joins the stage threads.
    pub handle: PipelineHandle,
}

impl Started {
    /// The writer for the execution thread's order-sent stamps (once; give
    /// it to the thread's recorder with [`LatencyRecorder::journaling`]).
    /// Once taken, the journal's end of the run waits until it is dropped,
    /// which the execution thread does when it finishes, after the core.
    pub fn order_stamp_writer(&mut self) -> Option<OrderStampWriter> {
        self.order_stamps.take().map(UnclaimedWriter::claim)
    }
}

/// What a stage thread returns: its result and its warnings for the operator.
type StageOutcome<T> = (Result<T, RuntimeError>, Vec<String>);

/// Joins the pipeline's threads.
#[derive(Debug)]
pub struct PipelineHandle {
    core: JoinHandle<StageOutcome<(CoreReport, Option<JournalReport>)>>,
    journal: Option<JoinHandle<StageOutcome<JournalReport>>>,
    snapshotter: Option<super::Snapshotter>,
    /// The notice tap (ends when the output ring closes).
    notices: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("view", &self.view.is_some())
            .field("restored", &self.restore.replayed)
            .finish_non_exhaustive()
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl PipelineHandle {
    /// The next input the periodic snapshotter will process, if one runs.
    pub fn snapshots_followed(&self) -> Option<crate::types::Seq> {
        self.snapshotter.as_ref().map(super::Snapshotter::followed)
    }

    /// Waits for every stage to finish (after all publishers are dropped).
    pub fn join(self) -> Result<PipelineReport, RuntimeError> {
        let mut warnings = Vec::new();
        let journal = match self.journal {
            Some(h) => {
                let (r, w) = h.join().map_err(|p| RuntimeError::Panicked {
                    thread: "journal",
                    message: panic_message(p),
                })?;
                warnings.extend(w);
                Some(r)
            }
            None => None,
        };
        let (core, w) = self.core.join().map_err(|p| RuntimeError::Panicked {
            thread: "core",
            message: panic_message(p),
        })?;
        warnings.extend(w);
        if let Some(t) = self.notices
            && t.join().is_err()
        {
            warnings.push("the notice tap panicked; notices after it were lost".into());
        }
        let snapshots = self.snapshotter.map(|s| {
            let (report, err) = s.stop();
            if let Some(e) = err {
                warnings.push(format!("periodic snapshots stopped: {e}"));
            }
            report
        });
        // A journal failure is the root cause of a core stop; report it first.
        let dedicated = journal.transpose()?;
        let (core, inline) = core?;
        let journal = match (dedicated, inline) {
            (Some(j), _) | (None, Some(j)) => j,
            (None, None) => unreachable!("every layout has exactly one journal stage"),
        };
        // One `seq` authority: the core thread counts the inputs itself
        // (it must number them before acting, in either layout); the
        // journal's numbering is the one that counts, and the two agree
        // whenever the core consumed all that was journaled (a halt may
        // stop it short).
        debug_assert!(
            core.fingerprint.count() != journal.fingerprint.count()
                || core.fingerprint == journal.fingerprint,
            "the core and the journal numbered the inputs differently: {:?} vs {:?}",
            core.fingerprint,
            journal.fingerprint
        );
        Ok(PipelineReport {
            core,
            journal,
            snapshots,
            warnings,
        })
    }
}

/// Opens (recovering) or creates the journal in `journal_dir`, restores the
/// core to what an earlier run journaled there (newest usable snapshot in
/// `snapshots` plus the journal after it), and starts the stage threads.
pub fn start(
    engine: &EngineConfig,
    journal_cfg: &JournalConfig,
    core_cfg: &CoreConfig,
    journal_dir: &Path,
    snapshots: Option<&Path>,
    with_view: bool,
) -> Result<Started, RuntimeError> {
    let halt = Arc::new(HaltFlag::default());
    let (mut journaller, recovery) =
        Journaller::open(super::appender_config(journal_cfg, journal_dir))?;
    journaller.await_next_segment()?;
    let (core, restore) = if journaller.next_seq().0 > 0 {
        let journal = autobot_journal::Journal::open(journal_dir)?;
        crate::snapshot::restore(&journal, snapshots, core_cfg, None)?
    } else {
        (Core::new(core_cfg), crate::snapshot::Restored::default())
    };
    // Started last (a failure before would leave its thread running).
    let snapshot_plan = match snapshots {
        Some(dir) if journal_cfg.snapshot_every > 0 => Some((
            super::SnapshotPlan {
                journal: journal_dir.to_path_buf(),
                dir: dir.to_path_buf(),
                every: journal_cfg.snapshot_every,
                keep: journal_cfg.snapshot_keep as usize,
            },
            super::Snapshotter::shadow_of(&core)?,
        )),
        _ => None,
    };
    let restored_digest = (core.digest(), core.outputs());
    // Kinds 0..=5 are market data (book ticker .. kline).
    let restored_market_events = core.stats().by_kind[..6].iter().sum();
    let open_orders = core.open_order_list();
    let next_seq = journaller.next_seq();
    let checkpoint_every = journal_cfg.checkpoint_every;
    let wait = engine.wait;
    let busy = wait == WaitKind::BusySpin;
    // Parking waiters sleep on it; every producer and stage rings it.
    let bell = (wait == WaitKind::Park).then(|| Arc::new(Doorbell::default()));

    let (out_poller, out_builder) =
        build_single_producer(engine.output_ring_size, OutputEvent::default, BusySpin)
            .new_event_poller();
    // The notice tap reads beside the execution gateway (not after it).
    let (notice_poller, out_builder) = out_builder.new_event_poller();
    let times = super::notices::EventTimes::new();
    let (tap, notice_thread) =
        super::notices::start(notice_poller, Arc::clone(&times)).map_err(|e| {
            RuntimeError::Spawn {
                thread: "notices",
                source: e,
            }
        })?;
    let output = OutputPublisher::new(
        CorePublisher::new(out_builder.build(), wait, Arc::clone(&halt), bell.clone()),
        times,
    );
    let builder = build_multi_producer(engine.ring_size, InputEvent::default, BusySpin);
    let cpus = engine.cpus;
    let path = journal_dir.to_path_buf();
    let board = Arc::new(super::StatusBoard::new(core_cfg.instruments.len()));
    board.publish(&core, &super::CommandOutcome::default());
    let latency = super::LatencyHub::new();
    let gauges = Arc::new(super::PipelineGauges::new(engine.ring_size as u64));
    let (order_stamps, order_stamp_writer) =
        order_stamp_ring(ORDER_STAMP_RING_SIZE, Arc::clone(&gauges));
    let stage = CoreStage {
        board: Arc::clone(&board),
        core,
        next_seq,
        checkpoint_every,
        output,
        waiter: Waiter::parking(wait, bell.clone()),
        bell: bell.clone(),
        latency: latency.recorder(),
        gauges: Arc::clone(&gauges),
    };

    // Process-wide, before the threads start: the rings and pools above
    // are locked now, the journal's maps as they are made.
    let lock_warning = engine.mlockall.then(affinity::lock_memory).flatten();
    let threads = Threads {
        cpus,
        busy,
        halt: Arc::clone(&halt),
    };
    let (core_thread, journal_thread, view, producer) = match engine.layout {
        Layout::Dedicated => {
            let (journal_poller, b) = builder.new_event_poller();
            let (core_poller, b) = b.and_then().new_event_poller();
            let (view, producer) = if with_view {
                let (v, b) = b.and_then().new_event_poller();
                (Some(v), b.build())
            } else {
                (None, b.build())
            };
            let (cp_poller, cp_builder) =
                build_single_producer(META_RING_SIZE, CoreMeta::default, BusySpin)
                    .new_event_poller();
            let cp_publisher: MetaPublisher =
                CorePublisher::new(cp_builder.build(), wait, Arc::clone(&halt), bell.clone());
            let journal = JournalStage {
                journal: journaller,
                path: path.clone(),
                waiter: Waiter::parking(wait, bell.clone()),
                bell: bell.clone(),
                latency: latency.recorder(),
                gauges: Arc::clone(&gauges),
            };
            let rings = (journal_poller, cp_poller, order_stamps);
            let journal_thread = threads.journal(rings, journal)?;
            let sink = MetaSink::Ring(cp_publisher);
            let core_thread = threads.core(core_poller, stage, sink, path, lock_warning)?;
            (core_thread, Some(journal_thread), view, producer)
        }
        Layout::Inline => {
            let (core_poller, b) = builder.new_event_poller();
            let (view, producer) = if with_view {
                let (v, b) = b.and_then().new_event_poller();
                (Some(v), b.build())
            } else {
                (None, b.build())
            };
            let sink = MetaSink::Inline(journaller, order_stamps);
            let core_thread = threads.core(core_poller, stage, sink, path, lock_warning)?;
            (core_thread, None, view, producer)
        }
    };
    let (fill_mirror, [fills, notify_fills]) = super::notices::fill_mirror::<2>();
    let publisher = InputPublisher::new(
        producer,
        wait,
        Arc::clone(&halt),
        Arc::clone(&gauges),
        Some(fill_mirror),
    )
    .with_doorbell(bell);
    let mut handle = PipelineHandle {
        core: core_thread,
        journal: journal_thread,
        snapshotter: None,
        notices: Some(notice_thread),
    };
    if let Some((plan, shadow)) = snapshot_plan {
        match super::Snapshotter::start(plan, shadow, core_cfg) {
            Ok(s) => handle.snapshotter = Some(s),
            Err(e) => {
                // Let the stage threads finish before reporting.
                drop((publisher, view, out_poller));
                let _ = handle.join();
                return Err(e.into());
            }
        }
    }
    Ok(Started {
        publisher,
        board,
        outputs: out_poller,
        notices: tap.notices,
        records: tap.records,
        advice: tap.advice,
        fills,
        notify_fills,
        view,
        recovery,
        restore,
        restored_digest,
        restored_market_events,
        open_orders,
        first_seq: next_seq,
        latency,
        gauges,
        order_stamps: Some(order_stamp_writer),
        handle,
    })
}

/// How the stage threads are placed and how they wait.
struct Threads {
    cpus: crate::config::CpuMap,
    busy: bool,
    halt: Arc<HaltFlag>,
}

type CoreThread = JoinHandle<StageOutcome<(CoreReport, Option<JournalReport>)>>;

impl Threads {
    /// The dedicated journaller's thread, over the input ring, the core's
    /// meta ring and the order-sent stamps.
    fn journal<R: RingReader<InputEvent> + 'static>(
        &self,
        (reader, checkpoints, order_stamps): (R, MetaReader, OrderStampReader),
        stage: JournalStage,
    ) -> Result<JoinHandle<StageOutcome<JournalReport>>, RuntimeError> {
        let (cpus, busy) = (self.cpus, self.busy);
        let h = Arc::clone(&self.halt);
        spawn("autobot-journal", &self.halt, move || {
            let warn = affinity::pin_current("journal", cpus.journal, busy, cpus.realtime_priority);
            let r = journal_loop(reader, checkpoints, order_stamps, stage, &h);
            (r, Vec::from_iter(warn))
        })
    }

    /// The core's thread. With the inline sink it journals too, and
    /// reports the journal when it ends.
    fn core<R: RingReader<InputEvent> + 'static>(
        &self,
        reader: R,
        stage: CoreStage,
        sink: MetaSink,
        path: PathBuf,
        lock_warning: Option<String>,
    ) -> Result<CoreThread, RuntimeError> {
        let (cpus, busy) = (self.cpus, self.busy);
        let h = Arc::clone(&self.halt);
        spawn("autobot-core", &self.halt, move || {
            let warn = affinity::pin_current("core", cpus.core, busy, cpus.realtime_priority);
            let mut sink = MetaWriter::new(sink);
            let r = core_loop(reader, stage, &mut sink, &h);
            let journal = match sink.to {
                MetaSink::Inline(j, _) => Some(JournalReport::of(&j, path)),
                MetaSink::Ring(_) => None,
            };
            (
                r.map(|c| (c, journal)),
                warn.into_iter().chain(lock_warning).collect(),
            )
        })
    }
}

/// Halts the pipeline if the thread holding it unwinds, so threads blocked on
/// a ring that thread no longer drains give up instead of hanging. Every stage
/// thread holds one; gateway threads should too (`InputPublisher::halt_flag`).
#[derive(Debug)]
pub struct HaltOnPanic(pub Arc<HaltFlag>);

impl Drop for HaltOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}

fn spawn<T: Send + 'static>(
    name: &'static str,
    halt: &Arc<HaltFlag>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>, RuntimeError> {
    let guard = HaltOnPanic(Arc::clone(halt));
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _guard = guard;
            f()
        })
        .map_err(|source| RuntimeError::Spawn {
            thread: name,
            source,
        })
}
