//! Which orders may leave in which situation: one table over system state ×
//! control mode × kill switch × what the order does to |position|.
//!
//! # The rule (SPEC 5)
//! Reducing risk is always possible; adding it is not. Whatever the state,
//! the mode or the kill switch, an order that only brings the position toward
//! zero passes levels 1–2 of the veto chain and goes out reduce-only (capped
//! at the position); an order that adds exposure passes only while the
//! system trades (RUNNING or DEGRADED), the mode takes new risk (not
//! Emergency) and the kill switch is off. STOPPED (the run is draining its
//! rings) sends nothing.
//!
//! Two rules stand beside the table because they are about who asks, not
//! what the order does: DRY_RUN refuses every order (signals only), and
//! Manual refuses strategy orders (operator and core-managed protective
//! orders still go). `docs/risk.md` carries [`render_markdown`]'s output;
//! a test keeps the two equal.

use crate::event::{ControlMode, Rule, SystemState};

/// What an order does to the absolute position (with the live orders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// |position| grows, or the sign flips.
    AddsRisk,
    /// Only brings the position toward zero.
    Reduces,
}

/// The table's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Levels 1–2 let it through (a reducing order as reduce-only).
    Pass,
    /// Refused by this rule.
    Veto(Rule),
}

impl Gate {
    /// `true` for [`Gate::Pass`].
    pub const fn passes(self) -> bool {
        matches!(self, Gate::Pass)
    }
}

/// The decision of levels 1–2 for an order with `effect`. The first
/// objection in level order names the rule: the kill switch, then the
/// state, then the mode.
pub const fn gate(state: SystemState, mode: ControlMode, kill: bool, effect: Effect) -> Gate {
    if matches!(state, SystemState::Stopped) {
        return Gate::Veto(Rule::SystemState);
    }
    if matches!(effect, Effect::Reduces) {
        return Gate::Pass;
    }
    if kill {
        Gate::Veto(Rule::KillSwitch)
    } else if matches!(state, SystemState::Halted) {
        Gate::Veto(Rule::SystemState)
    } else if matches!(state, SystemState::SafeMode) || matches!(mode, ControlMode::Emergency) {
        Gate::Veto(Rule::ReduceOnlyMode)
    } else {
        Gate::Pass
    }
}

/// `true` where an order adding risk may go (entries are then proposed and
/// sent; elsewhere they are held back and live entry orders cancelled).
pub const fn takes_new_risk(state: SystemState, mode: ControlMode, kill: bool) -> bool {
    gate(state, mode, kill, Effect::AddsRisk).passes()
}

/// The whole table as Markdown: a row per state and kill switch, a column
/// per mode; each cell says what may go ("add + reduce", "reduce only",
/// "nothing") and, where adding is refused, the vetoing rule.
pub fn render_markdown() -> String {
    let mut s = String::from("| state | kill switch |");
    for m in ControlMode::ALL {
        s.push_str(&format!(" {m:?} |"));
    }
    s.push_str("\n|---|---|");
    for _ in ControlMode::ALL {
        s.push_str("---|");
    }
    s.push('\n');
    for state in SystemState::ALL {
        for kill in [false, true] {
            s.push_str(&format!(
                "| {} | {} |",
                super::explain::state_name(state),
                if kill { "on" } else { "off" }
            ));
            for m in ControlMode::ALL {
                let add = gate(state, m, kill, Effect::AddsRisk);
                let reduce = gate(state, m, kill, Effect::Reduces);
                let cell = match (add, reduce) {
                    (Gate::Pass, Gate::Pass) => "add + reduce".to_string(),
                    (Gate::Veto(r), Gate::Pass) => format!("reduce only ({r:?})"),
                    (_, Gate::Veto(r)) => format!("nothing ({r:?})"),
                };
                s.push_str(&format!(" {cell} |"));
            }
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reducing_passes_everywhere_but_stopped_and_adding_only_when_trading() {
        for state in SystemState::ALL {
            for mode in ControlMode::ALL {
                for kill in [false, true] {
                    let reduce = gate(state, mode, kill, Effect::Reduces);
                    assert_eq!(reduce.passes(), state != SystemState::Stopped);
                    let add = gate(state, mode, kill, Effect::AddsRisk).passes();
                    let trading = matches!(state, SystemState::Running | SystemState::Degraded);
                    assert_eq!(add, trading && !kill && mode != ControlMode::Emergency);
                }
            }
        }
    }

    #[test]
    fn the_table_in_docs_is_the_table_in_code() {
        let docs = include_str!("../../../../docs/risk.md");
        let table = render_markdown();
        assert!(
            docs.contains(&table),
            "docs/risk.md must carry the allowed-orders table exactly as \
             core::allowed::render_markdown prints it:\n{table}"
        );
    }
}
