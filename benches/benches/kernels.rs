//! Bulk feature kernels on every instruction-set path this CPU supports,
//! side by side in one process (`features::kernels`).
//!
//! - Series kernels over a 1 M-point series (8 MB per input: beyond L2,
//!   so the wider paths meet memory bandwidth): true range, returns, book
//!   imbalance, dot product (VWAP numerator / sum of squares) and sum.
//! - The 64-symbol batch: one EMA step for 64 symbols at once (one lane per
//!   symbol), 100 000 steps; inputs stay in L1.
//!
//! - The same element-wise kernels on a 4 K-point block that stays in L1,
//!   256 times: what the instruction set gives when memory does not limit.
//!
//! Each figure is the median of 11 timed runs; ratios are against the
//! scalar path of the same run. The scalar path is compiled for the x86-64
//! baseline, so the compiler may already use 2-wide SSE2 for it.

use std::hint::black_box;
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::features::kernels::{Isa, Kernels};

const POINTS: usize = 1_000_000;
const SYMBOLS: usize = 64;
const STEPS: usize = 100_000;
const RUNS: usize = 11;

/// Median seconds of `RUNS` runs of `f`.
fn time(mut f: impl FnMut()) -> f64 {
    f(); // warm
    let mut t: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(&mut t)
}

fn main() {
    let placement = pin(1);
    let paths: Vec<Kernels> = Isa::supported()
        .into_iter()
        .filter_map(Kernels::new)
        .collect();
    // A seeded random walk (LCG): deterministic, finite, positive.
    let mut seed = 42u64;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut c = Vec::with_capacity(POINTS);
    let mut p = 30_000.0;
    for _ in 0..POINTS {
        p *= 1.0 + (rnd() - 0.5) * 0.002;
        c.push(p);
    }
    let h: Vec<f64> = c.iter().map(|&x| x + rnd() * 10.0).collect();
    let l: Vec<f64> = c.iter().map(|&x| x - rnd() * 10.0).collect();
    let mut out = vec![0.0; POINTS];
    let xs: Vec<f64> = (0..SYMBOLS * 64)
        .map(|_| 30_000.0 * (1.0 + rnd() * 0.01))
        .collect();
    let k: Vec<f64> = (0..SYMBOLS)
        .map(|j| 2.0 / ((10 + j) as f64 + 1.0))
        .collect();

    println!(
        "SIMD kernels ({placement}; paths on this CPU: {:?})",
        Isa::supported()
    );
    println!(
        "  {:<26} {:>10} {:>10} {:>10}   {:>8} {:>8}",
        "kernel (M points/s)", "scalar", "avx2", "avx512", "avx2/sc", "512/sc"
    );
    // The machine's memory bandwidth in this run: a plain copy of one
    // 8 MB series into another (read + write), the ceiling a 1 M-point
    // kernel meets.
    let copy_secs = {
        let mut dst = vec![0.0; POINTS];
        time(|| {
            dst.copy_from_slice(black_box(&c));
            black_box(&dst);
        })
    };
    let machine_gbs = (POINTS * 16) as f64 / copy_secs / 1e9;
    type Bench<'a> = Box<dyn FnMut(&Kernels) -> f64 + 'a>;
    // (name, points, bytes moved per point (0: in L1), the run)
    let mut rows: Vec<(&str, usize, usize, Bench<'_>)> = vec![
        (
            "true range, 1M",
            POINTS,
            32,
            Box::new(|kn: &Kernels| time(|| kn.true_range(&h, &l, &c, &mut out))),
        ),
        (
            "returns (bp), 1M",
            POINTS - 1,
            16,
            Box::new(|kn: &Kernels| {
                let mut r = vec![0.0; POINTS - 1];
                time(|| kn.returns_bps(&c, &mut r))
            }),
        ),
        (
            "imbalance, 1M",
            POINTS,
            24,
            Box::new(|kn: &Kernels| {
                let mut o = vec![0.0; POINTS];
                time(|| kn.imbalance(&h, &l, &mut o))
            }),
        ),
        (
            "dot (Σ p·q), 1M",
            POINTS,
            16,
            Box::new(|kn: &Kernels| {
                time(|| {
                    black_box(kn.dot(black_box(&c), black_box(&h)));
                })
            }),
        ),
        (
            "sum, 1M",
            POINTS,
            8,
            Box::new(|kn: &Kernels| {
                time(|| {
                    black_box(kn.sum(black_box(&c)));
                })
            }),
        ),
        (
            "true range, 4K in L1 x256",
            4096 * 256,
            0,
            Box::new(|kn: &Kernels| {
                let mut o = vec![0.0; 4096];
                time(|| {
                    for _ in 0..256 {
                        kn.true_range(&h[..4096], &l[..4096], &c[..4096], &mut o);
                    }
                    black_box(&o);
                })
            }),
        ),
        (
            "imbalance, 4K in L1 x256",
            4096 * 256,
            0,
            Box::new(|kn: &Kernels| {
                let mut o = vec![0.0; 4096];
                time(|| {
                    for _ in 0..256 {
                        kn.imbalance(&h[..4096], &l[..4096], &mut o);
                    }
                    black_box(&o);
                })
            }),
        ),
        (
            "EMA step, 64 symbols",
            SYMBOLS * STEPS,
            0,
            Box::new(|kn: &Kernels| {
                let mut v = vec![30_000.0; SYMBOLS];
                time(|| {
                    for s in 0..STEPS {
                        let at = (s % 64) * SYMBOLS;
                        kn.ema_step(&mut v, &xs[at..at + SYMBOLS], &k);
                    }
                    black_box(&v);
                })
            }),
        ),
    ];
    let mut targets = Vec::new();
    for (name, points, bytes, bench) in &mut rows {
        let mut rate = [f64::NAN; 3];
        for kn in &paths {
            let secs = bench(kn);
            rate[kn.isa() as usize] = *points as f64 / secs / 1e6;
        }
        let show = |r: f64| {
            if r.is_nan() {
                "-".to_string()
            } else {
                format!("{r:.0}")
            }
        };
        let ratio = |r: f64| {
            if r.is_nan() {
                "-".to_string()
            } else {
                format!("{:.2}x", r / rate[0])
            }
        };
        // The widest path's memory traffic against the machine's.
        let widest = rate
            .iter()
            .rev()
            .copied()
            .find(|r| !r.is_nan())
            .unwrap_or(f64::NAN);
        let traffic = if *bytes > 0 {
            format!(
                "   {:.1} GB/s ({:.0}% of copy)",
                widest * 1e6 * *bytes as f64 / 1e9,
                widest * 1e6 * *bytes as f64 / 1e9 / machine_gbs * 100.0
            )
        } else {
            String::new()
        };
        println!(
            "  {:<26} {:>10} {:>10} {:>10}   {:>8} {:>8}{traffic}",
            name,
            show(rate[0]),
            show(rate[1]),
            show(rate[2]),
            ratio(rate[1]),
            ratio(rate[2])
        );
        let mut parts = Vec::new();
        if !rate[1].is_nan() {
            parts.push(("avx2 x scalar", rate[1] / rate[0], 2.0));
        }
        if !rate[2].is_nan() {
            parts.push(("avx512 x scalar", rate[2] / rate[0], 3.0));
        }
        targets.push(autobot_benches::target(
            &format!("{name} (issue 33)"),
            &parts,
        ));
    }
    println!("  memory bandwidth of this run (copy of an 8 MB series): {machine_gbs:.1} GB/s");
    println!(
        "targets of issue #33 (where the arithmetic allows: docs/indicators.md says which cannot):"
    );
    for t in targets {
        println!("{t}");
    }
}
