//! VWAP bands on bars: the volume-weighted mean of the last `n` bars'
//! typical prices `(high + low + close) / 3`, and bands `k` volume-weighted
//! standard deviations either side of it. Mean reversion fades their edges
//! toward the VWAP (`fade = "vwap_bands"`).
//!
//! Unlike the trade window's exact VWAP (`flow::TradeWindow`), these work
//! on bars alone, so they exist on kline data as on trade-built candles.
//!
//! # Numerics
//! O(1) per bar from running sums of `v`, `v·d` and `v·d²`, where `d` is the
//! typical price less a reference price: centring keeps `Σv·d²` small next
//! to `(Σv·d)²/Σv`, so the variance does not cancel catastrophically at
//! BTC price levels. Once per lap the reference moves to the newest price
//! and the sums are re-added from the window, so rounding error cannot
//! accumulate past one window (`ta::Bollinger` does the same). Floats, as
//! every indicator; the same operations in the same order on every CPU, so
//! replay matches.

use super::ta::Bands;

/// One bar as the window keeps it.
#[derive(Clone, Copy, Debug, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Bar {
    /// Typical price.
    price: f64,
    /// Volume (>= 0).
    volume: f64,
}

/// Volume-weighted mean and bands of the last `n` bars.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct VwapBands {
    ring: Vec<Bar>,
    next: usize,
    len: usize,
    /// Bars since the sums were last re-added from the window.
    since_rebase: usize,
    reference: f64,
    volume: f64,
    /// `Σ v·(p − reference)`.
    moment1: f64,
    /// `Σ v·(p − reference)²`.
    moment2: f64,
    k: f64,
}

impl VwapBands {
    /// Bands of `n` bars (n >= 1) at `k` standard deviations; allocates
    /// here only.
    pub fn new(n: usize, k: f64) -> VwapBands {
        VwapBands {
            ring: vec![Bar::default(); n.max(1)],
            next: 0,
            len: 0,
            since_rebase: 0,
            reference: 0.0,
            volume: 0.0,
            moment1: 0.0,
            moment2: 0.0,
            k,
        }
    }

    /// As new: the warm-up starts again (no allocation).
    pub fn reset(&mut self) {
        self.ring.fill(Bar::default());
        self.next = 0;
        self.len = 0;
        self.since_rebase = 0;
        self.reference = 0.0;
        self.volume = 0.0;
        self.moment1 = 0.0;
        self.moment2 = 0.0;
    }

    /// Adds a bar; the bands once `n` bars are in and some of them traded.
    /// A bar with a non-finite or non-positive price, or a negative or
    /// non-finite volume, is ignored (the caller's input is checked
    /// upstream; this keeps the sums meaningful whatever arrives).
    pub fn update(&mut self, high: f64, low: f64, close: f64, volume: f64) -> Option<Bands> {
        let price = (high + low + close) / 3.0;
        if !(price.is_finite() && price > 0.0 && volume.is_finite() && volume >= 0.0) {
            return self.value();
        }
        if self.len == 0 {
            self.reference = price;
        }
        if self.len == self.ring.len() {
            let old = self.ring[self.next];
            self.remove(old);
        } else {
            self.len += 1;
        }
        let new = Bar { price, volume };
        self.add(new);
        self.ring[self.next] = new;
        self.next = (self.next + 1) % self.ring.len();
        self.since_rebase += 1;
        if self.since_rebase >= self.ring.len() {
            self.rebase(price);
        }
        self.value()
    }

    /// The bands of the bars in, once the window is full and traded.
    pub fn value(&self) -> Option<Bands> {
        if self.len < self.ring.len() || self.volume <= 0.0 {
            return None;
        }
        let mean = self.moment1 / self.volume;
        let var = self.moment2 / self.volume - mean * mean;
        let sd = if var > 0.0 { var.sqrt() } else { 0.0 };
        let middle = self.reference + mean;
        Some(Bands {
            upper: middle + self.k * sd,
            middle,
            lower: middle - self.k * sd,
        })
    }

    fn add(&mut self, b: Bar) {
        let d = b.price - self.reference;
        self.volume += b.volume;
        self.moment1 += b.volume * d;
        self.moment2 += b.volume * d * d;
    }

    fn remove(&mut self, b: Bar) {
        let d = b.price - self.reference;
        self.volume -= b.volume;
        self.moment1 -= b.volume * d;
        self.moment2 -= b.volume * d * d;
    }

    /// The sums again from the window, oldest first, about `reference`.
    fn rebase(&mut self, reference: f64) {
        self.reference = reference;
        self.volume = 0.0;
        self.moment1 = 0.0;
        self.moment2 = 0.0;
        let start = (self.next + self.ring.len() - self.len) % self.ring.len();
        for i in 0..self.len {
            let b = self.ring[(start + i) % self.ring.len()];
            self.add(b);
        }
        self.since_rebase = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bands straight from the definition, for comparison.
    fn direct(bars: &[(f64, f64, f64, f64)], k: f64) -> Bands {
        let typical: Vec<(f64, f64)> = bars
            .iter()
            .map(|&(h, l, c, v)| ((h + l + c) / 3.0, v))
            .collect();
        let volume: f64 = typical.iter().map(|t| t.1).sum();
        let mean = typical.iter().map(|t| t.0 * t.1).sum::<f64>() / volume;
        let var = typical
            .iter()
            .map(|t| t.1 * (t.0 - mean) * (t.0 - mean))
            .sum::<f64>()
            / volume;
        Bands {
            upper: mean + k * var.sqrt(),
            middle: mean,
            lower: mean - k * var.sqrt(),
        }
    }

    #[test]
    fn hand_worked_three_bars() {
        // Typical prices 100, 103, 106 with volumes 1, 2, 1: the VWAP is
        // (100 + 206 + 106) / 4 = 103; the weighted variance is
        // (9 + 0 + 9) / 4 = 4.5, so two deviations are 2 × √4.5 ≈ 4.2426.
        let mut b = VwapBands::new(3, 2.0);
        assert_eq!(b.update(101.0, 99.0, 100.0, 1.0), None);
        assert_eq!(b.update(104.0, 102.0, 103.0, 2.0), None);
        let v = b.update(107.0, 105.0, 106.0, 1.0).expect("full");
        assert!((v.middle - 103.0).abs() < 1e-12, "{v:?}");
        let sd2 = 2.0 * 4.5f64.sqrt();
        assert!((v.upper - (103.0 + sd2)).abs() < 1e-12, "{v:?}");
        assert!((v.lower - (103.0 - sd2)).abs() < 1e-12, "{v:?}");
    }

    #[test]
    fn a_rolling_window_matches_the_definition_and_does_not_drift() {
        // A long walk at BTC's price level: after 100,000 bars the running
        // bands still agree with a direct computation over the window.
        let mut b = VwapBands::new(20, 2.0);
        let mut bars = Vec::new();
        let mut p = 60_000.0f64;
        let mut seed = 7u64;
        let mut last = None;
        for _ in 0..100_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let step = ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 20.0;
            p += step;
            let v = 1.0 + ((seed >> 40) % 50) as f64 / 10.0;
            let bar = (p + 3.0, p - 3.0, p + step / 4.0, v);
            bars.push(bar);
            last = b.update(bar.0, bar.1, bar.2, bar.3);
        }
        let got = last.expect("full");
        let want = direct(&bars[bars.len() - 20..], 2.0);
        assert!((got.middle - want.middle).abs() < 1e-7, "{got:?} {want:?}");
        assert!((got.upper - want.upper).abs() < 1e-6, "{got:?} {want:?}");
        assert!((got.lower - want.lower).abs() < 1e-6, "{got:?} {want:?}");
    }

    #[test]
    fn no_volume_means_no_bands_and_bad_bars_are_ignored() {
        let mut b = VwapBands::new(2, 2.0);
        b.update(10.0, 10.0, 10.0, 0.0);
        assert_eq!(b.update(11.0, 11.0, 11.0, 0.0), None, "nothing traded");
        assert_eq!(b.update(f64::NAN, 1.0, 1.0, 1.0), None);
        assert_eq!(b.update(12.0, 12.0, 12.0, -1.0), None);
        let v = b.update(12.0, 12.0, 12.0, 1.0).expect("one bar traded");
        assert!(
            (v.middle - 12.0).abs() < 1e-12 && (v.upper - 12.0).abs() < 1e-12,
            "{v:?}"
        );
    }
}
