//! Risk: the rulebook and thresholds fixed at start ([`Limits`]), the
//! measured correlations between symbols, and the rules of the veto chain
//! that judge an order against them alone — level 3 (forbidden market
//! conditions), level 4 (the rulebook) and level 6 (sanity). `veto` runs
//! the chain and gathers what these rules compare; the rules read nothing
//! else, so each is testable with a quote, an instrument and numbers.
//!
//! # Invariants
//! - `Limits` never changes after [`Limits::new`] (a test may set a field).
//! - Comparisons are exact integer cross-multiplications: a rule divides
//!   only to report the value that vetoed.
//! - Correlations are sampled at base-bar boundaries of event time only.

use super::correlation::Correlations;
use super::quote::Quote;
use crate::config::CoreConfig;
use crate::event::{ControlMode, OrderKind, Rule};
use crate::types::{
    Instrument, Money, Price, Qty, Rate, Rounding, SCALE, Side, UnixNanos,
    div_round_i128 as div_round,
};

use super::control::ModeProfile;

const NANOS: u64 = 1_000_000_000;

/// The risk part of the core: limits and correlations.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Risk {
    pub(super) limits: Limits,
    /// Pairwise return correlations of the symbols (sampled each base bar).
    correlations: Correlations,
    /// Event time of the next correlation sample.
    next_sample: UnixNanos,
    /// Correlation sampling period (the base bar), ns.
    sample_every: u64,
}

impl Risk {
    pub(super) fn new(cfg: &CoreConfig) -> Risk {
        let base_bar = cfg.strategy.bar_secs.first().copied().unwrap_or(1).max(1);
        Risk {
            limits: Limits::new(cfg),
            correlations: Correlations::new(
                cfg.instruments.len(),
                cfg.risk.portfolio.correlation_span,
            ),
            next_sample: UnixNanos(0),
            sample_every: u64::from(base_bar) * NANOS,
        }
    }

    /// The measured correlation of symbols `i` and `j`, once known.
    pub(super) fn correlation(&self, i: usize, j: usize) -> Option<f64> {
        self.correlations.get(i, j)
    }

    /// At a base-bar boundary of event time, samples every symbol's price
    /// (`None`: no market yet) for the correlations.
    #[inline]
    pub(super) fn on_time(&mut self, now: UnixNanos, prices: impl Iterator<Item = Option<Price>>) {
        if now < self.next_sample {
            return;
        }
        self.correlations.sample(prices);
        let every = self.sample_every;
        self.next_sample = UnixNanos((now.0 / every).saturating_add(1).saturating_mul(every));
    }
}

/// The facts the rules compare, computed once per intent.
pub(super) struct Facts {
    /// Position held (raw, signed).
    pub(super) held: i128,
    /// Held plus live orders (raw, signed).
    pub(super) exposure: i128,
    /// Exposure after this order (raw, signed).
    pub(super) after: i128,
    /// The order adds risk: |after| > |exposure| or it flips the sign.
    pub(super) adds_risk: bool,
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
pub(super) type Veto = (Rule, i64, i64);

/// What level 4 compares besides the order: the account and every
/// symbol's position, as the core stands now.
pub(super) struct Standing {
    pub(super) mode: ControlMode,
    /// Account equity (raw).
    pub(super) equity: i128,
    /// Σ |notional| at mark over all symbols with this symbol's exposure
    /// after the order, at scale 10^16.
    pub(super) gross: i128,
    /// Today's loss and the drawdown as the limits count them (raw rates).
    pub(super) daily_loss: i64,
    pub(super) drawdown: i64,
    /// Losing round trips in a row.
    pub(super) losses: u32,
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
    /// Fees and slippage a round trip costs (fee-aware entries).
    pub costs: crate::config::Costs,
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
                    // Klines come at the base interval; the higher
                    // timeframes are folded from them.
                    crate::strategy::BarSource::Klines => {
                        2 * u64::from(cfg.strategy.bar_secs.first().copied().unwrap_or(0))
                    }
                    crate::strategy::BarSource::Trades => 0,
                };
                r.guards.time_window_secs.max(bars) * NANOS
            },
            max_update_jump: r.guards.max_update_jump,
            max_price_jump: r.guards.max_price_jump,
            costs: cfg.costs,
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

impl Limits {
    /// Level 6: the exchange's filters and the price band, on the quantity
    /// rounded to the step; the quantity that goes.
    pub(super) fn sanity(
        &self,
        ins: &Instrument,
        quote: &Quote,
        (kind, side, post_only): (OrderKind, Side, bool),
        (qty, price, taking): (Qty, Price, Price),
        reduce_only: bool,
    ) -> Result<Qty, Veto> {
        let qty = match ins.round_qty(qty) {
            Some(q) if q.is_positive() => q,
            _ => return Err((Rule::ZeroQuantity, qty.raw(), ins.step_size.raw())),
        };
        let max_qty = match kind {
            OrderKind::Market | OrderKind::StopMarket | OrderKind::TakeProfitMarket => {
                ins.max_market_qty
            }
            OrderKind::Limit => ins.max_qty,
        };
        if qty < ins.min_qty {
            return Err((Rule::LotSize, qty.raw(), ins.min_qty.raw()));
        }
        if qty > max_qty {
            return Err((Rule::LotSize, qty.raw(), max_qty.raw()));
        }
        if let Some(mark) = quote.mark_or_mid() {
            let gap = (i128::from(price.raw()) - i128::from(mark.raw())).abs();
            // gap / mark > band, without the division on the passing path.
            let band = self.price_band.raw();
            if gap * i128::from(SCALE) > i128::from(band) * i128::from(mark.raw()) {
                return Err((Rule::PriceBand, ratio(gap, i128::from(mark.raw())), band));
            }
        }
        if kind == OrderKind::Limit && post_only && price_crosses(quote, side, price) {
            return Err((Rule::PostOnlyCross, price.raw(), taking.raw()));
        }
        let notional = Money::notional(price, qty, Rounding::HalfEven).unwrap_or(Money::MAX);
        // Binance exempts reduce-only orders from MIN_NOTIONAL.
        if !reduce_only && notional < ins.min_notional {
            return Err((Rule::MinNotional, notional.raw(), ins.min_notional.raw()));
        }
        Ok(qty)
    }

    /// Level 3 for orders that add risk, at event time `now` (ns).
    pub(super) fn forbidden(&self, quote: &Quote, side: Side, now: u64) -> Option<Veto> {
        let (bid, ask) = (quote.book.bid_price.raw(), quote.book.ask_price.raw());
        // (ask − bid) / mid in bps, with mid = (bid + ask) / 2, compared by
        // cross-multiplying: no division unless it vetoes.
        let gap = i128::from(ask - bid) * 10_000;
        let sum = i128::from(bid) + i128::from(ask);
        let max = self.max_spread_bps.raw();
        if gap * 2 * i128::from(SCALE) > i128::from(max) * sum {
            let mid = i128::from(Price::mid(quote.book.bid_price, quote.book.ask_price).raw());
            return Some((Rule::Spread, ratio(gap, mid), max));
        }
        let next = quote.next_funding.0;
        if self.funding_window > 0 && next > now && next - now <= self.funding_window {
            let rate = quote.funding_rate.raw();
            // Longs pay a positive rate, shorts a negative one.
            if rate * side.sign() > 0 {
                return Some((
                    Rule::FundingImminent,
                    sat(i128::from(next - now)),
                    sat(i128::from(self.funding_window)),
                ));
            }
        }
        if quote.vol.is_warm() && quote.vol.bps() > self.max_volatility {
            return Some((
                Rule::Volatility,
                quote.vol.bps().raw(),
                self.max_volatility.raw(),
            ));
        }
        None
    }

    /// Level 4 for orders that add risk. `open_positions` counts the
    /// symbols with a position or an open order (asked only when this
    /// order would open one).
    pub(super) fn rulebook(
        &self,
        st: &Standing,
        f: &Facts,
        (qty, price): (Qty, Price),
        open_positions: impl FnOnce() -> i64,
    ) -> Option<Veto> {
        let max_pos = self.scaled_position(st.mode).raw();
        // |after| × price > cap, at scale 10^16: no division to pass.
        let after16 = f.after.abs() * i128::from(price.raw());
        if after16 > i128::from(max_pos) * i128::from(SCALE) {
            return Some((Rule::MaxPosition, sat(after16 / i128::from(SCALE)), max_pos));
        }
        let notional = Money::notional(price, qty, Rounding::HalfEven).unwrap_or(Money::MAX);
        let max_notional = self.scaled_notional(st.mode);
        if notional > max_notional {
            return Some((Rule::MaxOrderNotional, notional.raw(), max_notional.raw()));
        }
        let cap = self.leverage_cap(st.mode).raw();
        // gross / equity > cap, gross at scale 10^16.
        if st.gross > i128::from(cap) * st.equity {
            let leverage = ratio(st.gross / i128::from(SCALE), st.equity);
            return Some((Rule::MaxLeverage, leverage, cap));
        }
        if st.daily_loss >= self.max_daily_loss.raw() {
            return Some((Rule::DailyLoss, st.daily_loss, self.max_daily_loss.raw()));
        }
        if st.drawdown >= self.max_drawdown.raw() {
            return Some((Rule::Drawdown, st.drawdown, self.max_drawdown.raw()));
        }
        if self.max_losses > 0 && st.losses >= self.max_losses {
            return Some((
                Rule::ConsecutiveLosses,
                i64::from(st.losses),
                i64::from(self.max_losses),
            ));
        }
        if f.held == 0 && f.exposure == 0 {
            let open = open_positions();
            if open >= i64::from(self.max_open_positions) {
                return Some((
                    Rule::MaxOpenPositions,
                    open + 1,
                    i64::from(self.max_open_positions),
                ));
            }
        }
        None
    }
}

/// A limit at `price` on `side` would trade against the book at once.
fn price_crosses(quote: &Quote, side: Side, price: Price) -> bool {
    match side {
        Side::Buy => price >= quote.book.ask_price,
        Side::Sell => price <= quote.book.bid_price,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{StrategyConfig, presets};
    use crate::core::Intent;
    use crate::event::{BookTicker, Origin};
    use crate::types::SymbolId;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn q(s: &str) -> Qty {
        Qty::parse(s).unwrap()
    }

    fn cfg() -> CoreConfig {
        presets::core(&[presets::btcusdt()], StrategyConfig::ema_cross(2, 4))
    }

    fn quote(bid: &str, ask: &str) -> Quote {
        let mut quote = Quote::new(20);
        let t = BookTicker {
            update_id: 1,
            bid_price: p(bid),
            bid_qty: Qty::ONE,
            ask_price: p(ask),
            ask_qty: Qty::ONE,
        };
        quote.on_ticker(&t, UnixNanos(1)).unwrap();
        quote
    }

    fn buy(qty: &str) -> Intent {
        Intent::market(SymbolId(0), Side::Buy, q(qty), Origin::Strategy)
    }

    fn standing(equity: &str) -> Standing {
        Standing {
            mode: ControlMode::FullAuto,
            equity: i128::from(Money::parse(equity).unwrap().raw()),
            gross: 0,
            daily_loss: 0,
            drawdown: 0,
            losses: 0,
        }
    }

    fn opening(qty: &str) -> Facts {
        let after = i128::from(q(qty).raw());
        Facts {
            held: 0,
            exposure: 0,
            after,
            adds_risk: true,
        }
    }

    #[test]
    fn level_3_refuses_a_wide_spread_and_adverse_funding_close_to_its_time() {
        let c = cfg();
        let limits = Limits::new(&c);
        let tight = quote("60000.0", "60000.1");
        assert_eq!(limits.forbidden(&tight, Side::Buy, 1), None);
        // 100 bps wide against a limit of a few bps.
        let wide = quote("60000.0", "60600.0");
        let (rule, value, limit) = limits.forbidden(&wide, Side::Buy, 1).unwrap();
        assert_eq!(rule, Rule::Spread);
        assert!(value > limit, "{value} > {limit}");

        let mut funded = tight;
        let window = limits.funding_window;
        assert!(window > 0, "the preset has a funding window");
        funded.next_funding = UnixNanos(10 * window);
        funded.funding_rate = Rate::parse("0.001").unwrap();
        let now = 10 * window - window / 2;
        // Longs pay a positive rate; shorts receive it.
        assert_eq!(
            limits.forbidden(&funded, Side::Buy, now).map(|v| v.0),
            Some(Rule::FundingImminent)
        );
        assert_eq!(limits.forbidden(&funded, Side::Sell, now), None);
        assert_eq!(
            limits.forbidden(&funded, Side::Buy, 10 * window - 2 * window),
            None
        );
    }

    #[test]
    fn level_4_compares_position_leverage_and_losses_with_the_limits() {
        let c = cfg();
        let limits = Limits::new(&c);
        let price = p("60000");
        let none = || 0;
        // The preset allows a position notional of max_position_notional.
        let cap = limits.scaled_position(ControlMode::FullAuto);
        let small = q("0.001");
        let st = standing("10000");
        assert_eq!(
            limits.rulebook(&st, &opening("0.001"), (small, price), none),
            None
        );
        let big_qty = Qty::from_raw(cap.raw() / 60_000 * 2);
        let big = opening(&big_qty.to_string());
        assert_eq!(
            limits
                .rulebook(&st, &big, (big_qty, price), none)
                .map(|v| v.0),
            Some(Rule::MaxPosition)
        );
        let mut losing = standing("10000");
        losing.daily_loss = limits.max_daily_loss.raw();
        assert_eq!(
            limits
                .rulebook(&losing, &opening("0.001"), (small, price), none)
                .map(|v| v.0),
            Some(Rule::DailyLoss)
        );
        let mut levered = standing("10");
        levered.gross = i128::from(price.raw()) * i128::from(q("1").raw());
        assert_eq!(
            limits
                .rulebook(&levered, &opening("0.001"), (small, price), none)
                .map(|v| v.0),
            Some(Rule::MaxLeverage)
        );
        // The open-position count is asked only when the order opens one.
        let full = || i64::from(limits.max_open_positions);
        assert_eq!(
            limits
                .rulebook(&st, &opening("0.001"), (small, price), full)
                .map(|v| v.0),
            Some(Rule::MaxOpenPositions)
        );
        let mut adding = opening("0.002");
        adding.held = i128::from(small.raw());
        adding.exposure = adding.held;
        let asked = std::cell::Cell::new(false);
        let counting = || {
            asked.set(true);
            99
        };
        assert_eq!(
            limits.rulebook(&st, &adding, (small, price), counting),
            None
        );
        assert!(!asked.get());
    }

    #[test]
    fn level_6_rounds_to_the_step_and_checks_lot_band_post_only_and_notional() {
        let c = cfg();
        let limits = Limits::new(&c);
        let ins = c.instruments[0];
        let book = quote("60000.0", "60000.1");
        let (price, taking) = (p("60000.1"), p("60000.1"));
        let go = |intent: &Intent, qty: &str, price: Price, reduce_only: bool| {
            let order = (intent.kind, intent.side, intent.post_only);
            limits.sanity(&ins, &book, order, (q(qty), price, taking), reduce_only)
        };
        assert_eq!(go(&buy("0.0029"), "0.0029", price, false), Ok(q("0.002")));
        assert_eq!(
            go(&buy("0.0004"), "0.0004", price, false).unwrap_err().0,
            Rule::ZeroQuantity
        );
        // 0.001 × 60,000 = 60 USDT, under the 100 USDT minimum unless it
        // only reduces.
        assert_eq!(
            go(&buy("0.001"), "0.001", price, false).unwrap_err().0,
            Rule::MinNotional
        );
        assert_eq!(go(&buy("0.001"), "0.001", price, true), Ok(q("0.001")));
        let far = p("90000");
        assert_eq!(
            go(&buy("0.01"), "0.01", far, false).unwrap_err().0,
            Rule::PriceBand
        );
        let mut post = buy("0.01");
        post.kind = OrderKind::Limit;
        post.post_only = true;
        assert_eq!(
            go(&post, "0.01", p("60000.1"), false).unwrap_err().0,
            Rule::PostOnlyCross
        );
        assert_eq!(go(&post, "0.01", p("60000.0"), false), Ok(q("0.01")));
    }

    #[test]
    fn correlations_are_sampled_once_per_base_bar_of_event_time() {
        let mut risk = Risk::new(&cfg());
        let every = risk.sample_every;
        risk.on_time(UnixNanos(every / 2), [Some(p("100"))].into_iter());
        assert_eq!(risk.next_sample, UnixNanos(every));
        // Before the boundary nothing is sampled (the prices are not read).
        risk.on_time(
            UnixNanos(every - 1),
            std::iter::once_with(|| unreachable!()),
        );
        assert_eq!(risk.next_sample, UnixNanos(every));
        risk.on_time(UnixNanos(3 * every + 1), [Some(p("101"))].into_iter());
        assert_eq!(risk.next_sample, UnixNanos(4 * every));
    }
}
