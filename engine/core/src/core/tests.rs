//! Unit tests of the core's trading path.

use super::*;
use crate::config::{StrategyConfig, presets};
use crate::event::{
    Audit, BookTicker, ChangeCause, Liquidity, NewOrder, OperatorAction, OperatorCommand,
    OrderKind, OrderStatus, OrderUpdate, Rule, Source, StateChange, Verdict,
};
use crate::types::{ExchangeOrderId, Money, MonoNanos, Qty, Rate, Rounding, Side, UnixNanos};

/// One symbol priced around 100 with a one-unit spread (about 100 bps, so
/// the spread limit is opened up), tiny minimums, entries of 0.25 USDT
/// (0.002 between 97 and 124) and a position limit of `max_position` USDT.
fn cfg(max_position: &str) -> CoreConfig {
    let mut ins = presets::btcusdt();
    ins.tick_size = Price::parse("0.1").unwrap();
    ins.min_notional = Money::parse("0.1").unwrap();
    let mut c = presets::core(&[ins], StrategyConfig::ema_cross(2, 4));
    c.risk.max_position_notional = Money::parse(max_position).unwrap();
    c.risk.sizing.notional = Money::parse("0.25").unwrap();
    c.risk.max_open_orders = 4;
    c.risk.forbidden.max_spread_bps = Rate::parse("1000").unwrap();
    c
}

struct Feed {
    seq: u64,
}

impl Feed {
    fn event(&mut self, source: Source, body: InputBody) -> InputEvent {
        let mut ev = InputEvent::new(source, SymbolId(0), MonoNanos(0), UnixNanos(0), body);
        ev.header.seq = Seq(self.seq);
        self.seq += 1;
        ev
    }
    fn ticker(&mut self, mid: i64) -> InputEvent {
        let body = InputBody::BookTicker(BookTicker {
            update_id: self.seq,
            bid_price: Price::from_units(mid).unwrap(),
            bid_qty: Qty::ONE,
            ask_price: Price::from_units(mid + 1).unwrap(),
            ask_qty: Qty::ONE,
        });
        self.event(Source::MarketData, body)
    }
}

fn orders(outs: &[OutputEvent]) -> Vec<NewOrder> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::NewOrder(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn fill(feed: &mut Feed, o: &NewOrder, cum: Qty) -> InputEvent {
    feed.event(
        Source::Execution,
        InputBody::OrderUpdate(OrderUpdate {
            client_id: o.client_id,
            exchange_id: ExchangeOrderId(1),
            status: OrderStatus::Filled,
            side: o.side,
            liquidity: Liquidity::Taker,
            last_price: o.price,
            last_qty: o.qty,
            cum_qty: cum,
            fee: Money::from_raw(1000),
        }),
    )
}

/// Feeds a rise then a fall; returns the outputs.
fn run_trend(core: &mut Core, feed: &mut Feed, prices: &[i64]) -> Vec<OutputEvent> {
    let mut outs = Vec::new();
    for &p in prices {
        core.on_event(&feed.ticker(p), &mut outs);
    }
    outs
}

const DOWN_THEN_UP: [i64; 10] = [100, 100, 100, 100, 99, 98, 97, 101, 104, 108];

#[test]
fn a_cross_sends_one_audited_market_order_and_a_fill_moves_the_position() {
    let mut core = Core::new(&cfg("1"));
    let mut feed = Feed { seq: 0 };
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    let sent = orders(&outs);
    assert_eq!(sent.len(), 1, "{outs:#?}");
    let o = sent[0];
    assert_eq!(o.side, Side::Buy);
    assert_eq!(o.qty, Qty::parse("0.002").unwrap());
    assert_eq!(o.kind, OrderKind::Market);
    // The approval audit precedes the order.
    let pos_order = outs
        .iter()
        .position(|x| matches!(x.body, OutputBody::NewOrder(_)))
        .unwrap();
    assert!(matches!(
        outs[pos_order - 1].body,
        OutputBody::Audit(Audit {
            verdict: Verdict::Approved,
            ..
        })
    ));
    // No second order while the first is open.
    let more = run_trend(&mut core, &mut feed, &[110, 111]);
    assert!(orders(&more).is_empty());

    let mut outs = Vec::new();
    core.on_event(&fill(&mut feed, &o, o.qty), &mut outs);
    assert_eq!(core.position(SymbolId(0)).unwrap().qty(), o.qty);
    assert_eq!(core.stats().fills, 1);
    // The same report again is recognized and not applied twice.
    core.on_event(&fill(&mut feed, &o, o.qty), &mut outs);
    assert_eq!(core.position(SymbolId(0)).unwrap().qty(), o.qty);
    assert_eq!(core.stats().duplicate_updates, 1);
    assert_eq!(core.stats().unknown_orders, 0);
}

#[test]
fn max_position_vetoes_with_the_values_compared() {
    // 0.15 USDT: an entry (0.25 USDT) is cut to the limit by the strategy's
    // sizing (0.001 at ~100), and an operator order beyond it is vetoed.
    let mut core = Core::new(&cfg("0.15"));
    let mut feed = Feed { seq: 0 };
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    let sent = orders(&outs);
    assert_eq!(sent.len(), 1, "{outs:#?}");
    assert_eq!(sent[0].qty, Qty::parse("0.001").unwrap());
    let mut outs = Vec::new();
    let buy = OperatorCommand {
        action: OperatorAction::Order,
        side: Side::Buy,
        kind: OrderKind::Market,
        qty: Qty::parse("0.002").unwrap(),
        ..OperatorCommand::default()
    };
    core.on_event(
        &feed.event(Source::Operator, InputBody::Operator(buy)),
        &mut outs,
    );
    let veto = outs
        .iter()
        .find_map(|o| match o.body {
            OutputBody::Audit(a) if a.verdict == Verdict::Vetoed => Some(a),
            _ => None,
        })
        .unwrap();
    assert_eq!(veto.rule, Rule::MaxPosition);
    // 0.001 live + 0.002 at the ask of 109: 0.327 USDT against 0.15.
    assert_eq!(veto.value, Money::parse("0.327").unwrap().raw());
    assert_eq!(veto.limit, Money::parse("0.15").unwrap().raw());
}

#[test]
fn kill_switch_vetoes_first_and_reset_releases_it() {
    let mut core = Core::new(&cfg("0.01"));
    let mut feed = Feed { seq: 0 };
    let mut outs = Vec::new();
    let kill = OperatorCommand::new(OperatorAction::Kill, 0);
    core.on_event(
        &feed.event(Source::Operator, InputBody::Operator(kill)),
        &mut outs,
    );
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    // The strategy's entries are held back (counted), not sent.
    assert!(orders(&outs).is_empty());
    assert!(core.stats().signals_held > 0);
    // An operator order is an intent: both the kill switch and max position
    // would veto it; the kill switch wins.
    let order = OperatorCommand {
        action: OperatorAction::Order,
        side: Side::Buy,
        kind: crate::event::OrderKind::Market,
        qty: Qty::parse("0.002").unwrap(),
        ..OperatorCommand::default()
    };
    let mut outs = Vec::new();
    core.on_event(
        &feed.event(Source::Operator, InputBody::Operator(order)),
        &mut outs,
    );
    assert!(outs.iter().any(|o| matches!(
        o.body,
        OutputBody::Audit(Audit {
            rule: Rule::KillSwitch,
            ..
        })
    )));
    assert!(core.kill_switch());
}

#[test]
fn shutdown_stops_new_orders_and_reports_the_state_change() {
    let mut core = Core::new(&cfg("100"));
    let mut feed = Feed { seq: 0 };
    let mut outs = Vec::new();
    let stop = OperatorCommand::new(OperatorAction::Shutdown, 0);
    core.on_event(
        &feed.event(Source::Runtime, InputBody::Operator(stop)),
        &mut outs,
    );
    assert_eq!(
        outs[0].body,
        OutputBody::StateChange(StateChange {
            from: SystemState::Running,
            to: SystemState::Stopped,
            cause: crate::event::ChangeCause::Shutdown,
        })
    );
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    assert!(orders(&outs).is_empty());
    assert!(
        core.stats().signals_held > 0,
        "entries held back while stopped"
    );
}

#[test]
fn start_after_shutdown_trades_again() {
    // Regression: a core restored from a cleanly stopped run stayed Stopped,
    // so the next run neither traded nor acknowledged its own shutdown.
    let mut core = Core::new(&cfg("100"));
    let mut feed = Feed { seq: 0 };
    let mut outs = Vec::new();
    let cmd = |action| InputBody::Operator(OperatorCommand::new(action, 0));
    core.on_event(
        &feed.event(Source::Runtime, cmd(OperatorAction::Shutdown)),
        &mut outs,
    );
    core.on_event(
        &feed.event(Source::Runtime, cmd(OperatorAction::Start)),
        &mut outs,
    );
    assert_eq!(core.state(), SystemState::Running);
    assert_eq!(
        outs[1].body,
        OutputBody::StateChange(StateChange {
            from: SystemState::Stopped,
            to: SystemState::Running,
            cause: crate::event::ChangeCause::Recovered,
        })
    );
    // Start on a running core changes nothing.
    core.on_event(
        &feed.event(Source::Runtime, cmd(OperatorAction::Start)),
        &mut outs,
    );
    assert_eq!(outs.len(), 2);
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    assert_eq!(orders(&outs).len(), 1);
}

#[test]
fn crossed_tickers_are_refused_and_counted() {
    let mut core = Core::new(&cfg("100"));
    let mut feed = Feed { seq: 0 };
    let mut bad = feed.ticker(100);
    if let InputBody::BookTicker(t) = &mut bad.body {
        t.ask_price = t.bid_price;
    }
    let mut outs = Vec::new();
    core.on_event(&bad, &mut outs);
    assert_eq!(core.stats().crossed, 1);
    assert!(!core.book(SymbolId(0)).unwrap().is_valid());
    assert!(matches!(
        outs[0].body,
        OutputBody::Alert(Alert {
            code: AlertCode::CrossedBook,
            ..
        })
    ));
}

#[test]
fn the_digest_is_a_function_of_the_inputs() {
    let run = |prices: &[i64]| {
        let mut core = Core::new(&cfg("1"));
        let mut feed = Feed { seq: 0 };
        run_trend(&mut core, &mut feed, prices);
        (core.digest(), core.outputs())
    };
    let a = run(&DOWN_THEN_UP);
    assert_eq!(a, run(&DOWN_THEN_UP));
    assert!(a.1 > 0);
    let mut other = DOWN_THEN_UP;
    other[9] = 109;
    // Same outputs (nothing depends on the last price) give the same digest;
    // a different decision gives a different one.
    assert_eq!(a, run(&other));
    assert_ne!(a.0, run(&[100, 100, 100, 100, 101, 102, 103, 99, 96, 92]).0);
}

fn snapshot(feed: &mut Feed, qty: &str, entry: &str, wallet: &str) -> InputEvent {
    feed.event(
        Source::Execution,
        InputBody::AccountUpdate(crate::event::AccountUpdate {
            reason: crate::event::AccountReason::Snapshot,
            wallet_balance: Money::parse(wallet).unwrap(),
            position_qty: Qty::parse(qty).unwrap(),
            entry_price: Price::parse(entry).unwrap(),
            unrealized_pnl: Money::ZERO,
        }),
    )
}

fn alerts(outs: &[OutputEvent], code: AlertCode) -> Vec<i64> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::Alert(a) if a.code == code => Some(a.value),
            _ => None,
        })
        .collect()
}

#[test]
fn an_account_snapshot_is_adopted_and_a_streamed_update_is_not() {
    let mut core = Core::new(&cfg("100"));
    let mut feed = Feed { seq: 0 };
    let mut outs = Vec::new();
    // At start: the exchange holds 0.003 short at 101.5 and 2500 USDT.
    core.on_event(&snapshot(&mut feed, "-0.003", "101.5", "2500"), &mut outs);
    let pos = *core.position(SymbolId(0)).unwrap();
    assert_eq!(pos.qty(), Qty::parse("-0.003").unwrap());
    assert_eq!(pos.avg_entry(), Some(Price::parse("101.5").unwrap()));
    assert_eq!(core.account().balance(), Money::parse("2500").unwrap());
    assert_eq!(core.account().start(), Money::parse("2500").unwrap());
    assert_eq!(alerts(&outs, AlertCode::PositionReconciled), vec![-300_000]);
    // Marked at 100.5 (the mid of 100/101): 0.003 × 1 = 0.003 up.
    core.on_event(&feed.ticker(100), &mut outs);
    assert_eq!(core.account().unrealized(), Money::parse("0.003").unwrap());
    // The same snapshot again changes nothing and says nothing.
    outs.clear();
    core.on_event(&snapshot(&mut feed, "-0.003", "101.5", "2500"), &mut outs);
    assert!(
        alerts(&outs, AlertCode::PositionReconciled).is_empty(),
        "{outs:#?}"
    );
    // A streamed update (reason Order) is the exchange's echo of fills the
    // core applies itself: never adopted.
    let mut streamed = snapshot(&mut feed, "0.5", "99", "1");
    if let InputBody::AccountUpdate(a) = &mut streamed.body {
        a.reason = crate::event::AccountReason::Order;
    }
    core.on_event(&streamed, &mut outs);
    assert_eq!(core.position(SymbolId(0)).unwrap().qty(), pos.qty());
    // A snapshot with an impossible value is refused whole.
    core.on_event(&snapshot(&mut feed, "0.1", "0", "2500"), &mut outs);
    assert_eq!(core.position(SymbolId(0)).unwrap().qty(), pos.qty());
    assert_eq!(core.stats().invalid_inputs, 1);
}

#[test]
fn a_snapshot_after_trading_adopts_the_position_but_not_the_balance() {
    let mut core = Core::new(&cfg("1"));
    let mut feed = Feed { seq: 0 };
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    let o = orders(&outs)[0];
    let mut outs = Vec::new();
    core.on_event(&fill(&mut feed, &o, o.qty), &mut outs);
    let balance = core.account().balance();
    // The exchange says flat (the position was closed by hand meanwhile).
    core.on_event(&snapshot(&mut feed, "0", "0", "5000"), &mut outs);
    assert!(core.position(SymbolId(0)).unwrap().qty().is_zero());
    assert_eq!(core.account().balance(), balance);
    assert_eq!(alerts(&outs, AlertCode::PositionReconciled), vec![0]);
    assert_eq!(
        alerts(&outs, AlertCode::BalanceMismatch),
        vec![Money::parse("5000").unwrap().raw()]
    );
}

fn exchange_close(feed: &mut Feed, side: Side, qty: Qty, price: &str, fee: &str) -> InputEvent {
    feed.event(
        Source::Execution,
        InputBody::OrderUpdate(OrderUpdate {
            client_id: crate::types::ClientOrderId::EXCHANGE_CLOSE,
            exchange_id: ExchangeOrderId(99),
            status: OrderStatus::Filled,
            side,
            liquidity: Liquidity::Taker,
            last_price: Price::parse(price).unwrap(),
            last_qty: qty,
            cum_qty: qty,
            fee: Money::parse(fee).unwrap(),
        }),
    )
}

/// A core (max position 1) long from the EMA cross's filled entry: the
/// core, its feed, the entry order and the position.
fn long_from_the_cross() -> (Core, Feed, NewOrder, Qty) {
    let mut core = Core::new(&cfg("1"));
    let mut feed = Feed { seq: 0 };
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    let o = orders(&outs)[0];
    core.on_event(&fill(&mut feed, &o, o.qty), &mut Vec::new());
    let held = core.position(SymbolId(0)).unwrap().qty();
    (core, feed, o, held)
}

#[test]
fn a_liquidation_closes_the_position_and_books_the_loss() {
    let (mut core, mut feed, o, held) = long_from_the_cross();
    let mut outs = Vec::new();
    assert!(held.is_positive(), "the cross bought");
    let balance = core.account().balance();
    // Closing with a buy, or more than is held, is not a liquidation.
    outs.clear();
    core.on_event(
        &exchange_close(&mut feed, Side::Buy, held, "90", "0"),
        &mut outs,
    );
    let twice = Qty::from_raw(held.raw() * 2);
    core.on_event(
        &exchange_close(&mut feed, Side::Sell, twice, "90", "0"),
        &mut outs,
    );
    assert_eq!(core.stats().invalid_inputs, 2);
    assert_eq!(core.position(SymbolId(0)).unwrap().qty(), held);
    // The exchange sells the whole position at 90 and charges 0.01.
    core.on_event(
        &exchange_close(&mut feed, Side::Sell, held, "90", "0.01"),
        &mut outs,
    );
    assert!(core.position(SymbolId(0)).unwrap().qty().is_zero());
    assert_eq!(alerts(&outs, AlertCode::Liquidated), vec![-held.raw()]);
    let loss = Money::notional(Price::parse("90").unwrap(), held, Rounding::HalfEven)
        .unwrap()
        .checked_sub(Money::notional(o.price, held, Rounding::HalfEven).unwrap())
        .unwrap();
    let expected = balance
        .checked_add(loss)
        .and_then(|b| b.checked_sub(Money::parse("0.01").unwrap()))
        .unwrap();
    assert_eq!(core.account().balance(), expected);
    // Flat until the strategy's next signal: the core does not buy it back.
    assert!(orders(&outs).is_empty(), "{outs:#?}");
    // The configured hold (the default: HALTED) until the operator resets.
    assert_eq!(core.state(), SystemState::Halted);
    assert!(outs.iter().any(|o| matches!(
        o.body,
        OutputBody::StateChange(StateChange {
            to: SystemState::Halted,
            cause: ChangeCause::Liquidation,
            ..
        })
    )));
    let reset = OperatorCommand::new(OperatorAction::Reset, 0);
    core.on_event(
        &feed.event(Source::Operator, InputBody::Operator(reset)),
        &mut outs,
    );
    assert_eq!(core.state(), SystemState::Running, "the reset lifts it");
}

/// An order refused because the account is being liquidated (-2023)
/// holds the system as configured: here SAFE_MODE.
#[test]
fn an_account_in_liquidation_holds_the_configured_state() {
    let mut c = cfg("1");
    c.risk.breakers.on_liquidation = crate::config::LiquidationHold::SafeMode;
    let mut core = Core::new(&c);
    let mut feed = Feed { seq: 0 };
    let outs = run_trend(&mut core, &mut feed, &DOWN_THEN_UP);
    let o = orders(&outs)[0];
    let refused = crate::event::OrderRejected {
        client_id: o.client_id,
        request: crate::event::Request::New,
        code: -2023,
        reason: crate::event::RejectReason::Liquidating,
    };
    let mut outs = Vec::new();
    core.on_event(
        &feed.event(Source::Execution, InputBody::OrderRejected(refused)),
        &mut outs,
    );
    assert_eq!(core.state(), SystemState::SafeMode);
    assert!(core.conditions().liquidation == crate::core::Hold::SafeMode);
}

/// The exchange's margin call is alerted and moves the liquidation watch
/// on a stage: the first halves the position, the next closes it (each
/// with a reduce-only market order); flat, a margin call only alerts.
#[test]
fn a_margin_call_alerts_and_steps_the_liquidation_watch() {
    let (mut core, mut feed, _, held) = long_from_the_cross();
    assert!(held.raw() >= 2 * 1000, "{held:?}: room to halve");
    let call = |feed: &mut Feed| {
        feed.event(
            Source::UserData,
            InputBody::AccountUpdate(crate::event::AccountUpdate {
                reason: crate::event::AccountReason::MarginCall,
                wallet_balance: Money::parse("3").unwrap(),
                position_qty: held,
                entry_price: Price::ZERO,
                unrealized_pnl: Money::parse("-1").unwrap(),
            }),
        )
    };
    let mut outs = Vec::new();
    core.on_event(&call(&mut feed), &mut outs);
    assert_eq!(alerts(&outs, AlertCode::MarginCall), vec![held.raw()]);
    let half = orders(&outs);
    assert_eq!(half.len(), 1, "{outs:#?}");
    assert!(half[0].reduce_only && half[0].side == Side::Sell);
    assert!(
        half[0].qty < held && half[0].qty.is_positive(),
        "{:?}",
        half[0]
    );
    core.on_event(&fill(&mut feed, &half[0], half[0].qty), &mut outs);
    let left = core.position(SymbolId(0)).unwrap().qty();
    let mut outs = Vec::new();
    core.on_event(&call(&mut feed), &mut outs);
    let close = orders(&outs);
    assert_eq!(close.len(), 1, "{outs:#?}");
    assert_eq!(
        (close[0].side, close[0].qty),
        (Side::Sell, left),
        "the rest"
    );
    core.on_event(&fill(&mut feed, &close[0], close[0].qty), &mut outs);
    assert!(core.position(SymbolId(0)).unwrap().qty().is_zero());
    let mut outs = Vec::new();
    core.on_event(&call(&mut feed), &mut outs);
    assert_eq!(alerts(&outs, AlertCode::MarginCall).len(), 1);
    assert!(orders(&outs).is_empty(), "nothing left to reduce");
}

/// Periodic reconciliation: the exchange's position differing from the
/// core's is believed on the second read with no order in flight, alerted
/// once, and holds SAFE_MODE until they agree again; the core's position
/// is never overwritten.
#[test]
fn a_position_drift_seen_twice_holds_safe_mode_until_it_agrees() {
    let mut core = Core::new(&cfg("1"));
    let mut feed = Feed { seq: 0 };
    run_trend(&mut core, &mut feed, &DOWN_THEN_UP[..2]);
    let read = |feed: &mut Feed, qty: &str| {
        feed.event(
            Source::UserData,
            InputBody::AccountUpdate(crate::event::AccountUpdate {
                reason: crate::event::AccountReason::Reconcile,
                wallet_balance: Money::parse("10000").unwrap(),
                position_qty: Qty::parse(qty).unwrap(),
                entry_price: Price::ZERO,
                unrealized_pnl: Money::ZERO,
            }),
        )
    };
    assert!(core.position(SymbolId(0)).unwrap().qty().is_zero());
    let mut outs = Vec::new();
    core.on_event(&read(&mut feed, "0"), &mut outs);
    core.on_event(&read(&mut feed, "0.005"), &mut outs);
    assert!(
        alerts(&outs, AlertCode::PositionDrift).is_empty(),
        "once is not believed"
    );
    assert_eq!(core.state(), SystemState::Running);
    core.on_event(&read(&mut feed, "0.005"), &mut outs);
    assert_eq!(alerts(&outs, AlertCode::PositionDrift), vec![500_000]);
    assert_eq!(core.state(), SystemState::SafeMode);
    assert!(outs.iter().any(|o| matches!(
        o.body,
        OutputBody::StateChange(StateChange {
            cause: ChangeCause::PositionDrift,
            ..
        })
    )));
    core.on_event(&read(&mut feed, "0.005"), &mut outs);
    assert_eq!(
        alerts(&outs, AlertCode::PositionDrift).len(),
        1,
        "alerted once"
    );
    assert!(
        core.position(SymbolId(0)).unwrap().qty().is_zero(),
        "never adopted"
    );
    core.on_event(&read(&mut feed, "0"), &mut outs);
    assert_eq!(core.state(), SystemState::Running, "they agree again");
}

#[test]
fn a_wallet_that_differs_twice_is_alerted_once_and_holds_nothing() {
    let mut core = Core::new(&cfg("1"));
    let mut feed = Feed { seq: 0 };
    run_trend(&mut core, &mut feed, &DOWN_THEN_UP[..2]);
    let ours = core.account().balance();
    let read = |feed: &mut Feed, wallet: Money| {
        feed.event(
            Source::UserData,
            InputBody::AccountUpdate(crate::event::AccountUpdate {
                reason: crate::event::AccountReason::Reconcile,
                wallet_balance: wallet,
                position_qty: Qty::ZERO,
                entry_price: Price::ZERO,
                unrealized_pnl: Money::ZERO,
            }),
        )
    };
    let theirs = ours.checked_sub(Money::parse("1.5").unwrap()).unwrap();
    let mut outs = Vec::new();
    core.on_event(&read(&mut feed, ours), &mut outs);
    core.on_event(&read(&mut feed, theirs), &mut outs);
    assert!(
        alerts(&outs, AlertCode::BalanceMismatch).is_empty(),
        "once is not believed"
    );
    core.on_event(&read(&mut feed, theirs), &mut outs);
    core.on_event(&read(&mut feed, theirs), &mut outs);
    assert_eq!(
        alerts(&outs, AlertCode::BalanceMismatch),
        vec![theirs.raw()]
    );
    assert_eq!(core.state(), SystemState::Running, "it holds nothing");
    assert_eq!(core.account().balance(), ours, "never adopted");
    core.on_event(&read(&mut feed, ours), &mut outs);
    core.on_event(&read(&mut feed, theirs), &mut outs);
    core.on_event(&read(&mut feed, theirs), &mut outs);
    assert_eq!(
        alerts(&outs, AlertCode::BalanceMismatch).len(),
        2,
        "agreeing in between: a new divergence"
    );
}

#[test]
fn a_settled_funding_is_paid_at_its_price_and_leaves_the_mark_alone() {
    let mut core = Core::new(&cfg("100"));
    let mut feed = Feed { seq: 0 };
    let mut outs = Vec::new();
    let funding = |feed: &mut Feed, mark: &str, rate: &str| {
        feed.event(
            Source::MarketData,
            InputBody::Funding(crate::event::FundingSettled {
                mark: Price::parse(mark).unwrap(),
                rate: crate::types::Rate::parse(rate).unwrap(),
            }),
        )
    };
    // Flat: nothing to pay, even without a price.
    core.on_event(&funding(&mut feed, "0", "0.0001"), &mut outs);
    assert_eq!(core.stats().fundings, 0);
    assert_eq!(core.stats().invalid_inputs, 0);
    // 0.003 short at 101.5 with 2500 USDT, marked at the mid 100.5.
    core.on_event(&snapshot(&mut feed, "-0.003", "101.5", "2500"), &mut outs);
    core.on_event(&feed.ticker(100), &mut outs);
    // Shorts receive a positive rate: 0.003 × 110 × 0.0002 = 0.000066.
    core.on_event(&funding(&mut feed, "110", "0.0002"), &mut outs);
    assert_eq!(
        core.account().balance(),
        Money::parse("2500.000066").unwrap()
    );
    assert_eq!(core.stats().fundings, 1);
    // Still valued at the mid, not at the funding price: 0.003 × 1.
    assert_eq!(core.account().unrealized(), Money::parse("0.003").unwrap());
    // Held with no price is refused, counted and paid nothing.
    core.on_event(&funding(&mut feed, "0", "0.0002"), &mut outs);
    assert_eq!(core.stats().invalid_inputs, 1);
    assert_eq!(core.stats().fundings, 1);
}
