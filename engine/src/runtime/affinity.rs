//! Thread placement from the configured CPU map: pinning, SCHED_FIFO for
//! pinned threads, and locking the process's memory. Each step that the
//! host does not permit is a warning for the operator, never a failure.

/// The CPUs the kernel isolates from the scheduler (`isolcpus=`), if readable.
pub fn isolated_cpus() -> Vec<usize> {
    std::fs::read_to_string("/sys/devices/system/cpu/isolated")
        .map(|s| parse_cpu_list(s.trim()))
        .unwrap_or_default()
}

/// Parses a kernel CPU list such as `2-5,8`.
pub fn parse_cpu_list(s: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<usize>().ok()),
        }
    }
    out
}

/// Pins the calling thread to `cpu` (if given) and, with `realtime` > 0,
/// moves it to SCHED_FIFO at that priority. Returns a warning for the
/// operator when a step failed or the CPU is not isolated while the thread
/// will busy-spin on it; the thread runs on either way.
pub fn pin_current(
    thread: &str,
    cpu: Option<usize>,
    busy_spin: bool,
    realtime: u8,
) -> Option<String> {
    let cpu = cpu?;
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        return Some(format!(
            "{thread}: could not pin to CPU {cpu}; running unpinned"
        ));
    }
    let mut warnings = Vec::new();
    if busy_spin && !isolated_cpus().contains(&cpu) {
        warnings.push(format!(
            "{thread}: pinned to CPU {cpu}, which is not in isolcpus; busy-spinning there \
             competes with other tasks"
        ));
    }
    if realtime > 0 {
        match super::os::set_fifo(realtime) {
            Err(e) => warnings.push(format!(
                "{thread}: SCHED_FIFO priority {realtime} not permitted ({e}); normal scheduling \
                 (grant CAP_SYS_NICE or an rtprio limit: docs/tuning.md)"
            )),
            Ok(()) => warnings.extend(rt_throttled().map(|runtime| {
                format!(
                    "{thread}: SCHED_FIFO under real-time throttling (sched_rt_runtime_us = \
                     {runtime}): a thread that never sleeps is stopped for the rest of every \
                     period, tens of ms (set kernel.sched_rt_runtime_us = -1: docs/tuning.md)"
                )
            })),
        }
    }
    (!warnings.is_empty()).then(|| warnings.join("; "))
}

/// The kernel's real-time runtime per period (`sched_rt_runtime_us`), if
/// throttling is on.
pub fn rt_throttled() -> Option<i64> {
    let text = std::fs::read_to_string("/proc/sys/kernel/sched_rt_runtime_us").ok()?;
    text.trim().parse::<i64>().ok().filter(|r| *r >= 0)
}

/// Locks every current and future page of the process in memory
/// (`mlockall`). A warning when the host does not permit it.
pub fn lock_memory() -> Option<String> {
    super::os::lock_all_memory().err().map(|e| {
        format!(
            "mlockall not permitted ({e}); memory may be paged (raise RLIMIT_MEMLOCK: docs/tuning.md)"
        )
    })
}

/// The CPUs `[engine.cpus]` names exist on this host (`at` is the section's
/// dotted path, for the message).
pub fn check_host_cpus(
    cpus: &crate::config::CpuMap,
    at: &str,
) -> Result<(), crate::config::RangeError> {
    let online = std::thread::available_parallelism().map_or(1, usize::from);
    let path = crate::config::join_key(at, "cpus");
    for (key, cpu) in cpus.threads() {
        if let Some(c) = cpu.filter(|c| *c >= online) {
            return Err(crate::config::RangeError::new(
                &path,
                key,
                c,
                format!("a CPU of this host, 0 ..= {}", online - 1),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_cpu_lists() {
        assert_eq!(parse_cpu_list("2-4,8"), vec![2, 3, 4, 8]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("0"), vec![0]);
    }
}
