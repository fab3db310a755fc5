//! The engine against the exchange simulator over real loopback sockets
//! (WebSocket market data, REST depth snapshots):
//!
//! - the real BTCUSDT capture (`../shared/data/ticks/btcusdt_20240808.gz`)
//!   replayed end to end: every message arrives, the L2 book syncs from the
//!   REST snapshot with zero gaps and stays in sync, orders are placed and
//!   filled, and the journal replays to the same digest;
//! - connections dropped mid-stream are reconnected and the book resynced;
//! - a stalled feed is reported stale (the core goes to SAFE_MODE) and
//!   recovers when data flows again.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use autobot_engine::core::Core;
use autobot_engine::event::{FeedHealth, InputBody, OutputBody, OutputEvent, SystemState};
use autobot_engine::runtime::read_journal;
use autobot_engine::types::SymbolId;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_test_support::Scratch;
use autobot_tools::config::{AppConfig, Endpoint};
use autobot_tools::run::{RunOptions, RunOutcome, run_paper};

fn capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ticks/btcusdt_20240808.gz")
}

/// The shipped config, writing runs under a fresh directory for `name`.
/// The directory goes when the returned [`Scratch`] is dropped.
fn shipped(name: &str) -> (AppConfig, Scratch) {
    let mut cfg =
        AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
            .unwrap();
    let dir = Scratch::new(&format!("sockets-{name}"));
    cfg.run.run_dir = dir.join("runs").to_str().unwrap().into();
    (cfg, dir)
}

/// The shipped config, BTCUSDT only, reading the capture's streams.
fn config(name: &str) -> (AppConfig, Scratch) {
    let (mut cfg, dir) = shipped(name);
    cfg.run.duration_secs = 120;
    cfg.instruments.truncate(1);
    cfg.market.start_prices.truncate(1);
    cfg.risk.portfolio.correlated.clear();
    cfg.exchange.simulator_source = capture().to_str().unwrap().into();
    cfg.exchange.simulator_speed = 0.0;
    cfg.exchange.streams = vec!["bookTicker".into(), "trade".into(), "depth@0ms".into()];
    (cfg, dir)
}

fn journal_inputs(out: &RunOutcome) -> Vec<autobot_engine::event::InputEvent> {
    read_journal(&out.run_dir.join("journal")).unwrap().events
}

/// `Disconnected` feed statuses in the run's journal.
fn disconnected_statuses(out: &RunOutcome) -> usize {
    journal_inputs(out)
        .iter()
        .filter(
            |e| matches!(e.body, InputBody::FeedStatus(f) if f.health == FeedHealth::Disconnected),
        )
        .count()
}

fn replays_to_the_same_digest(out: &RunOutcome) {
    crate::common::replays_to_the_same_digest(&out.run_dir);
}

#[test]
fn the_real_capture_replays_over_loopback_with_the_book_in_sync() {
    let (cfg, _dir) = config("capture");
    let out = run_paper(&cfg, &RunOptions::default()).unwrap();
    let g = out.market.gateway.as_ref().expect("socket gateway");
    // 66,089 book tickers + 21,313 trades + 6,551 diffs; the snapshot line
    // is served over REST, not streamed.
    assert_eq!(out.market.events, 93_953, "{g:?}");
    assert_eq!((g.connects, g.disconnects, g.gaps), (1, 0, 0), "{g:?}");
    assert_eq!(g.refused_total(), 0, "{g:?}");
    assert!(g.snapshots >= 1, "{g:?}");
    let core = &out.pipeline.core.core;
    let depth = core.depth(SymbolId(0)).unwrap();
    assert!(depth.is_synced(), "{:?}", depth.stats());
    let ds = depth.stats();
    assert_eq!(
        (ds.gaps, ds.resyncs, ds.crossed, ds.torn),
        (0, 0, 0, 0),
        "{ds:?}"
    );
    assert!(ds.diffs > 6_000, "{ds:?}");
    // The L2 top is a real, uncrossed book near the last ticker's.
    let ((bid, _), (ask, _)) = depth.top().unwrap();
    let t = core.book(SymbolId(0)).unwrap();
    assert!(bid < ask, "{bid} {ask}");
    let near = |a: autobot_engine::types::Price, b: autobot_engine::types::Price| {
        (a.to_f64() - b.to_f64()).abs() < 50.0
    };
    assert!(
        near(bid, t.bid_price) && near(ask, t.ask_price),
        "{bid}/{ask} vs {t:?}"
    );
    let st = core.stats();
    assert!(st.orders > 0, "the run must trade on the capture: {st:?}");
    // Every order filled, none left open. An order can fill in parts when
    // it walks more than one L2 level, so fills >= orders. The exceptions
    // are protective stops: cancelled (or expired) when the core closed
    // their positions first, refused when the price had already passed
    // them, or still guarding the position the run ended with.
    let refused = crate::common::refusals_are_passed_stops(&journal_inputs(&out));
    assert_eq!(refused, st.rejects, "{st:?}");
    let resting = crate::common::only_guards_rest(core);
    assert!(
        st.fills + st.cancels + refused + resting >= st.orders,
        "every paper order filled: {st:?}"
    );
    replays_to_the_same_digest(&out);
}

/// The same capture, with the orders sent as signed REST requests to the
/// simulator (which verifies each signature and matches it against its
/// book) and every acceptance and fill coming back on the user-data
/// stream: the core's position ends equal to the exchange's.
#[test]
fn the_real_capture_trades_through_signed_orders_and_the_user_stream() {
    let (mut cfg, _dir) = config("signed");
    cfg.exchange.execution = autobot_tools::config::Execution::Exchange;
    let out = run_paper(&cfg, &RunOptions::default()).unwrap();
    assert_eq!(out.market.events, 93_953);
    let x = out.exchange.as_ref().expect("exchange execution");
    let core = &out.pipeline.core.core;
    let st = core.stats();
    assert!(st.orders > 0, "the run must trade on the capture: {st:?}");
    // Refused placements are stops racing stops (`protect = "both"`); the
    // execution client also counts the cancels refused for stops that had
    // already ended.
    let journal = journal_inputs(&out);
    let refused = crate::common::refusals_are_passed_stops(&journal);
    assert_eq!(refused, st.rejects, "{st:?}");
    assert_eq!(x.exec.accepted + refused, st.orders, "{:?} {st:?}", x.exec);
    assert_eq!(x.exec.rejected, refused + st.cancel_rejects, "{:?}", x.exec);
    assert_eq!(x.exec.clock_resyncs, 0, "{:?}", x.exec);
    // Every order filled (a market order walking two levels fills twice),
    // except protective stops: cancelled or expired when the core closed
    // their positions first, refused, or guarding the position the run
    // ended with.
    let ended = |status| {
        journal
            .iter()
            .filter(|e| matches!(e.body, InputBody::OrderUpdate(u) if u.status == status))
            .count() as u64
    };
    use autobot_engine::event::OrderStatus;
    let filled = ended(OrderStatus::Filled);
    let unfilled = ended(OrderStatus::Cancelled) + ended(OrderStatus::Expired);
    let resting = crate::common::only_guards_rest(core);
    assert_eq!(
        filled + unfilled + refused + resting,
        st.orders,
        "every order filled: {st:?}"
    );
    assert!(unfilled <= st.cancels + refused, "{st:?}");
    let u = &x.user;
    assert_eq!(u.refused.load(Ordering::Relaxed), 0);
    assert_eq!(u.foreign.load(Ordering::Relaxed), 0);
    assert_eq!(u.listen_keys.load(Ordering::Relaxed), 1);
    // At least each order's final report came over the user stream (the
    // journal check above holds every FILLED). Not 3 per order: the run
    // waits for the reports the core needs (the ledger's "settled"), not
    // for the NEW and ACCOUNT_UPDATE around them, which a loaded host may
    // still be delivering when the stream stops.
    let events = u.events.load(Ordering::Relaxed);
    assert!(events >= st.orders, "{events} user events, {st:?}");
    assert_eq!(
        out.paper.exchange.orders, 0,
        "paper execution stayed out of it"
    );
    let held = core.position(SymbolId(0)).unwrap().qty();
    let exchange = x.positions.as_ref().unwrap();
    assert_eq!(exchange.len(), 1, "{exchange:?}");
    assert_eq!(exchange[0], ("BTCUSDT".to_string(), held));
    replays_to_the_same_digest(&out);
}

/// Runs the engine against `sim` (endpoint = url) on a thread.
fn run_against(sim: &SimExchange, mut cfg: AppConfig) -> std::thread::JoinHandle<RunOutcome> {
    cfg.exchange.endpoint = Endpoint::Url;
    cfg.exchange.ws_url = sim.ws_url();
    cfg.exchange.rest_url = sim.rest_url();
    std::thread::spawn(move || run_paper(&cfg, &RunOptions::default()).unwrap())
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// A simulator streaming `cfg`'s synthetic market for its first `n`
/// instruments.
fn synthetic_sim(cfg: &AppConfig, n: usize) -> SimExchange {
    SimExchange::start(SimConfig::loopback(
        SimSource::Synthetic {
            config: cfg.market.clone(),
            skip: 0,
            max_items: None,
        },
        cfg.core().instruments[..n].to_vec(),
    ))
    .unwrap()
}

fn capture_sim(speed: f64, cfg: &AppConfig) -> SimExchange {
    let mut sim_cfg = SimConfig::loopback(
        SimSource::Capture(capture()),
        cfg.core().instruments.to_vec(),
    );
    sim_cfg.speed = speed;
    SimExchange::start(sim_cfg).unwrap()
}

#[test]
fn dropped_connections_are_reconnected_and_the_book_resynced() {
    let (mut cfg, _dir) = config("drop");
    cfg.run.duration_secs = 20;
    cfg.exchange.backoff_min_ms = 20;
    cfg.exchange.backoff_max_ms = 200;
    // 6 minutes of market in about 12 s.
    let sim = capture_sim(30.0, &cfg);
    let h = sim.handle();
    let run = run_against(&sim, cfg);
    for n in [20_000, 40_000] {
        wait_for("messages", || h.stats().sent.load(Ordering::Relaxed) > n);
        h.drop_connections();
        wait_for("a reconnect", || h.clients() == 1);
    }
    let out = run.join().unwrap();
    let g = out.market.gateway.as_ref().unwrap();
    assert_eq!((g.connects, g.disconnects), (3, 2), "{g:?}");
    assert!(g.snapshots >= 3, "a snapshot per connection: {g:?}");
    let core = &out.pipeline.core.core;
    let depth = core.depth(SymbolId(0)).unwrap();
    let ds = depth.stats();
    assert!(depth.is_synced(), "in sync at the end: {ds:?}");
    // Each reconnect skips diffs: the core saw the broken chain, cleared
    // the book, and took the new snapshot.
    assert!(ds.resyncs >= 2 && ds.snapshots >= 3, "{ds:?}");
    let lost = disconnected_statuses(&out);
    assert_eq!(lost, 2, "one Disconnected per drop");
    replays_to_the_same_digest(&out);
    drop(sim);
}

#[test]
fn a_stalled_feed_goes_stale_trips_safe_mode_and_recovers() {
    let (mut cfg, _dir) = config("stall");
    cfg.run.duration_secs = 12;
    cfg.exchange.stale_after_ms = 300;
    cfg.exchange.dead_after_ms = 60_000;
    let sim = capture_sim(10.0, &cfg);
    let h = sim.handle();
    let run = run_against(&sim, cfg.clone());
    wait_for("messages", || {
        h.stats().sent.load(Ordering::Relaxed) > 10_000
    });
    h.stall(Duration::from_millis(1500));
    let out = run.join().unwrap();
    let g = out.market.gateway.as_ref().unwrap();
    assert!(g.stale >= 1, "{g:?}");
    assert_eq!(g.disconnects, 0, "a stall is not a disconnect: {g:?}");
    let events = journal_inputs(&out);
    let healths: Vec<FeedHealth> = events
        .iter()
        .filter_map(|e| match e.body {
            InputBody::FeedStatus(f) => Some(f.health),
            _ => None,
        })
        .collect();
    assert_eq!(
        healths[..2],
        [FeedHealth::Stale, FeedHealth::Healthy],
        "{healths:?}"
    );
    // The core went to SAFE_MODE while the feed was stale and left it after.
    let mut core = Core::new(&cfg.core());
    let mut outs: Vec<OutputEvent> = Vec::new();
    for ev in &events {
        core.on_event(ev, &mut outs);
    }
    let states: Vec<SystemState> = outs
        .iter()
        .filter_map(|o| match o.body {
            OutputBody::StateChange(s) => Some(s.to),
            _ => None,
        })
        .collect();
    let safe = states.iter().position(|s| *s == SystemState::SafeMode);
    assert!(safe.is_some(), "{states:?}");
    assert!(
        states[safe.unwrap()..].contains(&SystemState::Running),
        "{states:?}"
    );
    drop(sim);
}

#[test]
fn a_recording_of_the_simulator_replays_with_the_book_in_sync() {
    use autobot_gateways::binance::market::MarketFeedConfig;
    use autobot_gateways::binance::record::record;
    let (cfg, dir) = config("record");
    let sim = capture_sim(0.0, &cfg);
    let file = dir.join("record.gz");
    let feed = MarketFeedConfig::public(
        sim.ws_url(),
        sim.rest_url(),
        vec!["BTCUSDT".into()],
        cfg.exchange.streams.clone(),
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    let st = record(&feed, &file, None, Some(30_000), &stop).unwrap();
    assert_eq!((st.messages, st.snapshots), (30_000, 1), "{st:?}");
    drop(sim);

    // The recording is a capture like the shipped one: the engine replays
    // it through the simulator and syncs its book without a gap.
    let (mut cfg, _dir) = config("record-replay");
    cfg.exchange.simulator_source = file.to_str().unwrap().into();
    let out = run_paper(&cfg, &RunOptions::default()).unwrap();
    assert_eq!(out.market.events, 30_000);
    let depth = out.pipeline.core.core.depth(SymbolId(0)).unwrap();
    let ds = depth.stats();
    assert!(depth.is_synced(), "{ds:?}");
    assert_eq!((ds.gaps, ds.resyncs), (0, 0), "{ds:?}");
}

#[test]
fn bad_messages_are_counted_and_an_oversized_frame_costs_one_reconnect() {
    let (mut cfg, _dir) = shipped("bad");
    cfg.run.duration_secs = 6;
    cfg.exchange.backoff_min_ms = 20;
    let sim = synthetic_sim(&cfg, cfg.instruments.len());
    let h = sim.handle();
    let run = run_against(&sim, cfg);
    wait_for("messages", || {
        h.stats().sent.load(Ordering::Relaxed) > 2_000
    });
    let s = "btcusdt@bookTicker";
    h.inject(
        s,
        r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"#.into(),
    );
    h.inject(
        s,
        r#"{"stream":"dogeusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"DOGEUSDT","b":"0.1","B":"1","a":"0.2","A":"1","E":1}}"#.into(),
    );
    h.inject(
        s,
        r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"-5","B":"1","a":"0.2","A":"1","E":1}}"#.into(),
    );
    h.inject(s, "x".repeat(2 << 20));
    wait_for("the reconnect", || {
        h.stats().connections.load(Ordering::Relaxed) == 2
    });
    let out = run.join().unwrap();
    let g = out.market.gateway.as_ref().unwrap();
    // not json, unknown symbol, out of range, oversized frame.
    assert_eq!(
        (g.refused[0], g.refused[4], g.refused[3], g.refused[7]),
        (1, 1, 1, 1),
        "{g:?}"
    );
    assert_eq!((g.connects, g.disconnects), (2, 1), "{g:?}");
    let core = &out.pipeline.core.core;
    // Nothing of the refused messages reached the core, which kept trading
    // on the rest.
    assert_eq!(core.stats().invalid_inputs, 0, "{:?}", core.stats());
    assert!(core.stats().orders > 0);
    replays_to_the_same_digest(&out);
    drop(sim);
}

#[test]
fn a_server_that_dies_mid_frame_costs_one_reconnect_and_no_event() {
    let (mut cfg, _dir) = shipped("midframe");
    cfg.run.duration_secs = 5;
    cfg.exchange.backoff_min_ms = 20;
    let sim = synthetic_sim(&cfg, cfg.instruments.len());
    let h = sim.handle();
    let run = run_against(&sim, cfg);
    wait_for("messages", || {
        h.stats().sent.load(Ordering::Relaxed) > 2_000
    });
    h.cut_mid_frame();
    wait_for("the reconnect", || {
        h.stats().connections.load(Ordering::Relaxed) == 2
    });
    let out = run.join().unwrap();
    let g = out.market.gateway.as_ref().unwrap();
    assert_eq!((g.connects, g.disconnects), (2, 1), "{g:?}");
    // The torn frame is a lost connection, not a message: nothing refused.
    assert_eq!(g.refused_total(), 0, "{g:?}");
    let core = &out.pipeline.core.core;
    assert_eq!(core.stats().invalid_inputs, 0, "{:?}", core.stats());
    let lost = disconnected_statuses(&out);
    assert_eq!(lost, 2, "one Disconnected per symbol for the cut");
    replays_to_the_same_digest(&out);
    drop(sim);
}

#[test]
fn the_instrument_table_takes_the_exchanges_rules_and_an_unlisted_symbol_stops_the_run() {
    use autobot_engine::types::{Money, Price};
    let (exchange_cfg, _dir) = shipped("rules");
    let sim = synthetic_sim(&exchange_cfg, exchange_cfg.instruments.len());
    // The config disagrees with the exchange about BTCUSDT.
    let mut cfg = exchange_cfg.clone();
    cfg.run.duration_secs = 2;
    cfg.instruments[0].tick_size = Price::parse("0.5").unwrap();
    cfg.instruments[0].min_notional = Money::parse("50").unwrap();
    let out = run_against(&sim, cfg).join().unwrap();
    let w = out.pipeline.warnings.join("\n");
    assert!(
        w.contains("instrument BTCUSDT: tick_size is 0.1 on the exchange, 0.5 in the config"),
        "{w}"
    );
    assert!(
        w.contains("min_notional is 100 on the exchange, 50 in the config"),
        "{w}"
    );
    // The run recorded (and replays with) the exchange's table.
    let recorded = AppConfig::load(&out.run_dir.join("config.toml")).unwrap();
    assert_eq!(
        recorded.instruments[0].tick_size,
        Price::parse("0.10").unwrap()
    );
    assert_eq!(
        recorded.instruments[0].min_notional,
        Money::parse("100").unwrap()
    );
    replays_to_the_same_digest(&out);
    drop(sim);

    // An exchange listing BTCUSDT only: a config trading ETHUSDT too is refused
    // before anything starts.
    let btc_only = synthetic_sim(&exchange_cfg, 1);
    let (mut cfg, _dir) = shipped("unlisted");
    cfg.exchange.endpoint = Endpoint::Url;
    cfg.exchange.ws_url = btc_only.ws_url();
    cfg.exchange.rest_url = btc_only.rest_url();
    let err = run_paper(&cfg, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("configured symbol ETHUSDT: the exchange does not list it"),
        "{err}"
    );
    assert!(
        !Path::new(&cfg.run.run_dir).exists(),
        "no run directory for a refused run"
    );
}

#[test]
fn a_recording_survives_a_dropped_connection() {
    use autobot_gateways::binance::market::MarketFeedConfig;
    use autobot_gateways::binance::record::record;
    let (cfg, dir) = config("record-drop");
    let sim = capture_sim(0.0, &cfg);
    let h = sim.handle();
    let file = dir.join("record.gz");
    let mut feed = MarketFeedConfig::public(
        sim.ws_url(),
        sim.rest_url(),
        vec!["BTCUSDT".into()],
        cfg.exchange.streams.clone(),
    );
    feed.backoff_min = Duration::from_millis(20);
    let path = file.clone();
    let recorder = std::thread::spawn(move || {
        let stop = std::sync::atomic::AtomicBool::new(false);
        record(&feed, &path, None, Some(40_000), &stop)
    });
    wait_for("messages", || {
        h.stats().sent.load(Ordering::Relaxed) > 10_000
    });
    h.drop_connections();
    let st = recorder.join().unwrap().unwrap();
    assert_eq!(st.messages, 40_000, "{st:?}");
    assert_eq!(st.reconnects, 1, "{st:?}");
    assert_eq!(
        st.snapshots, 2,
        "a fresh snapshot after the reconnect: {st:?}"
    );
    drop(sim);
    // The recording replays: the engine's book resyncs across the gap.
    let (mut cfg, _dir) = config("record-drop-replay");
    cfg.exchange.simulator_source = file.to_str().unwrap().into();
    let out = run_paper(&cfg, &RunOptions::default()).unwrap();
    assert_eq!(out.market.events, 40_000);
    let depth = out.pipeline.core.core.depth(SymbolId(0)).unwrap();
    assert!(depth.is_synced(), "{:?}", depth.stats());
}

/// The first `n` book tickers and trades of the capture, with two lines
/// from nowhere spliced in (issue 25, items 7 and 8): a ticker whose `E`
/// is 9999999999999999999 and one whose `u` is; returns the file and the
/// last genuine ticker's update id.
fn spiked_capture(dir: &Path, n: usize) -> (PathBuf, u64) {
    use std::io::{BufRead as _, Write as _};
    let gz = flate2::read::MultiGzDecoder::new(std::fs::File::open(capture()).unwrap());
    let lines: Vec<String> = std::io::BufReader::new(gz)
        .lines()
        .map(Result::unwrap)
        .filter(|l| l.contains("@bookTicker") || l.contains("@trade"))
        .take(n)
        .collect();
    let ticker = |l: &str| l.contains("@bookTicker");
    let last_u = lines
        .iter()
        .rev()
        .find(|l| ticker(l))
        .and_then(|l| l.split("\"u\":").nth(1)?.split(',').next()?.parse().ok())
        .unwrap();
    let mut out = Vec::with_capacity(lines.len() + 2);
    for (i, l) in lines.iter().enumerate() {
        out.push(l.clone());
        if ticker(l) && (i == n / 3 || i == 2 * n / 3) {
            let (head, _) = l.split_once("\"E\":").unwrap();
            let spike = if i == n / 3 {
                format!("{head}\"E\":9999999999999999999}}}}")
            } else {
                let (pre, post) = l.split_once("\"u\":").unwrap();
                let post = post.split_once(',').unwrap().1;
                format!("{pre}\"u\":9999999999999999999,{post}")
            };
            out.push(spike);
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("spiked.txt");
    let mut f = std::fs::File::create(&path).unwrap();
    for l in &out {
        writeln!(f, "{l}").unwrap();
    }
    (path, last_u)
}

#[test]
fn messages_from_nowhere_are_refused_at_the_edge_and_never_echoed() {
    let (mut cfg, dir) = config("spiked");
    let (file, last_u) = spiked_capture(dir.path(), 30_000);
    cfg.exchange.simulator_source = file.to_str().unwrap().into();
    cfg.exchange.streams = vec!["bookTicker".into(), "trade".into()];
    let out = run_paper(&cfg, &RunOptions::default()).unwrap();
    let g = out.market.gateway.as_ref().unwrap();
    // Both refused at the gateway, counted by reason.
    assert_eq!((g.refused[8], g.refused[9]), (1, 1), "{g:?}");
    let core = &out.pipeline.core.core;
    assert_eq!(
        core.stats().implausible,
        [0; 5],
        "nothing implausible got past"
    );
    // Time stayed in August 2024; the day did not roll into the far future.
    assert!(core.now().0 < 1_723_300_000_000_000_000, "{:?}", core.now());
    // Every later ticker applied: the book ends on the last genuine one.
    assert_eq!(core.book(SymbolId(0)).unwrap().update_id, last_u);
    assert_eq!(core.stats().out_of_order, 0);
    replays_to_the_same_digest(&out);

    // The simulator streams the spikes as recorded, but its own book and
    // clock never take them: its REST snapshot does not echo them.
    let mut sim_cfg = SimConfig::loopback(
        SimSource::Capture(file.clone()),
        cfg.core().instruments.to_vec(),
    );
    sim_cfg.speed = 0.0;
    sim_cfg.start_on_first_client = false;
    let sim = SimExchange::start(sim_cfg).unwrap();
    let h = sim.handle();
    wait_for("the feed's end", || h.finished());
    assert_eq!(h.stats().implausible.load(Ordering::Relaxed), 2);
    let body = ureq::get(&format!(
        "{}/fapi/v1/depth?symbol=BTCUSDT&limit=5",
        sim.rest_url()
    ))
    .call()
    .unwrap()
    .body_mut()
    .read_to_string()
    .unwrap();
    let snapshot: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        snapshot["lastUpdateId"].as_u64(),
        Some(last_u),
        "{snapshot}"
    );
    assert!(
        snapshot["E"].as_u64().unwrap() < 1_723_300_000_000,
        "{snapshot}"
    );
    drop(sim);
}

/// A capture with nothing for the configured symbols (here: the real
/// capture renamed to SOLUSDT) used to end with "market messages 0" and
/// exit 0; it is an error naming the symbols and the source.
#[test]
fn a_run_that_sees_no_market_data_for_its_symbols_fails_with_why() {
    use std::io::{BufRead as _, Write as _};
    let (mut cfg, dir) = config("nothing-ours");
    let gz = flate2::read::MultiGzDecoder::new(std::fs::File::open(capture()).unwrap());
    let path = dir.join("solusdt.txt");
    let mut f = std::fs::File::create(&path).unwrap();
    for l in std::io::BufReader::new(gz).lines().take(2_000) {
        let l = l
            .unwrap()
            .replace("BTCUSDT", "SOLUSDT")
            .replace("btcusdt", "solusdt");
        writeln!(f, "{l}").unwrap();
    }
    drop(f);
    cfg.exchange.simulator_source = path.to_str().unwrap().into();
    let err = run_paper(&cfg, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no market data for BTCUSDT") && err.contains("traded nothing"),
        "{err}"
    );
}
