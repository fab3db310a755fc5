//! `autobot doctor`: is this host ready for live trading with this
//! configuration? Each check reads the kernel's own answer (sysfs, procfs,
//! resource limits) and prints what it found and what to change.
//!
//! # Levels
//! - **fail**: live trading on this host would miss its latency targets
//!   or its configuration cannot take effect (no isolated CPU for the
//!   pinned threads, a power-saving governor, SCHED_FIFO or mlockall asked
//!   for but not permitted). Any fail makes the host "not ready", and
//!   `autobot doctor` exits non-zero so a script can tell.
//! - **warn**: worth changing, not blocking (nohz_full, THP, the clock
//!   source, NUMA spread).
//! - **ok**.
//!
//! The paths are relative to a root (`/` on a host), so the checks run
//! against a copy of another host's `/sys` and `/proc` too. One check
//! measures instead of reading: [`jitter`] spins on the pinned CPUs and
//! counts the gaps (this host only).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use autobot_engine::config::{CpuMap, EngineConfig, Layout, WaitKind};
use autobot_engine::runtime::parse_cpu_list;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Fine.
    Ok,
    /// Worth changing.
    Warn,
    /// Not ready for live trading.
    Fail,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub check: &'static str,
    /// How it came out.
    pub level: Level,
    /// What was found.
    pub found: String,
    /// What to change (none when fine).
    pub change: Option<String>,
}

fn finding(check: &'static str, level: Level, found: String, change: Option<String>) -> Finding {
    Finding {
        check,
        level,
        found,
        change,
    }
}

/// Resource limits and capabilities of the process (read by the caller:
/// they are the process's, not a file's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_MEMLOCK` soft limit in bytes (`None`: unlimited).
    pub memlock: Option<u64>,
    /// `RLIMIT_RTPRIO` soft limit.
    pub rtprio: u64,
    /// Effective user id is root.
    pub root: bool,
    /// `CAP_SYS_NICE` in the effective set.
    pub cap_sys_nice: bool,
    /// `CAP_IPC_LOCK` in the effective set.
    pub cap_ipc_lock: bool,
}

impl Limits {
    /// This process's limits.
    pub fn of_process(root: &Path) -> Limits {
        let caps = read(root, "proc/self/status")
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("CapEff:"))
                    .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
            })
            .unwrap_or(0);
        Limits {
            memlock: crate::os::rlimit(crate::os::Limit::Memlock),
            rtprio: crate::os::rlimit(crate::os::Limit::RtPrio).unwrap_or(u64::MAX),
            root: crate::os::effective_uid() == 0,
            cap_sys_nice: caps & (1 << 23) != 0,
            cap_ipc_lock: caps & (1 << 14) != 0,
        }
    }
}

fn read(root: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(root.join(rel)).ok()
}

fn list(cpus: &[usize]) -> String {
    if cpus.is_empty() {
        return "none".into();
    }
    cpus.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The pinned threads of a configuration, `(role, cpu)`.
pub fn pinned(engine: &EngineConfig) -> Vec<(&'static str, usize)> {
    let CpuMap {
        market,
        journal,
        core,
        execution,
        ..
    } = engine.cpus;
    let journal = journal.filter(|_| engine.layout == Layout::Dedicated);
    [
        ("core", core),
        ("market", market),
        ("journal", journal),
        ("execution", execution),
    ]
    .into_iter()
    .filter_map(|(r, c)| c.map(|c| (r, c)))
    .collect()
}

/// Every check, against the host under `root` with `limits`.
pub fn examine(root: &Path, engine: &EngineConfig, limits: &Limits) -> Vec<Finding> {
    let pinned = pinned(engine);
    let mut cpus: Vec<usize> = pinned.iter().map(|p| p.1).collect();
    cpus.sort_unstable();
    cpus.dedup();
    let mut out = vec![
        isolation(root, &pinned, &cpus),
        nohz(root, &cpus),
        governor(root, &cpus),
        thp(root),
        tsc(root),
        numa(root, &cpus),
    ];
    out.extend(wait_strategy(engine, &cpus));
    out.push(memlock(engine, limits));
    out.push(reclaim(root, engine));
    out.push(realtime(engine, limits));
    out.push(rt_throttling(root, engine));
    out
}

fn isolation(root: &Path, pinned: &[(&str, usize)], cpus: &[usize]) -> Finding {
    const CHECK: &str = "isolated CPUs";
    let isolated = read(root, "sys/devices/system/cpu/isolated")
        .map(|s| parse_cpu_list(s.trim()))
        .unwrap_or_default();
    let boot = |cpus: &str| {
        format!(
            "boot with isolcpus=managed_irq,domain,{cpus} nohz_full={cpus} rcu_nocbs={cpus} \
             (docs/tuning.md) and keep IRQs off them"
        )
    };
    let isolates = if isolated.is_empty() {
        "this host isolates no CPU".to_string()
    } else {
        format!("this host isolates {}", list(&isolated))
    };
    if pinned.is_empty() {
        let hint = if isolated.is_empty() {
            "isolate CPUs (".to_string() + &boot("2-5") + "), then pin"
        } else {
            format!("pin them to the isolated CPUs {}", list(&isolated))
        };
        return finding(
            CHECK,
            Level::Fail,
            format!("{isolates}, and no thread is pinned ([engine.cpus] is empty)"),
            Some(format!(
                "set core, market and execution in [engine.cpus]: {hint}"
            )),
        );
    }
    let map = pinned
        .iter()
        .map(|(r, c)| format!("{r}→{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    if isolated.is_empty() {
        return finding(
            CHECK,
            Level::Fail,
            format!("{isolates}; the CPU map pins {map}"),
            Some(boot(&list(cpus))),
        );
    }
    let outside: Vec<usize> = cpus
        .iter()
        .copied()
        .filter(|c| !isolated.contains(c))
        .collect();
    if !outside.is_empty() {
        return finding(
            CHECK,
            Level::Fail,
            format!(
                "CPU map {map}: {} not isolated (isolated: {})",
                list(&outside),
                list(&isolated)
            ),
            Some(format!(
                "pin only to isolated CPUs, or {}",
                boot(&list(cpus))
            )),
        );
    }
    finding(
        CHECK,
        Level::Ok,
        format!("CPU map {map}, all isolated ({})", list(&isolated)),
        None,
    )
}

fn nohz(root: &Path, cpus: &[usize]) -> Finding {
    const CHECK: &str = "nohz_full";
    let full = read(root, "sys/devices/system/cpu/nohz_full")
        .map(|s| parse_cpu_list(s.trim()))
        .unwrap_or_default();
    let missing: Vec<usize> = cpus.iter().copied().filter(|c| !full.contains(c)).collect();
    if cpus.is_empty() || !missing.is_empty() {
        return finding(
            CHECK,
            Level::Warn,
            format!(
                "tick-less CPUs: {}{}",
                list(&full),
                if cpus.is_empty() {
                    String::new()
                } else {
                    format!("; pinned CPUs with a timer tick: {}", list(&missing))
                }
            ),
            Some("add nohz_full=<pinned CPUs> rcu_nocbs=<same> to the kernel command line".into()),
        );
    }
    finding(
        CHECK,
        Level::Ok,
        format!("pinned CPUs are tick-less ({})", list(&full)),
        None,
    )
}

fn online(root: &Path) -> Vec<usize> {
    read(root, "sys/devices/system/cpu/online")
        .map(|s| parse_cpu_list(s.trim()))
        .unwrap_or_default()
}

fn governor(root: &Path, cpus: &[usize]) -> Finding {
    const CHECK: &str = "CPU frequency governor";
    let which = if cpus.is_empty() {
        online(root)
    } else {
        cpus.to_vec()
    };
    let mut slow = Vec::new();
    let mut unknown = Vec::new();
    for c in &which {
        match read(
            root,
            &format!("sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"),
        ) {
            Some(g) if g.trim() == "performance" => {}
            Some(g) => slow.push(format!("cpu{c}={}", g.trim())),
            None => unknown.push(*c),
        }
    }
    if !slow.is_empty() {
        return finding(
            CHECK,
            Level::Fail,
            format!("not `performance`: {}", slow.join(" ")),
            Some(
                "cpupower frequency-set -g performance (and disable deep C-states: \
                  intel_idle.max_cstate=1 processor.max_cstate=1, or idle=poll on the pinned CPUs)"
                    .into(),
            ),
        );
    }
    if !unknown.is_empty() {
        return finding(
            CHECK,
            Level::Warn,
            format!(
                "no cpufreq interface for CPU {} (a VM, or frequency managed by firmware)",
                list(&unknown)
            ),
            Some("set the BIOS/firmware power profile to maximum performance".into()),
        );
    }
    finding(
        CHECK,
        Level::Ok,
        format!("performance on {}", list(&which)),
        None,
    )
}

fn thp(root: &Path) -> Finding {
    const CHECK: &str = "transparent huge pages";
    let Some(enabled) = read(root, "sys/kernel/mm/transparent_hugepage/enabled") else {
        return finding(CHECK, Level::Ok, "not built into this kernel".into(), None);
    };
    let chosen = enabled
        .split_whitespace()
        .find(|w| w.starts_with('['))
        .map_or("?", |w| w.trim_matches(|c| c == '[' || c == ']'))
        .to_string();
    if chosen == "always" {
        return finding(
            CHECK,
            Level::Warn,
            "always: khugepaged compaction can stall any thread for milliseconds".into(),
            Some(
                "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or boot with \
                  transparent_hugepage=madvise)"
                    .into(),
            ),
        );
    }
    finding(CHECK, Level::Ok, chosen, None)
}

fn tsc(root: &Path) -> Finding {
    const CHECK: &str = "invariant TSC";
    let flags = read(root, "proc/cpuinfo")
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("flags"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    let invariant = has("constant_tsc") && has("nonstop_tsc");
    let source = read(
        root,
        "sys/devices/system/clocksource/clocksource0/current_clocksource",
    )
    .map(|s| s.trim().to_string())
    .unwrap_or_else(|| "?".into());
    match (invariant, source.as_str()) {
        (true, "tsc") => finding(
            CHECK,
            Level::Ok,
            "constant_tsc nonstop_tsc; clock source tsc".into(),
            None,
        ),
        (true, _) => finding(
            CHECK,
            Level::Warn,
            format!(
                "the TSC is invariant but the clock source is {source}: clock reads are slower"
            ),
            Some("boot with clocksource=tsc tsc=reliable".into()),
        ),
        (false, _) => finding(
            CHECK,
            Level::Fail,
            format!("no invariant TSC (constant_tsc and nonstop_tsc); clock source {source}"),
            Some(
                "use a host whose CPU has an invariant TSC (virtual machines often hide it)".into(),
            ),
        ),
    }
}

/// The NUMA node of `cpu` (the `nodeN` entry in its sysfs directory).
fn node_of(root: &Path, cpu: usize) -> Option<usize> {
    let dir: PathBuf = root.join(format!("sys/devices/system/cpu/cpu{cpu}"));
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find_map(|e| e.file_name().to_str()?.strip_prefix("node")?.parse().ok())
}

fn numa(root: &Path, cpus: &[usize]) -> Finding {
    const CHECK: &str = "NUMA";
    let nodes = read(root, "sys/devices/system/node/online")
        .map(|s| parse_cpu_list(s.trim()))
        .unwrap_or_default();
    if cpus.is_empty() {
        return finding(
            CHECK,
            Level::Ok,
            format!("{} node(s); no thread pinned", nodes.len().max(1)),
            None,
        );
    }
    let mut per: Vec<String> = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for &c in cpus {
        let n = node_of(root, c);
        per.push(format!(
            "cpu{c}→{}",
            n.map_or("?".into(), |n| format!("node{n}"))
        ));
        if let Some(n) = n
            && !seen.contains(&n)
        {
            seen.push(n);
        }
    }
    if seen.len() > 1 {
        return finding(
            CHECK,
            Level::Warn,
            format!("pinned CPUs span nodes: {}", per.join(" ")),
            Some(
                "keep the pipeline's CPUs on one node, the NIC's \
                  (/sys/class/net/<iface>/device/numa_node)"
                    .into(),
            ),
        );
    }
    finding(CHECK, Level::Ok, per.join(" "), None)
}

fn wait_strategy(engine: &EngineConfig, cpus: &[usize]) -> Option<Finding> {
    let what = match engine.wait {
        WaitKind::BusySpin => return None,
        WaitKind::Yield => "yield on pinned CPUs: each idle poll goes through the scheduler",
        WaitKind::Park => {
            "park on pinned CPUs: the first event after a quiet spell waits for a thread to wake"
        }
    };
    (!cpus.is_empty()).then(|| {
        finding(
            "wait strategy",
            Level::Warn,
            what.into(),
            Some("wait = \"busy-spin\" in [engine] once the pinned CPUs are isolated".into()),
        )
    })
}

fn memlock(engine: &EngineConfig, limits: &Limits) -> Finding {
    const CHECK: &str = "memlock limit";
    let ok = limits.memlock.is_none() || limits.root || limits.cap_ipc_lock;
    let shown = limits
        .memlock
        .map_or("unlimited".into(), |b| format!("{} KiB", b / 1024));
    let change = "`<user> - memlock unlimited` in /etc/security/limits.conf (or \
                  LimitMEMLOCK=infinity in the systemd unit)";
    match (ok, engine.mlockall) {
        (true, on) => finding(
            CHECK,
            Level::Ok,
            format!(
                "{shown}{}; mlockall {}",
                if limits.memlock.is_some() && limits.cap_ipc_lock {
                    " (CAP_IPC_LOCK overrides it)"
                } else {
                    ""
                },
                if on { "on" } else { "off in [engine]" }
            ),
            None,
        ),
        (false, true) => finding(
            CHECK,
            Level::Fail,
            format!("{shown}: too low for mlockall = true in [engine]"),
            Some(change.into()),
        ),
        (false, false) => finding(
            CHECK,
            Level::Warn,
            format!("{shown}: mlockall would fail (it is off in [engine])"),
            Some(format!("{change}, then mlockall = true")),
        ),
    }
}

fn realtime(engine: &EngineConfig, limits: &Limits) -> Finding {
    const CHECK: &str = "SCHED_FIFO permission";
    let permitted = limits.root || limits.cap_sys_nice || limits.rtprio > 0;
    let asked = engine.cpus.realtime_priority;
    let how = if limits.root {
        "root".to_string()
    } else if limits.cap_sys_nice {
        "CAP_SYS_NICE".into()
    } else {
        format!("rtprio limit {}", limits.rtprio)
    };
    let change = "`<user> - rtprio 99` in /etc/security/limits.conf, or setcap \
                  cap_sys_nice+ep on the binary";
    match (permitted, asked) {
        (true, 0) => finding(
            CHECK,
            Level::Ok,
            format!("permitted ({how}); realtime_priority is 0 in [engine.cpus]"),
            None,
        ),
        (true, p) => finding(
            CHECK,
            Level::Ok,
            format!("permitted ({how}); pinned threads get priority {p}"),
            None,
        ),
        (false, 0) => finding(
            CHECK,
            Level::Warn,
            format!("not permitted ({how}); realtime_priority is 0"),
            Some(change.into()),
        ),
        (false, p) => finding(
            CHECK,
            Level::Fail,
            format!("not permitted ({how}) but realtime_priority = {p}"),
            Some(change.into()),
        ),
    }
}

/// The kernel's real-time throttling: SCHED_FIFO threads may run
/// `sched_rt_runtime_us` of every `sched_rt_period_us`, then are stopped
/// for the rest. The core and gateway threads never sleep (they spin or
/// yield), so with throttling on they stop for the whole remainder every
/// period: measured on the development VM as 40–50 ms stalls and a p99 of
/// 38 ms where the same run without throttling had 1.4 µs.
fn rt_throttling(root: &Path, engine: &EngineConfig) -> Finding {
    const CHECK: &str = "real-time throttling";
    let word = |rel: &str| read(root, rel).and_then(|s| s.trim().parse::<i64>().ok());
    let runtime = word("proc/sys/kernel/sched_rt_runtime_us");
    let period = word("proc/sys/kernel/sched_rt_period_us").unwrap_or(1_000_000);
    let asked = engine.cpus.realtime_priority;
    let change = "sysctl -w kernel.sched_rt_runtime_us=-1 (and kernel.sched_rt_runtime_us = -1 \
                  in /etc/sysctl.d/), or realtime_priority = 0";
    match runtime {
        None => finding(
            CHECK,
            Level::Warn,
            "cannot read /proc/sys/kernel/sched_rt_runtime_us".into(),
            None,
        ),
        Some(-1) => finding(
            CHECK,
            Level::Ok,
            "off (sched_rt_runtime_us = -1)".into(),
            None,
        ),
        Some(r) if asked == 0 => finding(
            CHECK,
            Level::Ok,
            format!("on ({r} of every {period} µs), unused: realtime_priority is 0"),
            None,
        ),
        Some(r) => finding(
            CHECK,
            Level::Fail,
            format!(
                "on: the SCHED_FIFO threads (priority {asked}) are stopped for {} ms of every {} ms, \
                 since they never sleep",
                (period - r).max(0) / 1000,
                period / 1000
            ),
            Some(change.into()),
        ),
    }
}

/// Proactive reclaim by DAMON (`kdamond` with a `pageout` scheme, or the
/// `damon_reclaim` module): it pages out memory that was not touched for a
/// while, and the journal's pre-faulted segment pages are untouched until
/// the appender reaches them, so appends fault (on the core thread, in the
/// inline layout) unless memory is locked.
fn reclaim(root: &Path, engine: &EngineConfig) -> Finding {
    const CHECK: &str = "proactive reclaim";
    let kdamonds = root.join("sys/kernel/mm/damon/admin/kdamonds");
    let mut pageout = Vec::new();
    for k in std::fs::read_dir(&kdamonds).into_iter().flatten().flatten() {
        let on = std::fs::read_to_string(k.path().join("state")).is_ok_and(|s| s.trim() == "on");
        let schemes = k.path().join("contexts/0/schemes");
        let pages_out = std::fs::read_dir(schemes)
            .into_iter()
            .flatten()
            .flatten()
            .any(|s| {
                std::fs::read_to_string(s.path().join("action"))
                    .is_ok_and(|a| a.trim() == "pageout")
            });
        if on && pages_out {
            pageout.push(format!("kdamond {}", k.file_name().to_string_lossy()));
        }
    }
    if read(root, "sys/module/damon_reclaim/parameters/enabled").is_some_and(|s| s.trim() == "Y") {
        pageout.push("damon_reclaim".into());
    }
    match (pageout.is_empty(), engine.mlockall) {
        (true, _) => finding(CHECK, Level::Ok, "no DAMON page-out running".into(), None),
        (false, true) => finding(
            CHECK,
            Level::Ok,
            format!(
                "{} pages out cold memory; mlockall keeps ours in",
                pageout.join(", ")
            ),
            None,
        ),
        (false, false) => finding(
            CHECK,
            Level::Warn,
            format!(
                "{} pages out cold memory, the journal's pre-faulted pages included",
                pageout.join(", ")
            ),
            Some("mlockall = true in [engine]".into()),
        ),
    }
}

/// The report: one block per finding, then the verdict. `true`: ready.
pub fn render(findings: &[Finding]) -> (String, bool) {
    let mut s = String::new();
    for f in findings {
        let _ = writeln!(s, "[{}] {:<24} {}", f.level.tag(), f.check, f.found);
        if let Some(c) = &f.change {
            let _ = writeln!(s, "       {:<24} → {c}", "");
        }
    }
    let fails = findings.iter().filter(|f| f.level == Level::Fail).count();
    let warns = findings.iter().filter(|f| f.level == Level::Warn).count();
    let ready = fails == 0;
    let _ = writeln!(
        s,
        "\n{}: {fails} failed, {warns} warnings, {} ok",
        if ready {
            "READY for live trading"
        } else {
            "NOT READY for live trading"
        },
        findings.len() - fails - warns
    );
    (s, ready)
}

mod jitter;
pub use jitter::{Hiccups, hiccups, jitter};

#[cfg(test)]
mod tests;
