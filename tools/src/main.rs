//! `autobot`: the command line of the trading engine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use autobot_tools::config::AppConfig;
use autobot_tools::run::{RunOptions, run_paper};
use clap::{Parser, Subcommand};

/// autobot — an event-sourced trading engine for Binance USD-M futures.
///
/// Every input is journaled before the deterministic core acts on it, so any
/// run can be replayed bit for bit. Paper trading is the default.
#[derive(Debug, Parser)]
#[command(name = "autobot", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Paper-trade on the seeded synthetic market, then print a summary.
    ///
    /// Starts the market gateway, the journal, the core and paper execution,
    /// trades for the configured duration, shuts down cleanly (Ctrl-C stops
    /// early, the same way), and prints events, orders, fills, positions,
    /// PnL, the output digest and the latency percentiles. Everything is
    /// written under a new directory of `run.run_dir`.
    Run {
        /// Configuration file [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Run length in seconds (overrides `run.duration_secs`).
        #[arg(long, value_name = "SECS")]
        duration: Option<u64>,
        /// Seed of the synthetic market (overrides `market.seed`).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Where run directories go (overrides `run.run_dir`).
        #[arg(long, value_name = "DIR")]
        run_dir: Option<String>,
        /// Stop after this many market events instead of after a duration,
        /// publishing as fast as the engine takes them.
        #[arg(long, value_name = "N")]
        events: Option<u64>,
        /// Continue an earlier run (after a crash or a stop): recover its
        /// journal, restore the core from it, and go on appending. Uses the
        /// run's own config.toml unless --config is given.
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: the reason, and where to look.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("{first} (see 'autobot --help')");
            return ExitCode::from(2);
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            config,
            duration,
            seed,
            run_dir,
            events,
            resume,
        } => {
            let config = match (&resume, config) {
                (Some(dir), None) => dir.join("config.toml"),
                (_, Some(c)) => c,
                (None, None) => PathBuf::from("config/paper.toml"),
            };
            let mut cfg = AppConfig::load(&config)?;
            if let Some(d) = duration {
                anyhow::ensure!(
                    (1..=604_800).contains(&d),
                    "--duration {d} is out of range; allowed: 1 ..= 604800"
                );
                cfg.run.duration_secs = d;
            }
            if let Some(s) = seed {
                cfg.market.seed = s;
            }
            if let Some(r) = run_dir {
                cfg.run.run_dir = r;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
                .context("cannot install the Ctrl-C handler")?;
            let opts = RunOptions {
                max_events: events,
                unpaced: events.is_some(),
                stop,
                resume,
            };
            eprintln!(
                "autobot: paper trading {} for {} on the synthetic market (seed {}); Ctrl-C stops early",
                cfg.instruments
                    .iter()
                    .map(|i| i.symbol.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                events.map_or(format!("{} s", cfg.run.duration_secs), |n| format!(
                    "{n} events"
                )),
                cfg.market.seed
            );
            let outcome = run_paper(&cfg, &opts)?;
            let text = autobot_tools::summary::render(&outcome, cfg.market.seed);
            print!("{text}");
            std::fs::write(outcome.run_dir.join("summary.txt"), &text)
                .context("cannot write summary.txt")?;
            Ok(())
        }
    }
}
