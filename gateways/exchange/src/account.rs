//! The account the exchange keeps: positions and wallet after each fill,
//! the initial margin an order needs, funding, and cross-margin
//! liquidation when the equity reaches the maintenance margin.

use autobot_engine::event::{Liquidity, MarkPrice, OrderStatus};
use autobot_engine::types::{
    ExchangeOrderId, Money, Price, Qty, Rate, Rounding, SCALE, Side, SymbolId,
};

use crate::matching::fee_of;
use crate::order::{Order, OrderType};
use crate::report::{Execution, ReportBody};
use crate::{Exchange, HOUR_NS, NO_BAND, Reports};

impl Exchange {
    /// Books a fill in the position and the wallet; the PnL it realized.
    pub(crate) fn book_fill(
        &mut self,
        i: usize,
        side: Side,
        price: Price,
        qty: Qty,
        fee: Money,
    ) -> Money {
        self.margin_band.fill(NO_BAND);
        let m = &mut self.markets[i];
        let before = m.position.realized();
        if m.position.apply_fill(side, price, qty, fee).is_err() {
            return Money::ZERO;
        }
        let realized = m.position.realized().checked_sub(before);
        if let Some(w) = realized
            .and_then(|r| self.wallet.checked_add(r))
            .and_then(|w| w.checked_sub(fee))
        {
            self.wallet = w;
        }
        realized.unwrap_or(Money::ZERO)
    }

    /// Whether the available balance carries the initial margin of what
    /// `o` adds to the position (the part that reduces needs none).
    pub(crate) fn margin_fits(&self, i: usize, o: &Order) -> bool {
        let lev = i64::from(self.markets[i].leverage);
        if lev == 0 {
            return true;
        }
        let adds = Qty::from_raw(o.qty.raw() - o.qty.min(self.reducible(i, o.side)).raw());
        if adds.is_zero() {
            return true;
        }
        let reference = match o.kind {
            OrderType::Limit(_) | OrderType::Stop(..) | OrderType::TakeProfit(..) => Some(o.price),
            _ => self.taking_price(i, o.side),
        };
        let Some(reference) = reference else {
            return true;
        };
        let initial = |price: Price, qty: Qty| {
            Money::notional(price, qty, Rounding::Ceil)?
                .checked_abs()?
                .mul_ratio(1, lev, Rounding::Ceil)
        };
        let mut available = Some(self.wallet);
        for k in 0..self.markets.len() {
            let pos = self.markets[k].position;
            if pos.qty().is_zero() {
                continue;
            }
            let Some(mark) = self.mark_of(k) else {
                continue;
            };
            available = available
                .and_then(|a| a.checked_add(pos.unrealized(mark)?))
                .and_then(|a| a.checked_sub(initial(mark, pos.qty())?));
        }
        for r in self.resting.iter().filter(|r| !r.order.reduce_only) {
            available = available.and_then(|a| a.checked_sub(initial(r.order.price, r.rest())?));
        }
        match (available, initial(reference, adds)) {
            (Some(a), Some(need)) => need <= a,
            _ => false,
        }
    }

    /// Mark prices from the data: funding follows them as the core's does.
    pub(crate) fn on_mark(&mut self, sym: SymbolId, mp: &MarkPrice) {
        let i = usize::from(sym.0);
        self.markets[i].data_marks = true;
        self.markets[i].data_funding = true;
        if !mp.mark_price.is_positive() {
            return;
        }
        // A later funding time than the one announced settles the
        // announced one at the last mark and rate (the core's rule).
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
    /// the core books for the same events. The amount paid (negative) or
    /// received.
    pub(crate) fn settle_funding(&mut self, i: usize, mark: Price, rate: Rate) -> Money {
        let qty = self.markets[i].position.qty();
        if qty.is_zero() || !mark.is_positive() {
            return Money::ZERO;
        }
        let amount = Money::notional(mark, qty, Rounding::HalfEven)
            .and_then(|n| n.mul_ratio(-rate.raw(), SCALE, Rounding::HalfEven));
        if let Some(a) = amount
            && let Some(w) = self.wallet.checked_add(a)
        {
            self.margin_band.fill(NO_BAND);
            self.wallet = w;
            self.stats.fundings += 1;
            return a;
        }
        Money::ZERO
    }

    /// Funding time `at` passed on markets without funding data: the
    /// exchange settles it at the configured rate on the mark and reports
    /// it; the next time is `at` plus the interval.
    pub(crate) fn announce_funding(
        &mut self,
        at: autobot_engine::types::UnixNanos,
        out: &mut Reports,
    ) {
        let interval = u64::from(self.rules.funding_interval_hours.max(1)) * HOUR_NS;
        self.next_funding = autobot_engine::types::UnixNanos(at.0.saturating_add(interval));
        let rate = self.rules.funding_rate;
        if rate == Rate::ZERO {
            return;
        }
        for i in 0..self.markets.len() {
            let Some(mark) = self.mark_of(i) else {
                continue;
            };
            if self.markets[i].data_funding {
                continue;
            }
            let amount = self.settle_funding(i, mark, rate);
            let body = ReportBody::Funding {
                mark,
                rate,
                amount,
                wallet: self.wallet,
            };
            out.push_back(self.report(crate::market::symbol(i), body));
        }
    }

    /// Cross margin: liquidates every position when the equity is at or
    /// below the maintenance margin.
    pub(crate) fn check_margin(&mut self, out: &mut Reports) {
        let mut equity = self.wallet;
        let mut maintenance = Money::ZERO;
        let mut held = false;
        for i in 0..self.markets.len() {
            let pos = self.markets[i].position;
            if pos.qty().is_zero() {
                continue;
            }
            let Some(mark) = self.mark_of(i) else {
                continue;
            };
            held = true;
            let notional = Money::notional(mark, pos.qty(), Rounding::HalfEven);
            let mm = notional.and_then(|n| match self.brackets.get(i) {
                Some(b) => b.maintenance(n),
                None => Some(Money::ZERO),
            });
            match (mm, pos.unrealized(mark)) {
                (Some(mm), Some(u)) => {
                    equity = equity.checked_add(u).unwrap_or(Money::from_raw(i64::MIN));
                    maintenance = maintenance.checked_add(mm).unwrap_or(Money::MAX);
                }
                // Beyond the last bracket, or beyond i64: no exchange
                // would hold it.
                _ => maintenance = Money::MAX,
            }
        }
        if held && equity <= maintenance {
            self.liquidate(out);
            return;
        }
        // Checking every input is the replay's largest cost, so the check
        // is skipped while every mark stays in a band where it cannot
        // fail: a mark moving by d changes the equity by at most |qty| × d
        // and the maintenance margin (continuous across brackets, by
        // their `cum`) by at most mmr × |qty| × d, mmr ≤ 0.5. The headroom
        // is shared evenly by the positions held, with half kept back
        // against float rounding. The exact check is still in decimals.
        let headroom = equity.to_f64() - maintenance.to_f64();
        let held_count = self
            .markets
            .iter()
            .filter(|m| !m.position.qty().is_zero())
            .count()
            .max(1) as f64;
        for i in 0..self.markets.len() {
            let qty = self.markets[i].position.qty().to_f64().abs();
            self.margin_band[i] = match self.mark_of(i) {
                _ if qty == 0.0 => (f64::NEG_INFINITY, f64::INFINITY),
                Some(mark) if maintenance != Money::MAX => {
                    // In raw units, so the check per input needs no division.
                    let d = headroom / held_count / (qty * 1.5) * 0.5 * SCALE as f64;
                    (mark.raw() as f64 - d, mark.raw() as f64 + d)
                }
                _ => NO_BAND,
            };
        }
    }

    fn liquidate(&mut self, out: &mut Reports) {
        self.stats.liquidations += 1;
        self.cancel_all(out);
        for i in 0..self.markets.len() {
            let qty = self.markets[i].position.qty();
            let Some(mark) = self.mark_of(i) else {
                continue;
            };
            if qty.is_zero() {
                continue;
            }
            let side = if qty.is_positive() {
                Side::Sell
            } else {
                Side::Buy
            };
            let abs = Qty::from_raw(qty.raw().abs());
            let fee = fee_of(mark, abs, self.rules.liquidation_fee).unwrap_or(Money::ZERO);
            let id = self.new_id();
            let realized = self.book_fill(i, side, mark, abs, fee);
            let order = Order {
                client: autobot_engine::types::ClientOrderId::EXCHANGE_CLOSE,
                symbol: crate::market::symbol(i),
                side,
                kind: OrderType::Market,
                price: Price::ZERO,
                qty: abs,
                reduce_only: true,
            };
            let e = self.execution(&order, ExchangeOrderId(id.0), OrderStatus::Filled, abs);
            let e = Execution {
                liquidity: Liquidity::Taker,
                last_price: mark,
                last_qty: abs,
                fee,
                realized,
                by_exchange: true,
                ..e
            };
            self.stats.fills += 1;
            out.push_back(self.report(order.symbol, ReportBody::Execution(e)));
        }
    }
}
