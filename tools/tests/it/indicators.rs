//! `autobot indicators` through the real binary: its values over the first
//! 1000 bars of `../shared/data/klines/BTCUSDT_perp_1m.csv` agree with
//! TA-Lib's (the reference file of `engine/tests/indicators.rs`), a bad
//! header is refused with the expected one named, and bad bars are skipped
//! and counted without disturbing the others.

use autobot_test_support::Scratch;

use crate::common::autobot;
use autobot_engine::features::ta::Standard;

fn dir(name: &str) -> Scratch {
    Scratch::new(&format!("ind-{name}"))
}

fn first_bars(n: usize) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().take(n + 1).map(|l| format!("{l}\n")).collect()
}

fn parse(text: &str) -> Vec<Vec<Option<f64>>> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| {
            l.split(',')
                .skip(1)
                .map(|v| match v {
                    "" | "nan" => None,
                    v => Some(v.parse().unwrap()),
                })
                .collect()
        })
        .collect()
}

#[test]
fn values_agree_with_ta_lib_and_bad_bars_are_skipped() {
    let d = dir("ok");
    let mut bars = first_bars(1000);
    // One bad bar (high < low) in the middle: skipped, the rest unchanged.
    bars.push_str("1689738780000,30000,29000,31000,30000,1\n");
    std::fs::write(d.join("bars.csv"), &bars).unwrap();
    let out = autobot()
        .args(["indicators", "--input"])
        .arg(d.join("bars.csv"))
        .arg("--out")
        .arg(d.join("values.csv"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("line 1002: bar skipped: high < low"), "{err}");
    assert!(err.contains("(1 skipped, 0 gaps)"), "{err}");
    let ours = parse(&std::fs::read_to_string(d.join("values.csv")).unwrap());
    let talib = parse(include_str!(
        "../../../engine/tests/data/talib_btcusdt_1m.csv"
    ));
    assert_eq!(ours.len(), talib.len());
    for (i, (a, b)) in ours.iter().zip(&talib).enumerate() {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            match (x, y) {
                (None, None) => {}
                (Some(x), Some(y)) => assert!(
                    (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                    "row {i} column {k}: {x} vs TA-Lib {y}"
                ),
                _ => panic!("row {i} column {k}: {x:?} vs TA-Lib {y:?}"),
            }
        }
    }
}

#[test]
fn a_file_without_the_bar_header_is_refused() {
    let d = dir("bad");
    std::fs::write(d.join("bars.csv"), "time,price\n1,2\n").unwrap();
    let out = autobot()
        .args(["indicators", "--input"])
        .arg(d.join("bars.csv"))
        .arg("--out")
        .arg(d.join("values.csv"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "expected the header 'open_time,open,high,low,close,volume', found 'time,price'"
        ),
        "{err}"
    );
}

/// Runs `autobot indicators` on `bars` with `--simd path`.
fn indicators_with(d: &std::path::Path, path: &str) -> std::process::Output {
    autobot()
        .args(["indicators", "--simd", path, "--input"])
        .arg(d.join("bars.csv"))
        .arg("--out")
        .arg(d.join(format!("values-{path}.csv")))
        .output()
        .unwrap()
}

#[test]
fn every_kernel_path_writes_the_same_bytes() {
    let d = dir("paths");
    std::fs::write(d.join("bars.csv"), first_bars(3000)).unwrap();
    let mut outputs = Vec::new();
    for path in ["scalar", "avx2", "avx512"] {
        let out = indicators_with(&d, path);
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            // A path this CPU lacks is refused by name, never run.
            assert!(
                err.contains(&format!("kernel path {path}: this CPU does not support it")),
                "{err}"
            );
            continue;
        }
        assert!(
            err.contains(&format!("kernels: {path} (forced by --simd)")),
            "{err}"
        );
        outputs.push((
            path,
            std::fs::read(d.join(format!("values-{path}.csv"))).unwrap(),
        ));
    }
    let (_, scalar) = &outputs[0];
    let text = String::from_utf8_lossy(scalar);
    assert!(text.starts_with("open_time,sma20,"), "{text:.80}");
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(",atr14,ret_bps,rvol20")
    );
    // Realized volatility is there once 20 returns are in.
    let row21: Vec<&str> = text.lines().nth(21).unwrap().split(',').collect();
    assert!(row21[12].parse::<f64>().unwrap() > 0.0, "{row21:?}");
    for (path, bytes) in &outputs[1..] {
        assert!(bytes == scalar, "{path} differs from scalar");
    }
    println!(
        "paths compared: {:?}",
        outputs.iter().map(|o| o.0).collect::<Vec<_>>()
    );
}

#[test]
fn an_unknown_kernel_path_is_refused() {
    let d = dir("simd");
    std::fs::write(d.join("bars.csv"), first_bars(10)).unwrap();
    let out = indicators_with(&d, "sse9");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("kernel path \"sse9\": expected auto, scalar, avx2 or avx512"),
        "{err}"
    );
    assert!(!d.join("values-sse9.csv").exists());
}

/// TA-Lib's BBANDS(20, 2, 2, SMA) over every bar of the shared file (the
/// seams of its gaps included, as TA-Lib bridges them), and the largest
/// relative difference from ours per band.
const BOLLINGER_VS_TA_LIB: &str = r##"
import csv, json, sys
import numpy as np, talib
with open(sys.argv[1]) as f:
    closes = np.array([float(r[4]) for r in list(csv.reader(f))[1:]])
upper, middle, lower = talib.BBANDS(closes, 20, 2.0, 2.0, 0)
with open(sys.argv[2]) as f:
    rows = list(csv.reader(l for l in f if not l.startswith("#")))
at = {name: rows[0].index(name) for name in ("bb_upper", "bb_middle", "bb_lower")}
rows = rows[1:]
assert len(rows) == len(closes), (len(rows), len(closes))
worst, compared = {}, 0
for name, ta in (("bb_upper", upper), ("bb_middle", middle), ("bb_lower", lower)):
    w = 0.0
    for i, row in enumerate(rows):
        ours = row[at[name]]
        assert (ours == "") == bool(np.isnan(ta[i])), (i, name, ours, ta[i])
        if ours:
            w = max(w, abs(float(ours) - ta[i]) / abs(ta[i]))
            compared += 1
    worst[name] = w
print(json.dumps({"worst": worst, "compared": compared}))
"##;

#[test]
fn bollinger_bands_stay_within_1e_12_of_ta_lib_over_the_whole_shared_file() {
    let d = dir("bollinger");
    let bars = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    );
    let out = autobot()
        .args(["indicators", "--bridge-gaps", "--input", bars, "--out"])
        .arg(d.join("values.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::text(&out));
    let python = crate::common::python_with(&["TA-Lib==0.8.2", "numpy==1.26.4"]);
    let o = std::process::Command::new(python)
        .args(["-c", BOLLINGER_VS_TA_LIB, bars])
        .arg(d.join("values.csv"))
        .output()
        .unwrap();
    let seen: serde_json::Value = serde_json::from_str(&crate::common::ok(&o)).unwrap();
    // 127,056 bars, the first 19 warming up, three bands each.
    assert_eq!(seen["compared"], 3 * (127_056 - 19), "{seen}");
    for band in ["bb_upper", "bb_middle", "bb_lower"] {
        let worst = seen["worst"][band].as_f64().unwrap();
        assert!(worst <= 1e-12, "{band}: {worst:e} relative from TA-Lib");
    }
}

#[test]
fn gaps_are_listed_and_the_indicators_warm_up_again_after_each() {
    let d = dir("gaps");
    let bars = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    );
    let run = |extra: &[&str], name: &str| {
        let out = autobot()
            .args(["indicators", "--input", bars, "--out"])
            .arg(d.join(name))
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", crate::common::text(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let rows = parse(&std::fs::read_to_string(d.join(name)).unwrap());
        (err, rows)
    };
    let (err, rows) = run(&[], "restart.csv");
    assert!(
        err.contains(
            "gap after the bar of 2023-08-17T11:11:00.000Z to the bar of 2025-05-04T15:33:00.000Z: indicators warm up again"
        ),
        "{err}"
    );
    assert!(err.contains("(0 skipped, 2 gaps)"), "{err}");
    assert_eq!(rows.len(), 127_056);
    // Row 43,199 is the first bar after the 21-month gap: SMA 20 (column
    // 0) is empty for 19 bars, then back; RSI (2) at 15.
    let first = 43_199;
    assert!(rows[first - 1][0].is_some());
    assert!(rows[first..first + 19].iter().all(|r| r[0].is_none()));
    assert!(rows[first + 19][0].is_some());
    assert!(rows[first + 13][2].is_none() && rows[first + 14][2].is_some());
    // No return across the seam.
    let ret = Standard::COLUMNS.len();
    assert!(rows[first][ret].is_none());
    // Bridged: values straight across, as TA-Lib gives them.
    let (err, bridged) = run(&["--bridge-gaps"], "bridged.csv");
    assert!(err.contains("bridged (--bridge-gaps)"), "{err}");
    assert!(bridged[first][0].is_some() && bridged[first][ret].is_some());
    // Before the first gap both agree exactly.
    assert_eq!(rows[..first], bridged[..first]);
}
