//! The operator endpoint under HTTPS: loading the run's certificate and
//! key, and `autobot ctl`'s requests to it.
//!
//! # Why ctl pins the certificate instead of checking a name
//! `ctl` runs beside the run and reads the run's own certificate from the
//! run directory (`control.cert`, written while the endpoint is up), then
//! accepts exactly that certificate, whoever signed it: a self-signed one
//! works, and no name has to match the address in `control.addr` (often
//! `0.0.0.0`). The handshake's signature is still verified with rustls's
//! own algorithms, so only the holder of the key can answer. ureq's TLS
//! settings take root certificates but not a verifier, hence this small
//! client on rustls.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use autobot_gateways::http::{TlsError, TlsIdentity};

use crate::config::AppConfig;

/// File in the run directory with the endpoint's certificate (PEM), while
/// it serves HTTPS.
pub const CERT_FILE: &str = "control.cert";

/// The endpoint's TLS identity, when `[operator]` configures HTTPS.
pub(crate) fn identity(cfg: &AppConfig) -> Result<Option<TlsIdentity>, TlsError> {
    cfg.operator
        .tls_files()
        .map(|(cert, key)| TlsIdentity::load(&cert, &key))
        .transpose()
}

/// Accepts one certificate, byte for byte.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The first certificate in a PEM file.
pub(crate) fn read_cert(path: &Path) -> Result<CertificateDer<'static>, String> {
    let pem = std::fs::read(path).map_err(|e| e.kind().to_string())?;
    CertificateDer::pem_slice_iter(&pem)
        .next()
        .ok_or_else(|| "no CERTIFICATE block in it".to_string())?
        .map_err(|e| e.to_string())
}

/// Where to connect for an endpoint listening on `addr` (`0.0.0.0`
/// listens on loopback too).
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// One request over HTTPS to an endpoint presenting `cert`: the status and
/// the body.
pub(crate) fn request(
    addr: SocketAddr,
    cert: &CertificateDer<'static>,
    (method, path_and_query): (&str, &str),
    authorization: &str,
) -> Result<(u16, String), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(Pinned {
        cert: cert.clone(),
        provider: Arc::clone(&provider),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let to = reachable(addr);
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::IpAddress(to.ip().into()))
            .map_err(|e| e.to_string())?;
    let socket =
        TcpStream::connect_timeout(&to, Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let io = |e: std::io::Error| e.to_string();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    socket
        .set_write_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    let mut tls = rustls::StreamOwned::new(conn, socket);
    write!(
        tls,
        "{method} {path_and_query} HTTP/1.1\r\nHost: {to}\r\nAuthorization: {authorization}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    tls.flush().map_err(io)?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // The answer is whole (Content-Length) even if the close was not.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "the answer has no HTTP head".to_string())?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP status line: {:?}", head.lines().next()))?;
    Ok((status, body.to_string()))
}
