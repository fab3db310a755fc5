//! The four strategies. Each reads the market as [`Market`] gives it and
//! proposes a stance; the core decides what to do with the proposal
//! (regime filter, ownership of the position, sizing, the veto chain) and
//! manages stops, targets and hold times.
//!
//! # Warm-up
//! A strategy proposes nothing until it has seen what its indicators need
//! ([`Strategy::warmup`]): `ema_cross` its slow period in book tickers;
//! `trend` the larger of its slow period and its ATR period + 1 in bars
//! (an ATR of n bars needs n true ranges, so n + 1 closes); mean reversion
//! the larger of its band period and its ATR period + 1; the scalper
//! [`SCALPER_WARMUP_TICKS`] book tickers (its trade-flow window fills and
//! the book settles).

use super::{Cross, EmaCross};
use super::{Market, Proposal, Strategy, Warmup};
use crate::event::{Kline, SignalReason, Stance};
use crate::features::ta::{Atr, Bollinger, Ema, Macd, Rsi};
use crate::features::vwap_bands::VwapBands;
use crate::regime::Regime;
use crate::types::{Price, Rate, Rounding, SCALE, div_round_i128};

/// A level computed from indicator floats, as a price on the tick grid
/// (zero if it is not a positive finite price). Stops and targets are
/// trigger levels for market exits, never order prices.
fn level(x: f64, tick: Price) -> Price {
    on_grid(x, tick, Rounding::HalfEven)
}

/// `x` on the tick grid, rounded `mode`; zero if not a positive price.
pub(super) fn on_grid(x: f64, tick: Price, mode: Rounding) -> Price {
    Price::from_f64(x)
        .and_then(|p| p.round_to(tick, mode))
        .filter(|p| p.is_positive())
        .unwrap_or(Price::ZERO)
}

/// `price × (1 ± bps / 10⁴)` on the tick grid, exactly.
fn offset_bps(price: Price, bps: Rate, up: bool, tick: Price) -> Price {
    let delta = div_round_i128(
        i128::from(price.raw()) * i128::from(bps.raw()),
        i128::from(SCALE) * 10_000,
        Rounding::HalfEven,
    );
    let raw = if up {
        i128::from(price.raw()) + delta
    } else {
        i128::from(price.raw()) - delta
    };
    i64::try_from(raw)
        .ok()
        .and_then(|r| Price::from_raw(r).round_to(tick, Rounding::HalfEven))
        .filter(|p| p.is_positive())
        .unwrap_or(Price::ZERO)
}

/// A confidence in 0 ..= 1 from a float score.
fn confidence(x: f64) -> Rate {
    let c = if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Rate::from_raw((c * SCALE as f64).round() as i64)
}

/// Book tickers the scalper sees before it trades.
pub const SCALPER_WARMUP_TICKS: u32 = 500;

/// Counts what a strategy has seen, up to its warm-up.
#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub(super) struct Seen {
    seen: u32,
    pub(super) needs: u32,
}

impl Seen {
    pub(super) fn new(needs: u32) -> Seen {
        Seen { seen: 0, needs }
    }

    /// None seen again.
    pub(super) fn reset(&mut self) {
        self.seen = 0;
    }

    /// One more; whether it is warm now.
    pub(super) fn step(&mut self) -> bool {
        self.seen = self.seen.saturating_add(1);
        self.ready()
    }

    pub(super) fn ready(&self) -> bool {
        self.seen >= self.needs
    }
}

/// EMA cross of the mid on every book ticker (flips the position).
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct EmaFlip {
    cross: EmaCross,
    seen: Seen,
}

impl EmaFlip {
    /// Fast and slow periods in book tickers.
    pub fn new(fast: u32, slow: u32) -> EmaFlip {
        EmaFlip {
            cross: EmaCross::new(fast, slow),
            seen: Seen::new(slow),
        }
    }
}

impl Strategy for EmaFlip {
    fn reset(&mut self) {
        self.cross.reset();
        self.seen.reset();
    }

    fn warmup(&self) -> Warmup {
        Warmup::Ticks(self.seen.needs)
    }

    fn is_ready(&self) -> bool {
        self.seen.ready()
    }

    fn on_tick(&mut self, m: &Market) -> Option<Proposal> {
        let mid = m.top.mid()?;
        let cross = self.cross.update(mid.to_f64());
        if !self.seen.step() {
            return None;
        }
        let (stance, reason) = match cross? {
            Cross::Up => (Stance::Long, SignalReason::EmaCrossUp),
            Cross::Down => (Stance::Short, SignalReason::EmaCrossDown),
        };
        Some(Proposal::enter(stance, reason, Rate::ONE, mid))
    }

    fn on_bar(&mut self, _bar: &Kline, _m: &Market) -> Option<Proposal> {
        None
    }
}

/// Trend following on bars: long while BULL and the fast EMA is above the
/// slow one, short while BEAR and below, once per trend leg (until the EMAs
/// cross back), with `confirm` only when MACD and RSI agree and the
/// higher-timeframe candle (when one is configured) closed the entry's
/// way; stop and target in ATRs; out when the EMAs turn against the
/// position.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Trend {
    fast: Ema,
    slow: Ema,
    atr: Atr,
    stop_atr: f64,
    take_atr: f64,
    seen: Seen,
    /// The trend leg already entered (+1 up, −1 down, 0 none): one entry
    /// per leg, so a stop-out is not bought back on the next bar of the
    /// same leg. A leg ends when the EMAs cross back.
    leg: i8,
    /// `confirm`: MACD(12, 26, 9) and RSI(14) of the closes must agree.
    confirm: Option<(Macd, Rsi)>,
}

/// MACD(12, 26, 9) gives its first value at its 34th close.
const MACD_WARMUP: u32 = 26 + 9 - 1;
/// RSI(14) gives its first value at its 15th close.
const RSI_WARMUP: u32 = 15;
/// RSI beyond which a trend entry is late: the move is stretched.
const RSI_STRETCHED: f64 = 70.0;

impl Trend {
    /// Periods in bars; stop and target distances in ATRs (target 0: none).
    pub fn new(fast: u32, slow: u32, atr: u32, stop_atr: Rate, take_atr: Rate) -> Trend {
        Trend::confirmed(fast, slow, atr, (stop_atr, take_atr), false)
    }

    /// [`Trend::new`], and with `confirm` an entry also needs the MACD
    /// line on its side of the signal line and the RSI not stretched
    /// (below 70 for a long, above 30 for a short).
    pub fn confirmed(
        fast: u32,
        slow: u32,
        atr: u32,
        (stop_atr, take_atr): (Rate, Rate),
        confirm: bool,
    ) -> Trend {
        let warm = if confirm {
            slow.max(atr + 1).max(MACD_WARMUP).max(RSI_WARMUP)
        } else {
            slow.max(atr + 1)
        };
        Trend {
            fast: Ema::new(fast as usize),
            slow: Ema::new(slow as usize),
            atr: Atr::new(atr as usize),
            stop_atr: stop_atr.to_f64(),
            take_atr: take_atr.to_f64(),
            seen: Seen::new(warm),
            leg: 0,
            confirm: confirm.then(|| (Macd::new(12, 26, 9), Rsi::new(14))),
        }
    }
}

impl Strategy for Trend {
    fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.atr.reset();
        self.seen.reset();
        self.leg = 0;
        if let Some((macd, rsi)) = &mut self.confirm {
            macd.reset();
            rsi.reset();
        }
    }

    fn warmup(&self) -> Warmup {
        Warmup::Bars(self.seen.needs)
    }

    fn is_ready(&self) -> bool {
        self.seen.ready()
    }

    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        let (h, l, c) = (bar.high.to_f64(), bar.low.to_f64(), bar.close.to_f64());
        let fast = self.fast.update(c);
        let slow = self.slow.update(c);
        let atr = self.atr.update(h, l, c);
        // Both directions agree unless confirmation is asked for.
        let (mut up_ok, mut down_ok) = (true, true);
        if let Some((macd, rsi)) = &mut self.confirm {
            let hist = macd.update(c).map(|v| v.hist);
            let rsi = rsi.update(c);
            // The higher-timeframe candle, when there is one, closed the
            // entry's way.
            let htf_up = m.higher.is_none_or(|k| k.close > k.open);
            let htf_down = m.higher.is_none_or(|k| k.close < k.open);
            up_ok =
                hist.is_some_and(|h| h > 0.0) && rsi.is_some_and(|r| r < RSI_STRETCHED) && htf_up;
            down_ok = hist.is_some_and(|h| h < 0.0)
                && rsi.is_some_and(|r| r > 100.0 - RSI_STRETCHED)
                && htf_down;
        }
        if !self.seen.step() {
            return None;
        }
        let (fast, slow, atr) = (fast?, slow?, atr?);
        if atr <= 0.0 {
            return None;
        }
        let gap = (fast - slow) / atr;
        if (self.leg > 0 && gap <= 0.0) || (self.leg < 0 && gap >= 0.0) {
            self.leg = 0;
        }
        let enter = |stance: Stance, reason, sign: f64| {
            let take = if self.take_atr > 0.0 {
                level(c + sign * self.take_atr * atr, m.tick)
            } else {
                Price::ZERO
            };
            Some(Proposal {
                stop: level(c - sign * self.stop_atr * atr, m.tick),
                take,
                ..Proposal::enter(stance, reason, confidence(gap.abs() / 3.0), bar.close)
            })
        };
        let p = match (m.regime, m.held) {
            (Regime::Bull, _) if gap > 0.0 && self.leg <= 0 && up_ok => {
                enter(Stance::Long, SignalReason::TrendUp, 1.0)
            }
            (Regime::Bear, _) if gap < 0.0 && self.leg >= 0 && down_ok => {
                enter(Stance::Short, SignalReason::TrendDown, -1.0)
            }
            (_, Stance::Long) if gap <= 0.0 => {
                Some(Proposal::exit(SignalReason::TrendFaded, bar.close))
            }
            (_, Stance::Short) if gap >= 0.0 => {
                Some(Proposal::exit(SignalReason::TrendFaded, bar.close))
            }
            _ => None,
        };
        if let Some(p) = &p {
            self.leg = p.stance.sign() as i8;
        }
        p
    }
}

/// Mean reversion on bars: long below the lower Bollinger band (and below
/// the trade VWAP), short above the upper one, once per excursion beyond
/// the band (until the close is back at the middle); the target is the
/// middle band, the stop `stop_atr` ATRs beyond the entry; out at the mean.
/// With `fade = "value_area"` the edges are the day's volume-profile value
/// area and the mean its point of control; with `fade = "vwap_bands"` the
/// bars' VWAP bands (same period and width) and the VWAP.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct MeanReversion {
    bands: Bollinger,
    vwap_bands: VwapBands,
    atr: Atr,
    stop_atr: f64,
    use_vwap: bool,
    seen: Seen,
    /// The excursion beyond a band already entered (+1 below, −1 above,
    /// 0 none): one entry per excursion, until the close is back at the
    /// middle band, so a stop-out is not faded again on the next bar.
    excursion: i8,
    /// Which edges it fades toward which mean.
    fade: super::Fade,
}

impl MeanReversion {
    /// Band period and width, ATR period and stop distance.
    pub fn new(period: u32, band_sd: Rate, atr: u32, stop_atr: Rate, use_vwap: bool) -> Self {
        let sd = band_sd.to_f64();
        MeanReversion {
            bands: Bollinger::new(period as usize, sd, sd),
            vwap_bands: VwapBands::new(period as usize, sd),
            atr: Atr::new(atr as usize),
            stop_atr: stop_atr.to_f64(),
            use_vwap,
            seen: Seen::new(period.max(atr + 1)),
            excursion: 0,
            fade: super::Fade::Bands,
        }
    }

    /// What it fades: the bands (default), the value area or the VWAP
    /// bands.
    pub fn fading(self, fade: super::Fade) -> Self {
        MeanReversion { fade, ..self }
    }
}

impl Strategy for MeanReversion {
    fn reset(&mut self) {
        self.bands.reset();
        self.vwap_bands.reset();
        self.atr.reset();
        self.seen.reset();
        self.excursion = 0;
    }

    fn warmup(&self) -> Warmup {
        Warmup::Bars(self.seen.needs)
    }

    fn is_ready(&self) -> bool {
        self.seen.ready()
    }

    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        let (h, l, c) = (bar.high.to_f64(), bar.low.to_f64(), bar.close.to_f64());
        let bands = self.bands.update(c);
        let vwap_bands = self.vwap_bands.update(h, l, c, bar.volume.to_f64());
        let atr = self.atr.update(h, l, c);
        if !self.seen.step() {
            return None;
        }
        let atr = atr?;
        // The edges faded and the mean the target lies at: the bands and
        // their middle, the value area and its point of control, or the
        // VWAP bands and the VWAP.
        let b = match self.fade {
            super::Fade::Bands => bands?,
            super::Fade::ValueArea => {
                let va = m.value_area?;
                let (low, high, poc) = (va.low.to_f64(), va.high.to_f64(), va.poc.to_f64());
                crate::features::ta::Bands {
                    upper: high,
                    middle: poc,
                    lower: low,
                }
            }
            super::Fade::VwapBands => vwap_bands?,
        };
        let width = b.upper - b.lower;
        if width <= 0.0 {
            return None;
        }
        let vwap = m.vwap().map(Price::to_f64);
        let below_vwap = !self.use_vwap || vwap.is_none_or(|v| c < v);
        let above_vwap = !self.use_vwap || vwap.is_none_or(|v| c > v);
        let mean = level(b.middle, m.tick);
        if (self.excursion > 0 && c >= b.middle) || (self.excursion < 0 && c <= b.middle) {
            self.excursion = 0;
        }
        if c < b.lower && below_vwap && self.excursion <= 0 {
            self.excursion = 1;
            return Some(Proposal {
                stop: level(c - self.stop_atr * atr, m.tick),
                take: mean,
                ..Proposal::enter(
                    Stance::Long,
                    SignalReason::BelowBand,
                    confidence(0.5 + (b.lower - c) / width),
                    bar.close,
                )
            });
        }
        if c > b.upper && above_vwap && self.excursion >= 0 {
            self.excursion = -1;
            return Some(Proposal {
                stop: level(c + self.stop_atr * atr, m.tick),
                take: mean,
                ..Proposal::enter(
                    Stance::Short,
                    SignalReason::AboveBand,
                    confidence(0.5 + (c - b.upper) / width),
                    bar.close,
                )
            });
        }
        let back = match m.held {
            Stance::Long => c >= b.middle,
            Stance::Short => c <= b.middle,
            Stance::Flat => false,
        };
        back.then(|| Proposal::exit(SignalReason::BackToMean, bar.close))
    }
}

/// Microstructure scalper on book tickers: long when the book leans to the
/// bids by `imbalance` and buyers lead the tape by `flow` with the spread
/// at most `max_spread_bps` (short mirrored); stop and target in basis
/// points of the entry; out (never straight into the other side) when the
/// opposite setup appears.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Scalper {
    imbalance: Rate,
    flow: Rate,
    max_spread: Rate,
    stop_bps: Rate,
    take_bps: Rate,
    seen: Seen,
}

impl Scalper {
    /// Thresholds as configured.
    pub fn new(
        imbalance: Rate,
        flow: Rate,
        max_spread: Rate,
        stop_bps: Rate,
        take_bps: Rate,
    ) -> Self {
        Scalper {
            imbalance,
            flow,
            max_spread,
            stop_bps,
            take_bps,
            seen: Seen::new(SCALPER_WARMUP_TICKS),
        }
    }
}

impl Strategy for Scalper {
    fn reset(&mut self) {
        self.seen.reset();
    }

    fn warmup(&self) -> Warmup {
        Warmup::Ticks(self.seen.needs)
    }

    fn is_ready(&self) -> bool {
        self.seen.ready()
    }

    fn on_tick(&mut self, m: &Market) -> Option<Proposal> {
        if !self.seen.step() {
            return None;
        }
        let imb = m.book_imbalance()?;
        let flow = m.flow()?;
        let spread = m.spread_bps()?;
        let score = confidence((imb.to_f64().abs() + flow.to_f64().abs()) / 2.0);
        let leaning = |r: Rate, t: Rate, up: bool| if up { r >= t } else { r.raw() <= -t.raw() };
        // The setup on one side: the book and the tape both lean that way.
        let setup = |up: bool| leaning(imb, self.imbalance, up) && leaning(flow, self.flow, up);
        // Out when the opposite setup appears: a mere sign change of the
        // imbalance is noise, and leaving on it paid the round trip's fees
        // for nothing. It never turns a position around in one step.
        let against = match m.held {
            Stance::Long => Some(false),
            Stance::Short => Some(true),
            Stance::Flat => None,
        };
        if let Some(up) = against {
            return setup(up).then(|| {
                Proposal::exit(
                    SignalReason::ImbalanceFaded,
                    m.top.mid().unwrap_or_default(),
                )
            });
        }
        if spread > self.max_spread {
            return None;
        }
        for (up, stance, reason) in [
            (true, Stance::Long, SignalReason::BidImbalance),
            (false, Stance::Short, SignalReason::AskImbalance),
        ] {
            if setup(up) {
                let entry = if up { m.top.ask_price } else { m.top.bid_price };
                let take = if self.take_bps.is_positive() {
                    offset_bps(entry, self.take_bps, up, m.tick)
                } else {
                    Price::ZERO
                };
                return Some(Proposal {
                    stop: offset_bps(entry, self.stop_bps, !up, m.tick),
                    take,
                    ..Proposal::enter(stance, reason, score, entry)
                });
            }
        }
        None
    }

    fn on_bar(&mut self, _bar: &Kline, _m: &Market) -> Option<Proposal> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(close: f64) -> Kline {
        let p = Price::from_f64(close).unwrap();
        Kline {
            open: p,
            high: p,
            low: p,
            close: p,
            ..Kline::default()
        }
    }

    fn market(regime: Regime) -> Market {
        Market {
            tick: Price::from_raw(10_000_000),
            regime,
            ..Market::default()
        }
    }

    /// The stances a strategy proposes over `closes` while flat.
    fn stances(s: &mut impl Strategy, closes: &[f64], regime: Regime) -> Vec<Option<Stance>> {
        closes
            .iter()
            .map(|&c| s.on_bar(&bar(c), &market(regime)).map(|p| p.stance))
            .collect()
    }

    #[test]
    fn trend_enters_once_per_leg() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let mut t = Trend::new(2, 4, 2, r("2"), r("4"));
        let up: Vec<f64> = (0..10).map(|i| 100.0 + f64::from(i)).collect();
        let got = stances(&mut t, &up, Regime::Bull);
        // Warm after 4 bars; one long for the leg, however long it lasts
        // (a stop-out while flat is not bought back).
        let longs = got.iter().filter(|s| **s == Some(Stance::Long)).count();
        assert_eq!(longs, 1, "{got:?}");
        // The EMAs cross back down: the leg ends. A new rise is a new leg.
        let down: Vec<f64> = (0..6).map(|i| 108.0 - 2.0 * f64::from(i)).collect();
        stances(&mut t, &down, Regime::Bull);
        let again: Vec<f64> = (0..8).map(|i| 98.0 + 2.0 * f64::from(i)).collect();
        let got = stances(&mut t, &again, Regime::Bull);
        let longs = got.iter().filter(|s| **s == Some(Stance::Long)).count();
        assert_eq!(longs, 1, "{got:?}");
    }

    #[test]
    fn a_confirmed_trend_waits_for_macd_and_shuns_a_stretched_rsi() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let make = || Trend::confirmed(2, 4, 2, (r("2"), r("4")), true);
        assert_eq!(
            make().warmup(),
            Warmup::Bars(34),
            "MACD(12, 26, 9) rules the warm-up"
        );
        // A rise in steps of +2, -1: RSI about 67, MACD above its signal.
        let zigzag: Vec<f64> = (0..60)
            .map(|i| 100.0 + f64::from(i / 2) + if i % 2 == 0 { 0.0 } else { 2.0 })
            .collect();
        let mut t = make();
        let got = stances(&mut t, &zigzag, Regime::Bull);
        let first = got.iter().position(|s| *s == Some(Stance::Long));
        assert!(first.is_some_and(|i| i + 1 >= 34), "{got:?}");
        // A straight rise has RSI 100: stretched, no entry.
        let straight: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i)).collect();
        let mut t = make();
        let got = stances(&mut t, &straight, Regime::Bull);
        assert!(got.iter().all(Option::is_none), "{got:?}");
        // A higher-timeframe candle that closed down holds the long back.
        let mut t = make();
        let down = Some(bar(110.0)).map(|k| Kline {
            open: Price::from_f64(111.0).unwrap(),
            ..k
        });
        let m = Market {
            higher: down,
            ..market(Regime::Bull)
        };
        let got: Vec<_> = zigzag.iter().map(|&c| t.on_bar(&bar(c), &m)).collect();
        assert!(got.iter().all(Option::is_none), "{got:?}");
        // Without confirmation the straight rise is a trend like any.
        let mut t = Trend::new(2, 4, 2, r("2"), r("4"));
        assert!(stances(&mut t, &straight, Regime::Bull).contains(&Some(Stance::Long)));
    }

    #[test]
    fn mean_reversion_can_fade_the_value_area_toward_its_point_of_control() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let fade = || {
            MeanReversion::new(5, r("2"), 2, r("1.5"), false).fading(super::super::Fade::ValueArea)
        };
        let p = |x: &str| Price::parse(x).unwrap();
        let va = crate::features::profile::ValueArea {
            low: p("99"),
            high: p("101"),
            poc: p("100.3"),
        };
        let with = Market {
            value_area: Some(va),
            ..market(Regime::Range)
        };
        let calm = [100.0, 100.2, 99.8, 100.1, 99.9, 100.0];
        let mut m = fade();
        for c in calm {
            assert_eq!(m.on_bar(&bar(c), &with), None);
        }
        // Inside the bands' reach but below the value area: long, out at
        // the point of control.
        let got = m.on_bar(&bar(98.9), &with).unwrap();
        assert_eq!((got.stance, got.take), (Stance::Long, p("100.3")));
        // Above it: short.
        let mut m = fade();
        for c in calm {
            m.on_bar(&bar(c), &with);
        }
        let got = m.on_bar(&bar(101.2), &with).unwrap();
        assert_eq!((got.stance, got.take), (Stance::Short, p("100.3")));
        // No profile (bar data without trades): nothing to fade.
        let mut m = fade();
        let none = market(Regime::Range);
        for c in calm.iter().chain(&[98.0]) {
            assert_eq!(m.on_bar(&bar(*c), &none), None);
        }
    }

    #[test]
    fn mean_reversion_can_fade_the_vwap_bands_toward_the_vwap() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let traded = |close: f64, volume: &str| Kline {
            volume: crate::types::Qty::parse(volume).unwrap(),
            ..bar(close)
        };
        let range = market(Regime::Range);
        let mut m =
            MeanReversion::new(5, r("1"), 2, r("1.5"), false).fading(super::super::Fade::VwapBands);
        // Four quiet bars at 100, then heavy buying at 104: the VWAP leans
        // to where the volume traded (102), the SMA would not (100.8).
        let warm = [
            (100.0, "1"),
            (100.0, "1"),
            (100.0, "1"),
            (100.0, "1"),
            (104.0, "4"),
        ];
        for (c, v) in warm {
            assert_eq!(m.on_bar(&traded(c, v), &range), None);
        }
        // A close at 99: the window is 100 ×3, 104 (×4 volume), 99, so the
        // VWAP is 815 / 8 = 101.875 and one weighted deviation is
        // √(36.875 / 8) ≈ 2.147: 99 is below the lower band (99.728).
        let got = m.on_bar(&traded(99.0, "1"), &range).expect("an entry");
        assert_eq!(got.stance, Stance::Long);
        let vwap = Price::from_f64(101.875).unwrap();
        assert!(
            (got.take.raw() - vwap.raw()).abs() <= range.tick.raw(),
            "the target is the VWAP: {got:?}"
        );
        // The Bollinger fade of the same bars aims at the SMA instead
        // (100.6), and 99 is not beyond its lower band.
        let mut b = MeanReversion::new(5, r("1"), 2, r("1.5"), false);
        for (c, v) in warm {
            b.on_bar(&traded(c, v), &range);
        }
        assert_eq!(b.on_bar(&traded(99.0, "1"), &range), None);
        // Bars without volume (a book-ticker-only market): no bands, no entry.
        let mut m =
            MeanReversion::new(5, r("1"), 2, r("1.5"), false).fading(super::super::Fade::VwapBands);
        for c in [100.0, 100.0, 100.0, 100.0, 104.0, 90.0] {
            assert_eq!(m.on_bar(&bar(c), &range), None);
        }
    }

    #[test]
    fn mean_reversion_enters_once_per_excursion() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let mut m = MeanReversion::new(5, r("1"), 2, r("1.5"), false);
        let calm = [100.0, 100.2, 99.8, 100.1, 99.9, 100.0];
        stances(&mut m, &calm, Regime::Range);
        // Below the band for three bars: one long.
        let got = stances(&mut m, &[98.0, 97.5, 97.0], Regime::Range);
        assert_eq!(got[0], Some(Stance::Long), "{got:?}");
        assert!(got[1..].iter().all(Option::is_none), "{got:?}");
        // Back at the mean, then below again: a new excursion.
        stances(&mut m, &[100.0, 100.5, 100.2, 100.1, 100.0], Regime::Range);
        let got = stances(&mut m, &[98.0], Regime::Range);
        assert_eq!(got[0], Some(Stance::Long), "{got:?}");
    }
}
