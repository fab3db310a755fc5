//! The advisor's inference: the shipped model (`models/btc_1m_logreg.onnx`)
//! in tract, one feature vector per call, as the advisor stage will run it.
//! Per-prediction latency (p50, p99, max over 100 000 calls, hdrhistogram)
//! and throughput; baseline in the same process: the feature vector's own
//! update on a bar (what the core will pay per bar), so the ratio says how
//! far inference is from the bar path. One core.

use std::hint::black_box;
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::event::Kline;
use autobot_engine::features::vector::{self, FeatureVector};
use autobot_engine::types::{Price, Qty, UnixNanos};
use autobot_gateways::advisor::{Model, ModelEntry};
use hdrhistogram::Histogram;

fn bar(i: u64) -> Kline {
    let c = 30_000.0 + ((i * 37) % 101) as f64;
    let p = |x: f64| Price::from_raw((x * 1e8) as i64);
    Kline {
        open_time: UnixNanos(i * 60_000_000_000),
        interval_secs: 60,
        trades: 10,
        open: p(c),
        high: p(c + 5.0),
        low: p(c - 5.0),
        close: p(c + 1.0),
        volume: Qty::from_raw(((10 + i % 13) as i64) * 100_000_000),
    }
}

fn main() {
    let placement = pin(1);
    let model = Model::load(&ModelEntry {
        name: "btc_1m_logreg".into(),
        file: concat!(env!("CARGO_MANIFEST_DIR"), "/../models/btc_1m_logreg.onnx").into(),
        feature_hash: format!("{:016x}", vector::hash()),
    })
    .expect("the shipped model loads");
    // Real vectors: a warm feature vector over synthetic bars.
    let mut fv = FeatureVector::new();
    let mut vectors = Vec::with_capacity(4096);
    for i in 0..4200 {
        if let Some(v) = fv.on_bar(&bar(i)) {
            vectors.push(v);
        }
    }
    let n = 100_000usize;
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("bounds");
    for v in vectors.iter().take(1000) {
        black_box(model.predict(v).expect("inference"));
    }
    let began = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        black_box(
            model
                .predict(&vectors[i % vectors.len()])
                .expect("inference"),
        );
        hist.record(t.elapsed().as_nanos().max(1) as u64)
            .expect("in bounds");
    }
    let per_sec = n as f64 / began.elapsed().as_secs_f64();
    // Baseline: the vector's update per bar, medians of 11 rounds.
    let mut base = Vec::new();
    for _ in 0..11 {
        let mut fv = FeatureVector::new();
        let t = Instant::now();
        for i in 0..100_000u64 {
            black_box(fv.on_bar(black_box(&bar(i))));
        }
        base.push(t.elapsed().as_nanos() as f64 / 100_000.0);
    }
    let base = median(&mut base);
    println!("advisor inference ({placement}), {n} predictions of the shipped model in tract:");
    println!(
        "  per prediction  p50 {} ns  p99 {} ns  max {} ns   throughput {:.0} k predictions/s",
        hist.value_at_quantile(0.5),
        hist.value_at_quantile(0.99),
        hist.max(),
        per_sec / 1e3
    );
    println!(
        "  baseline: the feature vector's update per bar {base:.0} ns (median of 11 rounds); inference p50 / update = {:.1}x",
        hist.value_at_quantile(0.5) as f64 / base
    );
}
