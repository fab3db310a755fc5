//! Control modes (legal and illegal moves), SemiAuto approvals, operator
//! commands, cancel-replace, refused bad input, and PnL / fees / funding
//! checked against a hand-computed example.

use autobot_engine::event::{
    AlertCode, ChangeCause, ControlMode, InputBody, Liquidity, ModeChange, OperatorAction,
    OperatorCommand, OrderKind, OrderStatus, OrderUpdate, OutputBody, OutputEvent, Source, Verdict,
};
use autobot_engine::types::{
    ClientOrderId, ExchangeOrderId, Money, Price, Qty, Seq, Side, SymbolId,
};

mod common;
use common::{Harness, SEC, audits, new_orders, risk_config};

fn q(s: &str) -> Qty {
    Qty::parse(s).unwrap()
}
fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn set_mode(h: &mut Harness, mode: ControlMode) -> Vec<OutputEvent> {
    h.op(
        0,
        OperatorCommand::new(OperatorAction::SetMode, mode as u64),
    )
}

fn alert(outs: &[OutputEvent], code: AlertCode) -> Option<i64> {
    outs.iter().find_map(|o| match o.body {
        OutputBody::Alert(a) if a.code == code => Some(a.value),
        _ => None,
    })
}

fn books(h: &mut Harness) {
    h.book(0, "9999.9", "10000.1", "10");
    h.book(1, "2499.99", "2500.01", "100");
}

#[test]
fn mode_moves_legal_and_illegal() {
    use ControlMode::*;
    let mut h = Harness::new(&risk_config());
    books(&mut h);
    assert_eq!(h.core.mode(), FullAuto);
    // Downgrades are immediate.
    let outs = set_mode(&mut h, SemiAuto);
    assert_eq!(
        outs[0].body,
        OutputBody::ModeChange(ModeChange {
            from: FullAuto,
            to: SemiAuto,
            cause: ChangeCause::Operator
        })
    );
    set_mode(&mut h, Manual);
    // Manual → FullAuto skips a step: refused (reason 1).
    let outs = set_mode(&mut h, FullAuto);
    assert_eq!(
        alert(&outs, AlertCode::ModeRefused),
        Some(((FullAuto as i64) << 8) | 1)
    );
    assert_eq!(h.core.mode(), Manual);
    // Upgrades one step at a time are validated: a stale feed refuses (4).
    h.wait(31 * SEC);
    h.timer();
    let outs = set_mode(&mut h, SemiAuto);
    assert_eq!(
        alert(&outs, AlertCode::ModeRefused),
        Some(((SemiAuto as i64) << 8) | 3)
    );
    books(&mut h);
    set_mode(&mut h, SemiAuto);
    set_mode(&mut h, FullAuto);
    assert_eq!(h.core.mode(), FullAuto);
    // A resyncing feed (healthy state, unhealthy book) refuses an upgrade.
    set_mode(&mut h, SemiAuto);
    let status = InputBody::FeedStatus(autobot_engine::event::FeedStatus {
        feed: autobot_engine::event::Feed::MarketData,
        health: autobot_engine::event::FeedHealth::Resyncing,
    });
    h.feed(Source::MarketData, 1, 0, status);
    let outs = set_mode(&mut h, FullAuto);
    assert_eq!(
        alert(&outs, AlertCode::ModeRefused),
        Some(((FullAuto as i64) << 8) | 4)
    );
    // Anything → Emergency is immediate; Emergency → SemiAuto never.
    set_mode(&mut h, Emergency);
    let outs = set_mode(&mut h, SemiAuto);
    assert_eq!(
        alert(&outs, AlertCode::ModeRefused),
        Some(((SemiAuto as i64) << 8) | 1)
    );
    // Emergency → Manual: flat and cleared.
    h.op(0, OperatorCommand::new(OperatorAction::Kill, 0));
    let outs = set_mode(&mut h, Manual);
    assert_eq!(
        alert(&outs, AlertCode::ModeRefused),
        Some(((Manual as i64) << 8) | 2)
    );
    h.op(0, OperatorCommand::new(OperatorAction::Reset, 0));
    set_mode(&mut h, Manual);
    assert_eq!(h.core.mode(), Manual);
    // An unknown mode number is a refused command, nothing changes.
    let outs = h.op(0, OperatorCommand::new(OperatorAction::SetMode, 9));
    assert_eq!(
        alert(&outs, AlertCode::OperatorRefused),
        Some(((OperatorAction::SetMode as i64) << 8) | 3)
    );
    assert_eq!(h.core.mode(), Manual);
    assert_eq!(h.core.stats().operator_refused, 1);
    assert_eq!(h.core.stats().mode_refusals, 5);
}

#[test]
fn a_restored_state_that_does_not_validate_starts_in_emergency() {
    let mut h = Harness::new(&risk_config());
    books(&mut h);
    let o = new_orders(&h.market_order(0, Side::Buy, "1.2"))[0];
    h.fill(&o, "10000.1", "0");
    // Manual allows 10 000 USDT (1 BTC): the downgrade itself is immediate …
    set_mode(&mut h, ControlMode::Manual);
    // … but a run that starts from this state does not validate.
    let outs = h.op(0, OperatorCommand::new(OperatorAction::Start, 0));
    assert_eq!(h.core.mode(), ControlMode::Emergency);
    assert!(outs.iter().any(|o| matches!(
        o.body,
        OutputBody::ModeChange(ModeChange {
            cause: ChangeCause::RestoreInvalid,
            ..
        })
    )));
}

/// A SemiAuto core on the zig-zag stream, fed until `n` orders are pending.
fn semi_auto() -> (autobot_engine::core::Core, u64, Vec<OutputEvent>) {
    let mut cfg = common::core_config();
    cfg.control.mode = autobot_engine::config::StartMode::SemiAuto;
    let mut core = autobot_engine::core::Core::new(&cfg);
    let mut outs = Vec::new();
    let mut i = 0;
    while core.pending_approvals().count() < 2 {
        let mut ev = common::market_event(i % 2, i);
        ev.header.seq = Seq(i);
        core.on_event(&ev, &mut outs);
        i += 1;
        assert!(i < 100_000, "no signal");
    }
    (core, i, outs)
}

fn op_event(seq: u64, action: OperatorAction, arg: u64) -> autobot_engine::event::InputEvent {
    let mut ev = autobot_engine::event::InputEvent::new(
        Source::Operator,
        SymbolId(0),
        autobot_engine::types::MonoNanos(0),
        autobot_engine::types::UnixNanos(0),
        InputBody::Operator(OperatorCommand::new(action, arg)),
    );
    ev.header.seq = Seq(seq);
    ev
}

#[test]
fn semi_auto_orders_wait_for_approval_and_expire_after_30_s() {
    let (mut core, mut seq, outs) = semi_auto();
    assert!(new_orders(&outs).is_empty(), "nothing leaves unapproved");
    let pending: Vec<_> = audits(&outs)
        .into_iter()
        .filter(|a| a.verdict == Verdict::Pending)
        .collect();
    assert_eq!(pending.len(), 2);
    // Approve the first by the id it was announced with.
    let mut outs = Vec::new();
    core.on_event(
        &op_event(seq, OperatorAction::Approve, pending[0].id.0),
        &mut outs,
    );
    seq += 1;
    let sent = new_orders(&outs);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].client_id, pending[0].id);
    // An unknown id is refused, nothing else changes.
    let mut outs = Vec::new();
    core.on_event(&op_event(seq, OperatorAction::Approve, 12345), &mut outs);
    seq += 1;
    assert_eq!(
        alert(&outs, AlertCode::OperatorRefused),
        Some(((OperatorAction::Approve as i64) << 8) | 1)
    );
    assert_eq!(core.pending_approvals().count(), 1);
    // The second waits; 30 s of event time later it expires.
    let expires = core.pending_approvals().next().unwrap().expires;
    let tick = |seq: u64, t: u64| {
        let mut ev = autobot_engine::event::InputEvent::new(
            Source::Timer,
            SymbolId(0),
            autobot_engine::types::MonoNanos(0),
            autobot_engine::types::UnixNanos(0),
            InputBody::Timer(autobot_engine::event::Timer {
                now: autobot_engine::types::UnixNanos(t),
            }),
        );
        ev.header.seq = Seq(seq);
        ev
    };
    let mut outs = Vec::new();
    core.on_event(&tick(seq, expires.0), &mut outs);
    seq += 1;
    assert_eq!(
        core.pending_approvals().count(),
        1,
        "at the limit: still waiting"
    );
    core.on_event(&tick(seq, expires.0 + 1), &mut outs);
    seq += 1;
    let expired: Vec<_> = audits(&outs)
        .into_iter()
        .filter(|a| a.verdict == Verdict::Expired)
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].id, pending[1].id);
    // Approving it now is too late.
    let mut outs = Vec::new();
    core.on_event(
        &op_event(seq, OperatorAction::Approve, pending[1].id.0),
        &mut outs,
    );
    assert!(new_orders(&outs).is_empty());
}

#[test]
fn semi_auto_reject_declines() {
    let (mut core, seq, outs) = semi_auto();
    let first = audits(&outs)
        .into_iter()
        .find(|a| a.verdict == Verdict::Pending)
        .unwrap();
    let mut outs = Vec::new();
    core.on_event(
        &op_event(seq, OperatorAction::Reject, first.id.0),
        &mut outs,
    );
    let a = audits(&outs);
    assert_eq!((a[0].verdict, a[0].id), (Verdict::Declined, first.id));
    assert!(new_orders(&outs).is_empty());
}

fn report(
    h: &mut Harness,
    o: &autobot_engine::event::NewOrder,
    status: OrderStatus,
) -> Vec<OutputEvent> {
    let body = InputBody::OrderUpdate(OrderUpdate {
        client_id: o.client_id,
        exchange_id: ExchangeOrderId(7),
        status,
        side: o.side,
        liquidity: Liquidity::None,
        ..OrderUpdate::default()
    });
    h.feed(Source::Execution, 0, h.now, body)
}

#[test]
fn an_unfilled_limit_order_is_cancel_replaced_at_the_new_best_after_the_timeout() {
    let mut h = Harness::new(&risk_config()); // replace after 10 s
    books(&mut h);
    let cmd = OperatorCommand {
        action: OperatorAction::Order,
        side: Side::Buy,
        kind: OrderKind::Limit,
        flags: OperatorCommand::POST_ONLY,
        qty: q("0.1"),
        price: Price::parse("9999.9").unwrap(),
        ..OperatorCommand::default()
    };
    let o = new_orders(&h.op(0, cmd))[0];
    report(&mut h, &o, OrderStatus::Accepted);
    h.wait(9 * SEC);
    books(&mut h);
    assert_eq!(h.core.stats().cancels, 0);
    h.wait(SEC);
    let outs = {
        h.book(0, "10000.4", "10000.6", "10");
        h.outs.clone()
    };
    let cancel = outs
        .iter()
        .rev()
        .find_map(|x| match x.body {
            OutputBody::Cancel(c) => Some(c),
            _ => None,
        })
        .expect("cancel after 10 s");
    assert_eq!(cancel.client_id, o.client_id);
    let outs = report(&mut h, &o, OrderStatus::Cancelled);
    let again = new_orders(&outs);
    assert_eq!(again.len(), 1, "{outs:#?}");
    assert_eq!(
        (
            again[0].price,
            again[0].qty,
            again[0].post_only,
            again[0].kind
        ),
        (
            Price::parse("10000.4").unwrap(),
            q("0.1"),
            true,
            OrderKind::Limit
        )
    );
    assert_ne!(again[0].client_id, o.client_id);
}

#[test]
fn bad_execution_reports_and_commands_change_nothing() {
    let mut h = Harness::new(&risk_config());
    books(&mut h);
    let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
    let before = h.core.view();
    // A negative price, a fill larger than the order, an unknown order.
    let outs = h.fill(&o, "-10000", "0");
    assert_eq!(
        alert(&outs, AlertCode::InvalidReport),
        Some(Price::parse("-10000").unwrap().raw())
    );
    let mut big = o;
    big.qty = q("0.2");
    let outs = h.fill(&big, "10000.1", "0");
    assert!(alert(&outs, AlertCode::DuplicateUpdate).is_some());
    let mut stranger = o;
    stranger.client_id = ClientOrderId(999_999);
    let outs = h.fill(&stranger, "10000.1", "0");
    assert!(alert(&outs, AlertCode::UnknownOrder).is_some());
    let outs = h.op(0, OperatorCommand::new(OperatorAction::Reject, 77));
    assert!(alert(&outs, AlertCode::OperatorRefused).is_some());
    let after = h.core.view();
    assert_eq!(after.symbols, before.symbols);
    assert_eq!(after.account, before.account);
    assert_eq!(after.open_orders, before.open_orders);
    assert_eq!(h.core.stats().invalid_inputs, 1);
    // The good report still applies afterwards.
    h.fill(&o, "10000.1", "0");
    assert_eq!(h.core.position(SymbolId(0)).unwrap().qty(), q("0.1"));
}

/// Two buys, a funding payment, one sell, with real prices:
///
/// | step | what | amount |
/// |---|---|---|
/// | buy 0.010 @ 60000.0 | fee 0.0004 × 600.000 | 0.24 |
/// | buy 0.005 @ 60300.0 | fee 0.0004 × 301.500 | 0.1206 |
/// | entry | (600 + 301.5) / 0.015 | 60100 |
/// | mark 60500, rate 0.0001 | unrealized 0.015 × 60500 − 901.5 | 6.0 |
/// | funding time passes | −0.015 × 60500 × 0.0001 | −0.09075 |
/// | sell 0.015 @ 61000.0 | realized 915 − 901.5; fee 0.366 | 13.5; 0.366 |
/// | balance | 10000 + 13.5 − 0.7266 − 0.09075 | 10012.68265 |
#[test]
fn pnl_fees_and_funding_match_the_hand_computed_example() {
    let mut h = Harness::new(&risk_config());
    h.book(0, "59999.9", "60000.0", "10");
    h.book(1, "2499.99", "2500.01", "100");
    let funding_at = h.now + 3600 * SEC;
    h.mark(0, "60000", "0.0001", funding_at);
    let o = new_orders(&h.market_order(0, Side::Buy, "0.010"))[0];
    h.fill(&o, "60000.0", "0.24");
    h.book(0, "60299.9", "60300.0", "10");
    let o = new_orders(&h.market_order(0, Side::Buy, "0.005"))[0];
    h.fill(&o, "60300.0", "0.1206");
    let pos = *h.core.position(SymbolId(0)).unwrap();
    assert_eq!(pos.avg_entry(), Some(Price::parse("60100").unwrap()));
    h.book(0, "60499.9", "60500.1", "10");
    h.mark(0, "60500", "0.0001", funding_at);
    let acct = *h.core.account();
    assert_eq!(acct.unrealized(), m("6"));
    assert_eq!(acct.equity(), m("10005.6394"));
    // The stream announces the next funding time: the one before has passed.
    h.jump_to(funding_at + 1);
    let outs = h.mark(0, "60500", "0.0002", funding_at + 8 * 3600 * SEC);
    let paid = outs
        .iter()
        .find_map(|o| match o.body {
            OutputBody::Funding(f) => Some(f),
            _ => None,
        })
        .unwrap();
    assert_eq!(paid.amount, m("-0.09075"));
    h.book(0, "60999.9", "61000.0", "10");
    let o = new_orders(&h.market_order(0, Side::Sell, "0.015"))[0];
    h.fill(&o, "61000.0", "0.366");
    let acct = *h.core.account();
    assert_eq!(acct.realized(), m("13.5"));
    assert_eq!(acct.fees(), m("0.7266"));
    assert_eq!(acct.funding(), m("-0.09075"));
    assert_eq!(acct.balance(), m("10012.68265"));
    assert_eq!(acct.unrealized(), Money::ZERO);
}
