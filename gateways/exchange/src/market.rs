//! The exchange's view of each symbol (the one book type: L2 depth when
//! the data has it, else the top of book, else the last bar's close) and
//! how an order meets it: walking the levels for a taking fill, the queue
//! ahead of a resting order.

use autobot_engine::core::{Position, TopOfBook};
use autobot_engine::depth::DepthBook;
use autobot_engine::event::{BookTicker, InputBody, InputEvent, Source};
use autobot_engine::types::{MonoNanos, Price, Qty, Rate, Side, SymbolId, UnixNanos};

use crate::{Exchange, HOUR_NS, Reports};

/// One symbol.
#[derive(Debug)]
pub(crate) struct Market {
    pub(crate) top: TopOfBook,
    pub(crate) depth: Box<DepthBook>,
    /// Close of the last bar, the price source of bar data.
    pub(crate) bar_close: Price,
    /// Price of the last trade (the contract price conditional orders watch).
    pub(crate) last_trade: Price,
    /// The data has book tickers or depth: bars are not quoted.
    pub(crate) has_book: bool,
    /// Mark, rate and next funding time from the data's mark prices.
    pub(crate) mark: Price,
    pub(crate) rate: Rate,
    pub(crate) next_funding: UnixNanos,
    /// The data carries mark prices (the price positions are valued at).
    pub(crate) data_marks: bool,
    /// The data carries funding (mark prices or funding rows): the
    /// exchange announces none for the symbol.
    pub(crate) data_funding: bool,
    pub(crate) position: Position,
    /// The symbol's leverage (initial margin = notional / leverage; 0:
    /// no initial-margin check), the account's until set per symbol.
    pub(crate) leverage: u32,
}

impl Market {
    pub(crate) fn new() -> Market {
        Market {
            top: TopOfBook::default(),
            depth: Box::new(DepthBook::new()),
            bar_close: Price::ZERO,
            last_trade: Price::ZERO,
            has_book: false,
            mark: Price::ZERO,
            rate: Rate::ZERO,
            next_funding: UnixNanos(0),
            data_marks: false,
            data_funding: false,
            position: Position::default(),
            leverage: 0,
        }
    }

    /// The L2 book is synced and two-sided.
    pub(crate) fn has_depth(&self) -> bool {
        self.depth.is_synced() && !self.depth.asks().is_empty() && !self.depth.bids().is_empty()
    }
}

/// A book as a REST depth snapshot shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepthSnapshot {
    /// The update id the book reflects (`lastUpdateId`).
    pub update_id: u64,
    /// Bids, best first.
    pub bids: Vec<(Price, Qty)>,
    /// Asks, best first.
    pub asks: Vec<(Price, Qty)>,
}

/// `price` is at least as good as `limit` for an order on `side`.
pub(crate) fn within(side: Side, price: Price, limit: Price) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

impl Exchange {
    pub(crate) fn see(&mut self, ev: &InputEvent, data: bool, out: &mut Reports) {
        let t = ev.header.exchange;
        self.clock = self.clock.max(t);
        if self.next_funding.0 == 0 && t.0 != 0 {
            let interval = u64::from(self.rules.funding_interval_hours.max(1)) * HOUR_NS;
            self.next_funding = UnixNanos((t.0 / interval + 1) * interval);
        }
        let sym = ev.header.symbol;
        let i = usize::from(sym.0);
        if i >= self.markets.len() {
            return;
        }
        match &ev.body {
            InputBody::BookTicker(b) => {
                let m = &mut self.markets[i];
                m.has_book |= data;
                if m.top.apply(b, t).is_ok() {
                    let top = (
                        m.top.bid_price,
                        m.top.bid_qty,
                        m.top.ask_price,
                        m.top.ask_qty,
                    );
                    self.on_top(sym, top, out);
                }
            }
            InputBody::Depth(d) => {
                let m = &mut self.markets[i];
                m.has_book = true;
                let _ = m.depth.on_part(d);
            }
            InputBody::AggTrade(tr) => {
                self.markets[i].last_trade = tr.price;
                self.on_trade(sym, tr, out);
            }
            InputBody::Kline(k) => self.on_bar(sym, k, out),
            InputBody::MarkPrice(mp) => self.on_mark(sym, mp),
            InputBody::Funding(f) => {
                self.markets[i].data_funding = true;
                self.settle_funding(i, f.mark, f.rate);
            }
            _ => return,
        }
        if !self.stops.is_empty() {
            self.check_stops(sym, out);
        }
        let inside = self.margin_band.get(i).is_some_and(|&(lo, hi)| {
            self.mark_of(i).is_some_and(|m| {
                let m = m.raw() as f64;
                lo <= m && m <= hi
            })
        });
        if !inside {
            self.check_margin(out);
        }
    }

    /// A synthetic book ticker quoting a bar's close, for bar data without
    /// a book (`None` once the symbol has a book, or for a bad bar). The
    /// adapter feeds it to the core, then to [`Exchange::on_bar_quote`].
    pub fn bar_quote(&self, ev: &InputEvent) -> Option<InputEvent> {
        let InputBody::Kline(k) = &ev.body else {
            return None;
        };
        let i = usize::from(ev.header.symbol.0);
        let (m, ins) = (self.markets.get(i)?, self.instruments.get(i)?);
        if m.has_book || !k.close.is_positive() {
            return None;
        }
        let ask = Price::from_raw(k.close.raw().checked_add(ins.tick_size.raw())?);
        let quote = BookTicker {
            update_id: k.open_time.0 / 1_000_000,
            bid_price: k.close,
            bid_qty: self.rules.bar_book_qty,
            ask_price: ask,
            ask_qty: self.rules.bar_book_qty,
        };
        let mut q = InputEvent::new(
            Source::MarketData,
            ev.header.symbol,
            MonoNanos(0),
            ev.header.exchange,
            InputBody::BookTicker(quote),
        );
        q.header.recv = ev.header.recv;
        Some(q)
    }

    /// Sees the quote [`Exchange::bar_quote`] made: as a data book ticker,
    /// except that bars stay the symbol's price source.
    pub fn on_bar_quote(&mut self, ev: &InputEvent, out: &mut Reports) {
        self.see(ev, false, out);
    }

    /// The price positions are valued at: the data's mark, else the mid,
    /// else the last bar's close.
    pub(crate) fn mark_of(&self, i: usize) -> Option<Price> {
        let m = &self.markets[i];
        if m.data_marks && m.mark.is_positive() {
            return Some(m.mark);
        }
        m.top
            .mid()
            .or_else(|| m.bar_close.is_positive().then_some(m.bar_close))
    }

    /// The contract (last) price: the last trade, else the mid, else the
    /// last bar's close. Never the mark: the two working types differ.
    pub(crate) fn contract_price(&self, i: usize) -> Option<Price> {
        let m = &self.markets[i];
        if m.last_trade.is_positive() {
            return Some(m.last_trade);
        }
        m.top
            .mid()
            .or_else(|| m.bar_close.is_positive().then_some(m.bar_close))
    }

    /// The best price an order on `side` would take on symbol `i`.
    pub(crate) fn taking_price(&self, i: usize, side: Side) -> Option<Price> {
        let m = &self.markets[i];
        if m.has_depth() {
            let ladder = match side {
                Side::Buy => m.depth.asks(),
                Side::Sell => m.depth.bids(),
            };
            return ladder.best().map(|(p, _)| p);
        }
        m.top.taking_price(side)
    }

    /// The levels an order on `side` takes, best first, into `self.takes`;
    /// returns the quantity taken.
    pub(crate) fn walk(&mut self, i: usize, side: Side, qty: Qty, limit: Option<Price>) -> Qty {
        self.takes.clear();
        let m = &self.markets[i];
        let ok = |p: Price| limit.is_none_or(|l| within(side, p, l));
        let mut left = qty.raw();
        let push = |takes: &mut Vec<(Price, Qty)>, left: &mut i64, price: Price, avail: i64| {
            let q = (*left).min(avail);
            if q > 0 {
                takes.push((price, Qty::from_raw(q)));
                *left -= q;
            }
        };
        if !self.fills.depth_walk {
            // The whole quantity at the opposite best.
            if let Some(p) = self.taking_price(i, side).filter(|p| ok(*p)) {
                push(&mut self.takes, &mut left, p, i64::MAX);
            }
            return Qty::from_raw(qty.raw() - left);
        }
        let ladder = match side {
            Side::Buy => m.depth.asks(),
            Side::Sell => m.depth.bids(),
        };
        if m.depth.is_synced() && !ladder.is_empty() {
            let mut level = 0;
            while left > 0 {
                let Some((p, q)) = ladder.level(level) else {
                    break;
                };
                if !ok(p) {
                    break;
                }
                push(&mut self.takes, &mut left, p, q.raw());
                level += 1;
            }
        } else if let Some(p) = m.top.taking_price(side)
            && ok(p)
        {
            push(&mut self.takes, &mut left, p, m.top.taking_qty(side).raw());
        }
        // A market order takes what the visible book lacks at its last
        // visible price.
        if left > 0
            && limit.is_none()
            && let Some(&(p, _)) = self.takes.last()
        {
            let all = left;
            push(&mut self.takes, &mut left, p, all);
        }
        // Merge repeated prices into one fill.
        self.takes.dedup_by(|b, a| {
            if a.0 == b.0 {
                a.1 = Qty::from_raw(a.1.raw() + b.1.raw());
                true
            } else {
                false
            }
        });
        Qty::from_raw(qty.raw() - left)
    }

    /// The visible quantity at `price` on `side`'s own book side (the
    /// queue a new order joins); `None` when the data does not show it.
    pub(crate) fn queue_at(&self, i: usize, side: Side, price: Price) -> Option<Qty> {
        let m = &self.markets[i];
        let ladder = match side {
            Side::Buy => m.depth.bids(),
            Side::Sell => m.depth.asks(),
        };
        let (best, best_qty) = match side {
            Side::Buy => (m.top.bid_price, m.top.bid_qty),
            Side::Sell => (m.top.ask_price, m.top.ask_qty),
        };
        if m.depth.is_synced() && !ladder.is_empty() {
            let mut level = 0;
            while let Some((p, q)) = ladder.level(level) {
                if p == price {
                    return Some(q);
                }
                if within(side, p, price) {
                    // Past our price without meeting it: an empty level.
                    return Some(Qty::ZERO);
                }
                level += 1;
            }
            return Some(Qty::ZERO);
        }
        let improves = match side {
            Side::Buy => price > best,
            Side::Sell => price < best,
        };
        if !m.top.is_valid() || improves {
            // Better than the best (or no book): first in line.
            return Some(Qty::ZERO);
        }
        (price == best).then_some(best_qty)
    }

    /// A depth snapshot of symbol `sym` for a REST adapter: the update id
    /// of the book and up to `limit` levels a side, best first. A symbol
    /// without L2 data answers its top of book with the ticker's update id.
    pub fn depth_snapshot(&self, sym: SymbolId, limit: usize) -> Option<DepthSnapshot> {
        let m = self.markets.get(usize::from(sym.0))?;
        // A loaded snapshot still waiting for its bridging diff is served
        // too: it is what the exchange's book is.
        if let Some(update_id) = m.depth.last_update_id()
            && !m.depth.bids().is_empty()
        {
            let side = |l: &autobot_engine::depth::Ladder| {
                (0..limit).map_while(|k| l.level(k)).collect::<Vec<_>>()
            };
            return Some(DepthSnapshot {
                update_id,
                bids: side(m.depth.bids()),
                asks: side(m.depth.asks()),
            });
        }
        if !m.top.is_valid() {
            return None;
        }
        let t = &m.top;
        Some(DepthSnapshot {
            update_id: t.update_id,
            bids: vec![(t.bid_price, t.bid_qty)],
            asks: vec![(t.ask_price, t.ask_qty)],
        })
    }
}

/// The symbol id of market index `i`.
pub(crate) fn symbol(i: usize) -> SymbolId {
    SymbolId(u16::try_from(i).unwrap_or(u16::MAX))
}
