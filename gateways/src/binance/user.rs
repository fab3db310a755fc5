//! Binance USD-M user-data stream: the listen key's life (create,
//! keepalive, re-create when the exchange says it expired) and the thread
//! that reads the stream; its messages are parsed by `user_events`.
//!
//! # The stream thread
//! [`UserStream::run`] is a blocking thread with the same read tick as
//! the market gateway: it creates a listen key (`POST /fapi/v1/listenKey`,
//! API key only), connects to `<ws>/ws/<listenKey>`, sends the keepalive
//! (`PUT`) every `keepalive` (Binance expires a key after 60 min without
//! one), and on `listenKeyExpired` or a lost connection creates a key and
//! connects again, with the market gateway's backoff.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::event::{InputBody, InputEvent};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::runtime::clock::mono_now;
use simd_json::prelude::*;
use tungstenite::Message;

use super::execution::ExecClient;
use super::ledger::OrderLedger;
use super::market::{Socket, connect_url, is_tick};
use super::parse::Symbols;
use super::reconcile::reconcile;
use super::rest::{Method, RestClient, RestError};
use crate::credentials::Hidden;
use crate::trust::Trust;

/// How often the stream looks for orders overdue a report.
const OVERDUE_CHECK: Duration = Duration::from_secs(1);
/// How long an acknowledged order may wait for a report it is owed before
/// it is asked for over REST.
const OVERDUE: Duration = Duration::from_secs(2);

pub(crate) use super::user_events::status;
pub use super::user_events::{UserMessage, parse_user};

/// How to reach the user-data stream.
#[derive(Clone, Debug)]
pub struct UserStreamConfig {
    /// REST base (listen keys).
    pub rest_url: String,
    /// WebSocket base; the stream is `<ws_url>/ws/<listenKey>`.
    pub ws_url: String,
    /// The API key (listen-key requests carry it; they are not signed).
    pub api_key: Hidden,
    /// Wallet whose balance account updates carry.
    pub margin_asset: String,
    /// Keepalive interval (Binance: the key lives 60 min without one).
    pub keepalive: Duration,
    /// Read tick.
    pub poll: Duration,
    /// Reconnect backoff bounds.
    pub backoff_min: Duration,
    /// Reconnect backoff bounds.
    pub backoff_max: Duration,
    /// The leverage the config (and the margin model) assumes; a different
    /// one set at the exchange is warned about and counted.
    pub leverage: Option<u32>,
    /// The roots `wss://` and `https://` are checked against.
    pub trust: Trust,
}

/// Counters of the user-data stream (shared with the runtime's summary).
#[derive(Debug, Default)]
pub struct UserStats {
    /// Messages read.
    pub messages: AtomicU64,
    /// Events published.
    pub events: AtomicU64,
    /// Messages refused (malformed, unknown symbol).
    pub refused: AtomicU64,
    /// Reports of orders the engine did not place.
    pub foreign: AtomicU64,
    /// Leverage changes at the exchange that differ from the configured
    /// leverage.
    pub leverage_mismatches: AtomicU64,
    /// Fills of the exchange's own orders on our positions (liquidation,
    /// ADL, settlement), each published as an exchange close.
    pub exchange_closes: AtomicU64,
    /// Listen keys created.
    pub listen_keys: AtomicU64,
    /// Keepalives sent.
    pub keepalives: AtomicU64,
    /// `listenKeyExpired` messages.
    pub expired: AtomicU64,
    /// Connections opened.
    pub connects: AtomicU64,
    /// Failures to get a key or connect.
    pub connect_failures: AtomicU64,
    /// Reports dropped because an earlier copy was already published.
    pub duplicates: AtomicU64,
    /// Reconciliations run (after each connect, and at stop if needed).
    pub reconciliations: AtomicU64,
    /// Reports the stream missed, recovered over REST.
    pub recovered: AtomicU64,
    /// Reconciliations that failed (retried each second).
    pub reconcile_failures: AtomicU64,
}

/// The user-data stream client.
pub struct UserStream {
    cfg: UserStreamConfig,
    symbols: Symbols,
    rest: RestClient,
    /// Signed queries and the order ledger, to recover missed reports.
    reconciler: Option<(ExecClient, Arc<OrderLedger>)>,
    stats: Arc<UserStats>,
    buf: Vec<u8>,
    events: Vec<InputEvent>,
}

/// Why the stream thread stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserEnded {
    /// `stop` was set.
    Stopped,
    /// The input ring refused a publish (the pipeline halted).
    RingClosed,
}

impl UserStream {
    /// A client of `cfg` for the engine's `symbols`.
    pub fn new(cfg: UserStreamConfig, symbols: Symbols) -> UserStream {
        let rest = RestClient::with_trust(&cfg.rest_url, Duration::from_secs(10), &cfg.trust);
        UserStream {
            cfg,
            symbols,
            rest,
            reconciler: None,
            stats: Arc::new(UserStats::default()),
            buf: Vec::with_capacity(1 << 16),
            events: Vec::with_capacity(16),
        }
    }

    /// Recovers missed reports through `client` and drops duplicates with
    /// `ledger` (see [`super::ledger`]): after every connect, each order
    /// not known to be finished is queried; at stop, the same if any order
    /// is still unsettled.
    pub fn with_reconciler(mut self, client: ExecClient, ledger: Arc<OrderLedger>) -> UserStream {
        self.reconciler = Some((client, ledger));
        self
    }

    /// Queries the ledger's open orders and publishes what the stream
    /// missed; `Ok(false)` if the ring refused (the pipeline halted).
    fn reconcile(&mut self, publisher: &mut InputPublisher) -> Result<bool, RestError> {
        let Some((client, ledger)) = self.reconciler.as_mut() else {
            return Ok(true);
        };
        self.events.clear();
        self.stats.reconciliations.fetch_add(1, Ordering::Relaxed);
        let found = reconcile(client, ledger, &mut self.events);
        for ev in &self.events {
            if publisher.publish(*ev).is_err() {
                return Ok(false);
            }
            self.stats.events.fetch_add(1, Ordering::Relaxed);
            self.stats.recovered.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = &found {
            self.stats
                .reconcile_failures
                .fetch_add(1, Ordering::Relaxed);
            eprintln!("user data stream: reconciling open orders failed ({e}); retrying");
        }
        found.map(|_| true)
    }

    /// The counters, readable while the thread runs.
    pub fn stats(&self) -> Arc<UserStats> {
        Arc::clone(&self.stats)
    }

    fn listen_key(&mut self, method: Method, key: Option<&str>) -> Result<String, String> {
        let query = key.map_or(String::new(), |k| format!("listenKey={k}"));
        let reply = self
            .rest
            .send(
                method,
                "/fapi/v1/listenKey",
                &query,
                Some(&self.cfg.api_key),
            )
            .map_err(|e| e.to_string())?;
        let mut body = reply.body;
        let v = simd_json::to_borrowed_value(&mut body).map_err(|e| e.to_string())?;
        Ok(v.get("listenKey")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string())
    }

    fn open(&mut self) -> Result<(Socket, String), String> {
        let key = self.listen_key(Method::Post, None)?;
        if key.is_empty() {
            return Err("listenKey missing from the reply".into());
        }
        self.stats.listen_keys.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}/ws/{key}", self.cfg.ws_url.trim_end_matches('/'));
        let ws = connect_url(&url, self.cfg.poll, &self.cfg.trust)?;
        self.stats.connects.fetch_add(1, Ordering::Relaxed);
        Ok((ws, key))
    }

    /// Reads the stream until `stop`, publishing order and account events.
    pub fn run(&mut self, publisher: &mut InputPublisher, stop: &AtomicBool) -> UserEnded {
        let ended = self.read(publisher, stop);
        let unsettled = self
            .reconciler
            .as_ref()
            .is_some_and(|(_, l)| l.unsettled() > 0);
        if ended == UserEnded::Stopped && unsettled {
            // Reports that never came: ask for them before letting go.
            if let Ok(false) = self.reconcile(publisher) {
                return UserEnded::RingClosed;
            }
        }
        ended
    }

    fn read(&mut self, publisher: &mut InputPublisher, stop: &AtomicBool) -> UserEnded {
        let mut backoff = self.cfg.backoff_min;
        'connect: loop {
            if stop.load(Ordering::Acquire) {
                return UserEnded::Stopped;
            }
            let (mut ws, key) = match self.open() {
                Ok(x) => {
                    backoff = self.cfg.backoff_min;
                    x
                }
                Err(e) => {
                    self.stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                    eprintln!("user data stream: {e}; retrying in {backoff:?}");
                    let until = Instant::now() + backoff;
                    while Instant::now() < until && !stop.load(Ordering::Acquire) {
                        std::thread::sleep(self.cfg.poll);
                    }
                    backoff = (backoff * 2).min(self.cfg.backoff_max);
                    continue;
                }
            };
            let mut last_keepalive = Instant::now();
            // Connected: whatever happened while we were not is asked for
            // now (reports arriving meanwhile wait on the socket).
            let mut reconcile_at = Some(Instant::now());
            let mut overdue_check = Instant::now() + OVERDUE_CHECK;
            loop {
                let now = Instant::now();
                if now >= overdue_check {
                    // A report lost while the connection stayed up.
                    overdue_check = now + OVERDUE_CHECK;
                    let overdue = self
                        .reconciler
                        .as_ref()
                        .is_some_and(|(_, l)| l.overdue(OVERDUE));
                    if overdue && reconcile_at.is_none() {
                        reconcile_at = Some(now);
                    }
                }
                if reconcile_at.is_some_and(|t| now >= t) {
                    reconcile_at = match self.reconcile(publisher) {
                        Ok(true) => None,
                        Ok(false) => return UserEnded::RingClosed,
                        Err(_) => Some(Instant::now() + Duration::from_secs(1)),
                    };
                }
                if stop.load(Ordering::Acquire) {
                    let _ = ws.close(None);
                    let _ = self.listen_key(Method::Delete, Some(&key));
                    return UserEnded::Stopped;
                }
                if last_keepalive.elapsed() >= self.cfg.keepalive {
                    last_keepalive = Instant::now();
                    match self.listen_key(Method::Put, Some(&key)) {
                        Ok(_) => {
                            self.stats.keepalives.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            eprintln!("user data stream: keepalive refused ({e}); new key");
                            continue 'connect;
                        }
                    }
                }
                let msg = match ws.read() {
                    Ok(m) => m,
                    Err(e) if is_tick(&e) => continue,
                    Err(e) => {
                        eprintln!("user data stream: connection lost ({e}); reconnecting");
                        continue 'connect;
                    }
                };
                let bytes = match &msg {
                    Message::Text(t) => t.as_bytes(),
                    Message::Binary(b) => b.as_ref(),
                    Message::Close(_) => continue 'connect,
                    _ => continue,
                };
                self.stats.messages.fetch_add(1, Ordering::Relaxed);
                self.buf.clear();
                self.buf.extend_from_slice(bytes);
                self.events.clear();
                let recv = mono_now();
                match parse_user(
                    &mut self.buf,
                    &self.symbols,
                    &self.cfg.margin_asset,
                    recv,
                    &mut self.events,
                ) {
                    Ok(UserMessage::ListenKeyExpired) => {
                        self.stats.expired.fetch_add(1, Ordering::Relaxed);
                        let _ = ws.close(None);
                        continue 'connect;
                    }
                    Ok(UserMessage::Foreign) => {
                        self.stats.foreign.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(UserMessage::Leverage(l)) if self.cfg.leverage.is_some_and(|c| c != l) => {
                        self.stats
                            .leverage_mismatches
                            .fetch_add(1, Ordering::Relaxed);
                        eprintln!(
                            "user data stream: the exchange's leverage was set to {l}x, the config \
                             says {}x: margin and liquidation estimates assume the config's",
                            self.cfg.leverage.unwrap_or(0)
                        );
                    }
                    Ok(UserMessage::ExchangeClose) => {
                        self.stats.exchange_closes.fetch_add(1, Ordering::Relaxed);
                        eprintln!(
                            "user data stream: the exchange closed part of a position itself"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.stats.refused.fetch_add(1, Ordering::Relaxed);
                        eprintln!("user data stream: refused a message: {e}");
                    }
                }
                autobot_engine::runtime::clock::stamp_parsed(&mut self.events);
                for ev in &self.events {
                    if let (InputBody::OrderUpdate(u), Some((_, ledger))) =
                        (&ev.body, &self.reconciler)
                        && !ledger.admit(u)
                    {
                        self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if publisher.publish(*ev).is_err() {
                        return UserEnded::RingClosed;
                    }
                    self.stats.events.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}
