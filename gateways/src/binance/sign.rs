//! Signed requests: the query strings of Binance USD-M order endpoints,
//! written into a reused buffer, and their HMAC-SHA256 signature.
//!
//! Binance signs `totalParams` (the query string followed by the body; we
//! send everything in the query) with the API secret, and the signature is
//! the last parameter, lower-case hex. A request carries `timestamp` (our
//! clock plus the measured offset to the exchange's, in ms) and
//! `recvWindow`; the exchange refuses it with -1021 when the two disagree
//! by more than the window.
//!
//! # Invariants
//! - Serialising and signing allocate nothing once the buffer has grown to
//!   the longest request (decimals are written through `fmt::Write`).
//! - The secret is keyed into the HMAC once ([`Signer::new`]); each request
//!   clones the keyed state, so the key's hash is not recomputed.
//! - The secret and the API key never appear in `Debug` output.
//! - Client order ids are `ab<decimal id>`: Binance allows
//!   `[.A-Z:/a-z0-9_-]{1,36}`, and an id the engine did not write is told
//!   apart when the user stream reports orders placed elsewhere.

use std::fmt::Write as _;

use autobot_engine::event::{NewOrder, OrderKind};
use autobot_engine::types::{ClientOrderId, Side};
use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::credentials::{Credentials, Hidden};

type HmacSha256 = hmac::Hmac<Sha256>;

/// Prefix of the client order ids the engine sends.
pub const CLIENT_ID_PREFIX: &str = "ab";

/// Writes the exchange spelling of `id`.
pub fn write_client_id(out: &mut String, id: ClientOrderId) {
    let _ = write!(out, "{CLIENT_ID_PREFIX}{}", id.0);
}

/// The engine's id behind an exchange client order id; `None` for an id
/// the engine did not write (an order placed by hand, another bot).
pub fn parse_client_id(text: &str) -> Option<ClientOrderId> {
    let digits = text.strip_prefix(CLIENT_ID_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(ClientOrderId)
}

/// `BUY` / `SELL`.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// Parameters every signed request ends with, before its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Exchange time in milliseconds (local clock + measured offset).
    pub timestamp_ms: u64,
    /// How long after `timestamp_ms` the exchange may still accept it.
    pub recv_window_ms: u32,
}

/// Writes the query of `POST /fapi/v1/order` for `order` on `symbol`
/// (without the signature). Market orders carry no price; a post-only
/// limit is `timeInForce=GTX`. The response type is `ACK`: every state
/// change, fills included, comes from the user-data stream, so there is
/// one source of truth for an order's life.
pub fn new_order_query(out: &mut String, symbol: &str, order: &NewOrder, stamp: Stamp) {
    out.clear();
    let _ = write!(out, "symbol={symbol}&side={}", side_name(order.side));
    match order.kind {
        OrderKind::Market => out.push_str("&type=MARKET"),
        OrderKind::Limit => {
            let tif = if order.post_only { "GTX" } else { "GTC" };
            let _ = write!(out, "&type=LIMIT&timeInForce={tif}&price={}", order.price);
        }
    }
    let _ = write!(out, "&quantity={}", order.qty);
    if order.reduce_only {
        out.push_str("&reduceOnly=true");
    }
    out.push_str("&newClientOrderId=");
    write_client_id(out, order.client_id);
    out.push_str("&newOrderRespType=ACK");
    write_stamp(out, stamp);
}

/// Writes the query of `DELETE` or `GET /fapi/v1/order` for our order
/// `id` on `symbol` (without the signature).
pub fn order_ref_query(out: &mut String, symbol: &str, id: ClientOrderId, stamp: Stamp) {
    out.clear();
    let _ = write!(out, "symbol={symbol}&origClientOrderId=");
    write_client_id(out, id);
    write_stamp(out, stamp);
}

/// Writes the query of a request about the exchange's order `order_id` on
/// `symbol` (`GET /fapi/v1/userTrades`, `DELETE /fapi/v1/order` of an
/// order someone else placed), without the signature.
pub fn order_id_query(out: &mut String, symbol: &str, order_id: u64, stamp: Stamp) {
    out.clear();
    let _ = write!(out, "symbol={symbol}&orderId={order_id}");
    write_stamp(out, stamp);
}

/// Writes the query of a signed request with no parameters of its own
/// (`/fapi/v3/account`, `/fapi/v3/positionRisk`).
pub fn stamp_only_query(out: &mut String, stamp: Stamp) {
    out.clear();
    write_stamp(out, stamp);
    if out.starts_with('&') {
        out.remove(0);
    }
}

fn write_stamp(out: &mut String, stamp: Stamp) {
    let _ = write!(
        out,
        "&recvWindow={}&timestamp={}",
        stamp.recv_window_ms, stamp.timestamp_ms
    );
}

/// Signs requests with one API secret (and carries the API key for the
/// `X-MBX-APIKEY` header).
#[derive(Clone)]
pub struct Signer {
    api_key: Hidden,
    keyed: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `creds`.
    pub fn new(creds: &Credentials) -> Signer {
        Signer::from_parts(creds.api_key.clone(), &creds.api_secret)
    }

    /// A signer for a key and secret given separately (the simulator's).
    pub fn from_parts(api_key: Hidden, secret: &Hidden) -> Signer {
        // HMAC takes a key of any length; the error case cannot happen.
        let keyed = <HmacSha256 as KeyInit>::new_from_slice(secret.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Signer { api_key, keyed }
    }

    /// The API key, for the `X-MBX-APIKEY` header only.
    pub fn api_key(&self) -> &Hidden {
        &self.api_key
    }

    /// Appends `&signature=<64 hex digits>` over everything in `query`.
    pub fn sign(&self, query: &mut String) {
        let tag = self.tag(query.as_bytes());
        query.push_str("&signature=");
        for b in tag {
            query.push(char::from(HEX[usize::from(b >> 4)]));
            query.push(char::from(HEX[usize::from(b & 15)]));
        }
    }

    /// Whether `signature` (hex, either case) is this secret's signature of
    /// `payload`; compared in constant time.
    pub fn verify(&self, payload: &[u8], signature: &str) -> bool {
        let mut tag = [0u8; 32];
        let hex = signature.as_bytes();
        if hex.len() != 64 {
            return false;
        }
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(h), Some(l)) => tag[i] = h << 4 | l,
                _ => return false,
            }
        }
        let mut mac = self.keyed.clone();
        mac.update(payload);
        mac.verify_slice(&tag).is_ok()
    }

    fn tag(&self, payload: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a signed query into what was signed and the signature; `None`
/// when the signature is not the last parameter.
pub fn split_signature(query: &str) -> Option<(&str, &str)> {
    let at = query.rfind("&signature=")?;
    let sig = &query[at + "&signature=".len()..];
    (!sig.contains('&')).then_some((&query[..at], sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobot_engine::types::{Price, Qty, SymbolId};

    fn signer(secret: &str) -> Signer {
        Signer::from_parts(Hidden::new("key".into()), &Hidden::new(secret.into()))
    }

    /// The worked example of Binance's USD-M signed-endpoint documentation
    /// (SIGNED endpoint examples for POST /fapi/v1/order, HMAC keys).
    #[test]
    fn the_documented_example_signature() {
        let secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
        let mut q = String::from(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC\
             &recvWindow=5000&timestamp=1591702613943",
        );
        signer(secret).sign(&mut q);
        assert!(q.ends_with(
            "&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
        ));
        let (payload, sig) = split_signature(&q).unwrap();
        assert!(signer(secret).verify(payload.as_bytes(), sig));
        assert!(signer(secret).verify(payload.as_bytes(), &sig.to_uppercase()));
        assert!(!signer("other").verify(payload.as_bytes(), sig));
        assert!(!signer(secret).verify(b"symbol=ETHUSDT", sig));
        assert!(!signer(secret).verify(payload.as_bytes(), &sig[..63]));
        assert!(!signer(secret).verify(payload.as_bytes(), &sig.replace('a', "g")));
    }

    #[test]
    fn order_queries_carry_what_binance_expects() {
        let mut o = NewOrder {
            client_id: ClientOrderId(4242),
            symbol: SymbolId(0),
            side: Side::Sell,
            kind: OrderKind::Limit,
            reduce_only: true,
            post_only: true,
            price: Price::parse("60123.1").unwrap(),
            qty: Qty::parse("0.001").unwrap(),
        };
        let stamp = Stamp {
            timestamp_ms: 1_700_000_000_123,
            recv_window_ms: 5000,
        };
        let mut q = String::new();
        new_order_query(&mut q, "BTCUSDT", &o, stamp);
        assert_eq!(
            q,
            "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTX&price=60123.1&quantity=0.001\
             &reduceOnly=true&newClientOrderId=ab4242&newOrderRespType=ACK&recvWindow=5000\
             &timestamp=1700000000123"
        );
        o.kind = OrderKind::Market;
        o.reduce_only = false;
        new_order_query(&mut q, "BTCUSDT", &o, stamp);
        assert_eq!(
            q,
            "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.001&newClientOrderId=ab4242\
             &newOrderRespType=ACK&recvWindow=5000&timestamp=1700000000123"
        );
        order_ref_query(&mut q, "ETHUSDT", ClientOrderId(7), stamp);
        assert_eq!(
            q,
            "symbol=ETHUSDT&origClientOrderId=ab7&recvWindow=5000&timestamp=1700000000123"
        );
        stamp_only_query(&mut q, stamp);
        assert_eq!(q, "recvWindow=5000&timestamp=1700000000123");
    }

    #[test]
    fn client_ids_round_trip_and_foreign_ones_are_told_apart() {
        let mut s = String::new();
        write_client_id(&mut s, ClientOrderId(123_456_789));
        assert_eq!(parse_client_id(&s), Some(ClientOrderId(123_456_789)));
        for foreign in [
            "",
            "ab",
            "abc",
            "ab12x",
            "bot-e0536484551311f1b0c42676a180379c",
            "TEST",
        ] {
            assert_eq!(parse_client_id(foreign), None, "{foreign}");
        }
    }
}
