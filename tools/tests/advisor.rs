//! The `[advisor]` model registry: a malformed entry is refused when the
//! config loads; a model the registry names with another feature hash
//! refuses the run before it starts, saying why; the shipped model with
//! the right hash is checked and the run goes on.

use std::path::Path;

use autobot_engine::features::vector;
use autobot_test_support::Scratch;
use autobot_tools::config::AppConfig;

mod common;
use common::{autobot, config, text};

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
        text(&o).contains("advisor models checked: btc"),
        "{}",
        text(&o)
    );
}
