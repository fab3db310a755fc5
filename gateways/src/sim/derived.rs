//! Streams the feed does not carry, made from what it does, so every
//! stream kind a client may subscribe to is fed on any market (the
//! synthetic one streams only book tickers and aggregate trades):
//!
//! - `<s>@depth`, `<s>@depth@0ms|100ms|250ms|500ms`: diffs of the book the
//!   tickers show (the old best level to zero, the new one set), numbered
//!   so that they bridge `/fapi/v1/depth` (`U` = previous `u` + 1,
//!   `pu` = previous `u`); `<s>@depth5|10|20[@…ms]`: the levels there are.
//! - `<s>@trade`: each trade as a trade event.
//! - `<s>@kline_<interval>`: the current candle on every trade, the one it
//!   closes first with `"x":true` (from the tape: [`super::tape`]).
//! - `<s>@markPrice` (every 3 s of market time) and `<s>@markPrice@1s`:
//!   mark, funding rate and next funding time from the exchange model.
//!
//! A stream the feed itself carries (a capture that recorded `depth`) is
//! never derived. Only streams some client subscribed to are built.

use std::collections::{BTreeMap, BTreeSet};

use autobot_engine::event::{BookTicker, InputBody, InputEvent};
use autobot_engine::types::{Instrument, Price};
use serde_json::{Value, json};

use super::tape::interval_minutes;
use super::{Shared, lock};

#[derive(Debug, Default)]
struct SymbolState {
    lower: String,
    name: String,
    /// The last book ticker (the book the diffs describe).
    top: Option<BookTicker>,
    /// Market ms of the last mark update, per period (1 s, 3 s).
    marks: [u64; 2],
    /// Open time of the candle last sent, per kline stream.
    klines: BTreeMap<String, u64>,
}

/// What the derived streams remember between messages.
#[derive(Debug, Default)]
pub(super) struct Derived {
    native: BTreeSet<String>,
    syms: Vec<SymbolState>,
    /// Streams some client wants that the feed does not carry, as of
    /// `seen` (`Shared::subscriptions`).
    wanted: BTreeSet<String>,
    seen: Option<u64>,
}

const DIFF_SUFFIXES: [&str; 5] = ["", "@0ms", "@100ms", "@250ms", "@500ms"];
const PARTIAL_SUFFIXES: [&str; 4] = ["", "@100ms", "@250ms", "@500ms"];

fn level(p: Price, q: impl std::fmt::Display) -> Value {
    json!([p.to_string(), q.to_string()])
}

/// One side of a diff between two tops of book: the old best to zero when
/// the price moved, the new best at its quantity.
fn diff_side(old: Price, new: Price, qty: impl std::fmt::Display) -> Vec<Value> {
    let mut v = Vec::with_capacity(2);
    if old != new {
        v.push(level(old, "0"));
    }
    v.push(level(new, qty));
    v
}

impl Derived {
    pub(super) fn new(instruments: &[Instrument]) -> Derived {
        Derived {
            native: BTreeSet::new(),
            wanted: BTreeSet::new(),
            seen: None,
            syms: instruments
                .iter()
                .map(|i| SymbolState {
                    lower: i.name.as_str().to_ascii_lowercase(),
                    name: i.name.to_string(),
                    ..SymbolState::default()
                })
                .collect(),
        }
    }

    /// A feed message of `stream` was streamed; `events` are what it
    /// carried (parsed). Sends the derived messages clients asked for.
    pub(super) fn on_item(&mut self, shared: &Shared, stream: &str, events: &[InputEvent]) {
        let version = shared
            .subscriptions
            .load(std::sync::atomic::Ordering::Acquire);
        if !self.native.contains(stream) {
            self.native.insert(stream.to_string());
            self.seen = None;
        }
        if self.seen != Some(version) {
            self.seen = Some(version);
            self.wanted = lock(&shared.clients)
                .iter()
                .flat_map(|c| c.streams.iter())
                .filter(|s| !self.native.contains(*s) && s.contains('@'))
                .cloned()
                .collect();
        }
        if self.wanted.is_empty() {
            // The book the diffs describe still follows the tickers.
            for ev in events {
                if let (InputBody::BookTicker(t), Some(s)) =
                    (&ev.body, self.syms.get_mut(usize::from(ev.header.symbol.0)))
                {
                    s.top = Some(*t);
                }
            }
            return;
        }
        let wanted = std::mem::take(&mut self.wanted);
        let mut out: Vec<(String, String)> = Vec::new();
        for ev in events {
            let i = usize::from(ev.header.symbol.0);
            let ms = ev.header.exchange.0 / 1_000_000;
            if i >= self.syms.len() {
                continue;
            }
            match &ev.body {
                InputBody::BookTicker(t) => self.depth(i, t, ms, &wanted, &mut out),
                InputBody::AggTrade(t) => {
                    let s = &self.syms[i];
                    let name = format!("{}@trade", s.lower);
                    if wanted.contains(&name) {
                        let data = json!({"e": "trade", "E": ms, "T": ms, "s": s.name,
                            "t": t.trade_id, "p": t.price.to_string(), "q": t.qty.to_string(),
                            "X": "MARKET", "m": t.buyer_is_maker});
                        out.push((name, data.to_string()));
                    }
                    self.klines(shared, i, ms, &wanted, &mut out);
                }
                _ => {}
            }
            self.marks(shared, i, ms, &wanted, &mut out);
        }
        self.wanted = wanted;
        if out.is_empty() {
            return;
        }
        let mut clients = lock(&shared.clients);
        for (name, data) in &out {
            let envelope = format!(r#"{{"stream":"{name}","data":{data}}}"#);
            clients.retain_mut(|c| !c.streams.contains(name) || c.send_envelope(&envelope));
        }
    }

    fn depth(
        &mut self,
        i: usize,
        t: &BookTicker,
        ms: u64,
        wanted: &BTreeSet<String>,
        out: &mut Vec<(String, String)>,
    ) {
        let s = &mut self.syms[i];
        let prev = s.top.replace(*t);
        let diff_names: Vec<String> = DIFF_SUFFIXES
            .iter()
            .map(|x| format!("{}@depth{x}", s.lower))
            .filter(|n| wanted.contains(n))
            .collect();
        if let (Some(p), false) = (prev, diff_names.is_empty()) {
            let data = json!({"e": "depthUpdate", "E": ms, "T": ms, "s": s.name,
                "U": p.update_id + 1, "u": t.update_id, "pu": p.update_id,
                "b": diff_side(p.bid_price, t.bid_price, t.bid_qty),
                "a": diff_side(p.ask_price, t.ask_price, t.ask_qty)})
            .to_string();
            out.extend(diff_names.into_iter().map(|n| (n, data.clone())));
        }
        for levels in [5, 10, 20] {
            for x in PARTIAL_SUFFIXES {
                let name = format!("{}@depth{levels}{x}", s.lower);
                if !wanted.contains(&name) {
                    continue;
                }
                let pu = prev.map_or(t.update_id, |p| p.update_id);
                let data = json!({"e": "depthUpdate", "E": ms, "T": ms, "s": s.name,
                    "U": pu + 1, "u": t.update_id, "pu": pu,
                    "b": [level(t.bid_price, t.bid_qty)],
                    "a": [level(t.ask_price, t.ask_qty)]});
                out.push((name, data.to_string()));
            }
        }
    }

    fn klines(
        &mut self,
        shared: &Shared,
        i: usize,
        ms: u64,
        wanted: &BTreeSet<String>,
        out: &mut Vec<(String, String)>,
    ) {
        let s = &mut self.syms[i];
        let prefix = format!("{}@kline_", s.lower);
        let names: Vec<&String> = wanted.iter().filter(|n| n.starts_with(&prefix)).collect();
        if names.is_empty() {
            return;
        }
        let venue = lock(&shared.venues[0]);
        for name in names {
            let interval = &name[prefix.len()..];
            let Some(minutes) = interval_minutes(interval) else {
                continue;
            };
            let width = minutes * 60_000;
            let candles = venue.tape().candles(i, minutes, (0, u64::MAX), 2);
            let Some(current) = candles.last() else {
                continue;
            };
            let last_open = s.klines.insert(name.clone(), current.open_ms);
            let closing = candles
                .iter()
                .rev()
                .nth(1)
                .filter(|c| last_open.is_some_and(|o| o == c.open_ms));
            for (c, closed) in closing
                .map(|c| (c, true))
                .into_iter()
                .chain([(current, false)])
            {
                let data = json!({"e": "kline", "E": ms, "s": s.name, "k": {
                    "t": c.open_ms, "T": c.open_ms + width - 1, "s": s.name, "i": interval,
                    "f": c.ids.0, "L": c.ids.1, "o": c.ohlc[0].to_string(),
                    "c": c.ohlc[3].to_string(), "h": c.ohlc[1].to_string(),
                    "l": c.ohlc[2].to_string(), "v": c.volume.to_string(), "n": c.count,
                    "x": closed, "q": c.quote.to_string(), "V": c.taker_buy.0.to_string(),
                    "Q": c.taker_buy.1.to_string(), "B": "0"}});
                out.push((name.clone(), data.to_string()));
            }
        }
    }

    fn marks(
        &mut self,
        shared: &Shared,
        i: usize,
        ms: u64,
        wanted: &BTreeSet<String>,
        out: &mut Vec<(String, String)>,
    ) {
        let s = &mut self.syms[i];
        for (k, (suffix, every)) in [("@markPrice@1s", 1_000), ("@markPrice", 3_000)]
            .into_iter()
            .enumerate()
        {
            let name = format!("{}{suffix}", s.lower);
            if !wanted.contains(&name) || ms < s.marks[k].saturating_add(every) {
                continue;
            }
            let venue = lock(&shared.venues[0]);
            let Some(v) = venue.model().view(autobot_engine::types::SymbolId(
                u16::try_from(i).unwrap_or(u16::MAX),
            )) else {
                continue;
            };
            let Some(mark) = v.mark else { continue };
            s.marks[k] = ms - ms % every;
            let next = super::public::next_funding_ms(&v, shared, ms);
            let data = json!({"e": "markPriceUpdate", "E": ms, "s": s.name,
                "p": mark.to_string(), "i": mark.to_string(), "P": mark.to_string(),
                "r": v.funding.0.to_string(), "T": next});
            out.push((name, data.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_sides_remove_the_old_best_and_set_the_new() {
        let p = |s: &str| Price::parse(s).unwrap();
        assert_eq!(
            Value::Array(diff_side(p("100"), p("100.1"), "2")).to_string(),
            r#"[["100","0"],["100.1","2"]]"#
        );
        assert_eq!(
            Value::Array(diff_side(p("100"), p("100"), "3")).to_string(),
            r#"[["100","3"]]"#
        );
    }
}
