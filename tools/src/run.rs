//! `autobot run`: paper trading on the seeded synthetic market.
//!
//! Threads: market gateway (synthetic generator) → input ring → [journaller]
//! → core → output ring → paper execution, which feeds fills back into the
//! input ring. Shutdown: the market gateway stops at the configured duration
//! (or Ctrl-C); the runtime publishes `OperatorAction::Shutdown`; the core
//! answers `Stopped` and sends nothing more; the paper exchange answers every
//! earlier order, then releases the input ring; every stage drains and exits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autobot_engine::event::{InputBody, InputEvent, OperatorAction, OperatorCommand, Source};
use autobot_engine::runtime::clock::{mono_now, unix_now};
use autobot_engine::runtime::{
    InputPublisher, InputView, LatencyRecorder, OutputReader, PipelineReport, RuntimeError, start,
};
use autobot_engine::types::{SymbolId, UnixNanos};
use autobot_gateways::paper::{self, PaperExchange, PaperStats};
use autobot_gateways::resync::ResyncRequests;

use crate::exchange::{ExchangeSide, ExchangeStart};
use crate::market::{MarketOutcome, MarketSide, MarketStart};

use crate::config::{AppConfig, Deployment, Endpoint, Execution};
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::credentials::Credentials;

pub use crate::stage::{RunError, RunOptions};
use crate::stage::{StageThread, spawn_stage};

/// Everything a finished run reports.
#[derive(Debug)]
pub struct RunOutcome {
    /// This run's directory (journal, summary).
    pub run_dir: PathBuf,
    /// The strategy instances' names, in instance order.
    pub strategies: Vec<String>,
    /// The symbols, in id order.
    pub symbols: Vec<String>,
    /// What the market side did.
    pub market: MarketOutcome,
    /// Paper exchange counters (paper execution).
    pub paper: PaperStats,
    /// Exchange execution's counters (exchange execution).
    pub exchange: Option<crate::exchange::ExchangeOutcome>,
    /// What the account held at start (exchange execution to a URL).
    pub reconciled: Option<crate::exchange::StartReconcile>,
    /// What the operator's endpoint did (when `[operator] listen` is set).
    pub control: Option<crate::control::ControlOutcome>,
    /// What the notifier did (`[notify]`).
    pub notifications: crate::notify::NotifyCounts,
    /// What opening the journal found, and the inputs replayed to restore
    /// the core (non-zero when resuming).
    pub recovery: autobot_journal::OpenReport,
    /// Inputs of the earlier run replayed into the core.
    pub restored: u64,
    /// What the live trade store wrote (`[store] live`).
    pub store: Option<crate::store::live::LiveOutcome>,
    /// The snapshot the core was restored from (file, sequence), if any.
    pub restored_from: Option<(PathBuf, autobot_engine::types::Seq)>,
    /// The snapshot written at the end of the run.
    pub snapshot: Option<PathBuf>,
    /// The pipeline's report (core, journal).
    pub pipeline: PipelineReport,
    /// The clock the latency stamps were read from.
    pub clock: autobot_engine::runtime::clock::ClockSource,
    /// Where the metrics endpoint listened, and the scrapes it answered.
    pub metrics: Option<(std::net::SocketAddr, u64)>,
    /// Per-stage latency of the whole run (also in `RUN_DIR/latency/`).
    pub latency: autobot_engine::runtime::latency::StageHistograms,
    /// Wall-clock length.
    pub elapsed: Duration,
    /// Wall-clock time from starting the market gateway to its end: the
    /// market data's span, without the journal's and core's start and the
    /// stop.
    pub market_elapsed: Duration,
    /// The advisor stage's totals and its models' names (a run with
    /// models).
    pub advisor: Option<(autobot_gateways::advisor::StageStats, Vec<String>)>,
}

/// The configuration the run trades with: testnet and live need exchange
/// execution to a URL, and against an exchange its trading rules replace
/// the config's (`Some`, with what changed); a resumed run refuses rules
/// that changed since it started.
fn trading_rules(
    cfg: &AppConfig,
    opts: &RunOptions,
    on_exchange: bool,
) -> Result<(Option<AppConfig>, Vec<String>), RunError> {
    match cfg.run.mode {
        // The gate refuses this before any countdown; a run started
        // without the gate (a library caller) is refused here.
        Deployment::Testnet | Deployment::Live if !cfg.trades_on_an_exchange() => {
            return Err(RunError::NoExchangeGateway(
                cfg.run.mode.name(),
                "it needs [exchange] execution = \"exchange\" and endpoint = \"url\"",
            ));
        }
        _ => {}
    }
    if cfg.exchange.endpoint != Endpoint::Url {
        return Ok((None, Vec::new()));
    }
    let mut c = cfg.clone();
    let mut warnings = crate::exchange::adopt_exchange_rules(&mut c, &cfg.exchange.rest_url)?;
    if on_exchange {
        // The account's maintenance brackets need its keys.
        let keys = credentials(opts)?;
        let signer = Signer::try_from_parts(keys.api_key.clone(), &keys.api_secret)?;
        warnings.extend(crate::exchange::adopt_exchange_brackets(&mut c, &signer)?);
    }
    // Notes that change nothing (brackets the exchange does not list) do
    // not stop a resume; a rule that changed does.
    if opts.resume.is_some() && c.instruments != cfg.instruments {
        return Err(RunError::Instruments(format!(
            "the exchange's trading rules changed since this run started ({}); \
             its journal was recorded with the old ones, so start a new run",
            warnings.join("; ")
        )));
    }
    Ok((Some(c), warnings))
}

/// How the run reaches the exchange: the built-in simulator's fresh keys,
/// the signer, and (to a URL) the account as it stands before anything
/// starts.
struct Access {
    sim_api: Option<(
        autobot_gateways::credentials::Hidden,
        autobot_gateways::credentials::Hidden,
    )>,
    signer: Option<Signer>,
    account: Option<crate::exchange::AccountAtStart>,
}

/// The keys the run signs with: the gate's, else the environment's.
fn credentials(opts: &RunOptions) -> Result<Credentials, RunError> {
    Ok(match &opts.credentials {
        Some(c) => c.clone(),
        None => Credentials::from_env()?,
    })
}

fn exchange_access(
    cfg: &AppConfig,
    opts: &RunOptions,
    on_exchange: bool,
    names: &[String],
) -> Result<Access, RunError> {
    let sim_api = match (on_exchange, cfg.exchange.endpoint) {
        (true, Endpoint::Simulator) => Some(crate::exchange::simulator_keys()?),
        _ => None,
    };
    let signer = match (&sim_api, on_exchange) {
        (Some((k, s)), _) => Some(Signer::from_parts(k.clone(), s)),
        (None, true) => {
            let c = credentials(opts)?;
            Some(Signer::try_from_parts(c.api_key.clone(), &c.api_secret)?)
        }
        (None, false) => None,
    };
    // An account outlives runs, so it is read before anything starts. (The
    // built-in simulator's account is new each run, with nothing to read.)
    let account = match (&signer, cfg.exchange.endpoint) {
        (Some(signer), Endpoint::Url) => {
            let a = crate::exchange::read_account(cfg, signer, names)?;
            if opts.resume.is_none() {
                // A new run holds no order: refuse foreign ones before a
                // run directory exists.
                a.foreign(cfg, &[])?;
            }
            Some(a)
        }
        _ => None,
    };
    Ok(Access {
        sim_api,
        signer,
        account,
    })
}

/// Runs the paper engine to completion.
pub fn run_paper(cfg: &AppConfig, opts: &RunOptions) -> Result<RunOutcome, RunError> {
    let on_exchange = cfg.exchange.execution == Execution::Exchange;
    let (adopted, rule_warnings) = trading_rules(cfg, opts, on_exchange)?;
    let cfg = adopted.as_ref().unwrap_or(cfg);
    let names: Vec<String> = cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
    let Access {
        sim_api,
        signer,
        account,
    } = exchange_access(cfg, opts, on_exchange, &names)?;
    // A channel without its secret refuses the run before it starts; so
    // does a model trained on other features.
    let notify_channels = crate::notify::channels(cfg)?;
    let models = cfg.advisor.load()?;
    let advisor = (!models.is_empty()).then(|| {
        let listed: Vec<&str> = models.iter().map(|m| m.name()).collect();
        eprintln!(
            "autobot: advisor models loaded and checked: {}",
            listed.join(", ")
        );
        autobot_gateways::advisor::Advisor::new(models, names.len())
    });
    let run_dir = run_dir_for(cfg, opts)?;
    let mut fresh = FreshRunDir {
        path: (opts.resume.is_none() && !opts.keep_failed_start).then(|| run_dir.clone()),
    };
    let core_cfg = cfg.core();
    // Before any thread stamps an event.
    let clock = autobot_engine::runtime::clock::init();
    eprintln!("autobot: latency clock: {clock}");
    let began = Instant::now();
    let snapshots = run_dir.join("snapshots");
    let mut started = start(
        &cfg.engine,
        &cfg.journal,
        &core_cfg,
        &run_dir.join("journal"),
        Some(&snapshots),
        !on_exchange,
    )?;
    let recovery = started.recovery.clone();
    if let Some((path, offset, bytes, what)) = &recovery.truncated {
        // Said now, not only in the summary: the resume just dropped it.
        eprintln!(
            "autobot: journal recovery removed {what}: {bytes} bytes at offset {offset} of {}{}",
            path.display(),
            recovery.kept.as_ref().map_or(String::new(), |k| format!(
                " (its bytes are kept in {})",
                k.display()
            ))
        );
    }
    // Whichever execution thread runs journals its order-sent stamps.
    let mut order_stamps = started.order_stamp_writer();
    let collector = start_collector(cfg, &started.latency, &run_dir)?;
    let live_store = cfg
        .store
        .live
        .then(|| crate::store::live::LiveStore::start(cfg, &run_dir))
        .transpose()
        .map_err(|e| RunError::Store(format!("{e:#}")))?;
    let restored = started.restore.replayed;
    let restored_from = started.restore.snapshot.clone();
    let restore_divergence = started.restore.divergence;

    let mut control = started.publisher.clone();
    let operator_base = publish_start(&mut control, &started)?;
    let advisor_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let advisor_gauges = advisor
        .as_ref()
        .map(autobot_gateways::advisor::Advisor::gauges);
    let advisor_thread = match advisor {
        Some(a) => Some(
            autobot_gateways::advisor::stage::spawn(
                a,
                started.advice.rx,
                started.publisher.clone(),
                Arc::clone(&advisor_stop),
            )
            .map_err(|_| RunError::Gateway("advisor"))?,
        ),
        None => None,
    };
    // Before any market data: the core starts from what the account holds.
    let ledger = crate::exchange::ledger_of(&started.open_orders);
    let reconciled = account
        .map(|a| a.reconcile(cfg, &started.open_orders, &ledger, &mut control))
        .transpose()?;
    // The board already shows the restored core; the core will process
    // the `Start` before any operator command.
    let operator = crate::control::OperatorSide::start(
        cfg,
        &run_dir,
        started.publisher.clone(),
        Arc::clone(&started.board),
        operator_base,
        (
            Some(collector.latest()),
            Some(started.records),
            Some(started.fills),
        ),
    )?;
    let notify = crate::notify::NotifySide::start(
        notify_channels,
        &run_dir,
        started.notices,
        Arc::clone(&started.board),
        autobot_gateways::notify::Names {
            symbols: names.clone(),
            dashboard: operator.addr().map(|a| format!("http://{a}")),
        },
        (
            format!(
                "run started: {} on {} ({})",
                names.join(", "),
                run_dir.display(),
                if on_exchange {
                    "exchange execution"
                } else {
                    "paper"
                }
            ),
            (cfg.notify.fill_notional.is_positive()).then(|| {
                autobot_gateways::notify::LargeFills {
                    fills: started.notify_fills,
                    notional: cfg.notify.fill_notional.to_f64(),
                }
            }),
        ),
    )?;
    let sources = (&started.board, &started.gauges, &notify, advisor_gauges);
    let metrics = start_metrics(cfg, &run_dir, sources, &collector, &names)?;
    let market_pub = started.publisher.clone();
    let exec_pub = started.publisher.clone();
    let resync = Arc::new(ResyncRequests::new(core_cfg.instruments.len()));
    let mut outputs = Some(started.outputs);
    // Every publisher must be dropped for the input ring to shut down:
    // this one goes to paper execution or is dropped here.
    let paper_pub = started.publisher;
    let paper_thread = match started.view {
        Some(view) if !on_exchange => {
            let outputs = outputs.take().ok_or(RunError::Gateway("paper execution"))?;
            let mut exchange = PaperExchange::new(&cfg.paper, &core_cfg, started.first_seq);
            exchange.adopt(&started.open_orders);
            let latency = started.latency.recorder().journaling(order_stamps.take());
            let ring = (outputs, view, paper_pub);
            Some(spawn_paper(
                cfg,
                exchange,
                ring,
                Arc::clone(&resync),
                latency,
            )?)
        }
        _ => {
            drop(paper_pub);
            None
        }
    };

    let market_began = Instant::now();
    let market = MarketSide::start(MarketStart {
        cfg,
        instruments: &core_cfg.instruments,
        publisher: market_pub,
        restored_market_events: started.restored_market_events,
        opts,
        resync: Arc::clone(&resync),
        sim_api,
        latency: Some(Arc::clone(&started.latency)),
    })?;
    // The market is running: from here the run directory is a run's.
    fresh.path = None;
    let exchange_side = match (signer, outputs.take(), market.urls()) {
        (Some(signer), Some(outputs), Some((ws_url, rest_url))) => {
            Some(ExchangeSide::start(ExchangeStart {
                cfg,
                names,
                ledger,
                ws_url,
                rest_url,
                signer,
                outputs,
                exec_publisher: exec_pub,
                user_publisher: control.clone(),
                resync: Arc::clone(&resync),
                latency: started.latency.recorder().journaling(order_stamps.take()),
            })?)
        }
        _ => {
            drop(exec_pub);
            None
        }
    };
    // No execution thread took it: the journal must not wait for it.
    drop(order_stamps);
    let (market, sim) = market.finish()?;
    let market_elapsed = market_began.elapsed();
    // The operator's inbox (endpoint, SIGUSR1) must let go of the ring
    // before `Shutdown`: it is the last input, and the ring shuts down only
    // when every publisher is gone.
    let control_outcome = operator.finish();
    // So must the advisor stage: predictions after this would find the
    // core stopping anyway.
    advisor_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let advisor_stats = advisor_thread.map(|t| t.join().unwrap_or_default());
    // If the pipeline halted the publish fails; join reports the cause.
    let _ = control.publish(runtime_command(OperatorAction::Shutdown));
    drop(control);
    let (paper_stats, exchange, execution_warnings) = join_execution(paper_thread, exchange_side)?;
    let mut pipeline = started.handle.join()?;
    let store = live_store.map(|s| s.finish(pipeline.journal.next_seq));
    if let Some(e) = store.as_ref().and_then(|s| s.error.as_ref()) {
        pipeline.warnings.push(format!(
            "the trade store stopped early ({e}): `autobot store rebuild {}` makes it whole",
            run_dir.display()
        ));
    }
    let notifications = {
        let a = pipeline.core.core.account_view();
        notify.finish(format!(
            "run stopped after {:.0} s: equity {} USDT, realized {} USDT, fees {} USDT, {} fills",
            began.elapsed().as_secs_f64(),
            a.equity,
            a.realized,
            a.fees,
            pipeline.core.core.stats().fills
        ))
    };
    drop(sim);
    // A clean stop leaves a snapshot, so the next resume or replay can skip
    // the journal's prefix.
    let snapshot = autobot_engine::snapshot::save(&snapshots, &pipeline.core.core, &core_cfg)
        .map_err(RuntimeError::from)?;
    autobot_journal::prune_snapshots(&snapshots, cfg.journal.snapshot_keep as usize)
        .map_err(RuntimeError::from)?;
    let w = &mut pipeline.warnings;
    w.extend(restore_divergence.map(divergence_warning));
    w.extend(rule_warnings);
    w.extend(cancelled_at_start(reconciled.as_ref()));
    // Every recording thread (core, journaller, execution) has finished.
    let (latency, latency_warning) = collector.finish();
    let metrics = metrics.map(|m| (m.addr(), m.stop()));
    w.extend(latency_warning);
    w.extend(dropped_stamps_warning(started.gauges.read().stamps_dropped));
    // A run that never saw the market is a failure, not a quiet success
    // (wrong symbols, streams or capture), unless the operator stopped it.
    if !opts.stop.load(std::sync::atomic::Ordering::Relaxed)
        && let Some(refusal) = no_market_data(&market, &core_cfg, &run_dir)
    {
        return Err(refusal);
    }
    pipeline.warnings.extend(market.warning.clone());
    pipeline.warnings.extend(execution_warnings);
    Ok(RunOutcome {
        run_dir,
        strategies: cfg.strategy.names(),
        symbols: core_cfg
            .instruments
            .iter()
            .map(|i| i.name.to_string())
            .collect(),
        market,
        paper: paper_stats,
        exchange,
        reconciled,
        control: control_outcome,
        notifications,
        recovery,
        restored,
        restored_from,
        snapshot,
        pipeline,
        latency,
        clock,
        metrics,
        elapsed: began.elapsed(),
        market_elapsed,
        advisor: advisor_stats.map(|s| (s, cfg.advisor.names())),
        store,
    })
}

/// Marks the run's beginning in the journal (a core restored from a run
/// that stopped cleanly, so `Stopped`, trades again from here). Returns
/// the operator input count the core will have processed before the
/// first command: read before the `Start` goes out, because once it is
/// published the core may count it at any moment, and a count read after
/// that would expect one command too many (every answer would then say
/// "not processed").
fn publish_start(
    control: &mut InputPublisher,
    started: &autobot_engine::runtime::Started,
) -> Result<u64, RunError> {
    let operator_base = started.board.operator_inputs() + 1;
    control
        .publish(runtime_command(OperatorAction::Start))
        .map_err(|_| RunError::Gateway("runtime control"))?;
    Ok(operator_base)
}

/// What the metrics endpoint reads: the board, the pipeline's gauges and
/// the notifier.
type MetricSources<'a> = (
    &'a Arc<autobot_engine::runtime::StatusBoard>,
    &'a Arc<autobot_engine::runtime::PipelineGauges>,
    &'a crate::notify::NotifySide,
    Option<Arc<autobot_gateways::advisor::AdvisorGauges>>,
);

fn start_metrics(
    cfg: &AppConfig,
    run_dir: &Path,
    (board, gauges, notify, advisor): MetricSources<'_>,
    collector: &crate::latency::collector::Collector,
    names: &[String],
) -> Result<Option<crate::metrics::MetricsServer>, RunError> {
    crate::metrics::MetricsServer::for_run(
        cfg.metrics.addr(),
        run_dir,
        crate::metrics::Sources {
            board: Arc::clone(board),
            gauges: Arc::clone(gauges),
            notify: Some(notify.counters()),
            latency: collector.latest(),
            symbols: names.to_vec(),
            advisor,
        },
    )
}

/// Waits for whichever execution thread ran (paper or exchange): its
/// counters, the exchange side's outcome and their warnings.
fn join_execution(
    paper: Option<StageThread<PaperStats>>,
    exchange: Option<ExchangeSide>,
) -> Result<
    (
        PaperStats,
        Option<crate::exchange::ExchangeOutcome>,
        Vec<String>,
    ),
    RunError,
> {
    let (stats, paper_warning) = match paper {
        Some(t) => t.join().map_err(|_| RunError::Gateway("paper execution"))?,
        None => (PaperStats::default(), None),
    };
    let (outcome, exchange_warning) = match exchange {
        Some(side) => {
            let (outcome, warning) = side.finish()?;
            (Some(outcome), warning)
        }
        None => (None, None),
    };
    let warnings = paper_warning.into_iter().chain(exchange_warning).collect();
    Ok((stats, outcome, warnings))
}

/// One warning per foreign order cancelled at start.
fn cancelled_at_start(reconciled: Option<&crate::exchange::StartReconcile>) -> Vec<String> {
    reconciled
        .iter()
        .flat_map(|r| &r.cancelled)
        .map(|(symbol, client)| {
            format!(
                "cancelled open order {client} on {symbol} at start: this run does not hold it \
                 (foreign_orders = \"cancel\")"
            )
        })
        .collect()
}

fn dropped_stamps_warning(dropped: u64) -> Option<String> {
    (dropped > 0).then(|| {
        format!(
            "{dropped} order-sent latency stamps were not journaled (their ring was full); \
             the .hgrm files have them"
        )
    })
}

/// The refusal of a run whose market side published nothing.
fn no_market_data(
    market: &MarketOutcome,
    core_cfg: &autobot_engine::config::CoreConfig,
    run_dir: &Path,
) -> Option<RunError> {
    let published = market.gateway.as_ref().map_or(market.events, |g| g.events);
    (published == 0).then(|| RunError::NoMarketData {
        symbols: core_cfg
            .instruments
            .iter()
            .map(|i| i.name.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        source_name: market
            .endpoint
            .clone()
            .unwrap_or_else(|| "the synthetic market".into()),
        messages: market.gateway.as_ref().map_or(0, |g| g.messages),
        connecting: market
            .gateway
            .as_ref()
            .and_then(|g| {
                let last = g.last_connect_error.as_ref()?;
                Some(format!(
                    "; {} connection attempts failed, the last: {last}",
                    g.connect_failures
                ))
            })
            .unwrap_or_default(),
        run_dir: run_dir.to_path_buf(),
    })
}

/// The run's directory: the resumed one, or a new one holding the
/// configuration it runs with.
fn run_dir_for(cfg: &AppConfig, opts: &RunOptions) -> Result<PathBuf, RunError> {
    if let Some(dir) = &opts.resume {
        return Ok(dir.clone());
    }
    check_capture(cfg)?;
    let run_dir = new_run_dir(Path::new(&cfg.run.run_dir), cfg.market.seed)?;
    let path = run_dir.join("config.toml");
    crate::whole::write(&path, cfg.to_toml())
        .map_err(|source| RunError::RunDir { path, source })?;
    Ok(run_dir)
}

/// Paper execution on its own (pinned) thread: orders from the output
/// ring, fills into the input ring, in the order of the inputs the core
/// processed (its view of the input ring).
fn spawn_paper(
    cfg: &AppConfig,
    exchange: PaperExchange,
    (outputs, view, publisher): (OutputReader, InputView, InputPublisher),
    resync: Arc<ResyncRequests>,
    latency: LatencyRecorder,
) -> Result<StageThread<PaperStats>, RunError> {
    let (cpus, wait) = (cfg.engine.cpus, cfg.engine.wait);
    let busy = wait == autobot_engine::config::WaitKind::BusySpin;
    let halt = publisher.halt_flag();
    spawn_stage(
        "autobot-paper",
        "paper execution",
        (cpus.execution, cpus.realtime_priority),
        busy,
        halt,
        move || {
            let waiter = publisher.consumer_waiter();
            paper::run(exchange, outputs, view, publisher, waiter, &resync, latency)
        },
    )
}

/// A command of this process to the core (no exchange time).
fn runtime_command(action: OperatorAction) -> InputEvent {
    InputEvent::new(
        Source::Runtime,
        SymbolId(0),
        mono_now(),
        UnixNanos(0),
        InputBody::Operator(OperatorCommand::new(action, 0)),
    )
}

/// The latency collector of the run (`[metrics] latency_every_secs`).
fn start_collector(
    cfg: &AppConfig,
    hub: &Arc<autobot_engine::runtime::LatencyHub>,
    run_dir: &Path,
) -> Result<crate::latency::collector::Collector, RunError> {
    let every = cfg.metrics.latency_every_secs;
    crate::latency::collector::Collector::start(
        Arc::clone(hub),
        run_dir.to_path_buf(),
        (every > 0).then(|| Duration::from_secs(every)),
    )
    .map_err(|source| RunError::RunDir {
        path: crate::latency::dir_of(run_dir),
        source,
    })
}

/// The warning of a restore whose replay departed from the recording.
fn divergence_warning(d: autobot_engine::replay::Divergence) -> String {
    let range = if d.exact() {
        String::new()
    } else {
        format!(" (first divergent in {}..={})", d.from, d.at)
    };
    format!(
        "restoring the earlier run: the replay's outputs depart from the recorded ones at input {}{range} \
         (this build or configuration decides differently; the state is the replay's)",
        d.at
    )
}

/// A simulator streaming a capture: its file opens and its first line
/// reads, checked before the run directory exists, so a capture refused at
/// once leaves no run behind (a line refused later ends a run that has
/// journaled real inputs, which stays).
fn check_capture(cfg: &AppConfig) -> Result<(), RunError> {
    use autobot_gateways::sim::{SimError, feed::CaptureFeed};
    let ex = &cfg.exchange;
    if ex.endpoint != Endpoint::Simulator || ex.simulator_source == "synthetic" {
        return Ok(());
    }
    let mut feed = CaptureFeed::open(Path::new(&ex.simulator_source), None)
        .map_err(|e| RunError::Simulator(SimError::Feed(e)))?;
    feed.next_item()
        .map_err(|e| RunError::Simulator(SimError::Feed(e)))?;
    Ok(())
}

/// A new run directory that is removed, with a word on stderr, if the run
/// fails before its market starts: nothing ran there but the start itself
/// (`--keep-failed-start` keeps it; a resumed run's is never removed).
struct FreshRunDir {
    path: Option<PathBuf>,
}

impl Drop for FreshRunDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take()
            && std::fs::remove_dir_all(&path).is_ok()
        {
            eprintln!(
                "autobot: the run did not start; removed {} (--keep-failed-start keeps it)",
                path.display()
            );
        }
    }
}

/// Creates `<base>/<UTC date-time>-seed<seed>[-n]`.
fn new_run_dir(base: &Path, seed: u64) -> Result<PathBuf, RunError> {
    let stamp = utc_stamp(unix_now().0 / 1_000_000_000);
    let mut n = 0;
    loop {
        let name = match n {
            0 => format!("{stamp}-seed{seed}"),
            _ => format!("{stamp}-seed{seed}-{n}"),
        };
        let path = base.join(name);
        match std::fs::create_dir_all(base).and_then(|()| std::fs::create_dir(&path)) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(source) => return Err(RunError::RunDir { path, source }),
        }
    }
}

/// `YYYYmmdd-HHMMSS` in UTC, to name run directories.
fn utc_stamp(secs: u64) -> String {
    crate::position::compact_utc(secs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_stamps() {
        assert_eq!(super::utc_stamp(0), "19700101-000000");
        assert_eq!(super::utc_stamp(1_704_067_200), "20240101-000000");
        assert_eq!(super::utc_stamp(1_795_000_000), "20261118-110640");
    }
}
