//! Cost of the veto chain per order intent, with every level computing:
//! a two-symbol core in FullAuto with a position, a correlated group, a
//! warm volatility estimate, a mark price and funding ahead, judging an
//! intent that passes all six levels (the most work: a veto stops early).
//!
//! Each call is timed with a pair of `Instant::now()` reads; a baseline of
//! the same pair around nothing runs interleaved in the same process, and
//! the report gives both and their difference. A batch of 1000 calls timed
//! as one gives the mean without timer overhead.
//!
//! Target (issue 4): p99 <= 200 ns on this VM.

use std::hint::black_box;
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::config::{StrategyConfig, presets};
use autobot_engine::core::{Core, Intent};
use autobot_engine::event::{
    BookTicker, InputBody, InputEvent, Liquidity, MarkPrice, OrderStatus, OrderUpdate, Origin,
    OutputBody, OutputEvent, Source, Verdict,
};
use autobot_engine::types::{
    ExchangeOrderId, Money, MonoNanos, Price, Qty, Rate, Seq, Side, SymbolId, UnixNanos,
};
use hdrhistogram::Histogram;

fn event(seq: u64, sym: u16, t: u64, source: Source, body: InputBody) -> InputEvent {
    let mut ev = InputEvent::new(source, SymbolId(sym), MonoNanos(0), UnixNanos(t), body);
    ev.header.seq = Seq(seq);
    ev
}

/// A core in the state described in the module docs.
fn prepared() -> Core {
    let mut cfg = presets::core(
        &[presets::btcusdt(), presets::ethusdt()],
        StrategyConfig::ema_cross(99_999, 100_000),
    );
    cfg.risk.portfolio.correlated = vec![vec!["BTCUSDT".into(), "ETHUSDT".into()]];
    cfg.risk.forbidden.volatility_span = 50;
    let mut core = Core::new(&cfg);
    let mut outs: Vec<OutputEvent> = Vec::new();
    let t0 = 1_723_075_200_000_000_000u64;
    let mut seq = 0;
    let feed = |core: &mut Core, ev: InputEvent, outs: &mut Vec<OutputEvent>| {
        core.on_event(&ev, outs);
    };
    for i in 0..200u64 {
        let bump = (i % 2) as i64 * 10_000_000;
        for (sym, bid) in [(0u16, 6_000_000_000_000i64), (1, 300_000_000_000)] {
            let body = InputBody::BookTicker(BookTicker {
                update_id: i,
                bid_price: Price::from_raw(bid + bump),
                bid_qty: Qty::parse("5").unwrap(),
                ask_price: Price::from_raw(bid + bump + 10_000_000),
                ask_qty: Qty::parse("5").unwrap(),
            });
            feed(
                &mut core,
                event(seq, sym, t0 + seq * 1_000_000, Source::MarketData, body),
                &mut outs,
            );
            seq += 1;
        }
    }
    let mark = InputBody::MarkPrice(MarkPrice {
        mark_price: Price::parse("60000").unwrap(),
        index_price: Price::parse("60000").unwrap(),
        funding_rate: Rate::parse("0.0001").unwrap(),
        next_funding: UnixNanos(t0 + 8 * 3600 * 1_000_000_000),
    });
    feed(
        &mut core,
        event(seq, 0, t0 + seq * 1_000_000, Source::MarketData, mark),
        &mut outs,
    );
    seq += 1;
    // Hold 0.01 BTC.
    let buy = Intent::market(
        SymbolId(0),
        Side::Buy,
        Qty::parse("0.01").unwrap(),
        Origin::Operator,
    );
    let op = InputBody::Operator(autobot_engine::event::OperatorCommand {
        action: autobot_engine::event::OperatorAction::Order,
        side: buy.side,
        qty: buy.qty,
        ..Default::default()
    });
    outs.clear();
    feed(&mut core, event(seq, 0, 0, Source::Operator, op), &mut outs);
    seq += 1;
    let Some(o) = outs.iter().find_map(|o| match o.body {
        OutputBody::NewOrder(n) => Some(n),
        _ => None,
    }) else {
        panic!("the setup order was not sent: {outs:?}");
    };
    let fill = InputBody::OrderUpdate(OrderUpdate {
        client_id: o.client_id,
        exchange_id: ExchangeOrderId(1),
        status: OrderStatus::Filled,
        side: o.side,
        liquidity: Liquidity::Taker,
        last_price: o.price,
        last_qty: o.qty,
        cum_qty: o.qty,
        fee: Money::parse("0.24").unwrap(),
    });
    feed(
        &mut core,
        event(seq, 0, 0, Source::Execution, fill),
        &mut outs,
    );
    core
}

fn main() {
    let placement = pin(1);
    let core = prepared();
    let intent = Intent::market(
        SymbolId(0),
        Side::Buy,
        Qty::parse("0.005").unwrap(),
        Origin::Strategy,
    );
    let verdict = core.evaluate(&intent);
    assert!(
        matches!(verdict, Ok(a) if a.verdict == Verdict::Approved),
        "the benchmark intent must pass every level: {verdict:?}"
    );
    let mut chain = Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
    let mut empty = Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
    let rounds = 2_000_000;
    for i in 0..rounds + 200_000 {
        let t = Instant::now();
        let r = black_box(&core).evaluate(black_box(&intent));
        let d = t.elapsed().as_nanos() as u64;
        black_box(r).ok();
        let t = Instant::now();
        let e = t.elapsed().as_nanos() as u64;
        if i >= 200_000 {
            chain.record(d.max(1)).ok();
            empty.record(e.max(1)).ok();
        }
    }
    let mut means = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        for _ in 0..1000 {
            black_box(black_box(&core).evaluate(black_box(&intent))).ok();
        }
        means.push(t.elapsed().as_nanos() as f64 / 1000.0);
    }
    let q = |h: &Histogram<u64>, p: f64| h.value_at_quantile(p);
    println!("veto chain per order intent (all six levels computed; thread on {placement})");
    println!(
        "  timed calls     p50 {:>4} ns  p99 {:>4} ns  p99.9 {:>5} ns  ({} calls)",
        q(&chain, 0.5),
        q(&chain, 0.99),
        q(&chain, 0.999),
        chain.len()
    );
    println!(
        "  empty timer     p50 {:>4} ns  p99 {:>4} ns  p99.9 {:>5} ns  (baseline, same loop)",
        q(&empty, 0.5),
        q(&empty, 0.99),
        q(&empty, 0.999)
    );
    println!(
        "  chain - timer   p50 {:>4} ns  p99 {:>4} ns",
        q(&chain, 0.5).saturating_sub(q(&empty, 0.5)),
        q(&chain, 0.99).saturating_sub(q(&empty, 0.99))
    );
    println!(
        "  batch mean      {:.1} ns per intent (median of 21 batches of 1000)",
        median(&mut means)
    );
    let p99 = q(&chain, 0.99).saturating_sub(q(&empty, 0.99));
    println!(
        "  target p99 <= 200 ns: {}",
        if p99 <= 200 { "met" } else { "NOT met" }
    );
}
