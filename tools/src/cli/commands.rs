//! The commands' bodies: each reads its arguments, does its work through
//! the library, and prints what it did (`main.rs` only parses and routes).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use autobot_engine::features::kernels::{Isa, Kernels};
use autobot_gateways::credentials::Credentials;
use autobot_tools::config::{AppConfig, Deployment};
use autobot_tools::gate;
use autobot_tools::journal_cmd;
use autobot_tools::run::{RunOptions, run_paper};

use super::Reported;
use crate::{JournalAction, Range};

/// `autobot indicators`.
pub(crate) fn indicators(
    input: PathBuf,
    path: PathBuf,
    simd: Option<String>,
    bridge: bool,
) -> anyhow::Result<()> {
    let (isa, source) = Isa::choose(simd.as_deref())?;
    let kernels = Kernels::new(isa).context("kernel path vanished after detection")?;
    eprintln!("kernels: {isa} ({source})");
    let mut file =
        std::fs::File::open(&input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut magic = [0u8; 6];
    // freqtrade's feather files and NautilusTrader's catalogs (a bar
    // partition, or one of its Parquet files).
    let columnar = input.is_dir()
        || std::io::Read::read(&mut file, &mut magic).is_ok_and(|n| {
            n == magic.len()
                && (magic.starts_with(autobot_tools::backtest::feather::MAGIC)
                    || magic.starts_with(autobot_tools::backtest::nautilus::MAGIC))
        });
    std::io::Seek::rewind(&mut file).with_context(|| format!("reading {}", input.display()))?;
    let mut w = autobot_tools::whole::WholeFile::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let counts = if columnar {
        let bars = autobot_tools::indicators::Bars::of_columnar(&input)?;
        autobot_tools::indicators::compute(
            &bars,
            &mut w,
            std::io::stderr().lock(),
            &kernels,
            bridge,
        )
    } else {
        autobot_tools::indicators::run(
            std::io::BufReader::new(file),
            &mut w,
            std::io::stderr().lock(),
            &kernels,
            bridge,
        )
    }
    .with_context(|| input.display().to_string())?;
    w.finish()
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "wrote indicators of {} bars to {} ({} skipped, {} gaps)",
        counts.bars,
        path.display(),
        counts.skipped,
        counts.gaps
    );
    Ok(())
}

/// `autobot loadtest`.
pub(crate) fn loadtest(
    config: Option<PathBuf>,
    rates: Vec<u32>,
    secs: f64,
    run_dir: PathBuf,
    core: Option<usize>,
    housekeeping: Option<usize>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let config = config.unwrap_or_else(|| PathBuf::from("config/bench-emaflip.toml"));
    let cfg = AppConfig::load(&config)?;
    anyhow::ensure!(
        secs > 0.0 && secs <= 3600.0,
        "--secs {secs} is out of range; allowed: more than 0, up to 3600"
    );
    if let Some(r) = rates.iter().find(|r| **r == 0 || **r > 10_000_000) {
        anyhow::bail!("--rates {r} is out of range; allowed: each rate 1 ..= 10000000 messages/s");
    }
    for rate in rates {
        let place = autobot_tools::loadtest::Placement { core, housekeeping };
        let report = autobot_tools::loadtest::run_rate(&cfg, rate, secs, &run_dir, place)?;
        writeln!(out, "{}", report.render())?;
        out.flush()?;
    }
    Ok(())
}

/// `autobot doctor`.
pub(crate) fn doctor(
    config: Option<PathBuf>,
    root: PathBuf,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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
    let mut findings = doctor::examine(&root, &cfg.engine, &doctor::Limits::of_process(&root));
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

/// `autobot report`.
pub(crate) fn report_latency(
    run_dir: PathBuf,
    other: Option<PathBuf>,
    html: Option<PathBuf>,
    journal: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
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

/// `autobot journal`.
pub(crate) fn journal(action: JournalAction, out: &mut impl Write) -> anyhow::Result<()> {
    match action {
        JournalAction::Inspect { dir } => journal_cmd::inspect(&dir, out)?,
        JournalAction::Verify { dir } => journal_cmd::verify(&dir, out)?,
        JournalAction::Salvage {
            dir,
            out: to,
            skip_damaged,
        } => journal_cmd::salvage(&dir, &to, skip_damaged, out)?,
        JournalAction::Dump { dir, range } => {
            journal_cmd::dump(&dir, range.from, range.until, out)?
        }
        JournalAction::Export {
            dir,
            format,
            out: file,
            range: Range { from, until },
        } => match file {
            Some(path) => {
                let mut w = autobot_tools::whole::WholeFile::create(&path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                let n = if format == journal_cmd::Format::Parquet {
                    journal_cmd::export_parquet(&dir, from, until, &mut w)?
                } else {
                    journal_cmd::export(&dir, format, from, until, &mut w)?
                };
                w.finish()
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote {n} inputs to {}", path.display());
            }
            None => {
                journal_cmd::export(&dir, format, from, until, out)?;
            }
        },
    }
    out.flush()?;
    Ok(())
}

/// `autobot record`.
pub(crate) fn record(
    path: PathBuf,
    feed: &autobot_gateways::binance::market::MarketFeedConfig,
    duration: Option<u64>,
    messages: Option<u64>,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("cannot install the Ctrl-C handler")?;
    eprintln!("record: {} → {}; Ctrl-C stops", feed.url(), path.display());
    let st = autobot_gateways::binance::record::record(
        feed,
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

/// `autobot generate`.
pub(crate) fn generate(
    rows: u64,
    seed: Option<u64>,
    out: PathBuf,
    config: Option<PathBuf>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        rows > 0,
        "--rows 0 would write files with no rows; allowed: 1 or more"
    );
    let mut cfg = AppConfig::load(&config.unwrap_or_else(|| PathBuf::from("config/paper.toml")))?;
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

/// `autobot strategies`.
pub(crate) fn strategies(
    files: &[PathBuf],
    config: Option<PathBuf>,
    (folds, jobs): (u32, Option<usize>),
    dir: &Path,
    doc: Option<&Path>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use autobot_tools::strategies::{evaluate, markdown, splice};
    let config = config.unwrap_or_else(|| PathBuf::from("config/backtest-1m.toml"));
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let data = autobot_tools::backtest::run::DataSource::Files(files.to_vec());
    let rows = evaluate(&config, &data, folds, jobs, dir)?;
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let command = format!(
        "autobot strategies -c {} --folds {folds} {}",
        config.display(),
        shown.join(" ")
    );
    let table = markdown(&rows, folds, &command);
    write!(out, "{table}")?;
    if let Some(doc) = doc {
        let text =
            std::fs::read_to_string(doc).with_context(|| format!("reading {}", doc.display()))?;
        let Some(new) = splice(&text, &table) else {
            anyhow::bail!(
                "{} has no <!-- strategies:begin --> ... <!-- strategies:end --> markers",
                doc.display()
            );
        };
        autobot_tools::whole::write(doc, new)
            .with_context(|| format!("writing {}", doc.display()))?;
        eprintln!("the table is in {}", doc.display());
    }
    Ok(())
}

/// `autobot calibrate`.
pub(crate) fn calibrate(
    capture: &Path,
    symbol: &str,
    seconds: u64,
    config: Option<PathBuf>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use autobot_tools::calibrate::{measure_capture, measure_generated, render};
    let cfg = AppConfig::load(&config.unwrap_or_else(|| PathBuf::from("config/paper.toml")))?;
    let instruments = cfg.core().instruments;
    let names: Vec<String> = instruments.iter().map(|i| i.name.to_string()).collect();
    let Some(ins) = instruments.iter().find(|i| i.name.as_str() == symbol) else {
        anyhow::bail!(
            "{symbol} is not an instrument of the config (it has {})",
            names.join(", ")
        );
    };
    let measured = measure_capture(capture, &names, ins)?;
    if measured.quotes_per_sec == 0.0 {
        anyhow::bail!(
            "{}: no {symbol} book tickers in the capture",
            capture.display()
        );
    }
    let generated = measure_generated(&cfg.market, &instruments, ins, seconds);
    write!(out, "{}", render(symbol, &measured, &generated))?;
    Ok(())
}

/// `autobot backtest`.
pub(crate) fn backtest(
    (files, journal, out, config): (Vec<PathBuf>, Option<PathBuf>, PathBuf, Option<PathBuf>),
    (sweep, walk_forward, jobs, shard): (
        Vec<String>,
        Option<u32>,
        Option<usize>,
        Option<autobot_tools::backtest::shard::Shard>,
    ),
    keep: autobot_tools::backtest::observe::Keep,
) -> anyhow::Result<()> {
    use autobot_tools::backtest::{observe, output, report, run};
    let config = config.unwrap_or_else(|| PathBuf::from("config/paper.toml"));
    let cfg = AppConfig::load(&config)?;
    // A symbol the config does not name (of a data file, or of an imported
    // journal) takes its rules from the listing beside the config.
    let snapshot = cfg.listing_path(&config);
    let (cfg, listed) = match &journal {
        Some(dir) => {
            let symbols = autobot_tools::backtest::import::symbols_of(dir)?;
            autobot_tools::listed::with_listed_symbols(&cfg, &symbols, dir, &snapshot)?
        }
        None => autobot_tools::listed::with_listed(&cfg, &files, &snapshot)?,
    };
    say_listed(&listed, &config, &snapshot);
    let data = journal.map_or(run::DataSource::Files(files), run::DataSource::Imported);
    if !sweep.is_empty() || walk_forward.is_some() {
        if keep.trace.is_some() || keep.journal {
            anyhow::bail!(
                "--trace and --keep-journal are for one backtest, not a --sweep or --walk-forward"
            );
        }
        let jobs = jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        });
        let grid = super::grid::Grid {
            sweep: &sweep,
            walk_forward,
            shard,
            jobs,
        };
        return super::grid::backtest_grid(&config, &cfg, &data, &grid, &out);
    }
    let mut failure = observe::Failure::default();
    let done = run::run_observed(&cfg, &data, (None, true), |symbols| {
        let (o, f) = observe::observer(&keep, &cfg, symbols, &out)?;
        failure = f;
        Ok(o)
    })?;
    if let Some(e) = failure
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
    {
        anyhow::bail!("writing what the backtest keeps: {e}");
    }
    let rep = report::Report::new(&done.backtest, &done.core, &cfg.backtest);
    output::write(&out, &rep, (&done.backtest, &done.core), &cfg)
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

/// `autobot import`.
pub(crate) fn import(
    files: Vec<PathBuf>,
    out: PathBuf,
    config: Option<PathBuf>,
) -> anyhow::Result<()> {
    use autobot_tools::backtest::{SymbolFiles, import::import};
    let config = config.unwrap_or_else(|| PathBuf::from("config/paper.toml"));
    let cfg = AppConfig::load(&config)?;
    let snapshot = cfg.listing_path(&config);
    let (cfg, listed) = autobot_tools::listed::with_listed(&cfg, &files, &snapshot)?;
    say_listed(&listed, &config, &snapshot);
    let configured: Vec<String> = cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
    let input = SymbolFiles::of_data(&files, &configured)?;
    let report = import(&input, &cfg.journal, &out)?;
    for f in &report.manifest.files {
        eprintln!("  {}  {} rows ({})", f.path, f.rows, f.format);
        if f.held > 0 {
            eprintln!(
                "    {} rows with event_time before the row before's: kept in update_id order, stamped at that row's time",
                f.held
            );
        }
        for gap in &f.gaps {
            eprintln!("    {gap}");
        }
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

/// Names on stderr the symbols whose rules came from the listing.
fn say_listed(listed: &[String], config: &Path, snapshot: &Path) {
    for symbol in listed {
        eprintln!(
            "{symbol}: not in {}; its rules come from {} (default maintenance-margin brackets)",
            config.display(),
            snapshot.display()
        );
    }
}

/// `autobot run`.
pub(crate) fn run(
    config: Option<PathBuf>,
    duration: Option<u64>,
    seed: Option<u64>,
    run_dir: Option<String>,
    events: Option<u64>,
    resume: Option<PathBuf>,
    (live, keep_failed_start): (bool, bool),
) -> anyhow::Result<()> {
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
    anyhow::ensure!(
        events != Some(0),
        "--events 0 would run nothing; allowed: 1 or more (leave it out to run for [run] duration_secs)"
    );
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
        keep_failed_start,
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
    let text = autobot_tools::summary::render(&outcome, cfg.run.mode, &cfg.market_description());
    print!("{text}");
    autobot_tools::whole::write(&outcome.run_dir.join("summary.txt"), &text)
        .context("cannot write summary.txt")?;
    Ok(())
}

/// `autobot dashboard RUN_DIR`.
pub(crate) fn dashboard(
    run_dir: &Path,
    listen: std::net::SocketAddr,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("cannot install the Ctrl-C handler")?;
    autobot_tools::finished::serve(run_dir, listen, &stop, out)
}
