//! A one-symbol market built by hand for strategy scenarios: one book
//! ticker and one trade per step; 1 s bars from trades; a fast regime
//! detector (EMA 3/6, ATR 3, 3 bars to confirm) so a few dozen bars decide
//! it.
#![allow(dead_code)]

use autobot_engine::config::CoreConfig;
use autobot_engine::event::{
    BookTicker, InputBody, NewOrder, OutputBody, OutputEvent, Signal, SignalReason, Source, Stance,
    Trade,
};
use autobot_engine::regime::{Regime, RegimeConfig};
use autobot_engine::strategy::{InstanceConfig, StrategyConfig, StrategyKind};
use autobot_engine::types::{Price, Qty, Rate};

use super::{Harness, SEC, new_orders, risk_config};

pub fn r(s: &str) -> Rate {
    s.parse().unwrap()
}

/// BTCUSDT (symbol 0) with one strategy instance. Fee-aware entries are
/// off unless the instance sets `min_edge`: these scenes test the rules
/// of each kind, `fees.rs` the costs.
pub fn config(mut inst: InstanceConfig) -> CoreConfig {
    inst.min_edge = inst.min_edge.or(Some(Rate::ZERO));
    let mut c = risk_config();
    c.strategy = StrategyConfig {
        bar_secs: vec![1],
        regime_bar_secs: 1,
        trade_window: 50,
        regime: RegimeConfig {
            fast: 3,
            slow: 6,
            atr: 3,
            trend_enter: r("1"),
            trend_exit: r("0.3"),
            vol_enter_bps: r("500"),
            vol_exit_bps: r("400"),
            confirm_bars: 3,
            min_dwell_bars: 2,
            ..RegimeConfig::default()
        },
        instances: vec![inst],
        ..StrategyConfig::features()
    };
    // Stops a few ticks away make risk-sized entries large: the position
    // limit binds, at 0.010 BTC near 60 000.
    c.risk.max_position_notional = autobot_engine::types::Money::parse("610").unwrap();
    c.risk.max_consecutive_losses = 100;
    c.risk.forbidden.max_spread_bps = r("1000");
    c
}

pub struct Scene {
    pub h: Harness,
}

impl Scene {
    /// The scene, with a scalper's warm-up already seen (balanced quotes
    /// at 60,000, one per 10 ms: the other symbol of the config must not
    /// go stale meanwhile).
    pub fn new(inst: InstanceConfig) -> Scene {
        Scene::with(&config(inst))
    }

    /// [`Scene::new`] with a config of the scene's making.
    pub fn with(cfg: &CoreConfig) -> Scene {
        let kind = cfg.strategy.instances[0].kind;
        let mut scene = Scene {
            h: Harness::new(cfg),
        };
        if kind == StrategyKind::Scalper {
            for _ in 0..autobot_engine::strategy::SCALPER_WARMUP_TICKS {
                let outs = scene.quote_after(10_000_000, 60_000.0, "1", "1");
                assert!(signals(&outs).is_empty(), "no signal while warming up");
            }
        }
        scene
    }

    /// A book ticker 100 ms on, 0.2 wide around `mid`, with these sizes.
    pub fn quote(&mut self, mid: f64, bid_qty: &str, ask_qty: &str) -> Vec<OutputEvent> {
        self.quote_after(100_000_000, mid, bid_qty, ask_qty)
    }

    /// A book ticker `step` ns on.
    fn quote_after(
        &mut self,
        step: u64,
        mid: f64,
        bid_qty: &str,
        ask_qty: &str,
    ) -> Vec<OutputEvent> {
        self.h.now += step;
        let p = |x: f64| Price::parse(&format!("{x:.1}")).unwrap();
        let body = InputBody::BookTicker(BookTicker {
            update_id: self.h.seq,
            bid_price: p(mid - 0.1),
            bid_qty: Qty::parse(bid_qty).unwrap(),
            ask_price: p(mid + 0.1),
            ask_qty: Qty::parse(ask_qty).unwrap(),
        });
        self.h.feed(Source::MarketData, 0, self.h.now, body)
    }

    /// A trade at `price` now (`buy`: the aggressor bought).
    pub fn trade(&mut self, price: f64, buy: bool) -> Vec<OutputEvent> {
        let body = InputBody::AggTrade(Trade {
            trade_id: self.h.seq,
            price: Price::parse(&format!("{price:.1}")).unwrap(),
            qty: Qty::parse("0.1").unwrap(),
            buyer_is_maker: !buy,
        });
        self.h.feed(Source::MarketData, 0, self.h.now, body)
    }

    /// One second of market: a balanced quote and a trade at `price`.
    pub fn second(&mut self, price: f64) -> Vec<OutputEvent> {
        self.h.now = self.h.now - self.h.now % SEC + SEC;
        let mut outs = self.trade(price, true);
        outs.extend(self.quote(price, "1", "1"));
        outs
    }

    pub fn fill_all(&mut self, outs: &[OutputEvent]) {
        for o in new_orders(outs) {
            let px = self
                .h
                .core
                .book(o.symbol)
                .unwrap()
                .mid()
                .unwrap()
                .to_string();
            self.h.fill(&o, &px, "0");
        }
    }

    /// `outs` hold an exit signal for `reason`; its fill leaves the
    /// position flat.
    pub fn closes(&mut self, outs: &[OutputEvent], reason: SignalReason) {
        let exit = signals(outs);
        assert_eq!((exit[0].stance, exit[0].reason), (Stance::Flat, reason));
        self.fill_all(outs);
        assert_eq!(self.position(), 0);
    }

    pub fn position(&self) -> i64 {
        self.h
            .core
            .position(autobot_engine::types::SymbolId(0))
            .unwrap()
            .qty()
            .raw()
    }
}

pub fn signals(outs: &[OutputEvent]) -> Vec<Signal> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::Signal(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub fn one_order(outs: &[OutputEvent]) -> NewOrder {
    let orders = new_orders(outs);
    assert_eq!(orders.len(), 1, "{outs:#?}");
    orders[0]
}

/// Trend following on EMA 3/6 and ATR 3 of 1 s bars.
pub fn trend_instance(regimes: &[Regime]) -> InstanceConfig {
    let mut c = InstanceConfig::new(StrategyKind::Trend, regimes);
    c.fast = Some(3);
    c.slow = Some(6);
    c.atr = Some(3);
    c
}

pub fn scalper() -> InstanceConfig {
    InstanceConfig::new(StrategyKind::Scalper, &[Regime::Range])
}

/// Sellers take over the tape that [`bid_pressure`] tilted, and the book
/// leans to the asks: the short setup, a long scalp's exit.
pub fn book_turns(s: &mut Scene, mid: f64) -> Vec<OutputEvent> {
    let mut outs = s.trade(mid, false);
    outs.extend(s.trade(mid, false));
    outs.extend(s.quote(mid, "1", "5"));
    outs
}

/// Buyers on the tape and a bid-heavy book: the scalper's long setup.
pub fn bid_pressure(s: &mut Scene, mid: f64) -> Vec<OutputEvent> {
    let mut outs = s.trade(mid, true);
    outs.extend(s.quote(mid, "5", "1"));
    outs
}
