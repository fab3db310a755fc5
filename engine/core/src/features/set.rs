//! The features the core keeps per symbol from the trade stream: candles
//! on every configured timeframe, the trade window (VWAP, flow), the
//! session's volume profile and the realized volatility of base-bar
//! closes; and from the forced-order stream, the liquidations by side. The classic indicators live in the strategies and the regime
//! detector, which own their periods.

use super::candles::Candles;
use super::flow::{RealizedVol, TradeWindow};
use super::liquidations::LiquidationFlow;
use super::profile::VolumeProfile;
use crate::event::{Kline, Trade};
use crate::types::{Price, UnixNanos};

const DAY_NANOS: u64 = 86_400 * 1_000_000_000;

/// Bars of realized volatility.
pub const REALIZED_BARS: usize = 30;

/// One symbol's trade-stream features.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct FeatureSet {
    /// Candles on `strategy.bar_secs`.
    pub candles: Candles,
    /// VWAP and trade-flow imbalance.
    pub trades: TradeWindow,
    /// Volume profile of the UTC day.
    pub profile: VolumeProfile,
    /// Realized volatility of the last [`REALIZED_BARS`] base-bar closes.
    pub realized: RealizedVol,
    /// Liquidated notional by side over `liquidation_window_secs`.
    pub liquidations: LiquidationFlow,
    /// UTC day of the profile.
    day: u64,
}

impl FeatureSet {
    /// All memory allocated here: candles of `bar_secs`, a window of
    /// `trade_window` trades, a volume profile of `profile_buckets` buckets
    /// of `profile_ticks` ticks, liquidations over `liquidation_secs`
    /// (`[strategy]` gives each; `StrategyConfig::feature_set` reads them
    /// from there).
    pub fn new(
        bar_secs: &[u32],
        (trade_window, liquidation_secs): (u32, u32),
        profile_buckets: u32,
        profile_ticks: u32,
        tick: Price,
    ) -> FeatureSet {
        let width = Price::from_raw(tick.raw().saturating_mul(i64::from(profile_ticks)));
        FeatureSet {
            candles: Candles::new(bar_secs),
            trades: TradeWindow::new(trade_window as usize),
            profile: VolumeProfile::new(profile_buckets as usize, width),
            realized: RealizedVol::new(REALIZED_BARS),
            liquidations: LiquidationFlow::new(liquidation_secs),
            day: 0,
        }
    }

    /// Folds a trade (positive price and quantity) at exchange time `t` in;
    /// `closed(timeframe, bar)` gets each candle it closed when `candles`
    /// is set (bars come from trades).
    #[inline]
    pub fn on_trade(
        &mut self,
        t: UnixNanos,
        trade: &Trade,
        candles: bool,
        closed: impl FnMut(usize, &Kline),
    ) {
        let day = t.0 / DAY_NANOS;
        if day != self.day {
            self.day = day;
            self.profile.reset();
        }
        self.trades.update(trade);
        self.profile.update(trade.price, trade.qty);
        if candles {
            self.candles.update(t, trade, closed);
        }
    }
}
