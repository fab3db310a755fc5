//! The HTTP server under TLS (how the operator endpoint may listen off
//! loopback), over real sockets with a real rustls client that verifies
//! the certificate by name: a large answer arrives whole through the
//! non-blocking writes, an event stream flows, a request in the clear gets
//! no HTTP answer, and the server refuses to listen off loopback without
//! TLS. Loading an identity refuses a key others can read, a file that is
//! not PEM and a key that is not the certificate's, without echoing key
//! material.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use autobot_gateways::http::{
    Handled, Handler, Head, HttpServer, ListenError, Response, TlsError, TlsIdentity,
};
use autobot_test_support::Scratch;

/// 1 MiB: more than a socket buffer and rustls's, so writes block and
/// resume.
const BIG: usize = 1 << 20;

struct Pages;

impl Handler for Pages {
    fn admit(&mut self, _head: &Head<'_>) -> Result<(), Response> {
        Ok(())
    }

    fn handle(&mut self, head: &Head<'_>, _body: &[u8]) -> Handled {
        match head.path() {
            "/big" => Handled::Done(Response::text(200, "y".repeat(BIG))),
            "/events" => Handled::Stream(1),
            _ => Handled::Done(Response::text(200, format!("secure={}\n", head.secure))),
        }
    }

    fn stream(&mut self, _ticket: u64) -> Option<String> {
        Some("event: tick\ndata: 1\n\n".into())
    }
}

/// A self-signed certificate for `localhost` and its key, as files (the
/// key owner-only).
fn identity_files(dir: &Path, name: &str) -> (PathBuf, PathBuf, Vec<u8>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.key_pair.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cert, key, made.cert.der().to_vec())
}

use autobot_test_support::tls::client;

fn get(port: u16, cert: &[u8], path: &str) -> String {
    autobot_test_support::tls::request(
        port,
        cert,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    )
}

fn start(dir: &Path) -> (HttpServer, Vec<u8>) {
    let (cert, key, der) = identity_files(dir, "server");
    let id = TlsIdentity::load(&cert, &key).unwrap();
    // Every address: reachable from other hosts, so TLS is required.
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    (
        HttpServer::start(any, Some(id), "test-tls", Pages).unwrap(),
        der,
    )
}

#[test]
fn off_loopback_the_server_needs_tls() {
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let e = HttpServer::start(any, None, "test-plain", Pages).unwrap_err();
    assert!(matches!(e, ListenError::NotLoopback(_)), "{e}");
    assert!(e.to_string().contains("unless TLS is configured"), "{e}");
}

#[test]
fn an_https_client_is_answered_whole_and_a_plain_one_is_not_answered() {
    let scratch = Scratch::new("tls-serve");
    let (server, der) = start(scratch.path());
    let port = server.addr().port();

    let small = get(port, &der, "/");
    assert!(small.starts_with("HTTP/1.1 200 OK\r\n"), "{small}");
    assert!(small.ends_with("secure=true\n"), "{small}");

    // Written in pieces as the socket drains; none lost before the close.
    let big = get(port, &der, "/big");
    let body = big.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(body.len(), BIG);
    assert!(body.bytes().all(|b| b == b'y'));

    // An event stream under TLS.
    let mut tls = client(port, &der);
    tls.write_all(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(tls);
    let (mut line, mut ticks) = (String::new(), 0);
    while ticks < 3 {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "the stream ended");
        ticks += usize::from(line.starts_with("event: tick"));
    }
    drop(r);

    // In the clear: the server answers with a TLS alert at most, never
    // with HTTP, and keeps serving.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(
        !got.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(get(port, &der, "/").ends_with("secure=true\n"));

    // A client that trusts another certificate refuses this server.
    let (_, _, other) = identity_files(scratch.path(), "other");
    let mut wrong = client(port, &other);
    let e = wrong
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .and_then(|()| wrong.read_to_end(&mut Vec::new()))
        .unwrap_err();
    assert!(e.to_string().contains("invalid peer certificate"), "{e}");
}

#[test]
fn an_identity_is_refused_with_its_reason_and_without_key_material() {
    let scratch = Scratch::new("tls-load");
    let dir = scratch.path();
    let (cert, key, _) = identity_files(dir, "a");
    let secret = std::fs::read_to_string(&key).unwrap();
    let body_line = secret.lines().nth(1).unwrap().to_string();
    let no_secret = |e: &TlsError| {
        let text = format!("{e} {e:?}");
        assert!(!text.contains(&body_line), "{text}");
        text
    };

    // A key others can read.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = TlsIdentity::load(&cert, &key).unwrap_err();
    assert!(matches!(e, TlsError::SharedKey { mode: 0o644, .. }), "{e}");
    assert!(no_secret(&e).contains("chmod 600"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Not PEM.
    let junk = dir.join("junk.crt");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let e = TlsIdentity::load(&junk, &key).unwrap_err();
    assert!(
        matches!(
            e,
            TlsError::NotPem {
                what: "certificate",
                ..
            }
        ),
        "{e}"
    );
    no_secret(&e);

    // Another certificate's key.
    let (_, other_key, _) = identity_files(dir, "b");
    let e = TlsIdentity::load(&cert, &other_key).unwrap_err();
    assert!(matches!(e, TlsError::Rejected { .. }), "{e}");
    no_secret(&e);

    // Missing.
    let e = TlsIdentity::load(&dir.join("none.crt"), &key).unwrap_err();
    assert!(matches!(e, TlsError::Unreadable { .. }), "{e}");
    assert!(format!("{:?}", TlsIdentity::load(&cert, &key).unwrap()) == "TlsIdentity(..)");
}
