//! The binary refuses bad input with one line and a non-zero exit.

use autobot_test_support::Scratch;
use std::process::Command;

fn autobot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_autobot"));
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    c
}

fn one_line_failure(args: &[&str]) -> String {
    let out = autobot().args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn unknown_flag() {
    let e = one_line_failure(&["run", "--frobnicate"]);
    assert!(e.contains("--frobnicate"), "{e}");
}

#[test]
fn missing_config_file() {
    let e = one_line_failure(&["run", "--config", "config/nope.toml"]);
    assert!(e.contains("config/nope.toml: cannot read config"), "{e}");
}

#[test]
fn a_config_that_is_not_text_is_named_once() {
    let dir = Scratch::new("cli-utf8");
    let p = dir.join("binary.toml");
    std::fs::write(&p, b"\xff\xfe[run]\n").unwrap();
    let e = one_line_failure(&["run", "--config", p.to_str().unwrap()]);
    assert!(e.contains("binary.toml: cannot read config"), "{e}");
    assert_eq!(e.matches("valid UTF-8").count(), 1, "{e}");
}

#[test]
fn config_error() {
    let dir = Scratch::new("cli");
    let p = dir.join("bad.toml");
    std::fs::write(&p, "[run]\nmode = \"paper\"\nspeed = 3\n").unwrap();
    let e = one_line_failure(&["run", "--config", p.to_str().unwrap()]);
    assert!(
        e.contains("run.speed") && e.contains("unknown field"),
        "{e}"
    );
    std::fs::remove_file(p).unwrap();
}

#[test]
fn out_of_range_flag() {
    let e = one_line_failure(&["run", "--duration", "0"]);
    assert!(e.contains("--duration 0 is out of range"), "{e}");
}

#[test]
fn help_reads_like_a_manual() {
    let out = autobot().args(["run", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--config",
        "--duration",
        "--seed",
        "--events",
        "synthetic market",
    ] {
        assert!(help.contains(needle), "{needle} missing from help:\n{help}");
    }
}

#[test]
fn zero_events_is_refused() {
    let e = one_line_failure(&["run", "--events", "0"]);
    assert!(e.contains("--events 0 would run nothing"), "{e}");
    assert!(e.contains("allowed: 1 or more"), "{e}");
}

#[test]
fn a_dry_run_calls_itself_a_dry_run() {
    let dir = Scratch::new("dry-run");
    let paper = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/paper.toml");
    let text = std::fs::read_to_string(paper).unwrap().replacen(
        "mode = \"paper\"",
        "mode = \"dry-run\"",
        1,
    );
    let config = dir.join("dry.toml");
    std::fs::write(&config, text).unwrap();
    let runs = dir.join("runs");
    let out = autobot()
        .args(["run", "--events", "3000", "--config"])
        .arg(&config)
        .arg("--run-dir")
        .arg(&runs)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("dry run (signals only) of"), "{stderr}");
    assert!(
        stdout.starts_with("autobot dry run (signals only) — "),
        "{stdout}"
    );
    assert!(!stdout.contains("paper run"), "{stdout}");
}

/// A missing argument is named, with the subcommand's usage and help.
#[test]
fn a_missing_argument_is_named_with_the_usage() {
    let e = one_line_failure(&["backtest", "data.csv"]);
    assert!(
        e.contains("the following required arguments were not provided: --out <DIR>"),
        "{e}"
    );
    assert!(e.contains("usage: autobot backtest"), "{e}");
    assert!(e.contains("(see 'autobot backtest --help')"), "{e}");
}

#[test]
fn zero_rows_to_generate_is_refused() {
    let e = one_line_failure(&["generate", "--rows", "0", "--out", "/tmp/autobot-never"]);
    assert!(e.contains("--rows 0"), "{e}");
    assert!(!std::path::Path::new("/tmp/autobot-never").exists());
}

#[test]
fn a_run_directory_that_does_not_exist_is_said_so() {
    for sub in ["replay", "analyze", "dashboard"] {
        let e = one_line_failure(&[sub, "/nonexistent/run"]);
        assert!(
            e.contains("/nonexistent/run: no such directory"),
            "{sub}: {e}"
        );
    }
    let e = one_line_failure(&["loadtest", "--rates", "0"]);
    assert!(e.contains("--rates 0 is out of range"), "{e}");
}
