//! Orders meeting the book: arrival (taking, resting, refusing), resting
//! orders filled by the market, conditional orders triggered, cancels.

use autobot_engine::event::{Kline, Liquidity, OrderStatus, Request as Asked, Trade};
use autobot_engine::types::{
    ClientOrderId, ExchangeOrderId, Money, Price, Qty, Rounding, SCALE, Side, SymbolId,
};

use crate::order::{Order, OrderType, Refusal, Tif, Trigger, WorkingType};
use crate::report::{Execution, ReportBody};
use crate::{Exchange, Reports, Resting};

/// The fee of a fill: `rate` × notional, rounded half-even.
pub fn fee_of(price: Price, qty: Qty, rate: autobot_engine::types::Rate) -> Option<Money> {
    Money::notional(price, qty, Rounding::HalfEven)?.mul_ratio(
        rate.raw(),
        SCALE,
        Rounding::HalfEven,
    )
}

/// The price a taking fill of an order on `side` gets at book price
/// `price`: moved `slip` (raw) against the order, but never beyond the
/// order's `limit`; `None` when slippage would take a sell below zero.
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

/// One fill about to be reported.
struct Fill {
    status: OrderStatus,
    price: Price,
    qty: Qty,
    cum: Qty,
    liquidity: Liquidity,
}

impl Exchange {
    /// An order reaches the exchange.
    pub(crate) fn arrive(&mut self, mut o: Order, out: &mut Reports) {
        self.stats.orders += 1;
        let i = usize::from(o.symbol.0);
        if i >= self.markets.len() {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::BAD_SYMBOL, out);
        }
        if let Some(t) = o.kind.trigger() {
            return self.arrive_conditional(o, t, out);
        }
        if !o.qty.is_positive() {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::BAD_QTY, out);
        }
        let m = &self.markets[i];
        if !(m.top.is_valid() || m.has_depth()) {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::NO_LIQUIDITY, out);
        }
        if o.reduce_only {
            let cap = self.reducible(i, o.side);
            if cap.is_zero() {
                return self.refuse(o.symbol, o.client, Asked::New, Refusal::REDUCE_ONLY, out);
            }
            o.qty = o.qty.min(cap);
        } else if !self.margin_fits(i, &o) {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::MARGIN, out);
        }
        self.execute(o, None, out);
    }

    /// Takes what `o` can from the book, then rests the rest of a GTC or
    /// GTX limit and expires the rest of anything else. `id`: a triggered
    /// conditional order's (it keeps it; a post-only one that would take
    /// then expires), else a new order's, numbered here.
    fn execute(&mut self, o: Order, id: Option<ExchangeOrderId>, out: &mut Reports) {
        let i = usize::from(o.symbol.0);
        let taken = self.walk(i, o.side, o.qty, o.limit());
        match (o.kind.tif(), id) {
            (Some(Tif::Gtx), None) if taken.is_positive() => {
                return self.refuse(o.symbol, o.client, Asked::New, Refusal::POST_ONLY, out);
            }
            (Some(Tif::Gtx), Some(id)) if taken.is_positive() => {
                return self.expire(&o, id, Qty::ZERO, out);
            }
            (Some(Tif::Fok), _) if taken < o.qty => {
                let id = id.unwrap_or_else(|| self.new_id());
                return self.expire(&o, id, Qty::ZERO, out);
            }
            _ => {}
        }
        let id = id.unwrap_or_else(|| self.new_id());
        let Some(cum) = self.take(&o, id, Qty::ZERO, out) else {
            return;
        };
        if cum == o.qty {
            return;
        }
        match o.kind.tif() {
            Some(Tif::Gtc | Tif::Gtx) => {
                self.stats.rested += 1;
                let ahead = if cum.is_positive() {
                    Some(Qty::ZERO)
                } else if self.fills.queue_position {
                    self.queue_at(i, o.side, o.price)
                } else {
                    None
                };
                // A triggered stop-limit resting untouched reports so (its
                // second acknowledgement: the limit is on the book now).
                if cum.is_zero() {
                    self.status(&o, id, OrderStatus::Accepted, Qty::ZERO, out);
                }
                self.resting.push(Resting {
                    id,
                    order: o,
                    filled: cum,
                    ahead,
                    reached: Qty::ZERO,
                });
            }
            _ => self.expire(&o, id, cum, out),
        }
    }

    /// A STOP_MARKET or TAKE_PROFIT_MARKET order: waits off the book.
    fn arrive_conditional(&mut self, o: Order, t: Trigger, out: &mut Reports) {
        if !t.stop.is_positive() {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::BAD_STOP, out);
        }
        if !t.close_position && !o.qty.is_positive() {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::BAD_QTY, out);
        }
        if self.reached(usize::from(o.symbol.0), &o) {
            return self.refuse(o.symbol, o.client, Asked::New, Refusal::WOULD_TRIGGER, out);
        }
        let id = self.new_id();
        self.status(&o, id, OrderStatus::Accepted, Qty::ZERO, out);
        self.stops.push(Resting {
            id,
            order: o,
            filled: Qty::ZERO,
            ahead: None,
            reached: Qty::ZERO,
        });
    }

    /// Whether a conditional order's watched price has reached its stop.
    fn reached(&self, i: usize, o: &Order) -> bool {
        let (t, stop_loss) = match o.kind {
            OrderType::StopMarket(t) | OrderType::Stop(t, _) => (t, true),
            OrderType::TakeProfitMarket(t) | OrderType::TakeProfit(t, _) => (t, false),
            _ => return false,
        };
        let price = match t.working {
            WorkingType::Mark => self.mark_of(i),
            WorkingType::Contract => self.contract_price(i),
        };
        let Some(p) = price else { return false };
        // A stop loss triggers against the order's side, a take profit in
        // its favour.
        match (o.side, stop_loss) {
            (Side::Buy, true) | (Side::Sell, false) => p >= t.stop,
            (Side::Sell, true) | (Side::Buy, false) => p <= t.stop,
        }
    }

    /// Triggers the conditional orders of `sym` whose price was reached.
    pub(crate) fn check_stops(&mut self, sym: SymbolId, out: &mut Reports) {
        let i = usize::from(sym.0);
        let mut k = 0;
        while k < self.stops.len() {
            let s = self.stops[k];
            if s.order.symbol != sym || !self.reached(i, &s.order) {
                k += 1;
                continue;
            }
            self.stops.remove(k);
            self.stats.triggered += 1;
            self.trigger(s, out);
        }
    }

    /// A triggered conditional order takes as a market order (the market
    /// types) or becomes a limit at its price (`STOP`, `TAKE_PROFIT`).
    fn trigger(&mut self, s: Resting, out: &mut Reports) {
        let i = usize::from(s.order.symbol.0);
        let mut o = s.order;
        if o.reduces_only() {
            let cap = self.reducible(i, o.side);
            o.qty = if o.kind.trigger().is_some_and(|t| t.close_position) {
                cap
            } else {
                o.qty.min(cap)
            };
        }
        // A stop-limit keeps its type (Binance's `ot`) and trades at its
        // price with its time in force.
        if o.kind.has_limit_price() {
            if !o.qty.is_positive() {
                return self.expire(&o, s.id, Qty::ZERO, out);
            }
            return self.execute(o, Some(s.id), out);
        }
        if !o.qty.is_positive() || self.walk(i, o.side, o.qty, None).is_zero() {
            // Nothing left to close, or no book to take from.
            return self.expire(&o, s.id, Qty::ZERO, out);
        }
        let _ = self.take(&o, s.id, Qty::ZERO, out);
    }

    /// Reports the fills of `self.takes` for order `o` (filled `before`
    /// already); the quantity filled after them, `None` if a price left
    /// the fixed-point range (the order was refused).
    fn take(
        &mut self,
        o: &Order,
        id: ExchangeOrderId,
        before: Qty,
        out: &mut Reports,
    ) -> Option<Qty> {
        let i = usize::from(o.symbol.0);
        let tick = self.instruments[i].tick_size;
        let slip = i64::from(self.fills.slippage_ticks) * tick.raw();
        let limit = o.limit();
        let mut cum = before;
        for k in 0..self.takes.len() {
            let (level, q) = self.takes[k];
            let Some(price) = taker_price(o.side, level, slip, limit) else {
                self.refuse(o.symbol, o.client, Asked::New, Refusal::OUT_OF_RANGE, out);
                return None;
            };
            cum = Qty::from_raw(cum.raw() + q.raw());
            let status = if cum == o.qty {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            let fill = Fill {
                status,
                price,
                qty: q,
                cum,
                liquidity: Liquidity::Taker,
            };
            self.fill(o, id, fill, out);
        }
        Some(cum)
    }

    pub(crate) fn on_top(
        &mut self,
        sym: SymbolId,
        (bid, bid_qty, ask, ask_qty): (Price, Qty, Price, Qty),
        out: &mut Reports,
    ) {
        let queue = self.fills.queue_position;
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
                let rest = r.rest();
                if self.fill_resting(k, rest, out) {
                    continue;
                }
            } else if queue && r.ahead.is_none() && best == r.order.price {
                r.ahead = Some(best_qty);
            }
            k += 1;
        }
    }

    pub(crate) fn on_trade(&mut self, sym: SymbolId, tr: &Trade, out: &mut Reports) {
        let (queue, partial) = (self.fills.queue_position, self.fills.partial_fills);
        let mut k = 0;
        while k < self.resting.len() {
            let r = self.resting[k];
            if r.order.symbol != sym {
                k += 1;
                continue;
            }
            let rest = r.rest().raw();
            let (through, at_our_side) = match r.order.side {
                Side::Buy => (tr.price < r.order.price, tr.buyer_is_maker),
                Side::Sell => (tr.price > r.order.price, !tr.buyer_is_maker),
            };
            let mut fill = 0;
            if through {
                fill = rest;
            } else if queue && tr.price == r.order.price && at_our_side {
                let beyond = match r.ahead {
                    Some(ahead) if tr.qty <= ahead => {
                        self.resting[k].ahead = Some(Qty::from_raw(ahead.raw() - tr.qty.raw()));
                        0
                    }
                    Some(ahead) => {
                        self.resting[k].ahead = Some(Qty::ZERO);
                        tr.qty.raw() - ahead.raw()
                    }
                    None => 0,
                };
                if partial {
                    fill = beyond.min(rest);
                } else {
                    let reached = r.reached.raw().saturating_add(beyond);
                    self.resting[k].reached = Qty::from_raw(reached);
                    if reached >= rest {
                        fill = rest;
                    }
                }
            }
            if fill > 0 && self.fill_resting(k, Qty::from_raw(fill), out) {
                continue;
            }
            k += 1;
        }
    }

    pub(crate) fn on_bar(&mut self, sym: SymbolId, bar: &Kline, out: &mut Reports) {
        self.markets[usize::from(sym.0)].bar_close = bar.close;
        let mut k = 0;
        while k < self.resting.len() {
            let r = self.resting[k];
            let through = r.order.symbol == sym
                && match r.order.side {
                    Side::Buy => bar.low < r.order.price,
                    Side::Sell => bar.high > r.order.price,
                };
            if through && self.fill_resting(k, r.rest(), out) {
                continue;
            }
            k += 1;
        }
    }

    /// Fills `qty` of resting order `k` at its price as maker; `true` when
    /// that took it off the book (so `k` now names the next one). A
    /// reduce-only order fills no more than the position, and expires once
    /// there is nothing left to reduce.
    fn fill_resting(&mut self, k: usize, qty: Qty, out: &mut Reports) -> bool {
        let r = self.resting[k];
        let i = usize::from(r.order.symbol.0);
        let mut qty = qty;
        if r.order.reduce_only {
            qty = qty.min(self.reducible(i, r.order.side));
            if qty.is_zero() {
                self.resting.swap_remove(k);
                self.expire(&r.order, r.id, r.filled, out);
                return true;
            }
        }
        let cum = Qty::from_raw(r.filled.raw() + qty.raw());
        let done = cum == r.order.qty;
        let fill = Fill {
            status: if done {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            },
            price: r.order.price,
            qty,
            cum,
            liquidity: Liquidity::Maker,
        };
        self.stats.maker_fills += 1;
        self.fill(&r.order, r.id, fill, out);
        if done {
            self.resting.swap_remove(k);
            return true;
        }
        self.resting[k].filled = cum;
        if r.order.reduce_only && self.reducible(i, r.order.side).is_zero() {
            self.resting.swap_remove(k);
            self.expire(&r.order, r.id, cum, out);
            return true;
        }
        false
    }

    fn fill(&mut self, o: &Order, id: ExchangeOrderId, f: Fill, out: &mut Reports) {
        let rate = match f.liquidity {
            Liquidity::Maker => self.fills.maker_fee,
            _ => self.fills.taker_fee,
        };
        let fee = fee_of(f.price, f.qty, rate).unwrap_or(Money::ZERO);
        self.stats.fills += 1;
        let i = usize::from(o.symbol.0);
        let realized = self.book_fill(i, o.side, f.price, f.qty, fee);
        let e = self.execution(o, id, f.status, f.cum);
        let e = Execution {
            liquidity: f.liquidity,
            last_price: f.price,
            last_qty: f.qty,
            fee,
            realized,
            ..e
        };
        out.push_back(self.report(o.symbol, ReportBody::Execution(e)));
    }

    /// An execution report without a fill, with the account as it stands.
    pub(crate) fn execution(
        &self,
        o: &Order,
        id: ExchangeOrderId,
        status: OrderStatus,
        cum: Qty,
    ) -> Execution {
        let (position, entry) = self.position(o.symbol);
        Execution {
            order: *o,
            id,
            status,
            liquidity: Liquidity::None,
            last_price: Price::ZERO,
            last_qty: Qty::ZERO,
            cum_qty: cum,
            fee: Money::ZERO,
            realized: Money::ZERO,
            position,
            entry,
            wallet: self.wallet,
            by_exchange: false,
        }
    }

    pub(crate) fn status(
        &mut self,
        o: &Order,
        id: ExchangeOrderId,
        status: OrderStatus,
        cum: Qty,
        out: &mut Reports,
    ) {
        let e = self.execution(o, id, status, cum);
        out.push_back(self.report(o.symbol, ReportBody::Execution(e)));
    }

    fn expire(&mut self, o: &Order, id: ExchangeOrderId, cum: Qty, out: &mut Reports) {
        self.stats.expired += 1;
        self.status(o, id, OrderStatus::Expired, cum, out);
    }

    /// A cancel reaches the exchange: an order it holds is taken off;
    /// anything else is unknown by now (-2011).
    pub(crate) fn cancel(&mut self, symbol: SymbolId, client: ClientOrderId, out: &mut Reports) {
        let found = |list: &[Resting]| {
            list.iter()
                .position(|r| r.order.client == client && r.order.symbol == symbol)
        };
        let r = if let Some(k) = found(&self.resting) {
            self.resting.swap_remove(k)
        } else if let Some(k) = found(&self.stops) {
            self.stops.remove(k)
        } else {
            return self.refuse(symbol, client, Asked::Cancel, Refusal::UNKNOWN_ORDER, out);
        };
        self.stats.cancelled += 1;
        self.status(&r.order, r.id, OrderStatus::Cancelled, r.filled, out);
    }

    pub(crate) fn refuse(
        &mut self,
        symbol: SymbolId,
        client: ClientOrderId,
        request: Asked,
        refusal: Refusal,
        out: &mut Reports,
    ) {
        self.stats.rejects += 1;
        let body = ReportBody::Refused {
            client,
            request,
            refusal,
        };
        out.push_back(self.report(symbol, body));
    }

    /// How much an order on `side` can reduce the position of symbol `i`.
    pub(crate) fn reducible(&self, i: usize, side: Side) -> Qty {
        let held = self.markets[i].position.qty().raw();
        if held != 0 && held.signum() == -side.sign() {
            Qty::from_raw(held.abs())
        } else {
            Qty::ZERO
        }
    }

    /// Cancels every order the exchange holds (a liquidation).
    pub(crate) fn cancel_all(&mut self, out: &mut Reports) {
        while let Some(r) = self.resting.pop().or_else(|| self.stops.pop()) {
            self.stats.cancelled += 1;
            self.status(&r.order, r.id, OrderStatus::Cancelled, r.filled, out);
        }
    }
}
