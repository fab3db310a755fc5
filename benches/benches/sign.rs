//! Order signing and serialisation cost, one core: writing the query of
//! `POST /fapi/v1/order` into a reused buffer (decimals through
//! `fmt::Write`, no allocation), then HMAC-SHA256 over it with the keyed
//! state cloned per request (the secret is hashed once). Baseline in the
//! same process: the same query built with `format!` (a new String per
//! order) and a fresh HMAC keyed per request, as a naive client would.
//! The same query signed with an Ed25519 key (Binance's recommended key
//! type) is measured in the same rounds, against the HMAC figure.
//! Medians of 11 rounds of 100 000 orders.

use std::hint::black_box;
use std::time::Instant;

use autobot_benches::{median, pin};
use autobot_engine::event::{NewOrder, OrderKind};
use autobot_engine::types::{ClientOrderId, Price, Qty, Side, SymbolId};
use autobot_gateways::binance::sign::{Signer, Stamp, new_order_query};
use autobot_gateways::credentials::Hidden;
use hmac::{KeyInit, Mac};

const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
/// An Ed25519 private key (RFC 8032's first), PKCS#8 DER in base64.
const ED25519: &str = "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g";

fn order(i: u64) -> NewOrder {
    NewOrder {
        client_id: ClientOrderId(1_000_000 + i),
        symbol: SymbolId(0),
        side: if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        },
        kind: OrderKind::Limit,
        reduce_only: i.is_multiple_of(3),
        post_only: true,
        price: Price::from_raw(6_012_310_000_000 + (i as i64 % 100) * 10_000_000),
        qty: Qty::parse("0.002").unwrap_or(Qty::ZERO),
    }
}

fn main() {
    let placement = pin(1);
    let n = 100_000u64;
    let rounds = 11;
    let signer = Signer::from_parts(Hidden::new("key".into()), &Hidden::new(SECRET.into()));
    let ed = Signer::try_from_parts(Hidden::new("key".into()), &Hidden::new(ED25519.into()))
        .expect("a valid Ed25519 key");
    let mut q = String::with_capacity(512);
    let (mut ours, mut naive, mut eds) = (Vec::new(), Vec::new(), Vec::new());
    // ns per order of writing and signing `n` orders with `signer`.
    let mut timed = |signer: &Signer| {
        let t = Instant::now();
        for i in 0..n {
            let stamp = Stamp {
                timestamp_ms: 1_700_000_000_000 + i,
                recv_window_ms: 5000,
            };
            new_order_query(&mut q, "BTCUSDT", &order(i), stamp);
            signer.sign(&mut q);
            black_box(q.as_bytes());
        }
        t.elapsed().as_nanos() as f64 / n as f64
    };
    for _ in 0..rounds {
        eds.push(timed(&ed));
        ours.push(timed(&signer));

        let t = Instant::now();
        for i in 0..n {
            let o = order(i);
            let s = format!(
                "symbol=BTCUSDT&side={}&type=LIMIT&timeInForce=GTX&price={}&quantity={}{}&newClientOrderId=ab{}&newOrderRespType=ACK&recvWindow=5000&timestamp={}",
                if o.side == Side::Buy { "BUY" } else { "SELL" },
                o.price,
                o.qty,
                if o.reduce_only {
                    "&reduceOnly=true"
                } else {
                    ""
                },
                o.client_id.0,
                1_700_000_000_000 + i
            );
            let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes())
                .unwrap_or_else(|_| unreachable!());
            mac.update(s.as_bytes());
            let tag = mac.finalize().into_bytes();
            let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
            black_box(format!("{s}&signature={hex}"));
        }
        naive.push(t.elapsed().as_nanos() as f64 / n as f64);
    }
    let (a, b, e) = (median(&mut ours), median(&mut naive), median(&mut eds));
    println!(
        "sign: POST /fapi/v1/order query + HMAC-SHA256, one core ({placement}); medians of {rounds} rounds of {n}"
    );
    println!(
        "  reused buffer, keyed HMAC clone   {a:>8.0} ns/order  ({:.2} M orders/s)",
        1e3 / a
    );
    println!(
        "  format! + HMAC keyed per order    {b:>8.0} ns/order  ({:.2} M orders/s)",
        1e3 / b
    );
    println!("  ratio                             {:>8.2}x", b / a);
    println!(
        "  reused buffer, Ed25519            {e:>8.0} ns/order  ({:.2} M orders/s; {:.1}x the HMAC cost)",
        1e3 / e,
        e / a
    );
}
