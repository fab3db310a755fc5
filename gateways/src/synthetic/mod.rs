//! A seeded synthetic market calibrated to a real one: book tickers and
//! trades for every configured instrument, moving through calm, trending
//! and volatile stretches (`model`), and the statistics it is fitted by
//! (`stats`).
//!
//! # Time
//! The market lives in exchange time at the calibrated rates (book tickers
//! and trades per exchange second per symbol); `events_per_sec` is only how
//! fast `autobot run` publishes them. With the shipped two symbols at about
//! 250 events per exchange second each, 20,000 events per wall second play
//! the market about 40 times faster than real time: a 20 s run sees about
//! 13 minutes of market.

mod model;
pub mod stats;

use autobot_engine::config::{RangeError, Validate, check_range};
use autobot_engine::event::InputBody;
use autobot_engine::types::{Price, SymbolId, UnixNanos};
use serde::Deserialize;

pub use model::SyntheticMarket;

/// `[market]`: the synthetic market. The shipped values are fitted to the
/// BTCUSDT capture in `../shared/data/ticks/` (`autobot calibrate`).
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Seed; the same seed gives the same market.
    pub seed: u64,
    /// Publication pace of `autobot run`, in events per wall-clock second
    /// (1 ..= 10 000 000). Exchange time runs at the rates below.
    pub events_per_sec: u32,
    /// Starting mid price of each instrument, in instrument order.
    pub start_prices: Vec<Price>,
    /// Per-second return volatility of a calm stretch, in basis points
    /// (0.01 ..= 100).
    pub volatility_bps: f64,
    /// Each instrument's volatility as a multiple of `volatility_bps`, in
    /// instrument order (0.1 ..= 10; missing: 1).
    #[serde(default)]
    pub volatility_scale: Vec<f64>,
    /// Book tickers per exchange second per symbol (0.1 ..= 100 000).
    pub quotes_per_sec: f64,
    /// Trades per exchange second per symbol (0 ..= quotes_per_sec).
    pub trades_per_sec: f64,
    /// Share of book tickers whose spread is wider than one tick (0 ..= 1).
    pub wide_spread_share: f64,
    /// Mean length of a regime in exchange seconds (1 ..= 86 400).
    pub mean_regime_secs: u32,
    /// Drift of a trending stretch, in basis points per minute (0 ..= 1000).
    pub trend_bps_per_min: f64,
    /// Volatility of a burst as a multiple of the calm one (1 ..= 20).
    pub burst_volatility: f64,
}

impl Validate for SyntheticConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "events_per_sec", self.events_per_sec, 1, 10_000_000)?;
        check_range(at, "volatility_bps", self.volatility_bps, 0.01, 100.0)?;
        for (i, v) in self.volatility_scale.iter().enumerate() {
            check_range(at, &format!("volatility_scale[{i}]"), *v, 0.1, 10.0)?;
        }
        check_range(at, "quotes_per_sec", self.quotes_per_sec, 0.1, 100_000.0)?;
        check_range(
            at,
            "trades_per_sec",
            self.trades_per_sec,
            0.0,
            self.quotes_per_sec,
        )?;
        check_range(at, "wide_spread_share", self.wide_spread_share, 0.0, 1.0)?;
        check_range(at, "mean_regime_secs", self.mean_regime_secs, 1, 86_400)?;
        check_range(at, "trend_bps_per_min", self.trend_bps_per_min, 0.0, 1000.0)?;
        check_range(at, "burst_volatility", self.burst_volatility, 1.0, 20.0)?;
        for (i, p) in self.start_prices.iter().enumerate() {
            if !p.is_positive() {
                return Err(RangeError::new(at, &format!("start_prices[{i}]"), p, "> 0"));
            }
        }
        Ok(())
    }
}

/// Market regime of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    /// Upward drift.
    TrendingUp,
    /// Downward drift.
    TrendingDown,
    /// Mean reversion around an anchor.
    Ranging,
    /// No drift, `burst_volatility` times the volatility, wider spreads and
    /// busier trading.
    VolatilityBurst,
}

impl Regime {
    pub(crate) const ALL: [Regime; 4] = [
        Regime::TrendingUp,
        Regime::TrendingDown,
        Regime::Ranging,
        Regime::VolatilityBurst,
    ];

    /// Index in `ALL` (for per-regime counters).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Regime::TrendingUp => "trending up",
            Regime::TrendingDown => "trending down",
            Regime::Ranging => "ranging",
            Regime::VolatilityBurst => "volatility burst",
        }
    }
}

/// One generated event: the instrument, its exchange time and its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketEvent {
    /// Instrument.
    pub symbol: SymbolId,
    /// Exchange time.
    pub exchange_time: UnixNanos,
    /// Book ticker or trade.
    pub body: InputBody,
}

/// Exchange time of the first event: 2024-01-01T00:00:00Z.
pub const ORIGIN: UnixNanos = UnixNanos(1_704_067_200_000_000_000);

/// When the market gateway stops.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Publish at `events_per_sec` of wall-clock time (else as fast as the ring takes them).
    pub paced: bool,
    /// Events per second when paced.
    pub events_per_sec: u32,
    /// Stop after this many events.
    pub max_events: Option<u64>,
    /// Stop after this much wall-clock time.
    pub duration: Option<std::time::Duration>,
}

/// Publishes generated events until a limit is reached, `stop` is set, or the
/// pipeline halts. Returns the number of events published.
pub fn run(
    market: &mut SyntheticMarket,
    publisher: &mut autobot_engine::runtime::InputPublisher,
    limits: RunLimits,
    stop: &std::sync::atomic::AtomicBool,
) -> u64 {
    use autobot_engine::event::{InputEvent, Source};
    use autobot_engine::runtime::clock::mono_now;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    let start = Instant::now();
    let rate = u128::from(limits.events_per_sec.max(1));
    let mut sent: u64 = 0;
    loop {
        if limits.max_events.is_some_and(|m| sent >= m)
            || limits.duration.is_some_and(|d| start.elapsed() >= d)
            || stop.load(Ordering::Relaxed)
        {
            return sent;
        }
        if limits.paced {
            // Pacing a market is the gateway's job, not a test waiting on a
            // condition: sleep through long gaps, yield through short ones.
            // Due time of event `sent` from the start, exact in u128 ns (no drift).
            let due_ns = u128::from(sent) * 1_000_000_000 / rate;
            let due = start + Duration::from_nanos(u64::try_from(due_ns).unwrap_or(u64::MAX));
            let now = Instant::now();
            if due > now {
                let ahead = due - now;
                if ahead > Duration::from_micros(200) {
                    std::thread::sleep(ahead - Duration::from_micros(100));
                } else {
                    std::thread::yield_now();
                }
                continue;
            }
        }
        let e = market.next_event();
        let mut ev = [InputEvent::new(
            Source::MarketData,
            e.symbol,
            mono_now(),
            e.exchange_time,
            e.body,
        )];
        // No socket and no parsing here: "parse" is the event's making.
        autobot_engine::runtime::clock::stamp_parsed(&mut ev);
        if publisher.publish(ev[0]).is_err() {
            return sent;
        }
        sent += 1;
    }
}
