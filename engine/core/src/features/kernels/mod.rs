//! Bulk feature kernels (warm-up over history, many symbols per update,
//! backtest series) in three instruction sets, chosen once at start.
//!
//! # Bit-identical on every path
//! A replay on a CPU with another instruction set must match, so every
//! path computes the same IEEE-754 operations in the same order:
//! - element-wise kernels do per element exactly what the scalar code does
//!   (`sub`, `mul`, `div`, `add`, `max`, `abs` are correctly rounded or
//!   exact; no FMA anywhere — a fused multiply-add rounds once instead of
//!   twice and would change the bits);
//! - reductions use one *canonical order* on every path, the scalar one
//!   included: eight strided accumulators (`acc[j]` sums elements
//!   `i ≡ j mod 8` of the full blocks, in order), combined as
//!   `((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7))`, then the tail in order. That
//!   is the natural shape of an 8-lane AVX-512 register and of two AVX2
//!   registers, and the scalar path simply follows it.
//!
//! Inputs are finite (prices, quantities); `max` of a NaN differs between
//! `f64::max` and `vmaxpd`, which is why NaN inputs are out of contract.
//!
//! # What does not vectorize
//! Recurrences over time (EMA, Wilder's RSI/ATR smoothing, running sums)
//! depend on the previous output, so one series cannot be split across
//! lanes without changing the operation order (and the bits). They are
//! vectorized *across symbols* instead ([`Kernels::ema_step`]: one lane per
//! symbol), which is where many-symbol updates spend their time.
//!
//! # Choosing a path
//! [`Isa::choose`] picks once at start: a setting (the `--simd` flag of
//! the commands that run bulk paths) wins, then the `AUTOBOT_SIMD`
//! environment variable, then the widest path the CPU supports
//! ([`Isa::detect`], `is_x86_feature_detected!`). A forced path is
//! refused if the CPU lacks it. Tests run every supported path against the
//! scalar one.

// Dispatch calls the feature-gated kernels of `x86`; each call states its
// SAFETY invariant.
#![allow(unsafe_code)]

mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

use std::fmt;

/// An instruction-set path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Portable Rust (the reference).
    Scalar,
    /// AVX2, 4 × f64 per register.
    Avx2,
    /// AVX-512F, 8 × f64 per register.
    Avx512,
}

/// A forced path this CPU cannot run, or no path at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    /// Not one of the names.
    #[error("kernel path {0:?}: expected auto, scalar, avx2 or avx512")]
    Unknown(String),
    /// The CPU lacks the instructions.
    #[error("kernel path {0}: this CPU does not support it (supported: {1})")]
    Unsupported(Isa, String),
}

/// Where [`Isa::choose`] found the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsaSource {
    /// The widest the CPU supports.
    Detected,
    /// The `AUTOBOT_SIMD` environment variable.
    Env,
    /// A setting (command-line flag).
    Setting,
}

impl fmt::Display for IsaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IsaSource::Detected => "detected",
            IsaSource::Env => "forced by AUTOBOT_SIMD",
            IsaSource::Setting => "forced by --simd",
        })
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        })
    }
}

impl Isa {
    /// `true` if this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every path this CPU supports, narrowest first.
    pub fn supported() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|i| i.is_supported())
            .collect()
    }

    /// The widest supported path.
    pub fn detect() -> Isa {
        *Isa::supported().last().unwrap_or(&Isa::Scalar)
    }

    /// The path `setting` names, else the one `AUTOBOT_SIMD` names, else
    /// the widest supported; `auto` in either place means detect.
    pub fn choose(setting: Option<&str>) -> Result<(Isa, IsaSource), IsaError> {
        let env = std::env::var("AUTOBOT_SIMD").ok();
        let (name, source) = match (setting, env.as_deref()) {
            (Some(s), _) => (s, IsaSource::Setting),
            (None, Some(e)) => (e, IsaSource::Env),
            (None, None) => ("auto", IsaSource::Detected),
        };
        let isa = Isa::parse(name.trim())?;
        let source = if name.trim() == "auto" {
            IsaSource::Detected
        } else {
            source
        };
        Ok((isa, source))
    }

    /// A path by name (`auto` = detect), refused if unsupported.
    pub fn parse(name: &str) -> Result<Isa, IsaError> {
        let isa = match name {
            "auto" => return Ok(Isa::detect()),
            "scalar" => Isa::Scalar,
            "avx2" => Isa::Avx2,
            "avx512" => Isa::Avx512,
            other => return Err(IsaError::Unknown(other.to_string())),
        };
        if !isa.is_supported() {
            let list: Vec<String> = Isa::supported().iter().map(Isa::to_string).collect();
            return Err(IsaError::Unsupported(isa, list.join(", ")));
        }
        Ok(isa)
    }
}

/// Calls the kernel of `isa`: `scalar::$f`, or `x86::$avx2` / `x86::$avx512`.
macro_rules! dispatch {
    ($isa:expr, $f:ident, $avx2:ident, $avx512:ident, ($($arg:expr),*)) => {
        match $isa {
            // SAFETY: `Kernels::new` checked that the CPU has AVX2; the
            // calling method asserted the slice lengths the kernel needs.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { x86::$avx2($($arg),*) },
            // SAFETY: as for AVX2, with AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::$avx512($($arg),*) },
            _ => scalar::$f($($arg),*),
        }
    };
}

/// The kernels of one path. Every method panics if slice lengths disagree
/// (a caller bug, never input from outside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernels {
    isa: Isa,
}

impl Kernels {
    /// The kernels of `isa`, or `None` if this CPU cannot run it.
    pub fn new(isa: Isa) -> Option<Kernels> {
        isa.is_supported().then_some(Kernels { isa })
    }

    /// The kernels of every path this CPU supports, narrowest first (tests
    /// and benchmarks compare them).
    pub fn all_supported() -> Vec<Kernels> {
        Isa::supported()
            .into_iter()
            .filter_map(Kernels::new)
            .collect()
    }

    /// The path these kernels run.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// One EMA step per lane (one lane per symbol):
    /// `v[i] = (x[i] − v[i]) × k[i] + v[i]`, TA-Lib's operation order, as
    /// `features::ta::Ema` does it.
    pub fn ema_step(&self, v: &mut [f64], x: &[f64], k: &[f64]) {
        assert!(
            v.len() == x.len() && v.len() == k.len(),
            "ema_step: lengths differ"
        );
        dispatch!(
            self.isa,
            ema_step,
            ema_step_avx2,
            ema_step_avx512,
            (v, x, k)
        )
    }

    /// True range of each bar: `max(h − l, |c₋₁ − h|, |c₋₁ − l|)`, and
    /// `h − l` for the first bar (no previous close).
    pub fn true_range(&self, h: &[f64], l: &[f64], c: &[f64], out: &mut [f64]) {
        let n = out.len();
        assert!(
            h.len() == n && l.len() == n && c.len() == n,
            "true_range: lengths differ"
        );
        if n == 0 {
            return;
        }
        out[0] = h[0] - l[0];
        let (h, l, prev, out) = (&h[1..], &l[1..], &c[..n - 1], &mut out[1..]);
        dispatch!(
            self.isa,
            true_range,
            true_range_avx2,
            true_range_avx512,
            (h, l, prev, out)
        )
    }

    /// Simple returns in basis points: `out[i] = (c[i+1] − c[i]) / c[i] × 10⁴`
    /// (`out` is one shorter than `c`), as `RealizedVol` computes them.
    pub fn returns_bps(&self, c: &[f64], out: &mut [f64]) {
        assert!(
            c.len() == out.len() + 1,
            "returns_bps: out must be one shorter"
        );
        let (prev, next) = (&c[..out.len()], &c[1..]);
        dispatch!(
            self.isa,
            returns_bps,
            returns_bps_avx2,
            returns_bps_avx512,
            (prev, next, out)
        )
    }

    /// Order-book (or any) imbalance: `out[i] = (b[i] − a[i]) / (b[i] + a[i])`.
    pub fn imbalance(&self, b: &[f64], a: &[f64], out: &mut [f64]) {
        assert!(
            b.len() == out.len() && a.len() == out.len(),
            "imbalance: lengths differ"
        );
        dispatch!(
            self.isa,
            imbalance,
            imbalance_avx2,
            imbalance_avx512,
            (b, a, out)
        )
    }

    /// `Σ a[i] × b[i]` in the canonical order (VWAP numerators, sums of
    /// squares: pass the same slice twice).
    pub fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        assert!(a.len() == b.len(), "dot: lengths differ");
        dispatch!(self.isa, dot, dot_avx2, dot_avx512, (a, b))
    }

    /// `Σ x[i]` in the canonical order.
    pub fn sum(&self, x: &[f64]) -> f64 {
        dispatch!(self.isa, sum, sum_avx2, sum_avx512, (x))
    }
}

/// The canonical combination of eight lane accumulators.
#[inline]
fn combine(acc: [f64; 8]) -> f64 {
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

#[cfg(test)]
pub(crate) mod tests;
