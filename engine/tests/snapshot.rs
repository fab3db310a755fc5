//! Snapshot + journal tail restores exactly the state of a full replay; a
//! damaged or foreign snapshot is skipped for an older one or a full replay;
//! the running pipeline's shadow core writes periodic snapshots that restore
//! exactly too.

use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::replay::feed;
use autobot_engine::runtime::Journaller;
use autobot_engine::snapshot::{restore, save};
use autobot_engine::types::Seq;
use autobot_journal::Journal;
use autobot_test_support::Scratch;

mod common;

const N: u64 = 30_000;

fn journal(dir: &std::path::Path) -> Journal {
    let (mut j, _) = Journaller::open(autobot_engine::runtime::appender_config(
        &common::journal_config(),
        dir,
    ))
    .unwrap();
    for i in 0..N {
        let mut ev = common::market_event(i % 2, i);
        j.append(&mut ev).unwrap();
    }
    j.end_batch().unwrap();
    drop(j);
    Journal::open(dir).unwrap()
}

fn replay_to(j: &Journal, until: u64) -> Core {
    let mut core = Core::new(&common::core_config());
    feed(
        j,
        &mut core,
        Seq(0),
        Some(Seq(until)),
        &mut DiscardSink,
        |_, _, _| {},
    )
    .unwrap();
    core
}

#[test]
fn snapshot_plus_tail_is_a_full_replay() {
    let scratch = Scratch::new("snap");
    let base = scratch.path().to_path_buf();
    let (jdir, sdir) = (base.join("journal"), base.join("snapshots"));
    let j = journal(&jdir);
    let cfg = common::core_config();
    let full = replay_to(&j, N - 1);
    assert!(
        full.stats().orders > 0,
        "the stream must make the core trade"
    );

    // Serializing round-trips the whole state.
    let again = Core::from_snapshot(&full.to_snapshot()).unwrap();
    assert_eq!(again.view(), full.view());

    let at = replay_to(&j, 12_345);
    let older = save(&sdir, &at, &cfg).unwrap().unwrap();
    let (core, how) = restore(&j, Some(&sdir), &cfg, None).unwrap();
    assert_eq!(how.snapshot.as_ref().map(|s| s.1), Some(Seq(12_345)));
    assert_eq!(how.replayed, N - 12_346);
    assert_eq!(core.view(), full.view());
    assert_eq!(core.digest(), full.digest());

    // A newer snapshot that is damaged: skipped for the older one.
    let newer = save(&sdir, &replay_to(&j, 20_000), &cfg).unwrap().unwrap();
    let mut bytes = std::fs::read(&newer).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&newer, &bytes).unwrap();
    let (core, how) = restore(&j, Some(&sdir), &cfg, None).unwrap();
    assert_eq!(how.snapshot.map(|s| s.1), Some(Seq(12_345)));
    assert_eq!(how.skipped.len(), 1);
    assert!(
        how.skipped[0].reason.contains("checksum"),
        "{:?}",
        how.skipped
    );
    assert_eq!(core.view(), full.view());

    // Restoring to an earlier point ignores later snapshots.
    let (core, how) = restore(&j, Some(&sdir), &cfg, Some(Seq(5_000))).unwrap();
    assert!(how.snapshot.is_none());
    assert_eq!(core.view(), replay_to(&j, 5_000).view());

    // Another configuration's snapshot is refused; all unusable: full replay.
    let mut other = cfg.clone();
    other.strategy.instances[0].fast = Some(6);
    let (_, how) = restore(&j, Some(&sdir), &other, None).unwrap();
    assert!(how.snapshot.is_none());
    let refused = how.skipped.iter().find(|s| s.path == older).unwrap();
    assert!(
        refused.reason.contains("another configuration"),
        "{refused:?}"
    );
    std::fs::write(&older, b"ABOTSNAP garbage").unwrap();
    let (core, how) = restore(&j, Some(&sdir), &cfg, None).unwrap();
    assert!(how.snapshot.is_none());
    assert_eq!(how.replayed, N);
    assert_eq!(core.view(), full.view());
}

#[test]
fn the_pipeline_snapshots_periodically_off_the_hot_path() {
    use autobot_engine::config::{Layout, WaitKind};
    use autobot_engine::runtime::{RingReader, Waiter, start};

    let scratch = Scratch::new("periodic");
    let base = scratch.path().to_path_buf();
    let (jdir, sdir) = (base.join("journal"), base.join("snapshots"));
    let cfg = common::core_config();
    let jcfg = autobot_engine::config::JournalConfig {
        snapshot_every: 5_000,
        snapshot_keep: 3,
        ..common::journal_config()
    };
    let started = start(
        &common::engine_config(Layout::Dedicated),
        &jcfg,
        &cfg,
        &jdir,
        Some(&sdir),
        false,
    )
    .unwrap();
    let mut outputs = started.outputs;
    let drain = std::thread::spawn(move || {
        let mut waiter = Waiter::new(WaitKind::Yield);
        while outputs.with_batch(u64::MAX, |evs| evs.count()).is_ok() {
            waiter.idle();
        }
    });
    let mut publisher = started.publisher;
    for i in 0..N {
        publisher.publish(common::market_event(i % 2, i)).unwrap();
    }
    // Let the shadow core catch up, so which snapshots exist is determined.
    let mut waiter = Waiter::new(WaitKind::Yield);
    while started.handle.snapshots_followed() != Some(Seq(N)) {
        waiter.idle();
    }
    drop(publisher);
    let report = started.handle.join().unwrap();
    drain.join().unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let periodic = report.snapshots.unwrap();
    assert_eq!((periodic.written, periodic.inputs), (N / 5_000, N));

    // The newest `keep` remain, each exactly the state of a replay to its input.
    let mut kept: Vec<u64> = std::fs::read_dir(&sdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| p.file_stem().unwrap().to_str().unwrap().parse().unwrap())
        .collect();
    kept.sort_unstable();
    assert_eq!(kept, [N - 10_001, N - 5_001, N - 1]);
    let j = Journal::open(&jdir).unwrap();
    for seq in kept {
        let snap = autobot_journal::read_snapshot(&sdir.join(format!("{seq:020}.snap"))).unwrap();
        let core = Core::from_snapshot(&snap.payload).unwrap();
        let replayed = replay_to(&j, seq);
        assert_eq!(core.view(), replayed.view());
        assert_eq!(core.digest(), replayed.digest());
    }

    // A restart restores from the newest, with nothing left to replay.
    let (core, how) = restore(&j, Some(&sdir), &cfg, None).unwrap();
    assert_eq!(how.snapshot.map(|s| s.1), Some(Seq(N - 1)));
    assert_eq!(how.replayed, 0);
    assert_eq!(core.digest(), report.core.core.digest());
}
