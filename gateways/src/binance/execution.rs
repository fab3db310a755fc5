//! Binance USD-M order execution over signed REST: the core's orders and
//! cancels go out as signed requests; refusals come back into the core as
//! [`OrderRejected`] input events. Acceptances and fills arrive on the
//! user-data stream ([`super::user`]), the one source of an order's life.
//!
//! # What each error does (by code: the table in [`super::errors`])
//! - -1021 (timestamp outside recvWindow): measure the offset to the
//!   exchange clock (`/fapi/v1/time`, half the round trip) and send once
//!   more with a fresh timestamp and signature; a second -1021 is refused
//!   as `ClockSkew`.
//! - -1003, -1004, -1008, -1015, -1016 / 429 / 418: back off for
//!   `Retry-After` (else [`ExecConfig::backoff`]); every order until then
//!   is refused locally as `RateLimited`, without a request.
//! - -2018 / -2019: refused as `InsufficientMargin`; -2025 / -2027 /
//!   -2028: as `AccountLimit`; -2023: as `Liquidating` (the core alerts).
//! - Filter codes (-1013, -1111, -2010, -4xxx): refused as `Filter`;
//!   parameter codes as `Other`.
//! - -1002, -1005, -1011, -1022, -1099, -2014, -2015: refused as `Auth`
//!   (the core's auth breaker).
//! - Transport failure, -1000/-1001/-1006/-1007, or a 5xx with a code the
//!   table does not know: the outcome is unknown, so the order is queried
//!   by its client id; found → the user stream reports it; not found →
//!   refused. An unknown code is logged once with its text.
//!
//! # Request weight
//! The exchange reports the weight used this minute in every response;
//! a new order is refused locally as `RateLimited` while the last report
//! is at or above [`ExecConfig::weight_budget`] and less than a minute old.
//!
//! # Never blocking the pipeline
//! Like paper execution, this thread consumes the output ring and
//! publishes into the input ring, so refusals queue locally and go out
//! with `try_publish`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use autobot_engine::event::{
    AlertCode, CancelOrder, InputBody, InputEvent, NewOrder, OrderRejected, OutputBody,
    OutputEvent, RejectReason, Request, Source, SystemState,
};
use autobot_engine::runtime::clock::{mono_now, unix_now};
use autobot_engine::runtime::{InputPublisher, LatencyRecorder, OutputReader, RingReader, Waiter};
use autobot_engine::types::{ClientOrderId, SymbolId, UnixNanos};
use simd_json::prelude::*;

use super::ledger::OrderLedger;
use super::rest::{ErrorAction, Method, RestClient, RestError};
use super::sign::{
    ALGO_ORDER, Signer, Stamp, algo_ref_query, new_order_query, order_endpoint, order_ref_query,
    stamp_only_query,
};
use crate::resync::ResyncRequests;
use crate::trust::Trust;

/// How to reach the exchange's order endpoints.
#[derive(Clone, Debug)]
pub struct ExecConfig {
    /// REST base URL.
    pub rest_url: String,
    /// `recvWindow` of every signed request (ms, ≤ 60000).
    pub recv_window_ms: u32,
    /// Refuse new orders locally while the used weight is at or above this.
    pub weight_budget: u32,
    /// Back-off after -1003/429/418 without a `Retry-After`.
    pub backoff: Duration,
    /// Timeout of one request.
    pub timeout: Duration,
    /// The roots `https://` is checked against.
    pub trust: Trust,
}

impl ExecConfig {
    /// Defaults for `rest_url`: recvWindow 5 s, a budget of 2000 of
    /// Binance's 2400 per minute, 30 s back-off, 10 s timeout.
    pub fn new(rest_url: &str) -> ExecConfig {
        ExecConfig {
            rest_url: rest_url.to_string(),
            recv_window_ms: 5000,
            weight_budget: 2000,
            backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            trust: Trust::public(),
        }
    }
}

/// Counters of the execution client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecStats {
    /// Orders sent and accepted by the REST endpoint.
    pub accepted: u64,
    /// Orders and cancels refused (by the exchange or locally).
    pub rejected: u64,
    /// Cancels sent and accepted.
    pub cancels: u64,
    /// Clock-offset measurements after -1021.
    pub clock_resyncs: u64,
    /// Back-offs started by -1003/429/418.
    pub backoffs: u64,
    /// Orders refused locally (back-off, weight budget).
    pub refused_locally: u64,
    /// Requests whose outcome was unknown and were queried.
    pub queried: u64,
}

/// Signs and sends the core's orders.
pub struct ExecClient {
    cfg: ExecConfig,
    rest: RestClient,
    signer: Signer,
    /// Shared so taking one per request is a count, not an allocation.
    names: Vec<Arc<str>>,
    /// Exchange clock minus ours (ms).
    offset_ms: i64,
    backoff_until: Option<Instant>,
    weight_at: Option<Instant>,
    query: String,
    stats: ExecStats,
    /// Error codes not in the table that were already logged (once each).
    unknown_codes: std::collections::BTreeSet<i64>,
}

fn host_ms() -> i64 {
    i64::try_from(unix_now().0 / 1_000_000).unwrap_or(i64::MAX)
}

/// The refusal of `request` about order `id`, with the exchange's code
/// (zero when refused locally).
fn refusal(
    id: ClientOrderId,
    request: Request,
    code: Option<i64>,
    reason: RejectReason,
) -> OrderRejected {
    OrderRejected {
        client_id: id,
        request,
        code: code.and_then(|c| i32::try_from(c).ok()).unwrap_or(0),
        reason,
    }
}

/// How the core should classify a refused request's code (the table in
/// [`super::errors`]; `action` is what the request's status and code came
/// to, which decides for a code the table does not know).
pub fn reject_reason(code: Option<i64>, action: ErrorAction) -> RejectReason {
    match code.and_then(super::errors::row_of) {
        Some(row) => row.reason,
        None => match (code, action) {
            (_, ErrorAction::BackOff) => RejectReason::RateLimited,
            (Some(c), ErrorAction::Reject) if (-4999..=-4000).contains(&c) => RejectReason::Filter,
            _ => RejectReason::Other,
        },
    }
}

impl ExecClient {
    /// A client trading `names` (exchange symbols in `SymbolId` order).
    pub fn new(cfg: ExecConfig, signer: Signer, names: Vec<String>) -> ExecClient {
        let rest = RestClient::with_trust(&cfg.rest_url, cfg.timeout, &cfg.trust);
        ExecClient {
            cfg,
            rest,
            signer,
            names: names.into_iter().map(Arc::from).collect(),
            offset_ms: 0,
            backoff_until: None,
            weight_at: None,
            query: String::with_capacity(512),
            stats: ExecStats::default(),
            unknown_codes: std::collections::BTreeSet::new(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> ExecStats {
        self.stats
    }

    /// Exchange clock minus ours, as last measured (ms).
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms
    }

    fn stamp(&self) -> Stamp {
        Stamp {
            timestamp_ms: u64::try_from(host_ms() + self.offset_ms).unwrap_or(0),
            recv_window_ms: self.cfg.recv_window_ms,
        }
    }

    /// Measures the offset to the exchange clock from `/fapi/v1/time`.
    pub fn sync_clock(&mut self) -> Result<i64, RestError> {
        let before = host_ms();
        let reply = self.rest.get("/fapi/v1/time", "")?;
        let after = host_ms();
        let mut body = reply.body;
        let server = simd_json::to_borrowed_value(&mut body)
            .ok()
            .and_then(|v| v.get("serverTime").and_then(|t| t.as_i64()))
            .ok_or(RestError::Transport {
                endpoint: "/fapi/v1/time",
                reason: "no serverTime in the reply".into(),
            })?;
        self.offset_ms = server - (before + after) / 2;
        self.stats.clock_resyncs += 1;
        Ok(self.offset_ms)
    }

    /// Sends a signed request built by `write`, resyncing the clock once
    /// on -1021; the reply's body.
    pub(super) fn signed(
        &mut self,
        method: Method,
        endpoint: &'static str,
        write: &dyn Fn(&mut String, Stamp),
    ) -> Result<Vec<u8>, RestError> {
        let mut resynced = false;
        loop {
            let stamp = self.stamp();
            write(&mut self.query, stamp);
            self.signer.sign(&mut self.query);
            let sent = self
                .rest
                .send(method, endpoint, &self.query, Some(self.signer.api_key()));
            if self.rest.used_weight > 0 {
                self.weight_at = Some(Instant::now());
            }
            match sent {
                Ok(r) => return Ok(r.body),
                Err(e) if e.action() == ErrorAction::ResyncClock && !resynced => {
                    resynced = true;
                    self.sync_clock()?;
                }
                Err(e) => {
                    self.log_unknown_code(&e);
                    if let RestError::Exchange {
                        action: ErrorAction::BackOff,
                        retry_after,
                        ..
                    } = &e
                    {
                        self.stats.backoffs += 1;
                        let wait = retry_after
                            .map_or(self.cfg.backoff, |s| Duration::from_secs(u64::from(s)));
                        self.backoff_until = Some(Instant::now() + wait);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Logs, once per code, an error code the table does not know, with
    /// the exchange's text, so the table can learn it.
    fn log_unknown_code(&mut self, e: &RestError) {
        if let RestError::Exchange {
            endpoint,
            status,
            code: Some(code),
            msg,
            action,
            ..
        } = e
            && !super::errors::is_known(*code)
            && self.unknown_codes.insert(*code)
        {
            eprintln!(
                "execution: error code {code} (HTTP {status}, {endpoint}) is not in the error \
                 table; handled as {action:?}: {msg}"
            );
        }
    }

    fn local_refusal(&mut self) -> Option<RejectReason> {
        let now = Instant::now();
        if self.backoff_until.is_some_and(|t| now < t) {
            return Some(RejectReason::RateLimited);
        }
        let fresh = self
            .weight_at
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(60));
        (fresh && self.rest.used_weight >= self.cfg.weight_budget)
            .then_some(RejectReason::RateLimited)
    }

    pub(super) fn name(&self, s: SymbolId) -> Option<Arc<str>> {
        self.names.get(usize::from(s.0)).cloned()
    }

    /// Sends `o`; `Err` is the refusal to give the core.
    pub fn place(&mut self, o: &NewOrder) -> Result<(), OrderRejected> {
        let refuse = |code, reason| refusal(o.client_id, Request::New, code, reason);
        if let Some(reason) = self.local_refusal() {
            self.stats.refused_locally += 1;
            return Err(refuse(None, reason));
        }
        let Some(symbol) = self.name(o.symbol) else {
            return Err(refuse(None, RejectReason::Other));
        };
        let order = *o;
        match self.signed(Method::Post, order_endpoint(o.kind), &|q, st| {
            new_order_query(q, &symbol, &order, st);
        }) {
            Ok(_) => {
                self.stats.accepted += 1;
                Ok(())
            }
            Err(e) if e.action() == ErrorAction::Unknown => {
                // The order may or may not exist: ask before refusing.
                self.stats.queried += 1;
                match self.order_of(o.symbol, o.client_id, o.kind.is_conditional()) {
                    Ok(Some(_)) => {
                        self.stats.accepted += 1;
                        Ok(())
                    }
                    _ => Err(refuse(e.code(), RejectReason::Other)),
                }
            }
            Err(e) => Err(refuse(e.code(), reject_reason(e.code(), e.action()))),
        }
    }

    /// Cancels `c` (a protective stop when `conditional`: at the Algo
    /// Order API); `Err` is the refusal to give the core.
    pub fn cancel(&mut self, c: &CancelOrder, conditional: bool) -> Result<(), OrderRejected> {
        let refuse = |code, reason| refusal(c.client_id, Request::Cancel, code, reason);
        let Some(symbol) = self.name(c.symbol) else {
            return Err(refuse(None, RejectReason::Other));
        };
        let id = c.client_id;
        let sent = if conditional {
            self.signed(Method::Delete, ALGO_ORDER, &|q, st| {
                algo_ref_query(q, id, st)
            })
        } else {
            self.signed(Method::Delete, "/fapi/v1/order", &|q, st| {
                order_ref_query(q, &symbol, id, st);
            })
        };
        match sent {
            Ok(_) => {
                self.stats.cancels += 1;
                Ok(())
            }
            Err(e) => Err(refuse(e.code(), reject_reason(e.code(), e.action()))),
        }
    }

    /// `GET /fapi/v3/positionRisk` (the body as sent).
    pub fn positions(&mut self) -> Result<Vec<u8>, RestError> {
        self.signed(Method::Get, "/fapi/v3/positionRisk", &stamp_only_query)
    }

    /// `GET /fapi/v3/account` (the body as sent).
    pub fn account(&mut self) -> Result<Vec<u8>, RestError> {
        self.signed(Method::Get, "/fapi/v3/account", &stamp_only_query)
    }
}

/// Runs the execution client on the calling thread until the output ring
/// closes. Releases `publisher` once the core has reported `Stopped` and
/// every request is answered and every refusal out, then sets `released`
/// (the user-data stream may then be stopped once it has read the last
/// reports). The core's `BookResync` alerts go to `resync`. Each order
/// sent for a market-data input is recorded in `latency` (`tick_to_order`).
#[allow(clippy::too_many_arguments)]
pub fn run(
    mut client: ExecClient,
    mut outputs: OutputReader,
    publisher: InputPublisher,
    mut waiter: Waiter,
    resync: &ResyncRequests,
    released: &std::sync::atomic::AtomicBool,
    ledger: &OrderLedger,
    mut latency: LatencyRecorder,
) -> ExecClient {
    let halt = publisher.halt_flag();
    let mut publisher = Some(publisher);
    let mut todo: VecDeque<OutputEvent> = VecDeque::with_capacity(256);
    let mut reports: VecDeque<InputEvent> = VecDeque::with_capacity(256);
    let mut stopped = false;
    let mut open = true;
    while open || !todo.is_empty() {
        if halt.is_halted() {
            break;
        }
        let mut progress = false;
        if open {
            match outputs.with_batch(u64::MAX, |outs| {
                for o in outs {
                    match o.body {
                        OutputBody::StateChange(s) if s.to == SystemState::Stopped => {
                            stopped = true;
                        }
                        OutputBody::Alert(a) if a.code == AlertCode::BookResync => {
                            resync.request(a.symbol);
                        }
                        OutputBody::NewOrder(_) | OutputBody::Cancel(_) => todo.push_back(*o),
                        _ => {}
                    }
                }
            }) {
                Ok(Some(())) => progress = true,
                Ok(None) => {}
                Err(_) => open = false,
            }
        }
        // One request per pass, so outputs keep draining between requests.
        if let Some(out) = todo.pop_front() {
            progress = true;
            let (symbol, refused) = match out.body {
                OutputBody::NewOrder(o) => {
                    // Recorded first: its reports may arrive before the reply.
                    ledger.sending(o.client_id, o.symbol, o.side, o.kind);
                    let refused = client.place(&o).err();
                    let sent = client.rest.last_sent;
                    latency.order_sent(out.cause, out.recv, sent);
                    latency.tick(sent);
                    match refused {
                        Some(_) => ledger.refused(o.client_id),
                        None => ledger.placed(o.client_id),
                    }
                    (o.symbol, refused)
                }
                OutputBody::Cancel(c) => {
                    let conditional = ledger.is_conditional(c.client_id);
                    let refused = client.cancel(&c, conditional).err();
                    if refused.is_none() {
                        ledger.cancelling(c.client_id);
                    }
                    (c.symbol, refused)
                }
                _ => (SymbolId(0), None),
            };
            if let Some(r) = refused {
                client.stats.rejected += 1;
                reports.push_back(InputEvent::new(
                    Source::Execution,
                    symbol,
                    mono_now(),
                    UnixNanos(0),
                    InputBody::OrderRejected(r),
                ));
            }
        }
        if let Some(p) = publisher.as_mut() {
            progress |= p.publish_queued(&mut reports);
            if stopped && todo.is_empty() && reports.is_empty() {
                publisher = None;
                released.store(true, std::sync::atomic::Ordering::Release);
            }
        }
        if progress {
            waiter.reset();
        } else {
            latency.tick(mono_now());
            waiter.idle();
        }
    }
    latency.finish();
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_the_reasons_the_core_acts_on() {
        let r = |c: i64| reject_reason(Some(c), super::super::rest::error_action(400, Some(c)));
        assert_eq!(r(-1021), RejectReason::ClockSkew);
        assert_eq!(r(-1003), RejectReason::RateLimited);
        assert_eq!(r(-2019), RejectReason::InsufficientMargin);
        assert_eq!(r(-4164), RejectReason::Filter);
        assert_eq!(r(-1013), RejectReason::Filter);
        assert_eq!(r(-2015), RejectReason::Auth);
        assert_eq!(r(-1022), RejectReason::Auth);
        assert_eq!(r(-5022), RejectReason::Other);
        assert_eq!(r(-2022), RejectReason::Other);
    }

    /// The codes the issue found mishandled, each as it must be handled,
    /// whatever the HTTP status it came with.
    #[test]
    fn codes_once_mishandled_get_their_action_and_reason() {
        use super::super::rest::error_action;
        for status in [400, 403, 503] {
            let c = |code: i64| {
                let a = error_action(status, Some(code));
                (a, reject_reason(Some(code), a))
            };
            let back_off = (ErrorAction::BackOff, RejectReason::RateLimited);
            assert_eq!(c(-1015), back_off, "too many new orders ({status})");
            assert_eq!(c(-1004), back_off, "server busy ({status})");
            assert_eq!(
                c(-2023),
                (ErrorAction::RejectAndAlert, RejectReason::Liquidating)
            );
            for code in [-2027, -2028, -2025] {
                assert_eq!(
                    c(code),
                    (ErrorAction::RejectAndAlert, RejectReason::AccountLimit),
                    "{code} ({status})"
                );
            }
            assert_eq!(c(-2010), (ErrorAction::Reject, RejectReason::Filter));
            for code in [-1002, -1099] {
                assert_eq!(c(code), (ErrorAction::Reject, RejectReason::Auth), "{code}");
            }
        }
    }
}
