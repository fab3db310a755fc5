//! Control modes and system states (SPEC 6).
//!
//! # Control mode
//! One transition table, [`MODE_TABLE`], says how each mode may move to each
//! other: downgrades and any move to Emergency are immediate; Manual →
//! SemiAuto and SemiAuto → FullAuto are validated (no kill switch, the
//! system trading, every feed healthy, limits configured); Emergency →
//! Manual needs the operator's clearance (kill switch released, no halt)
//! and no position or live order; everything else is refused. Each mode
//! scales the rulebook's limits and caps leverage ([`ModeProfile`]).
//!
//! # System state
//! The state is a function of the conditions that hold it
//! ([`Conditions::state`]): stopped > HALTED (daily loss, drawdown, auth
//! failure) > SAFE_MODE (losing-streak cool-down, stale feed) > DEGRADED
//! (order error rate) > RUNNING. Breakers set and clear conditions; the state
//! follows, and every change is an output naming its cause. Whenever the
//! state, the mode or the kill switch stops new risk (`allowed`), the live
//! orders that could add risk are cancelled; exits keep working.

use super::{Core, OutputSink};
use crate::event::{
    AlertCode, ChangeCause, ControlMode, ModeChange, OutputBody, StateChange, SystemState,
};
use crate::types::{Money, Seq, UnixNanos};

/// How a mode may move to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeRule {
    /// Already there: nothing happens.
    Same,
    /// At once (downgrades, anything to Emergency).
    Immediate,
    /// After the upgrade checks pass.
    Validated,
    /// Only after operator clearance and with no position (Emergency → Manual).
    Cleared,
    /// Never.
    Refused,
}

use ModeRule::{Cleared, Immediate, Refused, Same, Validated};

/// `MODE_TABLE[from][to]`, indexed by `ControlMode as usize`
/// (Manual, SemiAuto, FullAuto, Emergency).
pub const MODE_TABLE: [[ModeRule; 4]; 4] = [
    [Same, Validated, Refused, Immediate],
    [Immediate, Same, Validated, Immediate],
    [Immediate, Immediate, Same, Immediate],
    [Cleared, Refused, Refused, Same],
];

/// The rule for moving `from` → `to`.
pub const fn mode_rule(from: ControlMode, to: ControlMode) -> ModeRule {
    MODE_TABLE[from as usize][to as usize]
}

crate::event::wire! { no_default:
/// Why a mode change was refused (the low byte of the alert's value).
#[repr(u8)]
pub enum ModeRefusal {
    /// The table forbids the move (e.g. Manual → FullAuto in one step).
    NotAllowed = 1,
    /// The kill switch is engaged.
    KillSwitch = 2,
    /// The system is not RUNNING or DEGRADED.
    NotTrading = 3,
    /// A market-data feed is not healthy.
    FeedsUnhealthy = 4,
    /// No position limit is configured (max_position_notional = 0).
    NoLimits = 5,
    /// A position or live order remains.
    NotFlat = 6,
}
}

impl ModeRefusal {
    /// Every reason, in `repr` order.
    pub const ALL: [ModeRefusal; 6] = [
        ModeRefusal::NotAllowed,
        ModeRefusal::KillSwitch,
        ModeRefusal::NotTrading,
        ModeRefusal::FeedsUnhealthy,
        ModeRefusal::NoLimits,
        ModeRefusal::NotFlat,
    ];
}

/// What a control mode allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeProfile {
    /// Percentage applied to the rulebook's size limits.
    pub limit_pct: i64,
    /// Leverage cap (whole multiples).
    pub leverage_cap: i64,
    /// Strategy orders are sent without an operator.
    pub automated: bool,
    /// Strategy orders wait for the operator's approval.
    pub needs_approval: bool,
    /// Orders may add risk.
    pub new_risk: bool,
}

impl ModeProfile {
    /// The profile of `mode` (SPEC 6 table).
    pub const fn of(mode: ControlMode) -> ModeProfile {
        match mode {
            ControlMode::Manual => ModeProfile {
                limit_pct: 50,
                leverage_cap: 1,
                automated: false,
                needs_approval: false,
                new_risk: true,
            },
            ControlMode::SemiAuto => ModeProfile {
                limit_pct: 75,
                leverage_cap: 2,
                automated: true,
                needs_approval: true,
                new_risk: true,
            },
            ControlMode::FullAuto => ModeProfile {
                limit_pct: 100,
                leverage_cap: 3,
                automated: true,
                needs_approval: false,
                new_risk: true,
            },
            ControlMode::Emergency => ModeProfile {
                limit_pct: 0,
                leverage_cap: 0,
                automated: true,
                needs_approval: false,
                new_risk: false,
            },
        }
    }
}

/// The conditions that hold the system state away from RUNNING.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Conditions {
    /// Shut down by the runtime.
    pub stopped: bool,
    /// The day's loss reached the limit (lifts at the next UTC day or reset).
    pub daily_loss: bool,
    /// Drawdown reached the limit (lifts on operator reset).
    pub drawdown: bool,
    /// The exchange refused our credentials (lifts on operator reset).
    pub auth: bool,
    /// End of a losing-streak cool-down (zero: none).
    pub cooldown_until: UnixNanos,
    /// Symbols whose market data is stale or disconnected.
    pub stale_feeds: u16,
    /// Too many refused orders in the window.
    pub error_rate: bool,
    /// The exchange liquidated a position (or is liquidating the account):
    /// the state it holds (`[risk.breakers] on_liquidation`) until the
    /// operator's reset.
    pub liquidation: Hold,
    /// Symbols whose position differs from the exchange's (periodic
    /// reconciliation, `on_drift = "safe_mode"`).
    pub drifting: u16,
}

/// A condition's hold on the state.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub enum Hold {
    /// None.
    #[default]
    Off,
    /// SAFE_MODE.
    SafeMode,
    /// HALTED.
    Halted,
}

impl Conditions {
    /// The system state these conditions imply.
    pub const fn state(&self) -> SystemState {
        if self.stopped {
            SystemState::Stopped
        } else if self.daily_loss
            || self.drawdown
            || self.auth
            || matches!(self.liquidation, Hold::Halted)
        {
            SystemState::Halted
        } else if self.cooldown_until.0 != 0
            || self.stale_feeds > 0
            || matches!(self.liquidation, Hold::SafeMode)
            || self.drifting > 0
        {
            SystemState::SafeMode
        } else if self.error_rate {
            SystemState::Degraded
        } else {
            SystemState::Running
        }
    }
}

/// The facts outside the control part that a mode upgrade or clearance
/// checks (`Core` gathers them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ModeFacts {
    /// Every market-data feed is healthy.
    pub feeds_ok: bool,
    /// A position limit is configured.
    pub limits_set: bool,
    /// No position and no live order.
    pub flat: bool,
}

/// What a mode request comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ModeVerdict {
    /// Already in that mode: nothing happens.
    Same,
    /// The move may happen.
    Move,
    /// The move is refused, and why.
    Refused(ModeRefusal),
}

/// The control part of the core: the kill switch, the control mode, the
/// system state, the conditions that hold it and the two breakers that
/// count (losing streak, error rate).
///
/// It decides and emits nothing itself: a change comes back as the
/// `StateChange` / `ModeChange` that happened, and `Core` records it and
/// cancels the entries that may no longer add risk.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Control {
    kill_switch: bool,
    mode: ControlMode,
    state: SystemState,
    cond: Conditions,
    /// Losing round trips in a row (the losing-streak breaker).
    losses: u32,
    /// Results of the last orders, newest in bit 0 (1 = refused; the
    /// error-rate breaker).
    recent_errors: u64,
}

impl Control {
    /// RUNNING in `mode`, the kill switch released, no condition set.
    pub(super) fn new(mode: ControlMode) -> Control {
        Control {
            kill_switch: false,
            mode,
            state: SystemState::Running,
            cond: Conditions::default(),
            losses: 0,
            recent_errors: 0,
        }
    }

    /// Losing round trips in a row.
    pub(super) fn losses(&self) -> u32 {
        self.losses
    }

    /// A round trip ended with net `pnl` (a zero one leaves the streak).
    /// `max_losses` in a row (0: no breaker) restart the streak and, with a
    /// `cooldown` (ns, 0: none), hold SAFE_MODE until `now + cooldown`:
    /// `true` when that cool-down began (the caller refreshes the state).
    pub(super) fn on_trip(
        &mut self,
        pnl: Money,
        max_losses: u32,
        cooldown: u64,
        now: UnixNanos,
    ) -> bool {
        if pnl.is_negative() {
            self.losses += 1;
        } else if pnl.is_positive() {
            self.losses = 0;
        }
        if max_losses == 0 || self.losses < max_losses {
            return false;
        }
        self.losses = 0;
        if cooldown == 0 {
            return false;
        }
        self.cond.cooldown_until = UnixNanos(now.0.saturating_add(cooldown).max(1));
        true
    }

    /// One order's result into the error-rate window of the last `window`
    /// (1 ..= 64) orders; `max_errors` refused in it degrade the system.
    /// `true` when the condition changed (the caller refreshes the state).
    pub(super) fn on_order_result(&mut self, refused: bool, window: u32, max_errors: u32) -> bool {
        let window = window.clamp(1, 64);
        let mask = if window == 64 {
            u64::MAX
        } else {
            (1u64 << window) - 1
        };
        self.recent_errors = ((self.recent_errors << 1) | u64::from(refused)) & mask;
        let degraded = self.recent_errors.count_ones() >= max_errors;
        let changed = degraded != self.cond.error_rate;
        self.cond.error_rate = degraded;
        changed
    }

    pub(super) fn mode(&self) -> ControlMode {
        self.mode
    }

    pub(super) fn state(&self) -> SystemState {
        self.state
    }

    pub(super) fn kill_switch(&self) -> bool {
        self.kill_switch
    }

    pub(super) fn conditions(&self) -> &Conditions {
        &self.cond
    }

    /// The conditions, to set or clear one; the state follows on the next
    /// [`Control::refresh`].
    pub(super) fn conditions_mut(&mut self) -> &mut Conditions {
        &mut self.cond
    }

    /// Engages or releases the kill switch.
    pub(super) fn set_kill_switch(&mut self, on: bool) {
        self.kill_switch = on;
    }

    /// `false` while the state, the mode or the kill switch refuses new
    /// risk (`allowed`).
    pub(super) fn takes_new_risk(&self) -> bool {
        super::takes_new_risk(self.state, self.mode, self.kill_switch)
    }

    /// Brings the state in line with the conditions: the change, if any,
    /// with `cause` (a move to a better state is a recovery, except at the
    /// new UTC day).
    pub(super) fn refresh(&mut self, cause: ChangeCause) -> Option<StateChange> {
        let to = self.cond.state();
        if to == self.state {
            return None;
        }
        let from = std::mem::replace(&mut self.state, to);
        let cause = if (to as u8) < (from as u8) && cause != ChangeCause::NewDay {
            ChangeCause::Recovered
        } else {
            cause
        };
        Some(StateChange { from, to, cause })
    }

    /// Whether the table and its checks let the mode move to `to`.
    pub(super) fn request(&self, to: ControlMode, facts: ModeFacts) -> ModeVerdict {
        let refusal = match mode_rule(self.mode, to) {
            Same => return ModeVerdict::Same,
            Immediate => None,
            Refused => Some(ModeRefusal::NotAllowed),
            Validated => self.upgrade_refusal(facts),
            Cleared => self.clearance_refusal(facts),
        };
        refusal.map_or(ModeVerdict::Move, ModeVerdict::Refused)
    }

    fn upgrade_refusal(&self, facts: ModeFacts) -> Option<ModeRefusal> {
        if self.kill_switch {
            Some(ModeRefusal::KillSwitch)
        } else if !matches!(self.state, SystemState::Running | SystemState::Degraded) {
            Some(ModeRefusal::NotTrading)
        } else if !facts.feeds_ok {
            Some(ModeRefusal::FeedsUnhealthy)
        } else if !facts.limits_set {
            Some(ModeRefusal::NoLimits)
        } else {
            None
        }
    }

    fn clearance_refusal(&self, facts: ModeFacts) -> Option<ModeRefusal> {
        if self.kill_switch {
            Some(ModeRefusal::KillSwitch)
        } else if matches!(self.state, SystemState::Halted | SystemState::Stopped) {
            Some(ModeRefusal::NotTrading)
        } else if !facts.flat {
            Some(ModeRefusal::NotFlat)
        } else {
            None
        }
    }

    /// Sets the mode unconditionally (the caller checked the table): the
    /// change, if it is one.
    pub(super) fn set_mode(&mut self, to: ControlMode, cause: ChangeCause) -> Option<ModeChange> {
        if self.mode == to {
            return None;
        }
        let from = std::mem::replace(&mut self.mode, to);
        Some(ModeChange { from, to, cause })
    }
}

impl Core {
    /// Brings the system state in line with the conditions; a change is an
    /// output with `cause`, and one that stops new risk cancels the entries.
    pub(super) fn refresh_state<S: OutputSink>(
        &mut self,
        seq: Seq,
        cause: ChangeCause,
        out: &mut S,
    ) {
        if let Some(change) = self.control.refresh(cause) {
            self.emit(seq, OutputBody::StateChange(change), out);
            self.cancel_entries_if_closed(seq, out);
        }
    }

    /// Moves to `to` if the table and its checks allow; otherwise alerts
    /// with `(to << 8) | refusal`.
    pub(super) fn request_mode<S: OutputSink>(
        &mut self,
        seq: Seq,
        to: ControlMode,
        cause: ChangeCause,
        out: &mut S,
    ) {
        let facts = ModeFacts {
            feeds_ok: self.symbols.iter().all(|s| s.feed_ok()),
            limits_set: self.risk.limits.max_position_notional.is_positive(),
            flat: self.orders.open_count() == 0
                && self.symbols.iter().all(|s| s.position.qty().is_zero()),
        };
        match self.control.request(to, facts) {
            ModeVerdict::Same => {}
            ModeVerdict::Move => self.set_mode(seq, to, cause, out),
            ModeVerdict::Refused(r) => {
                self.stats.mode_refusals += 1;
                self.last_command.mode_refusal = Some((to, r));
                let value = ((to as i64) << 8) | r as i64;
                self.alert(
                    seq,
                    AlertCode::ModeRefused,
                    crate::types::SymbolId(0),
                    value,
                    out,
                );
            }
        }
    }

    /// Sets the mode unconditionally (the caller checked the table).
    pub(super) fn set_mode<S: OutputSink>(
        &mut self,
        seq: Seq,
        to: ControlMode,
        cause: ChangeCause,
        out: &mut S,
    ) {
        if let Some(change) = self.control.set_mode(to, cause) {
            self.emit(seq, OutputBody::ModeChange(change), out);
            self.cancel_entries_if_closed(seq, out);
        }
    }

    /// At a run's start: a restored core whose positions exceed what its
    /// mode allows does not validate, and starts in Emergency.
    pub(super) fn validate_restored<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        let cap = i128::from(self.risk.limits.scaled_position(self.control.mode()).raw());
        let over = self.symbols.iter().any(|s| {
            let mark = s.mark_or_mid().map_or(0, |p| i128::from(p.raw()));
            i128::from(s.position.qty().raw()).abs() * mark > cap * i128::from(crate::types::SCALE)
        });
        if over || self.control.kill_switch() {
            self.set_mode(
                seq,
                ControlMode::Emergency,
                ChangeCause::RestoreInvalid,
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downgrades_are_immediate_and_upgrades_one_step_validated() {
        use ControlMode::*;
        for from in ControlMode::ALL {
            for to in ControlMode::ALL {
                let rule = mode_rule(from, to);
                let expected = if from == to {
                    Same
                } else if to == Emergency {
                    Immediate
                } else if from == Emergency {
                    if to == Manual { Cleared } else { Refused }
                } else if (to as u8) < (from as u8) {
                    Immediate
                } else if to as u8 == from as u8 + 1 {
                    Validated
                } else {
                    Refused
                };
                assert_eq!(rule, expected, "{from:?} -> {to:?}");
            }
        }
    }

    fn facts(feeds_ok: bool, flat: bool) -> ModeFacts {
        ModeFacts {
            feeds_ok,
            limits_set: true,
            flat,
        }
    }

    #[test]
    fn the_control_part_moves_by_its_table_and_facts() {
        let mut c = Control::new(ControlMode::Manual);
        let ok = facts(true, true);
        assert_eq!(c.request(ControlMode::Manual, ok), ModeVerdict::Same);
        assert_eq!(c.request(ControlMode::SemiAuto, ok), ModeVerdict::Move);
        assert_eq!(
            c.request(ControlMode::FullAuto, ok),
            ModeVerdict::Refused(ModeRefusal::NotAllowed)
        );
        assert_eq!(
            c.request(ControlMode::SemiAuto, facts(false, true)),
            ModeVerdict::Refused(ModeRefusal::FeedsUnhealthy)
        );
        c.set_kill_switch(true);
        assert!(!c.takes_new_risk());
        assert_eq!(
            c.request(ControlMode::SemiAuto, ok),
            ModeVerdict::Refused(ModeRefusal::KillSwitch)
        );
        let change = c.set_mode(ControlMode::Emergency, ChangeCause::Operator);
        assert_eq!(change.map(|m| m.to), Some(ControlMode::Emergency));
        assert_eq!(
            c.set_mode(ControlMode::Emergency, ChangeCause::Operator),
            None
        );
        c.set_kill_switch(false);
        assert_eq!(
            c.request(ControlMode::Manual, facts(true, false)),
            ModeVerdict::Refused(ModeRefusal::NotFlat)
        );
        assert_eq!(c.request(ControlMode::Manual, ok), ModeVerdict::Move);
    }

    #[test]
    fn the_state_follows_the_conditions_and_a_recovery_says_so() {
        let mut c = Control::new(ControlMode::FullAuto);
        assert_eq!(c.refresh(ChangeCause::StaleFeed), None);
        c.conditions_mut().stale_feeds = 1;
        let ch = c.refresh(ChangeCause::StaleFeed).unwrap();
        assert_eq!(
            (ch.from, ch.to, ch.cause),
            (
                SystemState::Running,
                SystemState::SafeMode,
                ChangeCause::StaleFeed
            )
        );
        assert!(!c.takes_new_risk());
        c.conditions_mut().stale_feeds = 0;
        let ch = c.refresh(ChangeCause::StaleFeed).unwrap();
        assert_eq!(
            (ch.to, ch.cause),
            (SystemState::Running, ChangeCause::Recovered)
        );
        c.conditions_mut().daily_loss = true;
        c.refresh(ChangeCause::DailyLoss);
        c.conditions_mut().daily_loss = false;
        let ch = c.refresh(ChangeCause::NewDay).unwrap();
        assert_eq!(ch.cause, ChangeCause::NewDay, "the new day is named");
    }

    #[test]
    fn the_breakers_count_losing_trips_and_refused_orders() {
        let mut c = Control::new(ControlMode::FullAuto);
        let (loss, win) = (Money::parse("-1").unwrap(), Money::parse("1").unwrap());
        let now = UnixNanos(1_000);
        assert!(!c.on_trip(loss, 3, 500, now));
        assert!(
            !c.on_trip(Money::ZERO, 3, 500, now),
            "a flat trip leaves the streak"
        );
        assert_eq!(c.losses(), 1);
        assert!(!c.on_trip(win, 3, 500, now));
        assert_eq!(c.losses(), 0, "a win ends it");
        for _ in 0..2 {
            assert!(!c.on_trip(loss, 3, 500, now));
        }
        assert!(c.on_trip(loss, 3, 500, now), "the third loss cools down");
        assert_eq!(
            (c.losses(), c.conditions().cooldown_until),
            (0, UnixNanos(1_500))
        );
        for _ in 0..5 {
            assert!(!c.on_trip(loss, 0, 500, now), "max 0: no breaker");
        }

        // 2 refused of the last 4 degrade; they age out of the window.
        assert!(!c.on_order_result(true, 4, 2));
        assert!(c.on_order_result(true, 4, 2));
        assert!(c.conditions().error_rate);
        assert!(!c.on_order_result(false, 4, 2));
        assert!(!c.on_order_result(false, 4, 2));
        assert!(
            c.on_order_result(false, 4, 2),
            "the first refusal left the window"
        );
        assert!(!c.conditions().error_rate);
    }

    #[test]
    fn the_worst_condition_decides_the_state() {
        let mut c = Conditions::default();
        assert_eq!(c.state(), SystemState::Running);
        c.error_rate = true;
        assert_eq!(c.state(), SystemState::Degraded);
        c.liquidation = Hold::SafeMode;
        assert_eq!(c.state(), SystemState::SafeMode);
        c.liquidation = Hold::Halted;
        assert_eq!(c.state(), SystemState::Halted);
        c.liquidation = Hold::Off;
        c.stale_feeds = 1;
        assert_eq!(c.state(), SystemState::SafeMode);
        c.drawdown = true;
        assert_eq!(c.state(), SystemState::Halted);
        c.stopped = true;
        assert_eq!(c.state(), SystemState::Stopped);
    }
}
