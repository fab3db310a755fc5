//! Order-flow features: VWAP and trade-flow imbalance over a rolling window
//! of trades, the spread in basis points, order-book imbalance, and realized
//! volatility of closes.
//!
//! # Exactness
//! VWAP, flow imbalance, spread and book imbalance are computed from the
//! fixed-point prices and quantities with integer sums (`i128`) and one
//! rounded division, so they are exact decimals and never drift, however
//! long the window runs. Only realized volatility (a square root) is a float;
//! its running sum is re-added from the window once per lap, so rounding
//! error cannot accumulate past one window.
//!
//! # Cost
//! Each update is O(1): the window's oldest entry leaves the sums as the new
//! one enters. Book imbalance reads `levels` levels per call.

use crate::depth::DepthBook;
use crate::depth::TopOfBook;
use crate::event::Trade;
use crate::types::{Price, Rate, Rounding, SCALE, div_round_i128 as div_round};

/// One trade as the window keeps it.
#[derive(Clone, Copy, Debug, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Print {
    /// `price × qty` in raw units (scale 10^16).
    notional: i128,
    qty: i64,
    /// The aggressor bought.
    buy: bool,
}

/// VWAP and trade-flow imbalance of the last `n` trades.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct TradeWindow {
    ring: Vec<Print>,
    next: usize,
    len: usize,
    notional: i128,
    qty: i128,
    bought: i128,
}

impl TradeWindow {
    /// A window of the last `n` trades (n >= 1); allocates here only.
    pub fn new(n: usize) -> TradeWindow {
        TradeWindow {
            ring: vec![Print::default(); n.max(1)],
            next: 0,
            len: 0,
            notional: 0,
            qty: 0,
            bought: 0,
        }
    }

    /// Adds a trade. Non-positive prices or quantities are the caller's to
    /// refuse; they are ignored here so the sums stay meaningful.
    #[inline]
    pub fn update(&mut self, t: &Trade) {
        if !t.price.is_positive() || !t.qty.is_positive() {
            return;
        }
        let new = Print {
            notional: i128::from(t.price.raw()) * i128::from(t.qty.raw()),
            qty: t.qty.raw(),
            buy: !t.buyer_is_maker,
        };
        if self.len == self.ring.len() {
            let old = self.ring[self.next];
            self.notional -= old.notional;
            self.qty -= i128::from(old.qty);
            if old.buy {
                self.bought -= i128::from(old.qty);
            }
        } else {
            self.len += 1;
        }
        self.notional += new.notional;
        self.qty += i128::from(new.qty);
        if new.buy {
            self.bought += i128::from(new.qty);
        }
        self.ring[self.next] = new;
        self.next = (self.next + 1) % self.ring.len();
    }

    /// Trades in the window.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first trade.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `true` once the window holds `n` trades.
    pub fn is_full(&self) -> bool {
        self.len == self.ring.len()
    }

    /// The window's sums, from which VWAP and flow imbalance derive.
    pub fn sums(&self) -> TradeSums {
        TradeSums {
            notional: self.notional,
            qty: self.qty,
            bought: self.bought,
        }
    }

    /// Volume-weighted average price, rounded half-even to 10^-8.
    pub fn vwap(&self) -> Option<Price> {
        self.sums().vwap()
    }

    /// `(bought − sold) / (bought + sold)` by aggressor volume, in −1 ..= 1.
    pub fn flow_imbalance(&self) -> Option<Rate> {
        self.sums().flow_imbalance()
    }
}

/// A trade window's running sums: a copy a strategy's view can carry, so
/// the divisions are made only when a strategy asks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TradeSums {
    notional: i128,
    qty: i128,
    bought: i128,
}

impl TradeSums {
    /// Volume-weighted average price, rounded half-even to 10^-8.
    pub fn vwap(&self) -> Option<Price> {
        if self.qty == 0 {
            return None;
        }
        let p = div_round(self.notional, self.qty, Rounding::HalfEven);
        i64::try_from(p).ok().map(Price::from_raw)
    }

    /// `(bought − sold) / (bought + sold)` by aggressor volume, in −1 ..= 1.
    pub fn flow_imbalance(&self) -> Option<Rate> {
        if self.qty == 0 {
            return None;
        }
        let sold = self.qty - self.bought;
        let r = div_round(
            (self.bought - sold) * i128::from(SCALE),
            self.qty,
            Rounding::HalfEven,
        );
        i64::try_from(r).ok().map(Rate::from_raw)
    }
}

/// `(ask − bid) / mid` in basis points (a `Rate` of 1.0 is one basis point).
pub fn spread_bps(bid: Price, ask: Price) -> Option<Rate> {
    if !bid.is_positive() || ask < bid {
        return None;
    }
    // (ask − bid) / ((ask + bid) / 2) × 10^4, scaled by 10^8.
    let num = i128::from(ask.raw() - bid.raw()) * 20_000 * i128::from(SCALE);
    let den = i128::from(ask.raw()) + i128::from(bid.raw());
    i64::try_from(div_round(num, den, Rounding::HalfEven))
        .ok()
        .map(Rate::from_raw)
}

/// `(bid qty − ask qty) / (bid qty + ask qty)` of two quantities, in −1 ..= 1.
pub fn imbalance(bid: i64, ask: i64) -> Option<Rate> {
    let total = i128::from(bid) + i128::from(ask);
    if total <= 0 || bid < 0 || ask < 0 {
        return None;
    }
    let r = div_round(
        (i128::from(bid) - i128::from(ask)) * i128::from(SCALE),
        total,
        Rounding::HalfEven,
    );
    i64::try_from(r).ok().map(Rate::from_raw)
}

/// Order-book imbalance of the best `levels` levels of a synced L2 book.
pub fn book_imbalance(book: &DepthBook, levels: usize) -> Option<Rate> {
    book_quantities(book, levels).and_then(|(bid, ask)| imbalance(bid, ask))
}

/// Raw bid and ask quantities within the best `levels` levels of a synced
/// L2 book (`None` while it is not synced).
pub fn book_quantities(book: &DepthBook, levels: usize) -> Option<(i64, i64)> {
    book.is_synced().then(|| {
        (
            book.bids().qty_within(levels).raw(),
            book.asks().qty_within(levels).raw(),
        )
    })
}

/// Order-book imbalance of the top of book (when no L2 book is synced).
pub fn top_imbalance(top: &TopOfBook) -> Option<Rate> {
    if !top.is_valid() {
        return None;
    }
    imbalance(top.bid_qty.raw(), top.ask_qty.raw())
}

/// Realized volatility: the root mean square of the last `n` simple returns
/// of the closes fed to it, in basis points.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct RealizedVol {
    squares: Vec<f64>,
    next: usize,
    len: usize,
    sum: f64,
    last: f64,
}

impl RealizedVol {
    /// Over the last `n` returns (n >= 1); allocates here only.
    pub fn new(n: usize) -> RealizedVol {
        RealizedVol {
            squares: vec![0.0; n.max(1)],
            next: 0,
            len: 0,
            sum: 0.0,
            last: 0.0,
        }
    }

    /// As new: the warm-up starts again (no allocation).
    pub fn reset(&mut self) {
        self.squares.fill(0.0);
        self.next = 0;
        self.len = 0;
        self.sum = 0.0;
        self.last = 0.0;
    }

    /// Feeds a close (> 0); returns the volatility once `n` returns are in.
    #[inline]
    pub fn update(&mut self, close: f64) -> Option<f64> {
        if !(close > 0.0 && close.is_finite()) {
            return self.value();
        }
        let last = std::mem::replace(&mut self.last, close);
        if last <= 0.0 {
            return None;
        }
        let r = (close - last) / last * 10_000.0;
        let sq = r * r;
        let n = self.squares.len();
        if self.len == n {
            self.sum -= self.squares[self.next];
        } else {
            self.len += 1;
        }
        self.squares[self.next] = sq;
        self.sum += sq;
        self.next = (self.next + 1) % n;
        if self.next == 0 {
            // Once per lap: the exact sum again, in window order, so error
            // from the running subtraction never outlives a window.
            self.sum = self.squares.iter().sum();
        }
        self.value()
    }

    /// The volatility in basis points per return, once warm.
    pub fn value(&self) -> Option<f64> {
        (self.len == self.squares.len()).then(|| (self.sum.max(0.0) / self.len as f64).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Qty;

    fn trade(price: &str, qty: &str, buy: bool) -> Trade {
        Trade {
            trade_id: 0,
            price: price.parse().unwrap(),
            qty: qty.parse().unwrap(),
            buyer_is_maker: !buy,
        }
    }

    #[test]
    fn vwap_and_flow_over_a_rolling_window() {
        let mut w = TradeWindow::new(2);
        assert_eq!(w.vwap(), None);
        w.update(&trade("100", "1", true));
        w.update(&trade("103", "2", false));
        // (100 + 206) / 3 = 102; (1 − 2) / 3
        assert_eq!(w.vwap(), Some("102".parse().unwrap()));
        assert_eq!(w.flow_imbalance(), Some(Rate::from_raw(-33_333_333)));
        w.update(&trade("106", "1", true)); // the first trade leaves
        assert_eq!(w.vwap(), Some("104".parse().unwrap()));
        assert_eq!(w.flow_imbalance(), Some(Rate::from_raw(-33_333_333)));
        w.update(&trade("0", "1", true)); // ignored
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn vwap_is_exact_after_a_million_trades() {
        let mut w = TradeWindow::new(100);
        for i in 0..1_000_000u64 {
            let p = Price::from_raw(6_000_000_000_000 + (i % 977) as i64 * 10_000_000);
            let q = Qty::from_raw(100_000 + (i % 13) as i64 * 100_000);
            w.update(&Trade {
                trade_id: i,
                price: p,
                qty: q,
                buyer_is_maker: i % 3 == 0,
            });
        }
        let mut fresh = TradeWindow::new(100);
        for i in 1_000_000 - 100..1_000_000u64 {
            let p = Price::from_raw(6_000_000_000_000 + (i % 977) as i64 * 10_000_000);
            let q = Qty::from_raw(100_000 + (i % 13) as i64 * 100_000);
            fresh.update(&Trade {
                trade_id: i,
                price: p,
                qty: q,
                buyer_is_maker: i % 3 == 0,
            });
        }
        assert_eq!(w.vwap(), fresh.vwap());
        assert_eq!(w.flow_imbalance(), fresh.flow_imbalance());
    }

    #[test]
    fn spread_in_basis_points() {
        let p = |s: &str| s.parse::<Price>().unwrap();
        // 1 / 100.5 × 10^4 = 99.50248756… bp
        assert_eq!(
            spread_bps(p("100"), p("101")),
            Some(Rate::from_raw(9_950_248_756))
        );
        assert_eq!(spread_bps(p("100"), p("100")), Some(Rate::ZERO));
        assert_eq!(spread_bps(p("101"), p("100")), None);
        assert_eq!(spread_bps(p("0"), p("100")), None);
    }

    #[test]
    fn imbalance_of_quantities() {
        assert_eq!(imbalance(3, 1), Some(Rate::from_raw(50_000_000)));
        assert_eq!(imbalance(0, 0), None);
        assert_eq!(imbalance(0, 5), Some(Rate::from_raw(-SCALE)));
    }

    #[test]
    fn realized_vol_of_alternating_returns() {
        let mut v = RealizedVol::new(4);
        let mut p = 100.0;
        let mut out = None;
        for i in 0..41 {
            out = v.update(p);
            p = if i % 2 == 0 { p * 1.001 } else { p / 1.001 };
        }
        // Every return is ±10 bp (up to rounding of the division).
        let got = out.unwrap();
        assert!((got - 10.0).abs() < 0.01, "{got}");
        assert_eq!(RealizedVol::new(4).update(100.0), None);
    }
}
