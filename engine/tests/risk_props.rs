//! Property tests over random event sequences — prices, fills, funding,
//! operator commands, feed gaps — checking the safety invariants of SPEC 5
//! and 6 after every event:
//!
//! - while the kill switch is on, the system is HALTED or SAFE_MODE, or the
//!   mode is Emergency, every order that leaves is reduce-only and brings
//!   the exposure toward zero (reducing risk is always possible, adding it
//!   is not); nothing leaves once STOPPED;
//! - an order that adds exposure keeps |position + live orders| within the
//!   mode-scaled limit, so the position never exceeds the rulebook's;
//! - realized PnL − fees + funding equals the change in balance, exactly.

use autobot_engine::event::{
    ControlMode, OperatorAction, OperatorCommand, OutputBody, SystemState,
};
use autobot_engine::types::{Qty, Side, SymbolId};
use proptest::prelude::*;

mod common;
use common::{Harness, SEC, risk_config};

#[derive(Clone, Debug)]
enum Step {
    /// Move BTCUSDT's mid by this many ticks (spread one tick).
    Move(i32),
    /// An operator market order: buy?, quantity in steps.
    Order(bool, u16),
    /// Fill the oldest unanswered order at the current touch, fee in 1e-8.
    Fill(u32),
    /// A mark-price event; the funding time passes when `true`.
    Mark(bool, i16),
    /// An operator command.
    Command(u8, u8),
    /// Event time jumps this many seconds (a feed gap when > 30).
    Gap(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (-40i32..40).prop_map(Step::Move),
        3 => (any::<bool>(), 1u16..600).prop_map(|(b, n)| Step::Order(b, n)),
        3 => (0u32..1_000_000).prop_map(Step::Fill),
        1 => (any::<bool>(), -20i16..20).prop_map(|(p, r)| Step::Mark(p, r)),
        1 => (0u8..6, 0u8..4).prop_map(|(c, a)| Step::Command(c, a)),
        1 => (0u8..45).prop_map(Step::Gap),
    ]
}

struct World {
    h: Harness,
    mid_ticks: i64,
    unanswered: Vec<autobot_engine::event::NewOrder>,
    next_funding: u64,
    kill: bool,
    state: SystemState,
    mode: ControlMode,
}

impl World {
    fn px(&self, ticks: i64) -> String {
        format!("{}.{}", ticks / 10, ticks % 10)
    }

    fn books(&mut self) {
        let (b, a) = (self.px(self.mid_ticks), self.px(self.mid_ticks + 1));
        self.h.book(0, &b, &a, "5");
        self.h.book(1, "2499.99", "2500.01", "100");
    }

    fn apply(&mut self, s: &Step) {
        let before = self.h.outs.len();
        match *s {
            Step::Move(d) => {
                self.mid_ticks = (self.mid_ticks + i64::from(d)).clamp(80_000, 120_000);
                self.books();
            }
            Step::Order(buy, n) => {
                let side = if buy { Side::Buy } else { Side::Sell };
                let qty = Qty::from_raw(i64::from(n) * 100_000).to_string();
                self.h.market_order(0, side, &qty);
            }
            Step::Fill(fee) => {
                if !self.unanswered.is_empty() {
                    let o = self.unanswered.remove(0);
                    let ticks = match o.side {
                        Side::Buy => self.mid_ticks + 1,
                        Side::Sell => self.mid_ticks,
                    };
                    let price = self.px(ticks);
                    let fee = Qty::from_raw(i64::from(fee)).to_string();
                    self.h.fill(&o, &price, &fee);
                }
            }
            Step::Mark(pass, rate) => {
                if pass {
                    self.h.now = self.h.now.max(self.next_funding) + 1;
                    self.next_funding = self.h.now + 8 * 3600 * SEC;
                }
                let mark = self.px(self.mid_ticks);
                let rate = format!("{:.5}", f64::from(rate) / 100_000.0);
                let next = self.next_funding;
                self.h.mark(0, &mark, &rate, next);
            }
            Step::Command(c, arg) => {
                let action = [
                    OperatorAction::Kill,
                    OperatorAction::Reset,
                    OperatorAction::SetMode,
                    OperatorAction::SetMode,
                    OperatorAction::Flatten,
                    OperatorAction::Reset,
                ][usize::from(c)];
                self.h.op(0, OperatorCommand::new(action, u64::from(arg)));
            }
            Step::Gap(secs) => {
                self.h.wait(u64::from(secs) * SEC);
                self.h.timer();
            }
        }
        self.check(before);
    }

    /// Walks the event's outputs in order, tracking kill switch, state and
    /// mode as the outputs change them, and checks every order against them.
    fn check(&mut self, from: usize) {
        let sym = SymbolId(0);
        // The largest position the limit allows anywhere the mid goes.
        let limit = self.h.core.limits().max_position_notional.raw() / 8_000;
        for i in from..self.h.outs.len() {
            match self.h.outs[i].body {
                OutputBody::StateChange(c) => self.state = c.to,
                OutputBody::ModeChange(c) => self.mode = c.to,
                OutputBody::NewOrder(o) => {
                    assert_ne!(self.state, SystemState::Stopped, "order sent while stopped");
                    // Exposure with this order live (nothing fills within
                    // the event that sends it here).
                    let held = i128::from(self.h.core.position(sym).unwrap().qty().raw());
                    let live: i128 = self
                        .h
                        .core
                        .open_order_list()
                        .iter()
                        .map(|x| i128::from(x.signed_remaining()))
                        .sum();
                    let exposure = held + live;
                    let closed = self.kill
                        || matches!(self.state, SystemState::Halted | SystemState::SafeMode)
                        || self.mode == ControlMode::Emergency;
                    if closed {
                        let before = exposure - i128::from(o.qty.raw()) * i128::from(o.side.sign());
                        assert!(
                            o.reduce_only
                                && exposure.abs() < before.abs()
                                && exposure.signum() * before.signum() >= 0,
                            "kill {} / {:?} / {:?} sent {o:?} (exposure {before} -> {exposure})",
                            self.kill,
                            self.mode,
                            self.state
                        );
                    }
                    let adds = !o.reduce_only && exposure.signum() == i128::from(o.side.sign());
                    if adds {
                        // The chain judged it at the taking price, at least the bid.
                        let cap = i128::from(self.h.core.limits().scaled_position(self.mode).raw())
                            * i128::from(autobot_engine::types::SCALE);
                        let bid = i128::from(self.mid_ticks) * 10_000_000;
                        assert!(
                            exposure.abs() * bid <= cap,
                            "{:?}: exposure {exposure} above the scaled limit {cap} after {o:?}",
                            self.mode
                        );
                    }
                    self.unanswered.push(o);
                }
                _ => {}
            }
        }
        // The kill switch is core state, not an output: read it after.
        self.kill = self.h.core.kill_switch();
        let held = i128::from(self.h.core.position(sym).unwrap().qty().raw());
        assert!(
            held.abs() <= i128::from(limit),
            "position {held} above {limit}"
        );
        let a = self.h.core.account();
        assert_eq!(
            i128::from(a.balance().raw()) - i128::from(a.start().raw()),
            i128::from(a.realized().raw()) - i128::from(a.fees().raw())
                + i128::from(a.funding().raw()),
            "the ledger must explain the balance"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn safety_invariants_hold_over_random_sequences(steps in prop::collection::vec(step(), 1..150)) {
        let mut cfg = risk_config();
        cfg.risk.max_position_notional = autobot_engine::types::Money::parse("5000").unwrap();
        let mut w = World {
            h: Harness::new(&cfg),
            mid_ticks: 100_000,
            unanswered: Vec::new(),
            next_funding: common::T0 + 3600 * SEC,
            kill: false,
            state: SystemState::Running,
            mode: ControlMode::FullAuto,
        };
        w.books();
        for s in &steps {
            w.apply(s);
        }
        // Every intent left exactly one audit record before any order.
        let audits = common::audits(&w.h.outs).len();
        let orders = common::new_orders(&w.h.outs).len();
        prop_assert!(audits >= orders);
    }
}

/// The system state a case drives the core into before its order.
#[derive(Clone, Copy, Debug)]
enum Setup {
    Running,
    /// One refused order in a window of one.
    Degraded,
    /// A losing-streak cool-down (one losing ETHUSDT round trip).
    SafeMode,
    /// The exchange refused our credentials.
    Halted,
}

fn setup() -> impl Strategy<Value = Setup> {
    prop_oneof![
        Just(Setup::Running),
        Just(Setup::Degraded),
        Just(Setup::SafeMode),
        Just(Setup::Halted),
    ]
}

fn start_mode() -> impl Strategy<Value = autobot_engine::config::StartMode> {
    use autobot_engine::config::StartMode;
    prop_oneof![
        Just(StartMode::Manual),
        Just(StartMode::SemiAuto),
        Just(StartMode::FullAuto)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Over (control mode, system state, kill switch, position, order side
    /// and size, reduce-only flag): exposure never grows where the
    /// allowed-orders table forbids adding, and an order that only reduces
    /// is never refused by levels 1–2.
    #[test]
    fn reducing_is_always_possible_and_adding_only_where_allowed(
        mode in start_mode(),
        emergency in any::<bool>(),
        state in setup(),
        kill in any::<bool>(),
        held in -300i64..300,
        buy in any::<bool>(),
        steps in 1i64..600,
        reduce_only in any::<bool>(),
    ) {
        use autobot_engine::core::{Effect, Gate, gate};
        use autobot_engine::event::{
            InputBody, OperatorCommand, OrderKind, OrderRejected, RejectReason, Request, Source,
            Verdict,
        };
        let mut cfg = risk_config();
        cfg.control.mode = mode;
        cfg.risk.max_position_notional = autobot_engine::types::Money::parse("10000").unwrap();
        cfg.risk.max_consecutive_losses = 1;
        cfg.risk.breakers.loss_cooldown_secs = 3600;
        cfg.risk.breakers.error_window = 1;
        cfg.risk.breakers.max_errors = 1;
        let mut h = Harness::new(&cfg);
        h.book(0, "9999.9", "10000.1", "50");
        h.book(1, "2499.99", "2500.01", "100");
        let step = |n: i64| Qty::from_raw(n.abs() * 100_000).to_string();
        // The position, opened by the operator (Manual accepts operator orders).
        if held != 0 {
            let side = if held > 0 { Side::Buy } else { Side::Sell };
            let o = common::new_orders(&h.market_order(0, side, &step(held)))[0];
            let px = if held > 0 { "10000.1" } else { "9999.9" };
            h.fill(&o, px, "0");
        }
        let reject = |h: &mut Harness, reason| {
            let probe = OperatorCommand {
                action: OperatorAction::Order,
                side: Side::Buy,
                kind: OrderKind::Limit,
                qty: Qty::parse("0.01").unwrap(),
                price: autobot_engine::types::Price::parse("2450.00").unwrap(),
                ..OperatorCommand::default()
            };
            let o = common::new_orders(&h.op(1, probe))[0];
            let body = InputBody::OrderRejected(OrderRejected {
                client_id: o.client_id,
                request: Request::New,
                code: -1,
                reason,
            });
            h.feed(Source::Execution, 1, 0, body);
        };
        match state {
            Setup::Running => {}
            Setup::Degraded => reject(&mut h, RejectReason::Filter),
            Setup::SafeMode => {
                let o = common::new_orders(&h.market_order(1, Side::Buy, "0.1"))[0];
                h.fill(&o, "2500.01", "0");
                let o = common::new_orders(&h.market_order(1, Side::Sell, "0.1"))[0];
                h.fill(&o, "2499.99", "0");
            }
            Setup::Halted => reject(&mut h, RejectReason::Auth),
        }
        if emergency {
            h.op(0, OperatorCommand::new(OperatorAction::SetMode, ControlMode::Emergency as u64));
        }
        if kill {
            h.op(0, OperatorCommand::new(OperatorAction::Kill, 0));
        }
        let sym = SymbolId(0);
        let exposure = |h: &Harness| -> i128 {
            let held = i128::from(h.core.position(sym).unwrap().qty().raw());
            held + h
                .core
                .open_order_list()
                .iter()
                .filter(|o| o.symbol == sym)
                .map(|o| i128::from(o.signed_remaining()))
                .sum::<i128>()
        };
        let before = exposure(&h);
        let side = if buy { Side::Buy } else { Side::Sell };
        let reduces = before != 0 && before.signum() == -i128::from(side.sign());
        let effect = if reduces { Effect::Reduces } else { Effect::AddsRisk };
        let adds_allowed = gate(h.core.state(), h.core.mode(), h.core.kill_switch(), Effect::AddsRisk)
            .passes();
        let expected = gate(h.core.state(), h.core.mode(), h.core.kill_switch(), effect);
        let outs = h.op(0, OperatorCommand {
            action: OperatorAction::Order,
            side,
            kind: OrderKind::Market,
            flags: if reduce_only { OperatorCommand::REDUCE_ONLY } else { 0 },
            qty: Qty::from_raw(steps * 100_000),
            ..OperatorCommand::default()
        });
        let audit = common::audits(&outs)[0];
        let after = exposure(&h);
        if reduces {
            prop_assert!(
                audit.verdict != Verdict::Vetoed || audit.rule.level() > 2,
                "{:?} / {:?} / kill {}: a reducing order vetoed at level 1–2: {audit:?}",
                h.core.state(), h.core.mode(), h.core.kill_switch()
            );
        }
        if !adds_allowed {
            prop_assert!(after.abs() <= before.abs() && after.signum() * before.signum() >= 0,
                "exposure grew {before} -> {after} where adding is refused: {audit:?}");
            if let Some(o) = common::new_orders(&outs).first() {
                prop_assert!(o.reduce_only, "{o:?}");
            }
            if !reduces {
                prop_assert_eq!(audit.verdict, Verdict::Vetoed);
                prop_assert_eq!(Gate::Veto(audit.rule), expected);
            }
        }
    }
}
