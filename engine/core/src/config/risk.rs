//! The risk sections of the configuration: the rulebook of hard limits, the
//! forbidden conditions, portfolio and sanity checks, circuit breakers, the
//! liquidation watch, control modes and the paper account.
//!
//! Everything here is read once at start and copied into the core; nothing
//! can change it at run time (the rulebook is "fixed at start", SPEC 5).
//! Fractions (`"0.03"` = 3%) and basis points are exact decimals.

use serde::Deserialize;

use super::{RangeError, Validate, check_range};
use crate::event::ControlMode;
use crate::types::{Money, Rate};

fn rate(s: &str) -> Rate {
    Rate::parse(s).unwrap_or(Rate::ZERO)
}

/// Checks `min <= v <= max` for an exact decimal ratio.
fn check_rate(at: &str, key: &str, v: Rate, min: &str, max: &str) -> Result<(), RangeError> {
    if v < rate(min) || v > rate(max) {
        return Err(RangeError::new(at, key, v, format!("{min} ..= {max}")));
    }
    Ok(())
}

/// Reads a count that may be switched off: a number, or `"off"` (= 0).
fn number_or_off<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrOff<T> {
        Number(T),
        Word(String),
    }
    match NumberOrOff::<T>::deserialize(d)? {
        NumberOrOff::Number(n) => Ok(n),
        NumberOrOff::Word(w) if w == "off" => Ok(T::default()),
        NumberOrOff::Word(w) => Err(serde::de::Error::custom(format!(
            "expected a whole number or \"off\", not {w:?}"
        ))),
    }
}

fn check_positive_money(at: &str, key: &str, v: Money) -> Result<(), RangeError> {
    if !v.is_positive() {
        return Err(RangeError::new(at, key, v, "> 0"));
    }
    Ok(())
}

/// `[risk]`: the rulebook of hard limits (SPEC 5, level 4), scaled at run
/// time only by the control mode's multiplier.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest |position| per symbol as a USDT notional at the order's
    /// price, e.g. `"30000"` (> 0): one limit that means the same on every
    /// symbol (× the mode's percentage).
    pub max_position_notional: Money,
    /// Largest notional of one order in USDT (> 0).
    pub max_order_notional: Money,
    /// Largest account leverage, Σ|notional| / equity (1 ..= 125); the
    /// control mode caps it further (Manual 1x, SemiAuto 2x, FullAuto 3x).
    pub max_leverage: Rate,
    /// Day's loss, as a fraction of the equity at the start of the UTC day,
    /// that halts trading (0.001 ..= 0.5).
    pub max_daily_loss: Rate,
    /// Drawdown from the equity high-water mark that halts trading
    /// (0.001 ..= 0.9).
    pub max_drawdown: Rate,
    /// Losing round trips in a row that start a SAFE_MODE cool-down and
    /// refuse new risk (1 ..= 1000; 0 or `"off"`: no losing-streak breaker).
    #[serde(deserialize_with = "number_or_off")]
    pub max_consecutive_losses: u32,
    /// Symbols with a position at once (1 ..= 256).
    pub max_open_positions: u32,
    /// Orders the pre-allocated order pool holds (1 ..= 4096).
    pub max_open_orders: usize,
    /// A strategy may not close a position younger than this (0 ..= 86400 s).
    pub min_hold_secs: u64,
    /// A position older than this is closed (0 = no limit; ..= 30 days).
    pub max_hold_secs: u64,
    /// Forbidden conditions (level 3).
    pub forbidden: ForbiddenConfig,
    /// Position sizing (level 5).
    pub sizing: SizingConfig,
    /// Portfolio checks (level 5).
    pub portfolio: PortfolioConfig,
    /// Sanity checks (level 6).
    pub sanity: SanityConfig,
    /// Circuit breakers.
    pub breakers: BreakerConfig,
    /// Liquidation watch.
    pub liquidation_watch: WatchConfig,
    /// Plausibility of inputs.
    pub guards: GuardConfig,
}

impl Validate for RiskConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_positive_money(at, "max_position_notional", self.max_position_notional)?;
        check_positive_money(at, "max_order_notional", self.max_order_notional)?;
        check_rate(at, "max_leverage", self.max_leverage, "1", "125")?;
        check_rate(at, "max_daily_loss", self.max_daily_loss, "0.001", "0.5")?;
        check_rate(at, "max_drawdown", self.max_drawdown, "0.001", "0.9")?;
        check_range(
            at,
            "max_consecutive_losses",
            self.max_consecutive_losses,
            0,
            1000,
        )?;
        check_range(at, "max_open_positions", self.max_open_positions, 1, 256)?;
        check_range(at, "max_open_orders", self.max_open_orders, 1, 4096)?;
        check_range(at, "min_hold_secs", self.min_hold_secs, 0, 86_400)?;
        check_range(at, "max_hold_secs", self.max_hold_secs, 0, 30 * 86_400)?;
        if self.max_hold_secs != 0 && self.max_hold_secs <= self.min_hold_secs {
            return Err(RangeError::new(
                at,
                "max_hold_secs",
                self.max_hold_secs,
                format!("0 or more than min_hold_secs ({})", self.min_hold_secs),
            ));
        }
        let sub = |s: &str| super::join_key(at, s);
        self.forbidden.validate(&sub("forbidden"))?;
        self.sizing.validate(&sub("sizing"))?;
        if self.sizing.soft_drawdown >= self.max_drawdown {
            return Err(RangeError::new(
                &sub("sizing"),
                "soft_drawdown",
                self.sizing.soft_drawdown,
                format!("0 (off) or less than max_drawdown ({})", self.max_drawdown),
            ));
        }
        self.portfolio.validate(&sub("portfolio"))?;
        self.sanity.validate(&sub("sanity"))?;
        self.breakers.validate(&sub("breakers"))?;
        self.liquidation_watch.validate(&sub("liquidation_watch"))?;
        self.guards.validate(&sub("guards"))
    }
}

/// `[risk.forbidden]`: market conditions in which no new risk is taken
/// (SPEC 5, level 3).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForbiddenConfig {
    /// Widest spread, in basis points of the mid (0.1 ..= 1000).
    pub max_spread_bps: Rate,
    /// Market data older than this makes a feed stale (1 ..= 3600 s); a stale
    /// feed also trips SAFE_MODE until it is fresh again.
    pub stale_feed_secs: u64,
    /// No new position against the funding rate this close to a funding
    /// time (0 ..= 28800 s; 0 = off).
    pub funding_window_secs: u64,
    /// Highest realized volatility of the mid, in basis points per update
    /// (an EWMA of squared returns; 0.01 ..= 1000).
    pub max_volatility_bps: Rate,
    /// Span of that EWMA in book updates (smoothing 2 / (span + 1); the
    /// rule applies once `span` updates are seen; 2 ..= 100000).
    pub volatility_span: u32,
}

impl Validate for ForbiddenConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_rate(at, "max_spread_bps", self.max_spread_bps, "0.1", "1000")?;
        check_range(at, "stale_feed_secs", self.stale_feed_secs, 1, 3600)?;
        check_range(
            at,
            "funding_window_secs",
            self.funding_window_secs,
            0,
            28_800,
        )?;
        check_rate(
            at,
            "max_volatility_bps",
            self.max_volatility_bps,
            "0.01",
            "1000",
        )?;
        check_range(at, "volatility_span", self.volatility_span, 2, 100_000)
    }
}

/// What a strategy entry gets when its instance shows no edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoEdge {
    /// The instrument's minimum order (the strategy keeps trading small).
    MinSize,
    /// No entry (vetoed by `Sizing`).
    Skip,
}

/// `[risk.sizing]`: how big a strategy's entry is, in risk terms (SPEC 5,
/// level 5). Never a base quantity, so one config sizes every symbol.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SizingConfig {
    /// Fraction of equity lost if an entry's stop is hit: notional =
    /// equity × risk_per_trade ÷ stop distance (0.0001 ..= 0.05).
    pub risk_per_trade: Rate,
    /// USDT notional of an entry without a stop (> 0).
    pub notional: Money,
    /// Fraction of the Kelly bet that caps the risk of an entry (0.01 ..= 1).
    pub kelly_fraction: Rate,
    /// Closed round trips of an instance its Kelly estimate reads, the
    /// newest first (5 ..= 1000).
    pub kelly_trips: u32,
    /// The Kelly fraction f* assumed for an instance with no round trips;
    /// blended out as its own trips arrive (0.01 ..= 1).
    pub kelly_prior: Rate,
    /// An instance whose estimate shows no edge (f* ≤ 0) enters at the
    /// minimum size (`"min-size"`) or not at all (`"skip"`).
    pub no_edge: NoEdge,
    /// Drawdown beyond which every entry's size is halved, before the hard
    /// halt at max_drawdown (0 = off; less than max_drawdown).
    pub soft_drawdown: Rate,
}

impl Validate for SizingConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_rate(at, "risk_per_trade", self.risk_per_trade, "0.0001", "0.05")?;
        check_positive_money(at, "notional", self.notional)?;
        check_rate(at, "kelly_fraction", self.kelly_fraction, "0.01", "1")?;
        check_range(at, "kelly_trips", self.kelly_trips, 5, 1000)?;
        check_rate(at, "kelly_prior", self.kelly_prior, "0.01", "1")?;
        check_rate(at, "soft_drawdown", self.soft_drawdown, "0", "0.9")
    }
}

/// `[risk.portfolio]`: the account as a whole (SPEC 5, level 5).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioConfig {
    /// Volatility (bps per update) above which the position cap shrinks in
    /// proportion (0.01 ..= 1000).
    pub volatility_target_bps: Rate,
    /// Groups of symbols always treated as correlated, whatever the
    /// measured correlation says (an override).
    pub correlated: Vec<Vec<String>>,
    /// Measured correlation of returns (per base bar) at or beyond which two
    /// symbols count as correlated (0.1 ..= 1; a negative correlation makes
    /// opposite positions the same exposure).
    pub correlation_threshold: Rate,
    /// Span of the EWMA correlation, in base bars; it is used after that
    /// many bars (10 ..= 100000).
    pub correlation_span: u32,
    /// Largest same-direction notional of correlated symbols (> 0).
    pub max_correlated_notional: Money,
    /// Largest order as a fraction of the opposite top-of-book size (0.01 ..= 100).
    pub liquidity_fraction: Rate,
    /// Smallest distance from mark to liquidation price after an order, as a
    /// fraction of the mark (0 ..= 0.9).
    pub min_liquidation_distance: Rate,
}

impl Validate for PortfolioConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_rate(
            at,
            "correlation_threshold",
            self.correlation_threshold,
            "0.1",
            "1",
        )?;
        check_range(at, "correlation_span", self.correlation_span, 10, 100_000)?;
        check_rate(
            at,
            "volatility_target_bps",
            self.volatility_target_bps,
            "0.01",
            "1000",
        )?;
        check_positive_money(at, "max_correlated_notional", self.max_correlated_notional)?;
        check_rate(
            at,
            "liquidity_fraction",
            self.liquidity_fraction,
            "0.01",
            "100",
        )?;
        check_rate(
            at,
            "min_liquidation_distance",
            self.min_liquidation_distance,
            "0",
            "0.9",
        )?;
        check_range(at, "correlated.length", self.correlated.len(), 0, 64)
    }
}

/// `[risk.sanity]`: last checks of the order itself (SPEC 5, level 6).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SanityConfig {
    /// Largest distance of an order price from the mark, as a fraction
    /// (Binance PERCENT_PRICE; 0.001 ..= 0.5).
    pub price_band: Rate,
}

impl Validate for SanityConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_rate(at, "price_band", self.price_band, "0.001", "0.5")
    }
}

/// `[risk.breakers]`: thresholds of the self-stops that are not rulebook
/// limits (those trip on the rulebook's own values).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// SAFE_MODE cool-down after a losing streak (1 ..= 86400 s; 0 or
    /// `"off"`: the streak is counted and restarts, with no pause).
    #[serde(deserialize_with = "number_or_off")]
    pub loss_cooldown_secs: u64,
    /// Order results remembered for the error rate (1 ..= 64).
    pub error_window: u32,
    /// Refused orders within the window that degrade the system (1 ..= error_window).
    pub max_errors: u32,
    /// What the system does when the exchange liquidates (part of) a
    /// position or says the account is in liquidation (-2023): `"halted"`
    /// (the default) or `"safe_mode"`; it lasts until the operator's reset.
    #[serde(default)]
    pub on_liquidation: LiquidationHold,
    /// What the system does when periodic reconciliation finds the
    /// exchange's position differing from the core's: `"safe_mode"` (the
    /// default; lifts when they agree again) or `"alert"`.
    #[serde(default)]
    pub on_drift: DriftAction,
}

/// `[risk.breakers] on_drift`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftAction {
    /// SAFE_MODE until the positions agree again.
    #[default]
    SafeMode,
    /// An alert only.
    Alert,
}

/// `[risk.breakers] on_liquidation`: the state an exchange liquidation
/// holds the system in until the operator's reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiquidationHold {
    /// HALTED: nothing but exits until the operator resets.
    #[default]
    Halted,
    /// SAFE_MODE: no new risk until the operator resets.
    SafeMode,
}

impl Validate for BreakerConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "loss_cooldown_secs", self.loss_cooldown_secs, 0, 86_400)?;
        check_range(at, "error_window", self.error_window, 1, 64)?;
        check_range(at, "max_errors", self.max_errors, 1, self.error_window)
    }
}

/// `[risk.liquidation_watch]`: distances (fractions of the mark) to the
/// liquidation price at which a position is flagged, halved, closed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// Alert below this distance (0.001 ..= 0.9).
    pub alert: Rate,
    /// Reduce the position by half below this distance (< alert).
    pub reduce: Rate,
    /// Close the position below this distance (< reduce).
    pub close: Rate,
}

impl Validate for WatchConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_rate(at, "alert", self.alert, "0.001", "0.9")?;
        if self.reduce >= self.alert || !self.reduce.is_positive() {
            return Err(RangeError::new(
                at,
                "reduce",
                self.reduce,
                format!("> 0 and < alert ({})", self.alert),
            ));
        }
        if self.close >= self.reduce || !self.close.is_positive() {
            return Err(RangeError::new(
                at,
                "close",
                self.close,
                format!("> 0 and < reduce ({})", self.reduce),
            ));
        }
        Ok(())
    }
}

/// `[risk.guards]`: what an input from outside may plausibly carry
/// (`plausible`). Refused inputs are counted by reason and alerted; a jump
/// is accepted when the next input of its kind confirms it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Largest step of exchange time per input, either way, in the core and
    /// against the receive clock at the gateway (1 ..= 86400 s). Bar data
    /// read from files steps by up to two bars besides.
    pub time_window_secs: u64,
    /// Largest jump of a book ticker's update id (1000 ..= 10^18).
    pub max_update_jump: u64,
    /// Largest move of a book ticker's mid, a trade or a mark price from the
    /// last accepted one, as a fraction (0.001 ..= 10).
    pub max_price_jump: Rate,
}

impl Validate for GuardConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "time_window_secs", self.time_window_secs, 1, 86_400)?;
        check_range(
            at,
            "max_update_jump",
            self.max_update_jump,
            1000,
            1_000_000_000_000_000_000,
        )?;
        check_rate(at, "max_price_jump", self.max_price_jump, "0.001", "10")
    }
}

/// The control mode a fresh journal starts in (Emergency is only entered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartMode {
    /// Operator orders only.
    Manual,
    /// Automated orders need approval.
    SemiAuto,
    /// Automated.
    FullAuto,
}

impl From<StartMode> for ControlMode {
    fn from(m: StartMode) -> ControlMode {
        match m {
            StartMode::Manual => ControlMode::Manual,
            StartMode::SemiAuto => ControlMode::SemiAuto,
            StartMode::FullAuto => ControlMode::FullAuto,
        }
    }
}

/// `[control]`: control modes (SPEC 6).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// Mode of a fresh journal; a restored core keeps its journaled mode.
    pub mode: StartMode,
    /// SemiAuto: a pending order not approved within this is declined
    /// (1 ..= 3600 s; event time, not a clock).
    pub approval_timeout_secs: u64,
    /// Unfilled limit orders resting longer than this are cancelled and
    /// re-placed at the current best price (0 = never; ..= 86400 s).
    pub replace_after_secs: u64,
}

impl Validate for ControlConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(
            at,
            "approval_timeout_secs",
            self.approval_timeout_secs,
            1,
            3600,
        )?;
        check_range(at, "replace_after_secs", self.replace_after_secs, 0, 86_400)
    }
}

/// `[account]`: the margin account the core keeps.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Wallet balance in USDT when a journal starts (> 0).
    pub starting_balance: Money,
    /// The exchange leverage setting: initial margin = notional / leverage
    /// (1 ..= 125).
    pub leverage: u32,
}

impl Validate for AccountConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_positive_money(at, "starting_balance", self.starting_balance)?;
        check_range(at, "leverage", self.leverage, 1, 125)
    }
}
