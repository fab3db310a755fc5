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

/// A certificate authority of the tests' own: what a TLS-inspecting proxy
/// hands its hosts as `ca_file`, here signing the simulator's identity.
pub struct Authority {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl Authority {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Authority {
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = rcgen::KeyPair::generate().expect("a CA key");
        let cert = params.self_signed(&key).expect("a self-signed CA");
        Authority { cert, key }
    }

    /// A fresh CA and its certificate written as `dir/ca.pem` (the
    /// `ca_file` that trusts it).
    pub fn beside(dir: &std::path::Path) -> (Authority, std::path::PathBuf) {
        let ca = Authority::new("autobot test CA");
        let file = dir.join("ca.pem");
        ca.write_ca(&file);
        (ca, file)
    }

    /// Writes the CA certificate (PEM) to `path`: a `ca_file`.
    pub fn write_ca(&self, path: &std::path::Path) {
        std::fs::write(path, self.cert.pem()).expect("the CA file is written");
    }

    /// A server identity for `127.0.0.1` and `localhost` signed by this CA,
    /// as `dir/<name>.crt` and an owner-only `dir/<name>.key`.
    pub fn server(
        &self,
        dir: &std::path::Path,
        name: &str,
    ) -> (std::path::PathBuf, std::path::PathBuf) {
        use std::os::unix::fs::PermissionsExt as _;
        let params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server parameters");
        let key = rcgen::KeyPair::generate().expect("a server key");
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a signed server certificate");
        let (crt, pem) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&crt, cert.pem()).expect("the certificate is written");
        std::fs::write(&pem, key.serialize_pem()).expect("the key is written");
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o600))
            .expect("the key is made owner-only");
        (crt, pem)
    }
}
