//! A TLS client for tests of an HTTPS endpoint: it trusts one certificate
//! as its only root and checks the name `localhost`, as a browser would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

/// A TLS stream to `127.0.0.1:port` that trusts only `cert` (DER) and
/// checks the name `localhost`.
pub fn client(port: u16, cert: &[u8]) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(cert.to_vec()))
        .expect("a DER certificate");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(cfg), "localhost".try_into().expect("a DNS name"))
            .expect("a client connection");
    let socket = TcpStream::connect(("127.0.0.1", port)).expect("the endpoint listens");
    rustls::StreamOwned::new(conn, socket)
}

/// Sends `request` over [`client`] and reads the whole answer.
pub fn request(port: u16, cert: &[u8], request: &str) -> String {
    let mut tls = client(port, cert);
    tls.write_all(request.as_bytes())
        .expect("the request is sent");
    let mut out = Vec::new();
    tls.read_to_end(&mut out).expect("the answer is read");
    String::from_utf8_lossy(&out).into_owned()
}
