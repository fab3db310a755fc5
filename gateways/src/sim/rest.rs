//! The simulator's REST side, answered the way Binance answers (JSON
//! bodies, error objects `{"code":…,"msg":…}`, the used-weight header):
//! the public endpoints a market-data client needs, listen keys (API key
//! only), and the signed trading endpoints (conditional orders at the Algo
//! Order API, as on Binance since 2025-12).
//!
//! A signed request is checked in Binance's order: the API key (-2015,
//! HTTP 401), then `timestamp` against the exchange clock — older than
//! `recvWindow` or more than 1 s ahead is -1021 — then the signature over
//! everything before `&signature=` (-1022).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::venue::Refusal;
use super::{Shared, lock, send_user};

/// Request weight of each endpoint (Binance's figures for `limit` ≤ 1000).
fn weight(path: &str, limit: usize, has_symbol: bool) -> u32 {
    match path {
        "/fapi/v1/depth" => match limit {
            0..=50 => 2,
            51..=100 => 5,
            101..=500 => 10,
            _ => 20,
        },
        "/fapi/v3/positionRisk" | "/fapi/v3/account" | "/fapi/v1/userTrades" => 5,
        "/fapi/v1/openOrders" if !has_symbol => 40,
        _ => 1,
    }
}

/// The used weight in the current minute.
struct Weight {
    window: Instant,
    used: u32,
}

impl Weight {
    fn add(&mut self, w: u32) -> u32 {
        if self.window.elapsed() >= Duration::from_secs(60) {
            self.window = Instant::now();
            self.used = 0;
        }
        self.used += w;
        self.used
    }
}

/// The exchange clock: the host's, moved by the injected skew.
pub(super) fn now_ms(shared: &Shared) -> u64 {
    let host = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    host.saturating_add_signed(shared.clock_skew_ms.load(Ordering::Acquire))
}

fn query<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let (_, q) = url.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then_some(v)
    })
}

fn error(code: i32, msg: &str) -> String {
    serde_json::json!({"code": code, "msg": msg}).to_string()
}

fn refusal((status, code, msg): Refusal) -> (u16, String) {
    (status, error(code, msg))
}

/// One answered request.
struct Answer {
    status: u16,
    body: String,
    retry_after: Option<u32>,
}

impl From<(u16, String)> for Answer {
    fn from((status, body): (u16, String)) -> Answer {
        Answer {
            status,
            body,
            retry_after: None,
        }
    }
}

/// Answers requests until the server is unblocked.
pub(super) fn serve(server: &tiny_http::Server, shared: &Shared) {
    let mut used_weight = Weight {
        window: Instant::now(),
        used: 0,
    };
    for rq in server.incoming_requests() {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let url = rq.url().to_string();
        let path = url.split('?').next().unwrap_or_default().to_string();
        let limit = query(&url, "limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(500usize);
        let api_key = rq
            .headers()
            .iter()
            .find(|h| h.field.equiv("X-MBX-APIKEY"))
            .map(|h| h.value.as_str().to_string());
        let answer: Answer = match rq.method() {
            tiny_http::Method::Get if !is_signed(&path) => route(&path, &url, limit, shared).into(),
            tiny_http::Method::Post | tiny_http::Method::Put | tiny_http::Method::Delete
                if path == "/fapi/v1/listenKey" =>
            {
                listen_key(rq.method(), &url, api_key.as_deref(), shared).into()
            }
            m if is_signed(&path) => signed(m, &path, &url, api_key.as_deref(), shared),
            _ => (405, error(-1000, "method not supported by the simulator")).into(),
        };
        let has_symbol = query(&url, "symbol").is_some();
        let used = used_weight.add(weight(&path, limit, has_symbol));
        shared.stats.rest_requests.fetch_add(1, Ordering::Relaxed);
        let mut resp =
            tiny_http::Response::from_string(answer.body).with_status_code(answer.status);
        let mut headers = vec![
            ("Content-Type", "application/json".to_string()),
            ("X-MBX-USED-WEIGHT-1M", used.to_string()),
        ];
        if let Some(s) = answer.retry_after {
            headers.push(("Retry-After", s.to_string()));
        }
        for (k, v) in headers {
            if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                resp.add_header(h);
            }
        }
        let _ = rq.respond(resp);
    }
}

fn route(path: &str, url: &str, limit: usize, shared: &Shared) -> (u16, String) {
    match path {
        "/fapi/v1/ping" => (200, "{}".into()),
        "/fapi/v1/time" => (
            200,
            serde_json::json!({"serverTime": now_ms(shared)}).to_string(),
        ),
        "/fapi/v1/exchangeInfo" => (200, exchange_info(shared)),
        "/fapi/v1/depth" => {
            let Some(sym) = query(url, "symbol") else {
                return (
                    400,
                    error(
                        -1102,
                        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                    ),
                );
            };
            if !(5..=1000).contains(&limit) {
                return (
                    400,
                    error(-1100, "Illegal characters found in parameter 'limit'."),
                );
            }
            match lock(&shared.venue).depth_json(sym, limit) {
                Err(r) => refusal(r),
                Ok(Some(s)) => (200, s),
                Ok(None) => (
                    503,
                    error(-1007, "Timeout waiting for response from backend server."),
                ),
            }
        }
        _ => (404, error(-1000, "unknown endpoint")),
    }
}

fn exchange_info(shared: &Shared) -> String {
    use serde_json::json;
    let symbols: Vec<serde_json::Value> = shared
        .instruments
        .iter()
        .map(|i| {
            json!({
                "symbol": i.name.as_str(), "pair": i.name.as_str(),
                "contractType": "PERPETUAL", "status": "TRADING",
                "quoteAsset": "USDT", "marginAsset": "USDT",
                "filters": [
                    {"filterType": "PRICE_FILTER", "tickSize": i.tick_size,
                     "minPrice": i.tick_size, "maxPrice": "10000000"},
                    {"filterType": "LOT_SIZE", "stepSize": i.step_size,
                     "minQty": i.min_qty, "maxQty": i.max_qty},
                    {"filterType": "MARKET_LOT_SIZE", "stepSize": i.step_size,
                     "minQty": i.min_qty, "maxQty": i.max_market_qty},
                    {"filterType": "MIN_NOTIONAL", "notional": i.min_notional},
                ],
            })
        })
        .collect();
    json!({
        "timezone": "UTC",
        "serverTime": now_ms(shared),
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                        "intervalNum": 1, "limit": 2400}],
        "symbols": symbols,
    })
    .to_string()
}

fn is_signed(path: &str) -> bool {
    matches!(
        path,
        "/fapi/v1/order"
            | "/fapi/v1/algoOrder"
            | "/fapi/v1/openAlgoOrders"
            | "/fapi/v1/openOrders"
            | "/fapi/v1/userTrades"
            | "/fapi/v3/positionRisk"
            | "/fapi/v1/leverageBracket"
            | "/fapi/v3/account"
    )
}

/// `/fapi/v1/listenKey`: POST creates (or returns the live key), PUT
/// keeps alive, DELETE closes.
fn listen_key(
    method: &tiny_http::Method,
    url: &str,
    api_key: Option<&str>,
    shared: &Shared,
) -> (u16, String) {
    if !key_ok(api_key, shared) {
        shared.stats.auth_refused.fetch_add(1, Ordering::Relaxed);
        return refusal(BAD_KEY);
    }
    let mut keys = lock(&shared.listen_keys);
    match method {
        tiny_http::Method::Post => {
            let key = keys.iter().next().cloned().unwrap_or_else(|| {
                // Unique per simulator run and per expiry.
                let n = shared.stats.rest_requests.load(Ordering::Relaxed);
                format!("simkey{:016x}{n:08x}", now_ms(shared))
            });
            keys.insert(key.clone());
            (200, serde_json::json!({"listenKey": key}).to_string())
        }
        tiny_http::Method::Put => match query(url, "listenKey") {
            Some(k) if keys.contains(k) => (200, "{}".into()),
            _ => (400, error(-1125, "This listenKey does not exist.")),
        },
        _ => {
            if let Some(k) = query(url, "listenKey") {
                keys.remove(k);
            }
            (200, "{}".into())
        }
    }
}

const BAD_KEY: Refusal = (
    401,
    -2015,
    "Invalid API-key, IP, or permissions for action.",
);

fn key_ok(api_key: Option<&str>, shared: &Shared) -> bool {
    match (&shared.signer, api_key) {
        (Some(s), Some(k)) => s.api_key().expose() == k,
        _ => false,
    }
}

/// Checks a signed request, then serves it.
fn signed(
    method: &tiny_http::Method,
    path: &str,
    url: &str,
    api_key: Option<&str>,
    shared: &Shared,
) -> Answer {
    if shared
        .throttle
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
    {
        shared.stats.throttled.fetch_add(1, Ordering::Relaxed);
        return Answer {
            status: 429,
            body: error(
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.",
            ),
            retry_after: Some(1),
        };
    }
    let checked = check_signature(url, api_key, shared);
    let params = match checked {
        Ok(p) => p,
        Err(r) => {
            shared.stats.auth_refused.fetch_add(1, Ordering::Relaxed);
            return refusal(r).into();
        }
    };
    let symbol = params.get("symbol").copied().unwrap_or_default();
    let mut venue = lock(&shared.venue);
    // An order is named by our client id or by the exchange's id.
    let by_order_id = params
        .get("orderId")
        .and_then(|o| o.parse().ok())
        .and_then(|o| venue.client_of(symbol, o));
    let id = match (params.get("origClientOrderId"), &by_order_id) {
        (Some(c), _) => c,
        (None, Some(c)) => c.as_str(),
        (None, None) => "",
    };
    let result = match (method, path) {
        (tiny_http::Method::Post, "/fapi/v1/order") => {
            let ack = venue.place(&params);
            if ack.is_ok() {
                shared.stats.orders.fetch_add(1, Ordering::Relaxed);
            }
            ack
        }
        (tiny_http::Method::Delete, "/fapi/v1/order") => venue.cancel(symbol, id),
        (tiny_http::Method::Get, "/fapi/v1/order") => venue.query(symbol, id),
        (tiny_http::Method::Get, "/fapi/v1/openOrders") => {
            Ok(venue.open_orders(params.get("symbol").copied()))
        }
        (tiny_http::Method::Post, "/fapi/v1/algoOrder") => {
            let ack = venue.place_algo(&params);
            if ack.is_ok() {
                shared.stats.orders.fetch_add(1, Ordering::Relaxed);
            }
            ack
        }
        (tiny_http::Method::Delete, "/fapi/v1/algoOrder") => venue.cancel_algo(&params),
        (tiny_http::Method::Get, "/fapi/v1/algoOrder") => venue.query_algo(&params),
        (tiny_http::Method::Get, "/fapi/v1/openAlgoOrders") => Ok(venue.open_algo_orders()),
        (tiny_http::Method::Get, "/fapi/v1/userTrades") => {
            match params.get("orderId").and_then(|o| o.parse().ok()) {
                Some(order) => Ok(venue.user_trades(symbol, order)),
                None => Err((400, -1102, "The simulator needs orderId for userTrades.")),
            }
        }
        (tiny_http::Method::Get, "/fapi/v3/positionRisk") => Ok(venue.positions_json()),
        (tiny_http::Method::Get, "/fapi/v1/leverageBracket") => {
            venue.leverage_brackets(params.get("symbol").copied())
        }
        (tiny_http::Method::Get, "/fapi/v3/account") => Ok(venue.account_json()),
        _ => Err((405, -1000, "method not supported by the simulator")),
    };
    let events = venue.take_events();
    drop(venue);
    send_user(shared, &events);
    match result {
        Ok(body) => (200, body).into(),
        Err(r) => refusal(r).into(),
    }
}

/// The parameters of a signed request whose key, timestamp and signature
/// hold.
fn check_signature<'u>(
    url: &'u str,
    api_key: Option<&str>,
    shared: &Shared,
) -> Result<BTreeMap<&'u str, &'u str>, Refusal> {
    const BAD_SIGNATURE: Refusal = (400, -1022, "Signature for this request is not valid.");
    if !key_ok(api_key, shared) {
        return Err(BAD_KEY);
    }
    let Some(signer) = &shared.signer else {
        return Err(BAD_KEY);
    };
    let q = url.split_once('?').map_or("", |(_, q)| q);
    let (payload, sig) = crate::binance::sign::split_signature(q).ok_or(BAD_SIGNATURE)?;
    let params: BTreeMap<&str, &str> = payload
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let ts: u64 = params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or((
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ))?;
    let window: u64 = params
        .get("recvWindow")
        .map_or(Some(5000), |w| w.parse().ok())
        .filter(|w| *w <= 60_000)
        .ok_or((400, -1131, "recvWindow must be less than 60000"))?;
    let now = now_ms(shared);
    if ts > now + 1000 || now.saturating_sub(ts) > window {
        return Err((
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    if !signer.verify(payload.as_bytes(), sig) {
        return Err(BAD_SIGNATURE);
    }
    Ok(params)
}
