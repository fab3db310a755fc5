//! The whole paper engine (market gateway, journal, core, paper execution
//! feeding fills back) for a bounded number of events; then the journal,
//! fed to a fresh core without threads, must reproduce the digest.

use autobot_test_support::Scratch;
use std::path::Path;

use autobot_engine::config::Layout;
use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::event::{InputBody, OperatorAction};
use autobot_engine::runtime::latency::Stage;
use autobot_engine::runtime::{InputFingerprint, read_journal};
use autobot_tools::config::AppConfig;
use autobot_tools::replay::{ReplayArgs, run as replay};
use autobot_tools::run::{RunOptions, run_paper};
use autobot_tools::text::group;

fn config(layout: Layout, dir: &Path) -> AppConfig {
    let mut cfg =
        AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"))
            .unwrap();
    cfg.engine.layout = layout;
    cfg.engine.ring_size = 4096;
    cfg.journal.segment_mib = 2;
    cfg.journal.checkpoint_every = 10_000;
    // The scalper loses to fees on a random walk; the losing-streak
    // breaker would park it in SAFE_MODE, and this test wants trading.
    cfg.risk.max_consecutive_losses = 1000;
    cfg.run.run_dir = dir.to_str().unwrap().into();
    cfg
}

fn check(layout: Layout, name: &str) {
    let dir = Scratch::new(&format!("run-{name}"));
    let cfg = config(layout, &dir);
    let n = 60_000;
    let opts = RunOptions {
        max_events: Some(n),
        unpaced: true,
        ..RunOptions::default()
    };
    let out = run_paper(&cfg, &opts).unwrap();
    assert_eq!(out.market.events, n);
    let core = &out.pipeline.core.core;
    let st = core.stats();
    assert!(st.orders > 10, "the run must trade: {st:?}");
    // Every order filled, but the protective stops at the exchange whose
    // positions the core closed first: cancelled, or expired when they
    // triggered with nothing left to close (their cancel came too late),
    // or refused on arrival because the price had already passed them
    // (the core's own stop closed those positions).
    let journal = read_journal(&out.run_dir.join("journal")).unwrap().events;
    let ended = |status| {
        journal
            .iter()
            .filter(|e| matches!(e.body, InputBody::OrderUpdate(u) if u.status == status))
            .count() as u64
    };
    use autobot_engine::event::OrderStatus;
    let (filled, cancelled, expired) = (
        ended(OrderStatus::Filled),
        ended(OrderStatus::Cancelled),
        ended(OrderStatus::Expired),
    );
    let refused = crate::common::refusals_are_passed_stops(&journal);
    assert_eq!(filled, st.fills, "one fill per paper order: {st:?}");
    assert_eq!(refused, st.rejects, "{st:?}");
    // Nothing is left in flight after shutdown; what still rests is the
    // stop guarding a position the run ended with.
    let resting = crate::common::only_guards_rest(core);
    assert_eq!(
        filled + cancelled + expired + refused + resting,
        st.orders,
        "every paper order filled: {st:?}"
    );
    // Only protective stops end unfilled: each was cancelled, or its
    // cancel was refused because it had expired, or it never rested.
    assert!(cancelled + expired <= st.cancels + refused, "{st:?}");
    assert_eq!(out.paper.exchange.fills, st.fills);

    // The run wrote its latency histograms; they read back with every
    // stage, in both layouts (the dedicated journaller records its own),
    // and one `tick_to_order` value per order a market event caused.
    let stages = autobot_tools::latency::read_run(&out.run_dir).unwrap();
    for stage in Stage::ALL {
        let present = stages.iter().any(|(s, d)| *s == stage && d.count > 0);
        // `delivery` is the load generator's alone.
        let expected = stage != Stage::Delivery;
        assert_eq!(present, expected, "{} histogram ({layout:?})", stage.name());
    }
    let count = |stage| stages.iter().find(|(s, _)| *s == stage).unwrap().1.count;
    assert!(count(Stage::Journal) >= n, "every input journaled is timed");
    assert!(
        count(Stage::TickToOrder) > 0 && count(Stage::TickToOrder) <= st.orders,
        "{} orders, {} tick_to_order",
        st.orders,
        count(Stage::TickToOrder)
    );
    // The summary names the vetoes by rule and the time in each state;
    // the shares are the core's event time, summing to 100%.
    let summary = autobot_tools::summary::render(
        &out,
        autobot_tools::config::Deployment::Paper,
        "the synthetic market",
    );
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("time in state  RUNNING "))
        .unwrap_or_else(|| panic!("{summary}"));
    let shares: f64 = line
        .split('·')
        .map(|p| p.trim().trim_end_matches('%').rsplit(' ').next().unwrap())
        .map(|x| x.parse::<f64>().unwrap())
        .sum();
    assert!((shares - 100.0).abs() < 0.3, "{line}");
    assert!(summary.contains("vetoes by rule    "), "{summary}");
    let ranked = st.vetoes_by_rule.ranked();
    assert_eq!(ranked.iter().map(|(_, n)| n).sum::<u64>(), st.vetoes);
    if let Some((rule, n)) = ranked.first() {
        assert!(
            summary.contains(&format!("{rule:?} {}", group(*n))),
            "{summary}"
        );
    }
    let table = autobot_tools::latency::table(&[("run".into(), stages.clone())]);
    assert!(table.contains("tick_to_decision"), "{table}");
    // The journal alone gives every stage the run measured, value for
    // value, in both layouts: the header stamps, and the stamp records of
    // the core and the execution thread (which ends after the core).
    let stamped = autobot_tools::latency::from_journal(&out.run_dir).unwrap();
    let names: Vec<&str> = stamped.iter().map(|(s, _)| s.name()).collect();
    let measured: Vec<&str> = stages.iter().map(|(s, _)| s.name()).collect();
    assert_eq!(names, measured, "{layout:?}");
    for ((stage, from_journal), (_, from_run)) in stamped.iter().zip(&stages) {
        let what = format!("{} ({layout:?})", stage.name());
        assert_eq!(from_journal.count, from_run.count, "{what}");
        // The .hgrm text holds µs with 3 decimals: equal to the ns, give or
        // take the float parse.
        assert!(
            (from_journal.max_ns - from_run.max_ns).abs() < 0.5,
            "{what}: max {} against {}",
            from_journal.max_ns,
            from_run.max_ns
        );
    }
    assert!(stamped[0].1.count >= n, "every market event is stamped");

    let contents = read_journal(&out.run_dir.join("journal")).unwrap();
    let events = contents.events;
    assert!(!contents.checkpoints.is_empty());
    assert_eq!(contents.checkpoints.last().unwrap().digest, core.digest());
    // Market events + order reports (the fills, and the protective stops'
    // acknowledgements, ends and refused cancels) + the start and shutdown
    // commands, each once, in order.
    let reports = events
        .iter()
        .filter(|e| {
            matches!(
                e.body,
                InputBody::OrderUpdate(_) | InputBody::OrderRejected(_)
            )
        })
        .count() as u64;
    assert!(reports >= st.fills);
    assert_eq!(events.len() as u64, n + reports + 2);
    assert!(matches!(events[0].body, InputBody::Operator(c) if c.action == OperatorAction::Start));
    assert_eq!(st.events, events.len() as u64);
    assert!(
        events
            .iter()
            .enumerate()
            .all(|(i, e)| e.header.seq.0 == i as u64)
    );
    let shutdowns = events
        .iter()
        .filter(
            |e| matches!(e.body, InputBody::Operator(c) if c.action == OperatorAction::Shutdown),
        )
        .count();
    assert_eq!(shutdowns, 1);
    let mut fp = InputFingerprint::default();
    events.iter().for_each(|e| fp.add(e));
    assert_eq!(
        out.pipeline.core.fingerprint, fp,
        "the core saw exactly the journal"
    );

    // Every input that emitted an output has a checkpoint of its own, with
    // the digest a direct feed has after it.
    let mut direct = Core::new(&cfg.core());
    for ev in &events {
        let before = direct.outputs();
        direct.on_event(ev, &mut DiscardSink);
        if direct.outputs() != before {
            let cp = contents
                .checkpoints
                .iter()
                .find(|c| c.last_seq == ev.header.seq.0)
                .unwrap_or_else(|| panic!("no checkpoint after input {}", ev.header.seq));
            assert_eq!((cp.digest, cp.dense), (direct.digest(), true));
        }
    }
    assert_eq!(direct.digest(), core.digest());
    assert_eq!(direct.stats(), st);

    // autobot replay --verify on the run directory reproduces the recorded digests.
    let args = ReplayArgs {
        dir: out.run_dir.clone(),
        verify: true,
        ..ReplayArgs::default()
    };
    let mut text = Vec::new();
    assert!(
        replay(&args, &mut text).unwrap(),
        "{}",
        String::from_utf8_lossy(&text)
    );
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(&format!(
            "the digest after {} of {} inputs was known and matched",
            group(events.len() as u64),
            group(events.len() as u64)
        )),
        "{text}"
    );
    assert!(text.contains(&format!("{:016x}", core.digest())), "{text}");

    // The same journal replayed twice gives the same state, byte for byte.
    let dump = |seq: u64| {
        let mut buf = Vec::new();
        let args = ReplayArgs {
            dir: out.run_dir.clone(),
            dump_state: Some(seq),
            ..ReplayArgs::default()
        };
        replay(&args, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    };
    let mid = events.len() as u64 / 2;
    let (a, b) = (dump(mid), dump(mid));
    assert_eq!(a, b);
    assert!(a.contains(&format!("\"last_seq\": {mid}")), "{a}");

    // A what-if config decides differently: --verify fails and names the
    // first input after which a direct feed of both configs differs.
    let mut what_if = cfg.clone();
    // The scalper (instance 2) enters on a weaker book imbalance.
    what_if.strategy.instances[2].imbalance = Some("0.3".parse().unwrap());
    let (mut a, mut b) = (Core::new(&cfg.core()), Core::new(&what_if.core()));
    let first_divergent = events
        .iter()
        .find(|ev| {
            a.on_event(ev, &mut DiscardSink);
            b.on_event(ev, &mut DiscardSink);
            a.digest() != b.digest()
        })
        .expect("the what-if config must decide differently")
        .header
        .seq;
    let path = dir.join("what-if.toml");
    std::fs::write(&path, what_if.to_toml()).unwrap();
    let args = ReplayArgs {
        dir: out.run_dir.clone(),
        config: Some(path),
        verify: true,
        ..ReplayArgs::default()
    };
    let mut text = Vec::new();
    assert!(!replay(&args, &mut text).unwrap());
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("DIVERGED")
            && text.contains(&format!("first divergent sequence: {first_divergent}\n")),
        "{text}"
    );
    // Issue 34: that input's outputs, recorded and replayed, one under the
    // other; they differ (the what-if decided differently there).
    let at = text
        .find(&format!("input {first_divergent} ("))
        .unwrap_or_else(|| panic!("no side by side: {text}"));
    let shown = &text[at..];
    let recorded_at = shown
        .find("  recorded (the run's config.toml)")
        .unwrap_or_else(|| panic!("{shown}"));
    let replayed_at = shown
        .find("  replayed (")
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(recorded_at < replayed_at, "{shown}");
    let recorded = &shown[recorded_at..replayed_at];
    let replayed = &shown[replayed_at..];
    let body = |part: &str| {
        part.lines()
            .skip(1)
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_ne!(body(recorded), body(replayed), "{shown}");

    // Resuming under a configuration that decides differently: the restore
    // (a full replay: the snapshot belongs to the old one) says where.
    std::fs::write(out.run_dir.join("config.toml"), what_if.to_toml()).unwrap();
    let opts = RunOptions {
        max_events: Some(1_000),
        unpaced: true,
        resume: Some(out.run_dir.clone()),
        ..RunOptions::default()
    };
    let resumed = run_paper(&what_if, &opts).unwrap();
    let warning =
        format!("the replay's outputs depart from the recorded ones at input {first_divergent} ");
    assert!(
        resumed
            .pipeline
            .warnings
            .iter()
            .any(|w| w.contains(&warning)),
        "{:?}",
        resumed.pipeline.warnings
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn paper_run_inline_layout_replays_to_the_same_digest() {
    check(Layout::Inline, "inline");
}

#[test]
fn paper_run_dedicated_layout_replays_to_the_same_digest() {
    check(Layout::Dedicated, "dedicated");
}
