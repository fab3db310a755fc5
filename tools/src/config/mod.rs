//! The whole configuration file: every section, composed and cross-checked.

pub mod advisor;
pub mod backtest;
pub mod listing;
pub mod notify;
pub mod store;

use std::path::Path;

use autobot_engine::config::{
    self as cfg, AccountConfig, ConfigError, ControlConfig, CoreConfig, EngineConfig,
    InstrumentConfig, JournalConfig, RangeError, RiskConfig, StrategyConfig, Validate, check_range,
};
use autobot_exchange::FillConfig;
use autobot_gateways::synthetic::SyntheticConfig;
use autobot_gateways::trust::{Trust, TrustError};
use serde::Deserialize;

/// Deployment (SPEC section 6). The gate (`crate::gate`) decides what each
/// needs before it starts; testnet and live also need exchange execution
/// to a URL, which `run` checks after the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployment {
    /// Signals only: every order intent is audited and vetoed.
    DryRun,
    /// Simulated fills against the engine's own book.
    Paper,
    /// Binance testnet.
    Testnet,
    /// Binance with real money.
    Live,
}

impl Endpoint {
    /// The name as the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Simulator => "simulator",
            Endpoint::Url => "url",
            Endpoint::Direct => "direct",
        }
    }
}

impl Execution {
    /// The name as the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Execution::Paper => "paper",
            Execution::Exchange => "exchange",
        }
    }
}

impl Deployment {
    /// The name as the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Deployment::DryRun => "dry-run",
            Deployment::Paper => "paper",
            Deployment::Testnet => "testnet",
            Deployment::Live => "live",
        }
    }
}

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Deployment; `paper` is the default.
    pub mode: Deployment,
    /// Wall-clock length of a run in seconds (1 ..= 604800).
    pub duration_secs: u64,
    /// Directory under which each run gets its own directory.
    pub run_dir: String,
}

impl Validate for RunConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "duration_secs", self.duration_secs, 1, 604_800)?;
        if self.run_dir.trim().is_empty() {
            return Err(RangeError::new(at, "run_dir", "\"\"", "a directory path"));
        }
        Ok(())
    }
}

/// Where market data comes from (`[exchange].endpoint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// The built-in exchange simulator, started by the run on loopback;
    /// the engine connects to it over WebSocket and REST.
    Simulator,
    /// An exchange (or `autobot simexchange`) at `ws_url` / `rest_url`.
    Url,
    /// No sockets: the synthetic generator publishes straight into the
    /// ring (for soak runs and tests of the core alone).
    Direct,
}

/// Who fills the core's orders (`[exchange].execution`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Execution {
    /// In-process paper execution against the engine's own book (`[paper]`).
    Paper,
    /// Signed REST orders to the endpoint, fills from its user-data stream
    /// (the simulator's matching engine, or the exchange).
    Exchange,
}

/// What a run against an exchange account (`endpoint = "url"`) does at
/// start with open orders on its symbols that the core does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForeignOrders {
    /// Stop before trading and name them.
    Refuse,
    /// Cancel them, then trade.
    Cancel,
}

/// `[exchange]`: the market-data connection.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Where market data comes from.
    pub endpoint: Endpoint,
    /// WebSocket base for `endpoint = "url"` (e.g. `wss://fstream.binance.com`).
    pub ws_url: String,
    /// REST base for `endpoint = "url"` (e.g. `https://fapi.binance.com`).
    pub rest_url: String,
    /// What the simulator streams: `synthetic` (the `[market]` generator)
    /// or the path of a capture file (`<ns> <json>` lines, `.gz` allowed).
    pub simulator_source: String,
    /// Pace of a capture replay (1 = as recorded, 0 = as fast as read).
    pub simulator_speed: f64,
    /// Stream suffixes per symbol: `bookTicker`, `aggTrade`, `trade`,
    /// `forceOrder`, `depth[@0ms|@100ms|@250ms|@500ms]`, `kline_<interval>`,
    /// `markPrice[@1s]`, and the all-market `!markPrice@arr[@1s]` (once,
    /// not per symbol); partial-book `depth5/10/20` are refused.
    pub streams: Vec<String>,
    /// Levels per side of a depth snapshot (5 ..= 1000).
    pub depth_limit: u32,
    /// No data for this long marks a symbol's feed stale (100 ..= 600000).
    pub stale_after_ms: u64,
    /// No frame at all for this long ends the connection (1000 ..= 600000).
    pub dead_after_ms: u64,
    /// First reconnect delay (10 ..= 60000).
    pub backoff_min_ms: u64,
    /// Largest reconnect delay (backoff_min_ms ..= 600000).
    pub backoff_max_ms: u64,
    /// Who fills orders: `paper` (in-process) or `exchange` (signed REST).
    pub execution: Execution,
    /// `recvWindow` of signed requests (1 ..= 60000 ms).
    pub recv_window_ms: u32,
    /// New orders are refused locally while the exchange reports this much
    /// request weight used in the minute (1 ..= 2400).
    pub weight_budget: u32,
    /// Open orders the core does not hold, found at start.
    pub foreign_orders: ForeignOrders,
    /// Exchange execution to a URL: read the account's positions every
    /// this many seconds and check the core's against them (0 = never;
    /// 1 ..= 3600).
    #[serde(default)]
    pub reconcile_every_secs: u64,
    /// The exchangeInfo snapshot an `[[instruments]]` entry's left-out
    /// rules come from (`listing`), relative to the config file's
    /// directory; refreshed by `autobot instruments --refresh`.
    #[serde(default = "default_listing")]
    pub listing: String,
    /// A PEM file of CA certificates that `wss://` and `https://` are
    /// checked against instead of the public web roots (a TLS-inspecting
    /// proxy); relative to the config file's directory, made absolute at
    /// load. `""`: the public roots.
    #[serde(default)]
    pub ca_file: String,
}

impl ExchangeConfig {
    /// The roots the exchange clients trust (`ca_file`, else the public
    /// web roots).
    pub fn trust(&self) -> Result<Trust, TrustError> {
        if self.ca_file.is_empty() {
            Ok(Trust::public())
        } else {
            Trust::load(Path::new(&self.ca_file))
        }
    }
}

fn default_listing() -> String {
    "exchange-info.json".into()
}

/// Stream suffixes the market gateway can parse, whole.
const KNOWN_STREAMS: [&str; 13] = [
    "bookTicker",
    "aggTrade",
    "trade",
    "forceOrder",
    "depth",
    "depth@0ms",
    "depth@100ms",
    "depth@250ms",
    "depth@500ms",
    "markPrice",
    "markPrice@1s",
    "!markPrice@arr",
    "!markPrice@arr@1s",
];

/// Kline intervals Binance USD-M streams.
const KLINE_INTERVALS: [&str; 15] = [
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
];

/// Why a stream suffix is refused (`None`: the gateway parses it).
fn stream_refusal(s: &str) -> Option<&'static str> {
    if KNOWN_STREAMS.contains(&s) {
        return None;
    }
    if let Some(interval) = s.strip_prefix("kline_") {
        return (!KLINE_INTERVALS.contains(&interval)).then_some(
            "kline_<interval> with an interval of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M",
        );
    }
    let partial = ["depth5", "depth10", "depth20"]
        .iter()
        .any(|p| s == *p || s.strip_prefix(p).is_some_and(|r| r.starts_with('@')));
    if partial {
        return Some(
            "not a partial-book stream (depth5/10/20 send whole top-N books, not the diffs the L2 \
             book is kept from): use depth[@0ms|@100ms|@250ms|@500ms]",
        );
    }
    Some(
        "bookTicker, aggTrade, trade, forceOrder, depth[@0ms|@100ms|@250ms|@500ms], \
         kline_<interval>, markPrice[@1s] or !markPrice@arr[@1s]",
    )
}

impl Validate for ExchangeConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        if self.endpoint == Endpoint::Url {
            for (key, v, scheme) in [
                ("ws_url", &self.ws_url, ["ws://", "wss://"]),
                ("rest_url", &self.rest_url, ["http://", "https://"]),
            ] {
                if !scheme.iter().any(|s| v.starts_with(s)) {
                    return Err(RangeError::new(
                        at,
                        key,
                        format!("{v:?}"),
                        format!("a {} or {} URL", scheme[0], scheme[1]),
                    ));
                }
            }
        }
        check_range(at, "simulator_speed", self.simulator_speed, 0.0, 1000.0)?;
        if self.streams.is_empty() {
            return Err(RangeError::new(at, "streams", "[]", "at least one stream"));
        }
        for s in &self.streams {
            if let Some(allowed) = stream_refusal(s) {
                return Err(RangeError::new(at, "streams", format!("{s:?}"), allowed));
            }
        }
        if self.reconcile_every_secs != 0 {
            check_range(
                at,
                "reconcile_every_secs",
                self.reconcile_every_secs,
                1,
                3600,
            )?;
        }
        check_range(at, "depth_limit", self.depth_limit, 5, 1000)?;
        check_range(at, "stale_after_ms", self.stale_after_ms, 100, 600_000)?;
        check_range(at, "dead_after_ms", self.dead_after_ms, 1000, 600_000)?;
        check_range(at, "backoff_min_ms", self.backoff_min_ms, 10, 60_000)?;
        check_range(
            at,
            "backoff_max_ms",
            self.backoff_max_ms,
            self.backoff_min_ms,
            600_000,
        )?;
        if self.execution == Execution::Exchange && self.endpoint == Endpoint::Direct {
            return Err(RangeError::new(
                at,
                "execution",
                "\"exchange\"",
                "\"paper\" with endpoint = \"direct\" (exchange execution needs the simulator or a URL)",
            ));
        }
        check_range(at, "recv_window_ms", self.recv_window_ms, 1, 60_000)?;
        check_range(at, "weight_budget", self.weight_budget, 1, 2400)?;
        Ok(())
    }
}

/// `[metrics]`: the Prometheus endpoint and the latency files.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Loopback address of the Prometheus text endpoint (`127.0.0.1:0`:
    /// any free port, written to the run's `metrics.addr`); `""` turns it
    /// off.
    pub listen: String,
    /// Rewrite `RUN_DIR/latency/*.hgrm` (and the endpoint's percentiles)
    /// every this many seconds while running (0 ..= 3600; 0: only at the
    /// end of the run).
    pub latency_every_secs: u64,
}

impl MetricsConfig {
    /// The address to listen on, if the endpoint is on.
    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.parse().ok()
    }
}

impl Validate for MetricsConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        check_range(at, "latency_every_secs", self.latency_every_secs, 0, 3600)?;
        loopback_or_off(at, &self.listen)
    }
}

/// `listen` is `""` (off) or a loopback `address:port`.
fn loopback_or_off(at: &str, listen: &str) -> Result<(), RangeError> {
    if listen.is_empty() {
        return Ok(());
    }
    match listen.parse::<std::net::SocketAddr>() {
        Ok(a) if a.ip().is_loopback() => Ok(()),
        _ => Err(RangeError::new(
            at,
            "listen",
            format!("{listen:?}"),
            "a loopback address and port such as \"127.0.0.1:0\", or \"\" for off",
        )),
    }
}

/// `[operator]`: the operator's control endpoint (`autobot ctl`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// Address of the endpoint (`127.0.0.1:0`: any free port, written to
    /// the run's `control.addr`); `""` turns it off. Off loopback only
    /// with `tls_cert` and `tls_key`.
    pub listen: String,
    /// PEM certificate chain for HTTPS (`""`: plain HTTP, loopback only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tls_cert: String,
    /// PEM private key for HTTPS, a file only its owner can read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tls_key: String,
}

impl OperatorConfig {
    /// The address to listen on, if the endpoint is on.
    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.parse().ok()
    }

    /// The certificate and key files, when HTTPS is configured.
    pub fn tls_files(&self) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
        (!self.tls_cert.is_empty() && !self.tls_key.is_empty())
            .then(|| (self.tls_cert.clone().into(), self.tls_key.clone().into()))
    }
}

impl Validate for OperatorConfig {
    fn validate(&self, at: &str) -> Result<(), RangeError> {
        match (self.tls_cert.is_empty(), self.tls_key.is_empty()) {
            (true, false) => {
                return Err(RangeError::new(
                    at,
                    "tls_cert",
                    "\"\"".to_string(),
                    "a PEM certificate file: tls_key is set, and HTTPS needs both",
                ));
            }
            (false, true) => {
                return Err(RangeError::new(
                    at,
                    "tls_key",
                    "\"\"".to_string(),
                    "a PEM key file only its owner can read: tls_cert is set, and HTTPS needs both",
                ));
            }
            (true, true) => {
                return loopback_or_off(at, &self.listen).map_err(|_| {
                    RangeError::new(
                        at,
                        "listen",
                        format!("{:?}", self.listen),
                        "a loopback address and port such as \"127.0.0.1:0\", \"\" for off, \
                         or another address with tls_cert and tls_key set (docs/operator.md)",
                    )
                });
            }
            (false, false) => {}
        }
        // Under TLS any address will do.
        match self.listen.parse::<std::net::SocketAddr>() {
            _ if self.listen.is_empty() => Ok(()),
            Ok(_) => Ok(()),
            Err(_) => Err(RangeError::new(
                at,
                "listen",
                format!("{:?}", self.listen),
                "an address and port such as \"0.0.0.0:8443\", or \"\" for off",
            )),
        }
    }
}

/// The configuration file.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// `[run]`.
    pub run: RunConfig,
    /// `[engine]`.
    pub engine: EngineConfig,
    /// `[journal]`.
    pub journal: JournalConfig,
    /// `[[instruments]]`.
    pub instruments: Vec<InstrumentConfig>,
    /// `[strategy]`.
    pub strategy: StrategyConfig,
    /// `[risk]`.
    pub risk: RiskConfig,
    /// `[control]`.
    pub control: ControlConfig,
    /// `[account]`.
    pub account: AccountConfig,
    /// `[exchange]`.
    pub exchange: ExchangeConfig,
    /// `[market]`.
    pub market: SyntheticConfig,
    /// `[paper]`.
    pub paper: FillConfig,
    /// `[operator]`.
    pub operator: OperatorConfig,
    /// `[metrics]`.
    pub metrics: MetricsConfig,
    /// `[backtest]`.
    pub backtest: backtest::BacktestConfig,
    /// `[notify]` (optional: stderr only when absent).
    #[serde(default)]
    pub notify: notify::NotifyConfig,
    /// `[advisor]` (optional: no models when absent).
    #[serde(default, skip_serializing_if = "advisor::AdvisorConfig::is_empty")]
    pub advisor: advisor::AdvisorConfig,
    /// `[store]` (optional: SQLite in the run directory, kept live).
    #[serde(default, skip_serializing_if = "store::StoreConfig::is_default")]
    pub store: store::StoreConfig,
}

impl Validate for AppConfig {
    fn validate(&self, _at: &str) -> Result<(), RangeError> {
        self.run.validate("run")?;
        self.engine.validate("engine")?;
        autobot_engine::runtime::check_host_cpus(&self.engine.cpus, "engine")?;
        self.journal.validate("journal")?;
        self.instruments.as_slice().validate("instruments")?;
        self.strategy.validate("strategy")?;
        self.risk.validate("risk")?;
        cfg::check_correlated(&self.instruments, &self.risk.portfolio)?;
        self.control.validate("control")?;
        self.account.validate("account")?;
        self.metrics.validate("metrics")?;
        self.exchange.validate("exchange")?;
        self.market.validate("market")?;
        self.paper.validate("paper")?;
        self.operator.validate("operator")?;
        self.backtest.validate("backtest")?;
        self.notify.validate("notify")?;
        self.advisor.validate("advisor")?;
        self.store.validate("store")?;
        self.advisor.check_uses(&self.strategy)?;
        let n = self.instruments.len();
        if self.market.start_prices.len() != n {
            return Err(RangeError::new(
                "market",
                "start_prices",
                format!("{} prices", self.market.start_prices.len()),
                format!("one per instrument ({n})"),
            ));
        }
        Ok(())
    }
}

impl AppConfig {
    /// Loads and validates a configuration file.
    pub fn load(path: &Path) -> Result<AppConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        cfg::parse_then(path, &text, |c: &mut AppConfig| {
            let listing = c.listing_path(path);
            listing::complete(&mut c.instruments, &listing, path)?;
            c.resolve_ca_file(path);
            Ok(())
        })
    }

    /// Makes `[exchange] ca_file` absolute (relative to the directory of
    /// the config at `path`), so the run directory's copy names the same
    /// file. The file itself is read when a run connects to a URL (before
    /// its run directory exists), not here: a replay of the run on another
    /// host loads this config without it.
    fn resolve_ca_file(&mut self, path: &Path) {
        if !self.exchange.ca_file.is_empty() {
            let dir = path.parent().unwrap_or(Path::new("."));
            let file = dir.join(&self.exchange.ca_file);
            self.exchange.ca_file = file.to_string_lossy().into_owned();
        }
    }

    /// Where the listing (`[exchange] listing`) of the config at `path` is.
    pub fn listing_path(&self, path: &Path) -> std::path::PathBuf {
        let dir = path.parent().unwrap_or(Path::new("."));
        dir.join(&self.exchange.listing)
    }

    /// The simulated exchange's account for this configuration: the
    /// `[paper]` fill model, `[account]` balance and leverage, the
    /// instruments' maintenance brackets, `[backtest]` funding and
    /// liquidation rules — so a run against the built-in simulator, a paper
    /// run and a backtest of the same config fill alike.
    pub fn simulated_account(&self) -> autobot_gateways::sim::venue::AccountConfig {
        let core = self.core();
        autobot_gateways::sim::venue::AccountConfig {
            fills: self.paper.clone(),
            rules: autobot_exchange::AccountRules {
                wallet: core.account.starting_balance,
                leverage: core.account.leverage,
                funding_rate: self.backtest.funding_rate,
                funding_interval_hours: self.backtest.funding_interval_hours,
                liquidation_fee: self.backtest.liquidation_fee,
                bar_book_qty: self.backtest.bar_book_qty,
            },
            brackets: core.brackets,
        }
    }

    /// The configuration as TOML (saved in each run directory, so a replay
    /// uses exactly what the run used).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Orders go to an exchange at a URL (`execution = "exchange"`,
    /// `endpoint = "url"`): what testnet and live need.
    pub fn trades_on_an_exchange(&self) -> bool {
        self.exchange.execution == Execution::Exchange && self.exchange.endpoint == Endpoint::Url
    }

    /// What the run trades on, for people: the market and how it arrives.
    pub fn market_description(&self) -> String {
        let market = if self.exchange.endpoint == Endpoint::Url {
            format!("the exchange at {}", self.exchange.ws_url)
        } else if self.exchange.endpoint == Endpoint::Direct
            || self.exchange.simulator_source == "synthetic"
        {
            format!("the synthetic market (seed {})", self.market.seed)
        } else {
            format!("the capture {}", self.exchange.simulator_source)
        };
        match self.exchange.endpoint {
            Endpoint::Simulator => format!("{market} via the exchange simulator on loopback"),
            Endpoint::Url => market,
            Endpoint::Direct => format!("{market}, generated in-process (no sockets)"),
        }
    }

    /// The core's part of the configuration.
    pub fn core(&self) -> CoreConfig {
        let mut core = CoreConfig::new(
            &self.instruments,
            self.strategy.clone(),
            self.risk.clone(),
            self.control.clone(),
            self.account.clone(),
            self.run.mode == Deployment::DryRun,
        );
        core.costs = autobot_engine::config::Costs {
            taker_fee: self.paper.taker_fee,
            maker_fee: self.paper.maker_fee,
            slippage_ticks: self.paper.slippage_ticks,
        };
        core.models = self.advisor.names();
        core
    }
}
