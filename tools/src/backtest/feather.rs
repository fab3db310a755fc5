//! freqtrade's feather files (Arrow IPC, "feather v2", usually lz4): the
//! candles freqtrade downloads for a futures pair, read as input events.
//!
//! # Layout (freqtrade's `FeatherDataHandler`)
//! - Name: `<BASE>_<QUOTE>_<SETTLE>-<timeframe>-<candle type>.feather`,
//!   e.g. `BTC_USDT_USDT-1m-futures.feather`: pair `BTC/USDT:USDT`, which
//!   is the symbol `BTCUSDT`; the timeframe (`1m`, `5m`, `1h`, `8h`, `1d`,
//!   `1w`) is each candle's length. A spot file has no candle type.
//! - Columns `date` (a UTC timestamp of the candle's open, any unit, or
//!   integer ms), `open`, `high`, `low`, `close`, `volume` (floats).
//!
//! # Events
//! - `futures` / `spot` candles → a closed candle at its last millisecond,
//!   as a bar file's; gaps are listed as a bar file lists them.
//! - `funding_rate` → a settled funding at `date` at the rate in `open`
//!   (freqtrade keeps the rate there; the other columns are zero); the
//!   merge gives it the symbol's last price, as a Binance fundingRate row.
//! - `mark` → a mark price (`close`) at the candle's last millisecond, with
//!   no funding schedule (freqtrade's funding comes from its own file).
//!
//! Floats become exact decimals by rounding to the decimal scale
//! (`Price::from_f64`): a price freqtrade stored from a decimal string
//! rounds back to that decimal. A row that is not a candle (high below
//! low, a non-positive price, time running backwards) is refused naming
//! the file and the row, as every data file's is.

use std::path::{Path, PathBuf};

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use autobot_engine::event::{FundingSettled, InputBody, InputEvent, Kline, MarkPrice, Source};
use autobot_engine::types::{MonoNanos, Price, Qty, Rate, SymbolId, UnixNanos};

use super::InputError;
use super::rows::Gap;

/// The magic an Arrow IPC file starts with.
pub const MAGIC: &[u8] = b"ARROW1";

/// What a feather file holds, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Trade candles (`futures`, `spot`).
    Candles,
    /// Mark-price candles.
    Mark,
    /// Funding rates.
    FundingRate,
}

impl Kind {
    /// The format's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Candles => "feather candles",
            Kind::Mark => "feather mark",
            Kind::FundingRate => "feather fundingRate",
        }
    }
}

/// One candle as read.
#[derive(Clone, Copy, Debug)]
struct Row {
    open_ms: u64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

/// A feather file being read (read whole at open: freqtrade's files are
/// one or a few record batches of six columns).
pub struct FeatherSource {
    path: PathBuf,
    kind: Kind,
    symbol: SymbolId,
    len_ms: u64,
    rows: Vec<Row>,
    next: usize,
    last_ms: u64,
    gaps: Vec<Gap>,
}

/// The symbol of a freqtrade file name (`BTC_USDT_USDT-1m-futures.feather`
/// → `BTCUSDT`), if the name has that shape.
pub fn freqtrade_symbol(name: &str) -> Option<String> {
    let pair = name.split('-').next()?;
    let parts: Vec<&str> = pair.split('_').collect();
    match parts[..] {
        [base, quote] | [base, quote, _] if !base.is_empty() && !quote.is_empty() => {
            Some(format!("{base}{quote}").to_ascii_uppercase())
        }
        _ => None,
    }
}

/// The timeframe's length in ms (`1m` → 60 000), if `t` is one.
fn timeframe_ms(t: &str) -> Option<u64> {
    let (n, unit) = t.split_at(t.len().checked_sub(1)?);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(secs)?.checked_mul(1000)
}

/// The kind and candle length of a freqtrade file name.
fn of_name(name: &str) -> (Kind, Option<u64>) {
    let stem = name.strip_suffix(".feather").unwrap_or(name);
    let mut parts = stem.split('-').skip(1);
    let len = parts.next().and_then(timeframe_ms);
    let kind = match parts.next() {
        Some("mark") => Kind::Mark,
        Some("funding_rate") => Kind::FundingRate,
        _ => Kind::Candles,
    };
    (kind, len)
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b dyn Array, String> {
    batch
        .column_by_name(name)
        .map(AsRef::as_ref)
        .ok_or_else(|| {
            format!("no column `{name}` (freqtrade's are date, open, high, low, close, volume)")
        })
}

/// A float column's values (integers are taken as floats).
fn floats(batch: &RecordBatch, name: &str) -> Result<Vec<f64>, String> {
    let a = column(batch, name)?;
    if let Some(f) = a.as_any().downcast_ref::<Float64Array>() {
        return Ok((0..f.len())
            .map(|i| if f.is_null(i) { f64::NAN } else { f.value(i) })
            .collect());
    }
    if let Some(n) = a.as_any().downcast_ref::<Int64Array>() {
        #[allow(
            clippy::cast_precision_loss,
            reason = "volumes and prices far below 2^53"
        )]
        return Ok((0..n.len())
            .map(|i| {
                if n.is_null(i) {
                    f64::NAN
                } else {
                    n.value(i) as f64
                }
            })
            .collect());
    }
    Err(format!(
        "column `{name}` is {}, not a number",
        a.data_type()
    ))
}

/// The `date` column as ms since the epoch.
fn dates_ms(batch: &RecordBatch) -> Result<Vec<Option<u64>>, String> {
    let a = column(batch, "date")?;
    let per_ms: i64 = match a.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => -1000,
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Int64 => 1,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1000,
        DataType::Timestamp(TimeUnit::Nanosecond, _) => 1_000_000,
        other => return Err(format!("column `date` is {other}, not a timestamp")),
    };
    // Every timestamp array and Int64 hold i64 values in one buffer.
    let data = a.to_data();
    let values: &[i64] = data.buffer::<i64>(0);
    let values = &values[data.offset()..data.offset() + data.len()];
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if a.is_null(i) || v < 0 {
                None
            } else if per_ms < 0 {
                v.checked_mul(-per_ms).and_then(|ms| u64::try_from(ms).ok())
            } else {
                u64::try_from(v / per_ms).ok()
            }
        })
        .collect())
}

impl FeatherSource {
    /// Opens `path` (a freqtrade feather file) as `symbol`'s data.
    pub fn open(path: &Path, symbol: SymbolId) -> Result<FeatherSource, InputError> {
        let open_err = |reason: String| InputError::Open {
            path: path.to_path_buf(),
            reason,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (kind, named_len) = of_name(&name);
        let file = std::fs::File::open(path).map_err(|e| open_err(e.to_string()))?;
        let reader = arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
            .map_err(|e| open_err(format!("not a readable Arrow/feather file: {e}")))?;
        let mut rows = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| open_err(format!("reading a record batch: {e}")))?;
            let bad = |problem: String| InputError::Row {
                path: path.to_path_buf(),
                line: rows.len() as u64 + 1,
                problem,
            };
            let date = dates_ms(&batch).map_err(bad)?;
            let [open, high, low, close, volume] =
                ["open", "high", "low", "close", "volume"].map(|c| floats(&batch, c));
            let (open, high, low, close, volume) = (
                open.map_err(bad)?,
                high.map_err(bad)?,
                low.map_err(bad)?,
                close.map_err(bad)?,
                volume.map_err(bad)?,
            );
            for (i, d) in date.iter().enumerate() {
                let Some(open_ms) = *d else {
                    return Err(InputError::Row {
                        path: path.to_path_buf(),
                        line: rows.len() as u64 + 1,
                        problem: "date is missing or before 1970".into(),
                    });
                };
                rows.push(Row {
                    open_ms,
                    open: open[i],
                    high: high[i],
                    low: low[i],
                    close: close[i],
                    volume: volume[i],
                });
            }
        }
        let len_ms = named_len
            .or_else(|| rows.get(1).map(|b| b.open_ms.saturating_sub(rows[0].open_ms)))
            .filter(|l| *l >= 1000 && l.is_multiple_of(1000))
            .ok_or_else(|| {
                open_err(
                    "no candle length: name the file like BTC_USDT_USDT-1m-futures.feather, or give it two candles"
                        .into(),
                )
            })?;
        Ok(FeatherSource {
            path: path.to_path_buf(),
            kind,
            symbol,
            len_ms,
            rows,
            next: 0,
            last_ms: 0,
            gaps: Vec::new(),
        })
    }

    /// What the file holds.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.next as u64
    }

    /// The gaps between candles read so far.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// The next row's event, `None` at the end.
    pub fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        let Some(&r) = self.rows.get(self.next) else {
            return Ok(None);
        };
        let row_no = self.next as u64 + 1;
        let bad = |problem: String| InputError::Row {
            path: self.path.clone(),
            line: row_no,
            problem,
        };
        if let Some(prev) = self.next.checked_sub(1).map(|p| self.rows[p].open_ms) {
            if r.open_ms <= prev {
                return Err(bad(format!(
                    "date {} ms is not after the row before ({prev} ms): rows must be in time order",
                    r.open_ms
                )));
            }
            if self.kind == Kind::Candles && r.open_ms > prev + self.len_ms {
                self.gaps.push(Gap {
                    last_open_ms: prev,
                    next_open_ms: r.open_ms,
                    missing: (r.open_ms - prev) / self.len_ms - 1,
                });
            }
        }
        self.next += 1;
        let price = |name: &str, v: f64| {
            Price::from_f64(v)
                .filter(|p| p.is_positive())
                .ok_or_else(|| format!("{name} {v} is not a positive price"))
        };
        let end_ms = r.open_ms + self.len_ms - 1;
        let (time_ms, body) = match self.kind {
            Kind::Candles => {
                let k = Kline {
                    open_time: UnixNanos(r.open_ms.saturating_mul(1_000_000)),
                    interval_secs: u32::try_from(self.len_ms / 1000)
                        .map_err(|_| bad("the candle is too long".into()))?,
                    trades: 0,
                    open: price("open", r.open).map_err(bad)?,
                    high: price("high", r.high).map_err(bad)?,
                    low: price("low", r.low).map_err(bad)?,
                    close: price("close", r.close).map_err(bad)?,
                    volume: Qty::from_f64(r.volume)
                        .filter(|q| !q.is_negative())
                        .ok_or_else(|| bad(format!("volume {} is not a quantity", r.volume)))?,
                };
                if k.high < k.low
                    || k.open > k.high
                    || k.open < k.low
                    || k.close > k.high
                    || k.close < k.low
                {
                    return Err(bad(format!(
                        "high {} and low {} do not hold open {} and close {}",
                        k.high, k.low, k.open, k.close
                    )));
                }
                (end_ms, InputBody::Kline(k))
            }
            Kind::Mark => {
                let mark = price("close", r.close).map_err(bad)?;
                let m = MarkPrice {
                    mark_price: mark,
                    index_price: mark,
                    funding_rate: Rate::ZERO,
                    next_funding: UnixNanos(0),
                };
                (end_ms, InputBody::MarkPrice(m))
            }
            Kind::FundingRate => {
                let rate = Rate::from_f64(r.open)
                    .filter(|x| x.raw().abs() <= super::rows::MAX_FUNDING_RATE)
                    .ok_or_else(|| bad(format!("funding rate {} is beyond ±0.05", r.open)))?;
                let f = FundingSettled {
                    mark: Price::ZERO,
                    rate,
                };
                (r.open_ms, InputBody::Funding(f))
            }
        };
        if time_ms < self.last_ms {
            return Err(bad(format!(
                "time {time_ms} is earlier than the row before ({})",
                self.last_ms
            )));
        }
        self.last_ms = time_ms;
        let t = UnixNanos(time_ms.saturating_mul(1_000_000));
        Ok(Some(InputEvent::new(
            Source::MarketData,
            self.symbol,
            MonoNanos(t.0),
            t,
            body,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freqtrade_names_give_the_symbol_kind_and_length() {
        assert_eq!(
            freqtrade_symbol("BTC_USDT_USDT-1m-futures.feather").as_deref(),
            Some("BTCUSDT")
        );
        assert_eq!(
            freqtrade_symbol("eth_usdt-5m.feather").as_deref(),
            Some("ETHUSDT")
        );
        assert_eq!(freqtrade_symbol("BTCUSDT-1m.feather"), None);
        assert_eq!(
            of_name("BTC_USDT_USDT-1m-futures.feather"),
            (Kind::Candles, Some(60_000))
        );
        assert_eq!(
            of_name("BTC_USDT_USDT-8h-funding_rate.feather"),
            (Kind::FundingRate, Some(28_800_000))
        );
        assert_eq!(
            of_name("BTC_USDT_USDT-8h-mark.feather"),
            (Kind::Mark, Some(28_800_000))
        );
        assert_eq!(of_name("BTC_USDT-1x.feather"), (Kind::Candles, None));
    }
}
