//! `autobot simexchange`: the exchange simulator on its own.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use autobot_tools::config::AppConfig;

/// What `autobot simexchange` serves besides the market.
pub struct Options<'a> {
    /// `--keys`: the accounts' file.
    pub keys: Option<&'a std::path::Path>,
    /// `--ping-secs`.
    pub ping_secs: u64,
    /// `--clock data` (else wall).
    pub data_clock: bool,
    /// `--rate-limits`.
    pub rate_limits: bool,
}

/// `autobot simexchange`.
pub fn simexchange(
    config: &std::path::Path,
    capture: Option<PathBuf>,
    speed: f64,
    (ws, rest): (std::net::SocketAddr, std::net::SocketAddr),
    opts: Options<'_>,
) -> anyhow::Result<()> {
    let Options {
        keys,
        ping_secs,
        data_clock,
        rate_limits,
    } = opts;
    use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
    anyhow::ensure!(
        speed.is_finite() && (0.0..=1000.0).contains(&speed),
        "--speed {speed} is out of range; allowed: 0 ..= 1000"
    );
    let mut cfg = AppConfig::load(config)?;
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
    sim_cfg.accounts =
        autobot_tools::sim_accounts::load(keys, &sim_cfg.account, |v| std::env::var(v).ok())?;
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
