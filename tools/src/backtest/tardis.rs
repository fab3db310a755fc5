//! Tardis.dev's normalized CSVs (`binance-futures_trades_2024-01-01_BTCUSDT.csv.gz`
//! and the like), read as input events.
//!
//! # Formats (known by their header)
//! - `trades`: `exchange,symbol,timestamp,local_timestamp,id,side,price,amount`
//!   → an aggregate trade; `side` is the taker's, so `sell` means the
//!   buyer was the maker.
//! - `quotes`: `exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount`
//!   → a book ticker, numbered by its row (Tardis keeps no update id).
//! - `incremental_book_L2`: `exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount`
//!   → depth events: consecutive rows with the same timestamps and snapshot
//!   flag are one message. A snapshot message becomes a depth snapshot and
//!   a diff message a diff, with update ids made up so the core's Binance
//!   sync procedure chains them (each diff `U = pu` = the previous `u`,
//!   `u = pu + 1`; a snapshot's `lastUpdateId` is the last `u`, so the
//!   first diff after it straddles it). An amount of 0 removes the level.
//!
//! # Times
//! Timestamps are µs since the epoch. An event is stamped at `timestamp`
//! (the exchange's time); Tardis orders its rows by `local_timestamp` (when
//! they were received), and exchange times are not always in that order,
//! so an earlier one is held at the row before's time (counted, as a
//! bookTicker file's), keeping the file's order.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use autobot_engine::event::{BookTicker, DepthDiff, InputBody, InputEvent, Level, Source, Trade};
use autobot_engine::types::{MonoNanos, Price, Qty, SymbolId, UnixNanos};

use super::InputError;

/// A Tardis data type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `trades`.
    Trades,
    /// `quotes`.
    Quotes,
    /// `incremental_book_L2`.
    BookL2,
}

const TRADES: &str = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount";
const QUOTES: &str =
    "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount";
const BOOK_L2: &str = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";

impl Kind {
    /// The kind whose header `line` is.
    pub fn of_header(line: &str) -> Option<Kind> {
        match line.trim() {
            TRADES => Some(Kind::Trades),
            QUOTES => Some(Kind::Quotes),
            BOOK_L2 => Some(Kind::BookL2),
            _ => None,
        }
    }

    /// The format's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Trades => "tardis trades",
            Kind::Quotes => "tardis quotes",
            Kind::BookL2 => "tardis incremental_book_L2",
        }
    }
}

/// One L2 row.
struct L2Row {
    stamps: (u64, u64),
    snapshot: bool,
    bid: bool,
    level: Level,
}

/// A Tardis CSV being read.
pub struct TardisSource {
    path: PathBuf,
    kind: Kind,
    symbol: SymbolId,
    reader: csv::Reader<Box<dyn BufRead + Send>>,
    record: csv::ByteRecord,
    /// Events made and not yet returned (a message's depth parts).
    ready: VecDeque<InputEvent>,
    /// The first row of the next L2 message, read ahead.
    next_row: Option<L2Row>,
    last_update: u64,
    last_us: u64,
    rows: u64,
    held: u64,
}

fn cell<'r>(rec: &'r csv::ByteRecord, i: usize, name: &'static str) -> Result<&'r str, String> {
    rec.get(i)
        .and_then(|f| std::str::from_utf8(f).ok())
        .map(str::trim)
        .ok_or_else(|| format!("column {name} is missing"))
}

fn micros(rec: &csv::ByteRecord, i: usize, name: &'static str) -> Result<u64, String> {
    cell(rec, i, name)?
        .parse()
        .map_err(|_| format!("column {name} is not a whole number of µs"))
}

fn price(rec: &csv::ByteRecord, i: usize, name: &'static str) -> Result<Price, String> {
    Price::parse(cell(rec, i, name)?)
        .ok()
        .filter(|p| p.is_positive())
        .ok_or_else(|| format!("column {name} is not a positive price"))
}

fn qty(rec: &csv::ByteRecord, i: usize, name: &'static str) -> Result<Qty, String> {
    Qty::parse(cell(rec, i, name)?)
        .ok()
        .filter(|q| !q.is_negative())
        .ok_or_else(|| format!("column {name} is not a quantity"))
}

impl TardisSource {
    /// Opens `path` (its header says it is `kind`) as `symbol`'s data.
    pub fn open(path: &Path, kind: Kind, symbol: SymbolId) -> Result<TardisSource, InputError> {
        let input = super::source::open(path)?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(input);
        let mut s = TardisSource {
            path: path.to_path_buf(),
            kind,
            symbol,
            reader,
            record: csv::ByteRecord::new(),
            ready: VecDeque::new(),
            next_row: None,
            last_update: 0,
            last_us: 0,
            rows: 0,
            held: 0,
        };
        if kind == Kind::BookL2 {
            s.next_row = s.read_l2()?;
        }
        Ok(s)
    }

    /// The file's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Rows whose exchange time ran backwards, held at the row before's.
    pub fn held(&self) -> u64 {
        self.held
    }

    fn bad(&self, line: u64, problem: String) -> InputError {
        InputError::Row {
            path: self.path.clone(),
            line,
            problem,
        }
    }

    /// Reads the next record; `false` at the end.
    fn read(&mut self) -> Result<Option<u64>, InputError> {
        let line = self.record.position().map_or(2, |p| p.line() + 1);
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|e| InputError::read(&self.path, line, &e))?;
        if !more {
            return Ok(None);
        }
        self.rows += 1;
        Ok(Some(self.record.position().map_or(line, |p| p.line())))
    }

    /// An event at exchange time `us`, held at the row before's when it
    /// runs backwards.
    fn event(&mut self, us: u64, body: InputBody) -> InputEvent {
        let us = if us < self.last_us {
            self.held += 1;
            self.last_us
        } else {
            us
        };
        self.last_us = us;
        let t = UnixNanos(us.saturating_mul(1000));
        InputEvent::new(Source::MarketData, self.symbol, MonoNanos(t.0), t, body)
    }

    /// The next event, `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<InputEvent>, InputError> {
        if let Some(e) = self.ready.pop_front() {
            return Ok(Some(e));
        }
        match self.kind {
            Kind::Trades => {
                let Some(line) = self.read()? else {
                    return Ok(None);
                };
                let r = &self.record;
                let t = (|| {
                    let side = cell(r, 5, "side")?;
                    let buyer_is_maker = match side {
                        "sell" => true,
                        "buy" | "unknown" => false,
                        other => return Err(format!("side {other:?} is not buy, sell or unknown")),
                    };
                    // Binance's trade ids are numbers; another venue's are
                    // kept as 0.
                    let trade_id = cell(r, 4, "id")?.parse().unwrap_or(0);
                    Ok((
                        micros(r, 2, "timestamp")?,
                        Trade {
                            trade_id,
                            price: price(r, 6, "price")?,
                            qty: qty(r, 7, "amount")?,
                            buyer_is_maker,
                        },
                    ))
                })()
                .map_err(|p| self.bad(line, p))?;
                Ok(Some(self.event(t.0, InputBody::AggTrade(t.1))))
            }
            Kind::Quotes => {
                let Some(line) = self.read()? else {
                    return Ok(None);
                };
                let r = &self.record;
                let q = (|| {
                    Ok::<_, String>((
                        micros(r, 2, "timestamp")?,
                        qty(r, 4, "ask_amount")?,
                        price(r, 5, "ask_price")?,
                        price(r, 6, "bid_price")?,
                        qty(r, 7, "bid_amount")?,
                    ))
                })()
                .map_err(|p| self.bad(line, p))?;
                self.last_update += 1;
                let b = BookTicker {
                    update_id: self.last_update,
                    bid_price: q.3,
                    bid_qty: q.4,
                    ask_price: q.2,
                    ask_qty: q.1,
                };
                Ok(Some(self.event(q.0, InputBody::BookTicker(b))))
            }
            Kind::BookL2 => {
                let Some(first) = self.next_row.take() else {
                    return Ok(None);
                };
                let key = (first.stamps, first.snapshot);
                let (mut bids, mut asks) = (Vec::new(), Vec::new());
                let mut row = Some(first);
                while let Some(r) = row.take() {
                    if (r.stamps, r.snapshot) != key {
                        self.next_row = Some(r);
                        break;
                    }
                    if r.bid { &mut bids } else { &mut asks }.push(r.level);
                    row = self.read_l2()?;
                }
                let prev = self.last_update;
                let ids = if key.1 {
                    (prev, prev, prev)
                } else {
                    self.last_update += 1;
                    (prev, prev + 1, prev)
                };
                let mut parts = Vec::new();
                DepthDiff::split(ids, &bids, &asks, key.1, |d| parts.push(d));
                for d in parts {
                    let e = self.event(key.0.0, InputBody::Depth(d));
                    self.ready.push_back(e);
                }
                Ok(self.ready.pop_front())
            }
        }
    }

    /// The next L2 row, `None` at the end.
    fn read_l2(&mut self) -> Result<Option<L2Row>, InputError> {
        let Some(line) = self.read()? else {
            return Ok(None);
        };
        let r = &self.record;
        let row = (|| {
            let snapshot = match cell(r, 4, "is_snapshot")? {
                "true" => true,
                "false" => false,
                other => return Err(format!("is_snapshot {other:?} is not true or false")),
            };
            let bid = match cell(r, 5, "side")? {
                "bid" => true,
                "ask" => false,
                other => return Err(format!("side {other:?} is not bid or ask")),
            };
            Ok(L2Row {
                stamps: (micros(r, 2, "timestamp")?, micros(r, 3, "local_timestamp")?),
                snapshot,
                bid,
                level: Level {
                    price: price(r, 6, "price")?,
                    qty: qty(r, 7, "amount")?,
                },
            })
        })()
        .map_err(|p| self.bad(line, p))?;
        Ok(Some(row))
    }
}
