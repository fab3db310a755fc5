//! Small helpers the commands' outputs share: thousands grouping, HTML
//! escaping, and where a run directory keeps its journal.

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
