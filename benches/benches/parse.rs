//! Market-data parsing throughput on real messages, one core: the gateway's
//! parser (`Parser::parse`: book tickers and trades by the DOM-free path,
//! depth through simd-json's borrowed DOM, fixed-size events, reused level
//! buffers), the same parser forced through the DOM for every kind
//! (`Parser::parse_dom`), and serde_json deserialising the same messages
//! into typed structs and then into the same events, in the same process.
//!
//! Messages: the first 20 000 book tickers, 20 000 trades and all 6 551
//! diff-depth messages of `../shared/data/ticks/btcusdt_20240808.gz`, each
//! in its combined-stream envelope, as the socket delivers them. Both paths
//! copy each message into a reused buffer first (simd-json parses in
//! place; the copy is what the gateway does too). Medians of 11 rounds.
//!
//! Target (issue 6): >= 5 M book tickers/s per core.

use std::hint::black_box;
use std::io::{BufRead as _, BufReader};
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::event::{BookTicker, InputBody, InputEvent, Source, Trade};
use autobot_engine::types::{MonoNanos, Price, Qty, SymbolId, UnixNanos};
use autobot_gateways::binance::parse::{Parser, Symbols, capture_line};
use serde::Deserialize;

fn messages() -> [Vec<Vec<u8>>; 3] {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ticks/btcusdt_20240808.gz"
    );
    let file = std::fs::File::open(path).expect("../shared/data/ticks/btcusdt_20240808.gz");
    let mut out: [Vec<Vec<u8>>; 3] = Default::default();
    for line in BufReader::new(flate2::read::GzDecoder::new(file)).lines() {
        let mut line = line.expect("gzip text").into_bytes();
        let Some((_, json)) = capture_line(&mut line) else {
            continue;
        };
        let text = String::from_utf8_lossy(json);
        let k = if text.contains("@bookTicker") {
            0
        } else if text.contains("@trade") {
            1
        } else if text.contains("@depth") {
            2
        } else {
            continue;
        };
        if k == 2 || out[k].len() < 20_000 {
            out[k].push(json.to_vec());
        }
    }
    out
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
#[serde(tag = "e")]
enum Data<'a> {
    #[serde(rename = "bookTicker")]
    BookTicker {
        u: u64,
        #[serde(rename = "E")]
        time: u64,
        b: &'a str,
        #[serde(rename = "B")]
        bq: &'a str,
        a: &'a str,
        #[serde(rename = "A")]
        aq: &'a str,
    },
    #[serde(rename = "trade")]
    Trade {
        t: u64,
        #[serde(rename = "E")]
        time: u64,
        p: &'a str,
        q: &'a str,
        m: bool,
    },
    #[serde(rename = "depthUpdate")]
    Depth {
        #[serde(rename = "E")]
        time: u64,
        #[serde(rename = "U")]
        first: u64,
        u: u64,
        pu: u64,
        #[serde(borrow)]
        b: Vec<[&'a str; 2]>,
        #[serde(borrow)]
        a: Vec<[&'a str; 2]>,
    },
}

fn ev(body: InputBody, time: u64) -> InputEvent {
    InputEvent::new(
        Source::MarketData,
        SymbolId(0),
        MonoNanos(1),
        UnixNanos(time * 1_000_000),
        body,
    )
}

/// serde_json into typed structs, then the same events (depth levels
/// parsed to decimals; the event split is the same code for both paths,
/// so it is left out of both: the simd path's parts are counted, not kept).
fn serde_parse(buf: &[u8]) -> usize {
    let Ok(env) = serde_json::from_slice::<Envelope<'_>>(buf) else {
        return 0;
    };
    match env.data {
        Data::BookTicker {
            u,
            time,
            b,
            bq,
            a,
            aq,
        } => {
            let (Ok(bid_price), Ok(bid_qty), Ok(ask_price), Ok(ask_qty)) = (
                Price::parse(b),
                Qty::parse(bq),
                Price::parse(a),
                Qty::parse(aq),
            ) else {
                return 0;
            };
            black_box(ev(
                InputBody::BookTicker(BookTicker {
                    update_id: u,
                    bid_price,
                    bid_qty,
                    ask_price,
                    ask_qty,
                }),
                time,
            ));
            1
        }
        Data::Trade { t, time, p, q, m } => {
            let (Ok(price), Ok(qty)) = (Price::parse(p), Qty::parse(q)) else {
                return 0;
            };
            black_box(ev(
                InputBody::AggTrade(Trade {
                    trade_id: t,
                    price,
                    qty,
                    buyer_is_maker: m,
                }),
                time,
            ));
            1
        }
        Data::Depth {
            time,
            first,
            u,
            pu,
            b,
            a,
        } => {
            let mut n = 0;
            for [p, q] in b.iter().chain(&a) {
                if let (Ok(p), Ok(q)) = (Price::parse(p), Qty::parse(q)) {
                    black_box((p, q));
                    n += 1;
                }
            }
            black_box((time, first, u, pu));
            n.min(1)
        }
    }
}

/// Messages per second (millions) parsed by `parse`, each copied into the
/// reused buffer first as the gateway does; every one must parse.
fn rate<T, E>(
    msgs: &[Vec<u8>],
    buf: &mut Vec<u8>,
    mut parse: impl FnMut(&mut [u8]) -> Result<T, E>,
) -> f64 {
    let t = Instant::now();
    let mut n = 0usize;
    for m in msgs {
        buf.clear();
        buf.extend_from_slice(m);
        if parse(buf).is_ok() {
            n += 1;
        }
    }
    let r = n as f64 / t.elapsed().as_secs_f64() / 1e6;
    assert_eq!(n, msgs.len(), "every message parses");
    r
}

fn main() {
    let placement = pin(1);
    let all = messages();
    let names = ["book ticker", "trade", "depth diff"];
    let rounds = 11;
    println!("parse: real BTCUSDT messages, one core ({placement}); medians of {rounds} rounds");
    println!(
        "  {:<12} {:>8}  {:>12}  {:>14}  {:>14}  {:>13}",
        "message", "count", "gateway M/s", "simd DOM M/s", "serde_json M/s", "vs serde_json"
    );
    let mut parser = Parser::new(Symbols::new(&["BTCUSDT"]));
    let mut buf = Vec::with_capacity(1 << 20);
    for (k, msgs) in all.iter().enumerate() {
        let (mut simd, mut dom, mut serde) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            simd.push(rate(msgs, &mut buf, |b| {
                parser.parse(b, MonoNanos(1), None, |e| {
                    black_box(e);
                })
            }));
            dom.push(rate(msgs, &mut buf, |b| {
                parser.parse_dom(b, MonoNanos(1), None, |e| {
                    black_box(e);
                })
            }));
            serde.push(rate(msgs, &mut buf, |b| match serde_parse(b) {
                1 => Ok(()),
                _ => Err(()),
            }));
        }
        let (s, d, j) = (median(&mut simd), median(&mut dom), median(&mut serde));
        println!(
            "  {:<12} {:>8}  {:>12.2}  {:>14.2}  {:>14.2}  {:>12.2}x",
            names[k],
            msgs.len(),
            s,
            d,
            j,
            s / j
        );
    }
}
