//! Decisions in words a person reads: a veto with the values it compared
//! in their units (`62037.5 USDT`, `3.12%`, `14 s`), a refused operator
//! command with what to do about it. The audit records carry raw fixed
//! point for machines; this turns them into what an operator's terminal,
//! a trace or a report prints. Off the hot path (it allocates).

use super::{ModeRefusal, Refusal};
use crate::event::{Audit, ControlMode, FeedHealth, Rule, SystemState, Verdict};
use crate::types::{Money, Qty, Rate};

/// A ratio as a percentage, two places.
fn pct(raw: i64) -> String {
    format!("{:.2}%", Rate::from_raw(raw).to_f64() * 100.0)
}

/// A rate in basis points (the value is already in bps).
fn bps(raw: i64) -> String {
    format!("{:.2} bps", Rate::from_raw(raw).to_f64())
}

fn usdt(raw: i64) -> String {
    format!("{:.2} USDT", Money::from_raw(raw))
}

fn qty(raw: i64) -> String {
    Qty::from_raw(raw).to_string()
}

fn secs(ns: i64) -> String {
    format!("{:.1} s", ns as f64 / 1e9)
}

/// The name an operator knows a state by.
pub fn state_name(s: SystemState) -> &'static str {
    match s {
        SystemState::Running => "RUNNING",
        SystemState::Degraded => "DEGRADED",
        SystemState::SafeMode => "SAFE_MODE",
        SystemState::Halted => "HALTED",
        SystemState::Stopped => "STOPPED",
    }
}

/// The name `autobot ctl mode` takes.
pub fn mode_name(m: ControlMode) -> &'static str {
    match m {
        ControlMode::Manual => "manual",
        ControlMode::SemiAuto => "semi-auto",
        ControlMode::FullAuto => "full-auto",
        ControlMode::Emergency => "emergency",
    }
}

fn state_of(raw: i64) -> &'static str {
    state_name(SystemState::from_index(
        u64::try_from(raw).unwrap_or(u64::MAX),
    ))
}

/// What the rule of `a` measured against what, in words.
pub fn rule_values(a: &Audit) -> String {
    let (v, l) = (a.value, a.limit);
    if a.verdict == Verdict::Pending {
        // A parked order's audit carries its expiry (event time, ns) and
        // the approval timeout, not the rule's values.
        return format!(
            "every check passed; waits for the operator, declined if not approved within {} of event time",
            secs(l)
        );
    }
    match a.rule {
        Rule::AllPassed => format!(
            "every check passed; position after {} of at most {}",
            usdt(v),
            usdt(l)
        ),
        Rule::KillSwitch => "the kill switch is on: only orders that reduce a position go".into(),
        Rule::SystemState => format!(
            "the system is {}: only orders that reduce a position go",
            state_of(v)
        ),
        Rule::ControlMode => "manual mode sends no strategy orders".into(),
        Rule::ReduceOnlyMode => format!(
            "SAFE_MODE or emergency mode: only orders that reduce a position go (exposure {})",
            qty(v)
        ),
        Rule::DryRun => "dry run: signals only".into(),
        Rule::FeedUnhealthy => {
            let feed = match v {
                x if x == FeedHealth::Stale as i64 => "stale",
                x if x == FeedHealth::Disconnected as i64 => "disconnected",
                x if x == FeedHealth::Resyncing as i64 => "resyncing",
                _ => "without data for longer than the stale limit",
            };
            format!("the market-data feed is {feed}")
        }
        Rule::NoMarket => "no two-sided book to price the order".into(),
        Rule::Spread => format!("spread {} > max {}", bps(v), bps(l)),
        Rule::FundingImminent => format!(
            "funding against the order in {} (window {})",
            secs(v),
            secs(l)
        ),
        Rule::Volatility => format!("volatility {} per update > max {}", bps(v), bps(l)),
        Rule::MaxPosition => format!("position after {} > max {}", usdt(v), usdt(l)),
        Rule::MaxLeverage => format!(
            "leverage after {:.2}x > cap {:.2}x",
            Rate::from_raw(v).to_f64(),
            Rate::from_raw(l).to_f64()
        ),
        Rule::DailyLoss => format!("day's loss {} ≥ limit {}", pct(v), pct(l)),
        Rule::Drawdown => format!("drawdown {} ≥ limit {}", pct(v), pct(l)),
        Rule::ConsecutiveLosses => format!("{v} losing round trips in a row ≥ {l}"),
        Rule::MaxOpenPositions => format!("{v} open positions > max {l}"),
        Rule::MaxOrderNotional => format!("notional {} > max {}", usdt(v), usdt(l)),
        Rule::MinHold => format!("position held {} < minimum {}", secs(v), secs(l)),
        Rule::Sizing if l == 0 && v <= 0 => format!(
            "no edge: the strategy's fractional Kelly risk {} ≤ 0 (its recent round trips lose)",
            pct(v)
        ),
        Rule::Sizing if a.verdict == Verdict::Vetoed => {
            format!("size cap {} leaves no room (exposure {})", qty(l), qty(v))
        }
        Rule::Sizing => format!(
            "sized from {} to {} (Kelly, volatility, soft drawdown, DEGRADED)",
            qty(v),
            qty(l)
        ),
        Rule::Correlation => format!(
            "same-direction notional of correlated symbols {} > cap {}",
            usdt(v),
            usdt(l)
        ),
        Rule::Liquidity => format!(
            "quantity {} > {} allowed by the opposite top of book",
            qty(v),
            qty(l)
        ),
        Rule::Margin => format!("initial margin after {} > equity {}", usdt(v), usdt(l)),
        Rule::LiquidationDistance => format!(
            "liquidation price after {} from mark < minimum {}",
            pct(v),
            pct(l)
        ),
        Rule::PriceBand if l == 0 => "the limit price is not a valid price".into(),
        Rule::PriceBand => format!("price {} from mark > band {}", pct(v), pct(l)),
        Rule::ZeroQuantity => format!("quantity {} rounds to zero at step {}", qty(v), qty(l)),
        Rule::MinNotional => format!("notional {} < minimum {}", usdt(v), usdt(l)),
        Rule::LotSize => format!(
            "quantity {} outside the lot size (limit {})",
            qty(v),
            qty(l)
        ),
        Rule::PostOnlyCross => format!(
            "post-only price {} would take (best {})",
            Money::from_raw(v),
            Money::from_raw(l)
        ),
        Rule::ReduceOnly => format!("nothing left to reduce (exposure {})", qty(v)),
        Rule::OrderPool => format!("order pool full ({v} live orders)"),
    }
}

/// One line for a veto (or any audit record) of an order on `symbol`.
pub fn audit_line(a: &Audit, symbol: &str) -> String {
    let side = match a.side {
        crate::types::Side::Buy => "buy",
        crate::types::Side::Sell => "sell",
    };
    let verdict = match a.verdict {
        Verdict::Approved => "approved",
        Verdict::Vetoed => "vetoed",
        Verdict::Pending => "waiting for approval",
        Verdict::Declined => "declined",
        Verdict::Expired => "expired",
    };
    format!(
        "{side} {} {symbol} ({:?}) {verdict} by {:?} (level {}): {}",
        a.qty,
        a.origin,
        a.rule,
        a.rule.level(),
        rule_values(a)
    )
}

/// Why a mode change was refused, and what would allow it.
pub fn mode_refusal(to: ControlMode, why: ModeRefusal) -> String {
    let to = mode_name(to);
    match why {
        ModeRefusal::NotAllowed => format!(
            "the move to {to} is not allowed from here (upgrades go one step at a time: \
             manual → semi-auto → full-auto; emergency leads only to manual)"
        ),
        ModeRefusal::KillSwitch => {
            format!("the kill switch is on: `autobot ctl reset` before {to}")
        }
        ModeRefusal::NotTrading => {
            format!("the system is not trading (HALTED, SAFE_MODE or stopped): no move to {to}")
        }
        ModeRefusal::FeedsUnhealthy => {
            format!("a market-data feed is not healthy: no upgrade to {to}")
        }
        ModeRefusal::NoLimits => format!("no position limit is configured: no upgrade to {to}"),
        ModeRefusal::NotFlat => format!(
            "a position or a live order remains: flatten (`autobot ctl flatten --all`) before {to}"
        ),
    }
}

/// Why the core refused an operator command.
pub fn refusal(r: Refusal) -> &'static str {
    match r {
        Refusal::UnknownApproval => {
            "no order with that id is waiting for approval (see `autobot ctl status`)"
        }
        Refusal::UnknownSymbol => "the symbol is not configured",
        Refusal::BadArgument => "an argument is out of range",
        Refusal::HaltedByDailyLoss => {
            "still HALTED by the day's loss: new risk resumes at the next UTC day, or now with \
             `autobot ctl reset --override-day-loss` (orders that reduce a position go meanwhile)"
        }
        Refusal::HaltedByDrawdown => {
            "still HALTED: the drawdown is at or beyond the limit; it lifts when equity \
             recovers, or with `autobot ctl reset --override-drawdown` (orders that reduce a \
             position go meanwhile)"
        }
        Refusal::UnknownStrategy => "no strategy instance has that number",
    }
}

/// The name `autobot ctl` gives an operator action.
pub fn action_name(a: crate::event::OperatorAction) -> &'static str {
    use crate::event::OperatorAction as A;
    match a {
        A::Kill => "kill",
        A::Reset => "reset",
        A::Shutdown => "shutdown",
        A::Start => "start",
        A::SetMode => "mode",
        A::Approve => "approve",
        A::Reject => "reject",
        A::Flatten => "flatten",
        A::Order => "order",
        A::DisableStrategy => "strategy disable",
        A::EnableStrategy => "strategy enable",
    }
}

/// An alert's value in words: the refusal behind a refused command or mode
/// change, the reason an input was implausible, a price, a distance.
pub fn alert_text(a: &crate::event::Alert) -> String {
    use crate::event::AlertCode as C;
    let price = |v: i64| crate::types::Price::from_raw(v).to_string();
    let v = a.value;
    match a.code {
        C::UnknownOrder => format!("an execution report for order #{v}, which is not ours"),
        C::DuplicateUpdate => {
            format!("a repeated or out-of-order report for order #{v} (not applied)")
        }
        C::OrderRejected => format!("the exchange refused an order (code {v})"),
        C::CrossedBook => "a book ticker with bid >= ask (not applied)".into(),
        C::UnknownSymbol => format!("an event for symbol #{v}, which is not configured"),
        C::Overflow => "an arithmetic result did not fit: the order was not sent".into(),
        C::OrderTableFull => "the order table is full: the order was not sent".into(),
        C::IllegalTransition => format!("a report order #{v}'s state does not allow (not applied)"),
        C::InvalidReport => "a report with an impossible value (not applied)".into(),
        C::OperatorRefused => {
            let action = (v >> 8) as u8;
            let why = super::Refusal::ALL.iter().find(|r| **r as i64 == v & 0xff);
            let name = crate::event::OperatorAction::ALL
                .iter()
                .find(|x| **x as u8 == action)
                .map_or("a command", |x| action_name(*x));
            match why {
                Some(r) => format!("`{name}` refused: {}", refusal(*r)),
                None => format!("`{name}` refused"),
            }
        }
        C::ModeRefused => {
            let to = ControlMode::ALL
                .iter()
                .find(|m| **m as i64 == v >> 8)
                .copied()
                .unwrap_or_default();
            match ModeRefusal::ALL.iter().find(|r| **r as i64 == v & 0xff) {
                Some(r) => format!("mode change refused: {}", mode_refusal(to, *r)),
                None => format!("mode change to {} refused", mode_name(to)),
            }
        }
        C::LiquidationNear => format!("the position is {} from its liquidation price", pct(v)),
        C::CancelRefused => format!("the exchange refused to cancel order #{v}, still live"),
        C::BookResync => format!(
            "the L2 book lost sync ({}) and was cleared; a new snapshot follows",
            crate::depth::ResyncReason::ALL
                .iter()
                .find(|r| **r as i64 == v)
                .map_or_else(|| format!("reason {v}"), |r| format!("{r:?}"))
        ),
        C::PositionReconciled => format!("the exchange's position {} was adopted", qty(v)),
        C::BalanceMismatch => format!(
            "the exchange's balance is {}, the core keeps its own",
            usdt(v)
        ),
        C::Liquidated => format!("the exchange liquidated {}", qty(v)),
        C::ImplausibleInput => format!(
            "an input refused as implausible: {}",
            crate::plausible::Implausible::ALL
                .iter()
                .find(|r| **r as i64 == v)
                .map_or_else(|| format!("reason {v}"), |r| r.name().to_string())
        ),
        C::TimeJump => format!(
            "exchange time jumped {} (confirmed by a second input)",
            secs(v.saturating_mul(1_000_000))
        ),
        C::MarginCall => format!("margin call on a position of {}", qty(v)),
        C::PositionDrift => format!(
            "the exchange's position differs from the core's by {}",
            qty(v)
        ),
        C::Unprotected => format!(
            "the exchange refused or expired the protective stop at {}",
            price(v)
        ),
        C::DataGap => format!(
            "{v} bars missing from the data: the indicators warm up again and the regime reads RANGE until they are warm"
        ),
        C::AdvisorSilent => format!(
            "strategy #{v} is gated by the advisor and has no fresh prediction: it opens nothing until one comes"
        ),
        C::BadPrediction => format!(
            "a prediction of model #{v} was refused (unknown model, score outside 0..1, or features not handed out)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Origin;
    use crate::types::{ClientOrderId, Side, SymbolId};

    fn audit(rule: Rule, value: i64, limit: i64) -> Audit {
        Audit {
            id: ClientOrderId(1),
            symbol: SymbolId(0),
            verdict: Verdict::Vetoed,
            rule,
            side: Side::Sell,
            origin: Origin::Operator,
            qty: Qty::parse("0.01").unwrap(),
            value,
            limit,
        }
    }

    #[test]
    fn values_are_in_their_units() {
        let a = audit(Rule::MinNotional, 4_521_000_000, 10_000_000_000);
        assert_eq!(
            audit_line(&a, "ETHUSDT"),
            "sell 0.01 ETHUSDT (Operator) vetoed by MinNotional (level 6): \
             notional 45.21 USDT < minimum 100.00 USDT"
        );
        let a = audit(Rule::DailyLoss, 3_120_000, 3_000_000);
        assert_eq!(rule_values(&a), "day's loss 3.12% ≥ limit 3.00%");
        let a = audit(Rule::SystemState, SystemState::Halted as i64, 2);
        assert!(rule_values(&a).contains("HALTED"));
        for rule in Rule::ALL {
            assert!(!rule_values(&audit(rule, 1, 1)).is_empty());
        }
    }

    #[test]
    fn a_parked_order_says_it_waits_not_a_position_from_its_expiry() {
        let parked = Audit {
            verdict: Verdict::Pending,
            ..audit(Rule::AllPassed, 1_704_067_235_000_000_000, 30_000_000_000)
        };
        let line = audit_line(&parked, "BTCUSDT");
        assert!(line.contains("waiting for approval"), "{line}");
        assert!(line.contains("within 30.0 s of event time"), "{line}");
        assert!(!line.contains("position after"), "{line}");
    }
}
