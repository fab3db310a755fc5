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

use super::{Core, SymbolState};
use crate::config::CoreConfig;
use crate::event::{Audit, ControlMode, OrderKind, Origin, Rule, SystemState, Verdict};
use crate::types::{
    ClientOrderId, Money, Price, Qty, Rate, Rounding, SCALE, Side, SymbolId,
    div_round_i128 as div_round,
};

use super::allowed::{Effect, Gate, gate};
use super::control::ModeProfile;

const NANOS: u64 = 1_000_000_000;

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

/// The rulebook and thresholds, copied from the configuration at start and
/// never changed (raw fixed point; times in nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Limits {
    /// Largest |position| per symbol as a notional (× the mode's percentage).
    pub max_position_notional: Money,
    /// Largest order notional (× the mode's percentage).
    pub max_order_notional: Money,
    /// Largest account leverage (also capped by the mode).
    pub max_leverage: Rate,
    /// Daily loss fraction that halts.
    pub max_daily_loss: Rate,
    /// Drawdown fraction that halts.
    pub max_drawdown: Rate,
    /// Losing round trips in a row before the cool-down.
    pub max_losses: u32,
    /// Symbols with a position at once.
    pub max_open_positions: u32,
    /// Minimum hold time of a position before a strategy may close it.
    pub min_hold: u64,
    /// Maximum hold time (0: none).
    pub max_hold: u64,
    /// Widest spread for new risk (bps).
    pub max_spread_bps: Rate,
    /// Market data older than this is stale.
    pub stale_after: u64,
    /// No new risk against the funding rate this close to funding (0: off).
    pub funding_window: u64,
    /// Highest volatility for new risk (bps per update).
    pub max_volatility: Rate,
    /// Fraction of equity at risk per stopped entry.
    pub risk_per_trade: Rate,
    /// Notional of an entry without a stop.
    pub entry_notional: Money,
    /// Kelly fraction.
    pub kelly_fraction: Rate,
    /// The Kelly f* of an instance without trips.
    pub kelly_prior: Rate,
    /// No edge: the entry is vetoed (else it goes at the minimum size).
    pub no_edge_skips: bool,
    /// Drawdown beyond which sizes are halved (0: off).
    pub soft_drawdown: Rate,
    /// Volatility above which sizes shrink in proportion.
    pub volatility_target: Rate,
    /// Same-direction notional cap of correlated symbols.
    pub max_correlated: Money,
    /// Measured correlation at which two symbols count as correlated.
    pub correlation_threshold: Rate,
    /// Largest order as a fraction of the opposite top-of-book size.
    pub liquidity_fraction: Rate,
    /// Smallest liquidation distance after an order.
    pub min_liquidation_distance: Rate,
    /// Price band around mark.
    pub price_band: Rate,
    /// Losing-streak cool-down.
    pub cooldown: u64,
    /// Order results remembered for the error rate.
    pub error_window: u32,
    /// Refused orders within the window that degrade the system.
    pub max_errors: u32,
    /// The state an exchange liquidation holds (`on_liquidation`).
    pub on_liquidation: super::Hold,
    /// Drift between the exchange's and the core's position holds
    /// SAFE_MODE (`on_drift = "safe_mode"`).
    pub drift_holds: bool,
    /// Liquidation watch: alert distance.
    pub watch_alert: Rate,
    /// Liquidation watch: reduce-half distance.
    pub watch_reduce: Rate,
    /// Liquidation watch: close distance.
    pub watch_close: Rate,
    /// SemiAuto approval timeout.
    pub approval_timeout: u64,
    /// Cancel-replace of resting limit orders after this (0: never).
    pub replace_after: u64,
    /// Exchange leverage setting (initial margin = notional / leverage).
    pub leverage: u32,
    /// DRY_RUN: signals only.
    pub dry_run: bool,
    /// Largest step of exchange time per input (ns): bar data read from
    /// files may step by two bars besides.
    pub time_window: u64,
    /// Largest jump of a book ticker's update id.
    pub max_update_jump: u64,
    /// Largest move of a price from the last accepted one (fraction).
    pub max_price_jump: Rate,
    /// The mode-scaled limits, indexed by `ControlMode as usize`: computed
    /// once, since the chain asks for them on every intent.
    by_mode: [ModeLimits; 4],
}

/// The limits as one control mode scales them (raw fixed point).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
struct ModeLimits {
    position: i64,
    notional: i64,
    leverage: i64,
}

impl Limits {
    /// The limits of a configuration.
    pub fn new(cfg: &CoreConfig) -> Limits {
        let r = &cfg.risk;
        Limits {
            max_position_notional: r.max_position_notional,
            max_order_notional: r.max_order_notional,
            max_leverage: r.max_leverage,
            max_daily_loss: r.max_daily_loss,
            max_drawdown: r.max_drawdown,
            max_losses: r.max_consecutive_losses,
            max_open_positions: r.max_open_positions,
            min_hold: r.min_hold_secs * NANOS,
            max_hold: r.max_hold_secs * NANOS,
            max_spread_bps: r.forbidden.max_spread_bps,
            stale_after: r.forbidden.stale_feed_secs * NANOS,
            funding_window: r.forbidden.funding_window_secs * NANOS,
            max_volatility: r.forbidden.max_volatility_bps,
            risk_per_trade: r.sizing.risk_per_trade,
            entry_notional: r.sizing.notional,
            kelly_fraction: r.sizing.kelly_fraction,
            kelly_prior: r.sizing.kelly_prior,
            no_edge_skips: r.sizing.no_edge == crate::config::NoEdge::Skip,
            soft_drawdown: r.sizing.soft_drawdown,
            volatility_target: r.portfolio.volatility_target_bps,
            max_correlated: r.portfolio.max_correlated_notional,
            correlation_threshold: r.portfolio.correlation_threshold,
            liquidity_fraction: r.portfolio.liquidity_fraction,
            min_liquidation_distance: r.portfolio.min_liquidation_distance,
            price_band: r.sanity.price_band,
            cooldown: r.breakers.loss_cooldown_secs * NANOS,
            error_window: r.breakers.error_window,
            max_errors: r.breakers.max_errors,
            on_liquidation: match r.breakers.on_liquidation {
                crate::config::LiquidationHold::Halted => super::Hold::Halted,
                crate::config::LiquidationHold::SafeMode => super::Hold::SafeMode,
            },
            drift_holds: r.breakers.on_drift == crate::config::DriftAction::SafeMode,
            watch_alert: r.liquidation_watch.alert,
            watch_reduce: r.liquidation_watch.reduce,
            watch_close: r.liquidation_watch.close,
            approval_timeout: cfg.control.approval_timeout_secs * NANOS,
            replace_after: cfg.control.replace_after_secs * NANOS,
            leverage: cfg.account.leverage,
            dry_run: cfg.dry_run,
            time_window: {
                let bars = match cfg.strategy.bars {
                    crate::strategy::BarSource::Klines => {
                        2 * u64::from(cfg.strategy.bar_secs.iter().copied().max().unwrap_or(0))
                    }
                    crate::strategy::BarSource::Trades => 0,
                };
                r.guards.time_window_secs.max(bars) * NANOS
            },
            max_update_jump: r.guards.max_update_jump,
            max_price_jump: r.guards.max_price_jump,
            by_mode: ControlMode::ALL.map(|mode| {
                let profile = ModeProfile::of(mode);
                ModeLimits {
                    position: pct_of(r.max_position_notional.raw(), profile.limit_pct),
                    notional: pct_of(r.max_order_notional.raw(), profile.limit_pct),
                    leverage: r.max_leverage.raw().min(profile.leverage_cap * SCALE),
                }
            }),
        }
    }

    /// Largest |position| notional in `mode`.
    pub fn scaled_position(&self, mode: ControlMode) -> Money {
        Money::from_raw(self.by_mode[mode as usize].position)
    }

    /// Largest order notional in `mode`.
    pub fn scaled_notional(&self, mode: ControlMode) -> Money {
        Money::from_raw(self.by_mode[mode as usize].notional)
    }

    /// Leverage cap in `mode`: the smaller of the rulebook's and the mode's.
    pub fn leverage_cap(&self, mode: ControlMode) -> Rate {
        Rate::from_raw(self.by_mode[mode as usize].leverage)
    }
}

fn pct_of(raw: i64, pct: i64) -> i64 {
    i64::try_from(i128::from(raw) * i128::from(pct) / 100).unwrap_or(i64::MAX)
}

/// `a / b` as a 10^-8 ratio, rounded toward zero; `i64::MAX` when `b <= 0`.
pub(super) fn ratio(a: i128, b: i128) -> i64 {
    if b <= 0 {
        return i64::MAX;
    }
    i64::try_from(div_round(a * i128::from(SCALE), b, Rounding::TowardZero)).unwrap_or(i64::MAX)
}

pub(super) fn sat(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A veto's rule and the values it compared.
type Veto = (Rule, i64, i64);

/// The facts the rules compare, computed once per intent.
struct Facts {
    /// Position held (raw, signed).
    held: i128,
    /// Held plus live orders (raw, signed).
    exposure: i128,
    /// Exposure after this order (raw, signed).
    after: i128,
    /// The order adds risk: |after| > |exposure| or it flips the sign.
    adds_risk: bool,
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

        // Level 3: forbidden conditions.
        if !s.feed_ok() {
            let value = if s.quote.stale {
                1 + s.quote.feed as i64
            } else {
                s.quote.feed as i64
            };
            return veto(Rule::FeedUnhealthy, value, 0);
        }
        let Some(taking) = s.quote.book.taking_price(side) else {
            return veto(Rule::NoMarket, 0, 0);
        };
        if facts.adds_risk
            && let Some((rule, v, l)) = self.forbidden(s, side)
        {
            return veto(rule, v, l);
        }

        // The price the order is judged at: the limit, or what a market
        // order would take.
        let price = match intent.kind {
            // A stop-market takes like a market order once it triggers.
            OrderKind::Market | OrderKind::StopMarket | OrderKind::TakeProfitMarket => taking,
            OrderKind::Limit => match s.instrument.round_price(intent.price, side) {
                Some(p) if p.is_positive() => p,
                _ => return veto(Rule::PriceBand, intent.price.raw(), 0),
            },
        };

        // Level 4: the rulebook.
        if facts.adds_risk {
            if let Some((rule, v, l)) = self.rulebook(s, &facts, qty, price) {
                return veto(rule, v, l);
            }
        } else if intent.origin == Origin::Strategy && self.limits.min_hold > 0 {
            let age = self.clock.now().0.saturating_sub(s.opened_at.0);
            if held != 0 && age < self.limits.min_hold {
                return veto(
                    Rule::MinHold,
                    sat(i128::from(age)),
                    sat(i128::from(self.limits.min_hold)),
                );
            }
        }

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
        let qty = match self.sanity(s, intent, qty, price, taking, reduce_only) {
            Ok(q) => q,
            Err((rule, v, l)) => return veto(rule, v, l),
        };

        let scaled = self.limits.scaled_position(self.control.mode()).raw();
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
        if self.limits.dry_run {
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

    /// Level 6: the exchange's filters and the price band, on the quantity
    /// rounded to the step; the quantity that goes.
    fn sanity(
        &self,
        s: &SymbolState,
        intent: &Intent,
        qty: Qty,
        price: Price,
        taking: Price,
        reduce_only: bool,
    ) -> Result<Qty, Veto> {
        let side = intent.side;
        let qty = match s.instrument.round_qty(qty) {
            Some(q) if q.is_positive() => q,
            _ => return Err((Rule::ZeroQuantity, qty.raw(), s.instrument.step_size.raw())),
        };
        let max_qty = match intent.kind {
            OrderKind::Market | OrderKind::StopMarket | OrderKind::TakeProfitMarket => {
                s.instrument.max_market_qty
            }
            OrderKind::Limit => s.instrument.max_qty,
        };
        if qty < s.instrument.min_qty {
            return Err((Rule::LotSize, qty.raw(), s.instrument.min_qty.raw()));
        }
        if qty > max_qty {
            return Err((Rule::LotSize, qty.raw(), max_qty.raw()));
        }
        if let Some(mark) = s.mark_or_mid() {
            let gap = (i128::from(price.raw()) - i128::from(mark.raw())).abs();
            // gap / mark > band, without the division on the passing path.
            let band = self.limits.price_band.raw();
            if gap * i128::from(SCALE) > i128::from(band) * i128::from(mark.raw()) {
                return Err((Rule::PriceBand, ratio(gap, i128::from(mark.raw())), band));
            }
        }
        if intent.kind == OrderKind::Limit && intent.post_only && price_crosses(s, side, price) {
            return Err((Rule::PostOnlyCross, price.raw(), taking.raw()));
        }
        let notional = Money::notional(price, qty, Rounding::HalfEven).unwrap_or(Money::MAX);
        // Binance exempts reduce-only orders from MIN_NOTIONAL.
        if !reduce_only && notional < s.instrument.min_notional {
            return Err((
                Rule::MinNotional,
                notional.raw(),
                s.instrument.min_notional.raw(),
            ));
        }
        Ok(qty)
    }

    /// Level 3 for orders that add risk.
    fn forbidden(&self, s: &SymbolState, side: Side) -> Option<(Rule, i64, i64)> {
        let l = &self.limits;
        let (bid, ask) = (s.quote.book.bid_price.raw(), s.quote.book.ask_price.raw());
        // (ask − bid) / mid in bps, with mid = (bid + ask) / 2, compared by
        // cross-multiplying: no division unless it vetoes.
        let gap = i128::from(ask - bid) * 10_000;
        let sum = i128::from(bid) + i128::from(ask);
        let max = l.max_spread_bps.raw();
        if gap * 2 * i128::from(SCALE) > i128::from(max) * sum {
            let mid = i128::from(Price::mid(s.quote.book.bid_price, s.quote.book.ask_price).raw());
            return Some((Rule::Spread, ratio(gap, mid), max));
        }
        let next = s.quote.next_funding.0;
        if l.funding_window > 0
            && next > self.clock.now().0
            && next - self.clock.now().0 <= l.funding_window
        {
            let rate = s.quote.funding_rate.raw();
            // Longs pay a positive rate, shorts a negative one.
            if rate * side.sign() > 0 {
                return Some((
                    Rule::FundingImminent,
                    sat(i128::from(next - self.clock.now().0)),
                    sat(i128::from(l.funding_window)),
                ));
            }
        }
        if s.quote.vol.is_warm() && s.quote.vol.bps() > l.max_volatility {
            return Some((
                Rule::Volatility,
                s.quote.vol.bps().raw(),
                l.max_volatility.raw(),
            ));
        }
        None
    }

    /// Level 4 for orders that add risk.
    fn rulebook(
        &self,
        s: &SymbolState,
        f: &Facts,
        qty: Qty,
        price: Price,
    ) -> Option<(Rule, i64, i64)> {
        let l = &self.limits;
        let max_pos = l.scaled_position(self.control.mode()).raw();
        // |after| × price > cap, at scale 10^16: no division to pass.
        let after16 = f.after.abs() * i128::from(price.raw());
        if after16 > i128::from(max_pos) * i128::from(SCALE) {
            return Some((Rule::MaxPosition, sat(after16 / i128::from(SCALE)), max_pos));
        }
        let notional = Money::notional(price, qty, Rounding::HalfEven).unwrap_or(Money::MAX);
        let max_notional = l.scaled_notional(self.control.mode());
        if notional > max_notional {
            return Some((Rule::MaxOrderNotional, notional.raw(), max_notional.raw()));
        }
        let equity = i128::from(self.account.equity().raw());
        let gross = self.gross_notional(s.instrument.id, f.after, price);
        let cap = l.leverage_cap(self.control.mode()).raw();
        // gross / equity > cap, gross at scale 10^16.
        if gross > i128::from(cap) * equity {
            let leverage = ratio(gross / i128::from(SCALE), equity);
            return Some((Rule::MaxLeverage, leverage, cap));
        }
        let daily = self.account.limit_daily_loss().raw();
        if daily >= l.max_daily_loss.raw() {
            return Some((Rule::DailyLoss, daily, l.max_daily_loss.raw()));
        }
        let dd = self.account.limit_drawdown().raw();
        if dd >= l.max_drawdown.raw() {
            return Some((Rule::Drawdown, dd, l.max_drawdown.raw()));
        }
        if l.max_losses > 0 && self.control.losses() >= l.max_losses {
            return Some((
                Rule::ConsecutiveLosses,
                i64::from(self.control.losses()),
                i64::from(l.max_losses),
            ));
        }
        if f.held == 0 && f.exposure == 0 {
            let open = self
                .symbols
                .iter()
                .filter(|o| !o.position.qty().is_zero() || self.orders.has_open(o.instrument.id))
                .count() as i64;
            if open >= i64::from(l.max_open_positions) {
                return Some((
                    Rule::MaxOpenPositions,
                    open + 1,
                    i64::from(l.max_open_positions),
                ));
            }
        }
        None
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

/// A limit at `price` on `side` would trade against the book at once.
fn price_crosses(s: &SymbolState, side: Side, price: Price) -> bool {
    match side {
        Side::Buy => price >= s.quote.book.ask_price,
        Side::Sell => price <= s.quote.book.bid_price,
    }
}
