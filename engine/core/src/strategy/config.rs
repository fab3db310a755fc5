//! `[strategy]`: the shared feature settings, the regime detector and the
//! strategy instances (`[[strategy.instances]]`).
//!
//! An instance is one flat table: `kind`, the regimes it trades in, and the
//! parameters of its kind. A parameter that belongs to another kind is
//! refused by name (a typo must not silently fall back to a default);
//! a parameter left out takes the default documented in `config/paper.toml`.

use serde::Deserialize;

use crate::regime::{Regime, RegimeConfig};
use crate::types::Rate;
use crate::validate::{RangeError, Validate, check_range};

/// Where bars come from.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    serde::Serialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(PartialEq))]
#[serde(rename_all = "snake_case")]
pub enum BarSource {
    /// Candles aggregated from the trade stream.
    #[default]
    Trades,
    /// Closed klines from the exchange (or a bar file), checked first.
    Klines,
}

/// Where a strategy's stop-loss is enforced (`protect`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    serde::Serialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[rkyv(derive(PartialEq))]
#[serde(rename_all = "snake_case")]
pub enum Protect {
    /// A reduce-only stop-market resting at the exchange, and the core's
    /// own stop as well: whichever sees the price first closes.
    #[default]
    Both,
    /// Only the stop resting at the exchange; the core closes at the stop
    /// itself only while no protective order of the symbol is working
    /// (not yet acknowledged, refused, expired).
    Exchange,
    /// Only the core's own stop (the position is unprotected while the
    /// engine is down).
    Core,
}

/// How an instance's entries go out (`entry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// A market order: sure to fill, pays the taker fee and the spread.
    #[default]
    Market,
    /// Maker first: a post-only (GTX) limit at the touch of its own side,
    /// cancel-replaced at the new touch after `[control]
    /// replace_after_secs`; after `maker_replaces` replaces,
    /// `maker_fallback` decides.
    Maker,
}

/// What a maker-first entry does once its replaces are used up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MakerFallback {
    /// Give the entry up: the target drops back to the position.
    #[default]
    Abandon,
    /// Take what is left with a market order.
    Cross,
}

/// What mean reversion fades (`fade`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    serde::Serialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Fade {
    /// Closes beyond the Bollinger bands, back to the middle band.
    #[default]
    Bands,
    /// Closes beyond the UTC day's volume-profile value area (70% of the
    /// volume), back to its point of control.
    ValueArea,
    /// Closes beyond the bars' VWAP bands (the volume-weighted mean of the
    /// last `period` typical prices, `band_sd` volume-weighted deviations
    /// either side), back to the VWAP.
    VwapBands,
}

/// The kinds of strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Fast/slow EMA cross of the mid on every book ticker; flips the position.
    EmaCross,
    /// Trend following on bars: long in BULL, short in BEAR.
    Trend,
    /// Bollinger/VWAP mean reversion on bars, for RANGE.
    MeanReversion,
    /// Order-book and trade-flow imbalance scalper on book tickers.
    Scalper,
    /// Market structure on bars (smart money concepts): breaks with an
    /// order block behind them, the stop beyond the block.
    Smc,
}

impl StrategyKind {
    /// Every kind.
    pub const ALL: [StrategyKind; 5] = [
        StrategyKind::EmaCross,
        StrategyKind::Trend,
        StrategyKind::MeanReversion,
        StrategyKind::Scalper,
        StrategyKind::Smc,
    ];

    /// Name as written in configs.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::EmaCross => "ema_cross",
            StrategyKind::Trend => "trend",
            StrategyKind::MeanReversion => "mean_reversion",
            StrategyKind::Scalper => "scalper",
            StrategyKind::Smc => "smc",
        }
    }
}

/// `[[strategy.instances]]`: one strategy instance.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// What it is.
    pub kind: StrategyKind,
    /// The name the operator and the reports use (`ctl strategy NAME`);
    /// default: the kind's, with `#<index>` when several share it.
    pub name: Option<String>,
    /// Regimes in which it may open positions (at least one).
    pub regimes: Vec<Regime>,
    /// Fast EMA period (ema_cross: book tickers, default 100; trend: bars, 20).
    pub fast: Option<u32>,
    /// Slow EMA period (ema_cross: 1000; trend: 50).
    pub slow: Option<u32>,
    /// ATR period in bars for stops and targets (trend, mean_reversion: 14).
    pub atr: Option<u32>,
    /// Stop-loss distance in ATRs (trend 2, mean_reversion 1.5).
    pub stop_atr: Option<Rate>,
    /// Take-profit distance in ATRs (trend 4; mean_reversion: none, it exits at the mean).
    pub take_atr: Option<Rate>,
    /// Trend: an entry also needs MACD(12, 26, 9) on its side of the
    /// signal line and RSI(14) not stretched; smc: the close on the
    /// entry's side of the Ichimoku cloud (9, 26, 52, 26). Default false.
    pub confirm: Option<bool>,
    /// Bollinger period in bars (mean_reversion: 20).
    pub period: Option<u32>,
    /// Bollinger width in standard deviations (mean_reversion: 2).
    pub band_sd: Option<Rate>,
    /// Also require the close beyond the trade VWAP (mean_reversion: true).
    pub use_vwap: Option<bool>,
    /// Mean reversion: `"bands"` (default), `"value_area"` or `"vwap_bands"`.
    pub fade: Option<Fade>,
    /// Book imbalance that opens a position, 0 ..= 1 (scalper: 0.3).
    pub imbalance: Option<Rate>,
    /// Trade-flow imbalance that must agree, 0 ..= 1 (scalper: 0.1).
    pub flow: Option<Rate>,
    /// Widest spread in basis points the scalper trades at (2).
    pub max_spread_bps: Option<Rate>,
    /// Stop-loss distance in basis points of the entry (scalper: 5).
    pub stop_bps: Option<Rate>,
    /// Take-profit distance in basis points of the entry (scalper: 8).
    pub take_bps: Option<Rate>,
    /// Swing points of this many bars each side (smc: 2; 1 ..= 15).
    pub swing: Option<u32>,
    /// Target as a multiple of the risk to the stop (smc: 2).
    pub take_r: Option<Rate>,
    /// Where the stop-loss is enforced: `"both"` (default), `"exchange"` or
    /// `"core"` (see [`Protect`]). Not for `ema_cross`, which sets no stop.
    pub protect: Option<Protect>,
    /// Also rest a reduce-only take-profit-market at the exchange at the
    /// position's target (default false; needs `protect` other than
    /// `"core"` and a kind with a target).
    pub protect_target: Option<bool>,
    /// Seconds a position is held before the strategy's own exits apply
    /// (scalper 5, others 0). Stop-losses apply at once.
    pub min_hold_secs: Option<u32>,
    /// Seconds after which the core closes the position (scalper 300; 0 = none).
    pub max_hold_secs: Option<u32>,
    /// Fee-aware entries: an entry's expected move (its target distance,
    /// else its stop distance) must be at least this many round-trip costs
    /// (fees both ways, the spread, slippage); 0 turns the check off
    /// (default 1.5).
    pub min_edge: Option<Rate>,
    /// How entries go out: `"market"` (default) or `"maker"` (post-only at
    /// the touch first; exits stay market orders or the exchange's stop).
    pub entry: Option<Entry>,
    /// Maker-first: cancel-replaces at the new touch before the fallback
    /// (0 ..= 20, default 3).
    pub maker_replaces: Option<u32>,
    /// Maker-first: `"abandon"` (default) or `"cross"` once the replaces
    /// are used up.
    pub maker_fallback: Option<MakerFallback>,
    /// Losing round trips in a row that shrink the weight (default 3).
    pub losing_streak: Option<u32>,
    /// Factor applied to the weight after such a streak, 0 < f < 1 (0.5).
    pub weight_shrink: Option<Rate>,
    /// How much say the advisor's model has over the entries (none when
    /// absent): `{ mode = "advise" | "gate", model = "<registry name>" }`.
    pub advisor: Option<super::AdvisorUse>,
    /// Lowest weight, 0 < w <= 1 (0.25).
    pub weight_min: Option<Rate>,
    /// Weight regained by each winning round trip, up to 1 (0.25).
    pub weight_recover: Option<Rate>,
}

/// Which parameters each kind takes (the rest are refused by name).
fn allowed(kind: StrategyKind) -> &'static [&'static str] {
    match kind {
        StrategyKind::EmaCross => &["fast", "slow"],
        StrategyKind::Trend => &["fast", "slow", "atr", "stop_atr", "take_atr", "confirm"],
        StrategyKind::MeanReversion => {
            &["period", "band_sd", "use_vwap", "atr", "stop_atr", "fade"]
        }
        StrategyKind::Smc => &["swing", "take_r", "confirm"],
        StrategyKind::Scalper => &[
            "imbalance",
            "flow",
            "max_spread_bps",
            "stop_bps",
            "take_bps",
        ],
    }
}

/// Every kind-specific parameter given, by name.
fn given(c: &InstanceConfig) -> impl Iterator<Item = &'static str> {
    [
        ("fast", c.fast.is_some()),
        ("slow", c.slow.is_some()),
        ("atr", c.atr.is_some()),
        ("stop_atr", c.stop_atr.is_some()),
        ("take_atr", c.take_atr.is_some()),
        ("confirm", c.confirm.is_some()),
        ("period", c.period.is_some()),
        ("band_sd", c.band_sd.is_some()),
        ("use_vwap", c.use_vwap.is_some()),
        ("fade", c.fade.is_some()),
        ("imbalance", c.imbalance.is_some()),
        ("flow", c.flow.is_some()),
        ("max_spread_bps", c.max_spread_bps.is_some()),
        ("stop_bps", c.stop_bps.is_some()),
        ("take_bps", c.take_bps.is_some()),
        ("swing", c.swing.is_some()),
        ("take_r", c.take_r.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
}

const fn ratio(units: i64, hundredths: i64) -> Rate {
    Rate::from_raw(units * 100_000_000 + hundredths * 1_000_000)
}

impl InstanceConfig {
    /// An instance of `kind` with every parameter at its default.
    pub fn new(kind: StrategyKind, regimes: &[Regime]) -> InstanceConfig {
        InstanceConfig {
            kind,
            name: None,
            regimes: regimes.to_vec(),
            fast: None,
            slow: None,
            atr: None,
            stop_atr: None,
            take_atr: None,
            confirm: None,
            period: None,
            band_sd: None,
            use_vwap: None,
            fade: None,
            imbalance: None,
            flow: None,
            max_spread_bps: None,
            stop_bps: None,
            take_bps: None,
            swing: None,
            take_r: None,
            protect: None,
            protect_target: None,
            min_hold_secs: None,
            max_hold_secs: None,
            min_edge: None,
            entry: None,
            maker_replaces: None,
            maker_fallback: None,
            losing_streak: None,
            weight_shrink: None,
            weight_min: None,
            weight_recover: None,
            advisor: None,
        }
    }

    /// Fast EMA period.
    pub fn fast(&self) -> u32 {
        let d = if self.kind == StrategyKind::EmaCross {
            100
        } else {
            20
        };
        self.fast.unwrap_or(d)
    }
    /// Slow EMA period.
    pub fn slow(&self) -> u32 {
        let d = if self.kind == StrategyKind::EmaCross {
            1000
        } else {
            50
        };
        self.slow.unwrap_or(d)
    }
    /// ATR period.
    pub fn atr(&self) -> u32 {
        self.atr.unwrap_or(14)
    }
    /// Stop distance in ATRs.
    pub fn stop_atr(&self) -> Rate {
        let d = if self.kind == StrategyKind::Trend {
            ratio(2, 0)
        } else {
            ratio(1, 50)
        };
        self.stop_atr.unwrap_or(d)
    }
    /// Take-profit distance in ATRs (zero: none).
    pub fn take_atr(&self) -> Rate {
        let d = if self.kind == StrategyKind::Trend {
            ratio(4, 0)
        } else {
            Rate::ZERO
        };
        self.take_atr.unwrap_or(d)
    }
    /// Bollinger period.
    pub fn period(&self) -> u32 {
        self.period.unwrap_or(20)
    }
    /// Bollinger width.
    pub fn band_sd(&self) -> Rate {
        self.band_sd.unwrap_or(ratio(2, 0))
    }
    /// Mean reversion also checks the VWAP.
    pub fn use_vwap(&self) -> bool {
        self.use_vwap.unwrap_or(true)
    }
    /// Scalper's book-imbalance threshold.
    pub fn imbalance(&self) -> Rate {
        self.imbalance.unwrap_or(ratio(0, 30))
    }
    /// Scalper's trade-flow threshold.
    pub fn flow(&self) -> Rate {
        self.flow.unwrap_or(ratio(0, 10))
    }
    /// Scalper's widest spread.
    pub fn max_spread_bps(&self) -> Rate {
        self.max_spread_bps.unwrap_or(ratio(2, 0))
    }
    /// Scalper's stop in basis points.
    pub fn stop_bps(&self) -> Rate {
        self.stop_bps.unwrap_or(ratio(5, 0))
    }
    /// Scalper's target in basis points.
    pub fn take_bps(&self) -> Rate {
        self.take_bps.unwrap_or(ratio(8, 0))
    }
    /// Structure swing width.
    pub fn swing(&self) -> u32 {
        self.swing.unwrap_or(2)
    }
    /// Structure target in multiples of the risk.
    pub fn take_r(&self) -> Rate {
        self.take_r.unwrap_or(ratio(2, 0))
    }
    /// Where the stop-loss is enforced.
    pub fn protect(&self) -> Protect {
        self.protect.unwrap_or_default()
    }
    /// Minimum hold in seconds.
    pub fn min_hold_secs(&self) -> u32 {
        let d = if self.kind == StrategyKind::Scalper {
            5
        } else {
            0
        };
        self.min_hold_secs.unwrap_or(d)
    }
    /// Maximum hold in seconds (0: none).
    pub fn max_hold_secs(&self) -> u32 {
        let d = if self.kind == StrategyKind::Scalper {
            300
        } else {
            0
        };
        self.max_hold_secs.unwrap_or(d)
    }
    /// Round-trip costs an entry's expected move must cover (0: off).
    pub fn min_edge(&self) -> Rate {
        self.min_edge.unwrap_or(ratio(1, 50))
    }
    /// Losing streak that shrinks the weight.
    pub fn losing_streak(&self) -> u32 {
        self.losing_streak.unwrap_or(3)
    }
    /// Shrink factor.
    pub fn weight_shrink(&self) -> Rate {
        self.weight_shrink.unwrap_or(ratio(0, 50))
    }
    /// Weight floor.
    pub fn weight_min(&self) -> Rate {
        self.weight_min.unwrap_or(ratio(0, 25))
    }
    /// Weight regained per win.
    pub fn weight_recover(&self) -> Rate {
        self.weight_recover.unwrap_or(ratio(0, 25))
    }
}

impl Validate for InstanceConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let kind = self.kind.name();
        if let Some(k) = given(self).find(|k| !allowed(self.kind).contains(k)) {
            let takes = allowed(self.kind).join(", ");
            return Err(RangeError::new(
                at,
                k,
                "set",
                format!("not a parameter of kind = \"{kind}\" (it takes {takes})"),
            ));
        }
        if self.regimes.is_empty() {
            return Err(RangeError::new(at, "regimes", "[]", "at least one regime"));
        }
        let pct = |key: &str, v: Rate, lo: Rate| {
            if v < lo || v > Rate::ONE {
                Err(RangeError::new(at, key, v, format!("{lo} ..= 1")))
            } else {
                Ok(())
            }
        };
        let positive = |key: &str, v: Rate| {
            if v.is_positive() {
                Ok(())
            } else {
                Err(RangeError::new(at, key, v, "> 0"))
            }
        };
        match self.kind {
            StrategyKind::EmaCross | StrategyKind::Trend => {
                check_range(at, "slow", self.slow(), 2, 100_000)?;
                check_range(at, "fast", self.fast(), 1, self.slow() - 1)?;
            }
            StrategyKind::MeanReversion => {
                check_range(at, "period", self.period(), 2, 10_000)?;
                positive("band_sd", self.band_sd())?;
            }
            StrategyKind::Scalper => {
                pct("imbalance", self.imbalance(), Rate::ZERO)?;
                pct("flow", self.flow(), Rate::ZERO)?;
                positive("max_spread_bps", self.max_spread_bps())?;
                positive("stop_bps", self.stop_bps())?;
                if self.take_bps().is_negative() {
                    return Err(RangeError::new(at, "take_bps", self.take_bps(), ">= 0"));
                }
            }
            StrategyKind::Smc => {
                check_range(at, "swing", self.swing(), 1, 15)?;
                positive("take_r", self.take_r())?;
            }
        }
        if matches!(self.kind, StrategyKind::Trend | StrategyKind::MeanReversion) {
            check_range(at, "atr", self.atr(), 1, 1000)?;
            positive("stop_atr", self.stop_atr())?;
            if self.take_atr().is_negative() {
                return Err(RangeError::new(at, "take_atr", self.take_atr(), ">= 0"));
            }
        }
        if self.protect_target == Some(true)
            && (self.kind == StrategyKind::EmaCross || self.protect() == Protect::Core)
        {
            return Err(RangeError::new(
                at,
                "protect_target",
                "true",
                "false unless the kind sets a target and protect is \"both\" or \"exchange\"",
            ));
        }
        if self.kind == StrategyKind::EmaCross
            && let Some(p) = self.protect
        {
            return Err(RangeError::new(
                at,
                "protect",
                format!("{p:?}").to_lowercase(),
                "not set: ema_cross sets no stop, so there is nothing to protect",
            ));
        }
        check_range(at, "min_hold_secs", self.min_hold_secs(), 0, 86_400)?;
        let max = self.max_hold_secs();
        if max != 0 && max <= self.min_hold_secs() {
            return Err(RangeError::new(
                at,
                "max_hold_secs",
                max,
                "0 (none) or > min_hold_secs",
            ));
        }
        check_range(at, "max_hold_secs", max, 0, 7 * 86_400)?;
        check_range(at, "losing_streak", self.losing_streak(), 1, 1000)?;
        let shrink = self.weight_shrink();
        if !shrink.is_positive() || shrink >= Rate::ONE {
            return Err(RangeError::new(at, "weight_shrink", shrink, "0 < f < 1"));
        }
        pct("weight_min", self.weight_min(), Rate::from_raw(1))?;
        pct("weight_recover", self.weight_recover(), Rate::ZERO)?;
        check_range(
            at,
            "maker_replaces",
            self.maker_replaces.unwrap_or(3),
            0,
            20,
        )?;
        if let Some(a) = &self.advisor {
            a.validate(at)?;
        }
        let edge = self.min_edge();
        if edge.is_negative() || edge > ratio(100, 0) {
            return Err(RangeError::new(at, "min_edge", edge, "0 (off) ..= 100"));
        }
        if let Some(name) = &self.name {
            let fine = !name.is_empty()
                && name.len() <= 32
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-#".contains(&b));
            if !fine {
                let allowed = "1 to 32 of A-Z a-z 0-9 _ - #";
                return Err(RangeError::new(at, "name", name, allowed));
            }
        }
        Ok(())
    }
}

/// `[strategy]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Candle timeframes in seconds (1 ..= 4 of them, ascending, each
    /// 1 ..= 86400); bar strategies read the first. Built from trades, or
    /// with `bars = "klines"` the first is the data's klines and the others
    /// (multiples of it) are folded from them.
    pub bar_secs: Vec<u32>,
    /// Timeframe the regime detector reads (one of `bar_secs`).
    pub regime_bar_secs: u32,
    /// Bars from trades or from klines.
    #[serde(default)]
    pub bars: BarSource,
    /// Trades in the VWAP and trade-flow window (1 ..= 1000000).
    pub trade_window: u32,
    /// L2 levels in the order-book imbalance (1 ..= 1000).
    pub book_levels: u32,
    /// Buckets of the volume profile (1 ..= 100000), reset each UTC day.
    pub profile_buckets: u32,
    /// Ticks per volume-profile bucket (1 ..= 1000000).
    pub profile_ticks: u32,
    /// The regime detector.
    pub regime: RegimeConfig,
    /// Entries while the symbol is HIGH_VOL (by instances that list
    /// `high_vol`) at this fraction of their size; 0 opens none (0 ..= 1,
    /// default 0.5).
    #[serde(default = "half")]
    pub high_vol_size: Rate,
    /// A base bar that opens more than this many intervals after the one
    /// before (bars due and missing: a gap in the data) makes the symbol's
    /// indicators (every strategy's, the regime detector's, the realized
    /// volatility's) warm up again, and the regime read RANGE until they
    /// are; 0 reads across gaps as TA-Lib does. 0 ..= 1000000, default 3
    /// (bars built from trades skip intervals without trades: raise it for
    /// second bars of a quiet symbol).
    #[serde(default = "three")]
    pub gap_bars: u32,
    /// Seconds of event time over which the forced orders (`forceOrder`
    /// stream) are summed by side for the strategies (1 ..= 86400,
    /// default 60).
    #[serde(default = "sixty")]
    pub liquidation_window_secs: u32,
    /// The strategies (1 ..= 32).
    pub instances: Vec<InstanceConfig>,
}

fn three() -> u32 {
    3
}

fn sixty() -> u32 {
    60
}

fn half() -> Rate {
    ratio(0, 50)
}

/// The most strategy instances.
pub const MAX_INSTANCES: usize = 32;

impl StrategyConfig {
    /// One EMA cross over book tickers, in every regime (the benchmark and
    /// test configuration).
    pub fn ema_cross(fast: u32, slow: u32) -> StrategyConfig {
        let mut ema = InstanceConfig::new(StrategyKind::EmaCross, &Regime::ALL);
        ema.fast = Some(fast);
        ema.slow = Some(slow);
        StrategyConfig {
            instances: vec![ema],
            ..StrategyConfig::features()
        }
    }

    /// Default feature settings and no strategy.
    pub fn features() -> StrategyConfig {
        StrategyConfig {
            bar_secs: vec![60],
            regime_bar_secs: 60,
            bars: BarSource::Trades,
            trade_window: 500,
            book_levels: 10,
            profile_buckets: 2000,
            profile_ticks: 10,
            regime: RegimeConfig::default(),
            high_vol_size: half(),
            gap_bars: three(),
            liquidation_window_secs: sixty(),
            instances: Vec::new(),
        }
    }

    /// Each instance's name, in instance order: its `name`, else its
    /// kind's, with `#<index>` when another instance has the same kind.
    pub fn names(&self) -> Vec<String> {
        let kinds = |k: StrategyKind| self.instances.iter().filter(|i| i.kind == k).count();
        self.instances
            .iter()
            .enumerate()
            .map(|(i, inst)| match &inst.name {
                Some(n) => n.clone(),
                None if kinds(inst.kind) > 1 => format!("{}#{i}", inst.kind.name()),
                None => inst.kind.name().to_string(),
            })
            .collect()
    }
}

impl StrategyConfig {
    /// The features of one symbol with tick `tick`, shaped by this section.
    pub fn feature_set(&self, tick: crate::types::Price) -> crate::features::set::FeatureSet {
        crate::features::set::FeatureSet::new(
            &self.bar_secs,
            (self.trade_window, self.liquidation_window_secs),
            self.profile_buckets,
            self.profile_ticks,
            tick,
        )
    }
}

impl Validate for StrategyConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        let bars = &self.bar_secs;
        let listed = format!("{bars:?}");
        let ascending = bars.windows(2).all(|w| w[0] < w[1]);
        let in_range = bars.iter().all(|&s| (1..=86_400).contains(&s));
        if bars.is_empty() || bars.len() > 4 || !ascending || !in_range {
            return Err(RangeError::new(
                at,
                "bar_secs",
                listed,
                "1 to 4 ascending intervals, each 1 ..= 86400",
            ));
        }
        let base = bars[0];
        if self.bars == BarSource::Klines && bars.iter().any(|&s| s % base != 0) {
            return Err(RangeError::new(
                at,
                "bar_secs",
                listed,
                format!(
                    "with bars = \"klines\", multiples of the first ({base}): the higher \
                     timeframes are built from its klines"
                ),
            ));
        }
        if !bars.contains(&self.regime_bar_secs) {
            return Err(RangeError::new(
                at,
                "regime_bar_secs",
                self.regime_bar_secs,
                format!("one of bar_secs {listed}"),
            ));
        }
        check_range(at, "trade_window", self.trade_window, 1, 1_000_000)?;
        check_range(
            at,
            "liquidation_window_secs",
            self.liquidation_window_secs,
            1,
            86_400,
        )?;
        check_range(at, "book_levels", self.book_levels, 1, 1000)?;
        check_range(at, "profile_buckets", self.profile_buckets, 1, 100_000)?;
        check_range(at, "profile_ticks", self.profile_ticks, 1, 1_000_000)?;
        check_range(at, "gap_bars", self.gap_bars, 0, 1_000_000)?;
        self.regime.validate(&format!("{at}.regime"))?;
        check_range(
            at,
            "instances (count)",
            self.instances.len(),
            0,
            MAX_INSTANCES,
        )?;
        for (i, inst) in self.instances.iter().enumerate() {
            inst.validate(&format!("{at}.instances[{i}]"))?;
        }
        if self.high_vol_size.is_negative() || self.high_vol_size > Rate::ONE {
            return Err(RangeError::new(
                at,
                "high_vol_size",
                self.high_vol_size,
                "0 ..= 1",
            ));
        }
        let names = self.names();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                let key = format!("instances[{i}].name");
                return Err(RangeError::new(at, &key, n, "a name no other instance has"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
