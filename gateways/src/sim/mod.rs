//! `autobot simexchange`: a local exchange speaking Binance USD-M's
//! protocol on loopback, so the engine's real gateways (sockets, parsing,
//! sync, reconnects) and other clients (ccxt, Binance's connector) run end
//! to end without the internet (docs/simexchange.md).
//!
//! - WebSocket (tungstenite) on its own port, every URL form Binance serves
//!   with live subscriptions and keep-alive (`clients`), each client
//!   served the streams it named from one shared market timeline (a
//!   reconnecting client joins the market where it is now, as on the
//!   exchange). The timeline is the seeded synthetic market or a capture
//!   file replayed at a chosen speed ([`feed`]).
//! - REST (tiny_http) on another port: the public endpoints (`public`:
//!   time, exchangeInfo, depth, tickers, premium index, candles, trades)
//!   with the `X-MBX-USED-WEIGHT-1M` header and Binance-shaped error
//!   bodies.
//! - Signed trading for one or more accounts ([`SimAccount`]: a key pair,
//!   a wallet, a leverage), each checked as Binance checks it (API key,
//!   `timestamp` within `recvWindow`, the signature over query and body:
//!   `rest`), filtered ([`filters`]) and matched by the account's own
//!   exchange model ([`venue`] adapts it) against the streamed book; listen
//!   keys and user-data streams carrying `ORDER_TRADE_UPDATE`,
//!   `ACCOUNT_UPDATE` and `ALGO_UPDATE`.
//! - Fault injection for tests ([`SimHandle`]): drop every connection,
//!   stall the feed, inject raw messages, skew the exchange clock (so
//!   signed requests meet -1021), throttle (-1003 with `Retry-After`),
//!   expire listen keys, a user-stream outage.
//!
//! Threads: one accepting WebSocket clients (`accept`: blocking accept
//! and handshake, TLS's too; the simulator is not on the engine's hot
//! path), one running the feed
//! (paced, writes each message to its subscribers with a write timeout so
//! a stuck client is dropped instead of stalling the market), one reading
//! the clients (requests, pings, closes) and pinging them, one serving
//! REST.

mod accept;
mod clients;
mod derived;
pub mod due;
pub mod feed;
pub mod filters;
mod handle;
mod limits;
mod public;
mod rest;
mod stream;
pub mod tape;
pub mod venue;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use autobot_engine::event::InputEvent;
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::Instrument;
use tungstenite::{Message, WebSocket};

use crate::binance::sign::Signer;
use crate::credentials::Hidden;
use crate::http::TlsIdentity;
use crate::synthetic::SyntheticConfig;
use feed::{CaptureFeed, Feed, FeedError, ItemKind, SyntheticFeed};
use venue::{AccountConfig, Venue};

pub use handle::SimHandle;

/// Whose time the exchange keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimClock {
    /// The host's: `serverTime` and the `recvWindow` check read the wall
    /// clock while market data, orders and fills carry the data's times
    /// (the simulator inside `autobot run`, whose market runs faster than
    /// real time).
    Wall,
    /// The data's: every endpoint reports, and the `recvWindow` check
    /// reads, the time of the market streamed (the host's until the first
    /// message).
    Data,
}

/// What the simulator streams.
#[derive(Clone, Debug)]
pub enum SimSource {
    /// The seeded synthetic market, at its `events_per_sec`.
    Synthetic {
        /// The generator.
        config: SyntheticConfig,
        /// Events generated and not streamed first (a resumed run
        /// continues the market where its journal ends).
        skip: u64,
        /// End the feed after this many messages.
        max_items: Option<u64>,
    },
    /// A capture file (`<receive ns> <json>` lines, plain or `.gz`), at its
    /// recorded pace times [`SimConfig::speed`].
    Capture(PathBuf),
}

/// How to run the simulator.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// What to stream.
    pub source: SimSource,
    /// Pace multiplier of the source (the synthetic market's
    /// `events_per_sec`, a capture's recorded pace); 0 = as fast as the
    /// clients read.
    pub speed: f64,
    /// The instruments it lists and trades.
    pub instruments: Vec<Instrument>,
    /// WebSocket listen address (`127.0.0.1:0` picks a free port).
    pub ws_bind: SocketAddr,
    /// REST listen address.
    pub rest_bind: SocketAddr,
    /// Hold the market until the first client subscribes (so a client that
    /// connects a moment late misses nothing of a capture).
    pub start_on_first_client: bool,
    /// Ping every connection this often (the exchange pings too; a client
    /// must answer).
    pub ping_every: Duration,
    /// The accounts it keeps, each with the API key and secret it accepts
    /// for it (several at once: a signed request trades the account its
    /// key names). None: every signed request is refused (-2015), as an
    /// exchange does for an unknown key.
    pub accounts: Vec<SimAccount>,
    /// The fills and margin rules of the market model that answers the
    /// public endpoints when no account is configured.
    pub account: AccountConfig,
    /// Load generator: prefix every stream frame with its intended send
    /// time (`due::DUE_PREFIX_LEN` bytes: 20 digits of `clock::mono_now` ns
    /// and a space), for a gateway that measures from it (`due::DueTime`).
    /// Never set for a Binance-shaped feed.
    pub due_prefix: bool,
    /// Whose time the exchange keeps.
    pub clock: SimClock,
    /// Refuse requests over Binance's weight and order-count limits
    /// (counted and reported in headers either way).
    pub enforce_limits: bool,
    /// The synthetic market starts now (its times moved from
    /// [`crate::synthetic::ORIGIN`] to the simulator's start).
    pub start_now: bool,
    /// Lockstep: the feed sends one item per permit given with
    /// [`SimHandle::release`], so a test can hold the market still while
    /// a client answers it (parity tests against the backtest).
    pub lockstep: bool,
    /// Serve the WebSocket port under TLS with this identity (`wss://`;
    /// REST stays plain): the path testnet and live take, on loopback.
    pub tls: Option<TlsIdentity>,
}

impl SimConfig {
    /// Defaults on free loopback ports.
    pub fn loopback(source: SimSource, instruments: Vec<Instrument>) -> SimConfig {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        SimConfig {
            source,
            speed: 1.0,
            instruments,
            ws_bind: any,
            rest_bind: any,
            start_on_first_client: true,
            ping_every: Duration::from_secs(30),
            accounts: Vec::new(),
            account: AccountConfig::default(),
            due_prefix: false,
            clock: SimClock::Wall,
            enforce_limits: false,
            start_now: false,
            lockstep: false,
            tls: None,
        }
    }

    /// Adds an account with this key pair and [`SimConfig::account`]'s
    /// wallet and rules (set those first).
    pub fn add_key(&mut self, api_key: Hidden, secret: Hidden) {
        self.accounts.push(SimAccount {
            api_key,
            secret,
            account: self.account.clone(),
        });
    }
}

/// One simulated account: the key pair a client signs with and the
/// account's wallet, leverage and fills.
#[derive(Clone, Debug)]
pub struct SimAccount {
    /// The API key (`X-MBX-APIKEY`).
    pub api_key: Hidden,
    /// The HMAC secret, or the Ed25519 private key (PEM) the client signs
    /// with.
    pub secret: Hidden,
    /// Wallet, leverage, fees and margin rules.
    pub account: AccountConfig,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A listen address is taken or invalid.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// OS error.
        source: std::io::Error,
    },
    /// The capture could not be opened.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// An account's secret is not an HMAC secret or an Ed25519 private key.
    #[error("account {index}: the secret is not an HMAC secret or an Ed25519 private key (PEM)")]
    BadKey {
        /// The account's place in the list (from 1).
        index: usize,
    },
    /// Two accounts have the same API key.
    #[error("accounts {first} and {second} have the same API key")]
    DuplicateKey {
        /// The earlier account (from 1).
        first: usize,
        /// The later one.
        second: usize,
    },
}

/// Counters of a running simulator.
#[derive(Debug, Default)]
pub struct SimStats {
    /// Feed items streamed (or taken as snapshots).
    pub items: AtomicU64,
    /// Messages written to clients.
    pub sent: AtomicU64,
    /// WebSocket clients accepted.
    pub connections: AtomicU64,
    /// Clients dropped (closed, failed write, fault injection).
    pub dropped: AtomicU64,
    /// REST requests answered.
    pub rest_requests: AtomicU64,
    /// Orders accepted.
    pub orders: AtomicU64,
    /// Signed requests refused for their key, signature or timestamp.
    pub auth_refused: AtomicU64,
    /// Requests refused by the rate limit (-1003).
    pub throttled: AtomicU64,
    /// User-data events written to clients.
    pub user_events: AtomicU64,
    /// Streamed messages the simulator's own book and clock did not adopt
    /// (an implausible time or update id: `Venue::on_stream`). They are
    /// still streamed as recorded, so clients meet them too.
    pub implausible: AtomicU64,
}

/// A user-data stream connection: its listen key and account.
struct UserStream {
    key: String,
    account: usize,
    ws: WebSocket<stream::SimStream>,
}

struct Shared {
    clients: Mutex<Vec<clients::Client>>,
    /// User-data stream connections.
    users: Mutex<Vec<UserStream>>,
    /// Live listen keys and the account each belongs to.
    listen_keys: Mutex<BTreeMap<String, usize>>,
    /// User-data connections are refused (fault injection).
    user_outage: AtomicBool,
    /// Each account's signer (the index is the account's).
    signers: Vec<Signer>,
    /// One exchange model per account, each following the one market
    /// (an account's orders do not move another's book); the first also
    /// answers the public endpoints. Never empty.
    venues: Vec<Mutex<Venue>>,
    /// Added to the exchange clock (fault injection).
    clock_skew_ms: AtomicI64,
    /// Whose time the exchange keeps.
    clock: SimClock,
    /// The time of the market streamed, ms (0 before the first message).
    data_ms: AtomicU64,
    /// Moves whenever a client's subscriptions may have changed (derived
    /// streams recompute what is wanted then, not per message).
    subscriptions: AtomicU64,
    /// Each account's new-order counts.
    order_counts: Mutex<Vec<limits::OrderCount>>,
    /// Refuse what is over a rate limit.
    enforce_limits: bool,
    /// Signed requests still to refuse with -1003 (fault injection).
    throttle: AtomicU64,
    instruments: Vec<Instrument>,
    /// Hours between fundings (the next funding time before the model
    /// announced one).
    funding_interval_hours: u32,
    stop: AtomicBool,
    finished: AtomicBool,
    /// Feed stalled until this instant (fault injection).
    stall_until: Mutex<Option<Instant>>,
    stats: SimStats,
    feed_error: Mutex<Option<String>>,
    /// Raw messages to send before the next feed item (fault injection).
    inject: Mutex<Vec<(String, String)>>,
    /// Feed items still allowed in lockstep (`None`: not in lockstep).
    permits: Mutex<Option<u64>>,
    permit_given: Condvar,
}

/// The host's clock, ms.
fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The exchange clock ([`SimClock`]), moved by the injected skew.
fn now_ms(shared: &Shared) -> u64 {
    let data = shared.data_ms.load(Ordering::Acquire);
    let base = match shared.clock {
        SimClock::Data if data != 0 => data,
        _ => wall_ms(),
    };
    base.saturating_add_signed(shared.clock_skew_ms.load(Ordering::Acquire))
}

/// Locks, recovering the data if a holder panicked (the simulator keeps
/// serving; a poisoned client list is still a list).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running simulator; dropping it stops every thread.
pub struct SimExchange {
    ws_addr: SocketAddr,
    ws_tls: bool,
    rest_addr: SocketAddr,
    shared: Arc<Shared>,
    rest: Arc<tiny_http::Server>,
    threads: Vec<JoinHandle<()>>,
}

impl SimExchange {
    /// Binds both ports and starts serving.
    pub fn start(cfg: SimConfig) -> Result<SimExchange, SimError> {
        // A capture's snapshot line names no symbol; with one instrument
        // it can only be that one.
        let only = (cfg.instruments.len() == 1).then(|| cfg.instruments[0].name.to_string());
        let feed = match &cfg.source {
            SimSource::Synthetic {
                config,
                skip,
                max_items,
            } => {
                let mut f = SyntheticFeed::new(config, &cfg.instruments, *skip, *max_items);
                if cfg.start_now {
                    f.start_at(wall_ms().saturating_mul(1_000_000));
                }
                Feed::Synthetic(Box::new(f))
            }
            SimSource::Capture(path) => Feed::Capture(CaptureFeed::open(path, only.clone())?),
        };
        let speed = cfg.speed;
        let mut signers = Vec::with_capacity(cfg.accounts.len());
        for (i, a) in cfg.accounts.iter().enumerate() {
            if let Some(first) = cfg.accounts[..i]
                .iter()
                .position(|b| b.api_key == a.api_key)
            {
                return Err(SimError::DuplicateKey {
                    first: first + 1,
                    second: i + 1,
                });
            }
            let signer = Signer::try_from_parts(a.api_key.clone(), &a.secret)
                .map_err(|_| SimError::BadKey { index: i + 1 })?;
            signers.push(signer);
        }
        let models: Vec<&AccountConfig> = if cfg.accounts.is_empty() {
            vec![&cfg.account]
        } else {
            cfg.accounts.iter().map(|a| &a.account).collect()
        };
        let mut venues: Vec<Venue> = models
            .iter()
            .map(|a| Venue::new(a, &cfg.instruments))
            .collect();
        if let SimSource::Capture(path) = &cfg.source {
            // The first snapshot of each symbol is served before the stream
            // reaches it (see `venue`).
            let mut scan = CaptureFeed::open(path, only)?;
            while let Some(item) = scan.next_item()? {
                if let ItemKind::Snapshot(sym) = item.kind {
                    for venue in &mut venues {
                        venue.hold_snapshot(&sym, item.text.clone());
                    }
                }
            }
        }
        let listener = TcpListener::bind(cfg.ws_bind).map_err(|source| SimError::Bind {
            addr: cfg.ws_bind,
            source,
        })?;
        let ws_addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: cfg.ws_bind,
            source,
        })?;
        let rest = tiny_http::Server::http(cfg.rest_bind).map_err(|e| SimError::Bind {
            addr: cfg.rest_bind,
            source: std::io::Error::other(e.to_string()),
        })?;
        let rest_addr = rest.server_addr().to_ip().ok_or_else(|| SimError::Bind {
            addr: cfg.rest_bind,
            source: std::io::Error::other("not an IP listener"),
        })?;
        let rest = Arc::new(rest);
        let shared = Arc::new(Shared {
            clients: Mutex::new(Vec::new()),
            users: Mutex::new(Vec::new()),
            listen_keys: Mutex::new(BTreeMap::new()),
            user_outage: AtomicBool::new(false),
            signers,
            venues: venues.into_iter().map(Mutex::new).collect(),
            clock_skew_ms: AtomicI64::new(0),
            clock: cfg.clock,
            data_ms: AtomicU64::new(0),
            subscriptions: AtomicU64::new(0),
            order_counts: Mutex::new(vec![limits::OrderCount::default(); cfg.accounts.len()]),
            enforce_limits: cfg.enforce_limits,
            throttle: AtomicU64::new(0),
            instruments: cfg.instruments.clone(),
            funding_interval_hours: models[0].rules.funding_interval_hours,
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            stall_until: Mutex::new(None),
            stats: SimStats::default(),
            feed_error: Mutex::new(None),
            inject: Mutex::new(Vec::new()),
            permits: Mutex::new(cfg.lockstep.then_some(0)),
            permit_given: Condvar::new(),
        });
        let mut threads = Vec::new();
        let s = Arc::clone(&shared);
        let tls = cfg.tls.as_ref().map(TlsIdentity::server_config);
        let ws_tls = tls.is_some();
        threads.push(spawn("autobot-sim-accept", move || {
            accept::accept(&listener, tls.as_ref(), &s);
        }));
        let s = Arc::clone(&shared);
        let pace = Pace {
            speed,
            wait_for_client: cfg.start_on_first_client,
            due_prefix: cfg.due_prefix,
        };
        threads.push(spawn("autobot-sim-feed", move || stream(feed, &pace, &s)));
        let (s, ping_every) = (Arc::clone(&shared), cfg.ping_every);
        threads.push(spawn("autobot-sim-clients", move || {
            clients::serve(&s, ping_every);
        }));
        let (s, r) = (Arc::clone(&shared), Arc::clone(&rest));
        threads.push(spawn("autobot-sim-rest", move || rest::serve(&r, &s)));
        Ok(SimExchange {
            ws_addr,
            ws_tls,
            rest_addr,
            shared,
            rest,
            threads,
        })
    }

    /// `ws://…` (`wss://…` under TLS) base of the market streams.
    pub fn ws_url(&self) -> String {
        let scheme = if self.ws_tls { "wss" } else { "ws" };
        format!("{scheme}://{}", self.ws_addr)
    }

    /// `http://…` base of the REST API.
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.rest_addr)
    }

    /// Controls.
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for SimExchange {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        // Taking the lock orders this after a lockstep feed's check of
        // `stop`, so the wake-up below cannot be missed.
        drop(lock(&self.shared.permits));
        self.shared.permit_given.notify_all();
        self.rest.unblock();
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.ws_addr, Duration::from_millis(200));
        self.handle().drop_connections();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .unwrap_or_else(|e| panic!("cannot start thread {name}: {e}"))
}

/// Sleeps until `due` in short steps, so a stop is seen promptly.
fn sleep_until(due: Instant, stop: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= due || stop.load(Ordering::Acquire) {
            return;
        }
        let left = due - now;
        if left > Duration::from_micros(200) {
            std::thread::sleep((left - Duration::from_micros(100)).min(Duration::from_millis(50)));
        } else {
            std::thread::yield_now();
        }
    }
}

/// How the feed thread paces and frames the feed.
struct Pace {
    speed: f64,
    wait_for_client: bool,
    due_prefix: bool,
}

fn stream(mut feed: Feed, pace: &Pace, shared: &Shared) {
    let Pace {
        speed,
        wait_for_client,
        due_prefix,
    } = *pace;
    while wait_for_client && lock(&shared.clients).is_empty() {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut start = Instant::now();
    // The same instant on the clock the engine stamps with, for due times.
    let mut start_mono = mono_now().0;
    let mut framed = String::with_capacity(1024);
    let mut events: Vec<InputEvent> = Vec::with_capacity(16);
    let mut derived = derived::Derived::new(&shared.instruments);
    // Frames written since the last flush: flushed before the thread
    // waits (for an item's time, a stall, a lockstep permit) and every
    // FLUSH_EVERY frames when it runs behind.
    let mut unflushed = 0u32;
    loop {
        if shared.stop.load(Ordering::Acquire) {
            flush_clients(shared, &mut unflushed);
            return;
        }
        let stall = lock(&shared.stall_until).take();
        if let Some(until) = stall {
            let now = Instant::now();
            if until > now {
                flush_clients(shared, &mut unflushed);
                sleep_until(until, &shared.stop);
                // The market resumes where it stopped, not with a burst.
                start += until - now;
                start_mono += u64::try_from((until - now).as_nanos()).unwrap_or(0);
            }
        }
        if unflushed > 0 && lock(&shared.permits).is_some() {
            // Lockstep: the reader may be waiting for these to release
            // the next permit.
            flush_clients(shared, &mut unflushed);
        }
        if !take_permit(shared) {
            flush_clients(shared, &mut unflushed);
            return;
        }
        let item = match feed.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => {
                *lock(&shared.feed_error) = Some(e.to_string());
                break;
            }
        };
        // Intended send time: the schedule's, however late the thread is
        // (so a stall downstream cannot hide by delaying the sends).
        let mut due_mono = 0;
        if speed > 0.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let due = Duration::from_nanos((item.due_ns as f64 / speed) as u64);
            if unflushed >= FLUSH_EVERY || Instant::now() < start + due {
                flush_clients(shared, &mut unflushed);
            }
            sleep_until(start + due, &shared.stop);
            due_mono = start_mono + u64::try_from(due.as_nanos()).unwrap_or(0);
        } else {
            if unflushed >= FLUSH_EVERY {
                flush_clients(shared, &mut unflushed);
            }
            if due_prefix {
                due_mono = mono_now().0;
            }
        }
        shared.stats.items.fetch_add(1, Ordering::Relaxed);
        match &item.kind {
            ItemKind::Snapshot(sym) => {
                for venue in &shared.venues {
                    lock(venue).on_snapshot(sym, &item.text);
                }
            }
            ItemKind::Stream(name) => {
                track(shared, &item.text, item.due_ns, &mut events);
                let injected = std::mem::take(&mut *lock(&shared.inject));
                let mut clients = lock(&shared.clients);
                for (stream, text) in &injected {
                    clients.retain_mut(|c| !c.streams.contains(stream) || c.send_envelope(text));
                }
                let text = if due_prefix {
                    due::frame(
                        &mut framed,
                        autobot_engine::types::MonoNanos(due_mono),
                        &item.text,
                    );
                    framed.as_str()
                } else {
                    item.text.as_str()
                };
                let before = clients.len();
                clients.retain_mut(|c| {
                    if !c.streams.contains(name) {
                        return true;
                    }
                    let ok = c.send_buffered(text);
                    if ok {
                        shared.stats.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    ok
                });
                unflushed += 1;
                let gone = (before - clients.len()) as u64;
                shared.stats.dropped.fetch_add(gone, Ordering::Relaxed);
                drop(clients);
                derived.on_item(shared, name, &events);
            }
        }
    }
    flush_clients(shared, &mut unflushed);
    shared.finished.store(true, Ordering::Release);
}

/// Frames the feed thread writes before it flushes, when it runs behind
/// its schedule (on schedule it flushes before each wait): at 1 M
/// messages a second a flush every 64 µs or so.
const FLUSH_EVERY: u32 = 64;

/// Flushes every market-data connection's buffered frames, dropping the
/// connections that fail (counted as the failed sends were).
fn flush_clients(shared: &Shared, unflushed: &mut u32) {
    if *unflushed == 0 {
        return;
    }
    *unflushed = 0;
    let mut clients = lock(&shared.clients);
    let before = clients.len();
    clients.retain_mut(clients::Client::flush);
    let gone = (before - clients.len()) as u64;
    shared.stats.dropped.fetch_add(gone, Ordering::Relaxed);
}

/// Lockstep: waits for a permit and takes it (`true` at once when not in
/// lockstep); `false` when the simulator stops first.
fn take_permit(shared: &Shared) -> bool {
    let mut permits = lock(&shared.permits);
    loop {
        match permits.as_mut() {
            None => return true,
            Some(p) if *p > 0 => {
                *p -= 1;
                return true;
            }
            Some(_) if shared.stop.load(Ordering::Acquire) => return false,
            Some(_) => {
                // Woken by `release`, or by `Drop` when the simulator stops.
                permits = shared
                    .permit_given
                    .wait(permits)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
    }
}

/// Feeds a streamed message (due at `due_ns` of the feed) to the
/// exchange model, then sends the user-data events it caused. A message
/// the venue refuses as implausible changes nothing.
fn track(shared: &Shared, text: &str, due_ns: u64, events: &mut Vec<InputEvent>) {
    // Each account's model parses the message itself: the same input
    // gives every model the same book (a handful of accounts at most).
    events.clear();
    for (account, venue) in shared.venues.iter().enumerate() {
        let events = {
            let mut venue = lock(venue);
            if !venue.on_stream(text, due_ns) && account == 0 {
                shared.stats.implausible.fetch_add(1, Ordering::Relaxed);
            }
            if account == 0 {
                let t = venue.model().now().0 / 1_000_000;
                shared.data_ms.fetch_max(t, Ordering::AcqRel);
                events.extend_from_slice(venue.last_events());
            }
            venue.take_events()
        };
        send_user(shared, account, &events);
    }
}

/// Writes `account`'s user-data events to its user streams, and to
/// market-data connections subscribed to one of its listen keys (wrapped
/// as that stream's messages when combined).
fn send_user(shared: &Shared, account: usize, events: &[String]) {
    // An outage loses what happens meanwhile (REST queries recover it).
    if events.is_empty() || shared.user_outage.load(Ordering::Acquire) {
        return;
    }
    let keys: Vec<String> = lock(&shared.listen_keys)
        .iter()
        .filter(|(_, a)| **a == account)
        .map(|(k, _)| k.clone())
        .collect();
    {
        let mut clients = lock(&shared.clients);
        clients.retain_mut(|c| {
            let Some(key) = keys.iter().find(|k| c.streams.contains(*k)) else {
                return true;
            };
            events.iter().all(|e| {
                let wrapped = format!(r#"{{"stream":"{key}","data":{e}}}"#);
                let ok = c.send_envelope(&wrapped);
                if ok {
                    shared.stats.user_events.fetch_add(1, Ordering::Relaxed);
                }
                ok
            })
        });
    }
    let mut users = lock(&shared.users);
    users.retain_mut(|u| {
        if u.account != account {
            return true;
        }
        events.iter().all(|e| {
            let ok = u.ws.send(Message::text(e.as_str())).is_ok();
            if ok {
                shared.stats.user_events.fetch_add(1, Ordering::Relaxed);
            }
            ok
        })
    });
}
