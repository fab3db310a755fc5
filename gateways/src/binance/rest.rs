//! Binance USD-M REST: the transport (ureq, keep-alive, rustls for
//! `https`), the request-weight budget read from response headers, and the
//! mapping of error responses to what the engine does about them — by
//! code, never by message text (Binance words the same code several ways).
//!
//! Public endpoints live here (depth snapshot, exchange info, server
//! time); signed order endpoints build on the same [`RestClient`].

use std::time::Duration;

use autobot_engine::runtime::clock::mono_now;
use autobot_engine::types::MonoNanos;

use crate::credentials::Hidden;
use crate::trust::Trust;

/// Largest body read from one response (an exchangeInfo is ~1 MB).
const MAX_BODY: u64 = 16 << 20;

pub use super::errors::ErrorAction;

/// Maps an error response to its action (the table in [`super::errors`]).
pub fn error_action(status: u16, code: Option<i64>) -> ErrorAction {
    super::errors::classify(status, code).0
}

/// A failed request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// No response (connect, TLS, timeout, a body cut short).
    #[error("{endpoint}: transport: {reason}")]
    Transport {
        /// The path.
        endpoint: &'static str,
        /// What the transport said.
        reason: String,
    },
    /// An error response. `code` is `None` when the body is not a Binance
    /// error object (an HTML page from a proxy, say).
    #[error("{endpoint}: HTTP {status}, code {code:?}: {msg}")]
    Exchange {
        /// The path.
        endpoint: &'static str,
        /// HTTP status.
        status: u16,
        /// Binance error code.
        code: Option<i64>,
        /// Message, cut to 200 characters.
        msg: String,
        /// What to do.
        action: ErrorAction,
        /// `Retry-After` in seconds, when the exchange sent one (429/418).
        retry_after: Option<u32>,
    },
}

impl RestError {
    /// The action an error calls for; a transport failure leaves the
    /// outcome of the request unknown.
    pub fn action(&self) -> ErrorAction {
        match self {
            RestError::Transport { .. } => ErrorAction::Unknown,
            RestError::Exchange { action, .. } => *action,
        }
    }

    /// The Binance error code, if the exchange sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            RestError::Transport { .. } => None,
            RestError::Exchange { code, .. } => *code,
        }
    }
}

/// An HTTP method the REST client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST (Binance takes the parameters in the query string too).
    Post,
    /// PUT (listen-key keepalive).
    Put,
    /// DELETE.
    Delete,
}

/// An error body's code and message, if it is one.
pub fn error_body(body: &str) -> (Option<i64>, String) {
    let mut bytes = body.as_bytes().to_vec();
    let short: String = body.chars().take(200).collect();
    let Ok(v) = simd_json::to_borrowed_value(&mut bytes) else {
        return (None, short);
    };
    use simd_json::prelude::*;
    let code = v.get("code").and_then(|c| c.as_i64());
    let msg = v
        .get("msg")
        .and_then(|m| m.as_str())
        .map_or(short, |m| m.chars().take(200).collect());
    (code, msg)
}

/// A successful response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The body.
    pub body: Vec<u8>,
    /// `X-MBX-USED-WEIGHT-1M`, when present.
    pub used_weight: Option<u32>,
}

/// A REST client bound to one base URL.
pub struct RestClient {
    base: String,
    agent: ureq::Agent,
    /// Latest used weight the exchange reported.
    pub used_weight: u32,
    /// When the last request was handed to the HTTP client, which writes
    /// it at once on its kept-alive connection ("order sent" for the
    /// `tick_to_order` latency stage).
    pub last_sent: MonoNanos,
}

impl RestClient {
    /// A client of `base` (`https://fapi.binance.com`, or a simulator's
    /// `http://127.0.0.1:port`), every request bounded by `timeout`.
    pub fn new(base: &str, timeout: Duration) -> RestClient {
        RestClient::with_trust(base, timeout, &Trust::public())
    }

    /// A client of `base` whose `https://` is checked against `trust`.
    pub fn with_trust(base: &str, timeout: Duration, trust: &Trust) -> RestClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(trust.rest_tls())
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(4)
            .build()
            .into();
        RestClient {
            base: base.trim_end_matches('/').to_string(),
            agent,
            used_weight: 0,
            last_sent: MonoNanos(0),
        }
    }

    /// GET `endpoint?query`.
    pub fn get(&mut self, endpoint: &'static str, query: &str) -> Result<Reply, RestError> {
        self.send(Method::Get, endpoint, query, None)
    }

    /// Sends `method endpoint?query`, with the `X-MBX-APIKEY` header when
    /// `api_key` is given. The key goes only into the header: errors name
    /// the endpoint, never the query (which may carry it in a signature's
    /// neighbourhood) or the key.
    pub fn send(
        &mut self,
        method: Method,
        endpoint: &'static str,
        query: &str,
        api_key: Option<&Hidden>,
    ) -> Result<Reply, RestError> {
        let url = if query.is_empty() {
            format!("{}{endpoint}", self.base)
        } else {
            format!("{}{endpoint}?{query}", self.base)
        };
        let transport = |e: ureq::Error| RestError::Transport {
            endpoint,
            reason: e.to_string(),
        };
        // The builders of body-less and body-carrying requests are
        // different types, hence a macro rather than a shared variable.
        macro_rules! keyed {
            ($req:expr) => {{
                let mut req = $req;
                if let Some(k) = api_key {
                    req = req.header("X-MBX-APIKEY", k.expose());
                }
                req
            }};
        }
        self.last_sent = mono_now();
        let sent = match method {
            Method::Get => keyed!(self.agent.get(&url)).call(),
            Method::Delete => keyed!(self.agent.delete(&url)).call(),
            Method::Post => keyed!(self.agent.post(&url)).send_empty(),
            Method::Put => keyed!(self.agent.put(&url)).send_empty(),
        };
        let mut resp = sent.map_err(transport)?;
        let status = resp.status().as_u16();
        let header = |name: &str| -> Option<u32> {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let used_weight = header("x-mbx-used-weight-1m");
        let retry_after = header("retry-after");
        if let Some(w) = used_weight {
            self.used_weight = w;
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(transport)?;
        if status == 200 {
            return Ok(Reply { body, used_weight });
        }
        let (code, msg) = error_body(&String::from_utf8_lossy(&body));
        Err(RestError::Exchange {
            endpoint,
            status,
            code,
            msg,
            action: error_action(status, code),
            retry_after,
        })
    }

    /// `GET /fapi/v1/depth` of `symbol` with `limit` levels per side.
    pub fn depth(&mut self, symbol: &str, limit: u32) -> Result<Reply, RestError> {
        self.get("/fapi/v1/depth", &format!("symbol={symbol}&limit={limit}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_follow_the_code_not_the_text() {
        assert_eq!(error_action(400, Some(-1021)), ErrorAction::ResyncClock);
        assert_eq!(error_action(429, None), ErrorAction::BackOff);
        assert_eq!(error_action(418, Some(-1003)), ErrorAction::BackOff);
        assert_eq!(error_action(400, Some(-2019)), ErrorAction::RejectAndAlert);
        assert_eq!(error_action(400, Some(-4164)), ErrorAction::Reject);
        assert_eq!(error_action(400, Some(-1013)), ErrorAction::Reject);
        assert_eq!(error_action(400, Some(-1111)), ErrorAction::Reject);
        assert_eq!(error_action(502, None), ErrorAction::Unknown);
        assert_eq!(error_action(408, Some(-1007)), ErrorAction::Unknown);
    }

    #[test]
    fn a_body_that_is_not_json_keeps_its_text() {
        assert_eq!(
            error_body("<html>bad gateway</html>"),
            (None, "<html>bad gateway</html>".into())
        );
        assert_eq!(
            error_body(r#"{"code":-1121,"msg":"Invalid symbol."}"#),
            (Some(-1121), "Invalid symbol.".into())
        );
    }
}
