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
use autobot_gateways::binance::execution::{ExecClient, ExecConfig};
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::credentials::Hidden;
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
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
    let ins = instruments(&[presets::btcusdt()]);
    let mut cfg = SimConfig::loopback(SimSource::Capture(capture()), ins.to_vec());
    cfg.start_on_first_client = false;
    // Stream the whole capture at once: the book it leaves is the one
    // orders match against.
    cfg.speed = 0.0;
    cfg.api = Some(keys("the-secret"));
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
    c.place(&order(2, Side::Buy, OrderKind::Limit, "1000"))
        .unwrap();
    assert_eq!(c.query_order(SymbolId(0), ClientOrderId(2)), Ok(true));
    c.cancel(&CancelOrder {
        client_id: ClientOrderId(2),
        symbol: SymbolId(0),
    })
    .unwrap();
    let refused = c
        .cancel(&CancelOrder {
            client_id: ClientOrderId(2),
            symbol: SymbolId(0),
        })
        .unwrap_err();
    assert_eq!(refused.code, -2011);
    assert_eq!(c.query_order(SymbolId(0), ClientOrderId(99)), Ok(false));
    let positions = String::from_utf8(c.positions().unwrap()).unwrap();
    assert!(
        positions.contains("\"positionAmt\":\"0.002\""),
        "{positions}"
    );
    assert!(
        String::from_utf8(c.account().unwrap())
            .unwrap()
            .contains("walletBalance")
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
