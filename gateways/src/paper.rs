//! Paper execution: fills the core's market orders against the book the
//! engine has seen, and feeds the results back as input events.
//!
//! # What it owns
//! A top of book per symbol, kept from the input ring's last-stage view (events
//! the core has already processed), the paper order ids, and a queue of
//! execution reports waiting for room in the input ring.
//!
//! # Rules
//! - A market order waits until the view has passed the input that caused it,
//!   then fills completely at the opposite best price, moved `slippage_ticks`
//!   against the order, paying `taker_fee` × notional.
//! - No book for the symbol → `OrderRejected` (`NoLiquidity`).
//! - A cancel removes an order still waiting for its fill (a `Cancelled`
//!   report); an order already filled is unknown by then, and the cancel is
//!   refused with Binance's -2011.
//! - Limit orders are refused with a counted rejection: resting orders
//!   (filled when the market trades through) come with the exchange
//!   simulator (issue 6).
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
use autobot_engine::runtime::{InputPublisher, InputView, OutputReader, RingReader, Waiter};
use autobot_engine::types::{
    ExchangeOrderId, Instrument, Money, Price, Qty, Rate, Rounding, SCALE, Seq, Side, SymbolId,
    UnixNanos,
};
use serde::Deserialize;

/// Binance's code for an order it does not know (used for refused cancels).
const UNKNOWN_ORDER: i32 = -2011;
/// Code used for order types paper execution does not take.
const UNSUPPORTED: i32 = -1;

/// `[paper]`: paper execution.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaperConfig {
    /// Taker fee as a fraction of notional, e.g. `"0.0004"` (0 ..= 0.01).
    pub taker_fee: Rate,
    /// Ticks of adverse slippage added to every market fill (0 ..= 1000).
    pub slippage_ticks: u32,
}

impl Validate for PaperConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let max = Rate::parse("0.01").unwrap_or(Rate::ZERO);
        if self.taker_fee.is_negative() || self.taker_fee > max {
            return Err(RangeError::new(
                at,
                "taker_fee",
                self.taker_fee,
                "0 ..= 0.01",
            ));
        }
        autobot_engine::config::check_range(at, "slippage_ticks", self.slippage_ticks, 0, 1000)
    }
}

/// Counters of the paper exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaperStats {
    /// Orders received.
    pub orders: u64,
    /// Fills sent.
    pub fills: u64,
    /// Rejections sent.
    pub rejects: u64,
    /// Most reports waiting for ring space at once.
    pub max_backlog: usize,
}

/// The paper exchange's state (no threads; see [`run`] for the loop).
#[derive(Debug)]
pub struct PaperExchange {
    cfg: PaperConfig,
    instruments: Vec<Instrument>,
    books: Vec<TopOfBook>,
    /// Sequence the view will deliver next (the view sees every input in order).
    view_seq: Seq,
    next_order_id: u64,
    waiting: VecDeque<(Seq, NewOrder)>,
    stats: PaperStats,
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
            next_order_id: 1,
            waiting: VecDeque::with_capacity(1024),
            stats: PaperStats::default(),
        }
    }

    /// Takes over orders that were in flight when an earlier run stopped:
    /// the exchange still holds them, so they fill against the first book
    /// this run sees (their remaining quantity).
    pub fn adopt(&mut self, open: &[autobot_engine::core::OpenOrder]) {
        for o in open {
            // Paper fills are always complete, so an order still open was
            // never partly filled: its remaining quantity is all of it, and
            // the report's cumulative quantity stays consistent.
            debug_assert!(o.filled.is_zero());
            let order = NewOrder {
                client_id: o.client_id,
                symbol: o.symbol,
                side: o.side,
                kind: OrderKind::Market,
                reduce_only: false,
                post_only: false,
                price: Price::ZERO,
                qty: Qty::from_raw(o.qty.raw() - o.filled.raw()),
            };
            // Due once the view has passed this run's first input.
            self.waiting.push_back((self.view_seq, order));
        }
    }

    /// Counters.
    pub fn stats(&self) -> PaperStats {
        self.stats
    }

    /// Sees one input event the core has processed.
    pub fn on_market(&mut self, ev: &InputEvent) {
        self.view_seq = self.view_seq.next();
        if let InputBody::BookTicker(t) = &ev.body
            && let Some(book) = self.books.get_mut(usize::from(ev.header.symbol.0))
        {
            // Refusals (crossed, stale) are the core's to count; keep the last good book.
            let _ = book.apply(t, ev.header.exchange);
        }
    }

    /// Takes one output of the core; reports go to `reports`.
    pub fn on_output(&mut self, out: &OutputEvent, reports: &mut VecDeque<InputEvent>) {
        match out.body {
            OutputBody::NewOrder(o) => {
                self.stats.orders += 1;
                if o.kind == OrderKind::Limit {
                    self.reject(
                        o.client_id,
                        o.symbol,
                        UNSUPPORTED,
                        RejectReason::Other,
                        reports,
                    );
                } else {
                    self.waiting.push_back((out.cause, o));
                }
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

    /// Fills waiting orders whose cause the view has passed.
    pub fn match_waiting(&mut self, reports: &mut VecDeque<InputEvent>) {
        while let Some(&(cause, order)) = self.waiting.front() {
            if cause >= self.view_seq {
                return;
            }
            self.waiting.pop_front();
            self.fill_market(order, reports);
        }
    }

    /// Orders accepted but not yet filled.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    fn fill_market(&mut self, o: NewOrder, reports: &mut VecDeque<InputEvent>) {
        let idx = usize::from(o.symbol.0);
        let (Some(book), Some(ins)) = (self.books.get(idx), self.instruments.get(idx)) else {
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
        let slip = i64::from(self.cfg.slippage_ticks) * ins.tick_size.raw();
        let price = match o.side {
            Side::Buy => best.raw().checked_add(slip),
            Side::Sell => best.raw().checked_sub(slip).filter(|p| *p > 0),
        };
        let fee = price.and_then(|p| {
            Money::notional(Price::from_raw(p), o.qty, Rounding::HalfEven)?.mul_ratio(
                self.cfg.taker_fee.raw(),
                SCALE,
                Rounding::HalfEven,
            )
        });
        let (Some(price), Some(fee)) = (price, fee) else {
            self.reject(
                o.client_id,
                o.symbol,
                UNSUPPORTED,
                RejectReason::Filter,
                reports,
            );
            return;
        };
        let id = self.next_order_id;
        self.next_order_id += 1;
        self.stats.fills += 1;
        let update = OrderUpdate {
            client_id: o.client_id,
            exchange_id: ExchangeOrderId(id),
            status: OrderStatus::Filled,
            side: o.side,
            liquidity: Liquidity::Taker,
            last_price: Price::from_raw(price),
            last_qty: o.qty,
            cum_qty: o.qty,
            fee,
        };
        let exchange = book.exchange_time;
        reports.push_back(report(o.symbol, exchange, InputBody::OrderUpdate(update)));
    }

    /// Cancels an order still waiting for its fill; one already filled is
    /// unknown to the exchange by now, so the cancel is refused as Binance
    /// refuses it (-2011).
    fn cancel(
        &mut self,
        client_id: autobot_engine::types::ClientOrderId,
        symbol: SymbolId,
        reports: &mut VecDeque<InputEvent>,
    ) {
        let Some(at) = self
            .waiting
            .iter()
            .position(|(_, o)| o.client_id == client_id)
        else {
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
        let Some((_, o)) = self.waiting.remove(at) else {
            return;
        };
        let update = OrderUpdate {
            client_id,
            exchange_id: ExchangeOrderId(0),
            status: OrderStatus::Cancelled,
            side: o.side,
            liquidity: Liquidity::None,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            fee: Money::ZERO,
        };
        let exchange = self
            .books
            .get(usize::from(symbol.0))
            .map_or(UnixNanos(0), |b| b.exchange_time);
        reports.push_back(report(symbol, exchange, InputBody::OrderUpdate(update)));
    }

    fn reject(
        &mut self,
        client_id: autobot_engine::types::ClientOrderId,
        symbol: SymbolId,
        code: i32,
        reason: RejectReason,
        reports: &mut VecDeque<InputEvent>,
    ) {
        self.refuse(client_id, symbol, code, reason, Request::New, reports);
    }

    fn refuse(
        &mut self,
        client_id: autobot_engine::types::ClientOrderId,
        symbol: SymbolId,
        code: i32,
        reason: RejectReason,
        request: Request,
        reports: &mut VecDeque<InputEvent>,
    ) {
        self.stats.rejects += 1;
        let exchange = self
            .books
            .get(usize::from(symbol.0))
            .map_or(UnixNanos(0), |b| b.exchange_time);
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
/// gateway fetches the snapshot).
pub fn run(
    mut exchange: PaperExchange,
    mut outputs: OutputReader,
    mut view: InputView,
    publisher: InputPublisher,
    mut waiter: Waiter,
    resync: &ResyncRequests,
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
            match view.with_batch(u64::MAX, |evs| evs.for_each(|e| exchange.on_market(e))) {
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
                for o in outs {
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
            waiter.idle();
        }
    }
    exchange.stats
}
