//! The simulator's view of each symbol's book, kept from what it streams,
//! so its REST side can answer depth snapshots that a client can bridge to
//! the stream (the exchange's `/fapi/v1/depth`).
//!
//! - Diff-depth streams (captures): the book starts from the capture's own
//!   snapshot and follows every later diff; the snapshot carries the last
//!   applied `u` as `lastUpdateId`. Before the stream reaches the capture's
//!   snapshot line, that line itself is served (the client drops the diffs
//!   it covers and waits for the one that bridges it, as on Binance).
//! - Book tickers only (the synthetic market): a one-level book from the
//!   latest ticker, its update id as `lastUpdateId`.
//!
//! The simulator is not the deterministic core: ordered maps are fine here.
//!
//! It never adopts what an exchange would not send: a message whose
//! exchange time drifts from the feed's own timeline by more than five
//! minutes, or whose update id jumps by more than 10⁹ unconfirmed, leaves
//! the book and the clock as they were (`plausible`), so a REST snapshot
//! never echoes a refused value.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use autobot_engine::plausible::{Candidate, FeedClock};
use autobot_engine::types::{Price, Qty};
use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;

/// One symbol's book.
#[derive(Debug)]
pub struct SimBook {
    bids: BTreeMap<Price, Qty>,
    asks: BTreeMap<Price, Qty>,
    last_update_id: u64,
    /// Set once a snapshot (or a ticker) gave the book a base.
    based: bool,
    /// The base is the latest ticker (no diff-depth stream).
    ticker_only: bool,
    /// The capture's snapshot line, served until the stream passes it.
    pending: Option<String>,
    /// Latest exchange time adopted (ms).
    time_ms: u64,
    /// Exchange time against the feed's timeline.
    clock: FeedClock,
    /// An update id beyond the jump, waiting for the next to confirm it.
    id_jump: Candidate,
}

/// Largest drift of a message's exchange time from the feed's timeline.
const TIME_WINDOW_NS: u64 = 300_000_000_000;
/// Largest jump of an update id before it needs confirming.
const MAX_ID_JUMP: u64 = 1_000_000_000;

impl Default for SimBook {
    fn default() -> Self {
        SimBook {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            last_update_id: 0,
            based: false,
            ticker_only: false,
            pending: None,
            time_ms: 0,
            clock: FeedClock::new(TIME_WINDOW_NS),
            id_jump: Candidate::default(),
        }
    }
}

/// Reads `[["price","qty"],…]` into `(price, qty)` pairs.
fn levels(v: Option<&Value<'_>>) -> Vec<(Price, Qty)> {
    let Some(list) = v.and_then(|x| x.as_array()) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|pair| {
            let p = pair.as_array()?;
            let price = Price::parse(p.first()?.as_str()?).ok()?;
            let qty = Qty::parse(p.get(1)?.as_str()?).ok()?;
            Some((price, qty))
        })
        .collect()
}

fn apply(side: &mut BTreeMap<Price, Qty>, levels: &[(Price, Qty)]) {
    for &(p, q) in levels {
        if q.is_positive() {
            side.insert(p, q);
        } else {
            side.remove(&p);
        }
    }
}

impl SimBook {
    /// A book that serves `snapshot` (a capture's snapshot line) until the
    /// stream reaches it.
    pub fn with_pending(snapshot: String) -> SimBook {
        SimBook {
            pending: Some(snapshot),
            ..SimBook::default()
        }
    }

    /// `true` while a capture's snapshot line is served.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes in a capture's snapshot line met in stream order: the book
    /// restarts from it.
    pub fn on_snapshot(&mut self, text: &str) {
        let mut bytes = text.as_bytes().to_vec();
        let Ok(v) = simd_json::to_borrowed_value(&mut bytes) else {
            return;
        };
        let Some(id) = v.get("lastUpdateId").and_then(|x| x.as_u64()) else {
            return;
        };
        self.bids.clear();
        self.asks.clear();
        apply(&mut self.bids, &levels(v.get("bids")));
        apply(&mut self.asks, &levels(v.get("asks")));
        self.last_update_id = id;
        self.based = true;
        self.ticker_only = false;
        self.pending = None;
    }

    /// Takes in a streamed message (the `data` of an envelope) due at
    /// `due_ns` of the feed's timeline; `false` (nothing changed) when it is
    /// implausible.
    pub fn on_stream(&mut self, data: &Value<'_>, due_ns: u64) -> bool {
        let time = data.get("E").and_then(|x| x.as_u64());
        if let Some(t) = time
            && !self.clock.check(t.saturating_mul(1_000_000), due_ns)
        {
            return false;
        }
        let id = data.get("u").and_then(|x| x.as_u64());
        if let Some(u) = id.filter(|_| self.based)
            && !self
                .id_jump
                .admits_id(Some(self.last_update_id), u, MAX_ID_JUMP)
        {
            return false;
        }
        if let Some(t) = time {
            self.time_ms = self.time_ms.max(t);
        }
        match data.get("e").and_then(|x| x.as_str()) {
            Some("depthUpdate") => {
                let u = data.get("u").and_then(|x| x.as_u64()).unwrap_or(0);
                if !self.based || u <= self.last_update_id {
                    return true;
                }
                apply(&mut self.bids, &levels(data.get("b")));
                apply(&mut self.asks, &levels(data.get("a")));
                self.last_update_id = u;
            }
            Some("bookTicker") if self.pending.is_none() && (!self.based || self.ticker_only) => {
                let top = |p: &str, q: &str| {
                    let price = Price::parse(data.get(p)?.as_str()?).ok()?;
                    let qty = Qty::parse(data.get(q)?.as_str()?).ok()?;
                    Some((price, qty))
                };
                if let (Some(b), Some(a)) = (top("b", "B"), top("a", "A")) {
                    self.bids.clear();
                    self.asks.clear();
                    self.bids.insert(b.0, b.1);
                    self.asks.insert(a.0, a.1);
                    self.last_update_id = data.get("u").and_then(|x| x.as_u64()).unwrap_or(0);
                    self.based = true;
                    self.ticker_only = true;
                }
            }
            _ => {}
        }
        true
    }

    /// The levels an order on `side` takes from, best first (asks for a
    /// buy, bids for a sell).
    pub fn opposite(&self, side: autobot_engine::types::Side) -> Vec<(Price, Qty)> {
        match side {
            autobot_engine::types::Side::Buy => self.asks.iter().map(|(p, q)| (*p, *q)).collect(),
            autobot_engine::types::Side::Sell => {
                self.bids.iter().rev().map(|(p, q)| (*p, *q)).collect()
            }
        }
    }

    /// Best bid and ask, when the book has both.
    pub fn top(&self) -> Option<(Price, Price)> {
        Some((*self.bids.keys().next_back()?, *self.asks.keys().next()?))
    }

    /// Latest exchange time the stream carried (ms).
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }

    /// The snapshot body with up to `limit` levels per side, or `None`
    /// while the book has no base.
    pub fn snapshot(&self, limit: usize) -> Option<String> {
        if let Some(p) = &self.pending {
            return Some(p.clone());
        }
        if !self.based {
            return None;
        }
        let mut s = String::with_capacity(64 + 40 * limit.min(self.bids.len() + self.asks.len()));
        let _ = write!(
            s,
            r#"{{"lastUpdateId":{},"E":{t},"T":{t},"bids":["#,
            self.last_update_id,
            t = self.time_ms
        );
        list(&mut s, self.bids.iter().rev().take(limit));
        s.push_str(r#"],"asks":["#);
        list(&mut s, self.asks.iter().take(limit));
        s.push_str("]}");
        Some(s)
    }
}

fn list<'a>(s: &mut String, levels: impl Iterator<Item = (&'a Price, &'a Qty)>) {
    for (i, (p, q)) in levels.enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, r#"["{p}","{q}"]"#);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(json: &str) -> Vec<u8> {
        json.as_bytes().to_vec()
    }

    #[test]
    fn a_snapshot_then_diffs_give_a_bridgeable_snapshot() {
        let mut b = SimBook::with_pending(
            r#"{"lastUpdateId":10,"bids":[["100.0","1"]],"asks":[["101.0","2"]]}"#.into(),
        );
        assert!(
            b.snapshot(5)
                .unwrap()
                .starts_with(r#"{"lastUpdateId":10,"bids""#)
        );
        b.on_snapshot(r#"{"lastUpdateId":10,"bids":[["100.0","1"]],"asks":[["101.0","2"]]}"#);
        let mut d = data(
            r#"{"e":"depthUpdate","E":5,"U":9,"u":12,"pu":8,"b":[["100.0","0"],["99.5","3"]],"a":[]}"#,
        );
        b.on_stream(&simd_json::to_borrowed_value(&mut d).unwrap(), 0);
        // A diff the book already covers changes nothing.
        let mut old =
            data(r#"{"e":"depthUpdate","E":5,"U":1,"u":2,"pu":0,"b":[["1","1"]],"a":[]}"#);
        b.on_stream(&simd_json::to_borrowed_value(&mut old).unwrap(), 0);
        assert_eq!(
            b.snapshot(5).unwrap(),
            r#"{"lastUpdateId":12,"E":5,"T":5,"bids":[["99.5","3"]],"asks":[["101","2"]]}"#
        );
    }

    #[test]
    fn tickers_make_a_one_level_book() {
        let mut b = SimBook::default();
        assert_eq!(b.snapshot(5), None);
        let mut t =
            data(r#"{"e":"bookTicker","u":7,"s":"X","b":"1.5","B":"2","a":"1.6","A":"3","E":9}"#);
        b.on_stream(&simd_json::to_borrowed_value(&mut t).unwrap(), 0);
        assert_eq!(
            b.snapshot(5).unwrap(),
            r#"{"lastUpdateId":7,"E":9,"T":9,"bids":[["1.5","2"]],"asks":[["1.6","3"]]}"#
        );
    }

    #[test]
    fn a_message_from_nowhere_is_not_echoed() {
        let mut b = SimBook::default();
        let mut t =
            data(r#"{"e":"bookTicker","u":7,"s":"X","b":"1.5","B":"2","a":"1.6","A":"3","E":9}"#);
        assert!(b.on_stream(&simd_json::to_borrowed_value(&mut t).unwrap(), 0));
        let before = b.snapshot(5);
        for bogus in [
            r#"{"e":"bookTicker","u":8,"s":"X","b":"1.5","B":"2","a":"1.6","A":"3","E":9999999999999999999}"#,
            r#"{"e":"bookTicker","u":9999999999999999999,"s":"X","b":"1.4","B":"2","a":"1.6","A":"3","E":10}"#,
        ] {
            let mut m = data(bogus);
            assert!(!b.on_stream(&simd_json::to_borrowed_value(&mut m).unwrap(), 1_000_000));
        }
        assert_eq!(
            b.snapshot(5),
            before,
            "neither the time nor the id nor the price moved"
        );
        assert_eq!(b.time_ms(), 9);
    }
}
