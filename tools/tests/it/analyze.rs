//! `autobot analyze` end to end on a backtest kept with `--keep-journal`:
//! every round trip of the report is judged (same count, same PnL but for
//! funding), each with its excursions and labels, the labels' rules are
//! written down, the vetoed intents' outcomes are marked hypothetical, and
//! the same journal gives the same analysis.

use autobot_test_support::Scratch;

use crate::common::{autobot, generated, ok, text};

#[test]
fn every_round_trip_of_a_backtest_is_judged_with_its_rules() {
    let scratch = Scratch::new("analyze");
    let files = generated(&scratch.path().join("data"), 60000);
    let out = scratch.path().join("bt");
    ok(&autobot()
        .args(["backtest", "--keep-journal", "--out"])
        .arg(&out)
        .args(&files)
        .output()
        .unwrap());
    let said = ok(&autobot().arg("analyze").arg(&out).output().unwrap());
    assert!(said.contains("round trips judged"), "{said}");
    let dir = out.join("analysis");
    for f in ["analysis.json", "trips.csv", "vetoed.csv", "analysis.html"] {
        assert!(dir.join(f).is_file(), "no {f}");
    }
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("analysis.json")).unwrap()).unwrap();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let trips = a["trips"].as_array().unwrap();
    assert_eq!(
        trips.len() as u64,
        r["round_trips"]["trades"].as_u64().unwrap()
    );
    assert!(!trips.is_empty());
    // Net PnL of the trips: the report's round trips' (which add the
    // funding paid while open) within the run's funding.
    let net: f64 = trips.iter().map(|t| t["pnl"].as_f64().unwrap()).sum();
    let csv = std::fs::read_to_string(out.join("round_trips.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "pnl").unwrap();
    let want: f64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse::<f64>().unwrap())
        .sum();
    let funding: f64 = r["account"]["funding"].as_str().unwrap().parse().unwrap();
    assert!(
        (net - want).abs() <= funding.abs() + 1e-6,
        "{net} vs {want} (funding {funding})"
    );
    for t in trips {
        assert!(t["mfe_bp"].as_f64().unwrap() >= 0.0 && t["mae_bp"].as_f64().unwrap() >= 0.0);
        assert!(
            t["exit_reason"].as_str().is_some_and(|s| !s.is_empty()),
            "{t}"
        );
        assert!(t["strategy"].as_str().is_some_and(|s| !s.is_empty()), "{t}");
    }
    // Every label's rule is written down, in the JSON and on the page.
    let html = std::fs::read_to_string(dir.join("analysis.html")).unwrap();
    for (name, rule) in a["rules"].as_object().unwrap() {
        assert!(html.contains(name.as_str()) && !rule.as_str().unwrap().is_empty());
    }
    assert!(html.contains("HYPOTHETICAL"));
    assert_eq!(
        std::fs::read_to_string(dir.join("trips.csv"))
            .unwrap()
            .lines()
            .count(),
        trips.len() + 1
    );
    // A report without --keep-journal is refused with what to do.
    let bare = scratch.path().join("bare");
    std::fs::create_dir_all(&bare).unwrap();
    std::fs::copy(out.join("report.json"), bare.join("report.json")).unwrap();
    let o = autobot().arg("analyze").arg(&bare).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--keep-journal"), "{}", text(&o));
    // The same journal, the same analysis.
    let again = scratch.path().join("again");
    ok(&autobot()
        .arg("analyze")
        .arg(&out)
        .arg("--out")
        .arg(&again)
        .output()
        .unwrap());
    assert_eq!(
        std::fs::read_to_string(dir.join("analysis.json")).unwrap(),
        std::fs::read_to_string(again.join("analysis.json")).unwrap()
    );
}

#[test]
fn gaps_in_the_bars_are_marked_by_the_analysis() {
    let scratch = Scratch::new("analyze-gaps");
    // The shared file's last 2,000 bars of its second segment and the
    // first 1,000 of its third: one gap of 11 days between them.
    let all = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/klines/BTCUSDT_perp_1m.csv"
    ))
    .unwrap();
    let lines: Vec<&str> = all.lines().collect();
    let seam = 1 + 43_199 + 73_139;
    let mut text_ = format!("{}\n", lines[0]);
    for l in &lines[seam - 2000..seam + 1000] {
        text_.push_str(l);
        text_.push('\n');
    }
    let bars = scratch.join("BTCUSDT_perp_1m.csv");
    std::fs::write(&bars, text_).unwrap();
    let out = scratch.join("bt");
    ok(&autobot()
        .args([
            "backtest",
            "-c",
            "config/backtest-1m.toml",
            "--keep-journal",
            "--out",
        ])
        .arg(&out)
        .arg(&bars)
        .output()
        .unwrap());
    let said = ok(&autobot().arg("analyze").arg(&out).output().unwrap());
    assert!(
        said.contains("1 gaps in the market data:")
            && said.contains("BTCUSDT 2025-06-24T10:31:59.999Z → 2025-07-06T00:00:59.999Z"),
        "{said}"
    );
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("analysis/analysis.json")).unwrap())
            .unwrap();
    assert_eq!(a["gaps"].as_array().unwrap().len(), 1, "{}", a["gaps"]);
    let html = std::fs::read_to_string(out.join("analysis/analysis.html")).unwrap();
    assert!(html.contains("Gaps in the market data"));
}
