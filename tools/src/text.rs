//! Small helpers the commands' outputs share: thousands grouping, HTML
//! escaping, CSV (through the `csv` crate, so fields with commas or quotes
//! are quoted), and where a run directory keeps its journal.

use std::path::{Path, PathBuf};

/// Thousands separators for counts.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `s` with the HTML metacharacters of text content escaped.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A journal directory: the argument itself, or its `journal/` if it is a run directory.
pub fn journal_dir(dir: &Path) -> PathBuf {
    if dir.join("journal").is_dir() {
        dir.join("journal")
    } else {
        dir.to_path_buf()
    }
}

/// CSV text of `header` and `rows`, each field quoted where it needs it.
pub fn csv_text<R, F>(header: &[&str], rows: R) -> String
where
    R: IntoIterator<Item = F>,
    F: IntoIterator<Item = String>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail; a row of the wrong length is a bug
    // the tests catch, so it is not hidden behind an error.
    let _ = w.write_record(header);
    for row in rows {
        let _ = w.write_record(row.into_iter().collect::<Vec<String>>());
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}
