//! The simulator's memory of the market it streamed: recent trades and
//! one-minute candles per symbol, from the trades the feed carries, so
//! the public REST endpoints (`aggTrades`, `trades`, `klines`,
//! `ticker/24hr`) answer from the same market the streams show.
//!
//! Bounded: the last [`TRADES`] trades and [`MINUTES`] minutes per symbol
//! (a day and an hour: a 24-hour ticker always has its whole window).
//! Sums are exact decimals.

use std::collections::VecDeque;

use autobot_engine::event::Trade;
use autobot_engine::types::{Money, Price, Qty, Rounding};

/// Trades kept per symbol.
pub const TRADES: usize = 1000;
/// One-minute candles kept per symbol.
pub const MINUTES: usize = 1500;
const MINUTE_MS: u64 = 60_000;

/// One trade as the tape keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapeTrade {
    /// The feed's trade id.
    pub id: u64,
    /// Price.
    pub price: Price,
    /// Quantity.
    pub qty: Qty,
    /// Exchange time, ms.
    pub time_ms: u64,
    /// The buyer rested (the seller took).
    pub buyer_is_maker: bool,
}

/// A candle: open time, OHLC, volumes and trade ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candle {
    /// Open time, ms (a multiple of the interval).
    pub open_ms: u64,
    /// Open, high, low, close.
    pub ohlc: [Price; 4],
    /// Base volume.
    pub volume: Qty,
    /// Quote volume.
    pub quote: Money,
    /// Trades.
    pub count: u64,
    /// Base and quote volume bought by takers.
    pub taker_buy: (Qty, Money),
    /// First and last trade id.
    pub ids: (u64, u64),
}

impl Candle {
    fn of(open_ms: u64, t: &TapeTrade) -> Candle {
        let mut c = Candle {
            open_ms,
            ohlc: [t.price; 4],
            volume: Qty::ZERO,
            quote: Money::ZERO,
            count: 0,
            taker_buy: (Qty::ZERO, Money::ZERO),
            ids: (t.id, t.id),
        };
        c.add(t);
        c
    }

    fn add(&mut self, t: &TapeTrade) {
        let quote = Money::notional(t.price, t.qty, Rounding::HalfEven).unwrap_or(Money::ZERO);
        self.ohlc[1] = self.ohlc[1].max(t.price);
        self.ohlc[2] = self.ohlc[2].min(t.price);
        self.ohlc[3] = t.price;
        self.volume = self.volume.checked_add(t.qty).unwrap_or(self.volume);
        self.quote = self.quote.checked_add(quote).unwrap_or(self.quote);
        self.count += 1;
        if !t.buyer_is_maker {
            self.taker_buy.0 = self
                .taker_buy
                .0
                .checked_add(t.qty)
                .unwrap_or(self.taker_buy.0);
            self.taker_buy.1 = self
                .taker_buy
                .1
                .checked_add(quote)
                .unwrap_or(self.taker_buy.1);
        }
        self.ids.1 = t.id;
    }

    /// `other` (later) folded into this candle.
    fn merge(&mut self, other: &Candle) {
        self.ohlc[1] = self.ohlc[1].max(other.ohlc[1]);
        self.ohlc[2] = self.ohlc[2].min(other.ohlc[2]);
        self.ohlc[3] = other.ohlc[3];
        self.volume = self.volume.checked_add(other.volume).unwrap_or(self.volume);
        self.quote = self.quote.checked_add(other.quote).unwrap_or(self.quote);
        self.count += other.count;
        self.taker_buy.0 = self
            .taker_buy
            .0
            .checked_add(other.taker_buy.0)
            .unwrap_or(self.taker_buy.0);
        self.taker_buy.1 = self
            .taker_buy
            .1
            .checked_add(other.taker_buy.1)
            .unwrap_or(self.taker_buy.1);
        self.ids.1 = other.ids.1;
    }
}

#[derive(Debug, Default)]
struct SymbolTape {
    trades: VecDeque<TapeTrade>,
    minutes: VecDeque<Candle>,
}

/// Recent trades and candles of every symbol.
#[derive(Debug)]
pub struct Tape {
    symbols: Vec<SymbolTape>,
}

/// A Binance kline interval in minutes (`1m` … `1w`); `None` for one
/// USD-M does not have.
pub fn interval_minutes(interval: &str) -> Option<u64> {
    Some(match interval {
        "1m" => 1,
        "3m" => 3,
        "5m" => 5,
        "15m" => 15,
        "30m" => 30,
        "1h" => 60,
        "2h" => 120,
        "4h" => 240,
        "6h" => 360,
        "8h" => 480,
        "12h" => 720,
        "1d" => 1440,
        "3d" => 4320,
        "1w" => 10080,
        _ => return None,
    })
}

impl Tape {
    /// An empty tape of `symbols` symbols.
    pub fn new(symbols: usize) -> Tape {
        Tape {
            symbols: (0..symbols).map(|_| SymbolTape::default()).collect(),
        }
    }

    /// A trade of symbol `i` at exchange time `time_ms`.
    pub fn on_trade(&mut self, i: usize, time_ms: u64, t: &Trade) {
        let Some(s) = self.symbols.get_mut(i) else {
            return;
        };
        let row = TapeTrade {
            id: t.trade_id,
            price: t.price,
            qty: t.qty,
            time_ms,
            buyer_is_maker: t.buyer_is_maker,
        };
        if s.trades.len() == TRADES {
            s.trades.pop_front();
        }
        s.trades.push_back(row);
        let open = time_ms - time_ms % MINUTE_MS;
        match s.minutes.back_mut() {
            Some(c) if c.open_ms == open => c.add(&row),
            // A trade stamped before the current minute (out of order on
            // the feed) joins the current candle rather than reopen one.
            Some(c) if c.open_ms > open => c.add(&row),
            _ => {
                if s.minutes.len() == MINUTES {
                    s.minutes.pop_front();
                }
                s.minutes.push_back(Candle::of(open, &row));
            }
        }
    }

    /// The last `limit` trades of symbol `i`, oldest first.
    pub fn trades(&self, i: usize, limit: usize) -> impl Iterator<Item = &TapeTrade> {
        let t = self.symbols.get(i).map(|s| &s.trades);
        let n = t.map_or(0, VecDeque::len);
        t.into_iter().flatten().skip(n.saturating_sub(limit))
    }

    /// Candles of `minutes` minutes of symbol `i` whose open time is in
    /// `from ..= to` (ms), the last `limit` of them, oldest first.
    pub fn candles(
        &self,
        i: usize,
        minutes: u64,
        (from, to): (u64, u64),
        limit: usize,
    ) -> Vec<Candle> {
        let width = minutes * MINUTE_MS;
        let mut out: Vec<Candle> = Vec::new();
        let Some(s) = self.symbols.get(i) else {
            return out;
        };
        for m in &s.minutes {
            let open = m.open_ms - m.open_ms % width;
            match out.last_mut() {
                Some(c) if c.open_ms == open => c.merge(m),
                _ => out.push(Candle {
                    open_ms: open,
                    ..*m
                }),
            }
        }
        out.retain(|c| (from..=to).contains(&c.open_ms));
        let skip = out.len().saturating_sub(limit);
        out.drain(..skip);
        out
    }

    /// The candle of symbol `i` over the minutes opening in `from ..= to`
    /// (a rolling window: the 24-hour ticker's), none without trades.
    pub fn window(&self, i: usize, from: u64, to: u64) -> Option<Candle> {
        let s = self.symbols.get(i)?;
        let mut it = s
            .minutes
            .iter()
            .filter(|m| (from..=to).contains(&m.open_ms));
        let mut c = *it.next()?;
        for m in it {
            c.merge(m);
        }
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(id: u64, price: &str, qty: &str, taker_buys: bool) -> Trade {
        Trade {
            trade_id: id,
            price: Price::parse(price).unwrap(),
            qty: Qty::parse(qty).unwrap(),
            buyer_is_maker: !taker_buys,
        }
    }

    #[test]
    fn trades_make_minute_candles_and_wider_ones_from_them() {
        let mut t = Tape::new(1);
        let base = 1_700_000_040_000; // a minute boundary
        t.on_trade(0, base + 1_000, &trade(1, "100", "1", true));
        t.on_trade(0, base + 30_000, &trade(2, "105", "2", false));
        t.on_trade(0, base + 61_000, &trade(3, "95", "1", true));
        t.on_trade(0, base + 185_000, &trade(4, "101", "0.5", true));
        let m = t.candles(0, 1, (0, u64::MAX), 500);
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0].ohlc,
            ["100", "105", "100", "105"].map(|p| Price::parse(p).unwrap())
        );
        assert_eq!(m[0].volume, Qty::parse("3").unwrap());
        assert_eq!(m[0].quote, Money::parse("310").unwrap());
        assert_eq!(
            m[0].taker_buy,
            (Qty::parse("1").unwrap(), Money::parse("100").unwrap())
        );
        assert_eq!((m[0].count, m[0].ids), (2, (1, 2)));
        let five = t.candles(0, 5, (0, u64::MAX), 500);
        let open = base - base % 300_000;
        assert_eq!(
            five.len(),
            1 + usize::from(base + 185_000 >= open + 300_000)
        );
        assert_eq!(five[0].open_ms, open);
        assert_eq!(t.candles(0, 1, (0, u64::MAX), 1).len(), 1, "the last only");
        let day = t.window(0, 0, u64::MAX).unwrap();
        assert_eq!(
            day.ohlc,
            ["100", "105", "95", "101"].map(|p| Price::parse(p).unwrap())
        );
        assert_eq!(day.count, 4);
        let ids: Vec<u64> = t.trades(0, 2).map(|r| r.id).collect();
        assert_eq!(ids, vec![3, 4]);
        assert_eq!(interval_minutes("4h"), Some(240));
        assert_eq!(interval_minutes("1s"), None);
    }

    #[test]
    fn the_tape_is_bounded() {
        let mut t = Tape::new(1);
        for k in 0..(MINUTES as u64 + 10) {
            t.on_trade(0, k * MINUTE_MS, &trade(k, "100", "1", true));
        }
        assert_eq!(t.trades(0, usize::MAX).count(), TRADES);
        assert_eq!(t.candles(0, 1, (0, u64::MAX), usize::MAX).len(), MINUTES);
    }
}
