//! `autobot download`: Binance's public data archive (data.binance.vision,
//! USD-M futures) into a directory with the archive's own layout, every
//! file checked against the archive's `.CHECKSUM` (SHA-256).
//!
//! # Layout
//! `data/futures/um/{daily|monthly}/{kind}/{SYMBOL}/[{interval}/]`
//! `{SYMBOL}-{kind or interval}-{YYYY-MM-DD | YYYY-MM}.zip`, and beside each
//! zip its `.zip.CHECKSUM` (`<sha256>  <name>`). The same relative paths
//! are written under `--out`, so a mirror and a download look alike and
//! `autobot import` takes the zips directly.
//!
//! # Invariants
//! - A zip is in place only when its SHA-256 matches the archive's
//!   checksum: it is downloaded to `NAME.partial` and renamed after the
//!   check. A mismatch deletes the partial and downloads again, up to
//!   `attempts` times, then fails that file by name.
//! - Resumable: a file already in place whose checksum still matches is
//!   skipped; a `.partial` left by an interrupted run is continued with an
//!   HTTP range request (or restarted when the server ignores ranges).
//! - A file the archive does not have (404: a day before the symbol was
//!   listed) is reported, not an error.
//! - At most `jobs` downloads at once.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::civil::Date;
use sha2::Digest as _;

/// Why a download could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// A data kind the archive does not have.
    #[error(
        "--kinds {0:?}: unknown; expected aggTrades, bookTicker, trades, klines:<interval>, \
         markPriceKlines:<interval>, fundingRate, bookDepth or metrics"
    )]
    Kind(String),
    /// A kline interval the archive does not have.
    #[error("--kinds {kind}: interval {interval:?} is not one of {INTERVALS:?}")]
    Interval {
        /// The kind.
        kind: String,
        /// The interval given.
        interval: String,
    },
    /// A date that is not `YYYY-MM-DD` (or `YYYY-MM`), or a range that
    /// ends before it starts.
    #[error("{0}")]
    Dates(String),
    /// Some files failed (each named).
    #[error("{} of {total} files failed:\n  {}", failed.len(), failed.join("\n  "))]
    Failed {
        /// Files asked for.
        total: usize,
        /// Each failure, one line.
        failed: Vec<String>,
    },
}

/// The kline intervals the archive holds.
pub const INTERVALS: [&str; 15] = [
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1mo",
];

/// Daily or monthly files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// One file per UTC day.
    Daily,
    /// One file per month.
    Monthly,
}

impl Period {
    fn dir(self) -> &'static str {
        match self {
            Period::Daily => "daily",
            Period::Monthly => "monthly",
        }
    }
}

/// A kind of data, as the archive names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    /// The archive's directory name (`aggTrades`, `klines`, …).
    pub name: &'static str,
    /// The interval of klines and mark-price klines.
    pub interval: Option<String>,
}

const KINDS: [&str; 8] = [
    "aggTrades",
    "bookTicker",
    "trades",
    "klines",
    "markPriceKlines",
    "fundingRate",
    "bookDepth",
    "metrics",
];

impl std::str::FromStr for Kind {
    type Err = DownloadError;

    fn from_str(s: &str) -> Result<Kind, DownloadError> {
        let (name, interval) = match s.split_once(':') {
            Some((n, i)) => (n, Some(i.to_string())),
            None => (s, None),
        };
        let name = KINDS
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(name))
            .ok_or_else(|| DownloadError::Kind(s.to_string()))?;
        let needs_interval = matches!(name, "klines" | "markPriceKlines");
        match (needs_interval, interval) {
            (true, Some(i)) if INTERVALS.contains(&i.as_str()) => Ok(Kind {
                name,
                interval: Some(i),
            }),
            (true, i) => Err(DownloadError::Interval {
                kind: name.to_string(),
                interval: i.unwrap_or_default(),
            }),
            (false, None) => Ok(Kind {
                name,
                interval: None,
            }),
            (false, Some(_)) => Err(DownloadError::Kind(s.to_string())),
        }
    }
}

impl Kind {
    /// The period the archive keeps this kind in, given the one asked
    /// for: funding rates are monthly only, book depth and metrics daily
    /// only.
    pub fn period(&self, asked: Period) -> Period {
        match self.name {
            "fundingRate" => Period::Monthly,
            "bookDepth" | "metrics" => Period::Daily,
            _ => asked,
        }
    }
}

/// One archive file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remote {
    /// Path under the base URL and under `--out`.
    pub path: String,
}

/// Every file of `symbols` × `kinds` from `from` to `to` (inclusive) in
/// `period` (a kind kept only in the other period uses that one).
pub fn plan(
    symbols: &[String],
    kinds: &[Kind],
    (from, to): (Date, Date),
    period: Period,
) -> Result<Vec<Remote>, DownloadError> {
    if to < from {
        return Err(DownloadError::Dates(format!(
            "--to {to} is before --from {from}"
        )));
    }
    let mut out = Vec::new();
    for symbol in symbols {
        let symbol = symbol.to_ascii_uppercase();
        for kind in kinds {
            let p = kind.period(period);
            let dir = match &kind.interval {
                Some(i) => format!("{}/{symbol}/{i}", kind.name),
                None => format!("{}/{symbol}", kind.name),
            };
            let label = kind.interval.as_deref().unwrap_or(kind.name);
            for stamp in stamps(from, to, p) {
                out.push(Remote {
                    path: format!(
                        "data/futures/um/{}/{dir}/{symbol}-{label}-{stamp}.zip",
                        p.dir()
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` of each day, or `YYYY-MM` of each month, in the range.
fn stamps(from: Date, to: Date, period: Period) -> Vec<String> {
    let mut out = Vec::new();
    match period {
        Period::Daily => {
            let mut d = from;
            while d <= to {
                out.push(d.strftime("%Y-%m-%d").to_string());
                match d.tomorrow() {
                    Ok(next) => d = next,
                    Err(_) => break,
                }
            }
        }
        Period::Monthly => {
            let (mut y, mut m) = (from.year(), from.month());
            while (y, m) <= (to.year(), to.month()) {
                out.push(format!("{y:04}-{m:02}"));
                (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            }
        }
    }
    out
}

/// A `--from`/`--to` date: `YYYY-MM-DD`, or `YYYY-MM` (its first day for
/// `--from`, its last for `--to`).
pub fn parse_date(s: &str, end: bool) -> Result<Date, DownloadError> {
    if let Ok(d) = s.parse::<Date>() {
        return Ok(d);
    }
    let month = format!("{s}-01").parse::<Date>().map_err(|_| {
        DownloadError::Dates(format!("{s:?} is not a date: give YYYY-MM-DD or YYYY-MM"))
    })?;
    Ok(if end { month.last_of_month() } else { month })
}

/// How a download went.
#[derive(Debug, Default)]
pub struct Summary {
    /// Downloaded and verified now.
    pub fetched: usize,
    /// Already in place and verified.
    pub present: usize,
    /// Not in the archive (404).
    pub absent: Vec<String>,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Checksum mismatches refused (each then retried).
    pub mismatches: usize,
    /// Downloads continued from a partial file.
    pub resumed: usize,
}

/// The settings of a download.
pub struct Settings {
    /// The archive's base URL (`https://data.binance.vision`).
    pub base_url: String,
    /// The local root.
    pub out: PathBuf,
    /// Downloads at once.
    pub jobs: usize,
    /// Tries per file on a checksum mismatch or a failed transfer.
    pub attempts: u32,
}

enum Got {
    Fetched {
        bytes: u64,
        resumed: bool,
        mismatches: usize,
    },
    Present,
    Absent,
}

/// Downloads `files`, `settings.jobs` at a time, with a progress bar on
/// stderr.
pub fn run(files: &[Remote], settings: &Settings) -> Result<Summary, DownloadError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_body(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into();
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} files {msg}",
    ) {
        bar.set_style(style);
    }
    let next = AtomicUsize::new(0);
    let summary = Mutex::new(Summary::default());
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..settings.jobs.clamp(1, files.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let got = fetch(&agent, f, settings);
                    let mut sum = summary
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    match got {
                        Ok(Got::Fetched {
                            bytes,
                            resumed,
                            mismatches,
                        }) => {
                            sum.fetched += 1;
                            sum.bytes += bytes;
                            sum.resumed += usize::from(resumed);
                            sum.mismatches += mismatches;
                        }
                        Ok(Got::Present) => sum.present += 1,
                        Ok(Got::Absent) => sum.absent.push(f.path.clone()),
                        Err(why) => {
                            failed
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(format!("{}: {why}", f.path));
                        }
                    }
                    bar.set_message(format!("{:.1} MB", sum.bytes as f64 / 1e6));
                    drop(sum);
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let mut failed = failed.into_inner().unwrap_or_default();
    if !failed.is_empty() {
        failed.sort();
        return Err(DownloadError::Failed {
            total: files.len(),
            failed,
        });
    }
    let mut sum = summary.into_inner().unwrap_or_default();
    sum.absent.sort();
    Ok(sum)
}

/// SHA-256 of a file, hex.
fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn get(
    agent: &ureq::Agent,
    url: &str,
    from: u64,
) -> Result<ureq::http::Response<ureq::Body>, String> {
    let mut req = agent.get(url);
    if from > 0 {
        req = req.header("Range", format!("bytes={from}-"));
    }
    req.call().map_err(|e| format!("GET {url}: {e}"))
}

/// One file: its checksum, then the zip (continued from a partial one),
/// verified, up to `attempts` times.
fn fetch(agent: &ureq::Agent, f: &Remote, s: &Settings) -> Result<Got, String> {
    let base = s.base_url.trim_end_matches('/');
    let dest = s.out.join(&f.path);
    let sum_path = PathBuf::from(format!("{}.CHECKSUM", dest.display()));
    let url = format!("{base}/{}", f.path);
    let mut resp = get(agent, &format!("{url}.CHECKSUM"), 0)?;
    match resp.status().as_u16() {
        200 => {}
        404 => return Ok(Got::Absent),
        c => return Err(format!("GET {url}.CHECKSUM: HTTP {c}")),
    }
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading {url}.CHECKSUM: {e}"))?;
    let want = text
        .split_whitespace()
        .next()
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| format!("{url}.CHECKSUM does not start with a SHA-256: {text:.80}"))?;
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    if dest.is_file() && sha256_of(&dest).is_ok_and(|h| h == want) {
        crate::whole::write(&sum_path, &text).map_err(|e| e.to_string())?;
        return Ok(Got::Present);
    }
    let partial = PathBuf::from(format!("{}.partial", dest.display()));
    let (mut bytes, mut mismatches, mut resumed) = (0u64, 0usize, false);
    let mut last = String::new();
    for _ in 0..s.attempts.max(1) {
        let have = std::fs::metadata(&partial).map_or(0, |m| m.len());
        match transfer(agent, &url, &partial, have) {
            Ok((n, continued)) => {
                bytes += n;
                resumed |= continued;
            }
            Err(why) => {
                last = why;
                continue;
            }
        }
        let got = sha256_of(&partial).map_err(|e| format!("reading {}: {e}", partial.display()))?;
        if got == want {
            std::fs::rename(&partial, &dest)
                .map_err(|e| format!("placing {}: {e}", dest.display()))?;
            crate::whole::write(&sum_path, &text).map_err(|e| e.to_string())?;
            return Ok(Got::Fetched {
                bytes,
                resumed,
                mismatches,
            });
        }
        mismatches += 1;
        last = format!("SHA-256 {got} does not match the archive's {want}");
        let _ = std::fs::remove_file(&partial);
    }
    Err(format!(
        "{last} (after {} attempts; nothing kept)",
        s.attempts.max(1)
    ))
}

/// Downloads `url` into `partial`, continuing from `have` bytes when the
/// server answers the range; the bytes received and whether it continued.
fn transfer(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    have: u64,
) -> Result<(u64, bool), String> {
    let mut resp = get(agent, url, have)?;
    let status = resp.status().as_u16();
    let continued = match status {
        206 if have > 0 => true,
        200 => false,
        // The partial is already whole (or longer): check it as it is.
        416 if have > 0 => return Ok((0, true)),
        c => return Err(format!("GET {url}: HTTP {c}")),
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(continued)
        .truncate(!continued)
        .open(partial)
        .map_err(|e| format!("writing {}: {e}", partial.display()))?;
    let mut body = resp.body_mut().with_config().limit(u64::MAX).reader();
    let n = std::io::copy(&mut body, &mut file).map_err(|e| format!("GET {url}: {e}"))?;
    file.flush()
        .map_err(|e| format!("writing {}: {e}", partial.display()))?;
    Ok((n, continued))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_their_intervals_and_refuse_the_rest() {
        let k: Kind = "klines:1m".parse().unwrap();
        assert_eq!((k.name, k.interval.as_deref()), ("klines", Some("1m")));
        assert_eq!("aggtrades".parse::<Kind>().unwrap().name, "aggTrades");
        for bad in ["klines", "klines:7m", "ticks", "aggTrades:1m"] {
            assert!(bad.parse::<Kind>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_plan_follows_the_archive_layout() {
        let kinds: Vec<Kind> = ["aggTrades", "klines:1h", "fundingRate"]
            .iter()
            .map(|k| k.parse().unwrap())
            .collect();
        let from = parse_date("2024-01-31", false).unwrap();
        let to = parse_date("2024-02-01", true).unwrap();
        let p = plan(&["btcusdt".into()], &kinds, (from, to), Period::Daily).unwrap();
        let paths: Vec<&str> = p.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-31.zip",
                "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-02-01.zip",
                "data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01-31.zip",
                "data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-02-01.zip",
                "data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.zip",
                "data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-02.zip",
            ]
        );
        assert_eq!(
            parse_date("2024-02", true).unwrap().to_string(),
            "2024-02-29"
        );
        assert!(parse_date("2024/02/01", false).is_err());
        assert!(plan(&["X".into()], &kinds, (to, from), Period::Daily).is_err());
    }
}
