//! Which servers the exchange clients believe: the WebSocket streams
//! (market and user data) and REST. By default the public web roots
//! (Mozilla's, built in through `webpki-roots`), which is what Binance's
//! certificates chain to. `[exchange] ca_file` replaces them with the CA
//! certificates of one PEM file: a TLS-inspecting proxy between the host
//! and the exchange, or the simulator under TLS in tests (the `wss://`
//! and `https://` paths testnet and live take, run on loopback).
//!
//! Replacing, not adding: with a CA file the clients trust that file
//! alone, so a proxy's CA never widens the set of servers trusted for
//! everything else, and what is trusted is one file a reader can check.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The roots the clients trust (cheap to clone).
#[derive(Clone, Default)]
pub struct Trust {
    file: Option<Arc<CaFile>>,
}

/// A loaded CA file.
struct CaFile {
    path: PathBuf,
    certs: Vec<CertificateDer<'static>>,
    client: Arc<rustls::ClientConfig>,
}

/// Why a CA file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// It cannot be read.
    #[error("cannot read the CA file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The read error.
        source: std::io::Error,
    },
    /// It is not PEM, or holds no certificate.
    #[error("the CA file {path} is not PEM CA certificates: {reason}")]
    NotPem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A certificate in it is not a usable trust anchor.
    #[error("the CA file {path}: certificate {index} cannot be a root: {reason}")]
    Rejected {
        /// The file.
        path: PathBuf,
        /// 1-based, in file order (0: the file as a whole).
        index: usize,
        /// What rustls said.
        reason: String,
    },
}

impl Trust {
    /// The public web roots (the default).
    pub fn public() -> Trust {
        Trust::default()
    }

    /// The CA certificates of the PEM file `path`, and no other root.
    pub fn load(path: &Path) -> Result<Trust, TrustError> {
        let text = std::fs::read(path).map_err(|source| TrustError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let certs = certificates_in(&text).map_err(|reason| TrustError::NotPem {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            roots.add(cert.clone()).map_err(|e| TrustError::Rejected {
                path: path.to_path_buf(),
                index: i + 1,
                reason: e.to_string(),
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TrustError::Rejected {
                path: path.to_path_buf(),
                index: 0,
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Trust {
            file: Some(Arc::new(CaFile {
                path: path.to_path_buf(),
                certs,
                client: Arc::new(client),
            })),
        })
    }

    /// The CA file trusted instead of the public roots, if any.
    pub fn ca_file(&self) -> Option<&Path> {
        self.file.as_deref().map(|f| f.path.as_path())
    }

    /// What tungstenite connects `wss://` with (`None`: its own
    /// configuration over the public roots).
    pub(crate) fn ws_connector(&self) -> Option<tungstenite::Connector> {
        let f = self.file.as_deref()?;
        Some(tungstenite::Connector::Rustls(Arc::clone(&f.client)))
    }

    /// What ureq connects `https://` with.
    pub(crate) fn rest_tls(&self) -> ureq::tls::TlsConfig {
        let builder = ureq::tls::TlsConfig::builder();
        match self.file.as_deref() {
            None => builder.build(),
            Some(f) => {
                let certs: Vec<ureq::tls::Certificate<'static>> = f
                    .certs
                    .iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                builder
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build()
            }
        }
    }
}

/// The certificates of a PEM text, in order; why not, when it holds none
/// or a block that does not decode (rustls's PEM error names the section,
/// never its bytes). Shared with the server identity
/// ([`crate::http::TlsIdentity`]).
pub(crate) fn certificates_in(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block in it".into());
    }
    Ok(certs)
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ca_file() {
            None => f.write_str("Trust(public roots)"),
            Some(p) => write!(f, "Trust(CA file {})", p.display()),
        }
    }
}
