//! The market gateway's loop allocates nothing per WebSocket message
//! (issue 33): a counting global allocator watches the gateway's own
//! thread while it reads book tickers and aggregate trades of the seeded
//! synthetic market from the simulator over a loopback socket (Binance's
//! message shapes), parses them and publishes them into a
//! running pipeline (journal and core). tungstenite reuses its read buffer
//! (a frame is split off it and handed back when the message is dropped),
//! the gateway copies the text into its own receive buffer, and the parser
//! and the ring are allocation-free (`parse_alloc.rs`, `no_alloc.rs`).
//!
//! Under TLS rustls adds its own per-record buffer (the second test).
//!
//! The loop and its count: `support/gateway_loop.rs` (`make bench` runs
//! the same and prints the figures).

#[path = "support/gateway_loop.rs"]
mod gateway_loop;

use autobot_gateways::http::TlsIdentity;
use autobot_gateways::trust::Trust;
use autobot_test_support::Scratch;
use autobot_test_support::tls::Authority;
use gateway_loop::{Counted, WARM, count_the_gateway_loop};

#[global_allocator]
static GLOBAL: autobot_test_support::Counting = autobot_test_support::Counting;

/// Frames counted.
const COUNTED: u64 = 50_000;
/// Reallocations of the read buffer allowed over them (growth to a new
/// backlog high-water mark, never one per message).
const GROWTH: u64 = 8;

/// The checks both transports share: every counted frame a real message,
/// parsed and published, on one connection.
fn check_the_feed(c: &Counted) {
    let stats = &c.stats;
    assert_eq!(
        c.frames, COUNTED,
        "{}: the feed ended early: {stats:?}",
        c.ended
    );
    assert_eq!(stats.connects, 1, "{stats:?}");
    // Real messages, parsed and published (not refused or ignored).
    assert!(stats.events >= WARM + COUNTED, "{stats:?}");
    assert_eq!(stats.refused.iter().sum::<u64>(), 0, "{stats:?}");
}

#[test]
fn the_gateway_loop_allocates_nothing_per_message() {
    let c = count_the_gateway_loop(None, Trust::public(), COUNTED);
    check_the_feed(&c);
    // None per message. When the gateway falls behind the feed (a busy
    // machine), tungstenite's read buffer may grow to hold the backlog: a
    // reallocation at each new high-water mark, a handful at most.
    assert!(
        c.allocations <= GROWTH,
        "{} allocations on the gateway thread over {COUNTED} messages",
        c.allocations
    );
}

/// Over `wss://` (the simulator under TLS with a certificate of a CA the
/// gateway is given as its `ca_file`: the path testnet and live take) the
/// gateway's own loop is the one above, and rustls 0.23 adds about one
/// allocation per TLS record: each decrypted record's plaintext is copied
/// into a fresh `Vec` (`CommonState::take_received_plaintext`, the same in
/// its unbuffered API, where in-place decryption is still a TODO), and its
/// deframer buffer shrinks to 4 KiB whenever it empties and grows again.
/// The simulator writes a record per message, as Binance does. This pins
/// that cost — at most one and a tenth per message — so anything more
/// on the gateway thread fails here; docs/performance.md has the figure
/// and what would remove it (kernel TLS).
#[test]
fn over_tls_the_gateway_loop_allocates_only_rustlss_record_buffers() {
    let dir = Scratch::new("gateway-alloc-tls");
    let (ca, ca_file) = Authority::beside(dir.path());
    let (cert, key) = ca.server(dir.path(), "sim");
    let identity = TlsIdentity::load(&cert, &key).unwrap();
    let c = count_the_gateway_loop(Some(identity), Trust::load(&ca_file).unwrap(), COUNTED);
    check_the_feed(&c);
    let bound = COUNTED + COUNTED / 10 + GROWTH;
    assert!(
        c.allocations <= bound,
        "{} allocations on the gateway thread over {COUNTED} messages under TLS (bound {bound})",
        c.allocations
    );
}
