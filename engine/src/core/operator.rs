//! Operator commands and SemiAuto approvals. Commands are input events, so
//! every one is journaled and a replay repeats it.
//!
//! # Approvals
//! In SemiAuto a strategy order that passes the veto chain is parked and
//! announced (`Verdict::Pending`, with the client id it will get). The
//! operator approves or declines it by that id. Approval runs the chain
//! again (the market moved); a pending order older than the timeout (event
//! time) is declined as `Verdict::Expired`. At most
//! [`MAX_PENDING_APPROVALS`] wait at once; more are vetoed (`OrderPool`).

use super::{Core, Intent, OutputSink};
use crate::event::{
    AlertCode, Audit, ChangeCause, ControlMode, OperatorAction, OperatorCommand, OrderKind, Origin,
    OutputBody, SystemState, Verdict,
};
use crate::types::{ClientOrderId, Qty, Seq, Side, SymbolId, UnixNanos};

/// Most orders waiting for approval at once.
pub const MAX_PENDING_APPROVALS: usize = 16;

/// What an operator refusal alert's value means: the command's action in
/// the high byte, the reason in the low one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Refusal {
    /// No pending order has that id.
    UnknownApproval = 1,
    /// The symbol is not configured.
    UnknownSymbol = 2,
    /// An argument is out of range (mode number, quantity).
    BadArgument = 3,
}

/// An order waiting for the operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Pending {
    /// The client id it will be sent with.
    pub id: ClientOrderId,
    /// What the strategy wanted.
    pub intent: Intent,
    /// Declined after this event time.
    pub expires: UnixNanos,
}

impl Core {
    pub(super) fn on_operator<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        c: &OperatorCommand,
        out: &mut S,
    ) {
        match c.action {
            OperatorAction::Kill => {
                self.kill_switch = true;
                self.set_mode(seq, ControlMode::Emergency, ChangeCause::KillSwitch, out);
                self.cancel_all(seq, None, out);
            }
            OperatorAction::Reset => {
                self.kill_switch = false;
                self.cond.daily_loss = false;
                self.cond.drawdown = false;
                self.cond.auth = false;
                self.account.rebase();
                self.refresh_state(seq, ChangeCause::Operator, out);
            }
            OperatorAction::Shutdown => {
                self.cond.stopped = true;
                self.refresh_state(seq, ChangeCause::Shutdown, out);
            }
            OperatorAction::Start => {
                if self.cond.stopped {
                    self.cond.stopped = false;
                    self.refresh_state(seq, ChangeCause::Operator, out);
                }
                self.validate_restored(seq, out);
            }
            OperatorAction::SetMode => match ControlMode::from_index(c.arg) {
                Some(to) => self.request_mode(seq, to, ChangeCause::Operator, out),
                None => self.refuse_operator(seq, c, Refusal::BadArgument, out),
            },
            OperatorAction::Approve => self.approve(seq, c, out),
            OperatorAction::Reject => match self.take_pending(ClientOrderId(c.arg)) {
                Some(p) => self.close_pending(seq, &p, Verdict::Declined, out),
                None => self.refuse_operator(seq, c, Refusal::UnknownApproval, out),
            },
            OperatorAction::Flatten => {
                if c.arg == 1 {
                    for i in 0..self.symbols.len() {
                        self.flatten(seq, SymbolId(i as u16), out);
                    }
                } else if usize::from(sym.0) < self.symbols.len() {
                    self.flatten(seq, sym, out);
                } else {
                    self.refuse_operator(seq, c, Refusal::UnknownSymbol, out);
                }
            }
            OperatorAction::Order => {
                if usize::from(sym.0) >= self.symbols.len() {
                    self.refuse_operator(seq, c, Refusal::UnknownSymbol, out);
                } else if !c.qty.is_positive()
                    || c.kind == OrderKind::Limit && !c.price.is_positive()
                {
                    self.refuse_operator(seq, c, Refusal::BadArgument, out);
                } else {
                    let intent = Intent {
                        symbol: sym,
                        side: c.side,
                        qty: c.qty,
                        kind: c.kind,
                        price: c.price,
                        reduce_only: c.flags & OperatorCommand::REDUCE_ONLY != 0,
                        post_only: c.flags & OperatorCommand::POST_ONLY != 0,
                        origin: Origin::Operator,
                        edge: None,
                    };
                    self.submit(seq, intent, out);
                }
            }
        }
    }

    fn refuse_operator<S: OutputSink>(
        &mut self,
        seq: Seq,
        c: &OperatorCommand,
        why: Refusal,
        out: &mut S,
    ) {
        self.stats.operator_refused += 1;
        let value = ((c.action as i64) << 8) | why as i64;
        self.alert(seq, AlertCode::OperatorRefused, SymbolId(0), value, out);
    }

    /// Closes a symbol's position with a reduce-only market order, cancels
    /// its live orders, and stops the strategy re-entering until its next
    /// signal.
    fn flatten<S: OutputSink>(&mut self, seq: Seq, sym: SymbolId, out: &mut S) {
        self.cancel_all(seq, Some(sym), out);
        let s = &mut self.symbols[usize::from(sym.0)];
        s.target = 0;
        let held = s.position.qty();
        if held.is_zero() {
            return;
        }
        let side = if held.is_positive() {
            Side::Sell
        } else {
            Side::Buy
        };
        let qty = held.checked_abs().unwrap_or(Qty::MAX);
        self.submit(seq, Intent::market(sym, side, qty, Origin::Flatten), out);
    }

    /// Parks an approved strategy order for the operator.
    pub(super) fn park<S: OutputSink>(
        &mut self,
        seq: Seq,
        id: ClientOrderId,
        intent: Intent,
        approval: Audit,
        out: &mut S,
    ) -> bool {
        let Some(slot) = self.approvals.iter().position(Option::is_none) else {
            let veto = Audit {
                verdict: Verdict::Vetoed,
                rule: crate::event::Rule::OrderPool,
                value: MAX_PENDING_APPROVALS as i64,
                limit: MAX_PENDING_APPROVALS as i64,
                ..approval
            };
            self.record_veto(seq, veto, out);
            return false;
        };
        let expires = UnixNanos(self.now.0.saturating_add(self.limits.approval_timeout));
        self.approvals[slot] = Some(Pending {
            id,
            intent,
            expires,
        });
        self.stats.approvals_requested += 1;
        let pending = Audit {
            verdict: Verdict::Pending,
            value: i64::try_from(expires.0).unwrap_or(i64::MAX),
            limit: i64::try_from(self.limits.approval_timeout).unwrap_or(i64::MAX),
            ..approval
        };
        self.emit(seq, OutputBody::Audit(pending), out);
        true
    }

    /// `true` if an order of `sym` waits for approval.
    pub(super) fn has_pending(&self, sym: SymbolId) -> bool {
        self.approvals
            .iter()
            .flatten()
            .any(|p| p.intent.symbol == sym)
    }

    fn take_pending(&mut self, id: ClientOrderId) -> Option<Pending> {
        self.approvals
            .iter_mut()
            .find(|p| p.is_some_and(|p| p.id == id))
            .and_then(Option::take)
    }

    fn close_pending<S: OutputSink>(
        &mut self,
        seq: Seq,
        p: &Pending,
        verdict: Verdict,
        out: &mut S,
    ) {
        let s = &mut self.symbols[usize::from(p.intent.symbol.0)];
        s.target = s.position.qty().raw();
        let audit = Audit {
            id: p.id,
            symbol: p.intent.symbol,
            verdict,
            rule: crate::event::Rule::ControlMode,
            side: p.intent.side,
            origin: p.intent.origin,
            qty: p.intent.qty,
            value: i64::try_from(self.now.0).unwrap_or(i64::MAX),
            limit: i64::try_from(p.expires.0).unwrap_or(i64::MAX),
        };
        self.emit(seq, OutputBody::Audit(audit), out);
    }

    fn approve<S: OutputSink>(&mut self, seq: Seq, c: &OperatorCommand, out: &mut S) {
        let Some(p) = self.take_pending(ClientOrderId(c.arg)) else {
            self.refuse_operator(seq, c, Refusal::UnknownApproval, out);
            return;
        };
        if self.now > p.expires {
            self.close_pending(seq, &p, Verdict::Expired, out);
            return;
        }
        // The world may have changed since the order was parked: the whole
        // chain runs again, and the order keeps the id it was announced with.
        match self.check(&p.intent, p.id) {
            Ok(ok) => {
                self.send(seq, p.id, &p.intent, ok, out);
            }
            Err(veto) => {
                let s = &mut self.symbols[usize::from(p.intent.symbol.0)];
                s.target = s.position.qty().raw();
                self.record_veto(seq, veto, out);
            }
        }
    }

    /// Declines every pending order whose time ran out.
    pub(super) fn expire_approvals<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        for i in 0..self.approvals.len() {
            if let Some(p) = self.approvals[i].filter(|p| self.now > p.expires) {
                self.approvals[i] = None;
                self.close_pending(seq, &p, Verdict::Expired, out);
            }
        }
        // Leaving SemiAuto drops what waits: nobody will approve it.
        if self.mode != ControlMode::SemiAuto || self.state == SystemState::Halted {
            for i in 0..self.approvals.len() {
                if let Some(p) = self.approvals[i].take() {
                    self.close_pending(seq, &p, Verdict::Declined, out);
                }
            }
        }
    }
}
