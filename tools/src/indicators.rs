//! `autobot indicators`: the core's indicators over a bar file, written as
//! CSV, so users (and tests) can compare them with other tools.
//!
//! Input: the simple bar CSV `open_time,open,high,low,close,volume` (with
//! that header; `../shared/data/klines/` uses it). A bar that is not
//! numbers, or has a non-positive price, or `high < low`, or a close
//! outside `[low, high]`, is skipped and counted (it never reaches an
//! indicator); the first few are named on stderr.
//!
//! Output columns: `open_time` and [`Standard::COLUMNS`] (SMA 20, EMA 20,
//! RSI 14, MACD 12/26/9, Bollinger 20 at 2 standard deviations, ATR 14); a
//! cell is empty while its indicator warms up.

use std::io::{BufRead, Write};

use autobot_engine::features::ta::Standard;

/// The header the input must have.
pub const BAR_HEADER: &str = "open_time,open,high,low,close,volume";

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorsError {
    /// The first line is not the bar header.
    #[error("line 1: expected the header '{BAR_HEADER}', found '{0}'")]
    Header(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Bars used.
    pub bars: u64,
    /// Bars skipped as invalid.
    pub skipped: u64,
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

/// Computes the indicators of `input` into `out`; skipped bars are
/// reported on `log`.
pub fn run(
    input: impl BufRead,
    mut out: impl Write,
    mut log: impl Write,
) -> Result<Counts, IndicatorsError> {
    let mut lines = input.lines();
    let header = lines.next().transpose()?.unwrap_or_default();
    if header.trim() != BAR_HEADER {
        return Err(IndicatorsError::Header(
            header.trim().chars().take(80).collect(),
        ));
    }
    writeln!(out, "open_time,{}", Standard::COLUMNS.join(","))?;
    let mut set = Standard::new();
    let mut counts = Counts::default();
    for (i, line) in lines.enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let (time, high, low, close) = match check(&fields) {
            Ok(bar) => bar,
            Err(why) => {
                counts.skipped += 1;
                if counts.skipped <= 5 {
                    writeln!(log, "line {}: bar skipped: {why}", i + 2)?;
                }
                continue;
            }
        };
        counts.bars += 1;
        write!(out, "{time}")?;
        for v in set.update(high, low, close) {
            write!(out, ",{}", v.map(|x| x.to_string()).unwrap_or_default())?;
        }
        writeln!(out)?;
    }
    if counts.skipped > 0 {
        writeln!(log, "{} bars skipped in all", counts.skipped)?;
    }
    Ok(counts)
}
