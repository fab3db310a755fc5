//! A connection's bytes, plain or under TLS, for the one-thread server.
//!
//! # Why by hand around rustls
//! The server polls non-blocking sockets (mio); rustls's `StreamOwned`
//! assumes a blocking one (it loops until a write completes). So a
//! [`Wire`] moves ciphertext between the socket and the
//! `ServerConnection` itself, surfacing `WouldBlock` where the socket has
//! no room or nothing to read, and keeps plaintext the application wrote
//! as written only once rustls has taken it: [`Wire::flushed`] tells when
//! the last of it has reached the socket, so an answer is not cut off by
//! closing early.
//!
//! # Invariants
//! - A plain wire is the socket, unchanged.
//! - A TLS wire never hands the application plaintext before the handshake
//!   has finished (rustls's own guarantee) and sends `close_notify` before
//!   the socket is shut.

use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::ServerConnection;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// A server's TLS identity: its certificate chain and private key.
#[derive(Clone)]
pub struct TlsIdentity {
    config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of every log.
        f.write_str("TlsIdentity(..)")
    }
}

/// Why a TLS identity could not be loaded. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("TLS {what} {path}: {reason}", path = path.display())]
    Unreadable {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file can be read by others.
    #[error(
        "TLS key {path} has mode {mode:04o}: others can read it; run 'chmod 600 {path}'",
        path = path.display()
    )]
    SharedKey {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// No PEM item of the wanted kind in the file.
    #[error("TLS {what} {path}: {reason}", path = path.display())]
    NotPem {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// The certificate and key do not make a server identity.
    #[error("TLS certificate {cert} with key {key}: {reason}", cert = cert.display(), key = key.display())]
    Rejected {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        reason: String,
    },
}

impl TlsIdentity {
    /// Loads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1
    /// or SEC1). The key file must be readable by its owner only.
    pub fn load(cert: &Path, key: &Path) -> Result<TlsIdentity, TlsError> {
        let read = |what, path: &Path| {
            std::fs::read(path).map_err(|e| TlsError::Unreadable {
                what,
                path: path.to_path_buf(),
                reason: e.kind().to_string(),
            })
        };
        let meta = std::fs::metadata(key).map_err(|e| TlsError::Unreadable {
            what: "key",
            path: key.to_path_buf(),
            reason: e.kind().to_string(),
        })?;
        let mode = crate::os::permission_bits(&meta);
        if crate::os::shared(mode) {
            return Err(TlsError::SharedKey {
                path: key.to_path_buf(),
                mode,
            });
        }
        let not_pem = |what, path: &Path, reason: String| TlsError::NotPem {
            what,
            path: path.to_path_buf(),
            reason,
        };
        let chain = crate::trust::certificates_in(&read("certificate", cert)?)
            .map_err(|reason| not_pem("certificate", cert, reason))?;
        // rustls's PEM error names the section, never its bytes.
        let private = PrivateKeyDer::from_pem_slice(&read("key", key)?)
            .map_err(|e| not_pem("key", key, e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let rejected = |e: rustls::Error| TlsError::Rejected {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            reason: e.to_string(),
        };
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(rejected)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(rejected)?;
        Ok(TlsIdentity {
            config: Arc::new(config),
        })
    }

    /// The rustls server configuration (for a server other than
    /// [`super::HttpServer`]: the simulator's WebSocket port).
    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.config)
    }
}

/// One connection's transport.
pub(super) struct Wire {
    pub(super) socket: TcpStream,
    tls: Option<Box<ServerConnection>>,
}

impl Wire {
    /// A wire over `socket`, under TLS when `identity` is given.
    pub(super) fn new(socket: TcpStream, identity: Option<&TlsIdentity>) -> std::io::Result<Wire> {
        let tls = match identity {
            None => None,
            Some(id) => Some(Box::new(
                ServerConnection::new(Arc::clone(&id.config)).map_err(std::io::Error::other)?,
            )),
        };
        Ok(Wire { socket, tls })
    }

    /// Whether this wire is under TLS.
    pub(super) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Plaintext from the peer. `Ok(0)`: the peer closed; `WouldBlock`:
    /// nothing more for now.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(tls) = self.tls.as_mut() else {
            return self.socket.read(buf);
        };
        // Handshake bytes a full socket held back.
        match push(tls, &mut self.socket) {
            Err(e) if e.kind() != ErrorKind::WouldBlock => return Err(e),
            _ => {}
        }
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The peer went without close_notify: gone all the same.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if tls.read_tls(&mut self.socket)? == 0 {
                return Ok(0);
            }
            let processed = tls.process_new_packets();
            // Handshake messages, or the alert that explains a failure.
            let pushed = push(tls, &mut self.socket);
            processed.map_err(|e| std::io::Error::new(ErrorKind::InvalidData, e))?;
            match pushed {
                Err(e) if e.kind() != ErrorKind::WouldBlock => return Err(e),
                _ => {}
            }
        }
    }

    /// Writes plaintext: what it returns was taken (by the socket, or by
    /// rustls to be sent as the socket allows; see [`Wire::flushed`]).
    pub(super) fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(tls) = self.tls.as_mut() else {
            return self.socket.write(buf);
        };
        // Older bytes first; a full socket pushes back.
        push(tls, &mut self.socket)?;
        let n = tls.writer().write(buf)?;
        if n == 0 && !buf.is_empty() {
            // rustls's buffer is full until the socket drains.
            return Err(ErrorKind::WouldBlock.into());
        }
        match push(tls, &mut self.socket) {
            Err(e) if e.kind() != ErrorKind::WouldBlock => Err(e),
            _ => Ok(n),
        }
    }

    /// Whether everything written has reached the socket (`WouldBlock`
    /// while some waits for room).
    pub(super) fn flushed(&mut self) -> std::io::Result<()> {
        match self.tls.as_mut() {
            None => Ok(()),
            Some(tls) => push(tls, &mut self.socket),
        }
    }

    /// Ends the connection: `close_notify` (best effort) and shutdown.
    pub(super) fn shutdown(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
            let _ = push(tls, &mut self.socket);
        }
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}

/// Sends what rustls holds for the peer.
fn push(tls: &mut ServerConnection, socket: &mut TcpStream) -> std::io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(socket) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
