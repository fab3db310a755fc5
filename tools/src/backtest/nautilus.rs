//! NautilusTrader's Parquet data catalogs, read as input events: quotes,
//! trades and bars of an instrument, as `ParquetDataCatalog.write_data`
//! lays them out.
//!
//! # Layout
//! `CATALOG/data/<type>/<instrument or bar type>/<start>_<end>.parquet`,
//! `<type>` one of `quote_tick`, `trade_tick`, `bar`; the directory is
//! `BTCUSDT-PERP.BINANCE` (quotes, trades) or
//! `BTCUSDT-PERP.BINANCE-1-MINUTE-LAST-EXTERNAL` (bars), whose first part
//! is the symbol. A catalog root given as input stands for its partition
//! directories of those three types ([`expand`]); a partition directory
//! is one source, its files read in name order (their names are their time
//! ranges), so quotes are numbered across files.
//!
//! # Columns (the schema's metadata names `instrument_id`,
//! `price_precision`, `size_precision` and, for bars, `bar_type`)
//! - quotes: `bid_price`, `ask_price`, `bid_size`, `ask_size`, `ts_event`
//!   → a book ticker numbered by its row (Nautilus keeps no update id).
//! - trades: `price`, `size`, `aggressor_side` (1 buyer, 2 seller),
//!   `trade_id`, `ts_event` → an aggregate trade; a seller-aggressor trade
//!   is one where the buyer was the maker.
//! - bars: `open`, `high`, `low`, `close`, `volume`, `ts_event` (the bar's
//!   close) → a closed kline of the bar type's step (`1-MINUTE`,
//!   `1-HOUR`, …), opening one step before its close.
//!
//! Prices and sizes are fixed-point integers: `FixedSizeBinary(16)`
//! (a little-endian i128 at 10^16, Nautilus's high-precision build) or
//! `Int64`/`UInt64` (10^9, the standard build). Both become exact decimals
//! at 10^8; a value with a digit beyond the 8th decimal is refused, naming
//! the file and row, never rounded.

use std::path::{Path, PathBuf};

use arrow_array::{
    Array, FixedSizeBinaryArray, Int64Array, RecordBatch, StringArray, UInt8Array, UInt64Array,
};
use autobot_engine::event::{BookTicker, InputBody, InputEvent, Kline, Source, Trade};
use autobot_engine::types::{MonoNanos, Price, Qty, SymbolId, UnixNanos};

use super::InputError;
use super::rows::Gap;

/// The magic a Parquet file starts with.
pub const MAGIC: &[u8] = b"PAR1";
/// The catalog's data types autobot reads, by directory name.
pub const TYPES: [&str; 3] = ["quote_tick", "trade_tick", "bar"];

/// What a catalog partition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `QuoteTick`.
    Quotes,
    /// `TradeTick`.
    Trades,
    /// `Bar`.
    Bars,
}

impl Kind {
    /// The format's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Quotes => "nautilus quotes",
            Kind::Trades => "nautilus trades",
            Kind::Bars => "nautilus bars",
        }
    }
}

/// Catalog roots (a directory holding `data/`) replaced by their quote,
/// trade and bar partition directories, in name order; other paths kept.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        let data = p.join("data");
        if !data.is_dir() {
            out.push(p.clone());
            continue;
        }
        let before = out.len();
        for t in TYPES {
            let mut parts: Vec<PathBuf> = std::fs::read_dir(data.join(t))
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|d| d.is_dir())
                .collect();
            parts.sort();
            out.extend(parts);
        }
        if out.len() == before {
            return Err(InputError::Open {
                path: p.clone(),
                reason: format!(
                    "a NautilusTrader catalog with no {} data under data/",
                    TYPES.join(", ")
                ),
            });
        }
    }
    Ok(out)
}

/// A partition directory's Parquet files in name (time) order, or the one
/// file given.
fn files_of(path: &Path) -> Result<Vec<PathBuf>, InputError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| InputError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|f| f.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(InputError::Open {
            path: path.to_path_buf(),
            reason: "a directory with no .parquet file".into(),
        });
    }
    Ok(files)
}

/// One row, in exact decimals.
#[derive(Clone, Copy, Debug)]
enum Row {
    Quote([Price; 2], [Qty; 2]),
    Trade(Price, Qty, bool, u64),
    Bar([Price; 4], Qty),
}

/// A partition (or one file) being read, one file at a time (a file is
/// read whole when the one before it ends: a catalog's files are
/// partitions of a bounded size, the catalog itself need not fit).
pub struct NautilusSource {
    path: PathBuf,
    kind: Kind,
    symbol: SymbolId,
    /// A bar's step in ns.
    step: u64,
    files: Vec<PathBuf>,
    /// The file `rows` came from (index into `files`).
    file: usize,
    rows: Rows,
    next: usize,
    /// Rows read from the files before.
    done: u64,
    /// The last row's time and, for bars, open time.
    last: Option<(u64, u64)>,
    quote_id: u64,
    gaps: Vec<Gap>,
}

/// The step of a bar type (`BTCUSDT-PERP.BINANCE-1-MINUTE-LAST-EXTERNAL`)
/// in ns.
fn bar_step(bar_type: &str) -> Option<u64> {
    let parts: Vec<&str> = bar_type.rsplitn(4, '-').collect();
    // [source, price type, aggregation, "…-<step>"]
    let (agg, rest) = (parts.get(2)?, parts.get(3)?);
    let n: u64 = rest.rsplit('-').next()?.parse().ok().filter(|n| *n > 0)?;
    let secs = match *agg {
        "SECOND" => 1,
        "MINUTE" => 60,
        "HOUR" => 3_600,
        "DAY" => 86_400,
        "WEEK" => 604_800,
        _ => return None,
    };
    n.checked_mul(secs)?.checked_mul(1_000_000_000)
}

/// A fixed-point column as raw values at 10^8.
fn fixed(batch: &RecordBatch, name: &str) -> Result<Vec<i64>, String> {
    let a = batch
        .column_by_name(name)
        .ok_or_else(|| format!("no column `{name}`"))?;
    let at = |v: i128, scale_down: i128, i: usize| -> Result<i64, String> {
        if v % scale_down != 0 {
            return Err(format!(
                "row {}: `{name}` has a digit beyond the 8th decimal",
                i + 1
            ));
        }
        i64::try_from(v / scale_down).map_err(|_| format!("row {}: `{name}` is too large", i + 1))
    };
    if let Some(b) = a.as_any().downcast_ref::<FixedSizeBinaryArray>() {
        if b.value_length() != 16 {
            return Err(format!(
                "`{name}` is binary of {} bytes, not 16",
                b.value_length()
            ));
        }
        return (0..b.len())
            .map(|i| {
                let bytes: [u8; 16] = b.value(i).try_into().map_err(|_| "bad width".to_string())?;
                at(i128::from_le_bytes(bytes), 100_000_000, i)
            })
            .collect();
    }
    if let Some(v) = a.as_any().downcast_ref::<Int64Array>() {
        return (0..v.len())
            .map(|i| at(i128::from(v.value(i)), 10, i))
            .collect();
    }
    if let Some(v) = a.as_any().downcast_ref::<UInt64Array>() {
        return (0..v.len())
            .map(|i| at(i128::from(v.value(i)), 10, i))
            .collect();
    }
    Err(format!(
        "`{name}` is {}, not a Nautilus fixed-point column (FixedSizeBinary(16) or Int64)",
        a.data_type()
    ))
}

fn times(batch: &RecordBatch) -> Result<Vec<u64>, String> {
    let a = batch
        .column_by_name("ts_event")
        .ok_or("no column `ts_event`")?;
    if let Some(v) = a.as_any().downcast_ref::<UInt64Array>() {
        return Ok(v.values().to_vec());
    }
    if let Some(v) = a.as_any().downcast_ref::<Int64Array>() {
        return v
            .values()
            .iter()
            .map(|&t| u64::try_from(t).map_err(|_| format!("ts_event {t} is before 1970")))
            .collect();
    }
    Err(format!("`ts_event` is {}, not UInt64", a.data_type()))
}

fn positive_price(raw: i64, what: &str) -> Result<Price, String> {
    Some(Price::from_raw(raw))
        .filter(|p| p.is_positive())
        .ok_or_else(|| format!("{what} {} is not a positive price", Price::from_raw(raw)))
}

fn size(raw: i64, what: &str) -> Result<Qty, String> {
    Some(Qty::from_raw(raw))
        .filter(|q| !q.is_negative())
        .ok_or_else(|| format!("{what} {} is negative", Qty::from_raw(raw)))
}

/// The rows of one record batch of `kind`.
/// `base`: rows of the file before this batch (rows are numbered from 1
/// across the file).
fn batch_rows(kind: Kind, b: &RecordBatch, base: usize) -> Result<Rows, String> {
    let t = times(b)?;
    let bad_row = |i: usize, e: String| format!("row {}: {e}", base + i + 1);
    match kind {
        Kind::Quotes => {
            let (bp, ap) = (fixed(b, "bid_price")?, fixed(b, "ask_price")?);
            let (bs, asz) = (fixed(b, "bid_size")?, fixed(b, "ask_size")?);
            (0..t.len())
                .map(|i| {
                    let prices = [
                        positive_price(bp[i], "bid_price").map_err(|e| bad_row(i, e))?,
                        positive_price(ap[i], "ask_price").map_err(|e| bad_row(i, e))?,
                    ];
                    let sizes = [
                        size(bs[i], "bid_size").map_err(|e| bad_row(i, e))?,
                        size(asz[i], "ask_size").map_err(|e| bad_row(i, e))?,
                    ];
                    Ok((t[i], Row::Quote(prices, sizes)))
                })
                .collect()
        }
        Kind::Trades => {
            let (p, s) = (fixed(b, "price")?, fixed(b, "size")?);
            let side = b
                .column_by_name("aggressor_side")
                .and_then(|a| a.as_any().downcast_ref::<UInt8Array>())
                .ok_or("no UInt8 column `aggressor_side`")?;
            let ids = b
                .column_by_name("trade_id")
                .and_then(|a| a.as_any().downcast_ref::<StringArray>());
            (0..t.len())
                .map(|i| {
                    let price = positive_price(p[i], "price").map_err(|e| bad_row(i, e))?;
                    let qty = size(s[i], "size").map_err(|e| bad_row(i, e))?;
                    // 1 buyer, 2 seller; 0 (no aggressor) reads as a buy.
                    let buyer_is_maker = side.value(i) == 2;
                    // A numeric trade id is kept; others are numbered.
                    let id = ids
                        .and_then(|c| c.value(i).parse::<u64>().ok())
                        .unwrap_or(i as u64 + 1);
                    Ok((t[i], Row::Trade(price, qty, buyer_is_maker, id)))
                })
                .collect()
        }
        Kind::Bars => {
            let cols = ["open", "high", "low", "close"].map(|c| fixed(b, c));
            let [o, h, l, c] = cols;
            let (o, h, l, c) = (o?, h?, l?, c?);
            let v = fixed(b, "volume")?;
            (0..t.len())
                .map(|i| {
                    let px = [
                        positive_price(o[i], "open").map_err(|e| bad_row(i, e))?,
                        positive_price(h[i], "high").map_err(|e| bad_row(i, e))?,
                        positive_price(l[i], "low").map_err(|e| bad_row(i, e))?,
                        positive_price(c[i], "close").map_err(|e| bad_row(i, e))?,
                    ];
                    if px[1] < px[2]
                        || px[0] > px[1]
                        || px[0] < px[2]
                        || px[3] > px[1]
                        || px[3] < px[2]
                    {
                        return Err(bad_row(
                            i,
                            "high, low, open and close are inconsistent".into(),
                        ));
                    }
                    Ok((
                        t[i],
                        Row::Bar(px, size(v[i], "volume").map_err(|e| bad_row(i, e))?),
                    ))
                })
                .collect()
        }
    }
}

/// Rows with their `ts_event`.
type Rows = Vec<(u64, Row)>;

/// What one Parquet file of a catalog holds, read whole: its kind, its
/// bar step (bars) and its rows.
fn read_file(f: &Path) -> Result<(Kind, u64, Rows), InputError> {
    let bad = |reason: String| InputError::Open {
        path: f.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(f).map_err(|e| bad(e.to_string()))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(format!("not a Parquet file: {e}")))?;
    let schema = builder.schema().clone();
    let meta = schema.metadata();
    let has = |c: &str| schema.field_with_name(c).is_ok();
    let kind = if has("bid_price") && has("ask_price") {
        Kind::Quotes
    } else if has("aggressor_side") {
        Kind::Trades
    } else if has("open") && has("close") && meta.contains_key("bar_type") {
        Kind::Bars
    } else {
        return Err(bad(
            "not a NautilusTrader quote, trade or bar file (its columns and metadata say neither)"
                .into(),
        ));
    };
    let mut step = 0;
    if kind == Kind::Bars {
        let bt = meta.get("bar_type").map_or("", String::as_str);
        step = bar_step(bt).ok_or_else(|| {
            bad(format!(
                "bar type `{bt}` has no step autobot reads (N-SECOND, -MINUTE, -HOUR, -DAY or -WEEK)"
            ))
        })?;
    }
    let mut rows = Vec::new();
    for batch in builder.build().map_err(|e| bad(e.to_string()))? {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        rows.extend(batch_rows(kind, &batch, rows.len()).map_err(bad)?);
    }
    Ok((kind, step, rows))
}

impl NautilusSource {
    /// Opens a partition directory (or one of its files) for `symbol`,
    /// reading its first file.
    pub fn open(path: &Path, symbol: SymbolId) -> Result<NautilusSource, InputError> {
        let files = files_of(path)?;
        let (kind, step, rows) = read_file(&files[0])?;
        Ok(NautilusSource {
            path: path.to_path_buf(),
            kind,
            symbol,
            step,
            files,
            file: 0,
            rows,
            next: 0,
            done: 0,
            last: None,
            quote_id: 0,
            gaps: Vec::new(),
        })
    }

    /// The next row, reading the next file when one ends: `None` at the
    /// end of the last.
    fn next_row(&mut self) -> Result<Option<(u64, Row)>, InputError> {
        while self.next == self.rows.len() {
            if self.file + 1 == self.files.len() {
                return Ok(None);
            }
            self.file += 1;
            let f = &self.files[self.file];
            let (kind, step, rows) = read_file(f)?;
            if kind != self.kind || step != self.step {
                return Err(InputError::Open {
                    path: f.clone(),
                    reason: format!(
                        "holds {} while the files before held {}: one data type per partition",
                        kind.name(),
                        self.kind.name()
                    ),
                });
            }
            self.done += self.rows.len() as u64;
            self.rows = rows;
            self.next = 0;
        }
        self.next += 1;
        Ok(Some(self.rows[self.next - 1]))
    }

    /// What it holds.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The partition or file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.done + self.next as u64
    }

    /// The gaps between bars read so far.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// The next row's event, `None` at the end.
    pub fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        let Some((t, row)) = self.next_row()? else {
            return Ok(None);
        };
        if let Some((prev, _)) = self.last
            && t < prev
        {
            return Err(InputError::Row {
                path: self.files[self.file].clone(),
                line: self.next as u64,
                problem: format!("ts_event {t} is earlier than the row before's ({prev})"),
            });
        }
        // A bar closes at ts_event (its end, or its last instant): it
        // opened at the step boundary before.
        let open_ns = match row {
            Row::Bar(..) => t.saturating_sub(1) / self.step * self.step,
            _ => 0,
        };
        let prev_open = self.last.map(|(_, o)| o);
        self.last = Some((t, open_ns));
        let (time, body) = match row {
            Row::Quote([bid_price, ask_price], [bid_qty, ask_qty]) => {
                self.quote_id += 1;
                (
                    t,
                    InputBody::BookTicker(BookTicker {
                        update_id: self.quote_id,
                        bid_price,
                        bid_qty,
                        ask_price,
                        ask_qty,
                    }),
                )
            }
            Row::Trade(price, qty, buyer_is_maker, trade_id) => (
                t,
                InputBody::AggTrade(Trade {
                    trade_id,
                    price,
                    qty,
                    buyer_is_maker,
                }),
            ),
            Row::Bar([open, high, low, close], volume) => {
                if let Some(prev_open) = prev_open
                    && open_ns > prev_open + self.step
                {
                    self.gaps.push(Gap {
                        last_open_ms: prev_open / 1_000_000,
                        next_open_ms: open_ns / 1_000_000,
                        missing: (open_ns - prev_open) / self.step - 1,
                    });
                }
                let k = Kline {
                    open_time: UnixNanos(open_ns),
                    interval_secs: u32::try_from(self.step / 1_000_000_000).unwrap_or(u32::MAX),
                    trades: 0,
                    open,
                    high,
                    low,
                    close,
                    volume,
                };
                // Known at its last millisecond, as a bar file's.
                (open_ns + self.step - 1_000_000, InputBody::Kline(k))
            }
        };
        Ok(Some(InputEvent::new(
            Source::MarketData,
            self.symbol,
            MonoNanos(0),
            UnixNanos(time),
            body,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_types_give_their_step() {
        let m = 60_000_000_000;
        assert_eq!(
            bar_step("BTCUSDT-PERP.BINANCE-1-MINUTE-LAST-EXTERNAL"),
            Some(m)
        );
        assert_eq!(
            bar_step("BTCUSDT-PERP.BINANCE-15-MINUTE-LAST-INTERNAL"),
            Some(15 * m)
        );
        assert_eq!(
            bar_step("ETHUSDT-PERP.BINANCE-1-HOUR-MID-EXTERNAL"),
            Some(60 * m)
        );
        assert_eq!(
            bar_step("BTCUSDT-PERP.BINANCE-100-TICK-LAST-INTERNAL"),
            None
        );
        assert_eq!(bar_step("nonsense"), None);
    }
}
