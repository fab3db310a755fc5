//! The one check that measures instead of reading: a thread spins on each
//! pinned CPU reading the latency clock back to back, and every gap between
//! two readings is time it did not run (interrupts, the scheduler tick,
//! other tasks, the hypervisor taking the vCPU).
//!
//! An event that arrives in a gap waits for its end, so the share of time
//! lost in gaps is about the share of a steady event stream that waits:
//! a CPU losing 1 % of its time in gaps over 10 µs cannot hold a p99 under
//! 10 µs, however fast the code on it. The count of local timer interrupts
//! over the same span tells whether the scheduler tick is among the causes
//! (`nohz_full` stops it).

use super::{EngineConfig, Finding, Level, finding, pinned};

/// Gaps shorter than this are the clock read and cache misses, not lost time.
const GAP_NS: u64 = 10_000;

/// Gaps a spinning thread saw on one CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hiccups {
    /// The CPU.
    pub cpu: usize,
    /// Gaps longer than 10 µs.
    pub over_10us: u64,
    /// Gaps longer than 100 µs.
    pub over_100us: u64,
    /// The longest gap, ns.
    pub max_ns: u64,
    /// The sum of the gaps longer than 10 µs, ns.
    pub lost_ns: u64,
    /// How long it spun, ns.
    pub spun_ns: u64,
    /// Local timer interrupts on the CPU while it spun (`None` where
    /// `/proc/interrupts` has no `LOC` row, e.g. not x86).
    pub timer_irqs: Option<u64>,
}

impl Hiccups {
    /// Gaps over 10 µs per second.
    pub fn per_sec(&self) -> f64 {
        self.over_10us as f64 * 1e9 / self.spun_ns.max(1) as f64
    }

    /// The share of the time spun that was lost in gaps over 10 µs.
    pub fn lost_share(&self) -> f64 {
        self.lost_ns as f64 / self.spun_ns.max(1) as f64
    }

    /// Local timer interrupts per second.
    pub fn timer_per_sec(&self) -> Option<f64> {
        self.timer_irqs
            .map(|n| n as f64 * 1e9 / self.spun_ns.max(1) as f64)
    }
}

/// Spins on `cpu` for `span`, reading the latency clock back to back.
/// `None` if the thread could not be pinned there.
pub fn hiccups(cpu: usize, span: std::time::Duration) -> Option<Hiccups> {
    std::thread::spawn(move || {
        if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
            return None;
        }
        let timers = || {
            std::fs::read_to_string("/proc/interrupts")
                .ok()
                .and_then(|t| local_timer_interrupts(&t, cpu))
        };
        let timers_before = timers();
        let clock = autobot_engine::runtime::clock::mono_now;
        let start = clock().0;
        let end = start + u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
        let mut h = Hiccups {
            cpu,
            ..Hiccups::default()
        };
        let mut last = start;
        while last < end {
            let now = clock().0;
            let gap = now.saturating_sub(last);
            if gap > GAP_NS {
                h.over_10us += 1;
                h.over_100us += u64::from(gap > 100_000);
                h.lost_ns += gap;
            }
            h.max_ns = h.max_ns.max(gap);
            last = now;
        }
        h.spun_ns = last - start;
        h.timer_irqs = timers_before
            .zip(timers())
            .map(|(a, b)| b.saturating_sub(a));
        Some(h)
    })
    .join()
    .ok()
    .flatten()
}

/// The `LOC` (local timer interrupts) count of `cpu` in the text of
/// `/proc/interrupts`, whose header names the column of each online CPU.
fn local_timer_interrupts(text: &str, cpu: usize) -> Option<u64> {
    let mut lines = text.lines();
    let column = lines
        .next()?
        .split_whitespace()
        .position(|c| c == format!("CPU{cpu}"))?;
    let row = lines.find_map(|l| l.trim_start().strip_prefix("LOC:"))?;
    row.split_whitespace().nth(column)?.parse().ok()
}

/// The scheduling-jitter check of this host: [`hiccups`] on each pinned
/// CPU (every online CPU when none is pinned), `span` each. A pinned
/// thread that loses its CPU for more than 100 µs, more than 10 µs over
/// 100 times a second, or 1 % of its time, cannot hold microsecond
/// percentiles.
pub fn jitter(engine: &EngineConfig, span: std::time::Duration) -> Finding {
    const CHECK: &str = "scheduling jitter";
    let mut cpus: Vec<usize> = pinned(engine).iter().map(|p| p.1).collect();
    if cpus.is_empty() {
        cpus = (0..std::thread::available_parallelism().map_or(1, usize::from)).collect();
    }
    cpus.sort_unstable();
    cpus.dedup();
    let measured: Vec<Hiccups> = cpus.iter().filter_map(|&c| hiccups(c, span)).collect();
    if measured.is_empty() {
        return finding(CHECK, Level::Warn, "no CPU could be measured".into(), None);
    }
    let shown = measured
        .iter()
        .map(|h| {
            let timer = h
                .timer_per_sec()
                .map_or_else(String::new, |t| format!(", {t:.0} timer interrupts/s"));
            format!(
                "cpu{}: {:.0}/s over 10 µs ({:.2} % of its time), {} over 100 µs, max {:.0} µs{timer}",
                h.cpu,
                h.per_sec(),
                h.lost_share() * 100.0,
                h.over_100us,
                h.max_ns as f64 / 1e3
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let bad = measured
        .iter()
        .any(|h| h.max_ns > 100_000 || h.per_sec() > 100.0 || h.lost_share() >= 0.01);
    if !bad {
        return finding(CHECK, Level::Ok, shown, None);
    }
    let worst = measured.iter().map(Hiccups::lost_share).fold(0.0, f64::max);
    // Under nohz_full a CPU running one thread takes about 1 timer
    // interrupt a second; the tick is 100 to 1000 a second.
    let ticking = measured
        .iter()
        .filter(|h| h.timer_per_sec().is_some_and(|t| t >= 50.0))
        .map(|h| h.cpu.to_string())
        .collect::<Vec<_>>();
    let tick = if ticking.is_empty() {
        String::new()
    } else {
        format!(
            "the scheduler tick still runs on CPU {} (nohz_full stops it); ",
            ticking.join(", ")
        )
    };
    finding(
        CHECK,
        Level::Warn,
        format!(
            "{shown} — about {:.1} % of events arriving there wait out a gap",
            worst * 100.0
        ),
        Some(format!(
            "{tick}isolate the CPUs (isolcpus, nohz_full, rcu_nocbs), keep IRQs off them; \
             on a virtual machine, dedicated (not overcommitted) vCPUs"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_count_is_read_from_the_cpus_own_column() {
        // CPU 1 offline: CPU 2's count is the second number.
        let text = "           CPU0       CPU2       \n\
                    \x20 36:          0    6776410 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n\
                    \x20LOC:     966        528   Local timer interrupts\n\
                    \x20RES:       8          1   Rescheduling interrupts\n";
        assert_eq!(local_timer_interrupts(text, 0), Some(966));
        assert_eq!(local_timer_interrupts(text, 2), Some(528));
        assert_eq!(local_timer_interrupts(text, 1), None, "offline CPU");
        assert_eq!(local_timer_interrupts("CPU0\n", 0), None, "no LOC row");
        assert_eq!(local_timer_interrupts("", 0), None);
    }

    #[test]
    fn the_shares_are_of_the_time_spun() {
        let h = Hiccups {
            cpu: 1,
            over_10us: 360,
            lost_ns: 12_000_000,
            spun_ns: 1_000_000_000,
            timer_irqs: Some(250),
            ..Hiccups::default()
        };
        assert!((h.per_sec() - 360.0).abs() < 1e-9);
        assert!((h.lost_share() - 0.012).abs() < 1e-12);
        assert_eq!(h.timer_per_sec(), Some(250.0));
    }
}
