//! A sweep spread over machines: three `--shard K/3` slices merged by
//! `autobot sweep merge` equal the unsharded sweep byte for byte, and
//! slices that do not make one grid are refused naming why.

use std::path::{Path, PathBuf};

use autobot_test_support::Scratch;

use crate::common::{autobot, ok, text};

const AXES: [&str; 4] = [
    "--sweep",
    "strategy.instances.0.fast=10,20,40",
    "--sweep",
    "strategy.instances.0.stop_atr=1.5,3",
];

/// The first 20,000 bars of the shared file.
fn bars(dir: &Path) -> PathBuf {
    let all = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    ))
    .unwrap();
    let path = dir.join("BTCUSDT_perp_1m.csv");
    let head: String = all.lines().take(20_001).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, head).unwrap();
    path
}

fn sweep(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--jobs", "2"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(AXES)
        .args(extra)
        .output()
        .unwrap()
}

fn merge(dirs: &[PathBuf], out: &Path) -> std::process::Output {
    autobot()
        .args(["sweep", "merge"])
        .args(dirs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn three_shards_merged_equal_the_unsharded_sweep_byte_for_byte() {
    let d = Scratch::new("shards");
    let data = bars(d.path());
    let whole = d.join("whole");
    ok(&sweep(&data, &whole, &[]));
    let shards: Vec<PathBuf> = (1..=3).map(|k| d.join(format!("shard{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        let slice = format!("{}/3", k + 1);
        let table = ok(&sweep(&data, dir, &["--shard", &slice]));
        // Shard 2 of 3 runs points 1 and 4 of the six.
        if k == 1 {
            assert!(
                table.contains("p001 ") && table.contains("p004 "),
                "{table}"
            );
            assert!(!table.contains("p000 "), "{table}");
        }
        assert!(!dir.join("sweep.json").exists());
    }
    let merged = d.join("merged");
    let table = ok(&merge(&shards, &merged));
    assert_eq!(table, ok(&sweep(&data, &d.join("again"), &[])));
    for name in [
        "sweep.json",
        "sweep.csv",
        "p004/report.json",
        "p000/trades.csv",
    ] {
        assert_eq!(
            std::fs::read(merged.join(name)).unwrap(),
            std::fs::read(whole.join(name)).unwrap(),
            "{name}"
        );
    }

    // A slice missing, or given twice, is named.
    let e = text(&merge(&shards[..2], &d.join("m2")));
    assert!(e.contains("cannot merge: shard 3/3 missing"), "{e}");
    let twice = [shards[0].clone(), shards[0].clone(), shards[1].clone()];
    let e = text(&merge(&twice, &d.join("m3")));
    assert!(e.contains("shard 1/3 is given twice"), "{e}");
    // A slice of another grid (other values) is refused.
    let other = d.join("other");
    let o = autobot()
        .args(["backtest", "-c", "config/backtest-1m.toml", "--jobs", "2"])
        .arg(&data)
        .arg("--out")
        .arg(&other)
        .args([
            "--sweep",
            "strategy.instances.0.fast=10,20,50",
            "--sweep",
            "strategy.instances.0.stop_atr=1.5,3",
            "--shard",
            "3/3",
        ])
        .output()
        .unwrap();
    ok(&o);
    let mixed = [shards[0].clone(), shards[1].clone(), other];
    let e = text(&merge(&mixed, &d.join("m4")));
    assert!(
        e.contains("cannot merge:") && e.contains("another configuration, sweep or data"),
        "{e}"
    );
    assert!(!d.join("m4").join("sweep.json").exists());
    // --shard needs --sweep.
    let o = autobot()
        .args([
            "backtest",
            "-c",
            "config/backtest-1m.toml",
            "--shard",
            "1/2",
        ])
        .arg(&data)
        .arg("--out")
        .arg(d.join("x"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
