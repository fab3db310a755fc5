//! `autobot report latency`: the table of a run's `.hgrm` files, a second
//! run beside it, and clear refusals of a directory without histograms, a
//! file named after no stage and a corrupt file.

mod common;

use autobot_engine::runtime::latency::{Stage, StageHistograms};
use common::autobot;

fn run_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("autobot-latency-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn recorded(scale: u64) -> StageHistograms {
    let mut h = StageHistograms::new();
    for stage in Stage::ALL {
        for v in 1..=1_000u64 {
            h.record(stage, v * scale);
        }
    }
    h
}

fn report(args: &[&std::path::Path]) -> (bool, String, String) {
    let out = autobot()
        .arg("report")
        .arg("latency")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_table_has_every_stage_of_both_runs() {
    let (a, b) = (run_dir("a"), run_dir("b"));
    autobot_tools::latency::write_run(&a, &recorded(100)).unwrap();
    autobot_tools::latency::write_run(&b, &recorded(1_000)).unwrap();
    let (ok, out, err) = report(&[&a, &b]);
    assert!(ok, "{err}");
    for stage in Stage::ALL {
        let rows = out
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(stage.name()))
            .count();
        assert_eq!(rows, 2, "{} of both runs:\n{out}", stage.name());
    }
    // p50 of 1..=1000 × 100 ns is 50 µs; × 1000 ns, 500 µs.
    assert!(out.contains("50.0") && out.contains("500."), "{out}");

    // The page: the table of both runs and a chart line per stage and run.
    let page = std::fs::read_to_string(a.join("latency.html")).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.ends_with("</html>\n"));
    assert!(page.contains("<svg"));
    // Offline: nothing to fetch, nothing to run.
    for fetch in ["<script", "src=", "<link", "@import"] {
        assert!(!page.contains(fetch), "{fetch} on the page");
    }
    for stage in Stage::ALL {
        for run in ["this", "other"] {
            let legend = format!("{} ({run})", stage.name());
            assert!(page.contains(&legend), "legend `{legend}` on the page");
        }
    }
    assert!(page.contains("99.9%"), "the percentile axis reads in nines");
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn bad_run_directories_are_refused_with_what_is_wrong() {
    let empty = run_dir("empty");
    let (ok, out, err) = report(&[&empty]);
    assert!(!ok && out.is_empty(), "{out}");
    assert!(err.contains("no .hgrm files"), "{err}");

    let unknown = run_dir("unknown");
    autobot_tools::latency::write_run(&unknown, &recorded(10)).unwrap();
    std::fs::write(unknown.join("latency/warp_drive.hgrm"), "").unwrap();
    let (ok, out, err) = report(&[&unknown]);
    assert!(!ok && out.is_empty(), "no half table: {out}");
    assert!(
        err.contains("`warp_drive` is not a stage") && err.contains("tick_to_decision"),
        "{err}"
    );

    let corrupt = run_dir("corrupt");
    autobot_tools::latency::write_run(&corrupt, &recorded(10)).unwrap();
    let path = corrupt.join("latency/decide.hgrm");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let (ok, out, err) = report(&[&corrupt]);
    assert!(!ok && out.is_empty(), "no half table: {out}");
    assert!(err.contains("decide.hgrm"), "{err}");
    // A good run compared with a corrupt one: no page at all.
    let good = run_dir("good");
    autobot_tools::latency::write_run(&good, &recorded(10)).unwrap();
    let (ok, _, err) = report(&[&good, &corrupt]);
    assert!(!ok && err.contains("decide.hgrm"), "{err}");
    assert!(
        !good.join("latency.html").exists() && !good.join("latency.html.tmp").exists(),
        "never a half page"
    );
    let _ = std::fs::remove_dir_all(good);
    for d in [empty, unknown, corrupt] {
        let _ = std::fs::remove_dir_all(d);
    }
}
