//! The live path's allocations (issue 33): the market gateway's own thread
//! reading the seeded synthetic market from the simulator on loopback,
//! parsing it and publishing into a running pipeline, with a counting
//! allocator — over `ws://` (the gateway's own loop: the baseline) and over
//! `wss://` (the same loop with rustls under it, as testnet and live run),
//! the simulator's certificate signed by a CA made here and given to the
//! gateway as its CA file. The loop is the one
//! `gateways/tests/gateway_alloc.rs` proves; this prints the figures and
//! the target line. docs/performance.md says where the TLS ones come from.

#[path = "../../gateways/tests/support/gateway_loop.rs"]
mod gateway_loop;

use autobot_gateways::http::TlsIdentity;
use autobot_gateways::trust::Trust;
use autobot_test_support::Scratch;
use autobot_test_support::tls::Authority;
use gateway_loop::{Counted, WARM, count_the_gateway_loop};

#[global_allocator]
static GLOBAL: autobot_test_support::Counting = autobot_test_support::Counting;

/// Messages counted on each transport.
const COUNTED: u64 = 50_000;
/// Reallocations that are not per message: the read buffer growing to a
/// new backlog high-water mark when the gateway falls behind.
const GROWTH: u64 = 8;

#[allow(clippy::cast_precision_loss)]
fn per_message(c: &Counted) -> f64 {
    if c.frames == 0 {
        f64::NAN
    } else {
        c.allocations as f64 / c.frames as f64
    }
}

fn report(name: &str, c: &Counted) {
    let ended = if c.frames == COUNTED {
        String::new()
    } else {
        format!(
            " — the feed ended after {} messages ({}; {:?})",
            c.frames, c.ended, c.stats
        )
    };
    println!(
        "  {name:<7} {:>7} allocations, {:.4} per message{ended}",
        c.allocations,
        per_message(c)
    );
}

fn main() {
    println!(
        "gateway thread allocations over {COUNTED} WebSocket messages (after {WARM} warm-up), \
         simulator on loopback"
    );
    let plain = count_the_gateway_loop(None, Trust::public(), COUNTED);
    report("ws://", &plain);
    let dir = Scratch::new("bench-gateway-alloc");
    let (ca, ca_file) = Authority::beside(dir.path());
    let (cert, key) = ca.server(dir.path(), "sim");
    let identity = TlsIdentity::load(&cert, &key).expect("the simulator's identity loads");
    let trust = Trust::load(&ca_file).expect("the CA file loads");
    let tls = count_the_gateway_loop(Some(identity), trust, COUNTED);
    report("wss://", &tls);
    let none = |c: &Counted| c.frames == COUNTED && c.allocations <= GROWTH;
    println!(
        "  target: no allocation per WebSocket message (at most {GROWTH} buffer growths in all): \
         ws:// {}, wss:// {} — {}",
        plain.allocations,
        tls.allocations,
        if none(&plain) && none(&tls) {
            "met"
        } else {
            "NOT met"
        }
    );
}
