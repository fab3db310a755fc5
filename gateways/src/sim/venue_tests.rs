//! Tests of the simulator's adapter over the exchange model: Binance's
//! parameters in, Binance's JSON out (the fill rules themselves are the
//! model's, tested in `gateways/exchange/tests`).

use super::*;
use autobot_engine::config::{instruments, presets};

const SNAPSHOT: &str = r#"{"lastUpdateId":1,"E":1000,"T":1000,"bids":[["99","1"],["98","2"]],"asks":[["101","0.5"],["102","1"],["103","5"]]}"#;

/// BTCUSDT with the depth of [`SNAPSHOT`], bridged by an empty diff.
fn venue() -> Venue {
    let mut v = Venue::new(
        &AccountConfig::default(),
        &instruments(&[presets::btcusdt()]),
    );
    v.on_snapshot("BTCUSDT", SNAPSHOT);
    let bridge = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1000,"T":1000,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[],"a":[]}}"#;
    assert!(v.on_stream(bridge, 0));
    v
}

fn params<'a>(kv: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
    let mut p: BTreeMap<&str, &str> = kv.iter().copied().collect();
    p.insert("symbol", "BTCUSDT");
    p
}

fn market(
    side: &'static str,
    qty: &'static str,
    id: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("side", side),
        ("type", "MARKET"),
        ("quantity", qty),
        ("newClientOrderId", id),
    ]
}

fn limit(
    side: &'static str,
    tif: &'static str,
    qty: &'static str,
    price: &'static str,
    id: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("side", side),
        ("type", "LIMIT"),
        ("timeInForce", tif),
        ("quantity", qty),
        ("price", price),
        ("newClientOrderId", id),
    ]
}

fn trade(price: &str) -> String {
    format!(
        r#"{{"stream":"btcusdt@aggTrade","data":{{"e":"aggTrade","E":2000,"s":"BTCUSDT","a":1,"p":"{price}","q":"1","f":1,"l":1,"T":2000,"m":true}}}}"#
    )
}

fn fills(events: &[String]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter(|v| v["o"]["x"] == "TRADE")
        .map(|v| {
            (
                v["o"]["L"].as_str().unwrap().into(),
                v["o"]["l"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn a_market_order_walks_the_levels_acknowledges_first_and_pays_taker_fees() {
    let mut v = venue();
    v.place(&params(&market("BUY", "2", "ab1"))).unwrap();
    let ev = v.take_events();
    assert!(
        ev[0].contains(r#""x":"NEW""#),
        "Binance acknowledges first: {}",
        ev[0]
    );
    assert_eq!(
        fills(&ev),
        [
            ("101".into(), "0.5".into()),
            ("102".into(), "1".into()),
            ("103".into(), "0.5".into())
        ]
    );
    let last = ev
        .iter()
        .rfind(|e| e.contains("ORDER_TRADE_UPDATE"))
        .unwrap();
    assert!(last.contains(r#""X":"FILLED""#), "{last}");
    assert!(ev.last().unwrap().contains(r#""pa":"2""#));
    // Fees: (50.5 + 102 + 51.5) × 0.0004 = 0.0816.
    assert!(
        v.account_json()
            .contains(r#""totalWalletBalance":"99999.9184""#)
    );
    assert!(
        v.positions_json(None)
            .unwrap()
            .contains(r#""entryPrice":"102""#)
    );
}

#[test]
fn limits_rest_until_traded_through_and_post_only_never_takes() {
    let mut v = venue();
    assert_eq!(
        v.place(&params(&limit("BUY", "GTX", "1", "101", "ab1")))
            .unwrap_err()
            .1,
        -5022
    );
    v.place(&params(&limit("BUY", "GTX", "1", "99", "ab2")))
        .unwrap();
    // Behind the 1 at 99 in the queue: a trade of 1 at the price fills nothing.
    v.on_stream(&trade("99"), 0);
    assert!(fills(&v.take_events()).is_empty());
    assert!(
        v.query("BTCUSDT", "ab2")
            .unwrap()
            .contains(r#""status":"NEW""#)
    );
    v.on_stream(&trade("98.9"), 0);
    let ev = v.take_events();
    assert_eq!(fills(&ev), [("99".into(), "1".into())]);
    assert!(ev[0].contains(r#""m":true"#));
    assert!(v.query("BTCUSDT", "ab2").unwrap().contains(r#""FILLED""#));
    // Maker fee 99 × 0.0002.
    assert!(
        v.account_json().contains("99999.9802"),
        "{}",
        v.account_json()
    );
}

#[test]
fn a_crossing_limit_takes_then_rests_and_can_be_cancelled() {
    let mut v = venue();
    v.place(&params(&limit("BUY", "GTC", "1", "101", "ab1")))
        .unwrap();
    let ev = v.take_events();
    assert_eq!(fills(&ev), [("101".into(), "0.5".into())]);
    let open = v.open_orders(Some("BTCUSDT"));
    assert!(
        open.contains(r#""status":"PARTIALLY_FILLED""#) && open.contains(r#""executedQty":"0.5""#),
        "{open}"
    );
    v.cancel("BTCUSDT", "ab1").unwrap();
    assert!(v.take_events()[0].contains(r#""X":"CANCELED""#));
    assert!(
        v.query("BTCUSDT", "ab1")
            .unwrap()
            .contains(r#""executedQty":"0.5""#)
    );
    let trades = v
        .user_trades(
            &[("symbol", "BTCUSDT"), ("orderId", "1")]
                .into_iter()
                .collect(),
        )
        .unwrap();
    assert!(
        trades.contains(r#""qty":"0.5""#) && trades.contains(r#""price":"101""#),
        "{trades}"
    );
    assert_eq!(v.cancel("BTCUSDT", "ab1").unwrap_err().1, -2011);
    assert_eq!(v.query("BTCUSDT", "nope").unwrap_err().1, -2013);
}

#[test]
fn ioc_expires_its_rest_and_fok_all_or_nothing() {
    let mut v = venue();
    v.place(&params(&limit("BUY", "IOC", "1", "101", "ab1")))
        .unwrap();
    let ev = v.take_events();
    assert_eq!(fills(&ev), [("101".into(), "0.5".into())]);
    assert!(ev.iter().any(|e| e.contains(r#""X":"EXPIRED""#)), "{ev:?}");
    v.place(&params(&limit("SELL", "FOK", "5", "98", "ab2")))
        .unwrap();
    let ev = v.take_events();
    assert!(
        fills(&ev).is_empty() && ev.iter().any(|e| e.contains(r#""X":"EXPIRED""#)),
        "{ev:?}"
    );
}

#[test]
fn reduce_only_margin_and_duplicates_are_enforced() {
    let mut v = venue();
    let mut reduce = market("SELL", "1", "ab1");
    reduce.push(("reduceOnly", "true"));
    assert_eq!(v.place(&params(&reduce)).unwrap_err().1, -2022);
    v.place(&params(&market("BUY", "0.5", "ab2"))).unwrap();
    reduce[3] = ("newClientOrderId", "ab3");
    v.place(&params(&reduce)).unwrap();
    // Cut to the 0.5 held: never a flip.
    assert!(
        v.positions_json(None)
            .unwrap()
            .contains(r#""positionAmt":"0""#),
        "{}",
        v.positions_json(None).unwrap()
    );
    assert_eq!(
        v.place(&params(&market("BUY", "100000", "ab4")))
            .unwrap_err()
            .1,
        -2019
    );
    assert_eq!(
        v.place(&params(&market("BUY", "1", "ab2"))).unwrap_err().1,
        -4116
    );
}

/// The `e` / `X` of each user-data event, in order.
fn kinds(events: &[String]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(e).unwrap();
            let x = v["o"]["X"].as_str().unwrap_or_default().to_string();
            (v["e"].as_str().unwrap().to_string(), x)
        })
        .collect()
}

#[test]
fn a_stop_market_close_position_is_an_algo_order_that_triggers_on_the_contract_price() {
    let mut v = venue();
    v.place(&params(&market("BUY", "0.5", "ab1"))).unwrap();
    let stop = vec![
        ("algoType", "CONDITIONAL"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
        ("triggerPrice", "98.5"),
        ("closePosition", "true"),
        ("clientAlgoId", "ab2"),
    ];
    // As on Binance since 2025-12: not at the order endpoint.
    let mut at_order = stop.clone();
    at_order.push(("stopPrice", "98.5"));
    assert_eq!(v.place(&params(&at_order)).unwrap_err().1, -4120);
    v.take_events();
    let ack: Value = serde_json::from_str(&v.place_algo(&params(&stop)).unwrap()).unwrap();
    assert_eq!(ack["algoStatus"], "NEW");
    assert_eq!(ack["clientAlgoId"], "ab2");
    assert_eq!(
        kinds(&v.take_events()),
        [("ALGO_UPDATE".into(), "NEW".into())]
    );
    assert!(v.open_algo_orders().contains("ab2"));
    assert_eq!(v.open_orders(None), "[]", "listed apart from orders");
    v.on_stream(&trade("98.6"), 0);
    assert!(fills(&v.take_events()).is_empty());
    v.on_stream(&trade("98.5"), 0);
    let ev = v.take_events();
    // Sells the 0.5 held into the bids: 99 has 1.
    assert_eq!(fills(&ev), [("99".into(), "0.5".into())]);
    let k = kinds(&ev);
    assert_eq!(k[0], ("ALGO_UPDATE".into(), "TRIGGERED".into()));
    assert_eq!(k[1], ("ORDER_TRADE_UPDATE".into(), "NEW".into()));
    assert_eq!(k[2], ("ORDER_TRADE_UPDATE".into(), "FILLED".into()));
    assert_eq!(k[3], ("ALGO_UPDATE".into(), "FINISHED".into()));
    assert!(ev[2].contains(r#""c":"ab2""#) && ev[2].contains(r#""ot":"STOP_MARKET""#));
    assert!(
        v.positions_json(None)
            .unwrap()
            .contains(r#""positionAmt":"0""#)
    );
    let q: Value =
        serde_json::from_str(&v.query_algo(&params(&[("clientAlgoId", "ab2")])).unwrap()).unwrap();
    assert_eq!(q["algoStatus"], "FINISHED");
    let actual: u64 = q["actualOrderId"].as_str().unwrap().parse().unwrap();
    assert!(
        v.user_trades(
            &[
                ("symbol", "BTCUSDT"),
                ("orderId", actual.to_string().as_str())
            ]
            .into_iter()
            .collect()
        )
        .unwrap()
        .contains(r#""qty":"0.5""#)
    );
    assert_eq!(v.open_algo_orders(), "[]");
}

#[test]
fn an_algo_order_is_cancelled_by_its_client_id_and_queried_after() {
    let mut v = venue();
    v.place(&params(&market("BUY", "0.5", "ab1"))).unwrap();
    let stop = vec![
        ("algoType", "CONDITIONAL"),
        ("side", "SELL"),
        ("type", "STOP_MARKET"),
        ("triggerPrice", "90"),
        ("closePosition", "true"),
        ("clientAlgoId", "ab3"),
    ];
    v.place_algo(&params(&stop)).unwrap();
    // One that would trigger at once is refused, as Binance does.
    v.on_stream(&trade("99.5"), 0);
    let mut now = stop.clone();
    now[3] = ("triggerPrice", "99.5");
    now[5] = ("clientAlgoId", "ab4");
    assert_eq!(v.place_algo(&params(&now)).unwrap_err().1, -2021);
    v.take_events();
    let gone = v.cancel_algo(&params(&[("clientalgoid", "ab3")])).unwrap();
    assert!(gone.contains(r#""algoStatus":"CANCELED""#), "{gone}");
    assert_eq!(
        kinds(&v.take_events()),
        [("ALGO_UPDATE".into(), "CANCELED".into())]
    );
    let q = v.query_algo(&params(&[("clientAlgoId", "ab3")])).unwrap();
    assert!(q.contains(r#""algoStatus":"CANCELED""#), "{q}");
    assert_eq!(
        v.query_algo(&params(&[("clientAlgoId", "ab9")]))
            .unwrap_err()
            .1,
        -2013
    );
    assert_eq!(
        v.cancel_algo(&params(&[("clientAlgoId", "ab1")]))
            .unwrap_err()
            .1,
        -2011
    );
}

#[test]
fn depth_is_the_held_snapshot_until_the_stream_reaches_it() {
    let mut v = Venue::new(
        &AccountConfig::default(),
        &instruments(&[presets::btcusdt()]),
    );
    v.hold_snapshot("BTCUSDT", SNAPSHOT.into());
    assert_eq!(v.depth_json("BTCUSDT", 5).unwrap().unwrap(), SNAPSHOT);
    v.on_snapshot("BTCUSDT", SNAPSHOT);
    let d = v.depth_json("BTCUSDT", 1).unwrap().unwrap();
    assert!(
        d.contains(r#""bids":[["99","1"]]"#) && d.contains(r#""lastUpdateId":1"#),
        "{d}"
    );
    assert_eq!(v.depth_json("ETHUSDT", 5).unwrap_err().1, -1121);
}

#[test]
fn a_message_from_nowhere_is_not_adopted() {
    let mut v = Venue::new(
        &AccountConfig::default(),
        &instruments(&[presets::btcusdt()]),
    );
    let ticker = |u: &str, bid: &str, e: &str| {
        format!(
            r#"{{"stream":"btcusdt@bookTicker","data":{{"e":"bookTicker","u":{u},"s":"BTCUSDT","b":"{bid}","B":"2","a":"101","A":"3","T":{e},"E":{e}}}}}"#
        )
    };
    assert!(v.on_stream(&ticker("7", "100", "9"), 0));
    let before = v.depth_json("BTCUSDT", 5).unwrap();
    assert!(!v.on_stream(&ticker("8", "99", "9999999999999"), 1_000_000));
    assert!(!v.on_stream(&ticker("9999999999999", "99", "10"), 2_000_000));
    assert_eq!(v.depth_json("BTCUSDT", 5).unwrap(), before);
}

#[test]
fn funding_the_exchange_charges_falls_due_with_the_market_not_with_the_next_order() {
    let mut cfg = AccountConfig::default();
    cfg.rules.funding_rate = autobot_engine::types::Rate::parse("0.0001").unwrap();
    let mut v = Venue::new(&cfg, &instruments(&[presets::btcusdt()]));
    let hour = 3_600_000u64;
    let ticker = |u: u64, ms: u64| {
        format!(
            r#"{{"stream":"btcusdt@bookTicker","data":{{"e":"bookTicker","u":{u},"s":"BTCUSDT","b":"100","B":"5","a":"100.1","A":"5","T":{ms},"E":{ms}}}}}"#
        )
    };
    // 07:00 on day 0: buy 1, then the market crosses 08:00.
    assert!(v.on_stream(&ticker(1, 7 * hour), 0));
    v.place(&params(&market("BUY", "1", "ab1"))).unwrap();
    v.take_events();
    assert!(v.on_stream(&ticker(2, 8 * hour + 1), 3_600_000_000_001));
    let ev = v.take_events();
    assert!(
        ev.iter().any(|e| e.contains(r#""m":"FUNDING_FEE""#)),
        "funding at 08:00 is charged when the market passes it: {ev:?}"
    );
}

#[test]
fn stop_limit_orders_trigger_into_limits_at_their_price() {
    let mut v = venue();
    v.place(&params(&market("BUY", "0.5", "ab1"))).unwrap();
    let order = |kind, side, trigger, price, qty, id| {
        vec![
            ("algoType", "CONDITIONAL"),
            ("type", kind),
            ("side", side),
            ("triggerPrice", trigger),
            ("price", price),
            ("quantity", qty),
            ("clientAlgoId", id),
        ]
    };
    // A STOP sell whose limit is under the bid: it takes once triggered.
    v.place_algo(&params(&order(
        "STOP", "SELL", "98.5", "98.5", "0.5", "ab2",
    )))
    .unwrap();
    // A TAKE_PROFIT buy (triggers at or below 98.5) whose limit is under
    // the ask: it rests once triggered.
    v.place_algo(&params(&order(
        "TAKE_PROFIT",
        "BUY",
        "98.5",
        "98",
        "0.2",
        "ab3",
    )))
    .unwrap();
    let missing_price = order("STOP", "SELL", "98.5", "", "0.5", "ab4");
    assert_eq!(v.place_algo(&params(&missing_price)).unwrap_err().1, -4014);
    v.take_events();
    v.on_stream(&trade("98.6"), 0);
    assert!(fills(&v.take_events()).is_empty(), "neither reached");
    v.on_stream(&trade("98.5"), 0);
    let ev = v.take_events();
    assert_eq!(fills(&ev), [("99".into(), "0.5".into())], "{ev:?}");
    let resting: Vec<_> = v.model().held().collect();
    assert_eq!(resting.len(), 1, "the take-profit rests as a limit");
    let (o, _, filled) = resting[0];
    assert_eq!(
        (o.kind.name(), o.kind.tif_name(), o.price, o.qty, filled),
        (
            "TAKE_PROFIT",
            "GTC",
            Price::parse("98").unwrap(),
            Qty::parse("0.2").unwrap(),
            Qty::ZERO
        )
    );
    // Both told as Binance tells them: the STOP triggered and filled
    // ("o" LIMIT, "ot" STOP); the TAKE_PROFIT triggered and opened.
    let updates: Vec<Value> = ev
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let filled = updates
        .iter()
        .find(|u| u["o"]["X"] == "FILLED")
        .expect("the stop's fill");
    assert_eq!(
        (&filled["o"]["o"], &filled["o"]["ot"]),
        (&json!("LIMIT"), &json!("STOP"))
    );
    let algo: Vec<(&str, &str)> = updates
        .iter()
        .filter(|u| u["e"] == "ALGO_UPDATE")
        .map(|u| {
            (
                u["o"]["caid"].as_str().unwrap(),
                u["o"]["X"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        algo,
        [
            ("ab2", "TRIGGERED"),
            ("ab2", "FINISHED"),
            ("ab3", "TRIGGERED")
        ],
        "{ev:?}"
    );
    assert!(
        v.positions_json(None)
            .unwrap()
            .contains(r#""positionAmt":"0""#)
    );
}

/// Places `n` orders made by `order` through the filters, then finds the
/// next refused with `refused`.
fn up_to_limit(
    v: &mut Venue,
    n: usize,
    order: impl Fn(usize) -> Vec<(&'static str, String)>,
    place: fn(&mut Venue, &BTreeMap<&str, &str>) -> Result<String, Refusal>,
    refused: (i32, &str),
) {
    for k in 0..=n {
        let owned = order(k);
        let mut p: BTreeMap<&str, &str> = owned.iter().map(|(a, b)| (*a, b.as_str())).collect();
        p.insert("symbol", "BTCUSDT");
        let checked = v.check_filters(&p);
        if k < n {
            checked.unwrap();
            place(v, &p).unwrap();
        } else {
            assert_eq!(checked.unwrap_err(), (refused.0, refused.1.to_string()));
        }
    }
}

#[test]
fn open_order_limits_are_binances() {
    let mut v = venue();
    v.place(&params(&market("BUY", "1", "ab0"))).unwrap();
    let stop = |k: usize| {
        vec![
            ("algoType", "CONDITIONAL".to_string()),
            ("type", "STOP_MARKET".to_string()),
            ("side", "SELL".to_string()),
            ("triggerPrice", "90".to_string()),
            ("quantity", "1.1".to_string()),
            ("clientAlgoId", format!("s{k}")),
        ]
    };
    up_to_limit(
        &mut v,
        10,
        stop,
        Venue::place_algo,
        (-4045, "Reach max stop order limit."),
    );
    let bid = |k: usize| {
        vec![
            ("side", "BUY".to_string()),
            ("type", "LIMIT".to_string()),
            ("timeInForce", "GTC".to_string()),
            ("quantity", "1.1".to_string()),
            ("price", "98".to_string()),
            ("newClientOrderId", format!("l{k}")),
        ]
    };
    up_to_limit(
        &mut v,
        200,
        bid,
        Venue::place,
        (-2025, "Reach max open order limit."),
    );
}
