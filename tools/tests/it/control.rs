//! Operator control end to end, with real processes and a real socket:
//! `autobot run` serves its endpoint on loopback, `autobot ctl` finds it
//! through the run directory, and every command it sends is an input the
//! journal keeps, so `autobot replay --verify` reproduces the run.

use autobot_test_support::Scratch;
use std::path::Path;
use std::time::{Duration, Instant};

use autobot_engine::runtime::read_journal;

use crate::common::{autobot, config, ctl, start_run, text};

/// `ctl status` until it answers (the endpoint starts after the journal).
fn wait_for_endpoint(run: &Path, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.join("control.addr").exists() || !run.join("control.token").exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "autobot run exited early"
        );
        assert!(Instant::now() < deadline, "no control endpoint after 60 s");
        std::thread::yield_now();
    }
}

fn operator_inputs(run: &Path) -> Vec<autobot_engine::event::OperatorCommand> {
    read_journal(&run.join("journal"))
        .unwrap()
        .events
        .into_iter()
        .filter_map(|ev| match ev.body {
            autobot_engine::event::InputBody::Operator(c)
                if ev.header.source == autobot_engine::event::Source::Operator =>
            {
                Some(c)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn an_operator_commands_a_running_engine_and_the_journal_keeps_it() {
    use autobot_engine::event::OperatorAction as A;
    let scratch = Scratch::new("ctl");
    let base = scratch.path().to_path_buf();
    // Losing streaks and volatility would put the engine in SAFE_MODE at
    // moments the test cannot choose, vetoing the orders it checks; the
    // fast test market can move the mark past a 5% price band between the
    // status the test reads and the order it sends, so the band is wide.
    let cfg = config(&base);
    let text_cfg = std::fs::read_to_string(&cfg).unwrap();
    let relaxed = text_cfg
        .replace(
            "max_consecutive_losses = 5 ",
            "max_consecutive_losses = 1000 ",
        )
        .replace(
            "max_volatility_bps = \"2.5\"",
            "max_volatility_bps = \"1000\"",
        )
        .replace("price_band = \"0.05\"", "price_band = \"0.25\"")
        .replace(
            "liquidity_fraction = \"0.5\"",
            "liquidity_fraction = \"100\"",
        );
    assert_ne!(relaxed, text_cfg);
    std::fs::write(&cfg, relaxed).unwrap();
    let runs = base.clone();
    let (mut child, run) = start_run(&["--duration", "600"], &cfg, &runs);
    wait_for_endpoint(&run, &mut child);
    // Killed if the test fails before it stops the run itself.
    let child = crate::common::RunGuard(Some(child));

    // The token file is the owner's alone.
    use std::os::unix::fs::MetadataExt as _;
    let mode = std::fs::metadata(run.join("control.token")).unwrap().mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(run.join("control.token")).unwrap();

    let status = ctl(&run, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    let s = text(&status);
    for field in [
        "state",
        "mode",
        "FullAuto",
        "equity",
        "BTCUSDT",
        "ETHUSDT",
        "pending approvals",
    ] {
        assert!(s.contains(field), "status lacks {field}:\n{s}");
    }

    // Found without --run: the newest running run under --runs.
    let found = autobot()
        .args(["ctl", "--json", "--runs"])
        .arg(&runs)
        .arg("status")
        .env_remove("AUTOBOT_CONTROL_TOKEN")
        .output()
        .unwrap();
    assert!(found.status.success(), "{}", text(&found));
    let v: serde_json::Value = serde_json::from_slice(&found.stdout).unwrap();
    assert_eq!(v["symbol_names"][0], "BTCUSDT");
    assert!(v["events"].as_u64().unwrap() > 0);

    // A wrong token is refused, and the answer does not echo it.
    let wrong = autobot()
        .args(["ctl", "--run"])
        .arg(&run)
        .arg("status")
        .env("AUTOBOT_CONTROL_TOKEN", "not-the-token")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong).contains("HTTP 401"), "{}", text(&wrong));
    assert!(!text(&wrong).contains(&token));

    // Commands: each is processed by the core before the answer.
    let mode = ctl(&run, &["mode", "semi-auto"]);
    assert!(mode.status.success(), "{}", text(&mode));
    assert!(
        text(&mode).contains("done") && text(&mode).contains("SemiAuto"),
        "{}",
        text(&mode)
    );

    // In semi-auto the strategies' orders wait for the operator.
    let deadline = Instant::now() + Duration::from_secs(60);
    let pending_id = loop {
        let o = ctl(&run, &["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        if let Some(id) = v["pending"][0]["id"].as_u64() {
            break id;
        }
        assert!(
            Instant::now() < deadline,
            "no order waited for approval in 60 s"
        );
        std::thread::yield_now();
    };
    let approve = ctl(&run, &["approve", &pending_id.to_string()]);
    let a = text(&approve);
    // Approval runs the veto chain again (the market moved), so the order
    // may be vetoed now; the approval itself must be taken.
    assert!(
        a.contains("1 order(s) sent") || a.contains("1 VETOED"),
        "approve {pending_id}: {a}"
    );

    let unknown = ctl(&run, &["approve", "987654321"]);
    assert_eq!(unknown.status.code(), Some(3), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("REFUSED by the core")
            && text(&unknown).contains("no order with that id is waiting"),
        "{}",
        text(&unknown)
    );

    let typo = ctl(&run, &["mode", "turbo"]);
    assert_eq!(typo.status.code(), Some(1));
    assert!(
        text(&typo).contains("manual|semi-auto|full-auto|emergency"),
        "{}",
        text(&typo)
    );
    let bad_symbol = ctl(&run, &["flatten", "DOGEUSDT"]);
    assert_eq!(bad_symbol.status.code(), Some(1));
    assert!(
        text(&bad_symbol).contains("not a configured symbol"),
        "{}",
        text(&bad_symbol)
    );

    let bad_side = ctl(&run, &["order", "BTCUSDT", "hold", "0.002"]);
    assert_eq!(bad_side.status.code(), Some(1));
    assert!(
        text(&bad_side).contains("side=buy|sell"),
        "{}",
        text(&bad_side)
    );

    let flatten = ctl(&run, &["flatten", "--all"]);
    assert!(flatten.status.success(), "{}", text(&flatten));

    // A post-only buy 8% under the mark (inside the widened price band)
    // rests at the paper exchange; the kill switch cancels it.
    let mark: f64 = loop {
        let o = ctl(&run, &["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        if let Some(m) = v["symbols"][0]["mark"].as_str() {
            break m.parse().unwrap();
        }
        std::thread::yield_now();
    };
    let price = format!("{:.1}", (mark * 0.92 * 10.0).floor() / 10.0);
    let order = ctl(
        &run,
        &[
            "order",
            "BTCUSDT",
            "buy",
            "0.002",
            "--limit",
            &price,
            "--post-only",
        ],
    );
    assert!(order.status.success(), "{}", text(&order));
    assert!(text(&order).contains("1 order(s) sent"), "{}", text(&order));
    let open = |run: &Path| -> u64 {
        let o = ctl(run, &["--json", "status"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["open_orders"].as_u64().unwrap()
    };
    assert!(open(&run) >= 1, "the limit order is open");
    let kill = ctl(&run, &["kill"]);
    assert!(kill.status.success(), "{}", text(&kill));
    let k = text(&kill);
    assert!(
        k.contains("kill switch       true") && k.contains("Emergency"),
        "{k}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while open(&run) > 0 {
        assert!(
            Instant::now() < deadline,
            "open orders not cancelled after the kill"
        );
        std::thread::yield_now();
    }
    let reset = ctl(&run, &["reset"]);
    assert!(reset.status.success(), "{}", text(&reset));
    assert!(
        text(&reset).contains("kill switch       false"),
        "{}",
        text(&reset)
    );

    // Stop the run the way Ctrl-C does.
    let int = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    let exit = child.take().wait().unwrap();
    assert!(exit.success(), "autobot run failed: {exit:?}");
    assert!(
        !run.join("control.addr").exists(),
        "the endpoint's files outlive the run"
    );
    assert!(!run.join("control.token").exists());
    let after = ctl(&run, &["status"]);
    assert_eq!(after.status.code(), Some(1));
    assert!(text(&after).contains("not running"), "{}", text(&after));

    // The journal holds the accepted commands, in order; the typos never
    // reached it.
    let actions: Vec<A> = operator_inputs(&run).iter().map(|c| c.action).collect();
    assert_eq!(
        actions,
        [
            A::SetMode,
            A::Approve,
            A::Approve,
            A::Flatten,
            A::Order,
            A::Kill,
            A::Reset
        ]
    );
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert!(
        summary.contains("7 commands, 1 without the token, 3 malformed"),
        "{summary}"
    );
    assert!(summary.contains(" 1 rested"), "{summary}");

    let replay = autobot()
        .args(["replay", "--verify"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", text(&replay));
}
