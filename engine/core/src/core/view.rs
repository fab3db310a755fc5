//! A readable, serializable view of the core's state (`autobot replay
//! --dump-state`). Built on demand, off the hot path; map keys are ordered
//! so the same state always prints the same text.

use std::collections::BTreeMap;

use super::{Core, CoreStats};
use crate::event::{ControlMode, FeedHealth, InputBody, OrderKind, SystemState};
use crate::types::{
    ClientOrderId, Money, Price, Qty, Rate, Side, liquidation_distance, liquidation_price,
};

/// The core's whole state, for people.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoreView {
    /// Last input processed.
    pub last_seq: Option<u64>,
    /// System state.
    pub state: SystemState,
    /// Control mode.
    pub mode: ControlMode,
    /// Kill switch engaged.
    pub kill_switch: bool,
    /// Event time (ns since the Unix epoch).
    pub now: u64,
    /// The margin account.
    pub account: AccountView,
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

/// The margin account.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AccountView {
    /// Wallet balance at the start.
    pub start: Money,
    /// Wallet balance.
    pub balance: Money,
    /// Balance plus unrealized PnL.
    pub equity: Money,
    /// Realized PnL (before fees).
    pub realized: Money,
    /// Fees paid.
    pub fees: Money,
    /// Funding received (negative: paid).
    pub funding: Money,
    /// Unrealized PnL at mark.
    pub unrealized: Money,
    /// Equity change since the UTC day began.
    pub daily_pnl: Money,
    /// Highest equity.
    pub high_water: Money,
    /// Drawdown from the high-water mark (fraction).
    pub drawdown: Rate,
    /// Losing round trips in a row.
    pub consecutive_losses: u32,
    /// Today's daily-loss halt was lifted by an operator override: the
    /// day-loss limit counts from the equity at that moment.
    pub day_loss_override: bool,
    /// A drawdown halt was lifted by an operator override: the drawdown
    /// limit counts from a high-water mark restarted then.
    pub drawdown_override: bool,
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
    /// Regime (`range`, `bull`, `bear`, `high_vol`).
    pub regime: &'static str,
    /// Index of the strategy instance holding or targeting the position.
    pub strategy: Option<u8>,
    /// Stop-loss level of that strategy.
    pub stop: Option<Price>,
    /// Take-profit level of that strategy.
    pub take: Option<Price>,
    /// VWAP of the trade window.
    pub vwap: Option<Price>,
    /// Trade-flow imbalance, −1 ..= 1.
    pub flow_imbalance: Option<Rate>,
    /// Order-book imbalance, −1 ..= 1.
    pub book_imbalance: Option<Rate>,
    /// Spread in basis points.
    pub spread_bps: Option<Rate>,
    /// Point of control of the day's volume profile.
    pub poc: Option<Price>,
    /// Position the strategies target.
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
    /// No market data for longer than the stale limit.
    pub stale: bool,
    /// Mark price (the mid before any mark-price event).
    pub mark: Option<Price>,
    /// Unrealized PnL at mark.
    pub unrealized: Money,
    /// Liquidation price of the position (cross margin).
    pub liquidation_price: Option<Price>,
    /// Distance of the mark to it (fraction).
    pub liquidation_distance: Option<Rate>,
    /// Funding rate announced for the next funding time.
    pub funding_rate: Rate,
    /// Realized volatility of the mid (bps per update).
    pub volatility_bps: Rate,
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
    /// Market or limit.
    pub kind: OrderKind,
    /// Limit price or market reference.
    pub price: Price,
    /// A cancel is on its way.
    pub cancel_sent: bool,
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
        ("invalid_inputs", s.invalid_inputs),
        ("operator_refused", s.operator_refused),
        ("mode_refusals", s.mode_refusals),
        ("cancels", s.cancels),
        ("cancel_rejects", s.cancel_rejects),
        ("fundings", s.fundings),
        ("approvals_requested", s.approvals_requested),
        ("watch_actions", s.watch_actions),
        ("signals_too_small", s.signals_too_small),
        ("signals_below_cost", s.signals_below_cost),
        ("signals_disabled", s.signals_disabled),
        ("signals_high_vol", s.signals_high_vol),
    ])
}

impl Core {
    /// The margin account as a view (plain values: no allocation, so the
    /// status board copies it on the core thread too).
    pub fn account_view(&self) -> AccountView {
        AccountView {
            start: self.account.start(),
            balance: self.account.balance(),
            equity: self.account.equity(),
            realized: self.account.realized(),
            fees: self.account.fees(),
            funding: self.account.funding(),
            unrealized: self.account.unrealized(),
            daily_pnl: self.account.daily_pnl(),
            high_water: self.account.high_water(),
            drawdown: self.account.drawdown(),
            consecutive_losses: self.control.losses(),
            day_loss_override: self.account.day_loss_overridden(),
            drawdown_override: self.account.drawdown_overridden(),
        }
    }

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
                let b = s.quote.book;
                let m = self.market_view(s.instrument.id);
                let nonzero = |p: Price| p.is_positive().then_some(p);
                let mark = s.mark_or_mid();
                let lp = mark.and_then(|m| {
                    liquidation_price(
                        &s.brackets,
                        s.position.qty(),
                        s.position.cost16(),
                        m,
                        self.cross_margin(s.instrument.id),
                    )
                });
                SymbolView {
                    symbol: s.instrument.name.to_string(),
                    book: b.is_valid().then_some(BookView {
                        update_id: b.update_id,
                        bid_price: b.bid_price,
                        bid_qty: b.bid_qty,
                        ask_price: b.ask_price,
                        ask_qty: b.ask_qty,
                    }),
                    regime: s.regime.name(),
                    strategy: (s.owner != super::strategies::NO_STRATEGY).then_some(s.owner),
                    stop: nonzero(s.stop),
                    take: nonzero(s.take),
                    vwap: m.vwap(),
                    flow_imbalance: m.flow(),
                    book_imbalance: m.book_imbalance(),
                    spread_bps: m.spread_bps(),
                    poc: self.signals.features(s.instrument.id).profile.poc(),
                    target: Qty::from_raw(s.target),
                    position: s.position.qty(),
                    avg_entry: s.position.avg_entry(),
                    realized: s.position.realized(),
                    fees: s.position.fees(),
                    fills: s.position.fills(),
                    feed: s.quote.feed,
                    stale: s.quote.stale,
                    mark,
                    unrealized: s.unrealized,
                    liquidation_price: lp,
                    liquidation_distance: mark
                        .zip(lp)
                        .and_then(|(m, l)| liquidation_distance(m, l)),
                    funding_rate: s.quote.funding_rate,
                    volatility_bps: s.quote.vol.bps(),
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
                kind: o.kind,
                price: o.price,
                cancel_sent: o.cancel_sent,
            })
            .collect();
        CoreView {
            last_seq: self.last_seq.map(|s| s.0),
            state: self.control.state(),
            mode: self.control.mode(),
            kill_switch: self.control.kill_switch(),
            now: self.clock.now().0,
            account: self.account_view(),
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
