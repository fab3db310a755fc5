//! Issue 25's findings, each pinned as it was seen: reducing risk is always
//! possible (kill switch, HALTED, SAFE_MODE, Emergency), a position belongs
//! to whoever actually sent the order, refusals say so, a reset never
//! forgives the day, a vetoed entry is not repeated, and the losing-streak
//! breaker can be switched off.

use autobot_engine::core::{
    CommandResult, Core, KILL_FLATTEN, ModeRefusal, RESET_OVERRIDE_DAY_LOSS,
    RESET_OVERRIDE_DRAWDOWN, Refusal,
};
use autobot_engine::event::{
    ControlMode, InputBody, OperatorAction, OperatorCommand, OrderKind, OrderRejected, Origin,
    OutputBody, OutputEvent, RejectReason, Request, Rule, SignalReason, Source, Stance,
    SystemState, Verdict,
};
use autobot_engine::regime::Regime;
use autobot_engine::runtime::CommandOutcome;
use autobot_engine::types::{Money, Price, Qty, Rate, Side, SymbolId};

mod common;
use common::scene::{Scene, bid_pressure, config, scalper, signals, trend_instance};
use common::{Harness, audits, books, hold, new_orders, q, risk_config};

fn cmd(action: OperatorAction, arg: u64) -> OperatorCommand {
    OperatorCommand::new(action, arg)
}

/// What one operator command did, as the status board reports it.
fn outcome(h: &mut Harness, c: OperatorCommand) -> (CommandOutcome, Vec<OutputEvent>) {
    let mut outs = Vec::new();
    let seq = h.seq;
    h.seq += 1;
    let mut ev = autobot_engine::event::InputEvent::new(
        Source::Operator,
        SymbolId(0),
        autobot_engine::types::MonoNanos(0),
        autobot_engine::types::UnixNanos(0),
        InputBody::Operator(c),
    );
    ev.header.seq = autobot_engine::types::Seq(seq);
    let o = CommandOutcome::of(&mut h.core, |core: &mut Core| core.on_event(&ev, &mut outs));
    h.outs.extend_from_slice(&outs);
    (o, outs)
}

fn cancels(outs: &[OutputEvent]) -> Vec<u64> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::Cancel(c) => Some(c.client_id.0),
            _ => None,
        })
        .collect()
}

// Item 1: with a 0.01 BTC position, `ctl kill` then `ctl flatten BTCUSDT`
// answered "0 order(s) sent, 1 vetoed by the risk chain".
#[test]
fn flatten_under_the_kill_switch_closes_the_position() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    hold(&mut h, "0.01");
    h.op(0, cmd(OperatorAction::Kill, 0));
    let (o, outs) = outcome(&mut h, cmd(OperatorAction::Flatten, 0));
    assert_eq!((o.orders, o.vetoes), (1, 0), "{outs:#?}");
    let close = new_orders(&outs)[0];
    assert_eq!(
        (close.side, close.qty, close.reduce_only),
        (Side::Sell, q("0.01"), true)
    );
    h.fill(&close, "9999.9", "0");
    assert!(h.core.position(SymbolId(0)).unwrap().qty().is_zero());
    assert!(h.core.kill_switch(), "flatten leaves the switch engaged");
}

#[test]
fn kill_with_flatten_engages_the_switch_and_closes_everything() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    hold(&mut h, "0.02");
    let o = new_orders(&h.market_order(1, Side::Sell, "0.5"))[0];
    h.fill(&o, "2499.99", "0");
    let (out, outs) = outcome(&mut h, cmd(OperatorAction::Kill, KILL_FLATTEN));
    assert!(h.core.kill_switch());
    assert_eq!(h.core.mode(), ControlMode::Emergency);
    assert_eq!((out.orders, out.vetoes), (2, 0));
    let closes: Vec<_> = new_orders(&outs)
        .iter()
        .map(|n| (n.symbol.0, n.side, n.qty, n.reduce_only))
        .collect();
    assert_eq!(
        closes,
        vec![
            (0, Side::Sell, q("0.02"), true),
            (1, Side::Buy, q("0.5"), true)
        ]
    );
}

/// Under the kill switch an order that adds risk is vetoed, an operator
/// order that reduces goes reduce-only, one that would flip is cut to a
/// close, and live entries are cancelled while a reducing order stays.
#[test]
fn the_kill_switch_stops_new_risk_but_never_an_exit() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    hold(&mut h, "0.05");
    let limit = |side, flags| OperatorCommand {
        action: OperatorAction::Order,
        side,
        kind: OrderKind::Limit,
        flags,
        qty: q("0.01"),
        price: Price::parse(if side == Side::Buy {
            "9900.0"
        } else {
            "10100.0"
        })
        .unwrap(),
        ..OperatorCommand::default()
    };
    let entry = new_orders(&h.op(0, limit(Side::Buy, 0)))[0];
    let exit = new_orders(&h.op(0, limit(Side::Sell, OperatorCommand::REDUCE_ONLY)))[0];
    let outs = h.op(0, cmd(OperatorAction::Kill, 0));
    assert_eq!(cancels(&outs), vec![entry.client_id.0], "only the entry");
    let a = audits(&h.market_order(0, Side::Buy, "0.01"))[0];
    assert_eq!((a.verdict, a.rule), (Verdict::Vetoed, Rule::KillSwitch));
    // The exchange confirms the cancel.
    let body = InputBody::OrderUpdate(autobot_engine::event::OrderUpdate {
        client_id: entry.client_id,
        exchange_id: autobot_engine::types::ExchangeOrderId(1),
        status: autobot_engine::event::OrderStatus::Cancelled,
        side: Side::Buy,
        liquidity: autobot_engine::event::Liquidity::Maker,
        last_price: Price::ZERO,
        last_qty: Qty::ZERO,
        cum_qty: Qty::ZERO,
        fee: Money::ZERO,
    });
    let now = h.now;
    h.feed(Source::Execution, 0, now, body);
    // 0.05 held, 0.01 already on its way out: a sell of 0.1 is cut to 0.04.
    let outs = h.market_order(0, Side::Sell, "0.1");
    let close = new_orders(&outs)[0];
    assert_eq!((close.qty, close.reduce_only), (q("0.04"), true));
    assert!(!h.core.order(exit.client_id).unwrap().state.is_terminal());
}

// Item 2: a backtest ended HALTED holding a trend entry for 38 days with
// its stop never enforced.
#[test]
fn stops_stay_enforced_while_halted() {
    let mut s = Scene::new(trend_instance(&[Regime::Bull, Regime::Bear]));
    let outs: Vec<_> = (0..20)
        .flat_map(|i| s.second(60_000.0 + 10.0 * f64::from(i)))
        .collect();
    let entry = signals(&outs)[0];
    assert_eq!(entry.stance, Stance::Long);
    s.fill_all(&outs);
    // An order the exchange refuses for bad credentials halts the system.
    let probe = OperatorCommand {
        action: OperatorAction::Order,
        side: Side::Sell,
        kind: OrderKind::Limit,
        qty: q("0.001"),
        price: Price::parse("61000.0").unwrap(),
        ..OperatorCommand::default()
    };
    let o = new_orders(&s.h.op(0, probe))[0];
    let body = InputBody::OrderRejected(OrderRejected {
        client_id: o.client_id,
        request: Request::New,
        code: -2015,
        reason: RejectReason::Auth,
    });
    s.h.feed(Source::Execution, 0, 0, body);
    assert_eq!(s.h.core.state(), SystemState::Halted);
    // The market falls through the stop: the stop still closes, reduce-only.
    let outs = s.quote(entry.stop.to_f64() - 1.0, "1", "1");
    let close = new_orders(&outs);
    assert_eq!(close.len(), 1, "{outs:#?}");
    assert!(close[0].reduce_only);
    assert_eq!(
        s.h.core.order(close[0].client_id).unwrap().origin,
        Origin::StopLoss
    );
    s.closes(&outs, SignalReason::StopLoss);
}

// Item 3: in Manual mode an operator's fill was closed by a strategy at a
// stop taken from its own vetoed proposal.
#[test]
fn an_operators_fill_belongs_to_no_strategy() {
    let mut cfg = config(trend_instance(&[Regime::Bull, Regime::Bear]));
    cfg.control.mode = autobot_engine::config::StartMode::Manual;
    cfg.risk.max_position_notional = Money::parse("100000").unwrap();
    let mut s = Scene {
        h: Harness::new(&cfg),
    };
    // A bear market: the trend instance proposes a short with its stop
    // above; Manual mode vetoes it.
    let outs: Vec<_> = (0..20)
        .flat_map(|i| s.second(60_000.0 - 10.0 * f64::from(i)))
        .collect();
    let short = signals(&outs)[0];
    assert_eq!(short.stance, Stance::Short);
    assert!(audits(&outs).iter().any(|a| a.rule == Rule::ControlMode));
    // The operator buys; the fill is the operator's.
    let outs = s.h.market_order(0, Side::Buy, "0.01");
    s.fill_all(&outs);
    assert_eq!(s.position(), q("0.01").raw());
    assert_eq!(s.h.core.view().symbols[0].stop, None, "no inherited stop");
    // The market stays below the vetoed short's stop (a long "stopped" at
    // once if it had inherited it) and rises through it: nothing closes.
    let mid = s.h.core.book(SymbolId(0)).unwrap().mid().unwrap().to_f64();
    for i in 0..10 {
        let outs = s.quote(mid + 10.0 * f64::from(i), "1", "1");
        assert!(
            signals(&outs)
                .iter()
                .all(|x| x.reason != SignalReason::StopLoss),
            "{outs:#?}"
        );
    }
    assert_eq!(s.position(), q("0.01").raw());
}

// Item 4: `ctl mode full-auto` printed "done", exit 0, mode unchanged.
#[test]
fn a_refused_mode_change_is_a_refusal_with_its_reason() {
    let mut cfg = risk_config();
    cfg.control.mode = autobot_engine::config::StartMode::Manual;
    let mut h = Harness::new(&cfg);
    books(&mut h, "9999.9", "10000.1");
    let full = cmd(OperatorAction::SetMode, ControlMode::FullAuto as u64);
    let (o, _) = outcome(&mut h, full);
    assert_eq!(o.refused, 1);
    assert_eq!(
        o.result.mode_refusal,
        Some((ControlMode::FullAuto, ModeRefusal::NotAllowed))
    );
    h.op(0, cmd(OperatorAction::Kill, 0));
    let manual = cmd(OperatorAction::SetMode, ControlMode::Manual as u64);
    let (o, _) = outcome(&mut h, manual);
    assert_eq!(
        (o.refused, o.result.mode_refusal),
        (1, Some((ControlMode::Manual, ModeRefusal::KillSwitch)))
    );
    // A vetoed operator order names the rule and the values compared.
    let (o, _) = outcome(
        &mut h,
        OperatorCommand {
            action: OperatorAction::Order,
            side: Side::Buy,
            kind: OrderKind::Market,
            qty: q("0.01"),
            ..OperatorCommand::default()
        },
    );
    let veto = o.result.veto.expect("the veto");
    assert_eq!((o.vetoes, veto.rule), (1, Rule::KillSwitch));
    let line = autobot_engine::core::explain::audit_line(&veto, "BTCUSDT");
    assert!(
        line.contains("KillSwitch") && line.contains("BTCUSDT"),
        "{line}"
    );
    // A command that did what it was asked reports nothing refused.
    let (o, _) = outcome(&mut h, cmd(OperatorAction::Reset, 0));
    assert_eq!((o.refused, o.result), (0, CommandResult::default()));
}

/// Holds 1 BTC bought at 10000.1 (3% daily loss = 300 USDT).
fn long_one(h: &mut Harness) {
    books(h, "9999.9", "10000.1");
    hold(h, "1");
}

// Item 5: after a reset the day's PnL (−2.48) became 0 and the drawdown
// restarted, so the daily-loss limit was re-armed by every reset.
#[test]
fn a_reset_never_forgives_the_days_loss() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = Money::parse("20000").unwrap();
    let mut h = Harness::new(&cfg);
    long_one(&mut h);
    books(&mut h, "9700.0", "9700.2"); // −300.0: the limit
    assert_eq!(h.core.state(), SystemState::Halted);
    let mut day = h.core.account().daily_pnl();
    let high = h.core.account().high_water();
    let (o, _) = outcome(&mut h, cmd(OperatorAction::Reset, 0));
    assert_eq!(o.result.refusal, Some(Refusal::HaltedByDailyLoss));
    assert_eq!(h.core.state(), SystemState::Halted);
    assert_eq!(h.core.account().daily_pnl(), day, "the day's PnL stays");
    assert_eq!(
        h.core.account().high_water(),
        high,
        "the high-water mark stays"
    );
    // Reducing is possible while halted.
    let outs = h.market_order(0, Side::Sell, "0.5");
    let close = new_orders(&outs)[0];
    h.fill(&close, "9700.0", "0");
    day = h.core.account().daily_pnl();
    // The explicit override lifts it for the rest of the day, counted
    // from here; the day's accounting is unchanged.
    let (o, _) = outcome(&mut h, cmd(OperatorAction::Reset, RESET_OVERRIDE_DAY_LOSS));
    assert_eq!(o.refused, 0);
    assert_eq!(h.core.state(), SystemState::Running);
    assert_eq!(h.core.account().daily_pnl(), day);
    assert!(h.core.account_view().day_loss_override);
    let a = audits(&h.market_order(0, Side::Buy, "0.5"))[0];
    assert_eq!(a.verdict, Verdict::Approved);
    // Another 3% from the override point halts again.
    let o = new_orders(&h.outs[h.outs.len() - 2..])[0];
    h.fill(&o, "9700.2", "0");
    books(&mut h, "9409.0", "9409.2");
    assert_eq!(h.core.state(), SystemState::Halted);
}

#[test]
fn a_drawdown_halt_lifts_only_when_recovered_or_overridden() {
    let mut cfg = risk_config();
    cfg.risk.max_daily_loss = Rate::parse("0.5").unwrap();
    let mut h = Harness::new(&cfg);
    long_one(&mut h);
    // Each move is beyond the 10% plausibility band: a second ticker
    // confirms it.
    for _ in 0..2 {
        books(&mut h, "11000.1", "11000.3");
    }
    for _ in 0..2 {
        books(&mut h, "9900.0", "9900.2"); // 10.0008% below 11000.1
    }
    assert_eq!(h.core.state(), SystemState::Halted);
    let (o, _) = outcome(&mut h, cmd(OperatorAction::Reset, 0));
    assert_eq!(o.result.refusal, Some(Refusal::HaltedByDrawdown));
    assert_eq!(h.core.state(), SystemState::Halted);
    // Equity recovers under the limit: a plain reset lifts it.
    books(&mut h, "10000.0", "10000.2");
    let (o, _) = outcome(&mut h, cmd(OperatorAction::Reset, 0));
    assert_eq!(o.refused, 0);
    assert_eq!(h.core.state(), SystemState::Running);
    assert_eq!(
        h.core.account().high_water(),
        Money::parse("11000.1").unwrap()
    );
    books(&mut h, "9900.0", "9900.2");
    assert_eq!(h.core.state(), SystemState::Halted);
    let (o, _) = outcome(&mut h, cmd(OperatorAction::Reset, RESET_OVERRIDE_DRAWDOWN));
    assert_eq!(o.refused, 0);
    assert_eq!(h.core.state(), SystemState::Running);
    assert!(h.core.account_view().drawdown_override);
    assert!(h.core.account().drawdown() > Rate::parse("0.1").unwrap());
}

// Item 6: the same ETH short got 15 MinNotional vetoes in 40 ms: a tick
// without a proposal cleared the "already refused" flag.
#[test]
fn a_vetoed_entry_is_not_repeated_while_ticks_bring_no_proposal() {
    let mut cfg = config(scalper());
    cfg.risk.max_order_notional = Money::parse("1").unwrap();
    let mut s = Scene::with(&cfg);
    let mut vetoes = 0;
    for _ in 0..5 {
        vetoes += audits(&bid_pressure(&mut s, 60_000.0))
            .iter()
            .filter(|a| a.verdict == Verdict::Vetoed)
            .count();
        // A balanced book: no proposal this tick.
        s.quote(60_000.0, "1", "1");
    }
    assert_eq!(vetoes, 1, "one veto for one unchanged proposal");
    assert_eq!(s.h.core.stats().signals_repeated, 4);
}

// Item 11: the loss cool-down could not be switched off.
#[test]
fn the_losing_streak_breaker_can_be_switched_off() {
    for (losses, cooldown) in [(0, 300), (2, 0)] {
        let mut cfg = risk_config();
        cfg.risk.max_consecutive_losses = losses;
        cfg.risk.breakers.loss_cooldown_secs = cooldown;
        let mut h = Harness::new(&cfg);
        books(&mut h, "9999.9", "10000.1");
        for _ in 0..10 {
            let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
            h.fill(&o, "10000.1", "0.4");
            let o = new_orders(&h.market_order(0, Side::Sell, "0.1"))[0];
            h.fill(&o, "9999.9", "0.4");
        }
        assert_eq!(
            h.core.state(),
            SystemState::Running,
            "{losses} / {cooldown}"
        );
        let a = audits(&h.market_order(0, Side::Buy, "0.1"))[0];
        assert_eq!(a.verdict, Verdict::Approved);
    }
}

fn ticker(u: u64, bid: &str, ask: &str) -> InputBody {
    InputBody::BookTicker(autobot_engine::event::BookTicker {
        update_id: u,
        bid_price: Price::parse(bid).unwrap(),
        bid_qty: Qty::ONE,
        ask_price: Price::parse(ask).unwrap(),
        ask_qty: Qty::ONE,
    })
}

// Item 7: a book ticker with "E":9999999999999999999 was accepted; core
// time became u64::MAX, the day rolled and the daily-loss halt lifted.
#[test]
fn a_ticker_from_the_far_future_moves_no_time_and_lifts_no_halt() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = Money::parse("20000").unwrap();
    let mut h = Harness::new(&cfg);
    long_one(&mut h);
    books(&mut h, "9700.0", "9700.2");
    assert_eq!(h.core.state(), SystemState::Halted);
    let before = h.core.now();
    // Binance's E in ms × 10⁶, saturated as the gateway used to.
    let far = u64::MAX;
    let outs = h.feed(
        Source::MarketData,
        0,
        far,
        ticker(10_000, "9700.0", "9700.2"),
    );
    assert_eq!(h.core.now(), before);
    assert_eq!(h.core.state(), SystemState::Halted);
    assert_eq!(
        h.core.stats().implausible[0],
        1,
        "counted as implausible time"
    );
    assert!(outs.iter().any(|o| matches!(o.body,
        OutputBody::Alert(a) if a.code == autobot_engine::event::AlertCode::ImplausibleInput)));
    // The next valid ticker applies; time moves on from where it was.
    h.book(0, "9700.1", "9700.3", "10");
    assert_eq!(
        h.core.book(SymbolId(0)).unwrap().bid_price,
        Price::parse("9700.1").unwrap()
    );
}

// Item 8: a book ticker with "u":9999999999999999999 was accepted, and every
// later ticker was refused as out of order (1,901 in the test).
#[test]
fn a_ticker_with_an_absurd_update_id_does_not_freeze_the_book() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    let now = h.now + 1_000_000;
    h.feed(
        Source::MarketData,
        0,
        now,
        ticker(9_999_999_999_999_999_999, "9999.8", "10000.0"),
    );
    assert_eq!(
        h.core.stats().implausible[1],
        1,
        "counted as implausible id"
    );
    for i in 0..20 {
        let bid = format!("{}.9", 9990 + i);
        let ask = format!("{}.1", 9991 + i);
        h.book(0, &bid, &ask, "10");
        let b = h.core.book(SymbolId(0)).unwrap();
        assert_eq!(b.bid_price, Price::parse(&bid).unwrap(), "ticker {i}");
    }
    assert_eq!(h.core.stats().out_of_order, 0);
}
