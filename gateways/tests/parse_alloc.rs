//! The market parser's hot path allocates nothing: a counting global
//! allocator watches `Parser::parse` over real book tickers and trades
//! (the DOM-free path), and checks that the DOM path, by contrast, does
//! allocate, so the counter is known to see the parser's allocations.

use std::io::BufRead as _;

use autobot_engine::types::MonoNanos;
use autobot_gateways::binance::parse::{Parsed, Parser, Symbols};

#[global_allocator]
static GLOBAL: autobot_test_support::Counting = autobot_test_support::Counting;

use autobot_test_support::allocations as allocs;

#[test]
fn book_tickers_and_trades_parse_without_allocating() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ticks/btcusdt_20240808.gz"
    );
    let file = std::fs::File::open(path).unwrap();
    let msgs: Vec<Vec<u8>> = std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.split_once(' ').map(|(_, j)| j.as_bytes().to_vec()))
        .filter(|j| {
            let t = String::from_utf8_lossy(j);
            t.contains("@bookTicker") || t.contains("@trade")
        })
        .take(20_000)
        .collect();
    assert_eq!(msgs.len(), 20_000);
    let mut parser = Parser::new(Symbols::new(&["BTCUSDT"]));
    // The gateway's reused receive buffer.
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut events = 0u64;
    let mut kinds = [0u64; 2];

    let before = allocs();
    for m in &msgs {
        buf.clear();
        buf.extend_from_slice(m);
        let r = parser.parse(&mut buf, MonoNanos(1), None, |_| events += 1);
        match r {
            Ok(Parsed::BookTicker) => kinds[0] += 1,
            Ok(Parsed::Trade) => kinds[1] += 1,
            other => panic!("{other:?}: {}", String::from_utf8_lossy(m)),
        }
    }
    let fast = allocs() - before;
    assert_eq!(fast, 0, "allocations while parsing {} messages", msgs.len());
    assert!(kinds[0] > 0 && kinds[1] > 0, "{kinds:?}");
    assert_eq!(events, msgs.len() as u64);

    // The DOM path allocates (its tape), so the counter does see the parser.
    let before = allocs();
    for m in msgs.iter().take(100) {
        buf.clear();
        buf.extend_from_slice(m);
        parser
            .parse_dom(&mut buf, MonoNanos(1), None, |_| ())
            .unwrap();
    }
    assert!(
        allocs() - before >= 100,
        "the DOM path was expected to allocate"
    );
}
