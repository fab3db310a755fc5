//! `autobot indicators`: the core's indicators over a bar file, written as
//! CSV, so users (and tests) can compare them with other tools.
//!
//! Input: the simple bar CSV `open_time,open,high,low,close,volume` (with
//! that header; `../shared/data/klines/` uses it), or a freqtrade feather
//! file of candles (`backtest::feather`, known by its `ARROW1` magic). A bar that is not
//! numbers, or has a non-positive price, or `high < low`, or a close
//! outside `[low, high]`, is skipped and counted (it never reaches an
//! indicator); the first few are named on stderr.
//!
//! Output columns: `open_time`, [`Standard::COLUMNS`] (SMA 20, EMA 20,
//! RSI 14, MACD 12/26/9, Bollinger 20 at 2 standard deviations, ATR 14),
//! then `ret_bps` (simple return) and `rvol20` (realized volatility of the
//! last 20 returns, bp); a cell is empty while its indicator warms up.
//!
//! A gap (bars missing: the next bar opens more than one interval after
//! the last, the interval being the smallest step between bars) is listed
//! on the log, and by default every indicator warms up again after it, as
//! the core's bars would: a value computed across 21 missing months is not
//! a value. `bridge` reads straight across gaps, as TA-Lib does.
//!
//! The file is read whole and the series columns (ATR, returns, realized
//! volatility) go through the bulk kernels of the chosen instruction set;
//! the recurrences that cannot be split across lanes (EMA, RSI, MACD) run
//! bar by bar. Every path writes the same bytes.

use std::io::{BufRead, Write};

use autobot_engine::features::kernels::Kernels;
use autobot_engine::features::series;
use autobot_engine::features::ta::Standard;

/// Columns after [`Standard::COLUMNS`].
pub const EXTRA_COLUMNS: [&str; 2] = ["ret_bps", "rvol20"];

/// The window of `rvol20`.
const RVOL_WINDOW: usize = 20;

/// Where `atr14` sits in [`Standard::COLUMNS`].
const ATR_COLUMN: usize = 9;

/// The header the input must have.
pub const BAR_HEADER: &str = "open_time,open,high,low,close,volume";

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorsError {
    /// The first line is not the bar header.
    #[error("line 1: expected the header '{BAR_HEADER}', found '{0}'")]
    Header(String),
    /// A line is not text.
    #[error("line {0}: not UTF-8 text; the input is a bar CSV or a freqtrade .feather file")]
    NotText(usize),
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bars used.
    pub bars: u64,
    /// Bars skipped as invalid.
    pub skipped: u64,
    /// Gaps in the bars.
    pub gaps: u64,
}

/// Why a bar was skipped.
fn check(fields: &[&str]) -> Result<(i64, f64, f64, f64), &'static str> {
    if fields.len() != 6 {
        return Err("expected 6 fields");
    }
    let time: i64 = fields[0]
        .trim()
        .parse()
        .map_err(|_| "open_time is not an integer")?;
    let mut v = [0.0f64; 4];
    for (slot, text) in v.iter_mut().zip(&fields[1..5]) {
        *slot = text.trim().parse().map_err(|_| "a price is not a number")?;
        if !slot.is_finite() || *slot <= 0.0 {
            return Err("a price is not positive");
        }
    }
    let [_, high, low, close] = v;
    if high < low {
        return Err("high < low");
    }
    if close < low || close > high {
        return Err("close outside [low, high]");
    }
    Ok((time, high, low, close))
}

/// The bars kept, one column each.
#[derive(Default)]
pub struct Bars {
    time: Vec<i64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

impl Bars {
    /// The candles of a columnar data file: a freqtrade feather file
    /// (`backtest::feather`) or a NautilusTrader bar partition or file
    /// (`backtest::nautilus`), checked as any data file's rows are.
    pub fn of_columnar(path: &std::path::Path) -> Result<Bars, crate::backtest::InputError> {
        use autobot_engine::event::InputBody;
        let mut src =
            crate::backtest::DataFile::open(path, &[], autobot_engine::types::SymbolId(0))?;
        let mut bars = Bars::default();
        let mut ev = autobot_engine::event::InputEvent::default();
        while src.next_into(&mut ev)?.is_some() {
            if let InputBody::Kline(k) = ev.body {
                bars.time
                    .push(i64::try_from(k.open_time.0 / 1_000_000).unwrap_or(i64::MAX));
                bars.high.push(k.high.to_f64());
                bars.low.push(k.low.to_f64());
                bars.close.push(k.close.to_f64());
            }
        }
        if bars.time.is_empty() {
            return Err(crate::backtest::InputError::Open {
                path: path.to_path_buf(),
                reason: format!("holds no bars ({})", src.format_name()),
            });
        }
        Ok(bars)
    }
}

/// The segments of `time` (ascending): index ranges split at each gap of
/// more than the smallest step.
fn segments(time: &[i64]) -> Vec<std::ops::Range<usize>> {
    let step = time
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..time.len() {
        if time[i] - time[i - 1] > step {
            out.push(start..i);
            start = i;
        }
    }
    out.push(start..time.len());
    out
}

/// Computes the indicators of `input` into `out` with `kernels`; skipped
/// bars and gaps are reported on `log`. With `bridge`, the indicators run
/// straight across gaps instead of warming up again after each.
pub fn run(
    input: impl BufRead,
    out: impl Write,
    mut log: impl Write,
    kernels: &Kernels,
    bridge: bool,
) -> Result<Counts, IndicatorsError> {
    let (bars, skipped) = parse(input, &mut log)?;
    let mut counts = compute(&bars, out, log, kernels, bridge)?;
    counts.skipped = skipped;
    Ok(counts)
}

/// The bars of a bar CSV, and how many were skipped (named on `log`).
fn parse(input: impl BufRead, mut log: impl Write) -> Result<(Bars, u64), IndicatorsError> {
    let text = |line: usize| {
        move |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                IndicatorsError::NotText(line)
            } else {
                IndicatorsError::Io(e)
            }
        }
    };
    let mut lines = input.lines();
    let header = lines
        .next()
        .transpose()
        .map_err(text(1))?
        .unwrap_or_default();
    if header.trim() != BAR_HEADER {
        return Err(IndicatorsError::Header(
            header.trim().chars().take(80).collect(),
        ));
    }
    let mut bars = Bars::default();
    let mut counts = Counts::default();
    for (i, line) in lines.enumerate() {
        let line = line.map_err(text(i + 2))?;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        match check(&fields) {
            Ok((time, high, low, close)) => {
                bars.time.push(time);
                bars.high.push(high);
                bars.low.push(low);
                bars.close.push(close);
            }
            Err(why) => {
                counts.skipped += 1;
                if counts.skipped <= 5 {
                    writeln!(log, "line {}: bar skipped: {why}", i + 2)?;
                }
            }
        }
    }
    if counts.skipped > 0 {
        writeln!(log, "{} bars skipped in all", counts.skipped)?;
    }
    Ok((bars, counts.skipped))
}

/// Computes the indicators of `bars` into `out`, as [`run`] does.
pub fn compute(
    bars: &Bars,
    mut out: impl Write,
    mut log: impl Write,
    kernels: &Kernels,
    bridge: bool,
) -> Result<Counts, IndicatorsError> {
    let mut counts = Counts {
        bars: bars.time.len() as u64,
        ..Counts::default()
    };

    let parts = segments(&bars.time);
    counts.gaps = parts.len() as u64 - 1;
    for w in parts.windows(2) {
        let (last, next) = (bars.time[w[0].end - 1], bars.time[w[1].start]);
        let at = |ms: i64| crate::position::format_utc(u64::try_from(ms).unwrap_or(0) * 1_000_000);
        writeln!(
            log,
            "gap after the bar of {} to the bar of {}: {}",
            at(last),
            at(next),
            if bridge {
                "bridged (--bridge-gaps)"
            } else {
                "indicators warm up again"
            }
        )?;
    }
    let parts = if bridge {
        std::iter::once(0..bars.time.len()).collect()
    } else {
        parts
    };
    let mut csv = csv::Writer::from_writer(&mut out);
    let header = ["open_time"].into_iter();
    csv.write_record(header.chain(Standard::COLUMNS).chain(EXTRA_COLUMNS))
        .map_err(std::io::Error::from)?;
    for part in parts {
        let (high, low, close) = (
            &bars.high[part.clone()],
            &bars.low[part.clone()],
            &bars.close[part.clone()],
        );
        let atr = series::atr(kernels, high, low, close, 14);
        let ret = series::returns_bps(kernels, close);
        let rvol = series::realized_vol(kernels, close, RVOL_WINDOW);
        let mut set = Standard::new();
        for i in 0..close.len() {
            let mut row = set.update(high[i], low[i], close[i]);
            // The incremental ATR is the reference the bulk one must equal.
            debug_assert_eq!(
                row[ATR_COLUMN].unwrap_or(f64::NAN).to_bits(),
                atr[i].to_bits()
            );
            row[ATR_COLUMN] = Some(atr[i]).filter(|v| !v.is_nan());
            let extra = [ret[i], rvol[i]].map(|v| Some(v).filter(|v| !v.is_nan()));
            let values = row
                .into_iter()
                .chain(extra)
                .map(|v| v.map(|x| x.to_string()).unwrap_or_default());
            let time = bars.time[part.start + i].to_string();
            csv.write_record(std::iter::once(time).chain(values))
                .map_err(std::io::Error::from)?;
        }
    }
    csv.flush()?;
    Ok(counts)
}
