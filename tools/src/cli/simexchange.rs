//! `autobot simexchange`: the exchange simulator on its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use autobot_tools::config::AppConfig;

use super::actions::SimClockArg;

/// `autobot simexchange`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Configuration file (instruments and [market]) [default: config/paper.toml].
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Stream this capture (`<ns> <json>` lines, .gz ok) instead of the
    /// synthetic market.
    #[arg(long, value_name = "FILE")]
    capture: Option<PathBuf>,
    /// Pace: 1 = real time (a capture as recorded; the synthetic market
    /// at its own rates, or at `[market] events_per_sec` with `--clock
    /// wall`); 0 = as fast as clients read.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    speed: f64,
    /// WebSocket listen address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9443")]
    ws: std::net::SocketAddr,
    /// REST listen address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9080")]
    rest: std::net::SocketAddr,
    /// The accounts: an owner-only TOML file of `[[accounts]]` tables
    /// (`api_key`, `api_secret` (HMAC or Ed25519 PEM), optional `balance`
    /// and `leverage`; docs/simexchange.md). Without it, one account from
    /// AUTOBOT_API_KEY/AUTOBOT_API_SECRET or AUTOBOT_KEY_FILE, if set.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Ping every WebSocket connection this often and drop one silent
    /// for three of these (Binance: 180).
    #[arg(long, value_name = "SECS", default_value_t = 180,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    ping_secs: u64,
    /// Whose time the exchange keeps: `data` (every endpoint reports the
    /// time of the market streamed; the synthetic market starts now) or
    /// `wall` (serverTime and the recvWindow check read the host's clock).
    #[arg(long, value_name = "CLOCK", default_value = "data")]
    clock: SimClockArg,
    /// Refuse requests over Binance's limits: 2400 weight a minute (429
    /// -1003) and 300 new orders per 10 s or 1200 a minute per account
    /// (429 -1015). Counted and reported in headers either way.
    #[arg(long)]
    rate_limits: bool,
    /// Serve the streams as `wss://` with this certificate (PEM chain;
    /// with --tls-key), so clients' TLS path and `[exchange] ca_file` can
    /// be tried on loopback. REST stays `http://`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM, readable by its owner only).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// `autobot simexchange`.
pub(crate) fn simexchange(args: Args) -> anyhow::Result<()> {
    let Args {
        config,
        capture,
        speed,
        ws,
        rest,
        keys,
        ping_secs,
        clock,
        rate_limits,
        tls_cert,
        tls_key,
    } = args;
    let config = config.unwrap_or_else(|| PathBuf::from("config/paper.toml"));
    let data_clock = clock == SimClockArg::Data;
    use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
    anyhow::ensure!(
        speed.is_finite() && (0.0..=1000.0).contains(&speed),
        "--speed {speed} is out of range; allowed: 0 ..= 1000"
    );
    let mut cfg = AppConfig::load(&config)?;
    if data_clock {
        // One clock: the synthetic market at its own rates (one market
        // second per second), so the data's time keeps pace with a
        // client's clock; `[market] events_per_sec` paces `autobot run`'s
        // faster market.
        let per_symbol = cfg.market.quotes_per_sec + cfg.market.trades_per_sec;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let real_time = (per_symbol * cfg.instruments.len() as f64).round().max(1.0) as u32;
        cfg.market.events_per_sec = real_time;
    }
    let is_capture = capture.is_some();
    let source = match capture {
        Some(path) => SimSource::Capture(path),
        None => SimSource::Synthetic {
            config: cfg.market.clone(),
            skip: 0,
            max_items: None,
        },
    };
    let mut sim_cfg = SimConfig::loopback(source, cfg.core().instruments.to_vec());
    sim_cfg.speed = speed;
    sim_cfg.ping_every = std::time::Duration::from_secs(ping_secs);
    sim_cfg.enforce_limits = rate_limits;
    if data_clock {
        sim_cfg.clock = autobot_gateways::sim::SimClock::Data;
        sim_cfg.start_now = !is_capture;
    }
    // A capture waits for its first client (so it misses nothing); the
    // synthetic market runs from the start, as an exchange does.
    sim_cfg.start_on_first_client = is_capture;
    sim_cfg.ws_bind = ws;
    sim_cfg.rest_bind = rest;
    sim_cfg.account = cfg.simulated_account();
    sim_cfg.accounts = autobot_tools::sim_accounts::load(keys.as_deref(), &sim_cfg.account, |v| {
        std::env::var(v).ok()
    })?;
    if let (Some(cert), Some(key)) = (&tls_cert, &tls_key) {
        sim_cfg.tls = Some(autobot_gateways::http::TlsIdentity::load(cert, key)?);
    }
    let accounts = sim_cfg.accounts.len();
    let sim = SimExchange::start(sim_cfg)?;
    if accounts == 0 {
        eprintln!(
            "simexchange: no accounts (--keys FILE, or AUTOBOT_API_KEY and AUTOBOT_API_SECRET): \
             signed requests are refused (-2015)"
        );
    } else {
        eprintln!("simexchange: {accounts} account(s)");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("cannot install the Ctrl-C handler")?;
    eprintln!(
        "simexchange: streams {}/stream?streams=<symbol>@<stream>/… (or /ws/<stream>, /ws), REST {}; Ctrl-C stops",
        sim.ws_url(),
        sim.rest_url()
    );
    let h = sim.handle();
    let mut told = false;
    while !stop.load(Ordering::Relaxed) {
        if is_capture && h.finished() && !told {
            eprintln!("simexchange: the capture has been streamed to its end");
            told = true;
        }
        if let Some(e) = h.feed_error() {
            anyhow::bail!("capture: {e}");
        }
        // An idle server loop, not a test: check its end a few times a second.
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let st = h.stats();
    eprintln!(
        "simexchange: {} items, {} messages sent, {} connections ({} dropped), {} REST requests",
        st.items.load(Ordering::Relaxed),
        st.sent.load(Ordering::Relaxed),
        st.connections.load(Ordering::Relaxed),
        st.dropped.load(Ordering::Relaxed),
        st.rest_requests.load(Ordering::Relaxed)
    );
    Ok(())
}
