//! Backtest throughput with the reference strategy (`config/bench-emaflip.toml`:
//! EMA(20)/EMA(100) of the BTCUSDT mid on every book ticker, flipping
//! 0.001 BTC with market orders) on 1 M generated book-ticker rows:
//!
//! - **import**: rows/s of `autobot import` of the CSV (read, parse, merge,
//!   journal with checksums); wall time of the import only.
//! - **replay**: events/s of `autobot backtest --journal` (decode, core,
//!   simulated exchange, recorder); wall time of the replay only (opening
//!   the journal and writing the report excluded).
//! - Baselines in the same process, on the same journal: decoding alone,
//!   and decoding plus the core with no exchange (its orders go nowhere),
//!   so the ratios show where the time goes.
//!
//! - **from CSV**: events/s of `autobot backtest` straight from the CSV
//!   (read, parse, merge, core, exchange), the journal path's ratio beside.
//!
//! Medians of several runs after a warm-up. The core on one thread, not
//! pinned; data files are read ahead on a second (import and from CSV).
//! Targets: issue 7, ≥ 10 M events/s replayed, ≥ 3 M rows/s imported;
//! issue 33, ≥ 25 M events/s from a journal and ≥ 0.65 of the decode
//! baseline, ≥ 8 M events/s from CSV and ≥ 0.35 of the journal path.

use std::path::{Path, PathBuf};
use std::time::Instant;

use autobot_benches::{median, target};
use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::types::Seq;
use autobot_journal::Journal;
use autobot_tools::backtest::SymbolFiles;
use autobot_tools::backtest::generate::generate;
use autobot_tools::backtest::import::import;
use autobot_tools::backtest::run::{DataSource, core_for, run_backtest};
use autobot_tools::config::AppConfig;

const ROWS: u64 = 1_000_000;
const RUNS: usize = 5;

fn base() -> PathBuf {
    let root = std::env::var_os("AUTOBOT_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    root.join(format!("autobot-bench-backtest-{}", std::process::id()))
}

fn config() -> AppConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/bench-emaflip.toml");
    AppConfig::load(&path).expect("config/bench-emaflip.toml")
}

/// Seconds to decode every input of the journal (and, with `core`, feed
/// it to the core).
fn decode(dir: &Path, core: Option<&mut Core>) -> (f64, u64) {
    let journal = Journal::open(&dir.join("journal")).expect("journal");
    let began = Instant::now();
    let mut n = 0u64;
    let mut sink = DiscardSink;
    let mut core = core;
    // Decoded in place, as the backtest does (`input_into`).
    let mut ev = autobot_engine::event::InputEvent::default();
    for rec in journal.records() {
        if rec.meta.is_meta() {
            continue;
        }
        autobot_engine::event::input_into(rec.payload, &mut ev).expect("decode");
        ev.header.seq = Seq(n);
        n += 1;
        if let Some(c) = core.as_deref_mut() {
            c.on_event(&ev, &mut sink);
        }
        std::hint::black_box(&ev);
    }
    (began.elapsed().as_secs_f64(), n)
}

/// Median events/s of whole backtests of `data` after a warm-up, and the
/// fills of the last.
fn backtest_rate(cfg: &AppConfig, data: &DataSource) -> (f64, u64) {
    let mut rates = Vec::new();
    let mut fills = 0;
    for run in 0..=RUNS {
        let done = run_backtest(cfg, data, None, false).expect("backtest");
        fills = done.backtest.exchange.stats().fills;
        if run > 0 {
            rates.push(done.backtest.data_events as f64 / done.elapsed.as_secs_f64());
        }
    }
    (median(&mut rates), fills)
}

fn main() {
    let cfg = config();
    let dir = base();
    let _ = std::fs::remove_dir_all(&dir);
    let core_cfg = core_for(&cfg, &["BTCUSDT".to_string()]).expect("BTCUSDT");
    let made =
        generate(&cfg.market, &core_cfg.instruments, ROWS, &dir.join("data")).expect("generate");
    let tickers: Vec<PathBuf> = made
        .files
        .iter()
        .filter(|f| f.to_string_lossy().contains("bookTicker"))
        .cloned()
        .collect();
    let input = SymbolFiles {
        files: tickers,
        symbols: vec!["BTCUSDT".into()],
    };
    println!(
        "backtest throughput: config/bench-emaflip.toml, {ROWS} generated book-ticker rows, the core on one thread"
    );

    // Import: fresh directory each run; the first is a warm-up (page cache).
    let mut rates = Vec::new();
    for run in 0..=RUNS {
        let out = dir.join(format!("import-{run}"));
        let r = import(&input, &cfg.journal, &out).expect("import");
        if run > 0 {
            rates.push(r.rows_per_sec());
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    let imported = dir.join("import-0");
    let import_rate = median(&mut rates);

    // Replay through the whole backtest; then straight from the CSV
    // (parse and merge on the way).
    let (replay_rate, fills) = backtest_rate(&cfg, &DataSource::Imported(imported.clone()));
    let (csv_rate, _) = backtest_rate(&cfg, &DataSource::Files(input.files.clone()));

    // Baselines: decode only; decode + core.
    let mut dec = Vec::new();
    let mut with_core = Vec::new();
    for run in 0..=RUNS {
        let (s, n) = decode(&imported, None);
        let mut core = Core::new(&core_cfg);
        let (s2, _) = decode(&imported, Some(&mut core));
        if run > 0 {
            dec.push(n as f64 / s);
            with_core.push(n as f64 / s2);
        }
    }
    let dec_rate = median(&mut dec);
    let core_rate = median(&mut with_core);

    println!(
        "  CSV import           {:>7.2} M rows/s   (target >= 3 M rows/s)",
        import_rate / 1e6
    );
    println!(
        "  backtest replay      {:>7.2} M events/s (target >= 10 M events/s; {fills} fills)",
        replay_rate / 1e6
    );
    println!(
        "  baseline: decode     {:>7.2} M events/s (journal read + checked rkyv decode)",
        dec_rate / 1e6
    );
    println!(
        "  baseline: + core     {:>7.2} M events/s (no exchange, orders dropped)",
        core_rate / 1e6
    );
    println!(
        "  backtest from CSV    {:>7.2} M events/s (parse + merge + replay)",
        csv_rate / 1e6
    );
    println!(
        "  ratios: replay / decode {:.2}, replay / core {:.2}, CSV / replay {:.2}; medians of {RUNS} runs",
        replay_rate / dec_rate,
        replay_rate / core_rate,
        csv_rate / replay_rate
    );
    println!(
        "{}",
        target(
            "backtest from a journal (issue 33)",
            &[
                ("M events/s", replay_rate / 1e6, 25.0),
                ("of decode", replay_rate / dec_rate, 0.65)
            ]
        )
    );
    println!(
        "{}",
        target(
            "backtest from CSV (issue 33)",
            &[
                ("M events/s", csv_rate / 1e6, 8.0),
                ("of journal", csv_rate / replay_rate, 0.35)
            ]
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}
