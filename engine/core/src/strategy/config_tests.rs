//! Tests of `[strategy]`'s parsing and validation.

use super::*;

#[test]
fn a_parameter_of_another_kind_is_refused_by_name() {
    let mut c = InstanceConfig::new(StrategyKind::Scalper, &[Regime::Range]);
    c.fast = Some(3);
    let e = c.validate("strategy.instances[0]").unwrap_err();
    assert_eq!(e.key, "strategy.instances[0].fast");
    assert!(
        e.allowed.contains("not a parameter of kind = \"scalper\""),
        "{}",
        e.allowed
    );
}

#[test]
fn defaults_are_valid_for_every_kind() {
    for kind in StrategyKind::ALL {
        InstanceConfig::new(kind, &[Regime::Bull])
            .validate("s")
            .unwrap();
    }
    let s = InstanceConfig::new(StrategyKind::Scalper, &[Regime::Range]);
    assert_eq!((s.min_hold_secs(), s.max_hold_secs()), (5, 300));
}

#[test]
fn regime_bars_must_be_built() {
    let mut c = StrategyConfig::ema_cross(2, 5);
    c.regime_bar_secs = 30;
    let e = c.validate("strategy").unwrap_err();
    assert_eq!(e.key, "strategy.regime_bar_secs");
}

#[test]
fn with_klines_the_higher_timeframes_are_multiples_of_the_first() {
    let mut c = StrategyConfig::ema_cross(2, 5);
    c.bar_secs = vec![60, 90];
    c.regime_bar_secs = 60;
    assert!(
        c.validate("strategy").is_ok(),
        "from trades, any ascending set"
    );
    c.bars = BarSource::Klines;
    let e = c.validate("strategy").unwrap_err();
    assert_eq!(e.key, "strategy.bar_secs");
    assert!(e.allowed.contains("multiples of the first (60)"), "{e:?}");
    c.bar_secs = vec![60, 900];
    assert!(c.validate("strategy").is_ok());
}
