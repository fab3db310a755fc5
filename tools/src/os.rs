//! The command line's calls into the operating system (Linux only): the
//! effective user and resource limits the doctor reports.

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
