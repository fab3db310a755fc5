//! The gateways' calls into the operating system (Linux only): the
//! permission bits that decide whether a key file is the owner's alone,
//! and random bytes for tokens and session ids.

#[cfg(not(target_os = "linux"))]
compile_error!("autobot runs on Linux only: key files are checked by their Unix permission bits");

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt as _;

/// The permission bits of a file (`mode & 0o7777`).
pub fn permission_bits(meta: &Metadata) -> u32 {
    meta.mode() & 0o7777
}

/// Whether group or others may read, write or enter it.
pub fn shared(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// Why a file that must be its owner's alone was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerOnly {
    /// It cannot be read (the I/O error's kind, never its content).
    Unreadable(String),
    /// Group or others may use it: its permission bits.
    Shared(u32),
}

/// The text of `path` if only its owner may read it (key files).
pub fn read_owner_only(path: &std::path::Path) -> Result<String, OwnerOnly> {
    let unreadable = |e: std::io::Error| OwnerOnly::Unreadable(e.kind().to_string());
    let mode = permission_bits(&std::fs::metadata(path).map_err(unreadable)?);
    if shared(mode) {
        return Err(OwnerOnly::Shared(mode));
    }
    std::fs::read_to_string(path).map_err(unreadable)
}

/// `n` bytes from the kernel's random source (`/dev/urandom`): tokens and
/// session ids, never the core (which uses no randomness).
pub fn random_bytes(n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))?;
    Ok(bytes)
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> std::io::Result<String> {
    use std::fmt::Write as _;
    let bytes = random_bytes(n)?;
    let mut out = String::with_capacity(2 * n);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    Ok(out)
}
