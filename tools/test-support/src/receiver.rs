//! A local HTTP receiver on loopback for the notification tests: it
//! records every request (path and body) and answers each with the next
//! status of a script (then 200), like a webhook or the Telegram Bot API
//! that is up, failing, or (when not started yet) down.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Path and query.
    pub path: String,
    /// Body as text.
    pub body: String,
}

/// A running receiver.
pub struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on a free loopback port; answers the first requests with
    /// `statuses` in turn, the rest with 200.
    pub fn start(statuses: &[u16]) -> Receiver {
        Self::on(
            TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
            statuses,
        )
    }

    /// Listens on `addr` (a port chosen earlier, e.g. one that was down).
    pub fn start_at(addr: SocketAddr, statuses: &[u16]) -> Receiver {
        Self::on(TcpListener::bind(addr).expect("the port again"), statuses)
    }

    fn on(listener: TcpListener, statuses: &[u16]) -> Receiver {
        let addr = listener.local_addr().expect("its address");
        listener.set_nonblocking(true).expect("non-blocking");
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (g, s) = (Arc::clone(&got), Arc::clone(&stop));
        let mut script: std::collections::VecDeque<u16> = statuses.iter().copied().collect();
        let thread = std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let status = script.pop_front().unwrap_or(200);
                        serve(stream, status, &g);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => return,
                }
            }
        });
        Receiver {
            addr,
            got,
            stop,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().expect("not poisoned").clone()
    }

    /// Waits (polling) until `n` requests arrived, or `limit` passed.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let t = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || t.elapsed() > limit {
                return got;
            }
            std::thread::yield_now();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request, records it, then answers: recorded before the
/// answer, so a client that got its answer finds its request recorded.
fn serve(stream: std::net::TcpStream, status: u16, got: &Mutex<Vec<Received>>) -> Option<()> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let path = line.split(' ').nth(1)?.to_string();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body).ok()?;
    got.lock().expect("not poisoned").push(Received {
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{{\"ok\":true}}"
    );
    let mut stream = r.into_inner();
    stream.write_all(reply.as_bytes()).ok()
}
