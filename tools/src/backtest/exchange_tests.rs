//! Fill-model tests of the simulated exchange, each with its expectation
//! worked out by hand in the comments.

use std::collections::VecDeque;

use autobot_engine::config::{StrategyConfig, presets};
use autobot_engine::event::{
    BookTicker, DepthDiff, InputBody, InputEvent, Level, Liquidity, NewOrder, OrderKind,
    OrderStatus, OrderUpdate, OutputBody, OutputEvent, Source, Trade,
};
use autobot_engine::types::{
    ClientOrderId, Money, MonoNanos, Price, Qty, Rate, Seq, Side, SymbolId, UnixNanos,
};
use autobot_exchange::FillConfig;

use super::SimExchange;
use crate::backtest::settings::{BacktestConfig, LatencyModel};

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}
fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// BTCUSDT (tick 0.1), taker 4 bp, maker 2 bp, `latency_ms`, funding
/// 1 bp every 8 h, liquidation fee 1.25 %, wallet `balance`.
fn exchange(latency_ms: u32, slippage_ticks: u32, balance: &str) -> SimExchange {
    let mut core = presets::core(&[presets::btcusdt()], StrategyConfig::ema_cross(2, 4));
    core.account.starting_balance = m(balance);
    // Binance's default leverage, so the liquidation test's 5x fits the
    // initial margin at entry.
    core.account.leverage = 20;
    let paper = FillConfig {
        taker_fee: Rate::parse("0.0004").unwrap(),
        maker_fee: Rate::parse("0.0002").unwrap(),
        slippage_ticks,
        latency_ms,
        ..FillConfig::default()
    };
    let cfg = BacktestConfig {
        latency: LatencyModel::Constant,
        funding_rate: Rate::parse("0.0001").unwrap(),
        funding_interval_hours: 8,
        liquidation_fee: Rate::parse("0.0125").unwrap(),
        bar_book_qty: q("1000"),
        returns_secs: 3600,
        periods_per_year: 8760,
    };
    SimExchange::new(&core, &paper, &cfg)
}

fn event(ms: u64, body: InputBody) -> InputEvent {
    InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(0),
        UnixNanos(ms * 1_000_000),
        body,
    )
}

fn ticker(ms: u64, bid: &str, ask: &str, size: &str) -> InputEvent {
    event(
        ms,
        InputBody::BookTicker(BookTicker {
            update_id: ms,
            bid_price: p(bid),
            bid_qty: q(size),
            ask_price: p(ask),
            ask_qty: q(size),
        }),
    )
}

fn trade(ms: u64, price: &str, qty: &str, buyer_is_maker: bool) -> InputEvent {
    event(
        ms,
        InputBody::AggTrade(Trade {
            trade_id: ms,
            price: p(price),
            qty: q(qty),
            buyer_is_maker,
        }),
    )
}

/// Loads a synced L2 book: snapshot 10, then the bridging diff 9..=11.
fn depth(x: &mut SimExchange, ms: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) {
    let levels = |v: &[(&str, &str)]| -> Vec<Level> {
        v.iter()
            .map(|(a, b)| Level {
                price: p(a),
                qty: q(b),
            })
            .collect()
    };
    let mut parts = Vec::new();
    DepthDiff::split((0, 10, 0), &levels(bids), &levels(asks), true, |d| {
        parts.push(d)
    });
    DepthDiff::split((9, 11, 8), &[], &[], false, |d| parts.push(d));
    let mut sink = VecDeque::new();
    for d in parts {
        x.on_market(&event(ms, InputBody::Depth(d)), &mut sink);
    }
    assert!(sink.is_empty());
}

fn send(x: &mut SimExchange, ms: u64, order: NewOrder) {
    let out = OutputEvent {
        cause: Seq(1),
        recv: Default::default(),
        body: OutputBody::NewOrder(order),
    };
    x.on_output(&out, UnixNanos(ms * 1_000_000), None);
}

fn order(id: u64, side: Side, kind: OrderKind, price: &str, qty: &str) -> NewOrder {
    NewOrder {
        client_id: ClientOrderId(id),
        symbol: SymbolId(0),
        side,
        kind,
        reduce_only: false,
        post_only: false,
        price: if kind == OrderKind::Limit {
            p(price)
        } else {
            Price::ZERO
        },
        qty: q(qty),
    }
}

fn updates(reports: &VecDeque<InputEvent>) -> Vec<OrderUpdate> {
    reports
        .iter()
        .filter_map(|r| match r.body {
            InputBody::OrderUpdate(u) => Some(u),
            _ => None,
        })
        .collect()
}

fn fills(reports: &VecDeque<InputEvent>) -> Vec<(OrderStatus, Price, Qty, Qty, Money, Liquidity)> {
    updates(reports)
        .into_iter()
        .filter(|u| u.last_qty.is_positive())
        .map(|u| {
            (
                u.status,
                u.last_price,
                u.last_qty,
                u.cum_qty,
                u.fee,
                u.liquidity,
            )
        })
        .collect()
}

fn run_until(x: &mut SimExchange, ms: u64) -> VecDeque<InputEvent> {
    let mut reports = VecDeque::new();
    while x.advance(UnixNanos(ms * 1_000_000), &mut reports) {}
    reports
}

const ASKS: [(&str, &str); 3] = [("100.0", "0.2"), ("100.1", "0.2"), ("100.2", "0.5")];
const BIDS: [(&str, &str); 2] = [("99.9", "0.3"), ("99.8", "1.0")];

#[test]
fn a_market_order_walks_three_levels_after_its_latency() {
    let mut x = exchange(5, 0, "10000");
    depth(&mut x, 1000, &BIDS, &ASKS);
    send(
        &mut x,
        1000,
        order(1, Side::Buy, OrderKind::Market, "", "0.5"),
    );
    // Sent at 1000 ms with 5 ms latency: nothing at 1004 ms.
    assert!(run_until(&mut x, 1004).is_empty());
    let r = run_until(&mut x, 1005);
    // 0.2 @ 100.0, 0.2 @ 100.1, 0.1 @ 100.2; taker fee 4 bp of each:
    // 20 × 0.0004 = 0.008, 20.02 × 0.0004 = 0.008008, 10.02 × 0.0004 = 0.004008.
    let (pf, f, t) = (
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        Liquidity::Taker,
    );
    assert_eq!(
        fills(&r),
        vec![
            (pf, p("100.0"), q("0.2"), q("0.2"), m("0.008"), t),
            (pf, p("100.1"), q("0.2"), q("0.4"), m("0.008008"), t),
            (f, p("100.2"), q("0.1"), q("0.5"), m("0.004008"), t),
        ]
    );
    assert_eq!(x.position(SymbolId(0)), q("0.5"));
    // The wallet pays the fees: 10000 − 0.020016.
    assert_eq!(x.wallet(), m("9999.979984"));
}

#[test]
fn slippage_moves_every_level_and_the_remainder_takes_the_last_level() {
    let mut x = exchange(0, 1, "10000");
    depth(&mut x, 1000, &BIDS, &ASKS);
    // 1.0 against 0.9 visible: the last 0.1 takes 100.2 again (merged),
    // and every price is one tick (0.1) worse.
    send(
        &mut x,
        1000,
        order(1, Side::Buy, OrderKind::Market, "", "1.0"),
    );
    let r = run_until(&mut x, 1000);
    let got: Vec<(Price, Qty)> = fills(&r).iter().map(|f| (f.1, f.2)).collect();
    assert_eq!(
        got,
        vec![
            (p("100.1"), q("0.2")),
            (p("100.2"), q("0.2")),
            (p("100.3"), q("0.6"))
        ]
    );
}

/// A buy of 0.5 @ 99.9 resting behind the 0.3 of [`BIDS`], and its reports.
fn resting_bid() -> (SimExchange, VecDeque<InputEvent>) {
    let mut x = exchange(0, 0, "10000");
    depth(&mut x, 1000, &BIDS, &ASKS);
    send(
        &mut x,
        1000,
        order(7, Side::Buy, OrderKind::Limit, "99.9", "0.5"),
    );
    let r = run_until(&mut x, 1000);
    (x, r)
}

#[test]
fn a_resting_limit_fills_only_after_the_queue_ahead_has_traded() {
    let (mut x, r) = resting_bid();
    // It does not cross (best ask 100.0): acknowledged, resting behind the
    // 0.3 already at 99.9.
    assert_eq!(updates(&r)[0].status, OrderStatus::Accepted);
    assert_eq!(x.open(), (0, 1));
    let mut r = VecDeque::new();
    // Sellers hit 99.9 for 0.2: the queue ahead falls to 0.1, no fill.
    x.on_market(&trade(1001, "99.9", "0.2", true), &mut r);
    // Buyers lifting offers, and trades above the price, do not touch it.
    x.on_market(&trade(1002, "99.9", "5", false), &mut r);
    x.on_market(&trade(1003, "100.0", "5", true), &mut r);
    assert!(r.is_empty());
    // Sellers hit 99.9 for 0.15: 0.1 clears the queue, 0.05 fills us as
    // maker: fee 0.05 × 99.9 × 0.0002 = 0.000999.
    x.on_market(&trade(1004, "99.9", "0.15", true), &mut r);
    let mk = Liquidity::Maker;
    assert_eq!(
        fills(&r),
        vec![(
            OrderStatus::PartiallyFilled,
            p("99.9"),
            q("0.05"),
            q("0.05"),
            m("0.000999"),
            mk
        )]
    );
    // A trade below the price fills the rest at the limit.
    r.clear();
    x.on_market(&trade(1005, "99.8", "0.01", true), &mut r);
    assert_eq!(
        fills(&r),
        vec![(
            OrderStatus::Filled,
            p("99.9"),
            q("0.45"),
            q("0.5"),
            m("0.0089910"),
            mk
        )]
    );
    assert_eq!(x.open(), (0, 0));
}

#[test]
fn a_resting_limit_not_reached_through_the_queue_stays_unfilled() {
    let (mut x, _) = resting_bid();
    let mut r = VecDeque::new();
    // Exactly the 0.3 ahead trades at 99.9: the queue is gone, we are not
    // filled. The level vanishing from the ticker (cancels ahead, unseen)
    // moves nothing either.
    x.on_market(&trade(1001, "99.9", "0.1", true), &mut r);
    x.on_market(&trade(1002, "99.9", "0.2", true), &mut r);
    x.on_market(&ticker(1003, "99.8", "100.0", "1"), &mut r);
    assert!(fills(&r).is_empty(), "{r:?}");
    assert_eq!(x.open(), (0, 1));
    assert_eq!(x.position(SymbolId(0)), Qty::ZERO);
}

#[test]
fn a_crossing_limit_takes_up_to_its_price_and_rests_the_rest_at_the_front() {
    let mut x = exchange(0, 0, "10000");
    depth(&mut x, 1000, &BIDS, &ASKS);
    // Buy 0.6 limit 100.1: takes 0.2 @ 100.0 and 0.2 @ 100.1; 0.2 rests at
    // 100.1 with nobody ahead, so the next seller at 100.1 fills it.
    send(
        &mut x,
        1000,
        order(9, Side::Buy, OrderKind::Limit, "100.1", "0.6"),
    );
    let r = run_until(&mut x, 1000);
    assert_eq!(fills(&r).len(), 2);
    assert_eq!(x.open(), (0, 1));
    let mut r = VecDeque::new();
    x.on_market(&trade(1001, "100.1", "0.5", true), &mut r);
    let f = fills(&r);
    assert_eq!(
        (f[0].0, f[0].2, f[0].3),
        (OrderStatus::Filled, q("0.2"), q("0.6"))
    );
    // A post-only order that would take is refused (-5022).
    let mut po = order(10, Side::Buy, OrderKind::Limit, "100.5", "0.1");
    po.post_only = true;
    send(&mut x, 1002, po);
    let r = run_until(&mut x, 1002);
    assert!(matches!(r[0].body, InputBody::OrderRejected(j) if j.code == -5022));
}

#[test]
fn funding_is_announced_at_the_funding_time_and_charged_on_the_mark() {
    let mut x = exchange(0, 0, "10000");
    let hour = 3_600_000;
    let mut r = VecDeque::new();
    x.on_market(&ticker(hour, "100.0", "100.1", "10"), &mut r);
    send(
        &mut x,
        hour,
        order(1, Side::Buy, OrderKind::Market, "", "0.5"),
    );
    run_until(&mut x, hour);
    // Bought 0.5 @ 100.1, fee 0.02002.
    assert_eq!(x.wallet(), m("9999.97998"));
    x.on_market(&ticker(7 * hour, "120.0", "120.1", "10"), &mut r);
    // Nothing due before 08:00.
    assert!(run_until(&mut x, 8 * hour - 1).is_empty());
    let r = run_until(&mut x, 8 * hour);
    // One funding event at 08:00, at the mid 120.05 and 1 bp.
    let fundings: Vec<(Price, Rate, u64)> = r
        .iter()
        .filter_map(|e| match e.body {
            InputBody::Funding(f) => Some((f.mark, f.rate, e.header.exchange.0 / 1_000_000)),
            _ => None,
        })
        .collect();
    assert_eq!(
        fundings,
        vec![(p("120.05"), Rate::parse("0.0001").unwrap(), 8 * hour)]
    );
    // A long pays 1 bp of 0.5 × 120.05 = 60.025: 0.0060025.
    assert_eq!(x.wallet(), m("9999.9739775"));
    assert_eq!(x.stats().fundings, 1);
}

#[test]
fn an_account_out_of_margin_is_liquidated_at_the_mark() {
    let mut x = exchange(0, 0, "100");
    let mut r = VecDeque::new();
    x.on_market(&ticker(1000, "100.0", "100.1", "10"), &mut r);
    // 5 @ 100.1 on a 100 USDT wallet (about 5x); fee 0.2002.
    send(
        &mut x,
        1000,
        order(1, Side::Buy, OrderKind::Market, "", "5"),
    );
    run_until(&mut x, 1000);
    assert_eq!(x.wallet(), m("99.7998"));
    // Mid 99.05: unrealized 5 × (99.05 − 100.1) = −5.25, equity 94.5498,
    // maintenance 0.4 % of 495.25 = 1.981: no liquidation.
    x.on_market(&ticker(1001, "99.0", "99.1", "10"), &mut r);
    assert!(r.is_empty());
    // Mid 80.05: unrealized −100.25, equity −0.4502 ≤ 1.601: liquidated.
    // Sold 5 @ 80.05, fee 1.25 % of 400.25 = 5.003125.
    x.on_market(&ticker(1002, "80.0", "80.1", "10"), &mut r);
    let u = updates(&r);
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].client_id, ClientOrderId::EXCHANGE_CLOSE);
    assert_eq!(
        (u[0].side, u[0].last_price, u[0].last_qty, u[0].fee),
        (Side::Sell, p("80.05"), q("5"), m("5.003125"))
    );
    assert_eq!(x.position(SymbolId(0)), Qty::ZERO);
    // 99.7998 − 100.25 − 5.003125 = −5.453325: the loss beyond the wallet.
    assert_eq!(x.wallet(), m("-5.453325"));
    assert_eq!(x.stats().liquidations, 1);
}
