//! A loopback-only HTTP endpoint answered on a thread of its own: the
//! operator endpoint (`control`) and the metrics endpoint run on it.
//!
//! # Why tiny_http
//! A handful of requests from one local client: one thread, one request
//! at a time, no async runtime. `unblock` lets the run stop it promptly.
//!
//! # Invariants
//! - It listens only on a loopback address.
//! - Stopping (or dropping) it unblocks the accept loop and joins the
//!   thread, so whatever the handler owns (an input publisher) is gone
//!   once `stop` returns.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Only loopback addresses are allowed.
    #[error("must listen on a loopback address, not {0}")]
    NotLoopback(SocketAddr),
    /// The address could not be bound, or the thread not started.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// A running endpoint; stopped on drop.
pub struct LoopbackServer {
    addr: SocketAddr,
    server: Arc<tiny_http::Server>,
    /// `None` once stopped.
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LoopbackServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LoopbackServer {
    /// Binds `listen` and answers each request with `answer` on a thread
    /// named `thread`.
    pub fn start(
        listen: SocketAddr,
        thread: &str,
        mut answer: impl FnMut(tiny_http::Request) + Send + 'static,
    ) -> Result<LoopbackServer, ListenError> {
        if !listen.ip().is_loopback() {
            return Err(ListenError::NotLoopback(listen));
        }
        let bind_err = |reason: String| ListenError::Bind {
            addr: listen,
            reason,
        };
        let server = tiny_http::Server::http(listen).map_err(|e| bind_err(e.to_string()))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| bind_err("not an IP listener".into()))?;
        let server = Arc::new(server);
        let s = Arc::clone(&server);
        let thread = std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || {
                for rq in s.incoming_requests() {
                    answer(rq);
                }
            })
            .map_err(|e| bind_err(e.to_string()))?;
        Ok(LoopbackServer {
            addr,
            server,
            thread: Some(thread),
        })
    }

    /// The bound address (the port when `listen` asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and waits for the thread (idempotent).
    pub fn stop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop();
    }
}
