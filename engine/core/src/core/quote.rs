//! The core's market part for one symbol: what the market says of it.
//!
//! # What it owns
//! Top of book, the mark price and the funding rate and time announced
//! with it, the realized volatility of the mid, the gateway's feed health,
//! staleness (no data for longer than the limit, plus one bar while the
//! symbol's data has been bars only: a 1m bar feed speaks once a minute)
//! and the plausibility memory the edge guard (`guard`) keeps for the
//! symbol.
//!
//! # Interface
//! Market inputs go in (a ticker, a mark, the fact that data arrived, a
//! staleness scan); what they mean for the rest of the core comes back:
//! the mid a ticker left, a funding time a mark shows has passed, a feed
//! that healed, when the symbol is next due to go stale. It holds nothing
//! of positions, orders or the account, and emits nothing. Reads (the veto
//! chain's prices, the status view) go through its fields.
//!
//! # Invariants
//! - `last_data` and the book's update id only move forward; a ticker the
//!   guard admitted always applies.
//! - `stale` is recomputed only by [`Quote::rescan`], from event time.

use crate::depth::{BookReject, TopOfBook};
use crate::event::{BookTicker, FeedHealth, MarkPrice};
use crate::types::{Price, Rate, UnixNanos};

use super::guard::SymbolGuards;
use super::volatility::Volatility;

/// See the module docs.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Quote {
    pub(super) book: TopOfBook,
    /// Mark price from the mark-price stream (zero: none yet).
    pub(super) mark: Price,
    /// Funding rate announced for the next funding time.
    pub(super) funding_rate: Rate,
    /// Next funding time (zero: unknown).
    pub(super) next_funding: UnixNanos,
    /// Realized volatility of the mid.
    pub(super) vol: Volatility,
    /// Health reported by the gateway.
    pub(super) feed: FeedHealth,
    /// No market data for longer than the stale limit.
    pub(super) stale: bool,
    /// Exchange time of the last market data.
    pub(super) last_data: UnixNanos,
    /// The longest bar interval seen while the symbol's data has been bars
    /// only (ns; ignored once tick data came).
    pub(super) bar_cadence: u64,
    /// Tick data (tickers, trades, depth, marks) has come.
    pub(super) ticks: bool,
    /// Plausibility memory of this symbol's inputs (`guard`).
    pub(super) guards: SymbolGuards,
}

/// A funding time that passed: the mark and rate last announced before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FundingDue {
    pub(super) mark: Price,
    pub(super) rate: Rate,
}

impl Quote {
    /// No market yet; volatility over `vol_span` mids.
    pub(super) fn new(vol_span: u32) -> Quote {
        Quote {
            book: TopOfBook::default(),
            mark: Price::ZERO,
            funding_rate: Rate::ZERO,
            next_funding: UnixNanos(0),
            vol: Volatility::new(vol_span),
            feed: FeedHealth::Healthy,
            stale: false,
            last_data: UnixNanos(0),
            bar_cadence: 0,
            ticks: false,
            guards: SymbolGuards::default(),
        }
    }

    /// Market data is flowing and the gateway says the feed is healthy.
    pub(super) fn feed_ok(&self) -> bool {
        self.feed == FeedHealth::Healthy && !self.stale
    }

    /// Mark price, or the mid before any mark-price event.
    pub(super) fn mark_or_mid(&self) -> Option<Price> {
        if self.mark.is_positive() {
            Some(self.mark)
        } else {
            self.book.mid()
        }
    }

    /// Market data arrived at exchange time `t`; `true` if the symbol was
    /// stale (it heals: the caller rescans).
    pub(super) fn on_data(&mut self, t: UnixNanos) -> bool {
        self.last_data = self.last_data.max(t);
        self.stale
    }

    /// Tick data arrived at `t` (see [`Quote::on_data`]).
    pub(super) fn on_tick(&mut self, t: UnixNanos) -> bool {
        self.ticks = true;
        self.on_data(t)
    }

    /// A bar of `interval_ns` closed at `t` (see [`Quote::on_data`]).
    pub(super) fn on_bar(&mut self, t: UnixNanos, interval_ns: u64) -> bool {
        self.bar_cadence = self.bar_cadence.max(interval_ns);
        self.on_data(t)
    }

    /// How long the symbol may go without data before it is stale: the
    /// limit, plus one bar while its data has been bars only.
    fn allowed(&self, limit: u64) -> u64 {
        if self.ticks {
            limit
        } else {
            limit.saturating_add(self.bar_cadence)
        }
    }

    /// Applies an admitted ticker (the guard refused crossed and
    /// out-of-order ones, so the book takes it); the mid it leaves, which
    /// the volatility has taken.
    pub(super) fn on_ticker(
        &mut self,
        t: &BookTicker,
        exchange: UnixNanos,
    ) -> Result<Option<Price>, BookReject> {
        self.book.apply(t, exchange)?;
        let mid = self.book.mid();
        if let Some(mid) = mid {
            self.vol.update(mid);
        }
        Ok(mid)
    }

    /// The funding time `m` shows has passed: when it announces a later
    /// one than the one known, the known one settles at the mark and rate
    /// seen before it (the exchange uses the mark at the funding time).
    pub(super) fn funding_due(&self, m: &MarkPrice) -> Option<FundingDue> {
        (self.next_funding.0 != 0 && m.next_funding > self.next_funding).then_some(FundingDue {
            mark: self.mark,
            rate: self.funding_rate,
        })
    }

    /// Takes an admitted mark-price event: the mark, and the rate and time
    /// of the next funding.
    pub(super) fn on_mark(&mut self, m: &MarkPrice) {
        self.mark = m.mark_price;
        self.funding_rate = m.funding_rate;
        self.next_funding = m.next_funding;
    }

    /// Staleness at event time `now` with the limit `limit` (ns): whether
    /// the symbol is down (stale, or reported stale or disconnected), and
    /// the first time after which it would go stale without more data.
    pub(super) fn rescan(&mut self, now: u64, limit: u64) -> (bool, u64) {
        let due = self.last_data.0.saturating_add(self.allowed(limit));
        self.stale = now > due && now != 0;
        let down = self.stale || matches!(self.feed, FeedHealth::Stale | FeedHealth::Disconnected);
        (down, due.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticker(id: u64, bid: &str, ask: &str) -> BookTicker {
        BookTicker {
            update_id: id,
            bid_price: Price::parse(bid).unwrap(),
            bid_qty: crate::types::Qty::parse("1").unwrap(),
            ask_price: Price::parse(ask).unwrap(),
            ask_qty: crate::types::Qty::parse("1").unwrap(),
        }
    }

    #[test]
    fn a_ticker_moves_the_book_and_the_mark_falls_back_to_the_mid() {
        let mut q = Quote::new(20);
        assert_eq!(q.mark_or_mid(), None);
        let mid = q.on_ticker(&ticker(1, "100", "102"), UnixNanos(5)).unwrap();
        assert_eq!(mid, Some(Price::parse("101").unwrap()));
        assert_eq!(q.mark_or_mid(), mid, "no mark yet: the mid");
        let crossed = q.on_ticker(&ticker(2, "103", "102"), UnixNanos(6));
        assert_eq!(crossed, Err(BookReject::Crossed));
        let m = MarkPrice {
            mark_price: Price::parse("100.5").unwrap(),
            funding_rate: Rate::parse("0.0001").unwrap(),
            next_funding: UnixNanos(1_000),
            ..MarkPrice::default()
        };
        assert_eq!(q.funding_due(&m), None, "the first funding time announced");
        q.on_mark(&m);
        assert_eq!(q.mark_or_mid(), Some(m.mark_price));
        let later = MarkPrice {
            mark_price: Price::parse("99").unwrap(),
            next_funding: UnixNanos(2_000),
            ..m
        };
        let due = q
            .funding_due(&later)
            .expect("the earlier funding time passed");
        assert_eq!((due.mark, due.rate), (m.mark_price, m.funding_rate));
        q.on_mark(&later);
        assert_eq!(q.funding_due(&later), None, "not twice");
    }

    #[test]
    fn staleness_follows_event_time_and_heals_with_data() {
        let mut q = Quote::new(20);
        q.on_data(UnixNanos(100));
        assert_eq!(q.rescan(150, 100), (false, 201));
        assert!(q.feed_ok());
        assert_eq!(q.rescan(201, 100), (true, 201));
        assert!(!q.feed_ok());
        assert!(q.on_data(UnixNanos(300)), "it was stale");
        assert_eq!(q.rescan(301, 100), (false, 401));
        q.feed = FeedHealth::Disconnected;
        assert!(q.rescan(301, 100).0, "the gateway's word counts too");
        assert!(!q.on_data(UnixNanos(50)), "not stale");
        assert_eq!(q.last_data, UnixNanos(300), "never backwards");
    }

    #[test]
    fn a_bar_feed_is_due_once_a_bar_and_a_tick_feed_within_the_limit() {
        const S: u64 = 1_000_000_000;
        let mut q = Quote::new(20);
        q.on_bar(UnixNanos(60 * S), 60 * S);
        // One bar plus the 30 s limit.
        assert_eq!(q.rescan(140 * S, 30 * S), (false, 150 * S + 1));
        assert!(q.rescan(150 * S + 1, 30 * S).0, "a bar and 30 s late");
        assert!(q.on_bar(UnixNanos(180 * S), 60 * S), "heals");
        assert!(!q.rescan(200 * S, 30 * S).0);
        // Ticks as well: the limit alone.
        q.on_tick(UnixNanos(200 * S));
        assert!(!q.rescan(230 * S, 30 * S).0);
        assert!(q.rescan(230 * S + 1, 30 * S).0);
    }
}
