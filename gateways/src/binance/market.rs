//! The market-data gateway: Binance USD-M combined streams over WebSocket
//! into the input ring.
//!
//! # Threading
//! One blocking thread per connection (the caller pins it), reading with a
//! short socket timeout. A single socket gains nothing from mio's readiness
//! loop: a blocking read wakes on data with one syscall, and the timeout
//! gives the thread its ticks for stale-feed checks, resync requests and
//! shutdown. TLS (rustls) for `wss://`, plain TCP for the simulator.
//!
//! # What it owns
//! - Connecting, and reconnecting with exponential backoff and full jitter
//!   (the delay doubles per failed attempt up to a cap, and a uniform
//!   fraction of it is slept, so many clients do not retry in step); the
//!   forced reconnect before the exchange's 24 h limit.
//! - Depth snapshots: after each (re)connect, and whenever the `pu` chain
//!   breaks or the core asks ([`crate::resync::ResyncRequests`], from its `BookResync`
//!   alert), the REST snapshot of the symbol is fetched and published
//!   after the diffs already sent (the core buffers diffs until then).
//! - Feed health per symbol as `FeedStatus` events: `Stale` after
//!   `stale_after` without data, `Disconnected` when the socket is lost,
//!   `Healthy` on the next message.
//! - Parsing into fixed-size events; a message is published whole or not
//!   at all, and every refusal is counted by reason.
//! - Plausibility at the edge: a message whose exchange time drifts from
//!   the receive clock by more than the window, or a book ticker whose
//!   update id jumps beyond `max_update_jump` unconfirmed, is refused and
//!   counted (`plausible`).

use crate::resync::ResyncRequests;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::event::{Feed, FeedHealth, FeedStatus, InputBody, InputEvent, Source};
use autobot_engine::plausible::{Candidate, FeedClock};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::{MonoNanos, SymbolId, UnixNanos};
use rand::RngExt;
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::parse::{ParseError, Parsed, Parser};
use super::rest::{ErrorAction, RestClient, RestError};
use crate::trust::Trust;

/// Largest message accepted (Binance's largest stream messages are depth
/// diffs of a few tens of KB); a larger one ends the connection.
pub const MAX_MESSAGE: usize = 1 << 20;

/// How to connect.
#[derive(Clone, Debug)]
pub struct MarketFeedConfig {
    /// WebSocket base, e.g. `wss://fstream.binance.com` or `ws://127.0.0.1:port`.
    pub ws_url: String,
    /// REST base for depth snapshots.
    pub rest_url: String,
    /// Exchange names, in instrument order (index = `SymbolId`).
    pub symbols: Vec<String>,
    /// Stream suffixes per symbol: `bookTicker`, `aggTrade`, `trade`,
    /// `depth@100ms` (any `depth…` means the symbol keeps an L2 book).
    pub streams: Vec<String>,
    /// Levels per side of a depth snapshot.
    pub depth_limit: u32,
    /// No data for this long marks a symbol stale.
    pub stale_after: Duration,
    /// No frame at all for this long (pings included) ends the connection.
    pub dead_after: Duration,
    /// First reconnect delay.
    pub backoff_min: Duration,
    /// Largest reconnect delay.
    pub backoff_max: Duration,
    /// Reconnect after this long on one connection (the exchange closes
    /// connections at 24 h).
    pub max_connection_age: Duration,
    /// Socket read timeout: the tick of the gateway's checks.
    pub poll: Duration,
    /// Largest drift of exchange time from the receive clock between two
    /// messages (`plausible::FeedClock`); beyond it a message is refused.
    pub time_window: Duration,
    /// Largest jump of a symbol's book-ticker update id before it needs a
    /// second ticker to confirm it.
    pub max_update_jump: u64,
    /// The roots `wss://` and `https://` are checked against.
    pub trust: Trust,
}

impl MarketFeedConfig {
    /// The combined-stream URL: each per-symbol stream for every symbol,
    /// each all-market stream (`!markPrice@arr`) once.
    pub fn url(&self) -> String {
        let mut names = Vec::new();
        for s in &self.symbols {
            let l = s.to_ascii_lowercase();
            for k in self.streams.iter().filter(|k| !k.starts_with('!')) {
                names.push(format!("{l}@{k}"));
            }
        }
        names.extend(self.streams.iter().filter(|k| k.starts_with('!')).cloned());
        format!(
            "{}/stream?streams={}",
            self.ws_url.trim_end_matches('/'),
            names.join("/")
        )
    }

    /// Defaults for `symbols` × `streams` at these endpoints (1000-level
    /// snapshots, stale after 5 s, reconnect delays 100 ms … 10 s).
    pub fn public(
        ws_url: String,
        rest_url: String,
        symbols: Vec<String>,
        streams: Vec<String>,
    ) -> MarketFeedConfig {
        MarketFeedConfig {
            ws_url,
            rest_url,
            symbols,
            streams,
            depth_limit: 1000,
            stale_after: Duration::from_secs(5),
            dead_after: Duration::from_secs(15),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            // The exchange closes a connection at 24 h; leave before it does.
            max_connection_age: Duration::from_secs(23 * 3600 + 50 * 60),
            poll: Duration::from_millis(10),
            time_window: Duration::from_secs(300),
            max_update_jump: 1_000_000_000,
            trust: Trust::public(),
        }
    }

    fn has_depth(&self) -> bool {
        self.streams.iter().any(|s| s.starts_with("depth"))
    }
}

/// How the gateway stamps a text frame: the `recv` its events get, and the
/// message in the frame. A live feed uses [`ReadTime`]; the load generator
/// plugs in its own (`sim::due::DueTime`) so that the live gateway carries
/// no test hook, and pays nothing for one (the clock is a type parameter).
pub trait FrameClock: Send {
    /// The stamp of `frame`, read from the socket at `read`, and its message.
    fn stamp<'f>(&mut self, read: MonoNanos, frame: &'f [u8]) -> (MonoNanos, &'f [u8]);
}

/// A live feed's frame clock: events are stamped with the socket read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadTime;

impl FrameClock for ReadTime {
    #[inline]
    fn stamp<'f>(&mut self, read: MonoNanos, frame: &'f [u8]) -> (MonoNanos, &'f [u8]) {
        (read, frame)
    }
}

/// Refusal reasons counted by [`MarketStats::refused`].
pub const REFUSAL_REASONS: [&str; 10] = [
    "not json",
    "missing field",
    "bad decimal",
    "out of range",
    "unknown symbol",
    "unhandled event",
    "too many levels",
    "binary or oversized frame",
    "implausible time",
    "implausible update id",
];

/// [`REFUSAL_REASONS`] index of a message whose exchange time drifts from
/// the receive clock.
const IMPLAUSIBLE_TIME: usize = 8;
/// [`REFUSAL_REASONS`] index of a book ticker whose update id jumps.
const IMPLAUSIBLE_ID: usize = 9;

fn reason_index(e: &ParseError) -> usize {
    match e {
        ParseError::Json => 0,
        ParseError::Field(_) => 1,
        ParseError::Decimal(_) => 2,
        ParseError::Range(_) => 3,
        ParseError::UnknownSymbol => 4,
        ParseError::UnknownEvent => 5,
        ParseError::TooManyLevels => 6,
    }
}

/// What the gateway did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarketStats {
    /// Text messages received.
    pub messages: u64,
    /// Events published.
    pub events: u64,
    /// Well-formed messages with nothing for the core.
    pub ignored: u64,
    /// Messages refused, by [`REFUSAL_REASONS`].
    pub refused: [u64; 10],
    /// Connections made.
    pub connects: u64,
    /// Connection attempts that failed.
    pub connect_failures: u64,
    /// Why the latest of them failed (an untrusted certificate, a refused
    /// port), for a run that ends without market data to name.
    pub last_connect_error: Option<String>,
    /// Connections lost (closed, reset, dead, oversized frame).
    pub disconnects: u64,
    /// Snapshots published.
    pub snapshots: u64,
    /// Snapshot requests that failed.
    pub snapshot_failures: u64,
    /// `pu` chain breaks seen.
    pub gaps: u64,
    /// Times a symbol went stale.
    pub stale: u64,
}

impl MarketStats {
    /// All refusals.
    pub fn refused_total(&self) -> u64 {
        self.refused.iter().sum()
    }
}

pub(crate) type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// Bytes read from the socket at a time (see `connect_url`).
const READ_CHUNK: usize = 16 * 1024;

/// Per-symbol state.
#[derive(Clone, Copy, Debug)]
struct SymState {
    health: FeedHealth,
    /// Receive time of the last data (the message's own stamp).
    last_data: MonoNanos,
    need_snapshot: bool,
    /// `u` of the last diff sent, 0 before one.
    last_u: u64,
    /// Update id of the last book ticker sent, 0 before one.
    ticker_u: u64,
    /// A ticker id beyond the jump, waiting for the next to confirm it.
    ticker_jump: Candidate,
}

/// The gateway; `C` stamps the frames ([`ReadTime`] for a live feed).
pub struct MarketGateway<C = ReadTime> {
    cfg: MarketFeedConfig,
    parser: Parser,
    rest: RestClient,
    syms: Vec<SymState>,
    buf: Vec<u8>,
    events: Vec<InputEvent>,
    /// Counters.
    pub stats: MarketStats,
    /// Not before this instant may REST be called again (a back-off).
    rest_after: Option<Instant>,
    /// Text messages received, readable from other threads.
    received: Arc<AtomicU64>,
    /// Some stream is a diff-depth stream.
    has_depth: bool,
    /// A diff arrived for a symbol that needs a snapshot.
    snapshot_due: bool,
    /// Stamps each text frame.
    frames: C,
    /// Exchange time against the receive clock (the edge's plausibility).
    clock: FeedClock,
}

/// Why [`MarketGateway::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The stop flag was set.
    Stopped,
    /// The pipeline halted or closed its ring.
    PipelineGone,
}

/// `true` for the read timeout that is the gateway's tick (not a failure).
pub(crate) fn is_tick(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if matches!(
        io.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ))
}

/// Opens the combined stream of `cfg`, with `cfg.poll` as the read timeout.
pub(crate) fn connect(cfg: &MarketFeedConfig) -> Result<Socket, String> {
    connect_url(&cfg.url(), cfg.poll, &cfg.trust)
}

/// Opens a WebSocket to `url` whose reads time out after `poll` (the
/// reading thread's tick), a `wss://` one checked against `trust`.
pub(crate) fn connect_url(url: &str, poll: Duration, trust: &Trust) -> Result<Socket, String> {
    let req = url.into_client_request().map_err(|e| e.to_string())?;
    let host = req.uri().host().ok_or("no host in ws_url")?.to_string();
    let tls = req.uri().scheme_str() == Some("wss");
    let port = req.uri().port_u16().unwrap_or(if tls { 443 } else { 80 });
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}: no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("{addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    // tungstenite zero-fills `read_buffer_size` bytes before every socket
    // read (`FrameCodec::read_in`): at its 128 KiB default that memset was
    // a quarter of the gateway's time in the 1 M msgs/s load test
    // (docs/performance.md). 16 KiB still takes ~80 book tickers a read;
    // larger frames grow the buffer as before.
    let ws_cfg = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
        .read_buffer_size(READ_CHUNK);
    let (ws, _) = tungstenite::client_tls_with_config(req, tcp, Some(ws_cfg), trust.ws_connector())
        .map_err(|e| e.to_string())?;
    // After the handshake, the short timeout is the gateway's tick.
    let tcp = match ws.get_ref() {
        MaybeTlsStream::Plain(s) => s,
        MaybeTlsStream::Rustls(s) => &s.sock,
        _ => return Err("unsupported stream".into()),
    };
    tcp.set_read_timeout(Some(poll.max(Duration::from_millis(1))))
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

impl MarketGateway {
    /// A gateway for `cfg`, parsing with `parser` (whose symbols are
    /// `cfg.symbols` in order), stamping frames with the socket read.
    pub fn new(cfg: MarketFeedConfig, parser: Parser) -> MarketGateway {
        MarketGateway::with_clock(cfg, parser, ReadTime)
    }
}

impl<C: FrameClock> MarketGateway<C> {
    /// A gateway whose frames `frames` stamps.
    pub fn with_clock(cfg: MarketFeedConfig, parser: Parser, frames: C) -> MarketGateway<C> {
        let now = mono_now();
        let rest = RestClient::with_trust(&cfg.rest_url, Duration::from_secs(10), &cfg.trust);
        let window = u64::try_from(cfg.time_window.as_nanos()).unwrap_or(u64::MAX);
        MarketGateway {
            clock: FeedClock::new(window),
            has_depth: cfg.has_depth(),
            snapshot_due: false,
            syms: vec![
                SymState {
                    health: FeedHealth::Healthy,
                    last_data: now,
                    need_snapshot: false,
                    last_u: 0,
                    ticker_u: 0,
                    ticker_jump: Candidate::default(),
                };
                cfg.symbols.len()
            ],
            cfg,
            parser,
            rest,
            buf: Vec::with_capacity(MAX_MESSAGE),
            events: Vec::with_capacity(1024),
            stats: MarketStats::default(),
            rest_after: None,
            received: Arc::new(AtomicU64::new(0)),
            frames,
        }
    }

    /// A counter of the text messages received, for other threads.
    pub fn received(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.received)
    }

    /// Runs until `stop` is set or the pipeline goes away.
    pub fn run(
        &mut self,
        publisher: &mut InputPublisher,
        resync: &ResyncRequests,
        stop: &AtomicBool,
    ) -> Ended {
        let mut attempt: u32 = 0;
        loop {
            if stop.load(Ordering::Acquire) {
                return Ended::Stopped;
            }
            let mut ws = match connect(&self.cfg) {
                Ok(ws) => ws,
                Err(e) => {
                    self.stats.connect_failures += 1;
                    eprintln!("market gateway: connect failed: {e}");
                    self.stats.last_connect_error = Some(e);
                    if !self.back_off(&mut attempt, stop) {
                        return Ended::Stopped;
                    }
                    continue;
                }
            };
            self.stats.connects += 1;
            let since = Instant::now();
            let now = mono_now();
            for s in &mut self.syms {
                s.need_snapshot = self.has_depth;
                s.last_u = 0;
                s.last_data = now;
            }
            let why = self.session(&mut ws, publisher, resync, stop);
            let _ = ws.close(None);
            let _ = ws.flush();
            match why {
                Err(ended) => return ended,
                Ok(reason) => {
                    self.stats.disconnects += 1;
                    eprintln!("market gateway: connection lost: {reason}");
                    if self
                        .set_health_all(FeedHealth::Disconnected, publisher)
                        .is_err()
                    {
                        return Ended::PipelineGone;
                    }
                    // A connection that lived a while resets the backoff.
                    if since.elapsed() > Duration::from_secs(10) {
                        attempt = 0;
                    }
                    if !self.back_off(&mut attempt, stop) {
                        return Ended::Stopped;
                    }
                }
            }
        }
    }

    /// Sleeps the next backoff delay; `false` if stopped meanwhile.
    fn back_off(&mut self, attempt: &mut u32, stop: &AtomicBool) -> bool {
        let cap = self.cfg.backoff_max.max(self.cfg.backoff_min);
        let base = self
            .cfg
            .backoff_min
            .saturating_mul(1u32 << (*attempt).min(16))
            .min(cap);
        *attempt = attempt.saturating_add(1);
        let delay = base.mul_f64(rand::rng().random_range(0.5..=1.0));
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if stop.load(Ordering::Acquire) {
                return false;
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
        }
        true
    }

    /// One connection; `Ok(reason)` when it ended and a reconnect is due.
    fn session(
        &mut self,
        ws: &mut Socket,
        publisher: &mut InputPublisher,
        resync: &ResyncRequests,
        stop: &AtomicBool,
    ) -> Result<String, Ended> {
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let (poll, dead, max_age) = (
            ns(self.cfg.poll),
            ns(self.cfg.dead_after),
            ns(self.cfg.max_connection_age),
        );
        let opened = mono_now().0;
        let mut last_frame = opened;
        let mut next_check = opened;
        loop {
            // One clock read per frame: the receive stamp, which also
            // serves the housekeeping below (run once per `poll`, not per
            // message, so a busy feed pays nothing for it).
            let now = match ws.read() {
                Ok(Message::Text(text)) => {
                    let read = mono_now();
                    last_frame = read.0;
                    let (recv, body) = self.frames.stamp(read, text.as_bytes());
                    self.buf.clear();
                    self.buf.extend_from_slice(body);
                    self.on_message(recv, publisher)?;
                    read.0
                }
                Ok(Message::Binary(_)) => {
                    self.stats.messages += 1;
                    self.stats.refused[7] += 1;
                    last_frame = mono_now().0;
                    last_frame
                }
                Ok(Message::Close(_)) => return Ok("closed by the server".into()),
                // Pings are answered by tungstenite on the next read/flush.
                Ok(_) => {
                    last_frame = mono_now().0;
                    last_frame
                }
                Err(e) if is_tick(&e) => {
                    let _ = ws.flush();
                    mono_now().0
                }
                Err(tungstenite::Error::Capacity(e)) => {
                    self.stats.refused[7] += 1;
                    return Ok(format!("oversized frame: {e}"));
                }
                Err(e) => return Ok(e.to_string()),
            };
            // A snapshot waits for no tick: the core is buffering diffs.
            if now < next_check && !self.snapshot_due {
                continue;
            }
            next_check = now.saturating_add(poll);
            if stop.load(Ordering::Acquire) {
                return Err(Ended::Stopped);
            }
            if now.saturating_sub(opened) >= max_age {
                return Ok("connection age limit (planned reconnect)".into());
            }
            if now.saturating_sub(last_frame) >= dead {
                return Ok(format!(
                    "no frame for {} ms",
                    self.cfg.dead_after.as_millis()
                ));
            }
            self.check(now, publisher, resync)?;
        }
    }

    /// Parses the message in `buf` and publishes it whole.
    fn on_message(&mut self, recv: MonoNanos, publisher: &mut InputPublisher) -> Result<(), Ended> {
        self.stats.messages += 1;
        self.received.store(self.stats.messages, Ordering::Relaxed);
        self.events.clear();
        let events = &mut self.events;
        match self
            .parser
            .parse(&mut self.buf, recv, None, |e| events.push(e))
        {
            Ok(Parsed::Ignored) => {
                self.stats.ignored += 1;
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => {
                let i = reason_index(&e);
                self.stats.refused[i] += 1;
                if self.stats.refused[i] <= 5 || self.stats.refused[i].is_power_of_two() {
                    eprintln!(
                        "market gateway: message refused ({e}), {} so far",
                        self.stats.refused[i]
                    );
                }
                return Ok(());
            }
        }
        autobot_engine::runtime::clock::stamp_parsed(&mut self.events);
        let Some(&first) = self.events.first() else {
            return Ok(());
        };
        if let Some(i) = self.implausible(&first) {
            self.stats.refused[i] += 1;
            if self.stats.refused[i] <= 5 || self.stats.refused[i].is_power_of_two() {
                eprintln!(
                    "market gateway: message refused ({}), {} so far",
                    REFUSAL_REASONS[i], self.stats.refused[i]
                );
            }
            return Ok(());
        }
        let sym = usize::from(first.header.symbol.0);
        if let InputBody::Depth(d) = first.body {
            let s = &mut self.syms[sym];
            if s.last_u != 0 && d.prev_final_update_id != s.last_u && !s.need_snapshot {
                // The core sees the same break and clears the book; fetch
                // the snapshot it will need.
                self.stats.gaps += 1;
                s.need_snapshot = true;
            }
            s.last_u = d.final_update_id;
            self.snapshot_due |= s.need_snapshot;
        }
        // Built once in the reused batch buffer, copied once into the ring
        // (one claim per frame). Not parsed straight into ring slots: a
        // frame's event count is known only after parsing, the edge checks
        // above (exchange time, update ids) need the parsed events, and a
        // claimed disruptor slot cannot be given back, so in-place parsing
        // would publish what the edge had not yet admitted.
        publisher
            .publish_batch(&self.events)
            .map_err(|_| Ended::PipelineGone)?;
        self.stats.events += self.events.len() as u64;
        // Data for every symbol the message carried (an all-market mark
        // array carries several).
        for k in 0..self.events.len() {
            let sym = usize::from(self.events[k].header.symbol.0);
            let Some(s) = self.syms.get_mut(sym) else {
                continue;
            };
            s.last_data = recv;
            if s.health != FeedHealth::Healthy && !s.need_snapshot {
                self.set_health(sym, FeedHealth::Healthy, publisher)?;
            }
        }
        Ok(())
    }

    /// The edge's plausibility of a parsed message (its first event
    /// stands for the whole): its exchange time against the receive clock,
    /// a book ticker's update id against the symbol's last. `Some` with the
    /// [`REFUSAL_REASONS`] index when it is refused. The core checks again
    /// (`core::guard`), with the instrument's rules besides.
    fn implausible(&mut self, ev: &InputEvent) -> Option<usize> {
        if !self.clock.check(ev.header.exchange.0, ev.header.recv.0) {
            return Some(IMPLAUSIBLE_TIME);
        }
        let InputBody::BookTicker(t) = ev.body else {
            return None;
        };
        let jump = self.cfg.max_update_jump;
        let s = self.syms.get_mut(usize::from(ev.header.symbol.0))?;
        let last = (s.ticker_u != 0).then_some(s.ticker_u);
        if !s.ticker_jump.admits_id(last, t.update_id, jump) {
            return Some(IMPLAUSIBLE_ID);
        }
        // An older id is the core's to refuse (out of order on a combined
        // stream), and does not move this one back.
        s.ticker_u = s.ticker_u.max(t.update_id);
        None
    }

    /// Stale checks, resync requests, due snapshots.
    fn check(
        &mut self,
        now: u64,
        publisher: &mut InputPublisher,
        resync: &ResyncRequests,
    ) -> Result<(), Ended> {
        self.snapshot_due = false;
        let stale = u64::try_from(self.cfg.stale_after.as_nanos()).unwrap_or(u64::MAX);
        for i in 0..self.syms.len() {
            if resync.take(i) && self.has_depth {
                self.syms[i].need_snapshot = true;
            }
            let s = self.syms[i];
            if s.need_snapshot && s.last_u != 0 {
                self.snapshot(i, publisher)?;
            }
            let s = self.syms[i];
            if s.health == FeedHealth::Healthy && now.saturating_sub(s.last_data.0) >= stale {
                self.stats.stale += 1;
                self.set_health(i, FeedHealth::Stale, publisher)?;
            }
        }
        Ok(())
    }

    /// Fetches and publishes the depth snapshot of symbol `i`.
    fn snapshot(&mut self, i: usize, publisher: &mut InputPublisher) -> Result<(), Ended> {
        if self.rest_after.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        let name = self.cfg.symbols[i].clone();
        let reply = match self.rest.depth(&name, self.cfg.depth_limit) {
            Ok(r) => r,
            Err(e) => {
                self.stats.snapshot_failures += 1;
                let wait = match &e {
                    RestError::Exchange {
                        action: ErrorAction::BackOff,
                        ..
                    } => Duration::from_secs(30),
                    _ => Duration::from_millis(500),
                };
                self.rest_after = Some(Instant::now() + wait);
                eprintln!("market gateway: depth snapshot of {name} failed: {e}");
                return Ok(());
            }
        };
        let recv = mono_now();
        self.buf.clear();
        self.buf.extend_from_slice(&reply.body);
        self.events.clear();
        let events = &mut self.events;
        let sym = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
        if let Err(e) = self
            .parser
            .parse(&mut self.buf, recv, Some(sym), |e| events.push(e))
        {
            self.stats.snapshot_failures += 1;
            self.stats.refused[reason_index(&e)] += 1;
            self.rest_after = Some(Instant::now() + Duration::from_millis(500));
            eprintln!("market gateway: depth snapshot of {name} refused: {e}");
            return Ok(());
        }
        autobot_engine::runtime::clock::stamp_parsed(&mut self.events);
        publisher
            .publish_batch(&self.events)
            .map_err(|_| Ended::PipelineGone)?;
        self.stats.events += self.events.len() as u64;
        self.stats.snapshots += 1;
        self.syms[i].need_snapshot = false;
        if self.syms[i].health != FeedHealth::Healthy {
            self.set_health(i, FeedHealth::Healthy, publisher)?;
        }
        Ok(())
    }

    fn set_health(
        &mut self,
        i: usize,
        health: FeedHealth,
        publisher: &mut InputPublisher,
    ) -> Result<(), Ended> {
        self.syms[i].health = health;
        let ev = InputEvent::new(
            Source::MarketData,
            SymbolId(u16::try_from(i).unwrap_or(u16::MAX)),
            mono_now(),
            UnixNanos(0),
            InputBody::FeedStatus(FeedStatus {
                feed: Feed::MarketData,
                health,
            }),
        );
        publisher.publish(ev).map_err(|_| Ended::PipelineGone)?;
        self.stats.events += 1;
        Ok(())
    }

    fn set_health_all(
        &mut self,
        health: FeedHealth,
        publisher: &mut InputPublisher,
    ) -> Result<(), Ended> {
        for i in 0..self.syms.len() {
            if self.syms[i].health != health {
                self.set_health(i, health, publisher)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_symbol_streams_repeat_and_all_market_ones_come_once() {
        let cfg = MarketFeedConfig::public(
            "wss://fstream.binance.com/".into(),
            "https://fapi.binance.com".into(),
            vec!["BTCUSDT".into(), "ETHUSDT".into()],
            vec!["bookTicker".into(), "!markPrice@arr@1s".into()],
        );
        assert_eq!(
            cfg.url(),
            "wss://fstream.binance.com/stream?streams=btcusdt@bookTicker/ethusdt@bookTicker/!markPrice@arr@1s"
        );
    }
}
