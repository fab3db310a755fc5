//! Orders in and out of the core: sending what the veto chain approved,
//! cancelling, applying execution reports to positions and the account,
//! the breakers that read order results (losing streak, error rate, auth
//! failure), and cancel-replace of limit orders that rest too long.

use super::control::ModeProfile;
use super::veto::Approved;
use super::{Core, Intent, OpenOrder, OrderState, OutputSink, UpdateCheck};
use crate::event::{
    AccountReason, AccountUpdate, AlertCode, Audit, CancelOrder, ChangeCause, ControlMode,
    NewOrder, OrderKind, OrderRejected, OrderUpdate, Origin, OutputBody, RejectReason, Request,
    Rule, Verdict,
};
use crate::types::{ClientOrderId, Money, Qty, Rounding, Seq, Side, SymbolId, UnixNanos};

impl Core {
    /// The next client id for an order caused by the input at `seq`;
    /// `None` when this input used all of its ids.
    pub(super) fn next_id(&mut self, seq: Seq) -> Option<ClientOrderId> {
        if u64::from(self.ids_used) >= ClientOrderId::PER_EVENT {
            return None;
        }
        let id = ClientOrderId::derive(seq, self.ids_used);
        self.ids_used += 1;
        Some(id)
    }

    /// Runs `intent` through the veto chain; sends it, or (a strategy order
    /// in SemiAuto) parks it for the operator. `false` if it was vetoed.
    pub(super) fn submit<S: OutputSink>(&mut self, seq: Seq, intent: Intent, out: &mut S) -> bool {
        let Some(id) = self.next_id(seq) else {
            let veto = pool_veto(&intent, ClientOrderId(0), ClientOrderId::PER_EVENT as i64);
            self.record_veto(seq, veto, out);
            return false;
        };
        match self.check(&intent, id) {
            Err(veto) => {
                self.record_veto(seq, veto, out);
                false
            }
            Ok(ok)
                if intent.origin == Origin::Strategy
                    && ModeProfile::of(self.control.mode()).needs_approval =>
            {
                self.park(seq, id, intent, ok.audit, out)
            }
            Ok(ok) => self.send(seq, id, &intent, ok, out),
        }
    }

    pub(super) fn record_veto<S: OutputSink>(&mut self, seq: Seq, veto: Audit, out: &mut S) {
        self.stats.vetoes += 1;
        self.stats.vetoes_by_rule.add(veto.rule);
        if self.last_command.veto.is_none() {
            self.last_command.veto = Some(veto);
        }
        self.emit(seq, OutputBody::Audit(veto), out);
    }

    /// Sends an approved order: pool slot, audit record, then the order.
    pub(super) fn send<S: OutputSink>(
        &mut self,
        seq: Seq,
        id: ClientOrderId,
        intent: &Intent,
        ok: Approved,
        out: &mut S,
    ) -> bool {
        let inserted = self.orders.insert(OpenOrder {
            client_id: id,
            symbol: intent.symbol,
            side: intent.side,
            qty: ok.qty,
            filled: Qty::ZERO,
            state: OrderState::New,
            kind: intent.kind,
            price: ok.price,
            reduce_only: ok.reduce_only,
            post_only: intent.post_only,
            origin: intent.origin,
            sent_at: self.clock.now(),
            cancel_sent: false,
            replace: false,
            plan: intent.plan,
        });
        if !inserted {
            let open = self.orders.open_count() as i64;
            self.record_veto(seq, pool_veto(intent, id, open), out);
            return false;
        }
        if intent.origin == Origin::Strategy {
            // The chain may have cut the order (sizing, reduce-only): the
            // target is where this order takes the position, not the size
            // first asked for, which would be chased an order at a time.
            let s = &mut self.symbols[usize::from(intent.symbol.0)];
            s.target = s
                .position
                .qty()
                .raw()
                .saturating_add(self.orders.pending(intent.symbol));
        }
        self.stats.orders += 1;
        if intent.kind == OrderKind::Limit && self.risk.limits.replace_after > 0 {
            let due = self
                .clock
                .now()
                .0
                .saturating_add(self.risk.limits.replace_after);
            self.next_replace_scan = UnixNanos(self.next_replace_scan.0.min(due));
        }
        self.emit(seq, OutputBody::Audit(ok.audit), out);
        let order = NewOrder {
            client_id: id,
            symbol: intent.symbol,
            side: intent.side,
            kind: intent.kind,
            reduce_only: ok.reduce_only,
            post_only: intent.post_only,
            price: ok.price,
            qty: ok.qty,
        };
        self.emit(seq, OutputBody::NewOrder(order), out);
        true
    }

    /// Cancels every live order (of `symbol`, or all) not already being
    /// cancelled. Walks the pool by slot: no allocation.
    pub(super) fn cancel_all<S: OutputSink>(
        &mut self,
        seq: Seq,
        symbol: Option<SymbolId>,
        out: &mut S,
    ) {
        self.cancel_where(seq, symbol, false, out);
    }

    /// Where no new risk may be taken (`allowed::takes_new_risk`), cancels
    /// the resting orders that could add it (every limit order not sent
    /// reduce-only); exits keep working, and a market order, which the
    /// exchange fills or expires at once, is not chased with a cancel.
    pub(super) fn cancel_entries_if_closed<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        if !self.control.takes_new_risk() {
            self.cancel_where(seq, None, true, out);
        }
    }

    fn cancel_where<S: OutputSink>(
        &mut self,
        seq: Seq,
        symbol: Option<SymbolId>,
        entries_only: bool,
        out: &mut S,
    ) {
        for i in 0..self.orders.capacity() {
            let Some(o) = self.orders.live_at(i) else {
                continue;
            };
            // Protective stops are cancelled only by `protect`, once the
            // position they guard is closed.
            if o.cancel_sent
                || o.kind.is_conditional()
                || symbol.is_some_and(|s| s != o.symbol)
                || (entries_only && (o.reduce_only || o.kind != OrderKind::Limit))
            {
                continue;
            }
            self.orders.flag_cancel(i, true, false);
            self.send_cancel(seq, &o, out);
        }
    }

    pub(super) fn send_cancel<S: OutputSink>(&mut self, seq: Seq, o: &OpenOrder, out: &mut S) {
        self.stats.cancels += 1;
        let cancel = CancelOrder {
            client_id: o.client_id,
            symbol: o.symbol,
        };
        self.emit(seq, OutputBody::Cancel(cancel), out);
    }

    pub(super) fn on_order_update<S: OutputSink>(
        &mut self,
        seq: Seq,
        u: &OrderUpdate,
        out: &mut S,
    ) {
        // Values no exchange sends: refused before they touch any state.
        if u.last_qty.is_positive() && !u.last_price.is_positive() || u.last_qty.is_negative() {
            self.stats.invalid_inputs += 1;
            let sym = self
                .orders
                .get(u.client_id)
                .map_or(SymbolId(0), |o| o.symbol);
            self.alert(seq, AlertCode::InvalidReport, sym, u.last_price.raw(), out);
            return;
        }
        let before = self.orders.get(u.client_id).copied();
        let (check, order) = self.orders.apply(u);
        let (UpdateCheck::Apply { fill, terminal }, Some(order)) = (check, order) else {
            self.refuse_update(seq, u.client_id, check, order, out);
            return;
        };
        if before.is_some_and(|b| b.state == OrderState::Submitted) {
            self.record_result(seq, false, out);
        }
        if fill.is_positive() {
            self.apply_fill(seq, &order, u.last_price, fill, u.fee, out);
        }
        if terminal && order.state == OrderState::Cancelled && before.is_some_and(|b| b.replace) {
            self.replace(seq, &order, out);
        }
        if terminal && order.kind.is_conditional() && order.state != OrderState::Filled {
            self.guard_ended(seq, &order, out);
        } else if terminal && !fill.is_positive() {
            // The position may have settled (an order ended unfilled): its
            // stop follows. A fill already made it follow (`apply_fill`).
            self.protect(seq, order.symbol, out);
        }
    }

    /// A fill of an order the exchange placed itself (a liquidation): it
    /// must reduce `sym`'s position without crossing zero, at a positive
    /// price. Booked like our own fills, so the loss, the fee and the
    /// losing round trip count; the position stays flat until the
    /// strategy's next signal.
    pub(super) fn on_exchange_close<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        u: &OrderUpdate,
        out: &mut S,
    ) {
        let held = self
            .symbols
            .get(usize::from(sym.0))
            .map_or(0, |s| s.position.qty().raw());
        let closes = held.signum() == -u.side.sign() && u.last_qty.raw() <= held.abs();
        if held == 0 || !closes || !u.last_qty.is_positive() || !u.last_price.is_positive() {
            self.stats.invalid_inputs += 1;
            self.alert(seq, AlertCode::InvalidReport, sym, u.last_qty.raw(), out);
            return;
        }
        let forced = OpenOrder {
            client_id: u.client_id,
            symbol: sym,
            side: u.side,
            qty: u.last_qty,
            filled: Qty::ZERO,
            state: OrderState::Accepted,
            kind: OrderKind::Market,
            price: u.last_price,
            reduce_only: true,
            post_only: false,
            origin: Origin::Liquidation,
            sent_at: self.clock.now(),
            cancel_sent: false,
            replace: false,
            plan: super::Plan::NONE,
        };
        let closed = u.last_qty.raw() * u.side.sign();
        self.alert(seq, AlertCode::Liquidated, sym, closed, out);
        self.apply_fill(seq, &forced, u.last_price, u.last_qty, u.fee, out);
        self.hold_for_liquidation(seq, out);
    }

    /// Periodic reconciliation: the exchange holds `theirs` of `sym`. A
    /// difference is believed only when it is seen twice in a row with no
    /// order of the symbol in flight (a fill the REST read saw before the
    /// user stream delivered it is not drift); then it is alerted once
    /// (`PositionDrift`, the exchange's minus ours) and, with `on_drift =
    /// "safe_mode"`, holds SAFE_MODE until the positions agree again. The
    /// core never adopts the exchange's position mid-run: which one is
    /// right is the operator's call (flatten, or resume to adopt it).
    fn reconcile<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, theirs: Qty, out: &mut S) {
        let i = usize::from(sym.0);
        let ours = self.symbols[i].position.qty();
        let was = self.symbols[i].drift;
        let now = if theirs == ours {
            0
        } else if self.orders.has_open(sym) {
            was.min(1)
        } else {
            (was + 1).min(2)
        };
        self.symbols[i].drift = now;
        if now == 2 && was < 2 {
            let diff = theirs.raw().saturating_sub(ours.raw());
            self.alert(seq, AlertCode::PositionDrift, sym, diff, out);
        }
        if (now == 2) != (was == 2) && self.risk.limits.drift_holds {
            let n = self.symbols.iter().filter(|s| s.drift == 2).count();
            self.control.conditions_mut().drifting = u16::try_from(n).unwrap_or(u16::MAX);
            self.refresh_state(seq, ChangeCause::PositionDrift, out);
        }
    }

    /// Periodic reconciliation of the wallet (`Account::reconcile_wallet`):
    /// a believed difference alerts once (`BalanceMismatch`, the
    /// exchange's balance) and holds nothing.
    fn reconcile_wallet<S: OutputSink>(&mut self, seq: Seq, theirs: Money, out: &mut S) {
        let busy = (0..self.symbols.len()).any(|i| self.orders.has_open(SymbolId(i as u16)));
        if self.account.reconcile_wallet(theirs, busy) {
            let value = theirs.raw();
            self.alert(seq, AlertCode::BalanceMismatch, SymbolId(0), value, out);
        }
    }

    /// The exchange liquidated (or is liquidating) the account: the
    /// configured hold (`[risk.breakers] on_liquidation`) until the
    /// operator's reset. A stronger hold already in force stays.
    fn hold_for_liquidation<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        let want = self.risk.limits.on_liquidation;
        let c = self.control.conditions_mut();
        if c.liquidation == super::Hold::Off || want == super::Hold::Halted {
            c.liquidation = want;
        }
        self.refresh_state(seq, ChangeCause::Liquidation, out);
    }

    /// An account report. A margin call moves the liquidation watch
    /// (`watch::on_margin_call`). Only a [`AccountReason::Snapshot`] (the
    /// account as read from the exchange at start) changes the account: the core adopts the
    /// exchange's position, since the exchange is what holds it, and on a
    /// fresh account its wallet balance. Streamed updates follow from the
    /// fills the core applies itself, so they are not re-applied.
    pub(super) fn on_account_update<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        a: &AccountUpdate,
        out: &mut S,
    ) {
        if a.reason == AccountReason::MarginCall {
            self.on_margin_call(seq, sym, out);
            return;
        }
        if a.reason == AccountReason::Reconcile {
            self.reconcile(seq, sym, a.position_qty, out);
            if sym == SymbolId(0) && a.wallet_balance.is_positive() {
                // One wallet per account: judged once per round.
                self.reconcile_wallet(seq, a.wallet_balance, out);
            }
            return;
        }
        if a.reason != AccountReason::Snapshot {
            return;
        }
        // A held position has a positive entry price; a wallet is not negative.
        let held_without_entry = !a.position_qty.is_zero() && !a.entry_price.is_positive();
        if held_without_entry || a.entry_price.is_negative() || a.wallet_balance.is_negative() {
            self.stats.invalid_inputs += 1;
            self.alert(
                seq,
                AlertCode::InvalidReport,
                sym,
                a.position_qty.raw(),
                out,
            );
            return;
        }
        let fresh = self.account.is_fresh();
        if fresh {
            self.account = self.account.started_from(a.wallet_balance);
        } else if self.account.balance() != a.wallet_balance {
            let value = a.wallet_balance.raw();
            self.alert(seq, AlertCode::BalanceMismatch, sym, value, out);
        }
        let i = usize::from(sym.0);
        let held = self.symbols[i].position;
        let entry = if a.position_qty.is_zero() {
            crate::types::Price::ZERO
        } else {
            a.entry_price
        };
        let same_entry = held.avg_entry().unwrap_or(crate::types::Price::ZERO) == entry;
        if held.qty() == a.position_qty && same_entry {
            return;
        }
        let (Some(pos), Some(delta)) = (
            held.adopted(a.position_qty, entry),
            a.unrealized_pnl.checked_sub(self.symbols[i].unrealized),
        ) else {
            self.alert(seq, AlertCode::Overflow, sym, 0, out);
            return;
        };
        let (was, now) = (held.qty().raw(), pos.qty().raw());
        let st = &mut self.symbols[i];
        st.position = pos;
        // The exchange's valuation until the core marks it itself.
        st.unrealized = a.unrealized_pnl;
        self.account.shift_unrealized(delta);
        // Held until the strategy's next signal, as after an operator's fill.
        st.target = now;
        st.trip = Money::ZERO;
        if now != 0 && (was == 0 || now.signum() != was.signum()) {
            st.opened_at = self.clock.now();
            st.watch = 0;
        }
        self.strategy_fill(sym, was, now, &super::Plan::NONE);
        self.alert(seq, AlertCode::PositionReconciled, sym, now, out);
        self.revalue(seq, sym, out);
        self.protect(seq, sym, out);
        if fresh {
            // The day's loss and the drawdown count from the account as found.
            self.account.rebase();
        }
    }

    /// Books a fill in the position and the account; tracks round trips
    /// for the losing-streak breaker.
    fn apply_fill<S: OutputSink>(
        &mut self,
        seq: Seq,
        order: &OpenOrder,
        price: crate::types::Price,
        fill: Qty,
        fee: Money,
        out: &mut S,
    ) {
        let sym = order.symbol;
        let i = usize::from(sym.0);
        let s = self.symbols[i];
        let mut pos = s.position;
        let mut account = self.account;
        let booked = pos
            .apply_fill(order.side, price, fill, fee)
            .ok()
            .and_then(|()| {
                let realized = pos.realized().checked_sub(s.position.realized())?;
                account.on_fill(realized, fee)?;
                Some(realized)
            });
        let Some(realized) = booked else {
            self.alert(seq, AlertCode::Overflow, sym, 0, out);
            return;
        };
        self.account = account;
        self.stats.fills += 1;
        let was = s.position.qty().raw();
        let now = pos.qty().raw();
        let st = &mut self.symbols[i];
        st.position = pos;
        if order.origin != Origin::Strategy {
            // An operator's or a protective fill sets the position the
            // strategy holds until its next signal; it must not trade it back.
            st.target = pos.qty().raw();
        }
        st.trip = st
            .trip
            .checked_add(realized)
            .and_then(|t| t.checked_sub(fee))
            .unwrap_or(st.trip);
        let closed = was != 0 && (now == 0 || now.signum() != was.signum());
        if closed {
            let trip = std::mem::replace(&mut st.trip, Money::ZERO);
            self.strategy_trip(seq, sym, trip, out);
            self.end_trip(seq, trip, out);
        }
        self.strategy_fill(sym, was, now, &order.plan);
        let st = &mut self.symbols[i];
        if now != 0 && (was == 0 || now.signum() != was.signum()) {
            st.opened_at = self.clock.now();
            st.watch = 0;
        }
        if now == 0 {
            st.trip_notional = Money::ZERO;
        } else if let Some(entry) = pos.avg_entry() {
            let held = Money::notional(entry, pos.qty(), Rounding::HalfEven).unwrap_or(Money::MAX);
            let held = held.checked_abs().unwrap_or(Money::MAX);
            st.trip_notional = st.trip_notional.max(held);
        }
        if now == 0 {
            self.symbols[i].refused_guards = [None; 2];
        }
        self.revalue(seq, sym, out);
        self.protect(seq, sym, out);
    }

    /// A round trip ended with net PnL `trip`: the losing-streak breaker.
    fn end_trip<S: OutputSink>(&mut self, seq: Seq, trip: Money, out: &mut S) {
        let (max, cooldown) = (self.risk.limits.max_losses, self.risk.limits.cooldown);
        if self.control.on_trip(trip, max, cooldown, self.clock.now()) {
            self.refresh_state(seq, ChangeCause::ConsecutiveLosses, out);
        }
    }

    pub(super) fn on_order_rejected<S: OutputSink>(
        &mut self,
        seq: Seq,
        r: &OrderRejected,
        out: &mut S,
    ) {
        if r.request == Request::Cancel {
            self.on_cancel_rejected(seq, r, out);
            return;
        }
        match self.orders.reject(r.client_id) {
            (UpdateCheck::Apply { .. }, Some(order)) => {
                self.stats.rejects += 1;
                if !order.kind.is_conditional() {
                    // Do not chase the target again until the next cross.
                    self.drop_target(order.symbol);
                }
                self.alert(
                    seq,
                    AlertCode::OrderRejected,
                    order.symbol,
                    i64::from(r.code),
                    out,
                );
                self.record_result(seq, true, out);
                if r.reason == RejectReason::Liquidating {
                    self.hold_for_liquidation(seq, out);
                }
                if order.kind.is_conditional() {
                    self.guard_ended(seq, &order, out);
                }
                if r.reason == RejectReason::Auth && !self.control.conditions().auth {
                    self.control.conditions_mut().auth = true;
                    self.refresh_state(seq, ChangeCause::AuthFailure, out);
                    self.set_mode(seq, ControlMode::Emergency, ChangeCause::AuthFailure, out);
                }
            }
            (check, order) => self.refuse_update(seq, r.client_id, check, order, out),
        }
    }

    /// The exchange refused a cancel. An order that already ended raced the
    /// cancel (normal); a live one keeps working and is flagged.
    fn on_cancel_rejected<S: OutputSink>(&mut self, seq: Seq, r: &OrderRejected, out: &mut S) {
        self.stats.cancel_rejects += 1;
        let Some(i) = self.orders.slot_of(r.client_id) else {
            self.stats.unknown_orders += 1;
            self.alert(
                seq,
                AlertCode::UnknownOrder,
                SymbolId(0),
                r.client_id.0 as i64,
                out,
            );
            return;
        };
        if let Some(o) = self.orders.live_at(i) {
            self.orders.flag_cancel(i, false, false);
            self.alert(
                seq,
                AlertCode::CancelRefused,
                o.symbol,
                i64::from(r.code),
                out,
            );
        }
    }

    /// Remembers one order result for the error-rate breaker.
    fn record_result<S: OutputSink>(&mut self, seq: Seq, refused: bool, out: &mut S) {
        let (window, max) = (self.risk.limits.error_window, self.risk.limits.max_errors);
        if self.control.on_order_result(refused, window, max) {
            self.refresh_state(seq, ChangeCause::ErrorRate, out);
        }
    }

    /// Cancels unfilled limit orders that have rested longer than the
    /// configured time; each is re-placed when its cancel is confirmed.
    pub(super) fn replace_resting<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        let after = self.risk.limits.replace_after;
        if after == 0 || self.clock.now() < self.next_replace_scan {
            return;
        }
        let mut next = u64::MAX;
        for i in 0..self.orders.capacity() {
            let Some(o) = self.orders.live_at(i) else {
                continue;
            };
            if o.kind != OrderKind::Limit || o.cancel_sent || !o.filled.is_zero() {
                continue;
            }
            let due = o.sent_at.0.saturating_add(after);
            if o.state == OrderState::Accepted && self.clock.now().0 >= due {
                self.orders.flag_cancel(i, true, true);
                self.send_cancel(seq, &o, out);
            } else {
                next = next.min(due.max(self.clock.now().0 + 1));
            }
        }
        self.next_replace_scan = UnixNanos(next);
    }

    /// Re-places a cancelled resting order at the current best price of its
    /// own side (joining the queue), through the whole veto chain again. A
    /// maker-first entry whose replaces are used up takes its fallback
    /// instead: the rest at market, or the entry given up.
    fn replace<S: OutputSink>(&mut self, seq: Seq, o: &OpenOrder, out: &mut S) {
        let remaining = Qty::from_raw(o.qty.raw() - o.filled.raw());
        if self.maker_used_up(o) {
            let cross = self
                .signals
                .weight(usize::from(o.plan.strategy))
                .maker_cross;
            let intent = Intent {
                plan: o.plan,
                ..Intent::market(o.symbol, o.side, remaining, Origin::Strategy)
            };
            if cross && self.submit(seq, intent, out) {
                return;
            }
            // Given up (or its market order vetoed): like a veto, the same
            // proposal is not chased again.
            let s = &mut self.symbols[usize::from(o.symbol.0)];
            s.refused = (s.owner, crate::event::Stance::of(s.target));
            self.drop_target(o.symbol);
            return;
        }
        let book = self.symbols[usize::from(o.symbol.0)].quote.book;
        let price = match o.side {
            Side::Buy => book.bid_price,
            Side::Sell => book.ask_price,
        };
        let intent = Intent {
            symbol: o.symbol,
            side: o.side,
            qty: remaining,
            kind: OrderKind::Limit,
            price,
            reduce_only: o.reduce_only,
            post_only: o.post_only,
            origin: Origin::Replace,
            plan: o.plan,
        };
        self.submit(seq, intent, out);
    }
}

impl Core {
    /// A maker-first entry was cancelled for its replace: counts the
    /// attempt; `true` once the instance's replaces are used up.
    fn maker_used_up(&mut self, o: &OpenOrder) -> bool {
        if !o.plan.is_strategy() || o.reduce_only {
            return false;
        }
        let w = self.signals.weight(usize::from(o.plan.strategy));
        if !w.maker {
            return false;
        }
        let s = &mut self.symbols[usize::from(o.symbol.0)];
        s.maker_tries = s.maker_tries.saturating_add(1);
        if s.maker_tries <= w.maker_replaces {
            return false;
        }
        s.maker_tries = 0;
        true
    }
}

/// The audit record of an order the pool cannot hold.
fn pool_veto(intent: &Intent, id: ClientOrderId, value: i64) -> Audit {
    Audit {
        id,
        symbol: intent.symbol,
        verdict: Verdict::Vetoed,
        rule: Rule::OrderPool,
        side: intent.side,
        origin: intent.origin,
        qty: intent.qty,
        value,
        limit: value,
    }
}
