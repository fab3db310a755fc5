//! NautilusTrader Parquet catalogs in: a catalog written by
//! nautilus_trader's own `ParquetDataCatalog` (installed by the test into
//! a venv) imports into a journal whose every quote, trade and bar is the
//! one nautilus_trader reads back from the catalog (exact decimals, times
//! to the nanosecond, the aggressor as the side), across two files of one
//! partition and a gap in the bars; a backtest takes the catalog's root;
//! a price finer than 10⁻⁸ is refused naming its file and row.

use std::path::Path;
use std::process::Command;

use autobot_test_support::Scratch;

use crate::common::{autobot, ok, text};

/// Writes a catalog (argv[1]) and prints what nautilus_trader reads back
/// from it, as JSON. argv[2] == "fine": one quote priced at 9 decimals.
const WRITE: &str = r#"
import json, sys
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.model.data import QuoteTick, TradeTick, Bar, BarType
from nautilus_trader.model.identifiers import InstrumentId, TradeId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.enums import AggressorSide
cat = ParquetDataCatalog(sys.argv[1])
iid = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")
t0 = 1704067200_000_000_000
fine = len(sys.argv) > 2
digits = 9 if fine else 1
def quote(i):
    bid = "42000.123456789" if fine and i == 7 else f"{42000 + i * 0.1:.{digits}f}"
    return QuoteTick(iid, Price.from_str(bid), Price.from_str(f"{42000.1 + i * 0.1:.{digits}f}"),
                     Quantity.from_str(f"{1 + i % 7}.234"), Quantity.from_str("0.500"),
                     t0 + i * 1_000_000 + 17, t0 + i * 1_000_000 + 20)
# Two writes of disjoint ranges: two files in one partition.
cat.write_data([quote(i) for i in range(60)])
cat.write_data([quote(i) for i in range(60, 120)])
cat.write_data([TradeTick(iid, Price.from_str(f"{42000 + i * 0.1:.1f}"), Quantity.from_str("0.013"),
                          AggressorSide.BUYER if i % 3 else AggressorSide.SELLER, TradeId(str(5000 + i)),
                          t0 + i * 1_000_000 + 500, t0 + i * 1_000_000 + 600) for i in range(90)])
bt = BarType.from_str("BTCUSDT-PERP.BINANCE-1-MINUTE-LAST-EXTERNAL")
minutes = [m for m in range(12) if m not in (5, 6, 7)]  # three bars missing
cat.write_data([Bar(bt, Price.from_str("42000.0"), Price.from_str(f"{42010.5 + m:.1f}"),
                    Price.from_str("41990.0"), Price.from_str(f"{42000 + m:.1f}"),
                    Quantity.from_str("12.345"), t0 + (m + 1) * 60_000_000_000, t0 + (m + 1) * 60_000_000_000)
                for m in minutes])
out = {
    "quotes": [[q.ts_event, str(q.bid_price), str(q.bid_size), str(q.ask_price), str(q.ask_size)]
               for q in cat.quote_ticks(instrument_ids=[str(iid)])],
    "trades": [[t.ts_event, str(t.price), str(t.size), "BUY" if t.aggressor_side == AggressorSide.BUYER else "SELL",
                str(t.trade_id)] for t in cat.trade_ticks(instrument_ids=[str(iid)])],
    "bars": [[b.ts_event, str(b.close), str(b.volume)] for b in cat.bars(bar_types=[str(bt)])],
}
print(json.dumps(out))
"#;

fn write(python: &Path, dir: &Path, fine: bool) -> serde_json::Value {
    let mut c = Command::new(python);
    c.args(["-c", WRITE]).arg(dir);
    if fine {
        c.arg("fine");
    }
    serde_json::from_str(&ok(&c.output().unwrap())).unwrap()
}

/// `a` and `b` are the same decimal (`42000` and `42000.0`).
fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        };
        s.to_string()
    };
    norm(a) == norm(b)
}

#[test]
fn a_nautilus_catalog_imports_exactly_and_backtests() {
    let python = crate::common::python_with(&["nautilus_trader==1.221.0"]);
    let d = Scratch::new("nautilus");
    let catalog = d.join("catalog");
    let want = write(&python, &catalog, false);
    let quote_files = std::fs::read_dir(catalog.join("data/quote_tick/BTCUSDT-PERP.BINANCE"))
        .unwrap()
        .count();
    assert_eq!(quote_files, 2, "two files in the quote partition");

    let out = d.join("imported");
    let said = text(
        &autobot()
            .args(["import", "--config", "config/backtest-1m.toml", "--out"])
            .arg(&out)
            .arg(&catalog)
            .output()
            .unwrap(),
    );
    assert!(said.contains("120 rows (nautilus quotes)"), "{said}");
    assert!(said.contains("90 rows (nautilus trades)"), "{said}");
    assert!(said.contains("9 rows (nautilus bars)"), "{said}");
    assert!(
        said.contains("3 bars missing") || said.contains("gap"),
        "the bars' gap is listed: {said}"
    );
    let csv = ok(&autobot()
        .args(["journal", "export", "--format", "csv"])
        .arg(&out)
        .output()
        .unwrap());
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let of = |kind: &str| -> Vec<&Vec<&str>> { rows.iter().filter(|r| r[5] == kind).collect() };
    let (quotes, trades, bars) = (of("book_ticker"), of("agg_trade"), of("kline"));
    let wq = want["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), wq.len());
    for (i, (r, w)) in quotes.iter().zip(wq).enumerate() {
        assert_eq!(r[2], w[0].to_string(), "quote {i}: time");
        for (col, k) in [(8, 1), (9, 2), (10, 3), (11, 4)] {
            assert!(
                same(r[col], w[k].as_str().unwrap()),
                "quote {i}: {r:?} vs {w}"
            );
        }
    }
    let wt = want["trades"].as_array().unwrap();
    assert_eq!(trades.len(), wt.len());
    for (i, (r, w)) in trades.iter().zip(wt).enumerate() {
        assert_eq!(r[2], w[0].to_string(), "trade {i}: time");
        assert!(
            same(r[6], w[1].as_str().unwrap()) && same(r[7], w[2].as_str().unwrap()),
            "trade {i}: {r:?} vs {w}"
        );
        assert_eq!(
            (r[12], r[13]),
            (w[3].as_str().unwrap(), w[4].as_str().unwrap()),
            "trade {i}"
        );
    }
    let wb = want["bars"].as_array().unwrap();
    assert_eq!(bars.len(), wb.len());
    for (i, (r, w)) in bars.iter().zip(wb).enumerate() {
        // Known at its last millisecond, as a bar file's.
        let closed = w[0].as_u64().unwrap();
        assert_eq!(r[2], (closed - 1_000_000).to_string(), "bar {i}: time");
        assert!(
            same(r[6], w[1].as_str().unwrap()) && same(r[7], w[2].as_str().unwrap()),
            "bar {i}: {r:?} vs {w}"
        );
    }

    // `autobot indicators` reads the bar partition; a quote partition
    // holds no bars and says so.
    let bars_dir = catalog.join("data/bar/BTCUSDT-PERP.BINANCE-1-MINUTE-LAST-EXTERNAL");
    let values = d.join("values.csv");
    let said = text(
        &autobot()
            .args(["indicators", "--input"])
            .arg(&bars_dir)
            .arg("--out")
            .arg(&values)
            .output()
            .unwrap(),
    );
    assert!(
        said.contains("wrote indicators of 9 bars") && said.contains("1 gaps"),
        "{said}"
    );
    let o = autobot()
        .args(["indicators", "--input"])
        .arg(catalog.join("data/quote_tick/BTCUSDT-PERP.BINANCE"))
        .arg("--out")
        .arg(d.join("none.csv"))
        .output()
        .unwrap();
    assert!(!o.status.success() && text(&o).contains("holds no bars (nautilus quotes)"));
    assert!(!d.join("none.csv").exists());

    // The catalog's root backtests as the journal does.
    let report = d.join("bt");
    ok(&autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--out"])
        .arg(&report)
        .arg(&catalog)
        .output()
        .unwrap());
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(r["data"]["events"], 120 + 90 + 9);

    // A price with a ninth decimal is refused, never rounded.
    let fine = d.join("fine");
    write(&python, &fine, true);
    let o = autobot()
        .args(["import", "--config", "config/backtest-1m.toml", "--out"])
        .arg(d.join("fine-imported"))
        .arg(&fine)
        .output()
        .unwrap();
    let e = text(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("row 8: `bid_price` has a digit beyond the 8th decimal")
            && e.contains(".parquet"),
        "{e}"
    );
}
