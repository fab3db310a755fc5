//! The gateways' calls into the operating system (Linux only): the
//! permission bits that decide whether a key file is the owner's alone.

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
