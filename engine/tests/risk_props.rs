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
        let limit = self.h.core.limits().max_position.raw();
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
                        let cap = self.h.core.limits().scaled_position(self.mode).raw();
                        assert!(
                            exposure.abs() <= i128::from(cap),
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
        cfg.risk.max_position = Qty::parse("0.5").unwrap();
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
