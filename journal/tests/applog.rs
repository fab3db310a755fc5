//! The append-only log on real files: round trip, torn tail, corruption.

use autobot_journal::{AppLog, AppLogReader, JournalError};
use std::io::Write;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("autobot-applog-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    dir
}

fn write(path: &std::path::Path, n: usize) {
    let mut log = AppLog::create(path).unwrap();
    for i in 0..n {
        log.append(&vec![i as u8; 1 + i % 13]).unwrap();
    }
    log.flush().unwrap();
}

#[test]
fn round_trips_records_in_order() {
    let path = tmp("roundtrip");
    write(&path, 100);
    let recs: Vec<_> = AppLogReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recs.len(), 100);
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.index, i as u64);
        assert_eq!(r.payload, vec![i as u8; 1 + i % 13]);
    }
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn refuses_to_overwrite_and_rejects_foreign_files() {
    let path = tmp("foreign");
    std::fs::write(&path, b"not a journal at all").unwrap();
    assert!(matches!(
        AppLog::create(&path),
        Err(JournalError::Io { .. })
    ));
    assert!(matches!(
        AppLogReader::open(&path),
        Err(JournalError::BadHeader { .. })
    ));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_torn_tail_is_reported_not_returned() {
    let path = tmp("torn");
    write(&path, 10);
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 3).unwrap();
    let mut r = AppLogReader::open(&path).unwrap();
    let n = r.by_ref().map(Result::unwrap).count();
    assert_eq!(n, 9);
    assert!(r.torn_tail().is_some());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn corruption_in_the_middle_is_an_error_naming_the_offset() {
    let path = tmp("corrupt");
    write(&path, 10);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[16 + 8] ^= 0xff; // first payload byte of record 0
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    let err = AppLogReader::open(&path)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            JournalError::Corrupt {
                index: 0,
                offset: 16,
                ..
            }
        ),
        "{err}"
    );
    std::fs::remove_file(&path).unwrap();
}
