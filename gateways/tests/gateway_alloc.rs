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
//! Under TLS rustls adds its own per-record buffer (the second test).
//!
//! The count is taken by the gateway's frame clock, which runs on the
//! gateway's thread once per text frame: from frame `WARM` on, every
//! allocation the thread makes is one the loop made.

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
use autobot_test_support::tls::Authority;
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

/// What the gateway thread did over `COUNTED` messages.
struct Counted {
    allocations: u64,
    frames: u64,
    ended: String,
    stats: MarketStats,
}

/// Runs the gateway against the simulator (under TLS with `tls`, the
/// gateway trusting `trust`) and counts its thread's allocations.
fn count_the_gateway_loop(tls: Option<TlsIdentity>, trust: Trust) -> Counted {
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

/// The checks both transports share: every counted frame a real message,
/// parsed and published, on one connection.
fn check_the_feed(c: &Counted) {
    let stats = &c.stats;
    assert_eq!(
        c.frames, COUNTED,
        "{}: the feed ended early: {stats:?}",
        c.ended
    );
    assert_eq!(stats.connects, 1, "{stats:?}");
    // Real messages, parsed and published (not refused or ignored).
    assert!(stats.events >= WARM + COUNTED, "{stats:?}");
    assert_eq!(stats.refused.iter().sum::<u64>(), 0, "{stats:?}");
}

#[test]
fn the_gateway_loop_allocates_nothing_per_message() {
    let c = count_the_gateway_loop(None, Trust::public());
    check_the_feed(&c);
    // None per message. When the gateway falls behind the feed (a busy
    // machine), tungstenite's read buffer may grow to hold the backlog: a
    // reallocation at each new high-water mark, a handful at most.
    assert!(
        c.allocations <= GROWTH,
        "{} allocations on the gateway thread over {COUNTED} messages",
        c.allocations
    );
}

/// Over `wss://` (the simulator under TLS with a certificate of a CA the
/// gateway is given as its `ca_file`: the path testnet and live take) the
/// gateway's own loop is the one above, and rustls 0.23 adds about one
/// allocation per TLS record: each decrypted record's plaintext is copied
/// into a fresh `Vec` (`CommonState::take_received_plaintext`, the same in
/// its unbuffered API, where in-place decryption is still a TODO), and its
/// deframer buffer shrinks to 4 KiB whenever it empties and grows again.
/// The simulator writes a record per message, as Binance does. This pins
/// that cost — at most one and a tenth per message — so anything more
/// on the gateway thread fails here; docs/performance.md has the figure
/// and what would remove it (kernel TLS).
#[test]
fn over_tls_the_gateway_loop_allocates_only_rustlss_record_buffers() {
    let dir = Scratch::new("gateway-alloc-tls");
    let (ca, ca_file) = Authority::beside(dir.path());
    let (cert, key) = ca.server(dir.path(), "sim");
    let identity = TlsIdentity::load(&cert, &key).unwrap();
    let c = count_the_gateway_loop(Some(identity), Trust::load(&ca_file).unwrap());
    check_the_feed(&c);
    let bound = COUNTED + COUNTED / 10 + GROWTH;
    assert!(
        c.allocations <= bound,
        "{} allocations on the gateway thread over {COUNTED} messages under TLS (bound {bound})",
        c.allocations
    );
}
