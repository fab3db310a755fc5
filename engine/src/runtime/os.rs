//! Every call into the operating system the runtime makes (Linux only):
//! the monotonic clock, real-time scheduling, locking memory. The rest of
//! the runtime calls these and holds no `libc` of its own.

#[cfg(not(target_os = "linux"))]
compile_error!(
    "autobot runs on Linux only: it pins threads, locks memory, reads the \
     monotonic clock and allocates journal segments through Linux calls \
     (see docs/tuning.md)"
);

/// `CLOCK_MONOTONIC` in nanoseconds.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on
    // every Linux kernel, so the call cannot fail with these arguments.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Moves the calling thread to SCHED_FIFO at `priority`.
#[allow(unsafe_code)]
pub(crate) fn set_fifo(priority: u8) -> Result<(), std::io::Error> {
    let param = libc::sched_param {
        sched_priority: i32::from(priority),
    };
    // SAFETY: `pthread_self()` is the calling thread, always valid; `param`
    // is a valid, initialised sched_param that outlives the call.
    let rc = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
    match rc {
        0 => Ok(()),
        e => Err(std::io::Error::from_raw_os_error(e)),
    }
}

/// Locks every current and future page of the process in memory (`mlockall`).
#[allow(unsafe_code)]
pub(crate) fn lock_all_memory() -> Result<(), std::io::Error> {
    // SAFETY: mlockall takes flags only and touches no memory of ours.
    let rc = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Sleeps while `word` holds `expected`, at most `timeout` (`FUTEX_WAIT`,
/// process-private). Returns early when woken, when `word` no longer holds
/// `expected`, or on a signal; `true` only when the timeout ran out. The
/// caller re-checks what it waits for in every case.
#[allow(unsafe_code)]
pub(crate) fn futex_wait(
    word: &std::sync::atomic::AtomicU32,
    expected: u32,
    timeout: std::time::Duration,
) -> bool {
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
    };
    // SAFETY: `word` is a live, 4-byte aligned atomic for the whole call
    // (borrowed); `ts` is a valid relative timeout that outlives it; the
    // kernel only reads both. Failures (EAGAIN: the word moved, EINTR,
    // ETIMEDOUT) need no handling beyond telling a timeout apart.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        )
    };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT)
}

/// Wakes every thread sleeping on `word` in [`futex_wait`].
#[allow(unsafe_code)]
pub(crate) fn futex_wake_all(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: `word` is a live, aligned atomic; FUTEX_WAKE only reads its
    // address to find the sleepers and cannot fail for a valid one.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

/// The calling thread's kernel id (`gettid`), as `/proc/self/task/` names it.
#[cfg(test)]
#[allow(unsafe_code)]
pub(crate) fn thread_id() -> i32 {
    // SAFETY: gettid takes no arguments, touches no memory and cannot fail.
    unsafe { libc::gettid() }
}
