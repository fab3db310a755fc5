//! Protective stops resting at the exchange (per strategy instance,
//! `protect = "exchange" | "both"`): a position that survives the engine.
//!
//! Whenever a strategy position or its stop changes, the core makes the
//! exchange hold exactly one reduce-only stop-market for it (Binance's
//! `STOP_MARKET` with `closePosition`): placed when the position opens,
//! replaced (cancel, then a new order) when its size or stop changes,
//! cancelled when the position is flat or no longer a strategy's.
//!
//! Invariants:
//! - A protective order is placed only from here, never through the veto
//!   chain: it can only close, so no rule meant to stop risk may keep it
//!   off (an audit record still explains it, origin `Protect`).
//! - It never counts as exposure or as an order in flight
//!   (`OrderTable::pending`, `has_open`), so it holds back neither the
//!   strategy's entries nor the core's own exits.
//! - A stop the exchange refused or expired is not placed again for the
//!   same position and stop (no loop of refusals); it is alerted
//!   (`Unprotected`), and the core's own stop guards the position.
//! - Nothing is placed in a dry run, where no order leaves at all.

use super::{Core, OpenOrder, OrderState, OutputSink};
use crate::event::{AlertCode, Audit, NewOrder, OrderKind, Origin, OutputBody, Rule, Verdict};
use crate::strategy::Protect;
use crate::types::{Price, Qty, Seq, Side, SymbolId};

/// The protective stop a position wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Guard {
    /// The side that closes the position.
    pub side: Side,
    /// The stop, rounded to the tick toward the market (it triggers no
    /// later than the strategy's stop).
    pub trigger: Price,
    /// The position it guards.
    pub qty: Qty,
}

impl Guard {
    fn of(o: &OpenOrder) -> Guard {
        Guard {
            side: o.side,
            trigger: o.price,
            qty: o.qty,
        }
    }
}

impl Core {
    /// The protective stop `sym`'s position wants now, if any.
    fn wanted_guard(&self, sym: SymbolId) -> Option<Guard> {
        let s = &self.symbols[usize::from(sym.0)];
        let held = s.position.qty();
        if held.is_zero() || !s.stop.is_positive() || s.holder == super::strategies::NO_STRATEGY {
            return None;
        }
        if self.signals.weight(usize::from(s.holder)).protect == Protect::Core {
            return None;
        }
        let side = if held.is_positive() {
            Side::Sell
        } else {
            Side::Buy
        };
        Some(Guard {
            side,
            trigger: s.instrument.round_price(s.stop, side)?,
            qty: held.checked_abs()?,
        })
    }

    /// `true` while the exchange holds an acknowledged protective stop of
    /// `sym` that is not being cancelled.
    pub(super) fn guard_working(&self, sym: SymbolId) -> bool {
        self.orders.iter().any(|o| {
            o.symbol == sym
                && o.kind.is_conditional()
                && o.state == OrderState::Accepted
                && !o.cancel_sent
        })
    }

    /// `true` if a protective stop of `sym` is live and not being cancelled.
    fn guard_resting(&self, sym: SymbolId) -> bool {
        self.orders
            .iter()
            .any(|o| o.symbol == sym && o.kind.is_conditional() && !o.cancel_sent)
    }

    /// Makes the exchange's protective stops of `sym` what its position
    /// wants: cancels every other one, places the wanted one if missing.
    /// Walks the order table by slot: no allocation.
    pub(super) fn protect<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        if self.limits.dry_run {
            return;
        }
        let want = self.wanted_guard(sym);
        // While an order of the symbol is in flight the position is still
        // moving (an entry filling in parts): a stop already resting stays
        // until it settles, rather than being replaced on every fill.
        if want.is_some() && self.orders.has_open(sym) && self.guard_resting(sym) {
            return;
        }
        let mut held = false;
        for i in 0..self.orders.capacity() {
            let Some(o) = self.orders.live_at(i) else {
                continue;
            };
            if o.symbol != sym || !o.kind.is_conditional() || o.cancel_sent {
                continue;
            }
            if want == Some(Guard::of(&o)) && !held {
                held = true;
                continue;
            }
            self.orders.flag_cancel(i, true, false);
            self.send_cancel(seq, &o, out);
        }
        let refused = self.symbols[usize::from(sym.0)].refused_guard;
        if let Some(g) = want
            && !held
            && refused != Some(g)
        {
            self.place_guard(seq, sym, g, out);
        }
    }

    /// Sends protective stop `g` of `sym`, with its audit record.
    fn place_guard<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, g: Guard, out: &mut S) {
        let audit = |id, verdict, rule, limit| Audit {
            id,
            symbol: sym,
            verdict,
            rule,
            side: g.side,
            origin: Origin::Protect,
            qty: g.qty,
            value: g.trigger.raw(),
            limit,
        };
        let Some(id) = self.next_id(seq) else {
            let limit = crate::types::ClientOrderId::PER_EVENT as i64;
            let none = crate::types::ClientOrderId(0);
            let veto = audit(none, Verdict::Vetoed, Rule::OrderPool, limit);
            self.unprotected(seq, sym, g, veto, out);
            return;
        };
        let inserted = self.orders.insert(OpenOrder {
            client_id: id,
            symbol: sym,
            side: g.side,
            qty: g.qty,
            filled: Qty::ZERO,
            state: OrderState::New,
            kind: OrderKind::StopMarket,
            price: g.trigger,
            reduce_only: true,
            post_only: false,
            origin: Origin::Protect,
            sent_at: self.clock.now(),
            cancel_sent: false,
            replace: false,
            plan: super::Plan::NONE,
        });
        if !inserted {
            let open = self.orders.open_count() as i64;
            let veto = audit(id, Verdict::Vetoed, Rule::OrderPool, open);
            self.unprotected(seq, sym, g, veto, out);
            return;
        }
        self.stats.orders += 1;
        let approval = audit(id, Verdict::Approved, Rule::AllPassed, 0);
        self.emit(seq, OutputBody::Audit(approval), out);
        let order = NewOrder {
            client_id: id,
            symbol: sym,
            side: g.side,
            kind: OrderKind::StopMarket,
            reduce_only: true,
            post_only: false,
            price: g.trigger,
            qty: g.qty,
        };
        self.emit(seq, OutputBody::NewOrder(order), out);
    }

    /// The pool could not take protective stop `g`: recorded, alerted, and
    /// not tried again for this position and stop.
    fn unprotected<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        g: Guard,
        veto: Audit,
        out: &mut S,
    ) {
        self.record_veto(seq, veto, out);
        self.guard_lost(seq, sym, g, out);
    }

    /// Protective stop `g` of `sym` is gone without closing anything (the
    /// exchange refused or expired it): alerted, and not placed again until
    /// the position or its stop changes.
    pub(super) fn guard_lost<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        g: Guard,
        out: &mut S,
    ) {
        self.symbols[usize::from(sym.0)].refused_guard = Some(g);
        self.alert(seq, AlertCode::Unprotected, sym, g.trigger.raw(), out);
    }

    /// A protective order ended without a fill: one the position still
    /// wants that was refused or expired is lost (see [`Core::guard_lost`]);
    /// then the symbol's stops are made right again (one cancelled by
    /// someone else is placed anew).
    pub(super) fn guard_ended<S: OutputSink>(&mut self, seq: Seq, o: &OpenOrder, out: &mut S) {
        let refused = matches!(o.state, OrderState::Rejected | OrderState::Expired);
        if refused && self.wanted_guard(o.symbol) == Some(Guard::of(o)) {
            self.guard_lost(seq, o.symbol, Guard::of(o), out);
        }
        self.protect(seq, o.symbol, out);
    }
}
