//! Property test of the advisor's bounds (docs/ml.md): whatever the
//! predictions say — any score, about the newest bar or not, arriving at
//! any time — through the whole core,
//!
//! - a prediction sends nothing by itself: its input emits no order, no
//!   cancel, no signal;
//! - an advised entry is never larger than the size the strategy and its
//!   sizing asked for (the `Advice` record's), and a refused entry leaves
//!   no signal toward it;
//! - an exit is never blocked: from any state holding a position, when
//!   the strategy alone (a prediction without a lean, P(up) ½) would leave
//!   it in the next second of market (its target flat or the other side:
//!   an exit, a stop, a turn), it leaves it too after a prediction of
//!   either extreme (P(up) 0 or 1).

use autobot_engine::config::CoreConfig;
use autobot_engine::core::Core;
use autobot_engine::event::{
    FeatureParts, InputBody, InputEvent, NewOrder, OrderKind, OutputBody, OutputEvent, PPM,
    Prediction, Source, Stance, Trade,
};
use autobot_engine::regime::Regime;
use autobot_engine::strategy::{AdvisorMode, AdvisorUse, InstanceConfig, StrategyKind};
use autobot_engine::types::{MonoNanos, Price, Qty, Rate, Seq, SymbolId, UnixNanos};
use proptest::prelude::*;

mod common;
use common::SEC;
use common::scene::config;

#[derive(Clone, Debug)]
enum Step {
    /// A second of market: the price moves this many dollars.
    Move(i8),
    /// A prediction about the newest features (`true`) or an older input.
    Predict(u32, bool),
    /// The orders sent so far fill at the mid.
    Fill,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (-12i8..12).prop_map(Step::Move),
        3 => (0u32..=PPM, any::<bool>()).prop_map(|(s, newest)| Step::Predict(s, newest)),
        2 => Just(Step::Fill),
    ]
}

fn cfg(mode: AdvisorMode, weight: u8, kind: StrategyKind) -> CoreConfig {
    let regimes = [Regime::Range, Regime::Bull, Regime::Bear];
    let mut inst = InstanceConfig::new(kind, &regimes);
    if kind == StrategyKind::Trend {
        inst.fast = Some(3);
        inst.slow = Some(6);
        inst.atr = Some(3);
    }
    inst.advisor = Some(AdvisorUse {
        mode,
        model: "m".into(),
        weight: Some(Rate::from_raw(i64::from(weight) * 50_000_000)),
        min_prob: None,
        max_age_secs: Some(3),
        max_inputs: None,
    });
    let mut c = config(inst);
    c.models = vec!["m".into()];
    c
}

struct World {
    core: Core,
    seq: u64,
    now: u64,
    price: f64,
    unfilled: Vec<NewOrder>,
    parts: FeatureParts,
    newest: Option<Seq>,
}

fn event(seq: u64, sym: u16, now: u64, source: Source, body: InputBody) -> InputEvent {
    let mut ev = InputEvent::new(source, SymbolId(sym), MonoNanos(0), UnixNanos(now), body);
    ev.header.seq = Seq(seq);
    ev
}

/// A second of market at `price`: a trade (closing the last bar), a
/// BTCUSDT quote and an ETHUSDT quote, numbered from `seq`.
fn second(seq: u64, now: u64, price: f64) -> [InputEvent; 3] {
    let p = |x: f64| Price::parse(&format!("{x:.1}")).unwrap();
    let trade = InputBody::AggTrade(Trade {
        trade_id: seq,
        price: p(price),
        qty: Qty::parse("0.1").unwrap(),
        buyer_is_maker: false,
    });
    let quote = InputBody::BookTicker(autobot_engine::event::BookTicker {
        update_id: seq,
        bid_price: p(price - 0.1),
        bid_qty: Qty::parse("1").unwrap(),
        ask_price: p(price + 0.1),
        ask_qty: Qty::parse("1").unwrap(),
    });
    let eth = InputBody::BookTicker(autobot_engine::event::BookTicker {
        update_id: seq,
        bid_price: p(2499.9),
        bid_qty: Qty::parse("100").unwrap(),
        ask_price: p(2500.1),
        ask_qty: Qty::parse("100").unwrap(),
    });
    [
        event(seq, 0, now, Source::MarketData, trade),
        event(seq + 1, 0, now + 1_000_000, Source::MarketData, quote),
        event(seq + 2, 1, now + 2_000_000, Source::MarketData, eth),
    ]
}

/// Whether `core`'s target leaves a position of sign `held`: flat, or
/// the other side.
fn leaving(core: &Core, held: i64) -> bool {
    core.target(SymbolId(0)).unwrap().signum() != held.signum()
}

impl World {
    fn feed(&mut self, ev: &InputEvent) -> Vec<OutputEvent> {
        let mut outs = Vec::new();
        self.core.on_event(ev, &mut outs);
        for o in &outs {
            if let Some((_, seq, _)) = self.parts.push(o) {
                self.newest = Some(seq);
            }
            if let OutputBody::NewOrder(n) = o.body
                && matches!(n.kind, OrderKind::Market | OrderKind::Limit)
            {
                self.unfilled.push(n);
            }
        }
        self.seq = ev.header.seq.0 + 1;
        outs
    }

    fn held(&self) -> i64 {
        self.core.position(SymbolId(0)).unwrap().qty().raw()
    }

    /// Checks the bounds on one input's outputs.
    fn check(&self, ev: &InputEvent, outs: &[OutputEvent]) -> Result<(), TestCaseError> {
        if matches!(ev.body, InputBody::Prediction(_)) {
            prop_assert!(
                !outs.iter().any(|o| matches!(
                    o.body,
                    OutputBody::NewOrder(_) | OutputBody::Cancel(_) | OutputBody::Signal(_)
                )),
                "a prediction acted: {outs:?}"
            );
        }
        for (i, o) in outs.iter().enumerate() {
            let OutputBody::Advice(a) = o.body else {
                continue;
            };
            prop_assert!(a.factor <= PPM);
            prop_assert!(a.stance != Stance::Flat, "an exit was judged: {a:?}");
            for later in &outs[i + 1..] {
                if let OutputBody::Signal(s) = later.body
                    && s.strategy == a.strategy
                    && s.stance == a.stance
                {
                    prop_assert!(!a.verdict.refuses(), "refused, yet signalled: {a:?} {s:?}");
                    prop_assert!(s.qty <= a.qty, "raised: {a:?} {s:?}");
                }
            }
        }
        Ok(())
    }

    /// The next second, fed here and to three copies of the core that
    /// first get a prediction of P(up) ½ (no lean: the strategy decides
    /// alone), 0 and 1: when the first copy's target leaves the position
    /// held (an exit, a stop, a turn), the others' do too.
    fn second_with_exit_check(&mut self, price: f64) -> Result<(), TestCaseError> {
        let held = self.held();
        let snapshot = (held != 0 && self.newest.is_some()).then(|| self.core.to_snapshot());
        // The copies' prediction takes this sequence number; ours skips it.
        let at = self.seq;
        self.seq += 1;
        let evs = second(self.seq, self.now, price);
        if let (Some(bytes), Some(about)) = (&snapshot, self.newest) {
            let left = [0.5, 0.0, 1.0].map(|score| {
                let mut c = Core::from_snapshot(bytes).unwrap();
                let p = Prediction::from_probability(0, 15, score, about);
                let ev = event(at, 0, self.now, Source::Advisor, InputBody::Prediction(p));
                c.on_event(&ev, &mut Vec::new());
                for e in &evs {
                    c.on_event(e, &mut Vec::new());
                }
                leaving(&c, held)
            });
            if left[0] {
                prop_assert!(
                    left[1] && left[2],
                    "a prediction kept a position of {held}: {left:?}"
                );
            }
        }
        for e in &evs {
            let outs = self.feed(e);
            self.check(e, &outs)?;
        }
        self.now += SEC;
        Ok(())
    }

    fn fill(&mut self) -> Result<(), TestCaseError> {
        let mid = format!("{:.1}", self.price);
        for o in std::mem::take(&mut self.unfilled) {
            use autobot_engine::event::{Liquidity, OrderStatus, OrderUpdate};
            let body = InputBody::OrderUpdate(OrderUpdate {
                client_id: o.client_id,
                exchange_id: autobot_engine::types::ExchangeOrderId(self.seq),
                status: OrderStatus::Filled,
                side: o.side,
                liquidity: Liquidity::Taker,
                last_price: Price::parse(&mid).unwrap(),
                last_qty: o.qty,
                cum_qty: o.qty,
                fee: autobot_engine::types::Money::ZERO,
            });
            let ev = event(self.seq, 0, self.now, Source::Execution, body);
            let outs = self.feed(&ev);
            self.check(&ev, &outs)?;
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_advisor_stays_within_its_bounds(
        gate in any::<bool>(),
        trend in any::<bool>(),
        weight in 0u8..80,
        steps in prop::collection::vec(step(), 40..160),
    ) {
        let mode = if gate { AdvisorMode::Gate } else { AdvisorMode::Advise };
        let kind = if trend { StrategyKind::Trend } else { StrategyKind::MeanReversion };
        let mut w = World {
            core: Core::new(&cfg(mode, weight, kind)),
            seq: 0,
            now: common::T0,
            price: 60_000.0,
            unfilled: Vec::new(),
            parts: FeatureParts::default(),
            newest: None,
        };
        // Warm: the feature vector needs 61 bars.
        for i in 0..64 {
            w.price = 60_000.0 + f64::from(i % 3);
            w.second_with_exit_check(w.price)?;
        }
        for s in steps {
            match s {
                Step::Move(d) => {
                    w.price = (w.price + f64::from(d)).max(1000.0);
                    w.second_with_exit_check(w.price)?;
                }
                Step::Predict(score, newest) => {
                    let Some(about) = w.newest else { continue };
                    let about = if newest { about } else { Seq(about.0.saturating_sub(3)) };
                    let p = Prediction { score, ..Prediction::from_probability(0, 15, 0.5, about) };
                    let ev = event(w.seq, 0, w.now, Source::Advisor, InputBody::Prediction(p));
                    let outs = w.feed(&ev);
                    w.check(&ev, &outs)?;
                }
                Step::Fill => w.fill()?,
            }
        }
    }
}
