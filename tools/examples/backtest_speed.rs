//! Whole backtests of an imported journal (decode, core, simulated
//! exchange, recorder) in a loop, for profiling the backtest's inner loop
//! without the report (`make bench` measures it with its baselines).
//!
//!     cargo run --release -p autobot --example backtest_speed -- CONFIG IMPORT_DIR
//!
//! Prints events/s of the replay loop only, median and best of ten runs
//! after a warm-up (this VM's speed is bimodal from run to run: compare
//! bests).

use std::path::{Path, PathBuf};

use autobot_tools::backtest::run::{DataSource, run_backtest};
use autobot_tools::config::AppConfig;

const RUNS: usize = 10;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, config, dir] = args.as_slice() else {
        eprintln!("usage: backtest_speed CONFIG IMPORT_DIR");
        std::process::exit(2);
    };
    let cfg = AppConfig::load(Path::new(config)).expect("config");
    let data = DataSource::Imported(PathBuf::from(dir));
    let mut rates = Vec::new();
    let mut digest = 0;
    for run in 0..=RUNS {
        let done = run_backtest(&cfg, &data, None, false).expect("backtest");
        digest = done.backtest.core.digest();
        if run > 0 {
            rates.push(done.backtest.data_events as f64 / done.elapsed.as_secs_f64());
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "backtest replay: median {:.2} M events/s, best {:.2} M events/s (digest {digest:016x})",
        rates[RUNS / 2] / 1e6,
        rates[RUNS - 1] / 1e6
    );
}
