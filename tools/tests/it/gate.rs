//! The deployment gate through the real binary: what `autobot run` refuses
//! before anything starts, and the LIVE countdown that Ctrl-C (a real
//! SIGINT) aborts. Nothing here reaches an exchange: every case stops at
//! or before the gate, and the test checks no run directory was made.

use autobot_test_support::Scratch;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::autobot;

const SECRET: &str = "gate-test-secret-never-printed";

/// The shipped config with `run.mode` set and runs under `base/runs`.
fn config(base: &Path, mode: &str) -> PathBuf {
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/paper.toml"))
            .unwrap();
    let text = shipped.replacen("mode = \"paper\"", &format!("mode = \"{mode}\""), 1);
    assert!(mode == "paper" || text != shipped);
    let path = base.join(format!("{mode}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// [`config`] trading on an exchange at a URL (nothing listens there: the
/// tests stop before any connection).
fn exchange_config(base: &Path, mode: &str) -> PathBuf {
    let path = config(base, mode);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut changed = text.clone();
    for (from, to) in [
        ("execution = \"paper\"", "execution = \"exchange\""),
        ("endpoint = \"simulator\"", "endpoint = \"url\""),
        ("ws_url = \"\"", "ws_url = \"ws://127.0.0.1:9\""),
        ("rest_url = \"\"", "rest_url = \"http://127.0.0.1:9\""),
    ] {
        assert!(changed.contains(from), "{from}");
        changed = changed.replacen(from, to, 1);
    }
    std::fs::write(&path, changed).unwrap();
    path
}

fn base(name: &str) -> Scratch {
    Scratch::new(&format!("gate-{name}"))
}

/// `autobot run` with no credentials in its environment.
fn run(base: &Path, cfg: &Path, extra: &[&str]) -> Command {
    let mut c = autobot();
    c.args(["run", "--config"])
        .arg(cfg)
        .args(["--run-dir"])
        .arg(base.join("runs"))
        .args(extra)
        .env_remove("AUTOBOT_API_KEY")
        .env_remove("AUTOBOT_API_SECRET")
        .env_remove("AUTOBOT_KEY_FILE");
    c
}

fn refused(out: &Output, base: &Path, expect: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(expect), "expected {expect:?} in: {err}");
    assert!(!err.contains(SECRET), "{err}");
    // One cause, one sentence: no clause of the error line said twice.
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    let clauses: Vec<&str> = line.split(": ").collect();
    for (i, c) in clauses.iter().enumerate() {
        assert!(!clauses[i + 1..].contains(c), "{c:?} said twice: {line}");
    }
    assert!(
        !base.join("runs").exists(),
        "a refused run made a run directory"
    );
}

#[test]
fn live_needs_the_flag_and_keys_and_paper_refuses_the_flag() {
    let dir = base("refusals");
    let live = config(&dir, "live");
    let out = run(&dir, &live, &[]).output().unwrap();
    refused(&out, &dir, "add --live to confirm");

    let out = run(&dir, &live, &["--live"]).output().unwrap();
    refused(
        &out,
        &dir,
        "live trading needs API keys: no API keys: set AUTOBOT_API_KEY",
    );

    let out = run(&dir, &live, &["--live"])
        .env("AUTOBOT_API_KEY", "k")
        .output()
        .unwrap();
    refused(
        &out,
        &dir,
        "AUTOBOT_API_KEY is set but AUTOBOT_API_SECRET is not",
    );

    let keys = dir.join("keys.toml");
    std::fs::write(
        &keys,
        format!("api_key = \"k\"\napi_secret = \"{SECRET}\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&dir, &live, &["--live"])
        .env("AUTOBOT_KEY_FILE", &keys)
        .output()
        .unwrap();
    refused(&out, &dir, "others can read it; run 'chmod 600");

    let paper = config(&dir, "paper");
    let out = run(&dir, &paper, &["--live"]).output().unwrap();
    refused(
        &out,
        &dir,
        "--live is only for a config with run.mode = \"live\"",
    );

    let testnet = config(&dir, "testnet");
    let out = run(&dir, &testnet, &[]).output().unwrap();
    refused(&out, &dir, "testnet trading needs API keys");
    // With keys, testnet passes the gate; with paper execution (the
    // shipped config's) it is refused by what follows it.
    let out = run(&dir, &testnet, &[])
        .env("AUTOBOT_API_KEY", "k")
        .env("AUTOBOT_API_SECRET", SECRET)
        .output()
        .unwrap();
    refused(&out, &dir, "trades on an exchange, so");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs [exchange] execution = \"exchange\" and endpoint = \"url\"; it has execution = \"paper\" and endpoint = \"simulator\""),
        "{err}"
    );
}

/// Issue 34: a live config that cannot trade is refused at once, never
/// after the countdown, and nothing announces the synthetic market.
#[test]
fn a_live_config_on_paper_fills_is_refused_before_the_countdown() {
    let dir = base("live-paper");
    let live = config(&dir, "live");
    let started = std::time::Instant::now();
    let out = run(&dir, &live, &["--live"])
        .env("AUTOBOT_API_KEY", "k")
        .env("AUTOBOT_API_SECRET", SECRET)
        .output()
        .unwrap();
    refused(&out, &dir, "run.mode = \"live\" trades on an exchange");
    let err = String::from_utf8_lossy(&out.stderr);
    for never in [
        "starting in",
        "LIVE TRADING",
        "synthetic market",
        "simulator via",
    ] {
        assert!(!err.contains(never), "{never:?} in: {err}");
    }
    // The countdown is 10 s; the refusal comes before it.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn the_live_countdown_names_what_will_trade_and_ctrl_c_aborts_it() {
    let dir = base("countdown");
    let live = exchange_config(&dir, "live");
    let mut child = run(&dir, &live, &["--live"])
        .env("AUTOBOT_API_KEY", "k")
        .env("AUTOBOT_API_SECRET", SECRET)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut banner = String::new();
    // Read until the countdown's first number: the banner is complete then.
    for line in lines.by_ref() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.trim() == "10" {
            break;
        }
    }
    for expect in [
        "LIVE TRADING WITH REAL MONEY",
        "BTCUSDT, ETHUSDT",
        "max position",
        "API keys from:  environment",
        "starting in 10 s; Ctrl-C aborts",
    ] {
        assert!(banner.contains(expect), "expected {expect:?} in: {banner}");
    }
    assert!(!banner.contains(SECRET));
    assert!(!banner.contains("synthetic"), "{banner}");
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let rest: String = lines.map(|l| l.unwrap() + "\n").collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(
        rest.contains("live start aborted during the countdown"),
        "{rest}"
    );
    assert!(
        !dir.join("runs").exists(),
        "an aborted start made a run directory"
    );
}

/// The shipped testnet config: Binance's testnet over signed REST, in
/// manual mode; without keys it is refused at the gate, before any
/// network or run directory.
#[test]
fn the_shipped_testnet_config_needs_keys_and_starts_manual() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/testnet.toml");
    let cfg = autobot_tools::config::AppConfig::load(&path).unwrap();
    assert_eq!(cfg.run.mode, autobot_tools::config::Deployment::Testnet);
    assert_eq!(
        cfg.exchange.execution,
        autobot_tools::config::Execution::Exchange
    );
    assert!(
        cfg.exchange
            .rest_url
            .starts_with("https://testnet.binancefuture.com")
    );
    assert_eq!(
        autobot_engine::event::ControlMode::from(cfg.core().control.mode),
        autobot_engine::event::ControlMode::Manual
    );
    let dir = base("testnet-shipped");
    let out = run(&dir, &path, &[]).output().unwrap();
    refused(&out, &dir, "testnet trading needs API keys");
}
