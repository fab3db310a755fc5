//! A journal that cannot be written halts the pipeline with the journal's
//! error instead of hanging, and the core never acts on an event the journal
//! did not take. The failure is real: after start, `RLIMIT_NOFILE` is set to
//! 3, so creating the next segment when the
//! journal rolls fails with `EMFILE` (this test binary runs alone, so the
//! limit touches nothing else; it is restored before reading back).

use autobot_engine::config::{Layout, WaitKind};
use autobot_engine::runtime::RuntimeError;
use autobot_test_support::Scratch;

mod common;

#[allow(unsafe_code)]
fn set_nofile(soft: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls with a valid, writable rlimit.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        let old = lim.rlim_cur;
        lim.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        old
    }
}

fn check(layout: Layout, name: &str) {
    let dir = Scratch::new(&format!("jfail-{name}"));
    let engine = common::engine_config(layout);
    let started = common::start_fresh(&engine, dir.path());
    let drain = common::drain_outputs(
        started.outputs,
        autobot_engine::runtime::Waiter::new(WaitKind::Yield),
    );
    // Linux checks a new descriptor's number against the soft limit, so a
    // limit of 3 (stdin, stdout, stderr) fails every later open, whatever
    // holes the table has, while open descriptors keep working.
    let old = set_nofile(3);
    let mut publisher = started.publisher;
    // Many segments' worth of events: publishing must stop with `Halted`.
    let mut published = 0u64;
    for i in 0..400_000 {
        if publisher.publish(common::market_event(0, i)).is_err() {
            break;
        }
        published += 1;
    }
    assert!(
        publisher.is_halted(),
        "the journal failure must halt the pipeline"
    );
    assert!(published < 400_000);
    drop(publisher);
    let err = started.handle.join().unwrap_err();
    set_nofile(old);
    assert!(matches!(err, RuntimeError::Journal(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{}/journal", dir.display())),
        "{text}"
    );
    assert!(text.contains("Too many open files"), "{text}");
    drain.join().unwrap();
    // What reached the journal stays readable; nothing past it was acted on.
    let journal = autobot_journal::Journal::open(&dir.join("journal")).unwrap();
    assert!(journal.next_seq() > 0 && journal.next_seq() <= published);
}

#[test]
fn a_failing_journal_halts_both_layouts() {
    check(Layout::Dedicated, "dedicated");
    check(Layout::Inline, "inline");
}
