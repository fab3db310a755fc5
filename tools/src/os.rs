//! The command line's calls into the operating system (Linux only): the
//! effective user and resource limits the doctor reports, owner-only files
//! for a run's secrets, and the kernel's random bytes.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "autobot runs on Linux only: the doctor reads Linux resource limits and capabilities"
);

#[allow(unsafe_code)]
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// A resource limit the doctor reads.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Limit {
    /// `RLIMIT_MEMLOCK`.
    Memlock,
    /// `RLIMIT_RTPRIO`.
    RtPrio,
}

/// A soft limit (`None`: unlimited).
#[allow(unsafe_code)]
pub(crate) fn rlimit(which: Limit) -> Option<u64> {
    let resource = match which {
        Limit::Memlock => libc::RLIMIT_MEMLOCK,
        Limit::RtPrio => libc::RLIMIT_RTPRIO,
    };
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the call's duration.
    let rc = unsafe { libc::getrlimit(resource, &mut lim) };
    if rc != 0 || lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(lim.rlim_cur)
}

/// Creates `path` (which must not exist) readable and writable by its
/// owner only, and writes `text`.
pub(crate) fn write_owner_only(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
}

/// The permission bits of `path`.
pub(crate) fn permission_bits(path: &std::path::Path) -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).map(|m| m.mode() & 0o7777)
}
