//! The simulated exchange of a backtest: deterministic, one thread, driven
//! by the data's exchange time. It answers the core's orders and cancels
//! with execution reports, charges funding and liquidates an account whose
//! margin has run out, keeping its own copy of the account as the real
//! exchange does.
//!
//! # The fill model (docs/backtest.md shows it with numbers)
//! - **Latency.** An order or cancel reaches the exchange at the exchange
//!   time of the input that caused it plus the latency ([`LatencyModel`]);
//!   requests arrive in the order they were sent. It meets the book as it
//!   stands after every input up to that time.
//! - **The book** is the L2 depth when the data has a synced one for the
//!   symbol, else the book ticker, else (bar data) the last bar's close
//!   quoted one tick wide with `bar_book_qty` on each side.
//! - **Market orders** walk the book level by level, each level's price
//!   moved `slippage_ticks` against the order; what the visible book does
//!   not hold fills at the last visible level's price. One report per
//!   price, the last one `FILLED`. Our fills do not consume the data's
//!   book (the next update replaces it anyway).
//! - **Limit orders** that cross take the same way up to their price; the
//!   rest rests. A post-only order that would take is refused (-5022).
//! - **Queue position.** A resting order joins the back of its price
//!   level: ahead of it is the level's visible quantity when it arrives
//!   (zero when it improves the best; unknown when it sits behind a
//!   book-ticker-only best, until the best reaches its price). Only trades
//!   at its price on its side move it forward; cancellations ahead of it
//!   are not seen, so it never moves up for them (the conservative rule).
//!   Traded quantity beyond the queue fills it, partly if need be. A trade
//!   strictly through its price, the opposite best moving strictly beyond
//!   it, or a bar whose range passes it fills the rest at once. Resting
//!   fills are maker.
//! - **Fees**: `maker_fee` / `taker_fee` × notional of each fill.
//! - **Funding**: at each funding time the symbol's position pays
//!   mark × qty × rate (longs pay a positive rate), the core's own rule.
//!   With mark-price data the data sets the rate and the times; with a
//!   funding-rate file, its rows do (at the last price before each);
//!   without either, the exchange charges `funding_rate` every
//!   `funding_interval_hours` on the mid and tells the core with a
//!   funding event.
//! - **Liquidation.** Cross margin: when the equity (wallet plus
//!   unrealized PnL at the marks) falls to the maintenance margin of the
//!   positions, open orders are cancelled and every position is closed at
//!   its mark, paying `liquidation_fee`; the reports carry
//!   [`ClientOrderId::EXCHANGE_CLOSE`].

use std::collections::VecDeque;

use autobot_engine::config::CoreConfig;
use autobot_engine::core::{Position, TopOfBook};
use autobot_engine::depth::DepthBook;
use autobot_engine::event::{
    BookTicker, CancelOrder, FundingSettled, InputBody, InputEvent, Kline, Liquidity, MarkPrice,
    NewOrder, OrderKind, OrderRejected, OrderStatus, OrderUpdate, OutputBody, OutputEvent,
    RejectReason, Request, Source, Trade,
};
use autobot_engine::types::{
    Brackets, ClientOrderId, ExchangeOrderId, Instrument, Money, MonoNanos, Price, Qty, Rate,
    Rounding, SCALE, Side, SymbolId, UnixNanos,
};
use autobot_gateways::paper::{PaperConfig, fee_of, taker_price};

use super::settings::{BacktestConfig, LatencyModel};

mod margin;
mod walk;

/// Binance's code for an order it does not know (a late cancel).
const UNKNOWN_ORDER: i32 = -2011;
/// Binance's code for a post-only order that would have taken.
const POST_ONLY_WOULD_TAKE: i32 = -5022;
/// Binance's code for a reduce-only order that would not reduce.
const REDUCE_ONLY_REJECTED: i32 = -2022;
/// Code for an order the exchange cannot price (overflow).
const UNSUPPORTED: i32 = -1;
const HOUR_NS: u64 = 3_600_000_000_000;
/// A band no mark is inside: the margin is checked on the next input.
const NO_BAND: (f64, f64) = (f64::INFINITY, f64::NEG_INFINITY);

/// Counters of the simulated exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SimStats {
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
    /// Orders and cancels refused.
    pub rejects: u64,
    /// Funding payments settled (per symbol and time).
    pub fundings: u64,
    /// Liquidations (each closes every position).
    pub liquidations: u64,
}

/// A request on its way to the exchange.
#[derive(Clone, Copy, Debug)]
enum Sent {
    New(NewOrder),
    Cancel(CancelOrder),
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    due: UnixNanos,
    request: Sent,
}

/// A limit order resting on the book.
#[derive(Clone, Copy, Debug)]
struct Resting {
    id: ExchangeOrderId,
    order: NewOrder,
    filled: Qty,
    /// Quantity ahead in the queue at our price; `None` until known.
    ahead: Option<Qty>,
}

/// The exchange's view of one symbol.
#[derive(Debug)]
struct Market {
    top: TopOfBook,
    depth: Box<DepthBook>,
    /// Close of the last bar, the price source of bar data.
    bar_close: Price,
    /// The data has book tickers or depth: bars are not quoted.
    has_book: bool,
    /// Mark, rate and next funding time from the data's mark prices.
    mark: Price,
    rate: Rate,
    next_funding: UnixNanos,
    /// The data carries mark prices (the price positions are valued at).
    data_marks: bool,
    /// The data carries funding (mark prices or funding-rate rows): the
    /// exchange announces none for the symbol.
    data_funding: bool,
    position: Position,
}

/// The simulated exchange (see the module docs for its rules).
#[derive(Debug)]
pub struct SimExchange {
    paper: PaperConfig,
    cfg: BacktestConfig,
    instruments: Vec<Instrument>,
    brackets: Vec<Brackets>,
    markets: Vec<Market>,
    wallet: Money,
    clock: UnixNanos,
    /// Smallest receive-minus-exchange gap seen (capture latency model).
    min_gap: Option<i64>,
    /// The next funding time the exchange announces (0 until data).
    next_funding: UnixNanos,
    in_flight: VecDeque<InFlight>,
    last_due: UnixNanos,
    resting: Vec<Resting>,
    /// (price, qty) of the fills of one taking order (reused).
    takes: Vec<(Price, Qty)>,
    next_id: u64,
    stats: SimStats,
    /// Per symbol, the marks (raw units) within which the margin last checked is
    /// certainly still sufficient (see `check_margin`); emptied by every
    /// fill and funding payment.
    margin_band: Vec<(f64, f64)>,
}

/// `a` is at least as good as `limit` for an order on `side`.
fn within(side: Side, price: Price, limit: Price) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

impl SimExchange {
    /// An exchange for the core's instruments and account.
    pub fn new(core: &CoreConfig, paper: &PaperConfig, cfg: &BacktestConfig) -> SimExchange {
        let markets = core
            .instruments
            .iter()
            .map(|_| Market {
                top: TopOfBook::default(),
                depth: Box::new(DepthBook::new()),
                bar_close: Price::ZERO,
                has_book: false,
                mark: Price::ZERO,
                rate: Rate::ZERO,
                next_funding: UnixNanos(0),
                data_marks: false,
                data_funding: false,
                position: Position::default(),
            })
            .collect();
        SimExchange {
            paper: paper.clone(),
            cfg: cfg.clone(),
            instruments: core.instruments.clone(),
            brackets: core.brackets.clone(),
            markets,
            wallet: core.account.starting_balance,
            clock: UnixNanos(0),
            min_gap: None,
            next_funding: UnixNanos(0),
            in_flight: VecDeque::with_capacity(256),
            last_due: UnixNanos(0),
            resting: Vec::with_capacity(256),
            takes: Vec::with_capacity(1024),
            next_id: 1,
            stats: SimStats::default(),
            margin_band: vec![NO_BAND; core.instruments.len()],
        }
    }

    /// Funding of `sym` comes from the data (a funding-rate file): the
    /// exchange announces none, even before the data's first row.
    pub fn funding_from_data(&mut self, sym: SymbolId) {
        if let Some(m) = self.markets.get_mut(usize::from(sym.0)) {
            m.data_funding = true;
        }
    }

    /// Counters.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// The exchange's wallet balance (after fees, funding, realized PnL).
    pub fn wallet(&self) -> Money {
        self.wallet
    }

    /// The exchange's position of `sym`.
    pub fn position(&self, sym: SymbolId) -> Qty {
        self.markets
            .get(usize::from(sym.0))
            .map_or(Qty::ZERO, |m| m.position.qty())
    }

    /// Requests still on their way, and limit orders resting.
    pub fn open(&self) -> (usize, usize) {
        (self.in_flight.len(), self.resting.len())
    }

    /// The time of the next thing due at or before `t` (an arriving
    /// request or an announced funding time), handled into `reports`;
    /// `false` when nothing is due by `t`.
    pub fn advance(&mut self, t: UnixNanos, reports: &mut VecDeque<InputEvent>) -> bool {
        let arrival = self.in_flight.front().map(|f| f.due).filter(|d| *d <= t);
        let funding = Some(self.next_funding).filter(|f| f.0 != 0 && *f <= t);
        match (arrival, funding) {
            (Some(a), f) if f.is_none_or(|f| a <= f) => {
                let Some(req) = self.in_flight.pop_front() else {
                    return false;
                };
                self.clock = self.clock.max(a);
                match req.request {
                    Sent::New(o) => self.arrive(o, reports),
                    Sent::Cancel(c) => self.cancel(c, reports),
                }
                true
            }
            (_, Some(f)) => {
                self.clock = self.clock.max(f);
                self.announce_funding(f, reports);
                true
            }
            _ => false,
        }
    }

    /// Everything still on its way arrives (the data has ended).
    pub fn finish(&mut self, reports: &mut VecDeque<InputEvent>) {
        while let Some(f) = self.in_flight.front() {
            let due = f.due;
            self.advance(due, reports);
        }
    }

    /// Takes one output of the core, caused by an input at `cause_time`
    /// whose feed gap (receive minus exchange time) was `gap_ns`.
    pub fn on_output(&mut self, out: &OutputEvent, cause_time: UnixNanos, gap_ns: Option<i64>) {
        let request = match out.body {
            OutputBody::NewOrder(o) => Sent::New(o),
            OutputBody::Cancel(c) => Sent::Cancel(c),
            _ => return,
        };
        let mut latency = u64::from(self.paper.latency_ms) * 1_000_000;
        if self.cfg.latency == LatencyModel::Capture
            && let (Some(gap), Some(min)) = (gap_ns, self.min_gap)
        {
            latency = latency.saturating_add(u64::try_from(gap - min).unwrap_or(0));
        }
        // Requests arrive in the order they were sent.
        let due = UnixNanos(cause_time.0.saturating_add(latency)).max(self.last_due);
        self.last_due = due;
        self.in_flight.push_back(InFlight { due, request });
    }

    /// The feed gap of an input (receive minus exchange time), tracked for
    /// the capture latency model; `None` for inputs without a receive time.
    pub fn observe_gap(&mut self, ev: &InputEvent) -> Option<i64> {
        if ev.header.recv.0 == 0 || ev.header.exchange.0 == 0 {
            return None;
        }
        let gap = i64::try_from(ev.header.recv.0)
            .ok()?
            .checked_sub(i64::try_from(ev.header.exchange.0).ok()?)?;
        self.min_gap = Some(self.min_gap.map_or(gap, |m| m.min(gap)));
        Some(gap)
    }

    /// Sees one market input after the core has: updates the book, fills
    /// resting orders the market reached, settles funding, and liquidates
    /// when the margin has run out.
    pub fn on_market(&mut self, ev: &InputEvent, reports: &mut VecDeque<InputEvent>) {
        self.see(ev, true, reports);
    }

    /// Sees the quote `bar_quote` made, after the core has: as a data
    /// book ticker, except that bars stay the symbol's price source.
    pub fn on_bar_quote(&mut self, ev: &InputEvent, reports: &mut VecDeque<InputEvent>) {
        self.see(ev, false, reports);
    }

    fn see(&mut self, ev: &InputEvent, data: bool, reports: &mut VecDeque<InputEvent>) {
        let t = ev.header.exchange;
        self.clock = self.clock.max(t);
        if self.next_funding.0 == 0 && t.0 != 0 {
            let interval = u64::from(self.cfg.funding_interval_hours) * HOUR_NS;
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
                    self.on_top(sym, top, reports);
                }
            }
            InputBody::Depth(d) => {
                let m = &mut self.markets[i];
                m.has_book = true;
                let _ = m.depth.on_part(d);
            }
            InputBody::AggTrade(tr) => self.on_trade(sym, tr, reports),
            InputBody::Kline(k) => self.on_bar(sym, k, reports),
            InputBody::MarkPrice(mp) => self.on_mark(sym, mp),
            InputBody::Funding(f) => {
                self.markets[i].data_funding = true;
                self.settle_funding(i, f.mark, f.rate);
            }
            _ => return,
        }
        let inside = self.margin_band.get(i).is_some_and(|&(lo, hi)| {
            self.mark_of(i).is_some_and(|m| {
                let m = m.raw() as f64;
                lo <= m && m <= hi
            })
        });
        if !inside {
            self.check_margin(reports);
        }
    }

    /// A synthetic book ticker quoting a bar's close, for bar data without
    /// a book (`None` once the symbol has a book, or for a bad bar).
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
            bid_qty: self.cfg.bar_book_qty,
            ask_price: ask,
            ask_qty: self.cfg.bar_book_qty,
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

    fn new_id(&mut self) -> ExchangeOrderId {
        let id = self.next_id;
        self.next_id += 1;
        ExchangeOrderId(id)
    }

    fn on_top(
        &mut self,
        sym: SymbolId,
        (bid, bid_qty, ask, ask_qty): (Price, Qty, Price, Qty),
        reports: &mut VecDeque<InputEvent>,
    ) {
        let mut k = 0;
        while k < self.resting.len() {
            let r = &mut self.resting[k];
            if r.order.symbol != sym {
                k += 1;
                continue;
            }
            let (through, best, best_qty) = match r.order.side {
                Side::Buy => (ask < r.order.price, bid, bid_qty),
                Side::Sell => (bid > r.order.price, ask, ask_qty),
            };
            if through {
                let rest = Qty::from_raw(r.order.qty.raw() - r.filled.raw());
                if self.fill_resting(k, rest, reports) {
                    continue;
                }
            } else if r.ahead.is_none() && best == r.order.price {
                r.ahead = Some(best_qty);
            }
            k += 1;
        }
    }

    fn on_trade(&mut self, sym: SymbolId, tr: &Trade, reports: &mut VecDeque<InputEvent>) {
        let mut k = 0;
        while k < self.resting.len() {
            let r = self.resting[k];
            if r.order.symbol != sym {
                k += 1;
                continue;
            }
            let rest = r.order.qty.raw() - r.filled.raw();
            let (through, at_our_side) = match r.order.side {
                Side::Buy => (tr.price < r.order.price, tr.buyer_is_maker),
                Side::Sell => (tr.price > r.order.price, !tr.buyer_is_maker),
            };
            let fill = if through {
                rest
            } else if tr.price == r.order.price && at_our_side {
                match r.ahead {
                    Some(ahead) if tr.qty <= ahead => {
                        self.resting[k].ahead = Some(Qty::from_raw(ahead.raw() - tr.qty.raw()));
                        0
                    }
                    Some(ahead) => {
                        self.resting[k].ahead = Some(Qty::ZERO);
                        (tr.qty.raw() - ahead.raw()).min(rest)
                    }
                    None => 0,
                }
            } else {
                0
            };
            if fill > 0 && self.fill_resting(k, Qty::from_raw(fill), reports) {
                continue;
            }
            k += 1;
        }
    }

    fn on_bar(&mut self, sym: SymbolId, bar: &Kline, reports: &mut VecDeque<InputEvent>) {
        let i = usize::from(sym.0);
        self.markets[i].bar_close = bar.close;
        let mut k = 0;
        while k < self.resting.len() {
            let r = self.resting[k];
            let through = r.order.symbol == sym
                && match r.order.side {
                    Side::Buy => bar.low < r.order.price,
                    Side::Sell => bar.high > r.order.price,
                };
            let rest = Qty::from_raw(r.order.qty.raw() - r.filled.raw());
            if through && self.fill_resting(k, rest, reports) {
                continue;
            }
            k += 1;
        }
    }

    /// Mark prices from the data: funding follows them as the core's does.
    fn on_mark(&mut self, sym: SymbolId, mp: &MarkPrice) {
        let i = usize::from(sym.0);
        self.markets[i].data_marks = true;
        self.markets[i].data_funding = true;
        if mp.mark_price.is_positive() {
            self.apply_mark(i, mp);
        }
    }

    /// A mark-price event for symbol `i`, by the core's rule: a later
    /// funding time than the one announced settles the announced one at
    /// the last mark and rate, then the event's become the current ones.
    fn apply_mark(&mut self, i: usize, mp: &MarkPrice) {
        let m = &self.markets[i];
        if m.next_funding.0 != 0 && mp.next_funding > m.next_funding {
            self.settle_funding(i, m.mark, m.rate);
        }
        let m = &mut self.markets[i];
        m.mark = mp.mark_price;
        m.rate = mp.funding_rate;
        m.next_funding = mp.next_funding;
    }

    /// Funding on symbol `i`'s position at `mark` and `rate`: exactly what
    /// the core books for the same events.
    fn settle_funding(&mut self, i: usize, mark: Price, rate: Rate) {
        let qty = self.markets[i].position.qty();
        if qty.is_zero() || !mark.is_positive() {
            return;
        }
        let amount = Money::notional(mark, qty, Rounding::HalfEven)
            .and_then(|n| n.mul_ratio(-rate.raw(), SCALE, Rounding::HalfEven));
        if let Some(a) = amount
            && let Some(w) = self.wallet.checked_add(a)
        {
            self.margin_band.fill(NO_BAND);
            self.wallet = w;
            self.stats.fundings += 1;
        }
    }

    /// Funding time `at` passed on markets without funding data: the
    /// exchange settles it at the configured rate on the mid and tells the
    /// core, whose mark is left alone; the next time is `at` plus the
    /// interval.
    fn announce_funding(&mut self, at: UnixNanos, reports: &mut VecDeque<InputEvent>) {
        let interval = u64::from(self.cfg.funding_interval_hours) * HOUR_NS;
        let next = UnixNanos(at.0.saturating_add(interval));
        self.next_funding = next;
        if self.cfg.funding_rate == Rate::ZERO {
            return;
        }
        for i in 0..self.markets.len() {
            let Some(mark) = self.mark_of(i) else {
                continue;
            };
            if self.markets[i].data_funding {
                continue;
            }
            let sym = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
            let rate = self.cfg.funding_rate;
            self.settle_funding(i, mark, rate);
            let mut ev = self.report(sym, InputBody::Funding(FundingSettled { mark, rate }));
            ev.header.source = Source::MarketData;
            reports.push_back(ev);
        }
    }

    /// An order reaches the exchange.
    fn arrive(&mut self, o: NewOrder, reports: &mut VecDeque<InputEvent>) {
        self.stats.orders += 1;
        let i = usize::from(o.symbol.0);
        let Some(tick) = self.instruments.get(i).map(|ins| ins.tick_size) else {
            self.reject(
                o.client_id,
                o.symbol,
                UNSUPPORTED,
                RejectReason::Other,
                reports,
            );
            return;
        };
        let m = &self.markets[i];
        let l2 = m.depth.is_synced() && !m.depth.asks().is_empty() && !m.depth.bids().is_empty();
        if !(m.top.is_valid() || l2) {
            self.reject(o.client_id, o.symbol, 0, RejectReason::NoLiquidity, reports);
            return;
        }
        let held = m.position.qty().raw();
        let reduces = held != 0 && held.signum() == -o.side.sign() && o.qty.raw() <= held.abs();
        if o.reduce_only && !reduces {
            let code = REDUCE_ONLY_REJECTED;
            self.reject(o.client_id, o.symbol, code, RejectReason::Other, reports);
            return;
        }
        let limit = (o.kind == OrderKind::Limit).then_some(o.price);
        let taken = self.walk(i, o.side, o.qty, limit);
        if o.post_only && taken.is_positive() {
            let code = POST_ONLY_WOULD_TAKE;
            self.reject(o.client_id, o.symbol, code, RejectReason::Other, reports);
            return;
        }
        let id = self.new_id();
        let slip = i64::from(self.paper.slippage_ticks) * tick.raw();
        let mut cum = Qty::ZERO;
        for k in 0..self.takes.len() {
            let (level, q) = self.takes[k];
            let Some(price) = taker_price(o.side, level, slip, limit) else {
                self.reject(
                    o.client_id,
                    o.symbol,
                    UNSUPPORTED,
                    RejectReason::Filter,
                    reports,
                );
                return;
            };
            cum = Qty::from_raw(cum.raw() + q.raw());
            let status = if cum == o.qty {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            self.fill(&o, id, status, price, q, cum, Liquidity::Taker, reports);
        }
        if cum == o.qty {
            return;
        }
        // A limit order rests with what it did not take.
        self.stats.rested += 1;
        let ahead = if cum.is_positive() {
            Some(Qty::ZERO)
        } else {
            self.queue_at(i, o.side, o.price)
        };
        if cum.is_zero() {
            let u = self.update(&o, id, OrderStatus::Accepted, Qty::ZERO);
            reports.push_back(self.report(o.symbol, InputBody::OrderUpdate(u)));
        }
        self.resting.push(Resting {
            id,
            order: o,
            filled: cum,
            ahead,
        });
    }

    /// Fills `qty` of resting order `k` at its price as maker; `true` when
    /// that completed it (it was removed, so `k` now names the next one).
    fn fill_resting(&mut self, k: usize, qty: Qty, reports: &mut VecDeque<InputEvent>) -> bool {
        let r = self.resting[k];
        let cum = Qty::from_raw(r.filled.raw() + qty.raw());
        let done = cum == r.order.qty;
        let status = if done {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        self.stats.maker_fills += 1;
        let (o, price) = (r.order, r.order.price);
        self.fill(&o, r.id, status, price, qty, cum, Liquidity::Maker, reports);
        if done {
            self.resting.swap_remove(k);
        } else {
            self.resting[k].filled = cum;
        }
        done
    }

    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        o: &NewOrder,
        id: ExchangeOrderId,
        status: OrderStatus,
        price: Price,
        qty: Qty,
        cum: Qty,
        liquidity: Liquidity,
        reports: &mut VecDeque<InputEvent>,
    ) {
        let rate = match liquidity {
            Liquidity::Maker => self.paper.maker_fee,
            _ => self.paper.taker_fee,
        };
        let fee = fee_of(price, qty, rate).unwrap_or(Money::ZERO);
        self.stats.fills += 1;
        self.book_fill(usize::from(o.symbol.0), o.side, price, qty, fee);
        let u = OrderUpdate {
            client_id: o.client_id,
            exchange_id: id,
            status,
            side: o.side,
            liquidity,
            last_price: price,
            last_qty: qty,
            cum_qty: cum,
            fee,
        };
        reports.push_back(self.report(o.symbol, InputBody::OrderUpdate(u)));
    }

    fn update(
        &self,
        o: &NewOrder,
        id: ExchangeOrderId,
        status: OrderStatus,
        cum: Qty,
    ) -> OrderUpdate {
        OrderUpdate {
            client_id: o.client_id,
            exchange_id: id,
            status,
            side: o.side,
            liquidity: Liquidity::None,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            cum_qty: cum,
            fee: Money::ZERO,
        }
    }

    /// A cancel reaches the exchange: a resting order is taken off the
    /// book; anything else is unknown by now (-2011).
    fn cancel(&mut self, c: CancelOrder, reports: &mut VecDeque<InputEvent>) {
        let Some(k) = self
            .resting
            .iter()
            .position(|r| r.order.client_id == c.client_id)
        else {
            self.stats.rejects += 1;
            let body = InputBody::OrderRejected(OrderRejected {
                client_id: c.client_id,
                request: Request::Cancel,
                code: UNKNOWN_ORDER,
                reason: RejectReason::Other,
            });
            reports.push_back(self.report(c.symbol, body));
            return;
        };
        let r = self.resting.swap_remove(k);
        self.stats.cancelled += 1;
        let u = self.update(&r.order, r.id, OrderStatus::Cancelled, r.filled);
        reports.push_back(self.report(c.symbol, InputBody::OrderUpdate(u)));
    }

    fn reject(
        &mut self,
        client_id: ClientOrderId,
        symbol: SymbolId,
        code: i32,
        reason: RejectReason,
        reports: &mut VecDeque<InputEvent>,
    ) {
        self.stats.rejects += 1;
        let body = InputBody::OrderRejected(OrderRejected {
            client_id,
            request: Request::New,
            code,
            reason,
        });
        reports.push_back(self.report(symbol, body));
    }

    fn report(&self, symbol: SymbolId, body: InputBody) -> InputEvent {
        InputEvent::new(Source::Execution, symbol, MonoNanos(0), self.clock, body)
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
