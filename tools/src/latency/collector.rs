//! The run's latency collector thread: every `latency_every_secs` it
//! gathers what the recording threads handed off (`LatencyHub::collect`),
//! rewrites `RUN_DIR/latency/*.hgrm` with the run's distribution so far,
//! and refreshes the percentiles the metrics endpoint serves. At the end
//! of the run, [`Collector::finish`] takes the last values (every
//! recording thread has finished by then) and writes the final files.
//!
//! It sleeps between rounds: it is a timer, not a hot-path thread.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use autobot_engine::runtime::LatencyHub;
use autobot_engine::runtime::latency::{Stage, StageHistograms};

use super::{QUANTILES, write_run};

/// Upper bounds (ns) of the metrics endpoint's latency histogram buckets,
/// 1-2.5-5 from 1 µs to 1 s (a last `+Inf` bucket follows).
pub const BUCKETS_NS: [u64; 19] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
];

/// One stage's figures as the metrics endpoint serves them: the exact
/// percentiles of the HDR histogram, and its counts in fixed buckets (a
/// Prometheus histogram, which aggregates across runs and hosts).
#[derive(Clone, Debug, PartialEq)]
pub struct StageSummary {
    /// The stage.
    pub stage: Stage,
    /// `(quantile, ns)` at [`QUANTILES`].
    pub quantiles: [(f64, f64); QUANTILES.len()],
    /// Values per bucket (not cumulative): `≤ BUCKETS_NS[i]` and above the
    /// bound before, the last above every bound.
    pub buckets: [u64; BUCKETS_NS.len() + 1],
    /// Values recorded.
    pub count: u64,
    /// Their sum, ns (mean × count).
    pub sum_ns: f64,
    /// The largest, ns.
    pub max_ns: f64,
}

/// Every recorded stage's summary.
pub fn summaries(stages: &StageHistograms) -> Vec<StageSummary> {
    stages
        .recorded()
        .map(|(stage, h)| StageSummary {
            stage,
            quantiles: QUANTILES.map(|(q, _)| (q, h.value_at_quantile(q) as f64)),
            buckets: buckets(h),
            count: h.len(),
            sum_ns: h.mean() * h.len() as f64,
            max_ns: h.max() as f64,
        })
        .collect()
}

/// `h`'s counts per [`BUCKETS_NS`] bucket (at the histogram's precision).
fn buckets(h: &hdrhistogram::Histogram<u64>) -> [u64; BUCKETS_NS.len() + 1] {
    let mut out = [0; BUCKETS_NS.len() + 1];
    let mut below = 0;
    for (slot, &bound) in out.iter_mut().zip(&BUCKETS_NS) {
        let upto = h.count_between(0, bound);
        *slot = upto - below;
        below = upto;
    }
    out[BUCKETS_NS.len()] = h.len() - below;
    out
}

/// The latest per-stage summaries, for the metrics endpoint.
pub type Latest = Arc<Mutex<Vec<StageSummary>>>;

/// The collector thread of a run.
#[derive(Debug)]
pub struct Collector {
    hub: Arc<LatencyHub>,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<(StageHistograms, Option<String>)>,
    latest: Latest,
    run_dir: PathBuf,
}

impl Collector {
    /// Starts collecting `hub` every `every` (`None`: only at the end).
    pub fn start(
        hub: Arc<LatencyHub>,
        run_dir: PathBuf,
        every: Option<Duration>,
    ) -> std::io::Result<Collector> {
        let (stop, stopped) = mpsc::channel::<()>();
        let latest: Latest = Arc::default();
        let (h, dir, shown) = (Arc::clone(&hub), run_dir.clone(), Arc::clone(&latest));
        let thread = std::thread::Builder::new()
            .name("autobot-latency".into())
            .spawn(move || {
                let mut total = StageHistograms::new();
                let mut warning = None;
                let Some(every) = every else {
                    let _ = stopped.recv();
                    return (total, warning);
                };
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    h.collect(&mut total);
                    if total.is_empty() {
                        continue;
                    }
                    if let Err(e) = write_run(&dir, &total) {
                        warning
                            .get_or_insert(format!("latency files not written while running: {e}"));
                    }
                    *shown.lock().unwrap_or_else(PoisonError::into_inner) = summaries(&total);
                }
                (total, warning)
            })?;
        Ok(Collector {
            hub,
            stop,
            thread,
            latest,
            run_dir,
        })
    }

    /// The latest distributions (refreshed each round).
    pub fn latest(&self) -> Latest {
        Arc::clone(&self.latest)
    }

    /// Stops the thread, collects what is left (call it after every
    /// recording thread has finished) and writes the final files. The
    /// whole run's histograms, and a warning if a file could not be
    /// written.
    pub fn finish(self) -> (StageHistograms, Option<String>) {
        let _ = self.stop.send(());
        let (mut total, mut warning) = self.thread.join().unwrap_or_else(|_| {
            (
                StageHistograms::new(),
                Some("latency collector panicked".into()),
            )
        });
        self.hub.collect(&mut total);
        if let Err(e) = write_run(&self.run_dir, &total) {
            warning = Some(format!("latency files not written: {e}"));
        }
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = summaries(&total);
        (total, warning)
    }
}
