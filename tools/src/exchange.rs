//! Exchange execution for `autobot run` (`[exchange] execution =
//! "exchange"`): the signed REST execution thread and the user-data stream
//! thread, against the built-in simulator or the configured URLs.
//!
//! Start (against an account, `endpoint = "url"`): [`read_account`] reads
//! the account's open orders, positions and wallet before the run directory
//! exists; before any market data, [`AccountAtStart::reconcile`] refuses or
//! cancels open orders the core does not hold (`foreign_orders`) and puts
//! each symbol's position into the journal as an `AccountUpdate` snapshot
//! the core adopts. The user stream then
//! queries every order the core holds open after each connect (see
//! `autobot_gateways::binance::ledger`).
//!
//! Shutdown: the execution thread answers every order the core sent
//! before `Stopped`, then releases its publisher and says so; the user
//! stream keeps reading until the order ledger is settled (every order has
//! the reports it is owed), at most [`DRAIN_LIMIT`]; then it stops, asking
//! over REST for whatever is still owed, and releases its publisher, which
//! lets the input ring shut down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::config::WaitKind;
use autobot_engine::core::{OpenOrder, OrderState};
use autobot_engine::event::OrderStatus;
use autobot_engine::runtime::{InputPublisher, OutputReader};
use autobot_engine::types::Qty;
use autobot_gateways::binance::execution::{self, ExecClient, ExecConfig, ExecStats};
use autobot_gateways::binance::ledger::OrderLedger;
use autobot_gateways::binance::parse::Symbols;
use autobot_gateways::binance::sign::Signer;
use autobot_gateways::binance::user::{UserStats, UserStream, UserStreamConfig};
use autobot_gateways::credentials::Hidden;
use autobot_gateways::resync::ResyncRequests;

use crate::config::{AppConfig, ForeignOrders};
use crate::stage::{RunError, StageThread, spawn_stage};
use autobot_gateways::binance::account::{ExchangeOrder, ExchangeStop};

/// Longest wait for the user stream at shutdown.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// A fresh key pair for the built-in simulator: 32 random bytes each, from
/// the OS. It never leaves this process.
pub fn simulator_keys() -> Result<(Hidden, Hidden), RunError> {
    let what = "random source for the simulator keys";
    Ok((
        Hidden::new(crate::stage::random_hex(32, what)?),
        Hidden::new(crate::stage::random_hex(32, what)?),
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
    ledger: Arc<OrderLedger>,
    /// Periodic reconciliation (`[exchange] reconcile_every_secs`).
    reconciler: Option<crate::drift::Reconciler>,
}

/// The execution client's settings from the config.
pub fn exec_config(cfg: &AppConfig, rest_url: &str) -> Result<ExecConfig, RunError> {
    let mut c = ExecConfig::new(rest_url);
    c.recv_window_ms = cfg.exchange.recv_window_ms;
    c.weight_budget = cfg.exchange.weight_budget;
    c.trust = cfg.exchange.trust()?;
    Ok(c)
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
    /// The orders the core holds open (a resumed run; [`ledger_of`]), as
    /// the start's reconciliation left them: the user stream asks the
    /// exchange what became of those still open.
    pub ledger: Arc<OrderLedger>,
    /// The execution thread's latency histograms (`tick_to_order`).
    pub latency: autobot_engine::runtime::LatencyRecorder,
}

impl ExchangeSide {
    /// Starts both threads.
    pub fn start(s: ExchangeStart<'_>) -> Result<ExchangeSide, RunError> {
        let ex = &s.cfg.exchange;
        let exec_cfg = exec_config(s.cfg, &s.rest_url)?;
        let ledger = s.ledger;
        let user_cfg = UserStreamConfig {
            rest_url: s.rest_url.clone(),
            ws_url: s.ws_url,
            api_key: s.signer.api_key().clone(),
            margin_asset: "USDT".into(),
            keepalive: Duration::from_secs(30 * 60),
            poll: Duration::from_millis(10),
            backoff_min: Duration::from_millis(ex.backoff_min_ms),
            backoff_max: Duration::from_millis(ex.backoff_max_ms),
            leverage: Some(s.cfg.account.leverage),
            trust: exec_cfg.trust.clone(),
        };
        let reconciler = match crate::drift::period(ex.reconcile_every_secs) {
            Some(every) => Some(
                crate::drift::Reconciler::start(
                    ExecClient::new(exec_cfg.clone(), s.signer.clone(), s.names.clone()),
                    s.names.clone(),
                    Arc::clone(&ledger),
                    every,
                    s.user_publisher.clone(),
                )
                .map_err(|_| RunError::Gateway("reconciliation"))?,
            ),
            None => None,
        };
        let querier = ExecClient::new(exec_cfg.clone(), s.signer.clone(), s.names.clone());
        let mut user = UserStream::new(user_cfg, Symbols::new(&s.names))
            .with_reconciler(querier, Arc::clone(&ledger));
        let user_stats = user.stats();
        let client = ExecClient::new(exec_cfg, s.signer, s.names);
        let exec_ledger = Arc::clone(&ledger);
        let released = Arc::new(AtomicBool::new(false));
        let user_stop = Arc::new(AtomicBool::new(false));
        let (cpus, wait) = (s.cfg.engine.cpus, s.cfg.engine.wait);
        let busy = wait == WaitKind::BusySpin;
        let (outputs, resync, rel) = (s.outputs, s.resync, Arc::clone(&released));
        let exec_pub = s.exec_publisher;
        let latency = s.latency;
        let halt = exec_pub.halt_flag();
        let exec = spawn_stage(
            "autobot-exec",
            "execution",
            (cpus.execution, cpus.realtime_priority),
            busy,
            halt,
            move || {
                let waiter = exec_pub.consumer_waiter();
                execution::run(
                    client,
                    outputs,
                    exec_pub,
                    waiter,
                    &resync,
                    &rel,
                    &exec_ledger,
                    latency,
                )
            },
        )?;
        let mut user_pub = s.user_publisher;
        let halt = user_pub.halt_flag();
        let stop = Arc::clone(&user_stop);
        // Not pinned: it reads a socket a few times per order.
        let user = spawn_stage(
            "autobot-user",
            "user data stream",
            (None, 0),
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
            ledger,
            reconciler,
        })
    }

    /// Waits for the execution thread to answer every order, lets the user
    /// stream deliver the last reports, and stops both.
    pub fn finish(self) -> Result<(ExchangeOutcome, Option<String>), RunError> {
        if let Some(r) = self.reconciler {
            r.finish();
        }
        let began = Instant::now();
        let mut released_at = None;
        // The runtime's shutdown timer, not a test waiting: a coarse tick.
        while began.elapsed() < DRAIN_LIMIT + DRAIN_LIMIT && !self.exec.is_finished() {
            if released_at.is_none() && self.released.load(Ordering::Acquire) {
                released_at = Some(Instant::now());
            }
            if let Some(t) = released_at
                && (self.ledger.unsettled() == 0 || t.elapsed() >= DRAIN_LIMIT)
            {
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
        let positions = client
            .position_list()
            .map(|l| l.into_iter().map(|p| (p.symbol, p.qty)).collect())
            .map_err(|e| e.to_string());
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

/// The ledger of the orders a resumed core holds open, with what the core
/// has applied of each.
pub fn ledger_of(open_orders: &[OpenOrder]) -> Arc<OrderLedger> {
    let ledger = Arc::new(OrderLedger::new());
    for o in open_orders {
        let status = match o.state {
            OrderState::New | OrderState::Submitted => None,
            OrderState::Accepted => Some(OrderStatus::Accepted),
            OrderState::PartiallyFilled => Some(OrderStatus::PartiallyFilled),
            _ => continue,
        };
        ledger.adopt(o.client_id, o.symbol, o.side, o.kind, o.filled, status);
    }
    ledger
}

/// What the account held at start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartReconcile {
    /// Open orders on our symbols that the core does not hold, cancelled
    /// (`foreign_orders = "cancel"`): symbol and client id.
    pub cancelled: Vec<(String, String)>,
    /// Positions the account held on our symbols (symbol, signed amount).
    pub positions: Vec<(String, Qty)>,
    /// The margin asset's wallet balance.
    pub wallet: autobot_engine::types::Money,
}

/// An open order of the account: at the order endpoint, or a conditional
/// one at the Algo Order API (a stop another run left behind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAtStart {
    /// Exchange symbol.
    pub symbol: String,
    /// Its client id (or client algo id) as sent.
    pub client: String,
    /// Our id, when the engine wrote it.
    pub client_id: Option<autobot_engine::types::ClientOrderId>,
    /// The exchange's order id, or algo id.
    pub id: u64,
    /// Conditional, at the Algo Order API.
    pub algo: bool,
}

impl OpenAtStart {
    fn order(o: ExchangeOrder) -> OpenAtStart {
        OpenAtStart {
            symbol: o.symbol,
            client: o.client,
            client_id: o.client_id,
            id: o.order_id,
            algo: false,
        }
    }

    fn stop(s: ExchangeStop) -> OpenAtStart {
        OpenAtStart {
            symbol: s.symbol,
            client: s.client,
            client_id: s.client_id,
            id: s.algo_id,
            algo: true,
        }
    }
}

/// The account as read before a run against it starts.
pub struct AccountAtStart {
    client: ExecClient,
    names: Vec<String>,
    open: Vec<OpenAtStart>,
    positions: Vec<autobot_gateways::binance::account::ExchangePosition>,
    wallet: autobot_engine::types::Money,
}

/// Reads the account's open orders, positions and wallet at
/// `[exchange] rest_url`; `names` are the exchange symbols in `SymbolId`
/// order. An unreadable account stops the run.
pub fn read_account(
    cfg: &AppConfig,
    signer: &Signer,
    names: &[String],
) -> Result<AccountAtStart, RunError> {
    let rest_url = &cfg.exchange.rest_url;
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        RunError::Reconcile(format!("reading the account's {what} at {rest_url}: {e}"))
    };
    let mut client = ExecClient::new(exec_config(cfg, rest_url)?, signer.clone(), names.to_vec());
    let mut open: Vec<OpenAtStart> = client
        .open_orders()
        .map_err(|e| fail("open orders", &e))?
        .into_iter()
        .map(OpenAtStart::order)
        .collect();
    let stops = client
        .open_algo_orders()
        .map_err(|e| fail("open conditional orders", &e))?;
    open.extend(stops.into_iter().map(OpenAtStart::stop));
    let wallet = client.wallet("USDT").map_err(|e| fail("wallet", &e))?;
    let positions = client.position_list().map_err(|e| fail("positions", &e))?;
    Ok(AccountAtStart {
        client,
        names: names.to_vec(),
        open,
        positions,
        wallet,
    })
}

impl AccountAtStart {
    /// Open orders on our symbols that the core, holding `held`, does not
    /// hold; refused with their names under `foreign_orders = "refuse"`.
    pub fn foreign(
        &self,
        cfg: &AppConfig,
        held: &[OpenOrder],
    ) -> Result<Vec<&OpenAtStart>, RunError> {
        let is_held = |o: &OpenAtStart| {
            o.client_id
                .is_some_and(|id| held.iter().any(|h| h.client_id == id))
        };
        let foreign: Vec<&OpenAtStart> = self
            .open
            .iter()
            .filter(|o| self.names.contains(&o.symbol) && !is_held(o))
            .collect();
        if !foreign.is_empty() && cfg.exchange.foreign_orders == ForeignOrders::Refuse {
            let list = foreign
                .iter()
                .map(|o| {
                    let what = if o.algo { "conditional order" } else { "order" };
                    format!("{} {} ({what} {})", o.symbol, o.client, o.id)
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(RunError::Reconcile(format!(
                "the account has open orders this run does not hold: {list}; cancel them, \
                 or set [exchange] foreign_orders = \"cancel\""
            )));
        }
        Ok(foreign)
    }

    /// Cancels the foreign orders (`foreign_orders = "cancel"`, else they
    /// refuse the run); publishes what became of the orders the core holds
    /// (`ledger`: fills and ends while no run was there, e.g. a protective
    /// stop that closed a killed run's position), then one `AccountUpdate`
    /// snapshot per configured symbol, so the journal holds the account the
    /// core starts from. In that order: a fill applied after a snapshot
    /// that already holds it would count it twice.
    pub fn reconcile(
        mut self,
        cfg: &AppConfig,
        held: &[OpenOrder],
        ledger: &OrderLedger,
        publisher: &mut InputPublisher,
    ) -> Result<StartReconcile, RunError> {
        use autobot_engine::event::{AccountReason, AccountUpdate, InputBody, InputEvent, Source};
        use autobot_engine::runtime::clock::mono_now;
        use autobot_engine::types::{SymbolId, UnixNanos};
        let foreign: Vec<OpenAtStart> = self.foreign(cfg, held)?.into_iter().cloned().collect();
        let mut found = StartReconcile {
            wallet: self.wallet,
            ..StartReconcile::default()
        };
        for o in foreign {
            let cancelled = if o.algo {
                self.client.cancel_algo_by_id(o.id)
            } else {
                self.client.cancel_by_exchange_id(&o.symbol, o.id)
            };
            cancelled.map_err(|e| {
                RunError::Reconcile(format!(
                    "cancelling open order {} on {}: {e}",
                    o.client, o.symbol
                ))
            })?;
            found.cancelled.push((o.symbol, o.client));
        }
        let mut missed = Vec::new();
        autobot_gateways::binance::reconcile::reconcile(&mut self.client, ledger, &mut missed)
            .map_err(|e| {
                RunError::Reconcile(format!("asking what became of the open orders: {e}"))
            })?;
        for ev in missed {
            publisher
                .publish(ev)
                .map_err(|_| RunError::Gateway("reconciliation"))?;
        }
        // The account as it stands now, after those fills.
        self.positions = self
            .client
            .position_list()
            .map_err(|e| RunError::Reconcile(format!("reading the account's positions: {e}")))?;
        self.wallet = self
            .client
            .wallet("USDT")
            .map_err(|e| RunError::Reconcile(format!("reading the account's wallet: {e}")))?;
        found.wallet = self.wallet;
        for (i, name) in self.names.iter().enumerate() {
            let p = self.positions.iter().find(|p| &p.symbol == name);
            let snapshot = AccountUpdate {
                reason: AccountReason::Snapshot,
                wallet_balance: self.wallet,
                position_qty: p.map_or(Qty::ZERO, |p| p.qty),
                entry_price: p.map(|p| p.entry).unwrap_or_default(),
                unrealized_pnl: p.map(|p| p.unrealized).unwrap_or_default(),
            };
            if !snapshot.position_qty.is_zero() {
                found.positions.push((name.clone(), snapshot.position_qty));
            }
            let sym = SymbolId(u16::try_from(i).map_err(|_| RunError::Gateway("reconciliation"))?);
            let ev = InputEvent::new(
                Source::Execution,
                sym,
                mono_now(),
                UnixNanos(0),
                InputBody::AccountUpdate(snapshot),
            );
            publisher
                .publish(ev)
                .map_err(|_| RunError::Gateway("reconciliation"))?;
        }
        Ok(found)
    }
}

/// Reads the account's maintenance brackets (`GET /fapi/v1/leverageBracket`)
/// and makes the configured instruments' agree with them, each change named
/// in a warning (recorded, like the rules, in the run's config.toml). A
/// symbol the exchange gives no brackets for, or a table the margin model
/// cannot check, keeps the config's, with a warning.
pub fn adopt_exchange_brackets(
    cfg: &mut crate::config::AppConfig,
    signer: &Signer,
) -> Result<Vec<String>, RunError> {
    use autobot_engine::config::BracketConfig;
    let rest_url = cfg.exchange.rest_url.clone();
    let names: Vec<String> = cfg.instruments.iter().map(|i| i.symbol.clone()).collect();
    let mut client = ExecClient::new(exec_config(cfg, &rest_url)?, signer.clone(), names);
    let mut warnings = Vec::new();
    for ins in &mut cfg.instruments {
        let tiers = client.leverage_brackets(&ins.symbol).map_err(|e| {
            RunError::Instruments(format!(
                "leverageBracket of {} from {rest_url}: {e}",
                ins.symbol
            ))
        })?;
        if tiers.is_empty() {
            warnings.push(format!(
                "{}: the exchange lists no maintenance brackets; the config's are kept",
                ins.symbol
            ));
            continue;
        }
        let theirs: Vec<BracketConfig> = tiers
            .into_iter()
            .map(|(cap, mmr, cum)| BracketConfig(cap, mmr, cum))
            .collect();
        if theirs == ins.brackets {
            continue;
        }
        let mut candidate = ins.clone();
        candidate.brackets = theirs;
        match candidate.bracket_table() {
            Ok(_) => {
                warnings.push(format!(
                    "{}: maintenance brackets: the exchange's {} tiers replace the config's {}",
                    ins.symbol,
                    candidate.brackets.len(),
                    ins.brackets.len()
                ));
                *ins = candidate;
            }
            Err(e) => warnings.push(format!(
                "{}: the exchange's maintenance brackets do not check ({e}); the config's are kept",
                ins.symbol
            )),
        }
    }
    Ok(warnings)
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
    let trust = cfg.exchange.trust()?;
    let mut rest = RestClient::with_trust(rest_url, Duration::from_secs(10), &trust);
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
