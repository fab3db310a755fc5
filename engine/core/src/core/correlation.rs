//! Rolling correlation of returns between every pair of symbols, for the
//! correlated-exposure cap (SPEC 5, level 5).
//!
//! # How
//! At each boundary of the base bar (event time), every symbol's mark (or
//! mid) is sampled; the simple return since the previous sample feeds an
//! exponentially weighted mean, variance and, per pair, covariance (span N
//! samples, smoothing 2 / (N + 1)). A pair's correlation is
//! cov / √(var₁ · var₂), used once both have N samples together.
//!
//! # Determinism
//! Only +, −, ×, ÷ and √, which IEEE 754 rounds exactly on every CPU, in a
//! fixed order: a replay on another machine computes the same bits (log
//! returns would call the platform's `ln`, which need not). Floats here
//! only decide whether a cap applies, never a price or a quantity.
//! All memory is allocated in [`Correlations::new`].

use crate::types::Price;

/// Pairwise return correlations of `n` symbols.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Correlations {
    n: usize,
    alpha: f64,
    span: u32,
    /// Previous sample per symbol (0: none).
    last: Vec<f64>,
    /// This sample's return per symbol (NaN: none).
    ret: Vec<f64>,
    mean: Vec<f64>,
    var: Vec<f64>,
    /// Upper triangle, row-major: pair (i, j), i < j.
    cov: Vec<f64>,
    /// Samples the pair has had together.
    count: Vec<u32>,
}

fn pair(n: usize, i: usize, j: usize) -> usize {
    let (i, j) = if i < j { (i, j) } else { (j, i) };
    i * n - i * (i + 1) / 2 + (j - i - 1)
}

impl Correlations {
    /// For `n` symbols over `span` samples.
    pub fn new(n: usize, span: u32) -> Correlations {
        let pairs = n * n.saturating_sub(1) / 2;
        Correlations {
            n,
            alpha: 2.0 / (f64::from(span) + 1.0),
            span,
            last: vec![0.0; n],
            ret: vec![f64::NAN; n],
            mean: vec![0.0; n],
            var: vec![0.0; n],
            cov: vec![0.0; pairs],
            count: vec![0; pairs],
        }
    }

    /// One sample: each symbol's price now (`None`: no market yet).
    pub fn sample(&mut self, prices: impl Iterator<Item = Option<Price>>) {
        let a = self.alpha;
        for (i, p) in prices.enumerate().take(self.n) {
            let p = p.filter(|p| p.is_positive()).map_or(0.0, Price::to_f64);
            self.ret[i] = if self.last[i] > 0.0 && p > 0.0 {
                p / self.last[i] - 1.0
            } else {
                f64::NAN
            };
            if p > 0.0 {
                self.last[i] = p;
            }
        }
        // Deviations from the means before this sample: the EWMA update
        // of a variance and a covariance.
        for i in 0..self.n {
            for j in i + 1..self.n {
                let (ri, rj) = (self.ret[i], self.ret[j]);
                if ri.is_nan() || rj.is_nan() {
                    continue;
                }
                let k = pair(self.n, i, j);
                let (di, dj) = (ri - self.mean[i], rj - self.mean[j]);
                self.cov[k] = (1.0 - a) * (self.cov[k] + a * di * dj);
                self.count[k] = self.count[k].saturating_add(1);
            }
        }
        for i in 0..self.n {
            let r = self.ret[i];
            if r.is_nan() {
                continue;
            }
            let d = r - self.mean[i];
            self.mean[i] += a * d;
            self.var[i] = (1.0 - a) * (self.var[i] + a * d * d);
        }
    }

    /// The correlation of `i` and `j` once they have a span of samples
    /// together (`None` before, or when either has not moved).
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        if i == j || i >= self.n || j >= self.n {
            return None;
        }
        let k = pair(self.n, i, j);
        if self.count[k] < self.span {
            return None;
        }
        let den = (self.var[i] * self.var[j]).sqrt();
        (den > 0.0).then(|| (self.cov[k] / den).clamp(-1.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64) -> Option<Price> {
        Price::from_f64(x)
    }

    #[test]
    fn moving_together_apart_and_against() {
        let mut c = Correlations::new(3, 20);
        let (mut a, mut b, mut x) = (100.0, 50.0, 10.0);
        c.sample([p(a), p(b), p(x)].into_iter());
        for i in 0..200 {
            let step = if i % 3 == 0 { 1.002 } else { 0.999 };
            a *= step;
            b *= step; // the same moves
            x /= step; // the opposite moves
            c.sample([p(a), p(b), p(x)].into_iter());
            if i < 18 {
                assert_eq!(c.get(0, 1), None, "not before a span of samples");
            }
        }
        assert!(c.get(0, 1).unwrap() > 0.99, "{:?}", c.get(0, 1));
        assert!(c.get(1, 0).unwrap() > 0.99);
        assert!(c.get(0, 2).unwrap() < -0.99, "{:?}", c.get(0, 2));
        assert_eq!(c.get(0, 0), None);
    }

    #[test]
    fn pairs_index_the_upper_triangle() {
        let n = 5;
        let mut seen = vec![false; n * (n - 1) / 2];
        for i in 0..n {
            for j in i + 1..n {
                assert!(!seen[pair(n, i, j)]);
                seen[pair(n, i, j)] = true;
                assert_eq!(pair(n, i, j), pair(n, j, i));
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
