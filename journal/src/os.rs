//! The journal's calls into the operating system (Linux only): allocating
//! a segment's blocks. Mapping goes through memmap2.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "autobot runs on Linux only: the journal allocates its segments with posix_fallocate"
);

use std::fs::File;
use std::os::fd::AsRawFd;

/// What `fallocate` did.
pub(crate) enum Allocated {
    /// Real blocks are reserved.
    Blocks,
    /// The file system cannot reserve blocks; the caller extends the file.
    Unsupported,
}

/// Why it failed.
pub(crate) enum FallocateError {
    /// The size does not fit `off_t`.
    TooLarge,
    /// The OS refused.
    Os(std::io::Error),
}

/// Reserves `size` bytes of real blocks for `file` (`posix_fallocate`).
pub(crate) fn fallocate(file: &File, size: u64) -> Result<Allocated, FallocateError> {
    let Ok(len) = libc::off_t::try_from(size) else {
        return Err(FallocateError::TooLarge);
    };
    // SAFETY: a valid open file descriptor (borrowed for the call) and
    // non-negative offsets.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    match rc {
        0 => Ok(Allocated::Blocks),
        libc::EOPNOTSUPP | libc::EINVAL => Ok(Allocated::Unsupported),
        e => Err(FallocateError::Os(std::io::Error::from_raw_os_error(e))),
    }
}
