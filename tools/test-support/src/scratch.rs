//! Scratch directories for tests that write runs and journals.
//!
//! A journal pre-allocates real blocks for every segment, so a test that
//! leaves its run directory behind leaves hundreds of MiB on the disk; a
//! whole `make test` used to leave tens of GB in the temp directory. A
//! [`Scratch`] is removed with everything in it when it is dropped, unless
//! the test is failing (then it is kept, and its path printed, so the
//! journal can be read) or `AUTOBOT_KEEP_TEST_DIRS` is set.

use std::path::Path;

/// A fresh, empty directory under the system temp directory, named
/// `autobot-<name>-…`, removed when dropped (see the module docs).
#[derive(Debug)]
pub struct Scratch {
    // `Option` so `Drop` can hand the directory to `TempDir::keep`.
    dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// A new directory; panics (it is a test helper) when the temp
    /// directory cannot be written.
    pub fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("autobot-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a scratch directory for {name}: {e}"));
        Scratch { dir: Some(dir) }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map(tempfile::TempDir::path)
            .expect("present until drop")
    }
}

// A scratch directory stands wherever a test would have used its path.
impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        if std::thread::panicking() || std::env::var_os("AUTOBOT_KEEP_TEST_DIRS").is_some() {
            eprintln!("kept test directory {}", dir.keep().display());
        }
        // Otherwise `TempDir`'s own drop removes it.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_when_dropped() {
        let s = Scratch::new("scratch-test");
        let p = s.path().to_path_buf();
        std::fs::write(s.join("f"), b"x").unwrap();
        assert!(p.join("f").exists());
        drop(s);
        assert!(!p.exists());
    }

    #[test]
    fn kept_when_the_test_fails() {
        let seen = std::sync::Mutex::new(None);
        let r = std::panic::catch_unwind(|| {
            let s = Scratch::new("scratch-panic");
            *seen.lock().unwrap() = Some(s.path().to_path_buf());
            panic!("the test failed");
        });
        assert!(r.is_err());
        let p = seen.lock().unwrap().take().unwrap();
        assert!(p.exists(), "a failing test's directory is kept");
        std::fs::remove_dir_all(p).unwrap();
    }
}
