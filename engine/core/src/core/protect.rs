//! Protective orders resting at the exchange (per strategy instance,
//! `protect = "exchange" | "both"`): a position that survives the engine.
//!
//! Whenever a strategy position, its stop or its target changes, the core
//! makes the exchange hold exactly one reduce-only stop-market for it
//! (Binance's `STOP_MARKET` with `closePosition`) and, with
//! `protect_target = true`, one take-profit-market at its target
//! (`TAKE_PROFIT_MARKET`): placed when the position opens, replaced
//! (cancel, then a new order) when its size, stop or target changes,
//! cancelled when the position is flat or no longer a strategy's. Whichever
//! triggers first closes the position; the other is then cancelled.
//!
//! Invariants:
//! - A protective order is placed only from here, never through the veto
//!   chain: it can only close, so no rule meant to stop risk may keep it
//!   off (an audit record still explains it, origin `Protect`).
//! - It never counts as exposure or as an order in flight
//!   (`OrderTable::pending`, `has_open`), so it holds back neither the
//!   strategy's entries nor the core's own exits.
//! - An order the exchange refused or expired is not placed again for the
//!   same position and level (no loop of refusals); it is alerted
//!   (`Unprotected`), and the core's own stop or target stands in.
//! - Nothing is placed in a dry run, where no order leaves at all.

use super::{Core, OpenOrder, OrderState, OutputSink};
use crate::event::{AlertCode, Audit, NewOrder, OrderKind, Origin, OutputBody, Rule, Verdict};
use crate::strategy::Protect;
use crate::types::{Price, Qty, Seq, Side, SymbolId};

/// A protective order a position wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Guard {
    /// `StopMarket` (the stop) or `TakeProfitMarket` (the target).
    pub kind: OrderKind,
    /// The side that closes the position.
    pub side: Side,
    /// The level, rounded to the tick toward the market (it triggers no
    /// later than the strategy's own level).
    pub trigger: Price,
    /// The position it guards.
    pub qty: Qty,
}

impl Guard {
    fn of(o: &OpenOrder) -> Guard {
        Guard {
            kind: o.kind,
            side: o.side,
            trigger: o.price,
            qty: o.qty,
        }
    }

    /// Its place in `SymbolState::refused_guards`.
    fn slot(kind: OrderKind) -> usize {
        usize::from(kind == OrderKind::TakeProfitMarket)
    }
}

/// The guards a position wants: the stop, the target.
type Wanted = [Option<Guard>; 2];

impl Core {
    /// The protective orders `sym`'s position wants now.
    fn wanted_guards(&self, sym: SymbolId) -> Wanted {
        let s = &self.symbols[usize::from(sym.0)];
        let held = s.position.qty();
        if held.is_zero() || s.holder == super::strategies::NO_STRATEGY {
            return [None; 2];
        }
        let w = self.signals.weight(usize::from(s.holder));
        if w.protect == Protect::Core {
            return [None; 2];
        }
        let (side, toward_market) = if held.is_positive() {
            (Side::Sell, Side::Buy)
        } else {
            (Side::Buy, Side::Sell)
        };
        let Some(qty) = held.checked_abs() else {
            return [None; 2];
        };
        let guard = |kind, level: Price, rounding| {
            let trigger = s.instrument.round_price(level, rounding)?;
            (level.is_positive() && trigger.is_positive()).then_some(Guard {
                kind,
                side,
                trigger,
                qty,
            })
        };
        // A stop rounds toward the market as a closing order on `side`
        // would (a sell's up); a target toward the market the other way.
        let stop = guard(OrderKind::StopMarket, s.stop, side);
        let take = if w.protect_target {
            guard(OrderKind::TakeProfitMarket, s.take, toward_market)
        } else {
            None
        };
        [stop, take]
    }

    /// `true` while the exchange holds an acknowledged protective order of
    /// `kind` for `sym` that is not being cancelled.
    pub(super) fn guard_working(&self, sym: SymbolId, kind: OrderKind) -> bool {
        self.orders.iter().any(|o| {
            o.symbol == sym && o.kind == kind && o.state == OrderState::Accepted && !o.cancel_sent
        })
    }

    /// `true` if a protective order of `sym` is live and not being cancelled.
    fn guard_resting(&self, sym: SymbolId) -> bool {
        self.orders
            .iter()
            .any(|o| o.symbol == sym && o.kind.is_conditional() && !o.cancel_sent)
    }

    /// Makes the exchange's protective orders of `sym` what its position
    /// wants: cancels every other one, places each wanted one missing.
    /// Walks the order table by slot: no allocation.
    pub(super) fn protect<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        if self.risk.limits.dry_run {
            return;
        }
        let want = self.wanted_guards(sym);
        // While an order of the symbol is in flight the position is still
        // moving (an entry filling in parts): what already rests stays
        // until it settles, rather than being replaced on every fill.
        let wants_any = want.iter().any(Option::is_some);
        if wants_any && self.orders.has_open(sym) && self.guard_resting(sym) {
            return;
        }
        let mut held = [false; 2];
        for i in 0..self.orders.capacity() {
            let Some(o) = self.orders.live_at(i) else {
                continue;
            };
            if o.symbol != sym || !o.kind.is_conditional() || o.cancel_sent {
                continue;
            }
            let k = Guard::slot(o.kind);
            if want[k] == Some(Guard::of(&o)) && !held[k] {
                held[k] = true;
                continue;
            }
            self.orders.flag_cancel(i, true, false);
            self.send_cancel(seq, &o, out);
        }
        let refused = self.symbols[usize::from(sym.0)].refused_guards;
        for k in 0..2 {
            if let Some(g) = want[k]
                && !held[k]
                && refused[k] != Some(g)
            {
                self.place_guard(seq, sym, g, out);
            }
        }
    }

    /// Sends protective order `g` of `sym`, with its audit record.
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
            kind: g.kind,
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
            kind: g.kind,
            reduce_only: true,
            post_only: false,
            price: g.trigger,
            qty: g.qty,
        };
        self.emit(seq, OutputBody::NewOrder(order), out);
    }

    /// The pool could not take protective order `g`: recorded, alerted,
    /// and not tried again for this position and level.
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

    /// Protective order `g` of `sym` is gone without closing anything (the
    /// exchange refused or expired it): alerted, and not placed again until
    /// the position or its level changes.
    pub(super) fn guard_lost<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        g: Guard,
        out: &mut S,
    ) {
        self.symbols[usize::from(sym.0)].refused_guards[Guard::slot(g.kind)] = Some(g);
        self.alert(seq, AlertCode::Unprotected, sym, g.trigger.raw(), out);
    }

    /// A protective order ended without a fill: one the position still
    /// wants that was refused or expired is lost (see [`Core::guard_lost`]);
    /// then the symbol's stops are made right again (one cancelled by
    /// someone else is placed anew).
    pub(super) fn guard_ended<S: OutputSink>(&mut self, seq: Seq, o: &OpenOrder, out: &mut S) {
        let refused = matches!(o.state, OrderState::Rejected | OrderState::Expired);
        let wanted = self.wanted_guards(o.symbol)[Guard::slot(o.kind)];
        if refused && wanted == Some(Guard::of(o)) {
            self.guard_lost(seq, o.symbol, Guard::of(o), out);
        }
        self.protect(seq, o.symbol, out);
    }
}
