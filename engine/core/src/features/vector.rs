//! The model feature vector: one fixed, versioned list of numbers per
//! symbol per closed base bar, for a machine-learning advisor. The export
//! (`autobot features`) computes it with this code; the advisor will read
//! the same vector, so a model sees in trading exactly what it was trained
//! on. Its [`hash`] names the list and its version: a model trained on
//! another list is refused.
//!
//! # Invariants
//! - Every feature is a function of the base bars so far, in order: the
//!   same bars give the same bits (no clock, no randomness).
//! - Fixed state, allocated at construction; [`FeatureVector::on_bar`]
//!   never allocates.
//! - A vector is given only once every feature is warm (after
//!   [`WARM_BARS`] bars). A gap in the bars of more than three intervals
//!   starts the warm-up again: no feature spans a gap in the data.

use super::ta::{Atr, Bollinger, Ema, Rsi};
use crate::event::Kline;

/// Version of the list below; bumped with any change to a feature.
pub const FEATURE_VERSION: u32 = 1;

/// The features, in order, with what each is.
pub const FEATURES: [(&str, &str); N] = [
    ("ret_1", "log return of the close over 1 bar"),
    ("ret_5", "log return of the close over 5 bars"),
    ("ret_15", "log return of the close over 15 bars"),
    ("ret_60", "log return of the close over 60 bars"),
    ("rsi_14", "RSI of the closes over 14 bars (Wilder), 0..100"),
    ("ema_12_26", "EMA 12 over EMA 26 of the closes, minus 1"),
    (
        "bb_pctb_20",
        "%b of the close in the Bollinger bands 20 x 2 (0.5 when they have no width)",
    ),
    ("atr_pct_14", "ATR 14 (Wilder) over the close"),
    (
        "vol_z_20",
        "z-score of the bar's volume among the last 20 (0 when they do not vary)",
    ),
    ("range_pct", "the bar's high minus low, over its close"),
    (
        "realized_vol_30",
        "standard deviation of the 1-bar log returns over 30 bars",
    ),
];

/// Number of features (the events carry vectors of this length).
pub const N: usize = crate::event::N;

/// Bars before the first vector: the longest lookback (60 returns) + 1.
pub const WARM_BARS: u64 = 61;

/// Closes kept (the longest return's lookback and the newest).
const CLOSES: usize = 61;

/// FNV-1a 64 over the version and the names, each followed by a zero
/// byte: a fixed, documented hash any tool can recompute (the core crate
/// has no hashing dependency, and this needs no speed).
pub fn hash() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes.iter().chain([&0u8]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&FEATURE_VERSION.to_le_bytes());
    for (name, _) in FEATURES {
        eat(name.as_bytes());
    }
    h
}

/// The feature state of one symbol.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct FeatureVector {
    closes: [f64; CLOSES],
    bars: u64,
    /// Open time of the newest bar, ns.
    last_open: u64,
    rsi: Rsi,
    ema_fast: Ema,
    ema_slow: Ema,
    bands: Bollinger,
    atr: Atr,
    volume: Bollinger,
    returns: Bollinger,
}

impl Default for FeatureVector {
    fn default() -> Self {
        FeatureVector::new()
    }
}

impl FeatureVector {
    /// No bars yet.
    pub fn new() -> FeatureVector {
        FeatureVector {
            closes: [0.0; CLOSES],
            bars: 0,
            last_open: 0,
            rsi: Rsi::new(14),
            ema_fast: Ema::new(12),
            ema_slow: Ema::new(26),
            bands: Bollinger::new(20, 2.0, 2.0),
            atr: Atr::new(14),
            volume: Bollinger::new(20, 1.0, 1.0),
            returns: Bollinger::new(30, 1.0, 1.0),
        }
    }

    /// Bars seen.
    pub fn bars(&self) -> u64 {
        self.bars
    }

    /// The close `k` bars before the newest (`0`: the newest).
    fn close(&self, k: usize) -> f64 {
        let newest = (self.bars as usize + CLOSES - 1) % CLOSES;
        self.closes[(newest + CLOSES - k) % CLOSES]
    }

    /// Folds a closed base bar in; the vector once warm.
    pub fn on_bar(&mut self, k: &Kline) -> Option<[f64; N]> {
        let interval = u64::from(k.interval_secs) * 1_000_000_000;
        if self.bars > 0 && k.open_time.0 > self.last_open.saturating_add(3 * interval) {
            *self = FeatureVector::new();
        }
        self.last_open = k.open_time.0;
        let (high, low, close, volume) = (
            k.high.to_f64(),
            k.low.to_f64(),
            k.close.to_f64(),
            k.volume.to_f64(),
        );
        let prev = (self.bars > 0).then(|| self.close(0));
        self.closes[self.bars as usize % CLOSES] = close;
        self.bars += 1;
        let rsi = self.rsi.update(close);
        let fast = self.ema_fast.update(close);
        let slow = self.ema_slow.update(close);
        let bands = self.bands.update(close);
        let atr = self.atr.update(high, low, close);
        let vol = self.volume.update(volume);
        let r1 = prev.map(|p| ln_ratio(close, p));
        let realized = match r1 {
            Some(r) => self.returns.update(r),
            None => None,
        };
        if self.bars < WARM_BARS {
            return None;
        }
        let ret = |k: usize| ln_ratio(close, self.close(k));
        let bands = bands?;
        let width = bands.upper - bands.lower;
        let vol = vol?;
        let vol_sd = vol.upper - vol.middle;
        let realized = realized?;
        Some([
            ret(1),
            ret(5),
            ret(15),
            ret(60),
            rsi?,
            fast? / slow? - 1.0,
            if width > 0.0 {
                (close - bands.lower) / width
            } else {
                0.5
            },
            atr? / close,
            if vol_sd > 0.0 {
                (volume - vol.middle) / vol_sd
            } else {
                0.0
            },
            (high - low) / close,
            realized.upper - realized.middle,
        ])
    }
}

/// `ln(a / b)`, 0 when either is not positive.
fn ln_ratio(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 {
        (a / b).ln()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Price, Qty, UnixNanos};

    fn bar(i: u64, close: f64, volume: f64) -> Kline {
        let p = |x: f64| Price::parse(&format!("{x:.2}")).unwrap();
        Kline {
            open_time: UnixNanos(i * 60_000_000_000),
            interval_secs: 60,
            trades: 1,
            open: p(close),
            high: p(close + 1.0),
            low: p(close - 1.0),
            close: p(close),
            volume: Qty::parse(&format!("{volume:.3}")).unwrap(),
        }
    }

    #[test]
    fn warm_after_61_bars_and_each_feature_by_hand() {
        let mut v = FeatureVector::new();
        for i in 0..60 {
            assert!(
                v.on_bar(&bar(i, 100.0 + i as f64, 10.0)).is_none(),
                "bar {i}"
            );
        }
        let f = v.on_bar(&bar(60, 160.0, 10.0)).unwrap();
        let close = 160.0f64;
        assert!((f[0] - (close / 159.0).ln()).abs() < 1e-12);
        assert!((f[1] - (close / 155.0).ln()).abs() < 1e-12);
        assert!((f[2] - (close / 145.0).ln()).abs() < 1e-12);
        assert!((f[3] - (close / 100.0).ln()).abs() < 1e-12);
        // Only rises: RSI 100; the fast EMA above the slow one.
        assert!((f[4] - 100.0).abs() < 1e-9);
        assert!(f[5] > 0.0);
        // A steady rise ends at the top of its bands.
        assert!(f[6] > 0.8, "{}", f[6]);
        // True range 2 every bar (the bar's own range: the previous close
        // is inside it).
        assert!((f[7] - 2.0 / close).abs() < 1e-9, "{}", f[7]);
        // Constant volume: z = 0.
        assert!(f[8].abs() < f64::EPSILON, "{}", f[8]);
        assert!((f[9] - 2.0 / close).abs() < 1e-12);
        assert!(f[10] > 0.0 && f[10] < 0.01);
    }

    #[test]
    fn the_same_bars_give_the_same_bits_and_the_hash_names_the_list() {
        let run = || {
            let mut v = FeatureVector::new();
            let mut last = None;
            for i in 0..200u64 {
                let c = 100.0 + ((i * 37) % 23) as f64 - 11.0;
                last = v.on_bar(&bar(i, c, 5.0 + (i % 7) as f64)).or(last);
            }
            last.unwrap().map(f64::to_bits)
        };
        assert_eq!(run(), run());
        assert_eq!(hash(), hash());
        assert_ne!(hash(), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn a_gap_in_the_bars_starts_the_warm_up_again() {
        let mut v = FeatureVector::new();
        for i in 0..70 {
            v.on_bar(&bar(i, 100.0, 1.0));
        }
        assert!(v.on_bar(&bar(70, 100.0, 1.0)).is_some());
        // Four intervals later: a gap.
        assert!(v.on_bar(&bar(74, 100.0, 1.0)).is_none());
        assert_eq!(v.bars(), 1);
        for i in 75..134 {
            assert!(v.on_bar(&bar(i, 100.0, 1.0)).is_none(), "bar {i}");
        }
        assert!(v.on_bar(&bar(134, 100.0, 1.0)).is_some());
    }
}
