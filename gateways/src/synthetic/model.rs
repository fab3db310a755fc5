//! The generator. Per symbol, in exchange time:
//!
//! - **Book tickers** arrive with uniform gaps in `[0, 2 / quotes_per_sec]`
//!   s. Between two of them, `dt` seconds apart, the mid moves by
//!   `mid × (drift × dt + σ × √dt × z)`, `z` an Irwin–Hall normal (sum of 12
//!   uniforms − 6) and `σ = volatility_bps × scale / 10⁴` per second.
//! - **Regimes** last a uniform `[½, 1½] × mean_regime_secs` (a burst a
//!   third of that); the next is drawn among the others with weights
//!   ranging 4, trending up 2, trending down 2, burst 1:
//!
//!   | regime | drift per second | σ | spread wider than a tick | trades |
//!   |---|---|---|---|---|
//!   | ranging | `(anchor − mid) / mid / 60` (back to where it began) | σ | `wide_spread_share` | rate |
//!   | trending up / down | `± trend_bps_per_min / 60 / 10⁴` | σ | `wide_spread_share` | rate, 60% with the trend |
//!   | volatility burst | 0 | `burst_volatility × σ` | `4 × wide_spread_share` | 2 × rate |
//!
//! - **Spreads** are one tick, or 2–41 ticks (skewed to the narrow end) in
//!   `wide_spread_share` of the tickers; the bid is the mid less half the
//!   spread, floored to the tick.
//! - **Sizes** are drawn from the capture's notional quantiles (below),
//!   divided by the price and rounded to whole steps (at least one): a
//!   symbol at another price gets the same money, not the same quantity.
//! - **Trades** follow a ticker with probability `trades_per_sec /
//!   quotes_per_sec`, at the ask (a buyer took) or the bid.
//!
//! # Determinism
//! ChaCha8 (a stream cipher with a fixed specification) seeded by the seed,
//! and only `+ − × ÷ √` on `f64`, which IEEE 754 rounds exactly (no
//! `ln`/`exp`/`cos`, whose last bits may differ between math libraries), so
//! the same seed gives the same events, byte for byte, on any x86-64 host.
//! Prices leave as exact decimals.

use autobot_engine::event::{BookTicker, InputBody, Trade};
use autobot_engine::types::{Instrument, Price, Qty, Rounding, SymbolId, UnixNanos};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{MarketEvent, ORIGIN, Regime, SyntheticConfig};

/// Trade notionals (USDT) of the BTCUSDT capture at these quantiles: a
/// heavy tail (median about 1,000, mean about 7,000).
const TRADE_NOTIONAL: [(f64, f64); 9] = [
    (0.0, 62.0),
    (0.1, 123.0),
    (0.25, 185.0),
    (0.5, 989.0),
    (0.75, 4_991.0),
    (0.9, 16_380.0),
    (0.95, 29_957.0),
    (0.99, 70_697.0),
    (1.0, 364_000.0),
];

/// Top-of-book notionals (USDT per side) of the capture at these quantiles.
const TOP_NOTIONAL: [(f64, f64); 5] = [
    (0.0, 1_000.0),
    (0.1, 4_996.0),
    (0.5, 165_092.0),
    (0.9, 521_679.0),
    (1.0, 1_500_000.0),
];

const NANOS: f64 = 1e9;

#[derive(Clone, Copy, Debug)]
struct SymbolSim {
    instrument: Instrument,
    sigma: f64,
    mid: f64,
    anchor: f64,
    regime: Regime,
    /// Exchange time the regime ends.
    regime_until: u64,
    /// Exchange time of the symbol's last and next ticker.
    last: u64,
    next: u64,
    update_id: u64,
    trade_id: u64,
}

/// The generator.
#[derive(Debug)]
pub struct SyntheticMarket {
    rng: ChaCha8Rng,
    symbols: Vec<SymbolSim>,
    quote_gap_ns: f64,
    trade_share: f64,
    wide_share: f64,
    regime_ns: f64,
    trend_per_sec: f64,
    burst: f64,
    pending_trade: Option<MarketEvent>,
    regime_events: [u64; 4],
}

impl SyntheticMarket {
    /// A generator over `instruments` (validated config; `start_prices`
    /// matches the instruments one to one).
    pub fn new(cfg: &SyntheticConfig, instruments: &[Instrument]) -> SyntheticMarket {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let regime_ns = f64::from(cfg.mean_regime_secs) * NANOS;
        let quote_gap_ns = NANOS / cfg.quotes_per_sec;
        let symbols = instruments
            .iter()
            .zip(&cfg.start_prices)
            .enumerate()
            .map(|(i, (ins, p))| {
                let mid = p.to_f64();
                let scale = cfg.volatility_scale.get(i).copied().unwrap_or(1.0);
                let regime = Regime::ALL[rng.random_range(0..4)];
                let first = ORIGIN.0 + (rng.random::<f64>() * quote_gap_ns) as u64;
                SymbolSim {
                    instrument: *ins,
                    sigma: cfg.volatility_bps * scale / 10_000.0,
                    mid,
                    anchor: mid,
                    regime,
                    regime_until: ORIGIN.0 + regime_len(&mut rng, regime, regime_ns),
                    last: first,
                    next: first,
                    update_id: 1,
                    trade_id: 1,
                }
            })
            .collect();
        SyntheticMarket {
            rng,
            symbols,
            quote_gap_ns,
            trade_share: cfg.trades_per_sec / cfg.quotes_per_sec,
            wide_share: cfg.wide_spread_share,
            regime_ns,
            trend_per_sec: cfg.trend_bps_per_min / 60.0 / 10_000.0,
            burst: cfg.burst_volatility,
            pending_trade: None,
            regime_events: [0; 4],
        }
    }

    /// Current regime of a symbol.
    pub fn regime(&self, sym: SymbolId) -> Option<Regime> {
        self.symbols.get(usize::from(sym.0)).map(|s| s.regime)
    }

    /// Tickers generated in each regime, indexed by [`Regime::index`].
    pub fn regime_events(&self) -> [u64; 4] {
        self.regime_events
    }

    /// The next event, in exchange-time order over every symbol.
    pub fn next_event(&mut self) -> MarketEvent {
        if let Some(t) = self.pending_trade.take() {
            return t;
        }
        // The symbol whose ticker is due first (the lowest index on a tie).
        let i = (0..self.symbols.len())
            .min_by_key(|&i| self.symbols[i].next)
            .unwrap_or(0);
        let now = self.symbols[i].next;
        self.step_regime(i, now);
        self.move_mid(i, now);
        let gap = self.rng.random::<f64>() * 2.0 * self.quote_gap_ns;
        let s = &mut self.symbols[i];
        s.last = now;
        s.next = now + (gap as u64).max(1);
        self.regime_events[s.regime.index()] += 1;
        let ticker = self.ticker(i);
        let symbol = self.symbols[i].instrument.id;
        let exchange_time = UnixNanos(now);
        self.pending_trade = self.trade(i, &ticker).map(|t| MarketEvent {
            symbol,
            exchange_time,
            body: InputBody::AggTrade(t),
        });
        MarketEvent {
            symbol,
            exchange_time,
            body: InputBody::BookTicker(ticker),
        }
    }

    /// Ends the symbol's regime when its time is up and draws the next.
    fn step_regime(&mut self, i: usize, now: u64) {
        if now < self.symbols[i].regime_until {
            return;
        }
        let current = self.symbols[i].regime;
        // Weights: ranging 4, trending up 2, trending down 2, burst 1.
        let weight = |r: Regime| match r {
            Regime::Ranging => 4,
            Regime::TrendingUp | Regime::TrendingDown => 2,
            Regime::VolatilityBurst => 1,
        };
        let total: u32 = Regime::ALL
            .iter()
            .filter(|&&r| r != current)
            .map(|&r| weight(r))
            .sum();
        let mut draw = self.rng.random_range(0..total);
        let mut next = Regime::Ranging;
        for r in Regime::ALL.into_iter().filter(|&r| r != current) {
            if draw < weight(r) {
                next = r;
                break;
            }
            draw -= weight(r);
        }
        let len = regime_len(&mut self.rng, next, self.regime_ns);
        let s = &mut self.symbols[i];
        s.regime = next;
        s.regime_until = now + len;
        s.anchor = s.mid;
    }

    /// Moves the mid from the symbol's last ticker to `now`.
    fn move_mid(&mut self, i: usize, now: u64) {
        let z = irwin_hall(&mut self.rng);
        let s = &mut self.symbols[i];
        let dt = (now - s.last) as f64 / NANOS;
        let (drift, sigma) = match s.regime {
            Regime::TrendingUp => (self.trend_per_sec, s.sigma),
            Regime::TrendingDown => (-self.trend_per_sec, s.sigma),
            Regime::Ranging => ((s.anchor - s.mid) / s.mid / 60.0, s.sigma),
            Regime::VolatilityBurst => (0.0, self.burst * s.sigma),
        };
        s.mid += s.mid * (drift * dt + sigma * dt.sqrt() * z);
        let min_mid = s.instrument.tick_size.to_f64() * 10.0;
        if s.mid < min_mid {
            s.mid = min_mid;
        }
    }

    fn ticker(&mut self, i: usize) -> BookTicker {
        let wide = match self.symbols[i].regime {
            Regime::VolatilityBurst => (4.0 * self.wide_share).min(1.0),
            _ => self.wide_share,
        };
        let spread_ticks = if self.rng.random::<f64>() < wide {
            let u: f64 = self.rng.random();
            2 + (u * u * 40.0) as i64
        } else {
            1
        };
        let (bid_draw, ask_draw): (f64, f64) = (self.rng.random(), self.rng.random());
        let s = &mut self.symbols[i];
        let tick = s.instrument.tick_size;
        let half = spread_ticks as f64 * tick.to_f64() / 2.0;
        let bid = to_price(s.mid - half, tick);
        let ask = Price::from_raw(bid.raw() + spread_ticks * tick.raw());
        let size = |u: f64| steps(quantile(&TOP_NOTIONAL, u) / s.mid, s.instrument);
        let ticker = BookTicker {
            update_id: s.update_id,
            bid_price: bid,
            bid_qty: size(bid_draw),
            ask_price: ask,
            ask_qty: size(ask_draw),
        };
        s.update_id += 1;
        ticker
    }

    /// The trade that follows `ticker`, if one does.
    fn trade(&mut self, i: usize, ticker: &BookTicker) -> Option<Trade> {
        let share = match self.symbols[i].regime {
            Regime::VolatilityBurst => (2.0 * self.trade_share).min(1.0),
            _ => self.trade_share,
        };
        let (draw, side, size): (f64, f64, f64) =
            (self.rng.random(), self.rng.random(), self.rng.random());
        if draw >= share {
            return None;
        }
        let s = &mut self.symbols[i];
        let buys = match s.regime {
            Regime::TrendingUp => 0.6,
            Regime::TrendingDown => 0.4,
            _ => 0.5,
        };
        let buyer_took = side < buys;
        let trade = Trade {
            trade_id: s.trade_id,
            price: if buyer_took {
                ticker.ask_price
            } else {
                ticker.bid_price
            },
            qty: steps(quantile(&TRADE_NOTIONAL, size) / s.mid, s.instrument),
            buyer_is_maker: !buyer_took,
        };
        s.trade_id += 1;
        Some(trade)
    }
}

/// A regime's length in ns: uniform in `[½, 1½]` of the mean (a third of
/// that for a burst).
fn regime_len(rng: &mut ChaCha8Rng, regime: Regime, mean_ns: f64) -> u64 {
    let mean = match regime {
        Regime::VolatilityBurst => mean_ns / 3.0,
        _ => mean_ns,
    };
    ((0.5 + rng.random::<f64>()) * mean) as u64
}

/// The value at quantile `u` of a piecewise-linear distribution given by
/// `(quantile, value)` points (ascending, from 0 to 1).
fn quantile(points: &[(f64, f64)], u: f64) -> f64 {
    for w in points.windows(2) {
        let ((q0, v0), (q1, v1)) = (w[0], w[1]);
        if u <= q1 {
            return v0 + (v1 - v0) * (u - q0) / (q1 - q0);
        }
    }
    points.last().map_or(0.0, |p| p.1)
}

/// `qty` in whole steps of the instrument, at least one.
fn steps(qty: f64, ins: Instrument) -> Qty {
    let step = ins.step_size.raw();
    let n = (qty / ins.step_size.to_f64()).floor().max(1.0) as i64;
    Qty::from_raw(n.saturating_mul(step))
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

/// `mid` as a price floored to the tick (at least one tick). `mid` is
/// positive and far below the representable limit, so the conversion is
/// exact after rounding.
fn to_price(mid: f64, tick: Price) -> Price {
    let ticks = (mid / tick.to_f64()).floor() as i64;
    Price::from_raw(ticks.max(1) * tick.raw())
        .round_to(tick, Rounding::Floor)
        .unwrap_or(tick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_the_points() {
        // The points themselves come back exactly.
        assert_eq!(quantile(&TOP_NOTIONAL, 0.0).to_bits(), 1_000f64.to_bits());
        assert_eq!(quantile(&TOP_NOTIONAL, 0.5).to_bits(), 165_092f64.to_bits());
        assert_eq!(
            quantile(&TOP_NOTIONAL, 1.0).to_bits(),
            1_500_000f64.to_bits()
        );
        let mid = quantile(&TRADE_NOTIONAL, 0.375);
        assert!((mid - (185.0 + 989.0) / 2.0).abs() < 1e-9, "{mid}");
    }
}
