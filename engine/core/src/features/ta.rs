//! Classic indicators, incremental (O(1) per value), with TA-Lib's
//! conventions and the same floating-point operation order as TA-Lib's C
//! code, so the values agree with TA-Lib to the last bit or within an ulp
//! or two (the tests say which):
//!
//! - SMA(n): running sum of the window, divided by n; first value at the
//!   n-th input.
//! - EMA(n): k = 2 / (n + 1); seeded with the SMA of the first n inputs;
//!   then `ema = (x − ema) × k + ema`.
//! - RSI(n): Wilder's smoothing of gains and losses; seeded with their
//!   simple averages over the first n changes; first value at input n + 1;
//!   0 when gains and losses are both (near) zero.
//! - MACD(fast, slow, signal): both EMAs start at input `slow` (the fast one
//!   seeded with the SMA of the `fast` inputs ending there, as TA-Lib's
//!   MACD does); the signal is an EMA of MACD seeded with its first
//!   `signal` values; first value at input `slow + signal − 1`.
//! - Bollinger bands (SMA(n), k up, k down): population standard deviation
//!   (0 when the variance is below TA-Lib's 10⁻⁸), from moments about a
//!   reference price rebased once per window rather than TA-Lib's running
//!   `Σx²`, which drifts on long series; within 10⁻¹² relative of TA-Lib.
//! - ATR(n): true range from the second bar on; seeded with the SMA of the
//!   first n true ranges; then Wilder's smoothing; first value at bar n + 1.
//!
//! Each indicator keeps fixed-size state allocated at construction; an
//! update never allocates. `update` returns `None` during the warm-up.

/// TA-Lib's `TA_IS_ZERO`.
fn is_zero(v: f64) -> bool {
    -0.000_000_01 < v && v < 0.000_000_01
}

/// The last values of a window (fixed capacity, oldest first).
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct Window {
    buf: Vec<f64>,
    head: usize,
    len: usize,
}

impl Window {
    fn new(n: usize) -> Window {
        Window {
            buf: vec![0.0; n.max(1)],
            head: 0,
            len: 0,
        }
    }

    fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Empty again, as new (the buffer kept: no allocation).
    fn reset(&mut self) {
        self.buf.fill(0.0);
        self.head = 0;
        self.len = 0;
    }

    fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Appends `x`; the caller keeps `len < capacity` before the call.
    fn push(&mut self, x: f64) {
        debug_assert!(self.len < self.buf.len());
        let n = self.buf.len();
        self.buf[(self.head + self.len) % n] = x;
        self.len += 1;
    }

    /// Removes and returns the oldest value.
    fn pop_oldest(&mut self) -> f64 {
        debug_assert!(self.len > 0);
        let old = self.buf[self.head];
        self.head = (self.head + 1) % self.buf.len();
        self.len -= 1;
        old
    }

    /// The `i`-th value, oldest first.
    fn get(&self, i: usize) -> f64 {
        self.buf[(self.head + i) % self.buf.len()]
    }
}

/// A running sum over a window in TA-Lib's order: the new value is added,
/// the window's total is taken, then the oldest value is subtracted.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
struct RunningSum {
    window: Window,
    sum: f64,
}

impl RunningSum {
    fn new(n: usize) -> RunningSum {
        RunningSum {
            window: Window::new(n),
            sum: 0.0,
        }
    }

    fn reset(&mut self) {
        self.window.reset();
        self.sum = 0.0;
    }

    /// The total of the last `n` values once there are `n`.
    fn update(&mut self, x: f64) -> Option<f64> {
        self.sum += x;
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let total = self.sum;
        self.sum -= self.window.pop_oldest();
        Some(total)
    }
}

/// Simple moving average.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Sma {
    sum: RunningSum,
}

impl Sma {
    /// SMA over `n` (>= 1) values.
    pub fn new(n: usize) -> Sma {
        Sma {
            sum: RunningSum::new(n),
        }
    }

    /// As new: the warm-up starts again (no allocation).
    pub fn reset(&mut self) {
        self.sum.reset();
    }

    /// Adds `x`; the average once `n` values have been seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        let n = self.sum.window.capacity() as f64;
        self.sum.update(x).map(|total| total / n)
    }
}

/// Exponential moving average.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Ema {
    n: usize,
    k: f64,
    seen: usize,
    seed: f64,
    value: f64,
}

impl Ema {
    /// EMA over `n` (>= 1) values.
    pub fn new(n: usize) -> Ema {
        Ema {
            n: n.max(1),
            k: 2.0 / ((n.max(1) + 1) as f64),
            seen: 0,
            seed: 0.0,
            value: 0.0,
        }
    }

    /// As new: the warm-up starts again.
    pub fn reset(&mut self) {
        *self = Ema::new(self.n);
    }

    /// Starts from a given value (MACD seeds its fast EMA itself).
    fn seeded(n: usize, value: f64) -> Ema {
        Ema {
            seen: n.max(1),
            value,
            ..Ema::new(n)
        }
    }

    /// Adds `x`; the average once `n` values have been seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.seen < self.n {
            self.seen += 1;
            self.seed += x;
            if self.seen < self.n {
                return None;
            }
            self.value = self.seed / self.n as f64;
            return Some(self.value);
        }
        self.value = (x - self.value) * self.k + self.value;
        Some(self.value)
    }

    /// The current value once `n` values have been seen.
    pub fn value(&self) -> Option<f64> {
        (self.seen >= self.n).then_some(self.value)
    }
}

/// Relative strength index (Wilder).
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Rsi {
    n: usize,
    seen: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// RSI over `n` (>= 2) changes.
    pub fn new(n: usize) -> Rsi {
        Rsi {
            n: n.max(2),
            seen: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    /// As new: the warm-up starts again.
    pub fn reset(&mut self) {
        *self = Rsi::new(self.n);
    }

    fn value(&self) -> f64 {
        let total = self.gain + self.loss;
        if is_zero(total) {
            0.0
        } else {
            100.0 * (self.gain / total)
        }
    }

    /// Adds a price; the RSI from the (n + 1)-th price on.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.seen += 1;
        if self.seen == 1 {
            self.prev = x;
            return None;
        }
        let change = x - self.prev;
        self.prev = x;
        let n = self.n as f64;
        if self.seen <= self.n {
            if change < 0.0 {
                self.loss -= change;
            } else {
                self.gain += change;
            }
            return None;
        }
        if self.seen == self.n + 1 {
            if change < 0.0 {
                self.loss -= change;
            } else {
                self.gain += change;
            }
            self.loss /= n;
            self.gain /= n;
            return Some(self.value());
        }
        self.loss *= n - 1.0;
        self.gain *= n - 1.0;
        if change < 0.0 {
            self.loss -= change;
        } else {
            self.gain += change;
        }
        self.loss /= n;
        self.gain /= n;
        Some(self.value())
    }
}

/// MACD line, signal line and histogram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacdValue {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of the MACD line.
    pub signal: f64,
    /// MACD − signal.
    pub hist: f64,
}

/// MACD with TA-Lib's alignment of the two EMAs.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Macd {
    fast_n: usize,
    /// The last `slow` inputs, until the EMAs start.
    warm: Window,
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    /// MACD(fast, slow, signal); the periods are swapped if fast > slow,
    /// as TA-Lib does.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        let (fast, slow) = if slow < fast {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Macd {
            fast_n: fast.max(1),
            warm: Window::new(slow.max(1)),
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
        }
    }

    /// As new: the warm-up starts again (no allocation).
    pub fn reset(&mut self) {
        self.warm.reset();
        // Its fast EMA is replaced by a seeded one once warm.
        self.fast = Ema::new(self.fast_n);
        self.slow.reset();
        self.signal.reset();
    }

    /// Adds a price.
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let started = self.warm.is_full();
        if !started {
            self.warm.push(x);
        }
        let slow_value = self.slow.update(x)?;
        let fast_value = if started {
            self.fast.update(x).unwrap_or(0.0)
        } else {
            // The slow EMA's first value: seed the fast one with the mean
            // of the last `fast` inputs, summed oldest first (as TA-Lib).
            let n = self.warm.capacity();
            let mut sum = 0.0;
            for i in n - self.fast_n..n {
                sum += self.warm.get(i);
            }
            let seed = sum / self.fast_n as f64;
            self.fast = Ema::seeded(self.fast_n, seed);
            seed
        };
        let macd = fast_value - slow_value;
        let signal = self.signal.update(macd)?;
        Some(MacdValue {
            macd,
            signal,
            hist: macd - signal,
        })
    }
}

/// Bollinger bands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bands {
    /// Upper band.
    pub upper: f64,
    /// The SMA.
    pub middle: f64,
    /// Lower band.
    pub lower: f64,
}

/// Bollinger bands over an SMA.
///
/// The middle is TA-Lib's running-sum SMA, bit for bit. The deviation is
/// not TA-Lib's `Σx²/n − sma²` over a running `Σx²`: at BTC prices `Σx²`
/// is ~10¹⁰ and the variance ~10², so every rounding of the never-rebased
/// sum lands in the result and drifts with the series (5·10⁻⁹ relative on
/// the shared 1m klines). Instead the window's moments are taken about a
/// reference price and re-added from the window once per lap, as
/// `vwap_bands` does, so error cannot accumulate past one window: the bands
/// stay within 10⁻¹² relative of TA-Lib over any length. O(1) amortized.
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Bollinger {
    sma: Sma,
    window: Window,
    /// Values since the moments were last re-added from the window.
    since_rebase: usize,
    reference: f64,
    /// `Σ (x − reference)` over the window.
    moment1: f64,
    /// `Σ (x − reference)²` over the window.
    moment2: f64,
    up: f64,
    down: f64,
}

impl Bollinger {
    /// Bands of `n` values at `up` and `down` standard deviations.
    pub fn new(n: usize, up: f64, down: f64) -> Bollinger {
        Bollinger {
            sma: Sma::new(n),
            window: Window::new(n),
            since_rebase: 0,
            reference: 0.0,
            moment1: 0.0,
            moment2: 0.0,
            up,
            down,
        }
    }

    /// As new: the warm-up starts again (no allocation).
    pub fn reset(&mut self) {
        self.sma.reset();
        self.window.reset();
        self.since_rebase = 0;
        self.reference = 0.0;
        self.moment1 = 0.0;
        self.moment2 = 0.0;
    }

    /// Adds a value.
    pub fn update(&mut self, x: f64) -> Option<Bands> {
        let middle = self.sma.update(x);
        if self.window.len == 0 {
            self.reference = x;
        }
        if self.window.is_full() {
            let d = self.window.pop_oldest() - self.reference;
            self.moment1 -= d;
            self.moment2 -= d * d;
        }
        self.window.push(x);
        let d = x - self.reference;
        self.moment1 += d;
        self.moment2 += d * d;
        self.since_rebase += 1;
        if self.since_rebase >= self.window.capacity() {
            self.rebase(x);
        }
        let middle = middle?;
        let n = self.window.capacity() as f64;
        let mean = self.moment1 / n;
        let var = self.moment2 / n - mean * mean;
        // TA-Lib's TA_IS_ZERO_OR_NEG.
        let sd = if var < 0.000_000_01 { 0.0 } else { var.sqrt() };
        Some(Bands {
            upper: middle + sd * self.up,
            middle,
            lower: middle - sd * self.down,
        })
    }

    /// The moments again from the window, oldest first, about `reference`.
    fn rebase(&mut self, reference: f64) {
        self.reference = reference;
        self.moment1 = 0.0;
        self.moment2 = 0.0;
        for i in 0..self.window.len {
            let d = self.window.get(i) - reference;
            self.moment1 += d;
            self.moment2 += d * d;
        }
        self.since_rebase = 0;
    }
}

/// Average true range (Wilder).
#[derive(Clone, Debug, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Atr {
    n: usize,
    seen: usize,
    prev_close: f64,
    seed: Sma,
    value: f64,
}

impl Atr {
    /// ATR over `n` (>= 1) true ranges.
    pub fn new(n: usize) -> Atr {
        Atr {
            n: n.max(1),
            seen: 0,
            prev_close: 0.0,
            seed: Sma::new(n),
            value: 0.0,
        }
    }

    /// As new: the warm-up starts again (no allocation).
    pub fn reset(&mut self) {
        self.seen = 0;
        self.prev_close = 0.0;
        self.seed.reset();
        self.value = 0.0;
    }

    /// Adds a bar.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        self.seen += 1;
        let prev = self.prev_close;
        self.prev_close = close;
        if self.seen == 1 {
            return None;
        }
        let mut tr = high - low;
        let a = (prev - high).abs();
        if a > tr {
            tr = a;
        }
        let b = (prev - low).abs();
        if b > tr {
            tr = b;
        }
        if self.seen <= self.n + 1 {
            let first = self.seed.update(tr)?;
            self.value = first;
            return Some(first);
        }
        let n = self.n as f64;
        self.value *= n - 1.0;
        self.value += tr;
        self.value /= n;
        Some(self.value)
    }
}

/// The standard set over bars: SMA 20, EMA 20, RSI 14, MACD 12/26/9,
/// Bollinger 20 at 2 standard deviations, ATR 14 (what `autobot
/// indicators` writes and the TA-Lib comparison checks).
#[derive(Clone, Debug)]
pub struct Standard {
    sma: Sma,
    ema: Ema,
    rsi: Rsi,
    macd: Macd,
    bands: Bollinger,
    atr: Atr,
}

impl Default for Standard {
    fn default() -> Self {
        Standard::new()
    }
}

impl Standard {
    /// Names of the values [`Standard::update`] returns, in order.
    pub const COLUMNS: [&'static str; 10] = [
        "sma20",
        "ema20",
        "rsi14",
        "macd",
        "macd_signal",
        "macd_hist",
        "bb_upper",
        "bb_middle",
        "bb_lower",
        "atr14",
    ];

    /// The set, warming up.
    pub fn new() -> Standard {
        Standard {
            sma: Sma::new(20),
            ema: Ema::new(20),
            rsi: Rsi::new(14),
            macd: Macd::new(12, 26, 9),
            bands: Bollinger::new(20, 2.0, 2.0),
            atr: Atr::new(14),
        }
    }

    /// Adds a bar; one value per column (`None` while warming up).
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> [Option<f64>; 10] {
        let m = self.macd.update(close);
        let b = self.bands.update(close);
        [
            self.sma.update(close),
            self.ema.update(close),
            self.rsi.update(close),
            m.map(|v| v.macd),
            m.map(|v| v.signal),
            m.map(|v| v.hist),
            b.map(|v| v.upper),
            b.map(|v| v.middle),
            b.map(|v| v.lower),
            self.atr.update(high, low, close),
        ]
    }
}
