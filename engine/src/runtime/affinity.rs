//! Thread pinning from the configured CPU map.

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

/// Pins the calling thread to `cpu` (if given). Returns a warning for the
/// operator when pinning failed or the CPU is not isolated while the thread
/// will busy-spin on it; the thread runs on either way.
pub fn pin_current(thread: &str, cpu: Option<usize>, busy_spin: bool) -> Option<String> {
    let cpu = cpu?;
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        return Some(format!(
            "{thread}: could not pin to CPU {cpu}; running unpinned"
        ));
    }
    if busy_spin && !isolated_cpus().contains(&cpu) {
        return Some(format!(
            "{thread}: pinned to CPU {cpu}, which is not in isolcpus; busy-spinning there \
             competes with other tasks"
        ));
    }
    None
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
