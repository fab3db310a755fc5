//! The journal on real files: round trip, rolling, tailing while writing,
//! torn-write recovery, corruption with its offset, and refusals.

use autobot_test_support::Scratch;
use std::path::{Path, PathBuf};

use autobot_journal::{
    Appender, AppenderConfig, Durability, Journal, JournalError, RecordMeta, Tailer,
};
use proptest::prelude::*;

const SEG: u64 = 64 * 1024;

fn tmp(name: &str) -> Scratch {
    Scratch::new(&format!("j-{name}"))
}

fn cfg(dir: &Path, durability: Durability) -> AppenderConfig {
    AppenderConfig {
        dir: dir.to_path_buf(),
        segment_size: SEG,
        durability,
    }
}

/// Payload of record `seq`: its length varies, its bytes name the sequence.
fn payload(seq: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (seq as u8).wrapping_add(i as u8))
        .collect()
}

fn meta(seq: u64) -> RecordMeta {
    RecordMeta {
        kind: (seq % 12) as u16,
        flags: 0,
        seq,
        recv: seq * 10,
        exchange: 1_000_000 + seq * 1_000,
    }
}

fn write(dir: &Path, n: u64, len: impl Fn(u64) -> usize) {
    let (mut app, report) = Appender::open(cfg(dir, Durability::None)).unwrap();
    assert!(report.created);
    for seq in 0..n {
        app.append(&meta(seq), &payload(seq, len(seq))).unwrap();
    }
    app.end_batch().unwrap();
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    v.sort();
    v
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    segment_files(dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

#[test]
fn round_trip_across_rolled_segments() {
    let dir = tmp("roundtrip");
    write(&dir, 5_000, |s| 1 + (s as usize * 7) % 300);
    let j = Journal::open(&dir).unwrap();
    assert!(
        j.segments().len() > 5,
        "rolled: {} segments",
        j.segments().len()
    );
    assert!(
        j.segments()[..j.segments().len() - 1]
            .iter()
            .all(|s| s.scan.sealed)
    );
    assert_eq!(j.next_seq(), 5_000);
    let mut n = 0;
    for r in j.records() {
        assert_eq!(r.meta, meta(n));
        assert_eq!(r.payload, payload(n, 1 + (n as usize * 7) % 300).as_slice());
        assert_eq!(
            r.payload.as_ptr() as usize % 8,
            0,
            "payloads are 8-byte aligned"
        );
        n += 1;
    }
    assert_eq!(n, 5_000);
    // Seeking by sequence and by time.
    assert_eq!(j.records_from(3_333).next().unwrap().meta.seq, 3_333);
    assert_eq!(j.seq_at_time(1_000_000 + 4_000 * 1_000), 4_000);
    assert_eq!(j.seq_at_time(1_000_000 + 4_000 * 1_000 - 1), 4_000);
    assert_eq!(j.seq_at_time(u64::MAX), 5_000);
    // Reopening appends after the last record.
    let (mut app, report) = Appender::open(cfg(&dir, Durability::None)).unwrap();
    assert_eq!((report.records, report.truncated.clone()), (5_000, None));
    assert_eq!(app.next_seq(), 5_000);
    app.append(&meta(5_000), b"more").unwrap();
    drop(app);
    assert_eq!(Journal::open(&dir).unwrap().next_seq(), 5_001);
}

fn prepared_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "prep")
        })
        .count()
}

#[test]
fn an_awaited_next_segment_is_ready_before_the_first_record_and_used_by_the_roll() {
    let dir = tmp("awaited");
    let (mut app, _) = Appender::open(cfg(&dir, Durability::None)).unwrap();
    app.await_next_segment().unwrap();
    // Waiting again is a no-op: the one it holds is kept.
    app.await_next_segment().unwrap();
    assert_eq!(prepared_files(&dir), 1, "the next segment is on disk");
    assert_eq!(segment_files(&dir).len(), 1);
    let mut seq = 0;
    while segment_files(&dir).len() < 3 {
        app.append(&meta(seq), &payload(seq, 200)).unwrap();
        seq += 1;
    }
    app.end_batch().unwrap();
    drop(app);
    assert_eq!(
        prepared_files(&dir),
        0,
        "no prepared file outlives the appender"
    );
    let j = Journal::open(&dir).unwrap();
    assert_eq!(j.next_seq(), seq);
    assert_eq!(j.records().count() as u64, seq);

    // Awaited and never rolled into: removed at the end too.
    let (mut app, _) = Appender::open(cfg(&dir, Durability::None)).unwrap();
    app.await_next_segment().unwrap();
    drop(app);
    assert_eq!(prepared_files(&dir), 0);
}

#[test]
fn checkpoints_ride_along_without_taking_sequences() {
    let dir = tmp("meta");
    let (mut app, _) = Appender::open(cfg(&dir, Durability::None)).unwrap();
    app.append(&meta(0), b"a").unwrap();
    app.append(&meta(1), b"b").unwrap();
    app.append_meta(1, 1, b"digest").unwrap();
    app.append(&meta(2), b"c").unwrap();
    drop(app);
    let j = Journal::open(&dir).unwrap();
    let recs: Vec<_> = j
        .records()
        .map(|r| (r.meta.is_meta(), r.meta.seq))
        .collect();
    assert_eq!(recs, vec![(false, 0), (false, 1), (true, 1), (false, 2)]);
}

#[test]
fn durability_policies_report_what_was_synced() {
    let dir = tmp("durable");
    let (mut app, _) = Appender::open(cfg(&dir, Durability::EveryRecords(10))).unwrap();
    for s in 0..25 {
        app.append(&meta(s), b"x").unwrap();
    }
    assert_eq!(app.durable_seq(), Some(19));
    drop(app);
    let (mut app, _) = Appender::open(cfg(&dir, Durability::EveryBatch)).unwrap();
    assert_eq!(
        app.durable_seq(),
        Some(24),
        "what was there on open counts as on disk"
    );
    app.append(&meta(25), b"y").unwrap();
    assert_eq!(app.durable_seq(), Some(24));
    app.end_batch().unwrap();
    assert_eq!(app.durable_seq(), Some(25));
    drop(app);
}

#[test]
fn a_tailer_reads_while_another_thread_writes() {
    let dir = tmp("tail");
    let n = 40_000u64;
    let (mut app, _) = Appender::open(cfg(&dir, Durability::None)).unwrap();
    let writer = std::thread::spawn(move || {
        for seq in 0..n {
            app.append(&meta(seq), &payload(seq, 24 + (seq % 50) as usize))
                .unwrap();
            if seq % 64 == 0 {
                app.end_batch().unwrap();
            }
        }
    });
    let mut tail = Tailer::new(&dir, 0);
    let mut seen = 0u64;
    while seen < n {
        let got = tail
            .poll(|m, p| {
                assert_eq!(m.seq, seen);
                assert_eq!(p, payload(seen, 24 + (seen % 50) as usize).as_slice());
                seen += 1;
            })
            .unwrap();
        if got == 0 {
            std::thread::yield_now();
        }
    }
    writer.join().unwrap();
    assert_eq!(tail.next_seq(), n);
}

/// The last record's segment, offset and span.
fn last_record(dir: &Path) -> (PathBuf, usize, usize) {
    let j = Journal::open(dir).unwrap();
    let r = j.records().last().unwrap();
    let seg = j.segments()[r.segment].path.clone();
    let span = (40 + r.payload.len() + 7) & !7;
    (seg, r.offset, span)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// A crash in the middle of the last append, at every byte: either the
    /// bytes after the cut never reached the file (zeros), or the file itself
    /// ends there. Recovery keeps exactly the records before it, reports the
    /// removal, and the journal takes new appends.
    #[test]
    fn torn_last_record_is_removed_at_every_byte(n in 2u64..300, len in 1usize..200) {
        let dir = tmp("torn");
        write(&dir, n, |_| len);
        let (seg, off, span) = last_record(&dir);
        let pristine = std::fs::read(&seg).unwrap();
        let original = segment_files(&dir);
        for cut in off..off + span {
            for shorten in [false, true] {
                // Back to the state before this cut: drop segments a previous
                // iteration added; `seg` is rewritten below.
                for p in segment_files(&dir) {
                    if !original.contains(&p) {
                        std::fs::remove_file(p).unwrap();
                    }
                }
                if shorten {
                    std::fs::write(&seg, &pristine[..cut]).unwrap();
                } else {
                    let mut b = pristine.clone();
                    b[cut..off + span].fill(0);
                    std::fs::write(&seg, &b).unwrap();
                }
                let (mut app, report) = Appender::open(cfg(&dir, Durability::None)).unwrap();
                // Losing only the padding leaves the record whole. So does
                // zeroing payload bytes that were zeros anyway: the record
                // is then byte for byte what was written, and its checksum
                // matches (a payload may end in 0x00).
                let end = off + 40 + len;
                let whole = cut >= end
                    || (!shorten && pristine[cut..end].iter().all(|&b| b == 0));
                let kept = if whole { n } else { n - 1 };
                prop_assert_eq!(app.next_seq(), kept, "cut {} shorten {}", cut, shorten);
                if shorten {
                    prop_assert!(report.extended.is_some());
                } else if !whole && cut > off + 3 {
                    prop_assert!(report.truncated.is_some(), "cut {}", cut);
                }
                app.append(&meta(kept), b"after").unwrap();
                drop(app);
                let j = Journal::open(&dir).unwrap();
                prop_assert_eq!(j.next_seq(), kept + 1);
                prop_assert!(j.torn().is_none());
                for (i, r) in j.records().enumerate().take(kept as usize) {
                    let want = payload(i as u64, len);
                    prop_assert_eq!(r.payload, want.as_slice());
                }
            }
        }
    }
}

#[test]
fn a_flipped_bit_in_the_middle_is_an_error_with_its_offset() {
    let dir = tmp("flip");
    write(&dir, 2_000, |_| 100);
    let j = Journal::open(&dir).unwrap();
    let victim = j.records().nth(10).unwrap();
    let (seg, off) = (j.segments()[victim.segment].path.clone(), victim.offset);
    drop(j);
    let mut b = std::fs::read(&seg).unwrap();
    b[off + 40 + 50] ^= 0x08;
    std::fs::write(&seg, &b).unwrap();
    let before = snapshot(&dir);
    match Journal::open(&dir).unwrap_err() {
        JournalError::Corrupt { path, offset, .. } => {
            assert_eq!((path, offset), (seg.clone(), off as u64));
        }
        e => panic!("{e}"),
    }
    let err = Appender::open(cfg(&dir, Durability::None)).unwrap_err();
    assert!(err.to_string().contains(&format!("offset {off}")), "{err}");
    assert_eq!(snapshot(&dir), before, "nothing modified");
    // The same damage in the last segment, followed by valid records, is
    // corruption too, not a torn tail.
    let dir = tmp("flip-last");
    write(&dir, 20, |_| 100);
    let j = Journal::open(&dir).unwrap();
    let victim = j.records().nth(5).unwrap();
    let (seg, off) = (j.segments()[victim.segment].path.clone(), victim.offset);
    drop(j);
    let mut b = std::fs::read(&seg).unwrap();
    b[off + 44] ^= 0x01;
    std::fs::write(&seg, &b).unwrap();
    assert!(matches!(
        Appender::open(cfg(&dir, Durability::None)).unwrap_err(),
        JournalError::Corrupt { offset, .. } if offset == off as u64
    ));
}

#[test]
fn refusals_name_the_file_and_modify_nothing() {
    // Not a journal.
    let dir = tmp("notj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "hello").unwrap();
    let e = Journal::open(&dir).unwrap_err();
    assert!(matches!(e, JournalError::NotAJournal { .. }), "{e}");
    assert!(e.to_string().contains(dir.to_str().unwrap()));
    assert!(matches!(
        Appender::open(cfg(&dir, Durability::None)),
        Err(JournalError::NotAJournal { .. })
    ));

    // A newer format version.
    let dir = tmp("newer");
    write(&dir, 100, |_| 10);
    let first = segment_files(&dir)[0].clone();
    let mut b = std::fs::read(&first).unwrap();
    b[8] = 9;
    std::fs::write(&first, &b).unwrap();
    let e = Journal::open(&dir).unwrap_err();
    assert!(
        matches!(e, JournalError::NewerVersion { version: 9, .. }),
        "{e}"
    );
    assert!(e.to_string().contains(first.to_str().unwrap()));

    // A missing segment in the middle, then a truncated middle segment.
    let dir = tmp("missing");
    write(&dir, 3_000, |_| 100);
    let segs = segment_files(&dir);
    assert!(segs.len() >= 4);
    let middle = std::fs::read(&segs[1]).unwrap();
    std::fs::remove_file(&segs[1]).unwrap();
    let before = snapshot(&dir);
    let e = Appender::open(cfg(&dir, Durability::None)).unwrap_err();
    assert!(matches!(e, JournalError::MissingSegment { .. }), "{e}");
    assert!(e.to_string().contains(segs[2].to_str().unwrap()), "{e}");
    assert_eq!(snapshot(&dir), before, "nothing modified");
    std::fs::write(&segs[1], &middle[..middle.len() / 2]).unwrap();
    let e = Journal::open(&dir).unwrap_err();
    assert!(matches!(e, JournalError::Truncated { .. }), "{e}");
    assert!(e.to_string().contains(segs[1].to_str().unwrap()));

    // An empty directory is no journal for a reader, a new one for the appender.
    let dir = tmp("empty");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(
        Journal::open(&dir),
        Err(JournalError::Empty { .. })
    ));
}

/// A journal of many segments opens as one walk in file order would: the
/// segments' records are checked on several threads (`walk`), but the
/// sparse index's time envelope runs across segments, and of two damaged
/// segments the first in file order is the one named.
#[test]
fn many_segments_open_as_one_walk_in_file_order() {
    let dir = tmp("walk");
    let (mut app, _) = Appender::open(cfg(&dir, Durability::None)).unwrap();
    // Exchange times that jump back and forth: the index's envelope (the
    // largest time so far) is not the record's own time.
    // One early outlier holds the envelope up for every segment after its.
    let time = |seq: u64| {
        if seq == 300 {
            5_000_000
        } else {
            1_000_000 + (seq * 7_919) % 50_000 + seq
        }
    };
    for seq in 0..12_000 {
        let m = RecordMeta {
            exchange: time(seq),
            ..meta(seq)
        };
        app.append(&m, &payload(seq, 100)).unwrap();
    }
    app.end_batch().unwrap();
    drop(app);
    let segs = segment_files(&dir);
    assert!(segs.len() >= 8, "{} segments", segs.len());

    let j = Journal::open(&dir).unwrap();
    let mut want = Vec::new();
    let mut envelope = 0;
    for r in j.records() {
        if r.meta.is_meta() {
            continue;
        }
        envelope = u64::max(envelope, r.meta.exchange);
        if r.meta.seq % autobot_journal::INDEX_EVERY == 0 {
            want.push(autobot_journal::IndexPoint {
                seq: r.meta.seq,
                time: envelope,
                segment: r.segment,
                offset: r.offset,
            });
        }
    }
    assert_eq!(want.len(), 12);
    assert_eq!(j.index(), &want[..]);
    assert_eq!(j.next_seq(), 12_000);
    // Seeking by time through the index finds what a scan finds.
    for t in [time(10), time(5_000), time(9_999), 1_060_000] {
        let scan = j
            .records()
            .find(|r| !r.meta.is_meta() && r.meta.exchange >= t)
            .map_or(j.next_seq(), |r| r.meta.seq);
        assert_eq!(j.seq_at_time(t), scan, "time {t}");
    }
    let second = (
        j.segments()[2].header.first_seq,
        j.segments()[2].path.clone(),
    );
    let sixth = j.segments()[6].path.clone();
    drop(j);

    // Damage in the third and the seventh segment: the third is named.
    let flip = |seg: &Path, at: usize| {
        let mut b = std::fs::read(seg).unwrap();
        b[at] ^= 0x10;
        std::fs::write(seg, &b).unwrap();
    };
    flip(&sixth, 4_096 + 200);
    flip(&second.1, 4_096 + 200);
    match Journal::open(&dir).unwrap_err() {
        JournalError::Corrupt { path, .. } => assert_eq!(path, second.1),
        e => panic!("{e}"),
    }
    let intact = Journal::open_intact(&dir).unwrap();
    let damage = intact.damage().unwrap();
    assert_eq!(damage.path, second.1);
    assert!(damage.next_seq > second.0, "{damage}");
    assert_eq!(intact.segments().len(), 3);
    assert_eq!(intact.next_seq(), damage.next_seq);
    assert!(intact.index().iter().all(|p| p.seq < damage.next_seq));
}
