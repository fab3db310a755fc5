//! An HTTP/1.1 endpoint on one thread that no client can starve: the
//! operator endpoint (`control`) and the metrics endpoint run on it. It
//! listens on loopback, or anywhere under TLS ([`TlsIdentity`], rustls).
//!
//! # Why by hand, on mio
//! The operator's kill switch must get through while anything else hangs
//! on the socket. A thread-per-connection server (tiny_http, which this
//! replaced) let one client that announced a 1 GB body and sent a byte a
//! second stall every request behind it, and 300 such clients made 300
//! threads. Here one thread polls every socket without blocking (mio), and:
//! - the request head is read first (at most [`MAX_HEAD`] bytes) and the
//!   handler decides from it (the token) before any body is read;
//! - a body larger than [`MAX_BODY`] is refused (413) unread;
//! - every request must arrive whole within [`REQUEST_DEADLINE`] (408);
//! - at most [`MAX_CONNECTIONS`] sockets are held; a new one evicts the
//!   oldest that has not sent a whole request, so a fresh client (`ctl
//!   kill`, which sends its request at once) is always served;
//! - an answer the handler must wait for (the core processing a command)
//!   waits in the poll loop, not in a thread.
//!
//! Responses close the connection (`Connection: close`): a handful of
//! requests from a local tool, so keep-alive buys nothing.
//!
//! # Event streams
//! A handler may answer with a stream of server-sent events
//! ([`Handled::Stream`]): every [`STREAM_EVERY`] the loop asks the handler
//! for the newest frame and writes what the socket takes. A frame is asked
//! for only once the last one is written, so a slow reader gets fewer,
//! newer frames (coalesced, never queued), and one whose frame has not
//! drained in [`STREAM_STALL`] is dropped: a stuck client holds one frame
//! of memory for a few seconds and slows no one. At most [`MAX_STREAMS`]
//! streams are held.
//!
//! # Invariants
//! - It listens on a loopback address, or under TLS; never in the clear
//!   on an address another host can reach.
//! - Stopping (or dropping) it wakes the loop and joins the thread, so what
//!   the handler owns (an input publisher) is gone once `stop` returns.

use std::io::{ErrorKind, Write};
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};

mod wire;
use wire::Wire;
pub use wire::{TlsError, TlsIdentity};

/// Largest request head (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;
/// Largest request body (commands carry their arguments in the query).
pub const MAX_BODY: usize = 4 * 1024;
/// A request must arrive whole within this.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(2);
/// Sockets held at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How often an answer that waits is asked again.
const WAIT_POLL: Duration = Duration::from_millis(1);
/// How often a stream is offered a new frame.
pub const STREAM_EVERY: Duration = Duration::from_millis(500);
/// A stream whose frame has not drained in this long is dropped.
pub const STREAM_STALL: Duration = Duration::from_secs(5);
/// Event streams a handler should hold at once (it counts them: it is
/// told of each that ends, [`Handler::stream_closed`]).
pub const MAX_STREAMS: usize = 16;

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX - 2);

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A non-loopback address without TLS.
    #[error("must listen on a loopback address, not {0}, unless TLS is configured")]
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

/// A request's head, as the handler sees it.
#[derive(Debug)]
pub struct Head<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path and query as sent (`/mode?to=manual`).
    pub target: &'a str,
    /// Whether it came under TLS (a cookie may then be `Secure`).
    pub secure: bool,
    headers: Vec<(&'a str, &'a str)>,
}

impl Head<'_> {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// A header's value (name compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// An answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
    /// More headers (`Set-Cookie`, `Location`, security headers).
    pub headers: Vec<(&'static str, String)>,
}

impl Response {
    /// An answer of `content_type`.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type,
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: String) -> Response {
        Response::new(status, "application/json", body)
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    /// The answer with one more header. A value with a line break is
    /// dropped rather than sent (no header injection).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        let value = value.into();
        if !value.contains(['\r', '\n']) {
            self.headers.push((name, value));
        }
        self
    }
}

/// What the handler does with a whole request.
#[derive(Debug)]
pub enum Handled {
    /// Answer now.
    Done(Response),
    /// Answer when [`Handler::poll`] says so for this ticket.
    Wait(u64),
    /// Answer with a stream of server-sent events, each frame from
    /// [`Handler::stream`] for this ticket.
    Stream(u64),
}

/// Answers requests. Runs on the endpoint's thread only.
pub trait Handler: Send + 'static {
    /// The head arrived: `Err` answers (and closes) before any body is read
    /// — the place to check a token.
    fn admit(&mut self, head: &Head<'_>) -> Result<(), Response>;
    /// The whole request.
    fn handle(&mut self, head: &Head<'_>, body: &[u8]) -> Handled;
    /// An answer that waits: `Some` once ready. Asked about every
    /// millisecond while any waits.
    fn poll(&mut self, _ticket: u64) -> Option<Response> {
        None
    }
    /// A request refused by the server itself (too large, too slow,
    /// malformed, evicted), for counting and logging.
    fn refused(&mut self, _status: u16, _why: &str) {}
    /// The next frame of a stream (`event: …\ndata: …\n\n` text); `None`
    /// ends it. Asked every [`STREAM_EVERY`] once the last frame is written.
    fn stream(&mut self, _ticket: u64) -> Option<String> {
        None
    }
    /// A stream ended (the client left, stalled, or `stream` said `None`).
    fn stream_closed(&mut self, _ticket: u64) {}
    /// Called on every turn of the loop (at least twice a second): time-
    /// driven work such as sampling.
    fn tick(&mut self) {}
}

enum Stage {
    /// Reading the head (and body), due by `opened + REQUEST_DEADLINE`.
    Reading,
    /// Waiting for the handler's answer.
    Waiting(u64),
    /// Writing the answer from `pos`.
    Writing(Vec<u8>, usize),
    /// Writing an event stream.
    Streaming(Stream),
}

/// An event stream's state: the frame being written and when to ask for
/// the next.
struct Stream {
    ticket: u64,
    out: Vec<u8>,
    pos: usize,
    next: Instant,
    /// When `out` was last empty (a stall is measured from here).
    drained: Instant,
}

const STREAM_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";

struct Conn {
    stream: Wire,
    /// Its slot, as registered with the poll.
    token: Token,
    buf: Vec<u8>,
    stage: Stage,
    opened: Instant,
}

/// A running endpoint; stopped on drop.
pub struct HttpServer {
    addr: SocketAddr,
    waker: std::sync::Arc<Waker>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// `None` once stopped.
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl HttpServer {
    /// Binds `listen` and serves `handler` on a thread named `thread`,
    /// under TLS when `tls` is given (required off loopback).
    pub fn start(
        listen: SocketAddr,
        tls: Option<TlsIdentity>,
        thread: &str,
        handler: impl Handler,
    ) -> Result<HttpServer, ListenError> {
        if !listen.ip().is_loopback() && tls.is_none() {
            return Err(ListenError::NotLoopback(listen));
        }
        let bind_err = |reason: String| ListenError::Bind {
            addr: listen,
            reason,
        };
        let mut listener = TcpListener::bind(listen).map_err(|e| bind_err(e.to_string()))?;
        let addr = listener.local_addr().map_err(|e| bind_err(e.to_string()))?;
        let poll = Poll::new().map_err(|e| bind_err(e.to_string()))?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .map_err(|e| bind_err(e.to_string()))?;
        let waker = std::sync::Arc::new(
            Waker::new(poll.registry(), WAKER).map_err(|e| bind_err(e.to_string()))?,
        );
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || serve(poll, listener, tls.as_ref(), handler, &flag))
            .map_err(|e| bind_err(e.to_string()))?;
        Ok(HttpServer {
            addr,
            waker,
            stop,
            thread: Some(thread),
        })
    }

    /// The bound address (the port when `listen` asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and waits for the thread (idempotent).
    pub fn stop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn encode(r: &Response) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    for (name, value) in &r.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(r.body.as_bytes());
    out
}

/// Where the head ends (after `\r\n\r\n`), if it has.
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn parse_head(bytes: &[u8]) -> Option<Head<'_>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split("\r\n");
    let mut request = lines.next()?.split(' ');
    let (method, target, version) = (request.next()?, request.next()?, request.next()?);
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return None;
    }
    let headers = lines
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_once(':').map(|(n, v)| (n.trim(), v.trim())))
        .collect::<Option<Vec<_>>>()?;
    Some(Head {
        secure: false,
        method,
        target,
        headers,
    })
}

/// What a connection's read came to.
enum Progress {
    /// Need more bytes.
    More,
    /// The peer closed or failed.
    Gone,
    /// Answer this (and close).
    Answer(Response),
    /// Wait for the handler.
    Wait(u64),
    /// Stream events.
    Stream(u64),
}

fn serve(
    mut poll: Poll,
    listener: TcpListener,
    tls: Option<&TlsIdentity>,
    mut handler: impl Handler,
    stop: &std::sync::atomic::AtomicBool,
) {
    let mut events = Events::with_capacity(256);
    let mut conns: Vec<Option<Conn>> = (0..MAX_CONNECTIONS).map(|_| None).collect();
    while !stop.load(std::sync::atomic::Ordering::Acquire) {
        let now = Instant::now();
        let waiting = conns
            .iter()
            .flatten()
            .any(|c| matches!(c.stage, Stage::Waiting(_)));
        let next_deadline = conns
            .iter()
            .flatten()
            .filter(|c| matches!(c.stage, Stage::Reading))
            .map(|c| (c.opened + REQUEST_DEADLINE).saturating_duration_since(now))
            .min();
        let next_frame = conns
            .iter()
            .flatten()
            .filter_map(|c| match &c.stage {
                Stage::Streaming(s) => Some(s.next.saturating_duration_since(now)),
                _ => None,
            })
            .min();
        let timeout = match (waiting, next_deadline) {
            (true, d) => Some(d.map_or(WAIT_POLL, |d| d.min(WAIT_POLL))),
            (false, d) => d.or(Some(Duration::from_millis(500))),
        };
        let timeout = match (timeout, next_frame) {
            (Some(t), Some(f)) => Some(t.min(f)),
            (t, f) => t.or(f),
        };
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        handler.tick();
        for ev in &events {
            match ev.token() {
                WAKER => {}
                LISTENER => accept(&poll, &listener, tls, &mut conns, &mut handler),
                Token(i) => {
                    if let Some(slot) = conns.get_mut(i) {
                        step(&poll, slot, &mut handler);
                    }
                }
            }
        }
        // Deadlines and answers that wait.
        let now = Instant::now();
        for slot in &mut conns {
            let Some(c) = slot else { continue };
            match c.stage {
                Stage::Reading if now >= c.opened + REQUEST_DEADLINE => {
                    handler.refused(408, "the request did not arrive in time");
                    answer(&poll, slot, &Response::text(408, "request timeout\n"));
                }
                Stage::Waiting(ticket) => {
                    if let Some(r) = handler.poll(ticket) {
                        answer(&poll, slot, &r);
                    }
                }
                Stage::Streaming(_) => stream(&poll, slot, &mut handler, now),
                _ => {}
            }
        }
    }
    // Streams end with the server.
    for slot in &mut conns {
        if let Some(Conn {
            stage: Stage::Streaming(s),
            ..
        }) = slot
        {
            handler.stream_closed(s.ticket);
        }
    }
}

/// Writes what a stream's socket takes; asks for the next frame when the
/// last is written and its time has come; drops a stalled client.
fn stream(poll: &Poll, slot: &mut Option<Conn>, handler: &mut impl Handler, now: Instant) {
    let Some(Conn {
        stream: socket,
        stage: Stage::Streaming(s),
        ..
    }) = slot
    else {
        return;
    };
    let mut gone = false;
    while s.pos < s.out.len() {
        match socket.write(&s.out[s.pos..]) {
            Ok(0) => {
                gone = true;
                break;
            }
            Ok(n) => s.pos += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => {
                gone = true;
                break;
            }
        }
    }
    // Under TLS, written means taken by rustls: drained once sent on.
    let sent = s.pos == s.out.len()
        && match socket.flushed() {
            Ok(()) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(_) => {
                gone = true;
                false
            }
        };
    if sent {
        s.drained = now;
        if now >= s.next {
            s.next = now + STREAM_EVERY;
            match handler.stream(s.ticket) {
                Some(frame) => {
                    s.out.clear();
                    s.out.extend_from_slice(frame.as_bytes());
                    s.pos = 0;
                }
                None => gone = true,
            }
        }
    } else if now.saturating_duration_since(s.drained) >= STREAM_STALL {
        handler.refused(408, "an event stream's reader stalled");
        gone = true;
    }
    if gone {
        let ticket = s.ticket;
        close(poll, slot);
        handler.stream_closed(ticket);
    }
}

fn accept(
    poll: &Poll,
    listener: &TcpListener,
    tls: Option<&TlsIdentity>,
    conns: &mut [Option<Conn>],
    handler: &mut impl Handler,
) {
    loop {
        let (socket, _) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let free = conns.iter().position(Option::is_none).or_else(|| {
            // Full: the oldest socket that has not sent a whole request
            // makes room. Whoever holds a slot without asking anything is
            // the one to go; a client that asks at once always gets in.
            let victim = conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
                .filter(|(_, c)| matches!(c.stage, Stage::Reading))
                .min_by_key(|(_, c)| c.opened)
                .map(|(i, _)| i)?;
            if let Some(mut old) = conns[victim].take() {
                let _ = poll.registry().deregister(&mut old.stream.socket);
                handler.refused(503, "evicted to make room for a new connection");
            }
            Some(victim)
        });
        let Some(i) = free else {
            // Every slot is answering or waiting for the core: refuse.
            handler.refused(503, "too many connections");
            if tls.is_none() {
                // Under TLS there is no one to say it to before a handshake.
                let mut socket = socket;
                let _ = socket.write(&encode(&Response::text(503, "busy\n")));
            }
            continue;
        };
        let Ok(mut stream) = Wire::new(socket, tls) else {
            continue;
        };
        // A TLS handshake writes as it reads: wake on room to write too.
        let interest = if stream.is_tls() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if poll
            .registry()
            .register(&mut stream.socket, Token(i), interest)
            .is_err()
        {
            continue;
        }
        conns[i] = Some(Conn {
            stream,
            token: Token(i),
            buf: Vec::with_capacity(1024),
            stage: Stage::Reading,
            opened: Instant::now(),
        });
        // A client that sent its request with the handshake is read now.
        step(poll, &mut conns[i], handler);
    }
}

/// Reads and writes what the socket allows.
fn step(poll: &Poll, slot: &mut Option<Conn>, handler: &mut impl Handler) {
    let Some(c) = slot else { return };
    match &mut c.stage {
        Stage::Reading => match read(c, handler) {
            Progress::More => {}
            Progress::Gone => close(poll, slot),
            Progress::Answer(r) => answer(poll, slot, &r),
            Progress::Wait(ticket) => c.stage = Stage::Waiting(ticket),
            Progress::Stream(ticket) => start_stream(poll, slot, handler, ticket),
        },
        Stage::Waiting(_) => {
            // Bytes after the request, or the peer left: nothing to do
            // until the answer, unless the socket is gone.
            let mut scratch = [0u8; 256];
            if matches!(c.stream.read(&mut scratch), Ok(0)) {
                close(poll, slot);
            }
        }
        Stage::Writing(..) => flush(poll, slot),
        Stage::Streaming(s) => {
            // Anything the client sends is ignored; a close ends it.
            let ticket = s.ticket;
            let mut scratch = [0u8; 256];
            match c.stream.read(&mut scratch) {
                Ok(0) => {
                    close(poll, slot);
                    handler.stream_closed(ticket);
                }
                _ => stream(poll, slot, handler, Instant::now()),
            }
        }
    }
}

/// Turns a connection into an event stream.
fn start_stream(poll: &Poll, slot: &mut Option<Conn>, handler: &mut impl Handler, ticket: u64) {
    let Some(c) = slot else { return };
    let now = Instant::now();
    c.stage = Stage::Streaming(Stream {
        ticket,
        out: STREAM_HEAD.to_vec(),
        pos: 0,
        next: now,
        drained: now,
    });
    let _ = poll.registry().reregister(
        &mut c.stream.socket,
        c.token,
        Interest::READABLE | Interest::WRITABLE,
    );
    stream(poll, slot, handler, now);
}

fn read(c: &mut Conn, handler: &mut impl Handler) -> Progress {
    let mut chunk = [0u8; 2048];
    loop {
        match c.stream.read(&mut chunk) {
            Ok(0) => return Progress::Gone,
            Ok(n) => {
                c.buf.extend_from_slice(&chunk[..n]);
                if c.buf.len() > MAX_HEAD + MAX_BODY {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Progress::Gone,
        }
    }
    let Some(end) = head_end(&c.buf) else {
        if c.buf.len() > MAX_HEAD {
            handler.refused(431, "request head too large");
            return Progress::Answer(Response::text(431, "request head too large\n"));
        }
        return Progress::More;
    };
    let Some(mut head) = parse_head(&c.buf[..end]) else {
        handler.refused(400, "malformed request");
        return Progress::Answer(Response::text(400, "malformed request\n"));
    };
    head.secure = c.stream.is_tls();
    // The token (or whatever the handler checks) before any body.
    if let Err(r) = handler.admit(&head) {
        return Progress::Answer(r);
    }
    if head.header("Transfer-Encoding").is_some() {
        handler.refused(411, "chunked body");
        return Progress::Answer(Response::text(411, "send Content-Length\n"));
    }
    let length = match head.header("Content-Length").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            handler.refused(400, "bad Content-Length");
            return Progress::Answer(Response::text(400, "bad Content-Length\n"));
        }
    };
    if length > MAX_BODY {
        handler.refused(413, "body too large");
        return Progress::Answer(Response::text(
            413,
            format!("a body of at most {MAX_BODY} bytes\n"),
        ));
    }
    if c.buf.len() < end + length {
        return Progress::More;
    }
    match handler.handle(&head, &c.buf[end..end + length]) {
        Handled::Done(r) => Progress::Answer(r),
        Handled::Wait(t) => Progress::Wait(t),
        Handled::Stream(t) => Progress::Stream(t),
    }
}

fn answer(poll: &Poll, slot: &mut Option<Conn>, r: &Response) {
    let Some(c) = slot else { return };
    c.stage = Stage::Writing(encode(r), 0);
    let _ = poll
        .registry()
        .reregister(&mut c.stream.socket, c.token, Interest::WRITABLE);
    flush(poll, slot);
}

fn flush(poll: &Poll, slot: &mut Option<Conn>) {
    let Some(c) = slot else { return };
    let Stage::Writing(out, pos) = &mut c.stage else {
        return;
    };
    while *pos < out.len() {
        match c.stream.write(&out[*pos..]) {
            Ok(0) => break,
            Ok(n) => *pos += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if *pos == out.len()
        && matches!(c.stream.flushed(), Err(e) if e.kind() == ErrorKind::WouldBlock)
    {
        // Still in rustls's buffer: the rest when the socket has room.
        return;
    }
    close(poll, slot);
}

fn close(poll: &Poll, slot: &mut Option<Conn>) {
    if let Some(mut c) = slot.take() {
        let _ = poll.registry().deregister(&mut c.stream.socket);
        c.stream.shutdown();
    }
}
