//! `autobot store rebuild`: a run's journal as a SQLite read model, read
//! back by Python's own sqlite3 (an independent reader): its fills are the
//! journal's fills, its round trips the backtest report's, and two
//! rebuilds hold the same rows.

use std::path::Path;

use autobot_test_support::Scratch;

mod common;
use common::{autobot, ok};

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
dump = "\n".join(sorted(l for l in db.iterdump() if not l.startswith("INSERT INTO \"meta\"")))
print(json.dumps({"tables": tables, "counts": counts, "fees": str(fees),
                  "want_fills": want_fills, "want_fees": str(want_fees),
                  "version": db.execute("PRAGMA user_version").fetchone()[0], "dump": dump}))
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
fn a_run_rebuilds_into_a_store_that_holds_its_journal_fills() {
    let d = Scratch::new("store-run");
    let run = common::finished_run(d.path());
    let said = rebuild(&run, None);
    assert!(
        said.contains("rebuilt") && said.contains("store.sqlite"),
        "{said}"
    );
    let csv = d.join("inputs.csv");
    ok(&autobot()
        .args(["journal", "export", "--format", "csv", "--out"])
        .arg(&csv)
        .arg(&run)
        .output()
        .unwrap());
    let s = read(&run.join("store.sqlite"), Some(&csv));
    assert_eq!(s["version"], 1);
    for t in [
        "cancels",
        "decisions",
        "equity",
        "fills",
        "meta",
        "orders",
        "round_trips",
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
    // The same rows again.
    let again = d.join("again.sqlite");
    rebuild(&run, Some(&again));
    assert_eq!(read(&again, None)["dump"], s["dump"]);
}

#[test]
fn a_kept_backtest_rebuilds_with_the_reports_round_trips() {
    let d = Scratch::new("store-backtest");
    let files = common::generated(&d.join("data"), 60_000);
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
