//! Signed execution against the simulator over real loopback sockets: the
//! simulator verifies every signature and refuses a bad one; -1021 makes
//! the client measure the clock offset and succeed; -1003 starts a
//! back-off that refuses orders locally until `Retry-After` passes; orders
//! and cancels round-trip; the user-data stream carries the fills.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use autobot_engine::config::{instruments, presets};
use autobot_engine::event::{CancelOrder, NewOrder, OrderKind, RejectReason};
use autobot_engine::types::{ClientOrderId, Price, Qty, Side, SymbolId};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use autobot_engine::event::{InputBody, InputEvent, Liquidity, OrderStatus, Source};
use autobot_engine::runtime::read_journal;
use autobot_gateways::binance::execution::{ExecClient, ExecConfig};
use autobot_gateways::binance::ledger::OrderLedger;
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::binance::user::{UserEnded, UserStats, UserStream};
use autobot_gateways::credentials::Hidden;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_test_support::Scratch;
use tungstenite::Message;

fn capture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ticks/btcusdt_20240808.gz"
    ))
}

fn keys(secret: &str) -> (Hidden, Hidden) {
    (Hidden::new("simkey".into()), Hidden::new(secret.into()))
}

fn start() -> SimExchange {
    start_with("the-secret")
}

/// The simulator with the API key `simkey` and `secret` (an HMAC secret or
/// an Ed25519 private key, whose public half it verifies with).
fn start_with(secret: &str) -> SimExchange {
    let ins = instruments(&[presets::btcusdt()]);
    let mut cfg = SimConfig::loopback(SimSource::Capture(capture()), ins.to_vec());
    cfg.start_on_first_client = false;
    // Stream the whole capture at once: the book it leaves is the one
    // orders match against.
    cfg.speed = 0.0;
    let (key, secret) = keys(secret);
    cfg.add_key(key, secret);
    let sim = SimExchange::start(cfg).unwrap();
    let h = sim.handle();
    let t = Instant::now();
    while !h.finished() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the feed did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sim
}

fn client(sim: &SimExchange, secret: &str) -> ExecClient {
    let (k, s) = keys(secret);
    ExecClient::new(
        ExecConfig::new(&sim.rest_url()),
        Signer::from_parts(k, &s),
        vec!["BTCUSDT".into()],
    )
}

fn order(id: u64, side: Side, kind: OrderKind, price: &str) -> NewOrder {
    NewOrder {
        client_id: ClientOrderId(id),
        symbol: SymbolId(0),
        side,
        kind,
        reduce_only: false,
        post_only: kind == OrderKind::Limit,
        price: Price::parse(price).unwrap(),
        qty: Qty::parse("0.002").unwrap(),
    }
}

#[test]
fn signed_orders_round_trip_and_a_bad_signature_is_refused() {
    let sim = start();
    let h = sim.handle();
    // A user-data stream, read as the exchange's client would.
    let mut rest =
        autobot_gateways::binance::rest::RestClient::new(&sim.rest_url(), Duration::from_secs(5));
    let key = Hidden::new("simkey".into());
    let reply = rest
        .send(
            autobot_gateways::binance::rest::Method::Post,
            "/fapi/v1/listenKey",
            "",
            Some(&key),
        )
        .unwrap();
    let body = String::from_utf8(reply.body).unwrap();
    let listen_key = body.split('"').nth(3).unwrap().to_string();
    let (mut user, _) = tungstenite::connect(format!("{}/ws/{listen_key}", sim.ws_url())).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = user.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    let t = Instant::now();
    while h.user_clients() == 0 {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::yield_now();
    }

    let mut c = client(&sim, "the-secret");
    c.place(&order(1, Side::Buy, OrderKind::Market, "0"))
        .unwrap();
    let mut seen = Vec::new();
    while !seen.iter().any(|m: &String| m.contains("\"X\":\"FILLED\"")) {
        match user.read().unwrap() {
            Message::Text(t) => seen.push(t.to_string()),
            _ => continue,
        }
    }
    assert!(
        seen[0].contains("\"c\":\"ab1\"") && seen[0].contains("\"X\":\"NEW\""),
        "{seen:?}"
    );

    // A resting post-only bid far below the market: known, then cancelled.
    // (3% below the mark: inside PERCENT_PRICE, as Binance requires).
    let bid = h.resting_bid("BTCUSDT", 0.97).unwrap().to_string();
    c.place(&order(2, Side::Buy, OrderKind::Limit, &bid))
        .unwrap();
    let resting = c.order(SymbolId(0), ClientOrderId(2)).unwrap().unwrap();
    assert_eq!(
        (resting.status, resting.side, resting.executed),
        (OrderStatus::Accepted, Side::Buy, Qty::ZERO)
    );
    c.cancel(
        &CancelOrder {
            client_id: ClientOrderId(2),
            symbol: SymbolId(0),
        },
        false,
    )
    .unwrap();
    let refused = c
        .cancel(
            &CancelOrder {
                client_id: ClientOrderId(2),
                symbol: SymbolId(0),
            },
            false,
        )
        .unwrap_err();
    assert_eq!(refused.code, -2011);
    assert_eq!(c.order(SymbolId(0), ClientOrderId(99)), Ok(None));
    let cancelled = c.order(SymbolId(0), ClientOrderId(2)).unwrap().unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert!(c.open_orders().unwrap().is_empty());
    // The account read back: the position, the wallet less the fee, and
    // the market order's fills, which add up to it.
    let positions = c.position_list().unwrap();
    assert_eq!(positions.len(), 1);
    assert_eq!(
        (positions[0].symbol.as_str(), positions[0].qty),
        ("BTCUSDT", Qty::parse("0.002").unwrap())
    );
    assert!(c.wallet("USDT").unwrap() < autobot_engine::types::Money::parse("100000").unwrap());
    let filled = c.order(SymbolId(0), ClientOrderId(1)).unwrap().unwrap();
    let trades = c.order_trades(SymbolId(0), filled.order_id).unwrap();
    let total = trades
        .iter()
        .fold(Qty::ZERO, |s, t| s.checked_add(t.qty).unwrap());
    assert_eq!(
        (filled.status, total),
        (OrderStatus::Filled, filled.executed)
    );

    // The wrong secret: the simulator refuses the signature (-1022), and
    // the core would hear `Auth`.
    let before = h.stats().auth_refused.load(Ordering::Relaxed);
    let mut forged = client(&sim, "not-the-secret");
    let r = forged
        .place(&order(3, Side::Buy, OrderKind::Market, "0"))
        .unwrap_err();
    assert_eq!((r.code, r.reason), (-1022, RejectReason::Auth));
    assert_eq!(h.stats().auth_refused.load(Ordering::Relaxed), before + 1);
    assert_eq!(h.stats().orders.load(Ordering::Relaxed), 2);
}

/// Ed25519 private keys (RFC 8032's first test key, and another), as the
/// one-line base64 of their PKCS#8 DER.
const ED25519_A: &str = "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";
const ED25519_B: &str = "MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";

/// An Ed25519 key signs orders the simulator accepts with its public half;
/// another key's signature is refused (-1022, `Auth`), as is an HMAC
/// signature against an Ed25519 key.
#[test]
fn an_ed25519_key_signs_orders_and_a_wrong_key_is_refused() {
    let sim = start_with(ED25519_A);
    let h = sim.handle();
    let mut c = client(&sim, ED25519_A);
    c.place(&order(1, Side::Buy, OrderKind::Market, "0"))
        .unwrap();
    assert_eq!(h.stats().orders.load(Ordering::Relaxed), 1);
    for wrong in [ED25519_B, "the-secret"] {
        let r = client(&sim, wrong)
            .place(&order(2, Side::Buy, OrderKind::Market, "0"))
            .unwrap_err();
        assert_eq!(
            (r.code, r.reason),
            (-1022, RejectReason::Auth),
            "{wrong:.8}"
        );
    }
    assert_eq!(h.stats().orders.load(Ordering::Relaxed), 1);
}

#[test]
fn clock_skew_is_resynced_and_a_rate_limit_backs_off() {
    let sim = start();
    let h = sim.handle();
    let mut c = client(&sim, "the-secret");

    // The exchange clock runs 30 s ahead: -1021, a resync, then accepted.
    h.skew_clock(30_000);
    c.place(&order(1, Side::Buy, OrderKind::Market, "0"))
        .unwrap();
    assert_eq!(c.stats().clock_resyncs, 1);
    assert!(
        (c.clock_offset_ms() - 30_000).abs() < 2_000,
        "{}",
        c.clock_offset_ms()
    );
    assert_eq!(h.stats().auth_refused.load(Ordering::Relaxed), 1);
    c.place(&order(2, Side::Sell, OrderKind::Market, "0"))
        .unwrap();
    assert_eq!(c.stats().clock_resyncs, 1, "the offset holds");

    // 429 / -1003 with Retry-After 1: refused, then refused locally
    // without a request until the second has passed.
    h.throttle(1);
    let r = c
        .place(&order(3, Side::Buy, OrderKind::Market, "0"))
        .unwrap_err();
    assert_eq!((r.code, r.reason), (-1003, RejectReason::RateLimited));
    let requests = h.stats().rest_requests.load(Ordering::Relaxed);
    let r = c
        .place(&order(4, Side::Buy, OrderKind::Market, "0"))
        .unwrap_err();
    assert_eq!((r.code, r.reason), (0, RejectReason::RateLimited));
    assert_eq!(h.stats().rest_requests.load(Ordering::Relaxed), requests);
    assert_eq!((c.stats().backoffs, c.stats().refused_locally), (1, 1));
    // Retry-After is a wall-clock promise: wait it out, then trade again.
    std::thread::sleep(Duration::from_millis(1_050));
    c.place(&order(5, Side::Buy, OrderKind::Market, "0"))
        .unwrap();
    assert_eq!(h.stats().throttled.load(Ordering::Relaxed), 1);
}

/// The user-data stream thread as the run starts it, publishing into a real
/// pipeline (ring, journal, core) whose outputs are drained.
struct UserPipeline {
    dir: Scratch,
    stats: Arc<UserStats>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<UserEnded>,
    pipeline: autobot_engine::runtime::PipelineHandle,
    drain: std::thread::JoinHandle<()>,
}

impl UserPipeline {
    fn start(sim: &SimExchange, name: &str, ledger: Option<Arc<OrderLedger>>) -> UserPipeline {
        use autobot_engine::config::{Layout, StrategyConfig, WaitKind};
        use autobot_engine::runtime::{RingReader as _, Waiter, start as start_pipeline};
        use autobot_gateways::binance::parse::Symbols;
        use autobot_gateways::binance::user::UserStreamConfig;

        let dir = Scratch::new(name);
        let engine = autobot_test_support::configs::engine(Layout::Inline);
        let journal = autobot_test_support::configs::journal();
        let core = presets::core(&[presets::btcusdt()], StrategyConfig::ema_cross(5, 20));
        let started =
            start_pipeline(&engine, &journal, &core, &dir.join("journal"), None, false).unwrap();
        let mut outputs = started.outputs;
        let drain = std::thread::spawn(move || {
            let mut waiter = Waiter::new(WaitKind::Yield);
            loop {
                match outputs.with_batch(u64::MAX, |evs| evs.count()) {
                    Ok(Some(_)) => waiter.reset(),
                    Ok(None) => waiter.idle(),
                    Err(_) => return,
                }
            }
        });
        let (key, _) = keys("the-secret");
        let mut user = UserStream::new(
            UserStreamConfig {
                rest_url: sim.rest_url(),
                ws_url: sim.ws_url(),
                api_key: key,
                margin_asset: "USDT".into(),
                keepalive: Duration::from_secs(1800),
                poll: Duration::from_millis(10),
                backoff_min: Duration::from_millis(20),
                backoff_max: Duration::from_millis(200),
                leverage: None,
                trust: autobot_gateways::trust::Trust::public(),
            },
            Symbols::new(&["BTCUSDT"]),
        );
        if let Some(ledger) = ledger {
            user = user.with_reconciler(client(sim, "the-secret"), ledger);
        }
        let stats = user.stats();
        let stop = Arc::new(AtomicBool::new(false));
        let mut publisher = started.publisher;
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::spawn(move || user.run(&mut publisher, &thread_stop));
        UserPipeline {
            dir,
            stats,
            stop,
            thread,
            pipeline: started.handle,
            drain,
        }
    }

    /// Stops the stream and the pipeline; the journal's inputs.
    fn finish(self) -> Vec<InputEvent> {
        self.stop.store(true, Ordering::Release);
        assert_eq!(self.thread.join().unwrap(), UserEnded::Stopped);
        assert_eq!(self.stats.refused.load(Ordering::Relaxed), 0);
        self.pipeline.join().unwrap();
        self.drain.join().unwrap();
        read_journal(&self.dir.join("journal")).unwrap().events
    }
}

fn wait(what: &str, cond: &dyn Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(30), "waiting for {what}");
        std::thread::yield_now();
    }
}

/// Client ids of the journal's order reports with `status`, in order.
fn reports(events: &[InputEvent], status: OrderStatus) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e.body {
            InputBody::OrderUpdate(u) if u.status == status => Some(u.client_id.0),
            _ => None,
        })
        .collect()
}

/// The exchange expires the listen key mid-run; the client counts the
/// expiry, creates a new key, reconnects, and the fills of orders placed
/// before and after the expiry are both in the journal.
#[test]
fn an_expired_listen_key_is_recreated_and_reports_keep_reaching_the_journal() {
    let sim = start();
    let h = sim.handle();
    let run = UserPipeline::start(&sim, "listenkey", None);
    let stats = Arc::clone(&run.stats);
    wait("the user stream", &|| h.user_clients() == 1);

    let mut c = client(&sim, "the-secret");
    c.place(&order(1, Side::Buy, OrderKind::Market, "0"))
        .unwrap();
    // NEW, TRADE, ACCOUNT_UPDATE.
    wait("the first fill", &|| {
        stats.events.load(Ordering::Relaxed) >= 3
    });
    h.expire_listen_keys();
    wait("a new listen key", &|| {
        stats.listen_keys.load(Ordering::Relaxed) == 2 && h.user_clients() == 1
    });
    c.place(&order(2, Side::Sell, OrderKind::Market, "0"))
        .unwrap();
    wait("the second fill", &|| {
        stats.events.load(Ordering::Relaxed) >= 6
    });
    let events = run.finish();
    assert_eq!(stats.expired.load(Ordering::Relaxed), 1);
    let filled = reports(&events, OrderStatus::Filled);
    assert_eq!(filled, [1, 2], "both fills journaled, once each");
}

/// The user stream is down while an order fills and a resting order is
/// cancelled: nothing of it reaches the client. On reconnect the open
/// orders are queried over signed REST and the missed fill (from
/// `userTrades`, at the exchange's price, quantity and fee) and the cancel
/// are journaled, once each. Orders a resumed core holds that the exchange
/// does not know are ended: refused if never acknowledged, else expired.
#[test]
fn reports_missed_during_a_user_stream_outage_are_recovered_over_rest() {
    let sim = start();
    let h = sim.handle();
    let ledger = Arc::new(OrderLedger::new());
    // What a resumed core might hold: sent but never acknowledged, and
    // acknowledged and resting; the exchange knows neither.
    ledger.adopt(
        ClientOrderId(98),
        SymbolId(0),
        Side::Buy,
        OrderKind::Limit,
        Qty::ZERO,
        Some(OrderStatus::Accepted),
    );
    ledger.adopt(
        ClientOrderId(99),
        SymbolId(0),
        Side::Buy,
        OrderKind::Limit,
        Qty::ZERO,
        None,
    );
    let run = UserPipeline::start(&sim, "outage", Some(Arc::clone(&ledger)));
    let stats = Arc::clone(&run.stats);
    wait("the user stream and the first reconciliation", &|| {
        h.user_clients() == 1 && stats.recovered.load(Ordering::Relaxed) == 2
    });
    let mut c = client(&sim, "the-secret");
    let mut place = |o: NewOrder| {
        ledger.sending(o.client_id, o.symbol, o.side, o.kind);
        c.place(&o).unwrap();
        ledger.placed(o.client_id);
    };
    place(order(1, Side::Buy, OrderKind::Market, "0"));
    let bid = h.resting_bid("BTCUSDT", 0.97).unwrap().to_string();
    place(order(3, Side::Buy, OrderKind::Limit, &bid));
    // The ledger settles an order as its report is admitted, a moment before
    // the report is published and counted, so wait for the count itself:
    // the two recovered reports, order 1's NEW, TRADE and ACCOUNT_UPDATE,
    // and order 3's NEW.
    let streamed = 6;
    wait("the first fill and the resting order", &|| {
        ledger.unsettled() == 0 && stats.events.load(Ordering::Relaxed) >= streamed
    });
    assert_eq!(stats.events.load(Ordering::Relaxed), streamed);

    h.user_outage(true);
    wait("the outage", &|| h.user_clients() == 0);
    place(order(2, Side::Sell, OrderKind::Market, "0"));
    let cancel = CancelOrder {
        client_id: ClientOrderId(3),
        symbol: SymbolId(0),
    };
    c.cancel(&cancel, false).unwrap();
    ledger.cancelling(ClientOrderId(3));
    assert_eq!(ledger.unsettled(), 2, "a fill and a cancel are owed");
    assert_eq!(
        stats.events.load(Ordering::Relaxed),
        streamed,
        "nothing arrived"
    );

    h.user_outage(false);
    wait("the recovered reports", &|| ledger.unsettled() == 0);
    let events = run.finish();
    assert_eq!(stats.recovered.load(Ordering::Relaxed), 4);
    assert_eq!(stats.duplicates.load(Ordering::Relaxed), 0);
    assert_eq!(
        reports(&events, OrderStatus::Filled),
        [1, 2],
        "each fill once"
    );
    assert_eq!(reports(&events, OrderStatus::Cancelled), [3]);
    assert_eq!(reports(&events, OrderStatus::Expired), [98]);
    let refused: Vec<u64> = events
        .iter()
        .filter_map(|e| match e.body {
            InputBody::OrderRejected(r) => Some(r.client_id.0),
            _ => None,
        })
        .collect();
    assert_eq!(refused, [99]);
    // The recovered fill is the exchange's trade, not an estimate.
    let recovered = events
        .iter()
        .find_map(|e| match e.body {
            InputBody::OrderUpdate(u) if u.client_id.0 == 2 => Some((e.header.source, u)),
            _ => None,
        })
        .unwrap();
    assert_eq!(recovered.0, Source::Execution);
    let u = recovered.1;
    assert_eq!(
        (u.last_qty, u.cum_qty),
        (Qty::parse("0.002").unwrap(), u.last_qty)
    );
    assert!(u.last_price.is_positive() && u.fee.is_positive(), "{u:?}");
    assert_eq!(u.liquidity, Liquidity::Taker);
}

/// A protective stop goes to the Algo Order API: acknowledged and cancelled
/// there (`ALGO_UPDATE`), and when the price runs through it while the
/// user stream is down, the fill of the order it triggered is recovered
/// over REST (`algoOrder` → `actualOrderId` → `userTrades`), once.
#[test]
fn a_protective_stop_rests_at_the_algo_api_and_its_missed_fill_is_recovered() {
    let sim = start();
    let h = sim.handle();
    let ledger = Arc::new(OrderLedger::new());
    let run = UserPipeline::start(&sim, "algo", Some(Arc::clone(&ledger)));
    let stats = Arc::clone(&run.stats);
    wait("the user stream", &|| h.user_clients() == 1);
    let mut c = client(&sim, "the-secret");
    let mut place = |o: NewOrder| {
        ledger.sending(o.client_id, o.symbol, o.side, o.kind);
        c.place(&o).unwrap();
        ledger.placed(o.client_id);
    };
    let stop = |id, price| NewOrder {
        reduce_only: true,
        post_only: false,
        ..order(id, Side::Sell, OrderKind::StopMarket, price)
    };
    place(order(1, Side::Buy, OrderKind::Market, "0"));
    place(stop(2, "30000"));
    place(stop(3, "20000"));
    wait("the fill and both stops acknowledged", &|| {
        ledger.unsettled() == 0 && ledger.open().len() == 2
    });
    assert!(ledger.open().iter().all(|e| e.conditional));
    let mut c = client(&sim, "the-secret");
    let cancel = CancelOrder {
        client_id: ClientOrderId(3),
        symbol: SymbolId(0),
    };
    c.cancel(&cancel, ledger.is_conditional(ClientOrderId(3)))
        .unwrap();
    ledger.cancelling(ClientOrderId(3));
    // The ledger moves a moment before a report is counted: wait for the
    // count itself. Order 1's NEW, TRADE and ACCOUNT_UPDATE; each stop's
    // NEW; stop 3's CANCELED.
    let seen = 6;
    wait("the cancel", &|| {
        ledger.open().len() == 1 && stats.events.load(Ordering::Relaxed) >= seen
    });
    assert_eq!(stats.events.load(Ordering::Relaxed), seen);

    h.user_outage(true);
    wait("the outage", &|| h.user_clients() == 0);
    assert!(h.print_trade("BTCUSDT", Price::parse("1000").unwrap(), Qty::ONE));
    assert_eq!(
        stats.events.load(Ordering::Relaxed),
        seen,
        "nothing streamed"
    );
    h.user_outage(false);
    wait("the recovered stop fill", &|| ledger.open().is_empty());
    let events = run.finish();
    assert_eq!(stats.duplicates.load(Ordering::Relaxed), 0);
    assert_eq!(reports(&events, OrderStatus::Cancelled), [3]);
    assert_eq!(
        reports(&events, OrderStatus::Filled),
        [1, 2],
        "each fill once"
    );
    let (source, fill) = events
        .iter()
        .find_map(|e| match e.body {
            InputBody::OrderUpdate(u) if u.client_id.0 == 2 && u.last_qty.is_positive() => {
                Some((e.header.source, u))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(source, Source::Execution, "recovered over REST");
    // The whole position, closed into the bids well above the print.
    assert_eq!(fill.last_qty, Qty::parse("0.002").unwrap());
    assert!(fill.last_price > Price::parse("30000").unwrap());
    assert!(fill.fee.is_positive());
}
