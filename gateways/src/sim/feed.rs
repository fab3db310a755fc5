//! What the simulator streams: the seeded synthetic market turned into
//! Binance combined-stream messages, or a recorded capture file (the
//! `<receive ns> <json>` lines of `../shared/data/ticks/`, plain or gzip).
//!
//! Each item carries when it is due (ns from the feed's first item, in
//! market time), its stream name (to serve only subscribers), and the
//! message exactly as the exchange would send it on a combined stream. A
//! capture's REST depth snapshot line is not streamed: it becomes the
//! snapshot the simulator's REST side serves.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use autobot_engine::event::InputBody;
use autobot_engine::types::{Instrument, Price, Qty};

use crate::binance::parse::stream_name;
use crate::synthetic::{SyntheticConfig, SyntheticMarket};

/// One message of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedItem {
    /// When it is due, ns after the feed's first item.
    pub due_ns: u64,
    /// What it is.
    pub kind: ItemKind,
    /// The message text (a combined-stream envelope, or the snapshot body).
    pub text: String,
}

/// Kinds of feed items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// A stream message, e.g. `btcusdt@bookTicker`.
    Stream(String),
    /// A REST depth snapshot of the named symbol.
    Snapshot(String),
}

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Opening or reading the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// OS error (a truncated gzip shows here).
        source: std::io::Error,
    },
    /// A line without the `<ns> <json>` shape.
    #[error("{path}:{line}: expected '<receive ns> <json>'")]
    Shape {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
    },
}

/// A source of feed items.
pub enum Feed {
    /// The seeded synthetic market.
    Synthetic(Box<SyntheticFeed>),
    /// A capture file.
    Capture(CaptureFeed),
}

impl Feed {
    /// The next item, `None` at the end.
    pub fn next_item(&mut self) -> Result<Option<FeedItem>, FeedError> {
        match self {
            Feed::Synthetic(s) => Ok(s.next_item()),
            Feed::Capture(c) => c.next_item(),
        }
    }
}

/// The synthetic market as stream messages (`<symbol>@bookTicker` and
/// `<symbol>@aggTrade`), one every `10⁹ / events_per_sec` ns.
pub struct SyntheticFeed {
    market: SyntheticMarket,
    names: Vec<String>,
    streams: Vec<[String; 2]>,
    period_ns: u64,
    count: u64,
    max_items: Option<u64>,
    /// Added to every exchange time (the market moved to start now).
    shift_ns: u64,
}

impl SyntheticFeed {
    /// Moves the market's times so that it starts at `start` (Unix ns)
    /// instead of [`crate::synthetic::ORIGIN`]; the prices are the same.
    pub fn start_at(&mut self, start: u64) {
        self.shift_ns = start.saturating_sub(crate::synthetic::ORIGIN.0);
    }

    /// The feed of `cfg` over `instruments`, after `skip` events, ending
    /// after `max_items` (never, if `None`).
    pub fn new(
        cfg: &SyntheticConfig,
        instruments: &[Instrument],
        skip: u64,
        max_items: Option<u64>,
    ) -> SyntheticFeed {
        let mut market = SyntheticMarket::new(cfg, instruments);
        for _ in 0..skip {
            market.next_event();
        }
        let names: Vec<String> = instruments.iter().map(|i| i.name.to_string()).collect();
        let streams = names
            .iter()
            .map(|n| {
                let l = n.to_ascii_lowercase();
                [format!("{l}@bookTicker"), format!("{l}@aggTrade")]
            })
            .collect();
        SyntheticFeed {
            market,
            names,
            streams,
            period_ns: 1_000_000_000 / u64::from(cfg.events_per_sec.max(1)),
            count: 0,
            max_items,
            shift_ns: 0,
        }
    }

    /// The next message, `None` after `max_items`.
    pub fn next_item(&mut self) -> Option<FeedItem> {
        if self.max_items.is_some_and(|m| self.count >= m) {
            return None;
        }
        let e = self.market.next_event();
        let sym = usize::from(e.symbol.0);
        let (name, streams) = (&self.names[sym], &self.streams[sym]);
        let ms = (e.exchange_time.0 + self.shift_ns) / 1_000_000;
        let json = match e.body {
            InputBody::BookTicker(t) => serde_json::to_string(&Envelope {
                stream: &streams[0],
                data: TickerMsg {
                    e: "bookTicker",
                    u: t.update_id,
                    s: name,
                    b: t.bid_price,
                    bq: t.bid_qty,
                    a: t.ask_price,
                    aq: t.ask_qty,
                    t: ms,
                    time: ms,
                },
            })
            .map(|text| (text, streams[0].clone())),
            InputBody::AggTrade(t) => serde_json::to_string(&Envelope {
                stream: &streams[1],
                data: TradeMsg {
                    e: "aggTrade",
                    time: ms,
                    a: t.trade_id,
                    s: name,
                    p: t.price,
                    q: t.qty,
                    f: t.trade_id,
                    l: t.trade_id,
                    t: ms,
                    m: t.buyer_is_maker,
                },
            })
            .map(|text| (text, streams[1].clone())),
            // The generator makes only tickers and trades.
            _ => unreachable!("synthetic market emitted {:?}", e.body),
        };
        // Serializing plain structs of numbers and strings cannot fail.
        let (text, stream) = json.unwrap_or_default();
        let due_ns = self.count * self.period_ns;
        self.count += 1;
        Some(FeedItem {
            due_ns,
            kind: ItemKind::Stream(stream),
            text,
        })
    }
}

/// A capture file read line by line (gzip when the name ends in `.gz`).
pub struct CaptureFeed {
    path: PathBuf,
    lines: Box<dyn BufRead + Send>,
    line_no: u64,
    first_ns: Option<u64>,
    last_depth_symbol: Option<String>,
    default_symbol: Option<String>,
    buf: String,
}

impl CaptureFeed {
    /// Opens `path`; `default_symbol` names the symbol of a snapshot line
    /// met before any depth stream (the capture has one symbol).
    pub fn open(path: &Path, default_symbol: Option<String>) -> Result<CaptureFeed, FeedError> {
        let io = |source| FeedError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let raw: Box<dyn Read + Send> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        Ok(CaptureFeed {
            path: path.to_path_buf(),
            lines: Box::new(BufReader::with_capacity(1 << 16, raw)),
            line_no: 0,
            first_ns: None,
            last_depth_symbol: None,
            default_symbol,
            buf: String::new(),
        })
    }

    /// The next line as an item.
    pub fn next_item(&mut self) -> Result<Option<FeedItem>, FeedError> {
        loop {
            self.buf.clear();
            let n = self
                .lines
                .read_line(&mut self.buf)
                .map_err(|source| FeedError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.buf.trim_end();
            if line.is_empty() {
                continue;
            }
            let shape = || FeedError::Shape {
                path: self.path.clone(),
                line: self.line_no,
            };
            let (ts, json) = line.split_once(' ').ok_or_else(shape)?;
            let ts: u64 = ts.parse().map_err(|_| shape())?;
            let first = *self.first_ns.get_or_insert(ts);
            let due_ns = ts.saturating_sub(first);
            let kind = if let Some(stream) = stream_name(json) {
                if stream.contains("@depth") {
                    let sym = stream.split('@').next().unwrap_or_default();
                    self.last_depth_symbol = Some(sym.to_ascii_uppercase());
                }
                ItemKind::Stream(stream.to_string())
            } else if json.contains("\"lastUpdateId\"") {
                let sym = self
                    .last_depth_symbol
                    .clone()
                    .or_else(|| self.default_symbol.clone())
                    .unwrap_or_default();
                ItemKind::Snapshot(sym)
            } else {
                return Err(shape());
            };
            return Ok(Some(FeedItem {
                due_ns,
                kind,
                text: json.to_string(),
            }));
        }
    }
}

/// A combined-stream envelope, as Binance sends it.
#[derive(serde::Serialize)]
struct Envelope<'a, T> {
    stream: &'a str,
    data: T,
}

/// A `bookTicker` message (fields in Binance's order).
#[derive(serde::Serialize)]
struct TickerMsg<'a> {
    e: &'static str,
    u: u64,
    s: &'a str,
    b: Price,
    #[serde(rename = "B")]
    bq: Qty,
    a: Price,
    #[serde(rename = "A")]
    aq: Qty,
    #[serde(rename = "T")]
    t: u64,
    #[serde(rename = "E")]
    time: u64,
}

/// An `aggTrade` message (fields in Binance's order).
#[derive(serde::Serialize)]
struct TradeMsg<'a> {
    e: &'static str,
    #[serde(rename = "E")]
    time: u64,
    a: u64,
    s: &'a str,
    p: Price,
    q: Qty,
    f: u64,
    l: u64,
    #[serde(rename = "T")]
    t: u64,
    m: bool,
}
