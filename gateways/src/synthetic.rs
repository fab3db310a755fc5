//! A seeded synthetic market: book tickers and aggregate trades for every
//! configured instrument, moving through regimes.
//!
//! # Model
//! Per symbol, the mid follows `mid += mid * (drift + sigma * z)` per update,
//! where `z` is an Irwin–Hall normal (sum of 12 uniforms − 6):
//!
//! | regime | drift | sigma |
//! |---|---|---|
//! | trending up | `+0.02 σ` | `σ` |
//! | trending down | `−0.02 σ` | `σ` |
//! | ranging | `0.02 × (anchor − mid) / mid` (mean-reverting) | `σ` |
//! | volatility burst | 0 | `4 σ` |
//!
//! with `σ = volatility_bps / 10⁴`. Each regime lasts a uniform
//! `[½, 1½] × mean_regime_events` updates, then another one is drawn. The bid
//! is the mid floored to the tick; the spread is 1–2 ticks (2–6 in a burst);
//! sizes are whole multiples of the step. A trade follows an update with
//! probability `trade_ratio`, at the bid or the ask. Exchange time advances by
//! a uniform `[0, 2] × 10⁹ / events_per_sec` ns per event from a fixed origin.
//!
//! # Determinism
//! ChaCha8 (a stream cipher with a fixed specification) seeded by the seed,
//! and only `+ − × ÷` on `f64` (no `ln`/`exp`/`cos`, whose last bits may
//! differ between math libraries), so the same seed gives the same events,
//! byte for byte, on any x86-64 host. Prices leave as exact decimals.

use autobot_engine::config::{RangeError, Validate, check_range};
use autobot_engine::event::{BookTicker, InputBody, Trade};
use autobot_engine::types::{Instrument, Price, Qty, Rounding, SymbolId, UnixNanos};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// `[market]`: the synthetic market.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Seed; the same seed gives the same market.
    pub seed: u64,
    /// Publication pace in events per second (1 ..= 10 000 000).
    pub events_per_sec: u32,
    /// Starting mid price of each instrument, in instrument order.
    pub start_prices: Vec<Price>,
    /// Per-update volatility in basis points (0.01 ..= 100).
    pub volatility_bps: f64,
    /// Mean regime length in updates (100 ..= 10 000 000).
    pub mean_regime_events: u32,
    /// Probability that an update is followed by a trade (0 ..= 1).
    pub trade_ratio: f64,
}

impl Validate for SyntheticConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "events_per_sec", self.events_per_sec, 1, 10_000_000)?;
        check_range(at, "volatility_bps", self.volatility_bps, 0.01, 100.0)?;
        check_range(
            at,
            "mean_regime_events",
            self.mean_regime_events,
            100,
            10_000_000,
        )?;
        check_range(at, "trade_ratio", self.trade_ratio, 0.0, 1.0)?;
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
    /// No drift, four times the volatility.
    VolatilityBurst,
}

impl Regime {
    const ALL: [Regime; 4] = [
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

#[derive(Clone, Copy, Debug)]
struct SymbolSim {
    instrument: Instrument,
    mid: f64,
    anchor: f64,
    regime: Regime,
    regime_left: u32,
    update_id: u64,
    trade_id: u64,
}

/// Exchange time of the first event: 2024-01-01T00:00:00Z.
pub const ORIGIN: UnixNanos = UnixNanos(1_704_067_200_000_000_000);

/// The generator.
#[derive(Debug)]
pub struct SyntheticMarket {
    rng: ChaCha8Rng,
    symbols: Vec<SymbolSim>,
    sigma: f64,
    mean_regime: u32,
    trade_ratio: f64,
    mean_gap_ns: u64,
    now: UnixNanos,
    next_symbol: usize,
    pending_trade: Option<MarketEvent>,
    regime_events: [u64; 4],
}

impl SyntheticMarket {
    /// A generator over `instruments` (validated config; `start_prices`
    /// matches the instruments one to one).
    pub fn new(cfg: &SyntheticConfig, instruments: &[Instrument]) -> SyntheticMarket {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mean_regime = cfg.mean_regime_events;
        let symbols = instruments
            .iter()
            .zip(&cfg.start_prices)
            .map(|(ins, p)| {
                let mid = p.to_f64();
                SymbolSim {
                    instrument: *ins,
                    mid,
                    anchor: mid,
                    regime: Regime::ALL[rng.random_range(0..4)],
                    regime_left: regime_len(&mut rng, mean_regime),
                    update_id: 1,
                    trade_id: 1,
                }
            })
            .collect();
        SyntheticMarket {
            rng,
            symbols,
            sigma: cfg.volatility_bps / 10_000.0,
            mean_regime,
            trade_ratio: cfg.trade_ratio,
            mean_gap_ns: 1_000_000_000 / u64::from(cfg.events_per_sec.max(1)),
            now: ORIGIN,
            next_symbol: 0,
            pending_trade: None,
            regime_events: [0; 4],
        }
    }

    /// Current regime of a symbol.
    pub fn regime(&self, sym: SymbolId) -> Option<Regime> {
        self.symbols.get(usize::from(sym.0)).map(|s| s.regime)
    }

    /// Updates generated in each regime, indexed by [`Regime::index`].
    pub fn regime_events(&self) -> [u64; 4] {
        self.regime_events
    }

    /// The next event.
    pub fn next_event(&mut self) -> MarketEvent {
        if let Some(t) = self.pending_trade.take() {
            return t;
        }
        let gap = self.rng.random_range(0..=2 * self.mean_gap_ns);
        self.now = UnixNanos(self.now.0 + gap);
        let i = self.next_symbol;
        self.next_symbol = (i + 1) % self.symbols.len();
        let z = irwin_hall(&mut self.rng);
        let spread_draw: u32 = self.rng.random_range(0..4);
        let bid_steps: i64 = self.rng.random_range(1..=500);
        let ask_steps: i64 = self.rng.random_range(1..=500);
        let trade_draw: f64 = self.rng.random();
        let trade_at_ask: bool = self.rng.random();
        let trade_steps: i64 = self.rng.random_range(1..=50);
        let next_regime = self.rng.random_range(0..3);
        let next_len = regime_len(&mut self.rng, self.mean_regime);

        let sigma = self.sigma;
        let s = &mut self.symbols[i];
        let (drift, vol) = match s.regime {
            Regime::TrendingUp => (0.02 * sigma, sigma),
            Regime::TrendingDown => (-0.02 * sigma, sigma),
            Regime::Ranging => (0.02 * (s.anchor - s.mid) / s.mid, sigma),
            Regime::VolatilityBurst => (0.0, 4.0 * sigma),
        };
        self.regime_events[s.regime.index()] += 1;
        s.mid += s.mid * (drift + vol * z);
        let tick = s.instrument.tick_size;
        let min_mid = tick.to_f64() * 10.0;
        if s.mid < min_mid {
            s.mid = min_mid;
        }
        s.regime_left -= 1;
        if s.regime_left == 0 {
            // Any regime but the current one.
            let others: [Regime; 3] = {
                let mut o = [Regime::Ranging; 3];
                let mut k = 0;
                for r in Regime::ALL {
                    if r != s.regime {
                        o[k] = r;
                        k += 1;
                    }
                }
                o
            };
            s.regime = others[next_regime];
            s.regime_left = next_len;
            s.anchor = s.mid;
        }
        let spread_ticks = match s.regime {
            Regime::VolatilityBurst => 2 + i64::from(spread_draw),
            _ => 1 + i64::from(spread_draw / 2),
        };
        let step = s.instrument.step_size;
        let bid = to_price(s.mid, tick);
        let ask = Price::from_raw(bid.raw() + spread_ticks * tick.raw());
        let ticker = BookTicker {
            update_id: s.update_id,
            bid_price: bid,
            bid_qty: Qty::from_raw(bid_steps * step.raw()),
            ask_price: ask,
            ask_qty: Qty::from_raw(ask_steps * step.raw()),
        };
        s.update_id += 1;
        let symbol = s.instrument.id;
        if trade_draw < self.trade_ratio {
            let trade = Trade {
                trade_id: s.trade_id,
                price: if trade_at_ask { ask } else { bid },
                qty: Qty::from_raw(trade_steps * step.raw()),
                buyer_is_maker: !trade_at_ask,
            };
            s.trade_id += 1;
            self.pending_trade = Some(MarketEvent {
                symbol,
                exchange_time: self.now,
                body: InputBody::AggTrade(trade),
            });
        }
        MarketEvent {
            symbol,
            exchange_time: self.now,
            body: InputBody::BookTicker(ticker),
        }
    }
}

fn regime_len(rng: &mut ChaCha8Rng, mean: u32) -> u32 {
    let half = (mean / 2).max(1);
    rng.random_range(half..=mean + half)
}

/// An approximately standard normal draw from 12 uniforms (Irwin–Hall):
/// only additions, so it is bit-reproducible everywhere.
fn irwin_hall(rng: &mut ChaCha8Rng) -> f64 {
    let mut sum = 0.0;
    for _ in 0..12 {
        sum += rng.random::<f64>();
    }
    sum - 6.0
}

/// The mid as a price floored to the tick. `mid` is positive and far below
/// the representable limit, so the conversion is exact after rounding.
fn to_price(mid: f64, tick: Price) -> Price {
    let ticks = (mid / tick.to_f64()).floor() as i64;
    Price::from_raw(ticks.max(1) * tick.raw())
        .round_to(tick, Rounding::Floor)
        .unwrap_or(tick)
}

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
