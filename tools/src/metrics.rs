//! The Prometheus text endpoint of a run: `GET /metrics` on a loopback
//! address (`[metrics] listen`), the address left in `RUN_DIR/metrics.addr`
//! while the run is up.
//!
//! What it serves, all read off the hot path: the core's status board
//! (system state, control mode, kill switch, account, positions, PnL,
//! counters), the pipeline gauges (inputs published / journaled /
//! processed, ring fill, journal lag) and the latency collector's latest
//! per-stage percentiles (a summary per stage, refreshed every
//! `latency_every_secs`).
//!
//! Loopback only and without a token: it serves readings, never accepts a
//! command (that is the operator endpoint's job).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use autobot_engine::event::{ControlMode, SystemState};
use autobot_engine::runtime::{BoardSnapshot, GaugeReading, PipelineGauges, StatusBoard};
use autobot_gateways::http::{Handled, Handler, Head, ListenError, LoopbackServer, Response};

use crate::latency::collector::Latest;
pub use crate::stage::MetricsError;
use crate::stage::RunError;

/// File in the run directory with the endpoint's address.
pub const ADDR_FILE: &str = "metrics.addr";

/// Where the figures come from.
#[derive(Clone, Debug)]
pub struct Sources {
    /// The core's headline state.
    pub board: Arc<StatusBoard>,
    /// Pipeline counters.
    pub gauges: Arc<PipelineGauges>,
    /// Latest latency summaries.
    pub latency: Latest,
    /// Symbol names, by `SymbolId`.
    pub symbols: Vec<String>,
}

const STATES: [(SystemState, &str); 5] = [
    (SystemState::Running, "running"),
    (SystemState::Degraded, "degraded"),
    (SystemState::SafeMode, "safe_mode"),
    (SystemState::Halted, "halted"),
    (SystemState::Stopped, "stopped"),
];

fn mode_name(m: ControlMode) -> &'static str {
    match m {
        ControlMode::Manual => "manual",
        ControlMode::SemiAuto => "semi_auto",
        ControlMode::FullAuto => "full_auto",
        ControlMode::Emergency => "emergency",
    }
}

/// Writes `# HELP` and `# TYPE` of one metric family.
fn family(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The exposition (Prometheus text format 0.0.4).
pub fn render(src: &Sources) -> String {
    let snap = src.board.snapshot();
    let g = src.gauges.read();
    let mut s = String::with_capacity(8 * 1024);
    states(&mut s, &snap);
    account(&mut s, &snap, src);
    counters(&mut s, &snap);
    pipeline(&mut s, &g);
    latency(&mut s, src);
    s
}

/// Writes the system state, control mode and kill switch.
fn states(s: &mut String, snap: &BoardSnapshot) {
    family(
        s,
        "autobot_system_state",
        "gauge",
        "1 for the system's current state.",
    );
    for (state, name) in STATES {
        let on = u8::from(snap.state == state);
        let _ = writeln!(s, "autobot_system_state{{state=\"{name}\"}} {on}");
    }
    family(
        s,
        "autobot_control_mode",
        "gauge",
        "1 for the current control mode.",
    );
    for m in ControlMode::ALL {
        let on = u8::from(snap.mode == m);
        let _ = writeln!(s, "autobot_control_mode{{mode=\"{}\"}} {on}", mode_name(m));
    }
    family(
        s,
        "autobot_kill_switch",
        "gauge",
        "1 while the kill switch is engaged.",
    );
    let _ = writeln!(s, "autobot_kill_switch {}", u8::from(snap.kill_switch));
}

/// Writes the account, positions and PnL per symbol.
fn account(s: &mut String, snap: &BoardSnapshot, src: &Sources) {
    let a = &snap.account;
    for (name, help, v) in [
        (
            "autobot_balance_usdt",
            "Wallet balance.",
            a.balance.to_f64(),
        ),
        (
            "autobot_equity_usdt",
            "Balance plus unrealized PnL.",
            a.equity.to_f64(),
        ),
        (
            "autobot_realized_pnl_usdt",
            "Realized PnL before fees.",
            a.realized.to_f64(),
        ),
        (
            "autobot_unrealized_pnl_usdt",
            "Unrealized PnL at mark.",
            a.unrealized.to_f64(),
        ),
        ("autobot_fees_usdt", "Fees paid.", a.fees.to_f64()),
        (
            "autobot_funding_usdt",
            "Funding received (negative: paid).",
            a.funding.to_f64(),
        ),
        (
            "autobot_daily_pnl_usdt",
            "Equity change since the UTC day began.",
            a.daily_pnl.to_f64(),
        ),
        (
            "autobot_drawdown_ratio",
            "Drawdown from the high-water mark.",
            a.drawdown.to_f64(),
        ),
    ] {
        family(s, name, "gauge", help);
        let _ = writeln!(s, "{name} {v}");
    }
    family(
        s,
        "autobot_position",
        "gauge",
        "Signed position per symbol (base asset).",
    );
    for (i, row) in snap.symbols.iter().enumerate() {
        let sym = src.symbols.get(i).map_or("?", String::as_str);
        let _ = writeln!(
            s,
            "autobot_position{{symbol=\"{sym}\"}} {}",
            row.position.to_f64()
        );
    }
    family(
        s,
        "autobot_symbol_pnl_usdt",
        "gauge",
        "Realized and unrealized PnL per symbol.",
    );
    for (i, row) in snap.symbols.iter().enumerate() {
        let sym = src.symbols.get(i).map_or("?", String::as_str);
        for (kind, v) in [("realized", row.realized), ("unrealized", row.unrealized)] {
            let _ = writeln!(
                s,
                "autobot_symbol_pnl_usdt{{symbol=\"{sym}\",kind=\"{kind}\"}} {}",
                v.to_f64()
            );
        }
    }
}

/// Writes the core's counters and open orders.
fn counters(s: &mut String, snap: &BoardSnapshot) {
    for (name, help, v) in [
        (
            "autobot_events_total",
            "Inputs the core processed.",
            snap.events,
        ),
        ("autobot_orders_total", "Orders sent.", snap.orders),
        ("autobot_fills_total", "Fills applied.", snap.fills),
        (
            "autobot_rejects_total",
            "Orders the exchange refused.",
            snap.rejects,
        ),
        (
            "autobot_vetoes_total",
            "Order intents vetoed by risk.",
            snap.vetoes,
        ),
        ("autobot_alerts_total", "Alerts raised.", snap.alerts),
        (
            "autobot_operator_refused_total",
            "Operator commands refused.",
            snap.operator_refused,
        ),
    ] {
        family(s, name, "counter", help);
        let _ = writeln!(s, "{name} {v}");
    }
    family(s, "autobot_open_orders", "gauge", "Orders open.");
    let _ = writeln!(s, "autobot_open_orders {}", snap.open_orders);
}

/// Writes the pipeline's inputs, ring and journal lag.
fn pipeline(s: &mut String, g: &GaugeReading) {
    for (name, kind, help, v) in [
        (
            "autobot_inputs_published_total",
            "counter",
            "Inputs this run's gateways published.",
            g.published,
        ),
        (
            "autobot_inputs_journaled_total",
            "counter",
            "Inputs this run journaled.",
            g.journaled,
        ),
        (
            "autobot_inputs_processed_total",
            "counter",
            "Inputs this run's core processed.",
            g.processed,
        ),
        (
            "autobot_ring_fill",
            "gauge",
            "Inputs in the ring not yet processed by the core.",
            g.ring_fill(),
        ),
        (
            "autobot_ring_size",
            "gauge",
            "Input ring slots.",
            g.ring_size,
        ),
        (
            "autobot_journal_lag",
            "gauge",
            "Inputs published but not yet journaled.",
            g.journal_lag(),
        ),
        (
            "autobot_latency_stamps_dropped_total",
            "counter",
            "Order-sent latency stamps not journaled because their ring was full.",
            g.stamps_dropped,
        ),
    ] {
        family(s, name, kind, help);
        let _ = writeln!(s, "{name} {v}");
    }
}

/// Writes the per-stage latency summaries.
fn latency(s: &mut String, src: &Sources) {
    let latency = src
        .latency
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    family(
        s,
        "autobot_latency_seconds",
        "summary",
        "Per-stage latency of the run so far (docs/tuning.md lists the stages).",
    );
    for st in &latency {
        let stage = st.stage.name();
        for (q, ns) in st.quantiles {
            let _ = writeln!(
                s,
                "autobot_latency_seconds{{stage=\"{stage}\",quantile=\"{q}\"}} {}",
                ns / 1e9
            );
        }
        let _ = writeln!(
            s,
            "autobot_latency_seconds_sum{{stage=\"{stage}\"}} {}",
            st.sum_ns / 1e9
        );
        let _ = writeln!(
            s,
            "autobot_latency_seconds_count{{stage=\"{stage}\"}} {}",
            st.count
        );
    }
    family(
        s,
        "autobot_latency_max_seconds",
        "gauge",
        "Largest latency per stage so far.",
    );
    for st in &latency {
        let _ = writeln!(
            s,
            "autobot_latency_max_seconds{{stage=\"{}\"}} {}",
            st.stage.name(),
            st.max_ns / 1e9
        );
    }
}

/// Answers `GET /metrics` (Prometheus scrapers send no token: the
/// endpoint is loopback-only and read-only).
struct Scrapes {
    sources: Sources,
    count: Arc<AtomicU64>,
}

impl Handler for Scrapes {
    fn admit(&mut self, _head: &Head<'_>) -> Result<(), Response> {
        Ok(())
    }

    fn handle(&mut self, head: &Head<'_>, _body: &[u8]) -> Handled {
        if head.method == "GET" && head.path() == "/metrics" {
            self.count.fetch_add(1, Ordering::Relaxed);
            return Handled::Done(Response {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body: render(&self.sources),
            });
        }
        Handled::Done(Response::text(404, "only GET /metrics is served\n"))
    }
}

/// A running endpoint. Stopped (and its address file removed) on drop.
#[derive(Debug)]
pub struct MetricsServer {
    server: LoopbackServer,
    scrapes: Arc<AtomicU64>,
    addr_file: Option<PathBuf>,
}

impl MetricsServer {
    /// Binds `listen` and serves `sources`.
    pub fn start(listen: SocketAddr, sources: Sources) -> Result<MetricsServer, MetricsError> {
        let scrapes = Arc::new(AtomicU64::new(0));
        let server = LoopbackServer::start(
            listen,
            "autobot-metrics",
            Scrapes {
                sources,
                count: Arc::clone(&scrapes),
            },
        )
        .map_err(|e| match e {
            ListenError::NotLoopback(a) => MetricsError::NotLoopback(a),
            ListenError::Bind { addr, reason } => MetricsError::Bind { addr, reason },
        })?;
        Ok(MetricsServer {
            server,
            scrapes,
            addr_file: None,
        })
    }

    /// Starts the endpoint of a run if `[metrics] listen` is set, and
    /// leaves its address in `RUN_DIR/metrics.addr`.
    pub fn for_run(
        listen: Option<SocketAddr>,
        run_dir: &Path,
        sources: Sources,
    ) -> Result<Option<MetricsServer>, RunError> {
        let Some(listen) = listen else {
            return Ok(None);
        };
        let mut server = MetricsServer::start(listen, sources)?;
        let path = run_dir.join(ADDR_FILE);
        std::fs::write(&path, format!("{}\n", server.addr())).map_err(|source| {
            RunError::RunDir {
                path: path.clone(),
                source,
            }
        })?;
        server.addr_file = Some(path);
        eprintln!("autobot: metrics on http://{}/metrics", server.addr());
        Ok(Some(server))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Stops serving; the scrapes answered.
    pub fn stop(mut self) -> u64 {
        self.shut();
        self.scrapes.load(Ordering::Relaxed)
    }

    fn shut(&mut self) {
        self.server.stop();
        if let Some(p) = self.addr_file.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.shut();
    }
}
