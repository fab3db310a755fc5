//! `autobot record`: live streams written in the capture format of
//! `../shared/data/ticks/` — one line per message, `<receive ns since the
//! Unix epoch> <the message exactly as received>` — so a user's own
//! captures replay through `autobot simexchange --capture` (and the
//! simulator endpoint of `autobot run`) the same way as the shipped ones.
//!
//! When the streams include a diff-depth stream, the REST depth snapshot
//! of each such symbol is fetched after its first diff and written as a
//! line of its own (no envelope, as in the shipped capture), so the
//! recording holds everything a book sync needs. `.gz` output is gzip.
//!
//! A lost connection ends the recording with an error (the lines written
//! so far are flushed and complete): a capture with a hole in it would
//! replay as a gap.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use autobot_engine::runtime::clock::unix_now;
use tungstenite::Message;

use super::market::{MarketFeedConfig, connect, is_tick};
use super::rest::RestClient;
use super::wire::stream_name;

/// Why recording stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The output could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// Connecting failed, or the connection was lost.
    #[error("{0}")]
    Connection(String),
}

/// What was recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Stream messages written.
    pub messages: u64,
    /// Snapshot lines written.
    pub snapshots: u64,
    /// Bytes of JSON written.
    pub bytes: u64,
    /// Connections lost and re-opened.
    pub reconnects: u64,
}

/// Records the streams of `feed` into `out` until `stop`, `duration` or
/// `max_messages`.
pub fn record(
    feed: &MarketFeedConfig,
    out: &Path,
    duration: Option<Duration>,
    max_messages: Option<u64>,
    stop: &AtomicBool,
) -> Result<RecordStats, RecordError> {
    let werr = |source| RecordError::Write {
        path: out.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(out).map_err(werr)?;
    let mut w = if out.extension().is_some_and(|e| e == "gz") {
        Output::Gz(Box::new(flate2::write::GzEncoder::new(
            std::io::BufWriter::new(file),
            flate2::Compression::fast(),
        )))
    } else {
        Output::Plain(std::io::BufWriter::new(file))
    };
    let mut ws = connect(feed).map_err(RecordError::Connection)?;
    let mut backoff = feed.backoff_min;
    let mut rest = RestClient::new(&feed.rest_url, Duration::from_secs(10));
    let depth: Vec<String> = feed
        .streams
        .iter()
        .filter(|s| s.starts_with("depth"))
        .flat_map(|s| {
            feed.symbols
                .iter()
                .map(move |sym| format!("{}@{s}", sym.to_ascii_lowercase()))
        })
        .collect();
    let mut snapshotted = vec![false; depth.len()];
    let mut stats = RecordStats::default();
    let began = Instant::now();
    let done = |stats: &RecordStats| {
        stop.load(Ordering::Acquire)
            || duration.is_some_and(|d| began.elapsed() >= d)
            || max_messages.is_some_and(|m| stats.messages >= m)
    };
    let result = loop {
        if done(&stats) {
            break Ok(());
        }
        let lost = match ws.read() {
            Ok(Message::Text(t)) => {
                backoff = feed.backoff_min;
                Ok(t)
            }
            Ok(Message::Close(_)) => Err("closed by the server".to_string()),
            Ok(_) => continue,
            Err(e) if is_tick(&e) => {
                let _ = ws.flush();
                continue;
            }
            Err(e) => Err(e.to_string()),
        };
        let text = match lost {
            Ok(t) => t,
            Err(why) => {
                // A recording outlives a dropped connection: reconnect
                // with backoff, and take a fresh snapshot after the next
                // diff of each book (the diffs missed meanwhile break the
                // chain, exactly as a replay will see it).
                eprintln!("record: connection lost ({why}); reconnecting");
                loop {
                    let until = Instant::now() + backoff;
                    while Instant::now() < until && !done(&stats) {
                        std::thread::sleep(Duration::from_millis(10).min(backoff));
                    }
                    if done(&stats) {
                        break;
                    }
                    match connect(feed) {
                        Ok(new) => {
                            ws = new;
                            stats.reconnects += 1;
                            snapshotted.fill(false);
                            break;
                        }
                        Err(e) => {
                            eprintln!("record: reconnect failed: {e}");
                            backoff = (backoff * 2).min(feed.backoff_max);
                        }
                    }
                }
                continue;
            }
        };
        let recv = unix_now().0;
        writeln!(w, "{recv} {}", text.as_str()).map_err(werr)?;
        stats.messages += 1;
        stats.bytes += text.len() as u64;
        // The snapshot follows the symbol's first diff, as the gateway does.
        if let Some(i) = stream_name(text.as_str()).and_then(|s| depth.iter().position(|d| d == s))
            && !snapshotted[i]
        {
            let sym = depth[i]
                .split('@')
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            match rest.depth(&sym, feed.depth_limit) {
                Ok(reply) => {
                    let body = String::from_utf8_lossy(&reply.body);
                    writeln!(w, "{} {}", unix_now().0, body.trim()).map_err(werr)?;
                    stats.snapshots += 1;
                    snapshotted[i] = true;
                }
                // Tried again at the symbol's next diff.
                Err(e) => eprintln!("record: depth snapshot of {sym} failed: {e}"),
            }
        }
    };
    let _ = ws.close(None);
    w.finish().map_err(werr)?;
    result.map(|()| stats)
}

/// The output file, plain or gzip (whose trailer must be written).
enum Output {
    Plain(std::io::BufWriter<std::fs::File>),
    Gz(Box<flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>>),
}

impl Output {
    fn finish(self) -> std::io::Result<()> {
        match self {
            Output::Plain(mut w) => w.flush(),
            Output::Gz(g) => g.finish()?.flush(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Plain(w) => w.write(buf),
            Output::Gz(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Gz(w) => w.flush(),
        }
    }
}
