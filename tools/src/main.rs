//! `autobot`: the command line of the trading engine.

use std::path::PathBuf;
use std::process::ExitCode;

use autobot_tools::journal_cmd::Format;
use autobot_tools::position::Position;
use autobot_tools::replay::{self, ReplayArgs};
use clap::{Parser, Subcommand};

mod cli;
use cli::Reported;
use cli::actions::{StoreAction, SweepAction};
use cli::commands;
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
        /// Keep the new run directory when the run fails before its market
        /// starts (by default a failed start leaves nothing behind).
        #[arg(long)]
        keep_failed_start: bool,
    },
    /// Serve a finished run's dashboard, read-only: its journal is replayed
    /// to where the run ended (state, positions, equity curve, decisions).
    /// Log in with AUTOBOT_CONTROL_TOKEN, or the fresh token it writes to
    /// RUN_DIR/dashboard.token. Ctrl-C stops.
    Dashboard {
        /// The run directory.
        run_dir: PathBuf,
        /// Where to listen (loopback only).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
    /// Replay a journal through a fresh core: no gateways, as fast as it goes.
    ///
    /// DIR is a run directory (journal/ and config.toml inside) or a journal
    /// directory (then give --config). Prints the inputs replayed, the output
    /// digest, and whether the digest checkpoints recorded during the run
    /// match the replay.
    Replay(ReplayArgs),
    /// Compute the indicators over a bar file (CSV with the header
    /// open_time,open,high,low,close,volume, a freqtrade feather file or a
    /// NautilusTrader bar partition) and write them as CSV: SMA 20,
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
        /// Read straight across gaps in the bars (as TA-Lib does) instead
        /// of warming every indicator up again after each.
        #[arg(long)]
        bridge_gaps: bool,
    },
    /// Run the local exchange simulator: Binance USD-M's WebSocket streams
    /// and REST endpoints on loopback, streaming the seeded synthetic
    /// market of the config or a capture file, until Ctrl-C. A capture
    /// starts when the first client subscribes.
    Simexchange(cli::simexchange::Args),
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
    /// Measure a capture's market (book-ticker and trade rates, per-second
    /// volatility, spreads, trade sizes) beside the configured synthetic
    /// market's, and print the `[market]` values the capture gives.
    Calibrate {
        /// A capture (`<receive ns> <json>` lines, as `autobot record` writes; .gz ok).
        capture: PathBuf,
        /// The symbol to measure (an instrument of the config).
        #[arg(long, default_value = "BTCUSDT")]
        symbol: String,
        /// Exchange seconds of the synthetic market to measure.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        seconds: u64,
        /// Configuration file (instruments and [market]) [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Judge each strategy instance of the config alone, out of sample:
    /// walk-forward over the data with its parameters chosen in each fold's
    /// in-sample window, next to holding the symbol; print the table (and
    /// write it into DOC between its strategies markers).
    Strategies {
        /// Bar or tick data files, as for `backtest`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Configuration file [default: config/backtest-1m.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Walk-forward folds.
        #[arg(long, value_name = "K", default_value_t = 4)]
        folds: u32,
        /// Threads [default: the CPUs available].
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Each instance's walk-forward reports.
        #[arg(long, value_name = "DIR", default_value = "runs/strategies")]
        out: PathBuf,
        /// A Markdown file whose table between `<!-- strategies:begin -->`
        /// and `<!-- strategies:end -->` is replaced.
        #[arg(long, value_name = "FILE")]
        doc: Option<PathBuf>,
    },
    /// Write the model feature vector (docs/ml.md) of every closed base bar
    /// of some data, with forward-return labels, as CSV or Parquet, and a
    /// manifest naming every column, the feature list's version and hash
    /// (FILE.manifest.json).
    Features {
        /// Data files (omit with --journal).
        #[arg(value_name = "FILE", required_unless_present = "journal")]
        files: Vec<PathBuf>,
        /// An `autobot import` directory instead of files.
        #[arg(long, value_name = "DIR", conflicts_with = "files")]
        journal: Option<PathBuf>,
        /// The file to write: Parquet when it ends in `.parquet`, else CSV.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Label horizons in bars, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "5,15,60")]
        horizons: Vec<u32>,
        /// Configuration file (instruments, strategy.bar_secs) [default: config/backtest-1m.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Judge every round trip of a run or a backtest (kept with
    /// --keep-journal): MFE and MAE (bp and R), time in trade, exit reason,
    /// regime and strategy at entry, fees over gross, and labels with their
    /// rules (stopped then target, fee-dominated, against the trend, max
    /// hold in profit, late entry); each vetoed strategy intent's
    /// hypothetical outcome. Writes analysis.json, trips.csv, vetoed.csv and
    /// analysis.html into DIR/analysis (or --out).
    Analyze {
        /// Run directory, or a backtest's --out kept with --keep-journal.
        dir: PathBuf,
        /// Output directory [default: DIR/analysis].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Use this configuration instead of DIR/config.toml.
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Convert data files into a journal once, so backtests replay them at
    /// full speed: Binance aggTrades, trades, bookTicker, klines and
    /// fundingRate CSVs and bar CSVs (plain, .gz or .zip; the format is
    /// read from the header), Tardis CSVs, freqtrade feather files and
    /// NautilusTrader Parquet catalogs (give the catalog's root), merged in
    /// time order (docs/backtest.md). A file's symbol is the first part of
    /// its name (BTCUSDT-aggTrades-2024-08-08.zip): a configured
    /// instrument, or a USD-M perpetual the exchange's listing has
    /// (`autobot instruments`). Writes OUT/journal and OUT/import.toml.
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
    /// an import directory (--journal). Writes report.json, trades,
    /// round_trips and equity (.csv and .parquet) and report.html into
    /// OUT; with --sweep, one such
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
        /// Run only slice K of N of the --sweep grid (points i with
        /// i mod N = K-1), for a sweep spread over machines: each slice
        /// writes OUT/shard.json; `autobot sweep merge` joins them into the
        /// sweep.json and sweep.csv of the whole grid (docs/backtest.md).
        #[arg(
            long,
            value_name = "K/N",
            requires = "sweep",
            conflicts_with = "walk_forward"
        )]
        shard: Option<autobot_tools::backtest::shard::Shard>,
        /// Write every decision in words to OUT/trace.txt (or .jsonl with
        /// --format jsonl): the same trace `autobot replay --trace` prints.
        #[arg(long)]
        trace: bool,
        /// What the trace looks at and how it prints.
        #[command(flatten)]
        trace_opts: autobot_tools::replay::TraceOpts,
        /// Keep every input the core processed (data, quotes, the simulated
        /// exchange's reports) as OUT/journal with OUT/config.toml, so
        /// `autobot replay OUT` explains the backtest input by input.
        #[arg(long)]
        keep_journal: bool,
    },
    /// Download Binance's public USD-M futures data (data.binance.vision)
    /// into OUT with the archive's own layout, each file checked against
    /// the archive's SHA-256 .CHECKSUM (a mismatch is refused and fetched
    /// again); resumable, JOBS at once. `autobot import` and `backtest`
    /// take the aggTrades, trades, bookTicker, klines and fundingRate zips
    /// as they are.
    Download(cli::data::DownloadArgs),
    /// The trade store: a SQL read model of a run's journal (fills,
    /// orders, cancels, decisions and vetoes, state changes, equity, round
    /// trips) that a team can query (docs/backtest.md).
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Sweeps spread over machines (`backtest --sweep … --shard K/N`).
    Sweep {
        #[command(subcommand)]
        action: SweepAction,
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
        /// Trust this PEM file's CA certificates instead of the public web
        /// roots (a TLS-inspecting proxy; `[exchange] ca_file`).
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
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
    /// The trading rules the config's instruments trade with, and where
    /// each comes from: the config file, or the exchange's listing
    /// (`[exchange] listing`, an exchangeInfo snapshot beside the config).
    Instruments {
        /// Configuration file [default: config/paper.toml].
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// First fetch `GET /fapi/v1/exchangeInfo` and write it as the
        /// listing (where the network allows).
        #[arg(long)]
        refresh: bool,
        /// Fetch from this REST base [default: `[exchange] rest_url`, else
        /// https://fapi.binance.com].
        #[arg(long, value_name = "URL", requires = "refresh")]
        url: Option<String>,
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
    /// Copy the intact records of a damaged journal into a new one (the
    /// original is only read): every record before the damage, and with
    /// --skip-damaged the readable records after it, behind gap markers.
    /// A run directory's config.toml comes along, so `autobot replay NEW`
    /// works.
    Salvage {
        /// Run directory or journal directory.
        dir: PathBuf,
        /// New directory for the copy (must not exist or be empty).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Go on past the damage: copy every later record that is intact,
        /// marking the inputs lost (checkpoints after the gap are dropped).
        #[arg(long)]
        skip_damaged: bool,
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

/// clap's refusal as one line: the reason with what it lists (the missing
/// arguments), the subcommand's usage, and its help to read. clap prints
/// them on separate lines, and a first line alone ("the following required
/// arguments were not provided:") names nothing.
fn clap_one_line(text: &str) -> String {
    let mut lines = text.lines();
    let mut line = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    let listed: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    if !listed.is_empty() {
        line = format!("{} {}", line.trim_end(), listed.join(", "));
    }
    let usage = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(str::trim);
    let command = usage.map_or("autobot".to_string(), |u| {
        u.split_whitespace()
            .take_while(|w| !w.starts_with(['-', '[', '<']))
            .collect::<Vec<_>>()
            .join(" ")
    });
    match usage {
        Some(u) => format!("{line}; usage: {u} (see '{command} --help')"),
        None => format!("{line} (see '{command} --help')"),
    }
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
            eprintln!("{}", clap_one_line(&e.render().to_string()));
            return ExitCode::from(2);
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Reported>() => ExitCode::from(3),
        // stdout's reader has gone (`autobot replay --trace | head`): what
        // it wanted was written; nothing to report.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", cli::one_line(&e));
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
            bridge_gaps,
        } => commands::indicators(input, path, simd, bridge_gaps),
        Command::Dashboard { run_dir, listen } => commands::dashboard(&run_dir, listen, &mut out),
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
        } => commands::loadtest(config, rates, secs, run_dir, core, housekeeping, &mut out),
        Command::Doctor { config, root } => commands::doctor(config, root, &mut out),
        Command::Instruments {
            config,
            refresh,
            url,
        } => cli::instruments::run(config, refresh, url, &mut out),
        Command::Report {
            what:
                ReportWhat::Latency {
                    run_dir,
                    other,
                    html,
                    journal,
                },
        } => commands::report_latency(run_dir, other, html, journal, &mut out),
        Command::Journal { action } => commands::journal(action, &mut out),
        Command::Sweep {
            action: SweepAction::Merge { dirs, out: to },
        } => cli::grid::merge(&dirs, &to, &mut out),
        Command::Store {
            action:
                StoreAction::Rebuild {
                    dir,
                    config,
                    out: to,
                    url,
                },
        } => cli::data::store_rebuild(&dir, config.as_deref(), to.as_deref(), url.as_deref()),
        Command::Download(args) => cli::data::download(args),
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
            ca_file,
        } => {
            use autobot_gateways::binance::market::MarketFeedConfig;
            let trust = match ca_file {
                Some(file) => autobot_gateways::trust::Trust::load(&file)?,
                None => autobot_gateways::trust::Trust::public(),
            };
            let feed = MarketFeedConfig {
                trust,
                ..MarketFeedConfig::public(ws, rest, symbols, streams)
            };
            commands::record(path, &feed, duration, messages)
        }
        Command::Generate {
            rows,
            seed,
            out,
            config,
        } => commands::generate(rows, seed, out, config),
        Command::Backtest {
            files,
            journal,
            out,
            config,
            sweep,
            walk_forward,
            jobs,
            shard,
            trace,
            trace_opts,
            keep_journal,
        } => commands::backtest(
            (files, journal, out, config),
            (sweep, walk_forward, jobs, shard),
            autobot_tools::backtest::observe::Keep {
                trace: trace.then_some(trace_opts),
                journal: keep_journal,
            },
        ),
        Command::Import { files, out, config } => commands::import(files, out, config),
        Command::Features {
            files,
            journal,
            out,
            horizons,
            config,
        } => cli::data::features(files, journal, &out, &horizons, config),
        Command::Analyze { dir, out, config } => cli::data::analyze(&dir, out, config.as_deref()),
        Command::Strategies {
            files,
            config,
            folds,
            jobs,
            out: dir,
            doc,
        } => commands::strategies(
            &files,
            config,
            (folds, jobs),
            &dir,
            doc.as_deref(),
            &mut out,
        ),
        Command::Calibrate {
            capture,
            symbol,
            seconds,
            config,
        } => commands::calibrate(&capture, &symbol, seconds, config, &mut out),
        Command::Simexchange(args) => cli::simexchange::simexchange(args),
        Command::Run {
            config,
            duration,
            seed,
            run_dir,
            events,
            resume,
            live,
            keep_failed_start,
        } => commands::run(
            config,
            duration,
            seed,
            run_dir,
            events,
            resume,
            (live, keep_failed_start),
        ),
    }
}
