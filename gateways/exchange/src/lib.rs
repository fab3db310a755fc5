//! One deterministic, I/O-free model of a Binance USD-M futures exchange:
//! the books it matches against, the fill model, and the account it keeps.
//! Paper execution (a ring adapter), `autobot simexchange` (a REST and
//! WebSocket adapter) and `autobot backtest` (a clock driver) are thin
//! adapters over it, so the three give the same fills for the same data.
//!
//! # Invariants
//! - No clock, no I/O, no randomness, no hash-order iteration: the same
//!   requests and market inputs in the same order give the same reports.
//! - Time is the data's exchange time ([`Exchange::advance`] moves it);
//!   reports carry it.
//! - Requests arrive in the order they were sent, each at its cause time
//!   plus the latency.
//!
//! # The fill model (docs/backtest.md shows it with numbers)
//! - **The book** of a symbol is the L2 depth when the data has a synced
//!   one, else the book ticker, else (bar data) the last bar's close
//!   quoted one tick wide with `bar_book_qty` on each side. Our fills do
//!   not consume the data's book (the next update replaces it anyway).
//! - **Taking** (market orders, the crossing part of a limit, a triggered
//!   conditional order): with `depth_walk` it walks the levels, each
//!   level's price moved `slippage_ticks` against the order, and what the
//!   visible book lacks fills at the last visible level's price (a limit
//!   order never beyond its price); without, the whole quantity fills at
//!   the opposite best. One report per price, the last one `FILLED`.
//! - **Limit GTC** rests with what it did not take; **IOC** expires the
//!   rest; **FOK** expires unfilled unless all of it takes at once;
//!   **GTX** (post-only) is refused with -5022 if any of it would take.
//! - **Queue position** (`queue_position`): a resting order joins the back
//!   of its level (ahead of it: the level's visible quantity; zero when it
//!   improves the best; unknown behind a ticker-only best until the best
//!   reaches its price). Only trades at its price on its side move it
//!   forward; cancellations ahead are not seen (the conservative rule).
//!   Traded quantity beyond the queue fills it (in parts with
//!   `partial_fills`, else once it covers the rest). A trade strictly
//!   through its price, the opposite best strictly beyond it, or a bar
//!   whose range passes it, fills the rest at once. Resting fills are maker.
//!   Without `queue_position` only the through-rule fills.
//! - **Reduce-only** (and `closePosition`): refused with -2022 unless it
//!   reduces the position; a quantity beyond the position is cut to it; a
//!   resting one whose position has gone expires. It never flips a position.
//! - **STOP_MARKET / TAKE_PROFIT_MARKET** wait off the book for their
//!   watched price (`workingType`: the mark, or the last trade) to reach
//!   the stop; then they take as a market order. A trigger already reached
//!   at arrival is refused (-2021).
//! - **Margin at entry**: an order that adds to a position needs notional /
//!   `leverage` of available balance (equity less the initial margin of the
//!   positions and of the resting orders), else -2019.
//! - **Fees**: `maker_fee` / `taker_fee` × notional of each fill, half-even.
//! - **Funding**: at each funding time the symbol's position pays
//!   mark × qty × rate (longs pay a positive rate), the core's own rule.
//!   With mark-price data the data sets the rate and the times; with
//!   funding rows, they do; without either, the exchange charges
//!   `funding_rate` every `funding_interval_hours` on the mid and reports it.
//! - **Liquidation** (cross margin): when the equity (wallet plus
//!   unrealized PnL at the marks) falls to the maintenance margin of the
//!   positions, resting orders are cancelled and every position is closed
//!   at its mark, paying `liquidation_fee` (reports marked `by_exchange`).

mod account;
pub mod config;
mod market;
mod matching;
pub mod order;
pub mod report;
mod view;

use std::collections::VecDeque;

use autobot_engine::event::InputEvent;
use autobot_engine::types::{
    Brackets, ClientOrderId, ExchangeOrderId, Instrument, Money, Price, Qty, SymbolId, UnixNanos,
};

pub use config::{AccountRules, FillConfig};
pub use market::DepthSnapshot;
use market::Market;
pub use matching::{fee_of, taker_price};
pub use order::{Order, OrderType, Refusal, Request, Tif, Trigger, WorkingType};
pub use report::{Execution, Report, ReportBody};
pub use view::{AccountView, SymbolView};

/// Where reports go.
pub type Reports = VecDeque<Report>;

/// Counters of the exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExchangeStats {
    /// Orders that reached the exchange.
    pub orders: u64,
    /// Fill reports sent.
    pub fills: u64,
    /// Of which maker fills of resting orders.
    pub maker_fills: u64,
    /// Limit orders that rested.
    pub rested: u64,
    /// Orders cancelled.
    pub cancelled: u64,
    /// Orders expired (IOC and FOK remainders, reduce-only with nothing
    /// left to reduce, conditional orders with nothing to close).
    pub expired: u64,
    /// Conditional orders triggered.
    pub triggered: u64,
    /// Orders and cancels refused.
    pub rejects: u64,
    /// Funding payments settled (per symbol and time).
    pub fundings: u64,
    /// Liquidations (each closes every position).
    pub liquidations: u64,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    due: UnixNanos,
    request: Request,
}

/// An order the exchange holds: a limit on the book or a conditional
/// order waiting for its trigger.
#[derive(Clone, Copy, Debug)]
struct Resting {
    id: ExchangeOrderId,
    order: Order,
    filled: Qty,
    /// Quantity ahead in the queue at our price; `None` until known.
    ahead: Option<Qty>,
    /// Traded past the queue and not yet filled (`partial_fills` off).
    reached: Qty,
}

impl Resting {
    fn rest(&self) -> Qty {
        Qty::from_raw(self.order.qty.raw() - self.filled.raw())
    }
}

/// A band no mark is inside: the margin is checked on the next input.
const NO_BAND: (f64, f64) = (f64::INFINITY, f64::NEG_INFINITY);
const HOUR_NS: u64 = 3_600_000_000_000;

/// The exchange (see the module docs for its rules).
#[derive(Debug)]
pub struct Exchange {
    fills: FillConfig,
    rules: AccountRules,
    instruments: Vec<Instrument>,
    brackets: Vec<Brackets>,
    markets: Vec<Market>,
    wallet: Money,
    clock: UnixNanos,
    /// The next funding time the exchange announces (0 until data).
    next_funding: UnixNanos,
    in_flight: VecDeque<InFlight>,
    last_due: UnixNanos,
    resting: Vec<Resting>,
    /// Conditional orders waiting for their trigger.
    stops: Vec<Resting>,
    /// (price, qty) of the fills of one taking order (reused).
    takes: Vec<(Price, Qty)>,
    next_id: u64,
    stats: ExchangeStats,
    /// Per symbol, the marks (raw units) within which the margin last
    /// checked is certainly still sufficient (see `check_margin`);
    /// emptied by every fill and funding payment.
    margin_band: Vec<(f64, f64)>,
}

impl Exchange {
    /// An exchange listing `instruments` (maintenance brackets by symbol;
    /// a symbol without brackets has no maintenance margin).
    pub fn new(
        fills: &FillConfig,
        rules: &AccountRules,
        instruments: &[Instrument],
        brackets: &[Brackets],
    ) -> Exchange {
        Exchange {
            fills: fills.clone(),
            rules: rules.clone(),
            instruments: instruments.to_vec(),
            brackets: brackets.to_vec(),
            markets: instruments
                .iter()
                .map(|_| Market {
                    leverage: rules.leverage,
                    ..Market::new()
                })
                .collect(),
            wallet: rules.wallet,
            clock: UnixNanos(0),
            next_funding: UnixNanos(0),
            in_flight: VecDeque::with_capacity(256),
            last_due: UnixNanos(0),
            resting: Vec::with_capacity(256),
            stops: Vec::with_capacity(64),
            takes: Vec::with_capacity(1024),
            next_id: 1,
            stats: ExchangeStats::default(),
            margin_band: vec![NO_BAND; instruments.len()],
        }
    }

    /// Counters.
    pub fn stats(&self) -> ExchangeStats {
        self.stats
    }

    /// The fill configuration.
    pub fn fill_config(&self) -> &FillConfig {
        &self.fills
    }

    /// The instruments listed.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The exchange's time: the latest exchange time it has seen.
    pub fn now(&self) -> UnixNanos {
        self.clock
    }

    /// The wallet balance (after fees, funding, realized PnL).
    pub fn wallet(&self) -> Money {
        self.wallet
    }

    /// The position of `sym` and its average entry (zero when flat).
    pub fn position(&self, sym: SymbolId) -> (Qty, Price) {
        self.markets
            .get(usize::from(sym.0))
            .map_or((Qty::ZERO, Price::ZERO), |m| {
                (
                    m.position.qty(),
                    m.position.avg_entry().unwrap_or(Price::ZERO),
                )
            })
    }

    /// Requests on their way, and orders held (resting and conditional).
    pub fn open(&self) -> (usize, usize) {
        (self.in_flight.len(), self.resting.len() + self.stops.len())
    }

    /// The orders the exchange holds, resting limits first: (order,
    /// exchange id, filled).
    pub fn held(&self) -> impl Iterator<Item = (Order, ExchangeOrderId, Qty)> + '_ {
        self.resting
            .iter()
            .chain(&self.stops)
            .map(|r| (r.order, r.id, r.filled))
    }

    /// The held order `client` on `symbol`.
    pub fn held_order(
        &self,
        symbol: SymbolId,
        client: ClientOrderId,
    ) -> Option<(Order, ExchangeOrderId, Qty)> {
        self.held()
            .find(|(o, _, _)| o.client == client && o.symbol == symbol)
    }

    /// Funding of `sym` comes from the data (a funding-rate file): the
    /// exchange announces none, even before the data's first row.
    pub fn funding_from_data(&mut self, sym: SymbolId) {
        if let Some(m) = self.markets.get_mut(usize::from(sym.0)) {
            m.data_funding = true;
        }
    }

    /// Takes over a limit order an earlier run's exchange had acknowledged
    /// (`filled` of it already filled): it rests again at the back of its
    /// queue. (An order that had not arrived is simply submitted again.)
    pub fn adopt(&mut self, order: Order, filled: Qty) {
        let id = self.new_id();
        let rest = Resting {
            id,
            order,
            filled,
            ahead: None,
            reached: Qty::ZERO,
        };
        // A conditional order waits off the book for its trigger.
        if order.kind.trigger().is_some() {
            self.stops.push(rest);
        } else {
            self.resting.push(rest);
        }
    }

    /// A request sent at exchange time `sent`; it arrives `latency_ms`
    /// plus `extra_ns` later, never before a request sent earlier.
    pub fn submit(&mut self, request: Request, sent: UnixNanos, extra_ns: u64) {
        let latency = u64::from(self.fills.latency_ms) * 1_000_000;
        let due = UnixNanos(sent.0.saturating_add(latency).saturating_add(extra_ns));
        let due = due.max(self.last_due);
        self.last_due = due;
        self.in_flight.push_back(InFlight { due, request });
    }

    /// Handles the next thing due at or before `t` (an arriving request
    /// or a funding time the exchange announces) into `out`; `false` when
    /// nothing is due by `t`. Call until `false` before each market input.
    #[inline]
    pub fn advance(&mut self, t: UnixNanos, out: &mut Reports) -> bool {
        let arrival = self.in_flight.front().map(|f| f.due).filter(|d| *d <= t);
        let funding = Some(self.next_funding).filter(|f| f.0 != 0 && *f <= t);
        match (arrival, funding) {
            (Some(a), f) if f.is_none_or(|f| a <= f) => {
                let Some(req) = self.in_flight.pop_front() else {
                    return false;
                };
                self.clock = self.clock.max(a);
                match req.request {
                    Request::Place(o) => self.arrive(o, out),
                    Request::Cancel { symbol, client } => self.cancel(symbol, client, out),
                }
                true
            }
            (_, Some(f)) => {
                self.clock = self.clock.max(f);
                self.announce_funding(f, out);
                true
            }
            _ => false,
        }
    }

    /// Everything still on its way arrives (the data has ended).
    pub fn finish(&mut self, out: &mut Reports) {
        while let Some(f) = self.in_flight.front() {
            let due = f.due;
            self.advance(due, out);
        }
    }

    /// Sees one market input (book ticker, depth, trade, bar, mark price,
    /// funding): updates the book, fills resting orders the market
    /// reached, triggers conditional orders, settles funding, and
    /// liquidates when the margin has run out.
    #[inline]
    pub fn on_market(&mut self, ev: &InputEvent, out: &mut Reports) {
        self.see(ev, true, out);
    }

    fn new_id(&mut self) -> ExchangeOrderId {
        let id = self.next_id;
        self.next_id += 1;
        ExchangeOrderId(id)
    }

    fn report(&self, symbol: SymbolId, body: ReportBody) -> Report {
        Report {
            symbol,
            time: self.clock,
            body,
        }
    }
}
