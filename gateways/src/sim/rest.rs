//! The simulator's REST side, answered the way Binance answers (JSON
//! bodies, error objects `{"code":…,"msg":…}`, the used-weight header):
//! the public endpoints a market-data client needs, listen keys (API key
//! only), and the signed trading endpoints (conditional orders at the Algo
//! Order API, as on Binance since 2025-12).
//!
//! Parameters come from the query string and, for POST, PUT and DELETE,
//! from an `application/x-www-form-urlencoded` body as well (a parameter in
//! both: the query string's), values percent-decoded.
//!
//! A signed request is checked in Binance's order: the API key (-2015,
//! HTTP 401) names the account, then `timestamp` against the exchange
//! clock — older than `recvWindow` or more than 1 s ahead is -1021 — then
//! the signature (-1022) over the query string and the body concatenated,
//! as sent, without the `signature` parameter.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::limits::{OverLimit, Window};
use super::venue::Refusal;
use super::{Shared, lock, now_ms, send_user};

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

fn query<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let (_, q) = url.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// Largest request body read (Binance's batch orders stay far below).
const MAX_BODY: u64 = 64 * 1024;

/// `a=1&b=2` into decoded pairs; a name given twice keeps its first value.
fn decode_params(text: &str, into: &mut BTreeMap<String, String>) {
    let decode = |s: &str| {
        let plus = s.replace('+', " ");
        percent_encoding::percent_decode_str(&plus)
            .decode_utf8_lossy()
            .into_owned()
    };
    for kv in text.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        into.entry(decode(k)).or_insert_with(|| decode(v));
    }
}

/// A request's parameters: the query string's, then the body's (the query
/// string wins a name given in both, as on Binance).
fn params_of(query: &str, body: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    decode_params(query, &mut params);
    decode_params(body, &mut params);
    params
}

/// The parameters as the venue reads them.
fn borrowed(params: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// What a signed request's signature covers and the signature: the query
/// string and the body concatenated as sent (Binance's `totalParams`),
/// the `signature` parameter (the last of the part that carries it) left
/// out. `None` without a signature.
pub(super) fn signed_payload<'a>(query: &'a str, body: &'a str) -> Option<(String, &'a str)> {
    use crate::binance::sign::split_signature;
    let alone = |part: &'a str| part.strip_prefix("signature=").filter(|s| !s.contains('&'));
    if let Some((p, sig)) = split_signature(body) {
        return Some((format!("{query}{p}"), sig));
    }
    if let Some(sig) = alone(body) {
        return Some((query.to_string(), sig));
    }
    if let Some((p, sig)) = split_signature(query) {
        return Some((format!("{p}{body}"), sig));
    }
    alone(query).map(|sig| (body.to_string(), sig))
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
    /// The account's new orders in the last 10 s and minute (an order
    /// request's answer).
    order_counts: Option<(u32, u32)>,
}

impl From<(u16, String)> for Answer {
    fn from((status, body): (u16, String)) -> Answer {
        Answer {
            status,
            body,
            retry_after: None,
            order_counts: None,
        }
    }
}

impl From<OverLimit> for Answer {
    fn from((status, code, msg, retry): OverLimit) -> Answer {
        Answer {
            retry_after: Some(retry),
            ..(status, error(code, msg)).into()
        }
    }
}

/// Answers requests until the server is unblocked.
pub(super) fn serve(server: &tiny_http::Server, shared: &Shared) {
    let mut used_weight = Window::new(Duration::from_secs(60));
    for mut rq in server.incoming_requests() {
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
        let mut body = String::new();
        if *rq.method() != tiny_http::Method::Get {
            // A body that is not text reads as no parameters.
            let _ = rq.as_reader().take(MAX_BODY).read_to_string(&mut body);
        }
        let call = Call {
            method: rq.method().clone(),
            path: &path,
            query: url.split_once('?').map_or("", |(_, q)| q),
            body: &body,
            api_key: api_key.as_deref(),
        };
        let has_symbol = params_of(call.query, call.body).contains_key("symbol");
        let now = Instant::now();
        let used = used_weight.add(weight(&path, limit, has_symbol), now);
        let over = super::limits::over_weight(used, shared.enforce_limits, &used_weight, now);
        let answer: Answer = match rq.method() {
            _ if over.is_some() => {
                shared.stats.throttled.fetch_add(1, Ordering::Relaxed);
                over.map(Answer::from)
                    .unwrap_or_else(|| (500, String::new()).into())
            }
            tiny_http::Method::Get if !is_signed(&path) => {
                let params = params_of(call.query, "");
                match super::public::route(&path, &params, shared) {
                    Some(Ok(body)) => (200, body).into(),
                    Some(Err(r)) => refusal(r).into(),
                    None => (404, error(-1000, "unknown endpoint")).into(),
                }
            }
            tiny_http::Method::Post | tiny_http::Method::Put | tiny_http::Method::Delete
                if path == "/fapi/v1/listenKey" =>
            {
                listen_key(&call, shared).into()
            }
            _ if is_signed(&path) => signed(&call, shared),
            _ => (405, error(-1000, "method not supported by the simulator")).into(),
        };
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
        if let Some((ten, minute)) = answer.order_counts {
            headers.push(("X-MBX-ORDER-COUNT-10S", ten.to_string()));
            headers.push(("X-MBX-ORDER-COUNT-1M", minute.to_string()));
        }
        for (k, v) in headers {
            if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                resp.add_header(h);
            }
        }
        let _ = rq.respond(resp);
    }
}

fn is_signed(path: &str) -> bool {
    matches!(
        path,
        "/fapi/v1/order"
            | "/fapi/v1/algoOrder"
            | "/fapi/v1/openAlgoOrders"
            | "/fapi/v1/openOrders"
            | "/fapi/v1/allOpenOrders"
            | "/fapi/v1/allOrders"
            | "/fapi/v1/userTrades"
            | "/fapi/v2/positionRisk"
            | "/fapi/v3/positionRisk"
            | "/fapi/v1/leverageBracket"
            | "/fapi/v1/leverage"
            | "/fapi/v1/marginType"
            | "/fapi/v1/commissionRate"
            | "/fapi/v1/symbolConfig"
            | "/fapi/v1/positionSide/dual"
            | "/fapi/v1/multiAssetsMargin"
            | "/fapi/v2/account"
            | "/fapi/v3/account"
            | "/fapi/v2/balance"
            | "/fapi/v3/balance"
            | "/sapi/v1/capital/config/getall"
    )
}

/// One REST request as the handlers read it.
struct Call<'a> {
    method: tiny_http::Method,
    path: &'a str,
    /// The query string as sent (no `?`).
    query: &'a str,
    /// The form body as sent (empty for GET).
    body: &'a str,
    /// `X-MBX-APIKEY`.
    api_key: Option<&'a str>,
}

/// `/fapi/v1/listenKey`: POST creates (or returns the account's live
/// key), PUT keeps alive, DELETE closes. A key is its account's: a user
/// stream on it carries that account's events.
fn listen_key(call: &Call<'_>, shared: &Shared) -> (u16, String) {
    let Some(account) = account_of(call.api_key, shared) else {
        shared.stats.auth_refused.fetch_add(1, Ordering::Relaxed);
        return refusal(BAD_KEY);
    };
    let params = params_of(call.query, call.body);
    let given = params.get("listenKey").map(String::as_str);
    let mut keys = lock(&shared.listen_keys);
    match call.method {
        tiny_http::Method::Post => {
            let live = keys
                .iter()
                .find_map(|(k, a)| (*a == account).then(|| k.clone()));
            let key = live.unwrap_or_else(|| {
                // Unique per simulator run, account and expiry.
                let n = shared.stats.rest_requests.load(Ordering::Relaxed);
                format!("simkey{:016x}{n:08x}{account:04x}", now_ms(shared))
            });
            keys.insert(key.clone(), account);
            (200, serde_json::json!({"listenKey": key}).to_string())
        }
        tiny_http::Method::Put => {
            let live = keys
                .iter()
                .any(|(k, a)| *a == account && given.is_none_or(|g| g == k));
            if live {
                (200, "{}".into())
            } else {
                (400, error(-1125, "This listenKey does not exist."))
            }
        }
        _ => {
            keys.retain(|k, a| *a != account || given.is_some_and(|g| g != k));
            (200, "{}".into())
        }
    }
}

const BAD_KEY: Refusal = (
    401,
    -2015,
    "Invalid API-key, IP, or permissions for action.",
);

/// The account whose API key this is.
fn account_of(api_key: Option<&str>, shared: &Shared) -> Option<usize> {
    let k = api_key?;
    shared
        .signers
        .iter()
        .position(|s| s.api_key().expose() == k)
}

/// Checks a signed request, then serves it.
fn signed(call: &Call<'_>, shared: &Shared) -> Answer {
    let (method, path) = (&call.method, call.path);
    if shared
        .throttle
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
    {
        shared.stats.throttled.fetch_add(1, Ordering::Relaxed);
        return Answer {
            retry_after: Some(1),
            ..(
                429,
                error(
                    -1003,
                    "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute.",
                ),
            )
                .into()
        };
    }
    let (account, owned) = match check_signature(call, shared) {
        Ok(p) => p,
        Err(r) => {
            shared.stats.auth_refused.fetch_add(1, Ordering::Relaxed);
            return refusal(r).into();
        }
    };
    let params = borrowed(&owned);
    let symbol = params.get("symbol").copied().unwrap_or_default();
    let placing = matches!(
        (method, path),
        (
            tiny_http::Method::Post,
            "/fapi/v1/order" | "/fapi/v1/algoOrder"
        )
    );
    let mut order_counts = None;
    if placing {
        let (counts, over) =
            lock(&shared.order_counts)[account].add(shared.enforce_limits, Instant::now());
        if let Some(over) = over {
            shared.stats.throttled.fetch_add(1, Ordering::Relaxed);
            return Answer {
                order_counts: Some(counts),
                ..over.into()
            };
        }
        order_counts = Some(counts);
    }
    let mut venue = lock(&shared.venues[account]);
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
    if placing && let Err((code, msg)) = venue.check_filters(&params) {
        return Answer {
            order_counts,
            ..(400, error(code, &msg)).into()
        };
    }
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
        (tiny_http::Method::Get, "/fapi/v1/userTrades") => venue.user_trades(&params),
        (tiny_http::Method::Get, "/fapi/v1/allOrders") => venue.all_orders(&params),
        (tiny_http::Method::Delete, "/fapi/v1/allOpenOrders") => venue.cancel_all(symbol),
        (tiny_http::Method::Get, "/fapi/v3/positionRisk" | "/fapi/v2/positionRisk") => {
            venue.positions_json(params.get("symbol").copied())
        }
        (tiny_http::Method::Get, "/fapi/v1/leverageBracket") => {
            venue.leverage_brackets(params.get("symbol").copied())
        }
        (tiny_http::Method::Get, "/fapi/v3/account" | "/fapi/v2/account") => {
            Ok(venue.account_json())
        }
        (tiny_http::Method::Get, "/fapi/v3/balance" | "/fapi/v2/balance") => {
            Ok(venue.balance_json())
        }
        (tiny_http::Method::Post, "/fapi/v1/leverage") => {
            venue.set_leverage(symbol, params.get("leverage").copied())
        }
        (tiny_http::Method::Post, "/fapi/v1/marginType") => {
            venue.set_margin_type(symbol, params.get("marginType").copied())
        }
        (tiny_http::Method::Get, "/fapi/v1/commissionRate") => venue.commission_rate(symbol),
        (tiny_http::Method::Get, "/fapi/v1/symbolConfig") => {
            venue.symbol_config(params.get("symbol").copied())
        }
        (tiny_http::Method::Get, "/fapi/v1/positionSide/dual") => {
            Ok(r#"{"dualSidePosition":false}"#.to_string())
        }
        (tiny_http::Method::Post, "/fapi/v1/positionSide/dual") => {
            match params.get("dualSidePosition").copied() {
                Some("false") => Err((400, -4059, "No need to change position side.")),
                // -1000 (unknown): no Binance code means "not kept here".
                Some("true") => Err((400, -1000, "The simulator keeps one-way mode only.")),
                _ => Err((
                    400,
                    -1102,
                    "Mandatory parameter 'dualSidePosition' was not sent, was empty/null, or malformed.",
                )),
            }
        }
        (tiny_http::Method::Get, "/fapi/v1/multiAssetsMargin") => {
            Ok(r#"{"multiAssetsMargin":false}"#.to_string())
        }
        // ccxt asks the spot wallet's coins when it loads markets with a
        // key: a futures-only exchange has none to list.
        (tiny_http::Method::Get, "/sapi/v1/capital/config/getall") => Ok("[]".to_string()),
        _ => Err((405, -1000, "method not supported by the simulator")),
    };
    let events = venue.take_events();
    drop(venue);
    send_user(shared, account, &events);
    let answer: Answer = match result {
        Ok(body) => (200, body).into(),
        Err(r) => refusal(r).into(),
    };
    Answer {
        order_counts,
        ..answer
    }
}

/// The account and the parameters of a signed request whose key,
/// timestamp and signature hold.
fn check_signature(
    call: &Call<'_>,
    shared: &Shared,
) -> Result<(usize, BTreeMap<String, String>), Refusal> {
    const BAD_SIGNATURE: Refusal = (400, -1022, "Signature for this request is not valid.");
    let account = account_of(call.api_key, shared).ok_or(BAD_KEY)?;
    let signer = &shared.signers[account];
    let (payload, sig) = signed_payload(call.query, call.body).ok_or(BAD_SIGNATURE)?;
    let mut params = params_of(call.query, call.body);
    params.remove("signature");
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
    Ok((account, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binance::sign::Signer;
    use crate::credentials::Hidden;

    /// Binance's worked example of a signature over a query string and a
    /// body together (the REST API's SIGNED endpoint examples, "mixed query
    /// string and request body"): the two are concatenated as sent.
    #[test]
    fn the_signature_covers_the_query_and_the_body_concatenated() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let signer = Signer::from_parts(Hidden::new("k".into()), &Hidden::new(secret.into()));
        let sig = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
        let body =
            format!("quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature={sig}");
        let (payload, got) = signed_payload(query, &body).unwrap();
        assert_eq!(got, sig);
        assert!(signer.verify(payload.as_bytes(), got));
        // All in the body (ccxt's POST), all in the query (GET), or the
        // signature alone in the query after a signed body.
        let all = format!("{query}&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559");
        let mut signed = all.clone();
        signer.sign(&mut signed);
        for (q, b) in [("", signed.as_str()), (signed.as_str(), "")] {
            let (payload, got) = signed_payload(q, b).unwrap();
            assert_eq!(payload, all);
            assert!(signer.verify(payload.as_bytes(), got));
        }
        let tail = signed.rsplit_once('&').unwrap().1;
        let (payload, _) = signed_payload(tail, &all).unwrap();
        assert_eq!(payload, all);
        assert_eq!(signed_payload("a=1", "b=2"), None, "no signature");
    }

    #[test]
    fn parameters_come_decoded_from_both_parts_and_the_query_wins() {
        let p = params_of(
            "symbol=BTCUSDT&newClientOrderId=x%2Dab%3A1",
            "symbol=ETHUSDT&note=a+b&price=100.5",
        );
        assert_eq!(p["symbol"], "BTCUSDT");
        assert_eq!(p["newClientOrderId"], "x-ab:1");
        assert_eq!(p["note"], "a b");
        assert_eq!(p["price"], "100.5");
    }
}
