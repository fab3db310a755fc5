//! The four strategies. Each reads the market as [`Market`] gives it and
//! proposes a stance; the core decides what to do with the proposal
//! (regime filter, ownership of the position, sizing, the veto chain) and
//! manages stops, targets and hold times.

use super::{Cross, EmaCross};
use super::{Market, Proposal, Strategy};
use crate::event::{Kline, SignalReason, Stance};
use crate::features::ta::{Atr, Bollinger, Ema};
use crate::regime::Regime;
use crate::types::{Price, Rate, Rounding, SCALE, div_round_i128};

/// A level computed from indicator floats, as a price on the tick grid
/// (zero if it is not a positive finite price). Stops and targets are
/// trigger levels for market exits, never order prices.
fn level(x: f64, tick: Price) -> Price {
    Price::from_f64(x)
        .filter(|p| p.is_positive())
        .and_then(|p| p.round_to(tick, Rounding::HalfEven))
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

/// EMA cross of the mid on every book ticker (flips the position).
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct EmaFlip {
    cross: EmaCross,
}

impl EmaFlip {
    /// Fast and slow periods in book tickers.
    pub fn new(fast: u32, slow: u32) -> EmaFlip {
        EmaFlip {
            cross: EmaCross::new(fast, slow),
        }
    }
}

impl Strategy for EmaFlip {
    fn on_tick(&mut self, m: &Market) -> Option<Proposal> {
        let mid = m.top.mid()?;
        let (stance, reason) = match self.cross.update(mid.to_f64())? {
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
/// slow one, short while BEAR and below; stop and target in ATRs; out when
/// the EMAs turn against the position.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Trend {
    fast: Ema,
    slow: Ema,
    atr: Atr,
    stop_atr: f64,
    take_atr: f64,
}

impl Trend {
    /// Periods in bars; stop and target distances in ATRs (target 0: none).
    pub fn new(fast: u32, slow: u32, atr: u32, stop_atr: Rate, take_atr: Rate) -> Trend {
        Trend {
            fast: Ema::new(fast as usize),
            slow: Ema::new(slow as usize),
            atr: Atr::new(atr as usize),
            stop_atr: stop_atr.to_f64(),
            take_atr: take_atr.to_f64(),
        }
    }
}

impl Strategy for Trend {
    fn on_tick(&mut self, _m: &Market) -> Option<Proposal> {
        None
    }

    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        let (h, l, c) = (bar.high.to_f64(), bar.low.to_f64(), bar.close.to_f64());
        let fast = self.fast.update(c);
        let slow = self.slow.update(c);
        let atr = self.atr.update(h, l, c);
        let (fast, slow, atr) = (fast?, slow?, atr?);
        if atr <= 0.0 {
            return None;
        }
        let gap = (fast - slow) / atr;
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
        match (m.regime, m.held) {
            (Regime::Bull, _) if gap > 0.0 => enter(Stance::Long, SignalReason::TrendUp, 1.0),
            (Regime::Bear, _) if gap < 0.0 => enter(Stance::Short, SignalReason::TrendDown, -1.0),
            (_, Stance::Long) if gap <= 0.0 => {
                Some(Proposal::exit(SignalReason::TrendFaded, bar.close))
            }
            (_, Stance::Short) if gap >= 0.0 => {
                Some(Proposal::exit(SignalReason::TrendFaded, bar.close))
            }
            _ => None,
        }
    }
}

/// Mean reversion on bars: long below the lower Bollinger band (and below
/// the trade VWAP), short above the upper one; the target is the middle
/// band, the stop `stop_atr` ATRs beyond the entry; out at the mean.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct MeanReversion {
    bands: Bollinger,
    atr: Atr,
    stop_atr: f64,
    use_vwap: bool,
}

impl MeanReversion {
    /// Band period and width, ATR period and stop distance.
    pub fn new(period: u32, band_sd: Rate, atr: u32, stop_atr: Rate, use_vwap: bool) -> Self {
        let sd = band_sd.to_f64();
        MeanReversion {
            bands: Bollinger::new(period as usize, sd, sd),
            atr: Atr::new(atr as usize),
            stop_atr: stop_atr.to_f64(),
            use_vwap,
        }
    }
}

impl Strategy for MeanReversion {
    fn on_tick(&mut self, _m: &Market) -> Option<Proposal> {
        None
    }

    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        let (h, l, c) = (bar.high.to_f64(), bar.low.to_f64(), bar.close.to_f64());
        let bands = self.bands.update(c);
        let atr = self.atr.update(h, l, c);
        let (b, atr) = (bands?, atr?);
        let width = b.upper - b.lower;
        if width <= 0.0 {
            return None;
        }
        let vwap = m.vwap().map(Price::to_f64);
        let below_vwap = !self.use_vwap || vwap.is_none_or(|v| c < v);
        let above_vwap = !self.use_vwap || vwap.is_none_or(|v| c > v);
        let mean = level(b.middle, m.tick);
        if c < b.lower && below_vwap {
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
        if c > b.upper && above_vwap {
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
/// points of the entry; out when the book leans the other way.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Scalper {
    imbalance: Rate,
    flow: Rate,
    max_spread: Rate,
    stop_bps: Rate,
    take_bps: Rate,
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
        }
    }
}

impl Strategy for Scalper {
    fn on_tick(&mut self, m: &Market) -> Option<Proposal> {
        let imb = m.book_imbalance()?;
        let flow = m.flow()?;
        let spread = m.spread_bps()?;
        let score = confidence((imb.to_f64().abs() + flow.to_f64().abs()) / 2.0);
        let leaning = |r: Rate, t: Rate, up: bool| if up { r >= t } else { r.raw() <= -t.raw() };
        let tight = spread <= self.max_spread;
        for (up, stance, reason) in [
            (true, Stance::Long, SignalReason::BidImbalance),
            (false, Stance::Short, SignalReason::AskImbalance),
        ] {
            if tight && leaning(imb, self.imbalance, up) && leaning(flow, self.flow, up) {
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
        let faded = match m.held {
            Stance::Long => imb.is_negative(),
            Stance::Short => imb.is_positive(),
            Stance::Flat => false,
        };
        faded.then(|| {
            Proposal::exit(
                SignalReason::ImbalanceFaded,
                m.top.mid().unwrap_or_default(),
            )
        })
    }

    fn on_bar(&mut self, _bar: &Kline, _m: &Market) -> Option<Proposal> {
        None
    }
}
