//! Per-event feature cost (issue 5 target: <= 100 ns p50).
//!
//! - "trade": one trade into a symbol's `FeatureSet` (VWAP and flow window,
//!   volume profile, 1 s / 5 s / 60 s candles, a bar closing every ~100
//!   trades);
//! - "tick": what the strategies read on a book ticker — VWAP, trade-flow
//!   imbalance, spread in bp and the imbalance of 10 L2 levels;
//! - "bar": the regime detector and a Bollinger/ATR update on a closed bar.
//!
//! Each event is timed alone with an `Instant` pair; an empty pair runs
//! interleaved and its median is subtracted (reported as "timer").

use std::hint::black_box;
use std::time::Instant;

use autobot_benches::pin;
use autobot_engine::depth::DepthBook;
use autobot_engine::event::{DepthDiff, Level, Trade};
use autobot_engine::features::flow::{book_imbalance, spread_bps};
use autobot_engine::features::ta::{Atr, Bollinger};
use autobot_engine::regime::{RegimeConfig, RegimeDetector};
use autobot_engine::strategy::StrategyConfig;
use autobot_engine::types::{Price, Qty, UnixNanos};
use hdrhistogram::Histogram;

const N: u64 = 1_000_000;

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000, 3).unwrap()
}

fn timed<R>(h: &mut Histogram<u64>, empty: &mut Histogram<u64>, f: impl FnOnce() -> R) {
    let t = Instant::now();
    black_box(f());
    let ns = t.elapsed().as_nanos() as u64;
    let t = Instant::now();
    let e = t.elapsed().as_nanos() as u64;
    let _ = h.record(ns.max(1));
    let _ = empty.record(e.max(1));
}

fn report(name: &str, h: &Histogram<u64>, empty: &Histogram<u64>) {
    let timer = empty.value_at_quantile(0.5);
    println!(
        "  {name:<6} p50 {:>4} ns   p99 {:>5} ns   (timer {timer} ns subtracted; raw p50 {} ns)",
        h.value_at_quantile(0.5).saturating_sub(timer),
        h.value_at_quantile(0.99).saturating_sub(timer),
        h.value_at_quantile(0.5)
    );
}

fn main() {
    let placement = pin(1);
    let mut cfg = StrategyConfig::features();
    cfg.bar_secs = vec![1, 5, 60];
    cfg.regime_bar_secs = 60;
    let mut set = cfg.feature_set(Price::parse("0.1").unwrap());
    let mut seed = 7u64;
    let mut rnd = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        seed >> 33
    };
    let (mut trade, mut tick, mut bar, mut empty) = (hist(), hist(), hist(), hist());
    let mut p = 600_000i64;
    let mut bars = 0u64;
    for i in 0..N {
        p += (rnd() % 5) as i64 - 2;
        let t = Trade {
            trade_id: i,
            price: Price::from_raw(p * 10_000_000),
            qty: Qty::from_raw(((rnd() % 100) + 1) as i64 * 100_000),
            buyer_is_maker: rnd() % 2 == 0,
        };
        let now = UnixNanos(1_700_000_000_000_000_000 + i * 10_000_000);
        timed(&mut trade, &mut empty, || {
            set.on_trade(now, &t, true, |_, _| bars += 1)
        });
    }
    // A synced L2 book of 1000 levels a side for the tick features.
    let mut book = DepthBook::new();
    let level = |price: i64, qty: i64| Level {
        price: Price::from_raw(price * 10_000_000),
        qty: Qty::from_raw(qty),
    };
    let bids: Vec<Level> = (0..1000).map(|k| level(p - 1 - k, 100_000 + k)).collect();
    let asks: Vec<Level> = (0..1000)
        .map(|k| level(p + 1 + k, 100_000 + 2 * k))
        .collect();
    DepthDiff::split((0, 1000, 0), &bids, &asks, true, |d| {
        book.on_part(&d);
    });
    // The first diff bridging the snapshot's id syncs the book.
    DepthDiff::split(
        (1000, 1001, 999),
        &[level(p - 1, 200_000)],
        &[],
        false,
        |d| {
            book.on_part(&d);
        },
    );
    assert!(book.is_synced(), "the bench book must be synced");
    let bid = Price::from_raw((p - 1) * 10_000_000);
    let ask = Price::from_raw((p + 1) * 10_000_000);
    for _ in 0..N {
        timed(&mut tick, &mut empty, || {
            (
                set.trades.vwap(),
                set.trades.flow_imbalance(),
                spread_bps(black_box(bid), black_box(ask)),
                book_imbalance(black_box(&book), 10),
            )
        });
    }
    let mut regime = RegimeDetector::new(&RegimeConfig::default());
    let mut bands = Bollinger::new(20, 2.0, 2.0);
    let mut atr = Atr::new(14);
    let mut c = 30_000.0;
    for _ in 0..N {
        c += (rnd() % 21) as f64 - 10.0;
        let (h, l) = (c + 5.0, c - 5.0);
        timed(&mut bar, &mut empty, || {
            (regime.update(h, l, c), bands.update(c), atr.update(h, l, c))
        });
    }
    println!("feature update per event ({placement}; {N} events each; {bars} candles closed)");
    report("trade", &trade, &empty);
    report("tick", &tick, &empty);
    report("bar", &bar, &empty);
}
