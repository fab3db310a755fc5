//! The load generator end to end over real sockets: a short run at a
//! fixed rate sends exactly its messages, every one is measured from its
//! intended send time (the `delivery` stage counts each once), orders
//! flow, and the report names the rate and the placement.

use autobot_test_support::Scratch;
use std::path::Path;

use autobot_engine::runtime::latency::Stage;
use autobot_tools::config::AppConfig;
use autobot_tools::loadtest::{Placement, run_rate};

#[test]
fn a_fixed_rate_run_measures_every_message_from_its_intended_send_time() {
    let cfg = AppConfig::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/bench-emaflip.toml"),
    )
    .unwrap();
    let scratch = Scratch::new("loadtest");
    let dir = scratch.path().to_path_buf();
    let r = run_rate(&cfg, 5_000, 0.4, &dir, Placement::default()).unwrap();
    assert_eq!(r.messages, 2_000);
    let count = |stage| {
        r.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(0, |(_, d)| d.count)
    };
    assert_eq!(count(Stage::Delivery), 2_000, "each message once");
    assert_eq!(count(Stage::TickToDecision), 2_000);
    assert!(count(Stage::PublishToDecision) >= 2_000);
    assert!(r.orders > 0 && count(Stage::TickToOrder) > 0, "orders flow");
    // Measured from the intended send time: never less than the delivery.
    let p50 = |s| r.at(s, 0.5).unwrap();
    assert!(p50(Stage::TickToDecision) >= p50(Stage::Delivery));
    // The schedule paces the sends: 2 000 messages at 5 000/s take 0.4 s.
    assert!(r.elapsed.as_secs_f64() >= 0.39, "{:?}", r.elapsed);
    // The rate is over the market data's span; the run's start and stop
    // (journal, core, snapshot) come on top.
    assert!(r.wall > r.elapsed, "{:?} {:?}", r.wall, r.elapsed);
    let text = r.render();
    assert!(text.contains("rate 5000 msgs/s: 2000 messages"), "{text}");
    assert!(text.contains("intended send"), "{text}");
    assert!(r.run_dir.join("latency/delivery.hgrm").is_file());
}
