//! The simulator's WebSocket clients as Binance serves them:
//!
//! - URL forms: `/stream?streams=a/b` (combined: each message wrapped as
//!   `{"stream":…,"data":…}`), `/stream` with nothing yet, `/ws/<stream>`
//!   and `/ws/<a>/<b>` (raw: the payload alone), bare `/ws` (raw, nothing
//!   yet). A stream name that is a live listen key carries that account's
//!   user-data events; `/ws/<listenKey>` alone is a user stream
//!   (`super::UserStream`).
//! - Live requests (JSON text frames): `SUBSCRIBE`, `UNSUBSCRIBE`,
//!   `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`/`GET_PROPERTY` (`combined`), with
//!   Binance's replies (`{"result":null,"id":1}`) and errors
//!   (`{"error":{"code":2,"msg":…},"id":…}`).
//! - Control frames: a client's ping is answered with a pong, a close is
//!   echoed before the connection goes; the server pings every
//!   `ping_every` and drops a client it has not heard from (data or pong)
//!   for three of those.
//!
//! The feed thread writes market messages; a thread of its own
//! ([`serve`]) reads every connection without blocking a few hundred
//! times a second, answers, and pings.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use super::stream::SimStream;
use super::{Shared, lock};

/// How messages are framed for a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `{"stream":"<name>","data":<payload>}` (`/stream`).
    Combined,
    /// The payload alone (`/ws`).
    Raw,
}

/// A market-data (or combined user-data) connection.
pub(super) struct Client {
    pub(super) ws: WebSocket<SimStream>,
    pub(super) streams: BTreeSet<String>,
    pub(super) framing: Framing,
    /// When a frame last came from the client.
    heard: Instant,
    /// Frames written by [`Client::send_buffered`] and not yet flushed.
    unflushed: u32,
}

impl Client {
    pub(super) fn new(
        ws: WebSocket<SimStream>,
        streams: BTreeSet<String>,
        framing: Framing,
    ) -> Client {
        Client {
            ws,
            streams,
            framing,
            heard: Instant::now(),
            unflushed: 0,
        }
    }

    /// Like [`Client::send_envelope`], but left in the connection's write
    /// buffer until [`Client::flush`]: the feed thread writes what is due
    /// together, one syscall (and one wake-up of the reader) for many
    /// frames, as a busy exchange's TCP stream carries them.
    pub(super) fn send_buffered(&mut self, envelope: &str) -> bool {
        let text = match self.framing {
            Framing::Combined => envelope,
            Framing::Raw => payload(envelope),
        };
        self.unflushed += 1;
        self.ws.write(Message::text(text)).is_ok()
    }

    /// Sends what [`Client::send_buffered`] left; `false` if the
    /// connection failed.
    pub(super) fn flush(&mut self) -> bool {
        if self.unflushed == 0 {
            return true;
        }
        self.unflushed = 0;
        self.ws.flush().is_ok()
    }

    /// Sends `envelope` (a combined-stream message of `stream`) in this
    /// client's framing; `false` if the connection failed.
    pub(super) fn send_envelope(&mut self, envelope: &str) -> bool {
        let text = match self.framing {
            Framing::Combined => envelope,
            Framing::Raw => payload(envelope),
        };
        self.ws.send(Message::text(text)).is_ok()
    }
}

/// The payload of a combined-stream envelope (`{"stream":…,"data":X}` →
/// `X`); a text of another shape, whole.
pub fn payload(envelope: &str) -> &str {
    const DATA: &str = "\"data\":";
    match (envelope.find(DATA), envelope.rfind('}')) {
        (Some(at), Some(end)) if envelope.starts_with("{\"stream\":") && at + DATA.len() < end => {
            &envelope[at + DATA.len()..end]
        }
        _ => envelope,
    }
}

/// The framing and first streams a connection's path names; `None` for a
/// path Binance does not serve. `/ws/<listenKey>` is the caller's to
/// recognise first.
pub fn path_streams(path_and_query: &str) -> Option<(Framing, BTreeSet<String>)> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let list = |text: &str| -> BTreeSet<String> {
        text.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    match path.trim_end_matches('/') {
        "/stream" => {
            let streams = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("streams="))
                .map(list)
                .unwrap_or_default();
            Some((Framing::Combined, streams))
        }
        "/ws" => Some((Framing::Raw, BTreeSet::new())),
        p => p
            .strip_prefix("/ws/")
            .map(|rest| (Framing::Raw, list(rest))),
    }
}

/// The reply to a live request (a text frame) from a client subscribed to
/// `streams` with `framing`, which the request may change.
pub fn answer(streams: &mut BTreeSet<String>, framing: &mut Framing, text: &str) -> String {
    let error = |code: i32, msg: &str, id: &Value| {
        json!({"error": {"code": code, "msg": msg}, "id": id}).to_string()
    };
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return error(3, "Invalid JSON: expected a request object", &Value::Null);
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    if !(id.is_null() || id.is_u64() || id.is_string()) {
        return error(1, "Invalid value type: expected an id", &id);
    }
    let names = || -> Option<Vec<String>> {
        req.get("params")?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let reply = |result: Value| json!({"result": result, "id": id}).to_string();
    match req.get("method").and_then(Value::as_str) {
        Some("SUBSCRIBE") => match names() {
            Some(n) => {
                streams.extend(n);
                reply(Value::Null)
            }
            None => error(2, "Invalid request: params must be stream names", &id),
        },
        Some("UNSUBSCRIBE") => match names() {
            Some(n) => {
                for s in n {
                    streams.remove(&s);
                }
                reply(Value::Null)
            }
            None => error(2, "Invalid request: params must be stream names", &id),
        },
        Some("LIST_SUBSCRIPTIONS") => reply(json!(streams.iter().collect::<Vec<_>>())),
        Some("GET_PROPERTY") => reply(json!(*framing == Framing::Combined)),
        Some("SET_PROPERTY") => match req
            .get("params")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([name, on]) if name == "combined" && on.is_boolean() => {
                *framing = if on == true {
                    Framing::Combined
                } else {
                    Framing::Raw
                };
                reply(Value::Null)
            }
            _ => error(0, "Unknown property", &id),
        },
        _ => error(2, "Invalid request: unknown method", &id),
    }
}

/// Reads what `ws` has without blocking; `f` gets each text frame.
/// `Ok(true)` when a frame came; `Err(())` when the connection is over
/// (closed by the client — its close echoed — or failed).
fn drain(ws: &mut WebSocket<SimStream>, mut f: impl FnMut(&str)) -> Result<bool, ()> {
    if ws.get_mut().set_nonblocking(true).is_err() {
        return Err(());
    }
    let mut heard = false;
    let over = loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                heard = true;
                f(t.as_str());
            }
            // Pings are answered by tungstenite as they are read (the pong
            // goes with the next write or flush, below).
            Ok(Message::Close(_)) => break true,
            Ok(_) => heard = true,
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                break false;
            }
            Err(_) => break true,
        }
    };
    let restored = ws.get_mut().set_nonblocking(false).is_ok();
    // Pongs and the close echo go out now (blocking, with the write timeout).
    let flushed = ws.flush();
    if over || !restored {
        return Err(());
    }
    match flushed {
        Ok(()) => Ok(heard),
        Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => Err(()),
        Err(_) => Err(()),
    }
}

/// Reads every connection, answers requests and pings, pings every
/// `ping_every` and drops the silent, until the simulator stops.
pub(super) fn serve(shared: &Shared, ping_every: Duration) {
    let mut last_ping = Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        let ping = last_ping.elapsed() >= ping_every;
        if ping {
            last_ping = Instant::now();
        }
        let silent_for = ping_every.saturating_mul(3);
        let mut clients = lock(&shared.clients);
        let before = clients.len();
        clients.retain_mut(|c| {
            let mut replies = Vec::new();
            let mut heard = match drain(&mut c.ws, |t| replies.push(t.to_string())) {
                Ok(h) => h,
                Err(()) => return false,
            };
            for r in replies {
                shared.subscriptions.fetch_add(1, Ordering::AcqRel);
                let reply = answer(&mut c.streams, &mut c.framing, &r);
                if c.ws.send(Message::text(reply)).is_err() {
                    return false;
                }
                heard = true;
            }
            if heard {
                c.heard = Instant::now();
            }
            if ping && c.ws.send(Message::Ping(Vec::new().into())).is_err() {
                return false;
            }
            c.heard.elapsed() < silent_for
        });
        let gone = (before - clients.len()) as u64;
        drop(clients);
        let mut users = lock(&shared.users);
        let before_users = users.len();
        users.retain_mut(|u| {
            // A user stream takes no requests; reading it answers pings
            // and sees a close.
            if drain(&mut u.ws, |_| {}).is_err() {
                return false;
            }
            !ping || u.ws.send(Message::Ping(Vec::new().into())).is_ok()
        });
        let gone = gone + (before_users - users.len()) as u64;
        drop(users);
        shared.stats.dropped.fetch_add(gone, Ordering::Relaxed);
        // A server loop, not a test: a few hundred rounds a second keep a
        // client's ping answered within milliseconds.
        std::thread::sleep(Duration::from_millis(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_form_binance_serves() {
        let (f, s) = path_streams("/stream?streams=btcusdt@bookTicker/btcusdt@depth@0ms").unwrap();
        assert_eq!(f, Framing::Combined);
        assert_eq!(s.len(), 2);
        assert!(s.contains("btcusdt@depth@0ms"));
        assert_eq!(
            path_streams("/stream").unwrap(),
            (Framing::Combined, BTreeSet::new())
        );
        assert_eq!(path_streams("/stream?streams=").unwrap().1.len(), 0);
        let (f, s) = path_streams("/ws/btcusdt@trade").unwrap();
        assert_eq!((f, s.len()), (Framing::Raw, 1));
        assert_eq!(path_streams("/ws/a@trade/b@trade").unwrap().1.len(), 2);
        assert_eq!(
            path_streams("/ws").unwrap(),
            (Framing::Raw, BTreeSet::new())
        );
        assert_eq!(path_streams("/ws/").unwrap().1.len(), 0);
        assert_eq!(path_streams("/fapi/v1/depth"), None);
    }

    #[test]
    fn live_requests_get_binances_replies() {
        let (mut s, mut f) = (BTreeSet::new(), Framing::Raw);
        let mut ask = |text: &str| answer(&mut s, &mut f, text);
        assert_eq!(
            ask(r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}"#),
            r#"{"id":1,"result":null}"#
        );
        assert_eq!(
            ask(r#"{"method":"LIST_SUBSCRIPTIONS","id":3}"#),
            r#"{"id":3,"result":["btcusdt@aggTrade","btcusdt@depth"]}"#
        );
        assert_eq!(
            ask(r#"{"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312}"#),
            r#"{"id":312,"result":null}"#
        );
        assert_eq!(
            ask(r#"{"method":"GET_PROPERTY","params":["combined"],"id":2}"#),
            r#"{"id":2,"result":false}"#
        );
        assert_eq!(
            ask(r#"{"method":"SET_PROPERTY","params":["combined",true],"id":5}"#),
            r#"{"id":5,"result":null}"#
        );
        assert!(ask(r#"{"method":"SUBSCRIBE","params":[1],"id":6}"#).contains(r#""code":2"#));
        assert!(ask(r#"{"method":"NOPE","id":7}"#).contains(r#""code":2"#));
        assert!(ask("{not json").contains(r#""code":3"#));
        assert!(ask(r#"{"method":"LIST_SUBSCRIPTIONS","id":[1]}"#).contains(r#""code":1"#));
        assert_eq!(s.iter().collect::<Vec<_>>(), ["btcusdt@aggTrade"]);
        assert_eq!(f, Framing::Combined);
    }

    #[test]
    fn a_raw_client_gets_the_payload_alone() {
        let e = r#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","p":"1"}}"#;
        assert_eq!(payload(e), r#"{"e":"aggTrade","p":"1"}"#);
        assert_eq!(payload(r#"{"e":"x"}"#), r#"{"e":"x"}"#, "not an envelope");
        assert_eq!(payload("garbage"), "garbage");
    }
}
