//! The regime detector on real bars: `../shared/data/klines/BTCUSDT_perp_1m.csv`
//! (127 056 one-minute BTCUSDT perpetual bars, July–October 2023), with the
//! default thresholds.
//!
//! Shows: no regime is shorter than the minimum dwell (no flicker), every
//! regime occurs, and the share of time in each is reported (printed; run
//! with `--nocapture`, or see `docs/indicators.md`).

use autobot_engine::regime::{Regime, RegimeConfig, RegimeDetector};

fn bars() -> Vec<(f64, f64, f64)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    );
    let text = std::fs::read_to_string(path).expect("the shared klines file");
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
            (f[2], f[3], f[4])
        })
        .collect()
}

#[test]
fn btcusdt_regimes_are_stable_and_their_shares_reported() {
    let cfg = RegimeConfig::default();
    let mut d = RegimeDetector::new(&cfg);
    let bars = bars();
    assert!(bars.len() > 100_000);
    let mut counts = [0u64; 4];
    let mut runs: Vec<(Regime, u32)> = Vec::new();
    let mut changes = 0;
    for &(h, l, c) in &bars {
        if let Some(ch) = d.update(h, l, c) {
            changes += 1;
            assert_eq!(runs.last().map_or(Regime::Range, |r| r.0), ch.from);
            assert_ne!(ch.from, ch.to);
        }
        let r = d.regime();
        counts[r as usize] += 1;
        match runs.last_mut() {
            Some((last, n)) if *last == r => *n += 1,
            _ => runs.push((r, 1)),
        }
    }
    // Every regime but the one still running lasted at least the dwell.
    let shortest = runs[..runs.len() - 1].iter().map(|r| r.1).min().unwrap();
    assert!(
        shortest >= cfg.min_dwell_bars,
        "a regime lasted {shortest} bars (dwell {})",
        cfg.min_dwell_bars
    );
    assert_eq!(changes, runs.len() - 1);
    let total = bars.len() as f64;
    println!(
        "{} bars, {changes} regime changes, shortest run {shortest} bars",
        bars.len()
    );
    for r in Regime::ALL {
        let share = counts[r as usize] as f64 / total * 100.0;
        println!("  {:<9} {share:5.1} %", r.name());
        assert!(
            share >= 1.0,
            "{} occurs in only {share:.2} % of bars",
            r.name()
        );
    }
    let mean = total / runs.len() as f64;
    println!("  mean run {mean:.1} bars");
}
