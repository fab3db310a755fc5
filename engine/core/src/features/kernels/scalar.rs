//! The reference path: plain Rust, one element at a time, in the order the
//! SIMD paths reproduce (`super` explains the canonical reduction).

use super::combine;

pub(super) fn ema_step(v: &mut [f64], x: &[f64], k: &[f64]) {
    for ((v, &x), &k) in v.iter_mut().zip(x).zip(k) {
        *v = (x - *v) * k + *v;
    }
}

#[inline]
pub(super) fn tr_one(h: f64, l: f64, prev: f64) -> f64 {
    (h - l).max((prev - h).abs()).max((prev - l).abs())
}

pub(super) fn true_range(h: &[f64], l: &[f64], prev: &[f64], out: &mut [f64]) {
    for i in 0..out.len() {
        out[i] = tr_one(h[i], l[i], prev[i]);
    }
}

pub(super) fn returns_bps(prev: &[f64], next: &[f64], out: &mut [f64]) {
    for i in 0..out.len() {
        out[i] = (next[i] - prev[i]) / prev[i] * 10_000.0;
    }
}

pub(super) fn imbalance(b: &[f64], a: &[f64], out: &mut [f64]) {
    for i in 0..out.len() {
        out[i] = (b[i] - a[i]) / (b[i] + a[i]);
    }
}

/// Canonical-order dot product from element `from` of full 8-blocks on
/// (the SIMD paths call it for what they did not cover: nothing, when
/// `from` is the start of the tail).
pub(super) fn dot_tail(a: &[f64], b: &[f64], acc: [f64; 8], blocks_end: usize) -> f64 {
    let mut s = combine(acc);
    for i in blocks_end..a.len() {
        s += a[i] * b[i];
    }
    s
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let end = a.len() / 8 * 8;
    let mut acc = [0.0; 8];
    for i in (0..end).step_by(8) {
        for j in 0..8 {
            acc[j] += a[i + j] * b[i + j];
        }
    }
    dot_tail(a, b, acc, end)
}

pub(super) fn sum_tail(x: &[f64], acc: [f64; 8], blocks_end: usize) -> f64 {
    let mut s = combine(acc);
    for &v in &x[blocks_end..] {
        s += v;
    }
    s
}

pub(super) fn sum(x: &[f64]) -> f64 {
    let end = x.len() / 8 * 8;
    let mut acc = [0.0; 8];
    for i in (0..end).step_by(8) {
        for j in 0..8 {
            acc[j] += x[i + j];
        }
    }
    sum_tail(x, acc, end)
}
