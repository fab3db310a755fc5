//! `make run` as shipped (config/paper.toml, seed 42) over its market:
//! the engine spends under 10% of the time in SAFE_MODE, at least two
//! strategy kinds trade, and the summary says which strategies traded,
//! what they earned after fees and why entries were not taken (issue 28).

use std::path::Path;

use autobot_test_support::Scratch;
use autobot_tools::config::AppConfig;
use autobot_tools::run::{RunOptions, run_paper};

#[test]
fn the_default_run_trades_several_kinds_and_rarely_sits_in_safe_mode() {
    let dir = Scratch::new("default-run");
    let mut cfg =
        AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
            .unwrap();
    assert_eq!(cfg.market.seed, 42);
    cfg.run.run_dir = dir.to_str().unwrap().into();
    // The 20 s of `make run` at 20,000 events a second, counted rather
    // than timed (a loaded machine publishes fewer in 20 s).
    let opts = RunOptions {
        max_events: Some(400_000),
        ..RunOptions::default()
    };
    let out = run_paper(&cfg, &opts).unwrap();
    let core = &out.pipeline.core.core;
    let shares = core.stats().state_shares();
    let safe = shares[autobot_engine::event::SystemState::SafeMode as usize];
    assert!(safe < 0.10, "SAFE_MODE {:.1}% of the time", safe * 100.0);

    let traded: Vec<&str> = (0..core.strategy_count())
        .filter(|&k| core.strategy_totals(k).is_some_and(|(_, t)| t.trips > 0))
        .map(|k| out.strategies[k].as_str())
        .collect();
    assert!(traded.len() >= 2, "round trips by {traded:?} only");

    let summary = autobot_tools::summary::render(&out, "the synthetic market");
    assert!(summary.contains("entries not taken: "), "{summary}");
    for name in &out.strategies {
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(name.as_str()))
            .unwrap_or_else(|| panic!("no line for {name}: {summary}"));
        assert!(
            line.contains("round trips") && line.contains("after fees"),
            "{line}"
        );
        assert!(line.contains("warm at"), "{line}");
    }
}
