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
//! - Warm after 2k + 1 bars: the first swing point can be known then.

use super::kinds::Seen;
use super::{Market, Proposal, Strategy, Warmup};
use crate::event::{Kline, SignalReason, Stance};
use crate::features::smc::Smc;
use crate::types::{Price, Rate, Rounding};

/// The structure trader.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct StructureTrader {
    smc: Smc,
    take_r: f64,
    seen: Seen,
}

impl StructureTrader {
    /// Swing points of `swing` bars each side; targets `take_r` times the
    /// risk.
    pub fn new(swing: u32, take_r: Rate) -> StructureTrader {
        StructureTrader {
            smc: Smc::new(swing as usize),
            take_r: take_r.to_f64(),
            seen: Seen::new(2 * swing + 1),
        }
    }
}

/// `x` on the tick grid, rounded `mode`; zero if not a positive price.
fn on_grid(x: f64, tick: Price, mode: Rounding) -> Price {
    Price::from_f64(x)
        .and_then(|p| p.round_to(tick, mode))
        .filter(|p| p.is_positive())
        .unwrap_or(Price::ZERO)
}

impl Strategy for StructureTrader {
    fn warmup(&self) -> Warmup {
        Warmup::Bars(self.seen.needs)
    }

    fn is_ready(&self) -> bool {
        self.seen.ready()
    }

    fn on_tick(&mut self, _m: &Market) -> Option<Proposal> {
        None
    }

    fn on_bar(&mut self, bar: &Kline, m: &Market) -> Option<Proposal> {
        let structure = self.smc.update(bar);
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
