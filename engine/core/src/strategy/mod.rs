//! Strategies: one trait, five kinds, several instances per config.
//!
//! # What a strategy does, and what the core does
//! A strategy reads the market ([`Market`]: top of book, regime, VWAP,
//! flows, imbalance, spread, the position's direction) on each book ticker
//! and each closed bar, keeps its own indicators, and *proposes* a stance
//! with its reason, confidence, entry, stop-loss and take-profit
//! ([`Proposal`]). The core (`core::strategies`) decides: it opens only in
//! the regimes the instance's config names, lets one instance own a
//! symbol's position at a time, sizes by the instance's adapted weight,
//! sends the order through the veto chain, and itself manages the stop,
//! the target, the minimum and maximum hold and the exit when the regime
//! leaves the instance's set.
//!
//! # Invariants
//! - Deterministic and allocation-free after construction, like the core.
//! - Instances are an enum ([`AnyStrategy`]) behind the [`Strategy`] trait,
//!   so the core's state stays one archivable value (snapshots) and
//!   dispatch is a jump table rather than a heap of trait objects.
//! - Adaptation ([`Weight`]) is bounded by the config and changes only
//!   at the end of a round trip.

mod advised;
mod config;
mod cross;
mod kinds;
mod structure;

pub use advised::{AdvisorMode, AdvisorUse};
pub use config::{
    BarSource, Entry, Fade, InstanceConfig, MAX_INSTANCES, MakerFallback, Protect, StrategyConfig,
    StrategyKind,
};
pub use cross::{Cross, EmaCross};
pub use kinds::{EmaFlip, MeanReversion, SCALPER_WARMUP_TICKS, Scalper, Trend};
pub use structure::StructureTrader;

use crate::depth::TopOfBook;
use crate::event::{Kline, SignalReason, Stance};
use crate::features::flow::{TradeSums, imbalance, spread_bps, top_imbalance};
use crate::regime::{Regime, RegimeSet};
use crate::types::{Money, Price, Rate, Rounding, SCALE, UnixNanos, div_round_i128};

/// What a strategy sees of one symbol.
#[derive(Clone, Copy, Debug, Default)]
pub struct Market {
    /// Event time.
    pub now: UnixNanos,
    /// Top of book (valid: two-sided, not crossed).
    pub top: TopOfBook,
    /// The instrument's tick size.
    pub tick: Price,
    /// The symbol's regime.
    pub regime: Regime,
    /// Sums of the trade window (see [`Market::vwap`], [`Market::flow`]).
    pub trades: TradeSums,
    /// Bid and ask quantities (raw) within the configured levels of the
    /// L2 book, when synced (see [`Market::book_imbalance`]).
    pub depth: Option<(i64, i64)>,
    /// Direction of the symbol's position.
    pub held: Stance,
    /// The last closed bar of the slowest configured timeframe, when
    /// there is more than one (the higher-timeframe candle).
    pub higher: Option<Kline>,
    /// The UTC day's volume-profile value area (70% of the volume) and
    /// point of control, on bars (none on book tickers, or without trades).
    pub value_area: Option<crate::features::profile::ValueArea>,
    /// Notional the exchange liquidated on each side over
    /// `[strategy] liquidation_window_secs` (with `forceOrder` streamed).
    pub liquidations: crate::features::liquidations::LiquidationSums,
}

/// The derived figures are computed when a strategy asks for them: each is
/// an exact division, and most strategies read none of them on a tick.
impl Market {
    /// VWAP of the trade window.
    pub fn vwap(&self) -> Option<Price> {
        self.trades.vwap()
    }

    /// Trade-flow imbalance of the trade window, −1 ..= 1.
    pub fn flow(&self) -> Option<Rate> {
        self.trades.flow_imbalance()
    }

    /// Order-book imbalance (L2 when synced, else the top of book), −1 ..= 1.
    pub fn book_imbalance(&self) -> Option<Rate> {
        self.depth
            .and_then(|(bid, ask)| imbalance(bid, ask))
            .or_else(|| top_imbalance(&self.top))
    }

    /// Spread in basis points.
    pub fn spread_bps(&self) -> Option<Rate> {
        spread_bps(self.top.bid_price, self.top.ask_price)
    }
}

/// A strategy's proposal: the stance it wants and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The position wanted (`Flat`: close).
    pub stance: Stance,
    /// Why.
    pub reason: SignalReason,
    /// Strength, 0 ..= 1.
    pub confidence: Rate,
    /// The price the strategy saw.
    pub entry: Price,
    /// Stop-loss level (zero: none).
    pub stop: Price,
    /// Take-profit level (zero: none).
    pub take: Price,
}

impl Proposal {
    /// An entry without stop or target (set them with struct update).
    pub fn enter(stance: Stance, reason: SignalReason, confidence: Rate, entry: Price) -> Self {
        Proposal {
            stance,
            reason,
            confidence,
            entry,
            stop: Price::ZERO,
            take: Price::ZERO,
        }
    }

    /// Close the position.
    pub fn exit(reason: SignalReason, at: Price) -> Self {
        Proposal::enter(Stance::Flat, reason, Rate::ONE, at)
    }
}

/// A strategy.
pub trait Strategy {
    /// A book ticker was applied to the top of book. Bar strategies
    /// read nothing of it (the default).
    fn on_tick(&mut self, _m: &Market) -> Option<Proposal> {
        None
    }
    /// A bar of the base timeframe closed.
    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal>;
    /// What it must see before its indicators are warm.
    fn warmup(&self) -> Warmup;
    /// Its indicators are warm: it may propose. Before, it proposes
    /// nothing.
    fn is_ready(&self) -> bool;
    /// As new: its indicators warm up again (after a gap in the data).
    /// Allocation-free, like every update: buffers are emptied, not
    /// replaced.
    fn reset(&mut self);
}

/// What a strategy must see before it may trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warmup {
    /// Closed bars of the base timeframe.
    Bars(u32),
    /// Book tickers.
    Ticks(u32),
}

impl std::fmt::Display for Warmup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warmup::Bars(n) => write!(f, "{n} bars"),
            Warmup::Ticks(n) => write!(f, "{n} book tickers"),
        }
    }
}

/// One strategy of any kind.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub enum AnyStrategy {
    /// EMA cross on ticks.
    EmaFlip(EmaFlip),
    /// Trend following.
    Trend(Trend),
    /// Mean reversion.
    MeanReversion(MeanReversion),
    /// Imbalance scalper.
    Scalper(Scalper),
    /// Market structure (smart money concepts).
    Smc(StructureTrader),
}

impl AnyStrategy {
    /// The strategy an instance config describes (validated).
    pub fn new(c: &InstanceConfig) -> AnyStrategy {
        match c.kind {
            StrategyKind::EmaCross => AnyStrategy::EmaFlip(EmaFlip::new(c.fast(), c.slow())),
            StrategyKind::Trend => AnyStrategy::Trend(Trend::confirmed(
                c.fast(),
                c.slow(),
                c.atr(),
                (c.stop_atr(), c.take_atr()),
                c.confirm.unwrap_or(false),
            )),
            StrategyKind::MeanReversion => AnyStrategy::MeanReversion(
                MeanReversion::new(c.period(), c.band_sd(), c.atr(), c.stop_atr(), c.use_vwap())
                    .fading(c.fade.unwrap_or_default()),
            ),
            StrategyKind::Smc => AnyStrategy::Smc(
                StructureTrader::new(c.swing(), c.take_r()).in_cloud(c.confirm.unwrap_or(false)),
            ),
            StrategyKind::Scalper => AnyStrategy::Scalper(Scalper::new(
                c.imbalance(),
                c.flow(),
                c.max_spread_bps(),
                c.stop_bps(),
                c.take_bps(),
            )),
        }
    }
}

impl Strategy for AnyStrategy {
    #[inline]
    fn on_tick(&mut self, m: &Market) -> Option<Proposal> {
        match self {
            AnyStrategy::EmaFlip(s) => s.on_tick(m),
            AnyStrategy::Trend(s) => s.on_tick(m),
            AnyStrategy::MeanReversion(s) => s.on_tick(m),
            AnyStrategy::Scalper(s) => s.on_tick(m),
            AnyStrategy::Smc(s) => s.on_tick(m),
        }
    }

    #[inline]
    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        match self {
            AnyStrategy::EmaFlip(s) => s.on_bar(bar, m),
            AnyStrategy::Trend(s) => s.on_bar(bar, m),
            AnyStrategy::MeanReversion(s) => s.on_bar(bar, m),
            AnyStrategy::Scalper(s) => s.on_bar(bar, m),
            AnyStrategy::Smc(s) => s.on_bar(bar, m),
        }
    }

    fn warmup(&self) -> Warmup {
        match self {
            AnyStrategy::EmaFlip(s) => s.warmup(),
            AnyStrategy::Trend(s) => s.warmup(),
            AnyStrategy::MeanReversion(s) => s.warmup(),
            AnyStrategy::Scalper(s) => s.warmup(),
            AnyStrategy::Smc(s) => s.warmup(),
        }
    }

    #[inline]
    fn is_ready(&self) -> bool {
        match self {
            AnyStrategy::EmaFlip(s) => s.is_ready(),
            AnyStrategy::Trend(s) => s.is_ready(),
            AnyStrategy::MeanReversion(s) => s.is_ready(),
            AnyStrategy::Scalper(s) => s.is_ready(),
            AnyStrategy::Smc(s) => s.is_ready(),
        }
    }
    fn reset(&mut self) {
        match self {
            AnyStrategy::EmaFlip(s) => s.reset(),
            AnyStrategy::Trend(s) => s.reset(),
            AnyStrategy::MeanReversion(s) => s.reset(),
            AnyStrategy::Scalper(s) => s.reset(),
            AnyStrategy::Smc(s) => s.reset(),
        }
    }
}

/// An instance's settings the core applies, and its adapted weight.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Weight {
    /// Regimes it may open positions in.
    pub regimes: RegimeSet,
    /// Own exits wait this long after the position opened (ns).
    pub min_hold: u64,
    /// The core closes after this long (ns; 0: never).
    pub max_hold: u64,
    /// Where its stop-loss is enforced.
    pub protect: Protect,
    /// Its target also rests at the exchange.
    pub protect_target: bool,
    /// Round-trip costs an entry's expected move must cover (0: off).
    pub min_edge: Rate,
    /// Entries as post-only limits at the touch first.
    pub maker: bool,
    /// Maker-first: cancel-replaces before the fallback.
    pub maker_replaces: u8,
    /// Maker-first: take the rest at market once the replaces are used up
    /// (else give the entry up).
    pub maker_cross: bool,
    /// The operator has not disabled it (`ctl strategy NAME disable`): a
    /// disabled instance opens nothing; what it holds still exits.
    pub enabled: bool,
    streak: u32,
    shrink: Rate,
    floor: Rate,
    recover: Rate,
    /// Losing round trips in a row.
    pub losses: u32,
    /// Size multiplier, `floor ..= 1`.
    pub weight: Rate,
}

impl Weight {
    /// Weight 1 and the config's bounds.
    pub fn new(c: &InstanceConfig) -> Weight {
        Weight {
            regimes: RegimeSet::of(&c.regimes),
            min_hold: u64::from(c.min_hold_secs()) * 1_000_000_000,
            max_hold: u64::from(c.max_hold_secs()) * 1_000_000_000,
            protect: c.protect(),
            protect_target: c.protect_target.unwrap_or(false),
            min_edge: c.min_edge(),
            maker: c.entry.unwrap_or_default() == Entry::Maker,
            maker_replaces: c.maker_replaces.unwrap_or(3).min(20) as u8,
            maker_cross: c.maker_fallback.unwrap_or_default() == MakerFallback::Cross,
            enabled: true,
            streak: c.losing_streak(),
            shrink: c.weight_shrink(),
            floor: c.weight_min(),
            recover: c.weight_recover(),
            losses: 0,
            weight: Rate::ONE,
        }
    }

    /// A round trip ended with net PnL `pnl`; returns `true` if the weight
    /// or the loss count changed. After `losing_streak` losses in a row the
    /// weight is multiplied by `weight_shrink` (never below `weight_min`)
    /// and the count restarts; a win adds `weight_recover` (never above 1).
    pub fn on_trip(&mut self, pnl: Money) -> bool {
        let before = (self.weight, self.losses);
        if pnl.is_negative() {
            self.losses += 1;
            if self.losses >= self.streak {
                self.losses = 0;
                let shrunk = div_round_i128(
                    i128::from(self.weight.raw()) * i128::from(self.shrink.raw()),
                    i128::from(SCALE),
                    Rounding::TowardZero,
                );
                let shrunk = Rate::from_raw(i64::try_from(shrunk).unwrap_or(0));
                self.weight = shrunk.max(self.floor);
            }
        } else if pnl.is_positive() {
            self.losses = 0;
            let up = self.weight.checked_add(self.recover).unwrap_or(Rate::ONE);
            self.weight = up.min(Rate::ONE);
        }
        before != (self.weight, self.losses)
    }
}

#[cfg(test)]
mod reset_tests;
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_shrinks_after_a_streak_within_bounds_and_recovers() {
        let mut c = InstanceConfig::new(StrategyKind::Trend, &[Regime::Bull]);
        c.losing_streak = Some(2);
        c.weight_shrink = Some(Rate::from_raw(50_000_000));
        c.weight_min = Some(Rate::from_raw(30_000_000));
        c.weight_recover = Some(Rate::from_raw(10_000_000));
        let mut w = Weight::new(&c);
        let loss = Money::from_raw(-1);
        let win = Money::from_raw(1);
        assert!(w.on_trip(loss));
        assert_eq!(w.weight, Rate::ONE);
        w.on_trip(loss);
        assert_eq!(w.weight, Rate::from_raw(50_000_000));
        for _ in 0..10 {
            w.on_trip(loss);
        }
        assert_eq!(
            w.weight,
            Rate::from_raw(30_000_000),
            "floored at weight_min"
        );
        w.on_trip(win);
        assert_eq!(w.weight, Rate::from_raw(40_000_000));
        for _ in 0..20 {
            w.on_trip(win);
        }
        assert_eq!(w.weight, Rate::ONE, "capped at 1");
        assert!(!w.on_trip(Money::ZERO), "a break-even trip changes nothing");
    }
}
