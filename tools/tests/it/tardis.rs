//! Tardis.dev's normalized CSVs (gzipped, named as Tardis names them):
//! trades and quotes become trades and book tickers at their exchange time,
//! an incremental_book_L2 file becomes depth snapshots and diffs whose ids
//! the core's Binance sync procedure chains without a resync, and the
//! three backtest together.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use autobot_engine::depth::{DepthBook, Outcome};
use autobot_engine::event::{DepthDiff, InputBody, InputEvent};
use autobot_test_support::Scratch;
use autobot_tools::backtest::{Merged, SymbolFiles};

use crate::common::{autobot, text};

fn gz(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut z = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::fast(),
    );
    z.write_all(text.as_bytes()).unwrap();
    z.finish().unwrap();
    p
}

const T0: u64 = 1_704_067_200_000_000; // 2024-01-01, µs

/// A book around 42,000 that drifts; a snapshot, then one diff per
/// message; quotes and trades inside it; `n` messages.
fn files(dir: &Path, n: u64) -> Vec<PathBuf> {
    let mut l2 =
        String::from("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n");
    for k in 0..5u64 {
        let (bid, ask) = (42_000 - k, 42_001 + k);
        l2.push_str(&format!(
            "binance-futures,BTCUSDT,{T0},{},true,bid,{bid}.0,{}.5\n",
            T0 + 900,
            k + 1
        ));
        l2.push_str(&format!(
            "binance-futures,BTCUSDT,{T0},{},true,ask,{ask}.0,{}.5\n",
            T0 + 900,
            k + 1
        ));
    }
    let mut quotes = String::from(
        "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n",
    );
    let mut trades =
        String::from("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n");
    for i in 1..=n {
        let t = T0 + i * 100_000;
        // Each message changes the best bid's size and one deeper level;
        // every tenth removes a level and puts it back in the next.
        let size = 1 + i % 7;
        let (p, a) = if i % 10 == 0 {
            (41_998, 0)
        } else {
            (41_998, 3)
        };
        l2.push_str(&format!(
            "binance-futures,BTCUSDT,{t},{},false,bid,42000.0,{size}.25\n",
            t + 800
        ));
        l2.push_str(&format!(
            "binance-futures,BTCUSDT,{t},{},false,bid,{p}.0,{a}\n",
            t + 800
        ));
        l2.push_str(&format!(
            "binance-futures,BTCUSDT,{t},{},false,ask,42002.0,{size}\n",
            t + 800
        ));
        // A quote whose exchange time is 3 ms behind the one before (the
        // file is in local_timestamp order): held.
        let qt = if i == 5 { t - 103_000 } else { t + 10 };
        quotes.push_str(&format!(
            "binance-futures,BTCUSDT,{qt},{},{size}.5,42001.0,42000.0,{size}.25\n",
            t + 900
        ));
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        trades.push_str(&format!(
            "binance-futures,BTCUSDT,{},{},{},{side},4200{}.0,0.01{}\n",
            t + 20,
            t + 950,
            1000 + i,
            i % 2,
            i % 9
        ));
    }
    vec![
        gz(
            dir,
            "binance-futures_incremental_book_L2_2024-01-01_BTCUSDT.csv.gz",
            &l2,
        ),
        gz(
            dir,
            "binance-futures_quotes_2024-01-01_BTCUSDT.csv.gz",
            &quotes,
        ),
        gz(
            dir,
            "binance-futures_trades_2024-01-01_BTCUSDT.csv.gz",
            &trades,
        ),
    ]
}

fn events(files: &[PathBuf]) -> (Vec<InputEvent>, Merged) {
    let mut m = Merged::open(&SymbolFiles {
        files: files.to_vec(),
        symbols: vec!["BTCUSDT".into()],
    })
    .unwrap();
    let mut out = Vec::new();
    while let Some(e) = m.next_event().unwrap() {
        out.push(e);
    }
    (out, m)
}

#[test]
fn tardis_files_become_trades_tickers_and_a_book_the_sync_keeps() {
    let d = Scratch::new("tardis");
    let files = files(d.path(), 200);
    let (all, merged) = events(&files);
    let names: Vec<&str> = merged.sources().iter().map(|s| s.format_name()).collect();
    assert_eq!(
        names,
        [
            "tardis incremental_book_L2",
            "tardis quotes",
            "tardis trades"
        ]
    );
    assert_eq!(merged.sources()[1].held(), 1);
    // Depth: the snapshot (10 levels in 4 parts), then every diff chains.
    let mut book = DepthBook::new();
    let mut diffs = 0;
    let (mut trades, mut tickers, mut sells) = (0, 0, 0);
    for e in &all {
        match &e.body {
            InputBody::Depth(p) => {
                let o = book.on_part(p);
                assert!(
                    !matches!(o, Outcome::Resync(_) | Outcome::Stale),
                    "{o:?} at {p:?}"
                );
                if !p.has(DepthDiff::SNAPSHOT) && p.has(DepthDiff::LAST_PART) {
                    diffs += 1;
                }
            }
            InputBody::AggTrade(t) => {
                trades += 1;
                sells += u32::from(t.buyer_is_maker);
            }
            InputBody::BookTicker(_) => tickers += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((diffs, trades, tickers, sells), (200, 200, 200, 100));
    assert!(book.is_synced());
    // The last message set the best bid to 42000 x (1 + 200 % 7).25.
    let ((bid, bid_qty), (ask, _)) = book.top().unwrap();
    assert_eq!(
        (bid.to_string(), bid_qty.to_string(), ask.to_string()),
        ("42000".into(), "5.25".into(), "42001".into())
    );
    // Times never run backwards in the merged stream.
    assert!(
        all.windows(2)
            .all(|w| w[0].header.exchange <= w[1].header.exchange)
    );
}

#[test]
fn tardis_files_import_and_backtest_and_a_bad_row_is_named() {
    let d = Scratch::new("tardis-run");
    let files = files(d.path(), 3000);
    let o = autobot()
        .args(["backtest", "--out"])
        .arg(d.join("bt"))
        .args(&files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("BTCUSDT"), "{}", text(&o));
    let o = autobot()
        .args(["import", "--out"])
        .arg(d.join("imported"))
        .args(&files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("3000 rows (tardis trades)"),
        "{}",
        text(&o)
    );

    let bad = gz(
        d.path(),
        "binance-futures_trades_2024-01-02_BTCUSDT.csv.gz",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n\
         binance-futures,BTCUSDT,1704153600000000,1704153600000100,1,buy,42000.0,0.1\n\
         binance-futures,BTCUSDT,1704153600000200,1704153600000300,2,sideways,42000.0,0.1\n",
    );
    let o = autobot()
        .args(["import", "--out"])
        .arg(d.join("bad"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(":3: side \"sideways\" is not buy, sell or unknown"),
        "{}",
        text(&o)
    );
}
