//! The market regime of one symbol: bull trend, bear trend, range, or high
//! volatility, decided on closed bars with hysteresis and a minimum dwell.
//!
//! # Rule
//! On each bar, with `fast`/`slow` EMAs of the close and the ATR:
//! - `strength = (ema_fast − ema_slow) / atr` (the EMA gap in ATRs: scale
//!   free, so the same thresholds hold at 30 000 and at 0.1);
//! - `vol = atr / close × 10⁴` (basis points per bar).
//!
//! The bar's *reading* is HIGH_VOLATILITY if `vol ≥ vol_enter` (or if that
//! is the regime now and `vol ≥ vol_exit`); else BULL_TREND if
//! `strength ≥ trend_enter` (or BULL now and `strength ≥ trend_exit`); else
//! BEAR_TREND symmetrically; else RANGE. Entering takes more than staying
//! (`exit < enter`): that is the hysteresis.
//!
//! The regime changes to a reading only after `confirm_bars` bars in a row
//! read it, and never before the current regime has lasted `min_dwell_bars`
//! bars, so no regime is shorter than the dwell (the detector cannot
//! flicker). Until the indicators are warm the regime is RANGE.
//!
//! Deterministic: the same bars give the same regimes on every host (only
//! `+ − × ÷` on `f64`, see `features`).

use crate::features::ta::{Atr, Ema};
use crate::types::Rate;

pub use crate::event::Regime;

/// A set of regimes (bit `i` = `Regime::ALL[i]`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize,
)]
pub struct RegimeSet(pub u8);

impl RegimeSet {
    /// Every regime.
    pub const ALL: RegimeSet = RegimeSet(0b1111);

    /// The set of the given regimes.
    pub fn of(regimes: &[Regime]) -> RegimeSet {
        RegimeSet(regimes.iter().fold(0, |m, r| m | r.bit()))
    }

    /// `true` if `r` is in the set.
    #[inline]
    pub fn contains(self, r: Regime) -> bool {
        self.0 & r.bit() != 0
    }
}

/// `[regime]`: the detector's parameters (ratios are decimal strings).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeConfig {
    /// Fast EMA period in bars (1 ..= 1000, < slow).
    pub fast: u32,
    /// Slow EMA period in bars (2 ..= 10000).
    pub slow: u32,
    /// ATR period in bars (1 ..= 1000).
    pub atr: u32,
    /// EMA gap in ATRs that enters a trend (> trend_exit).
    pub trend_enter: Rate,
    /// EMA gap in ATRs below which a trend ends (>= 0).
    pub trend_exit: Rate,
    /// ATR in basis points of the close that enters HIGH_VOLATILITY.
    pub vol_enter_bps: Rate,
    /// ATR in basis points below which HIGH_VOLATILITY ends (< vol_enter).
    pub vol_exit_bps: Rate,
    /// Bars a reading must persist before the regime changes (1 ..= 1000).
    pub confirm_bars: u32,
    /// Bars a regime lasts at least (1 ..= 100000).
    pub min_dwell_bars: u32,
    /// Notional liquidated (both sides, USDT) over `[strategy]
    /// liquidation_window_secs` at or above which a bar reads
    /// HIGH_VOLATILITY: a liquidation cascade, before the ATR shows it
    /// (needs the `forceOrder` stream; 0 = off, the default).
    #[serde(default)]
    pub liquidation_high_vol: crate::types::Money,
}

impl Default for RegimeConfig {
    /// The values `config/paper.toml` documents, tuned on the BTCUSDT
    /// 1-minute bars of `../shared/data/klines` (see `docs/indicators.md`).
    fn default() -> Self {
        RegimeConfig {
            fast: 20,
            slow: 60,
            atr: 14,
            trend_enter: Rate::from_raw(150_000_000),
            trend_exit: Rate::from_raw(50_000_000),
            vol_enter_bps: Rate::from_raw(1_200_000_000),
            vol_exit_bps: Rate::from_raw(800_000_000),
            confirm_bars: 3,
            min_dwell_bars: 15,
            liquidation_high_vol: crate::types::Money::ZERO,
        }
    }
}

impl crate::validate::Validate for RegimeConfig {
    fn validate(&self, at: &str) -> Result<(), crate::validate::RangeError> {
        use crate::validate::{RangeError, check_range};
        check_range(at, "slow", self.slow, 2, 10_000)?;
        check_range(at, "fast", self.fast, 1, (self.slow - 1).min(1000))?;
        check_range(at, "atr", self.atr, 1, 1000)?;
        check_range(at, "confirm_bars", self.confirm_bars, 1, 1000)?;
        check_range(at, "min_dwell_bars", self.min_dwell_bars, 1, 100_000)?;
        if self.liquidation_high_vol.is_negative() {
            return Err(RangeError::new(
                at,
                "liquidation_high_vol",
                self.liquidation_high_vol,
                "0 (off) or more",
            ));
        }
        if self.trend_exit.is_negative() || self.trend_exit >= self.trend_enter {
            let allowed = "0 <= trend_exit < trend_enter";
            return Err(RangeError::new(at, "trend_exit", self.trend_exit, allowed));
        }
        if self.vol_exit_bps.is_negative() || self.vol_exit_bps >= self.vol_enter_bps {
            let allowed = "0 <= vol_exit_bps < vol_enter_bps";
            return Err(RangeError::new(
                at,
                "vol_exit_bps",
                self.vol_exit_bps,
                allowed,
            ));
        }
        Ok(())
    }
}

/// A regime change, as the core records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// The regime before.
    pub from: Regime,
    /// The regime now.
    pub to: Regime,
    /// EMA gap in ATRs at the change (rounded to 10^-8).
    pub strength: Rate,
    /// ATR in basis points at the change (rounded to 10^-8).
    pub vol_bps: Rate,
}

/// The detector of one symbol.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct RegimeDetector {
    fast: Ema,
    slow: Ema,
    atr: Atr,
    trend_enter: f64,
    trend_exit: f64,
    vol_enter: f64,
    vol_exit: f64,
    confirm: u32,
    dwell_min: u32,
    current: Regime,
    /// Bars the current regime has lasted.
    dwell: u32,
    candidate: Regime,
    /// Bars in a row that read `candidate`.
    streak: u32,
    strength: f64,
    vol: f64,
    /// `liquidation_high_vol`, raw (0: off).
    liq_enter: i64,
    /// Notional liquidated over the window at the last bar, raw.
    liquidated: i64,
}

impl RegimeDetector {
    /// A detector (starts in RANGE).
    pub fn new(cfg: &RegimeConfig) -> RegimeDetector {
        RegimeDetector {
            fast: Ema::new(cfg.fast as usize),
            slow: Ema::new(cfg.slow as usize),
            atr: Atr::new(cfg.atr as usize),
            trend_enter: cfg.trend_enter.to_f64(),
            trend_exit: cfg.trend_exit.to_f64(),
            vol_enter: cfg.vol_enter_bps.to_f64(),
            vol_exit: cfg.vol_exit_bps.to_f64(),
            confirm: cfg.confirm_bars.max(1),
            dwell_min: cfg.min_dwell_bars.max(1),
            current: Regime::Range,
            dwell: 0,
            candidate: Regime::Range,
            streak: 0,
            strength: 0.0,
            vol: 0.0,
            liq_enter: cfg.liquidation_high_vol.raw(),
            liquidated: 0,
        }
    }

    /// The liquidations the next bar is read with (the symbol's window,
    /// both sides).
    pub fn see_liquidations(&mut self, sums: crate::features::liquidations::LiquidationSums) {
        self.liquidated = sums.longs.raw().saturating_add(sums.shorts.raw());
    }

    /// The regime now.
    pub fn regime(&self) -> Regime {
        self.current
    }

    /// As new, after a gap in the bars: its indicators warm up again and
    /// it reads RANGE (not knowing) until they are warm; the change to
    /// RANGE, if it was in another regime.
    pub fn reset(&mut self) -> Option<Change> {
        self.fast.reset();
        self.slow.reset();
        self.atr.reset();
        let from = self.current;
        self.current = Regime::Range;
        self.dwell = 0;
        self.candidate = Regime::Range;
        self.streak = 0;
        self.strength = 0.0;
        self.vol = 0.0;
        self.liquidated = 0;
        (from != Regime::Range).then_some(Change {
            from,
            to: Regime::Range,
            strength: Rate::ZERO,
            vol_bps: Rate::ZERO,
        })
    }

    /// Feeds a closed bar; returns the change it caused, if any.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<Change> {
        let fast = self.fast.update(close);
        let slow = self.slow.update(close);
        let atr = self.atr.update(high, low, close);
        self.dwell = self.dwell.saturating_add(1);
        let (Some(fast), Some(slow), Some(atr)) = (fast, slow, atr) else {
            return None;
        };
        if !(atr > 0.0 && close > 0.0) {
            return None;
        }
        self.strength = (fast - slow) / atr;
        self.vol = atr / close * 10_000.0;
        let reading = self.read();
        if reading == self.current {
            self.streak = 0;
            return None;
        }
        if reading == self.candidate {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.candidate = reading;
            self.streak = 1;
        }
        if self.streak < self.confirm || self.dwell < self.dwell_min {
            return None;
        }
        let from = std::mem::replace(&mut self.current, reading);
        self.dwell = 0;
        self.streak = 0;
        Some(Change {
            from,
            to: reading,
            strength: to_rate(self.strength),
            vol_bps: to_rate(self.vol),
        })
    }

    /// This bar's reading, with the current regime's hysteresis.
    fn read(&self) -> Regime {
        let now = self.current;
        let (s, v) = (self.strength, self.vol);
        let cascade = self.liq_enter > 0 && self.liquidated >= self.liq_enter;
        if cascade || v >= self.vol_enter || (now == Regime::HighVol && v >= self.vol_exit) {
            Regime::HighVol
        } else if s >= self.trend_enter || (now == Regime::Bull && s >= self.trend_exit) {
            Regime::Bull
        } else if s <= -self.trend_enter || (now == Regime::Bear && s <= -self.trend_exit) {
            Regime::Bear
        } else {
            Regime::Range
        }
    }
}

/// A feature value as an exact ratio for an audit record (saturating).
fn to_rate(x: f64) -> Rate {
    Rate::from_f64(x).unwrap_or(if x < 0.0 {
        Rate::from_raw(-i64::MAX)
    } else {
        Rate::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RegimeConfig {
        RegimeConfig {
            fast: 3,
            slow: 6,
            atr: 3,
            confirm_bars: 2,
            min_dwell_bars: 5,
            trend_enter: Rate::ONE,
            trend_exit: Rate::from_raw(30_000_000),
            vol_enter_bps: Rate::from_raw(10_000_000_000),
            vol_exit_bps: Rate::from_raw(5_000_000_000),
            liquidation_high_vol: crate::types::Money::ZERO,
        }
    }

    fn feed(d: &mut RegimeDetector, closes: impl IntoIterator<Item = f64>) -> Vec<Regime> {
        closes
            .into_iter()
            .map(|c| {
                d.update(c + 0.5, c - 0.5, c);
                d.regime()
            })
            .collect()
    }

    #[test]
    fn a_steady_rise_is_bull_and_a_fall_is_bear() {
        let mut d = RegimeDetector::new(&cfg());
        let up = feed(&mut d, (0..30).map(|i| 1000.0 + 3.0 * f64::from(i)));
        assert_eq!(up.last(), Some(&Regime::Bull));
        let down = feed(&mut d, (0..40).map(|i| 1090.0 - 3.0 * f64::from(i)));
        assert_eq!(down.last(), Some(&Regime::Bear));
        let flat = feed(&mut d, (0..40).map(|i| 990.0 + f64::from(i % 2)));
        assert_eq!(flat.last(), Some(&Regime::Range));
    }

    #[test]
    fn wide_bars_are_high_volatility() {
        let mut d = RegimeDetector::new(&cfg());
        for i in 0..30 {
            let c = 1000.0 + f64::from(i % 2);
            d.update(c + 8.0, c - 8.0, c); // ATR about 16 on 1000: 160 bp
        }
        assert_eq!(d.regime(), Regime::HighVol);
    }

    #[test]
    fn no_regime_is_shorter_than_the_dwell() {
        let mut d = RegimeDetector::new(&cfg());
        // A noisy walk whose drift flips every 6 bars: the reading flips
        // often, the regime may not.
        let mut x = 1000.0;
        let mut seed = 7u64;
        let closes: Vec<f64> = (0..2000)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                x += noise * 4.0 + if (i / 6) % 2 == 0 { 3.0 } else { -3.0 };
                x
            })
            .collect();
        let seq = feed(&mut d, closes);
        let mut run = 0;
        let mut changes = 0;
        for w in seq.windows(2) {
            run += 1;
            if w[0] != w[1] {
                changes += 1;
                assert!(run >= 5, "a regime lasted {run} bars");
                run = 0;
            }
        }
        assert!(changes > 0, "the test must exercise changes");
    }

    #[test]
    fn a_liquidation_cascade_reads_high_vol_when_configured() {
        use crate::features::liquidations::LiquidationSums;
        use crate::types::Money;
        let burst = LiquidationSums {
            longs: Money::parse("1500").unwrap(),
            shorts: Money::parse("600").unwrap(),
        };
        let calm = |d: &mut RegimeDetector, sums: LiquidationSums, n: usize| {
            (0..n)
                .map(|_| {
                    d.see_liquidations(sums);
                    d.update(1000.5, 999.5, 1000.0);
                    d.regime()
                })
                .collect::<Vec<_>>()
        };
        // Off (the default): liquidations change nothing.
        let mut off = RegimeDetector::new(&cfg());
        assert!(
            calm(&mut off, burst, 20)
                .iter()
                .all(|r| *r == Regime::Range)
        );
        let mut on = RegimeDetector::new(&RegimeConfig {
            liquidation_high_vol: Money::parse("2000").unwrap(),
            ..cfg()
        });
        assert_eq!(
            calm(&mut on, LiquidationSums::default(), 10).last(),
            Some(&Regime::Range)
        );
        // 2 100 USDT liquidated over the window: HIGH_VOL once confirmed.
        let got = calm(&mut on, burst, 3);
        assert_eq!(got, [Regime::Range, Regime::HighVol, Regime::HighVol]);
        // Calm again: back to RANGE after the dwell and the confirmation.
        let after = calm(&mut on, LiquidationSums::default(), 8);
        assert_eq!(after.last(), Some(&Regime::Range), "{after:?}");
        assert!(
            after[..3].iter().all(|r| *r == Regime::HighVol),
            "{after:?}"
        );
    }
}
