//! [`SimHandle`]: controls of a running simulator for tests and the CLI —
//! fault injection (dropped connections, a frame cut mid-way, a stalled
//! feed, injected messages, a skewed clock, throttling, expired listen
//! keys, a user-stream outage) and what a test reads back (counters,
//! fills, connections, the mark).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use autobot_engine::types::{Price, Qty};
use tungstenite::Message;

use super::{Shared, SimStats, UserStream, lock, now_ms, send_user};

/// Controls of a running simulator, for tests and the CLI.
#[derive(Clone)]
pub struct SimHandle {
    pub(super) shared: Arc<Shared>,
}

impl SimHandle {
    /// Lockstep: lets the feed send `n` more items.
    pub fn release(&self, n: u64) {
        if let Some(p) = lock(&self.shared.permits).as_mut() {
            *p += n;
        }
        self.shared.permit_given.notify_all();
    }

    /// Closes every client connection at once, mid-stream.
    pub fn drop_connections(&self) {
        let mut clients = lock(&self.shared.clients);
        for c in clients.drain(..) {
            c.ws.get_ref().cut();
            self.shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the first part of a text frame (its header announces 200
    /// payload bytes, 44 follow) to every client, then closes the
    /// connection: a server that dies mid-frame. Between messages the
    /// stream is at a frame boundary (each send is flushed under the lock),
    /// so the client sees a well-formed prefix and then the end.
    pub fn cut_mid_frame(&self) {
        use std::io::Write as _;
        let mut clients = lock(&self.shared.clients);
        for mut c in clients.drain(..) {
            let mut frame = vec![0x81, 126, 0, 200];
            frame.extend_from_slice(br#"{"stream":"btcusdt@bookTicker","data":{"e":"#);
            let wire = c.ws.get_mut();
            let _ = wire.write_all(&frame).and_then(|()| wire.flush());
            wire.cut();
            self.shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stops streaming for `d` (connections stay open: a stalled feed).
    pub fn stall(&self, d: Duration) {
        *lock(&self.shared.stall_until) = Some(Instant::now() + d);
    }

    /// Sends `text` as is (malformed, oversized, for another symbol…) to
    /// the subscribers of `stream`, before the next market message.
    pub fn inject(&self, stream: &str, text: String) {
        lock(&self.shared.inject).push((stream.to_string(), text));
    }

    /// A trade print at `price` on `symbol` that only the exchange sees
    /// (`Venue::print_trade`): moves the last price through a resting stop
    /// while no client is there to watch. `false` for an unknown symbol.
    pub fn print_trade(&self, symbol: &str, price: Price, qty: Qty) -> bool {
        let mut known = false;
        for (account, venue) in self.shared.venues.iter().enumerate() {
            let events = {
                let mut venue = lock(venue);
                known = venue.print_trade(symbol, price, qty);
                venue.take_events()
            };
            send_user(&self.shared, account, &events);
        }
        known
    }

    /// `true` once a capture has been streamed to its end.
    pub fn finished(&self) -> bool {
        self.shared.finished.load(Ordering::Acquire)
    }

    /// The counters.
    pub fn stats(&self) -> &SimStats {
        &self.shared.stats
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        lock(&self.shared.clients).len()
    }

    /// Moves the exchange clock by `ms` (negative: behind), so requests
    /// stamped with the client's clock fall outside `recvWindow` until the
    /// client resyncs from `/fapi/v1/time`.
    pub fn skew_clock(&self, ms: i64) {
        self.shared.clock_skew_ms.store(ms, Ordering::Release);
    }

    /// Refuses the next `n` signed requests with HTTP 429, -1003 and
    /// `Retry-After: 1`.
    pub fn throttle(&self, n: u64) {
        self.shared.throttle.store(n, Ordering::Release);
    }

    /// Expires every listen key: each user stream gets `listenKeyExpired`
    /// (with `E` as a string, as the exchange has sent it) and is closed.
    pub fn expire_listen_keys(&self) {
        let now = now_ms(&self.shared);
        // Forgotten before anyone is told, so the key a client creates on
        // hearing of the expiry is not forgotten with them.
        lock(&self.shared.listen_keys).clear();
        let mut users = lock(&self.shared.users);
        for UserStream { key, mut ws, .. } in users.drain(..) {
            // Binance sends this event's `E` as a string.
            let text = serde_json::json!({"e": "listenKeyExpired", "E": now.to_string(), "listenKey": key})
                .to_string();
            let _ = ws.send(Message::text(text));
            let _ = ws.close(None);
            let _ = ws.flush();
        }
    }

    /// Starts (`true`) or ends an outage of the user-data stream: every
    /// user connection is closed and new ones are refused until it ends.
    /// Reports of what happens meanwhile are lost, as on a real outage;
    /// only REST queries can recover them.
    pub fn user_outage(&self, on: bool) {
        self.shared.user_outage.store(on, Ordering::Release);
        if on {
            for u in lock(&self.shared.users).drain(..) {
                u.ws.get_ref().cut();
            }
        }
    }

    /// The mark of `symbol` now (the first account's model: every model
    /// follows the same market); `None` before data or for an unknown one.
    pub fn mark(&self, symbol: &str) -> Option<Price> {
        let venue = lock(&self.shared.venues[0]);
        let sym = venue.symbol(symbol)?;
        venue.model().view(sym)?.mark
    }

    /// A bid that rests: `fraction` (e.g. 0.97) of `symbol`'s mark, on its
    /// tick grid, inside PERCENT_PRICE when `fraction` ≥ 0.95.
    pub fn resting_bid(&self, symbol: &str, fraction: f64) -> Option<Price> {
        let mark = self.mark(symbol)?;
        let tick = self
            .shared
            .instruments
            .iter()
            .find(|i| i.name.as_str() == symbol)?
            .tick_size
            .raw();
        #[allow(clippy::cast_possible_truncation)]
        let raw = (mark.raw() as f64 * fraction) as i64;
        Some(Price::from_raw(raw - raw.rem_euclid(tick.max(1))))
    }

    /// Fills the accounts have made.
    pub fn fills(&self) -> u64 {
        self.shared.venues.iter().map(|v| lock(v).fills).sum()
    }

    /// User-data stream connections open now.
    pub fn user_clients(&self) -> usize {
        lock(&self.shared.users).len()
    }

    /// The error that ended the feed early, if any (a torn capture).
    pub fn feed_error(&self) -> Option<String> {
        lock(&self.shared.feed_error).clone()
    }
}
