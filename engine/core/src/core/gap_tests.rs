//! A gap in a symbol's bars makes its indicators warm up again: the
//! strategies', the regime detector's and the realized volatility's
//! (`[strategy] gap_bars`), with an alert; `gap_bars = 0` reads across.

use super::*;
use crate::config::{StrategyConfig, presets};
use crate::event::{AlertCode, Kline, Source};
use crate::regime::Regime;
use crate::strategy::{BarSource, InstanceConfig, StrategyKind};
use crate::types::{MonoNanos, Price, Qty, UnixNanos};

const MINUTE: u64 = 60_000_000_000;

fn cfg(gap_bars: u32) -> CoreConfig {
    let mut sc = StrategyConfig::features();
    sc.bars = BarSource::Klines;
    sc.gap_bars = gap_bars;
    sc.instances = vec![InstanceConfig::new(
        StrategyKind::Trend,
        &[Regime::Bull, Regime::Bear, Regime::Range],
    )];
    presets::core(&[presets::btcusdt()], sc)
}

/// The 1m kline of minute `i` closing at `close`, as an input.
fn kline(seq: u64, i: u64, close: f64) -> InputEvent {
    let p = |x: f64| Price::parse(&format!("{x:.1}")).unwrap();
    let k = Kline {
        open_time: UnixNanos(1_700_000_000 * 1_000_000_000 + i * MINUTE),
        interval_secs: 60,
        trades: 10,
        open: p(close - 5.0),
        high: p(close + 10.0),
        low: p(close - 10.0),
        close: p(close),
        volume: Qty::ONE,
    };
    let close_time = UnixNanos(k.open_time.0 + MINUTE - 1_000_000);
    let mut ev = InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(0),
        close_time,
        InputBody::Kline(k),
    );
    ev.header.seq = Seq(seq);
    ev
}

struct Run {
    core: Core,
    seq: u64,
    outs: Vec<OutputEvent>,
}

impl Run {
    fn new(gap_bars: u32) -> Run {
        Run {
            core: Core::new(&cfg(gap_bars)),
            seq: 0,
            outs: Vec::new(),
        }
    }

    /// Bars of minutes `from..to`, rising 20 a minute from 60000.
    fn bars(&mut self, from: u64, to: u64) {
        for i in from..to {
            let ev = kline(self.seq, i, 60_000.0 + 20.0 * i as f64);
            self.seq += 1;
            self.core.on_event(&ev, &mut self.outs);
        }
    }

    fn gap_alerts(&self) -> Vec<i64> {
        self.outs
            .iter()
            .filter_map(|o| match o.body {
                OutputBody::Alert(a) if a.code == AlertCode::DataGap => Some(a.value),
                _ => None,
            })
            .collect()
    }

    fn warm(&self) -> bool {
        self.core
            .strategy_readiness(0, SymbolId(0))
            .and_then(|(at, _)| at)
            .is_some()
    }
}

#[test]
fn a_gap_longer_than_gap_bars_restarts_every_warm_up_and_says_so() {
    let mut r = Run::new(3);
    r.bars(0, 300);
    assert!(r.warm(), "300 bars warm the trend strategy");
    let regime = |r: &Run| r.core.holding(SymbolId(0)).map(|h| h.regime);
    let before = regime(&r).unwrap();
    assert_ne!(before, Regime::Range, "a steady rise reads a trend");
    // Two missing bars are not a gap at gap_bars = 3 (three intervals from
    // open to open; three missing would be).
    r.bars(302, 303);
    assert!(r.gap_alerts().is_empty() && r.warm());
    // Ten intervals later. The guard holds the first input after a jump
    // in exchange time until a second confirms it: the gap is read at the
    // bar of minute 313, ten bars after 302's.
    r.outs.clear();
    r.bars(312, 314);
    assert_eq!(r.gap_alerts(), vec![10], "{:?}", r.outs);
    assert_eq!(r.core.stats().gap_restarts, 1);
    assert!(!r.warm(), "the strategy warms up again");
    assert_eq!(regime(&r), Some(Regime::Range));
    assert!(
        r.outs.iter().any(|o| matches!(
            o.body,
            OutputBody::Regime(c) if c.from == before && c.to == Regime::Range
        )),
        "the regime's change to RANGE is an output"
    );
    // Warm again after as many bars as at the start.
    r.bars(314, 614);
    assert!(r.warm());
}

#[test]
fn gap_bars_zero_reads_across_gaps() {
    let mut r = Run::new(0);
    r.bars(0, 300);
    r.bars(10_000, 10_002);
    assert!(r.gap_alerts().is_empty());
    assert_eq!(r.core.stats().gap_restarts, 0);
    assert!(r.warm());
}
