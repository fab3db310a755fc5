//! The core's signal part: what turns market data into bars, regimes and
//! proposals, and what each strategy instance has learned.
//!
//! # What it owns
//! Per symbol: the trade features (candles, trade window, volume profile,
//! realized volatility) and the regime detector. Per instance and symbol:
//! the strategy's state. Per instance: its weight (adapted after each round
//! trip) and its record of closed round trips (Kelly sizing). And the bar
//! settings: where bars come from, the timeframes, which one the regime
//! reads, how many L2 levels the strategies see.
//!
//! # Interface
//! It holds no order, position, account or control state and emits
//! nothing: each call returns what happened (the bars a trade closed, the
//! regime change a bar caused, an instance's proposal, a weight change),
//! and `Core` (`strategies.rs`) decides what that means for the position
//! and records the outputs. So the part can be driven and checked alone.
//!
//! # Invariants
//! - Allocates only in [`Signals::new`]; strategies are indexed
//!   `instance × symbols + symbol`, fixed at construction.
//! - Floats only inside features, regimes and strategies; a proposal's
//!   prices are exact decimals.

use crate::config::CoreConfig;
use crate::event::{Kline, Trade, WeightChange};
use crate::features::candles::{Folded, MAX_TIMEFRAMES};
use crate::features::set::FeatureSet;
use crate::regime::{Change, RegimeDetector};
use crate::strategy::{AnyStrategy, BarSource, Market, Proposal, Strategy as _, Warmup, Weight};
use crate::types::{Money, Rate, SymbolId, UnixNanos};

use super::kelly::TripRecord;

/// An instance's closed round trips since the journal began.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct TripTotals {
    /// Round trips closed.
    pub trips: u64,
    /// Those that made money after fees.
    pub wins: u64,
    /// Their realized PnL net of fees and funding.
    pub net: Money,
}

/// Bars a trade closed, by timeframe (`Some` where one closed).
pub(super) type ClosedBars = [Option<Kline>; MAX_TIMEFRAMES];

/// See the module docs.
#[derive(Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Signals {
    /// Trade-stream features per symbol.
    features: Vec<FeatureSet>,
    /// Regime detector per symbol.
    regimes: Vec<RegimeDetector>,
    /// The last closed bar of the slowest timeframe per symbol (when more
    /// than one is configured).
    higher: Vec<Option<Kline>>,
    /// Strategy state per instance and symbol (`instance × symbols + symbol`).
    strategies: Vec<AnyStrategy>,
    /// Settings and adapted weight per instance.
    weights: Vec<Weight>,
    /// Each instance's closed round trips (Kelly sizing).
    trips: Vec<TripRecord>,
    /// Each instance's round trips, wins and net PnL since the journal
    /// began.
    totals: Vec<TripTotals>,
    /// When each strategy (`instance × symbols + symbol`) became warm
    /// (event time; 0: not yet).
    ready_at: Vec<UnixNanos>,
    symbols: usize,
    /// Where bars come from.
    bars: BarSource,
    /// Candle timeframes in seconds (the first `timeframes`).
    bar_secs: [u32; MAX_TIMEFRAMES],
    timeframes: u8,
    /// Timeframe index the regime reads.
    regime_tf: u8,
    /// L2 levels in the book imbalance.
    book_levels: u16,
    /// Entry size while HIGH_VOL, as a fraction.
    high_vol_size: Rate,
    /// Some instance fades the value area: only then is it computed.
    wants_value_area: bool,
    /// Intervals between two base bars beyond which the indicators warm
    /// up again (0: never).
    gap_bars: u32,
    /// Open time of each symbol's last base bar (0: none yet).
    last_bar: Vec<UnixNanos>,
}

/// What a gap in a symbol's bars did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GapRestart {
    /// Bars due and missing.
    pub(super) missing: u64,
    /// The regime's change to RANGE, if it was elsewhere.
    pub(super) change: Option<Change>,
}

impl Signals {
    /// All of its memory, for `cfg`'s instruments and instances.
    pub(super) fn new(cfg: &CoreConfig) -> Signals {
        let sc = &cfg.strategy;
        let symbols = cfg.instruments.len();
        let mut bar_secs = [0; MAX_TIMEFRAMES];
        for (b, &s) in bar_secs.iter_mut().zip(&sc.bar_secs) {
            *b = s;
        }
        Signals {
            features: cfg
                .instruments
                .iter()
                .map(|ins| sc.feature_set(ins.tick_size))
                .collect(),
            regimes: (0..symbols)
                .map(|_| RegimeDetector::new(&sc.regime))
                .collect(),
            higher: vec![None; symbols],
            strategies: sc
                .instances
                .iter()
                .flat_map(|inst| (0..symbols).map(|_| AnyStrategy::new(inst)))
                .collect(),
            weights: sc.instances.iter().map(Weight::new).collect(),
            trips: sc
                .instances
                .iter()
                .map(|_| TripRecord::new(cfg.risk.sizing.kelly_trips))
                .collect(),
            totals: vec![TripTotals::default(); sc.instances.len()],
            ready_at: vec![UnixNanos(0); sc.instances.len() * symbols],
            symbols,
            bars: sc.bars,
            bar_secs,
            timeframes: sc.bar_secs.len().min(MAX_TIMEFRAMES) as u8,
            regime_tf: sc
                .bar_secs
                .iter()
                .position(|&s| s == sc.regime_bar_secs)
                .unwrap_or(0) as u8,
            book_levels: sc.book_levels.min(1000) as u16,
            high_vol_size: sc.high_vol_size,
            wants_value_area: sc
                .instances
                .iter()
                .any(|i| i.fade == Some(crate::strategy::Fade::ValueArea)),
            gap_bars: sc.gap_bars,
            last_bar: vec![UnixNanos(0); symbols],
        }
    }

    /// A base bar of `sym` is about to be read: when it opens more than
    /// `gap_bars` intervals after the last one, every indicator of the
    /// symbol (each instance's, the regime detector's, the realized
    /// volatility's) starts its warm-up again, so none reads across the
    /// gap. Allocation-free: buffers are emptied, not replaced.
    pub(super) fn gap(&mut self, sym: SymbolId, bar: &Kline) -> Option<GapRestart> {
        let i = usize::from(sym.0);
        let last = self.last_bar.get_mut(i)?;
        let prev = *last;
        // A bar older than the last (never from a checked feed) opens no gap.
        let since = bar.open_time.0.checked_sub(prev.0).filter(|&d| d > 0)?;
        *last = bar.open_time;
        let step = u64::from(bar.interval_secs).saturating_mul(1_000_000_000);
        if self.gap_bars == 0 || prev.0 == 0 || step == 0 {
            return None;
        }
        if since <= step.saturating_mul(u64::from(self.gap_bars)) {
            return None;
        }
        for k in 0..self.instances() {
            let at = k * self.symbols + i;
            self.strategies[at].reset();
            self.ready_at[at] = UnixNanos(0);
        }
        self.features[i].realized.reset();
        self.higher[i] = None;
        let change = self.regimes[i].reset();
        Some(GapRestart {
            missing: since / step - 1,
            change,
        })
    }

    /// The value area of `sym`'s volume profile (70% of the volume), when
    /// an instance fades it: a scan of the profile, so once per bar.
    pub(super) fn value_area(&self, sym: SymbolId) -> Option<crate::features::profile::ValueArea> {
        let share = Rate::from_raw(70_000_000);
        self.wants_value_area
            .then(|| self.features(sym).profile.value_area(share))
            .flatten()
    }

    /// A forced order of `sym` at `t` (admitted by `guard`): into the
    /// symbol's liquidation window.
    pub(super) fn on_liquidation(
        &mut self,
        sym: SymbolId,
        t: UnixNanos,
        l: &crate::event::Liquidation,
    ) {
        if let Some(f) = self.features.get_mut(usize::from(sym.0)) {
            f.liquidations.add(t, l.side, l.avg_price, l.filled_qty);
        }
    }

    /// Event time moved to `t`: every symbol's liquidation window ends
    /// there (a compare per symbol unless a second boundary passed).
    #[inline]
    pub(super) fn advance_liquidations(&mut self, t: UnixNanos) {
        for f in &mut self.features {
            f.liquidations.advance(t);
        }
    }

    /// Entry size while HIGH_VOL, as a fraction (0: no entries).
    pub(super) fn high_vol_size(&self) -> Rate {
        self.high_vol_size
    }

    /// Strategy instances configured.
    pub(super) fn instances(&self) -> usize {
        self.weights.len()
    }

    /// Instance `k`'s settings and weight.
    pub(super) fn weight(&self, k: usize) -> &Weight {
        &self.weights[k]
    }

    /// The trade features of `sym`.
    pub(super) fn features(&self, sym: SymbolId) -> &FeatureSet {
        &self.features[usize::from(sym.0)]
    }

    /// L2 levels the strategies' book imbalance reads.
    pub(super) fn book_levels(&self) -> usize {
        usize::from(self.book_levels)
    }

    /// A trade print of `sym` at exchange time `t` into the features; the
    /// bars it closed when bars come from trades.
    pub(super) fn on_trade(&mut self, sym: SymbolId, t: UnixNanos, trade: &Trade) -> ClosedBars {
        let from_trades = self.bars == BarSource::Trades;
        let mut closed = [None; MAX_TIMEFRAMES];
        self.features[usize::from(sym.0)].on_trade(t, trade, from_trades, |tf, k| {
            closed[tf] = Some(*k);
        });
        closed
    }

    /// A closed kline is a bar only when bars come from klines and it is
    /// of the base timeframe: the higher ones are folded from it
    /// ([`Signals::fold_kline`]), so klines of other intervals are not read.
    pub(super) fn is_base_kline(&self, k: &Kline) -> bool {
        self.bars == BarSource::Klines && k.interval_secs == self.bar_secs[0]
    }

    /// Folds a base kline of `sym` into the higher timeframes: the candles
    /// it closed, by timeframe (index 0, the base, stays empty).
    pub(super) fn fold_kline(&mut self, sym: SymbolId, k: &Kline) -> [Folded; MAX_TIMEFRAMES] {
        let mut closed = [[None; 2]; MAX_TIMEFRAMES];
        self.features[usize::from(sym.0)]
            .candles
            .fold(k, |tf, bar| {
                let slot = &mut closed[tf];
                let free = usize::from(slot[0].is_some());
                slot[free] = Some(*bar);
            });
        closed
    }

    /// A bar of `sym` closed on timeframe `tf`: the regime detector reads
    /// its timeframe, the realized volatility the base one. The regime
    /// change it caused, if any.
    pub(super) fn on_bar(&mut self, sym: SymbolId, tf: usize, bar: &Kline) -> Option<Change> {
        let i = usize::from(sym.0);
        let change = if tf == usize::from(self.regime_tf) {
            let (h, l, c) = (bar.high.to_f64(), bar.low.to_f64(), bar.close.to_f64());
            self.regimes[i].see_liquidations(self.features[i].liquidations.sums());
            self.regimes[i].update(h, l, c)
        } else {
            None
        };
        if tf == 0 {
            self.features[i].realized.update(bar.close.to_f64());
        }
        let slowest = usize::from(self.timeframes).saturating_sub(1);
        if tf > 0 && tf == slowest {
            self.higher[i] = Some(*bar);
        }
        change
    }

    /// The last closed bar of `sym`'s slowest timeframe (none with a
    /// single timeframe).
    pub(super) fn higher(&self, sym: SymbolId) -> Option<Kline> {
        self.higher[usize::from(sym.0)]
    }

    /// Instance `k`'s proposal for `sym` on the base bar that closed
    /// (`Some`) or the book ticker just applied (`None`).
    pub(super) fn propose(
        &mut self,
        k: usize,
        sym: SymbolId,
        bar: Option<&Kline>,
        m: &Market,
    ) -> Option<Proposal> {
        let at = k * self.symbols + usize::from(sym.0);
        let s = &mut self.strategies[at];
        let p = match bar {
            Some(bar) => s.on_bar(bar, m),
            None => s.on_tick(m),
        };
        if self.ready_at[at].0 == 0 && s.is_ready() {
            self.ready_at[at] = m.now.max(UnixNanos(1));
        }
        p
    }

    /// When instance `k` became warm on `sym` (`None`: not yet), and what
    /// its warm-up is.
    pub(super) fn readiness(&self, k: usize, sym: SymbolId) -> (Option<UnixNanos>, Warmup) {
        let at = k * self.symbols + usize::from(sym.0);
        let t = self.ready_at[at];
        ((t.0 != 0).then_some(t), self.strategies[at].warmup())
    }

    /// Instance `k`'s round trips so far.
    pub(super) fn totals(&self, k: usize) -> Option<TripTotals> {
        self.totals.get(k).copied()
    }

    /// The operator enables or disables instance `k`; `false` if there is
    /// no such instance.
    pub(super) fn set_enabled(&mut self, k: usize, enabled: bool) -> bool {
        match self.weights.get_mut(k) {
            Some(w) => {
                w.enabled = enabled;
                true
            }
            None => false,
        }
    }

    /// Instance `k`'s fractional-Kelly estimate from its round trips
    /// (`prior` until it has any; an unknown instance gets the prior).
    pub(super) fn kelly(&self, k: u8, prior: Rate) -> Rate {
        self.trips
            .get(usize::from(k))
            .map_or(prior, |t| t.kelly(prior))
    }

    /// Replaces instance `k`'s trip record (tests that set an edge).
    #[cfg(test)]
    pub(super) fn set_trips(&mut self, k: usize, trips: TripRecord) {
        self.trips[k] = trips;
    }

    /// Instance `k` closed a round trip with `pnl` on `notional`: its trip
    /// record grows and its weight adapts; the new weight when it moved.
    pub(super) fn on_trip(&mut self, k: u8, pnl: Money, notional: Money) -> Option<WeightChange> {
        let k = usize::from(k);
        if let Some(t) = self.trips.get_mut(k) {
            t.record(pnl, notional);
        }
        if let Some(t) = self.totals.get_mut(k) {
            t.trips += 1;
            t.wins += u64::from(pnl.is_positive());
            t.net = t.net.checked_add(pnl).unwrap_or(t.net);
        }
        let w = self.weights.get_mut(k)?;
        if !w.on_trip(pnl) {
            return None;
        }
        Some(WeightChange {
            strategy: k as u8,
            losses: w.losses,
            weight: w.weight,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{StrategyConfig, presets};
    use crate::types::{Price, Qty};

    fn cfg(strategy: StrategyConfig) -> CoreConfig {
        presets::core(&[presets::btcusdt(), presets::ethusdt()], strategy)
    }

    fn trade(price: &str, ms: u64) -> (UnixNanos, Trade) {
        let t = Trade {
            trade_id: ms,
            price: Price::parse(price).unwrap(),
            qty: Qty::parse("0.01").unwrap(),
            buyer_is_maker: false,
        };
        (UnixNanos(ms * 1_000_000), t)
    }

    #[test]
    fn trades_close_bars_only_when_bars_come_from_trades() {
        let mut sc = StrategyConfig::ema_cross(5, 20);
        sc.bars = BarSource::Trades;
        let mut s = Signals::new(&cfg(sc.clone()));
        let (t, tr) = trade("60000", 1_000);
        assert_eq!(s.on_trade(SymbolId(0), t, &tr), [None; MAX_TIMEFRAMES]);
        // The first trade of the next base bar closes the one before.
        let secs = u64::from(sc.bar_secs[0]);
        let (t, tr) = trade("60010", 1_000 + secs * 1_000);
        let closed = s.on_trade(SymbolId(0), t, &tr);
        let bar = closed[0].expect("the base bar closed");
        assert_eq!(bar.close, Price::parse("60000").unwrap());
        assert!(s.features(SymbolId(0)).trades.sums().vwap().is_some());
        assert_eq!(
            s.features(SymbolId(1)).trades.sums().vwap(),
            None,
            "per symbol"
        );

        sc.bars = BarSource::Klines;
        let mut s = Signals::new(&cfg(sc));
        let (t, tr) = trade("60000", 1_000);
        s.on_trade(SymbolId(0), t, &tr);
        let (t, tr) = trade("60010", 1_000 + secs * 1_000);
        assert_eq!(s.on_trade(SymbolId(0), t, &tr), [None; MAX_TIMEFRAMES]);
    }

    #[test]
    fn a_kline_is_a_bar_only_of_the_base_timeframe() {
        let mut sc = StrategyConfig::ema_cross(5, 20);
        sc.bars = BarSource::Klines;
        sc.bar_secs = vec![60, 300];
        let s = Signals::new(&cfg(sc.clone()));
        let k = |secs| Kline {
            interval_secs: secs,
            ..Kline::default()
        };
        assert!(s.is_base_kline(&k(60)));
        assert!(!s.is_base_kline(&k(300)), "built from the base");
        assert!(!s.is_base_kline(&k(7)));
        sc.bars = BarSource::Trades;
        let s = Signals::new(&cfg(sc.clone()));
        assert!(!s.is_base_kline(&k(60)));
    }

    #[test]
    fn round_trips_feed_the_kelly_estimate_and_the_weight() {
        let s0 = Signals::new(&cfg(StrategyConfig::ema_cross(5, 20)));
        let prior = Rate::parse("0.1").unwrap();
        assert_eq!(s0.kelly(0, prior), prior, "no trips: the prior");
        assert_eq!(s0.kelly(9, prior), prior, "unknown instance: the prior");
        let mut s = s0;
        let loss = Money::parse("-10").unwrap();
        let notional = Money::parse("1000").unwrap();
        let mut changes = Vec::new();
        for _ in 0..10 {
            changes.extend(s.on_trip(0, loss, notional));
        }
        assert_ne!(s.kelly(0, prior), prior, "losses move the estimate");
        let last = changes.last().expect("a losing streak shrinks the weight");
        assert_eq!(last.strategy, 0);
        assert!(last.weight < Rate::ONE, "{last:?}");
        assert_eq!(s.weight(0).weight, last.weight);
        assert_eq!(s.on_trip(9, loss, notional), None, "unknown instance");
    }
}
