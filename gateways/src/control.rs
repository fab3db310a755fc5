//! Operator control: an HTTP endpoint on loopback that turns an operator's
//! commands into input events (so they are journaled and replayed like
//! everything else) and answers status questions from the core's
//! [`StatusBoard`].
//!
//! # Protocol
//! Every request carries `Authorization: Bearer <token>`; anything else is
//! answered 401 and counted (the token is never logged or echoed).
//! - `GET /status`: the board as JSON, with the symbols' names.
//! - `POST /kill`, `/reset`, `/flatten?symbol=S` (or `?all`),
//!   `/mode?to=manual|semi-auto|full-auto|emergency`, `/approve?id=N`,
//!   `/reject?id=N`, `/order?symbol=S&side=buy|sell&qty=Q[&price=P]
//!   [&post_only][&reduce_only]` (a limit order when `price` is given, else
//!   a market order): one `OperatorCommand` each. The answer waits (up to
//!   [`ControlConfig::answer_within`]) until the core has processed it and
//!   says whether the core refused it, with the status after it.
//!
//! Arguments are checked here, so a typo is a 400 with a message rather
//! than a journaled refusal; what only the core knows (whether an approval
//! id is pending) comes back as `refused`.
//!
//! # Ordering
//! This thread is the only publisher of operator commands while it runs
//! (the runtime's `Start` goes before it starts, `Shutdown` after it
//! stops), so "the core processed my command" is "the core's count of
//! operator inputs reached the number published": no id needs to travel.
//!
//! It runs on [`crate::http::LoopbackServer`] (tiny_http, loopback only).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::event::{
    ControlMode, InputBody, InputEvent, OperatorAction, OperatorCommand, OrderKind, Source,
};
use autobot_engine::runtime::clock::mono_now;
use autobot_engine::runtime::{BoardSnapshot, InputPublisher, StatusBoard};
use autobot_engine::types::{Price, Qty, Side, SymbolId, UnixNanos};

use crate::credentials::Hidden;
use crate::http::{ListenError, LoopbackServer};

/// How the endpoint is set up.
#[derive(Clone, Debug)]
pub struct ControlConfig {
    /// Where to listen (must be a loopback address).
    pub listen: SocketAddr,
    /// The bearer token requests must carry.
    pub token: Hidden,
    /// Configured symbols, by `SymbolId`.
    pub symbols: Vec<String>,
    /// Operator inputs the core will have processed before the first
    /// command of this endpoint (the restored count plus the run's `Start`).
    pub operator_base: u64,
    /// Longest wait for the core to process a command before answering 202.
    pub answer_within: Duration,
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Only loopback addresses are allowed.
    #[error("operator control must listen on a loopback address, not {0}")]
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
    /// Requests refused as malformed (unknown path, bad argument).
    pub bad_requests: AtomicU64,
}

/// A running endpoint; a run that fails part-way still lets go of the
/// input ring (dropping it stops the thread that owns the publisher).
pub struct ControlServer {
    server: LoopbackServer,
    stats: Arc<ControlStats>,
}

impl ControlServer {
    /// Binds and starts answering. `publisher` is dropped when the server
    /// stops.
    pub fn start(
        cfg: ControlConfig,
        publisher: InputPublisher,
        board: Arc<StatusBoard>,
    ) -> Result<ControlServer, ControlError> {
        let listen = cfg.listen;
        let stats = Arc::new(ControlStats::default());
        let mut endpoint = Endpoint {
            expected: cfg.operator_base,
            ids: crate::binance::parse::Symbols::new(&cfg.symbols),
            cfg,
            publisher,
            board,
            stats: Arc::clone(&stats),
        };
        let server = LoopbackServer::start(listen, "autobot-control", move |rq| {
            endpoint.answer(rq);
        })
        .map_err(|e| match e {
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

    /// Stops answering, waits for the thread (which drops its publisher)
    /// and returns the counters.
    pub fn stop(mut self) -> Arc<ControlStats> {
        self.server.stop();
        Arc::clone(&self.stats)
    }
}

/// One answer: status and JSON body.
type Reply = (u16, String);

fn error(status: u16, msg: &str) -> Reply {
    let body = format!("{{\"error\":{}}}", json_string(msg));
    (status, body)
}

fn json_string(s: &str) -> String {
    simd_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Compares without stopping at the first difference, so the answer time
/// says nothing about how much of a guessed token was right.
fn same_token(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len() && given.iter().zip(token).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
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

struct Endpoint {
    cfg: ControlConfig,
    /// `cfg.symbols` by name, as the market parser looks them up.
    ids: crate::binance::parse::Symbols,
    publisher: InputPublisher,
    board: Arc<StatusBoard>,
    stats: Arc<ControlStats>,
    /// Operator inputs the core will have processed once every command
    /// published so far is processed.
    expected: u64,
}

impl Endpoint {
    fn answer(&mut self, rq: tiny_http::Request) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let authorized = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .and_then(|h| h.value.as_str().strip_prefix("Bearer "))
            .is_some_and(|t| same_token(t.trim().as_bytes(), self.cfg.token.expose().as_bytes()));
        let (status, body) = if authorized {
            let url = rq.url().to_string();
            let path = url.split('?').next().unwrap_or_default().to_string();
            self.route(rq.method(), &path, &url)
        } else {
            self.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "operator control: refused a request to {} without the right token",
                rq.url().split('?').next().unwrap_or_default()
            );
            error(
                401,
                "missing or wrong token (Authorization: Bearer <token>)",
            )
        };
        if (400..500).contains(&status) && status != 401 {
            self.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
        }
        let mut resp = tiny_http::Response::from_string(body).with_status_code(status);
        if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
        {
            resp.add_header(h);
        }
        let _ = rq.respond(resp);
    }

    fn symbol(&self, name: &str, what: &str) -> Result<SymbolId, Reply> {
        match self.ids.id(name) {
            Some(id) => Ok(id),
            None => Err(error(
                400,
                &format!(
                    "{what}: {name:?} is not a configured symbol ({})",
                    self.cfg.symbols.join(", ")
                ),
            )),
        }
    }

    /// `/order`: an operator order, checked for shape here (the veto chain
    /// checks the rest in the core).
    fn order(&self, url: &str) -> Result<(OperatorCommand, SymbolId), Reply> {
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

    fn route(&mut self, method: &tiny_http::Method, path: &str, url: &str) -> Reply {
        use tiny_http::Method::{Get, Post};
        let command = |action| (OperatorCommand::new(action, 0), SymbolId(0));
        let wanted = match (method, path) {
            (Get, "/status") => return (200, self.status_json(&self.board.snapshot())),
            (Post, "/kill") => command(OperatorAction::Kill),
            (Post, "/reset") => command(OperatorAction::Reset),
            (Post, "/mode") => match query(url, "to").and_then(parse_mode) {
                Some(m) => (
                    OperatorCommand::new(OperatorAction::SetMode, m as u64),
                    SymbolId(0),
                ),
                None => {
                    return error(400, "mode needs ?to=manual|semi-auto|full-auto|emergency");
                }
            },
            (Post, "/approve" | "/reject") => {
                let Some(id) = query(url, "id").and_then(|v| v.parse::<u64>().ok()) else {
                    return error(
                        400,
                        "approve and reject need ?id=<client order id> (a number)",
                    );
                };
                let action = if path == "/approve" {
                    OperatorAction::Approve
                } else {
                    OperatorAction::Reject
                };
                (OperatorCommand::new(action, id), SymbolId(0))
            }
            (Post, "/flatten") => {
                if query(url, "all").is_some() {
                    (
                        OperatorCommand::new(OperatorAction::Flatten, 1),
                        SymbolId(0),
                    )
                } else {
                    let Some(name) = query(url, "symbol") else {
                        return error(400, "flatten needs ?symbol=<SYMBOL> or ?all");
                    };
                    match self.symbol(name, "flatten") {
                        Ok(sym) => (OperatorCommand::new(OperatorAction::Flatten, 0), sym),
                        Err(reply) => return reply,
                    }
                }
            }
            (Post, "/order") => match self.order(url) {
                Ok(c) => c,
                Err(reply) => return reply,
            },
            (
                _,
                "/status" | "/kill" | "/reset" | "/mode" | "/approve" | "/reject" | "/flatten"
                | "/order",
            ) => {
                return error(405, "use GET for /status and POST for commands");
            }
            _ => return error(404, "unknown path"),
        };
        self.command(wanted)
    }

    fn command(&mut self, (c, symbol): (OperatorCommand, SymbolId)) -> Reply {
        let action = c.action;
        let ev = InputEvent::new(
            Source::Operator,
            symbol,
            mono_now(),
            UnixNanos(0), // no exchange time: a command from this host
            InputBody::Operator(c),
        );
        if self.publisher.publish(ev).is_err() {
            return error(
                503,
                "the pipeline has stopped; the command was not accepted",
            );
        }
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        self.expected += 1;
        let deadline = Instant::now() + self.cfg.answer_within;
        while self.board.operator_inputs() < self.expected {
            if Instant::now() >= deadline {
                let body = format!(
                    "{{\"command\":{},\"processed\":false}}",
                    json_string(&format!("{action:?}"))
                );
                return (202, body);
            }
            // An operator's request, not the hot path: no need to spin.
            std::thread::sleep(Duration::from_millis(1));
        }
        let snap = self.board.snapshot();
        let done = snap.last_command;
        let body = format!(
            "{{\"command\":{},\"processed\":true,\"refused\":{},\"orders_sent\":{},\"vetoed\":{},\"parked\":{},\"status\":{}}}",
            json_string(&format!("{action:?}")),
            done.refused > 0,
            done.orders,
            done.vetoes,
            done.pending,
            self.status_json(&snap)
        );
        (200, body)
    }

    fn status_json(&self, snap: &BoardSnapshot) -> String {
        #[derive(serde::Serialize)]
        struct Status<'a> {
            symbol_names: &'a [String],
            #[serde(flatten)]
            board: &'a BoardSnapshot,
        }
        simd_json::to_string(&Status {
            symbol_names: &self.cfg.symbols,
            board: snap,
        })
        .unwrap_or_else(|e| format!("{{\"error\":{}}}", json_string(&e.to_string())))
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
    fn queries() {
        assert_eq!(query("/flatten?all", "all"), Some(""));
        assert_eq!(query("/approve?id=12&x=1", "id"), Some("12"));
        assert_eq!(query("/approve", "id"), None);
    }
}
