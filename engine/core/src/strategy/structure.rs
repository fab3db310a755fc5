//! `smc`: trading market structure (`features::smc`).
//!
//! # Rules
//! - Long on an upward break (BOS or CHoCH) of a swing high that has a
//!   bullish order block behind it: entry at the close, the stop one tick
//!   below the order block's low, the target `take_r` times the risk above
//!   the entry. Short mirrored (stop one tick above the bearish block's
//!   high).
//! - Out on a break against the position (the structure turned).
//! - An entry whose stop would not lie beyond the entry (the block is not
//!   behind the price) is not proposed.
//! - With `confirm`, a long also needs the close above the Ichimoku cloud
//!   (9, 26, 52, 26) over the bar, a short below it: a break inside or
//!   against the cloud is not taken. Exits do not ask the cloud.
//! - Warm after 2k + 1 bars: the first swing point can be known then; with
//!   `confirm`, after the cloud's 78 bars if that is later.

use super::kinds::{Seen, on_grid};
use super::{Market, Proposal, Strategy, Warmup};
use crate::event::{Kline, SignalReason, Stance};
use crate::features::ichimoku::Ichimoku;
use crate::features::smc::Smc;
use crate::types::{Rate, Rounding};

/// The structure trader.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct StructureTrader {
    smc: Smc,
    take_r: f64,
    seen: Seen,
    /// The cloud an entry must be clear of, with `confirm`.
    cloud: Option<Ichimoku>,
}

impl StructureTrader {
    /// Swing points of `swing` bars each side; targets `take_r` times the
    /// risk.
    pub fn new(swing: u32, take_r: Rate) -> StructureTrader {
        StructureTrader {
            smc: Smc::new(swing as usize),
            take_r: take_r.to_f64(),
            seen: Seen::new(2 * swing + 1),
            cloud: None,
        }
    }

    /// Entries only on the cloud's far side (`confirm`), when `on`.
    pub fn in_cloud(self, on: bool) -> StructureTrader {
        if !on {
            return self;
        }
        let cloud = Ichimoku::standard();
        let needs = u32::try_from(cloud.warmup()).unwrap_or(u32::MAX);
        StructureTrader {
            seen: Seen::new(self.seen.needs.max(needs)),
            cloud: Some(cloud),
            ..self
        }
    }
}

impl Strategy for StructureTrader {
    fn reset(&mut self) {
        self.smc.reset();
        self.seen.reset();
        if let Some(c) = &mut self.cloud {
            c.reset();
        }
    }

    fn warmup(&self) -> Warmup {
        Warmup::Bars(self.seen.needs)
    }

    fn is_ready(&self) -> bool {
        self.seen.ready()
    }

    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        let structure = self.smc.update(bar);
        let cloud = self
            .cloud
            .as_mut()
            .map(|c| c.update(bar.high.to_f64(), bar.low.to_f64()));
        if !self.seen.step() {
            return None;
        }
        let b = structure.broke?;
        let against = match m.held {
            Stance::Long => !b.up,
            Stance::Short => b.up,
            Stance::Flat => false,
        };
        if against {
            return Some(Proposal::exit(SignalReason::StructureTurned, bar.close));
        }
        let block = b.order_block?;
        let entry = bar.close;
        let c = entry.to_f64();
        // `Some(None)`: confirmation asked, the cloud not known yet.
        if let Some(cloud) = cloud {
            let (top, bottom) = cloud?.bounds();
            if (b.up && c <= top) || (!b.up && c >= bottom) {
                return None;
            }
        }
        let tick = m.tick.to_f64();
        let (stance, reason, stop) = if b.up {
            let stop = on_grid(block.low - tick, m.tick, Rounding::Floor);
            (Stance::Long, SignalReason::StructureUp, stop)
        } else {
            let stop = on_grid(block.high + tick, m.tick, Rounding::Ceil);
            (Stance::Short, SignalReason::StructureDown, stop)
        };
        let risk = (c - stop.to_f64()) * stance.sign() as f64;
        if !stop.is_positive() || risk <= 0.0 {
            return None;
        }
        let take = on_grid(
            c + stance.sign() as f64 * self.take_r * risk,
            m.tick,
            Rounding::HalfEven,
        );
        let confidence = if b.choch {
            Rate::ONE
        } else {
            Rate::from_raw(75_000_000)
        };
        Some(Proposal {
            stop,
            take,
            ..Proposal::enter(stance, reason, confidence, entry)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::smc::fixture::hand_worked as bars;
    use crate::regime::Regime;
    use crate::types::Price;

    fn market(held: Stance) -> Market {
        Market {
            tick: Price::parse("0.1").unwrap(),
            regime: Regime::Range,
            held,
            ..Market::default()
        }
    }

    #[test]
    fn long_on_the_break_with_the_stop_beyond_the_order_block_out_when_it_turns() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let mut s = StructureTrader::new(1, r("2"));
        assert_eq!(s.warmup(), Warmup::Bars(3));
        let bars = bars();
        let got: Vec<Option<Proposal>> = bars[..6]
            .iter()
            .map(|b| s.on_bar(b, &market(Stance::Flat)))
            .collect();
        assert!(got[..5].iter().all(Option::is_none), "{got:?}");
        let p = got[5].expect("the break at bar 5");
        assert_eq!(
            (p.stance, p.reason),
            (Stance::Long, SignalReason::StructureUp)
        );
        // Entry 105; stop one tick under the block's 98; risk 7.1; target
        // 105 + 2 × 7.1.
        assert_eq!(p.entry, Price::parse("105").unwrap());
        assert_eq!(p.stop, Price::parse("97.9").unwrap());
        assert_eq!(p.take, Price::parse("119.2").unwrap());
        // Holding the long: the downward break at bar 8 takes it out.
        s.on_bar(&bars[6], &market(Stance::Long));
        s.on_bar(&bars[7], &market(Stance::Long));
        let out = s.on_bar(&bars[8], &market(Stance::Long)).unwrap();
        assert_eq!(
            (out.stance, out.reason),
            (Stance::Flat, SignalReason::StructureTurned)
        );
    }

    #[test]
    fn with_confirm_a_break_is_taken_only_clear_of_the_ichimoku_cloud() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let flat = |level: &str| {
            let p = |x: f64| Price::from_f64(x).unwrap();
            let x: f64 = level.parse().unwrap();
            Kline {
                open: p(x),
                high: p(x + 0.5),
                low: p(x - 0.5),
                close: p(x),
                ..Kline::default()
            }
        };
        // 80 quiet bars at `level`, then the hand-worked break upward (a
        // long at 105): the cloud over it is the quiet stretch's, about
        // `level` wide of one point.
        let run = |s: &mut StructureTrader, level: &str| -> Vec<Option<Proposal>> {
            let mut bars: Vec<Kline> = (0..80).map(|_| flat(level)).collect();
            bars.extend_from_slice(&self::bars()[..6]);
            bars.iter()
                .map(|b| s.on_bar(b, &market(Stance::Flat)))
                .collect()
        };
        let long = |got: &[Option<Proposal>]| {
            got.iter()
                .flatten()
                .any(|p| p.stance == Stance::Long && p.entry == Price::parse("105").unwrap())
        };
        let plain = run(&mut StructureTrader::new(1, r("2")), "120");
        assert!(
            long(&plain),
            "without confirm the break is a long: {plain:?}"
        );
        let mut s = StructureTrader::new(1, r("2")).in_cloud(true);
        assert_eq!(s.warmup(), Warmup::Bars(78), "52 + 26 bars for the cloud");
        let below = run(&mut s, "120");
        assert!(!long(&below), "105 is under a cloud at 120: {below:?}");
        let mut s = StructureTrader::new(1, r("2")).in_cloud(true);
        let above = run(&mut s, "90");
        assert!(long(&above), "105 is over a cloud at 90: {above:?}");
    }

    #[test]
    fn flat_a_downward_break_is_a_short_with_the_stop_above_its_block() {
        let r = |x: &str| x.parse::<Rate>().unwrap();
        let mut s = StructureTrader::new(1, r("1.5"));
        let bars = bars();
        let p = bars
            .iter()
            .filter_map(|b| s.on_bar(b, &market(Stance::Flat)))
            .last()
            .unwrap();
        // The block 105.5–109: stop one tick above; risk 11.6 from 97.5.
        assert_eq!(
            (p.stance, p.reason),
            (Stance::Short, SignalReason::StructureDown)
        );
        assert_eq!(p.stop, Price::parse("109.1").unwrap());
        assert_eq!(p.take, Price::parse("80.1").unwrap());
    }
}
