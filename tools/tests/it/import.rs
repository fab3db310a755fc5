//! `autobot generate` and `autobot import` on real files: the seeded
//! synthetic market as Binance CSVs, the real bar file, header-less klines
//! in a zip, and every kind of bad input refused with its file and line.

use autobot_test_support::Scratch;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use autobot_engine::event::InputBody;
use autobot_engine::runtime::read_journal;
use autobot_tools::backtest::generate::generate;
use autobot_tools::backtest::import::import;
use autobot_tools::backtest::{Format, InputError, Merged, SymbolFiles};
use autobot_tools::config::AppConfig;

fn shipped() -> AppConfig {
    AppConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml")).unwrap()
}

fn temp(name: &str) -> Scratch {
    Scratch::new(&format!("import-{name}"))
}

fn symbols() -> Vec<String> {
    vec!["BTCUSDT".into(), "ETHUSDT".into()]
}

fn open(files: &[PathBuf]) -> Result<Merged, InputError> {
    Merged::open(&SymbolFiles {
        files: files.to_vec(),
        symbols: symbols(),
    })
}

/// Every event of `files`, merged.
fn events(files: &[PathBuf]) -> Result<Vec<autobot_engine::event::InputEvent>, InputError> {
    let mut m = open(files)?;
    let mut out = Vec::new();
    while let Some(e) = m.next_event()? {
        out.push(e);
    }
    Ok(out)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_generated_market_imports_in_time_order_and_the_same_seed_gives_the_same_bytes() {
    let cfg = shipped();
    let ins = cfg.core().instruments;
    let (a, b) = (temp("gen-a"), temp("gen-b"));
    let done = generate(&cfg.market, &ins, 20_000, &a).unwrap();
    assert_eq!(done.book_tickers, 20_000);
    assert!(done.trades > 0);
    generate(&cfg.market, &ins, 20_000, &b).unwrap();
    for f in &done.files {
        let name = f.file_name().unwrap();
        assert_eq!(
            std::fs::read(f).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
            "{name:?}"
        );
    }

    let out = a.join("imported");
    let input = SymbolFiles {
        files: done.files.clone(),
        symbols: symbols(),
    };
    let report = import(&input, &cfg.journal, &out).unwrap();
    let total = done.book_tickers + done.trades;
    assert_eq!(report.manifest.events, total);
    let formats: Vec<&str> = report
        .manifest
        .files
        .iter()
        .map(|f| f.format.as_str())
        .collect();
    assert_eq!(
        formats,
        ["bookTicker", "aggTrades", "bookTicker", "aggTrades"]
    );
    let journal = read_journal(&out.join("journal")).unwrap().events;
    assert_eq!(journal.len() as u64, total);
    assert!(
        journal
            .windows(2)
            .all(|w| w[0].header.exchange <= w[1].header.exchange)
    );
    let tickers = journal
        .iter()
        .filter(|e| matches!(e.body, InputBody::BookTicker(_)))
        .count();
    assert_eq!(tickers as u64, done.book_tickers);
    // The journal's events are the files' rows, in the merged order.
    assert_eq!(
        journal,
        events(&done.files)
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut e = *e;
                e.header.seq = journal[i].header.seq;
                e
            })
            .collect::<Vec<_>>()
    );
    // A second import into the same place is refused, not appended.
    let again = import(&input, &cfg.journal, &out).unwrap_err().to_string();
    assert!(again.contains("already holds a journal"), "{again}");
}

#[test]
fn the_real_bar_file_reads_whole_across_its_gaps() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/klines/BTCUSDT_perp_1m.csv");
    let m = open(std::slice::from_ref(&path)).unwrap();
    assert_eq!(m.sources()[0].format_name(), Format::Bars.name());
    let all = events(&[path]).unwrap();
    assert_eq!(all.len(), 127_056);
    let InputBody::Kline(k) = all[0].body else {
        panic!("{:?}", all[0])
    };
    assert_eq!(k.interval_secs, 60);
    assert_eq!(k.open.to_string(), "29996.9");
    // Known when it closes: open 1689678780000 ms + 60 s - 1 ms.
    assert_eq!(all[0].header.exchange.0, 1_689_678_839_999_000_000);
}

#[test]
fn the_real_bar_file_lists_its_two_gaps_on_import() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/klines/BTCUSDT_perp_1m.csv");
    let out = temp("gaps");
    let input = SymbolFiles {
        files: vec![path],
        symbols: symbols(),
    };
    let report = import(&input, &shipped().journal, out.path()).unwrap();
    let gaps = &report.manifest.files[0].gaps;
    // segments.json: 2023-07-18 11:13 → 2023-08-17 11:11, 2025-05-04 15:33
    // → 2025-06-24 10:31, 2025-07-06 00:00 → 2025-07-13 10:37.
    let text: Vec<String> = gaps.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "gap after the bar of 2023-08-17T11:11:00.000Z to the bar of 2025-05-04T15:33:00.000Z (901701 bars missing)",
            "gap after the bar of 2025-06-24T10:31:00.000Z to the bar of 2025-07-06T00:00:00.000Z (16648 bars missing)",
        ]
    );
    // import.toml keeps them.
    let kept = std::fs::read_to_string(out.join("import.toml")).unwrap();
    let m: autobot_tools::backtest::import::Manifest = toml::from_str(&kept).unwrap();
    assert_eq!(&m.files[0].gaps, gaps);
}

#[test]
fn a_book_ticker_file_with_event_time_out_of_order_imports_in_update_id_order() {
    let dir = temp("event-time");
    let header = "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n";
    // As real files have it: event_time a few ms after transaction_time,
    // and the third row's earlier than the second's.
    let rows = "100,42000.0,1.5,42000.1,2.0,1704067200000,1704067200004\n\
                101,42000.1,1.0,42000.2,2.5,1704067200001,1704067200012\n\
                102,42000.2,0.5,42000.3,1.0,1704067200002,1704067200009\n\
                103,42000.3,0.7,42000.4,1.1,1704067200010,1704067200013\n";
    let f = write(
        &dir,
        "BTCUSDT-bookTicker-2024-01-01.csv",
        &format!("{header}{rows}"),
    );
    let all = events(std::slice::from_ref(&f)).unwrap();
    let seen: Vec<(u64, u64)> = all
        .iter()
        .map(|e| {
            let InputBody::BookTicker(t) = e.body else {
                panic!("{e:?}")
            };
            (t.update_id, e.header.exchange.0 / 1_000_000)
        })
        .collect();
    // File (update_id) order; the early row held at the row before's time.
    assert_eq!(
        seen,
        [
            (100, 1_704_067_200_004),
            (101, 1_704_067_200_012),
            (102, 1_704_067_200_012),
            (103, 1_704_067_200_013),
        ]
    );
    let out = temp("event-time-out");
    let input = SymbolFiles {
        files: vec![f],
        symbols: symbols(),
    };
    let report = import(&input, &shipped().journal, out.path()).unwrap();
    assert_eq!(report.manifest.files[0].held, 1);
    // An update_id that runs backwards is still refused, by line.
    let back = write(
        &dir,
        "BTCUSDT-bookTicker-back.csv",
        &format!("{header}100,1,1,2,1,1000,1004\n99,1,1,2,1,1001,1005\n"),
    );
    let e = events(&[back]).unwrap_err().to_string();
    assert!(
        e.contains(":3: update_id 99 is lower than the row before (100)"),
        "{e}"
    );
}

#[test]
fn headerless_klines_in_a_zip_and_a_gzip_read_like_plain_files() {
    let dir = temp("zip");
    let rows = "1704067200000,42000.1,42010,41990.5,42005,12.5,1704067259999,525000,300,6,252000,0\n\
                1704067260000,42005,42020,42000,42015.2,8.25,1704067319999,346000,210,4,168000,0\n";
    let plain = write(&dir, "BTCUSDT-1m-2024-01-01.csv", rows);
    let zipped = dir.join("BTCUSDT-1m-2024-01-01.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
    z.start_file(
        "BTCUSDT-1m-2024-01-01.csv",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    z.write_all(rows.as_bytes()).unwrap();
    z.finish().unwrap();
    let gz = dir.join("BTCUSDT-1m-2024-01-01.csv.gz");
    let mut g = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    g.write_all(rows.as_bytes()).unwrap();
    g.finish().unwrap();
    let want = events(&[plain]).unwrap();
    assert_eq!(want.len(), 2);
    let InputBody::Kline(k) = want[1].body else {
        panic!()
    };
    assert_eq!(
        (k.interval_secs, k.trades, k.close.to_string()),
        (60, 210, "42015.2".into())
    );
    assert_eq!(events(std::slice::from_ref(&zipped)).unwrap(), want);
    assert_eq!(events(std::slice::from_ref(&gz)).unwrap(), want);

    // A damaged archive is an error, never a short file.
    let mut bytes = std::fs::read(&zipped).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x5a;
    let broken = dir.join("BTCUSDT-broken.zip");
    std::fs::write(&broken, &bytes).unwrap();
    assert!(events(&[broken]).is_err());
    // A gzip that ends early names the file and says so.
    let cut = std::fs::read(&gz).unwrap();
    let torn = dir.join("BTCUSDT-torn.csv.gz");
    std::fs::write(&torn, &cut[..cut.len() - 30]).unwrap();
    let e = events(&[torn]).unwrap_err().to_string();
    assert!(
        e.contains("BTCUSDT-torn.csv.gz") && e.contains("ends early"),
        "{e}"
    );
    // A refused row of a compressed file is named by its line in the text.
    let bad = dir.join("BTCUSDT-bad-2024-01-01.csv.gz");
    let mut g = flate2::write::GzEncoder::new(
        std::fs::File::create(&bad).unwrap(),
        flate2::Compression::default(),
    );
    let rows = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n\
                1,100.5,0.1,1,1,1000,true\n2,100.6,0.1,2,2,1001,true\n3,x,0.1,3,3,1002,true\n";
    std::io::Write::write_all(&mut g, rows.as_bytes()).unwrap();
    g.finish().unwrap();
    let e = events(&[bad]).unwrap_err().to_string();
    assert!(
        e.contains("BTCUSDT-bad-2024-01-01.csv.gz:4: column price"),
        "{e}"
    );
}

#[test]
fn bad_files_are_refused_with_file_line_and_column() {
    let dir = temp("bad");
    let header =
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n";
    let cases = [
        (
            "missing",
            "1,100.5,0.1,1,1,1000,true\n2,100.6,0.1,2,2,1001\n",
            ":3: 6 columns where aggTrades has 7",
        ),
        (
            "nonnumeric",
            "1,abc,0.1,1,1,1000,true\n",
            ":2: column price is missing, not a number or out of range",
        ),
        (
            "disordered",
            "1,100.5,0.1,1,1,2000,true\n2,100.6,0.1,2,2,1999,false\n",
            ":3: time 1999 is earlier than the row before (2000)",
        ),
        (
            "maker",
            "1,100.5,0.1,1,1,1000,maybe\n",
            ":2: column is_buyer_maker",
        ),
        // Lines are the file's lines: blank lines and CRLF endings count,
        // and a quoted field over two lines ends on the second.
        (
            "blank",
            "1,100.5,0.1,1,1,1000,true\n\n\n2,abc,0.1,2,2,1001,true\n",
            ":5: column price is missing",
        ),
        (
            "crlf",
            "1,100.5,0.1,1,1,1000,true\r\n2,100.6,0.1,2,2,1001,true\r\n3,100.7,0.1,3,3,999,true\r\n",
            ":4: time 999 is earlier than the row before (1001)",
        ),
        (
            "quoted",
            "1,100.5,0.1,1,1,1000,true\n2,\"100\n.6\",0.1,2,2,1001,true\n",
            ":4: column price is missing",
        ),
    ];
    for (name, rows, want) in cases {
        let p = write(
            &dir,
            &format!("BTCUSDT-{name}.csv"),
            &format!("{header}{rows}"),
        );
        let e = events(&[p]).unwrap_err().to_string();
        assert!(
            e.contains(&format!("BTCUSDT-{name}.csv{want}")),
            "{name}: {e}"
        );
    }
    // An unknown layout names what was expected.
    let p = write(&dir, "BTCUSDT-other.csv", "time,price\n1,2\n");
    let e = events(&[p]).unwrap_err().to_string();
    assert!(
        e.contains("not a known data file; its first line is \"time,price\""),
        "{e}"
    );
    assert!(
        e.contains("a Binance aggTrades CSV (agg_trade_id,price"),
        "{e}"
    );
    // Bars whose gap is not a whole number of intervals.
    let p = write(
        &dir,
        "BTCUSDT-bars.csv",
        "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n90000,1,1,1,1,1\n",
    );
    let e = events(&[p]).unwrap_err().to_string();
    assert!(
        e.contains("BTCUSDT-bars.csv:4: open_time 90000 is not a whole number of 60000 ms bars"),
        "{e}"
    );
    // A bar whose high is below its close.
    let p = write(
        &dir,
        "BTCUSDT-hl.csv",
        "open_time,open,high,low,close,volume\n0,1,1,1,2,1\n60000,1,1,1,1,1\n",
    );
    let e = events(&[p]).unwrap_err().to_string();
    assert!(
        e.contains("BTCUSDT-hl.csv:2: high 1 and low 1 do not hold open 1 and close 2"),
        "{e}"
    );
}

#[test]
fn funding_rows_take_the_last_price_before_them_and_bad_ones_are_refused() {
    let dir = temp("funding");
    let trades = write(
        &dir,
        "BTCUSDT-aggTrades-x.csv",
        "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n\
         1,100.5,0.1,1,1,1000,true\n2,101.5,0.1,2,2,28800000,false\n3,99,0.1,3,3,28800001,true\n",
    );
    let funding = write(
        &dir,
        "BTCUSDT-fundingRate-x.csv",
        "calc_time,funding_interval_hours,last_funding_rate\n\
         0,8,0.00010000\n28800000,8,-0.00002132\n",
    );
    let evs = events(&[trades.clone(), funding.clone()]).unwrap();
    let settled: Vec<(u64, String, String)> = evs
        .iter()
        .filter_map(|e| match e.body {
            InputBody::Funding(f) => Some((
                e.header.exchange.0 / 1_000_000,
                f.mark.to_string(),
                f.rate.to_string(),
            )),
            _ => None,
        })
        .collect();
    // 00:00 comes before any price; 08:00 takes the trade at 08:00 that
    // precedes it (the trades file is given first), not the one after.
    assert_eq!(
        settled,
        vec![
            (0, "0".into(), "0.0001".into()),
            (28_800_000, "101.5".into(), "-0.00002132".into()),
        ]
    );
    let m = open(&[funding]).unwrap();
    assert_eq!(m.sources()[0].format_name(), Format::FundingRate.name());
    // A percentage where a rate belongs, and an impossible interval.
    for (name, row, want) in [
        (
            "pct",
            "0,8,1.5\n",
            ":2: last_funding_rate 1.5 is beyond ±0.05",
        ),
        (
            "hours",
            "0,0,0.0001\n",
            ":2: funding_interval_hours 0 is not 1 ..= 24",
        ),
    ] {
        let p = write(
            &dir,
            &format!("BTCUSDT-fundingRate-{name}.csv"),
            &format!("calc_time,funding_interval_hours,last_funding_rate\n{row}"),
        );
        let e = events(&[p]).unwrap_err().to_string();
        assert!(e.contains(want), "{name}: {e}");
    }
    // A capture's mark prices already carry the funding.
    let capture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ticks/btcusdt_20240808.gz");
    let f = write(
        &dir,
        "BTCUSDT-fundingRate-y.csv",
        "calc_time,funding_interval_hours,last_funding_rate\n0,8,0.0001\n",
    );
    let e = match open(&[capture, f]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a capture and a funding file were merged"),
    };
    assert!(e.contains("give one of them"), "{e}");
}

/// The shared 1m bars replayed as an imported journal is, with the shipped
/// paper config (a 30 s stale-feed limit): the feed follows the bars'
/// cadence, so the core goes SAFE_MODE (StaleFeed) only across the file's
/// two gaps between segments and trades again at once. (The first bar
/// after a gap is refused as implausible, its time 21 months past the
/// window; the second confirms the jump, which is alerted.)
#[test]
fn a_bar_journal_goes_stale_only_across_its_gaps() {
    use autobot_engine::core::Core;
    use autobot_engine::event::{ChangeCause, OutputBody, SystemState as S};
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/klines/BTCUSDT_perp_1m.csv");
    let cfg = shipped();
    assert_eq!(cfg.risk.forbidden.stale_feed_secs, 30);
    let core_cfg = autobot_tools::backtest::run::core_for(&cfg, &["BTCUSDT".to_string()]).unwrap();
    let mut core = Core::new(&core_cfg);
    let mut outs: Vec<autobot_engine::event::OutputEvent> = Vec::new();
    let mut changes = Vec::new();
    for (i, mut ev) in events(&[path]).unwrap().into_iter().enumerate() {
        ev.header.seq = autobot_engine::types::Seq(i as u64);
        outs.clear();
        core.on_event(&ev, &mut outs);
        for o in &outs {
            if let OutputBody::StateChange(c) = o.body {
                changes.push((i, c.from, c.to, c.cause));
            }
        }
    }
    // Segments of 43,199, 73,139 and 10,718 bars: the second bar of the
    // second and third.
    let gap = |i| {
        [
            (i, S::Running, S::SafeMode, ChangeCause::StaleFeed),
            (i, S::SafeMode, S::Running, ChangeCause::Recovered),
        ]
    };
    assert_eq!(
        changes,
        [gap(43_199 + 1), gap(43_199 + 73_139 + 1)].concat(),
        "state changes"
    );
    assert_eq!(core.state(), S::Running);
    let in_safe = core.stats().state_ns[S::SafeMode as usize];
    assert_eq!(in_safe, 0, "SAFE_MODE lasted {in_safe} ns of event time");
}

#[test]
fn binance_trades_files_import_and_mark_price_klines_are_refused_by_name() {
    let dir = temp("trades");
    let rows =
        "1,42000.1,0.010,420.001,1704067200000,true\n2,42000.2,0.020,840.004,1704067200005,false\n";
    let with = write(
        &dir,
        "BTCUSDT-trades-2024-01-01.csv",
        &format!("id,price,qty,quote_qty,time,is_buyer_maker\n{rows}"),
    );
    let without = write(&dir, "ETHUSDT-trades-2024-01-01.csv", rows);
    let all = events(&[with, without]).unwrap();
    assert_eq!(all.len(), 4);
    let InputBody::AggTrade(t) = all[1].body else {
        panic!("{:?}", all[1])
    };
    assert_eq!((t.trade_id, t.buyer_is_maker), (1, true));
    assert_eq!(t.price.to_string(), "42000.1");
    // The archive's mark-price klines are named like trade klines; their
    // directory gives them away.
    let marks = dir.join("markPriceKlines/BTCUSDT/1m");
    std::fs::create_dir_all(&marks).unwrap();
    let k = write(
        &marks,
        "BTCUSDT-1m-2024-01-01.csv",
        "1704067200000,42000.1,42010,41990.5,42005,0,1704067259999,0,60,0,0,0\n",
    );
    let e = events(&[k]).unwrap_err().to_string();
    assert!(
        e.contains("a markPriceKlines file") && e.contains("its candles are not trades"),
        "{e}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Rows made of CSV's hard parts (quotes, CR, blank lines, stray bytes)
    /// are read or refused, never a panic, and a refusal names a line of
    /// the file.
    #[test]
    fn damaged_rows_are_refused_by_a_line_of_the_file(
        body in proptest::collection::vec(
            proptest::sample::select(b"0123456789,.\"\r\n -ax\xff".to_vec()),
            0..300,
        )
    ) {
        let dir = temp("damaged");
        let mut text =
            b"agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
                .to_vec();
        text.extend_from_slice(&body);
        let p = dir.join("BTCUSDT-damaged.csv");
        std::fs::write(&p, &text).unwrap();
        let lines = text.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        if let Err(InputError::Row { line, .. }) = events(&[p]) {
            proptest::prop_assert!((2..=lines).contains(&line), "line {line} of {lines}");
        }
    }
}
