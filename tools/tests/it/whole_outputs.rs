//! A command that fails leaves nothing half-made where a finished output
//! would be, and says why once: `autobot indicators` on a file that is not
//! text, `autobot features` on a refused file, and `autobot run` on a
//! capture whose first line is refused (no run directory).

use autobot_test_support::Scratch;

use crate::common::{autobot, text};

/// The stderr of a failed command, asserting exit code 1.
fn failed(o: &std::process::Output) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The entries of `dir`, sorted.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn indicators_on_a_binary_file_leave_no_output_and_say_why_once() {
    let d = Scratch::new("whole-indicators");
    let bin = d.join("BTC_USDT_USDT-1m-futures.bin");
    let mut bytes = b"open_time,open,high,low,close,volume\n".to_vec();
    bytes.extend_from_slice(b"1,2,3,\xff\xfe\x00\x01,4,5\n");
    std::fs::write(&bin, bytes).unwrap();
    let o = autobot()
        .args(["indicators", "--input"])
        .arg(&bin)
        .arg("--out")
        .arg(d.join("values.csv"))
        .output()
        .unwrap();
    let err = failed(&o);
    assert_eq!(err.matches("line 2: not UTF-8 text").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert_eq!(entries(d.path()), ["BTC_USDT_USDT-1m-futures.bin"]);
}

#[test]
fn features_on_a_refused_file_leave_no_table_and_no_manifest() {
    let d = Scratch::new("whole-features");
    let bad = d.join("bars.csv");
    std::fs::write(
        &bad,
        "open_time,open,high,low,close,volume\n1,2,3,1,2,1\n61,x,3,1,2,1\n",
    )
    .unwrap();
    let o = autobot()
        .arg("features")
        .arg(&bad)
        .arg("--out")
        .arg(d.join("f.parquet"))
        .output()
        .unwrap();
    let err = failed(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(entries(d.path()), ["bars.csv"]);
}

#[test]
fn a_capture_refused_at_its_first_line_leaves_no_run_directory() {
    let d = Scratch::new("whole-run");
    let capture = d.join("bad.cap");
    std::fs::write(&capture, "1000 {\"e\":\"bookTicker\"\nnot a line\n").unwrap();
    let cfg = crate::common::config(d.path());
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "simulator_source = \"synthetic\"",
        &format!("simulator_source = \"{}\"", capture.display()),
    );
    std::fs::write(&cfg, text).unwrap();
    let runs = d.join("runs");
    let o = autobot()
        .args(["run", "--events", "1000", "--config"])
        .arg(&cfg)
        .arg("--run-dir")
        .arg(&runs)
        .output()
        .unwrap();
    let err = failed(&o);
    let why = "bad.cap:1: expected '<receive ns> <json>'";
    assert_eq!(err.matches(why).count(), 1, "{err}");
    assert!(entries(&runs).is_empty(), "{:?}", entries(&runs));
}

#[test]
fn a_run_that_fails_before_its_market_starts_leaves_no_run_directory() {
    let d = Scratch::new("whole-start");
    // The operator endpoint's port is taken: the start fails after the
    // run directory was made.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let cfg = crate::common::config(d.path());
    let text_ = std::fs::read_to_string(&cfg).unwrap();
    let at = text_.find("[operator]").unwrap();
    let (head, tail) = text_.split_at(at);
    let tail = tail.replacen(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"{addr}\""),
        1,
    );
    std::fs::write(&cfg, format!("{head}{tail}")).unwrap();
    let run = |extra: &[&str], runs: &std::path::Path| {
        autobot()
            .args(["run", "--events", "1000", "--config"])
            .arg(&cfg)
            .arg("--run-dir")
            .arg(runs)
            .args(extra)
            .output()
            .unwrap()
    };
    let runs = d.join("runs");
    let o = run(&[], &runs);
    let err = failed(&o);
    assert!(err.contains("the run did not start; removed"), "{err}");
    assert!(entries(&runs).is_empty(), "{:?}", entries(&runs));
    // Asked to keep it, it stays.
    let kept = d.join("kept");
    failed(&run(&["--keep-failed-start"], &kept));
    assert_eq!(entries(&kept).len(), 1, "{:?}", entries(&kept));
    drop(taken);
}
