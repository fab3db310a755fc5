//! L2 book cost on real data: every depth event of the BTCUSDT capture
//! (`../shared/data/ticks/btcusdt_20240808.gz`: a full-depth `@depth@0ms`
//! stream, 1000-level snapshot) replayed through the sync and the book.
//!
//! - "update": one depth event (a diff part of up to three level updates)
//!   through `DepthBook::on_part`, timed one by one with `Instant` pairs; an
//!   empty timed pair runs interleaved as the baseline, and the report
//!   gives both and their difference. The whole replay timed at once gives
//!   the mean per level update without timer overhead.
//! - "level update": one level through `Ladder::set` (the book's update
//!   without the sync's per-event checks), every diff level of the capture
//!   in order on a book loaded from its snapshot, timed one by one.
//! - "top of book": `DepthBook::top()` on the synced book, timed in batches.
//!
//! Target (issue 5): L2 update <= 50 ns p50 (per level update).

use std::hint::black_box;
use std::io::{BufRead as _, BufReader};
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::depth::{BookSide, DepthBook, Ladder};
use autobot_engine::event::{DepthDiff, InputBody};
use autobot_engine::types::{MonoNanos, SymbolId};
use autobot_gateways::binance::parse::{Parser, Symbols, capture_line};
use hdrhistogram::Histogram;

fn capture() -> Vec<DepthDiff> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ticks/btcusdt_20240808.gz"
    );
    let file = std::fs::File::open(path).expect("../shared/data/ticks/btcusdt_20240808.gz");
    let mut parser = Parser::new(Symbols::new(&["BTCUSDT"]));
    let mut parts = Vec::new();
    for line in BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let mut line = line.expect("gzip text").into_bytes();
        let Some((ts, json)) = capture_line(&mut line) else {
            continue;
        };
        let _ = parser.parse(json, MonoNanos(ts), Some(SymbolId(0)), |e| {
            if let InputBody::Depth(d) = e.body {
                parts.push(d);
            }
        });
    }
    parts
}

fn main() {
    let placement = pin(1);
    let parts = capture();
    let levels: usize = parts.iter().map(|d| d.bids().len() + d.asks().len()).sum();
    let mut update = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    let mut empty = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    let mut replay_ns = Vec::new();
    let rounds = 15;
    for round in 0..rounds {
        let mut book = DepthBook::new();
        let begin = Instant::now();
        if round % 2 == 0 {
            for d in &parts {
                black_box(book.on_part(black_box(d)));
            }
            replay_ns.push(begin.elapsed().as_nanos() as f64 / levels as f64);
        } else {
            for d in &parts {
                let t = Instant::now();
                black_box(book.on_part(black_box(d)));
                let ns = t.elapsed().as_nanos() as u64;
                let t = Instant::now();
                let e = t.elapsed().as_nanos() as u64;
                if !d.has(DepthDiff::SNAPSHOT) {
                    update.record(ns.max(1)).ok();
                    empty.record(e.max(1)).ok();
                }
            }
        }
        assert!(
            book.is_synced() && book.stats().gaps == 0,
            "the capture must sync"
        );
    }
    // Level by level, on ladders loaded from the snapshot's parts.
    let mut bids = Ladder::new(BookSide::Bid);
    let mut asks = Ladder::new(BookSide::Ask);
    let mut level = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    let mut level_empty = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3).unwrap();
    for _ in 0..3 {
        bids.clear();
        asks.clear();
        for d in parts.iter().filter(|d| d.has(DepthDiff::SNAPSHOT)) {
            d.bids().iter().for_each(|l| {
                bids.set(l.price, l.qty);
            });
            d.asks().iter().for_each(|l| {
                asks.set(l.price, l.qty);
            });
        }
        for d in parts.iter().filter(|d| !d.has(DepthDiff::SNAPSHOT)) {
            for (ladder, levels) in [(&mut bids, d.bids()), (&mut asks, d.asks())] {
                for l in levels {
                    let t = Instant::now();
                    black_box(ladder.set(black_box(l.price), black_box(l.qty)));
                    let ns = t.elapsed().as_nanos() as u64;
                    let t = Instant::now();
                    let e = t.elapsed().as_nanos() as u64;
                    level.record(ns.max(1)).ok();
                    level_empty.record(e.max(1)).ok();
                }
            }
        }
    }
    let mut book = DepthBook::new();
    for d in &parts {
        book.on_part(d);
    }
    let mut tops = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        for _ in 0..10_000 {
            black_box(black_box(&book).top());
        }
        tops.push(t.elapsed().as_nanos() as f64 / 10_000.0);
    }
    let q = |h: &Histogram<u64>, p: f64| h.value_at_quantile(p);
    println!(
        "L2 book on the BTCUSDT capture ({} depth events, {levels} level updates; thread on {placement})",
        parts.len()
    );
    println!(
        "  update (1 event, <= 3 levels)  p50 {:>4} ns  p99 {:>5} ns  p99.9 {:>6} ns",
        q(&update, 0.5),
        q(&update, 0.99),
        q(&update, 0.999)
    );
    println!(
        "  empty timer                    p50 {:>4} ns  p99 {:>5} ns  (baseline, same loop)",
        q(&empty, 0.5),
        q(&empty, 0.99)
    );
    println!(
        "  update - timer                 p50 {:>4} ns  p99 {:>5} ns",
        q(&update, 0.5).saturating_sub(q(&empty, 0.5)),
        q(&update, 0.99).saturating_sub(q(&empty, 0.99))
    );
    let p50 = q(&level, 0.5).saturating_sub(q(&level_empty, 0.5));
    println!(
        "  level update - timer           p50 {:>4} ns  p99 {:>5} ns  (timer p50 {} ns)",
        p50,
        q(&level, 0.99).saturating_sub(q(&level_empty, 0.99)),
        q(&level_empty, 0.5)
    );
    println!(
        "  whole replay                   {:.1} ns per level update (median of {} runs, snapshot included)",
        median(&mut replay_ns),
        replay_ns.len()
    );
    println!(
        "  top of book read               {:.2} ns (median of 21 batches of 10000)",
        median(&mut tops)
    );
    println!(
        "  target update p50 <= 50 ns: {}",
        if p50 <= 50 { "met" } else { "NOT met" }
    );
}
