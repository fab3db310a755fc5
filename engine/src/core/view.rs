//! A readable, serializable view of the core's state (`autobot replay
//! --dump-state`). Built on demand, off the hot path; map keys are ordered
//! so the same state always prints the same text.

use std::collections::BTreeMap;

use super::{Core, CoreStats};
use crate::event::{FeedHealth, InputBody, SystemState};
use crate::types::{ClientOrderId, Money, Price, Qty, Side};

/// The core's whole state, for people.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoreView {
    /// Last input processed.
    pub last_seq: Option<u64>,
    /// System state.
    pub state: SystemState,
    /// Kill switch engaged.
    pub kill_switch: bool,
    /// Output digest (hex).
    pub digest: String,
    /// Outputs emitted.
    pub outputs: u64,
    /// Counters.
    pub stats: StatsView,
    /// Per symbol.
    pub symbols: Vec<SymbolView>,
    /// Open orders.
    pub open_orders: Vec<OrderView>,
}

/// Counters, by name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatsView {
    /// Inputs processed.
    pub events: u64,
    /// Inputs per kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Other counters.
    pub counters: BTreeMap<&'static str, u64>,
}

/// Top of book.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookView {
    /// Update id.
    pub update_id: u64,
    /// Best bid.
    pub bid_price: Price,
    /// Bid size.
    pub bid_qty: Qty,
    /// Best ask.
    pub ask_price: Price,
    /// Ask size.
    pub ask_qty: Qty,
}

/// One symbol.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SymbolView {
    /// Exchange symbol.
    pub symbol: String,
    /// Top of book, once valid.
    pub book: Option<BookView>,
    /// Fast EMA of the mid, once warm.
    pub ema_fast: Option<f64>,
    /// Slow EMA of the mid, once warm.
    pub ema_slow: Option<f64>,
    /// Position the strategy targets.
    pub target: Qty,
    /// Position held.
    pub position: Qty,
    /// Average entry price.
    pub avg_entry: Option<Price>,
    /// Realized PnL before fees.
    pub realized: Money,
    /// Fees paid.
    pub fees: Money,
    /// Fills applied.
    pub fills: u64,
    /// Market-data feed health.
    pub feed: FeedHealth,
}

/// An open order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderView {
    /// Client id.
    pub client_id: ClientOrderId,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Ordered.
    pub qty: Qty,
    /// Filled.
    pub filled: Qty,
}

fn counters(s: &CoreStats) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("orders", s.orders),
        ("fills", s.fills),
        ("rejects", s.rejects),
        ("vetoes", s.vetoes),
        ("alerts", s.alerts),
        ("crossed", s.crossed),
        ("out_of_order", s.out_of_order),
        ("duplicate_updates", s.duplicate_updates),
        ("unknown_orders", s.unknown_orders),
        ("illegal_transitions", s.illegal_transitions),
        ("unknown_symbols", s.unknown_symbols),
    ])
}

impl Core {
    /// The state as a serializable view.
    pub fn view(&self) -> CoreView {
        let name = |i: usize| {
            self.symbols
                .get(i)
                .map_or_else(|| format!("#{i}"), |s| s.instrument.name.to_string())
        };
        let symbols = self
            .symbols
            .iter()
            .map(|s| {
                let b = s.book;
                let (fast, slow) = s.signal.values().unzip();
                SymbolView {
                    symbol: s.instrument.name.to_string(),
                    book: b.is_valid().then_some(BookView {
                        update_id: b.update_id,
                        bid_price: b.bid_price,
                        bid_qty: b.bid_qty,
                        ask_price: b.ask_price,
                        ask_qty: b.ask_qty,
                    }),
                    ema_fast: fast,
                    ema_slow: slow,
                    target: Qty::from_raw(s.target),
                    position: s.position.qty(),
                    avg_entry: s.position.avg_entry(),
                    realized: s.position.realized(),
                    fees: s.position.fees(),
                    fills: s.position.fills(),
                    feed: s.feed,
                }
            })
            .collect();
        let open_orders = self
            .orders
            .iter()
            .map(|o| OrderView {
                client_id: o.client_id,
                symbol: name(usize::from(o.symbol.0)),
                side: o.side,
                qty: o.qty,
                filled: o.filled,
            })
            .collect();
        CoreView {
            last_seq: self.last_seq.map(|s| s.0),
            state: self.state,
            kill_switch: self.kill_switch,
            digest: format!("{:016x}", self.digest()),
            outputs: self.outputs(),
            stats: StatsView {
                events: self.stats.events,
                by_kind: InputBody::KIND_NAMES
                    .iter()
                    .copied()
                    .zip(self.stats.by_kind)
                    .collect(),
                counters: counters(&self.stats),
            },
            symbols,
            open_orders,
        }
    }
}
