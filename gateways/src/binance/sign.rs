//! Signed requests: the query strings of Binance USD-M order endpoints,
//! written into a reused buffer, and their signature: HMAC-SHA256 with an
//! API secret, or Ed25519 with a private key (the kind Binance now
//! recommends; the secret's form tells which).
//!
//! Binance signs `totalParams` (the query string followed by the body; we
//! send everything in the query), and the signature is the last parameter:
//! lower-case hex for HMAC, URL-encoded base64 for Ed25519. A request carries `timestamp` (our
//! clock plus the measured offset to the exchange's, in ms) and
//! `recvWindow`; the exchange refuses it with -1021 when the two disagree
//! by more than the window.
//!
//! # Invariants
//! - Serialising and signing allocate nothing once the buffer has grown to
//!   the longest request (decimals are written through `fmt::Write`).
//! - The secret is keyed into the HMAC once ([`Signer::new`]); each request
//!   clones the keyed state, so the key's hash is not recomputed. An
//!   Ed25519 key is parsed once; signing it allocates nothing either.
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

/// Where conditional orders live (see `super::algo`).
pub const ALGO_ORDER: &str = "/fapi/v1/algoOrder";

/// Where `kind` is placed: `/fapi/v1/order`, or the Algo Order API for a
/// protective stop.
pub fn order_endpoint(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Market | OrderKind::Limit => "/fapi/v1/order",
        OrderKind::StopMarket | OrderKind::TakeProfitMarket => ALGO_ORDER,
    }
}

/// Writes the query that places `order` on `symbol` at its
/// [`order_endpoint`] (without the signature). Market orders carry no
/// price; a post-only limit is `timeInForce=GTX`. The response type is
/// `ACK`: every state change, fills included, comes from the user-data
/// stream, so there is one source of truth for an order's life.
pub fn new_order_query(out: &mut String, symbol: &str, order: &NewOrder, stamp: Stamp) {
    out.clear();
    let _ = write!(out, "symbol={symbol}&side={}", side_name(order.side));
    match order.kind {
        OrderKind::Market => out.push_str("&type=MARKET"),
        OrderKind::Limit => {
            let tif = if order.post_only { "GTX" } else { "GTC" };
            let _ = write!(out, "&type=LIMIT&timeInForce={tif}&price={}", order.price);
        }
        OrderKind::StopMarket | OrderKind::TakeProfitMarket => {
            return new_algo_query(out, symbol, order, stamp);
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

/// Writes the query of `POST /fapi/v1/algoOrder` for protective order
/// `order` (stop or target) on `symbol` (without the signature; see
/// `super::algo`).
fn new_algo_query(out: &mut String, symbol: &str, order: &NewOrder, stamp: Stamp) {
    out.clear();
    let _ = write!(
        out,
        "algoType=CONDITIONAL&symbol={symbol}&side={}&type={}&triggerPrice={}\
         &workingType=CONTRACT_PRICE&closePosition=true&clientAlgoId=",
        side_name(order.side),
        if order.kind == OrderKind::TakeProfitMarket {
            "TAKE_PROFIT_MARKET"
        } else {
            "STOP_MARKET"
        },
        order.price
    );
    write_client_id(out, order.client_id);
    write_stamp(out, stamp);
}

/// Writes the query of `DELETE` or `GET /fapi/v1/algoOrder` for our
/// conditional order `id` (without the signature).
pub fn algo_ref_query(out: &mut String, id: ClientOrderId, stamp: Stamp) {
    out.clear();
    out.push_str("clientAlgoId=");
    write_client_id(out, id);
    write_stamp(out, stamp);
}

/// Writes the query of `DELETE /fapi/v1/algoOrder` for the exchange's
/// conditional order `algo_id` (one the engine did not place).
pub fn algo_id_query(out: &mut String, algo_id: u64, stamp: Stamp) {
    out.clear();
    let _ = write!(out, "algoId={algo_id}");
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

/// Writes the query of a signed request about `symbol` alone
/// (`GET /fapi/v1/leverageBracket`), without the signature.
pub fn symbol_query(out: &mut String, symbol: &str, stamp: Stamp) {
    out.clear();
    let _ = write!(out, "symbol={symbol}");
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
    key: Key,
}

/// The two kinds of Binance API key: an HMAC-SHA256 secret, or an Ed25519
/// private key whose public half was registered with the exchange.
#[derive(Clone)]
enum Key {
    Hmac(HmacSha256),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// The start of an Ed25519 PKCS#8 private key in base64 (the DER prefix
/// `30 2e 02 01 00 30 05 06 03 2b 65 70`): no HMAC secret Binance issues
/// begins with it, so it tells the key types apart.
const ED25519_DER_B64: &str = "MC4CAQAwBQYDK2Vw";

/// Why an Ed25519 private key could not be read (the key itself is never
/// part of the message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the API secret looks like an Ed25519 private key but is not a valid PKCS#8 one")]
pub struct BadPrivateKey;

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.key {
            Key::Hmac(_) => "HMAC-SHA256",
            Key::Ed25519(_) => "Ed25519",
        };
        f.debug_struct("Signer")
            .field("api_key", &self.api_key)
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `creds`; the key type is read from the secret (an
    /// Ed25519 PKCS#8 private key, PEM or its one-line base64, else an
    /// HMAC secret). A malformed Ed25519 key is an HMAC secret to nobody:
    /// use [`Signer::try_from_parts`] to have it refused.
    pub fn new(creds: &Credentials) -> Signer {
        Signer::from_parts(creds.api_key.clone(), &creds.api_secret)
    }

    /// A signer for a key and secret given separately (the simulator's).
    /// A malformed Ed25519 key falls back to HMAC over its text, which the
    /// exchange then refuses (-1022): [`Signer::try_from_parts`] says why
    /// before any request.
    pub fn from_parts(api_key: Hidden, secret: &Hidden) -> Signer {
        Signer::try_from_parts(api_key.clone(), secret).unwrap_or_else(|_| Signer {
            api_key,
            key: Key::Hmac(hmac_key(secret)),
        })
    }

    /// Like [`Signer::from_parts`], but a secret that looks like an Ed25519
    /// private key and does not parse is refused.
    pub fn try_from_parts(api_key: Hidden, secret: &Hidden) -> Result<Signer, BadPrivateKey> {
        let text = secret.expose().trim();
        let key = if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            Key::Ed25519(Box::new(ed25519_pem(text)?))
        } else if text.starts_with(ED25519_DER_B64) {
            let pem = format!("-----BEGIN PRIVATE KEY-----\n{text}\n-----END PRIVATE KEY-----\n");
            Key::Ed25519(Box::new(ed25519_pem(&pem)?))
        } else {
            Key::Hmac(hmac_key(secret))
        };
        Ok(Signer { api_key, key })
    }

    /// `true` for an Ed25519 key.
    pub fn is_ed25519(&self) -> bool {
        matches!(self.key, Key::Ed25519(_))
    }

    /// The API key, for the `X-MBX-APIKEY` header only.
    pub fn api_key(&self) -> &Hidden {
        &self.api_key
    }

    /// Appends `&signature=…` over everything in `query`: 64 lower-case
    /// hex digits (HMAC-SHA256), or the URL-encoded base64 of the Ed25519
    /// signature.
    pub fn sign(&self, query: &mut String) {
        query.push_str("&signature=");
        match &self.key {
            Key::Hmac(keyed) => {
                let at = query.len() - "&signature=".len();
                let tag = hmac_tag(keyed, &query.as_bytes()[..at]);
                for b in tag {
                    query.push(char::from(HEX[usize::from(b >> 4)]));
                    query.push(char::from(HEX[usize::from(b & 15)]));
                }
            }
            Key::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                let at = query.len() - "&signature=".len();
                let sig = k.sign(&query.as_bytes()[..at]).to_bytes();
                let mut b64 = [0u8; 88];
                let n = base64::engine::Engine::encode_slice(
                    &base64::engine::general_purpose::STANDARD,
                    sig,
                    &mut b64,
                )
                .unwrap_or(0);
                for &c in &b64[..n] {
                    match c {
                        b'+' => query.push_str("%2B"),
                        b'/' => query.push_str("%2F"),
                        b'=' => query.push_str("%3D"),
                        _ => query.push(char::from(c)),
                    }
                }
            }
        }
    }

    /// Whether `signature` (as it stands in the query: hex of either case
    /// for HMAC, URL-encoded base64 for Ed25519) is this key's signature of
    /// `payload`; HMAC compared in constant time.
    pub fn verify(&self, payload: &[u8], signature: &str) -> bool {
        match &self.key {
            Key::Hmac(keyed) => {
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
                let mut mac = keyed.clone();
                mac.update(payload);
                mac.verify_slice(&tag).is_ok()
            }
            Key::Ed25519(k) => {
                use ed25519_dalek::Verifier as _;
                let b64 = signature
                    .replace("%2B", "+")
                    .replace("%2F", "/")
                    .replace("%3D", "=");
                let Ok(bytes) =
                    base64::engine::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                else {
                    return false;
                };
                let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else {
                    return false;
                };
                k.verifying_key().verify(payload, &sig).is_ok()
            }
        }
    }
}

fn hmac_key(secret: &Hidden) -> HmacSha256 {
    // HMAC takes a key of any length; the error case cannot happen.
    <HmacSha256 as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

fn hmac_tag(keyed: &HmacSha256, payload: &[u8]) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

fn ed25519_pem(pem: &str) -> Result<ed25519_dalek::SigningKey, BadPrivateKey> {
    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
    ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|_| BadPrivateKey)
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

    /// RFC 8032, test 1: the empty message under its first key signs to
    /// the published signature, sent as URL-encoded base64.
    #[test]
    fn ed25519_signs_as_rfc_8032_and_verifies_what_it_signed() {
        let seed_b64 = "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";
        let s =
            Signer::try_from_parts(Hidden::new("k".into()), &Hidden::new(seed_b64.into())).unwrap();
        assert!(s.is_ed25519());
        let mut q = String::new();
        s.sign(&mut q);
        let want = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
        let sig = q.strip_prefix("&signature=").unwrap();
        let raw = sig
            .replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=");
        let bytes = base64::engine::Engine::decode(&base64::engine::general_purpose::STANDARD, raw)
            .unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, want);
        assert!(!sig.contains(['+', '/', '=']), "URL-encoded: {sig}");
        assert!(s.verify(b"", sig));
        // A query, signed and checked; one changed byte fails.
        let mut q = "symbol=BTCUSDT&side=BUY&timestamp=1".to_string();
        s.sign(&mut q);
        let (payload, sig) = split_signature(&q).unwrap();
        assert!(s.verify(payload.as_bytes(), sig));
        assert!(!s.verify(b"symbol=BTCUSDT&side=SELL&timestamp=1", sig));
        // The PEM form is the same key.
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{seed_b64}\n-----END PRIVATE KEY-----\n");
        let p = Signer::try_from_parts(Hidden::new("k".into()), &Hidden::new(pem)).unwrap();
        assert!(p.verify(payload.as_bytes(), sig));
        // Nothing of the key in Debug.
        let shown = format!("{s:?}");
        assert!(
            shown.contains("Ed25519") && !shown.contains("MC4C"),
            "{shown}"
        );
    }

    #[test]
    fn a_malformed_ed25519_key_is_refused_and_an_hmac_secret_stays_hmac() {
        let bad = Hidden::new("MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v".into());
        assert_eq!(
            Signer::try_from_parts(Hidden::new("k".into()), &bad).unwrap_err(),
            BadPrivateKey
        );
        let hmac = Signer::try_from_parts(
            Hidden::new("k".into()),
            &Hidden::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".into()),
        )
        .unwrap();
        assert!(!hmac.is_ed25519());
    }

    #[test]
    fn the_stop_is_placed_to_close_the_position_by_our_id() {
        let order = NewOrder {
            client_id: ClientOrderId(77),
            symbol: SymbolId(0),
            side: Side::Sell,
            kind: OrderKind::StopMarket,
            reduce_only: true,
            post_only: false,
            price: Price::parse("59970.1").unwrap(),
            qty: Qty::parse("0.01").unwrap(),
        };
        let stamp = Stamp {
            timestamp_ms: 5,
            recv_window_ms: 5000,
        };
        let mut q = String::new();
        new_algo_query(&mut q, "BTCUSDT", &order, stamp);
        assert_eq!(
            q,
            "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=59970.1\
             &workingType=CONTRACT_PRICE&closePosition=true&clientAlgoId=ab77\
             &recvWindow=5000&timestamp=5"
        );
        algo_ref_query(&mut q, ClientOrderId(77), stamp);
        assert_eq!(q, "clientAlgoId=ab77&recvWindow=5000&timestamp=5");
        // The target, where it rests too; both at the algo endpoint.
        let take = NewOrder {
            kind: OrderKind::TakeProfitMarket,
            price: Price::parse("60048.1").unwrap(),
            ..order
        };
        new_order_query(&mut q, "BTCUSDT", &take, stamp);
        assert!(
            q.contains("&type=TAKE_PROFIT_MARKET&triggerPrice=60048.1&"),
            "{q}"
        );
        assert_eq!(order_endpoint(take.kind), ALGO_ORDER);
        assert_eq!(order_endpoint(OrderKind::Limit), "/fapi/v1/order");
    }
}
