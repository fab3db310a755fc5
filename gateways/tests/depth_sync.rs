//! The L2 sync on real Binance data (`../shared/data`, see its README):
//!
//! - the BTCUSDT capture (snapshot line + diffs + book tickers) replays
//!   through the parser and the book with zero gaps, and wherever a book
//!   ticker and a diff carry the same update id, the L2 top equals the
//!   ticker's;
//! - the TRXUSDT depth-validation stream follows its `pu` chain cleanly, and
//!   every problem injected into it is detected: the shipped "negative" depth
//!   file is byte-identical to the positive one, so the corruptions are made
//!   here (gap, duplicate, reorder, negative price, negative quantity,
//!   crossed level, torn diff); the shipped negative trade file's injected
//!   problem (a price of -1) is refused by the parser, while the zero-price
//!   placeholder trade both files share (empty `X`) is ignored, not refused.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;

use autobot_engine::depth::{DepthBook, Outcome, ResyncReason};
use autobot_engine::event::{DepthDiff, InputBody, Level};
use autobot_engine::types::{MonoNanos, Price, Qty, SymbolId};
use autobot_gateways::binance::parse::{ParseError, Parsed, Parser, Symbols, capture_line};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).join(rel)
}

type Top = (Price, Qty, Price, Qty);

#[test]
fn the_btcusdt_capture_syncs_without_gaps_and_agrees_with_book_tickers() {
    let file = std::fs::File::open(data("ticks/btcusdt_20240808.gz")).unwrap();
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut parser = Parser::new(Symbols::new(&["BTCUSDT"]));
    let mut book = DepthBook::new();
    let mut l2_tops: BTreeMap<u64, Top> = BTreeMap::new();
    let mut tickers: BTreeMap<u64, Top> = BTreeMap::new();
    let (mut lines, mut refused) = (0, 0);
    let mut events = Vec::new();
    for line in reader.lines() {
        let mut line = line.unwrap().into_bytes();
        lines += 1;
        let (ts, json) = capture_line(&mut line).expect("capture line shape");
        events.clear();
        match parser.parse(json, MonoNanos(ts), Some(SymbolId(0)), |e| events.push(e)) {
            Ok(_) => {}
            Err(e) => {
                refused += 1;
                eprintln!("line {lines}: {e}");
                continue;
            }
        }
        for ev in &events {
            match ev.body {
                InputBody::Depth(d) => {
                    let outcome = book.on_part(&d);
                    assert!(
                        !matches!(outcome, Outcome::Resync(_)),
                        "line {lines}: {outcome:?}"
                    );
                    if matches!(outcome, Outcome::Applied(true) | Outcome::Loaded(true))
                        && let Some(((bp, bq), (ap, aq))) = book.top()
                    {
                        let u = book.last_update_id().unwrap();
                        l2_tops.insert(u, (bp, bq, ap, aq));
                    }
                }
                InputBody::BookTicker(t) => {
                    tickers.insert(
                        t.update_id,
                        (t.bid_price, t.bid_qty, t.ask_price, t.ask_qty),
                    );
                }
                _ => {}
            }
        }
    }
    let s = *book.stats();
    assert_eq!(lines, 93_954);
    assert_eq!(refused, 0);
    assert_eq!(
        (s.gaps, s.resyncs, s.torn, s.bad_levels),
        (0, 0, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.snapshots, 1);
    assert!(book.is_synced());
    // 6551 diffs in the file; the ones before the snapshot's id are dropped.
    assert!(s.diffs > 6_500, "{s:?}");
    let mut same = 0;
    for (u, top) in &l2_tops {
        if let Some(t) = tickers.get(u) {
            assert_eq!(top, t, "L2 top and book ticker differ at update {u}");
            same += 1;
        }
    }
    eprintln!(
        "capture: {} diffs applied, {} dropped as covered by the snapshot, {} truncated levels; \
         {same} updates with both an L2 top and a book ticker, all equal",
        s.diffs, s.stale, s.truncated
    );
    assert!(same >= 600, "only {same} common update ids");
}

/// One diff of the depth-validation CSV.
#[derive(Clone, Debug)]
struct CsvDiff {
    ids: (u64, u64, u64),
    bids: Vec<Level>,
    asks: Vec<Level>,
}

fn depth_csv(name: &str) -> Vec<CsvDiff> {
    let text = std::fs::read_to_string(data(&format!("depth-validation/{name}"))).unwrap();
    let mut diffs: Vec<CsvDiff> = Vec::new();
    for row in text.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        assert_eq!(f.len(), 12, "{row}");
        let ids = (
            f[6].parse().unwrap(),
            f[7].parse().unwrap(),
            f[8].parse().unwrap(),
        );
        let level = Level {
            price: Price::parse(f[10]).unwrap(),
            qty: Qty::parse(f[11]).unwrap(),
        };
        if diffs.last().is_none_or(|d| d.ids != ids) {
            diffs.push(CsvDiff {
                ids,
                bids: Vec::new(),
                asks: Vec::new(),
            });
        }
        let d = diffs.last_mut().unwrap();
        if f[9] == "1" {
            d.asks.push(level)
        } else {
            d.bids.push(level)
        }
    }
    diffs
}

/// Syncs a book on `diffs` from an empty snapshot bridged by the first diff
/// (the files have no REST snapshot); the outcomes of every part.
fn replay(diffs: &[CsvDiff]) -> (DepthBook, Vec<Outcome>) {
    let mut book = DepthBook::new();
    let mut out = Vec::new();
    let first = diffs[0].ids.0;
    DepthDiff::split((0, first, 0), &[], &[], true, |d| {
        out.push(book.on_part(&d))
    });
    for d in diffs {
        DepthDiff::split(d.ids, &d.bids, &d.asks, false, |p| {
            out.push(book.on_part(&p))
        });
    }
    (book, out)
}

const POSITIVE: &str =
    "test_positive_binance_difference_depth_stream_usd_m_futures_trxusdt_04-03-2025.csv";
const NEGATIVE: &str =
    "test_negative_binance_difference_depth_stream_usd_m_futures_trxusdt_04-03-2025.csv";

#[test]
fn the_trxusdt_depth_stream_follows_its_chain() {
    let diffs = depth_csv(POSITIVE);
    assert_eq!(diffs.len(), 600);
    let (book, out) = replay(&diffs);
    let s = book.stats();
    assert_eq!((s.resyncs, s.diffs), (0, 600), "{s:?}");
    assert!(out.iter().all(|o| !matches!(o, Outcome::Resync(_))));
    // The shipped negative depth file carries no depth corruption.
    assert_eq!(
        std::fs::read(data(&format!("depth-validation/{POSITIVE}"))).unwrap(),
        std::fs::read(data(&format!("depth-validation/{NEGATIVE}"))).unwrap(),
    );
}

#[test]
fn every_problem_injected_into_the_trxusdt_stream_is_detected() {
    let clean = depth_csv(POSITIVE);
    let at = 300;
    type Inject = fn(&mut Vec<CsvDiff>);
    let cases: [(&str, Inject, Option<ResyncReason>); 7] = [
        (
            "missing diff",
            |d| {
                d.remove(300);
            },
            Some(ResyncReason::Gap),
        ),
        (
            "swapped diffs",
            |d| d.swap(300, 301),
            Some(ResyncReason::Gap),
        ),
        (
            "negative price",
            |d| {
                d[300].bids.push(Level {
                    price: Price::parse("-1").unwrap(),
                    qty: Qty::ONE,
                })
            },
            Some(ResyncReason::BadLevel),
        ),
        (
            "negative quantity",
            |d| {
                let l = d[300].asks.first().copied().unwrap_or_default();
                d[300].asks.push(Level {
                    price: l.price.max(Price::parse("0.2").unwrap()),
                    qty: Qty::parse("-3").unwrap(),
                });
            },
            Some(ResyncReason::BadLevel),
        ),
        (
            "crossed level",
            |d| {
                d[300].bids.push(Level {
                    price: Price::parse("9").unwrap(),
                    qty: Qty::ONE,
                })
            },
            Some(ResyncReason::Crossed),
        ),
        ("broken pu", |d| d[300].ids.2 += 1, Some(ResyncReason::Gap)),
        (
            "duplicated diff",
            |d| {
                let again = d[299].clone();
                d.insert(300, again);
            },
            None,
        ),
    ];
    for (name, inject, want) in cases {
        let mut diffs = clean.clone();
        inject(&mut diffs);
        let (book, out) = replay(&diffs);
        let first_resync = out.iter().find_map(|o| match o {
            Outcome::Resync(r) => Some(*r),
            _ => None,
        });
        assert_eq!(first_resync, want, "{name}");
        if want.is_none() {
            // A duplicate is dropped (each of its parts counted), never
            // applied twice.
            let d = &clean[at - 1];
            let parts = (d.bids.len() + d.asks.len()).div_ceil(3).max(1) as u64;
            assert_eq!(book.stats().stale, parts, "{name}");
            assert_eq!(book.stats().diffs, 600, "{name}");
        }
    }
}

#[test]
fn the_negative_trade_file_has_its_bad_price_refused() {
    let mut refused = Vec::new();
    for (name, expect_bad) in [
        (
            "test_positive_binance_trade_stream_usd_m_futures_trxusdt_04-03-2025.csv",
            0,
        ),
        (
            "test_negative_binance_trade_stream_usd_m_futures_trxusdt_04-03-2025.csv",
            1,
        ),
    ] {
        let text = std::fs::read_to_string(data(&format!("depth-validation/{name}"))).unwrap();
        let mut parser = Parser::new(Symbols::new(&["TRXUSDT"]));
        let (mut bad, mut ignored) = (0, 0);
        for (i, row) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = row.split(',').collect();
            // The CSV is the recorded trade stream's fields; rebuilt as the
            // message Binance sent, it goes through the real parser.
            let json = format!(
                r#"{{"e":"{}","E":{},"T":{},"s":"{}","t":{},"p":"{}","q":"{}","X":"{}","m":{}}}"#,
                f[2],
                f[3],
                f[4],
                f[5],
                f[6],
                f[7],
                f[8],
                f[10],
                f[9] == "1"
            );
            let mut bytes = json.into_bytes();
            match parser.parse(&mut bytes, MonoNanos(0), None, |_| {}) {
                Ok(Parsed::Trade) => {}
                Ok(Parsed::Ignored) => ignored += 1,
                Ok(other) => panic!("row {i}: {other:?}"),
                Err(e) => {
                    bad += 1;
                    refused.push((i, e));
                }
            }
        }
        assert_eq!(bad, expect_bad, "{name}: {refused:?}");
        // Row 9327 is a zero-price placeholder with an empty `X`.
        assert_eq!(ignored, 1, "{name}");
    }
    assert_eq!(refused, [(1, ParseError::Range("p"))]);
}
