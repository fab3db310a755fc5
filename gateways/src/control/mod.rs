//! Operator control: an HTTP endpoint on loopback (HTTPS elsewhere) that
//! turns an operator's commands into input events (so they are journaled
//! and replayed like everything else) and answers status questions from
//! the core's
//! [`StatusBoard`]; and the kill path without it (`signal`: SIGUSR1).
//!
//! # Protocol
//! Every request carries `Authorization: Bearer <token>`, checked from the
//! head before any body is read; anything else is answered 401 and counted
//! (the token is never logged or echoed; refused paths are logged escaped,
//! cut to 80 characters, at most once a second).
//! - `GET /status`: the board as JSON, with the symbols' names.
//! - `GET /store?table=T&before=K&limit=N`: a page of the run's trade
//!   store (`history`).
//! - `POST /kill` (`?flatten`: and close every position), `/reset`
//!   (`?override=day-loss,drawdown`: also lift those halts),
//!   `/flatten?symbol=S` (or `?all`),
//!   `/mode?to=manual|semi-auto|full-auto|emergency`, `/approve?id=N`,
//!   `/reject?id=N`, `/order?symbol=S&side=buy|sell&qty=Q[&price=P]
//!   [&post_only][&reduce_only]` (a limit order when `price` is given, else
//!   a market order): one `OperatorCommand` each. The answer waits (up to
//!   [`ControlConfig::answer_within`]) until the core has processed it and
//!   says whether the core refused it and why, the first veto of an order
//!   it caused in words (`core::explain`), and the status after it.
//!
//! Arguments are checked here, so a typo is a 400 with a message rather
//! than a journaled refusal; what only the core knows (whether an approval
//! id is pending, whether a mode change validates) comes back as `refused`
//! with its `reason`.
//!
//! # Ordering
//! Commands go through one [`OperatorInbox`], which counts them as it
//! publishes them, so "the core processed my command" is "the core's count
//! of operator inputs reached my ordinal": no id travels through the core.
//!
//! The same endpoint serves the operator's web dashboard (`dashboard`):
//! a login form exchanges the token for a session cookie, and the pages'
//! controls are these same commands, sent with the cookie and a CSRF token.
//!
//! It runs on [`crate::http::HttpServer`]: one thread, nothing a client
//! does can block it.

mod dashboard;
mod decisions;
pub mod history;
mod inbox;
mod signal;

pub use dashboard::{COOKIE, DashboardInfo, Probe, SESSION_TTL};
pub use inbox::{OperatorInbox, Stopped};
pub use signal::KillSignal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::core::explain;
use autobot_engine::core::{KILL_FLATTEN, RESET_OVERRIDE_DAY_LOSS, RESET_OVERRIDE_DRAWDOWN};
use autobot_engine::event::{ControlMode, OperatorAction, OperatorCommand, OrderKind, Source};
use autobot_engine::runtime::{BoardSnapshot, CommandOutcome, StatusBoard};
use autobot_engine::types::{Price, Qty, Side, SymbolId};

use crate::credentials::Hidden;
use crate::http::{Handled, Handler, Head, HttpServer, ListenError, Response};

/// How the endpoint is set up.
#[derive(Clone, Debug)]
pub struct ControlConfig {
    /// Where to listen: a loopback address, or any with `tls`.
    pub listen: SocketAddr,
    /// The endpoint's TLS identity (needed off loopback).
    pub tls: Option<crate::http::TlsIdentity>,
    /// The bearer token requests must carry.
    pub token: Hidden,
    /// Configured symbols, by `SymbolId`.
    pub symbols: Vec<String>,
    /// Strategy instances' names, by instance number.
    pub strategies: Vec<String>,
    /// The advisor's models, by registry index.
    pub models: Vec<String>,
    /// Longest wait for the core to process a command before answering 202.
    pub answer_within: Duration,
    /// What the dashboard shows that the board does not hold.
    pub dashboard: DashboardInfo,
    /// The latency collector's latest figures, for the dashboard.
    pub latency: Option<Probe>,
    /// A finished run's equity history from its replay: `(exchange time
    /// ms, equity, last sequence)` (empty for a live run, which samples
    /// its own).
    pub history: Vec<(u64, f64, u64)>,
    /// The run's trade store, for the history views (`None`: the run
    /// keeps none).
    pub store: Option<history::HistorySource>,
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// A non-loopback address without TLS.
    #[error(
        "operator control must listen on a loopback address, not {0}, unless [operator] tls_cert and tls_key are set"
    )]
    NotLoopback(SocketAddr),
    /// The address could not be bound.
    #[error("operator control: cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// What the endpoint did.
#[derive(Debug, Default)]
pub struct ControlStats {
    /// Requests answered.
    pub requests: AtomicU64,
    /// Commands published into the input ring.
    pub commands: AtomicU64,
    /// Requests without the right token.
    pub unauthorized: AtomicU64,
    /// Requests refused as malformed (unknown path, bad argument, too
    /// large, too slow).
    pub bad_requests: AtomicU64,
}

/// A running endpoint. Stopping it stops answering; the inbox it sends
/// through belongs to the run, which closes it before shutdown.
pub struct ControlServer {
    server: HttpServer,
    stats: Arc<ControlStats>,
}

impl ControlServer {
    /// Binds and starts answering; commands go through `inbox` (none: a
    /// finished run's read-only dashboard, every command refused).
    /// `records` and `fills`: the output tap's decision records and the
    /// gateways' fill copies, for the dashboard's log.
    pub fn start(
        cfg: ControlConfig,
        inbox: Option<OperatorInbox>,
        board: Arc<StatusBoard>,
        (records, fills): (
            Option<autobot_engine::runtime::notices::Notices>,
            Option<autobot_engine::runtime::notices::Fills>,
        ),
    ) -> Result<ControlServer, ControlError> {
        let listen = cfg.listen;
        let tls = cfg.tls.clone();
        let stats = Arc::new(ControlStats::default());
        let endpoint = Endpoint {
            ids: crate::binance::parse::Symbols::new(&cfg.symbols),
            dash: {
                let mut d = dashboard::Dashboard::new(cfg.dashboard.clone(), cfg.latency.clone());
                if !cfg.history.is_empty() {
                    d.preload(&cfg.history);
                }
                d
            },
            decisions: decisions::Decisions::new(
                (records, fills),
                cfg.symbols.clone(),
                (cfg.strategies.clone(), cfg.models.clone()),
            ),
            cfg,
            inbox,
            board,
            stats: Arc::clone(&stats),
            waiting: Vec::new(),
            log: RefusalLog::default(),
        };
        let server =
            HttpServer::start(listen, tls, "autobot-control", endpoint).map_err(|e| match e {
                ListenError::NotLoopback(a) => ControlError::NotLoopback(a),
                ListenError::Bind { addr, reason } => ControlError::Bind { addr, reason },
            })?;
        Ok(ControlServer { server, stats })
    }

    /// The bound address (the port when `listen` asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Counters so far.
    pub fn stats(&self) -> &ControlStats {
        &self.stats
    }

    /// Stops answering, waits for the thread and returns the counters.
    pub fn stop(mut self) -> Arc<ControlStats> {
        self.server.stop();
        Arc::clone(&self.stats)
    }
}

fn error(status: u16, msg: &str) -> Response {
    #[derive(serde::Serialize)]
    struct Refused<'a> {
        error: &'a str,
    }
    Response::json(status, to_json(&Refused { error: msg }))
}

/// Every JSON answer goes through serde; a value that cannot be written
/// (none of ours can fail) still answers with JSON saying why.
fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}

/// What `/ctl` answers once the command was journaled.
#[derive(serde::Serialize)]
struct Answer<'a> {
    command: String,
    processed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    known: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    orders_sent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vetoed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parked: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status<'a>>,
}

/// The status board with the symbols' and strategies' names.
#[derive(serde::Serialize)]
struct Status<'a> {
    symbol_names: &'a [String],
    strategy_names: &'a [String],
    #[serde(flatten)]
    board: &'a BoardSnapshot,
}

/// Compares without stopping at the first difference, so the answer time
/// says nothing about how much of a guessed token was right.
fn same_token(given: &[u8], token: &[u8]) -> bool {
    dashboard::same(given, token)
}

/// A mode by the config's spelling (or with `_`, or its number).
pub fn parse_mode(s: &str) -> Option<ControlMode> {
    match s.replace('_', "-").to_ascii_lowercase().as_str() {
        "manual" | "0" => Some(ControlMode::Manual),
        "semi-auto" | "1" => Some(ControlMode::SemiAuto),
        "full-auto" | "2" => Some(ControlMode::FullAuto),
        "emergency" | "3" => Some(ControlMode::Emergency),
        _ => None,
    }
}

fn query<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let (_, q) = url.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })
}

/// Text from a client, fit for one log line: control and non-ASCII bytes
/// escaped, cut to `max` characters.
pub fn escaped(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

/// Refused requests are always counted, but logged at most once a second
/// per kind of refusal (the HTTP status), with how many of that kind went
/// unlogged, so a flood cannot fill the log nor hide another kind.
#[derive(Debug, Default)]
struct RefusalLog {
    /// Per status: when it was last logged, refusals since.
    kinds: Vec<(u16, Instant, u64)>,
}

impl RefusalLog {
    fn note(&mut self, status: u16, what: impl FnOnce() -> String) {
        let now = Instant::now();
        let more = match self.kinds.iter_mut().find(|k| k.0 == status) {
            Some(k) if now < k.1 + Duration::from_secs(1) => {
                k.2 += 1;
                return;
            }
            Some(k) => {
                k.1 = now;
                std::mem::take(&mut k.2)
            }
            None => {
                self.kinds.push((status, now, 0));
                0
            }
        };
        let more = if more > 0 {
            format!(" ({more} more like it since the last line)")
        } else {
            String::new()
        };
        eprintln!("operator control: {}{more}", what());
    }
}

/// A command published and not yet answered.
struct Waiting {
    ticket: u64,
    action: OperatorAction,
    until: Instant,
}

struct Endpoint {
    cfg: ControlConfig,
    /// `cfg.symbols` by name, as the market parser looks them up.
    ids: crate::binance::parse::Symbols,
    inbox: Option<OperatorInbox>,
    board: Arc<StatusBoard>,
    stats: Arc<ControlStats>,
    waiting: Vec<Waiting>,
    log: RefusalLog,
    dash: dashboard::Dashboard,
    decisions: decisions::Decisions,
}

impl Handler for Endpoint {
    fn admit(&mut self, head: &Head<'_>) -> Result<(), Response> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if dashboard::Dashboard::is_public(head.method, head.path()) {
            return Ok(());
        }
        let authorized = head
            .header("Authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same_token(t.trim().as_bytes(), self.cfg.token.expose().as_bytes()));
        if authorized {
            return Ok(());
        }
        let csrf = match self.dash.admit(head) {
            Ok(()) => return Ok(()),
            Err(dashboard::Denied::Csrf) => true,
            Err(dashboard::Denied::Unauthorized) => false,
        };
        self.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        let path = head.path().to_string();
        if csrf {
            self.log.note(403, || {
                format!(
                    "refused a dashboard request to {} without its CSRF token",
                    escaped(&path, 80)
                )
            });
            return Err(error(
                403,
                "a dashboard session's request must carry its CSRF token (X-CSRF-Token)",
            ));
        }
        self.log.note(401, || {
            format!(
                "refused a request to {} without the right token",
                escaped(&path, 80)
            )
        });
        Err(error(
            401,
            "missing or wrong token (Authorization: Bearer <token>)",
        ))
    }

    fn handle(&mut self, head: &Head<'_>, body: &[u8]) -> Handled {
        let token = self.cfg.token.expose().as_bytes();
        match self.dash.route(head, body, token) {
            Some(dashboard::DashRoute::Reply(r)) => return Handled::Done(r),
            Some(dashboard::DashRoute::Stream(t)) => return Handled::Stream(t),
            Some(dashboard::DashRoute::LoginFailed(r)) => {
                self.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
                self.log.note(401, || {
                    "refused a dashboard login with a wrong token".into()
                });
                return Handled::Done(r);
            }
            None => {}
        }
        if head.method == "GET" && head.path() == "/store" {
            return Handled::Done(history::answer(self.cfg.store.as_ref(), head.target));
        }
        if head.method == "GET" && head.path() == "/decisions" {
            self.decisions.drain();
            return Handled::Done(Response::json(200, self.decisions.json()));
        }
        match self.route(head.method, head.path(), head.target) {
            Ok(Routed::Reply(r)) => Handled::Done(r),
            Ok(Routed::Command(c, sym)) => self.command(c, sym),
            Err(r) => {
                self.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                Handled::Done(r)
            }
        }
    }

    fn poll(&mut self, ticket: u64) -> Option<Response> {
        let i = self.waiting.iter().position(|w| w.ticket == ticket)?;
        if self.board.operator_inputs() >= ticket {
            let w = self.waiting.swap_remove(i);
            return Some(self.answer(&w));
        }
        if Instant::now() >= self.waiting[i].until {
            let w = self.waiting.swap_remove(i);
            let body = Answer {
                command: format!("{:?}", w.action),
                processed: false,
                known: None,
                refused: None,
                orders_sent: None,
                vetoed: None,
                parked: None,
                reason: None,
                status: None,
            };
            return Some(Response::json(202, to_json(&body)));
        }
        None
    }

    fn refused(&mut self, status: u16, why: &str) {
        self.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
        self.log
            .note(status, || format!("refused a request ({status}): {why}"));
    }

    fn stream(&mut self, ticket: u64) -> Option<String> {
        let status = to_json(&self.status(&self.board.snapshot()));
        self.dash.frame(ticket, &status)
    }

    fn stream_closed(&mut self, ticket: u64) {
        self.dash.stream_closed(ticket);
    }

    fn tick(&mut self) {
        self.dash.tick(&self.board);
        self.decisions.drain();
    }
}

/// Where a request goes.
enum Routed {
    /// Answered at once.
    Reply(Response),
    /// A command for the core.
    Command(OperatorCommand, SymbolId),
}

impl Endpoint {
    fn symbol(&self, name: &str, what: &str) -> Result<SymbolId, Response> {
        match self.ids.id(name) {
            Some(id) => Ok(id),
            None => Err(error(
                400,
                &format!(
                    "{what}: {:?} is not a configured symbol ({})",
                    escaped(name, 32),
                    self.cfg.symbols.join(", ")
                ),
            )),
        }
    }

    /// `/order`: an operator order, checked for shape here (the veto chain
    /// checks the rest in the core).
    fn order(&self, url: &str) -> Result<(OperatorCommand, SymbolId), Response> {
        let usage = "order needs ?symbol=S&side=buy|sell&qty=Q[&price=P][&post_only][&reduce_only]";
        let symbol = self.symbol(
            query(url, "symbol").ok_or_else(|| error(400, usage))?,
            "order",
        )?;
        let side = match query(url, "side").map(str::to_ascii_lowercase).as_deref() {
            Some("buy") => Side::Buy,
            Some("sell") => Side::Sell,
            _ => return Err(error(400, usage)),
        };
        let qty = query(url, "qty")
            .and_then(|q| Qty::parse(q).ok())
            .filter(|q| q.is_positive())
            .ok_or_else(|| error(400, "order: qty must be a positive decimal"))?;
        let (kind, price) = match query(url, "price") {
            None => (OrderKind::Market, Price::ZERO),
            Some(p) => match Price::parse(p) {
                Ok(p) if p.is_positive() => (OrderKind::Limit, p),
                _ => return Err(error(400, "order: price must be a positive decimal")),
            },
        };
        let post_only = query(url, "post_only").is_some();
        if post_only && kind == OrderKind::Market {
            return Err(error(400, "order: post_only needs a limit price"));
        }
        let mut flags = 0;
        if query(url, "reduce_only").is_some() {
            flags |= OperatorCommand::REDUCE_ONLY;
        }
        if post_only {
            flags |= OperatorCommand::POST_ONLY;
        }
        let c = OperatorCommand {
            action: OperatorAction::Order,
            side,
            kind,
            flags,
            qty,
            price,
            ..OperatorCommand::default()
        };
        Ok((c, symbol))
    }

    fn route(&self, method: &str, path: &str, url: &str) -> Result<Routed, Response> {
        let command = |action, arg| {
            Ok(Routed::Command(
                OperatorCommand::new(action, arg),
                SymbolId(0),
            ))
        };
        match (method, path) {
            ("GET", "/status") => Ok(Routed::Reply(Response::json(
                200,
                to_json(&self.status(&self.board.snapshot())),
            ))),
            ("POST", "/kill") => {
                let flatten = query(url, "flatten").is_some();
                command(OperatorAction::Kill, if flatten { KILL_FLATTEN } else { 0 })
            }
            ("POST", "/reset") => {
                let mut arg = 0;
                for what in query(url, "override").unwrap_or_default().split(',') {
                    arg |= match what {
                        "" => 0,
                        "day-loss" => RESET_OVERRIDE_DAY_LOSS,
                        "drawdown" => RESET_OVERRIDE_DRAWDOWN,
                        _ => {
                            return Err(error(
                                400,
                                "reset takes ?override=day-loss, drawdown or both (comma-separated)",
                            ));
                        }
                    };
                }
                command(OperatorAction::Reset, arg)
            }
            ("POST", "/mode") => match query(url, "to").and_then(parse_mode) {
                Some(m) => command(OperatorAction::SetMode, m as u64),
                None => Err(error(
                    400,
                    "mode needs ?to=manual|semi-auto|full-auto|emergency",
                )),
            },
            ("POST", "/approve" | "/reject") => {
                let Some(id) = query(url, "id").and_then(|v| v.parse::<u64>().ok()) else {
                    return Err(error(
                        400,
                        "approve and reject need ?id=<client order id> (a number)",
                    ));
                };
                let action = if path == "/approve" {
                    OperatorAction::Approve
                } else {
                    OperatorAction::Reject
                };
                command(action, id)
            }
            ("POST", "/flatten") => {
                if query(url, "all").is_some() {
                    return command(OperatorAction::Flatten, 1);
                }
                let Some(name) = query(url, "symbol") else {
                    return Err(error(400, "flatten needs ?symbol=<SYMBOL> or ?all"));
                };
                let sym = self.symbol(name, "flatten")?;
                Ok(Routed::Command(
                    OperatorCommand::new(OperatorAction::Flatten, 0),
                    sym,
                ))
            }
            ("POST", "/order") => {
                let (c, sym) = self.order(url)?;
                Ok(Routed::Command(c, sym))
            }
            ("POST", "/strategy") => {
                let usage = "strategy needs ?name=<NAME>&to=disable|enable";
                let name = query(url, "name").ok_or_else(|| error(400, usage))?;
                let action = match query(url, "to") {
                    Some("disable") => OperatorAction::DisableStrategy,
                    Some("enable") => OperatorAction::EnableStrategy,
                    _ => return Err(error(400, usage)),
                };
                let Some(k) = self.cfg.strategies.iter().position(|n| n == name) else {
                    let known = self.cfg.strategies.join(", ");
                    let msg = format!("no strategy instance is named {name:?} (they are: {known})");
                    return Err(error(400, &msg));
                };
                command(action, k as u64)
            }
            (
                _,
                "/status" | "/kill" | "/reset" | "/mode" | "/approve" | "/reject" | "/flatten"
                | "/order" | "/strategy",
            ) => Err(error(405, "use GET for /status and POST for commands")),
            _ => Err(error(404, "unknown path")),
        }
    }

    fn command(&mut self, c: OperatorCommand, symbol: SymbolId) -> Handled {
        let Some(inbox) = &self.inbox else {
            return Handled::Done(error(
                403,
                "this dashboard shows a finished run: it is read-only, no command reaches a core",
            ));
        };
        match inbox.send(Source::Operator, symbol, c) {
            Ok(ticket) => {
                self.stats.commands.fetch_add(1, Ordering::Relaxed);
                self.waiting.push(Waiting {
                    ticket,
                    action: c.action,
                    until: Instant::now() + self.cfg.answer_within,
                });
                Handled::Wait(ticket)
            }
            Err(e) => Handled::Done(error(503, &e.to_string())),
        }
    }

    /// The answer to a processed command: what the core did, in words.
    fn answer(&self, w: &Waiting) -> Response {
        let snap = self.board.snapshot();
        let done = snap.last_command;
        // Another command processed after ours (in the same batch) owns
        // the board's record: ours was processed, its details are gone.
        let ours = snap.operator_inputs == w.ticket;
        let reason = if ours { self.reason(&done) } else { None };
        let body = Answer {
            command: format!("{:?}", w.action),
            processed: true,
            known: Some(ours),
            refused: Some(ours && done.refused > 0),
            orders_sent: Some(if ours { done.orders } else { 0 }),
            vetoed: Some(if ours { done.vetoes } else { 0 }),
            parked: Some(if ours { done.pending } else { 0 }),
            reason: Some(reason),
            status: Some(self.status(&snap)),
        };
        Response::json(200, to_json(&body))
    }

    /// Why the core refused the command, or the veto of an order it caused.
    fn reason(&self, done: &CommandOutcome) -> Option<String> {
        let r = &done.result;
        if let Some((to, why)) = r.mode_refusal {
            return Some(explain::mode_refusal(to, why));
        }
        if let Some(refusal) = r.refusal {
            return Some(explain::refusal(refusal).to_string());
        }
        r.veto.map(|a| {
            let name = self
                .cfg
                .symbols
                .get(usize::from(a.symbol.0))
                .map_or("?", String::as_str);
            explain::audit_line(&a, name)
        })
    }

    fn status<'a>(&'a self, snap: &'a BoardSnapshot) -> Status<'a> {
        Status {
            symbol_names: &self.cfg.symbols,
            strategy_names: &self.cfg.strategies,
            board: snap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token(b"abc", b"abc"));
        assert!(!same_token(b"abd", b"abc"));
        assert!(!same_token(b"ab", b"abc"));
        assert!(!same_token(b"", b"abc"));
    }

    #[test]
    fn modes_by_any_spelling() {
        assert_eq!(parse_mode("semi-auto"), Some(ControlMode::SemiAuto));
        assert_eq!(parse_mode("SEMI_AUTO"), Some(ControlMode::SemiAuto));
        assert_eq!(parse_mode("3"), Some(ControlMode::Emergency));
        assert_eq!(parse_mode("auto"), None);
    }

    #[test]
    fn client_text_is_escaped_and_cut() {
        assert_eq!(escaped("/kill\x1b[2J", 80), "/kill\\u{1b}[2J");
        assert_eq!(escaped(&"a".repeat(100), 4), "aaaa…");
    }

    #[test]
    fn queries() {
        assert_eq!(query("/flatten?all", "all"), Some(""));
        assert_eq!(query("/approve?id=12&x=1", "id"), Some("12"));
        assert_eq!(query("/approve", "id"), None);
    }
}
