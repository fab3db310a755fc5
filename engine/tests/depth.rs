//! The L2 book inside the core: depth events sync it, a gap clears it and
//! raises `BookResync` for the gateway, a depth event for an unknown symbol
//! is refused before any state changes, and the book survives a snapshot.

mod common;

use autobot_engine::core::Core;
use autobot_engine::event::{AlertCode, DepthDiff, InputBody, Level, OutputBody, Source};
use autobot_engine::types::{Price, Qty, SymbolId};
use common::{Harness, T0, core_config};

fn lv(price: &str, qty: &str) -> Level {
    Level {
        price: Price::parse(price).unwrap(),
        qty: Qty::parse(qty).unwrap(),
    }
}

fn send(
    h: &mut Harness,
    sym: u16,
    ids: (u64, u64, u64),
    bids: &[Level],
    asks: &[Level],
    snap: bool,
) -> Vec<AlertCode> {
    let mut parts = Vec::new();
    DepthDiff::split(ids, bids, asks, snap, |d| parts.push(d));
    let mut alerts = Vec::new();
    for d in parts {
        for o in h.feed(Source::MarketData, sym, T0, InputBody::Depth(d)) {
            if let OutputBody::Alert(a) = o.body {
                alerts.push(a.code);
            }
        }
    }
    alerts
}

#[test]
fn depth_events_sync_the_core_book_and_a_gap_asks_for_a_snapshot() {
    let mut h = Harness::new(&core_config());
    let bids = [lv("60000", "1"), lv("59999.9", "2")];
    let asks = [lv("60000.1", "1.5"), lv("60000.2", "3")];
    assert!(send(&mut h, 0, (0, 100, 0), &bids, &asks, true).is_empty());
    assert!(send(&mut h, 0, (99, 101, 98), &[lv("60000", "0.4")], &[], false).is_empty());
    let book = h.core.depth(SymbolId(0)).unwrap();
    let ((bp, bq), (ap, _)) = book.top().unwrap();
    assert_eq!(
        (bp, bq, ap),
        (
            lv("60000", "0").price,
            Qty::parse("0.4").unwrap(),
            asks[0].price
        )
    );

    // Snapshot and restore keep the book (and its sync point).
    let restored = Core::from_snapshot(&h.core.to_snapshot()).unwrap();
    assert_eq!(restored.depth(SymbolId(0)).unwrap().top(), book.top());
    assert_eq!(
        restored.depth(SymbolId(0)).unwrap().last_update_id(),
        Some(101)
    );

    // A gap: the book is cleared and the gateway is asked for a snapshot.
    assert_eq!(
        send(&mut h, 0, (105, 106, 104), &bids, &[], false),
        [AlertCode::BookResync]
    );
    assert!(h.core.depth(SymbolId(0)).unwrap().top().is_none());
    assert_eq!(h.core.stats().depth_resyncs, 1);
}

#[test]
fn a_depth_event_for_an_unknown_symbol_changes_nothing() {
    let mut h = Harness::new(&core_config());
    let alerts = send(&mut h, 9, (0, 1, 0), &[lv("1", "1")], &[], true);
    assert_eq!(alerts, [AlertCode::UnknownSymbol]);
    assert_eq!(h.core.stats().unknown_symbols, 1);
    for sym in 0..2 {
        let book = h.core.depth(SymbolId(sym)).unwrap();
        assert!(book.bids().is_empty() && !book.is_synced());
        assert_eq!(book.stats().snapshots, 0);
    }
}
