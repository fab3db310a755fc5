//! The regime detector on real bars: `../shared/data/klines/BTCUSDT_perp_1m.csv`
//! (127 056 one-minute BTCUSDT perpetual bars in three stretches, as the
//! file's `segments.json` lists them: 2023-07-18 → 2023-08-17,
//! 2025-05-04 → 2025-06-24 and 2025-07-06 → 2025-07-13), with the default
//! thresholds.
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

/// The stretches the module docs name, from the bars' own open times: the
/// first and last bar of each (UTC minutes, as `segments.json` has them).
#[test]
fn the_file_holds_the_stretches_the_docs_name() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    );
    let text = std::fs::read_to_string(path).expect("the shared klines file");
    let minutes: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse::<u64>().unwrap() / 60_000)
        .collect();
    assert_eq!(minutes.len(), 127_056);
    // Stretches split where more than a day is missing.
    let mut stretches = vec![(minutes[0], minutes[0])];
    for &m in &minutes[1..] {
        let last = stretches.last_mut().unwrap();
        if m > last.1 + 24 * 60 {
            stretches.push((m, m));
        } else {
            last.1 = m;
        }
    }
    // Unix minutes of 2023-07-18 11:13, 2023-08-17 11:11, 2025-05-04 15:33,
    // 2025-06-24 10:31, 2025-07-06 00:00 and 2025-07-13 10:37 UTC.
    let utc = |days: u64, h: u64, m: u64| days * 1440 + h * 60 + m;
    assert_eq!(
        stretches,
        [
            (utc(19_556, 11, 13), utc(19_586, 11, 11)),
            (utc(20_212, 15, 33), utc(20_263, 10, 31)),
            (utc(20_275, 0, 0), utc(20_282, 10, 37)),
        ]
    );
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
