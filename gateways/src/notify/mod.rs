//! Notifications that reach a person: stderr, a webhook (JSON, Slack- or
//! Discord-shaped) and Telegram, fed by the core's notices (the output
//! ring's tap: alerts, state and mode changes) and by a watch on the status
//! board (kill switch on and off, orders waiting for approval, the daily
//! summary at 00:00 UTC), plus the run's start and stop.
//!
//! # Never blocks the engine
//! The notices come through the tap's bounded queue (`runtime::notices`).
//! Here one thread turns them and the board's changes into [`Message`]s and
//! hands each to every channel's own bounded queue (`try_send`); a channel
//! that cannot take it (its queue full while it retries a dead receiver)
//! has it written to the spool instead, counted. Each channel delivers on
//! its own thread (`deliver`).
//!
//! # Nothing silently lost
//! A message is delivered, or written to `RUN_DIR/notifications.jsonl`
//! and counted (`spooled`), or, when the rate limit held it, folded into a
//! "N more alerts in the last minute" summary that is itself delivered or
//! spooled. The counters are in [`NotifyStats`] (and the metrics endpoint).

mod deliver;
mod watch;

pub use deliver::{Policy, Sink, Spool};
pub use watch::{LargeFills, Names, Watch};

use autobot_engine::runtime::clock::unix_now_ms as unix_ms;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Messages a channel's queue holds while it is busy (retrying).
pub const CHANNEL_QUEUE: usize = 1024;

/// A webhook payload's shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadShape {
    /// `{"kind", "severity", "text", "seq", "t_ms", "run"}`.
    #[default]
    Json,
    /// Slack's incoming webhook: `{"text": …}`.
    Slack,
    /// Discord's webhook: `{"content": …}`.
    Discord,
}

impl PayloadShape {
    fn payload(self, m: &Message) -> String {
        match self {
            PayloadShape::Json => serde_json::to_string(m).unwrap_or_default(),
            PayloadShape::Slack => serde_json::json!({ "text": m.line() }).to_string(),
            PayloadShape::Discord => serde_json::json!({ "content": m.line() }).to_string(),
        }
    }
}

/// How loud a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record (start, stop, the daily summary).
    Info,
    /// Worth a look (an order waiting, a mode change).
    Warning,
    /// Act now (a halt, the kill switch, the liquidation watch).
    Critical,
}

/// One notification.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Message {
    /// What kind of event (`state`, `kill_switch`, `alert`, `approval`,
    /// `daily_summary`, `run`, `coalesced`).
    pub kind: &'static str,
    /// How loud.
    pub severity: Severity,
    /// The text a person reads.
    pub text: String,
    /// The input that caused it, when the core did.
    pub seq: Option<u64>,
    /// Wall-clock time it was made, Unix ms.
    pub t_ms: u64,
    /// The run it is about.
    pub run: String,
}

impl Message {
    /// A message of now.
    pub fn new(kind: &'static str, severity: Severity, text: String, run: &str) -> Message {
        Message {
            kind,
            severity,
            text,
            seq: None,
            t_ms: unix_ms(),
            run: run.to_string(),
        }
    }

    /// The one line a chat shows.
    pub fn line(&self) -> String {
        let mark = match self.severity {
            Severity::Info => "",
            Severity::Warning => "⚠ ",
            Severity::Critical => "🛑 ",
        };
        format!("{mark}autobot {}: {}", self.run, self.text)
    }
}

/// What the notifier did.
#[derive(Debug, Default)]
pub struct NotifyStats {
    /// Messages made.
    pub made: AtomicU64,
    /// Deliveries that succeeded (over all channels).
    pub delivered: AtomicU64,
    /// Retries after a failed attempt.
    pub retries: AtomicU64,
    /// Deliveries that failed after every retry (each also spooled).
    pub failed: AtomicU64,
    /// Messages written to the spool (failed, or a channel's queue full).
    pub spooled: AtomicU64,
    /// Messages the rate limit folded into a summary.
    pub coalesced: AtomicU64,
    /// Spool writes that failed (the message is then lost: logged).
    pub spool_errors: AtomicU64,
}

/// A channel and how it delivers.
#[derive(Clone, Debug)]
pub struct ChannelConfig {
    /// Where.
    pub sink: Sink,
    /// How.
    pub policy: Policy,
}

/// The notifier's set-up.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    /// The channels (stderr among them unless turned off).
    pub channels: Vec<ChannelConfig>,
    /// `RUN_DIR/notifications.jsonl` (`None`: counted only).
    pub spool: Option<std::path::PathBuf>,
    /// The run's name in every message.
    pub run: String,
}

/// A running notifier: hand it messages with [`Notifier::send`].
pub struct Notifier {
    queues: Vec<(&'static str, SyncSender<Message>)>,
    workers: Vec<JoinHandle<()>>,
    stats: Arc<NotifyStats>,
    spool: Arc<Mutex<Spool>>,
    run: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("channels", &self.queues.len())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// Starts one delivery thread per channel.
    pub fn start(cfg: NotifyConfig) -> std::io::Result<Notifier> {
        let stats = Arc::new(NotifyStats::default());
        let spool = Arc::new(Mutex::new(Spool::new(cfg.spool)));
        let mut queues = Vec::new();
        let mut workers = Vec::new();
        for ch in cfg.channels {
            let (tx, rx): (SyncSender<Message>, Receiver<Message>) =
                std::sync::mpsc::sync_channel(CHANNEL_QUEUE);
            let name = ch.sink.name();
            let worker =
                deliver::Worker::new(ch.sink, ch.policy, Arc::clone(&stats), Arc::clone(&spool));
            workers.push(
                std::thread::Builder::new()
                    .name(format!("autobot-notify-{name}"))
                    .spawn(move || worker.run(&rx))?,
            );
            queues.push((name, tx));
        }
        Ok(Notifier {
            queues,
            workers,
            stats,
            spool,
            run: cfg.run,
        })
    }

    /// The counters.
    pub fn stats(&self) -> Arc<NotifyStats> {
        Arc::clone(&self.stats)
    }

    /// The run's name, as messages carry it.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// Hands `m` to every channel; a channel whose queue is full has it
    /// spooled instead. Never blocks.
    pub fn send(&self, m: &Message) {
        self.stats.made.fetch_add(1, Ordering::Relaxed);
        for (name, q) in &self.queues {
            match q.try_send(m.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => {
                    self.spool
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .write(name, &m, "the channel's queue was full", &self.stats);
                }
            }
        }
    }

    /// Stops taking messages and waits until each channel has delivered or
    /// spooled what it holds.
    pub fn stop(self) -> Arc<NotifyStats> {
        drop(self.queues);
        for w in self.workers {
            let _ = w.join();
        }
        self.stats
    }
}
