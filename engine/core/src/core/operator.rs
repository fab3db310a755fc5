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

use super::ModeRefusal;
use super::approvals::{MAX_PENDING_APPROVALS, Pending};
use super::{Core, Intent, OutputSink};
use crate::event::{
    AlertCode, Audit, ChangeCause, ControlMode, OperatorAction, OperatorCommand, OrderKind, Origin,
    OutputBody, SystemState, Verdict,
};
use crate::types::{ClientOrderId, Qty, Seq, Side, SymbolId, UnixNanos};

crate::event::wire! { no_default:
/// What an operator refusal alert's value means: the command's action in
/// the high byte, the reason in the low one.
#[repr(u8)]
pub enum Refusal {
    /// No pending order has that id.
    UnknownApproval = 1,
    /// The symbol is not configured.
    UnknownSymbol = 2,
    /// An argument is out of range (mode number, quantity).
    BadArgument = 3,
    /// A reset left the system HALTED by the day's loss (it lifts at the
    /// next UTC day, or with the day-loss override).
    HaltedByDailyLoss = 4,
    /// A reset left the system HALTED: the drawdown is still at or beyond
    /// the limit (it lifts when equity recovers, or with the drawdown
    /// override).
    HaltedByDrawdown = 5,
    /// No strategy instance has that number.
    UnknownStrategy = 6,
}
}

impl Refusal {
    /// Every refusal, in `repr` order.
    pub const ALL: [Refusal; 6] = [
        Refusal::UnknownApproval,
        Refusal::UnknownSymbol,
        Refusal::BadArgument,
        Refusal::HaltedByDailyLoss,
        Refusal::HaltedByDrawdown,
        Refusal::UnknownStrategy,
    ];
}

crate::event::wire! {
/// What the core did with the last operator command, for the operator's
/// answer (`runtime::board`): whether it was refused and why, and the first
/// veto of an order it caused, with the values compared.
pub struct CommandResult {
    /// The command itself was refused (or left the system halted).
    pub refusal: Option<Refusal>,
    /// A mode change the table or its checks refused: the mode asked for
    /// and why.
    pub mode_refusal: Option<(ControlMode, ModeRefusal)>,
    /// The first veto of an order the command caused.
    pub veto: Option<Audit>,
}
}

/// `Reset` argument bit: also lift a daily-loss halt for the rest of the
/// UTC day; the day-loss limit then counts from the equity at the reset.
pub const RESET_OVERRIDE_DAY_LOSS: u64 = 1;
/// `Reset` argument bit: also lift a drawdown halt; the drawdown limit then
/// counts from a high-water mark at the equity at the reset.
pub const RESET_OVERRIDE_DRAWDOWN: u64 = 2;
/// `Kill` argument bit: also flatten every position (reduce-only market
/// orders, which the kill switch lets through).
pub const KILL_FLATTEN: u64 = 1;

impl Core {
    pub(super) fn on_operator<S: OutputSink>(
        &mut self,
        seq: Seq,
        sym: SymbolId,
        c: &OperatorCommand,
        out: &mut S,
    ) {
        self.last_command = CommandResult::default();
        match c.action {
            OperatorAction::Kill => {
                self.control.set_kill_switch(true);
                self.set_mode(seq, ControlMode::Emergency, ChangeCause::KillSwitch, out);
                self.cancel_entries_if_closed(seq, out);
                if c.arg & KILL_FLATTEN != 0 {
                    for i in 0..self.symbols.len() {
                        self.flatten(seq, SymbolId(i as u16), out);
                    }
                }
            }
            OperatorAction::Reset => self.reset(seq, c, out),
            OperatorAction::Shutdown => {
                self.control.conditions_mut().stopped = true;
                self.refresh_state(seq, ChangeCause::Shutdown, out);
            }
            OperatorAction::Start => {
                if self.control.conditions().stopped {
                    self.control.conditions_mut().stopped = false;
                    self.refresh_state(seq, ChangeCause::Operator, out);
                }
                self.validate_restored(seq, out);
            }
            OperatorAction::SetMode => match ControlMode::from_index(c.arg) {
                Some(to) => self.request_mode(seq, to, ChangeCause::Operator, out),
                None => self.refuse_operator(seq, c, Refusal::BadArgument, out),
            },
            OperatorAction::Approve => self.approve(seq, c, out),
            OperatorAction::Reject => match self.approvals.take(ClientOrderId(c.arg)) {
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
            OperatorAction::DisableStrategy | OperatorAction::EnableStrategy => {
                let on = c.action == OperatorAction::EnableStrategy;
                let k = usize::try_from(c.arg).unwrap_or(usize::MAX);
                if !self.signals.set_enabled(k, on) {
                    self.refuse_operator(seq, c, Refusal::UnknownStrategy, out);
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
                        plan: super::Plan::NONE,
                    };
                    self.submit(seq, intent, out);
                }
            }
        }
    }

    /// Releases the kill switch and the breakers that wait for an operator
    /// (drawdown, auth failure, an exchange liquidation); never the accounting: the day's PnL and the
    /// high-water mark stay. A daily-loss halt stays until the next UTC day
    /// unless the command carries [`RESET_OVERRIDE_DAY_LOSS`]; a drawdown
    /// still at the limit stays unless it carries [`RESET_OVERRIDE_DRAWDOWN`].
    /// Overrides re-arm the limit from the equity now (`Account`), and are
    /// shown in the status. What stays halted is a refusal, with its reason.
    fn reset<S: OutputSink>(&mut self, seq: Seq, c: &OperatorCommand, out: &mut S) {
        self.control.set_kill_switch(false);
        self.control.conditions_mut().auth = false;
        self.control.conditions_mut().liquidation = super::Hold::Off;
        if self.control.conditions().daily_loss && c.arg & RESET_OVERRIDE_DAY_LOSS != 0 {
            self.account.override_day_loss();
            self.control.conditions_mut().daily_loss = false;
        }
        if self.control.conditions().drawdown {
            if c.arg & RESET_OVERRIDE_DRAWDOWN != 0 {
                self.account.override_drawdown();
                self.control.conditions_mut().drawdown = false;
            } else if !self.account.drawdown_reaches(self.risk.limits.max_drawdown) {
                self.control.conditions_mut().drawdown = false;
            }
        }
        self.refresh_state(seq, ChangeCause::Operator, out);
        if self.control.conditions().daily_loss {
            self.refuse_operator(seq, c, Refusal::HaltedByDailyLoss, out);
        } else if self.control.conditions().drawdown {
            self.refuse_operator(seq, c, Refusal::HaltedByDrawdown, out);
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
        self.last_command.refusal = Some(why);
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
        if self.approvals.len() == MAX_PENDING_APPROVALS {
            let veto = Audit {
                verdict: Verdict::Vetoed,
                rule: crate::event::Rule::OrderPool,
                value: MAX_PENDING_APPROVALS as i64,
                limit: MAX_PENDING_APPROVALS as i64,
                ..approval
            };
            self.record_veto(seq, veto, out);
            return false;
        }
        let expires = UnixNanos(
            self.clock
                .now()
                .0
                .saturating_add(self.risk.limits.approval_timeout),
        );
        // What waits is what the chain approved (sizing may have cut it),
        // and the target is where it would take the position.
        let intent = Intent {
            qty: approval.qty,
            ..intent
        };
        let s = &mut self.symbols[usize::from(intent.symbol.0)];
        s.target = s
            .position
            .qty()
            .raw()
            .saturating_add(intent.qty.raw().saturating_mul(intent.side.sign()));
        let parked = self.approvals.park(Pending {
            id,
            intent,
            expires,
        });
        debug_assert!(parked, "a free slot was checked above");
        self.stats.approvals_requested += 1;
        let pending = Audit {
            verdict: Verdict::Pending,
            value: i64::try_from(expires.0).unwrap_or(i64::MAX),
            limit: i64::try_from(self.risk.limits.approval_timeout).unwrap_or(i64::MAX),
            ..approval
        };
        self.emit(seq, OutputBody::Audit(pending), out);
        true
    }

    /// `true` if an order of `sym` waits for approval.
    pub(super) fn has_pending(&self, sym: SymbolId) -> bool {
        self.approvals.has(sym)
    }

    fn close_pending<S: OutputSink>(
        &mut self,
        seq: Seq,
        p: &Pending,
        verdict: Verdict,
        out: &mut S,
    ) {
        self.drop_target(p.intent.symbol);
        let audit = Audit {
            id: p.id,
            symbol: p.intent.symbol,
            verdict,
            rule: crate::event::Rule::ControlMode,
            side: p.intent.side,
            origin: p.intent.origin,
            qty: p.intent.qty,
            value: i64::try_from(self.clock.now().0).unwrap_or(i64::MAX),
            limit: i64::try_from(p.expires.0).unwrap_or(i64::MAX),
        };
        self.emit(seq, OutputBody::Audit(audit), out);
    }

    fn approve<S: OutputSink>(&mut self, seq: Seq, c: &OperatorCommand, out: &mut S) {
        let Some(p) = self.approvals.take(ClientOrderId(c.arg)) else {
            self.refuse_operator(seq, c, Refusal::UnknownApproval, out);
            return;
        };
        if self.clock.now() > p.expires {
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
                self.drop_target(p.intent.symbol);
                self.record_veto(seq, veto, out);
            }
        }
    }

    /// Declines every pending order whose time ran out.
    pub(super) fn expire_approvals<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        while let Some(p) = self.approvals.take_expired(self.clock.now()) {
            self.close_pending(seq, &p, Verdict::Expired, out);
        }
        // Leaving SemiAuto drops what waits: nobody will approve it.
        if self.control.mode() != ControlMode::SemiAuto
            || self.control.state() == SystemState::Halted
        {
            while let Some(p) = self.approvals.take_any() {
                self.close_pending(seq, &p, Verdict::Declined, out);
            }
        }
    }
}
