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
use crate::types::{Seq, UnixNanos};

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
}

impl Conditions {
    /// The system state these conditions imply.
    pub const fn state(&self) -> SystemState {
        if self.stopped {
            SystemState::Stopped
        } else if self.daily_loss || self.drawdown || self.auth {
            SystemState::Halted
        } else if self.cooldown_until.0 != 0 || self.stale_feeds > 0 {
            SystemState::SafeMode
        } else if self.error_rate {
            SystemState::Degraded
        } else {
            SystemState::Running
        }
    }
}

impl Core {
    /// Brings the system state in line with the conditions; a change is an
    /// output with `cause`, and entering HALTED cancels every live order.
    pub(super) fn refresh_state<S: OutputSink>(
        &mut self,
        seq: Seq,
        cause: ChangeCause,
        out: &mut S,
    ) {
        let to = self.cond.state();
        if to == self.state {
            return;
        }
        let from = std::mem::replace(&mut self.state, to);
        // Getting better is a recovery, whatever event noticed it.
        let cause = if (to as u8) < (from as u8) && cause != ChangeCause::NewDay {
            ChangeCause::Recovered
        } else {
            cause
        };
        self.emit(
            seq,
            OutputBody::StateChange(StateChange { from, to, cause }),
            out,
        );
        self.cancel_entries_if_closed(seq, out);
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
        let refusal = match mode_rule(self.mode, to) {
            Same => return,
            Immediate => None,
            Refused => Some(ModeRefusal::NotAllowed),
            Validated => self.upgrade_refusal(),
            Cleared => self.clearance_refusal(),
        };
        match refusal {
            None => self.set_mode(seq, to, cause, out),
            Some(r) => {
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

    fn upgrade_refusal(&self) -> Option<ModeRefusal> {
        if self.kill_switch {
            Some(ModeRefusal::KillSwitch)
        } else if !matches!(self.state, SystemState::Running | SystemState::Degraded) {
            Some(ModeRefusal::NotTrading)
        } else if self.symbols.iter().any(|s| !s.feed_ok()) {
            Some(ModeRefusal::FeedsUnhealthy)
        } else if !self.limits.max_position_notional.is_positive() {
            Some(ModeRefusal::NoLimits)
        } else {
            None
        }
    }

    fn clearance_refusal(&self) -> Option<ModeRefusal> {
        if self.kill_switch {
            Some(ModeRefusal::KillSwitch)
        } else if matches!(self.state, SystemState::Halted | SystemState::Stopped) {
            Some(ModeRefusal::NotTrading)
        } else if self.orders.open_count() > 0
            || self.symbols.iter().any(|s| !s.position.qty().is_zero())
        {
            Some(ModeRefusal::NotFlat)
        } else {
            None
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
        if self.mode == to {
            return;
        }
        let from = std::mem::replace(&mut self.mode, to);
        self.emit(
            seq,
            OutputBody::ModeChange(ModeChange { from, to, cause }),
            out,
        );
        self.cancel_entries_if_closed(seq, out);
    }

    /// At a run's start: a restored core whose positions exceed what its
    /// mode allows does not validate, and starts in Emergency.
    pub(super) fn validate_restored<S: OutputSink>(&mut self, seq: Seq, out: &mut S) {
        let cap = i128::from(self.limits.scaled_position(self.mode).raw());
        let over = self.symbols.iter().any(|s| {
            let mark = s.mark_or_mid().map_or(0, |p| i128::from(p.raw()));
            i128::from(s.position.qty().raw()).abs() * mark > cap * i128::from(crate::types::SCALE)
        });
        if over || self.kill_switch {
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

    #[test]
    fn the_worst_condition_decides_the_state() {
        let mut c = Conditions::default();
        assert_eq!(c.state(), SystemState::Running);
        c.error_rate = true;
        assert_eq!(c.state(), SystemState::Degraded);
        c.stale_feeds = 1;
        assert_eq!(c.state(), SystemState::SafeMode);
        c.drawdown = true;
        assert_eq!(c.state(), SystemState::Halted);
        c.stopped = true;
        assert_eq!(c.state(), SystemState::Stopped);
    }
}
