//! `autobot generate`: the seeded synthetic market written as Binance
//! public-data CSVs (`<SYMBOL>-bookTicker-synthetic.csv` and
//! `<SYMBOL>-aggTrades-synthetic.csv`, with headers), so benchmarks, tests
//! and other engines can run on exactly the data `autobot run` trades.
//! The same seed and row count give the same bytes.

use std::fs::File;
use std::path::{Path, PathBuf};

use autobot_engine::event::InputBody;
use autobot_engine::types::Instrument;
use autobot_gateways::synthetic::{SyntheticConfig, SyntheticMarket};

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// Files written: per instrument, its book tickers then its trades.
    pub files: Vec<PathBuf>,
    /// Book-ticker rows written, over every instrument.
    pub book_tickers: u64,
    /// Trade rows written.
    pub trades: u64,
}

struct Pair {
    tickers: csv::Writer<File>,
    trades: csv::Writer<File>,
}

/// Writes `rows` book-ticker rows (over all instruments, with the trades
/// the generator makes between them) of the market `cfg` into `out`.
pub fn generate(
    cfg: &SyntheticConfig,
    instruments: &[Instrument],
    rows: u64,
    out: &Path,
) -> std::io::Result<Generated> {
    std::fs::create_dir_all(out)?;
    let mut done = Generated {
        files: Vec::new(),
        book_tickers: 0,
        trades: 0,
    };
    let mut pairs = Vec::with_capacity(instruments.len());
    for ins in instruments {
        let mut open = |kind: &str, header: &str| -> std::io::Result<csv::Writer<File>> {
            let path = out.join(format!("{}-{kind}-synthetic.csv", ins.name));
            let mut w = csv::WriterBuilder::new()
                .buffer_capacity(1 << 20)
                .from_writer(File::create(&path)?);
            w.write_record(header.split(','))?;
            done.files.push(path);
            Ok(w)
        };
        pairs.push(Pair {
            tickers: open(
                "bookTicker",
                "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time",
            )?,
            trades: open(
                "aggTrades",
                "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
            )?,
        });
    }
    let mut market = SyntheticMarket::new(cfg, instruments);
    while done.book_tickers < rows {
        let ev = market.next_event();
        let ms = ev.exchange_time.0 / 1_000_000;
        let Some(p) = pairs.get_mut(usize::from(ev.symbol.0)) else {
            continue;
        };
        match ev.body {
            InputBody::BookTicker(t) => {
                p.tickers.write_record([
                    t.update_id.to_string(),
                    t.bid_price.to_string(),
                    t.bid_qty.to_string(),
                    t.ask_price.to_string(),
                    t.ask_qty.to_string(),
                    ms.to_string(),
                    ms.to_string(),
                ])?;
                done.book_tickers += 1;
            }
            InputBody::AggTrade(t) => {
                let id = t.trade_id.to_string();
                p.trades.write_record([
                    id.as_str(),
                    &t.price.to_string(),
                    &t.qty.to_string(),
                    &id,
                    &id,
                    &ms.to_string(),
                    if t.buyer_is_maker { "true" } else { "false" },
                ])?;
                done.trades += 1;
            }
            _ => {}
        }
    }
    for p in &mut pairs {
        p.tickers.flush()?;
        p.trades.flush()?;
    }
    Ok(done)
}
