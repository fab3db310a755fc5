//! Binance's public-data CSVs and the bar CSV, one row at a time into
//! input events.
//!
//! # Formats (detected from the header, or from the shape of the first row
//! when a file has none, as Binance's older files do not)
//! - `aggTrades`: `agg_trade_id,price,quantity,first_trade_id,last_trade_id,
//!   transact_time,is_buyer_maker` → an aggregate trade at `transact_time`.
//! - `trades`: `id,price,qty,quote_qty,time,is_buyer_maker` → a trade at
//!   `time` (carried as an aggregate trade of one).
//! - `bookTicker`: `update_id,best_bid_price,best_bid_qty,best_ask_price,
//!   best_ask_qty,transaction_time,event_time` → a book ticker at
//!   `event_time`.
//! - `klines`: the official 12 columns (`open_time,open,high,low,close,
//!   volume,close_time,quote_volume,count,taker_buy_volume,
//!   taker_buy_quote_volume,ignore`) → a closed candle at its close.
//! - `fundingRate`: `calc_time,funding_interval_hours,last_funding_rate`
//!   → a funding settled at `calc_time` at that rate (`FundingSettled`);
//!   the merge fills in its price, the symbol's last price before it.
//! - bars: `open_time,open,high,low,close,volume` (the layout of
//!   `../shared/data/klines/`) → a closed candle; the interval is the gap
//!   between the first two bars, and later gaps must be whole multiples of
//!   it (a data hole, not a different interval).
//!
//! Times are milliseconds since the epoch. A row's time must not be
//! earlier than the row before it, with one exception: a bookTicker file
//! is in the order of its own sequence, `update_id` (which must not
//! decrease), and its `event_time` (when Binance pushed the update, a few
//! ms after `transaction_time`) is not always in that order. Such a row is
//! kept in file order and stamped at the row before's time (it cannot have
//! reached a client earlier than the update before it on the same stream);
//! the rows so held are counted ([`CsvSource::held`]).
//!
//! Bar and kline files list their gaps: a bar that opens more than one
//! interval after the one before ([`CsvSource::gaps`]).
//!
//! Every refusal names the file, the line and the column; nothing of a
//! refused row is emitted.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use autobot_engine::event::{
    BookTicker, FundingSettled, InputBody, InputEvent, Kline, Source, Trade,
};
use autobot_engine::types::{MonoNanos, Price, Qty, Rate, SymbolId, UnixNanos};

use super::InputError;

/// A row's fields. Rows are read with `simd-csv` (SIMD search for the
/// separators): `csv`'s byte-at-a-time state machine took about 100 ns a
/// row of a bookTicker file, a sixth of a backtest straight from CSV;
/// `simd-csv` takes under half of that.
type Record = simd_csv::ByteRecord;

/// A read error (a gzip that ends early, a damaged archive) on the line
/// holding byte `at`.
fn read_error(path: &Path, at: u64, fallback: u64, e: &simd_csv::Error) -> InputError {
    let io = match e.kind() {
        simd_csv::ErrorKind::Io(io) => Some(io),
        _ => None,
    };
    InputError::Row {
        path: path.to_path_buf(),
        line: line_at(path, at.saturating_add(1), fallback),
        problem: super::read_problem(io, e),
    }
}

/// The line a row ends on: one more than the newlines before its last byte
/// (`end` is the byte offset after the row and its terminator, in the
/// decompressed text). Counted again from the file's start only when a row
/// is refused, so the rows read cost nothing for it; `fallback` when the
/// file cannot be read again.
fn line_at(path: &Path, end: u64, fallback: u64) -> u64 {
    let Ok(mut input) = super::source::open(path) else {
        return fallback;
    };
    let mut left = end.saturating_sub(1);
    let mut newlines = 0u64;
    while left > 0 {
        let Ok(buf) = input.fill_buf() else {
            return fallback;
        };
        if buf.is_empty() {
            break;
        }
        let take = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        newlines += buf[..take].iter().filter(|&&b| b == b'\n').count() as u64;
        input.consume(take);
        left -= take as u64;
    }
    newlines + 1
}

/// A data file's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Binance `aggTrades`.
    AggTrades,
    /// Binance `trades`.
    Trades,
    /// Binance `bookTicker`.
    BookTicker,
    /// Binance `klines` (12 columns).
    Klines,
    /// Binance `fundingRate`.
    FundingRate,
    /// Six-column bars.
    Bars,
}

const AGG_TRADES: [&str; 7] = [
    "agg_trade_id",
    "price",
    "quantity",
    "first_trade_id",
    "last_trade_id",
    "transact_time",
    "is_buyer_maker",
];
const TRADES: [&str; 6] = ["id", "price", "qty", "quote_qty", "time", "is_buyer_maker"];
const BOOK_TICKER: [&str; 7] = [
    "update_id",
    "best_bid_price",
    "best_bid_qty",
    "best_ask_price",
    "best_ask_qty",
    "transaction_time",
    "event_time",
];
const KLINES: [&str; 12] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
];
const FUNDING_RATE: [&str; 3] = ["calc_time", "funding_interval_hours", "last_funding_rate"];
const BARS: [&str; 6] = ["open_time", "open", "high", "low", "close", "volume"];

/// What the detector accepts, for the refusal message.
pub const EXPECTED: &str = "a Binance aggTrades CSV (agg_trade_id,price,quantity,first_trade_id,\
last_trade_id,transact_time,is_buyer_maker), a trades CSV (id,price,qty,quote_qty,time,\
is_buyer_maker), a bookTicker CSV (update_id,best_bid_price,\
best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time), a klines CSV (the 12 \
official columns, with or without header), a fundingRate CSV (calc_time,funding_interval_hours,\
last_funding_rate) or a bar CSV (open_time,open,high,low,close,volume)";

impl Format {
    /// The format's name.
    pub fn name(self) -> &'static str {
        match self {
            Format::AggTrades => "aggTrades",
            Format::Trades => "trades",
            Format::BookTicker => "bookTicker",
            Format::Klines => "klines",
            Format::FundingRate => "fundingRate",
            Format::Bars => "bars",
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Format::AggTrades => &AGG_TRADES,
            Format::Trades => &TRADES,
            Format::BookTicker => &BOOK_TICKER,
            Format::Klines => &KLINES,
            Format::FundingRate => &FUNDING_RATE,
            Format::Bars => &BARS,
        }
    }

    /// The format whose header `fields` is, if any.
    fn of_header(fields: &Record) -> Option<Format> {
        let names: Vec<String> = fields
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_ascii_lowercase())
            .collect();
        // The bar file's header names the unit: `open_time(ms)`.
        let names: Vec<&str> = names
            .iter()
            .map(|n| n.split('(').next().unwrap_or(n).trim())
            .collect();
        [
            Format::AggTrades,
            Format::Trades,
            Format::BookTicker,
            Format::Klines,
            Format::FundingRate,
            Format::Bars,
        ]
        .into_iter()
        .find(|f| f.columns() == names.as_slice())
    }

    /// The format a header-less first row has the shape of, if any.
    fn of_row(fields: &Record) -> Option<Format> {
        let numeric = |i: usize| {
            fields.get(i).is_some_and(|f| {
                !f.is_empty() && f.iter().all(|b| b.is_ascii_digit() || b".-eE+".contains(b))
            })
        };
        let all_numeric = (0..fields.len()).all(numeric);
        let is_bool = |i: usize| fields.get(i).and_then(boolean).is_some();
        match fields.len() {
            12 if all_numeric => Some(Format::Klines),
            7 if (0..6).all(numeric) && is_bool(6) => Some(Format::AggTrades),
            7 if all_numeric => Some(Format::BookTicker),
            6 if (0..5).all(numeric) && is_bool(5) => Some(Format::Trades),
            6 if all_numeric => Some(Format::Bars),
            3 if all_numeric => Some(Format::FundingRate),
            _ => None,
        }
    }
}

/// The largest funding rate a row may carry, raw (0.05: Binance caps
/// rates well inside it; a larger one is a percentage or a wrong column).
pub(crate) const MAX_FUNDING_RATE: i64 = 5_000_000;

/// One data file being read.
pub struct CsvSource {
    path: PathBuf,
    format: Format,
    symbol: SymbolId,
    reader: simd_csv::Reader<Box<dyn BufRead + Send>>,
    record: Record,
    /// Where the current row ends (see [`line_at`]).
    end: u64,
    /// Rows read ahead (a first row that was data, not a header; a bar
    /// file's first two bars) and where each ends, still to be returned.
    pending: VecDeque<(Record, u64)>,
    last_ms: u64,
    /// Records read so far (the first included, blank lines not): a
    /// refusal's line when the file cannot be read again to count them.
    records: u64,
    /// Bars: the interval (ms), from the first two bars.
    bar_ms: u64,
    /// Bars: the previous bar's open time (ms).
    bar_open: Option<u64>,
    /// bookTicker: the previous row's `update_id`.
    last_update: u64,
    /// bookTicker rows stamped at the row before's time.
    held: u64,
    /// Bars and klines: the gaps seen so far.
    gaps: Vec<Gap>,
    rows: u64,
}

/// A hole in a bar or kline file: bars missing between two that are there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gap {
    /// Open time (ms) of the last bar before the hole.
    pub last_open_ms: u64,
    /// Open time (ms) of the first bar after it.
    pub next_open_ms: u64,
    /// Bars missing.
    pub missing: u64,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |ms: u64| crate::position::format_utc(ms.saturating_mul(1_000_000));
        write!(
            f,
            "gap after the bar of {} to the bar of {} ({} bars missing)",
            at(self.last_open_ms),
            at(self.next_open_ms),
            self.missing
        )
    }
}

fn field<'r>(rec: &'r Record, i: usize, name: &'static str) -> Result<&'r str, &'static str> {
    let f = rec.get(i).ok_or(name)?.trim_ascii();
    std::str::from_utf8(f).map_err(|_| name)
}

/// A whole number of at most 19 digits, read from the bytes (this runs
/// for several columns of every row).
fn ms(rec: &Record, i: usize, name: &'static str) -> Result<u64, &'static str> {
    let f = rec.get(i).ok_or(name)?.trim_ascii();
    if f.is_empty() || f.len() > 19 {
        return Err(name);
    }
    f.iter().try_fold(0u64, |n, &b| {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            Err(name)
        } else {
            Ok(n * 10 + u64::from(d))
        }
    })
}

fn price(rec: &Record, i: usize, name: &'static str) -> Result<Price, &'static str> {
    Price::parse_bytes(rec.get(i).ok_or(name)?)
        .ok()
        .filter(|p| p.is_positive())
        .ok_or(name)
}

fn qty(rec: &Record, i: usize, name: &'static str) -> Result<Qty, &'static str> {
    Qty::parse_bytes(rec.get(i).ok_or(name)?)
        .ok()
        .filter(|q| !q.is_negative())
        .ok_or(name)
}

/// `true` or `false`, in any case.
fn boolean(f: &[u8]) -> Option<bool> {
    if f.eq_ignore_ascii_case(b"true") {
        Some(true)
    } else if f.eq_ignore_ascii_case(b"false") {
        Some(false)
    } else {
        None
    }
}

fn nanos(ms: u64) -> Option<UnixNanos> {
    ms.checked_mul(1_000_000).map(UnixNanos)
}

impl CsvSource {
    /// Opens `path` as `symbol`'s data, detecting its format.
    pub fn open(path: &Path, symbol: SymbolId) -> Result<CsvSource, InputError> {
        // The archive names mark, index and premium klines like trade
        // klines; only their directory tells them apart, and their candles
        // are not trades.
        let priced = path.components().find_map(|c| {
            let dir = c.as_os_str().to_str()?;
            ["markPriceKlines", "indexPriceKlines", "premiumIndexKlines"]
                .contains(&dir)
                .then_some(dir)
        });
        if let Some(kind) = priced {
            return Err(InputError::Open {
                path: path.to_path_buf(),
                reason: format!(
                    "a {kind} file (it sits in the archive's {kind}/ directory): its candles are not trades, and import does not read them"
                ),
            });
        }
        let input = super::source::open(path)?;
        let mut reader = simd_csv::ReaderBuilder::with_capacity(1 << 16)
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = Record::new();
        let read = reader
            .read_byte_record(&mut record)
            .map_err(|e| read_error(path, reader.position(), 1, &e))?;
        let unknown = |first: &str| InputError::UnknownFormat {
            path: path.to_path_buf(),
            first: first.chars().take(120).collect(),
            expected: EXPECTED,
        };
        if !read {
            return Err(unknown("(the file is empty)"));
        }
        let (format, mut pending) = match (Format::of_header(&record), Format::of_row(&record)) {
            (Some(f), _) => (f, VecDeque::new()),
            (None, Some(f)) => (f, VecDeque::from([(record.clone(), reader.position())])),
            (None, None) => {
                let text: Vec<String> = record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                return Err(unknown(&text.join(",")));
            }
        };
        let mut bar_ms = 0;
        if format == Format::Bars {
            // The interval is the gap between the first two bars.
            while pending.len() < 2 {
                let mut next = Record::new();
                let at = reader.position();
                let read = reader.read_byte_record(&mut next);
                let more = read.map_err(|e| read_error(path, reader.position(), 2, &e))?;
                if !more {
                    return Err(InputError::Row {
                        path: path.to_path_buf(),
                        line: line_at(path, at + 1, 2),
                        problem: "a bar file needs two bars to show its interval".into(),
                    });
                }
                pending.push_back((next, reader.position()));
            }
            let open = |r: &(Record, u64)| ms(&r.0, 0, "open_time").ok();
            bar_ms = match (open(&pending[0]), open(&pending[1])) {
                (Some(a), Some(b)) => b.saturating_sub(a),
                // The row itself is refused, with its line, when it is read.
                _ => 0,
            };
        }
        Ok(CsvSource {
            path: path.to_path_buf(),
            format,
            symbol,
            reader,
            record,
            end: 0,
            pending,
            last_ms: 0,
            records: 1,
            bar_ms,
            bar_open: None,
            last_update: 0,
            held: 0,
            gaps: Vec::new(),
            rows: 0,
        })
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Data rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// bookTicker rows whose `event_time` was earlier than the row
    /// before's, stamped at that row's time.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// The gaps of a bar or kline file read so far.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// The next row's event written into `out`; `false` at the end of the
    /// file. In place: an event moved out through the layers of `Result`
    /// and `Option` of a merge was copied at each (a profile's largest
    /// entries of the reading thread after the tokenizer).
    pub fn next_into(&mut self, out: &mut InputEvent) -> Result<bool, InputError> {
        if let Some((rec, end)) = self.pending.pop_front() {
            self.record = rec;
            self.end = end;
        } else {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| {
                    read_error(&self.path, self.reader.position(), self.records + 1, &e)
                })?;
            if !more {
                return Ok(false);
            }
            self.end = self.reader.position();
        }
        self.records += 1;
        if self.record.len() == 1 && self.record.get(0).is_some_and(<[u8]>::is_empty) {
            // A blank line (a trailing newline on its own).
            return self.next_into(out);
        }
        let (end, records) = (self.end, self.records);
        let bad = |path: &Path, problem: String| InputError::Row {
            path: path.to_path_buf(),
            line: line_at(path, end, records),
            problem,
        };
        let want = self.format.columns().len();
        if self.record.len() != want {
            return Err(bad(
                &self.path,
                format!(
                    "{} columns where {} has {want} ({})",
                    self.record.len(),
                    self.format.name(),
                    self.format.columns().join(",")
                ),
            ));
        }
        let (time_ms, body) = self
            .row()
            .map_err(|col| {
                bad(
                    &self.path,
                    format!("column {col} is missing, not a number or out of range"),
                )
            })?
            .map_err(|p| bad(&self.path, p))?;
        let mut time_ms = time_ms;
        if let InputBody::BookTicker(t) = &body {
            if t.update_id < self.last_update {
                return Err(bad(
                    &self.path,
                    format!(
                        "update_id {} is lower than the row before ({}): a bookTicker file must be in update_id order",
                        t.update_id, self.last_update
                    ),
                ));
            }
            self.last_update = t.update_id;
            if time_ms < self.last_ms {
                time_ms = self.last_ms;
                self.held += 1;
            }
        }
        if time_ms < self.last_ms {
            return Err(bad(
                &self.path,
                format!(
                    "time {time_ms} is earlier than the row before ({}): rows must be in time order",
                    self.last_ms
                ),
            ));
        }
        self.last_ms = time_ms;
        self.rows += 1;
        let t = nanos(time_ms)
            .ok_or_else(|| bad(&self.path, format!("time {time_ms} ms is out of range")))?;
        *out = InputEvent::new(Source::MarketData, self.symbol, MonoNanos(t.0), t, body);
        Ok(true)
    }

    /// The row's time (ms) and event; `Err(column)` for an unreadable
    /// column, `Ok(Err(problem))` for readable columns that disagree.
    #[allow(
        clippy::type_complexity,
        reason = "the two error levels are the caller's messages"
    )]
    fn row(&mut self) -> Result<Result<(u64, InputBody), String>, &'static str> {
        let r = &self.record;
        Ok(match self.format {
            Format::AggTrades => {
                let maker = r
                    .get(6)
                    .map(<[u8]>::trim_ascii)
                    .and_then(boolean)
                    .ok_or("is_buyer_maker")?;
                let t = Trade {
                    trade_id: ms(r, 0, "agg_trade_id")?,
                    price: price(r, 1, "price")?,
                    qty: qty(r, 2, "quantity")?,
                    buyer_is_maker: maker,
                };
                Ok((ms(r, 5, "transact_time")?, InputBody::AggTrade(t)))
            }
            Format::Trades => {
                let maker = r
                    .get(5)
                    .map(<[u8]>::trim_ascii)
                    .and_then(boolean)
                    .ok_or("is_buyer_maker")?;
                let t = Trade {
                    trade_id: ms(r, 0, "id")?,
                    price: price(r, 1, "price")?,
                    qty: qty(r, 2, "qty")?,
                    buyer_is_maker: maker,
                };
                Ok((ms(r, 4, "time")?, InputBody::AggTrade(t)))
            }
            Format::BookTicker => {
                let t = BookTicker {
                    update_id: ms(r, 0, "update_id")?,
                    bid_price: price(r, 1, "best_bid_price")?,
                    bid_qty: qty(r, 2, "best_bid_qty")?,
                    ask_price: price(r, 3, "best_ask_price")?,
                    ask_qty: qty(r, 4, "best_ask_qty")?,
                };
                Ok((ms(r, 6, "event_time")?, InputBody::BookTicker(t)))
            }
            Format::Klines => {
                let open = ms(r, 0, "open_time")?;
                let close = ms(r, 6, "close_time")?;
                let trades = u32::try_from(ms(r, 8, "count")?).map_err(|_| "count")?;
                match close.checked_sub(open).map(|d| d + 1) {
                    Some(len) if len >= 1000 && len.is_multiple_of(1000) => {
                        self.note_gap(open, len);
                        self.kline(open, len, trades)
                            .map(|(t, k)| (t, InputBody::Kline(k)))
                    }
                    _ => Err(format!(
                        "close_time {close} does not end a whole-second bar opened at {open}"
                    )),
                }
            }
            Format::FundingRate => {
                let time = ms(r, 0, "calc_time")?;
                let hours = ms(r, 1, "funding_interval_hours")?;
                let rate = Rate::parse(field(r, 2, "last_funding_rate")?)
                    .map_err(|_| "last_funding_rate")?;
                if !(1..=24).contains(&hours) {
                    Err(format!("funding_interval_hours {hours} is not 1 ..= 24"))
                } else if rate.raw().abs() > MAX_FUNDING_RATE {
                    Err(format!(
                        "last_funding_rate {rate} is beyond ±0.05 (a rate, not a percentage?)"
                    ))
                } else {
                    let f = FundingSettled {
                        mark: Price::ZERO,
                        rate,
                    };
                    Ok((time, InputBody::Funding(f)))
                }
            }
            Format::Bars => {
                let open = ms(r, 0, "open_time")?;
                let len = self.bar_ms;
                if len < 1000 || !len.is_multiple_of(1000) {
                    return Ok(Err(format!(
                        "the first two bars are {len} ms apart: bars are whole seconds long"
                    )));
                }
                let after = self
                    .bar_open
                    .map_or(Some(len), |prev| open.checked_sub(prev));
                match after {
                    Some(gap) if gap > 0 && gap.is_multiple_of(len) => {
                        self.note_gap(open, len);
                        self.kline(open, len, 0)
                            .map(|(t, k)| (t, InputBody::Kline(k)))
                    }
                    _ => Err(format!(
                        "open_time {open} is not a whole number of {len} ms bars after the previous bar"
                    )),
                }
            }
        })
    }

    /// Records a gap when the bar opening at `open` (ms) of `len` ms is
    /// more than one bar after the one before.
    fn note_gap(&mut self, open: u64, len: u64) {
        if let Some(prev) = self.bar_open
            && open > prev.saturating_add(len)
        {
            self.gaps.push(Gap {
                last_open_ms: prev,
                next_open_ms: open,
                missing: (open - prev) / len - 1,
            });
        }
        self.bar_open = Some(open);
    }

    fn kline(&self, open_ms: u64, len_ms: u64, trades: u32) -> Result<(u64, Kline), String> {
        let r = &self.record;
        let get = |i, name| {
            price(r, i, name)
                .map_err(|c| format!("column {c} is missing, not a number or out of range"))
        };
        let k = Kline {
            open_time: nanos(open_ms).ok_or("open_time is out of range")?,
            interval_secs: u32::try_from(len_ms / 1000).map_err(|_| "the bar is too long")?,
            trades,
            open: get(1, "open")?,
            high: get(2, "high")?,
            low: get(3, "low")?,
            close: get(4, "close")?,
            volume: qty(r, 5, "volume")
                .map_err(|c| format!("column {c} is missing, not a number or out of range"))?,
        };
        if k.high < k.low
            || k.open > k.high
            || k.open < k.low
            || k.close > k.high
            || k.close < k.low
        {
            return Err(format!(
                "high {} and low {} do not hold open {} and close {}",
                k.high, k.low, k.open, k.close
            ));
        }
        // A bar is known when it closes.
        Ok((open_ms + len_ms - 1, k))
    }
}
