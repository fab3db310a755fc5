//! `autobot backtest` on the real data of `../shared/data/`: the 1-minute
//! bar file and the tick capture, each with its report; the same backtest
//! twice gives the same bytes; an imported journal gives what the raw
//! files give; refusals are clear.

mod common;

use std::path::{Path, PathBuf};

use common::autobot;

const BARS: &str = "../shared/data/klines/BTCUSDT_perp_1m.csv";
const TICKS: &str = "../shared/data/ticks/btcusdt_20240808.gz";

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("autobot-backtest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn backtest(config: &str, data: &[&str], out: &Path) -> serde_json::Value {
    let o = autobot()
        .args(["backtest", "-c", config, "--out"])
        .arg(out)
        .args(data)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "backtest failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in [
        "report.json",
        "trades.csv",
        "round_trips.csv",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

fn import(config: &str, data: &str, out: &Path) {
    let o = autobot()
        .args(["import", "-c", config, "--out"])
        .arg(out)
        .arg(data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Imports `data` into `base/imported` and backtests that journal into `base/c`.
fn replay_import(config: &str, data: &str, base: &Path) {
    import(config, data, &base.join("imported"));
    let o = autobot()
        .args(["backtest", "-c", config, "--out"])
        .arg(base.join("c"))
        .arg("--journal")
        .arg(base.join("imported"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(p).unwrap()
}

/// What every report must hold together: the exchange's wallet is the
/// core's balance, the trades file has one row per fill, the page has
/// its three charts.
fn consistent(r: &serde_json::Value, out: &Path) {
    let a = &r["account"];
    let flat = r["exchange"]["liquidations"] == 0;
    assert_eq!(a["exchange_wallet"], a["balance"], "{a}");
    assert!(flat);
    let fills = r["fills"].as_u64().unwrap();
    assert!(fills > 0, "the strategies traded: {r}");
    assert_eq!(
        read(out.join("trades.csv")).lines().count() as u64,
        fills + 1
    );
    let trips = r["round_trips"]["trades"].as_u64().unwrap();
    assert_eq!(
        read(out.join("round_trips.csv")).lines().count() as u64,
        trips + 1
    );
    let html = read(out.join("report.html"));
    assert_eq!(html.matches("<svg").count(), 3, "equity, drawdown, regimes");
    for s in [
        "Equity",
        "Drawdown",
        "Regime timeline",
        "Sharpe",
        "By strategy",
    ] {
        assert!(html.contains(s), "{s}");
    }
    for fetch in ["src=", "href=", "<link", "<script", "url("] {
        assert!(!html.contains(fetch), "the page fetches nothing: {fetch}");
    }
}

#[test]
fn the_bar_file_backtests_the_same_twice_and_as_an_imported_journal() {
    let base = temp("bars");
    let cfg = "config/backtest-1m.toml";
    let r = backtest(cfg, &[BARS], &base.join("a"));
    assert_eq!(r["data"]["events"], 127_056);
    consistent(&r, &base.join("a"));
    let per_strategy = r["per_strategy"].as_array().unwrap();
    let trips: u64 = per_strategy
        .iter()
        .map(|b| b["trades"].as_u64().unwrap())
        .sum();
    assert_eq!(trips, r["round_trips"]["trades"].as_u64().unwrap());
    assert!(r["sharpe"].is_number() && r["max_drawdown"].as_f64().unwrap() > 0.0);
    // Byte-identical JSON on a second run.
    backtest(cfg, &[BARS], &base.join("b"));
    assert_eq!(
        read(base.join("a/report.json")),
        read(base.join("b/report.json"))
    );
    // Imported once, replayed from the journal: the same report.
    replay_import(cfg, BARS, &base);
    assert_eq!(
        read(base.join("a/report.json")),
        read(base.join("c/report.json"))
    );
    assert_eq!(
        read(base.join("a/trades.csv")),
        read(base.join("c/trades.csv"))
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn the_tick_capture_backtests_with_l2_fills_and_funding_at_midnight() {
    let base = temp("ticks");
    let cfg = "config/paper.toml";
    let r = backtest(cfg, &[TICKS], &base.join("a"));
    consistent(&r, &base.join("a"));
    // Every line of the capture became at least one event (depth diffs
    // are split into several).
    assert!(r["data"]["events"].as_u64().unwrap() > 93_954);
    // The capture spans 00:00 UTC, a funding time: the position then pays.
    assert_eq!(r["exchange"]["fundings"], 1, "{}", r["exchange"]);
    assert_ne!(r["account"]["funding"], "0");
    backtest(cfg, &[TICKS], &base.join("b"));
    assert_eq!(
        read(base.join("a/report.json")),
        read(base.join("b/report.json"))
    );
    replay_import(cfg, TICKS, &base);
    assert_eq!(
        read(base.join("a/report.json")),
        read(base.join("c/report.json"))
    );
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn bad_backtest_input_is_refused_with_a_clear_message() {
    let base = temp("bad");
    let fail = |args: &[&str]| {
        let o = autobot().args(args).output().unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let out = base.join("out");
    let out = out.to_str().unwrap();
    // A directory that is not an import.
    let e = fail(&[
        "backtest",
        "--journal",
        base.to_str().unwrap(),
        "--out",
        out,
    ]);
    assert!(
        e.contains("import.toml") && e.contains("autobot import"),
        "{e}"
    );
    // A file whose symbol is not configured.
    let odd = base.join("DOGEUSDT-1m.csv");
    std::fs::write(&odd, "open_time,open,high,low,close,volume\n").unwrap();
    let e = fail(&["backtest", odd.to_str().unwrap(), "--out", out]);
    assert!(
        e.contains("DOGEUSDT-1m.csv") && e.contains("BTCUSDT"),
        "{e}"
    );
    // A torn row names its file and line.
    let torn = base.join("BTCUSDT-1m.csv");
    std::fs::write(
        &torn,
        "open_time,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,1.5,2,1,x,10\n",
    )
    .unwrap();
    let e = fail(&["backtest", torn.to_str().unwrap(), "--out", out]);
    assert!(e.contains("BTCUSDT-1m.csv:3"), "{e}");
    assert!(
        !Path::new(out).join("report.json").exists(),
        "no half report"
    );
    let _ = std::fs::remove_dir_all(&base);
}
