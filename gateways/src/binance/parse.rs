//! Binance USD-M market-data messages (simd-json) → input events.
//!
//! Handles the combined-stream envelope (`{"stream":…,"data":{…}}`) and a
//! bare payload, for `depthUpdate`, `bookTicker`, `trade`, `aggTrade`,
//! `kline` (closed candles; a running one is checked, then ignored),
//! `markPriceUpdate` and `forceOrder`,
//! and the REST depth snapshot (`{"lastUpdateId":…,"bids":…,"asks":…}`,
//! whose symbol the caller knows from its request). A depth message
//! becomes as many [`DepthDiff`] parts as its levels need.
//!
//! Every message either becomes events or is refused with a
//! [`ParseError`] naming what was wrong; nothing is emitted for a refused
//! message (a diff is checked whole before its first part goes out), and
//! nothing panics. Prices must be positive, quantities non-negative
//! (positive for trades).
//!
//! Book tickers and trades, most of the traffic, are read without a DOM
//! and without allocating (`flat.rs`); the other kinds build a simd-json
//! borrowed DOM per message (one allocation for its tape).

use autobot_engine::event::{
    BookTicker, DepthDiff, InputBody, InputEvent, Kline, Level, Liquidation, MarkPrice, Source,
    Trade,
};
use autobot_engine::types::{MonoNanos, Price, Qty, Rate, Side, SymbolId, UnixNanos};
use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;

/// Most levels one depth message may carry (Binance sends up to 1000 per
/// side in a snapshot).
pub const MAX_LEVELS: usize = 4096;

pub use super::wire::{ParseError, Parsed, Symbols, stream_name};

/// Reusable level buffers (allocated once).
#[derive(Debug)]
pub struct Parser {
    symbols: Symbols,
    bids: Vec<Level>,
    asks: Vec<Level>,
    /// Our symbols' marks of an all-market array, held until the whole
    /// array is known to be valid.
    marks: Vec<(SymbolId, UnixNanos, MarkPrice)>,
}

/// Seconds in a Binance kline interval (`1m`, `4h`, `1d`, `1w`, `1M` as
/// 30 days); `None` for anything else.
pub fn interval_secs(i: &str) -> Option<u32> {
    let unit = i.chars().last()?;
    let n: u32 = i[..i.len() - unit.len_utf8()].parse().ok()?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        'M' => 30 * 86_400,
        _ => return None,
    };
    n.checked_mul(per).filter(|&s| s > 0)
}

fn ms(v: u64) -> UnixNanos {
    UnixNanos(v.saturating_mul(1_000_000))
}

fn field_u64(v: &Value<'_>, key: &'static str) -> Result<u64, ParseError> {
    v.get(key)
        .and_then(|x| x.as_u64())
        .ok_or(ParseError::Field(key))
}

fn price(v: &Value<'_>, key: &'static str) -> Result<Price, ParseError> {
    let s = v
        .get(key)
        .and_then(|x| x.as_str())
        .ok_or(ParseError::Field(key))?;
    let p = Price::parse(s).map_err(|_| ParseError::Decimal(key))?;
    if p.is_positive() {
        Ok(p)
    } else {
        Err(ParseError::Range(key))
    }
}

fn qty(v: &Value<'_>, key: &'static str) -> Result<Qty, ParseError> {
    let s = v
        .get(key)
        .and_then(|x| x.as_str())
        .ok_or(ParseError::Field(key))?;
    let q = Qty::parse(s).map_err(|_| ParseError::Decimal(key))?;
    if q.is_negative() {
        Err(ParseError::Range(key))
    } else {
        Ok(q)
    }
}

impl Parser {
    /// A parser for `symbols`.
    pub fn new(symbols: Symbols) -> Parser {
        Parser {
            symbols,
            bids: Vec::with_capacity(MAX_LEVELS),
            asks: Vec::with_capacity(MAX_LEVELS),
            marks: Vec::with_capacity(64),
        }
    }

    /// Parses one message (the buffer may be rewritten in place) received
    /// at `recv`; `snapshot_symbol` is the symbol of a REST depth snapshot.
    /// Events go to `emit` only when the whole message is valid. Book
    /// tickers and trades take the DOM-free path ([`super::flat`]); the
    /// rest, and anything that path does not fully understand, the DOM.
    pub fn parse(
        &mut self,
        bytes: &mut [u8],
        recv: MonoNanos,
        snapshot_symbol: Option<SymbolId>,
        mut emit: impl FnMut(InputEvent),
    ) -> Result<Parsed, ParseError> {
        match super::flat::parse(bytes, &self.symbols, recv, &mut emit) {
            super::flat::Fast::Done(r) => r,
            super::flat::Fast::Fallback => self.parse_dom(bytes, recv, snapshot_symbol, emit),
        }
    }

    /// [`Parser::parse`] through simd-json's DOM only (every message kind;
    /// one tape allocation per message). Public so tests and benchmarks
    /// can hold the fast path to it.
    pub fn parse_dom(
        &mut self,
        bytes: &mut [u8],
        recv: MonoNanos,
        snapshot_symbol: Option<SymbolId>,
        mut emit: impl FnMut(InputEvent),
    ) -> Result<Parsed, ParseError> {
        let root = simd_json::to_borrowed_value(bytes).map_err(|_| ParseError::Json)?;
        if !root.is_object() {
            return Err(ParseError::Json);
        }
        if root.get("lastUpdateId").is_some() {
            let sym = snapshot_symbol.ok_or(ParseError::UnknownSymbol)?;
            let id = field_u64(&root, "lastUpdateId")?;
            let time = root.get("E").and_then(|x| x.as_u64()).unwrap_or(0);
            self.levels(&root, "bids", "asks")?;
            let mut n = 0;
            DepthDiff::split((0, id, 0), &self.bids, &self.asks, true, |d| {
                n += 1;
                emit(InputEvent::new(
                    Source::MarketData,
                    sym,
                    recv,
                    ms(time),
                    InputBody::Depth(d),
                ));
            });
            return Ok(Parsed::Snapshot(n));
        }
        let data = root.get("data").unwrap_or(&root);
        if let Some(all) = data.as_array() {
            return self.mark_array(all, recv, emit);
        }
        let kind = data
            .get("e")
            .and_then(|x| x.as_str())
            .ok_or(ParseError::Field("e"))?;
        // A liquidation names its symbol inside its order object.
        let name = data
            .get("s")
            .or_else(|| data.get("o").and_then(|o| o.get("s")))
            .and_then(|x| x.as_str())
            .ok_or(ParseError::Field("s"))?;
        let sym = self.symbols.id(name).ok_or(ParseError::UnknownSymbol)?;
        let time = ms(field_u64(data, "E")?);
        let event = |body| InputEvent::new(Source::MarketData, sym, recv, time, body);
        match kind {
            "depthUpdate" => {
                let ids = (
                    field_u64(data, "U")?,
                    field_u64(data, "u")?,
                    field_u64(data, "pu")?,
                );
                self.levels(data, "b", "a")?;
                let mut n = 0;
                DepthDiff::split(ids, &self.bids, &self.asks, false, |d| {
                    n += 1;
                    emit(event(InputBody::Depth(d)));
                });
                Ok(Parsed::Depth(n))
            }
            "bookTicker" => {
                let t = BookTicker {
                    update_id: field_u64(data, "u")?,
                    bid_price: price(data, "b")?,
                    bid_qty: qty(data, "B")?,
                    ask_price: price(data, "a")?,
                    ask_qty: qty(data, "A")?,
                };
                emit(event(InputBody::BookTicker(t)));
                Ok(Parsed::BookTicker)
            }
            "trade" | "aggTrade" => {
                if let Some(x) = data.get("X").and_then(|x| x.as_str())
                    && x != "MARKET"
                {
                    return Ok(Parsed::Ignored);
                }
                let id_key = if kind == "trade" { "t" } else { "a" };
                let t = Trade {
                    trade_id: field_u64(data, id_key)?,
                    price: price(data, "p")?,
                    qty: qty(data, "q")?,
                    buyer_is_maker: data
                        .get("m")
                        .and_then(|x| x.as_bool())
                        .ok_or(ParseError::Field("m"))?,
                };
                if !t.qty.is_positive() {
                    return Err(ParseError::Range("q"));
                }
                emit(event(InputBody::AggTrade(t)));
                Ok(Parsed::Trade)
            }
            "kline" => {
                let k = data.get("k").ok_or(ParseError::Field("k"))?;
                let closed = k
                    .get("x")
                    .and_then(|x| x.as_bool())
                    .ok_or(ParseError::Field("x"))?;
                let interval_secs = k
                    .get("i")
                    .and_then(|x| x.as_str())
                    .and_then(interval_secs)
                    .ok_or(ParseError::Field("i"))?;
                let kline = Kline {
                    open_time: ms(field_u64(k, "t")?),
                    interval_secs,
                    trades: u32::try_from(field_u64(k, "n")?).unwrap_or(u32::MAX),
                    open: price(k, "o")?,
                    high: price(k, "h")?,
                    low: price(k, "l")?,
                    close: price(k, "c")?,
                    volume: qty(k, "v")?,
                };
                autobot_engine::features::candles::check(&kline)
                    .map_err(|_| ParseError::Range("k"))?;
                // Only a closed candle is a fact; the running one is
                // checked (above) and then left out.
                if !closed {
                    return Ok(Parsed::Ignored);
                }
                emit(event(InputBody::Kline(kline)));
                Ok(Parsed::Kline)
            }
            "markPriceUpdate" => {
                emit(event(InputBody::MarkPrice(mark_price(data)?)));
                Ok(Parsed::MarkPrice)
            }
            "forceOrder" => {
                let o = data.get("o").ok_or(ParseError::Field("o"))?;
                let side = match o.get("S").and_then(|x| x.as_str()) {
                    Some("BUY") => Side::Buy,
                    Some("SELL") => Side::Sell,
                    _ => return Err(ParseError::Field("S")),
                };
                let l = Liquidation {
                    side,
                    price: price(o, "p")?,
                    avg_price: price(o, "ap")?,
                    filled_qty: qty(o, "z")?,
                };
                emit(event(InputBody::Liquidation(l)));
                Ok(Parsed::Liquidation)
            }
            _ => Err(ParseError::UnknownEvent),
        }
    }

    /// An all-market mark-price array: every element checked, our
    /// symbols' marks emitted (in array order), the others skipped.
    fn mark_array(
        &mut self,
        all: &[Value<'_>],
        recv: MonoNanos,
        mut emit: impl FnMut(InputEvent),
    ) -> Result<Parsed, ParseError> {
        self.marks.clear();
        for data in all {
            if data.get("e").and_then(|x| x.as_str()) != Some("markPriceUpdate") {
                return Err(ParseError::UnknownEvent);
            }
            let name = data
                .get("s")
                .and_then(|x| x.as_str())
                .ok_or(ParseError::Field("s"))?;
            let time = ms(field_u64(data, "E")?);
            let m = mark_price(data)?;
            if let Some(sym) = self.symbols.id(name) {
                self.marks.push((sym, time, m));
            }
        }
        for &(sym, time, m) in &self.marks {
            emit(InputEvent::new(
                Source::MarketData,
                sym,
                recv,
                time,
                InputBody::MarkPrice(m),
            ));
        }
        Ok(Parsed::MarkPrices(self.marks.len()))
    }

    /// Reads `[["price","qty"],…]` arrays into the level buffers.
    fn levels(
        &mut self,
        v: &Value<'_>,
        bids: &'static str,
        asks: &'static str,
    ) -> Result<(), ParseError> {
        for (key, out) in [(bids, &mut self.bids), (asks, &mut self.asks)] {
            out.clear();
            let list = v
                .get(key)
                .and_then(|x| x.as_array())
                .ok_or(ParseError::Field(key))?;
            if list.len() > MAX_LEVELS {
                return Err(ParseError::TooManyLevels);
            }
            for pair in list {
                let pair = pair
                    .as_array()
                    .filter(|p| p.len() >= 2)
                    .ok_or(ParseError::Field(key))?;
                let p = pair[0].as_str().ok_or(ParseError::Field(key))?;
                let q = pair[1].as_str().ok_or(ParseError::Field(key))?;
                let level = Level {
                    price: Price::parse(p).map_err(|_| ParseError::Decimal(key))?,
                    qty: Qty::parse(q).map_err(|_| ParseError::Decimal(key))?,
                };
                if !level.price.is_positive() || level.qty.is_negative() {
                    return Err(ParseError::Range(key));
                }
                out.push(level);
            }
        }
        Ok(())
    }
}

/// Splits a capture line `<receive ns> <json>` (the format of
/// `shared/data/ticks/`); `None` when it has no such shape.
pub fn capture_line(line: &mut [u8]) -> Option<(u64, &mut [u8])> {
    let space = line.iter().position(|&b| b == b' ')?;
    let (ts, rest) = line.split_at_mut(space);
    let ts = std::str::from_utf8(ts).ok()?.parse().ok()?;
    Some((ts, &mut rest[1..]))
}

/// A `markPriceUpdate` object's mark, index, funding rate and time.
fn mark_price(data: &Value<'_>) -> Result<MarkPrice, ParseError> {
    Ok(MarkPrice {
        mark_price: price(data, "p")?,
        index_price: price(data, "i")?,
        funding_rate: data
            .get("r")
            .and_then(|x| x.as_str())
            .ok_or(ParseError::Field("r"))
            .and_then(|s| Rate::parse(s).map_err(|_| ParseError::Decimal("r")))?,
        next_funding: ms(field_u64(data, "T")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<Parsed, ParseError>, Vec<InputEvent>) {
        let mut p = Parser::new(Symbols::new(&["BTCUSDT"]));
        let mut bytes = text.as_bytes().to_vec();
        let mut out = Vec::new();
        let r = p.parse(&mut bytes, MonoNanos(1), Some(SymbolId(0)), |e| out.push(e));
        (r, out)
    }

    #[test]
    fn a_book_ticker_and_a_diff_become_events() {
        let (r, out) = parse(
            r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":7,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1,"E":2}}"#,
        );
        assert_eq!(r, Ok(Parsed::BookTicker));
        let InputBody::BookTicker(t) = out[0].body else {
            panic!()
        };
        assert_eq!(t.bid_price, Price::parse("61800.2").unwrap());
        assert_eq!(out[0].header.exchange, UnixNanos(2_000_000));
        let (r, out) = parse(
            r#"{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[["1","2"],["2","0"]],"a":[["3","1"],["4","1"]]}"#,
        );
        assert_eq!(r, Ok(Parsed::Depth(2)));
        let InputBody::Depth(d) = out[1].body else {
            panic!()
        };
        assert_eq!((d.bids().len(), d.asks().len()), (0, 1));
        assert!(d.has(DepthDiff::LAST_PART));
    }

    /// `!markPrice@arr` sends every symbol's mark in one array: ours become
    /// events, the others are skipped, and one bad element refuses the
    /// whole message.
    #[test]
    fn an_all_market_mark_price_array_yields_our_symbols() {
        let mark = |s: &str, p: &str| {
            format!(
                r#"{{"e":"markPriceUpdate","E":1562305380000,"s":"{s}","p":"{p}","i":"11784.62659091","P":"11784.25641265","r":"0.00030000","T":1562306400000}}"#
            )
        };
        let msg = format!(
            r#"{{"stream":"!markPrice@arr@1s","data":[{},{},{}]}}"#,
            mark("XRPUSDT", "0.5"),
            mark("BTCUSDT", "11185.87786614"),
            mark("DOGEUSDT", "0.1")
        );
        let (r, out) = parse(&msg);
        assert_eq!(r, Ok(Parsed::MarkPrices(1)));
        assert_eq!(out.len(), 1);
        let InputBody::MarkPrice(m) = out[0].body else {
            panic!("{out:?}")
        };
        assert_eq!(out[0].header.symbol, SymbolId(0));
        assert_eq!(m.mark_price, Price::parse("11185.87786614").unwrap());
        assert_eq!(out[0].header.exchange, UnixNanos(1_562_305_380_000_000_000));
        // Nothing of ours: nothing, and no error.
        let none = format!(
            r#"{{"stream":"!markPrice@arr","data":[{}]}}"#,
            mark("XRPUSDT", "1")
        );
        assert_eq!(parse(&none), (Ok(Parsed::MarkPrices(0)), Vec::new()));
        // One bad element, ours or not: the whole message is refused.
        let bad = msg.replace("\"p\":\"0.1\"", "\"p\":\"x\"");
        let (r, out) = parse(&bad);
        assert_eq!(r, Err(ParseError::Decimal("p")));
        assert!(out.is_empty());
        let other = format!(r#"{{"data":[{}]}}"#, r#"{"e":"trade","E":1,"s":"BTCUSDT"}"#);
        assert_eq!(parse(&other).0, Err(ParseError::UnknownEvent));
    }

    #[test]
    fn bad_messages_are_refused_with_a_reason_and_emit_nothing() {
        for (text, want) in [
            ("not json", ParseError::Json),
            ("[1,2]", ParseError::Json),
            (
                r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"-1","q":"243.0","m":false}"#,
                ParseError::Range("p"),
            ),
            (
                r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"NaN","q":"1","m":false}"#,
                ParseError::Decimal("p"),
            ),
            (
                r#"{"e":"trade","E":1,"s":"ETHUSDT","t":1,"p":"1","q":"1","m":false}"#,
                ParseError::UnknownSymbol,
            ),
            (
                r#"{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[["1","2"],["-2","1"]],"a":[]}"#,
                ParseError::Range("b"),
            ),
            (
                r#"{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":10,"pu":9,"b":[],"a":[]}"#,
                ParseError::Field("u"),
            ),
            (
                r#"{"e":"kline","E":5,"s":"BTCUSDT"}"#,
                ParseError::Field("k"),
            ),
            (
                r#"{"e":"kline","E":5,"s":"BTCUSDT","k":{"t":1,"i":"1m","n":1,"o":"2","h":"1","l":"3","c":"2","v":"1","x":true}}"#,
                ParseError::Range("k"),
            ),
            (
                r#"{"e":"kline","E":5,"s":"BTCUSDT","k":{"t":1,"i":"7q","n":1,"o":"2","h":"3","l":"1","c":"2","v":"1","x":true}}"#,
                ParseError::Field("i"),
            ),
            (
                r#"{"e":"forceOrder","E":5,"o":{"s":"BTCUSDT","S":"UP","p":"1","ap":"1","z":"1"}}"#,
                ParseError::Field("S"),
            ),
            (
                r#"{"e":"24hrTicker","E":5,"s":"BTCUSDT"}"#,
                ParseError::UnknownEvent,
            ),
        ] {
            let (r, out) = parse(text);
            assert_eq!(r, Err(want), "{text}");
            assert!(out.is_empty(), "{text}");
        }
    }
}
