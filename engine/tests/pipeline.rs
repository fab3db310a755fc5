//! The threaded pipeline end to end: several producer threads publish into
//! the input ring; the journaller and the core consume it (both layouts).
//! The core must see every event exactly once, in sequence order, and its
//! digest must equal feeding the journaled events to a fresh core directly.

use autobot_test_support::Scratch;
use std::collections::HashMap;

use autobot_engine::config::{Layout, WaitKind};
use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::event::InputBody;
use autobot_engine::runtime::{InputFingerprint, read_journal, start};

mod common;

const PRODUCERS: u64 = 3;
const PER_PRODUCER: u64 = 40_000;

fn run_dir(name: &str) -> Scratch {
    Scratch::new(&format!("pipeline-{name}"))
}

fn check_layout(layout: Layout, name: &str) {
    check(layout, WaitKind::Yield, name);
}

fn check(layout: Layout, wait: WaitKind, name: &str) {
    let dir = run_dir(name);
    let journal = dir.join("journal");
    let cfg = common::core_config();
    let mut engine = common::engine_config(layout);
    engine.wait = wait;
    let started = start(
        &engine,
        &common::journal_config(),
        &cfg,
        &journal,
        None,
        false,
    )
    .unwrap();
    assert!(started.recovery.created);

    // Output consumer: drains the output ring and counts orders.
    let waiter = started.publisher.consumer_waiter();
    let drain = common::drain_outputs(started.outputs, waiter);

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut publisher = started.publisher.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while i < PER_PRODUCER {
                    if wait == WaitKind::Park && i % 10_000 == 0 {
                        // Until a consumer, out of work, is asleep: the
                        // next publish must wake it.
                        while publisher.sleepers() == 0 {
                            std::thread::yield_now();
                        }
                    }
                    // Mix single and batch publication.
                    if i % 3 == 0 && i + 8 <= PER_PRODUCER {
                        let batch: Vec<_> =
                            (i..i + 8).map(|k| common::market_event(p, k)).collect();
                        publisher.publish_batch(&batch).unwrap();
                        i += 8;
                    } else {
                        publisher.publish(common::market_event(p, i)).unwrap();
                        i += 1;
                    }
                }
            })
        })
        .collect();
    drop(started.publisher);
    for p in producers {
        p.join().unwrap();
    }
    let records = started.records;
    let report = started.handle.join().unwrap();
    let outputs_seen = drain.join().unwrap();
    let total = PRODUCERS * PER_PRODUCER;

    // Every event journaled once, each producer's events in its own order.
    let contents = read_journal(&journal).unwrap();
    let events = contents.events;
    assert_eq!(events.len() as u64, total);
    assert_eq!(report.journal.next_seq, total);
    assert!(
        std::fs::read_dir(&journal).unwrap().count() > 5,
        "the journal rolled over several 1 MiB segments"
    );
    let mut next_of: HashMap<u64, u64> = HashMap::new();
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(
            ev.header.seq.0, i as u64,
            "journal sequences are dense and ordered"
        );
        let producer = ev.header.recv.0 >> 40;
        let index = ev.header.recv.0 & ((1 << 40) - 1);
        let next = next_of.entry(producer).or_default();
        assert_eq!(
            index, *next,
            "producer {producer}: event lost, repeated or reordered"
        );
        *next += 1;
    }
    assert!(next_of.values().all(|n| *n == PER_PRODUCER));

    // The core consumed exactly the journaled stream, in order.
    let core = &report.core;
    assert_eq!(core.core.stats().events, total);
    assert_eq!(core.core.last_seq().map(|s| s.0), Some(total - 1));
    let mut fp = InputFingerprint::default();
    events.iter().for_each(|e| fp.add(e));
    assert_eq!(core.fingerprint, fp);

    // Same digest as a direct, single-threaded feed of the journal.
    let mut direct = Core::new(&cfg);
    for ev in &events {
        direct.on_event(ev, &mut DiscardSink);
    }
    assert_eq!(direct.digest(), core.core.digest());
    assert_eq!(direct.stats(), core.core.stats());
    // Checkpoints every 5000 inputs and a final one, each matching the replay.
    let cps = contents.checkpoints;
    assert!(
        cps.len() as u64 >= total / 5_000 / 2,
        "{} checkpoints",
        cps.len()
    );
    let last = cps.last().unwrap();
    assert_eq!(
        (last.last_seq, last.digest),
        (total - 1, core.core.digest())
    );
    let mut replay = Core::new(&cfg);
    let mut at = cps.iter().peekable();
    let mut now_after = Vec::with_capacity(events.len());
    for ev in &events {
        replay.on_event(ev, &mut DiscardSink);
        now_after.push(replay.now());
        while let Some(cp) = at.peek().filter(|c| c.last_seq == ev.header.seq.0) {
            assert_eq!(cp.digest, replay.digest(), "checkpoint at {}", cp.last_seq);
            at.next();
        }
    }
    assert!(
        at.next().is_none(),
        "every checkpoint names an input that exists"
    );
    assert_eq!(outputs_seen, core.core.outputs());
    // The decision records the tap forwarded (as many as its queue held)
    // carry the event time their cause left the core at.
    let mut stamped = 0;
    while let Ok(r) = records.rx.try_recv() {
        assert_eq!(r.at, now_after[r.out.cause.0 as usize], "{r:?}");
        stamped += 1;
    }
    assert!(stamped > 1000, "{stamped} records");
    assert!(
        core.core.stats().orders > 0,
        "the stream must make the core trade"
    );
    let trades = events
        .iter()
        .filter(|e| matches!(e.body, InputBody::AggTrade(_)))
        .count() as u64;
    assert_eq!(core.core.stats().by_kind[1], trades);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dedicated_journaller_thread() {
    check_layout(Layout::Dedicated, "dedicated");
}

#[test]
fn inline_journaling_on_the_core_thread() {
    check_layout(Layout::Inline, "inline");
}

// `wait = "park"`: the same stream with every consumer (the journaller,
// the core, the output reader) sleeping on the doorbell whenever the
// producers pause; a lost wake-up would show as a hang (the test's
// timeout), a lost event as a failed count.
#[test]
fn dedicated_journaller_thread_parking() {
    check(Layout::Dedicated, WaitKind::Park, "dedicated-park");
}

#[test]
fn inline_journaling_parking() {
    check(Layout::Inline, WaitKind::Park, "inline-park");
}
