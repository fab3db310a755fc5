//! `autobot report latency`: the table of a run's `.hgrm` files, a second
//! run beside it, and clear refusals of a directory without histograms, a
//! file named after no stage and a corrupt file.

use crate::common::autobot;
use autobot_engine::runtime::latency::{Stage, StageHistograms};
use autobot_test_support::Scratch;

fn run_dir(name: &str) -> Scratch {
    Scratch::new(&format!("latency-{name}"))
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

/// `autobot journal <action> <dir>`: success, stdout, stderr.
fn journal(action: &str, dir: &std::path::Path) -> (bool, String, String) {
    let out = autobot()
        .args(["journal", action])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(args: &[&std::path::Path]) -> (bool, String, String) {
    report_with(&[], args)
}

fn report_with(flags: &[&str], args: &[&std::path::Path]) -> (bool, String, String) {
    let out = autobot()
        .arg("report")
        .arg("latency")
        .args(flags)
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
}

/// A journal whose only input is stamped by its header (ring publish) and
/// by stamp records (core start, decision out, order sent); it lives as
/// long as the returned [`Scratch`].
fn stamped_journal(name: &str) -> (Scratch, std::path::PathBuf) {
    use autobot_engine::event::{InputBody, InputEvent, OperatorAction, OperatorCommand, Source};
    use autobot_engine::runtime::Journaller;
    use autobot_engine::runtime::stamps::{CoreStamp, SentStamp, StampBatch};
    use autobot_engine::types::{MonoNanos, Seq, SymbolId, UnixNanos};
    let run = run_dir(name);
    let dir = run.join("journal");
    let (mut journal, _) = Journaller::open(autobot_journal::AppenderConfig {
        dir: dir.clone(),
        segment_size: 1 << 16,
        durability: autobot_journal::Durability::None,
    })
    .unwrap();
    let mut ev = InputEvent::new(
        Source::Runtime,
        SymbolId(0),
        MonoNanos(1_000_000),
        UnixNanos(0),
        InputBody::Operator(OperatorCommand::new(OperatorAction::Start, 0)),
    );
    ev.header.stamps.published = 500;
    journal.append(&mut ev).unwrap();
    let mut core = StampBatch::<CoreStamp>::default();
    let stamp = CoreStamp {
        seq: Seq(0),
        start: 1_500,
        done: 2_500,
    };
    core.push(stamp, MonoNanos(0));
    journal.stamps(&core).unwrap();
    let mut sent = StampBatch::<SentStamp>::default();
    let stamp = SentStamp {
        cause: Seq(0),
        sent: 8_000,
    };
    sent.push(stamp, MonoNanos(0));
    journal.stamps(&sent).unwrap();
    journal.end_batch().unwrap();
    (run, dir)
}

#[test]
fn a_journal_alone_gives_the_core_and_order_stages() {
    let (_run, dir) = stamped_journal("stamped");
    let run = dir.parent().unwrap();
    let (ok, _, err) = journal("verify", run);
    assert!(ok, "{err}");
    let (_, text, _) = journal("inspect", run);
    assert!(text.contains("2 latency stamp records"), "{text}");
    let (ok, text, err) = journal("dump", run);
    assert!(ok, "{err}");
    assert!(
        text.contains("#0 operator") && text.contains("(parsed -, published +0.500 µs, journaled "),
        "{text}"
    );
    assert!(
        text.contains("-- #0 core start +1.500 µs, decision out +2.500 µs after recv"),
        "{text}"
    );
    assert!(
        text.contains("-- #0 caused an order sent +8.000 µs after recv"),
        "{text}"
    );

    let (ok, out, err) = report_with(&["--journal"], &[&dir]);
    assert!(ok, "{err}");
    // ring publish 500 ns, core start 1.5 µs, decision out 2.5 µs and the
    // order sent 8 µs after the socket read.
    let row = |stage: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(stage))
            .unwrap_or_else(|| panic!("no {stage} row:\n{out}"))
            .to_string()
    };
    assert!(row("dispatch").contains("1.00 µs"), "{out}");
    assert!(row("decide").contains("1.00 µs"), "{out}");
    assert!(row("publish_to_decision").contains("2.00 µs"), "{out}");
    assert!(row("tick_to_order").contains("8.00 µs"), "{out}");
    assert!(run.join("latency.html").exists());
}

#[test]
fn a_bad_stamp_record_is_refused_by_verify_and_the_report() {
    let (_run, dir) = stamped_journal("bad-stamps");
    let run = dir.parent().unwrap().to_path_buf();
    {
        // A core stamp of zeros: "not stamped", which a run never writes.
        let (mut app, _) = autobot_journal::Appender::open(autobot_journal::AppenderConfig {
            dir: dir.clone(),
            segment_size: 1 << 16,
            durability: autobot_journal::Durability::None,
        })
        .unwrap();
        let kind = autobot_engine::runtime::stamps::KIND_CORE_STAMPS;
        app.append_meta(kind, 0, &[0u8; 16]).unwrap();
        app.end_batch().unwrap();
    }
    let (ok, _, err) = journal("verify", &run);
    assert!(!ok, "{err}");
    assert!(
        err.contains("stamp record at segment 0") && err.contains("stamp of input 0"),
        "{err}"
    );
    let (ok, out, err) = report_with(&["--journal"], &[&run]);
    assert!(!ok && out.is_empty(), "no half table: {out}");
    assert!(err.contains("stamp record"), "{err}");
    assert!(!run.join("latency.html").exists(), "never a half page");
}
