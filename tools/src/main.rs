//! `autobot`: the command line of the trading engine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use autobot_engine::features::kernels::{Isa, Kernels};
use autobot_gateways::credentials::Credentials;
use autobot_tools::config::{AppConfig, Deployment};
use autobot_tools::gate;
use autobot_tools::journal_cmd::{self, Format};
use autobot_tools::position::Position;
use autobot_tools::replay::{self, ReplayArgs};
use autobot_tools::run::{RunOptions, run_paper};
use clap::{Parser, Subcommand};

mod cli;
use cli::Reported;
use cli::ctl::CtlAction;

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
        /// Confirm a live config (`run.mode = "live"`): trade real money,
        /// after a 10 s countdown that names what will trade.
        #[arg(long)]
        live: bool,
    },
    /// Replay a journal through a fresh core: no gateways, as fast as it goes.
    ///
    /// DIR is a run directory (journal/ and config.toml inside) or a journal
    /// directory (then give --config). Prints the inputs replayed, the output
    /// digest, and whether the digest checkpoints recorded during the run
    /// match the replay.
    Replay(ReplayArgs),
    /// Compute the indicators over a bar file (CSV with the header
    /// open_time,open,high,low,close,volume) and write them as CSV: SMA 20,
    /// EMA 20, RSI 14, MACD 12/26/9, Bollinger 20/2, ATR 14 (TA-Lib's
    /// conventions), returns and realized volatility (bp). Invalid bars are
    /// skipped and counted.
    Indicators {
        /// The bar file.
        #[arg(long, value_name = "BARS.csv")]
        input: PathBuf,
        /// Where the values go.
        #[arg(long, value_name = "VALUES.csv")]
        out: PathBuf,
        /// Force the kernel path of the series columns: auto, scalar, avx2
        /// or avx512 (default: AUTOBOT_SIMD, else the widest this CPU has).
        /// Every path writes the same bytes.
        #[arg(long, value_name = "PATH")]
        simd: Option<String>,
    },
    /// Run the local exchange simulator: Binance USD-M's WebSocket streams
    /// and REST endpoints on loopback, streaming the seeded synthetic
    /// market of the config or a capture file, until Ctrl-C. A capture
    /// starts when the first client subscribes.
    Simexchange {
        /// Configuration file (instruments and [market]) [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Stream this capture (`<ns> <json>` lines, .gz ok) instead of the
        /// synthetic market.
        #[arg(long, value_name = "FILE")]
        capture: Option<PathBuf>,
        /// Pace: 1 = as recorded (a capture) or `[market] events_per_sec`
        /// (the synthetic market); 0 = as fast as clients read.
        #[arg(long, value_name = "X", default_value_t = 1.0)]
        speed: f64,
        /// WebSocket listen address.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9443")]
        ws: std::net::SocketAddr,
        /// REST listen address.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9080")]
        rest: std::net::SocketAddr,
    },
    /// Write the seeded synthetic market as Binance public-data CSVs:
    /// `<SYMBOL>-bookTicker-synthetic.csv` and `<SYMBOL>-aggTrades-synthetic.csv`
    /// per instrument of the config, so benchmarks, tests and other tools
    /// use the same data. The same seed and rows give the same bytes.
    Generate {
        /// Book-ticker rows to write (over all instruments).
        #[arg(long, value_name = "N")]
        rows: u64,
        /// Seed (overrides `market.seed`).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Configuration file (instruments and [market]) [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Convert data files into a journal once, so backtests replay them at
    /// full speed: Binance aggTrades, bookTicker and klines CSVs and bar
    /// CSVs (plain, .gz or .zip; the format is read from the header), merged
    /// in time order. A file's symbol is the first part of its name
    /// (BTCUSDT-aggTrades-2024-08-08.zip) and must be a configured
    /// instrument. Writes OUT/journal and OUT/import.toml.
    Import {
        /// The data files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Output directory (must not hold a journal yet).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Configuration file (instruments, [journal]) [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Backtest the configured strategies on historical data: the same
    /// core that trades live, against a deterministic simulated exchange
    /// (latency, L2 fills, queue position, fees, funding, liquidation;
    /// docs/backtest.md). Data: files as `autobot import` reads them, or
    /// an import directory (--journal). Writes report.json, trades.csv,
    /// round_trips.csv and report.html into OUT; with --sweep, one such
    /// report per grid point (OUT/pNNN/) and sweep.json / sweep.csv; with
    /// --walk-forward, walk_forward.json and each fold's out-of-sample
    /// report (OUT/foldK/).
    Backtest {
        /// Data files (omit with --journal).
        #[arg(value_name = "FILE", required_unless_present = "journal")]
        files: Vec<PathBuf>,
        /// An `autobot import` directory to replay instead of files.
        #[arg(long, value_name = "DIR", conflicts_with = "files")]
        journal: Option<PathBuf>,
        /// Report directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Configuration file [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// A configuration key and the values to try, e.g.
        /// `strategy.instances.0.fast=10,20,40` (array elements by index);
        /// repeat for a grid of every combination.
        #[arg(long, value_name = "KEY=V1,V2,...")]
        sweep: Vec<String>,
        /// K rolling folds: the data's time is cut into K+1 equal windows;
        /// fold k picks the grid point with the best Sharpe in window k-1
        /// and runs it on window k. Each window starts flat.
        #[arg(long, value_name = "K")]
        walk_forward: Option<u32>,
        /// Backtests run at once in a sweep [default: the CPUs available].
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Record market streams in the capture format (`<receive ns> <json>`
    /// lines, plus the REST depth snapshot of each diff-depth stream), so
    /// they replay with `autobot simexchange --capture` or
    /// `[exchange] simulator_source`. Public streams: no API key needed.
    Record {
        /// Output file (`.gz` is gzip).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Symbols, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "BTCUSDT")]
        symbols: Vec<String>,
        /// Stream suffixes, comma-separated.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "bookTicker,aggTrade,depth@100ms"
        )]
        streams: Vec<String>,
        /// WebSocket base.
        #[arg(long, value_name = "URL", default_value = "wss://fstream.binance.com")]
        ws: String,
        /// REST base (depth snapshots).
        #[arg(long, value_name = "URL", default_value = "https://fapi.binance.com")]
        rest: String,
        /// Stop after this many seconds (default: Ctrl-C).
        #[arg(long, value_name = "SECS")]
        duration: Option<u64>,
        /// Stop after this many messages.
        #[arg(long, value_name = "N")]
        messages: Option<u64>,
    },
    /// Operate a running `autobot run` through its control endpoint: status,
    /// kill switch, reset, control mode, SemiAuto approvals, flatten.
    ///
    /// Every command is journaled as an input, so a replay repeats it. The
    /// run is found by --run, --addr, or else the newest running run under
    /// --runs. The token comes from AUTOBOT_CONTROL_TOKEN or the run's
    /// control.token. Exit status 3 when the core refused the command or
    /// had not processed it within 5 s, 1 when the run cannot be reached.
    Ctl {
        /// The run's directory (holds control.addr and control.token while it runs).
        #[arg(long, value_name = "RUN_DIR")]
        run: Option<PathBuf>,
        /// The endpoint's address (then the token comes from AUTOBOT_CONTROL_TOKEN).
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<std::net::SocketAddr>,
        /// Where to look for the newest running run.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs: PathBuf,
        /// Print the endpoint's JSON answer.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: CtlAction,
    },
    /// Look into a journal: inspect, verify, dump, export.
    Journal {
        #[command(subcommand)]
        action: JournalAction,
    },
    /// Load test: the whole pipeline (simulator → sockets → gateways →
    /// ring → journal → core → orders) at fixed message rates, one paper
    /// run per rate, latency measured from each message's intended send
    /// time (coordinated-omission corrected). Prints a report per rate.
    Loadtest {
        /// Configuration file [default: config/bench-emaflip.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Message rates, per second.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        rates: Vec<u32>,
        /// Seconds at each rate.
        #[arg(long, default_value_t = 2.0)]
        secs: f64,
        /// Where the runs go.
        #[arg(long, value_name = "DIR", default_value = "runs/load")]
        run_dir: PathBuf,
        /// Pin the core thread to this CPU (overrides [engine.cpus] core).
        #[arg(long, value_name = "CPU")]
        core: Option<usize>,
        /// Run every other thread (simulator, gateways, execution) on this
        /// CPU, leaving the core's CPU to the core.
        #[arg(long, value_name = "CPU")]
        housekeeping: Option<usize>,
    },
    /// Check this host for live trading: isolated CPUs against the CPU
    /// map, nohz_full, the frequency governor, transparent huge pages, an
    /// invariant TSC, NUMA, the memlock limit and SCHED_FIFO permission.
    /// Exits 3 when the host is not ready.
    Doctor {
        /// Configuration file [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Examine a copy of another host's `/sys` and `/proc` under this
        /// directory instead of this host's (the limits are this process's).
        #[arg(long, value_name = "DIR", default_value = "/")]
        root: PathBuf,
    },
    /// Reports of a finished run.
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
}

#[derive(Debug, Subcommand)]
enum ReportWhat {
    /// Per-stage latency percentiles (p50 … p99.99, max) from the run's
    /// `latency/*.hgrm` files, with a second run beside it for comparison.
    Latency {
        /// Run directory (or its `latency/` directory).
        run_dir: PathBuf,
        /// A second run to compare with (drawn dashed on the page).
        other: Option<PathBuf>,
        /// Where to write the HTML page [default: RUN_DIR/latency.html].
        #[arg(long)]
        html: Option<PathBuf>,
        /// Read the stamped stages (parse, publish, journal) from each
        /// run's journal instead of its `.hgrm` files: an incident's
        /// latency after the fact.
        #[arg(long)]
        journal: bool,
    },
}

/// The inputs a journal command covers.
#[derive(Debug, clap::Args)]
struct Range {
    /// First input (sequence or UTC time).
    #[arg(long, value_name = "SEQ|TIME")]
    from: Option<Position>,
    /// Last input (sequence or UTC time).
    #[arg(long, value_name = "SEQ|TIME")]
    until: Option<Position>,
}

#[derive(Debug, Subcommand)]
enum JournalAction {
    /// Segments, input range, times, checkpoints, any torn tail.
    Inspect {
        /// Run directory or journal directory.
        dir: PathBuf,
    },
    /// Check every checksum, sequence and payload; non-zero exit on damage.
    Verify {
        /// Run directory or journal directory.
        dir: PathBuf,
    },
    /// One readable line per input (with its parse, publish and journal
    /// stamps) and per latency stamp (core start, decision out, order sent).
    Dump {
        /// Run directory or journal directory.
        dir: PathBuf,
        #[command(flatten)]
        range: Range,
    },
    /// Write the inputs as JSON lines or CSV.
    Export {
        /// Run directory or journal directory.
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        range: Range,
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
        Err(e) if e.is::<Reported>() => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    use std::io::Write as _;
    match cli.command {
        Command::Indicators {
            input,
            out: path,
            simd,
        } => {
            let (isa, source) = Isa::choose(simd.as_deref())?;
            let kernels = Kernels::new(isa).context("kernel path vanished after detection")?;
            eprintln!("kernels: {isa} ({source})");
            let file = std::fs::File::open(&input)
                .with_context(|| format!("cannot open {}", input.display()))?;
            let dest = std::fs::File::create(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = std::io::BufWriter::new(dest);
            let counts = autobot_tools::indicators::run(
                std::io::BufReader::new(file),
                &mut w,
                std::io::stderr().lock(),
                &kernels,
            )
            .with_context(|| input.display().to_string())?;
            w.flush()?;
            eprintln!(
                "wrote indicators of {} bars to {} ({} skipped)",
                counts.bars,
                path.display(),
                counts.skipped
            );
            Ok(())
        }
        Command::Replay(args) => {
            let ok = replay::run(&args, &mut out)?;
            out.flush()?;
            if !ok {
                return Err(Reported.into());
            }
            Ok(())
        }
        Command::Loadtest {
            config,
            rates,
            secs,
            run_dir,
            core,
            housekeeping,
        } => {
            let config = config.unwrap_or_else(|| PathBuf::from("config/bench-emaflip.toml"));
            let cfg = AppConfig::load(&config)?;
            if !(secs > 0.0 && secs <= 3600.0) || rates.iter().any(|r| *r == 0 || *r > 10_000_000) {
                anyhow::bail!("--secs must be in (0, 3600] and each rate in 1 ..= 10000000");
            }
            for rate in rates {
                let place = autobot_tools::loadtest::Placement { core, housekeeping };
                let report = autobot_tools::loadtest::run_rate(&cfg, rate, secs, &run_dir, place)?;
                writeln!(out, "{}", report.render())?;
                out.flush()?;
            }
            Ok(())
        }
        Command::Doctor { config, root } => {
            use autobot_tools::doctor;
            let config = config.unwrap_or_else(|| PathBuf::from("config/paper.toml"));
            let cfg = AppConfig::load(&config)?;
            writeln!(
                out,
                "autobot doctor: {} against {}",
                if root == std::path::Path::new("/") {
                    "this host".to_string()
                } else {
                    root.display().to_string()
                },
                config.display()
            )?;
            let mut findings =
                doctor::examine(&root, &cfg.engine, &doctor::Limits::of_process(&root));
            // Only this host can be measured, not a copy of another's files.
            if root == std::path::Path::new("/") {
                findings.push(doctor::jitter(
                    &cfg.engine,
                    std::time::Duration::from_millis(500),
                ));
            }
            let (text, ready) = doctor::render(&findings);
            write!(out, "{text}")?;
            out.flush()?;
            if !ready {
                return Err(Reported.into());
            }
            Ok(())
        }
        Command::Report {
            what:
                ReportWhat::Latency {
                    run_dir,
                    other,
                    html,
                    journal,
                },
        } => {
            use autobot_tools::latency;
            let read = |dir: &std::path::Path| {
                if journal {
                    latency::from_journal(dir)
                } else {
                    latency::read_run(dir)
                }
            };
            // Everything is read and drawn before anything is written.
            let mut runs = vec![("this".to_string(), read(&run_dir)?)];
            if let Some(o) = &other {
                runs.push(("other".to_string(), read(o)?));
            }
            let source = if journal {
                "from the journal's stamps (every stage but delivery)"
            } else {
                "from the run's .hgrm files"
            };
            let title = match &other {
                Some(o) => format!(
                    "{} (solid) against {} (dashed)",
                    run_dir.display(),
                    o.display()
                ),
                None => run_dir.display().to_string(),
            };
            let page = latency::html::page(&title, source, &runs)?;
            let html = html.unwrap_or_else(|| latency::run_root(&run_dir).join("latency.html"));
            latency::write_whole(&html, &page)
                .with_context(|| format!("cannot write {}", html.display()))?;
            writeln!(out, "latency of {}, {source}", run_dir.display())?;
            if let Some(o) = &other {
                writeln!(out, "compared with {} (run \"other\")", o.display())?;
            }
            write!(out, "{}", latency::table(&runs))?;
            writeln!(out, "page: {}", html.display())?;
            out.flush()?;
            Ok(())
        }
        Command::Journal { action } => {
            match action {
                JournalAction::Inspect { dir } => journal_cmd::inspect(&dir, &mut out)?,
                JournalAction::Verify { dir } => journal_cmd::verify(&dir, &mut out)?,
                JournalAction::Dump { dir, range } => {
                    journal_cmd::dump(&dir, range.from, range.until, &mut out)?
                }
                JournalAction::Export {
                    dir,
                    format,
                    out: file,
                    range: Range { from, until },
                } => {
                    let n = match file {
                        Some(path) => {
                            let f = std::fs::File::create(&path)
                                .with_context(|| format!("cannot create {}", path.display()))?;
                            let mut w = std::io::BufWriter::new(f);
                            let n = journal_cmd::export(&dir, format, from, until, &mut w)?;
                            w.flush()?;
                            eprintln!("wrote {n} inputs to {}", path.display());
                            n
                        }
                        None => journal_cmd::export(&dir, format, from, until, &mut out)?,
                    };
                    let _ = n;
                }
            }
            out.flush()?;
            Ok(())
        }
        Command::Ctl {
            run,
            addr,
            runs,
            json,
            action,
        } => cli::ctl::run(run.as_deref(), addr, &runs, json, action),
        Command::Record {
            out: path,
            symbols,
            streams,
            ws,
            rest,
            duration,
            messages,
        } => {
            use autobot_gateways::binance::market::MarketFeedConfig;
            let feed = MarketFeedConfig::public(ws, rest, symbols, streams);
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
                .context("cannot install the Ctrl-C handler")?;
            eprintln!("record: {} → {}; Ctrl-C stops", feed.url(), path.display());
            let st = autobot_gateways::binance::record::record(
                &feed,
                &path,
                duration.map(std::time::Duration::from_secs),
                messages,
                &stop,
            )?;
            eprintln!(
                "record: {} messages and {} snapshots ({} bytes of JSON, {} reconnects) in {}",
                st.messages,
                st.snapshots,
                st.bytes,
                st.reconnects,
                path.display()
            );
            Ok(())
        }
        Command::Generate {
            rows,
            seed,
            out,
            config,
        } => {
            let mut cfg =
                AppConfig::load(&config.unwrap_or_else(|| PathBuf::from("config/paper.toml")))?;
            if let Some(s) = seed {
                cfg.market.seed = s;
            }
            let ins = cfg.core().instruments;
            let done = autobot_tools::backtest::generate::generate(&cfg.market, &ins, rows, &out)
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {} book tickers and {} trades (seed {}) to {} files in {}",
                done.book_tickers,
                done.trades,
                cfg.market.seed,
                done.files.len(),
                out.display()
            );
            Ok(())
        }
        Command::Backtest {
            files,
            journal,
            out,
            config,
            sweep,
            walk_forward,
            jobs,
        } => {
            use autobot_tools::backtest::{output, report, run};
            let config = config.unwrap_or_else(|| PathBuf::from("config/paper.toml"));
            let cfg = AppConfig::load(&config)?;
            let data = journal.map_or(run::DataSource::Files(files), run::DataSource::Imported);
            if !sweep.is_empty() || walk_forward.is_some() {
                let jobs = jobs.unwrap_or_else(|| {
                    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
                });
                return cli::grid::backtest_grid(
                    &config,
                    &cfg,
                    &data,
                    &sweep,
                    walk_forward,
                    jobs,
                    &out,
                );
            }
            let done = run::run_backtest(&cfg, &data, None, true)?;
            let rep = report::Report::new(&done.backtest, &done.core, &cfg.backtest);
            output::write(&out, &rep, &done.backtest, &done.core)
                .with_context(|| format!("writing the report into {}", out.display()))?;
            print!("{}", rep.summary());
            let secs = done.elapsed.as_secs_f64().max(1e-9);
            eprintln!(
                "replayed {} events in {:.2} s ({:.2} M events/s); report in {}",
                rep.data.events,
                secs,
                rep.data.events as f64 / secs / 1e6,
                out.display()
            );
            Ok(())
        }
        Command::Import { files, out, config } => {
            use autobot_tools::backtest::{SymbolFiles, import::import};
            let cfg =
                AppConfig::load(&config.unwrap_or_else(|| PathBuf::from("config/paper.toml")))?;
            let configured: Vec<String> =
                cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
            let input = SymbolFiles::of_data(&files, &configured)?;
            let report = import(&input, &cfg.journal, &out)?;
            for f in &report.manifest.files {
                eprintln!("  {}  {} rows ({})", f.path, f.rows, f.format);
            }
            eprintln!(
                "imported {} events into {} in {:.2} s ({:.2} M rows/s)",
                report.manifest.events,
                out.join("journal").display(),
                report.elapsed.as_secs_f64(),
                report.rows_per_sec() / 1e6
            );
            Ok(())
        }
        Command::Simexchange {
            config,
            capture,
            speed,
            ws,
            rest,
        } => cli::simexchange::simexchange(
            &config.unwrap_or_else(|| PathBuf::from("config/paper.toml")),
            capture,
            speed,
            ws,
            rest,
        ),
        Command::Run {
            config,
            duration,
            seed,
            run_dir,
            events,
            resume,
            live,
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
            let file = config.display().to_string();
            let cleared = gate::check(&cfg, &file, live, Credentials::from_env)?;
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
                .context("cannot install the Ctrl-C handler")?;
            if let (Deployment::Live, Some(keys)) = (cleared.mode, &cleared.credentials) {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(gate::announcement(&cfg, keys).as_bytes());
                gate::countdown(gate::COUNTDOWN_SECS, &stop, &mut err)?;
            }
            let opts = RunOptions {
                max_events: events,
                unpaced: events.is_some(),
                load: false,
                stop,
                resume,
                // The keys the gate checked, so the run signs with exactly those.
                credentials: cleared.credentials.clone(),
            };
            eprintln!(
                "autobot: {} {} for {} on {}; Ctrl-C stops early",
                match cfg.run.mode {
                    Deployment::DryRun => "dry run (signals only) of",
                    Deployment::Testnet => "testnet trading",
                    Deployment::Live => "LIVE trading",
                    _ => "paper trading",
                },
                cfg.instruments
                    .iter()
                    .map(|i| i.symbol.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                events.map_or(format!("{} s", cfg.run.duration_secs), |n| format!(
                    "{n} events"
                )),
                cfg.market_description()
            );
            let outcome = run_paper(&cfg, &opts)?;
            let text = autobot_tools::summary::render(&outcome, &cfg.market_description());
            print!("{text}");
            std::fs::write(outcome.run_dir.join("summary.txt"), &text)
                .context("cannot write summary.txt")?;
            Ok(())
        }
    }
}
