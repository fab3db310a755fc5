//! The simulator's REST side: the public endpoints a market-data client
//! needs, answered the way Binance answers them (JSON bodies, error
//! objects `{"code":…,"msg":…}`, the used-weight header).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Shared, lock};

/// Request weight of each endpoint (Binance's figures for `limit` ≤ 1000).
fn weight(path: &str, limit: usize) -> u32 {
    match path {
        "/fapi/v1/depth" => match limit {
            0..=50 => 2,
            51..=100 => 5,
            101..=500 => 10,
            _ => 20,
        },
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

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

fn query<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let (_, q) = url.split_once('?')?;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then_some(v)
    })
}

fn error(code: i32, msg: &str) -> String {
    format!(r#"{{"code":{code},"msg":"{msg}"}}"#)
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
        let (status, body) = if *rq.method() == tiny_http::Method::Get {
            route(&path, &url, limit, shared)
        } else {
            (405, error(-1000, "method not supported by the simulator"))
        };
        let used = used_weight.add(weight(&path, limit));
        shared.stats.rest_requests.fetch_add(1, Ordering::Relaxed);
        let mut resp = tiny_http::Response::from_string(body).with_status_code(status);
        for (k, v) in [
            ("Content-Type", "application/json".to_string()),
            ("X-MBX-USED-WEIGHT-1M", used.to_string()),
        ] {
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
        "/fapi/v1/time" => (200, format!(r#"{{"serverTime":{}}}"#, now_ms())),
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
            match lock(&shared.books).get(sym) {
                None => (400, error(-1121, "Invalid symbol.")),
                Some(b) => match b.snapshot(limit) {
                    Some(s) => (200, s),
                    None => (
                        503,
                        error(-1007, "Timeout waiting for response from backend server."),
                    ),
                },
            }
        }
        _ => (404, error(-1000, "unknown endpoint")),
    }
}

fn exchange_info(shared: &Shared) -> String {
    let mut s = format!(
        r#"{{"timezone":"UTC","serverTime":{},"rateLimits":[{{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":2400}}],"symbols":["#,
        now_ms()
    );
    for (k, i) in shared.instruments.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"symbol":"{n}","pair":"{n}","contractType":"PERPETUAL","status":"TRADING","quoteAsset":"USDT","marginAsset":"USDT","filters":[{{"filterType":"PRICE_FILTER","tickSize":"{t}","minPrice":"{t}","maxPrice":"10000000"}},{{"filterType":"LOT_SIZE","stepSize":"{st}","minQty":"{mq}","maxQty":"{xq}"}},{{"filterType":"MARKET_LOT_SIZE","stepSize":"{st}","minQty":"{mq}","maxQty":"{xm}"}},{{"filterType":"MIN_NOTIONAL","notional":"{mn}"}}]}}"#,
            n = i.name,
            t = i.tick_size,
            st = i.step_size,
            mq = i.min_qty,
            xq = i.max_qty,
            xm = i.max_market_qty,
            mn = i.min_notional,
        );
    }
    s.push_str("]}");
    s
}
