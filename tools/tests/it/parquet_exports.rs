//! Parquet exports read back by an independent reader (pyarrow, installed
//! into a virtual environment by the test itself): `journal export
//! --format parquet` of a finished run, and a backtest's trades, round
//! trips and equity, each compared cell by cell with its CSV twin.

use std::path::{Path, PathBuf};

use autobot_test_support::Scratch;

use crate::common::{autobot, ok, text};

/// For each `PARQUET CSV` pair: same columns, same rows, every cell equal
/// (decimals exactly, as `Decimal`), nulls where the CSV is empty. Prints
/// the row count of each.
const COMPARE: &str = r#"
import csv, decimal, json, sys
import pyarrow.parquet as pq
seen = {}
args = sys.argv[1:]
for pq_path, csv_path in zip(args[::2], args[1::2]):
    t = pq.read_table(pq_path)
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    assert t.column_names == header, (pq_path, t.column_names, header)
    assert t.num_rows == len(rows), (pq_path, t.num_rows, len(rows))
    cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
    for r, row in enumerate(rows):
        for c, want in enumerate(row):
            got = cols[c][r]
            if want == "":
                assert got is None, (pq_path, r, header[c], got)
            elif isinstance(got, decimal.Decimal):
                assert got == decimal.Decimal(want), (pq_path, r, header[c], got, want)
            elif isinstance(got, int):
                assert got == int(want), (pq_path, r, header[c], got, want)
            else:
                assert str(got) == want, (pq_path, r, header[c], got, want)
    seen[pq_path.rsplit("/", 1)[-1]] = t.num_rows
print(json.dumps(seen))
"#;

fn compare(pairs: &[(PathBuf, PathBuf)]) -> serde_json::Value {
    let python = crate::common::python_with(&["pyarrow==18.1.0"]);
    let mut c = std::process::Command::new(python);
    c.args(["-c", COMPARE]);
    for (p, csv) in pairs {
        c.arg(p).arg(csv);
    }
    serde_json::from_str(&ok(&c.output().unwrap())).unwrap()
}

fn export(run: &Path, format: &str, out: &Path) {
    ok(&autobot()
        .args(["journal", "export", "--format", format, "--out"])
        .arg(out)
        .arg(run)
        .output()
        .unwrap());
}

#[test]
fn a_journal_exported_as_parquet_reads_back_as_its_csv() {
    let d = Scratch::new("parquet-journal");
    let run = crate::common::finished_run(d.path());
    let (pq, csv) = (d.join("inputs.parquet"), d.join("inputs.csv"));
    export(&run, "parquet", &pq);
    export(&run, "csv", &csv);
    let seen = compare(&[(pq, csv)]);
    // 30,000 market inputs and the run's own (start, timers, fills…).
    assert!(seen["inputs.parquet"].as_u64().unwrap() > 30_000, "{seen}");
    // Parquet is binary: not to a terminal.
    let o = autobot()
        .args(["journal", "export", "--format", "parquet"])
        .arg(&run)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("give it with --out FILE.parquet"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_backtest_writes_its_trades_round_trips_and_equity_as_parquet_too() {
    let d = Scratch::new("parquet-backtest");
    let bars = d.join("BTCUSDT_perp_1m.csv");
    let all = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    ))
    .unwrap();
    let head: String = all.lines().take(20_001).map(|l| format!("{l}\n")).collect();
    std::fs::write(&bars, head).unwrap();
    let out = d.join("bt");
    ok(&autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--out"])
        .arg(&out)
        .arg(&bars)
        .output()
        .unwrap());
    let pairs: Vec<(PathBuf, PathBuf)> = ["trades", "round_trips", "equity"]
        .iter()
        .map(|n| {
            (
                out.join(format!("{n}.parquet")),
                out.join(format!("{n}.csv")),
            )
        })
        .collect();
    let seen = compare(&pairs);
    for n in ["trades.parquet", "round_trips.parquet", "equity.parquet"] {
        assert!(seen[n].as_u64().unwrap() > 10, "{seen}");
    }
}
