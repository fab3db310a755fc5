//! The Ichimoku cloud on bars, incrementally.
//!
//! With periods (tenkan, kijun, senkou B) and a displacement d (9, 26, 52
//! and 26 by convention):
//!
//! - tenkan-sen = (highest high + lowest low) / 2 of the last `tenkan` bars;
//! - kijun-sen, the same over `kijun` bars;
//! - senkou span A = (tenkan + kijun) / 2 and senkou span B = the midpoint
//!   of the last `senkou_b` bars, each drawn d bars ahead: the cloud over
//!   the current bar is the pair computed d bars ago;
//! - chikou span = the close drawn d bars back (it is the close: not kept).
//!
//! # Cost and memory
//! Rolling highs and lows are monotonic queues: each bar is pushed and
//! popped at most once, so an update is O(1) amortized. Every queue is
//! allocated at construction with room for its period and never grows, so
//! updates do not allocate (the core's rule after warm-up).

use std::collections::VecDeque;

/// The cloud's lines at one bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cloud {
    /// Conversion line.
    pub tenkan: f64,
    /// Base line.
    pub kijun: f64,
    /// Leading span A over this bar (computed `displacement` bars ago).
    pub span_a: f64,
    /// Leading span B over this bar.
    pub span_b: f64,
}

impl Cloud {
    /// The cloud's top and bottom over this bar.
    pub fn bounds(&self) -> (f64, f64) {
        (self.span_a.max(self.span_b), self.span_a.min(self.span_b))
    }
}

/// Highest high or lowest low of the last `n` bars.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Extreme {
    n: u64,
    /// (bar index, value), values monotonic from the front.
    queue: VecDeque<(u64, f64)>,
    highest: bool,
}

impl Extreme {
    fn new(n: usize, highest: bool) -> Extreme {
        Extreme {
            n: n.max(1) as u64,
            queue: VecDeque::with_capacity(n.max(1) + 1),
            highest,
        }
    }

    fn reset(&mut self) {
        self.queue.clear();
    }

    /// Bar `i`'s value in; the extreme of bars `i − n + 1 ..= i`.
    fn update(&mut self, i: u64, x: f64) -> f64 {
        let beaten = |q: f64| if self.highest { q <= x } else { q >= x };
        while self.queue.back().is_some_and(|&(_, q)| beaten(q)) {
            self.queue.pop_back();
        }
        while self.queue.front().is_some_and(|&(j, _)| j + self.n <= i) {
            self.queue.pop_front();
        }
        self.queue.push_back((i, x));
        debug_assert!(
            self.queue.len() as u64 <= self.n,
            "the queue outgrew its period"
        );
        self.queue.front().map_or(x, |&(_, q)| q)
    }
}

/// Ichimoku Kinko Hyo over bars.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Ichimoku {
    periods: [u64; 3],
    highs: [Extreme; 3],
    lows: [Extreme; 3],
    /// Spans A and B of the last `displacement` bars, oldest first.
    ahead: VecDeque<(f64, f64)>,
    displacement: usize,
    bars: u64,
}

impl Ichimoku {
    /// Periods `tenkan`, `kijun`, `senkou_b` and the displacement.
    pub fn new(tenkan: usize, kijun: usize, senkou_b: usize, displacement: usize) -> Ichimoku {
        let periods = [tenkan, kijun, senkou_b];
        Ichimoku {
            periods: periods.map(|n| n.max(1) as u64),
            highs: periods.map(|n| Extreme::new(n, true)),
            lows: periods.map(|n| Extreme::new(n, false)),
            ahead: VecDeque::with_capacity(displacement.max(1) + 1),
            displacement: displacement.max(1),
            bars: 0,
        }
    }

    /// As new: the warm-up starts again (the queues keep their memory).
    pub fn reset(&mut self) {
        for e in self.highs.iter_mut().chain(self.lows.iter_mut()) {
            e.reset();
        }
        self.ahead.clear();
        self.bars = 0;
    }

    /// The conventional 9, 26, 52 and 26.
    pub fn standard() -> Ichimoku {
        Ichimoku::new(9, 26, 52, 26)
    }

    /// Bars it takes before the cloud over a bar is known: the senkou B
    /// period, then the displacement.
    pub fn warmup(&self) -> u64 {
        self.periods[2] + self.displacement as u64
    }

    /// Adds a bar; the cloud over it once known.
    pub fn update(&mut self, high: f64, low: f64) -> Option<Cloud> {
        let i = self.bars;
        self.bars += 1;
        let mid = |k: usize, this: &mut Ichimoku| {
            let h = this.highs[k].update(i, high);
            let l = this.lows[k].update(i, low);
            (h + l) / 2.0
        };
        let (tenkan, kijun, b) = (mid(0, self), mid(1, self), mid(2, self));
        let full = |k: usize| i + 1 >= self.periods[k];
        // The spans computed now are drawn `displacement` bars ahead; the
        // oldest kept ones are over this bar.
        let over_now = if self.ahead.len() == self.displacement {
            self.ahead.pop_front()
        } else {
            None
        };
        if full(2) {
            self.ahead.push_back(((tenkan + kijun) / 2.0, b));
        }
        let (span_a, span_b) = over_now?;
        (full(0) && full(1)).then_some(Cloud {
            tenkan,
            kijun,
            span_a,
            span_b,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_extremes_are_those_of_the_window() {
        let mut hi = Extreme::new(3, true);
        let mut lo = Extreme::new(3, false);
        let xs = [5.0, 1.0, 4.0, 2.0, 3.0, 9.0, 0.0];
        let (mut his, mut los) = (Vec::new(), Vec::new());
        for (i, &x) in xs.iter().enumerate() {
            his.push(hi.update(i as u64, x));
            los.push(lo.update(i as u64, x));
        }
        assert_eq!(his, [5.0, 5.0, 5.0, 4.0, 4.0, 9.0, 9.0]);
        assert_eq!(los, [5.0, 1.0, 1.0, 1.0, 2.0, 2.0, 0.0]);
    }

    /// Periods 2, 3, 4 and displacement 2 over bars worked by hand:
    ///
    /// | bar | high | low | tenkan (2) | kijun (3) | A = (t+k)/2 | B (4) |
    /// |---|---|---|---|---|---|---|
    /// | 0 | 10 | 8 | – | – | – | – |
    /// | 1 | 12 | 9 | (12+8)/2 = 10 | – | – | – |
    /// | 2 | 11 | 7 | (12+7)/2 = 9.5 | (12+7)/2 = 9.5 | – | – |
    /// | 3 | 14 | 10 | (14+7)/2 = 10.5 | (14+7)/2 = 10.5 | 10.5 | (14+7)/2 = 10.5 |
    /// | 4 | 13 | 11 | (14+10)/2 = 12 | (14+7)/2 = 10.5 | 11.25 | (14+7)/2 = 10.5 |
    /// | 5 | 15 | 12 | (15+11)/2 = 13 | (15+10)/2 = 12.5 | 12.75 | (15+7)/2 = 11 |
    /// | 6 | 9 | 6 | (15+6)/2 = 10.5 | (15+6)/2 = 10.5 | 10.5 | (15+6)/2 = 10.5 |
    ///
    /// Spans are drawn 2 bars ahead: over bar 5 the cloud is bar 3's
    /// (10.5, 10.5), over bar 6 bar 4's (11.25, 10.5).
    #[test]
    fn a_hand_worked_cloud() {
        let mut ich = Ichimoku::new(2, 3, 4, 2);
        assert_eq!(ich.warmup(), 6);
        let bars = [
            (10.0, 8.0),
            (12.0, 9.0),
            (11.0, 7.0),
            (14.0, 10.0),
            (13.0, 11.0),
            (15.0, 12.0),
            (9.0, 6.0),
        ];
        let got: Vec<Option<Cloud>> = bars.iter().map(|&(h, l)| ich.update(h, l)).collect();
        assert!(got[..5].iter().all(Option::is_none), "{got:?}");
        let cloud = |tenkan, kijun, span_a, span_b| {
            Some(Cloud {
                tenkan,
                kijun,
                span_a,
                span_b,
            })
        };
        assert_eq!(got[5], cloud(13.0, 12.5, 10.5, 10.5));
        assert_eq!(got[6], cloud(10.5, 10.5, 11.25, 10.5));
        assert_eq!(got[6].unwrap().bounds(), (11.25, 10.5));
    }

    #[test]
    fn the_standard_cloud_is_known_after_78_bars() {
        let mut ich = Ichimoku::standard();
        let first = (0..200)
            .map(|i| ich.update(100.0 + f64::from(i), 99.0 + f64::from(i)))
            .position(|c| c.is_some());
        // Senkou B needs 52 bars; its value is drawn 26 bars ahead.
        assert_eq!(first, Some(52 + 26 - 1));
        assert_eq!(ich.warmup(), 78);
    }
}
