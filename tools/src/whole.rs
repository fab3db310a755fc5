//! Outputs written whole or not at all: a command writes to a temporary
//! name beside its output and renames it into place only when everything
//! is written, so a failed or interrupted command never leaves a partial
//! (or 0-byte) file where a finished one is expected. The rename is atomic
//! on one filesystem, which a sibling name guarantees.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written under a temporary name; [`WholeFile::finish`]
/// renames it into place, and dropping it unfinished removes it.
pub struct WholeFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

/// The temporary sibling of `path`: `.NAME.partial` in the same directory
/// (hidden, and never mistaken for the output by its extension).
fn partial(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(
        || std::ffi::OsString::from("output"),
        std::ffi::OsStr::to_os_string,
    );
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(".partial");
    path.with_file_name(tmp)
}

impl WholeFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> std::io::Result<WholeFile> {
        let tmp = partial(path);
        let file = std::fs::File::create(&tmp)?;
        Ok(WholeFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(std::io::BufWriter::new(file)),
        })
    }

    /// The file's final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place.
    pub fn finish(mut self) -> std::io::Result<()> {
        let Some(w) = self.file.take() else {
            return Ok(());
        };
        let file = w
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path)
    }
}

impl Write for WholeFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(w) => w.write(buf),
            None => Err(std::io::Error::other("written after finish")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

impl Drop for WholeFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let mut f = WholeFile::create(path)?;
    f.write_all(bytes.as_ref())?;
    f.finish()
}

/// `v` as pretty JSON with a final newline (every JSON file autobot
/// writes).
pub fn pretty_json(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_file_appears_whole_and_an_abandoned_one_not_at_all() {
        let dir = std::env::temp_dir().join(format!("whole-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("values.csv");
        let mut f = WholeFile::create(&out).unwrap();
        f.write_all(b"a,b\n").unwrap();
        assert!(!out.exists(), "visible before it is finished");
        f.finish().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"a,b\n");
        // A failure halfway: the old output stays, nothing half-written
        // beside it.
        let mut g = WholeFile::create(&out).unwrap();
        g.write_all(b"half").unwrap();
        drop(g);
        assert_eq!(std::fs::read(&out).unwrap(), b"a,b\n");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
        write(&out, "c\n").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"c\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
