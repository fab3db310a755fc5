//! Operator control end to end, with real processes and a real socket:
//! `autobot run` serves its endpoint on loopback, `autobot ctl` finds it
//! through the run directory, and every command it sends is an input the
//! journal keeps, so `autobot replay --verify` reproduces the run.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use autobot_engine::runtime::read_journal;

mod common;
use common::{autobot, config, start_run};

fn ctl(run: &Path, args: &[&str]) -> Output {
    autobot()
        .arg("ctl")
        .arg("--run")
        .arg(run)
        .args(args)
        .env_remove("AUTOBOT_CONTROL_TOKEN")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
    let base = std::env::temp_dir().join(format!("autobot-ctl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let cfg = config(&base);
    let runs = base.clone();
    let (mut child, run) = start_run(&["--duration", "600"], &cfg, &runs);
    wait_for_endpoint(&run, &mut child);

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

    let unknown = ctl(&run, &["approve", "987654321"]);
    assert_eq!(unknown.status.code(), Some(3), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("refused by the core"),
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

    let flatten = ctl(&run, &["flatten", "--all"]);
    assert!(flatten.status.success(), "{}", text(&flatten));
    let kill = ctl(&run, &["kill"]);
    assert!(kill.status.success(), "{}", text(&kill));
    let k = text(&kill);
    assert!(
        k.contains("kill switch       true") && k.contains("Emergency"),
        "{k}"
    );
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
    let exit = child.wait().unwrap();
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
        [A::SetMode, A::Approve, A::Flatten, A::Kill, A::Reset]
    );
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert!(
        summary.contains("5 commands, 1 without the token, 2 malformed"),
        "{summary}"
    );

    let replay = autobot()
        .args(["replay", "--verify"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", text(&replay));
    let _ = std::fs::remove_dir_all(&base);
}
