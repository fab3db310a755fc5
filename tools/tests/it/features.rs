//! `autobot features` on the shared 1m bars and on trades: one row per
//! closed base bar once the vector is warm (warm-up again after each gap in
//! the data), forward-return labels that never span a gap, a manifest that
//! names every column and the list's hash, the same bytes every run.

use std::path::Path;

use autobot_engine::features::vector;
use autobot_test_support::Scratch;

use crate::common::{autobot, generated, ok};

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

/// Reads the Parquet export with pyarrow and compares it, cell by cell,
/// with the CSV export of the same data: same columns, same rows, the same
/// numbers (the CSV carries 11 significant digits), nulls where the CSV is
/// empty, and the schema's own metadata naming the feature list.
const READ_BACK: &str = r#"
import csv, json, math, sys
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
meta = {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items()}
with open(sys.argv[2], newline="") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
assert t.column_names == header, (t.column_names, header)
assert t.num_rows == len(rows), (t.num_rows, len(rows))
assert str(t.schema.field("close_time").type) == "timestamp[ms, tz=UTC]"
cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
nulls = 0
for r, row in enumerate(rows):
    assert cols[0][r] == row[0], (r, cols[0][r], row[0])
    assert cols[1][r].strftime("%Y-%m-%dT%H:%M:%S") == row[1][:19], (r, cols[1][r], row[1])
    assert cols[2][r] == int(row[2]), (r, cols[2][r], row[2])
    for c in range(3, len(header)):
        got, want = cols[c][r], row[c]
        if want == "":
            assert got is None, (r, header[c], got)
            nulls += 1
            continue
        w = float(want)
        assert math.isclose(got, w, rel_tol=1e-9, abs_tol=1e-300), (r, header[c], got, want)
print(json.dumps({"rows": t.num_rows, "nulls": nulls, "meta": meta}))
"#;

#[test]
fn the_parquet_export_reads_back_in_pyarrow_as_the_csv() {
    let scratch = Scratch::new("features-parquet");
    let csv = scratch.path().join("f.csv");
    let parquet = scratch.path().join("f.parquet");
    let m = export(&[BARS], &csv);
    let mp = export(&[BARS], &parquet);
    assert_eq!(m["rows"], mp["rows"]);
    assert_eq!(m["columns"], mp["columns"]);
    let python = crate::common::python_with(&["pyarrow==18.1.0"]);
    let o = std::process::Command::new(python)
        .args(["-c", READ_BACK])
        .arg(&parquet)
        .arg(&csv)
        .output()
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(seen["rows"], m["rows"]);
    // The last 60 rows of each of the three segments lack a 60-bar label.
    assert!(seen["nulls"].as_u64().unwrap() >= 3 * 60, "{seen}");
    assert_eq!(seen["meta"]["feature_hash"], m["feature_hash"]);
    assert_eq!(
        seen["meta"]["feature_version"],
        m["feature_version"].to_string()
    );
    assert_eq!(seen["meta"]["bar_secs"], "60");
}
