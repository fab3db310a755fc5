//! The advisor, measured on this machine:
//!
//! 1. Inference: the shipped model (`models/btc_1m_logreg.onnx`) in tract,
//!    one feature vector per call, as the advisor stage runs it.
//!    Per-prediction latency (p50, p99, max over 100 000 calls,
//!    hdrhistogram) and throughput; baseline in the same process: the
//!    feature vector's own update on a bar (what the core pays per bar).
//! 2. The stage's throughput: `Features` outputs sent through a bounded
//!    channel (as the notice tap sends them) to a thread joining them and
//!    running the model (`Advisor::on_output`), vectors per second. The
//!    input ring's publish is not in it (`make bench`'s ring bench has it).
//! 3. The core's decide stage with and without the advisor: the same
//!    market (a book ticker or a trade every 10 ms, 1 min bars) through a
//!    core with no model and one whose registry names a model (vectors
//!    handed out at each bar, an advised strategy), 11 interleaved rounds,
//!    ns per input and the ratio.

use std::hint::black_box;
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::config::{CoreConfig, presets};
use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::event::{
    BookTicker, InputBody, InputEvent, Kline, OutputEvent, Source, Trade, feature_parts,
};
use autobot_engine::features::vector::{self, FeatureVector};
use autobot_engine::regime::Regime;
use autobot_engine::strategy::{
    AdvisorMode, AdvisorUse, InstanceConfig, StrategyConfig, StrategyKind,
};
use autobot_engine::types::{MonoNanos, Price, Qty, Seq, SymbolId, UnixNanos};
use autobot_gateways::advisor::{Advisor, Model, ModelEntry};
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

fn shipped() -> Model {
    Model::load(&ModelEntry {
        name: "btc_1m_logreg".into(),
        file: concat!(env!("CARGO_MANIFEST_DIR"), "/../models/btc_1m_logreg.onnx").into(),
        feature_hash: format!("{:016x}", vector::hash()),
    })
    .expect("the shipped model loads")
}

fn main() {
    let placement = pin(1);
    let model = shipped();
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
    stage_throughput(&vectors);
    decide_with_and_without();
}

/// Part 2: a feeder thread sends the vectors' `Features` outputs through a
/// bounded channel; the stage thread joins them and runs the model.
fn stage_throughput(vectors: &[[f64; vector::N]]) {
    let outputs: Vec<OutputEvent> = vectors
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            let bits = v.map(|x| (x as f32).to_bits());
            feature_parts(SymbolId(0), &bits).map(|body| OutputEvent {
                cause: Seq(i as u64),
                body,
                recv: MonoNanos(0),
            })
        })
        .collect();
    let n = 50_000usize;
    let (tx, rx) = std::sync::mpsc::sync_channel::<OutputEvent>(8192);
    let total = n * outputs.len() / vectors.len();
    let feeder = std::thread::spawn(move || {
        pin(0);
        for i in 0..total {
            tx.send(outputs[i % outputs.len()]).expect("stage alive");
        }
    });
    let mut advisor = Advisor::new(vec![shipped()], 1);
    let mut made = 0u64;
    let began = Instant::now();
    while let Ok(o) = rx.recv() {
        advisor.on_output(&o, |_, p| {
            black_box(p);
            made += 1;
        });
    }
    let secs = began.elapsed().as_secs_f64();
    feeder.join().expect("feeder");
    println!(
        "  advisor stage: {made} vectors through a bounded channel to the stage thread: {:.0} k vectors/s (1 model: as many predictions)",
        made as f64 / secs / 1e3
    );
}

fn core_config(advised: bool) -> CoreConfig {
    let mut inst = InstanceConfig::new(StrategyKind::MeanReversion, &Regime::ALL);
    if advised {
        inst.advisor = Some(AdvisorUse {
            mode: AdvisorMode::Advise,
            model: "m".into(),
            weight: None,
            min_prob: None,
            max_age_secs: None,
            max_inputs: None,
        });
    }
    let strategy = StrategyConfig {
        instances: vec![inst],
        ..StrategyConfig::features()
    };
    let mut c = presets::core(&[presets::btcusdt()], strategy);
    if advised {
        c.models = vec!["m".into()];
    }
    c
}

/// A book ticker or a trade every 10 ms around 60 000.
fn market(n: usize) -> Vec<InputEvent> {
    let t0 = 1_723_075_200_000_000_000u64;
    (0..n)
        .map(|i| {
            let t = t0 + i as u64 * 10_000_000;
            let mid = 60_000.0 + ((i / 50) % 40) as f64 * 0.5 - 10.0;
            let p = |x: f64| Price::from_raw((x * 1e8).round() as i64);
            let body = if i % 2 == 0 {
                InputBody::BookTicker(BookTicker {
                    update_id: i as u64,
                    bid_price: p(mid - 0.1),
                    bid_qty: Qty::from_raw(100_000_000),
                    ask_price: p(mid + 0.1),
                    ask_qty: Qty::from_raw(100_000_000),
                })
            } else {
                InputBody::AggTrade(Trade {
                    trade_id: i as u64,
                    price: p(mid),
                    qty: Qty::from_raw(1_000_000),
                    buyer_is_maker: i % 4 == 1,
                })
            };
            let mut ev = InputEvent::new(
                Source::MarketData,
                SymbolId(0),
                MonoNanos(0),
                UnixNanos(t),
                body,
            );
            ev.header.seq = Seq(i as u64);
            ev
        })
        .collect()
}

/// Part 3: ns per input through `Core::on_event`, with and without the
/// advisor, interleaved rounds.
fn decide_with_and_without() {
    let events = market(1_000_000);
    let round = |advised: bool| {
        let mut core = Core::new(&core_config(advised));
        let t = Instant::now();
        for ev in &events {
            core.on_event(black_box(ev), &mut DiscardSink);
        }
        let ns = t.elapsed().as_nanos() as f64 / events.len() as f64;
        (ns, core.advisor_stats().features)
    };
    let (mut without, mut again, mut with) = (Vec::new(), Vec::new(), Vec::new());
    let mut vectors = 0;
    // Warm-up: fault the events in, settle the clock.
    round(false);
    round(true);
    for r in 0..11 {
        // Rotating which goes first, so none always runs warm. `again` is
        // the same core as `without`: their ratio is this machine's noise.
        for k in 0..3 {
            match (r + k) % 3 {
                0 => without.push(round(false).0),
                1 => again.push(round(false).0),
                _ => {
                    let (ns, v) = round(true);
                    with.push(ns);
                    vectors = v;
                }
            }
        }
    }
    let (a, a2, b) = (median(&mut without), median(&mut again), median(&mut with));
    println!(
        "  core decide, {} inputs (2 h 47 min of market, 1 min bars; {vectors} vectors handed out): without the advisor {a:.1} ns/input, with it {b:.1} ns/input (medians of 11 rotated rounds): ratio {:.3}; the same core twice: {:.3} (the noise)",
        events.len(),
        b / a,
        a2 / a
    );
}
