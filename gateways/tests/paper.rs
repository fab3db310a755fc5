//! Paper execution: fill prices, fees, slippage, refusals, waiting for the
//! view to pass the order's cause and the configured latency, and resting
//! limit orders (hand-computed expectations).

use std::collections::VecDeque;

use autobot_engine::config::{StrategyConfig, presets};
use autobot_engine::event::{
    BookTicker, CancelOrder, InputBody, InputEvent, Liquidity, NewOrder, OrderKind, OrderStatus,
    OutputBody, OutputEvent, RejectReason, Request, Source, Trade,
};
use autobot_engine::types::{
    ClientOrderId, Money, MonoNanos, Price, Qty, Rate, Seq, Side, SymbolId, UnixNanos,
};
use autobot_exchange::FillConfig;
use autobot_gateways::paper::PaperExchange;

fn exchange_with(slippage_ticks: u32, latency_ms: u32) -> PaperExchange {
    let core = presets::core(&[presets::btcusdt()], StrategyConfig::ema_cross(2, 4));
    let cfg = FillConfig {
        taker_fee: Rate::parse("0.0004").unwrap(),
        maker_fee: Rate::parse("0.0002").unwrap(),
        slippage_ticks,
        latency_ms,
        ..FillConfig::default()
    };
    PaperExchange::new(&cfg, &core, Seq(0))
}

fn exchange(slippage_ticks: u32) -> PaperExchange {
    exchange_with(slippage_ticks, 0)
}

fn ticker(bid: &str, ask: &str) -> InputEvent {
    ticker_at(bid, ask, 5)
}

fn ticker_at(bid: &str, ask: &str, exchange_ns: u64) -> InputEvent {
    InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(1),
        UnixNanos(exchange_ns),
        InputBody::BookTicker(BookTicker {
            update_id: 1,
            bid_price: Price::parse(bid).unwrap(),
            bid_qty: Qty::ONE,
            ask_price: Price::parse(ask).unwrap(),
            ask_qty: Qty::ONE,
        }),
    )
}

fn order(cause: u64, side: Side, kind: OrderKind) -> OutputEvent {
    limit(cause, side, kind, "0", false)
}

fn limit(cause: u64, side: Side, kind: OrderKind, price: &str, post_only: bool) -> OutputEvent {
    OutputEvent {
        cause: Seq(cause),
        recv: Default::default(),
        body: OutputBody::NewOrder(NewOrder {
            client_id: ClientOrderId(cause * 16),
            symbol: SymbolId(0),
            side,
            kind,
            reduce_only: false,
            post_only,
            price: Price::parse(price).unwrap(),
            qty: Qty::parse("0.002").unwrap(),
        }),
    }
}

fn trade(price: &str) -> InputEvent {
    InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(1),
        UnixNanos(6),
        InputBody::AggTrade(Trade {
            trade_id: 1,
            price: Price::parse(price).unwrap(),
            qty: Qty::ONE,
            buyer_is_maker: false,
        }),
    )
}

fn updates(reports: &VecDeque<InputEvent>) -> Vec<(OrderStatus, Liquidity, Price, Money)> {
    reports
        .iter()
        .map(|r| match r.body {
            InputBody::OrderUpdate(u) => (u.status, u.liquidity, u.last_price, u.fee),
            ref other => panic!("{other:?}"),
        })
        .collect()
}

fn p(s: &str) -> Price {
    Price::parse(s).unwrap()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

#[test]
fn market_buy_fills_at_the_ask_plus_slippage_with_taker_fee() {
    let mut ex = exchange(2);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("60000.0", "60000.1"), &mut reports);
    ex.on_output(&order(0, Side::Buy, OrderKind::Market), &mut reports);
    let InputBody::OrderUpdate(u) = reports[0].body else {
        panic!("{reports:?}")
    };
    assert_eq!(u.status, OrderStatus::Filled);
    assert_eq!(u.last_price, Price::parse("60000.3").unwrap());
    assert_eq!(u.cum_qty, Qty::parse("0.002").unwrap());
    // 120.0006 × 0.0004
    assert_eq!(u.fee, Money::parse("0.04800024").unwrap());
    assert_eq!(reports[0].header.source, Source::Execution);
}

#[test]
fn an_order_waits_until_the_view_has_passed_its_cause() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports); // seq 0
    ex.on_output(&order(1, Side::Sell, OrderKind::Market), &mut reports);
    assert!(reports.is_empty(), "cause 1 not seen yet");
    ex.on_market(&ticker("99.0", "99.5"), &mut reports); // seq 1
    let InputBody::OrderUpdate(u) = reports[0].body else {
        panic!("{reports:?}")
    };
    assert_eq!(
        u.last_price,
        Price::parse("99.0").unwrap(),
        "fills at the book of its cause"
    );
}

#[test]
fn refusals_are_reports_not_silence() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&InputEvent::default(), &mut reports); // a timer: still no book
    ex.on_output(&order(0, Side::Buy, OrderKind::Market), &mut reports);
    ex.on_output(
        &limit(0, Side::Buy, OrderKind::Limit, "100", false),
        &mut reports,
    );
    let cancel = OutputEvent {
        cause: Seq(0),
        recv: Default::default(),
        body: OutputBody::Cancel(CancelOrder {
            client_id: ClientOrderId(3),
            symbol: SymbolId(0),
        }),
    };
    ex.on_output(&cancel, &mut reports);
    let reasons: Vec<_> = reports
        .iter()
        .map(|r| match r.body {
            InputBody::OrderRejected(x) => (x.reason, x.code),
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (RejectReason::NoLiquidity, -2020),
            (RejectReason::NoLiquidity, -2020),
            (RejectReason::Other, -2011)
        ]
    );
    assert_eq!(ex.stats().exchange.rejects, 3);
}

#[test]
fn requests_arrive_in_the_order_sent_so_a_cancel_behind_a_fill_is_refused() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports); // seq 0
    let cancel = |id| OutputEvent {
        cause: Seq(1),
        recv: Default::default(),
        body: OutputBody::Cancel(CancelOrder {
            client_id: ClientOrderId(id),
            symbol: SymbolId(0),
        }),
    };
    // A resting limit and its cancel, both caused by input 1: nothing
    // reaches the exchange before the view passes input 1.
    ex.on_output(
        &limit(1, Side::Buy, OrderKind::Limit, "99.0", false),
        &mut reports,
    );
    ex.on_output(&cancel(16), &mut reports);
    assert_eq!(ex.waiting(), 2);
    ex.on_market(&ticker("100.0", "100.5"), &mut reports); // seq 1
    assert_eq!(ex.waiting(), 0);
    let statuses: Vec<_> = updates(&reports).iter().map(|u| u.0).collect();
    assert_eq!(
        statuses,
        vec![OrderStatus::Accepted, OrderStatus::Cancelled]
    );
    // A market order fills on arrival; its cancel, right behind it, finds
    // an order Binance no longer knows.
    ex.on_output(&order(2, Side::Buy, OrderKind::Market), &mut reports);
    ex.on_output(&cancel(32), &mut reports);
    ex.on_market(&ticker("100.0", "100.5"), &mut reports); // seq 2
    let InputBody::OrderUpdate(u) = reports[2].body else {
        panic!("{reports:?}")
    };
    assert_eq!(u.status, OrderStatus::Filled);
    let InputBody::OrderRejected(r) = reports[3].body else {
        panic!("{reports:?}")
    };
    assert_eq!((r.request, r.code), (Request::Cancel, -2011));
}

#[test]
fn a_limit_rests_and_fills_as_maker_only_when_the_market_trades_through() {
    let mut ex = exchange(3);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports); // seq 0
    ex.on_output(
        &limit(0, Side::Buy, OrderKind::Limit, "99.8", false),
        &mut reports,
    );
    assert_eq!(ex.resting(), 1);
    // A trade at the price: the queue ahead is unknown, no fill.
    ex.on_market(&trade("99.8"), &mut reports);
    // The bid moving down to it: not through either.
    ex.on_market(&ticker("99.8", "100.0"), &mut reports);
    assert_eq!(ex.resting(), 1);
    // A trade strictly below: filled at the limit, maker fee, no slippage.
    ex.on_market(&trade("99.7"), &mut reports);
    assert_eq!(ex.resting(), 0);
    // 99.8 × 0.002 = 0.1996 notional; × 0.0002 = 0.00003992
    assert_eq!(
        updates(&reports),
        vec![
            (
                OrderStatus::Accepted,
                Liquidity::None,
                Price::ZERO,
                Money::ZERO
            ),
            (
                OrderStatus::Filled,
                Liquidity::Maker,
                p("99.8"),
                m("0.00003992")
            ),
        ]
    );
    let stats = ex.stats().exchange;
    assert_eq!((stats.rested, stats.maker_fills, stats.fills), (1, 1, 1));
}

#[test]
fn a_sell_limit_fills_when_the_bid_moves_above_it() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports);
    ex.on_output(
        &limit(0, Side::Sell, OrderKind::Limit, "100.4", false),
        &mut reports,
    );
    ex.on_market(&ticker("100.4", "100.6"), &mut reports);
    assert_eq!(ex.resting(), 1, "a bid at the price is not through it");
    ex.on_market(&ticker("100.5", "100.6"), &mut reports);
    assert_eq!(updates(&reports)[1].0, OrderStatus::Filled);
    assert_eq!(updates(&reports)[1].2, p("100.4"));
}

#[test]
fn a_crossing_limit_takes_at_the_best_and_slippage_stops_at_its_price() {
    let mut ex = exchange(3);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports);
    // Ask 100.5 + 3 ticks of 0.1 = 100.8, capped at the limit 100.7.
    ex.on_output(
        &limit(0, Side::Buy, OrderKind::Limit, "100.7", false),
        &mut reports,
    );
    // A second one with room: 100.5 + 0.3 = 100.8 under the limit 101.
    ex.on_output(
        &limit(0, Side::Buy, OrderKind::Limit, "101", false),
        &mut reports,
    );
    assert_eq!(
        updates(&reports),
        vec![
            // 100.7 × 0.002 × 0.0004 = 0.00008056
            (
                OrderStatus::Filled,
                Liquidity::Taker,
                p("100.7"),
                m("0.00008056")
            ),
            // 100.8 × 0.002 × 0.0004 = 0.00008064
            (
                OrderStatus::Filled,
                Liquidity::Taker,
                p("100.8"),
                m("0.00008064")
            ),
        ]
    );
    assert_eq!(ex.resting(), 0);
}

#[test]
fn a_post_only_that_would_take_is_refused_and_one_that_would_not_rests() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports);
    ex.on_output(
        &limit(0, Side::Buy, OrderKind::Limit, "100.5", true),
        &mut reports,
    );
    ex.on_output(
        &limit(0, Side::Sell, OrderKind::Limit, "100.5", true),
        &mut reports,
    );
    let InputBody::OrderRejected(r) = reports[0].body else {
        panic!("{reports:?}")
    };
    assert_eq!((r.code, r.request), (-5022, Request::New));
    let InputBody::OrderUpdate(u) = reports[1].body else {
        panic!("{reports:?}")
    };
    assert_eq!(u.status, OrderStatus::Accepted);
    assert_eq!(ex.resting(), 1);
}

#[test]
fn a_resting_limit_is_cancelled_and_a_second_cancel_is_refused() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5"), &mut reports);
    ex.on_output(
        &limit(0, Side::Buy, OrderKind::Limit, "99", false),
        &mut reports,
    );
    let cancel = OutputEvent {
        cause: Seq(0),
        recv: Default::default(),
        body: OutputBody::Cancel(CancelOrder {
            client_id: ClientOrderId(0),
            symbol: SymbolId(0),
        }),
    };
    ex.on_output(&cancel, &mut reports);
    ex.on_output(&cancel, &mut reports);
    assert_eq!(ex.resting(), 0);
    let InputBody::OrderUpdate(u) = reports[1].body else {
        panic!("{reports:?}")
    };
    assert_eq!(u.status, OrderStatus::Cancelled);
    let InputBody::OrderRejected(r) = reports[2].body else {
        panic!("{reports:?}")
    };
    assert_eq!((r.request, r.code), (Request::Cancel, -2011));
    // The trade that would have filled it finds nothing.
    ex.on_market(&trade("98"), &mut reports);
    assert_eq!(reports.len(), 3);
}

#[test]
fn an_order_arrives_after_the_configured_latency_of_market_time() {
    let ms = 1_000_000;
    let mut ex = exchange_with(0, 5);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker_at("100.0", "100.5", 1_000 * ms), &mut reports); // seq 0
    ex.on_output(&order(0, Side::Buy, OrderKind::Market), &mut reports);
    assert!(reports.is_empty(), "5 ms of market time must pass first");
    ex.on_market(&ticker_at("101.0", "101.5", 1_004 * ms), &mut reports);
    assert!(reports.is_empty(), "4 ms is not 5");
    assert_eq!(ex.waiting(), 1);
    ex.on_market(&ticker_at("102.0", "102.5", 1_005 * ms), &mut reports);
    assert_eq!(
        updates(&reports)[0].2,
        p("101.5"),
        "it meets the book standing at its arrival (not of its cause); \
         the input stamped with the arrival time comes after it, as in a backtest"
    );
    assert_eq!(ex.waiting(), 0);
}
