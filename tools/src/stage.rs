//! What the stages of `autobot run` share: the run's options, why a run
//! fails, starting a pinned stage thread, and fresh secrets for a run's
//! endpoints. The stage modules (`control`, `exchange`, `market`,
//! `metrics`) depend on this; `run` wires them together.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use autobot_engine::runtime::{HaltOnPanic, RuntimeError, pin_current};
use autobot_gateways::credentials::Credentials;

/// Knobs of one run beyond the config file.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Stop after this many market events (tests; overrides the duration).
    pub max_events: Option<u64>,
    /// Publish as fast as the ring accepts instead of at `events_per_sec`.
    pub unpaced: bool,
    /// Load generator: the built-in simulator sends each frame with its
    /// intended send time, and the market gateway measures from it
    /// (`sim::due::DueTime`). Only with the simulator endpoint.
    pub load: bool,
    /// Set to stop early (Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// Continue the run in this directory (recovering its journal and
    /// restoring the core from it) instead of starting a new one.
    pub resume: Option<PathBuf>,
    /// API keys for exchange execution to a URL; `None` reads them from the
    /// environment or `AUTOBOT_KEY_FILE` (the CLI always does).
    pub credentials: Option<Credentials>,
    /// Keep a new run directory when the run fails before its market
    /// starts (by default it is removed: nothing ran there).
    pub keep_failed_start: bool,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The run directory could not be created or written.
    #[error("run directory {path}: {source}")]
    RunDir {
        /// The directory.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The trade store could not be opened.
    #[error("trade store: {0}")]
    Store(String),
    /// The pipeline failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// Testnet and live need exchange execution to a URL.
    #[error("run.mode = \"{0}\" passed the deployment gate, but {1}")]
    NoExchangeGateway(&'static str, &'static str),
    /// Exchange execution to a URL needs API keys.
    #[error("exchange execution: {0}")]
    Credentials(#[from] autobot_gateways::credentials::CredentialError),
    /// The API secret looked like an Ed25519 private key and was not one.
    #[error("exchange execution: {0}")]
    PrivateKey(#[from] autobot_gateways::binance::sign::BadPrivateKey),
    /// The operator's endpoint could not start.
    #[error(transparent)]
    Control(#[from] autobot_gateways::control::ControlError),
    /// The operator's endpoint's certificate or key could not be loaded.
    #[error("[operator]: {0}")]
    Tls(#[from] autobot_gateways::http::TlsError),
    /// `[exchange] ca_file` (checked at load; read again at start).
    #[error("[exchange]: {0}")]
    Trust(#[from] autobot_gateways::trust::TrustError),
    /// The metrics endpoint could not start.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A notification channel is on without its secret.
    #[error(transparent)]
    Notify(#[from] crate::config::notify::NotifySetupError),
    /// A model of the `[advisor]` registry was refused.
    #[error("[advisor]: {0}")]
    Advisor(#[from] autobot_gateways::advisor::ModelError),
    /// The instrument table could not be checked against the exchange.
    #[error("{0}")]
    Instruments(String),
    /// The account could not be read or reconciled at start.
    #[error("{0}")]
    Reconcile(String),
    /// The built-in simulator could not start.
    #[error("exchange simulator: {0}")]
    Simulator(#[from] autobot_gateways::sim::SimError),
    /// A gateway thread panicked or could not start.
    #[error("{0} thread failed")]
    Gateway(&'static str),
    /// The run ended without one market event for the configured symbols.
    #[error(
        "no market data for {symbols} arrived from {source_name} ({messages} messages \
         received{connecting}): check the symbols, the streams and the capture; the run \
         ({run_dir}) traded nothing"
    )]
    NoMarketData {
        /// The configured symbols.
        symbols: String,
        /// Where the market side read from.
        source_name: String,
        /// Messages the gateway received (all refused or for other symbols).
        messages: u64,
        /// `""`, or how many connection attempts failed and why the last
        /// did.
        connecting: String,
        /// The run's directory (its journal holds the start and the stop).
        run_dir: PathBuf,
    },
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Only loopback addresses are allowed.
    #[error("the metrics endpoint must listen on a loopback address, not {0}")]
    NotLoopback(SocketAddr),
    /// The address could not be bound.
    #[error("the metrics endpoint cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// A stage thread's result and its pinning warning.
pub(crate) type StageThread<T> = std::thread::JoinHandle<(T, Option<String>)>;

/// Starts a pipeline stage thread named `thread`: pinned to `cpu` (if
/// any; `role` names it in the warning), halting the pipeline if `work`
/// panics. What `work` owns (its publisher) is dropped when it returns,
/// which lets the input ring shut down.
pub(crate) fn spawn_stage<T: Send + 'static>(
    thread: &str,
    role: &'static str,
    (cpu, realtime): (Option<usize>, u8),
    busy: bool,
    halt: Arc<autobot_engine::runtime::HaltFlag>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<StageThread<T>, RunError> {
    let guard = HaltOnPanic(halt);
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            let _guard = guard;
            let warning = pin_current(role, cpu, busy, realtime);
            (work(), warning)
        })
        .map_err(|_| RunError::Gateway(role))
}

/// `n` random bytes from the kernel, as hex.
pub fn random_hex(n: usize, what: &'static str) -> Result<String, RunError> {
    autobot_gateways::os::random_hex(n).map_err(|_| RunError::Gateway(what))
}
