//! The veto checks an order intent passes before it may leave the core, in
//! SPEC section 5 order (each level final, the first failing one decides):
//! kill switch → system state → forbidden conditions (feed health, no market)
//! → hard limits (max position) → sanity (step rounding, min notional).
//!
//! A veto is returned as the audit record that explains it, with the value
//! the rule measured and the limit it was compared with, both raw
//! fixed-point.

use super::Core;
use crate::event::{Audit, FeedHealth, Rule, SystemState, Verdict};
use crate::types::{Money, Price, Qty, Rounding, Side, SymbolId};

impl Core {
    /// Checks an intent to trade `qty` on `side`. On approval returns the
    /// quantity rounded to the step and the reference (taking) price.
    pub(super) fn check_intent(
        &self,
        sym: SymbolId,
        side: Side,
        qty: Qty,
    ) -> Result<(Qty, Price), Audit> {
        let veto = |rule: Rule, value: i64, limit: i64| Audit {
            symbol: sym,
            verdict: Verdict::Vetoed,
            rule,
            side,
            qty,
            value,
            limit,
        };
        if self.kill_switch {
            return Err(veto(Rule::KillSwitch, 1, 0));
        }
        if !matches!(self.state, SystemState::Running | SystemState::Degraded) {
            return Err(veto(Rule::SystemState, self.state as i64, 0));
        }
        let s = &self.symbols[usize::from(sym.0)];
        if s.feed != FeedHealth::Healthy {
            return Err(veto(Rule::FeedUnhealthy, s.feed as i64, 0));
        }
        let Some(price) = s.book.taking_price(side) else {
            return Err(veto(Rule::NoMarket, 0, 0));
        };
        let qty = match s.instrument.round_qty(qty) {
            Some(q) if q.is_positive() => q,
            _ => {
                return Err(veto(
                    Rule::ZeroQuantity,
                    qty.raw(),
                    s.instrument.step_size.raw(),
                ));
            }
        };
        let held = i128::from(s.position.qty().raw());
        let pending = i128::from(self.orders.pending(sym));
        let after = held + pending + i128::from(qty.raw()) * i128::from(side.sign());
        let max = i128::from(self.max_position.raw());
        if after.abs() > max {
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            return Err(veto(Rule::MaxPosition, after, self.max_position.raw()));
        }
        let notional = Money::notional(price, qty, Rounding::HalfEven).unwrap_or(Money::MAX);
        if notional < s.instrument.min_notional {
            return Err(veto(
                Rule::MinNotional,
                notional.raw(),
                s.instrument.min_notional.raw(),
            ));
        }
        Ok((qty, price))
    }
}
