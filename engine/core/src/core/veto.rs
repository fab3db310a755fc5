//! The veto chain (SPEC 5): every order intent passes six levels in order,
//! and the first level that objects decides:
//!
//! 1. kill switch and
//! 2. system state and control mode — one table (`allowed`): an order that
//!    only reduces |position| passes both whatever the state, mode or kill
//!    switch, and goes out reduce-only (capped at the position); one that
//!    adds risk passes only while trading. DRY_RUN refuses all, and Manual
//!    refuses strategy orders;
//! 3. forbidden conditions (feed health and a market for every order;
//!    spread, imminent adverse funding and volatility for new risk);
//! 4. the rulebook (hard limits fixed at start, scaled by the mode);
//! 5. portfolio checks (`portfolio`: Kelly / volatility sizing, correlation, liquidity,
//!    margin and liquidation distance after the trade);
//! 6. sanity (step and tick rounding, lot size, price band around mark,
//!    post-only, reduce-only, min notional).
//!
//! A veto is returned as the audit record that explains it, with the value
//! the rule measured and the limit it was compared with (raw fixed point;
//! ratios as `Rate`). Orders that only reduce a position skip the checks
//! that guard against new risk: a rule meant to stop risk must never trap
//! a position.

use super::risk::{Facts, Standing, Veto, sat};
use super::{Core, SymbolState};
use crate::event::{Audit, ControlMode, OrderKind, Origin, Rule, SystemState, Verdict};
use crate::types::{ClientOrderId, Price, Qty, SCALE, Side, SymbolId};

use super::allowed::{Effect, Gate, gate};
use super::control::ModeProfile;

/// Which strategy instance an order serves and the stop and target of the
/// proposal behind it. It travels with the order, so the fill that opens a
/// position hands it to the instance that actually sent the order (an
/// operator's or a protective order carries [`Plan::NONE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Plan {
    /// Strategy instance (`Plan::NO_STRATEGY`: none).
    pub strategy: u8,
    /// Stop-loss level (zero: none).
    pub stop: Price,
    /// Take-profit level (zero: none).
    pub take: Price,
}

impl Plan {
    /// No strategy instance.
    pub const NO_STRATEGY: u8 = u8::MAX;
    /// An order no strategy asked for.
    pub const NONE: Plan = Plan {
        strategy: Plan::NO_STRATEGY,
        stop: Price::ZERO,
        take: Price::ZERO,
    };

    /// `true` when a strategy instance asked for the order.
    pub const fn is_strategy(&self) -> bool {
        self.strategy != Plan::NO_STRATEGY
    }
}

impl Default for Plan {
    fn default() -> Self {
        Plan::NONE
    }
}

/// Something that wants an order.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct Intent {
    /// Instrument.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Wanted quantity (> 0).
    pub qty: Qty,
    /// Market or limit.
    pub kind: OrderKind,
    /// Limit price (ignored for market orders).
    pub price: Price,
    /// May only reduce the position.
    pub reduce_only: bool,
    /// Limit: rest only, never take.
    pub post_only: bool,
    /// Who wants it.
    pub origin: Origin,
    /// The strategy instance and its stop and target (strategy orders:
    /// sized by that instance's Kelly estimate and the stop's distance).
    pub plan: Plan,
}

impl Intent {
    /// A market-order intent.
    pub fn market(symbol: SymbolId, side: Side, qty: Qty, origin: Origin) -> Intent {
        Intent {
            symbol,
            side,
            qty,
            kind: OrderKind::Market,
            price: Price::ZERO,
            reduce_only: origin.is_protective(),
            post_only: false,
            origin,
            plan: Plan::NONE,
        }
    }
}

/// What the chain approved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approved {
    /// Quantity, rounded to the step (maybe cut by sizing or reduce-only).
    pub qty: Qty,
    /// Limit price rounded to the tick, or the market order's reference.
    pub price: Price,
    /// Sent reduce-only.
    pub reduce_only: bool,
    /// The audit record of the approval.
    pub audit: Audit,
}

impl Core {
    /// The decision the veto chain would take on `intent` now, without
    /// sending anything (a pre-trade check; also what `make bench` times).
    /// `Ok` carries the approval record, `Err` the veto.
    pub fn evaluate(&self, intent: &Intent) -> Result<Audit, Audit> {
        self.check(intent, ClientOrderId(0)).map(|a| a.audit)
    }

    /// Runs `intent` through the chain. `id` is the client id the order
    /// would get (named in the audit record either way).
    pub(super) fn check(&self, intent: &Intent, id: ClientOrderId) -> Result<Approved, Audit> {
        let sym = intent.symbol;
        let side = intent.side;
        let audit = |rule: Rule, verdict: Verdict, qty: Qty, value: i64, limit: i64| Audit {
            id,
            symbol: sym,
            verdict,
            rule,
            side,
            origin: intent.origin,
            qty,
            value,
            limit,
        };
        let veto = |rule: Rule, value: i64, limit: i64| {
            Err(audit(rule, Verdict::Vetoed, intent.qty, value, limit))
        };
        let Some(s) = self.symbols.get(usize::from(sym.0)) else {
            return veto(Rule::NoMarket, i64::from(sym.0), self.symbols.len() as i64);
        };
        let sign = i128::from(side.sign());
        let (facts, mut qty, reduce_only) = match self.levels_1_2(s, intent) {
            Ok(passed) => passed,
            Err((rule, v, l)) => return veto(rule, v, l),
        };
        let (held, exposure) = (facts.held, facts.exposure);

        let (price, taking) = match self.levels_3_4(s, intent, &facts, qty) {
            Ok(prices) => prices,
            Err((rule, v, l)) => return veto(rule, v, l),
        };

        // Level 5: portfolio — size in risk terms, then the portfolio's
        // checks.
        let mut cut: Option<(i64, i64)> = None;
        if facts.adds_risk && !intent.origin.is_protective() {
            let wanted = qty;
            qty = match self.size_risk(s, intent, qty, price) {
                Ok(q) => q,
                Err(kelly) => return veto(Rule::Sizing, kelly, 0),
            };
            if qty != wanted {
                cut = Some((wanted.raw(), qty.raw()));
            }
            if let Some((rule, v, l)) = self.portfolio(s, side, qty, price, held) {
                return veto(rule, v, l);
            }
        }

        // Level 6: sanity.
        let sane = self.risk.limits.sanity(
            &s.instrument,
            &s.quote,
            (intent.kind, side, intent.post_only),
            (qty, price, taking),
            reduce_only,
        );
        let qty = match sane {
            Ok(q) => q,
            Err((rule, v, l)) => return veto(rule, v, l),
        };

        let scaled = self.risk.limits.scaled_position(self.control.mode()).raw();
        let approval = match cut {
            Some((wanted, sized)) => audit(Rule::Sizing, Verdict::Approved, qty, wanted, sized),
            None => audit(
                Rule::AllPassed,
                Verdict::Approved,
                qty,
                sat(
                    (exposure + i128::from(qty.raw()) * sign).abs() * i128::from(price.raw())
                        / i128::from(SCALE),
                ),
                scaled,
            ),
        };
        Ok(Approved {
            qty,
            price,
            reduce_only,
            audit: approval,
        })
    }

    /// Levels 3 (forbidden conditions: feed health and a market for every
    /// order, the market's state for new risk) and 4 (the rulebook for new
    /// risk, the minimum hold for a strategy's close). The price the order
    /// is judged at (the limit, or what a market order would take) and the
    /// taking price.
    fn levels_3_4(
        &self,
        s: &SymbolState,
        intent: &Intent,
        facts: &Facts,
        qty: Qty,
    ) -> Result<(Price, Price), Veto> {
        let side = intent.side;
        let limits = &self.risk.limits;
        if !s.feed_ok() {
            let value = if s.quote.stale {
                1 + s.quote.feed as i64
            } else {
                s.quote.feed as i64
            };
            return Err((Rule::FeedUnhealthy, value, 0));
        }
        let Some(taking) = s.quote.book.taking_price(side) else {
            return Err((Rule::NoMarket, 0, 0));
        };
        let now = self.clock.now().0;
        if facts.adds_risk
            && let Some(veto) = limits.forbidden(&s.quote, side, now)
        {
            return Err(veto);
        }
        let price = match intent.kind {
            // A stop-market takes like a market order once it triggers.
            OrderKind::Market | OrderKind::StopMarket | OrderKind::TakeProfitMarket => taking,
            OrderKind::Limit => match s.instrument.round_price(intent.price, side) {
                Some(p) if p.is_positive() => p,
                _ => return Err((Rule::PriceBand, intent.price.raw(), 0)),
            },
        };
        if facts.adds_risk {
            let standing = self.standing(intent.symbol, facts.after, price);
            let open = || self.open_positions();
            if let Some(veto) = limits.rulebook(&standing, facts, (qty, price), open) {
                return Err(veto);
            }
        } else if intent.origin == Origin::Strategy && limits.min_hold > 0 {
            let age = now.saturating_sub(s.opened_at.0);
            if facts.held != 0 && age < limits.min_hold {
                let (age, min) = (sat(i128::from(age)), sat(i128::from(limits.min_hold)));
                return Err((Rule::MinHold, age, min));
            }
        }
        Ok((price, taking))
    }

    /// Symbols with a position or an open order.
    fn open_positions(&self) -> i64 {
        self.symbols
            .iter()
            .filter(|o| !o.position.qty().is_zero() || self.orders.has_open(o.instrument.id))
            .count() as i64
    }

    /// Levels 1 and 2: kill switch, system state, control mode — one table
    /// (`allowed`): an order that only reduces |position| always passes
    /// them, as reduce-only; one that adds risk only while trading. The
    /// facts the later levels compare, the quantity left (a reduce-only
    /// order is cut to what is still open) and whether it goes reduce-only.
    fn levels_1_2(&self, s: &SymbolState, intent: &Intent) -> Result<(Facts, Qty, bool), Veto> {
        let sign = i128::from(intent.side.sign());
        let mut qty = intent.qty;
        let held = i128::from(s.position.qty().raw());
        let exposure = held + i128::from(self.orders.pending(intent.symbol));
        let adds_only = exposure == 0 || exposure.signum() == sign;
        let effect = if adds_only {
            Effect::AddsRisk
        } else {
            Effect::Reduces
        };
        if let Gate::Veto(rule) = gate(
            self.control.state(),
            self.control.mode(),
            self.control.kill_switch(),
            effect,
        ) {
            let (value, limit) = match rule {
                Rule::KillSwitch => (1, 0),
                Rule::SystemState => (self.control.state() as i64, SystemState::SafeMode as i64),
                _ => (sat(exposure), 0),
            };
            return Err((rule, value, limit));
        }
        if self.risk.limits.dry_run {
            return Err((Rule::DryRun, 1, 0));
        }
        let profile = ModeProfile::of(self.control.mode());
        if intent.origin == Origin::Strategy && !profile.automated {
            return Err((
                Rule::ControlMode,
                self.control.mode() as i64,
                ControlMode::SemiAuto as i64,
            ));
        }
        let mut reduce_only = intent.reduce_only;
        if !self.control.takes_new_risk() {
            // Only what brings the position toward zero may go, and only that
            // part of the order: a flip is cut to a close.
            reduce_only = true;
        }
        if reduce_only {
            // Never more than the position still open after the live orders
            // that already reduce it.
            let room = if exposure.signum() == -sign {
                exposure.abs().min(held.abs())
            } else {
                0
            };
            if room == 0 {
                return Err((Rule::ReduceOnly, sat(exposure), 0));
            }
            qty = Qty::from_raw(sat(i128::from(qty.raw()).min(room)));
        }
        let after = |q: Qty| exposure + i128::from(q.raw()) * sign;
        let facts = Facts {
            held,
            exposure,
            after: after(qty),
            adds_risk: after(qty).abs() > exposure.abs()
                || after(qty).signum() == sign && exposure.signum() == -sign,
        };
        Ok((facts, qty, reduce_only))
    }

    /// The account and positions level 4 compares, with `sym`'s exposure
    /// after the order at `after` valued at `price`.
    fn standing(&self, sym: SymbolId, after: i128, price: Price) -> Standing {
        Standing {
            mode: self.control.mode(),
            equity: i128::from(self.account.equity().raw()),
            gross: self.gross_notional(sym, after, price),
            daily_loss: self.account.limit_daily_loss().raw(),
            drawdown: self.account.limit_drawdown().raw(),
            losses: self.control.losses(),
        }
    }

    /// Σ |notional| at mark over all symbols, with `sym`'s exposure replaced
    /// by `after` valued at `price`, at scale 10^16 (exact: no division).
    pub(super) fn gross_notional(&self, sym: SymbolId, after: i128, price: Price) -> i128 {
        self.symbols
            .iter()
            .map(|o| {
                if o.instrument.id == sym {
                    (after * i128::from(price.raw())).abs()
                } else if o.position.qty().is_zero() {
                    0
                } else {
                    let mark = o.mark_or_mid().map_or(0, |p| i128::from(p.raw()));
                    (i128::from(o.position.qty().raw()) * mark).abs()
                }
            })
            .sum()
    }
}
