//! Protective stops at the exchange: every strategy position gets one
//! reduce-only stop-market at its stop, which follows the position and is
//! cancelled when it is flat; with `protect = "exchange"` the core leaves
//! the stop to the exchange while one is working there, and takes over
//! when the exchange refuses it.

mod common;

use autobot_engine::event::{
    AlertCode, InputBody, Liquidity, NewOrder, OperatorAction, OperatorCommand, OrderKind,
    OrderRejected, OrderStatus, OrderUpdate, Origin, OutputBody, OutputEvent, RejectReason,
    Request, SignalReason, Source, Verdict,
};
use autobot_engine::strategy::Protect;
use autobot_engine::types::{ClientOrderId, ExchangeOrderId, Money, Price, Qty, Side};

use common::scene::{Scene, bid_pressure, book_turns, scalper, signals};
use common::{SEC, audits, new_orders};

fn scene(protect: Option<Protect>) -> Scene {
    let mut inst = scalper();
    inst.protect = protect;
    Scene::new(inst)
}

/// The protective stops among `outs`.
fn guards(outs: &[OutputEvent]) -> Vec<NewOrder> {
    new_orders(outs)
        .into_iter()
        .filter(|o| o.kind == OrderKind::StopMarket)
        .collect()
}

fn cancels(outs: &[OutputEvent]) -> Vec<ClientOrderId> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::Cancel(c) => Some(c.client_id),
            _ => None,
        })
        .collect()
}

fn alerts(outs: &[OutputEvent], code: AlertCode) -> Vec<i64> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::Alert(a) if a.code == code => Some(a.value),
            _ => None,
        })
        .collect()
}

/// A report of order `o` from the exchange.
fn report(
    s: &mut Scene,
    o: &NewOrder,
    status: OrderStatus,
    price: &str,
    qty: Qty,
) -> Vec<OutputEvent> {
    let body = InputBody::OrderUpdate(OrderUpdate {
        client_id: o.client_id,
        exchange_id: ExchangeOrderId(7),
        status,
        side: o.side,
        liquidity: Liquidity::Taker,
        last_price: Price::parse(price).unwrap(),
        last_qty: qty,
        cum_qty: qty,
        fee: Money::ZERO,
    });
    let now = s.h.now;
    s.h.feed(Source::Execution, 0, now, body)
}

/// The scalper goes long at 60 000 and its entry fills: the outputs of
/// the fill, which place the protective stop.
fn long(s: &mut Scene) -> Vec<OutputEvent> {
    let outs = bid_pressure(s, 60_000.0);
    let entry = new_orders(&outs)[0];
    s.h.fill(&entry, "60000.1", "0")
}

#[test]
fn a_strategy_position_gets_a_stop_at_the_exchange_that_is_cancelled_when_flat() {
    let mut s = scene(None);
    let outs = long(&mut s);
    let g = guards(&outs);
    assert_eq!(g.len(), 1, "{outs:#?}");
    let g = g[0];
    // The scalper's 5 bp stop from the ask (59970.1), closing the long.
    assert_eq!(g.side, Side::Sell);
    assert_eq!(g.price, Price::parse("59970.1").unwrap());
    assert_eq!(g.qty.raw(), s.position());
    assert!(g.reduce_only);
    let audit = audits(&outs)
        .into_iter()
        .find(|a| a.id == g.client_id)
        .unwrap();
    assert_eq!(
        (audit.verdict, audit.origin),
        (Verdict::Approved, Origin::Protect)
    );
    let outs = report(&mut s, &g, OrderStatus::Accepted, "0", Qty::ZERO);
    assert!(new_orders(&outs).is_empty() && cancels(&outs).is_empty());

    // The resting stop holds back neither the core's exits nor counts as
    // exposure: the scalper's own exit goes out after the hold.
    s.h.now += 5 * SEC;
    let outs = book_turns(&mut s, 60_000.0);
    let exit = new_orders(&outs);
    assert_eq!(exit.len(), 1, "{outs:#?}");
    assert_eq!(exit[0].kind, OrderKind::Market);
    assert_eq!(signals(&outs)[0].reason, SignalReason::ImbalanceFaded);
    let outs = s.h.fill(&exit[0], "60000", "0");
    assert_eq!(s.position(), 0);
    assert_eq!(cancels(&outs), [g.client_id], "flat: the stop goes");
    assert!(guards(&outs).is_empty());
    let outs = report(&mut s, &g, OrderStatus::Cancelled, "0", Qty::ZERO);
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    assert_eq!(s.h.core.open_orders(), 0);
}

#[test]
fn with_protect_exchange_the_exchanges_stop_closes_and_the_core_stands_back() {
    let mut s = scene(Some(Protect::Exchange));
    let g = guards(&long(&mut s))[0];
    report(&mut s, &g, OrderStatus::Accepted, "0", Qty::ZERO);
    let held = s.position();
    // The market falls through the stop: the exchange's stop is working,
    // so the core sends nothing of its own.
    let outs = s.quote(59_960.0, "5", "1");
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    // The exchange closes the whole position (closePosition).
    let outs = report(
        &mut s,
        &g,
        OrderStatus::Filled,
        "59969",
        Qty::from_raw(held),
    );
    assert_eq!(s.position(), 0);
    assert!(new_orders(&outs).is_empty() && cancels(&outs).is_empty());
    assert_eq!(s.h.core.order(g.client_id).unwrap().origin, Origin::Protect);
    assert_eq!(s.h.core.stats().fills, 2);
}

#[test]
fn a_refused_stop_is_alerted_once_and_the_core_stops_the_position_itself() {
    let mut s = scene(Some(Protect::Exchange));
    let g = guards(&long(&mut s))[0];
    let refusal = InputBody::OrderRejected(OrderRejected {
        client_id: g.client_id,
        request: Request::New,
        code: -2021,
        reason: RejectReason::Other,
    });
    let now = s.h.now;
    let outs = s.h.feed(Source::Execution, 0, now, refusal);
    assert_eq!(alerts(&outs, AlertCode::Unprotected), [g.price.raw()]);
    assert!(
        guards(&outs).is_empty(),
        "not placed again for the same stop"
    );
    let outs = s.quote(59_960.0, "5", "1");
    let exit = new_orders(&outs);
    assert_eq!(exit.len(), 1, "{outs:#?}");
    assert_eq!(signals(&outs)[0].reason, SignalReason::StopLoss);
    assert_eq!(
        s.h.core.order(exit[0].client_id).unwrap().origin,
        Origin::StopLoss
    );
}

#[test]
fn protect_core_places_nothing_at_the_exchange() {
    let mut s = scene(Some(Protect::Core));
    let outs = long(&mut s);
    assert!(s.position() > 0);
    assert!(guards(&outs).is_empty(), "{outs:#?}");
}

#[test]
fn a_kill_switch_flatten_keeps_the_stop_until_the_position_is_closed() {
    let mut s = scene(None);
    let g = guards(&long(&mut s))[0];
    report(&mut s, &g, OrderStatus::Accepted, "0", Qty::ZERO);
    let kill = OperatorCommand {
        action: OperatorAction::Kill,
        arg: autobot_engine::core::KILL_FLATTEN,
        ..OperatorCommand::default()
    };
    let outs = s.h.op(0, kill);
    assert!(cancels(&outs).is_empty(), "the stop guards until flat");
    let close = new_orders(&outs);
    assert_eq!(close.len(), 1, "{outs:#?}");
    let outs = s.h.fill(&close[0], "60000", "0");
    assert_eq!(cancels(&outs), [g.client_id]);
}

#[test]
fn a_position_changed_behind_the_core_moves_its_stop() {
    let mut s = scene(None);
    let g = guards(&long(&mut s))[0];
    report(&mut s, &g, OrderStatus::Accepted, "0", Qty::ZERO);
    // The liquidation watch halves, or the operator sells part: the stop
    // follows the smaller position by cancel-replace.
    let part = Qty::from_raw(g.qty.raw() / 2);
    let o = new_orders(&s.h.market_order(0, Side::Sell, &part.to_string()))[0];
    let outs = s.h.fill(&o, "60000", "0");
    assert_eq!(cancels(&outs), [g.client_id]);
    let moved = guards(&outs);
    assert_eq!(moved.len(), 1, "{outs:#?}");
    assert_eq!(moved[0].qty, Qty::from_raw(g.qty.raw() - part.raw()));
    assert_eq!(moved[0].price, g.price);
}

/// `protect_target = true`: the target rests at the exchange too, as a
/// take-profit-market; whichever of the two fills, the other is cancelled,
/// and with `protect = "exchange"` the core's own target stands back while
/// the exchange's works.
#[test]
fn the_target_can_rest_at_the_exchange_too_and_the_first_to_fill_cancels_the_other() {
    let mut inst = scalper();
    inst.protect = Some(Protect::Exchange);
    inst.protect_target = Some(true);
    let mut s = Scene::new(inst);
    let outs = long(&mut s);
    let placed = new_orders(&outs);
    let stop = placed
        .iter()
        .find(|o| o.kind == OrderKind::StopMarket)
        .copied()
        .unwrap();
    let take = placed
        .iter()
        .find(|o| o.kind == OrderKind::TakeProfitMarket)
        .copied()
        .expect("the target rests too");
    // The scalper's 8 bp target from the ask, closing the long.
    assert_eq!(
        (take.side, take.price),
        (Side::Sell, Price::parse("60048.1").unwrap())
    );
    assert_eq!(take.qty, stop.qty);
    assert!(take.reduce_only);
    report(&mut s, &stop, OrderStatus::Accepted, "0", Qty::ZERO);
    report(&mut s, &take, OrderStatus::Accepted, "0", Qty::ZERO);
    // Past the hold and the target: the exchange's target is working, so
    // the core sends nothing of its own.
    s.h.now += 6 * SEC;
    let outs = s.quote(60_100.0, "5", "1");
    assert!(new_orders(&outs).is_empty(), "{outs:#?}");
    let outs = report(&mut s, &take, OrderStatus::Filled, "60048", take.qty);
    assert_eq!(s.position(), 0);
    assert_eq!(
        cancels(&outs),
        [stop.client_id],
        "the stop goes with the position"
    );
}

#[test]
fn protect_target_needs_a_target_and_the_exchange() {
    use autobot_engine::config::Validate as _;
    let mut core_only = scalper();
    core_only.protect = Some(Protect::Core);
    core_only.protect_target = Some(true);
    let e = core_only.validate("strategy.instances[0]").unwrap_err();
    assert_eq!(e.key, "strategy.instances[0].protect_target", "{e:?}");
}
