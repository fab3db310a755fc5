//! A journal that cannot be written halts the pipeline with the journal's
//! error instead of hanging, and the core never acts on an event the journal
//! did not take. The failure is real: `RLIMIT_FSIZE` makes the kernel refuse
//! writes past 1 MiB with `EFBIG` (this test binary runs alone, so the limit
//! touches nothing else).

use autobot_engine::config::{CpuMap, EngineConfig, Layout, WaitKind};
use autobot_engine::runtime::{RuntimeError, start};

mod common;

const LIMIT: u64 = 1 << 20;

#[allow(unsafe_code)]
fn limit_file_size() {
    // SAFETY: plain libc calls with valid arguments; ignoring SIGXFSZ makes
    // the over-limit write fail with EFBIG instead of killing the process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let lim = libc::rlimit {
            rlim_cur: LIMIT,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
}

fn check(layout: Layout, name: &str) {
    let dir = std::env::temp_dir().join(format!("autobot-jfail-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let engine = EngineConfig {
        ring_size: 1024,
        output_ring_size: 256,
        wait: WaitKind::Yield,
        layout,
        cpus: CpuMap::default(),
    };
    let started = start(
        &engine,
        &common::core_config(),
        &dir.join("journal.log"),
        false,
    )
    .unwrap();
    let mut outputs = started.outputs;
    let drain = std::thread::spawn(move || {
        use autobot_engine::runtime::RingReader;
        let mut w = autobot_engine::runtime::Waiter::new(WaitKind::Yield);
        loop {
            match outputs.with_batch(u64::MAX, |e| e.count()) {
                Ok(Some(_)) => {}
                Ok(None) => w.idle(),
                Err(_) => return,
            }
        }
    });
    let mut publisher = started.publisher;
    // Far more than 1 MiB of journal: publishing must stop with `Halted`.
    let mut published = 0u64;
    for i in 0..200_000 {
        if publisher.publish(common::market_event(0, i)).is_err() {
            break;
        }
        published += 1;
    }
    assert!(
        publisher.is_halted(),
        "the journal failure must halt the pipeline"
    );
    assert!(published < 200_000);
    drop(publisher);
    let err = started.handle.join().unwrap_err();
    assert!(matches!(err, RuntimeError::Journal(_)), "{err}");
    assert!(err.to_string().contains("journal.log"), "{err}");
    drain.join().unwrap();
    // What reached the file stays readable, up to the torn tail of the failed write.
    let on_disk = autobot_journal::AppLogReader::open(&dir.join("journal.log"))
        .unwrap()
        .map_while(Result::ok)
        .count();
    assert!(on_disk > 0);
    assert!(std::fs::metadata(dir.join("journal.log")).unwrap().len() <= LIMIT);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_journal_halts_both_layouts() {
    limit_file_size();
    check(Layout::Dedicated, "dedicated");
    check(Layout::Inline, "inline");
}
