//! The market gateway's loop, counted: the seeded synthetic market from the
//! simulator over a loopback socket (`ws://`, or `wss://` with a TLS
//! identity) into the gateway's own thread, parsed and published into a
//! running pipeline (journal and core), with the thread's allocations
//! counted by its frame clock, which runs on that thread once per text
//! frame: from frame `WARM` on, every allocation the thread makes is one
//! the loop made.
//!
//! Shared by `gateways/tests/gateway_alloc.rs` (the proof) and
//! `benches/benches/gateway_alloc.rs` (`make bench`'s target line), each of
//! which includes it with `#[path]` and installs the counting allocator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::config::{Layout, StrategyConfig, WaitKind, presets};
use autobot_engine::runtime::{RingReader as _, Waiter, start};
use autobot_engine::types::{MonoNanos, Price};
use autobot_gateways::binance::market::{FrameClock, MarketFeedConfig, MarketGateway, MarketStats};
use autobot_gateways::binance::parse::{Parser, Symbols};
use autobot_gateways::http::TlsIdentity;
use autobot_gateways::resync::ResyncRequests;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_gateways::synthetic::SyntheticConfig;
use autobot_gateways::trust::Trust;
use autobot_test_support::{Scratch, allocations, configs};

/// Frames read before counting starts (the connection, the first buffers'
/// growth, the ring's first lap).
pub const WARM: u64 = 5_000;

#[derive(Default)]
struct Seen {
    frames: AtomicU64,
    allocations: AtomicU64,
}

/// Stamps frames with the socket read, as a live feed's clock does, and
/// counts the thread's allocations from frame `WARM` for `counted` frames.
struct Probe {
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    frames: u64,
    base: u64,
    counted: u64,
}

impl FrameClock for Probe {
    fn stamp<'f>(&mut self, read: MonoNanos, frame: &'f [u8]) -> (MonoNanos, &'f [u8]) {
        self.frames += 1;
        if self.frames == WARM {
            self.base = allocations();
        } else if self.frames > WARM && self.frames <= WARM + self.counted {
            // The gateway looks at `stop` once per poll interval: the
            // frames after the last counted one are read but not counted.
            let counted = self.frames - WARM;
            self.seen
                .allocations
                .store(allocations() - self.base, Ordering::Relaxed);
            self.seen.frames.store(counted, Ordering::Relaxed);
            if counted == self.counted {
                self.stop.store(true, Ordering::Release);
            }
        }
        (read, frame)
    }
}

/// What the gateway thread did over the counted messages.
pub struct Counted {
    /// Allocations (and reallocations) the gateway's thread made.
    pub allocations: u64,
    /// Frames counted (fewer than asked: the feed ended early).
    pub frames: u64,
    /// How the gateway's run ended.
    pub ended: String,
    /// The gateway's counters.
    pub stats: MarketStats,
}

/// Runs the gateway against the simulator (under TLS with `tls`, the
/// gateway trusting `trust`) and counts its thread's allocations over
/// `counted` messages after [`WARM`]. The caller's global allocator must
/// be `autobot_test_support::Counting`.
pub fn count_the_gateway_loop(tls: Option<TlsIdentity>, trust: Trust, counted: u64) -> Counted {
    let ins = autobot_engine::config::instruments(&[presets::btcusdt()]);
    let market = SyntheticConfig {
        seed: 7,
        events_per_sec: 50_000,
        start_prices: vec![Price::parse("60000").unwrap()],
        volatility_bps: 1.2,
        volatility_scale: vec![1.0],
        quotes_per_sec: 190.0,
        trades_per_sec: 62.0,
        wide_spread_share: 0.06,
        mean_regime_secs: 150,
        trend_bps_per_min: 4.0,
        burst_volatility: 3.0,
    };
    let source = SimSource::Synthetic {
        config: market,
        skip: 0,
        max_items: None,
    };
    let mut sim_cfg = SimConfig::loopback(source, ins.to_vec());
    // As fast as the gateway reads.
    sim_cfg.speed = 0.0;
    sim_cfg.tls = tls;
    let sim = SimExchange::start(sim_cfg).unwrap();

    let dir = Scratch::new("gateway-alloc");
    let core = presets::core(&[presets::btcusdt()], StrategyConfig::ema_cross(5, 20));
    let mut engine = configs::engine(Layout::Inline);
    engine.ring_size = 65_536;
    let started = start(
        &engine,
        &configs::journal(),
        &core,
        &dir.join("journal"),
        None,
        false,
    )
    .unwrap();
    let mut outputs = started.outputs;
    let drain = std::thread::spawn(move || {
        let mut waiter = Waiter::new(WaitKind::Yield);
        loop {
            match outputs.with_batch(u64::MAX, |evs| evs.count()) {
                Ok(Some(_)) => {}
                Ok(None) => waiter.idle(),
                Err(_) => return,
            }
        }
    });

    let feed = MarketFeedConfig {
        trust,
        ..MarketFeedConfig::public(
            sim.ws_url(),
            sim.rest_url(),
            vec!["BTCUSDT".into()],
            vec!["bookTicker".into(), "aggTrade".into()],
        )
    };
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let probe = Probe {
        seen: Arc::clone(&seen),
        stop: Arc::clone(&stop),
        frames: 0,
        base: 0,
        counted,
    };
    let mut gateway =
        MarketGateway::with_clock(feed, Parser::new(Symbols::new(&["BTCUSDT"])), probe);
    // A gateway that cannot connect retries for ever: a deadline ends the
    // run, and the checks name what went wrong from its counters.
    let deadline = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::Acquire) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            stop.store(true, Ordering::Release);
        })
    };
    let mut publisher = started.publisher;
    let resync = ResyncRequests::new(1);
    let ended = gateway.run(&mut publisher, &resync, &stop);
    deadline.join().unwrap();
    drop(publisher);
    started.handle.join().unwrap();
    drain.join().unwrap();

    Counted {
        allocations: seen.allocations.load(Ordering::Relaxed),
        frames: seen.frames.load(Ordering::Relaxed),
        ended: format!("{ended:?}"),
        stats: gateway.stats.clone(),
    }
}
