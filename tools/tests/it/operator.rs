//! The operator's emergency paths against a real `autobot run` (issue 25):
//! kill then flatten closes a position (item 1); refusals and vetoes exit
//! non-zero and say why (item 4); the kill switch gets through 300 slow
//! connections and a client announcing a 1 GB body, and `kill -USR1`
//! engages it without the endpoint (item 9); refused requests are logged
//! escaped, cut and rate-limited.

use autobot_test_support::Scratch;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use autobot_engine::event::{InputBody, OperatorAction, Source};
use autobot_engine::runtime::read_journal;

use crate::common::{RunGuard, autobot, config, ctl, text, wait_for_journal};

fn status(run: &Path) -> serde_json::Value {
    let o = ctl(run, &["--json", "status"]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Polls the status until `done` holds (60 s at most).
fn until(run: &Path, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&status(run)) {
        assert!(Instant::now() < deadline, "{what}: not after 60 s");
        std::thread::yield_now();
    }
}

/// A run of the fast paper config in Manual mode (so the positions are the
/// operator's), its stderr kept in `stderr.log`.
fn start(base: &Path) -> (RunGuard, PathBuf) {
    let cfg = config(base);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let quiet = text
        .replace("mode = \"full-auto\"", "mode = \"manual\"")
        .replace(
            "max_volatility_bps = \"2.5\"",
            "max_volatility_bps = \"1000\"",
        )
        .replace("price_band = \"0.05\"", "price_band = \"0.25\"")
        // The synthetic book's top can be thin: the test's orders must not
        // depend on it.
        .replace("liquidity_fraction = \"0.5\"", "liquidity_fraction = \"100\"");
    assert_ne!(quiet, text);
    std::fs::write(&cfg, quiet).unwrap();
    let log = std::fs::File::create(base.join("stderr.log")).unwrap();
    let mut child = autobot()
        .args(["run", "--duration", "600", "--config"])
        .arg(&cfg)
        .arg("--run-dir")
        .arg(base)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let run = wait_for_journal(base, &mut child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.join("control.addr").exists() || !run.join("control.token").exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "autobot run exited early"
        );
        assert!(Instant::now() < deadline, "no control endpoint after 60 s");
        std::thread::yield_now();
    }
    let child = RunGuard(Some(child));
    // Wait for a market: the mark is on the board.
    until(&run, "a market", |v| v["symbols"][0]["mark"].is_string());
    (child, run)
}

fn stop(child: RunGuard) {
    let mut child = child.take();
    let int = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    assert!(child.wait().unwrap().success());
}

fn operator_actions(run: &Path) -> Vec<OperatorAction> {
    read_journal(&run.join("journal"))
        .unwrap()
        .events
        .into_iter()
        .filter_map(|ev| match ev.body {
            InputBody::Operator(c) if ev.header.source == Source::Operator => Some(c.action),
            _ => None,
        })
        .collect()
}

#[test]
fn kill_flatten_refusals_and_vetoes_say_what_happened() {
    let scratch = Scratch::new("operator");
    let base = scratch.path().to_path_buf();
    let (child, run) = start(&base);

    // Item 4: a refused mode change exits non-zero and names the reason.
    let full = ctl(&run, &["mode", "full-auto"]);
    assert_eq!(full.status.code(), Some(3), "{}", text(&full));
    assert!(
        text(&full).contains("REFUSED") && text(&full).contains("one step at a time"),
        "{}",
        text(&full)
    );

    // Item 1: a position, the kill switch, then flatten: it closes.
    let buy = ctl(&run, &["order", "BTCUSDT", "buy", "0.01"]);
    assert!(buy.status.success(), "{}", text(&buy));
    until(&run, "the buy filled", |v| {
        v["symbols"][0]["position"] == "0.01"
    });
    let kill = ctl(&run, &["kill"]);
    assert!(kill.status.success(), "{}", text(&kill));
    // Under the kill switch an order that adds risk is vetoed, in words.
    let more = ctl(&run, &["order", "BTCUSDT", "buy", "0.01"]);
    assert_eq!(more.status.code(), Some(3), "{}", text(&more));
    assert!(
        text(&more).contains("VETOED") && text(&more).contains("KillSwitch"),
        "{}",
        text(&more)
    );
    // ... and a mode change back is refused for the kill switch.
    let manual = ctl(&run, &["mode", "manual"]);
    assert_eq!(manual.status.code(), Some(3), "{}", text(&manual));
    assert!(
        text(&manual).contains("kill switch is on"),
        "{}",
        text(&manual)
    );
    let flatten = ctl(&run, &["flatten", "BTCUSDT"]);
    assert!(flatten.status.success(), "{}", text(&flatten));
    assert!(
        text(&flatten).contains("1 order(s) sent"),
        "{}",
        text(&flatten)
    );
    until(&run, "the position closed", |v| {
        v["symbols"][0]["position"] == "0"
    });
    assert_eq!(status(&run)["kill_switch"], true);

    // kill --flatten on a fresh position: one command, switch on, flat.
    let reset = ctl(&run, &["reset"]);
    assert!(reset.status.success(), "{}", text(&reset));
    let manual = ctl(&run, &["mode", "manual"]);
    assert!(manual.status.success(), "{}", text(&manual));
    let sell = ctl(&run, &["order", "ETHUSDT", "sell", "0.05"]);
    assert!(sell.status.success(), "{}", text(&sell));
    until(&run, "the sell filled", |v| {
        v["symbols"][1]["position"] == "-0.05"
    });
    let kf = ctl(&run, &["kill", "--flatten"]);
    assert!(kf.status.success(), "{}", text(&kf));
    assert!(text(&kf).contains("1 order(s) sent"), "{}", text(&kf));
    until(&run, "flat again", |v| v["symbols"][1]["position"] == "0");

    // A strategy instance by name: disabled and enabled again, journaled;
    // a name no instance has is refused with the names there are.
    for to in ["disable", "enable"] {
        let o = ctl(&run, &["strategy", "scalper", to]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let unknown = ctl(&run, &["strategy", "scalpr", "disable"]);
    assert!(!unknown.status.success(), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("no strategy instance is named \"scalpr\"")
            && text(&unknown).contains("trend, mean_reversion, scalper"),
        "{}",
        text(&unknown)
    );

    stop(child);
    assert_eq!(
        operator_actions(&run),
        [
            OperatorAction::SetMode,
            OperatorAction::Order,
            OperatorAction::Kill,
            OperatorAction::Order,
            OperatorAction::SetMode,
            OperatorAction::Flatten,
            OperatorAction::Reset,
            OperatorAction::SetMode,
            OperatorAction::Order,
            OperatorAction::Kill,
            OperatorAction::DisableStrategy,
            OperatorAction::EnableStrategy,
        ]
    );
    let replay = autobot()
        .args(["replay", "--verify"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", text(&replay));
}

/// Opens a connection and sends `bytes` (and nothing more).
fn open(addr: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(bytes).unwrap();
    s
}

#[test]
fn the_kill_switch_gets_through_a_starved_endpoint_and_by_signal() {
    let scratch = Scratch::new("starve");
    let base = scratch.path().to_path_buf();
    let (child, run) = start(&base);
    let addr = std::fs::read_to_string(run.join("control.addr")).unwrap();
    let addr = addr.trim();
    let token = std::fs::read_to_string(run.join("control.token")).unwrap();

    // Refused requests with escape sequences and 100 KB paths: counted,
    // logged escaped, cut, at most about a line a second.
    for i in 0..50 {
        // Odd: a 5 KB path (refused for the token); even: 100 KB (refused
        // for the head's size, before the token is read).
        let long = if i % 2 == 0 { 100_000 } else { 5_000 };
        let path = format!("/\x1b[2J{i}{}", "a".repeat(long));
        let mut s = open(addr, format!("GET {path} HTTP/1.1\r\n\r\n").as_bytes());
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }

    // 300 connections that never finish their request, one that announces
    // a 1 GB body without a token, one with the token: the slow ones hold
    // (or are evicted from) slots; the big ones are answered at once.
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|i| {
            open(
                addr,
                format!("POST /kill HTTP/1.1\r\nX-Slow: {i}\r\n").as_bytes(),
            )
        })
        .collect();
    let mut huge = open(
        addr,
        b"POST /order HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\nx",
    );
    let mut huge_authed = open(
        addr,
        format!(
            "POST /order HTTP/1.1\r\nAuthorization: Bearer {}\r\nContent-Length: 1000000000\r\n\r\nx",
            token.trim()
        )
        .as_bytes(),
    );
    // A byte a second from one of them, while the operator kills.
    let _ = slow[0].write_all(b"X");
    let began = Instant::now();
    let kill = ctl(&run, &["kill"]);
    let took = began.elapsed();
    assert!(kill.status.success(), "{}", text(&kill));
    assert!(took < Duration::from_secs(1), "ctl kill took {took:?}");
    assert_eq!(status(&run)["kill_switch"], true);
    let mut answer = String::new();
    let _ = huge.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let mut answer = String::new();
    let _ = huge_authed.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    drop(slow);

    // The endpoint-free path: SIGUSR1 engages the switch (after a reset).
    let reset = ctl(&run, &["reset"]);
    assert!(reset.status.success(), "{}", text(&reset));
    assert_eq!(status(&run)["kill_switch"], false);
    let usr1 = std::process::Command::new("kill")
        .args(["-USR1", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(usr1.success());
    until(&run, "SIGUSR1 engaged the kill switch", |v| {
        v["kill_switch"] == true
    });

    stop(child);
    let kills = operator_actions(&run)
        .into_iter()
        .filter(|a| *a == OperatorAction::Kill)
        .count();
    assert_eq!(kills, 2, "the endpoint's kill and the signal's, journaled");
    let log = std::fs::read_to_string(base.join("stderr.log")).unwrap();
    let refused: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("refused a request"))
        .collect();
    assert!(!refused.is_empty(), "{log}");
    assert!(refused.len() <= 10, "{} lines: {log}", refused.len());
    assert!(
        !log.contains('\x1b'),
        "a raw escape sequence reached the log"
    );
    assert!(refused.iter().all(|l| l.len() < 300), "{refused:?}");
    assert!(refused.iter().any(|l| l.contains("\\u{1b}")), "{refused:?}");
    let summary = std::fs::read_to_string(run.join("summary.txt")).unwrap();
    assert!(summary.contains("1 by SIGUSR1"), "{summary}");
}
