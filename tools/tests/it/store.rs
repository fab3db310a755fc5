//! The trade store in SQLite, read back by Python's own sqlite3 (an
//! independent reader): the store a run keeps live holds the journal's
//! fills, and a rebuild from the journal holds exactly its rows; a kept
//! backtest's round trips are the report's. (PostgreSQL: `store_pg.rs`.)

use std::path::Path;

use autobot_test_support::Scratch;

use crate::common::{autobot, ok};

/// Every table's rows (sorted dump), the fills' count and fee sum, and
/// the journal CSV's fills (OrderUpdate with a quantity) for comparison.
const READ: &str = r#"
import csv, decimal, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}
fees = sum(decimal.Decimal(r[0]) for r in db.execute("SELECT fee FROM fills"))
want_fills, want_fees = 0, decimal.Decimal(0)
if len(sys.argv) > 2:
    with open(sys.argv[2], newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "order_update" and row["qty"] and decimal.Decimal(row["qty"]) > 0:
                want_fills += 1
                want_fees += decimal.Decimal(row["fee"])
dump = "\n".join(sorted(l for l in db.iterdump() if not l.startswith("INSERT INTO \"runs\"")))
runs = [list(r) for r in db.execute("SELECT run, last_seq, inputs, live, complete FROM runs")]
print(json.dumps({"tables": tables, "counts": counts, "fees": str(fees),
                  "want_fills": want_fills, "want_fees": str(want_fees),
                  "version": db.execute("PRAGMA user_version").fetchone()[0], "dump": dump,
                  "runs": runs}))
"#;

fn read(db: &Path, journal_csv: Option<&Path>) -> serde_json::Value {
    let mut c = std::process::Command::new("python3");
    c.args(["-c", READ]).arg(db);
    if let Some(j) = journal_csv {
        c.arg(j);
    }
    serde_json::from_str(&ok(&c.output().unwrap())).unwrap()
}

fn rebuild(dir: &Path, out: Option<&Path>) -> String {
    let mut c = autobot();
    c.args(["store", "rebuild"]).arg(dir);
    if let Some(o) = out {
        c.arg("--out").arg(o);
    }
    ok(&c.output().unwrap())
}

#[test]
fn a_run_keeps_a_live_store_that_a_rebuild_reproduces_row_for_row() {
    let d = Scratch::new("store-run");
    let run = crate::common::finished_run(d.path());
    // Kept current by the run itself ([store] live is the default).
    let live = run.join("store.sqlite");
    assert!(live.is_file(), "the run left no live store");
    let csv = d.join("inputs.csv");
    ok(&autobot()
        .args(["journal", "export", "--format", "csv", "--out"])
        .arg(&csv)
        .arg(&run)
        .output()
        .unwrap());
    let s = read(&live, Some(&csv));
    assert_eq!(s["version"], 2);
    for t in [
        "cancels",
        "decisions",
        "equity",
        "fills",
        "orders",
        "round_trips",
        "runs",
        "state_changes",
    ] {
        assert!(
            s["tables"].as_array().unwrap().iter().any(|x| x == t),
            "{t}: {}",
            s["tables"]
        );
    }
    let fills = s["counts"]["fills"].as_u64().unwrap();
    assert!(fills > 0, "{}", s["counts"]);
    assert_eq!(fills, s["want_fills"].as_u64().unwrap());
    assert_eq!(s["fees"], s["want_fees"]);
    assert!(s["counts"]["orders"].as_u64().unwrap() > 0);
    assert!(s["counts"]["decisions"].as_u64().unwrap() > 0);
    assert!(s["counts"]["equity"].as_u64().unwrap() > 0);
    // One run, followed live to its last input.
    let runs = s["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let name = run.file_name().unwrap().to_str().unwrap();
    assert_eq!(runs[0][0], name);
    assert_eq!(
        (runs[0][3].as_i64(), runs[0][4].as_i64()),
        (Some(1), Some(1))
    );

    // A rebuild from the journal: the same rows, marked rebuilt.
    let again = d.join("again.sqlite");
    let said = rebuild(&run, Some(&again));
    assert!(
        said.contains("rebuilt") && said.contains("again.sqlite"),
        "{said}"
    );
    let r = read(&again, None);
    assert_eq!(r["dump"], s["dump"]);
    assert_eq!(r["runs"][0][1], runs[0][1]);
    assert_eq!(r["runs"][0][3], 0);
    // And in place, over the live store.
    rebuild(&run, None);
    assert_eq!(read(&live, None)["dump"], s["dump"]);
}

#[test]
fn a_kept_backtest_rebuilds_with_the_reports_round_trips() {
    let d = Scratch::new("store-backtest");
    let files = crate::common::generated(&d.join("data"), 60_000);
    let out = d.join("bt");
    ok(&autobot()
        .args(["backtest", "--keep-journal", "--out"])
        .arg(&out)
        .args(&files)
        .output()
        .unwrap());
    rebuild(&out, None);
    let s = read(&out.join("store.sqlite"), None);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        s["counts"]["round_trips"].as_u64().unwrap(),
        r["round_trips"]["trades"].as_u64().unwrap()
    );
    assert_eq!(
        s["counts"]["fills"].as_u64().unwrap(),
        r["fills"].as_u64().unwrap()
    );
}
