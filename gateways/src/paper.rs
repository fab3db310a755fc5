//! Paper execution: fills the core's orders against the book the engine has
//! seen, and feeds the results back as input events.
//!
//! # What it owns
//! A top of book per symbol, kept from the input ring's last-stage view
//! (events the core has already processed), a market clock (the latest
//! exchange time the view has passed), the orders on their way to the
//! paper exchange, the resting limit orders, and a queue of execution
//! reports waiting for room in the input ring.
//!
//! # Rules
//! - **Arrival.** An order reaches the exchange once the view has passed
//!   the input that caused it and then `latency_ms` more of market time
//!   (exchange timestamps, so a replayed capture sees the same latency at
//!   any speed). It meets the book of that moment.
//! - **Market orders** fill completely at the opposite best price, moved
//!   `slippage_ticks` against the order, paying `taker_fee` × notional.
//! - **Limit orders** that cross the book on arrival take at the opposite
//!   best (plus slippage, never beyond the limit) as taker, except post-only
//!   ones, which are refused with Binance's -5022. Otherwise the order is
//!   acknowledged (`NEW`, `Accepted`) and rests; it fills completely at its limit price
//!   as maker (`maker_fee`) once the market trades through it: a trade
//!   printed strictly beyond the price, or the opposite best moving strictly
//!   beyond it. A trade *at* the price does not fill it: the queue ahead is
//!   unknown, so this is the conservative rule (the exchange simulator uses
//!   the same one, [`traded_through`]).
//! - No book for the symbol → `OrderRejected` (`NoLiquidity`).
//! - A cancel takes back an order on its way or resting (`Cancelled`); an
//!   order already filled is unknown by then, and the cancel is refused with
//!   Binance's -2011.
//!
//! # Never blocking the pipeline
//! This thread consumes both rings and publishes into the input ring, so it
//! never waits on a full ring: reports queue locally (bounded by the core's
//! open-order table) and are published with `try_publish` between polls.

use std::collections::VecDeque;

use crate::binance::market::ResyncRequests;
use autobot_engine::config::{RangeError, Validate};
use autobot_engine::core::TopOfBook;
use autobot_engine::event::{
    AlertCode, InputBody, InputEvent, Liquidity, NewOrder, OrderKind, OrderRejected, OrderStatus,
    OrderUpdate, OutputBody, OutputEvent, RejectReason, Request, Source, SystemState,
};
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::runtime::{
    InputPublisher, InputView, LatencyRecorder, OutputReader, RingReader, Waiter,
};
use autobot_engine::types::{
    ClientOrderId, ExchangeOrderId, Instrument, Money, Price, Qty, Rate, Rounding, SCALE, Seq,
    Side, SymbolId, UnixNanos,
};
use serde::Deserialize;

/// Binance's code for an order it does not know (used for refused cancels).
const UNKNOWN_ORDER: i32 = -2011;
/// Binance's code for a post-only order that would have taken.
const POST_ONLY_WOULD_TAKE: i32 = -5022;
/// Code for an order paper execution cannot price (no instrument, overflow).
const UNSUPPORTED: i32 = -1;

/// Whether the market traded through a resting limit at `limit`: a trade
/// strictly beyond it, or the opposite best strictly beyond it. A print at
/// the price proves nothing about our place in the queue.
pub(crate) fn traded_through(
    side: Side,
    limit: Price,
    trade: Option<Price>,
    top: Option<(Price, Price)>,
) -> bool {
    match side {
        Side::Buy => trade.is_some_and(|t| t < limit) || top.is_some_and(|(_, a)| a < limit),
        Side::Sell => trade.is_some_and(|t| t > limit) || top.is_some_and(|(b, _)| b > limit),
    }
}

/// `[paper]`: paper execution.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaperConfig {
    /// Taker fee as a fraction of notional, e.g. `"0.0004"` (0 ..= 0.01).
    pub taker_fee: Rate,
    /// Maker fee as a fraction of notional, e.g. `"0.0002"` (-0.001 ..= 0.01;
    /// negative is a rebate).
    pub maker_fee: Rate,
    /// Ticks of adverse slippage added to every taking fill (0 ..= 1000).
    pub slippage_ticks: u32,
    /// Market time between an order's cause and its arrival at the paper
    /// exchange, in ms of exchange time (0 ..= 60000).
    pub latency_ms: u32,
}

impl Validate for PaperConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let rate = |s| Rate::parse(s).unwrap_or(Rate::ZERO);
        for (key, v, lo, hi) in [
            ("taker_fee", self.taker_fee, Rate::ZERO, rate("0.01")),
            ("maker_fee", self.maker_fee, rate("-0.001"), rate("0.01")),
        ] {
            if v < lo || v > hi {
                return Err(RangeError::new(at, key, v, format!("{lo} ..= {hi}")));
            }
        }
        autobot_engine::config::check_range(at, "slippage_ticks", self.slippage_ticks, 0, 1000)?;
        autobot_engine::config::check_range(at, "latency_ms", self.latency_ms, 0, 60_000)
    }
}

/// Counters of the paper exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperStats {
    /// Orders received.
    pub orders: u64,
    /// Fills sent.
    pub fills: u64,
    /// Of which limit orders filled resting (maker).
    pub maker_fills: u64,
    /// Limit orders that rested (acknowledged `NEW`).
    pub rested: u64,
    /// Cancels that took an order back.
    pub cancelled: u64,
    /// Rejections sent.
    pub rejects: u64,
    /// Most reports waiting for ring space at once.
    pub max_backlog: usize,
}

/// An order on its way to the paper exchange.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    /// The input that caused it.
    cause: Seq,
    /// Arrival time on the market clock, set once the view passes `cause`.
    due: Option<UnixNanos>,
    order: NewOrder,
}

/// A limit order resting at the paper exchange.
#[derive(Clone, Copy, Debug)]
struct Resting {
    id: ExchangeOrderId,
    order: NewOrder,
}

/// The paper exchange's state (no threads; see [`run`] for the loop).
#[derive(Debug)]
pub struct PaperExchange {
    cfg: PaperConfig,
    instruments: Vec<Instrument>,
    books: Vec<TopOfBook>,
    /// Sequence the view will deliver next (the view sees every input in order).
    view_seq: Seq,
    /// Latest exchange time among the inputs the view has passed.
    clock: UnixNanos,
    next_order_id: u64,
    /// In cause order; arrival times are non-decreasing along it.
    in_flight: VecDeque<InFlight>,
    resting: Vec<Resting>,
    stats: PaperStats,
}

/// The fee of a fill: `rate` × notional, rounded half-even (shared with
/// the backtest's exchange, so both charge the same cents).
pub fn fee_of(price: Price, qty: Qty, rate: Rate) -> Option<Money> {
    Money::notional(price, qty, Rounding::HalfEven)?.mul_ratio(
        rate.raw(),
        SCALE,
        Rounding::HalfEven,
    )
}

/// The price a taking fill of an order on `side` gets at book price
/// `price`: moved `slip` (raw) against the order, but never beyond the
/// order's `limit`; `None` when slippage would take a sell below zero
/// (shared with the backtest's exchange, so both slip alike).
pub fn taker_price(side: Side, price: Price, slip: i64, limit: Option<Price>) -> Option<Price> {
    let p = match side {
        Side::Buy => price.raw().checked_add(slip)?,
        Side::Sell => price.raw().checked_sub(slip).filter(|p| *p > 0)?,
    };
    Some(Price::from_raw(match (limit, side) {
        (Some(l), Side::Buy) => p.min(l.raw()),
        (Some(l), Side::Sell) => p.max(l.raw()),
        (None, _) => p,
    }))
}

impl PaperExchange {
    /// A paper exchange for these instruments whose view starts at input
    /// `first_seq` (zero for a new journal, its next sequence on resume).
    pub fn new(cfg: &PaperConfig, instruments: &[Instrument], first_seq: Seq) -> PaperExchange {
        PaperExchange {
            cfg: cfg.clone(),
            instruments: instruments.to_vec(),
            books: vec![TopOfBook::default(); instruments.len()],
            view_seq: first_seq,
            clock: UnixNanos(0),
            next_order_id: 1,
            in_flight: VecDeque::with_capacity(1024),
            resting: Vec::with_capacity(256),
            stats: PaperStats::default(),
        }
    }

    /// Takes over orders that were open when an earlier run stopped: limit
    /// orders the exchange acknowledged rest again; the others are on their
    /// way and meet the first book this run sees.
    pub fn adopt(&mut self, open: &[autobot_engine::core::OpenOrder]) {
        use autobot_engine::core::OrderState;
        for o in open {
            // Paper fills are always complete, so an order still open was
            // never partly filled: its remaining quantity is all of it, and
            // the report's cumulative quantity stays consistent.
            debug_assert!(o.filled.is_zero());
            let order = NewOrder {
                client_id: o.client_id,
                symbol: o.symbol,
                side: o.side,
                kind: o.kind,
                reduce_only: o.reduce_only,
                post_only: o.post_only,
                price: if o.kind == OrderKind::Limit {
                    o.price
                } else {
                    Price::ZERO
                },
                qty: Qty::from_raw(o.qty.raw() - o.filled.raw()),
            };
            if o.kind == OrderKind::Limit && o.state == OrderState::Accepted {
                let id = self.new_id();
                self.resting.push(Resting { id, order });
            } else {
                // Due once the view has passed this run's first input.
                self.in_flight.push_back(InFlight {
                    cause: self.view_seq,
                    due: None,
                    order,
                });
            }
        }
    }

    /// Counters.
    pub fn stats(&self) -> PaperStats {
        self.stats
    }

    /// Sees one input event the core has processed. Fills resting orders
    /// the market traded through (reports go to `reports`).
    pub fn on_market(&mut self, ev: &InputEvent, reports: &mut VecDeque<InputEvent>) {
        self.view_seq = self.view_seq.next();
        if ev.header.exchange > self.clock {
            self.clock = ev.header.exchange;
        }
        let sym = ev.header.symbol;
        let (trade, top) = match &ev.body {
            InputBody::BookTicker(t) => {
                let Some(book) = self.books.get_mut(usize::from(sym.0)) else {
                    return;
                };
                // Refusals (crossed, stale) are the core's to count; keep the
                // last good book.
                if book.apply(t, ev.header.exchange).is_err() {
                    return;
                }
                (None, Some((book.bid_price, book.ask_price)))
            }
            InputBody::AggTrade(t) => (Some(t.price), None),
            _ => return,
        };
        let mut i = 0;
        while i < self.resting.len() {
            let r = self.resting[i];
            if r.order.symbol != sym || !traded_through(r.order.side, r.order.price, trade, top) {
                i += 1;
                continue;
            }
            self.resting.swap_remove(i);
            self.stats.maker_fills += 1;
            self.fill(r.order, r.id, r.order.price, Liquidity::Maker, reports);
        }
    }

    /// Takes one output of the core; reports go to `reports`.
    pub fn on_output(&mut self, out: &OutputEvent, reports: &mut VecDeque<InputEvent>) {
        match out.body {
            OutputBody::NewOrder(o) => {
                self.stats.orders += 1;
                self.in_flight.push_back(InFlight {
                    cause: out.cause,
                    due: None,
                    order: o,
                });
            }
            OutputBody::Cancel(c) => self.cancel(c.client_id, c.symbol, reports),
            OutputBody::Alert(_)
            | OutputBody::StateChange(_)
            | OutputBody::Audit(_)
            | OutputBody::ModeChange(_)
            | OutputBody::Funding(_)
            | OutputBody::Signal(_)
            | OutputBody::Regime(_)
            | OutputBody::Weight(_) => {}
        }
        self.match_waiting(reports);
    }

    /// Lets orders arrive whose cause the view has passed and whose latency
    /// has run out on the market clock.
    pub fn match_waiting(&mut self, reports: &mut VecDeque<InputEvent>) {
        let latency = u64::from(self.cfg.latency_ms) * 1_000_000;
        for f in self.in_flight.iter_mut() {
            if f.cause >= self.view_seq {
                break;
            }
            if f.due.is_none() {
                f.due = Some(UnixNanos(self.clock.0.saturating_add(latency)));
            }
        }
        while let Some(&f) = self.in_flight.front() {
            match f.due {
                Some(due) if due <= self.clock => {
                    self.in_flight.pop_front();
                    self.arrive(f.order, reports);
                }
                _ => return,
            }
        }
    }

    /// Orders on their way (not yet at the exchange). Resting orders are
    /// not counted: they stay at the exchange when the run stops.
    pub fn waiting(&self) -> usize {
        self.in_flight.len()
    }

    /// Limit orders resting at the paper exchange.
    pub fn resting(&self) -> usize {
        self.resting.len()
    }

    fn new_id(&mut self) -> ExchangeOrderId {
        let id = self.next_order_id;
        self.next_order_id += 1;
        ExchangeOrderId(id)
    }

    /// The order meets the book.
    fn arrive(&mut self, o: NewOrder, reports: &mut VecDeque<InputEvent>) {
        let idx = usize::from(o.symbol.0);
        let (Some(&book), Some(tick)) = (
            self.books.get(idx),
            self.instruments.get(idx).map(|i| i.tick_size),
        ) else {
            self.reject(
                o.client_id,
                o.symbol,
                UNSUPPORTED,
                RejectReason::Other,
                reports,
            );
            return;
        };
        let Some(best) = book.taking_price(o.side) else {
            self.reject(o.client_id, o.symbol, 0, RejectReason::NoLiquidity, reports);
            return;
        };
        let crosses = match o.side {
            Side::Buy => best <= o.price,
            Side::Sell => best >= o.price,
        };
        if o.kind == OrderKind::Limit && !crosses {
            let id = self.new_id();
            self.stats.rested += 1;
            self.resting.push(Resting { id, order: o });
            let ack = OrderUpdate {
                client_id: o.client_id,
                exchange_id: id,
                status: OrderStatus::Accepted,
                side: o.side,
                liquidity: Liquidity::None,
                last_price: Price::ZERO,
                last_qty: Qty::ZERO,
                cum_qty: Qty::ZERO,
                fee: Money::ZERO,
            };
            reports.push_back(report(
                o.symbol,
                book.exchange_time,
                InputBody::OrderUpdate(ack),
            ));
            return;
        }
        if o.kind == OrderKind::Limit && o.post_only {
            self.reject(
                o.client_id,
                o.symbol,
                POST_ONLY_WOULD_TAKE,
                RejectReason::Other,
                reports,
            );
            return;
        }
        let slip = i64::from(self.cfg.slippage_ticks) * tick.raw();
        let limit = (o.kind == OrderKind::Limit).then_some(o.price);
        let Some(price) = taker_price(o.side, best, slip, limit) else {
            self.reject(
                o.client_id,
                o.symbol,
                UNSUPPORTED,
                RejectReason::Filter,
                reports,
            );
            return;
        };
        let id = self.new_id();
        self.fill(o, id, price, Liquidity::Taker, reports);
    }

    /// Reports `o` filled completely at `price`.
    fn fill(
        &mut self,
        o: NewOrder,
        id: ExchangeOrderId,
        price: Price,
        liquidity: Liquidity,
        reports: &mut VecDeque<InputEvent>,
    ) {
        let rate = match liquidity {
            Liquidity::Maker => self.cfg.maker_fee,
            _ => self.cfg.taker_fee,
        };
        let Some(fee) = fee_of(price, o.qty, rate) else {
            self.reject(
                o.client_id,
                o.symbol,
                UNSUPPORTED,
                RejectReason::Filter,
                reports,
            );
            return;
        };
        self.stats.fills += 1;
        let update = OrderUpdate {
            client_id: o.client_id,
            exchange_id: id,
            status: OrderStatus::Filled,
            side: o.side,
            liquidity,
            last_price: price,
            last_qty: o.qty,
            cum_qty: o.qty,
            fee,
        };
        let exchange = self.time_of(o.symbol);
        reports.push_back(report(o.symbol, exchange, InputBody::OrderUpdate(update)));
    }

    fn time_of(&self, symbol: SymbolId) -> UnixNanos {
        self.books
            .get(usize::from(symbol.0))
            .map_or(UnixNanos(0), |b| b.exchange_time)
    }

    /// Cancels an order on its way or resting; one already filled is
    /// unknown to the exchange by now, so the cancel is refused as Binance
    /// refuses it (-2011).
    fn cancel(
        &mut self,
        client_id: ClientOrderId,
        symbol: SymbolId,
        reports: &mut VecDeque<InputEvent>,
    ) {
        let taken = if let Some(at) = self
            .in_flight
            .iter()
            .position(|f| f.order.client_id == client_id)
        {
            self.in_flight
                .remove(at)
                .map(|f| (ExchangeOrderId(0), f.order))
        } else if let Some(at) = self
            .resting
            .iter()
            .position(|r| r.order.client_id == client_id)
        {
            let r = self.resting.swap_remove(at);
            Some((r.id, r.order))
        } else {
            None
        };
        let Some((exchange_id, o)) = taken else {
            self.refuse(
                client_id,
                symbol,
                UNKNOWN_ORDER,
                RejectReason::Other,
                Request::Cancel,
                reports,
            );
            return;
        };
        self.stats.cancelled += 1;
        let update = OrderUpdate {
            client_id,
            exchange_id,
            status: OrderStatus::Cancelled,
            side: o.side,
            liquidity: Liquidity::None,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            fee: Money::ZERO,
        };
        let exchange = self.time_of(symbol);
        reports.push_back(report(symbol, exchange, InputBody::OrderUpdate(update)));
    }

    fn reject(
        &mut self,
        client_id: ClientOrderId,
        symbol: SymbolId,
        code: i32,
        reason: RejectReason,
        reports: &mut VecDeque<InputEvent>,
    ) {
        self.refuse(client_id, symbol, code, reason, Request::New, reports);
    }

    fn refuse(
        &mut self,
        client_id: ClientOrderId,
        symbol: SymbolId,
        code: i32,
        reason: RejectReason,
        request: Request,
        reports: &mut VecDeque<InputEvent>,
    ) {
        self.stats.rejects += 1;
        let exchange = self.time_of(symbol);
        let body = InputBody::OrderRejected(OrderRejected {
            client_id,
            request,
            code,
            reason,
        });
        reports.push_back(report(symbol, exchange, body));
    }
}

/// Publishes queued reports until the input ring is full; `true` if any
/// went out. Execution threads consume the output ring and must never
/// block on the input ring (the core may be waiting on them).
pub(crate) fn publish_queued(p: &mut InputPublisher, reports: &mut VecDeque<InputEvent>) -> bool {
    let mut any = false;
    while let Some(ev) = reports.front() {
        if !p.try_publish(ev) {
            break;
        }
        reports.pop_front();
        any = true;
    }
    any
}

fn report(symbol: SymbolId, exchange: UnixNanos, body: InputBody) -> InputEvent {
    InputEvent::new(Source::Execution, symbol, mono_now(), exchange, body)
}

/// Runs the paper exchange on the calling thread until both rings close.
/// Drops `publisher` after the core reports `Stopped` and every report is
/// out, which lets the input ring shut down (see the runtime's shutdown docs).
/// The core's `BookResync` alerts are passed on to `resync` (the market
/// gateway fetches the snapshot). An order taken from the output ring is
/// "sent" (handed to the paper exchange) for the `tick_to_order` stage in
/// `latency`.
pub fn run(
    mut exchange: PaperExchange,
    mut outputs: OutputReader,
    mut view: InputView,
    publisher: InputPublisher,
    mut waiter: Waiter,
    resync: &ResyncRequests,
    mut latency: LatencyRecorder,
) -> PaperStats {
    let halt = publisher.halt_flag();
    let mut publisher = Some(publisher);
    let mut reports: VecDeque<InputEvent> = VecDeque::with_capacity(1024);
    let mut stopped = false;
    let (mut view_open, mut outputs_open) = (true, true);
    while view_open || outputs_open {
        if halt.is_halted() {
            // A stage failed: the rings will not drain; stop consuming them.
            break;
        }
        let mut progress = false;
        if view_open {
            let seen = view.with_batch(u64::MAX, |evs| {
                evs.for_each(|e| exchange.on_market(e, &mut reports));
            });
            match seen {
                Ok(Some(())) => {
                    progress = true;
                    exchange.match_waiting(&mut reports);
                }
                Ok(None) => {}
                Err(_) => view_open = false,
            }
        }
        if outputs_open {
            let polled = outputs.with_batch(u64::MAX, |outs| {
                let taken = mono_now();
                for o in outs {
                    if let OutputBody::NewOrder(_) = o.body {
                        latency.order_sent(o.cause, o.recv, taken);
                    }
                    if let OutputBody::StateChange(s) = o.body
                        && s.to == SystemState::Stopped
                    {
                        stopped = true;
                    }
                    if let OutputBody::Alert(a) = o.body
                        && a.code == AlertCode::BookResync
                    {
                        resync.request(a.symbol);
                    }
                    exchange.on_output(o, &mut reports);
                }
                latency.tick(taken);
            });
            match polled {
                Ok(Some(())) => progress = true,
                Ok(None) => {}
                Err(_) => outputs_open = false,
            }
        }
        exchange.stats.max_backlog = exchange.stats.max_backlog.max(reports.len());
        if let Some(p) = publisher.as_mut() {
            progress |= publish_queued(p, &mut reports);
            // After Stopped the core sends no order; once every order before
            // it is answered, release the input ring.
            if stopped && reports.is_empty() && exchange.waiting() == 0 {
                publisher = None;
            }
        }
        if progress {
            waiter.reset();
        } else {
            latency.tick(mono_now());
            waiter.idle();
        }
    }
    latency.finish();
    exchange.stats
}
