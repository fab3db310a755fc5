//! AVX2 and AVX-512F versions of the kernels. Each does per lane exactly
//! the scalar operations (no FMA), finishes tails with the scalar code, and
//! reduces in the canonical order (`super`).
//!
//! # Safety
//! Every function is `unsafe` because it is compiled for a feature the
//! caller must have checked (`Kernels::new` does, once); the slice lengths
//! are the caller's contract, asserted in `super` and re-checked here with
//! `debug_assert!`. Loads and stores are unaligned (`loadu`/`storeu`) and
//! stay inside the slices: each loop runs while `i + LANES <= len`.

// The whole module is SIMD intrinsics: `unsafe` is its purpose, and each
// use carries its own SAFETY comment.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use super::scalar;

// ---------------------------------------------------------------- AVX2

#[target_feature(enable = "avx2")]
pub(super) unsafe fn ema_step_avx2(v: &mut [f64], x: &[f64], k: &[f64]) {
    debug_assert!(v.len() == x.len() && v.len() == k.len());
    let n = v.len();
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n for all three slices (equal lengths).
        unsafe {
            let vv = _mm256_loadu_pd(v.as_ptr().add(i));
            let xv = _mm256_loadu_pd(x.as_ptr().add(i));
            let kv = _mm256_loadu_pd(k.as_ptr().add(i));
            let r = _mm256_add_pd(_mm256_mul_pd(_mm256_sub_pd(xv, vv), kv), vv);
            _mm256_storeu_pd(v.as_mut_ptr().add(i), r);
        }
        i += 4;
    }
    scalar::ema_step(&mut v[i..], &x[i..], &k[i..]);
}

#[target_feature(enable = "avx2")]
pub(super) unsafe fn true_range_avx2(h: &[f64], l: &[f64], prev: &[f64], out: &mut [f64]) {
    debug_assert!(h.len() == out.len() && l.len() == out.len() && prev.len() == out.len());
    let n = out.len();
    let sign = _mm256_set1_pd(-0.0);
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n for all four slices (equal lengths).
        unsafe {
            let hv = _mm256_loadu_pd(h.as_ptr().add(i));
            let lv = _mm256_loadu_pd(l.as_ptr().add(i));
            let pv = _mm256_loadu_pd(prev.as_ptr().add(i));
            let a = _mm256_andnot_pd(sign, _mm256_sub_pd(pv, hv));
            let b = _mm256_andnot_pd(sign, _mm256_sub_pd(pv, lv));
            let r = _mm256_max_pd(_mm256_max_pd(_mm256_sub_pd(hv, lv), a), b);
            _mm256_storeu_pd(out.as_mut_ptr().add(i), r);
        }
        i += 4;
    }
    scalar::true_range(&h[i..], &l[i..], &prev[i..], &mut out[i..]);
}

#[target_feature(enable = "avx2")]
pub(super) unsafe fn returns_bps_avx2(prev: &[f64], next: &[f64], out: &mut [f64]) {
    debug_assert!(prev.len() == out.len() && next.len() == out.len());
    let n = out.len();
    let bp = _mm256_set1_pd(10_000.0);
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n for all three slices.
        unsafe {
            let p = _mm256_loadu_pd(prev.as_ptr().add(i));
            let x = _mm256_loadu_pd(next.as_ptr().add(i));
            let r = _mm256_mul_pd(_mm256_div_pd(_mm256_sub_pd(x, p), p), bp);
            _mm256_storeu_pd(out.as_mut_ptr().add(i), r);
        }
        i += 4;
    }
    scalar::returns_bps(&prev[i..], &next[i..], &mut out[i..]);
}

#[target_feature(enable = "avx2")]
pub(super) unsafe fn imbalance_avx2(b: &[f64], a: &[f64], out: &mut [f64]) {
    debug_assert!(b.len() == out.len() && a.len() == out.len());
    let n = out.len();
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: i + 4 <= n for all three slices.
        unsafe {
            let bv = _mm256_loadu_pd(b.as_ptr().add(i));
            let av = _mm256_loadu_pd(a.as_ptr().add(i));
            let r = _mm256_div_pd(_mm256_sub_pd(bv, av), _mm256_add_pd(bv, av));
            _mm256_storeu_pd(out.as_mut_ptr().add(i), r);
        }
        i += 4;
    }
    scalar::imbalance(&b[i..], &a[i..], &mut out[i..]);
}

/// The eight canonical lanes from AVX2's two accumulators.
#[target_feature(enable = "avx2")]
fn lanes_avx2(lo: __m256d, hi: __m256d) -> [f64; 8] {
    let mut acc = [0.0; 8];
    // SAFETY: `acc` holds 8 f64, two unaligned stores of 4 fill it.
    unsafe {
        _mm256_storeu_pd(acc.as_mut_ptr(), lo);
        _mm256_storeu_pd(acc.as_mut_ptr().add(4), hi);
    }
    acc
}

#[target_feature(enable = "avx2")]
pub(super) unsafe fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    debug_assert!(a.len() == b.len());
    let end = a.len() / 8 * 8;
    let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let mut i = 0;
    while i < end {
        // SAFETY: i + 8 <= end <= len of both slices.
        unsafe {
            let p0 = _mm256_mul_pd(
                _mm256_loadu_pd(a.as_ptr().add(i)),
                _mm256_loadu_pd(b.as_ptr().add(i)),
            );
            let p1 = _mm256_mul_pd(
                _mm256_loadu_pd(a.as_ptr().add(i + 4)),
                _mm256_loadu_pd(b.as_ptr().add(i + 4)),
            );
            lo = _mm256_add_pd(lo, p0);
            hi = _mm256_add_pd(hi, p1);
        }
        i += 8;
    }
    scalar::dot_tail(a, b, lanes_avx2(lo, hi), end)
}

#[target_feature(enable = "avx2")]
pub(super) unsafe fn sum_avx2(x: &[f64]) -> f64 {
    let end = x.len() / 8 * 8;
    let (mut lo, mut hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let mut i = 0;
    while i < end {
        // SAFETY: i + 8 <= end <= x.len().
        unsafe {
            lo = _mm256_add_pd(lo, _mm256_loadu_pd(x.as_ptr().add(i)));
            hi = _mm256_add_pd(hi, _mm256_loadu_pd(x.as_ptr().add(i + 4)));
        }
        i += 8;
    }
    scalar::sum_tail(x, lanes_avx2(lo, hi), end)
}

// ------------------------------------------------------------- AVX-512

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn ema_step_avx512(v: &mut [f64], x: &[f64], k: &[f64]) {
    debug_assert!(v.len() == x.len() && v.len() == k.len());
    let n = v.len();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n for all three slices (equal lengths).
        unsafe {
            let vv = _mm512_loadu_pd(v.as_ptr().add(i));
            let xv = _mm512_loadu_pd(x.as_ptr().add(i));
            let kv = _mm512_loadu_pd(k.as_ptr().add(i));
            let r = _mm512_add_pd(_mm512_mul_pd(_mm512_sub_pd(xv, vv), kv), vv);
            _mm512_storeu_pd(v.as_mut_ptr().add(i), r);
        }
        i += 8;
    }
    scalar::ema_step(&mut v[i..], &x[i..], &k[i..]);
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn true_range_avx512(h: &[f64], l: &[f64], prev: &[f64], out: &mut [f64]) {
    debug_assert!(h.len() == out.len() && l.len() == out.len() && prev.len() == out.len());
    let n = out.len();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n for all four slices (equal lengths).
        unsafe {
            let hv = _mm512_loadu_pd(h.as_ptr().add(i));
            let lv = _mm512_loadu_pd(l.as_ptr().add(i));
            let pv = _mm512_loadu_pd(prev.as_ptr().add(i));
            let a = _mm512_abs_pd(_mm512_sub_pd(pv, hv));
            let b = _mm512_abs_pd(_mm512_sub_pd(pv, lv));
            let r = _mm512_max_pd(_mm512_max_pd(_mm512_sub_pd(hv, lv), a), b);
            _mm512_storeu_pd(out.as_mut_ptr().add(i), r);
        }
        i += 8;
    }
    scalar::true_range(&h[i..], &l[i..], &prev[i..], &mut out[i..]);
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn returns_bps_avx512(prev: &[f64], next: &[f64], out: &mut [f64]) {
    debug_assert!(prev.len() == out.len() && next.len() == out.len());
    let n = out.len();
    let bp = _mm512_set1_pd(10_000.0);
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n for all three slices.
        unsafe {
            let p = _mm512_loadu_pd(prev.as_ptr().add(i));
            let x = _mm512_loadu_pd(next.as_ptr().add(i));
            let r = _mm512_mul_pd(_mm512_div_pd(_mm512_sub_pd(x, p), p), bp);
            _mm512_storeu_pd(out.as_mut_ptr().add(i), r);
        }
        i += 8;
    }
    scalar::returns_bps(&prev[i..], &next[i..], &mut out[i..]);
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn imbalance_avx512(b: &[f64], a: &[f64], out: &mut [f64]) {
    debug_assert!(b.len() == out.len() && a.len() == out.len());
    let n = out.len();
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n for all three slices.
        unsafe {
            let bv = _mm512_loadu_pd(b.as_ptr().add(i));
            let av = _mm512_loadu_pd(a.as_ptr().add(i));
            let r = _mm512_div_pd(_mm512_sub_pd(bv, av), _mm512_add_pd(bv, av));
            _mm512_storeu_pd(out.as_mut_ptr().add(i), r);
        }
        i += 8;
    }
    scalar::imbalance(&b[i..], &a[i..], &mut out[i..]);
}

/// The eight canonical lanes of an AVX-512 accumulator.
#[target_feature(enable = "avx512f")]
fn lanes_avx512(acc: __m512d) -> [f64; 8] {
    let mut out = [0.0; 8];
    // SAFETY: `out` holds exactly 8 f64.
    unsafe { _mm512_storeu_pd(out.as_mut_ptr(), acc) };
    out
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn dot_avx512(a: &[f64], b: &[f64]) -> f64 {
    debug_assert!(a.len() == b.len());
    let end = a.len() / 8 * 8;
    let mut acc = _mm512_setzero_pd();
    let mut i = 0;
    while i < end {
        // SAFETY: i + 8 <= end <= len of both slices.
        unsafe {
            let p = _mm512_mul_pd(
                _mm512_loadu_pd(a.as_ptr().add(i)),
                _mm512_loadu_pd(b.as_ptr().add(i)),
            );
            acc = _mm512_add_pd(acc, p);
        }
        i += 8;
    }
    scalar::dot_tail(a, b, lanes_avx512(acc), end)
}

#[target_feature(enable = "avx512f")]
pub(super) unsafe fn sum_avx512(x: &[f64]) -> f64 {
    let end = x.len() / 8 * 8;
    let mut acc = _mm512_setzero_pd();
    let mut i = 0;
    while i < end {
        // SAFETY: i + 8 <= end <= x.len().
        unsafe { acc = _mm512_add_pd(acc, _mm512_loadu_pd(x.as_ptr().add(i))) };
        i += 8;
    }
    scalar::sum_tail(x, lanes_avx512(acc), end)
}
