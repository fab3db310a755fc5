//! The run's notifier (`[notify]`): started with the run, fed by the
//! pipeline's notice tap and the status board, told of the run's start and
//! stop, and stopped after the pipeline (so every notice the core made is
//! delivered or spooled before the run returns).

use std::path::Path;
use std::sync::Arc;

use autobot_engine::runtime::StatusBoard;
use autobot_engine::runtime::notices::Notices;
use autobot_gateways::notify::{
    ChannelConfig, LargeFills, Message, Names, Notifier, NotifyConfig, NotifyStats, Severity, Watch,
};

use crate::config::AppConfig;
use crate::stage::RunError;

/// The spool of undelivered messages in a run directory.
pub const SPOOL_FILE: &str = "notifications.jsonl";

/// What the notifier did, for the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifyCounts {
    /// Messages made.
    pub made: u64,
    /// Deliveries that succeeded (over all channels).
    pub delivered: u64,
    /// Written to the spool.
    pub spooled: u64,
    /// Folded into "N more" summaries by the rate limit.
    pub coalesced: u64,
    /// Notices the tap dropped (its queue full).
    pub dropped: u64,
}

/// The channels of `cfg`, with their secrets read now: a missing or
/// shared secret refuses the run before anything starts.
pub fn channels(cfg: &AppConfig) -> Result<Vec<ChannelConfig>, RunError> {
    Ok(cfg.notify.channels(&|k| std::env::var(k).ok())?)
}

/// The running notifier and its watcher.
pub struct NotifySide {
    notifier: Arc<Notifier>,
    watch: Watch,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

impl NotifySide {
    /// Starts the channels and the watcher, and says the run started.
    pub fn start(
        channels: Vec<ChannelConfig>,
        run_dir: &Path,
        notices: Notices,
        board: Arc<StatusBoard>,
        names: Names,
        (started, large): (String, Option<LargeFills>),
    ) -> Result<NotifySide, RunError> {
        let run = run_dir
            .file_name()
            .map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
        let notifier = Notifier::start(NotifyConfig {
            channels,
            spool: Some(run_dir.join(SPOOL_FILE)),
            run,
        })
        .map_err(|_| RunError::Gateway("notifier"))?;
        let notifier = Arc::new(notifier);
        notifier.send(&Message::new(
            "run",
            Severity::Info,
            started,
            notifier.run(),
        ));
        let dropped = Arc::clone(&notices.dropped);
        let watch = Watch::start(Arc::clone(&notifier), notices, board, names, large)
            .map_err(|_| RunError::Gateway("notifier"))?;
        Ok(NotifySide {
            notifier,
            watch,
            dropped,
        })
    }

    /// The counters and the tap's drops, live (for the metrics endpoint).
    pub fn counters(&self) -> (Arc<NotifyStats>, Arc<std::sync::atomic::AtomicU64>) {
        (self.notifier.stats(), Arc::clone(&self.dropped))
    }

    /// Sends what is left, says the run stopped and waits until every
    /// channel delivered or spooled it.
    pub fn finish(self, stopped: String) -> NotifyCounts {
        self.watch.stop();
        let n = &self.notifier;
        n.send(&Message::new("run", Severity::Info, stopped, n.run()));
        let stats = match Arc::try_unwrap(self.notifier) {
            Ok(n) => n.stop(),
            // The watcher has ended, so this is the only owner; keep the
            // counters if that ever changes rather than hang.
            Err(shared) => shared.stats(),
        };
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        NotifyCounts {
            made: get(&stats.made),
            delivered: get(&stats.delivered),
            spooled: get(&stats.spooled),
            coalesced: get(&stats.coalesced),
            dropped: get(&self.dropped),
        }
    }
}
