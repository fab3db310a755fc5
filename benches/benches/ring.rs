//! Ring handoff between two pinned threads: the disruptor rings the engine
//! uses against a `crossbeam-channel` bounded queue, in the same process.
//!
//! - Throughput: 64-byte events; the producer publishes as fast as it can
//!   (single events, and batches of 64), the consumer drains batches through
//!   the engine's own `RingReader`; events/s over the whole transfer (the
//!   clock stops when the consumer has seen the last event), median of 5 runs.
//!   The crossbeam baseline uses its blocking `send`/`recv`, whose own
//!   backoff is its fastest configuration for throughput.
//! - Handoff latency: one event in flight at a time (the producer waits until
//!   the consumer took each event before sending the next), so the figure is
//!   the cross-core handoff itself, not queueing. The producer stamps
//!   `CLOCK_MONOTONIC` into the event; the consumer records `now − stamp` in
//!   an HdrHistogram. The cost of one clock read (printed) is included. A
//!   bare atomic handed over the same way gives the machine's floor.
//!
//! Both threads busy-spin without PAUSE on CPUs 0 and 1, as the engine does
//! with `wait = "busy-spin"` on isolated cores. On a shared 2-core VM the
//! tails include hypervisor noise: compare within one run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::runtime::RingReader;
use autobot_engine::runtime::clock::mono_now;
use disruptor::{BusySpin, Producer, build_multi_producer, build_single_producer};
use hdrhistogram::Histogram;

/// The 64-byte event handed over.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Ev64 {
    seq: u64,
    stamp: u64,
    payload: [u64; 6],
}

const _: () = assert!(std::mem::size_of::<Ev64>() == 64);

const RING: usize = 65_536;
const EVENTS: u64 = 20_000_000;
const RUNS: usize = 5;
const BATCH: usize = 64;
const SAMPLES: u64 = 1_000_000;

/// One round of pure busy-spin (no PAUSE), as the engine's `busy-spin` wait.
#[inline(always)]
fn busy() {}

/// The disruptor producer kind: multi (the engine's input ring, one producer
/// per gateway) or single (the engine's output ring, the core alone).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Multi,
    Single,
}

/// Builds a ring of `kind` with one poller and hands both ends to `f`.
macro_rules! with_ring {
    ($kind:expr, |$poller:ident, $producer:ident| $body:expr) => {
        match $kind {
            Kind::Multi => {
                let (p, b) = build_multi_producer(RING, Ev64::default, BusySpin).new_event_poller();
                let ($poller, $producer) = (p, b.build());
                $body
            }
            Kind::Single => {
                let (p, b) =
                    build_single_producer(RING, Ev64::default, BusySpin).new_event_poller();
                let ($poller, $producer) = (p, b.build());
                $body
            }
        }
    };
}

fn drain_thread<R: RingReader<Ev64> + 'static>(
    mut poller: R,
) -> std::thread::JoinHandle<(u64, u64)> {
    std::thread::spawn(move || {
        pin(1);
        let (mut n, mut sum) = (0u64, 0u64);
        loop {
            let got = poller.with_batch(u64::MAX, |events| {
                for e in events {
                    sum = sum.wrapping_add(e.seq);
                    n += 1;
                }
            });
            match got {
                Ok(Some(())) => {}
                Ok(None) => busy(),
                Err(_) => return (n, sum),
            }
        }
    })
}

fn publish_all<P: Producer<Ev64>>(producer: &mut P, batch: bool) {
    let mut i = 0u64;
    if batch {
        while i < EVENTS {
            producer.batch_publish(BATCH, |slots| {
                for e in slots {
                    e.seq = i;
                    i += 1;
                }
            });
        }
    } else {
        while i < EVENTS {
            producer.publish(|e| e.seq = i);
            i += 1;
        }
    }
}

fn disruptor_throughput(kind: Kind, batch: bool) -> f64 {
    with_ring!(kind, |poller, producer| {
        let consumer = drain_thread(poller);
        let mut producer = producer;
        pin(0);
        let start = Instant::now();
        publish_all(&mut producer, batch);
        drop(producer); // shuts the ring down once the consumer has drained it
        let (n, sum) = consumer.join().unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!((n, sum), (EVENTS, EVENTS * (EVENTS - 1) / 2));
        EVENTS as f64 / secs
    })
}

fn crossbeam_throughput() -> f64 {
    let (tx, rx) = crossbeam_channel::bounded::<Ev64>(RING);
    // The idiomatic blocking API: crossbeam's own tuned backoff (spin with
    // PAUSE, then yield, then park) is its best case for throughput.
    let consumer = std::thread::spawn(move || {
        pin(1);
        let (mut n, mut sum) = (0u64, 0u64);
        while let Ok(e) = rx.recv() {
            sum = sum.wrapping_add(e.seq);
            n += 1;
        }
        (n, sum)
    });
    pin(0);
    let start = Instant::now();
    for i in 0..EVENTS {
        tx.send(Ev64 {
            seq: i,
            ..Ev64::default()
        })
        .unwrap();
    }
    drop(tx);
    let (n, sum) = consumer.join().unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!((n, sum), (EVENTS, EVENTS * (EVENTS - 1) / 2));
    EVENTS as f64 / secs
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap()
}

fn record_thread<R: RingReader<Ev64> + 'static>(
    mut poller: R,
    taken: Arc<AtomicU64>,
) -> std::thread::JoinHandle<Histogram<u64>> {
    std::thread::spawn(move || {
        pin(1);
        let mut h = new_histogram();
        loop {
            let got = poller.with_batch(u64::MAX, |events| {
                for e in events {
                    let now = mono_now().0;
                    h.saturating_record(now.saturating_sub(e.stamp).max(1));
                    taken.store(e.seq + 1, Ordering::Release);
                }
            });
            match got {
                Ok(Some(())) => {}
                Ok(None) => busy(),
                Err(_) => return h,
            }
        }
    })
}

fn wait_taken(taken: &AtomicU64, i: u64) {
    while taken.load(Ordering::Acquire) <= i {
        busy();
    }
}

fn disruptor_latency(kind: Kind) -> Histogram<u64> {
    with_ring!(kind, |poller, producer| {
        let taken = Arc::new(AtomicU64::new(0));
        let consumer = record_thread(poller, Arc::clone(&taken));
        let mut producer = producer;
        pin(0);
        for i in 0..SAMPLES {
            producer.publish(|e| {
                e.seq = i;
                e.stamp = mono_now().0;
            });
            wait_taken(&taken, i);
        }
        drop(producer);
        consumer.join().unwrap()
    })
}

fn crossbeam_latency() -> Histogram<u64> {
    let (tx, rx) = crossbeam_channel::bounded::<Ev64>(RING);
    let taken = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&taken);
    let consumer = std::thread::spawn(move || {
        pin(1);
        let mut h = new_histogram();
        loop {
            match rx.try_recv() {
                Ok(e) => {
                    let now = mono_now().0;
                    h.saturating_record(now.saturating_sub(e.stamp).max(1));
                    seen.store(e.seq + 1, Ordering::Release);
                }
                Err(crossbeam_channel::TryRecvError::Empty) => busy(),
                Err(crossbeam_channel::TryRecvError::Disconnected) => return h,
            }
        }
    });
    pin(0);
    for i in 0..SAMPLES {
        let e = Ev64 {
            seq: i,
            stamp: mono_now().0,
            ..Ev64::default()
        };
        tx.send(e).unwrap();
        wait_taken(&taken, i);
    }
    drop(tx);
    consumer.join().unwrap()
}

/// The hardware floor: the same protocol with a bare atomic carrying the
/// stamp (one cache line, one writer, one reader). No queue can hand over an
/// event faster than this on the same pair of CPUs.
fn bare_atomic_latency() -> Histogram<u64> {
    #[repr(align(128))]
    struct Line(AtomicU64);
    let slot = Arc::new(Line(AtomicU64::new(0)));
    let taken = Arc::new(AtomicU64::new(0));
    let (s2, t2) = (Arc::clone(&slot), Arc::clone(&taken));
    let consumer = std::thread::spawn(move || {
        pin(1);
        let mut h = new_histogram();
        for i in 0..SAMPLES {
            let stamp = loop {
                let v = s2.0.load(Ordering::Acquire);
                if v != 0 {
                    break v;
                }
                busy();
            };
            let now = mono_now().0;
            h.saturating_record(now.saturating_sub(stamp).max(1));
            s2.0.store(0, Ordering::Relaxed);
            t2.store(i + 1, Ordering::Release);
        }
        h
    });
    pin(0);
    for i in 0..SAMPLES {
        slot.0.store(mono_now().0, Ordering::Release);
        wait_taken(&taken, i);
    }
    consumer.join().unwrap()
}

fn clock_cost_ns() -> f64 {
    let mut v: Vec<f64> = (0..51)
        .map(|_| {
            let n = 100_000;
            let t = Instant::now();
            let mut x = 0u64;
            for _ in 0..n {
                x = x.wrapping_add(mono_now().0);
            }
            std::hint::black_box(x);
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    median(&mut v)
}

fn runs(f: impl Fn() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..RUNS).map(|_| f()).collect();
    median(&mut v)
}

fn row(name: &str, h: &Histogram<u64>) {
    println!(
        "  {name:<30} p50 {:>5} ns   p99 {:>6} ns   p99.9 {:>7} ns   max {:>9} ns",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` compatibility
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "ring handoff benchmark — 64-byte events, producer pinned to CPU 0, consumer to CPU 1,"
    );
    println!("pure busy-spin on both; {cpus} CPUs online; ring and queue capacity {RING}");
    println!();
    println!("throughput ({EVENTS} events per run, median of {RUNS} runs)");
    let mp_single = runs(|| disruptor_throughput(Kind::Multi, false));
    let mp_batch = runs(|| disruptor_throughput(Kind::Multi, true));
    let sp_single = runs(|| disruptor_throughput(Kind::Single, false));
    let sp_batch = runs(|| disruptor_throughput(Kind::Single, true));
    let baseline = runs(crossbeam_throughput);
    let line = |name: &str, v: f64| {
        println!(
            "  {name:<34} {:>7.1} M events/s   {:>5.2}x baseline",
            v / 1e6,
            v / baseline
        );
    };
    line("disruptor multi-producer, single", mp_single);
    line("disruptor multi-producer, batch 64", mp_batch);
    line("disruptor single-producer, single", sp_single);
    line("disruptor single-producer, batch 64", sp_batch);
    println!(
        "  {:<34} {:>7.1} M events/s   (baseline)",
        "crossbeam bounded, send",
        baseline / 1e6
    );
    println!();
    let clock = clock_cost_ns();
    println!(
        "handoff latency, one event in flight ({SAMPLES} samples; one clock read = {clock:.0} ns, included)"
    );
    let mp = disruptor_latency(Kind::Multi);
    let sp = disruptor_latency(Kind::Single);
    let cb = crossbeam_latency();
    let floor = bare_atomic_latency();
    row("bare atomic (hardware floor)", &floor);
    row("disruptor multi-producer", &mp);
    row("disruptor single-producer", &sp);
    row("crossbeam bounded (baseline)", &cb);
    println!();
    println!("targets of issue #2 (input ring = multi-producer):");
    println!(
        "  batch-published throughput >= 20 M/s ..... {:.1} M/s: {}",
        mp_batch / 1e6,
        verdict(mp_batch >= 20e6)
    );
    println!(
        "  handoff p50 <= 150 ns ..................... {} ns: {}",
        mp.value_at_quantile(0.5),
        verdict(mp.value_at_quantile(0.5) <= 150)
    );
    println!(
        "  throughput >= 1.5x crossbeam (batch) ...... {:.2}x: {}",
        mp_batch / baseline,
        verdict(mp_batch / baseline >= 1.5)
    );
    println!("targets of issue #33:");
    println!(
        "{}",
        autobot_benches::target(
            "single-event publish (multi-producer) at least crossbeam's send",
            &[("x crossbeam", mp_single / baseline, 1.0)]
        )
    );
    let (p50, floor50) = (
        mp.value_at_quantile(0.5) as f64,
        floor.value_at_quantile(0.5).max(1) as f64,
    );
    println!(
        "{}",
        autobot_benches::target(
            "handoff p50 within 1.1x the bare-atomic floor",
            &[("floor / p50", floor50 / p50, 1.0 / 1.1)]
        )
    );
}
