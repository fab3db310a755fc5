//! The fill model, one rule per test, each expectation worked out by hand.

use std::collections::VecDeque;

use autobot_engine::config::presets;
use autobot_engine::event::{
    BookTicker, DepthDiff, InputBody, InputEvent, Level, Liquidity, MarkPrice, OrderStatus,
    Request as Asked, Source, Trade,
};
use autobot_engine::types::{
    ClientOrderId, Instrument, Money, MonoNanos, Price, Qty, Rate, Side, SymbolId, UnixNanos,
};
use autobot_exchange::{
    AccountRules, Exchange, FillConfig, Order, OrderType, ReportBody, Reports, Request, Tif,
    Trigger, WorkingType,
};
use proptest::prelude::*;

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}

fn instruments() -> Vec<Instrument> {
    autobot_engine::config::instruments(&[presets::btcusdt()])
}

/// Taker 4 bp, maker 2 bp, no latency, a 100,000 USDT wallet at 20x.
fn exchange(fills: FillConfig) -> Exchange {
    Exchange::new(&fills, &AccountRules::default(), &instruments(), &[])
}

fn default_exchange() -> Exchange {
    exchange(FillConfig::default())
}

fn ev(ms: u64, body: InputBody) -> InputEvent {
    InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(0),
        UnixNanos(ms * 1_000_000),
        body,
    )
}

fn ticker(ms: u64, bid: &str, ask: &str, qty: &str) -> InputEvent {
    ev(
        ms,
        InputBody::BookTicker(BookTicker {
            update_id: ms,
            bid_price: p(bid),
            bid_qty: q(qty),
            ask_price: p(ask),
            ask_qty: q(qty),
        }),
    )
}

/// A trade; `sell_taker` prints against the bids.
fn trade(ms: u64, price: &str, qty: &str, sell_taker: bool) -> InputEvent {
    ev(
        ms,
        InputBody::AggTrade(Trade {
            trade_id: ms,
            price: p(price),
            qty: q(qty),
            buyer_is_maker: sell_taker,
        }),
    )
}

fn mark(ms: u64, price: &str) -> InputEvent {
    ev(
        ms,
        InputBody::MarkPrice(MarkPrice {
            mark_price: p(price),
            index_price: p(price),
            funding_rate: Rate::ZERO,
            next_funding: UnixNanos(8 * 3_600_000_000_000),
        }),
    )
}

/// A depth snapshot (`lastUpdateId` 10) of bids 99.9 × 1, 99.8 × 2 and
/// asks 100.0 × 0.5, 100.1 × 1, 100.2 × 5, then a bridging empty diff.
fn depth(ex: &mut Exchange, out: &mut Reports) {
    let lv = |pr: &str, qt: &str| Level {
        price: p(pr),
        qty: q(qt),
    };
    let part = |flags, bids: u8, asks: u8, levels: [Level; 3], ids: (u64, u64, u64)| {
        ev(
            1,
            InputBody::Depth(DepthDiff {
                first_update_id: ids.0,
                final_update_id: ids.1,
                prev_final_update_id: ids.2,
                bid_count: bids,
                ask_count: asks,
                flags,
                levels,
            }),
        )
    };
    let snap = DepthDiff::SNAPSHOT;
    let z = Level::default();
    for e in [
        part(
            snap | DepthDiff::FIRST_PART,
            2,
            1,
            [lv("99.9", "1"), lv("99.8", "2"), lv("100.0", "0.5")],
            (0, 10, 0),
        ),
        part(
            snap | DepthDiff::LAST_PART,
            0,
            2,
            [lv("100.1", "1"), lv("100.2", "5"), z],
            (0, 10, 0),
        ),
        part(
            DepthDiff::FIRST_PART | DepthDiff::LAST_PART,
            0,
            0,
            [z, z, z],
            (10, 11, 0),
        ),
    ] {
        ex.on_market(&e, out);
    }
}

fn order(id: u64, side: Side, kind: OrderType, price: &str, qty: &str) -> Order {
    Order {
        client: ClientOrderId(id),
        symbol: SymbolId(0),
        side,
        kind,
        price: if price.is_empty() {
            Price::ZERO
        } else {
            p(price)
        },
        qty: q(qty),
        reduce_only: false,
    }
}

/// Sends `o` at `ms` and lets everything due by then arrive.
fn send(ex: &mut Exchange, ms: u64, o: Order, out: &mut Reports) {
    let t = UnixNanos(ms * 1_000_000);
    ex.submit(Request::Place(o), t, 0);
    while ex.advance(t, out) {}
}

/// (status, price, qty, liquidity) of the executions of client `id`.
fn execs(out: &Reports, id: u64) -> Vec<(OrderStatus, Price, Qty, Liquidity)> {
    out.iter()
        .filter_map(|r| match r.body {
            ReportBody::Execution(e) if e.order.client == ClientOrderId(id) => {
                Some((e.status, e.last_price, e.last_qty, e.liquidity))
            }
            _ => None,
        })
        .collect()
}

fn refused(out: &Reports) -> Vec<(Asked, i32)> {
    out.iter()
        .filter_map(|r| match r.body {
            ReportBody::Refused {
                request, refusal, ..
            } => Some((request, refusal.code)),
            _ => None,
        })
        .collect()
}

use OrderStatus::{Accepted, Cancelled, Expired, Filled, PartiallyFilled};

#[test]
fn a_market_order_walks_the_depth_or_takes_the_best_whole() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    depth(&mut ex, &mut out);
    send(
        &mut ex,
        2,
        order(1, Side::Buy, OrderType::Market, "", "2"),
        &mut out,
    );
    let t = Liquidity::Taker;
    assert_eq!(
        execs(&out, 1),
        vec![
            (PartiallyFilled, p("100.0"), q("0.5"), t),
            (PartiallyFilled, p("100.1"), q("1"), t),
            (Filled, p("100.2"), q("0.5"), t),
        ]
    );
    // 50 + 100.1 + 50.1 = 200.2 notional × 4 bp = 0.08008.
    assert_eq!(ex.wallet(), Money::parse("99999.91992").unwrap());

    let mut out = VecDeque::new();
    let mut ex = exchange(FillConfig {
        depth_walk: false,
        ..FillConfig::default()
    });
    depth(&mut ex, &mut out);
    send(
        &mut ex,
        2,
        order(1, Side::Buy, OrderType::Market, "", "2"),
        &mut out,
    );
    assert_eq!(execs(&out, 1), vec![(Filled, p("100.0"), q("2"), t)]);
}

#[test]
fn beyond_the_visible_book_a_market_order_fills_at_the_last_level() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    depth(&mut ex, &mut out);
    send(
        &mut ex,
        2,
        order(1, Side::Sell, OrderType::Market, "", "5"),
        &mut out,
    );
    let got: Vec<_> = execs(&out, 1).iter().map(|e| (e.1, e.2)).collect();
    // 1 at 99.9, then 4 at 99.8 (2 visible, 2 beyond, merged into one fill).
    assert_eq!(got, vec![(p("99.9"), q("1")), (p("99.8"), q("4"))]);
}

#[test]
fn limit_time_in_force_gtc_rests_ioc_expires_fok_all_or_nothing_gtx_never_takes() {
    let limit = |id, tif, qty| order(id, Side::Buy, OrderType::Limit(tif), "100.1", qty);
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    depth(&mut ex, &mut out);
    send(&mut ex, 2, limit(1, Tif::Gtc, "2"), &mut out);
    send(&mut ex, 2, limit(2, Tif::Ioc, "2"), &mut out);
    send(&mut ex, 2, limit(3, Tif::Fok, "2"), &mut out);
    send(&mut ex, 2, limit(4, Tif::Fok, "1.5"), &mut out);
    send(&mut ex, 2, limit(5, Tif::Gtx, "1"), &mut out);
    let t = Liquidity::Taker;
    let taken = vec![
        (PartiallyFilled, p("100.0"), q("0.5"), t),
        (PartiallyFilled, p("100.1"), q("1"), t),
    ];
    // GTC: 1.5 takes up to 100.1, the 0.5 left rests.
    assert_eq!(execs(&out, 1), taken);
    assert_eq!(ex.open().1, 1);
    // IOC: the same, and the rest expires.
    let mut ioc = taken.clone();
    ioc.push((Expired, Price::ZERO, Qty::ZERO, Liquidity::None));
    assert_eq!(execs(&out, 2), ioc);
    // FOK: 2 cannot all take within 100.1: expires untouched; 1.5 can.
    assert_eq!(
        execs(&out, 3),
        vec![(Expired, Price::ZERO, Qty::ZERO, Liquidity::None)]
    );
    assert_eq!(execs(&out, 4).last().unwrap().0, Filled);
    // GTX at a crossing price: refused, Binance's -5022.
    assert_eq!(refused(&out), vec![(Asked::New, -5022)]);
}

#[test]
fn a_resting_order_waits_for_its_queue_or_only_for_the_market_to_trade_through() {
    for (queue, partial, want) in [
        // Behind 1 at 99.9: a 1.5 sell print leaves 0.5 for us, then 0.5 more.
        (
            true,
            true,
            vec![(PartiallyFilled, q("0.5")), (Filled, q("0.5"))],
        ),
        // Whole fills only: nothing until the queue past us covers all of it.
        (true, false, vec![(Filled, q("1"))]),
        // No queue model: prints at the price fill nothing; 99.8 goes through.
        (false, true, vec![(Filled, q("1"))]),
    ] {
        let mut out = VecDeque::new();
        let mut ex = exchange(FillConfig {
            queue_position: queue,
            partial_fills: partial,
            ..FillConfig::default()
        });
        depth(&mut ex, &mut out);
        let o = order(1, Side::Buy, OrderType::Limit(Tif::Gtc), "99.9", "1");
        send(&mut ex, 2, o, &mut out);
        ex.on_market(&trade(3, "99.9", "1.5", true), &mut out);
        // A buy print at our price is not our side: it moves nothing.
        ex.on_market(&trade(4, "99.9", "5", false), &mut out);
        ex.on_market(&trade(5, "99.9", "0.5", true), &mut out);
        if !queue {
            ex.on_market(&trade(6, "99.8", "0.1", true), &mut out);
        }
        let got: Vec<_> = execs(&out, 1)
            .into_iter()
            .filter(|e| e.0 != Accepted)
            .map(|e| (e.0, e.2))
            .collect();
        assert_eq!(got, want, "queue {queue}, partial {partial}");
        assert!(
            execs(&out, 1)
                .iter()
                .filter(|e| e.0 != Accepted)
                .all(|e| e.1 == p("99.9") && e.3 == Liquidity::Maker)
        );
    }
}

#[test]
fn reduce_only_is_cut_to_the_position_refused_when_it_would_open_and_never_flips() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    depth(&mut ex, &mut out);
    let reduce = |id, side, qty| Order {
        reduce_only: true,
        ..order(id, side, OrderType::Market, "", qty)
    };
    send(&mut ex, 2, reduce(1, Side::Sell, "1"), &mut out);
    assert_eq!(refused(&out), vec![(Asked::New, -2022)]);
    send(
        &mut ex,
        2,
        order(2, Side::Buy, OrderType::Market, "", "0.3"),
        &mut out,
    );
    send(&mut ex, 2, reduce(3, Side::Sell, "1"), &mut out);
    assert_eq!(
        execs(&out, 3),
        vec![(Filled, p("99.9"), q("0.3"), Liquidity::Taker)]
    );
    assert_eq!(ex.position(SymbolId(0)).0, Qty::ZERO);
    // A resting reduce-only whose position has gone expires instead of filling.
    send(
        &mut ex,
        3,
        order(4, Side::Buy, OrderType::Market, "", "0.2"),
        &mut out,
    );
    let rest = Order {
        reduce_only: true,
        ..order(5, Side::Sell, OrderType::Limit(Tif::Gtc), "100.5", "0.2")
    };
    send(&mut ex, 3, rest, &mut out);
    send(&mut ex, 4, reduce(6, Side::Sell, "0.2"), &mut out);
    ex.on_market(&trade(5, "100.6", "1", false), &mut out);
    assert_eq!(execs(&out, 5).last().unwrap().0, Expired);
    assert_eq!(ex.position(SymbolId(0)).0, Qty::ZERO);
}

fn stop(id: u64, side: Side, price: &str, working: WorkingType, tp: bool) -> Order {
    let t = Trigger {
        stop: p(price),
        working,
        close_position: true,
    };
    let kind = if tp {
        OrderType::TakeProfitMarket(t)
    } else {
        OrderType::StopMarket(t)
    };
    order(id, side, kind, "", "0")
}

#[test]
fn a_stop_market_triggers_on_the_mark_or_on_the_contract_price() {
    for working in [WorkingType::Mark, WorkingType::Contract] {
        let mut out = VecDeque::new();
        let mut ex = default_exchange();
        ex.on_market(&ticker(1, "100.0", "100.1", "10"), &mut out);
        ex.on_market(&mark(1, "100.05"), &mut out);
        send(
            &mut ex,
            2,
            order(1, Side::Buy, OrderType::Market, "", "1"),
            &mut out,
        );
        send(
            &mut ex,
            2,
            stop(2, Side::Sell, "99.5", working, false),
            &mut out,
        );
        assert_eq!(
            execs(&out, 2),
            vec![(Accepted, Price::ZERO, Qty::ZERO, Liquidity::None)]
        );
        // The mark falls through the stop while trades stay above it, then
        // a trade prints through it while the mark has recovered.
        ex.on_market(&ticker(3, "99.6", "99.7", "10"), &mut out);
        ex.on_market(&mark(4, "99.4"), &mut out);
        let after_mark = execs(&out, 2).len();
        ex.on_market(&mark(5, "99.8"), &mut out);
        ex.on_market(&trade(6, "99.5", "1", true), &mut out);
        let e = execs(&out, 2);
        let fired_at = if working == WorkingType::Mark { 2 } else { 1 };
        assert_eq!(after_mark, fired_at, "{working:?}");
        // Closes the whole position at the bid, as taker.
        assert_eq!(
            e[1],
            (Filled, p("99.6"), q("1"), Liquidity::Taker),
            "{working:?}"
        );
        assert_eq!(ex.position(SymbolId(0)).0, Qty::ZERO);
    }
}

#[test]
fn a_take_profit_triggers_in_the_orders_favour_and_a_reached_trigger_is_refused() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    ex.on_market(&ticker(1, "100.0", "100.1", "10"), &mut out);
    send(
        &mut ex,
        2,
        order(1, Side::Buy, OrderType::Market, "", "1"),
        &mut out,
    );
    // A sell stop above the price has already triggered: -2021.
    send(
        &mut ex,
        2,
        stop(2, Side::Sell, "101", WorkingType::Contract, false),
        &mut out,
    );
    assert_eq!(refused(&out), vec![(Asked::New, -2021)]);
    send(
        &mut ex,
        2,
        stop(3, Side::Sell, "101", WorkingType::Contract, true),
        &mut out,
    );
    ex.on_market(&trade(3, "100.9", "1", false), &mut out);
    assert_eq!(execs(&out, 3).len(), 1);
    ex.on_market(&ticker(4, "101.0", "101.1", "10"), &mut out);
    ex.on_market(&trade(5, "101.0", "1", false), &mut out);
    assert_eq!(
        execs(&out, 3)[1],
        (Filled, p("101.0"), q("1"), Liquidity::Taker)
    );
    // A conditional order can be cancelled before it triggers.
    send(
        &mut ex,
        6,
        stop(4, Side::Buy, "110", WorkingType::Mark, false),
        &mut out,
    );
    ex.submit(
        Request::Cancel {
            symbol: SymbolId(0),
            client: ClientOrderId(4),
        },
        UnixNanos(6_000_000),
        0,
    );
    while ex.advance(UnixNanos(6_000_000), &mut out) {}
    assert_eq!(execs(&out, 4).last().unwrap().0, Cancelled);
    assert_eq!(ex.open().1, 0);
}

#[test]
fn a_request_arrives_after_its_latency_and_meets_the_book_standing_then() {
    let mut out = VecDeque::new();
    let mut ex = exchange(FillConfig {
        latency_ms: 5,
        ..FillConfig::default()
    });
    ex.on_market(&ticker(1000, "100.0", "100.1", "10"), &mut out);
    ex.submit(
        Request::Place(order(1, Side::Buy, OrderType::Market, "", "1")),
        UnixNanos(1000 * 1_000_000),
        0,
    );
    assert!(!ex.advance(UnixNanos(1004 * 1_000_000), &mut out));
    ex.on_market(&ticker(1004, "101.0", "101.1", "10"), &mut out);
    assert!(ex.advance(UnixNanos(1005 * 1_000_000), &mut out));
    assert_eq!(
        execs(&out, 1),
        vec![(Filled, p("101.1"), q("1"), Liquidity::Taker)]
    );
}

#[test]
fn an_order_beyond_the_initial_margin_is_refused() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    ex.on_market(&ticker(1, "100.0", "100.1", "100000"), &mut out);
    // 100,000 USDT at 20x carries 2,000,000 of notional: 19,000 × 100.1
    // (95,095 of margin) fits; another 1,000 (5,005 more) does not.
    send(
        &mut ex,
        2,
        order(1, Side::Buy, OrderType::Market, "", "19000"),
        &mut out,
    );
    send(
        &mut ex,
        2,
        order(2, Side::Buy, OrderType::Market, "", "1000"),
        &mut out,
    );
    assert_eq!(refused(&out), vec![(Asked::New, -2019)]);
    assert_eq!(ex.position(SymbolId(0)).0, q("19000"));
    // Selling reduces: it needs no margin.
    send(
        &mut ex,
        2,
        order(3, Side::Sell, OrderType::Market, "", "1000"),
        &mut out,
    );
    assert_eq!(ex.position(SymbolId(0)).0, q("18000"));
}

#[test]
fn no_book_is_no_liquidity_and_an_unknown_cancel_is_minus_2011() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    send(
        &mut ex,
        1,
        order(1, Side::Buy, OrderType::Market, "", "1"),
        &mut out,
    );
    ex.submit(
        Request::Cancel {
            symbol: SymbolId(0),
            client: ClientOrderId(9),
        },
        UnixNanos(1),
        0,
    );
    while ex.advance(UnixNanos(1_000_000), &mut out) {}
    assert_eq!(
        refused(&out),
        vec![(Asked::New, -2020), (Asked::Cancel, -2011)]
    );
}

proptest! {
    /// Whatever reduce-only orders are sent, in whatever sizes and sides,
    /// they never open or flip a position: |position| only shrinks and its
    /// sign never changes.
    #[test]
    fn reduce_only_never_flips(start in 1i64..50, orders in prop::collection::vec((any::<bool>(), 1i64..80, any::<bool>()), 1..20)) {
        let mut out = VecDeque::new();
        let mut ex = default_exchange();
        ex.on_market(&ticker(1, "100.0", "100.1", "1000"), &mut out);
        let lot = |n: i64| Qty::from_raw(n * 1_000_000);
        send(&mut ex, 1, Order { qty: lot(start), ..order(0, Side::Buy, OrderType::Market, "", "1") }, &mut out);
        let mut held = ex.position(SymbolId(0)).0;
        for (k, (sell, n, limit)) in orders.into_iter().enumerate() {
            let side = if sell { Side::Sell } else { Side::Buy };
            let kind = if limit { OrderType::Limit(Tif::Gtc) } else { OrderType::Market };
            let price = if limit { if sell { "99.0" } else { "101.0" } } else { "" };
            let o = Order { reduce_only: true, qty: lot(n), ..order(k as u64 + 1, side, kind, price, "1") };
            send(&mut ex, 2 + k as u64, o, &mut out);
            let now = ex.position(SymbolId(0)).0;
            prop_assert!(now.raw() >= 0 && now.raw() <= held.raw(), "{held} -> {now}");
            held = now;
        }
    }
}

#[test]
fn leverage_is_per_symbol_and_bounds_the_initial_margin() {
    let mut out = VecDeque::new();
    let mut ex = default_exchange();
    ex.on_market(&ticker(1, "100.0", "100.1", "100000"), &mut out);
    assert_eq!(ex.leverage(SymbolId(0)), 20, "the account's to start with");
    // At 1x, 100,000 USDT carries 999 × 100.1; at 20x the same order fits.
    ex.set_leverage(SymbolId(0), 1);
    send(
        &mut ex,
        2,
        order(1, Side::Buy, OrderType::Market, "", "1000"),
        &mut out,
    );
    assert_eq!(refused(&out), vec![(Asked::New, -2019)]);
    ex.set_leverage(SymbolId(0), 20);
    send(
        &mut ex,
        2,
        order(2, Side::Buy, OrderType::Market, "", "1000"),
        &mut out,
    );
    assert_eq!(ex.position(SymbolId(0)).0, q("1000"));
    assert_eq!(
        ex.account_view().position_margin,
        autobot_engine::types::Money::parse("5002.5").unwrap(),
        "1000 × the mid 100.05 / 20"
    );
}
