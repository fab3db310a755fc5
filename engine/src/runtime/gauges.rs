//! Pipeline gauges for the metrics endpoint: how many inputs this run's
//! gateways published, the journal wrote and the core processed. Ring
//! fill is published − processed; journal lag is published − journaled.
//!
//! Each counter sits on a cache line of its own (`CachePadded`), so the
//! threads that bump them never share a line with each other's. The
//! journal and core counters have one writer each (a `Relaxed` add once
//! per batch); `published` is shared by the gateway threads (one
//! `Relaxed` add per publish call, on a line the market gateway mostly
//! owns). Readers see values at most a batch old, never torn.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

/// The pipeline's counters (this run only: a restored core's earlier
/// inputs are not counted).
#[derive(Debug, Default)]
pub struct PipelineGauges {
    published: CachePadded<AtomicU64>,
    journaled: CachePadded<AtomicU64>,
    processed: CachePadded<AtomicU64>,
    /// Order-sent latency stamps lost to a full stamp ring (see `stamps`).
    stamps_dropped: AtomicU64,
    ring_size: u64,
}

/// One reading of the gauges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GaugeReading {
    /// Inputs published into the ring.
    pub published: u64,
    /// Inputs the journal has written.
    pub journaled: u64,
    /// Inputs the core has processed.
    pub processed: u64,
    /// Input ring slots.
    pub ring_size: u64,
    /// Order-sent latency stamps not journaled because their ring was full.
    pub stamps_dropped: u64,
}

impl GaugeReading {
    /// Inputs in the ring the core has not processed yet.
    pub fn ring_fill(&self) -> u64 {
        self.published.saturating_sub(self.processed)
    }

    /// Inputs published but not yet journaled.
    pub fn journal_lag(&self) -> u64 {
        self.published.saturating_sub(self.journaled)
    }
}

impl PipelineGauges {
    /// Gauges of a ring with `ring_size` slots.
    pub fn new(ring_size: u64) -> PipelineGauges {
        PipelineGauges {
            ring_size,
            ..PipelineGauges::default()
        }
    }

    #[inline]
    pub(crate) fn published(&self, n: u64) {
        self.published.fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn journaled(&self, n: u64) {
        self.journaled.fetch_add(n, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn processed(&self, n: u64) {
        self.processed.fetch_add(n, Ordering::Relaxed);
    }

    /// Rare (a full stamp ring), so it shares a line with the struct's tail.
    pub(crate) fn stamps_dropped(&self, n: u64) {
        self.stamps_dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters now (read one after the other, so fill and lag are
    /// approximate and saturate at zero).
    pub fn read(&self) -> GaugeReading {
        let processed = self.processed.load(Ordering::Relaxed);
        let journaled = self.journaled.load(Ordering::Relaxed);
        GaugeReading {
            published: self.published.load(Ordering::Relaxed),
            journaled,
            processed,
            ring_size: self.ring_size,
            stamps_dropped: self.stamps_dropped.load(Ordering::Relaxed),
        }
    }
}
