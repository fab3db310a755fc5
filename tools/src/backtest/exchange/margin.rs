//! The simulated exchange's cross margin: the marks positions are valued
//! at, the maintenance check after each input, and the liquidation that
//! closes every position when the equity reaches the maintenance margin.

use std::collections::VecDeque;

use super::*;

impl SimExchange {
    /// The price positions are valued at: the data's mark, else the mid,
    /// else the last bar's close.
    pub(super) fn mark_of(&self, i: usize) -> Option<Price> {
        let m = &self.markets[i];
        if m.data_marks && m.mark.is_positive() {
            return Some(m.mark);
        }
        m.top
            .mid()
            .or_else(|| m.bar_close.is_positive().then_some(m.bar_close))
    }

    /// Cross margin: liquidates every position when the equity is at or
    /// below the maintenance margin.
    pub(super) fn check_margin(&mut self, reports: &mut VecDeque<InputEvent>) {
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
            let mm = notional.and_then(|n| self.brackets.get(i)?.maintenance(n));
            let upnl = pos.unrealized(mark);
            match (mm, upnl) {
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
            self.liquidate(reports);
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

    pub(super) fn liquidate(&mut self, reports: &mut VecDeque<InputEvent>) {
        self.stats.liquidations += 1;
        while let Some(r) = self.resting.pop() {
            self.stats.cancelled += 1;
            let u = self.update(&r.order, r.id, OrderStatus::Cancelled, r.filled);
            reports.push_back(self.report(r.order.symbol, InputBody::OrderUpdate(u)));
        }
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
            let fee = fee_of(mark, abs, self.cfg.liquidation_fee).unwrap_or(Money::ZERO);
            let id = self.new_id();
            let sym = SymbolId(u16::try_from(i).unwrap_or(u16::MAX));
            self.book_fill(i, side, mark, abs, fee);
            let u = OrderUpdate {
                client_id: ClientOrderId::EXCHANGE_CLOSE,
                exchange_id: id,
                status: OrderStatus::Filled,
                side,
                liquidity: Liquidity::Taker,
                last_price: mark,
                last_qty: abs,
                cum_qty: abs,
                fee,
            };
            self.stats.fills += 1;
            reports.push_back(self.report(sym, InputBody::OrderUpdate(u)));
        }
    }
}
