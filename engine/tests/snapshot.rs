//! Snapshot + journal tail restores exactly the state of a full replay; a
//! damaged or foreign snapshot is skipped for an older one or a full replay.

use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::replay::feed;
use autobot_engine::runtime::Journaller;
use autobot_engine::snapshot::{restore, save};
use autobot_engine::types::Seq;
use autobot_journal::Journal;

mod common;

const N: u64 = 30_000;

fn journal(dir: &std::path::Path) -> Journal {
    let (mut j, _) = Journaller::open(common::journal_config().appender(dir)).unwrap();
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
    let base = std::env::temp_dir().join(format!("autobot-snap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
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
    other.strategy.fast_period += 1;
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
    std::fs::remove_dir_all(&base).unwrap();
}
