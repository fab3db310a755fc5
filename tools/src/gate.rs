//! The deployment gate (SPEC 6): what must hold before `autobot run` may
//! trade on an exchange instead of on paper.
//!
//! - DRY_RUN and PAPER pass; `--live` with them is refused (it would mean
//!   the user believes they are about to trade real money).
//! - TESTNET needs API keys, and `[exchange] execution = "exchange"` with
//!   `endpoint = "url"` (an exchange to trade on).
//! - LIVE needs a config whose `run.mode` is `live`, the `--live` flag, API
//!   keys, the same `[exchange]` settings, and then a 10 s countdown that
//!   prints what is about to trade; Ctrl-C during the countdown aborts
//!   before anything starts. Every refusal of the config comes before the
//!   countdown.
//!
//! The gate runs before a run directory, journal or thread exists, so a
//! refusal leaves nothing behind.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use autobot_gateways::credentials::{CredentialError, Credentials};

use crate::config::{AppConfig, Deployment};

/// Length of the LIVE countdown.
pub const COUNTDOWN_SECS: u64 = 10;

/// Why the gate refused to start.
#[derive(Debug, thiserror::Error)]
pub enum GateRefusal {
    /// A live config without `--live`.
    #[error("{file} has run.mode = \"live\": this trades real money; add --live to confirm")]
    LiveFlagMissing {
        /// The config file.
        file: String,
    },
    /// `--live` with a config that is not live.
    #[error(
        "--live is only for a config with run.mode = \"live\"; {file} has run.mode = \"{mode}\""
    )]
    NotALiveConfig {
        /// The config file.
        file: String,
        /// Its deployment.
        mode: &'static str,
    },
    /// Testnet or live without usable keys.
    #[error("{mode} trading needs API keys: {source}")]
    Credentials {
        /// The deployment that needs them.
        mode: &'static str,
        /// What is wrong with them.
        source: CredentialError,
    },
    /// Testnet or live with paper execution or without an exchange to
    /// trade on: refused here, before any countdown.
    #[error(
        "run.mode = \"{mode}\" trades on an exchange, so {file} needs [exchange] execution = \"exchange\" and endpoint = \"url\"; it has execution = \"{execution}\" and endpoint = \"{endpoint}\""
    )]
    NeedsExchange {
        /// The config file.
        file: String,
        /// Its deployment.
        mode: &'static str,
        /// Its `[exchange] execution`.
        execution: &'static str,
        /// Its `[exchange] endpoint`.
        endpoint: &'static str,
    },
    /// Ctrl-C during the countdown.
    #[error("live start aborted during the countdown; nothing was started")]
    Aborted,
}

/// What the gate let through.
#[derive(Debug)]
pub struct Cleared {
    /// The deployment.
    pub mode: Deployment,
    /// The keys (testnet and live).
    pub credentials: Option<Credentials>,
}

/// Checks everything but the countdown. `file` names the config in
/// messages; `keys` loads the credentials (only called when needed).
pub fn check(
    cfg: &AppConfig,
    file: &str,
    live_flag: bool,
    keys: impl FnOnce() -> Result<Credentials, CredentialError>,
) -> Result<Cleared, GateRefusal> {
    let mode = cfg.run.mode;
    match (mode, live_flag) {
        (Deployment::Live, false) => {
            return Err(GateRefusal::LiveFlagMissing {
                file: file.to_string(),
            });
        }
        (Deployment::DryRun | Deployment::Paper | Deployment::Testnet, true) => {
            return Err(GateRefusal::NotALiveConfig {
                file: file.to_string(),
                mode: mode.name(),
            });
        }
        _ => {}
    }
    let credentials = match mode {
        Deployment::DryRun | Deployment::Paper => None,
        Deployment::Testnet | Deployment::Live => {
            Some(keys().map_err(|source| GateRefusal::Credentials {
                mode: mode.name(),
                source,
            })?)
        }
    };
    // Every refusal the run would make of the config comes before the
    // countdown: the operator must not count down to a refusal.
    if credentials.is_some() && !cfg.trades_on_an_exchange() {
        return Err(GateRefusal::NeedsExchange {
            file: file.to_string(),
            mode: mode.name(),
            execution: cfg.exchange.execution.name(),
            endpoint: cfg.exchange.endpoint.name(),
        });
    }
    Ok(Cleared { mode, credentials })
}

/// What a live run is about to trade, for the countdown banner.
pub fn announcement(cfg: &AppConfig, credentials: &Credentials) -> String {
    let symbols: Vec<&str> = cfg.instruments.iter().map(|i| i.symbol.as_str()).collect();
    let r = &cfg.risk;
    format!(
        "LIVE TRADING WITH REAL MONEY on Binance USD-M\n\
         \x20 instruments:    {}\n\
         \x20 limits:         max position {} USDT per symbol, max order {} USDT, \
         max leverage {}x, daily loss {}, drawdown {}\n\
         \x20 sizing:         {} of equity at risk per stopped entry, {} USDT without a stop, \
         Kelly x{}\n\
         \x20 control mode:   {:?} at start (a restored journal keeps its own)\n\
         \x20 account:        leverage {}x\n\
         \x20 API keys from:  {}\n",
        symbols.join(", "),
        r.max_position_notional,
        r.max_order_notional,
        r.max_leverage,
        r.max_daily_loss,
        r.max_drawdown,
        r.sizing.risk_per_trade,
        r.sizing.notional,
        r.sizing.kelly_fraction,
        cfg.control.mode,
        cfg.account.leverage,
        credentials.source,
    )
}

/// Counts down `secs` seconds on `out`, one line per second; returns
/// [`GateRefusal::Aborted`] as soon as `stop` is set (Ctrl-C).
pub fn countdown(secs: u64, stop: &AtomicBool, out: &mut impl Write) -> Result<(), GateRefusal> {
    let _ = writeln!(out, "starting in {secs} s; Ctrl-C aborts");
    let begin = Instant::now();
    for left in (1..=secs).rev() {
        let _ = writeln!(out, "  {left}");
        let _ = out.flush();
        let until = begin + Duration::from_secs(secs - left + 1);
        // The wait is the point (the operator's time to read and abort);
        // the flag is checked often so Ctrl-C answers at once.
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return Err(GateRefusal::Aborted);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    if stop.load(Ordering::Relaxed) {
        return Err(GateRefusal::Aborted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Endpoint, Execution};
    use autobot_gateways::credentials::{ENV_KEY, ENV_SECRET};

    /// The shipped paper config in `mode`; testnet and live on an
    /// exchange at a URL, as they must be.
    fn cfg(mode: Deployment) -> AppConfig {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/paper.toml");
        let mut cfg = AppConfig::load(std::path::Path::new(path)).unwrap();
        cfg.run.mode = mode;
        if matches!(mode, Deployment::Testnet | Deployment::Live) {
            cfg.exchange.execution = Execution::Exchange;
            cfg.exchange.endpoint = Endpoint::Url;
        }
        cfg
    }

    fn keys() -> Result<Credentials, CredentialError> {
        Credentials::from_vars(|name| match name {
            ENV_KEY => Some("key".into()),
            ENV_SECRET => Some("secret".into()),
            _ => None,
        })
    }

    fn no_keys() -> Result<Credentials, CredentialError> {
        Err(CredentialError::Missing)
    }

    #[test]
    fn paper_and_dry_run_need_nothing_and_refuse_live_flag() {
        for mode in [Deployment::Paper, Deployment::DryRun] {
            let c = check(&cfg(mode), "f", false, no_keys).unwrap();
            assert!(c.credentials.is_none());
            assert!(matches!(
                check(&cfg(mode), "f", true, keys),
                Err(GateRefusal::NotALiveConfig { .. })
            ));
        }
    }

    #[test]
    fn testnet_needs_keys_but_no_flag() {
        let err = check(&cfg(Deployment::Testnet), "f", false, no_keys).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("testnet trading needs API keys")
        );
        assert!(check(&cfg(Deployment::Testnet), "f", false, keys).is_ok());
        assert!(check(&cfg(Deployment::Testnet), "f", true, keys).is_err());
    }

    #[test]
    fn live_needs_the_flag_and_keys() {
        let live = cfg(Deployment::Live);
        assert!(matches!(
            check(&live, "f", false, keys),
            Err(GateRefusal::LiveFlagMissing { .. })
        ));
        assert!(matches!(
            check(&live, "f", true, no_keys),
            Err(GateRefusal::Credentials { mode: "live", .. })
        ));
        let c = check(&live, "f", true, keys).unwrap();
        let text = announcement(&live, c.credentials.as_ref().unwrap());
        assert!(text.contains("BTCUSDT, ETHUSDT"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn testnet_and_live_need_an_exchange_before_any_countdown() {
        for (mode, flag) in [(Deployment::Testnet, false), (Deployment::Live, true)] {
            let mut paper_fills = cfg(mode);
            paper_fills.exchange.execution = Execution::Paper;
            let e = check(&paper_fills, "f.toml", flag, keys).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "run.mode = \"{}\" trades on an exchange, so f.toml needs [exchange] execution = \"exchange\" and endpoint = \"url\"; it has execution = \"paper\" and endpoint = \"url\"",
                    mode.name()
                )
            );
            let mut simulated = cfg(mode);
            simulated.exchange.endpoint = Endpoint::Simulator;
            let e = check(&simulated, "f.toml", flag, keys).unwrap_err();
            assert!(e.to_string().ends_with("endpoint = \"simulator\""), "{e}");
        }
    }

    #[test]
    fn the_countdown_stops_when_asked() {
        let stop = AtomicBool::new(true);
        let mut out = Vec::new();
        assert!(matches!(
            countdown(COUNTDOWN_SECS, &stop, &mut out),
            Err(GateRefusal::Aborted)
        ));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("starting in 10 s"), "{text}");
        let quiet = AtomicBool::new(false);
        assert!(countdown(0, &quiet, &mut Vec::new()).is_ok());
    }
}
