//! The market gateway's loop allocates nothing per WebSocket message
//! (issue 33): a counting global allocator watches the gateway's own
//! thread while it reads book tickers and aggregate trades of the seeded
//! synthetic market from the simulator over a loopback socket (Binance's
//! message shapes), parses them and publishes them into a
//! running pipeline (journal and core). tungstenite reuses its read buffer
//! (a frame is split off it and handed back when the message is dropped),
//! the gateway copies the text into its own receive buffer, and the parser
//! and the ring are allocation-free (`parse_alloc.rs`, `no_alloc.rs`).
//!
//! The count is taken by the gateway's frame clock, which runs on the
//! gateway's thread once per text frame: from frame `WARM` on, every
//! allocation the thread makes is one the loop made.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use autobot_engine::config::{Layout, StrategyConfig, WaitKind, presets};
use autobot_engine::runtime::{RingReader as _, Waiter, start};
use autobot_engine::types::{MonoNanos, Price};
use autobot_gateways::binance::market::{FrameClock, MarketFeedConfig, MarketGateway};
use autobot_gateways::binance::parse::{Parser, Symbols};
use autobot_gateways::resync::ResyncRequests;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_gateways::synthetic::SyntheticConfig;
use autobot_test_support::{Scratch, allocations, configs};

#[global_allocator]
static GLOBAL: autobot_test_support::Counting = autobot_test_support::Counting;

/// Frames read before counting starts (the connection, the first buffers'
/// growth, the ring's first lap).
const WARM: u64 = 5_000;
/// Frames counted.
const COUNTED: u64 = 50_000;
/// Reallocations of the read buffer allowed over them (growth to a new
/// backlog high-water mark, never one per message).
const GROWTH: u64 = 8;

#[derive(Default)]
struct Seen {
    frames: AtomicU64,
    allocations: AtomicU64,
}

/// Stamps frames with the socket read, as a live feed's clock does, and
/// counts the thread's allocations since frame `WARM`.
struct Probe {
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    frames: u64,
    base: u64,
}

impl FrameClock for Probe {
    fn stamp<'f>(&mut self, read: MonoNanos, frame: &'f [u8]) -> (MonoNanos, &'f [u8]) {
        self.frames += 1;
        if self.frames == WARM {
            self.base = allocations();
        } else if self.frames > WARM && self.frames <= WARM + COUNTED {
            // The gateway looks at `stop` once per poll interval: the
            // frames after the last counted one are read but not counted.
            let counted = self.frames - WARM;
            self.seen
                .allocations
                .store(allocations() - self.base, Ordering::Relaxed);
            self.seen.frames.store(counted, Ordering::Relaxed);
            if counted == COUNTED {
                self.stop.store(true, Ordering::Release);
            }
        }
        (read, frame)
    }
}

#[test]
fn the_gateway_loop_allocates_nothing_per_message() {
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

    let feed = MarketFeedConfig::public(
        sim.ws_url(),
        sim.rest_url(),
        vec!["BTCUSDT".into()],
        vec!["bookTicker".into(), "aggTrade".into()],
    );
    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    let probe = Probe {
        seen: Arc::clone(&seen),
        stop: Arc::clone(&stop),
        frames: 0,
        base: 0,
    };
    let mut gateway =
        MarketGateway::with_clock(feed, Parser::new(Symbols::new(&["BTCUSDT"])), probe);
    let mut publisher = started.publisher;
    let resync = ResyncRequests::new(1);
    let ended = gateway.run(&mut publisher, &resync, &stop);
    drop(publisher);
    started.handle.join().unwrap();
    drain.join().unwrap();

    let stats = &gateway.stats;
    assert_eq!(
        seen.frames.load(Ordering::Relaxed),
        COUNTED,
        "{ended:?}: the feed ended early: {stats:?}"
    );
    assert_eq!(stats.connects, 1, "{stats:?}");
    // Real messages, parsed and published (not refused or ignored).
    assert!(stats.events >= WARM + COUNTED, "{stats:?}");
    assert_eq!(stats.refused.iter().sum::<u64>(), 0, "{stats:?}");
    // None per message. When the gateway falls behind the feed (a busy
    // machine), tungstenite's read buffer may grow to hold the backlog: a
    // reallocation at each new high-water mark, a handful at most.
    let made = seen.allocations.load(Ordering::Relaxed);
    assert!(
        made <= GROWTH,
        "{made} allocations on the gateway thread over {COUNTED} messages"
    );
}
