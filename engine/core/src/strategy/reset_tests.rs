//! `Strategy::reset` (a gap's warm-up restart) leaves every kind exactly
//! as new: the same state, field for field, and the same proposals after
//! it as a fresh instance given the same data.

use proptest::prelude::{
    ProptestConfig, Strategy as _, any, prop_assert, prop_assert_eq, proptest,
};

use super::{AnyStrategy, InstanceConfig, Market, Proposal, Strategy, StrategyKind};
use crate::event::Kline;
use crate::regime::{Regime, RegimeConfig, RegimeDetector};
use crate::types::{Price, Qty};

/// Every kind, the confirmed variants too, with short warm-ups.
fn instances() -> Vec<InstanceConfig> {
    let all = Regime::ALL;
    let mut out = Vec::new();
    for kind in StrategyKind::ALL {
        for confirm in [false, true] {
            let mut c = InstanceConfig::new(kind, &all);
            match kind {
                StrategyKind::EmaCross => (c.fast, c.slow) = (Some(3), Some(7)),
                StrategyKind::Trend => {
                    (c.fast, c.slow, c.atr) = (Some(3), Some(7), Some(3));
                    c.confirm = Some(confirm);
                }
                StrategyKind::MeanReversion => (c.period, c.atr) = (Some(6), Some(3)),
                StrategyKind::Smc => c.confirm = Some(confirm),
                StrategyKind::Scalper => {}
            }
            out.push(c);
        }
    }
    out
}

fn bar(i: usize, close: f64, volume: f64) -> Kline {
    let p = |x: f64| Price::parse(&format!("{x:.1}")).unwrap();
    Kline {
        open_time: crate::types::UnixNanos(i as u64 * 60_000_000_000),
        interval_secs: 60,
        trades: 3,
        open: p(close),
        high: p(close + 7.0),
        low: p(close - 7.0),
        close: p(close),
        volume: Qty::parse(&format!("{volume:.3}")).unwrap(),
    }
}

/// The regime follows the walk's last step (up: BULL, down: BEAR, flat:
/// RANGE) so every kind gets to enter.
fn market(close: f64, lean: bool, regime: Regime) -> Market {
    let p = |x: f64| Price::parse(&format!("{x:.1}")).unwrap();
    let (bq, aq) = if lean { ("3", "1") } else { ("1", "3") };
    Market {
        top: crate::depth::TopOfBook {
            bid_price: p(close),
            bid_qty: Qty::parse(bq).unwrap(),
            ask_price: p(close + 0.1),
            ask_qty: Qty::parse(aq).unwrap(),
            ..Default::default()
        },
        tick: p(0.1),
        regime,
        ..Market::default()
    }
}

/// Feeds closes (a tick, then the bar) and returns what it proposed.
fn feed(s: &mut AnyStrategy, closes: &[(f64, bool)], from: usize) -> Vec<Option<Proposal>> {
    let mut out = Vec::new();
    let mut last = closes.first().map_or(0.0, |c| c.0);
    for (i, &(c, lean)) in closes.iter().enumerate() {
        let regime = match c.total_cmp(&last) {
            std::cmp::Ordering::Greater => Regime::Bull,
            std::cmp::Ordering::Less => Regime::Bear,
            std::cmp::Ordering::Equal => Regime::Range,
        };
        last = c;
        let m = market(c, lean, regime);
        out.push(s.on_tick(&m));
        out.push(s.on_bar(&bar(from + i, c, 1.0 + (i % 5) as f64), &m));
    }
    out
}

fn walk() -> impl proptest::strategy::Strategy<Value = Vec<(f64, bool)>> {
    // Legs of drift up or down with noise, so trends form and revert.
    proptest::collection::vec((-40i32..40, any::<bool>()), 1..160).prop_map(|steps| {
        let mut x = 30_000.0;
        steps
            .into_iter()
            .enumerate()
            .map(|(i, (d, lean))| {
                let drift = if (i / 25) % 2 == 0 { 30.0 } else { -30.0 };
                x += f64::from(d) + drift;
                (x, lean)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_reset_strategy_is_a_new_one(before in walk(), after in walk()) {
        for c in instances() {
            let mut used = AnyStrategy::new(&c);
            feed(&mut used, &before, 0);
            used.reset();
            let mut fresh = AnyStrategy::new(&c);
            prop_assert_eq!(format!("{used:?}"), format!("{fresh:?}"), "{:?}", c.kind);
            prop_assert!(!used.is_ready() || fresh.is_ready());
            let from = before.len() + 10;
            prop_assert_eq!(feed(&mut used, &after, from), feed(&mut fresh, &after, from));
        }
    }

    #[test]
    fn a_reset_regime_detector_is_a_new_one_reading_range(closes in walk()) {
        let cfg = RegimeConfig { fast: 3, slow: 8, atr: 3, ..RegimeConfig::default() };
        let mut used = RegimeDetector::new(&cfg);
        for &(c, _) in &closes {
            used.update(c + 7.0, c - 7.0, c);
        }
        let was = used.regime();
        let change = used.reset();
        prop_assert_eq!(change.map(|ch| (ch.from, ch.to)), (was != Regime::Range).then_some((was, Regime::Range)));
        prop_assert_eq!(format!("{used:?}"), format!("{:?}", RegimeDetector::new(&cfg)));
        let mut rv = crate::features::flow::RealizedVol::new(5);
        for &(c, _) in &closes {
            rv.update(c);
        }
        rv.reset();
        prop_assert_eq!(format!("{rv:?}"), format!("{:?}", crate::features::flow::RealizedVol::new(5)));
    }
}
