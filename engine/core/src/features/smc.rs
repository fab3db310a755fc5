//! Smart-money-concepts structure on bars, incrementally and without
//! looking ahead.
//!
//! # Rules
//! - **Swing points.** Bar i is a swing high when its high is above the
//!   highs of the `k` bars before and after it (a swing low mirrored). It
//!   is known `k` bars later, when those after it have closed.
//! - **Breaks.** A close above the last swing high not yet broken breaks
//!   it upward; below the last swing low, downward. A break in the
//!   direction of the structure is a *break of structure* (BOS); against
//!   it (or the first break) a *change of character* (CHoCH), and the
//!   structure turns. Each swing level breaks once.
//! - **Fair value gaps.** Bar i leaves a bullish gap when its low is above
//!   the high of bar i − 2 (the zone between them), a bearish one when its
//!   high is below bar i − 2's low.
//! - **Order blocks.** At an upward break, the last down-closing bar
//!   (close < open) among the `LOOKBACK` bars before the breaking one is
//!   the bullish order block (its low and high); at a downward break the
//!   last up-closing bar, the bearish one.
//!
//! # Cost and memory
//! The last `LOOKBACK` bars live in a ring allocated at construction; an
//! update scans at most that ring (a constant), and allocates nothing.

use std::collections::VecDeque;

use crate::event::Kline;

/// Bars kept for swing points and order blocks.
pub const LOOKBACK: usize = 32;

/// A price zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Zone {
    /// Its low.
    pub low: f64,
    /// Its high.
    pub high: f64,
}

/// A broken swing level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Break {
    /// Upward (a swing high broken) or downward.
    pub up: bool,
    /// A change of character (against the structure, or the first break)
    /// rather than a break of structure.
    pub choch: bool,
    /// The level broken.
    pub level: f64,
    /// The order block behind the break, when one lies in the lookback.
    pub order_block: Option<Zone>,
}

/// What one bar showed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Structure {
    /// A swing level it broke.
    pub broke: Option<Break>,
    /// A fair value gap it left: bullish (`true`) or bearish, and the zone.
    pub gap: Option<(bool, Zone)>,
}

#[derive(Clone, Copy, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Bar {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
}

/// The detector.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Smc {
    k: usize,
    bars: VecDeque<Bar>,
    /// The last swing high and low not yet broken.
    swing_high: Option<f64>,
    swing_low: Option<f64>,
    /// +1 bullish, −1 bearish, 0 none yet.
    trend: i8,
}

impl Smc {
    /// Swing points of `k` bars each side (1 ..= `LOOKBACK` / 2 − 1).
    pub fn new(k: usize) -> Smc {
        Smc {
            k: k.clamp(1, LOOKBACK / 2 - 1),
            bars: VecDeque::with_capacity(LOOKBACK + 1),
            swing_high: None,
            swing_low: None,
            trend: 0,
        }
    }

    /// The structure's direction: +1 bullish, −1 bearish, 0 none yet.
    /// As new: the warm-up starts again (the ring keeps its memory).
    pub fn reset(&mut self) {
        self.bars.clear();
        self.swing_high = None;
        self.swing_low = None;
        self.trend = 0;
    }

    pub fn trend(&self) -> i8 {
        self.trend
    }

    /// Adds a closed bar; what it showed.
    pub fn update(&mut self, k: &Kline) -> Structure {
        let bar = Bar {
            open: k.open.to_f64(),
            high: k.high.to_f64(),
            low: k.low.to_f64(),
            close: k.close.to_f64(),
        };
        let gap = self.gap(&bar);
        if self.bars.len() == LOOKBACK {
            self.bars.pop_front();
        }
        self.bars.push_back(bar);
        self.swings();
        let broke = self.break_by(&bar);
        Structure { broke, gap }
    }

    /// The gap `bar` leaves against the bar two before it.
    fn gap(&self, bar: &Bar) -> Option<(bool, Zone)> {
        let n = self.bars.len();
        let two_before = self.bars.get(n.checked_sub(2)?)?;
        if bar.low > two_before.high {
            return Some((
                true,
                Zone {
                    low: two_before.high,
                    high: bar.low,
                },
            ));
        }
        if bar.high < two_before.low {
            return Some((
                false,
                Zone {
                    low: bar.high,
                    high: two_before.low,
                },
            ));
        }
        None
    }

    /// The bar `k` back from the newest is a swing point once `k` bars
    /// have closed after it.
    fn swings(&mut self) {
        let n = self.bars.len();
        let k = self.k;
        if n < 2 * k + 1 {
            return;
        }
        let at = n - 1 - k;
        let c = self.bars[at];
        let around = (at - k..=at + k).filter(|&j| j != at);
        if around.clone().all(|j| self.bars[j].high < c.high) {
            self.swing_high = Some(c.high);
        }
        if around.clone().all(|j| self.bars[j].low > c.low) {
            self.swing_low = Some(c.low);
        }
    }

    /// The swing level `bar`'s close breaks, if any.
    fn break_by(&mut self, bar: &Bar) -> Option<Break> {
        let (up, level) = match (self.swing_high, self.swing_low) {
            (Some(h), _) if bar.close > h => (true, h),
            (_, Some(l)) if bar.close < l => (false, l),
            _ => return None,
        };
        let dir = if up { 1 } else { -1 };
        let choch = self.trend != dir;
        self.trend = dir;
        if up {
            self.swing_high = None;
        } else {
            self.swing_low = None;
        }
        // The last bar closing against the break before the breaking one.
        let order_block = self
            .bars
            .iter()
            .rev()
            .skip(1)
            .find(|b| {
                if up {
                    b.close < b.open
                } else {
                    b.close > b.open
                }
            })
            .map(|b| Zone {
                low: b.low,
                high: b.high,
            });
        Some(Break {
            up,
            choch,
            level,
            order_block,
        })
    }
}

/// Bars for tests of structure (here and in `strategy::structure`).
#[cfg(test)]
pub(crate) mod fixture {
    use crate::event::Kline;
    use crate::types::Price;

    /// A bar from open, high, low and close.
    pub(crate) fn bar(open: f64, high: f64, low: f64, close: f64) -> Kline {
        let p = |x: f64| Price::from_f64(x).unwrap();
        Kline {
            open: p(open),
            high: p(high),
            low: p(low),
            close: p(close),
            ..Kline::default()
        }
    }

    /// The hand-worked bars of `tests::a_hand_worked_structure`: with
    /// k = 1, an upward CHoCH at bar 5 (order block 98–102) and a
    /// downward one at bar 8 (order block 105.5–109).
    pub(crate) fn hand_worked() -> [Kline; 9] {
        [
            bar(100.0, 101.0, 99.0, 100.0),
            bar(100.0, 104.0, 100.0, 103.0),
            bar(103.0, 103.0, 100.0, 101.0),
            bar(101.0, 102.0, 98.0, 99.0),
            bar(99.0, 103.0, 99.0, 102.0),
            bar(102.0, 106.0, 102.0, 105.0),
            bar(105.0, 109.0, 105.5, 108.0),
            bar(108.0, 108.0, 104.0, 104.5),
            bar(104.5, 105.0, 97.0, 97.5),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{bar as k, hand_worked};
    use super::*;

    /// With k = 1, worked by hand:
    ///
    /// | bar | o | h | l | c | what |
    /// |---|---|---|---|---|---|
    /// | 0 | 100 | 101 | 99 | 100 | |
    /// | 1 | 100 | 104 | 100 | 103 | |
    /// | 2 | 103 | 103 | 100 | 101 | bar 1 is a swing high (104) |
    /// | 3 | 101 | 102 | 98 | 99 | bearish gap? 102 < bar 1's low 100: no |
    /// | 4 | 99 | 103 | 99 | 102 | bar 3 is a swing low (98) |
    /// | 5 | 102 | 106 | 102 | 105 | close 105 > 104: CHoCH up (first break); order block: bar 3 (98–102); gap 102 > bar 3's high 102? no |
    /// | 6 | 105 | 109 | 105.5 | 108 | bullish gap: low 105.5 > bar 4's high 103 |
    /// | 7 | 108 | 108 | 104 | 104.5 | bar 6 is a swing high (109) |
    /// | 8 | 104.5 | 105 | 97 | 97.5 | close 97.5 < swing low 98: CHoCH down; order block: bar 6 (105.5–109) |
    #[test]
    fn a_hand_worked_structure() {
        let mut s = Smc::new(1);
        let bars = hand_worked();
        let got: Vec<Structure> = bars.iter().map(|b| s.update(b)).collect();
        assert!(got[..5].iter().all(|x| x.broke.is_none()), "{got:?}");
        assert_eq!(
            got[5].broke,
            Some(Break {
                up: true,
                choch: true,
                level: 104.0,
                order_block: Some(Zone {
                    low: 98.0,
                    high: 102.0
                }),
            })
        );
        assert_eq!(
            got[6].gap,
            Some((
                true,
                Zone {
                    low: 103.0,
                    high: 105.5
                }
            ))
        );
        assert_eq!(s.trend(), -1);
        assert_eq!(
            got[8].broke,
            Some(Break {
                up: false,
                choch: true,
                level: 98.0,
                order_block: Some(Zone {
                    low: 105.5,
                    high: 109.0
                }),
            })
        );
    }

    #[test]
    fn a_break_with_the_structure_is_a_bos_and_a_level_breaks_once() {
        let mut s = Smc::new(1);
        // Higher highs and higher lows: each new high breaks the one
        // before; the first break is the change of character, the rest
        // breaks of structure, and no level breaks twice.
        let closes = [100.0, 103.0, 101.0, 104.5, 103.0, 106.0, 104.0, 107.5];
        let mut breaks = Vec::new();
        let mut prev: f64 = 100.0;
        for &c in &closes {
            // Up bars reach 0.5 above the close, down bars 0.1 above the
            // open (and mirrored below).
            let (h, l) = if c > prev {
                (c + 0.5, prev - 0.1)
            } else {
                (prev + 0.1, c - 0.5)
            };
            let b = s.update(&k(prev, h, l, c)).broke;
            breaks.extend(b.map(|b| (b.up, b.choch, b.level)));
            prev = c;
        }
        assert_eq!(
            breaks,
            [
                (true, true, 103.5),
                (true, false, 105.0),
                (true, false, 106.5)
            ]
        );
        assert_eq!(s.trend(), 1);
    }
}
