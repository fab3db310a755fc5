//! Paper execution: fill prices, fees, slippage, refusals, and waiting for
//! the view to pass the order's cause.

use std::collections::VecDeque;

use autobot_engine::config::{instruments, presets};
use autobot_engine::event::{
    BookTicker, CancelOrder, InputBody, InputEvent, NewOrder, OrderKind, OrderStatus, OutputBody,
    OutputEvent, RejectReason, Request, Source,
};
use autobot_engine::types::{
    ClientOrderId, Money, MonoNanos, Price, Qty, Rate, Seq, Side, SymbolId, UnixNanos,
};
use autobot_gateways::paper::{PaperConfig, PaperExchange};

fn exchange(slippage_ticks: u32) -> PaperExchange {
    let ins = instruments(&[presets::btcusdt()]);
    let cfg = PaperConfig {
        taker_fee: Rate::parse("0.0004").unwrap(),
        slippage_ticks,
    };
    PaperExchange::new(&cfg, &ins, Seq(0))
}

fn ticker(bid: &str, ask: &str) -> InputEvent {
    InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(1),
        UnixNanos(5),
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
    OutputEvent {
        cause: Seq(cause),
        body: OutputBody::NewOrder(NewOrder {
            client_id: ClientOrderId(cause * 16),
            symbol: SymbolId(0),
            side,
            kind,
            reduce_only: false,
            post_only: false,
            price: Price::ZERO,
            qty: Qty::parse("0.002").unwrap(),
        }),
    }
}

#[test]
fn market_buy_fills_at_the_ask_plus_slippage_with_taker_fee() {
    let mut ex = exchange(2);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("60000.0", "60000.1"));
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
    ex.on_market(&ticker("100.0", "100.5")); // seq 0
    ex.on_output(&order(1, Side::Sell, OrderKind::Market), &mut reports);
    assert!(reports.is_empty(), "cause 1 not seen yet");
    ex.on_market(&ticker("99.0", "99.5")); // seq 1
    ex.match_waiting(&mut reports);
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
    ex.on_market(&InputEvent::default()); // a timer: still no book
    ex.on_output(&order(0, Side::Buy, OrderKind::Market), &mut reports);
    ex.on_output(&order(0, Side::Buy, OrderKind::Limit), &mut reports);
    let cancel = OutputEvent {
        cause: Seq(0),
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
            (RejectReason::NoLiquidity, 0),
            (RejectReason::Other, -1),
            (RejectReason::Other, -2011)
        ]
    );
    assert_eq!(ex.stats().rejects, 3);
}

#[test]
fn a_cancel_takes_back_an_order_still_waiting_and_is_refused_after_the_fill() {
    let mut ex = exchange(0);
    let mut reports = VecDeque::new();
    ex.on_market(&ticker("100.0", "100.5")); // seq 0
    ex.on_output(&order(1, Side::Sell, OrderKind::Market), &mut reports);
    let cancel = |id| OutputEvent {
        cause: Seq(1),
        body: OutputBody::Cancel(CancelOrder {
            client_id: ClientOrderId(id),
            symbol: SymbolId(0),
        }),
    };
    ex.on_output(&cancel(16), &mut reports);
    assert_eq!(ex.waiting(), 0);
    let InputBody::OrderUpdate(u) = reports[0].body else {
        panic!("{reports:?}")
    };
    assert_eq!((u.status, u.cum_qty), (OrderStatus::Cancelled, Qty::ZERO));
    // Filled first, cancelled after: Binance no longer knows the order.
    ex.on_output(&order(2, Side::Buy, OrderKind::Market), &mut reports);
    ex.on_market(&ticker("100.0", "100.5")); // seq 1
    ex.on_market(&ticker("100.0", "100.5")); // seq 2
    ex.match_waiting(&mut reports);
    ex.on_output(&cancel(32), &mut reports);
    let InputBody::OrderRejected(r) = reports[2].body else {
        panic!("{reports:?}")
    };
    assert_eq!((r.request, r.code), (Request::Cancel, -2011));
}
