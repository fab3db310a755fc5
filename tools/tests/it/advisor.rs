//! The `[advisor]` model registry: a malformed entry is refused when the
//! config loads; a model the registry names with another feature hash
//! refuses the run before it starts, saying why; the shipped model with
//! the right hash is checked and the run goes on.
//!
//! Predictions are journaled inputs: a paper run whose strategies the
//! shipped model advises replays to the same digests with the model file
//! gone; a backtest with the advisor inline gives the same bytes twice,
//! and its kept journal replays to its digest without the model.

use std::path::Path;

use autobot_engine::features::vector;
use autobot_test_support::Scratch;
use autobot_tools::config::AppConfig;

use crate::common::{autobot, config, text};

fn with_advisor(base: &Path, hash: &str) -> std::path::PathBuf {
    let cfg = config(base);
    let mut t = std::fs::read_to_string(&cfg).unwrap();
    t.push_str(&format!(
        "\n[advisor]\nmodels = [{{ name = \"btc\", file = \"models/btc_1m_logreg.onnx\", feature_hash = \"{hash}\" }}]\n"
    ));
    std::fs::write(&cfg, t).unwrap();
    cfg
}

#[test]
fn the_registry_is_checked_at_load_and_at_start() {
    let scratch = Scratch::new("advisor-cfg");
    let base = scratch.path();
    // Not a hash.
    let bad = with_advisor(base, "xyz");
    let e = AppConfig::load(&bad).unwrap_err().to_string();
    assert!(
        e.contains("advisor.models[0].feature_hash") && e.contains("16 hex digits"),
        "{e}"
    );

    // Another hash: the run is refused before it starts.
    let other = with_advisor(base, "0123456789abcdef");
    let o = autobot()
        .args(["run", "--events", "2000", "--config"])
        .arg(&other)
        .arg("--run-dir")
        .arg(base.join("runs-a"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("[advisor]: model btc was trained on features")
            && text(&o).contains("the registry's entry is 0123456789abcdef"),
        "{}",
        text(&o)
    );

    // The shipped model with this build's hash: checked, and the run goes.
    let good = with_advisor(base, &format!("{:016x}", vector::hash()));
    let o = autobot()
        .args(["run", "--events", "2000", "--config"])
        .arg(&good)
        .arg("--run-dir")
        .arg(base.join("runs-b"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("advisor models loaded and checked: btc"),
        "{}",
        text(&o)
    );
}

/// The test config with 1 s base bars (the vector is warm after a minute
/// of the synthetic market), mean reversion gated and the scalper advised
/// by the shipped model, copied under `base` (so it can be removed).
fn advised_config(base: &Path) -> std::path::PathBuf {
    let models = base.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for f in ["btc_1m_logreg.onnx", "btc_1m_logreg.json"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../models")
                .join(f),
            models.join(f),
        )
        .unwrap();
    }
    let cfg = config(base);
    let shipped = std::fs::read_to_string(&cfg).unwrap();
    let mut t = shipped
        .replace("bar_secs = [5, 60]", "bar_secs = [1, 5, 60]")
        .replace(
            "kind = \"mean_reversion\"",
            "kind = \"mean_reversion\"\nadvisor = { mode = \"gate\", model = \"btc\" }",
        )
        .replace(
            "kind = \"scalper\"",
            "kind = \"scalper\"\nadvisor = { mode = \"advise\", model = \"btc\", weight = \"4\" }",
        );
    assert_eq!(t.matches("\nadvisor = {").count(), 2, "{t}");
    t.push_str(&format!(
        "\n[advisor]\nmodels = [{{ name = \"btc\", file = \"{}\", feature_hash = \"{:016x}\" }}]\n",
        models.join("btc_1m_logreg.onnx").display(),
        vector::hash()
    ));
    std::fs::write(&cfg, t).unwrap();
    cfg
}

fn remove_models(base: &Path) {
    std::fs::remove_dir_all(base.join("models")).unwrap();
}

#[test]
fn a_run_with_predictions_replays_to_its_digest_without_the_model() {
    let scratch = Scratch::new("advisor-run");
    let base = scratch.path();
    let cfg = advised_config(base);
    let runs = base.join("runs");
    let o = autobot()
        .args(["run", "--events", "60000", "--config"])
        .arg(&cfg)
        .arg("--run-dir")
        .arg(&runs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let summary = text(&o);
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("advisor "))
        .unwrap_or_else(|| panic!("no advisor line: {summary}"));
    // Two symbols, a minute and more of 1 s bars each.
    let predictions: u64 = line
        .split(" predictions")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(predictions >= 40, "{line}");
    assert!(line.contains("(0 model failures)"), "{line}");
    let run = crate::common::run_dirs(&runs).pop().unwrap();

    remove_models(base);
    let replay = autobot()
        .args(["replay", "--verify"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", text(&replay));
    assert!(text(&replay).contains("matched"), "{}", text(&replay));

    // The predictions are in the journal, in words in the trace.
    let trace = autobot()
        .args(["replay", "--trace", "--kind", "advice"])
        .arg(&run)
        .output()
        .unwrap();
    let trace = crate::common::ok(&trace);
    let said = trace
        .matches("prediction of btc: P(up over 15 bars)")
        .count() as u64;
    assert_eq!(said, predictions, "{}", &trace[..trace.len().min(2000)]);
}

#[test]
fn a_backtest_with_the_advisor_is_the_same_twice_and_replays_without_the_model() {
    let scratch = Scratch::new("advisor-backtest");
    let base = scratch.path();
    let cfg = advised_config(base);
    let data = crate::common::generated(&base.join("data"), 120_000);
    let run = |out: &str, keep: bool| {
        let mut c = autobot();
        c.args(["backtest", "--config"])
            .arg(&cfg)
            .arg("--out")
            .arg(base.join(out));
        if keep {
            c.arg("--keep-journal");
        }
        let o = c.args(&data).output().unwrap();
        crate::common::ok(&o)
    };
    let first = run("a", false);
    run("b", true);
    assert!(first.contains("advisor: "), "{first}");
    for f in ["report.json", "trades.csv", "round_trips.csv"] {
        let a = std::fs::read(base.join("a").join(f)).unwrap();
        let b = std::fs::read(base.join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs between two runs");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("a/report.json")).unwrap()).unwrap();
    let advisor = &report["core"]["advisor"];
    assert!(advisor["predictions"].as_u64().unwrap() > 40, "{advisor}");
    let digest = report["core"]["digest"].as_str().unwrap().to_string();

    remove_models(base);
    let replay = autobot()
        .arg("replay")
        .arg(base.join("b"))
        .output()
        .unwrap();
    let said = crate::common::ok(&replay);
    assert!(said.contains(&digest), "{said}");

    // The analyzer names the advisor's verdict at each advised entry.
    crate::common::ok(
        &autobot()
            .arg("analyze")
            .arg(base.join("b"))
            .arg("--out")
            .arg(base.join("analysis"))
            .output()
            .unwrap(),
    );
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("analysis/analysis.json")).unwrap())
            .unwrap();
    let verdicts: Vec<&str> = a["by_advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(
        verdicts.iter().any(|v| *v == "kept" || *v == "cut"),
        "{verdicts:?}"
    );
    let trips = std::fs::read_to_string(base.join("analysis/trips.csv")).unwrap();
    assert!(trips.lines().any(|l| l.contains("P(up) 0.")), "{trips}");
}
