//! Indicators over a whole series at once (history, bar files, backtest
//! series), computed with the bulk [`Kernels`] of the path chosen at start.
//!
//! Each function returns one value per bar, `NaN` while the indicator warms
//! up, so the columns line up with the bars.
//!
//! # Agreement with the incremental indicators
//! - [`atr`] gives the same bits as [`ta::Atr`](super::ta::Atr) fed bar by
//!   bar: the kernel computes each true range with the same operations, and
//!   the Wilder recurrence (which cannot be split across lanes) runs here in
//!   the same order.
//! - [`realized_vol`] sums each window's squared returns in the kernels'
//!   canonical order; [`RealizedVol`](super::flow::RealizedVol) keeps a
//!   running sum instead, so the two agree to a relative 1e-9, not to the
//!   bit. Every kernel path gives the same bits as every other.

use super::kernels::Kernels;

/// Wilder's ATR over `n` (>= 1) true ranges, TA-Lib's seeding: bar 0 has
/// no true range, the first value (at bar `n`) is the mean of the next `n`,
/// then `(atr × (n − 1) + tr) / n`.
pub fn atr(k: &Kernels, high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    let n = n.max(1);
    let len = close.len();
    let mut out = vec![f64::NAN; len];
    if len <= n {
        return out;
    }
    let mut tr = vec![0.0; len];
    k.true_range(high, low, close, &mut tr);
    // The seed adds in bar order, as `ta::Sma` does: a kernel sum would
    // use the canonical lane order and change the bits of every later ATR.
    let mut seed = 0.0;
    for &t in &tr[1..=n] {
        seed += t;
    }
    let w = n as f64;
    let mut a = seed / w;
    out[n] = a;
    for i in n + 1..len {
        a *= w - 1.0;
        a += tr[i];
        a /= w;
        out[i] = a;
    }
    out
}

/// Simple returns in basis points, `NaN` at bar 0.
pub fn returns_bps(k: &Kernels, close: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; close.len()];
    if close.len() > 1 {
        k.returns_bps(close, &mut out[1..]);
    }
    out
}

/// Realized volatility at each bar: the root mean square of the last `n`
/// (>= 1) returns in basis points, first at bar `n`.
pub fn realized_vol(k: &Kernels, close: &[f64], n: usize) -> Vec<f64> {
    let n = n.max(1);
    let mut out = vec![f64::NAN; close.len()];
    if close.len() <= n {
        return out;
    }
    let mut r = vec![0.0; close.len() - 1];
    k.returns_bps(close, &mut r);
    for (i, w) in r.windows(n).enumerate() {
        out[i + n] = (k.dot(w, w) / n as f64).sqrt();
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::features::flow::RealizedVol;
    use crate::features::ta::Atr;

    use crate::features::kernels::tests::bits;

    fn paths() -> Vec<Kernels> {
        Kernels::all_supported()
    }

    fn column(v: &[Option<f64>]) -> Vec<u64> {
        v.iter().map(|x| x.unwrap_or(f64::NAN).to_bits()).collect()
    }

    proptest! {
        #[test]
        fn bulk_atr_is_the_incremental_atr_to_the_bit(
            c in prop::collection::vec(100.0f64..200.0, 0..160),
            w in prop::collection::vec(0.0f64..5.0, 160),
            n in 1usize..20,
        ) {
            let h: Vec<f64> = c.iter().zip(&w).map(|(c, w)| c + w).collect();
            let l: Vec<f64> = c.iter().zip(&w).map(|(c, w)| c - w).collect();
            let mut inc = Atr::new(n);
            let want: Vec<Option<f64>> =
                (0..c.len()).map(|i| inc.update(h[i], l[i], c[i])).collect();
            for k in paths() {
                prop_assert_eq!(bits(&atr(&k, &h, &l, &c, n)), column(&want), "{}", k.isa());
            }
        }

        #[test]
        fn bulk_realized_vol_agrees_with_the_incremental_one(
            c in prop::collection::vec(100.0f64..101.0, 0..300),
            n in 1usize..40,
        ) {
            let mut inc = RealizedVol::new(n);
            let want: Vec<Option<f64>> = c.iter().map(|&x| inc.update(x)).collect();
            let all = paths();
            let scalar = realized_vol(&all[0], &c, n);
            for (i, (b, w)) in scalar.iter().zip(&want).enumerate() {
                match w {
                    Some(w) => prop_assert!((b - w).abs() <= 1e-9 * w.max(1e-9), "bar {i}: {b} vs {w}"),
                    None => prop_assert!(b.is_nan(), "bar {i}: {b} before warm-up"),
                }
            }
            for k in &all[1..] {
                prop_assert_eq!(bits(&realized_vol(k, &c, n)), bits(&scalar), "{}", k.isa());
                prop_assert_eq!(bits(&returns_bps(k, &c)), bits(&returns_bps(&all[0], &c)));
            }
        }
    }
}
