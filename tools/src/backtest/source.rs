//! Opening a data file as a stream of lines: plain text, gzip (`.gz`) or a
//! zip archive holding one CSV (`.zip`, as Binance publishes its data).
//!
//! A zip entry is read through the `zip` crate's directory (which finds the
//! entry, its method and its checksum) and then streamed with flate2 from
//! an owned file handle: the crate's entry reader borrows its archive, and
//! several sources stay open at once while their rows are merged. The
//! entry's CRC-32 is checked at its end, so a damaged archive is an error,
//! never a silently short file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::InputError;

/// Reads an entry and checks its CRC-32 when it ends.
struct Checked<R> {
    inner: R,
    crc: flate2::Crc,
    expected: u32,
    path: PathBuf,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && self.crc.sum() != self.expected {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: the zip entry's checksum does not match (damaged archive)",
                    self.path.display()
                ),
            ));
        }
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn open_zip(path: &Path) -> Result<Box<dyn Read + Send>, InputError> {
    let bad = |why: String| InputError::Open {
        path: path.to_path_buf(),
        reason: why,
    };
    let file = File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| bad(format!("not a zip archive: {e}")))?;
    let entries: Vec<usize> = (0..archive.len())
        .filter(|&i| archive.by_index_raw(i).is_ok_and(|f| f.is_file()))
        .collect();
    let [only] = entries[..] else {
        return Err(bad(format!(
            "a data archive holds one file; this one holds {}",
            entries.len()
        )));
    };
    let (start, size, method, crc) = {
        let f = archive.by_index_raw(only).map_err(|e| bad(e.to_string()))?;
        (
            f.data_start(),
            f.compressed_size(),
            f.compression(),
            f.crc32(),
        )
    };
    let mut file = archive.into_inner();
    file.seek(SeekFrom::Start(start))
        .map_err(|e| bad(e.to_string()))?;
    let raw = BufReader::with_capacity(1 << 16, file.take(size));
    let inner: Box<dyn Read + Send> = match method {
        zip::CompressionMethod::Stored => Box::new(raw),
        zip::CompressionMethod::Deflated => Box::new(flate2::bufread::DeflateDecoder::new(raw)),
        other => {
            return Err(bad(format!(
                "compression {other} is not supported (stored or deflated are)"
            )));
        }
    };
    Ok(Box::new(Checked {
        inner,
        crc: flate2::Crc::new(),
        expected: crc,
        path: path.to_path_buf(),
    }))
}

/// Opens `path` for reading lines, by its extension.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, InputError> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let reader: Box<dyn Read + Send> = if name.ends_with(".zip") {
        open_zip(path)?
    } else {
        let file = File::open(path).map_err(|e| InputError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                1 << 16,
                file,
            )))
        } else {
            Box::new(file)
        }
    };
    Ok(Box::new(BufReader::with_capacity(1 << 16, reader)))
}
