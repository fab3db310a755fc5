//! `autobot indicators` through the real binary: its values over the first
//! 1000 bars of `../shared/data/klines/BTCUSDT_perp_1m.csv` agree with
//! TA-Lib's (the reference file of `engine/tests/indicators.rs`), a bad
//! header is refused with the expected one named, and bad bars are skipped
//! and counted without disturbing the others.

mod common;

use autobot_test_support::Scratch;

use common::autobot;

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
    assert!(err.contains("(1 skipped)"), "{err}");
    let ours = parse(&std::fs::read_to_string(d.join("values.csv")).unwrap());
    let talib = parse(include_str!("../../engine/tests/data/talib_btcusdt_1m.csv"));
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
