//! The simulator's accept loop: each WebSocket connection is taken (under
//! TLS when the simulator has an identity), handshaken, and handed by its
//! path to the market clients (`clients`) or to a user-data stream (a
//! live listen key). Blocking, on a thread of its own: the simulator is
//! not on the engine's hot path.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tungstenite::handshake::server::{ErrorResponse, Request, Response};

use super::stream::SimStream;
use super::{Shared, UserStream, clients, lock};

// tungstenite's handshake callback type fixes the size of its error.
#[allow(clippy::result_large_err)]
pub(super) fn accept(
    listener: &TcpListener,
    tls: Option<&Arc<rustls::ServerConfig>>,
    shared: &Shared,
) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let Ok(stream) = conn else { continue };
        let _ = stream.set_nodelay(true);
        // A client that stops reading is dropped rather than stalling all.
        let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let Ok(stream) = SimStream::new(stream, tls) else {
            continue;
        };
        let mut streams = None;
        let mut user = None;
        let live_key = |k: &str| lock(&shared.listen_keys).get(k).copied();
        let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let path = req.uri().path_and_query().map_or("", |p| p.as_str());
            if let Some(key) = path.strip_prefix("/ws/")
                && let Some(account) = live_key(key)
            {
                if shared.user_outage.load(Ordering::Acquire) {
                    let mut e = ErrorResponse::new(Some("the user-data stream is down".into()));
                    *e.status_mut() = tungstenite::http::StatusCode::SERVICE_UNAVAILABLE;
                    return Err(e);
                }
                user = Some((key.to_string(), account));
                return Ok(resp);
            }
            match clients::path_streams(path) {
                Some(s) => {
                    streams = Some(s);
                    Ok(resp)
                }
                None => {
                    let mut e = ErrorResponse::new(Some(
                        "expected /stream?streams=<stream>/…, /stream, /ws/<stream>/…, /ws or /ws/<listenKey>"
                            .into(),
                    ));
                    *e.status_mut() = tungstenite::http::StatusCode::NOT_FOUND;
                    Err(e)
                }
            }
        };
        let Ok(ws) = tungstenite::accept_hdr(stream, callback) else {
            continue;
        };
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        if let Some((key, account)) = user {
            lock(&shared.users).push(UserStream { key, account, ws });
            continue;
        }
        let Some((framing, streams)) = streams else {
            continue;
        };
        lock(&shared.clients).push(clients::Client::new(ws, streams, framing));
        shared.subscriptions.fetch_add(1, Ordering::AcqRel);
    }
}
