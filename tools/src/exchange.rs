//! Exchange execution for `autobot run` (`[exchange] execution =
//! "exchange"`): the signed REST execution thread and the user-data stream
//! thread, against the built-in simulator or the configured URLs.
//!
//! Shutdown: the execution thread answers every order the core sent
//! before `Stopped`, then releases its publisher and says so; the user
//! stream keeps reading until it has been quiet for [`QUIET`] (the
//! simulator writes an order's reports before its REST reply, so they are
//! already on the socket), at most [`DRAIN_LIMIT`], then stops and
//! releases its publisher, which lets the input ring shut down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::config::{CpuMap, WaitKind};
use autobot_engine::runtime::{InputPublisher, OutputReader, Waiter};
use autobot_engine::types::Qty;
use autobot_gateways::binance::execution::{self, ExecClient, ExecConfig, ExecStats};
use autobot_gateways::binance::market::ResyncRequests;
use autobot_gateways::binance::parse::Symbols;
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::binance::user::{UserStats, UserStream, UserStreamConfig};
use autobot_gateways::credentials::Hidden;

use crate::config::AppConfig;
use crate::run::{RunError, StageThread, spawn_stage};

/// Quiet time after which the user stream is taken to have delivered
/// every report.
const QUIET: Duration = Duration::from_millis(300);
/// Longest wait for the user stream at shutdown.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// A fresh key pair for the built-in simulator: 32 random bytes each, from
/// the OS. It never leaves this process.
pub fn simulator_keys() -> Result<(Hidden, Hidden), RunError> {
    let what = "random source for the simulator keys";
    Ok((
        Hidden::new(crate::control::random_hex(32, what)?),
        Hidden::new(crate::control::random_hex(32, what)?),
    ))
}

/// What exchange execution did.
#[derive(Debug)]
pub struct ExchangeOutcome {
    /// The execution client's counters.
    pub exec: ExecStats,
    /// The user-data stream's counters.
    pub user: Arc<UserStats>,
    /// The exchange's positions after the run (symbol, signed amount), or
    /// why they could not be read.
    pub positions: Result<Vec<(String, Qty)>, String>,
}

/// The running execution and user-stream threads.
pub struct ExchangeSide {
    exec: StageThread<ExecClient>,
    user: StageThread<()>,
    user_stop: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
    user_stats: Arc<UserStats>,
}

/// Everything the exchange side needs from the run.
pub struct ExchangeStart<'a> {
    /// The configuration.
    pub cfg: &'a AppConfig,
    /// Exchange symbols in `SymbolId` order.
    pub names: Vec<String>,
    /// WebSocket and REST bases.
    pub ws_url: String,
    /// REST base.
    pub rest_url: String,
    /// Signs requests.
    pub signer: Signer,
    /// The core's outputs.
    pub outputs: OutputReader,
    /// Publisher for refusals.
    pub exec_publisher: InputPublisher,
    /// Publisher for user-stream reports.
    pub user_publisher: InputPublisher,
    /// Book resyncs the core asks for.
    pub resync: Arc<ResyncRequests>,
    /// CPU map.
    pub cpus: CpuMap,
    /// Busy-spin when pinned.
    pub busy: bool,
    /// Idle strategy.
    pub wait: WaitKind,
}

impl ExchangeSide {
    /// Starts both threads.
    pub fn start(s: ExchangeStart<'_>) -> Result<ExchangeSide, RunError> {
        let ex = &s.cfg.exchange;
        let mut exec_cfg = ExecConfig::new(&s.rest_url);
        exec_cfg.recv_window_ms = ex.recv_window_ms;
        exec_cfg.weight_budget = ex.weight_budget;
        let user_cfg = UserStreamConfig {
            rest_url: s.rest_url.clone(),
            ws_url: s.ws_url,
            api_key: s.signer.api_key().clone(),
            margin_asset: "USDT".into(),
            keepalive: Duration::from_secs(30 * 60),
            poll: Duration::from_millis(10),
            backoff_min: Duration::from_millis(ex.backoff_min_ms),
            backoff_max: Duration::from_millis(ex.backoff_max_ms),
        };
        let mut user = UserStream::new(user_cfg, Symbols::new(&s.names));
        let user_stats = user.stats();
        let client = ExecClient::new(exec_cfg, s.signer, s.names);
        let released = Arc::new(AtomicBool::new(false));
        let user_stop = Arc::new(AtomicBool::new(false));
        let (cpus, busy, wait) = (s.cpus, s.busy, s.wait);
        let (outputs, resync, rel) = (s.outputs, s.resync, Arc::clone(&released));
        let exec_pub = s.exec_publisher;
        let halt = exec_pub.halt_flag();
        let exec = spawn_stage(
            "autobot-exec",
            "execution",
            cpus.execution,
            busy,
            halt,
            move || execution::run(client, outputs, exec_pub, Waiter::new(wait), &resync, &rel),
        )?;
        let mut user_pub = s.user_publisher;
        let halt = user_pub.halt_flag();
        let stop = Arc::clone(&user_stop);
        // Not pinned: it reads a socket a few times per order.
        let user = spawn_stage(
            "autobot-user",
            "user data stream",
            None,
            false,
            halt,
            move || {
                user.run(&mut user_pub, &stop);
            },
        )?;
        Ok(ExchangeSide {
            exec,
            user,
            user_stop,
            released,
            user_stats,
        })
    }

    /// Waits for the execution thread to answer every order, lets the user
    /// stream deliver the last reports, and stops both.
    pub fn finish(self) -> Result<(ExchangeOutcome, Option<String>), RunError> {
        let began = Instant::now();
        let mut last = (
            self.user_stats.messages.load(Ordering::Relaxed),
            Instant::now(),
        );
        // The runtime's shutdown timer, not a test waiting: a coarse tick.
        while began.elapsed() < DRAIN_LIMIT + DRAIN_LIMIT && !self.exec.is_finished() {
            let n = self.user_stats.messages.load(Ordering::Relaxed);
            if n != last.0 {
                last = (n, Instant::now());
            }
            let released = self.released.load(Ordering::Acquire);
            if released && (last.1.elapsed() >= QUIET || began.elapsed() >= DRAIN_LIMIT) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.user_stop.store(true, Ordering::Release);
        self.user
            .join()
            .map_err(|_| RunError::Gateway("user data stream"))?;
        let (mut client, warning) = self
            .exec
            .join()
            .map_err(|_| RunError::Gateway("execution"))?;
        let positions = client.position_amounts().map_err(|e| e.to_string());
        Ok((
            ExchangeOutcome {
                exec: client.stats(),
                user: self.user_stats,
                positions,
            },
            warning,
        ))
    }
}

/// Reads the exchange's trading rules (`GET /fapi/v1/exchangeInfo` at
/// `rest_url`) and makes the configured instruments agree with them: the
/// exchange is the authority on tick size, lot sizes and minimum notional,
/// so where the config differs the exchange's value is adopted and named
/// in a warning. The caller records the adopted config in the run
/// directory, so a replay uses the same table. A configured symbol the
/// exchange does not list, or lists as not trading, stops the run.
pub fn adopt_exchange_rules(
    cfg: &mut crate::config::AppConfig,
    rest_url: &str,
) -> Result<Vec<String>, RunError> {
    use autobot_engine::config::Validate as _;
    use autobot_gateways::binance::exchange_info::parse_exchange_info;
    use autobot_gateways::binance::rest::RestClient;
    let fail = |why: String| RunError::Instruments(format!("exchangeInfo from {rest_url}: {why}"));
    let mut rest = RestClient::new(rest_url, Duration::from_secs(10));
    let mut body = rest
        .get("/fapi/v1/exchangeInfo", "")
        .map_err(|e| fail(e.to_string()))?
        .body;
    let info = parse_exchange_info(&mut body).map_err(|e| fail(e.to_string()))?;
    let mut warnings = Vec::new();
    for ins in &mut cfg.instruments {
        let sym = ins.symbol.as_str();
        let Some(r) = info.get(sym) else {
            let why = match info.refused.iter().find(|e| e.to_string().starts_with(sym)) {
                Some(e) => format!("its rules are unreadable: {e}"),
                None => "the exchange does not list it".into(),
            };
            return Err(fail(format!("configured symbol {sym}: {why}")));
        };
        if r.status != "TRADING" {
            return Err(fail(format!(
                "configured symbol {sym} is {} on the exchange, not TRADING",
                r.status
            )));
        }
        let mut note = |field: &str, ours: String, theirs: String| {
            if ours != theirs {
                warnings.push(format!(
                    "instrument {sym}: {field} is {theirs} on the exchange, {ours} in the config; \
                     using the exchange's (recorded in the run's config.toml)"
                ));
            }
        };
        note(
            "tick_size",
            ins.tick_size.to_string(),
            r.tick_size.to_string(),
        );
        note(
            "step_size",
            ins.step_size.to_string(),
            r.step_size.to_string(),
        );
        note("min_qty", ins.min_qty.to_string(), r.min_qty.to_string());
        note("max_qty", ins.max_qty.to_string(), r.max_qty.to_string());
        note(
            "max_market_qty",
            ins.max_market_qty.to_string(),
            r.max_market_qty.to_string(),
        );
        note(
            "min_notional",
            ins.min_notional.to_string(),
            r.min_notional.to_string(),
        );
        ins.tick_size = r.tick_size;
        ins.step_size = r.step_size;
        ins.min_qty = r.min_qty;
        ins.max_qty = r.max_qty;
        ins.max_market_qty = r.max_market_qty;
        ins.min_notional = r.min_notional;
    }
    cfg.validate("").map_err(|e| {
        fail(format!(
            "the exchange's rules make the config invalid: {} = {} (allowed: {})",
            e.key, e.value, e.allowed
        ))
    })?;
    Ok(warnings)
}
