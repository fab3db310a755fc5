//! Level 5 of the veto chain, the portfolio: how big an order that adds
//! risk may be (fractional Kelly for a strategy entry, volatility, the soft
//! drawdown, DEGRADED, the exchange's minimum), then the checks of the
//! account as a whole after it — correlated exposure, liquidity, margin,
//! liquidation distance. `veto` calls these in chain order.

use super::risk::sat;
use super::veto::Intent;
use super::{Core, SymbolState};
use crate::event::{Rule, SystemState};
use crate::types::{
    CrossMargin, LiquidationGap, Money, Price, Qty, Rate, Rounding, SCALE, Side, SymbolId,
    div_round_i128 as div_round, liquidation_gap,
};

impl Core {
    /// Level 5 sizing of an order that adds risk: a strategy entry is
    /// capped by its instance's fractional Kelly (no edge: the minimum size,
    /// or `Err` with the Kelly risk when the config skips); every order
    /// shrinks in proportion to volatility above target, and halves beyond
    /// the soft drawdown and while DEGRADED.
    pub(super) fn size_risk(
        &self,
        s: &SymbolState,
        intent: &Intent,
        qty: Qty,
        price: Price,
    ) -> Result<Qty, i64> {
        let l = &self.risk.limits;
        let scale = i128::from(SCALE);
        let mut q = i128::from(qty.raw());
        if intent.plan.is_strategy() {
            let f = self.signals.kelly(intent.plan.strategy, l.kelly_prior);
            let kelly = i128::from(f.raw()) * i128::from(l.kelly_fraction.raw()) / scale;
            if kelly <= 0 {
                if l.no_edge_skips {
                    return Err(sat(kelly));
                }
                q = 0;
            } else {
                let px = i128::from(price.raw()).max(1);
                let notional = match stop_distance(price, intent.plan.stop) {
                    // equity × kelly ÷ distance: the notional whose stop
                    // loses the Kelly fraction of equity.
                    Some(d) => {
                        i128::from(self.account.equity().raw().max(0)) * kelly / i128::from(d.raw())
                    }
                    // Without a stop the configured notional stands for the
                    // risk per trade; Kelly scales it in proportion.
                    None => {
                        i128::from(l.entry_notional.raw()) * kelly
                            / i128::from(l.risk_per_trade.raw()).max(1)
                    }
                };
                q = q.min(notional * scale / px);
            }
        }
        if s.quote.vol.is_warm() && s.quote.vol.bps() > l.volatility_target {
            q = q * i128::from(l.volatility_target.raw())
                / i128::from(s.quote.vol.bps().raw()).max(1);
        }
        if l.soft_drawdown.is_positive() && self.account.drawdown_reaches(l.soft_drawdown) {
            q /= 2;
        }
        if self.control.state() == SystemState::Degraded {
            q /= 2;
        }
        // A strategy entry the sizing shrank below what the exchange takes
        // (no edge, a thin one, high volatility) goes at the exchange's
        // minimum, never more than it asked for, unless the config skips
        // entries without an edge.
        if intent.plan.is_strategy() && !l.no_edge_skips {
            let min = i128::from(min_size(s, price).raw());
            q = q.max(min.min(i128::from(qty.raw())));
        }
        Ok(Qty::from_raw(sat(q.max(0))))
    }

    /// Level 5 checks after sizing.
    pub(super) fn portfolio(
        &self,
        s: &SymbolState,
        side: Side,
        qty: Qty,
        price: Price,
        held: i128,
    ) -> Option<(Rule, i64, i64)> {
        let l = &self.risk.limits;
        let sign = i128::from(side.sign());
        let scale = i128::from(SCALE);
        if let Some(same_dir) = self.correlated_exposure(s, side, qty, price) {
            // Scale 10^16 against the cap at 10^8: no division to pass.
            if same_dir > i128::from(l.max_correlated.raw()) * scale {
                return Some((
                    Rule::Correlation,
                    sat(same_dir / scale),
                    l.max_correlated.raw(),
                ));
            }
        }
        let top = i128::from(s.quote.book.taking_qty(side).raw());
        let allowed16 = top * i128::from(l.liquidity_fraction.raw());
        if i128::from(qty.raw()) * scale > allowed16 {
            return Some((Rule::Liquidity, qty.raw(), sat(allowed16 / scale)));
        }
        let after = held + i128::from(qty.raw()) * sign;
        let gross = self.gross_notional(s.instrument.id, after, price);
        let equity = i128::from(self.account.equity().raw());
        // Initial margin gross / leverage > equity, at scale 10^16.
        let leverage = i128::from(l.leverage.max(1));
        if gross > equity * i128::from(SCALE) * leverage {
            let initial = gross / i128::from(SCALE) / leverage;
            return Some((Rule::Margin, sat(initial), sat(equity)));
        }
        if l.min_liquidation_distance.is_positive()
            && let Some((q, cost16)) = s.position.projected(side, price, qty)
        {
            let margin = self.cross_margin(s.instrument.id);
            let mark = s.mark_or_mid().unwrap_or(price);
            let min = l.min_liquidation_distance;
            match liquidation_gap(&s.brackets, q, cost16, mark, margin, min) {
                LiquidationGap::Clear => {}
                LiquidationGap::Near(d) => {
                    return Some((Rule::LiquidationDistance, d.raw(), min.raw()));
                }
                // Above the last bracket: the exchange would refuse it.
                LiquidationGap::AboveBrackets => {
                    return Some((Rule::LiquidationDistance, 0, min.raw()));
                }
            }
        }
        None
    }

    /// The same-direction notional (scale 10^16) of `s` after this order
    /// and of the symbols correlated with it: in a config group with it, or
    /// with a measured correlation beyond the threshold (a negative one
    /// counts the opposite position as the same exposure). `None` when no
    /// other symbol is correlated.
    fn correlated_exposure(
        &self,
        s: &SymbolState,
        side: Side,
        qty: Qty,
        price: Price,
    ) -> Option<i128> {
        let i = usize::from(s.instrument.id.0);
        let sign = i128::from(side.sign());
        let threshold = self.risk.limits.correlation_threshold.to_f64();
        let mut partners = 0;
        let mut sum = 0i128;
        for (j, o) in self.symbols.iter().enumerate() {
            let (direction, q, px) = if j == i {
                let q = i128::from(o.position.qty().raw()) + i128::from(qty.raw()) * sign;
                (1, q, i128::from(price.raw()))
            } else {
                let direction = if s.group != 0 && o.group == s.group {
                    1
                } else {
                    match self.risk.correlation(i, j) {
                        Some(c) if c >= threshold => 1,
                        Some(c) if c <= -threshold => -1,
                        _ => 0,
                    }
                };
                if direction == 0 {
                    continue;
                }
                partners += 1;
                let mark = o.mark_or_mid().map_or(0, |p| i128::from(p.raw()));
                (direction, i128::from(o.position.qty().raw()), mark)
            };
            sum += (q * sign * direction).max(0) * px;
        }
        (partners > 0).then_some(sum)
    }

    /// Wallet balance and the other positions' maintenance margin and
    /// unrealized PnL, as the liquidation price of `sym` depends on them.
    pub(super) fn cross_margin(&self, sym: SymbolId) -> CrossMargin {
        let mut other_mm = Money::ZERO;
        let mut other_upnl = Money::ZERO;
        for o in self.symbols.iter().filter(|o| o.instrument.id != sym) {
            if o.position.qty().is_zero() {
                continue;
            }
            let mark = o.mark_or_mid().unwrap_or(Price::ZERO);
            let notional =
                Money::notional(mark, o.position.qty(), Rounding::HalfEven).unwrap_or(Money::MAX);
            let mm = o.brackets.maintenance(notional).unwrap_or(Money::MAX);
            other_mm = other_mm.checked_add(mm).unwrap_or(Money::MAX);
            other_upnl = other_upnl.checked_add(o.unrealized).unwrap_or(other_upnl);
        }
        CrossMargin {
            wallet: self.account.balance(),
            other_maintenance: other_mm,
            other_unrealized: other_upnl,
        }
    }
}

/// |price − stop| / price, when there is a stop (positive) on the other
/// side of nothing: `None` without a stop or at a zero distance.
pub(super) fn stop_distance(price: Price, stop: Price) -> Option<Rate> {
    if !stop.is_positive() || !price.is_positive() {
        return None;
    }
    let gap = (i128::from(price.raw()) - i128::from(stop.raw())).abs();
    let d = div_round(
        gap * i128::from(SCALE),
        i128::from(price.raw()),
        Rounding::Ceil,
    );
    i64::try_from(d).ok().filter(|&d| d > 0).map(Rate::from_raw)
}

/// The smallest order the instrument takes at `price`: the minimum
/// quantity, or the minimum notional's worth rounded up to the step.
pub(super) fn min_size(s: &SymbolState, price: Price) -> Qty {
    let ins = &s.instrument;
    let step = i128::from(ins.step_size.raw()).max(1);
    let px = i128::from(price.raw()).max(1);
    let for_notional = div_round(
        i128::from(ins.min_notional.raw()) * i128::from(SCALE),
        px,
        Rounding::Ceil,
    );
    let steps = div_round(for_notional, step, Rounding::Ceil);
    Qty::from_raw(sat(steps * step)).max(ins.min_qty)
}
