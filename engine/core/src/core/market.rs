//! Market data in the core: event time, top of book, mark price and
//! funding, volatility, feed staleness, unrealized PnL and the breakers that
//! watch equity; each book ticker then runs the strategies (`strategies`).
//!
//! Event time only moves forward (`advance_time`), and only from inputs
//! `guard` admitted; everything timed in the core (staleness, cool-downs,
//! approvals, funding, the UTC day, resting limit orders) reads it, never a
//! clock.

use super::{Core, Intent, OutputSink};
use crate::depth::Outcome;
use crate::event::{
    AlertCode, BookTicker, ChangeCause, ControlMode, DepthDiff, FundingPaid, FundingSettled,
    MarkPrice, OrderKind, Origin, OutputBody, Stance,
};
use crate::types::{Money, Price, Qty, Rate, Rounding, Seq, Side, SymbolId, UnixNanos};

impl Core {
    /// Moves event time to `t` (if later) and runs what is due by then.
    pub(super) fn advance_time<S: OutputSink>(&mut self, seq: Seq, t: UnixNanos, out: &mut S) {
        self.ids_used = 0;
        let Some(before) = self.clock.advance(t) else {
            return;
        };
        let first = before.0 == 0;
        if !first {
            // The time since the last input belongs to the state it left.
            self.stats.state_ns[self.control.state() as usize] += t.0 - before.0;
        }
        if first {
            // Every feed gets the stale limit from the first time seen.
            for s in &mut self.symbols {
                s.quote.on_data(t);
            }
            self.next_stale_scan = UnixNanos(t.0.saturating_add(self.risk.limits.stale_after));
        }
        if self.account.roll_day(t) && self.control.conditions().daily_loss {
            self.control.conditions_mut().daily_loss = false;
            self.refresh_state(seq, ChangeCause::NewDay, out);
        }
        if self.control.conditions().cooldown_until.0 != 0
            && t >= self.control.conditions().cooldown_until
        {
            self.control.conditions_mut().cooldown_until = UnixNanos(0);
            self.refresh_state(seq, ChangeCause::Recovered, out);
        }
        if t >= self.next_stale_scan {
            self.recount_stale(seq, out);
        }
        let prices = self.symbols.iter().map(super::SymbolState::mark_or_mid);
        self.risk.on_time(t, prices);
        // The liquidation windows move in whole seconds.
        if t.0 / 1_000_000_000 != before.0 / 1_000_000_000 {
            self.signals.advance_liquidations(t);
        }
        self.expire_approvals(seq, out);
        self.replace_resting(seq, out);
    }

    /// Re-derives which feeds are stale or down, and the state from that.
    pub(super) fn recount_stale<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        let now = self.clock.now().0;
        let limit = self.risk.limits.stale_after;
        let mut down = 0u16;
        let mut next = u64::MAX;
        for s in &mut self.symbols {
            let (is_down, due) = s.quote.rescan(now, limit);
            next = next.min(due);
            down += u16::from(is_down);
        }
        self.next_stale_scan = UnixNanos(next.max(now.saturating_add(1)));
        self.control.conditions_mut().stale_feeds = down;
        self.refresh_state(seq, ChangeCause::StaleFeed, out);
    }

    /// Tick data arrived for `sym` at exchange time `t`.
    pub(super) fn on_market_data(&mut self, sym: SymbolId, t: UnixNanos) -> bool {
        // A stale feed heals on its next data (the caller recounts).
        self.symbols[usize::from(sym.0)].quote.on_tick(t)
    }

    pub(super) fn on_book_ticker<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        t: &BookTicker,
        exchange: UnixNanos,
        out: &mut S,
    ) {
        let i = usize::from(sym.0);
        // `guard::admit` refused crossed and out-of-order tickers already.
        let Ok(mid) = self.symbols[i].quote.on_ticker(t, exchange) else {
            return;
        };
        if self.on_market_data(sym, exchange) {
            self.recount_stale(seq, out);
        }
        if mid.is_none() {
            return;
        }
        if !self.symbols[i].quote.mark.is_positive() {
            self.revalue(seq, sym, out);
        }
        self.watch(seq, sym, out);
        self.manage_exits(seq, sym, out);
        self.run_strategies(seq, sym, None, out);
        self.pursue_target(seq, sym, out);
    }

    /// A depth diff or snapshot part: through the sync into the L2 book. A
    /// lost sync clears the book and raises `BookResync`, which the market
    /// gateway answers with a new snapshot.
    pub(super) fn on_depth<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        d: &DepthDiff,
        exchange: UnixNanos,
        out: &mut S,
    ) {
        if self.on_market_data(sym, exchange) {
            self.recount_stale(seq, out);
        }
        if let Outcome::Resync(reason) = self.depth[usize::from(sym.0)].on_part(d) {
            self.stats.depth_resyncs += 1;
            self.alert(seq, AlertCode::BookResync, sym, reason as i64, out);
        }
    }

    pub(super) fn on_mark_price<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        m: &MarkPrice,
        exchange: UnixNanos,
        out: &mut S,
    ) {
        if self.on_market_data(sym, exchange) {
            self.recount_stale(seq, out);
        }
        // A funding time that passed settles at the mark and rate seen
        // before it; the position is then valued at the new mark.
        let i = usize::from(sym.0);
        if let Some(due) = self.symbols[i].quote.funding_due(m) {
            self.pay_funding(seq, sym, due.mark, due.rate, out);
        }
        self.symbols[i].quote.on_mark(m);
        self.revalue(seq, sym, out);
        self.watch(seq, sym, out);
    }

    /// A model's prediction: kept for the advised strategies' next entry
    /// (module `advisor`); one that cannot be about anything the core
    /// handed out is refused, counted and alerted. Nothing else happens:
    /// a prediction sends no order.
    pub(super) fn on_prediction<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        p: &crate::event::Prediction,
        out: &mut S,
    ) {
        match self.advisor.on_prediction(sym, p) {
            Ok(()) | Err(super::advisor::Unkept::Superseded) => {}
            Err(_) => {
                self.stats.invalid_inputs += 1;
                self.alert(seq, AlertCode::BadPrediction, sym, i64::from(p.model), out);
            }
        }
    }

    /// A funding time settled at a known rate (funding-rate data, the
    /// backtest's exchange): paid at the event's price; the mark the
    /// position is valued at is not changed.
    pub(super) fn on_funding<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        f: &FundingSettled,
        out: &mut S,
    ) {
        let held = !self.symbols[usize::from(sym.0)].position.qty().is_zero();
        if held && !f.mark.is_positive() {
            self.stats.invalid_inputs += 1;
            self.alert(seq, AlertCode::InvalidReport, sym, f.mark.raw(), out);
            return;
        }
        self.pay_funding(seq, sym, f.mark, f.rate, out);
        self.revalue(seq, sym, out);
    }

    /// Funding on the position at `mark`: longs pay a positive `rate`.
    fn pay_funding<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        mark: Price,
        rate: Rate,
        out: &mut S,
    ) {
        let s = self.symbols[usize::from(sym.0)];
        if s.position.qty().is_zero() || !mark.is_positive() {
            return;
        }
        let Some(notional) = Money::notional(mark, s.position.qty(), Rounding::HalfEven) else {
            self.alert(seq, AlertCode::Overflow, sym, 0, out);
            return;
        };
        let Some(amount) = notional.mul_ratio(-rate.raw(), crate::types::SCALE, Rounding::HalfEven)
        else {
            self.alert(seq, AlertCode::Overflow, sym, 0, out);
            return;
        };
        if self.account.on_funding(amount).is_none() {
            self.alert(seq, AlertCode::Overflow, sym, 0, out);
            return;
        }
        self.symbols[usize::from(sym.0)].trip = s.trip.checked_add(amount).unwrap_or(s.trip);
        self.stats.fundings += 1;
        let paid = FundingPaid {
            symbol: sym,
            rate,
            mark,
            amount,
        };
        self.emit(seq, OutputBody::Funding(paid), out);
        self.check_equity(seq, out);
    }

    /// Re-marks the position's unrealized PnL and checks the equity breakers.
    pub(super) fn revalue<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        let s = &mut self.symbols[usize::from(sym.0)];
        let Some(mark) = s.mark_or_mid() else { return };
        let now = s.position.unrealized(mark).unwrap_or(s.unrealized);
        if now == s.unrealized {
            return;
        }
        let delta = Money::from_raw(now.raw().saturating_sub(s.unrealized.raw()));
        s.unrealized = now;
        self.account.shift_unrealized(delta);
        self.check_equity(seq, out);
    }

    /// Daily-loss and drawdown breakers (HALTED; drawdown also Emergency).
    pub(super) fn check_equity<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        if !self.control.conditions().daily_loss
            && self
                .account
                .daily_loss_reaches(self.risk.limits.max_daily_loss)
        {
            self.control.conditions_mut().daily_loss = true;
            self.refresh_state(seq, ChangeCause::DailyLoss, out);
        }
        if !self.control.conditions().drawdown
            && self.account.drawdown_reaches(self.risk.limits.max_drawdown)
        {
            self.control.conditions_mut().drawdown = true;
            self.refresh_state(seq, ChangeCause::Drawdown, out);
            self.set_mode(seq, ControlMode::Emergency, ChangeCause::Drawdown, out);
        }
    }

    /// Sends the order that moves the position to the strategy's target, if
    /// none is in flight or waiting for approval. A vetoed intent drops the
    /// target to the current position, so the veto is recorded once per
    /// cross, not on every tick.
    pub(super) fn pursue_target<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        // The cheap test first: on most ticks the position is the target.
        let s = &self.symbols[usize::from(sym.0)];
        let held = s.position.qty().raw();
        let delta = i128::from(s.target) - i128::from(held);
        if delta == 0 || self.orders.has_open(sym) || self.has_pending(sym) {
            return;
        }
        let side = if delta > 0 { Side::Buy } else { Side::Sell };
        let qty = Qty::from_raw(i64::try_from(delta.unsigned_abs()).unwrap_or(i64::MAX));
        let mut intent = Intent {
            plan: s.plan,
            ..Intent::market(sym, side, qty, Origin::Strategy)
        };
        // Maker first: an entry (it opens or adds to the position) of an
        // instance that asks for it rests post-only at its own side's touch.
        let adds = held == 0 || i128::from(held).signum() == delta.signum();
        if adds && s.plan.is_strategy() && self.signals.weight(usize::from(s.plan.strategy)).maker {
            intent.kind = OrderKind::Limit;
            intent.post_only = true;
            intent.price = match side {
                Side::Buy => s.quote.book.bid_price,
                Side::Sell => s.quote.book.ask_price,
            };
        }
        if !self.submit(seq, intent, out) {
            let s = &mut self.symbols[usize::from(sym.0)];
            // The strategy's proposal is not repeated until it changes
            // (`strategies::consider`), so a veto is recorded once.
            s.refused = (s.owner, Stance::of(s.target));
            self.drop_target(sym);
        }
    }
}
