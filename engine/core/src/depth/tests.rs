//! Unit tests of the sync procedure on hand-made streams.

use super::*;
use crate::event::{DepthDiff, Level};
use crate::types::{Price, Qty};

fn lv(price: i64, qty: i64) -> Level {
    Level {
        price: Price::from_raw(price),
        qty: Qty::from_raw(qty),
    }
}

/// Feeds one whole diff (or snapshot) and returns the outcome of each part.
fn feed(
    book: &mut DepthBook,
    ids: (u64, u64, u64),
    bids: &[Level],
    asks: &[Level],
    snap: bool,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    DepthDiff::split(ids, bids, asks, snap, |d| out.push(book.on_part(&d)));
    out
}

fn snapshot(book: &mut DepthBook, id: u64) -> Outcome {
    let bids: Vec<Level> = (0..5).map(|i| lv(100 - i, 10)).collect();
    let asks: Vec<Level> = (0..5).map(|i| lv(101 + i, 10)).collect();
    *feed(book, (0, id, 0), &bids, &asks, true).last().unwrap()
}

#[test]
fn buffered_diffs_bridge_the_snapshot_and_the_chain_follows() {
    let mut b = DepthBook::new();
    // Before the snapshot: one diff it covers, one that straddles it.
    assert_eq!(
        feed(&mut b, (1, 5, 0), &[lv(99, 1)], &[], false),
        [Outcome::Buffered]
    );
    assert_eq!(
        feed(&mut b, (6, 12, 5), &[lv(100, 7)], &[lv(101, 0)], false),
        [Outcome::Buffered]
    );
    assert_eq!(snapshot(&mut b, 10), Outcome::Loaded(true));
    assert_eq!(b.stats().stale, 1);
    assert_eq!(b.top().unwrap().0, (Price::from_raw(100), Qty::from_raw(7)));
    assert_eq!(b.top().unwrap().1.0, Price::from_raw(102));
    // The chain continues.
    assert_eq!(
        feed(&mut b, (13, 15, 12), &[lv(101, 2)], &[], false),
        [Outcome::Applied(true)]
    );
    assert_eq!(b.last_update_id(), Some(15));
    // A duplicate is dropped, not applied twice.
    assert_eq!(
        feed(&mut b, (13, 15, 12), &[lv(101, 9)], &[], false),
        [Outcome::Stale]
    );
    assert_eq!(b.top().unwrap().0.1, Qty::from_raw(2));
}

#[test]
fn every_broken_stream_is_detected_and_clears_the_book() {
    type Case = (&'static str, fn(&mut DepthBook) -> Outcome, ResyncReason);
    let cases: [Case; 6] = [
        (
            "gap in pu",
            |b| feed(b, (20, 22, 19), &[lv(99, 1)], &[], false)[0],
            ResyncReason::Gap,
        ),
        (
            "no bridge",
            |b| {
                let mut fresh = DepthBook::new();
                snapshot(&mut fresh, 10);
                let r = feed(&mut fresh, (12, 14, 11), &[lv(99, 1)], &[], false)[0];
                *b = fresh;
                r
            },
            ResyncReason::NoBridge,
        ),
        (
            "negative price",
            |b| feed(b, (13, 14, 12), &[lv(-1, 1)], &[], false)[0],
            ResyncReason::BadLevel,
        ),
        (
            "negative qty",
            |b| feed(b, (13, 14, 12), &[], &[lv(103, -5)], false)[0],
            ResyncReason::BadLevel,
        ),
        (
            "crossed",
            |b| {
                *feed(b, (13, 14, 12), &[lv(104, 1)], &[], false)
                    .last()
                    .unwrap()
            },
            ResyncReason::Crossed,
        ),
        (
            "torn",
            |b| {
                let mut parts = Vec::new();
                let bids: Vec<Level> = (0..6).map(|i| lv(90 - i, 1)).collect();
                DepthDiff::split((13, 14, 12), &bids, &[], false, |d| parts.push(d));
                b.on_part(&parts[0]);
                b.on_part(&parts[0])
            },
            ResyncReason::Torn,
        ),
    ];
    for (name, corrupt, reason) in cases {
        let mut b = DepthBook::new();
        snapshot(&mut b, 10);
        assert_eq!(
            feed(&mut b, (9, 12, 8), &[], &[], false),
            [Outcome::Applied(true)],
            "{name}"
        );
        assert_eq!(corrupt(&mut b), Outcome::Resync(reason), "{name}");
        assert!(
            !b.is_synced() && b.top().is_none() && b.bids().is_empty(),
            "{name}"
        );
        assert_eq!(b.stats().resyncs, 1, "{name}");
        // A new snapshot recovers.
        assert_eq!(snapshot(&mut b, 30), Outcome::Loaded(false), "{name}");
        assert_eq!(
            feed(&mut b, (29, 31, 28), &[], &[], false),
            [Outcome::Applied(true)],
            "{name}"
        );
        assert!(b.is_synced(), "{name}");
    }
}

#[test]
fn a_multi_part_diff_is_applied_whole_and_its_stale_parts_skipped() {
    let mut b = DepthBook::new();
    snapshot(&mut b, 10);
    let bids: Vec<Level> = (0..7).map(|i| lv(80 - i, 1)).collect();
    // Older than the snapshot: all three parts dropped.
    assert_eq!(
        feed(&mut b, (1, 9, 0), &bids, &[], false),
        [Outcome::Stale; 3]
    );
    let out = feed(&mut b, (9, 11, 8), &bids, &[], false);
    assert_eq!(
        out,
        [
            Outcome::Applied(false),
            Outcome::Applied(false),
            Outcome::Applied(true)
        ]
    );
    assert_eq!(b.bids().len(), 12);
    assert_eq!(b.stats().diffs, 1);
}

#[test]
fn a_snapshot_part_out_of_nowhere_is_torn() {
    let mut b = DepthBook::new();
    let mut parts = Vec::new();
    let bids: Vec<Level> = (0..6).map(|i| lv(90 - i, 1)).collect();
    DepthDiff::split((0, 10, 0), &bids, &[lv(95, 1)], true, |d| parts.push(d));
    assert_eq!(b.on_part(&parts[1]), Outcome::Resync(ResyncReason::Torn));
    assert_eq!(b.on_part(&parts[0]), Outcome::Loading);
    assert_eq!(b.on_part(&parts[1]), Outcome::Loading);
    assert_eq!(b.on_part(&parts[2]), Outcome::Loaded(false));
}

#[test]
fn an_overflowing_buffer_drops_whole_old_diffs_and_still_bridges() {
    let mut b = DepthBook::new();
    // Diffs of two parts each (four levels) from u = 2, overfilling the
    // buffer by a part and a half: the oldest whole diffs go.
    let bids: Vec<Level> = (0..4).map(|i| lv(90 - i, 1)).collect();
    let diffs = BUFFER_PARTS as u64 / 2 + 1;
    for k in 0..diffs {
        let u = 2 + 2 * k;
        feed(&mut b, (u - 1, u, u - 2), &bids, &[], false);
    }
    assert_eq!(b.stats().overflow, 2);
    // A snapshot in the middle of the buffered range bridges cleanly.
    let mid = 2 + diffs;
    assert_eq!(snapshot(&mut b, mid | 1), Outcome::Loaded(true));
    assert_eq!(b.stats().resyncs, 0);
    assert_eq!(b.last_update_id(), Some(2 + 2 * (diffs - 1)));
}
