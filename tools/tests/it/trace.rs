//! The readable trace end to end, through the binary: a backtest's trace
//! (`--trace`, with `--keep-journal`) is exactly what `autobot replay
//! --trace` prints for the journal it kept; it names every symbol, the
//! strategy and the rules, prints decimals, counts entries not taken per
//! second; the filters and JSON lines work on the replay; a bad filter is
//! refused with what is allowed.

use std::path::Path;

use autobot_test_support::Scratch;

use crate::common::{autobot, generated, ok, text};

/// The replay's trace: its stdout without the summary lines after it.
fn replay_trace(dir: &Path, args: &[&str]) -> String {
    let out = ok(&autobot()
        .arg("replay")
        .arg(dir)
        .arg("--trace")
        .args(args)
        .output()
        .unwrap());
    out.lines()
        .filter(|l| {
            !l.starts_with("replayed ")
                && !l.starts_with("output digest")
                && !l.starts_with("no recorded checkpoint")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn a_backtest_trace_is_the_replay_trace_of_the_journal_it_kept() {
    let scratch = Scratch::new("trace");
    let files = generated(&scratch.path().join("data"), 40000);
    let out = scratch.path().join("bt");
    ok(&autobot()
        .args(["backtest", "--trace", "--keep-journal", "--out"])
        .arg(&out)
        .args(&files)
        .output()
        .unwrap());
    let backtest = std::fs::read_to_string(out.join("trace.txt")).unwrap();
    assert!(backtest.lines().count() > 50, "{backtest}");
    assert_eq!(replay_trace(&out, &[]), backtest);

    // Names, decimals, rules, and the per-second count of entries not taken.
    for want in [
        "BTCUSDT",
        "ETHUSDT",
        "scalper wants",
        "(level 0)",
        "entries not taken: ",
    ] {
        assert!(backtest.contains(want), "no {want:?} in the trace");
    }
    assert!(
        !backtest
            .as_bytes()
            .windows(10)
            .any(|w| w.iter().all(u8::is_ascii_digit)),
        "a raw fixed-point number in the trace"
    );

    // Filters on the replay: only ETHUSDT's orders, as JSON lines.
    let jsonl = replay_trace(
        &out,
        &[
            "--format", "jsonl", "--symbol", "ETHUSDT", "--kind", "order",
        ],
    );
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["symbol"] == "ETHUSDT" && r["kind"] == "order"),
        "{jsonl}"
    );

    // A filter naming nothing configured is refused with what is.
    let bad = autobot()
        .arg("replay")
        .arg(&out)
        .args(["--trace", "--strategy", "nope"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad)
            .contains("--strategy nope: not a strategy instance (trend, mean_reversion, scalper)"),
        "{}",
        text(&bad)
    );
}
