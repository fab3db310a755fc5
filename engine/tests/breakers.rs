//! Circuit breakers and the liquidation watch, each driven by events: a
//! losing streak, a market-data gap, a daily loss, a drawdown, an auth
//! failure, an order error rate, and a position sliding toward liquidation.

use autobot_engine::event::{
    AlertCode, ChangeCause, ControlMode, InputBody, OperatorAction, OperatorCommand, OrderKind,
    OrderRejected, OutputBody, OutputEvent, RejectReason, Request, Rule, Source, StateChange,
    SystemState, Verdict,
};
use autobot_engine::types::{Money, Price, Rate, Side, SymbolId};

mod common;
use common::{Harness, SEC, T0, audits, books, new_orders, q, risk_config};

/// Lets `secs` of event time pass with fresh books every 10 s.
fn pass(h: &mut Harness, secs: u64, bid: &str, ask: &str) {
    for _ in 0..secs / 10 {
        h.wait(10 * SEC);
        books(h, bid, ask);
    }
}

fn state_changes(outs: &[OutputEvent]) -> Vec<StateChange> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::StateChange(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn round_trip(h: &mut Harness, buy_at: &str, sell_at: &str) {
    let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
    h.fill(&o, buy_at, "0.4");
    let o = new_orders(&h.market_order(0, Side::Sell, "0.1"))[0];
    h.fill(&o, sell_at, "0.4");
}

#[test]
fn a_losing_streak_trips_safe_mode_until_the_cool_down_ends() {
    let mut h = Harness::new(&risk_config()); // 5 losses, 300 s cool-down
    books(&mut h, "9999.9", "10000.1");
    for _ in 0..4 {
        round_trip(&mut h, "10000.1", "9999.9");
    }
    assert_eq!(
        h.core.state(),
        SystemState::Running,
        "4 losses: still running"
    );
    // A win resets the streak.
    round_trip(&mut h, "10000.1", "10010.0");
    for _ in 0..4 {
        round_trip(&mut h, "10000.1", "9999.9");
    }
    assert_eq!(h.core.state(), SystemState::Running);
    let before = h.outs.len();
    round_trip(&mut h, "10000.1", "9999.9");
    assert_eq!(h.core.state(), SystemState::SafeMode);
    let changes = state_changes(&h.outs[before..]);
    assert_eq!(changes[0].cause, ChangeCause::ConsecutiveLosses);
    // No new risk in SAFE_MODE.
    let a = audits(&h.market_order(0, Side::Buy, "0.1"))[0];
    assert_eq!((a.verdict, a.rule), (Verdict::Vetoed, Rule::ReduceOnlyMode));
    pass(&mut h, 290, "9999.9", "10000.1");
    assert_eq!(h.core.state(), SystemState::SafeMode);
    pass(&mut h, 10, "9999.9", "10000.1");
    assert_eq!(h.core.state(), SystemState::Running);
    assert_eq!(
        state_changes(&h.outs).last().unwrap().cause,
        ChangeCause::Recovered
    );
}

#[test]
fn a_31_second_market_data_gap_trips_safe_mode_and_data_resumes_trading() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    h.wait(31 * SEC);
    let outs = h.timer();
    assert_eq!(h.core.state(), SystemState::SafeMode);
    assert_eq!(state_changes(&outs)[0].cause, ChangeCause::StaleFeed);
    assert_eq!(h.core.conditions().stale_feeds, 2);
    books(&mut h, "9999.9", "10000.1");
    assert_eq!(h.core.state(), SystemState::Running);
    assert!(!new_orders(&h.market_order(0, Side::Buy, "0.1")).is_empty());
}

#[test]
fn the_status_board_names_which_symbol_feed_is_stale() {
    use autobot_engine::event::FeedHealth;
    use autobot_engine::runtime::{CommandOutcome, StatusBoard};
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    let board = StatusBoard::new(2);
    board.publish(&h.core, &CommandOutcome::default());
    let live = board.snapshot();
    assert!(
        live.symbols
            .iter()
            .all(|s| !s.feed.stale && s.feed.last_data_ns > 0)
    );
    h.wait(31 * SEC);
    h.timer();
    // Only BTCUSDT's data comes back: ETHUSDT stays stale, and SAFE_MODE.
    h.book(0, "9999.9", "10000.1", "10");
    board.publish(&h.core, &CommandOutcome::default());
    let s = board.snapshot();
    assert_eq!(s.stale_feeds, 1);
    assert_eq!(h.core.state(), SystemState::SafeMode);
    let (btc, eth) = (s.symbols[0].feed, s.symbols[1].feed);
    assert!(!btc.stale && eth.stale, "{btc:?} {eth:?}");
    assert_eq!(btc.health, FeedHealth::Healthy);
    assert!(s.now_ns - eth.last_data_ns > 30 * SEC);
    assert_eq!(btc.last_data_ns, s.now_ns);
    let json = serde_json::to_value(&s.symbols[1]).unwrap();
    assert_eq!(json["feed"]["stale"], true, "{json}");
    assert_eq!(json["feed"]["health"], "Healthy", "{json}");
}

/// Holds 1 BTC bought at 10000.1 with a resting limit order beside it.
fn long_with_resting_order(h: &mut Harness) -> autobot_engine::event::NewOrder {
    books(h, "9999.9", "10000.1");
    let o = new_orders(&h.market_order(0, Side::Buy, "1"))[0];
    h.fill(&o, "10000.1", "0");
    let resting = OperatorCommand {
        action: OperatorAction::Order,
        side: Side::Buy,
        kind: OrderKind::Limit,
        qty: q("0.01"),
        price: Price::parse("9990.0").unwrap(),
        ..OperatorCommand::default()
    };
    new_orders(&h.op(0, resting))[0]
}

#[test]
fn a_daily_loss_halts_cancels_open_orders_and_lifts_the_next_utc_day() {
    let mut cfg = risk_config();
    cfg.risk.max_position_notional = Money::parse("20000").unwrap();
    let mut h = Harness::new(&cfg); // 3% of 10000 = 300
    let resting = long_with_resting_order(&mut h);
    // Mid 9700.2: unrealized −299.9 → 2.999% (under).
    books(&mut h, "9700.1", "9700.3");
    assert_eq!(h.core.state(), SystemState::Running);
    // Mid 9700.1: unrealized exactly −300 → 3% (at): halt.
    let before = h.outs.len();
    books(&mut h, "9700.0", "9700.2");
    assert_eq!(h.core.state(), SystemState::Halted);
    let outs = &h.outs[before..];
    assert_eq!(state_changes(outs)[0].cause, ChangeCause::DailyLoss);
    let cancels: Vec<_> = outs
        .iter()
        .filter_map(|o| match o.body {
            OutputBody::Cancel(c) => Some(c.client_id),
            _ => None,
        })
        .collect();
    assert_eq!(cancels, vec![resting.client_id]);
    let a = audits(&h.market_order(0, Side::Buy, "0.1"))[0];
    assert_eq!((a.verdict, a.rule), (Verdict::Vetoed, Rule::SystemState));
    // Reducing stays possible while halted: it goes reduce-only.
    let outs = h.market_order(0, Side::Sell, "0.1");
    assert_eq!(audits(&outs)[0].verdict, Verdict::Approved);
    assert!(new_orders(&outs)[0].reduce_only);
    // The next UTC day lifts it (T0 is midnight).
    h.jump_to(T0 + 86_400 * SEC);
    books(&mut h, "9700.0", "9700.2");
    assert_eq!(h.core.state(), SystemState::Running);
    assert!(
        state_changes(&h.outs)
            .iter()
            .any(|c| c.cause == ChangeCause::NewDay)
    );
}

#[test]
fn a_drawdown_halts_into_emergency_and_only_a_flat_cleared_core_returns_to_manual() {
    let mut cfg = risk_config();
    cfg.risk.max_daily_loss = Rate::parse("0.5").unwrap();
    let mut h = Harness::new(&cfg); // 10% drawdown
    books(&mut h, "9999.9", "10000.1");
    let o = new_orders(&h.market_order(0, Side::Buy, "1"))[0];
    h.fill(&o, "10000.1", "0");
    // Up 1000 (high water 11000 minus 0.1), then down to a 10% drawdown;
    // each move is beyond the 10% plausibility band, so it takes a second
    // ticker to confirm it.
    books(&mut h, "11000.1", "11000.3");
    books(&mut h, "11000.1", "11000.3");
    assert_eq!(
        h.core.account().high_water(),
        Money::parse("11000.1").unwrap()
    );
    books(&mut h, "9900.0", "9900.2"); // equity 9900.0: (11000.1 − 9900) / 11000.1 = 10.0008%
    books(&mut h, "9900.0", "9900.2");
    assert_eq!(h.core.state(), SystemState::Halted);
    assert_eq!(h.core.mode(), ControlMode::Emergency);
    let manual = OperatorCommand::new(OperatorAction::SetMode, ControlMode::Manual as u64);
    let refused = |outs: &[OutputEvent]| {
        outs.iter()
            .find_map(|o| match o.body {
                OutputBody::Alert(a) if a.code == AlertCode::ModeRefused => Some(a.value & 0xff),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(refused(&h.op(0, manual)), 3, "not trading while halted");
    // A reset does not forgive the drawdown: still at the limit, still halted.
    h.op(0, OperatorCommand::new(OperatorAction::Reset, 0));
    assert_eq!(h.core.state(), SystemState::Halted);
    // Flattening is possible while halted.
    let outs = h.op(0, OperatorCommand::new(OperatorAction::Flatten, 0));
    let close = new_orders(&outs)[0];
    assert_eq!(
        (close.side, close.qty, close.reduce_only),
        (Side::Sell, q("1"), true)
    );
    h.fill(&close, "9900.0", "0");
    // The operator lifts it explicitly; the high-water mark stays.
    h.op(
        0,
        OperatorCommand::new(
            OperatorAction::Reset,
            autobot_engine::core::RESET_OVERRIDE_DRAWDOWN,
        ),
    );
    assert_eq!(h.core.state(), SystemState::Running);
    assert_eq!(
        h.core.account().high_water(),
        Money::parse("11000.1").unwrap()
    );
    h.op(0, manual);
    assert_eq!(h.core.mode(), ControlMode::Manual);
}

fn reject(h: &mut Harness, o: &autobot_engine::event::NewOrder, reason: RejectReason, code: i32) {
    let body = InputBody::OrderRejected(OrderRejected {
        client_id: o.client_id,
        request: Request::New,
        code,
        reason,
    });
    h.feed(Source::Execution, 0, 0, body);
}

#[test]
fn an_auth_failure_halts_into_emergency() {
    let mut h = Harness::new(&risk_config());
    books(&mut h, "9999.9", "10000.1");
    let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
    reject(&mut h, &o, RejectReason::Auth, -2015);
    assert_eq!(h.core.state(), SystemState::Halted);
    assert_eq!(h.core.mode(), ControlMode::Emergency);
    assert_eq!(
        state_changes(&h.outs).last().unwrap().cause,
        ChangeCause::AuthFailure
    );
}

#[test]
fn an_order_error_rate_degrades_and_halves_sizes_until_orders_succeed() {
    let mut cfg = risk_config();
    cfg.risk.breakers.error_window = 5;
    cfg.risk.breakers.max_errors = 3;
    let mut h = Harness::new(&cfg);
    books(&mut h, "9999.9", "10000.1");
    for i in 0..3 {
        assert_eq!(h.core.state(), SystemState::Running, "{i} errors");
        let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
        reject(&mut h, &o, RejectReason::Filter, -4164);
    }
    assert_eq!(h.core.state(), SystemState::Degraded);
    // DEGRADED: sizes halved.
    let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
    assert_eq!(o.qty, q("0.05"));
    h.fill(&o, "10000.1", "0");
    // Two more good results push two errors out of the window of five.
    for _ in 0..2 {
        let o = new_orders(&h.market_order(0, Side::Buy, "0.1"))[0];
        h.fill(&o, "10000.1", "0");
    }
    assert_eq!(h.core.state(), SystemState::Running);
}

/// The position's liquidation price, from the core's view.
fn liquidation(h: &Harness) -> Price {
    h.core.view().symbols[0].liquidation_price.unwrap()
}

/// Moves mark and book to where the distance to liquidation is `d`.
fn slide(h: &mut Harness, d: f64) -> Vec<OutputEvent> {
    let lp = liquidation(h).to_f64();
    let mark = (lp / (1.0 - d) * 10.0).round() / 10.0;
    let p = |x: f64| format!("{x:.1}");
    // Twice: a move beyond the plausibility band needs confirming.
    for _ in 0..2 {
        h.book(0, &p(mark - 0.1), &p(mark + 0.1), "10");
        h.book(1, "2499.99", "2500.01", "100");
    }
    h.mark(0, &p(mark), "0", 0)
}

#[test]
fn the_liquidation_watch_alerts_halves_then_closes() {
    let mut cfg = risk_config();
    cfg.risk.max_daily_loss = Rate::parse("0.99").unwrap();
    cfg.risk.max_drawdown = Rate::parse("0.99").unwrap();
    cfg.risk.portfolio.min_liquidation_distance = Rate::ZERO;
    cfg.account.starting_balance = Money::parse("1000").unwrap();
    let mut h = Harness::new(&cfg);
    books(&mut h, "9999.9", "10000.1");
    let o = new_orders(&h.market_order(0, Side::Buy, "0.29"))[0];
    h.fill(&o, "10000.1", "0");
    let near = |outs: &[OutputEvent]| {
        outs.iter()
            .any(|o| matches!(o.body, OutputBody::Alert(a) if a.code == AlertCode::LiquidationNear))
    };
    assert!(!near(&slide(&mut h, 0.12)), "12%: quiet");
    let outs = slide(&mut h, 0.09);
    assert!(
        near(&outs) && new_orders(&outs).is_empty(),
        "9%: alert only"
    );
    assert!(!near(&slide(&mut h, 0.08)), "once per descent");
    let outs = slide(&mut h, 0.04);
    let half = new_orders(&outs);
    assert_eq!(half.len(), 1, "4%: reduce by half {outs:#?}");
    assert_eq!(
        (half[0].side, half[0].qty, half[0].reduce_only),
        (Side::Sell, q("0.145"), true)
    );
    let mark = h.core.mark(SymbolId(0)).unwrap().to_string();
    h.fill(&half[0], &mark, "0");
    assert_eq!(h.core.position(SymbolId(0)).unwrap().qty(), q("0.145"));
    let outs = slide(&mut h, 0.02);
    let close = new_orders(&outs);
    assert_eq!(close.len(), 1, "2%: close {outs:#?}");
    assert_eq!(close[0].qty, q("0.145"));
    let mark = h.core.mark(SymbolId(0)).unwrap().to_string();
    h.fill(&close[0], &mark, "0");
    assert!(h.core.position(SymbolId(0)).unwrap().qty().is_zero());
    // The strategy is not told to buy it back.
    assert!(new_orders(&h.book(0, "7000.0", "7000.2", "10")).is_empty());
}
