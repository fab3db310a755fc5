//! Candles aggregated from trades, on several timeframes at once, and the
//! check every closed candle (built here or received as a kline) must pass.
//!
//! A candle covers `[open_time, open_time + interval)` of exchange time,
//! aligned to the Unix epoch like Binance's klines. It closes when the first
//! trade of a later interval arrives (event time never reads a clock), so
//! intervals without trades produce no candle. Prices and volumes are exact.
//!
//! When bars come from klines, the higher timeframes are folded from the
//! base timeframe's closed klines instead ([`Candles::fold`]): a higher
//! candle closes with the base kline that ends its interval, or, when that
//! kline is missing (a gap in the data), with the first kline of a later
//! interval.

use crate::event::{Kline, Trade};
use crate::types::{Price, Qty, UnixNanos};

/// The most timeframes one [`Candles`] aggregates.
pub const MAX_TIMEFRAMES: usize = 4;

/// Why a closed candle was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CandleError {
    /// `high < low`, or the open or close outside `[low, high]`.
    #[error("high, low, open and close are inconsistent")]
    Inconsistent,
    /// A non-positive price or a negative volume.
    #[error("a non-positive price or a negative volume")]
    OutOfRange,
    /// A zero interval.
    #[error("a zero interval")]
    NoInterval,
}

/// Checks a closed candle before anything reads it.
pub fn check(k: &Kline) -> Result<(), CandleError> {
    if k.interval_secs == 0 {
        return Err(CandleError::NoInterval);
    }
    if !k.low.is_positive() || k.volume.is_negative() {
        return Err(CandleError::OutOfRange);
    }
    let inside = |p: Price| k.low <= p && p <= k.high;
    if k.high < k.low || !inside(k.open) || !inside(k.close) {
        return Err(CandleError::Inconsistent);
    }
    Ok(())
}

/// Candles closed by one folded kline on one timeframe: the one a gap
/// left open, then the one the kline completed.
pub type Folded = [Option<Kline>; 2];

/// One timeframe's candle under construction.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Builder {
    interval_ns: u64,
    interval_secs: u32,
    /// Open candle (`trades == 0`: none, when built from trades; folded
    /// from klines, `live` says, since a kline may count no trades).
    open: Kline,
    /// A candle folded from klines is open.
    live: bool,
}

impl Builder {
    fn new(interval_secs: u32) -> Builder {
        Builder {
            interval_ns: u64::from(interval_secs.max(1)) * 1_000_000_000,
            interval_secs: interval_secs.max(1),
            open: Kline::default(),
            live: false,
        }
    }

    /// Folds a closed kline of a shorter interval that divides this one
    /// in; returns the candles it closed. A kline older than the open
    /// candle (a repeat or out of order) is ignored: its minute is in.
    fn fold(&mut self, k: &Kline) -> Folded {
        let t = k.open_time.0;
        let start = UnixNanos(t - t % self.interval_ns);
        let mut out = [None, None];
        let c = &mut self.open;
        if self.live && start < c.open_time {
            return out;
        }
        if self.live && start > c.open_time {
            out[0] = Some(*c);
            self.live = false;
        }
        if self.live {
            c.high = c.high.max(k.high);
            c.low = c.low.min(k.low);
            c.close = k.close;
            c.volume = c.volume.checked_add(k.volume).unwrap_or(Qty::MAX);
            c.trades = c.trades.saturating_add(k.trades);
        } else {
            *c = Kline {
                open_time: start,
                interval_secs: self.interval_secs,
                ..*k
            };
            self.live = true;
        }
        let end = t.saturating_add(u64::from(k.interval_secs) * 1_000_000_000);
        if end >= start.0.saturating_add(self.interval_ns) {
            out[1] = Some(*c);
            self.live = false;
        }
        out
    }

    /// Adds a trade; returns the candle it closed, if any.
    #[inline]
    fn update(&mut self, t: UnixNanos, trade: &Trade) -> Option<Kline> {
        let start = UnixNanos(t.0 - t.0 % self.interval_ns);
        let c = &mut self.open;
        if c.trades > 0 && start <= c.open_time {
            // A trade stamped before the open candle started (out of order
            // across streams) still belongs to the open candle.
            c.high = c.high.max(trade.price);
            c.low = c.low.min(trade.price);
            c.close = trade.price;
            c.volume = c.volume.checked_add(trade.qty).unwrap_or(Qty::MAX);
            c.trades = c.trades.saturating_add(1);
            return None;
        }
        let closed = (c.trades > 0).then_some(*c);
        *c = Kline {
            open_time: start,
            interval_secs: self.interval_secs,
            trades: 1,
            open: trade.price,
            high: trade.price,
            low: trade.price,
            close: trade.price,
            volume: trade.qty,
        };
        closed
    }
}

/// Candles on up to [`MAX_TIMEFRAMES`] timeframes from one trade stream.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Candles {
    builders: [Builder; MAX_TIMEFRAMES],
    count: u8,
}

impl Candles {
    /// Aggregates the given intervals in seconds (at most
    /// [`MAX_TIMEFRAMES`]; extra ones are ignored, zero counts as one).
    pub fn new(intervals_secs: &[u32]) -> Candles {
        let mut builders = [Builder::new(1); MAX_TIMEFRAMES];
        let count = intervals_secs.len().min(MAX_TIMEFRAMES);
        for (b, &s) in builders.iter_mut().zip(intervals_secs) {
            *b = Builder::new(s);
        }
        Candles {
            builders,
            count: count as u8,
        }
    }

    /// Adds a trade (positive price and quantity, checked by the caller) at
    /// exchange time `t`; `closed(i, candle)` is called for each timeframe
    /// `i` whose candle this trade closed, shortest first.
    #[inline]
    pub fn update(&mut self, t: UnixNanos, trade: &Trade, mut closed: impl FnMut(usize, &Kline)) {
        for (i, b) in self.builders[..usize::from(self.count)]
            .iter_mut()
            .enumerate()
        {
            if let Some(k) = b.update(t, trade) {
                closed(i, &k);
            }
        }
    }

    /// Folds a closed kline of the first timeframe into the others (bars
    /// from klines); `closed(i, candle)` is called for each candle it
    /// closed, shortest timeframe first.
    pub fn fold(&mut self, k: &Kline, mut closed: impl FnMut(usize, &Kline)) {
        for (i, b) in self.builders[..usize::from(self.count)]
            .iter_mut()
            .enumerate()
            .skip(1)
        {
            for c in b.fold(k).iter().flatten() {
                closed(i, c);
            }
        }
    }

    /// The candle still open on timeframe `i`.
    pub fn open(&self, i: usize) -> Option<&Kline> {
        self.builders[..usize::from(self.count)]
            .get(i)
            .map(|b| &b.open)
            .filter(|k| k.trades > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(price: &str, qty: &str) -> Trade {
        Trade {
            trade_id: 0,
            price: price.parse().unwrap(),
            qty: qty.parse().unwrap(),
            buyer_is_maker: false,
        }
    }
    const S: u64 = 1_000_000_000;

    #[test]
    fn one_and_five_second_candles_from_trades() {
        let mut c = Candles::new(&[1, 5]);
        let mut out = Vec::new();
        let ticks = [
            (10 * S, "100", "1"),
            (10 * S + 5, "103", "2"),
            (10 * S + 9, "99", "1"),
            (11 * S, "101", "1"), // closes the 1 s candle of 10 s
            (15 * S, "104", "1"), // closes 11 s (1 s) and 10 s (5 s)
        ];
        for (t, p, q) in ticks {
            c.update(UnixNanos(t), &trade(p, q), |i, k| out.push((i, *k)));
        }
        assert_eq!(out.len(), 3);
        let (tf, first) = out[0];
        assert_eq!(tf, 0);
        assert_eq!(first.open_time, UnixNanos(10 * S));
        assert_eq!(
            (first.open, first.high, first.low, first.close),
            (
                "100".parse().unwrap(),
                "103".parse().unwrap(),
                "99".parse().unwrap(),
                "99".parse().unwrap()
            )
        );
        assert_eq!(first.volume, "4".parse().unwrap());
        assert_eq!(first.trades, 3);
        assert_eq!(out[1].0, 0);
        let five = out[2].1;
        assert_eq!((out[2].0, five.interval_secs, five.trades), (1, 5, 4));
        assert_eq!(five.close, "101".parse().unwrap());
        assert_eq!(c.open(1).unwrap().open_time, UnixNanos(15 * S));
        for k in out.iter().map(|(_, k)| k) {
            assert_eq!(check(k), Ok(()));
        }
    }

    #[test]
    fn one_minute_klines_fold_into_five_minute_candles() {
        const M: u64 = 60 * S;
        let k = |minute: u64, o: &str, h: &str, l: &str, c: &str, v: &str| Kline {
            open_time: UnixNanos(minute * M),
            interval_secs: 60,
            trades: 2,
            open: o.parse().unwrap(),
            high: h.parse().unwrap(),
            low: l.parse().unwrap(),
            close: c.parse().unwrap(),
            volume: v.parse().unwrap(),
        };
        let mut c = Candles::new(&[60, 300]);
        let mut out = Vec::new();
        let minutes = [
            k(10, "100", "102", "99", "101", "1"),
            k(11, "101", "105", "100", "104", "2"),
            k(12, "104", "104", "98", "99", "1"),
            k(13, "99", "100", "97", "98", "3"),
            // Minute 14 ends 10..15: the candle closes with it.
            k(14, "98", "101", "98", "100", "1"),
            k(15, "100", "103", "100", "102", "1"),
            // Minutes 16 to 19 are missing: minute 21 closes 15..20 first.
            k(21, "110", "111", "109", "110", "1"),
        ];
        for m in &minutes {
            c.fold(m, |i, k| out.push((i, *k)));
        }
        // A repeat of an earlier minute changes nothing.
        c.fold(&minutes[5], |i, k| out.push((i, *k)));
        assert_eq!(out.len(), 2, "{out:?}");
        let p = |s: &str| s.parse::<Price>().unwrap();
        let first = out[0].1;
        assert_eq!(out[0].0, 1);
        assert_eq!(
            (first.open_time, first.interval_secs, first.trades),
            (UnixNanos(10 * M), 300, 10)
        );
        assert_eq!(
            (first.open, first.high, first.low, first.close),
            (p("100"), p("105"), p("97"), p("100"))
        );
        assert_eq!(first.volume, "8".parse().unwrap());
        let second = out[1].1;
        assert_eq!(
            (second.open_time, second.open, second.close, second.trades),
            (UnixNanos(15 * M), p("100"), p("102"), 2)
        );
        for k in out.iter().map(|(_, k)| k) {
            assert_eq!(check(k), Ok(()));
        }
    }

    #[test]
    fn inconsistent_candles_are_refused() {
        fn p(s: &str) -> Price {
            s.parse().unwrap()
        }
        let good = Kline {
            open_time: UnixNanos(0),
            interval_secs: 60,
            trades: 1,
            open: p("10"),
            high: p("12"),
            low: p("9"),
            close: p("11"),
            volume: Qty::ONE,
        };
        assert_eq!(check(&good), Ok(()));
        let bad = |f: fn(&mut Kline)| {
            let mut k = good;
            f(&mut k);
            check(&k)
        };
        assert_eq!(bad(|k| k.high = p("8")), Err(CandleError::Inconsistent));
        assert_eq!(bad(|k| k.close = p("13")), Err(CandleError::Inconsistent));
        assert_eq!(bad(|k| k.low = p("-1")), Err(CandleError::OutOfRange));
        assert_eq!(
            bad(|k| k.volume = Qty::from_raw(-1)),
            Err(CandleError::OutOfRange)
        );
        assert_eq!(bad(|k| k.interval_secs = 0), Err(CandleError::NoInterval));
    }
}
