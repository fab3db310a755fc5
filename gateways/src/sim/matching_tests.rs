//! Tests of the simulator's matching and account (`matching`).

use super::*;

fn book() -> SimBook {
    let mut b = SimBook::default();
    b.on_snapshot(
        r#"{"lastUpdateId":1,"bids":[["99","1"],["98","2"]],"asks":[["101","0.5"],["102","1"],["103","5"]]}"#,
    );
    b
}

fn req(side: Side, kind: SimKind, qty: &str, price: &str, id: &str) -> OrderRequest {
    OrderRequest {
        symbol: "BTCUSDT".into(),
        side,
        kind,
        qty: Qty::parse(qty).unwrap(),
        price: Price::parse(price).unwrap(),
        reduce_only: false,
        client_id: id.into(),
    }
}

fn fills(events: &[String]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e.contains("\"x\":\"TRADE\""))
        .map(|e| {
            let get = |k: &str| {
                let at = e.find(&format!("\"{k}\":\"")).unwrap() + k.len() + 4;
                e[at..at + e[at..].find('"').unwrap()].to_string()
            };
            (get("L"), get("l"))
        })
        .collect()
}

#[test]
fn a_market_order_walks_the_levels_and_pays_taker_fees() {
    let mut a = SimAccount::new(AccountConfig::default());
    a.place(req(Side::Buy, SimKind::Market, "2", "0", "ab1"), &book(), 1)
        .unwrap();
    let ev = a.take_events();
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
    assert!(last.contains("\"X\":\"FILLED\""), "{last}");
    assert!(ev.last().unwrap().contains("\"pa\":\"2\""));
    // Fees: (50.5 + 102 + 51.5) × 0.0004 = 0.0816.
    assert_eq!(a.wallet.to_string(), "99999.9184");
    assert_eq!(a.position("BTCUSDT").qty.to_string(), "2");
    assert_eq!(a.position("BTCUSDT").entry().to_string(), "102");
}

#[test]
fn limits_rest_until_traded_through_and_post_only_never_takes() {
    let mut a = SimAccount::new(AccountConfig::default());
    let b = book();
    assert_eq!(
        a.place(req(Side::Buy, SimKind::PostOnly, "1", "101", "ab1"), &b, 1)
            .unwrap_err()
            .1,
        -5022
    );
    a.place(req(Side::Buy, SimKind::PostOnly, "1", "100", "ab2"), &b, 1)
        .unwrap();
    a.on_market("BTCUSDT", Some(Price::parse("100").unwrap()), None, 2);
    assert!(
        fills(&a.take_events()).is_empty(),
        "a trade at the price is not through it"
    );
    assert!(a.query("BTCUSDT", "ab2", 2).unwrap().contains("\"NEW\""));
    a.on_market("BTCUSDT", Some(Price::parse("99.9").unwrap()), None, 3);
    let ev = a.take_events();
    assert_eq!(fills(&ev), [("100".into(), "1".into())]);
    assert!(ev[0].contains("\"m\":true"));
    assert!(a.query("BTCUSDT", "ab2", 3).unwrap().contains("\"FILLED\""));
    // Maker fee 100 × 0.0002.
    assert_eq!(a.wallet.to_string(), "99999.98");
}

#[test]
fn a_crossing_limit_takes_then_rests_and_can_be_cancelled() {
    let mut a = SimAccount::new(AccountConfig::default());
    a.place(
        req(Side::Buy, SimKind::Limit, "1", "101", "ab1"),
        &book(),
        1,
    )
    .unwrap();
    let ev = a.take_events();
    assert_eq!(fills(&ev), [("101".into(), "0.5".into())]);
    assert!(ev[1].contains("\"X\":\"PARTIALLY_FILLED\""));
    let open = a.open_orders(Some("BTCUSDT"), 2);
    assert!(
        open.contains("\"status\":\"PARTIALLY_FILLED\"")
            && open.contains("\"executedQty\":\"0.5\""),
        "{open}"
    );
    a.cancel("BTCUSDT", "ab1", 2).unwrap();
    assert!(a.take_events()[0].contains("\"X\":\"CANCELED\""));
    // What filled stays on record, with its one trade.
    assert!(
        a.query("BTCUSDT", "ab1", 3)
            .unwrap()
            .contains("\"executedQty\":\"0.5\"")
    );
    let trades = a.user_trades("BTCUSDT", 1_000_000);
    assert!(
        trades.contains("\"qty\":\"0.5\"") && trades.contains("\"price\":\"101\""),
        "{trades}"
    );
    assert_eq!(a.cancel("BTCUSDT", "ab1", 3).unwrap_err().1, -2011);
    assert_eq!(a.query("BTCUSDT", "nope", 3).unwrap_err().1, -2013);
}

#[test]
fn a_part_filled_resting_limit_fills_only_its_remainder() {
    let mut a = SimAccount::new(AccountConfig::default());
    a.place(
        req(Side::Buy, SimKind::Limit, "1", "101", "ab1"),
        &book(),
        1,
    )
    .unwrap();
    a.take_events();
    // A trade below the bid goes through it: the remaining 0.5 fills.
    a.on_market("BTCUSDT", Some(Price::parse("100.5").unwrap()), None, 2);
    let ev = a.take_events();
    assert_eq!(fills(&ev), [("101".into(), "0.5".into())]);
    assert!(
        ev[0].contains("\"z\":\"1\"") && ev[0].contains("\"X\":\"FILLED\""),
        "{ev:?}"
    );
    assert_eq!(a.position("BTCUSDT").qty.to_string(), "1");
}

#[test]
fn reduce_only_and_margin_are_enforced() {
    let mut a = SimAccount::new(AccountConfig::default());
    let b = book();
    let mut r = req(Side::Sell, SimKind::Market, "1", "0", "ab1");
    r.reduce_only = true;
    assert_eq!(a.place(r.clone(), &b, 1).unwrap_err().1, -2022);
    a.place(req(Side::Buy, SimKind::Market, "0.5", "0", "ab2"), &b, 1)
        .unwrap();
    r.client_id = "ab3".into();
    a.place(r, &b, 2).unwrap();
    // Cut to the 0.5 held, sold at the bid 99: realized (99 − 101) × 0.5.
    assert!(a.position("BTCUSDT").qty.is_zero());
    assert_eq!(
        a.place(req(Side::Buy, SimKind::Market, "100000", "0", "ab4"), &b, 3)
            .unwrap_err()
            .1,
        -2019
    );
    assert_eq!(
        a.place(req(Side::Buy, SimKind::Market, "1", "0", "ab2"), &b, 3)
            .unwrap_err()
            .1,
        -4116
    );
}
