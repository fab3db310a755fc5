//! The market side of `autobot run`: either the Binance market-data
//! gateway over real sockets (to the built-in simulator, started here on
//! loopback, or to the URLs of `[exchange]`), or the synthetic generator
//! publishing straight into the ring (`endpoint = "direct"`).
//!
//! [`MarketSide::finish`] waits for the end of the run: the configured
//! duration, Ctrl-C, `max_events` (tests), or a capture replayed to its
//! end and every message it sent received.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::config::{CpuMap, WaitKind};
use autobot_engine::runtime::InputPublisher;
use autobot_engine::types::Instrument;
use autobot_gateways::binance::market::{FrameClock, MarketFeedConfig, MarketGateway, MarketStats};
use autobot_gateways::binance::parse::{Parser, Symbols};
use autobot_gateways::credentials::Hidden;
use autobot_gateways::resync::ResyncRequests;
use autobot_gateways::sim::due::DueTime;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_gateways::synthetic::{self, RunLimits, SyntheticMarket};

use crate::config::{AppConfig, Endpoint};
use crate::stage::{RunError, RunOptions, StageThread, spawn_stage};

/// What the market side did.
#[derive(Debug, Default)]
pub struct MarketOutcome {
    /// Market messages received (sockets) or events generated (direct).
    pub events: u64,
    /// Updates per synthetic regime (direct only: the simulator keeps its
    /// generator to itself).
    pub regime_events: Option<[u64; 4]>,
    /// The gateway's counters (sockets only).
    pub gateway: Option<MarketStats>,
    /// Where the gateway connected.
    pub endpoint: Option<String>,
    /// A pinning warning.
    pub warning: Option<String>,
}

/// The running market side.
pub struct MarketSide {
    kind: Kind,
    duration: Option<Duration>,
    stop: Arc<AtomicBool>,
    began: Instant,
}

enum Kind {
    /// Events generated and updates per regime; a pinning warning.
    Direct(MarketThread<(u64, [u64; 4])>),
    Sockets {
        sim: Option<SimExchange>,
        endpoint: String,
        rest: String,
        received: Arc<AtomicU64>,
        max_events: Option<u64>,
        gateway_stop: Arc<AtomicBool>,
        thread: MarketThread<MarketStats>,
    },
}

/// Everything the market side needs from the run.
pub struct MarketStart<'a> {
    /// The configuration.
    pub cfg: &'a AppConfig,
    /// The instrument table.
    pub instruments: &'a [Instrument],
    /// Its ring publisher.
    pub publisher: InputPublisher,
    /// Market events already in the journal (a resumed run continues the
    /// synthetic market after them).
    pub restored_market_events: u64,
    /// Run options (limits, Ctrl-C flag).
    pub opts: &'a RunOptions,
    /// Book resyncs the core asks for.
    pub resync: Arc<ResyncRequests>,
    /// The API key and secret the built-in simulator accepts (exchange
    /// execution); `None` refuses signed requests.
    pub sim_api: Option<(Hidden, Hidden)>,
    /// The pipeline's latency collector (the gateway's `delivery` stage
    /// under the load generator).
    pub latency: Option<Arc<autobot_engine::runtime::LatencyHub>>,
}

impl MarketSide {
    /// Starts the market side.
    pub fn start(s: MarketStart<'_>) -> Result<MarketSide, RunError> {
        let cfg = s.cfg;
        let duration = s
            .opts
            .max_events
            .is_none()
            .then(|| Duration::from_secs(cfg.run.duration_secs));
        let stop = Arc::clone(&s.opts.stop);
        let (cpus, busy) = (cfg.engine.cpus, cfg.engine.wait == WaitKind::BusySpin);
        let kind = if cfg.exchange.endpoint == Endpoint::Direct {
            let mut market = SyntheticMarket::new(&cfg.market, s.instruments);
            for _ in 0..s.restored_market_events {
                market.next_event();
            }
            let limits = RunLimits {
                paced: !s.opts.unpaced,
                events_per_sec: cfg.market.events_per_sec,
                max_events: s.opts.max_events,
                duration,
            };
            let stop = Arc::clone(&stop);
            Kind::Direct(spawn_market(s.publisher, cpus, busy, move |publisher| {
                let sent = synthetic::run(&mut market, publisher, limits, &stop);
                (sent, market.regime_events())
            })?)
        } else {
            sockets(&s)?
        };
        Ok(MarketSide {
            kind,
            duration,
            stop,
            began: Instant::now(),
        })
    }

    /// The WebSocket and REST bases the gateway connects to (sockets only).
    pub fn urls(&self) -> Option<(String, String)> {
        match &self.kind {
            Kind::Direct(_) => None,
            Kind::Sockets { endpoint, rest, .. } => Some((endpoint.clone(), rest.clone())),
        }
    }

    /// Waits for the end of the run and stops the market side. The
    /// simulator, if the run started one, is handed back running: exchange
    /// execution still needs it until the last order is answered.
    pub fn finish(self) -> Result<(MarketOutcome, Option<SimExchange>), RunError> {
        match self.kind {
            Kind::Direct(thread) => {
                let ((events, regimes), warning) = thread
                    .join()
                    .map_err(|_| RunError::Gateway("market gateway"))?;
                let outcome = MarketOutcome {
                    events,
                    regime_events: Some(regimes),
                    warning,
                    ..MarketOutcome::default()
                };
                Ok((outcome, None))
            }
            Kind::Sockets {
                sim,
                endpoint,
                rest: _,
                received,
                max_events,
                gateway_stop,
                thread,
            } => {
                let handle = sim.as_ref().map(SimExchange::handle);
                loop {
                    let got = received.load(Ordering::Relaxed);
                    let done = self.stop.load(Ordering::Relaxed)
                        || self.duration.is_some_and(|d| self.began.elapsed() >= d)
                        || max_events.is_some_and(|m| got >= m)
                        || handle.as_ref().is_some_and(|h| {
                            h.finished() && got >= h.stats().sent.load(Ordering::Relaxed)
                        })
                        || thread.is_finished();
                    if done {
                        break;
                    }
                    // The run's wall-clock timer, not a test waiting: a
                    // coarse tick is enough to end a run on time.
                    std::thread::sleep(Duration::from_millis(5));
                }
                gateway_stop.store(true, Ordering::Release);
                let (stats, warning) = thread
                    .join()
                    .map_err(|_| RunError::Gateway("market gateway"))?;
                if let Some(h) = &handle
                    && let Some(e) = h.feed_error()
                {
                    eprintln!("simulator: the capture ended early: {e}");
                }
                let outcome = MarketOutcome {
                    events: received.load(Ordering::Relaxed),
                    regime_events: None,
                    gateway: Some(stats),
                    endpoint: Some(endpoint),
                    warning,
                };
                Ok((outcome, sim))
            }
        }
    }
}

fn sockets(s: &MarketStart<'_>) -> Result<Kind, RunError> {
    let ex = &s.cfg.exchange;
    let (sim, ws_url, rest_url) = match ex.endpoint {
        Endpoint::Simulator => {
            let (source, speed) = if ex.simulator_source == "synthetic" {
                let source = SimSource::Synthetic {
                    config: s.cfg.market.clone(),
                    skip: s.restored_market_events,
                    max_items: s.opts.max_events,
                };
                (source, if s.opts.unpaced { 0.0 } else { 1.0 })
            } else {
                let path = PathBuf::from(&ex.simulator_source);
                (SimSource::Capture(path), ex.simulator_speed)
            };
            let mut sim_cfg = SimConfig::loopback(source, s.instruments.to_vec());
            sim_cfg.speed = speed;
            sim_cfg.due_prefix = s.opts.load;
            sim_cfg.account = s.cfg.simulated_account();
            if let Some((key, secret)) = &s.sim_api {
                sim_cfg.add_key(key.clone(), secret.clone());
            }
            let sim = SimExchange::start(sim_cfg).map_err(RunError::Simulator)?;
            let (w, r) = (sim.ws_url(), sim.rest_url());
            (Some(sim), w, r)
        }
        _ => (None, ex.ws_url.clone(), ex.rest_url.clone()),
    };
    let names: Vec<String> = s.instruments.iter().map(|i| i.name.to_string()).collect();
    let feed = MarketFeedConfig {
        depth_limit: ex.depth_limit,
        stale_after: Duration::from_millis(ex.stale_after_ms),
        dead_after: Duration::from_millis(ex.dead_after_ms),
        backoff_min: Duration::from_millis(ex.backoff_min_ms),
        backoff_max: Duration::from_millis(ex.backoff_max_ms),
        time_window: Duration::from_secs(s.cfg.risk.guards.time_window_secs),
        max_update_jump: s.cfg.risk.guards.max_update_jump,
        trust: ex.trust()?,
        ..MarketFeedConfig::public(
            ws_url.clone(),
            rest_url.clone(),
            names.clone(),
            ex.streams.clone(),
        )
    };
    let parser = Parser::new(Symbols::new(&names));
    let gateway_stop = Arc::new(AtomicBool::new(false));
    // The load test stamps events with each frame's due time (the
    // simulator writes it); a live feed with the socket read.
    let (received, thread) = if s.opts.load && sim.is_some() {
        let clock = DueTime::new(s.latency.as_ref().map(|l| l.recorder()));
        let gateway = MarketGateway::with_clock(feed, parser, clock);
        spawn_gateway(gateway, s, &gateway_stop)?
    } else {
        spawn_gateway(MarketGateway::new(feed, parser), s, &gateway_stop)?
    };
    Ok(Kind::Sockets {
        sim,
        endpoint: ws_url,
        rest: rest_url,
        received,
        max_events: s.opts.max_events,
        gateway_stop,
        thread,
    })
}

/// Starts the market thread running `gateway`; its message counter.
fn spawn_gateway<C: FrameClock + 'static>(
    mut gateway: MarketGateway<C>,
    s: &MarketStart<'_>,
    stop: &Arc<AtomicBool>,
) -> Result<(Arc<AtomicU64>, MarketThread<MarketStats>), RunError> {
    let received = gateway.received();
    let (stop, resync) = (Arc::clone(stop), Arc::clone(&s.resync));
    let engine = &s.cfg.engine;
    let (cpus, busy) = (engine.cpus, engine.wait == WaitKind::BusySpin);
    let thread = spawn_market(s.publisher.clone(), cpus, busy, move |publisher| {
        gateway.run(publisher, &resync, &stop);
        gateway.stats
    })?;
    Ok((received, thread))
}

/// The market thread: its result and a pinning warning.
type MarketThread<T> = StageThread<T>;

/// Starts the market thread, which owns `publisher` and drops it when
/// `work` returns.
fn spawn_market<T: Send + 'static>(
    mut publisher: InputPublisher,
    cpus: CpuMap,
    busy: bool,
    work: impl FnOnce(&mut InputPublisher) -> T + Send + 'static,
) -> Result<MarketThread<T>, RunError> {
    let halt = publisher.halt_flag();
    spawn_stage(
        "autobot-market",
        "market gateway",
        (cpus.market, cpus.realtime_priority),
        busy,
        halt,
        move || work(&mut publisher),
    )
}
