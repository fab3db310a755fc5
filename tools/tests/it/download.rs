//! `autobot download` against a local archive on loopback that serves
//! data.binance.vision's layout (zips and their `.CHECKSUM`s, HTTP ranges):
//! a full range, a day the archive lacks, a file served damaged once
//! (refused, fetched again), a file resumed from an interrupted download,
//! a file whose checksum never matches (refused by name, nothing kept),
//! and what it fetched imports.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use autobot_test_support::Scratch;
use sha2::Digest as _;

use crate::common::{autobot, ok, text};

/// What the archive holds and how it misbehaves.
#[derive(Default)]
struct Archive {
    files: BTreeMap<String, Vec<u8>>,
    /// Paths served with a flipped byte this many more times.
    damaged: BTreeMap<String, u32>,
    /// Every request: path and Range header.
    seen: Vec<(String, Option<String>)>,
}

fn zip_of(name: &str, csv: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(csv.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Archive {
    /// Adds a zip and its `.CHECKSUM` (of `checksum_of`, normally itself).
    fn add(&mut self, path: &str, zip: Vec<u8>, checksum_of: Option<&[u8]>) {
        let name = path.rsplit('/').next().unwrap();
        let sum = hex(checksum_of.unwrap_or(&zip));
        self.files.insert(
            format!("{path}.CHECKSUM"),
            format!("{sum}  {name}\n").into_bytes(),
        );
        self.files.insert(path.to_string(), zip);
    }
}

/// Serves `archive` on 127.0.0.1 until the test ends; its base URL.
fn serve(archive: Arc<Mutex<Archive>>) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for req in server.incoming_requests() {
            let path = req.url().trim_start_matches('/').to_string();
            let range = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("Range"))
                .map(|h| h.value.to_string());
            let mut a = archive.lock().unwrap();
            a.seen.push((path.clone(), range.clone()));
            let Some(mut body) = a.files.get(&path).cloned() else {
                let _ = req.respond(tiny_http::Response::empty(404));
                continue;
            };
            if let Some(left) = a.damaged.get_mut(&path).filter(|n| **n > 0) {
                *left -= 1;
                let mid = body.len() / 2;
                body[mid] ^= 0xff;
            }
            drop(a);
            let from: usize = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let resp = if from > 0 && from < body.len() {
                tiny_http::Response::from_data(body[from..].to_vec()).with_status_code(206)
            } else {
                tiny_http::Response::from_data(body)
            };
            let _ = req.respond(resp);
        }
    });
    url
}

const HEADER: &str =
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n";

/// BTCUSDT aggTrades of 2024-01-01 and 02 (03 is not in the archive), a
/// 1m klines day served damaged once.
fn archive() -> Archive {
    let mut a = Archive::default();
    for (day, t0) in [
        ("2024-01-01", 1_704_067_200_000u64),
        ("2024-01-02", 1_704_153_600_000),
    ] {
        let mut csv = HEADER.to_string();
        for i in 0..2000u64 {
            csv.push_str(&format!(
                "{},{}.{},0.01{},{},{},{},{}\n",
                i + 1,
                42_000 + i % 7,
                i % 10,
                i % 9,
                i + 1,
                i + 1,
                t0 + i * 40,
                i % 2 == 0
            ));
        }
        let name = format!("BTCUSDT-aggTrades-{day}");
        a.add(
            &format!("data/futures/um/daily/aggTrades/BTCUSDT/{name}.zip"),
            zip_of(&format!("{name}.csv"), &csv),
            None,
        );
    }
    let klines =
        "1704067200000,42000.1,42010,41990.5,42005,12.5,1704067259999,525000,300,6,252000,0\n";
    let path = "data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip";
    a.add(path, zip_of("BTCUSDT-1m-2024-01-01.csv", klines), None);
    a.damaged.insert(path.to_string(), 1);
    a
}

fn download(url: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    autobot()
        .args(["download", "--symbols", "BTCUSDT", "--from", "2024-01-01"])
        .args(["--base-url", url, "--jobs", "3", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_range_downloads_verified_refetches_a_damaged_file_and_imports() {
    let d = Scratch::new("download");
    let a = Arc::new(Mutex::new(archive()));
    let url = serve(Arc::clone(&a));
    let out = d.join("data");
    let o = download(
        &url,
        &out,
        &["--to", "2024-01-03", "--kinds", "aggTrades,klines:1m"],
    );
    let said = ok(&o);
    assert!(
        said.contains("3 downloaded") && said.contains("1 checksum mismatches refused"),
        "{}",
        text(&o)
    );
    // 2024-01-03 of aggTrades, 01-02 and 01-03 of the klines.
    assert!(said.contains("3 not in the archive"), "{said}");
    let errs = String::from_utf8_lossy(&o.stderr);
    assert!(
        errs.contains("not in the archive: data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-03.zip"),
        "{errs}"
    );
    // Every file in place is the archive's, beside its checksum; nothing
    // partial is left.
    let archive = a.lock().unwrap();
    for (path, bytes) in &archive.files {
        assert_eq!(&std::fs::read(out.join(path)).unwrap(), bytes, "{path}");
    }
    drop(archive);
    let leftovers: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The zips import as they are.
    let day = out.join("data/futures/um/daily/aggTrades/BTCUSDT");
    let o = autobot()
        .args(["import", "--out"])
        .arg(d.join("imported"))
        .arg(day.join("BTCUSDT-aggTrades-2024-01-01.zip"))
        .arg(day.join("BTCUSDT-aggTrades-2024-01-02.zip"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("imported 4000 events"), "{}", text(&o));

    // Again: everything is there already; only checksums are asked for.
    a.lock().unwrap().seen.clear();
    let said = ok(&download(
        &url,
        &out,
        &["--to", "2024-01-03", "--kinds", "aggTrades,klines:1m"],
    ));
    assert!(
        said.contains("0 downloaded") && said.contains("3 already there"),
        "{said}"
    );
    let seen = a.lock().unwrap().seen.clone();
    assert!(
        seen.iter().all(|(p, _)| p.ends_with(".CHECKSUM")),
        "{seen:?}"
    );
}

#[test]
fn an_interrupted_file_is_continued_with_a_range_request() {
    let d = Scratch::new("download-resume");
    let a = Arc::new(Mutex::new(archive()));
    let url = serve(Arc::clone(&a));
    let out = d.join("data");
    let path = "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip";
    let whole = a.lock().unwrap().files[path].clone();
    let half = whole.len() / 2;
    let partial = out.join(format!("{path}.partial"));
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &whole[..half]).unwrap();
    let said = ok(&download(&url, &out, &["--kinds", "aggTrades"]));
    assert!(
        said.contains("1 downloaded") && said.contains("1 continued"),
        "{said}"
    );
    assert_eq!(std::fs::read(out.join(path)).unwrap(), whole);
    assert!(!partial.exists());
    let seen = a.lock().unwrap().seen.clone();
    assert!(
        seen.contains(&(path.to_string(), Some(format!("bytes={half}-")))),
        "{seen:?}"
    );
}

#[test]
fn a_file_whose_checksum_never_matches_is_refused_by_name() {
    let d = Scratch::new("download-bad");
    let mut archive = Archive::default();
    let path = "data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-01-01.zip";
    let real = zip_of("BTCUSDT-aggTrades-2024-01-01.csv", HEADER);
    archive.add(path, real, Some(b"something else"));
    let a = Arc::new(Mutex::new(archive));
    let url = serve(Arc::clone(&a));
    let out = d.join("data");
    let o = download(&url, &out, &["--kinds", "aggTrades", "--attempts", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 of 1 files failed")
            && err.contains(path)
            && err.contains("does not match the archive's"),
        "{err}"
    );
    assert!(err.contains("after 2 attempts; nothing kept"), "{err}");
    assert!(!out.join(path).exists());
    assert!(
        walk(&out)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".partial"))
    );
    let zips = a
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|(p, _)| p == path)
        .count();
    assert_eq!(zips, 2);
    // A bad kind or date is refused before anything is fetched.
    let o = download(&url, &out, &["--kinds", "klines"]);
    assert!(
        text(&o).contains("interval \"\" is not one of"),
        "{}",
        text(&o)
    );
    let o = download(&url, &out, &["--kinds", "aggTrades", "--to", "2023-12-31"]);
    assert!(
        text(&o).contains("--to 2023-12-31 is before --from 2024-01-01"),
        "{}",
        text(&o)
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
