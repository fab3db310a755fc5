//! One channel's delivery: a worker thread with its own bounded queue that
//! sends each message, retrying with exponential backoff and jitter,
//! holds to a per-minute rate by coalescing the excess into one summary
//! message, and writes to the spool every message it could not deliver.
//!
//! # Secrets
//! A webhook URL and a bot token are secrets ([`Hidden`]). They go into
//! the request and nowhere else: a delivery error is described by its kind
//! (`HTTP 500`, `connection refused`, `timed out`), never by ureq's own
//! message, which names the URL.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngExt as _;

use super::{Message, NotifyStats, PayloadShape};
use crate::credentials::Hidden;

/// Where a channel sends.
#[derive(Clone, Debug)]
pub enum Sink {
    /// One line per message on the run's stderr.
    Stderr,
    /// A JSON POST to a URL, in the configured shape.
    Webhook {
        /// The URL (a secret: it often carries the hook's token).
        url: Hidden,
        /// The payload's shape.
        shape: PayloadShape,
    },
    /// The Telegram Bot API's `sendMessage`.
    Telegram {
        /// `https://api.telegram.org`, or a local receiver in tests.
        base_url: String,
        /// The bot token (a secret).
        token: Hidden,
        /// The chat to write to.
        chat_id: String,
    },
}

impl Sink {
    /// The channel's name in counters, logs and the spool.
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Stderr => "stderr",
            Sink::Webhook { .. } => "webhook",
            Sink::Telegram { .. } => "telegram",
        }
    }
}

/// How a channel delivers.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Messages sent per rolling minute; the excess is coalesced.
    pub per_minute: u32,
    /// Attempts after the first.
    pub retries: u32,
    /// The first retry's delay; each next one doubles (± 25% jitter).
    pub backoff: Duration,
    /// Each request's time limit.
    pub timeout: Duration,
}

/// Why one attempt failed, without anything secret.
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::StatusCode(c) => format!("HTTP {c}"),
        ureq::Error::Timeout(_) => "timed out".into(),
        ureq::Error::Io(io) => format!("{}", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        _ => "transport error".into(),
    }
}

pub(super) struct Worker {
    pub(super) sink: Sink,
    pub(super) policy: Policy,
    pub(super) agent: ureq::Agent,
    pub(super) stats: Arc<NotifyStats>,
    pub(super) spool: Arc<Mutex<Spool>>,
    /// Send times in the last minute.
    sent: VecDeque<Instant>,
    /// Messages held back by the rate limit since the last summary, and
    /// the latest of them.
    held: u64,
    latest_held: Option<Message>,
}

impl Worker {
    pub(super) fn new(
        sink: Sink,
        policy: Policy,
        stats: Arc<NotifyStats>,
        spool: Arc<Mutex<Spool>>,
    ) -> Worker {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(policy.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Worker {
            sink,
            policy,
            agent,
            stats,
            spool,
            sent: VecDeque::new(),
            held: 0,
            latest_held: None,
        }
    }

    /// Runs until the queue's sender is gone and everything held was sent
    /// or spooled.
    pub(super) fn run(mut self, rx: &Receiver<Message>) {
        loop {
            // Wake at least once a second to release coalesced messages.
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(m) => self.offer(m, false),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.release_held(false);
        }
        // Stopping: what the rate limit held goes out as one summary, once.
        self.release_held(true);
    }

    fn window_full(&mut self) -> bool {
        let now = Instant::now();
        while self
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.sent.pop_front();
        }
        self.sent.len() >= self.policy.per_minute as usize
    }

    fn offer(&mut self, m: Message, stopping: bool) {
        if self.window_full() && !stopping {
            self.held += 1;
            self.latest_held = Some(m);
            self.stats.coalesced.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.deliver(&m);
    }

    /// Sends one summary of the held messages once the window has room (or
    /// at stop).
    fn release_held(&mut self, stopping: bool) {
        if self.held == 0 || (!stopping && self.window_full()) {
            return;
        }
        let Some(latest) = self.latest_held.take() else {
            return;
        };
        let n = std::mem::take(&mut self.held);
        let summary = if n == 1 {
            latest
        } else {
            Message {
                text: format!(
                    "{} more alerts in the last minute; the latest: {}",
                    n, latest.text
                ),
                kind: "coalesced",
                ..latest
            }
        };
        self.deliver(&summary);
    }

    fn deliver(&mut self, m: &Message) {
        self.sent.push_back(Instant::now());
        let mut delay = self.policy.backoff;
        let mut last_error = String::new();
        for attempt in 0..=self.policy.retries {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                let jitter = rand::rng().random_range(0.75..1.25);
                std::thread::sleep(delay.mul_f64(jitter));
                delay = delay.saturating_mul(2);
            }
            match self.attempt(m) {
                Ok(()) => {
                    self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(e) => last_error = e,
            }
        }
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        self.spool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .write(self.sink.name(), m, &last_error, &self.stats);
    }

    fn attempt(&self, m: &Message) -> Result<(), String> {
        let (url, body) = match &self.sink {
            Sink::Stderr => {
                eprintln!("autobot: [{}] {}", m.kind, m.text);
                return Ok(());
            }
            Sink::Webhook { url, shape } => (url.expose().to_string(), shape.payload(m)),
            Sink::Telegram {
                base_url,
                token,
                chat_id,
            } => (
                format!(
                    "{}/bot{}/sendMessage",
                    base_url.trim_end_matches('/'),
                    token.expose()
                ),
                serde_json::json!({ "chat_id": chat_id, "text": m.line() }).to_string(),
            ),
        };
        let reply = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body.as_str())
            .map_err(|e| describe(&e))?;
        let status = reply.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

/// `RUN_DIR/notifications.jsonl`: every message a channel could not
/// deliver or take, one JSON line each, without any secret.
pub struct Spool {
    path: Option<PathBuf>,
}

impl Spool {
    /// A spool at `path` (`None`: count only, e.g. in a test harness).
    pub fn new(path: Option<PathBuf>) -> Spool {
        Spool { path }
    }

    pub(super) fn write(&mut self, channel: &str, m: &Message, error: &str, stats: &NotifyStats) {
        stats.spooled.fetch_add(1, Ordering::Relaxed);
        let Some(path) = &self.path else { return };
        let line = serde_json::json!({
            "t_ms": m.t_ms,
            "channel": channel,
            "kind": m.kind,
            "severity": m.severity,
            "text": m.text,
            "seq": m.seq,
            "error": error,
        })
        .to_string();
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            stats.spool_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "autobot: cannot write the notification spool {}: {e}",
                path.display()
            );
        }
    }
}
