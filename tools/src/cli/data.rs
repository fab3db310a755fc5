//! The data commands' handling: `download`, `features`, `analyze` and
//! `store rebuild` (their work lives in the library; this prints it).

use std::path::{Path, PathBuf};

use autobot_tools::download;

/// `autobot download`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DownloadArgs {
    /// Symbols, comma-separated (BTCUSDT,ETHUSDT).
    #[arg(long, value_delimiter = ',', required = true)]
    symbols: Vec<String>,
    /// Data kinds, comma-separated: aggTrades, bookTicker, trades,
    /// klines:<interval>, markPriceKlines:<interval>, fundingRate
    /// (monthly only), bookDepth, metrics (daily only).
    #[arg(long, value_delimiter = ',', required = true)]
    kinds: Vec<String>,
    /// First day (YYYY-MM-DD) or month (YYYY-MM).
    #[arg(long)]
    from: String,
    /// Last day or month, inclusive [default: --from].
    #[arg(long)]
    to: Option<String>,
    /// Monthly files instead of daily ones.
    #[arg(long)]
    monthly: bool,
    /// Where the archive's layout is written.
    #[arg(long, value_name = "DIR", default_value = "data")]
    out: PathBuf,
    /// The archive.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://data.binance.vision"
    )]
    base_url: String,
    /// Downloads at once (1 ..= 32).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    jobs: u16,
    /// Tries per file when a transfer fails or its checksum does not
    /// match (1 ..= 10).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    attempts: u32,
}

/// `autobot download`.
pub fn download(a: DownloadArgs) -> anyhow::Result<()> {
    let kinds = a
        .kinds
        .iter()
        .map(|k| k.parse::<download::Kind>())
        .collect::<Result<Vec<_>, _>>()?;
    let first = download::parse_date(&a.from, false)?;
    let last = download::parse_date(a.to.as_deref().unwrap_or(&a.from), true)?;
    let period = if a.monthly {
        download::Period::Monthly
    } else {
        download::Period::Daily
    };
    let files = download::plan(&a.symbols, &kinds, (first, last), period)?;
    eprintln!(
        "{} files from {} into {}",
        files.len(),
        a.base_url,
        a.out.display()
    );
    let settings = download::Settings {
        base_url: a.base_url,
        out: a.out,
        jobs: usize::from(a.jobs),
        attempts: a.attempts,
    };
    let s = download::run(&files, &settings)?;
    for absent in &s.absent {
        eprintln!("  not in the archive: {absent}");
    }
    println!(
        "{} downloaded ({:.1} MB, {} continued, {} checksum mismatches refused and fetched again), {} already there, {} not in the archive",
        s.fetched,
        s.bytes as f64 / 1e6,
        s.resumed,
        s.mismatches,
        s.present,
        s.absent.len()
    );
    Ok(())
}

/// `autobot store rebuild`.
pub fn store_rebuild(
    dir: &Path,
    config: Option<&Path>,
    out: Option<&Path>,
    url: Option<&str>,
) -> anyhow::Result<()> {
    use autobot_tools::store::Target;
    let to = match (out, url) {
        (Some(f), None) => Some(Target::Sqlite(f.to_path_buf())),
        (None, Some(u)) => Some(Target::Postgres(u.to_string())),
        _ => None,
    };
    let (path, c) = autobot_tools::store::rebuild(dir, config, to)?;
    println!(
        "rebuilt {} from {} inputs: {} fills, {} orders, {} cancels, {} decisions, {} state changes, {} equity points, {} round trips",
        path,
        c.inputs,
        c.fills,
        c.orders,
        c.cancels,
        c.decisions,
        c.state_changes,
        c.equity,
        c.round_trips
    );
    Ok(())
}

/// `autobot features`.
pub fn features(
    files: Vec<PathBuf>,
    journal: Option<PathBuf>,
    out: &Path,
    horizons: &[u32],
    config: Option<PathBuf>,
) -> anyhow::Result<()> {
    let config = config.unwrap_or_else(|| PathBuf::from("config/backtest-1m.toml"));
    let cfg = autobot_tools::config::AppConfig::load(&config)?;
    let data = journal.map_or(
        autobot_tools::backtest::run::DataSource::Files(files),
        autobot_tools::backtest::run::DataSource::Imported,
    );
    let m = autobot_tools::features_cmd::export(&cfg, &data, out, horizons)?;
    println!(
        "wrote {} rows of {} features (version {}, hash {}) to {} and {}",
        m.rows,
        autobot_engine::features::vector::N,
        m.feature_version,
        m.feature_hash,
        out.display(),
        autobot_tools::features_cmd::manifest_path(out).display()
    );
    Ok(())
}

/// `autobot analyze`.
pub fn analyze(dir: &Path, out: Option<PathBuf>, config: Option<&Path>) -> anyhow::Result<()> {
    let a = autobot_tools::analyze::analyze(dir, config)?;
    let to = out.unwrap_or_else(|| dir.join("analysis"));
    let written = autobot_tools::analyze::write(&a, &to)?;
    println!(
        "{} round trips judged, {} labelled; {} vetoed intents ({} simulated, hypothetical PnL {:.2} USDT)",
        a.trips.len(),
        a.trips.iter().filter(|t| !t.labels.is_empty()).count(),
        a.vetoed,
        a.vetoed_simulated,
        a.vetoed_hypothetical_pnl
    );
    for g in &a.by_label {
        println!("  {:<22} {:>6} trips  PnL {:.2}", g.name, g.trips, g.pnl);
    }
    if !a.gaps.is_empty() {
        println!("{} gaps in the market data:", a.gaps.len());
        for g in a.gaps.iter().take(10) {
            println!(
                "  {} {} → {} ({:.0} min)",
                g.symbol, g.from, g.to, g.minutes
            );
        }
    }
    for p in written {
        println!("wrote {}", p.display());
    }
    Ok(())
}
