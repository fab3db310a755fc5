//! Maker-first entries (issue 28): an instance with `entry = "maker"`
//! posts its entry post-only at its own side's touch; unfilled after
//! `[control] replace_after_secs` it is cancel-replaced at the new touch;
//! after `maker_replaces` replaces it is crossed at market or abandoned,
//! as configured. Exits stay market orders.

use autobot_engine::event::{
    InputBody, Liquidity, NewOrder, OrderKind, OrderStatus, OrderUpdate, OutputBody, OutputEvent,
    Source,
};
use autobot_engine::strategy::{Entry, MakerFallback};
use autobot_engine::types::{ExchangeOrderId, Money, Price, Qty, Side};

mod common;
use common::scene::{Scene, bid_pressure, config, scalper, signals};
use common::{SEC, new_orders};

fn maker_scene(fallback: MakerFallback) -> Scene {
    let mut inst = scalper();
    inst.entry = Some(Entry::Maker);
    inst.maker_replaces = Some(2);
    inst.maker_fallback = Some(fallback);
    let mut cfg = config(inst);
    cfg.control.replace_after_secs = 2;
    Scene::with(&cfg)
}

fn update(s: &mut Scene, o: &NewOrder, status: OrderStatus) -> Vec<OutputEvent> {
    let filled = status == OrderStatus::Filled;
    let body = InputBody::OrderUpdate(OrderUpdate {
        client_id: o.client_id,
        exchange_id: ExchangeOrderId(u64::from(o.client_id.0 as u32)),
        status,
        side: o.side,
        liquidity: Liquidity::Maker,
        last_price: if filled { o.price } else { Price::ZERO },
        last_qty: if filled { o.qty } else { Qty::ZERO },
        cum_qty: if filled { o.qty } else { Qty::ZERO },
        fee: Money::ZERO,
    });
    let now = s.h.now;
    s.h.feed(Source::Execution, 0, now, body)
}

fn cancels(outs: &[OutputEvent]) -> usize {
    outs.iter()
        .filter(|o| matches!(o.body, OutputBody::Cancel(_)))
        .count()
}

/// The resting entry, acknowledged; the market moves up a tick a second
/// until the core cancels it; the cancel is confirmed. What the core did
/// then.
fn wait_out(s: &mut Scene, o: &NewOrder, mid: &mut f64) -> Vec<OutputEvent> {
    update(s, o, OrderStatus::Accepted);
    let mut cancelled = false;
    for _ in 0..10 {
        s.h.now += SEC;
        *mid += 1.0;
        let outs = s.quote(*mid, "1", "1");
        if cancels(&outs) == 1 {
            cancelled = true;
            break;
        }
    }
    assert!(cancelled, "the resting entry was not cancelled");
    update(s, o, OrderStatus::Cancelled)
}

fn the_entry(outs: &[OutputEvent]) -> NewOrder {
    let orders = new_orders(outs);
    assert_eq!(orders.len(), 1, "{outs:#?}");
    orders[0]
}

#[test]
fn a_maker_entry_rests_at_the_touch_and_follows_it_then_crosses() {
    let mut s = maker_scene(MakerFallback::Cross);
    let mut mid = 60_000.0;
    let outs = bid_pressure(&mut s, mid);
    assert_eq!(signals(&outs).len(), 1);
    let first = the_entry(&outs);
    // Post-only at the bid (the scene's book is 0.2 wide around the mid).
    assert_eq!(
        (first.kind, first.post_only, first.side, first.price),
        (
            OrderKind::Limit,
            true,
            Side::Buy,
            Price::parse("59999.9").unwrap()
        )
    );
    // Two replaces at the new bid, each for what is left.
    let mut resting = first;
    for _ in 0..2 {
        let outs = wait_out(&mut s, &resting, &mut mid);
        let next = the_entry(&outs);
        assert_eq!((next.kind, next.post_only), (OrderKind::Limit, true));
        let bid = Price::parse(&format!("{:.1}", mid - 0.1)).unwrap();
        assert_eq!((next.price, next.qty), (bid, first.qty));
        resting = next;
    }
    // The replaces are used up: the rest crosses at market.
    let outs = wait_out(&mut s, &resting, &mut mid);
    let crossed = the_entry(&outs);
    assert_eq!((crossed.kind, crossed.qty), (OrderKind::Market, first.qty));
    s.h.fill(&crossed, &format!("{:.1}", mid + 0.1), "0");
    assert_eq!(s.position(), first.qty.raw());
}

#[test]
fn a_maker_entry_that_never_fills_is_abandoned_and_not_chased() {
    let mut s = maker_scene(MakerFallback::Abandon);
    let mut mid = 60_000.0;
    let mut resting = the_entry(&bid_pressure(&mut s, mid));
    for _ in 0..2 {
        resting = the_entry(&wait_out(&mut s, &resting, &mut mid));
    }
    let outs = wait_out(&mut s, &resting, &mut mid);
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    assert_eq!(s.position(), 0);
    // The same setup again is the same proposal: not chased.
    let outs = bid_pressure(&mut s, mid);
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    assert!(s.h.core.stats().signals_repeated > 0);
}

#[test]
fn a_filled_maker_entry_holds_and_its_exit_takes() {
    let mut s = maker_scene(MakerFallback::Abandon);
    let entry = the_entry(&bid_pressure(&mut s, 60_000.0));
    update(&mut s, &entry, OrderStatus::Accepted);
    update(&mut s, &entry, OrderStatus::Filled);
    assert_eq!(s.position(), entry.qty.raw());
    // The stop closes with a market order.
    let outs = s.quote(59_900.0, "1", "1");
    let exit = new_orders(&outs)
        .into_iter()
        .find(|o| o.kind == OrderKind::Market)
        .expect("a market exit");
    assert!(exit.reduce_only);
}
