//! freqtrade's feather files: written here by pyarrow in freqtrade's own
//! layout (`BTC_USDT_USDT-1m-futures.feather`: `date` a ns UTC timestamp,
//! five float columns, lz4), they import and backtest exactly as the same
//! bars from the shared CSV do, with the funding and mark files beside
//! them; a damaged one is refused by name.

use std::path::{Path, PathBuf};

use autobot_test_support::Scratch;

use crate::common::{autobot, ok, text};

const BARS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
);

/// Writes the first `rows` bars of the shared file as freqtrade's 1m
/// futures candles, and 8-hourly funding-rate and mark files over them.
const WRITE_FREQTRADE: &str = r#"
import csv, sys
import pyarrow as pa, pyarrow.feather as feather
src, out, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src) as f:
    bars = list(csv.reader(f))[1 : rows + 1]
ns = pa.timestamp("ns", tz="UTC")
def table(dates_ms, cols):
    arrays = [pa.array([d * 1_000_000 for d in dates_ms], type=ns)]
    arrays += [pa.array(c, type=pa.float64()) for c in cols]
    return pa.table(arrays, names=["date", "open", "high", "low", "close", "volume"])
t = [int(b[0]) for b in bars]
candles = table(t, [[float(b[i]) for b in bars] for i in range(1, 6)])
feather.write_feather(candles, f"{out}/BTC_USDT_USDT-1m-futures.feather", compression="lz4")
eight = 8 * 3600 * 1000
first = (t[0] // eight + 1) * eight
funding_times = list(range(first, t[-1], eight))
n = len(funding_times)
zero = [0.0] * n
funding = table(funding_times, [[0.0001] * n, zero, zero, zero, zero])
feather.write_feather(funding, f"{out}/BTC_USDT_USDT-8h-funding_rate.feather", compression="lz4")
close_at = {int(b[0]): float(b[4]) for b in bars}
marks = [close_at.get(ft - 60_000, float(bars[0][4])) for ft in funding_times]
mark = table(funding_times, [marks, marks, marks, marks, zero])
feather.write_feather(mark, f"{out}/BTC_USDT_USDT-8h-mark.feather", compression="lz4")
print(n)
"#;

fn freqtrade_files(dir: &Path, rows: usize) -> [PathBuf; 3] {
    let python = crate::common::python_with(&["pyarrow==18.1.0"]);
    let o = std::process::Command::new(python)
        .args(["-c", WRITE_FREQTRADE, BARS])
        .arg(dir)
        .arg(rows.to_string())
        .output()
        .unwrap();
    let fundings: u64 = ok(&o).trim().parse().unwrap();
    assert!(fundings >= 1, "{fundings}");
    ["1m-futures", "8h-funding_rate", "8h-mark"]
        .map(|k| dir.join(format!("BTC_USDT_USDT-{k}.feather")))
}

fn digest(out: &Path) -> String {
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    r["core"]["digest"].as_str().unwrap().to_string()
}

fn backtest(files: &[&Path], out: &Path) -> String {
    let o = autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--out"])
        .arg(out)
        .args(files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    text(&o)
}

#[test]
fn a_freqtrade_feather_file_imports_and_backtests_as_the_same_bars_in_csv() {
    let d = Scratch::new("feather");
    let rows = 20_000;
    let [candles, funding, mark] = freqtrade_files(d.path(), rows);
    // The same bars as the shared CSV's first rows.
    let csv = d.join("BTCUSDT_perp_1m.csv");
    let head: String = std::fs::read_to_string(BARS)
        .unwrap()
        .lines()
        .take(rows + 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&csv, head).unwrap();
    backtest(&[&csv], &d.join("csv"));
    let said = backtest(&[&candles], &d.join("feather"));
    assert!(
        said.contains("backtest of 20000 events (BTCUSDT)"),
        "{said}"
    );
    assert_eq!(digest(&d.join("feather")), digest(&d.join("csv")));
    // `autobot indicators` reads it too, to the same bytes.
    for (input, name) in [(&candles, "f.csv"), (&csv, "c.csv")] {
        ok(&autobot()
            .args(["indicators", "--input"])
            .arg(input)
            .arg("--out")
            .arg(d.join(name))
            .output()
            .unwrap());
    }
    assert_eq!(
        std::fs::read(d.join("f.csv")).unwrap(),
        std::fs::read(d.join("c.csv")).unwrap()
    );

    // With its funding and mark files: funding is charged from them.
    let said = backtest(&[&candles, &funding, &mark], &d.join("all"));
    assert!(said.contains("funding"), "{said}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("all/report.json")).unwrap()).unwrap();
    assert_ne!(digest(&d.join("all")), digest(&d.join("csv")), "{r}");

    // Import names each file's kind and rows.
    let o = autobot()
        .args(["import", "-c", "config/backtest-1m.toml", "--out"])
        .arg(d.join("imported"))
        .args([&candles, &funding, &mark])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("20000 rows (feather candles)"), "{err}");
    assert!(
        err.contains("(feather fundingRate)") && err.contains("(feather mark)"),
        "{err}"
    );
    let o = autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--journal"])
        .arg(d.join("imported"))
        .arg("--out")
        .arg(d.join("from-import"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(digest(&d.join("from-import")), digest(&d.join("all")));
}

#[test]
fn a_damaged_feather_file_is_refused_by_name_once() {
    let d = Scratch::new("feather-bad");
    let [candles, ..] = freqtrade_files(d.path(), 500);
    let bytes = std::fs::read(&candles).unwrap();
    let cut = d.join("ETH_USDT_USDT-1m-futures.feather");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--out"])
        .arg(d.join("out"))
        .arg(&cut)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ETH_USDT_USDT-1m-futures.feather: not a readable Arrow/feather file"),
        "{err}"
    );
    assert_eq!(err.matches("feather file").count(), 1, "{err}");
}
