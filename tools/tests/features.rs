//! `autobot features` on the shared 1m bars and on trades: one row per
//! closed base bar once the vector is warm (warm-up again after each gap in
//! the data), forward-return labels that never span a gap, a manifest that
//! names every column and the list's hash, the same bytes every run.

use std::path::Path;

use autobot_engine::features::vector;
use autobot_test_support::Scratch;

mod common;
use common::{autobot, generated, ok};

const BARS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
);

fn export(args: &[&str], out: &Path) -> serde_json::Value {
    ok(&autobot()
        .arg("features")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap());
    let m = std::fs::read_to_string(autobot_tools::features_cmd::manifest_path(out)).unwrap();
    serde_json::from_str(&m).unwrap()
}

#[test]
fn the_bar_file_exports_a_row_per_warm_bar_with_labels_inside_its_segments() {
    let scratch = Scratch::new("features");
    let out = scratch.path().join("f.csv");
    let m = export(&[BARS], &out);
    // 127,056 bars in three segments, 60 of each warming up.
    assert_eq!(m["rows"], 127_056 - 3 * 60);
    assert_eq!(m["feature_hash"], format!("{:016x}", vector::hash()));
    assert_eq!(m["feature_version"], vector::FEATURE_VERSION);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let columns: Vec<&str> = m["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(header, columns);
    assert_eq!(header.len(), 4 + vector::N + 3);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (close, ms, f5, f60) = (
        at("close"),
        at("close_ms"),
        at("fwd_ret_5"),
        at("fwd_ret_60"),
    );
    let num = |r: &Vec<&str>, c: usize| r[c].parse::<f64>().unwrap();
    // A label is the log return to the bar h ahead.
    let k = 1000;
    let want = (num(&rows[k + 5], close) / num(&rows[k], close)).ln();
    assert!((num(&rows[k], f5) - want).abs() < 1e-9);
    // The first segment's last rows have no 60-bar label: the next bar
    // is 21 months on.
    let last_of_first = 43_199 - 60 - 1;
    assert!(rows[last_of_first][f60].is_empty());
    assert!(!rows[last_of_first - 60][f60].is_empty());
    let gap = num(&rows[last_of_first + 1], ms) - num(&rows[last_of_first], ms);
    assert!(gap > 86_400_000.0 * 300.0, "{gap}");
    // The same bytes again.
    let again = scratch.path().join("g.csv");
    export(&[BARS], &again);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn trades_make_candles_and_rows_too() {
    let scratch = Scratch::new("features-trades");
    let files = generated(&scratch.path().join("data"), 200_000);
    let out = scratch.path().join("t.csv");
    let args: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let cfg = "config/paper.toml";
    let mut all = vec!["--config", cfg, "--horizons", "1"];
    all.extend(args);
    let m = export(&all, &out);
    assert!(m["rows"].as_u64().unwrap() > 0, "{m}");
    assert_eq!(m["horizons"], serde_json::json!([1]));
}
