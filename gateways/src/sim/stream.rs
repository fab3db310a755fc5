//! The byte stream of a simulator WebSocket connection: plain TCP, or TLS
//! when the simulator is given an identity ([`super::SimConfig::tls`]), so
//! a client's `wss://` path, the one testnet and live use, runs end to end
//! on loopback against a certificate the test made.
//!
//! rustls's `StreamOwned` drives the handshake from the first read or
//! write; the socket's timeouts (and the non-blocking reads of
//! `clients::drain`) apply under TLS as on plain TCP, because every call
//! reaches the socket the same way.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// One accepted connection's byte stream.
pub(super) enum SimStream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl SimStream {
    /// `socket` as it is, or under TLS with `tls`.
    pub(super) fn new(
        socket: TcpStream,
        tls: Option<&Arc<ServerConfig>>,
    ) -> Result<SimStream, rustls::Error> {
        Ok(match tls {
            None => SimStream::Plain(socket),
            Some(config) => {
                let conn = ServerConnection::new(Arc::clone(config))?;
                SimStream::Tls(Box::new(StreamOwned::new(conn, socket)))
            }
        })
    }

    /// The TCP socket underneath.
    pub(super) fn tcp(&self) -> &TcpStream {
        match self {
            SimStream::Plain(s) => s,
            SimStream::Tls(s) => &s.sock,
        }
    }

    /// Reads that return `WouldBlock` instead of waiting (`true`), or wait.
    pub(super) fn set_nonblocking(&self, on: bool) -> std::io::Result<()> {
        self.tcp().set_nonblocking(on)
    }

    /// Ends the connection at once, both ways, without a close frame or a
    /// TLS `close_notify` (a connection that dies).
    pub(super) fn cut(&self) {
        let _ = self.tcp().shutdown(Shutdown::Both);
    }
}

impl Read for SimStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            SimStream::Plain(s) => s.read(buf),
            SimStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for SimStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            SimStream::Plain(s) => s.write(buf),
            SimStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            SimStream::Plain(s) => s.flush(),
            SimStream::Tls(s) => s.flush(),
        }
    }
}
