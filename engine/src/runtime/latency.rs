//! Per-stage latency: the stamps an input event collects on its way from
//! the socket to the core's decision, one HdrHistogram per stage, and the
//! standard `.hgrm` percentile-distribution text they are written as.
//!
//! # Stages (all from one monotonic clock, `clock::mono_now`)
//! | stage              | from                  | to                      | recorded by |
//! |--------------------|-----------------------|-------------------------|-------------|
//! | `parse`            | socket read (`recv`)  | parse done              | core thread |
//! | `publish`          | parse done            | ring publish            | core thread |
//! | `journal`          | ring publish          | journal record written  | journal stage |
//! | `dispatch`         | ring publish          | core start              | core thread |
//! | `decide`           | core start            | decision out            | core thread |
//! | `publish_to_decision` | ring publish       | decision out            | core thread |
//! | `tick_to_decision` | socket read           | decision out            | core thread |
//! | `tick_to_order`    | socket read           | order request written   | execution thread |
//! | `delivery`         | intended send         | socket read             | market gateway (load generator only) |
//!
//! `parse`, `publish` and `journal` are stamps in the event header
//! (`Stamps`, nanoseconds after `recv`), journaled with the event; core
//! start, decision out and order sent happen after the event's record is
//! written and are journaled as stamp records (`stamps`), so every stage
//! but `delivery` can be read back from a journal alone. `dispatch`
//! includes waiting for the journal (the core consumes only journaled events). "Decision out" is
//! when the core has processed the event and its outputs are in the output
//! ring; "core start" is when its batch began or the event before it in
//! the batch was out (one clock read per event). `tick_to_decision`
//! counts market-data events only.
//!
//! # Invariants
//! - Recording allocates nothing: the histograms are created with fixed
//!   bounds (1 ns ..= 60 s, 3 significant digits) before the first event,
//!   and out-of-range values saturate.
//! - Each thread records into its own [`StageHistograms`]; the collector
//!   merges them off the hot path (see `recorder`).

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::event::{InputBody, InputEvent};
use crate::types::MonoNanos;

/// Highest value a histogram tracks (60 s, in ns); larger values saturate.
pub const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// One stage of an input event's way (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Socket read → parse done.
    Parse,
    /// Parse done → ring publish.
    Publish,
    /// Ring publish → journal record written.
    Journal,
    /// Ring publish → core start (includes the wait for the journal).
    Dispatch,
    /// Core start → decision out.
    Decide,
    /// Ring publish → decision out (dispatch and decide of one event).
    PublishToDecision,
    /// Socket read → decision out (market data only).
    TickToDecision,
    /// Socket read of the market event → the order it caused is sent.
    TickToOrder,
    /// Intended send → socket read (load generator only: sender lag,
    /// socket queueing and the gateway's wake-up).
    Delivery,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 9] = [
        Stage::Parse,
        Stage::Publish,
        Stage::Journal,
        Stage::Dispatch,
        Stage::Decide,
        Stage::PublishToDecision,
        Stage::TickToDecision,
        Stage::TickToOrder,
        Stage::Delivery,
    ];

    /// The stage's name (its `.hgrm` file is `<name>.hgrm`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Parse => "parse",
            Stage::Publish => "publish",
            Stage::Journal => "journal",
            Stage::Dispatch => "dispatch",
            Stage::Decide => "decide",
            Stage::PublishToDecision => "publish_to_decision",
            Stage::TickToDecision => "tick_to_decision",
            Stage::TickToOrder => "tick_to_order",
            Stage::Delivery => "delivery",
        }
    }

    /// What the stage measures, for tables.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Parse => "socket read → parse done",
            Stage::Publish => "parse done → ring publish",
            Stage::Journal => "ring publish → journal written",
            Stage::Dispatch => "ring publish → core start",
            Stage::Decide => "core start → decision out",
            Stage::PublishToDecision => "ring publish → decision out",
            Stage::TickToDecision => "socket read → decision out",
            Stage::TickToOrder => "socket read → order sent",
            Stage::Delivery => "intended send → socket read",
        }
    }

    /// The stage called `name`.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A histogram with the bounds every stage uses.
pub fn new_histogram() -> Histogram<u64> {
    // 1 ns ..= 60 s at 3 significant digits: valid bounds, cannot fail.
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3).expect("static histogram bounds")
}

/// One histogram per stage, owned by one thread.
#[derive(Clone, Debug)]
pub struct StageHistograms {
    hist: [Histogram<u64>; Stage::ALL.len()],
}

impl Default for StageHistograms {
    fn default() -> Self {
        StageHistograms::new()
    }
}

impl StageHistograms {
    /// Empty histograms (allocates here, once).
    pub fn new() -> StageHistograms {
        StageHistograms {
            hist: std::array::from_fn(|_| new_histogram()),
        }
    }

    /// Records `ns` for `stage` (at least 1 ns; saturating at the top).
    #[inline]
    pub fn record(&mut self, stage: Stage, ns: u64) {
        self.hist[stage.index()].saturating_record(ns.max(1));
    }

    /// The stages stamped in the event's header (`parse`, `publish` and,
    /// when journaled, `journal`).
    #[inline]
    pub fn record_stamps(&mut self, ev: &InputEvent) {
        let s = ev.header.stamps;
        if s.parsed != 0 {
            self.record(Stage::Parse, u64::from(s.parsed));
        }
        if s.published != 0 {
            self.record(
                Stage::Publish,
                u64::from(s.published.saturating_sub(s.parsed)),
            );
        }
        self.record_journal(ev);
    }

    /// The `journal` stage alone (the dedicated journaller's share: the
    /// core's copy of the event never carries the journal stamp).
    #[inline]
    pub fn record_journal(&mut self, ev: &InputEvent) {
        let s = ev.header.stamps;
        if s.journaled != 0 {
            self.record(
                Stage::Journal,
                u64::from(s.journaled.saturating_sub(s.published)),
            );
        }
    }

    /// The market-data input received at `recv` (non-zero) caused an
    /// order sent at `sent` (execution threads, through
    /// `LatencyRecorder::order_sent`).
    #[inline]
    pub fn record_order_sent(&mut self, recv: MonoNanos, sent: MonoNanos) {
        self.record(Stage::TickToOrder, sent.0.saturating_sub(recv.0));
    }

    /// Empties every histogram (keeps their memory).
    pub fn reset(&mut self) {
        self.hist.iter_mut().for_each(Histogram::reset);
    }

    /// `true` when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.hist.iter().all(Histogram::is_empty)
    }

    /// The core's stages of one event: it started at `start` and its
    /// decision was out at `done`.
    #[inline]
    pub fn record_core(&mut self, ev: &InputEvent, start: MonoNanos, done: MonoNanos) {
        let recv = ev.header.recv;
        self.record_core_since(
            ev.header.stamps.published,
            start.saturating_since(recv),
            done.saturating_since(recv),
            is_market_data(&ev.body) && recv.0 != 0,
        );
    }

    /// The core's stages of one event from its stamps, in ns after its
    /// `recv`: ring publish (`published`, 0 when not stamped), core start
    /// and decision out. `tick`: a market-data event (`tick_to_decision`).
    /// What a journal's core stamps give back.
    #[inline]
    pub fn record_core_since(&mut self, published: u32, start: u64, done: u64, tick: bool) {
        if published != 0 {
            let published = u64::from(published);
            self.record(Stage::Dispatch, start.saturating_sub(published));
            self.record(Stage::PublishToDecision, done.saturating_sub(published));
        }
        self.record(Stage::Decide, done.saturating_sub(start));
        if tick {
            self.record(Stage::TickToDecision, done);
        }
    }

    /// The histogram of `stage`.
    pub fn get(&self, stage: Stage) -> &Histogram<u64> {
        &self.hist[stage.index()]
    }

    /// Adds `other`'s counts (at shutdown, off the hot path).
    pub fn merge(&mut self, other: &StageHistograms) {
        for (a, b) in self.hist.iter_mut().zip(&other.hist) {
            // Same bounds on both sides: addition cannot fail.
            let _ = a.add(b);
        }
    }

    /// `(stage, histogram)` of every stage with at least one value.
    pub fn recorded(&self) -> impl Iterator<Item = (Stage, &Histogram<u64>)> {
        Stage::ALL
            .into_iter()
            .map(|s| (s, self.get(s)))
            .filter(|(_, h)| !h.is_empty())
    }
}

/// Market data (what "tick to decision" is about).
pub fn is_market_data(body: &InputBody) -> bool {
    matches!(
        body,
        InputBody::BookTicker(_)
            | InputBody::AggTrade(_)
            | InputBody::Depth(_)
            | InputBody::MarkPrice(_)
            | InputBody::Liquidation(_)
            | InputBody::Kline(_)
    )
}

/// Ticks per half distance of the percentile iteration (as HdrHistogram's
/// own `outputPercentileDistribution` defaults to).
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// The histogram as HdrHistogram's standard percentile-distribution text
/// (`.hgrm`), values in microseconds (scaling ratio 1000), so it loads in
/// the usual plotters (HdrHistogram's web plotter and others).
pub fn to_hgrm(h: &Histogram<u64>) -> String {
    const SCALE: f64 = 1000.0;
    let mut s = String::with_capacity(8192);
    let _ = writeln!(
        s,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = v.value_iterated_to() as f64 / SCALE;
        if q < 1.0 {
            let _ = writeln!(
                s,
                "{value:>12.3} {q:>2.12} {total:>10} {:>14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(s, "{value:>12.3} {q:>2.12} {total:>10}");
        }
    }
    let mean = h.mean() / SCALE;
    let stdev = h.stdev() / SCALE;
    let _ = writeln!(
        s,
        "#[Mean    = {mean:>12.3}, StdDeviation   = {stdev:>12.3}]"
    );
    let _ = writeln!(
        s,
        "#[Max     = {:>12.3}, Total count    = {:>12}]",
        h.max() as f64 / SCALE,
        h.len()
    );
    let _ = writeln!(
        s,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        h.distinct_values()
    );
    s
}
