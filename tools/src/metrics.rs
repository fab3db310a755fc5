//! The Prometheus endpoint of a run: `GET /metrics` on a loopback address
//! (`[metrics] listen`), the address left in `RUN_DIR/metrics.addr` while
//! the run is up. OpenMetrics text, encoded by `prometheus-client`.
//!
//! What it serves, all read off the hot path: the core's status board
//! (system state, control mode, kill switch, account, positions, PnL,
//! counters), the pipeline gauges (inputs published / journaled /
//! processed, ring fill, journal lag) and the latency collector's latest
//! per-stage figures, refreshed every `latency_every_secs`: a histogram
//! (fixed 1-2.5-5 buckets from 1 µs to 1 s, for `histogram_quantile` and
//! aggregation) and the HDR histogram's exact percentiles as gauges.
//!
//! Loopback only and without a token: it serves readings, never accepts a
//! command (that is the operator endpoint's job).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use autobot_engine::event::{ControlMode, SystemState};
use autobot_engine::runtime::{BoardSnapshot, GaugeReading, PipelineGauges, StatusBoard};
use autobot_gateways::http::{Handled, Handler, Head, HttpServer, ListenError, Response};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::latency::collector::{BUCKETS_NS, Latest, StageSummary};
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
    /// The notifier's counters and the notice tap's drops (a run with a
    /// notifier).
    pub notify: Option<(
        Arc<autobot_gateways::notify::NotifyStats>,
        Arc<std::sync::atomic::AtomicU64>,
    )>,
    /// The advisor stage's counters and last scores (a run with models).
    pub advisor: Option<Arc<autobot_gateways::advisor::AdvisorGauges>>,
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

/// The exposition (OpenMetrics text, which Prometheus scrapes), encoded by
/// `prometheus-client` from a [`Collector`] that reads the sources at
/// scrape time.
pub fn render(src: &Sources) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(src.clone())));
    let mut s = String::with_capacity(8 * 1024);
    // Writing into a `String` cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut s, &registry);
    s
}

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One scrape's reading of the sources.
#[derive(Debug)]
struct Scrape(Sources);

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let src = &self.0;
        let snap = src.board.snapshot();
        states(&mut enc, &snap)?;
        account(&mut enc, &snap, src)?;
        counters(&mut enc, &snap, &src.gauges.read())?;
        notifications(&mut enc, src)?;
        advisor(&mut enc, src)?;
        latency(&mut enc, src)
    }
}

/// One unlabelled gauge.
fn gauge(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    v: impl EncodeGaugeValue,
) -> Result<(), std::fmt::Error> {
    let m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(v).encode(m)
}

/// One unlabelled counter (the encoder appends `_total`).
fn counter(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    v: u64,
) -> Result<(), std::fmt::Error> {
    let m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    ConstCounter::new(v).encode(m)
}

/// A gauge family: one sample per label set.
fn gauges<L: EncodeLabelSet, V: EncodeGaugeValue>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, V)>,
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in samples {
        ConstGauge::new(v).encode(m.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The system state, control mode and kill switch.
fn states(enc: &mut DescriptorEncoder<'_>, snap: &BoardSnapshot) -> Result<(), std::fmt::Error> {
    gauges(
        enc,
        "autobot_system_state",
        "1 for the system's current state.",
        STATES.map(|(state, name)| ([("state", name)], i64::from(snap.state == state))),
    )?;
    gauges(
        enc,
        "autobot_control_mode",
        "1 for the current control mode.",
        ControlMode::ALL.map(|m| ([("mode", mode_name(m))], i64::from(snap.mode == m))),
    )?;
    gauge(
        enc,
        "autobot_kill_switch",
        "1 while the kill switch is engaged.",
        i64::from(snap.kill_switch),
    )
}

/// The account, positions and PnL per symbol.
fn account(
    enc: &mut DescriptorEncoder<'_>,
    snap: &BoardSnapshot,
    src: &Sources,
) -> Result<(), std::fmt::Error> {
    let a = &snap.account;
    for (name, help, v) in [
        ("autobot_balance_usdt", "Wallet balance.", a.balance),
        (
            "autobot_equity_usdt",
            "Balance plus unrealized PnL.",
            a.equity,
        ),
        (
            "autobot_realized_pnl_usdt",
            "Realized PnL before fees.",
            a.realized,
        ),
        (
            "autobot_unrealized_pnl_usdt",
            "Unrealized PnL at mark.",
            a.unrealized,
        ),
        ("autobot_fees_usdt", "Fees paid.", a.fees),
        (
            "autobot_funding_usdt",
            "Funding received (negative: paid).",
            a.funding,
        ),
        (
            "autobot_daily_pnl_usdt",
            "Equity change since the UTC day began.",
            a.daily_pnl,
        ),
    ] {
        gauge(enc, name, help, v.to_f64())?;
    }
    gauge(
        enc,
        "autobot_drawdown_ratio",
        "Drawdown from the high-water mark.",
        a.drawdown.to_f64(),
    )?;
    let name = |i: usize| src.symbols.get(i).map_or("?", String::as_str);
    gauges(
        enc,
        "autobot_position",
        "Signed position per symbol (base asset).",
        snap.symbols
            .iter()
            .enumerate()
            .map(|(i, row)| ([("symbol", name(i))], row.position.to_f64())),
    )?;
    gauges(
        enc,
        "autobot_symbol_pnl_usdt",
        "Realized and unrealized PnL per symbol.",
        snap.symbols.iter().enumerate().flat_map(|(i, row)| {
            [("realized", row.realized), ("unrealized", row.unrealized)]
                .map(|(kind, v)| ([("symbol", name(i)), ("kind", kind)], v.to_f64()))
        }),
    )
}

/// What the notifier did: every message is delivered, spooled or
/// coalesced, and these say how many of each.
fn notifications(enc: &mut DescriptorEncoder<'_>, src: &Sources) -> Result<(), std::fmt::Error> {
    let Some((stats, dropped)) = &src.notify else {
        return Ok(());
    };
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    for (name, help, v) in [
        (
            "autobot_notifications_made",
            "Notifications made (each goes to every channel).",
            get(&stats.made),
        ),
        (
            "autobot_notifications_delivered",
            "Deliveries that succeeded, over all channels.",
            get(&stats.delivered),
        ),
        (
            "autobot_notifications_retries",
            "Delivery attempts repeated after a failure.",
            get(&stats.retries),
        ),
        (
            "autobot_notifications_spooled",
            "Notifications written to notifications.jsonl (undelivered).",
            get(&stats.spooled),
        ),
        (
            "autobot_notifications_coalesced",
            "Notifications folded into a rate-limit summary.",
            get(&stats.coalesced),
        ),
        (
            "autobot_notices_dropped",
            "Core notices dropped because the notifier's queue was full.",
            get(dropped),
        ),
    ] {
        counter(enc, name, help, v)?;
    }
    Ok(())
}

/// The advisor per model: its last score per symbol (a gauge per model,
/// labelled), its predictions and failures.
fn advisor(enc: &mut DescriptorEncoder<'_>, src: &Sources) -> Result<(), std::fmt::Error> {
    let Some(g) = &src.advisor else {
        return Ok(());
    };
    let name = |i: usize| src.symbols.get(i).map_or("?", String::as_str);
    gauges(
        enc,
        "autobot_advisor_score",
        "Each model's last prediction per symbol: P(up over its horizon).",
        g.models.iter().flat_map(|m| {
            m.scores.iter().enumerate().filter_map(move |(i, s)| {
                let v = s.load(Ordering::Relaxed);
                (v != u32::MAX).then(|| {
                    (
                        [("model", m.name.as_str()), ("symbol", name(i))],
                        f64::from(v) / 1e6,
                    )
                })
            })
        }),
    )?;
    for (metric, help, read) in [
        (
            "autobot_advisor_predictions",
            "Predictions the model made (each journaled as an input).",
            (|m: &autobot_gateways::advisor::stage::ModelGauge| {
                m.predictions.load(Ordering::Relaxed)
            }) as fn(&autobot_gateways::advisor::stage::ModelGauge) -> u64,
        ),
        (
            "autobot_advisor_failures",
            "Feature vectors the model failed on (no prediction made).",
            |m| m.failures.load(Ordering::Relaxed),
        ),
    ] {
        let mut family = enc.encode_descriptor(metric, help, None, MetricType::Counter)?;
        for m in &g.models {
            ConstCounter::new(read(m))
                .encode(family.encode_family(&[("model", m.name.as_str())])?)?;
        }
    }
    counter(
        enc,
        "autobot_advisor_vectors",
        "Feature vectors the advisor stage received whole.",
        g.vectors.load(Ordering::Relaxed),
    )
}

/// The core's counters, open orders and the pipeline's inputs, ring and
/// journal lag.
fn counters(
    enc: &mut DescriptorEncoder<'_>,
    snap: &BoardSnapshot,
    g: &GaugeReading,
) -> Result<(), std::fmt::Error> {
    for (name, help, v) in [
        ("autobot_events", "Inputs the core processed.", snap.events),
        ("autobot_orders", "Orders sent.", snap.orders),
        ("autobot_fills", "Fills applied.", snap.fills),
        (
            "autobot_rejects",
            "Orders the exchange refused.",
            snap.rejects,
        ),
        (
            "autobot_vetoes",
            "Order intents vetoed by risk.",
            snap.vetoes,
        ),
        ("autobot_alerts", "Alerts raised.", snap.alerts),
        (
            "autobot_operator_refused",
            "Operator commands refused.",
            snap.operator_refused,
        ),
        (
            "autobot_inputs_published",
            "Inputs this run's gateways published.",
            g.published,
        ),
        (
            "autobot_inputs_journaled",
            "Inputs this run journaled.",
            g.journaled,
        ),
        (
            "autobot_inputs_processed",
            "Inputs this run's core processed.",
            g.processed,
        ),
        (
            "autobot_latency_stamps_dropped",
            "Order-sent latency stamps not journaled because their ring was full.",
            g.stamps_dropped,
        ),
    ] {
        counter(enc, name, help, v)?;
    }
    for (name, help, v) in [
        ("autobot_open_orders", "Orders open.", snap.open_orders),
        (
            "autobot_ring_fill",
            "Inputs in the ring not yet processed by the core.",
            g.ring_fill(),
        ),
        ("autobot_ring_size", "Input ring slots.", g.ring_size),
        (
            "autobot_journal_lag",
            "Inputs published but not yet journaled.",
            g.journal_lag(),
        ),
    ] {
        gauge(enc, name, help, v)?;
    }
    Ok(())
}

/// A stage's latency as a Prometheus histogram.
#[derive(Debug)]
struct StageHistogram<'a>(&'a StageSummary);

impl EncodeMetric for StageHistogram<'_> {
    fn encode(&self, mut m: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let st = self.0;
        let mut buckets = [(f64::INFINITY, 0); BUCKETS_NS.len() + 1];
        for (i, b) in buckets.iter_mut().enumerate() {
            let bound = BUCKETS_NS
                .get(i)
                .map_or(f64::INFINITY, |&ns| ns as f64 / 1e9);
            *b = (bound, st.buckets[i]);
        }
        m.encode_histogram::<NoLabelSet>(st.sum_ns / 1e9, st.count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The per-stage latency: a histogram, the exact percentiles of the HDR
/// histogram (a Prometheus summary's quantiles, served as gauges because
/// the encoder has no summary type) and the largest value.
fn latency(enc: &mut DescriptorEncoder<'_>, src: &Sources) -> Result<(), std::fmt::Error> {
    let latency = src
        .latency
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let mut m = enc.encode_descriptor(
        "autobot_latency_seconds",
        "Per-stage latency of the run so far (docs/tuning.md lists the stages).",
        None,
        MetricType::Histogram,
    )?;
    for st in &latency {
        StageHistogram(st).encode(m.encode_family(&[("stage", st.stage.name())])?)?;
    }
    let quantiles = latency.iter().flat_map(|st| {
        st.quantiles.map(|(q, ns)| {
            let labels = [
                ("stage", st.stage.name().to_string()),
                ("quantile", q.to_string()),
            ];
            (labels, ns / 1e9)
        })
    });
    gauges(
        enc,
        "autobot_latency_quantile_seconds",
        "Exact per-stage latency percentiles of the run so far (HDR histogram).",
        quantiles,
    )?;
    gauges(
        enc,
        "autobot_latency_max_seconds",
        "Largest latency per stage so far.",
        latency
            .iter()
            .map(|st| ([("stage", st.stage.name())], st.max_ns / 1e9)),
    )
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
            return Handled::Done(Response::new(200, CONTENT_TYPE, render(&self.sources)));
        }
        Handled::Done(Response::text(404, "only GET /metrics is served\n"))
    }
}

/// A running endpoint. Stopped (and its address file removed) on drop.
#[derive(Debug)]
pub struct MetricsServer {
    server: HttpServer,
    scrapes: Arc<AtomicU64>,
    addr_file: Option<PathBuf>,
}

impl MetricsServer {
    /// Binds `listen` and serves `sources`.
    pub fn start(listen: SocketAddr, sources: Sources) -> Result<MetricsServer, MetricsError> {
        let scrapes = Arc::new(AtomicU64::new(0));
        let server = HttpServer::start(
            listen,
            None,
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
        crate::whole::write(&path, format!("{}\n", server.addr())).map_err(|source| {
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
