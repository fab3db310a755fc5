//! The `wss://` path testnet and live take, on loopback: the simulator
//! serves its WebSocket port under TLS with a certificate signed by a CA
//! of the test's own, and the exchange clients trust exactly the roots
//! they are given (`[exchange] ca_file`, else the public web roots).
//! REST's `https://` is checked the same way, against the engine's own
//! HTTP server under TLS standing in for the exchange's time endpoint.
//! Real sockets, real rustls on both sides; the market gateway itself
//! runs over TLS in `gateway_alloc.rs`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use autobot_engine::config::presets;
use autobot_gateways::binance::market::MarketFeedConfig;
use autobot_gateways::binance::record::{RecordError, record};
use autobot_gateways::binance::rest::{RestClient, RestError};
use autobot_gateways::http::{Handled, Handler, Head, HttpServer, Response, TlsIdentity};
use autobot_gateways::sim::{SimConfig, SimExchange, SimSource};
use autobot_gateways::trust::{Trust, TrustError};
use autobot_test_support::Scratch;
use autobot_test_support::tls::Authority;

/// The simulator under TLS with an identity `ca` signed, replaying the
/// real BTCUSDT capture as fast as it is read.
fn tls_simulator(dir: &Path, ca: &Authority) -> SimExchange {
    let ins = autobot_engine::config::instruments(&[presets::btcusdt()]);
    let capture = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/ticks/btcusdt_20240808.gz"
    ));
    let mut cfg = SimConfig::loopback(SimSource::Capture(capture), ins.to_vec());
    cfg.speed = 0.0;
    let (cert, key) = ca.server(dir, "sim");
    cfg.tls = Some(TlsIdentity::load(&cert, &key).unwrap());
    SimExchange::start(cfg).unwrap()
}

fn feed(sim: &SimExchange, trust: Trust) -> MarketFeedConfig {
    MarketFeedConfig {
        trust,
        ..MarketFeedConfig::public(
            sim.ws_url(),
            sim.rest_url(),
            vec!["BTCUSDT".into()],
            vec!["bookTicker".into(), "aggTrade".into()],
        )
    }
}

/// Records `n` messages of `feed`, or the reason it could not connect.
fn record_some(feed: &MarketFeedConfig, out: &Path, n: u64) -> Result<u64, RecordError> {
    let stop = AtomicBool::new(false);
    record(feed, out, Some(Duration::from_secs(60)), Some(n), &stop).map(|s| s.messages)
}

#[test]
fn the_streams_are_read_over_wss_from_a_server_the_ca_file_vouches_for() {
    let scratch = Scratch::new("wss-trusted");
    let (ca, ca_file) = Authority::beside(scratch.path());
    let sim = tls_simulator(scratch.path(), &ca);
    assert!(
        sim.ws_url().starts_with("wss://127.0.0.1:"),
        "{}",
        sim.ws_url()
    );

    let trust = Trust::load(&ca_file).unwrap();
    assert_eq!(trust.ca_file(), Some(ca_file.as_path()));
    let out = scratch.join("capture.txt");
    assert_eq!(record_some(&feed(&sim, trust), &out, 200).unwrap(), 200);
    // Binance's recorded messages, whole, through TLS.
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 200);
    assert!(
        text.lines()
            .all(|l| l.contains(r#"{"stream":"btcusdt@"#) && l.ends_with('}')),
        "{}",
        text.lines().next().unwrap_or("")
    );
}

#[test]
fn a_server_the_roots_do_not_vouch_for_is_refused_by_name() {
    let scratch = Scratch::new("wss-untrusted");
    let ca = Authority::new("autobot test CA");
    let sim = tls_simulator(scratch.path(), &ca);
    let out = scratch.join("capture.txt");

    // The public web roots (the default) do not know the test's CA.
    let e = record_some(&feed(&sim, Trust::public()), &out, 10).unwrap_err();
    let RecordError::Connection(why) = &e else {
        panic!("{e}")
    };
    assert!(why.contains("invalid peer certificate"), "{why}");
    assert!(why.contains("UnknownIssuer"), "{why}");

    // Nor does another CA's file: a CA file replaces the roots.
    let other = Authority::new("another CA");
    let other_file = scratch.join("other.pem");
    other.write_ca(&other_file);
    let e = record_some(&feed(&sim, Trust::load(&other_file).unwrap()), &out, 10).unwrap_err();
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");

    // In the clear, a TLS port answers no WebSocket handshake.
    let plain = MarketFeedConfig {
        ws_url: sim.ws_url().replacen("wss://", "ws://", 1),
        ..feed(&sim, Trust::public())
    };
    assert!(record_some(&plain, &out, 10).is_err());
}

/// The exchange's server time, as `GET /fapi/v1/time` answers it.
struct Time;

impl Handler for Time {
    fn admit(&mut self, _head: &Head<'_>) -> Result<(), Response> {
        Ok(())
    }

    fn handle(&mut self, head: &Head<'_>, _body: &[u8]) -> Handled {
        Handled::Done(match head.path() {
            "/fapi/v1/time" => Response::text(200, r#"{"serverTime":1700000000000}"#),
            _ => Response::text(404, "{}"),
        })
    }
}

#[test]
fn rest_over_https_trusts_the_ca_file_and_nothing_else() {
    let scratch = Scratch::new("https-rest");
    let (ca, ca_file) = Authority::beside(scratch.path());
    let (cert, key) = ca.server(scratch.path(), "rest");
    let id = TlsIdentity::load(&cert, &key).unwrap();
    let server =
        HttpServer::start("127.0.0.1:0".parse().unwrap(), Some(id), "test-rest", Time).unwrap();
    let base = format!("https://127.0.0.1:{}", server.addr().port());
    let timeout = Duration::from_secs(10);

    let trust = Trust::load(&ca_file).unwrap();
    let mut rest = RestClient::with_trust(&base, timeout, &trust);
    let reply = rest.get("/fapi/v1/time", "").unwrap();
    assert_eq!(reply.body, br#"{"serverTime":1700000000000}"#);

    // The public roots (what `RestClient::new` trusts) refuse it, and say
    // why; the outcome of such a request is unknown to the caller.
    let e = RestClient::new(&base, timeout)
        .get("/fapi/v1/time", "")
        .unwrap_err();
    assert!(matches!(e, RestError::Transport { .. }), "{e}");
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");
}

#[test]
fn a_ca_file_is_refused_with_its_reason() {
    let scratch = Scratch::new("wss-ca-file");
    let dir = scratch.path();

    let missing = dir.join("none.pem");
    let e = Trust::load(&missing).unwrap_err();
    assert!(matches!(e, TrustError::Unreadable { .. }), "{e}");
    assert!(e.to_string().contains("none.pem"), "{e}");

    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let e = Trust::load(&junk).unwrap_err();
    assert!(matches!(e, TrustError::NotPem { .. }), "{e}");
    assert!(e.to_string().contains("no CERTIFICATE block"), "{e}");

    // A key where certificates belong: named as not certificates, and the
    // key's text stays out of the message.
    let ca = Authority::new("autobot test CA");
    let (_, key) = ca.server(dir, "server");
    let e = Trust::load(&key).unwrap_err();
    assert!(matches!(e, TrustError::NotPem { .. }), "{e}");
    let secret = std::fs::read_to_string(&key).unwrap();
    let body = secret.lines().nth(1).unwrap();
    assert!(!format!("{e} {e:?}").contains(body), "{e}");

    // A CERTIFICATE block whose bytes are no certificate.
    let torn = dir.join("torn.pem");
    std::fs::write(
        &torn,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = Trust::load(&torn).unwrap_err();
    assert!(matches!(e, TrustError::Rejected { index: 1, .. }), "{e}");

    assert_eq!(format!("{:?}", Trust::public()), "Trust(public roots)");
}
