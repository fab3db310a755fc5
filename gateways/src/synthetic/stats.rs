//! The statistics a market is fitted and judged by, measured the same way
//! on a capture and on the generator's output: the rates of book tickers
//! and trades, the per-second return volatility of the mid, the spread in
//! ticks and the trade sizes. `autobot calibrate` prints them for a
//! capture; a test holds the shipped `[market]` to the shared capture's.

use autobot_engine::event::InputBody;
use autobot_engine::types::{Price, UnixNanos};

/// One symbol's market, measured.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct MarketStats {
    /// Exchange time from the first to the last event, in seconds.
    pub seconds: f64,
    /// Book tickers per exchange second.
    pub quotes_per_sec: f64,
    /// Trades per exchange second.
    pub trades_per_sec: f64,
    /// Standard deviation of the mid's return from one exchange second to
    /// the next (the last mid of each second), in basis points.
    pub volatility_bps: f64,
    /// Median spread in ticks.
    pub median_spread_ticks: f64,
    /// Share of book tickers wider than one tick.
    pub wide_spread_share: f64,
    /// Median trade notional (price × quantity).
    pub median_trade_notional: f64,
    /// First and last mid.
    pub first_mid: f64,
    pub last_mid: f64,
}

/// Accumulates [`MarketStats`] from one symbol's events in exchange-time
/// order.
#[derive(Debug)]
pub struct StatsBuilder {
    tick: f64,
    first: Option<u64>,
    last: u64,
    quotes: u64,
    trades: u64,
    wide: u64,
    spreads: Vec<u32>,
    notionals: Vec<f64>,
    /// The current second and the last mid in it so far.
    second: Option<(u64, f64)>,
    /// The last closed second and its last mid.
    closed: Option<(u64, f64)>,
    returns: Vec<f64>,
    first_mid: f64,
}

impl StatsBuilder {
    /// For a symbol with this tick size.
    pub fn new(tick: Price) -> StatsBuilder {
        StatsBuilder {
            tick: tick.to_f64(),
            first: None,
            last: 0,
            quotes: 0,
            trades: 0,
            wide: 0,
            spreads: Vec::new(),
            notionals: Vec::new(),
            second: None,
            closed: None,
            returns: Vec::new(),
            first_mid: 0.0,
        }
    }

    /// Takes one event; other kinds than tickers and trades are ignored.
    pub fn add(&mut self, time: UnixNanos, body: &InputBody) {
        match body {
            InputBody::BookTicker(t) => {
                let (bid, ask) = (t.bid_price.to_f64(), t.ask_price.to_f64());
                if bid <= 0.0 || ask <= bid {
                    return;
                }
                self.stamp(time);
                self.quotes += 1;
                let ticks = ((ask - bid) / self.tick).round() as u32;
                self.wide += u64::from(ticks > 1);
                self.spreads.push(ticks);
                let mid = (bid + ask) / 2.0;
                if self.first_mid == 0.0 {
                    self.first_mid = mid;
                }
                self.mid_at(time.0 / 1_000_000_000, mid);
            }
            InputBody::AggTrade(t) => {
                self.stamp(time);
                self.trades += 1;
                self.notionals.push(t.price.to_f64() * t.qty.to_f64());
            }
            _ => {}
        }
    }

    fn stamp(&mut self, time: UnixNanos) {
        self.first.get_or_insert(time.0);
        self.last = self.last.max(time.0);
    }

    /// The mid at exchange second `sec`: a new second closes the one before
    /// (a return counts only between the closing mids of adjacent seconds).
    fn mid_at(&mut self, sec: u64, mid: f64) {
        match self.second {
            Some((s, _)) if s == sec => self.second = Some((s, mid)),
            _ => {
                self.close_second();
                self.second = Some((sec, mid));
            }
        }
    }

    fn close_second(&mut self) {
        if let Some((s, last)) = self.second {
            if let Some((c, before)) = self.closed
                && c + 1 == s
            {
                self.returns.push((last / before - 1.0) * 10_000.0);
            }
            self.closed = Some((s, last));
        }
    }

    /// The statistics so far.
    pub fn finish(mut self) -> MarketStats {
        self.close_second();
        let seconds = self.first.map_or(0.0, |f| (self.last - f) as f64 / 1e9);
        let per_sec = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        self.spreads.sort_unstable();
        self.notionals.sort_by(f64::total_cmp);
        let n = self.returns.len() as f64;
        let mean = self.returns.iter().sum::<f64>() / n.max(1.0);
        let var = self
            .returns
            .iter()
            .map(|r| (r - mean) * (r - mean))
            .sum::<f64>()
            / n.max(1.0);
        MarketStats {
            seconds,
            quotes_per_sec: per_sec(self.quotes),
            trades_per_sec: per_sec(self.trades),
            volatility_bps: var.sqrt(),
            median_spread_ticks: median(&self.spreads).map_or(0.0, f64::from),
            wide_spread_share: self.wide as f64 / (self.quotes.max(1)) as f64,
            median_trade_notional: median(&self.notionals).unwrap_or(0.0),
            first_mid: self.first_mid,
            last_mid: self.second.map_or(0.0, |s| s.1),
        }
    }
}

fn median<T: Copy>(sorted: &[T]) -> Option<T> {
    sorted.get(sorted.len() / 2).copied()
}
