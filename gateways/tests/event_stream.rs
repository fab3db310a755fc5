//! Server-sent event streams on the loopback server (what the dashboard's
//! live view rides on), over real sockets: a client that stops reading
//! holds one frame and is dropped after `STREAM_STALL`, while another
//! client keeps receiving frames and plain requests keep being answered
//! by the same thread. The frames here are large (256 KiB) so the stuck
//! client's socket buffers fill within a few frames.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use autobot_gateways::http::{Handled, Handler, Head, HttpServer, Response, STREAM_STALL};

#[derive(Default)]
struct Seen {
    frames: AtomicU64,
    closed: Mutex<Vec<u64>>,
    stalls: AtomicU64,
}

struct Frames {
    seen: Arc<Seen>,
    next: u64,
    big: String,
}

impl Handler for Frames {
    fn admit(&mut self, _head: &Head<'_>) -> Result<(), Response> {
        Ok(())
    }

    fn handle(&mut self, head: &Head<'_>, _body: &[u8]) -> Handled {
        if head.path() == "/events" {
            self.next += 1;
            return Handled::Stream(self.next);
        }
        Handled::Done(Response::text(200, "pong\n"))
    }

    fn stream(&mut self, ticket: u64) -> Option<String> {
        let n = self.seen.frames.fetch_add(1, Ordering::Relaxed);
        Some(format!("event: tick\ndata: {ticket} {n} {}\n\n", self.big))
    }

    fn stream_closed(&mut self, ticket: u64) {
        self.seen.closed.lock().unwrap().push(ticket);
    }

    fn refused(&mut self, status: u16, _why: &str) {
        if status == 408 {
            self.seen.stalls.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn open(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    s
}

fn wait(what: &str, limit: Duration, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn a_client_that_stops_reading_is_dropped_and_slows_no_one() {
    let seen = Arc::new(Seen::default());
    let handler = Frames {
        seen: Arc::clone(&seen),
        next: 0,
        big: "x".repeat(256 * 1024),
    };
    let server =
        HttpServer::start("127.0.0.1:0".parse().unwrap(), None, "test-sse", handler).unwrap();
    let addr = server.addr();

    // The stuck client: opens a stream and never reads.
    let stuck = open(addr);
    // The good client reads frames on its own thread.
    let good_frames = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&good_frames);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = Arc::clone(&done);
    let good = std::thread::spawn(move || {
        let mut r = BufReader::new(open(addr));
        let mut line = String::new();
        let mut head = String::new();
        // The head, then frames.
        while r.read_line(&mut head).unwrap() > 2 {
            if head.ends_with("\r\n\r\n") {
                break;
            }
        }
        assert!(head.contains("text/event-stream"), "{head}");
        while !stop.load(Ordering::Relaxed) {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if line.starts_with("event: tick") {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    // While the stuck client holds its stream, the good one keeps getting
    // frames and plain requests are answered.
    wait("frames to the good client", Duration::from_secs(60), || {
        good_frames.load(Ordering::Relaxed) >= 10
    });
    let mut ping = TcpStream::connect(addr).unwrap();
    ping.write_all(b"GET /ping HTTP/1.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    ping.read_to_string(&mut answer).unwrap();
    assert!(answer.ends_with("pong\n"), "{answer}");

    // The stuck client is dropped once its frame has not drained for the
    // stall time; its stream is closed, the good one is not and goes on.
    wait("the stuck client dropped", STREAM_STALL * 6, || {
        !seen.closed.lock().unwrap().is_empty()
    });
    assert_eq!(seen.stalls.load(Ordering::Relaxed), 1, "dropped as stalled");
    let closed = seen.closed.lock().unwrap().len();
    assert_eq!(closed, 1, "only the stuck stream ended");
    let before = good_frames.load(Ordering::Relaxed);
    wait(
        "more frames after the drop",
        Duration::from_secs(60),
        || good_frames.load(Ordering::Relaxed) >= before + 4,
    );
    done.store(true, Ordering::Relaxed);
    good.join().unwrap();
    // The dropped client's socket was closed by the server: reading it
    // ends (after whatever was buffered) rather than hanging.
    let mut stuck = stuck;
    stuck
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut sink = vec![0u8; 1 << 20];
    while let Ok(n) = stuck.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}
