//! The checks against host trees written out here: the sysfs/procfs files
//! of a tuned host, and of hosts each missing one thing.

use super::*;
use autobot_engine::config::{CpuMap, EngineConfig, Layout, WaitKind};
use autobot_test_support::Scratch;

fn tree(name: &str, files: &[(&str, &str)]) -> Scratch {
    let root = Scratch::new(&format!("doctor-{name}"));
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    root
}

/// A tuned 8-CPU host: 2-5 isolated and tick-less, performance governor,
/// THP on madvise, an invariant TSC as the clock source, one NUMA node.
fn tuned(name: &str, extra: &[(&str, &str)]) -> Scratch {
    let mut files: Vec<(String, String)> = vec![
        ("sys/devices/system/cpu/isolated".into(), "2-5\n".into()),
        ("sys/devices/system/cpu/nohz_full".into(), "2-5\n".into()),
        ("sys/devices/system/cpu/online".into(), "0-7\n".into()),
        ("sys/devices/system/node/online".into(), "0\n".into()),
        (
            "sys/kernel/mm/transparent_hugepage/enabled".into(),
            "always [madvise] never\n".into(),
        ),
        (
            "proc/cpuinfo".into(),
            "processor : 0\nflags : fpu tsc constant_tsc nonstop_tsc avx2\n".into(),
        ),
        (
            "sys/devices/system/clocksource/clocksource0/current_clocksource".into(),
            "tsc\n".into(),
        ),
        ("proc/sys/kernel/sched_rt_runtime_us".into(), "-1\n".into()),
        (
            "proc/sys/kernel/sched_rt_period_us".into(),
            "1000000\n".into(),
        ),
    ];
    for c in 0..8 {
        files.push((
            format!("sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"),
            "performance\n".into(),
        ));
        files.push((
            format!("sys/devices/system/cpu/cpu{c}/node0/x"),
            String::new(),
        ));
    }
    for (k, v) in extra {
        files.retain(|(p, _)| p != k);
        files.push(((*k).into(), (*v).into()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    tree(name, &refs)
}

fn engine(core: Option<usize>, market: Option<usize>, realtime: u8) -> EngineConfig {
    EngineConfig {
        ring_size: 4096,
        output_ring_size: 1024,
        wait: WaitKind::BusySpin,
        layout: Layout::Inline,
        cpus: CpuMap {
            core,
            market,
            execution: core.map(|c| c + 2),
            journal: Some(7), // not used in the inline layout
            realtime_priority: realtime,
        },
        mlockall: true,
    }
}

const ROOT: Limits = Limits {
    memlock: None,
    rtprio: 0,
    root: true,
    cap_sys_nice: false,
    cap_ipc_lock: false,
};

const USER: Limits = Limits {
    memlock: Some(8 << 20),
    rtprio: 0,
    root: false,
    cap_sys_nice: false,
    cap_ipc_lock: false,
};

fn level(findings: &[Finding], check: &str) -> Level {
    findings.iter().find(|f| f.check == check).unwrap().level
}

#[test]
fn a_tuned_host_is_ready() {
    let root = tuned("tuned", &[]);
    let f = examine(&root, &engine(Some(2), Some(3), 50), &ROOT);
    let (text, ready) = render(&f);
    assert!(ready, "{text}");
    assert!(f.iter().all(|f| f.level == Level::Ok), "{text}");
    assert!(text.contains("core→2 market→3 execution→4"), "{text}");
    assert!(
        !text.contains("journal→7"),
        "the inline layout has no journaller"
    );
}

#[test]
fn a_host_without_isolated_cpus_is_not_ready_and_says_what_to_boot_with() {
    let root = tuned("no-isolation", &[("sys/devices/system/cpu/isolated", "\n")]);
    let f = examine(&root, &engine(Some(2), Some(3), 0), &ROOT);
    assert_eq!(level(&f, "isolated CPUs"), Level::Fail);
    let (text, ready) = render(&f);
    assert!(!ready);
    assert!(
        text.contains("isolates no CPU") && text.contains("isolcpus="),
        "{text}"
    );
    assert!(text.contains("NOT READY"), "{text}");

    // Nothing pinned at all: a fail of its own, naming the key to set.
    let f = examine(&root, &engine(None, None, 0), &ROOT);
    let (text, _) = render(&f);
    assert!(text.contains("[engine.cpus] is empty"), "{text}");
}

#[test]
fn each_untuned_setting_is_named() {
    let root = tuned(
        "untuned",
        &[
            (
                "sys/devices/system/cpu/cpu2/cpufreq/scaling_governor",
                "powersave\n",
            ),
            (
                "sys/kernel/mm/transparent_hugepage/enabled",
                "[always] madvise never\n",
            ),
            ("sys/devices/system/cpu/nohz_full", "\n"),
            ("proc/cpuinfo", "flags : fpu tsc\n"),
            ("sys/devices/system/cpu/cpu3/node1/x", ""),
            ("proc/sys/kernel/sched_rt_runtime_us", "950000\n"),
            ("sys/kernel/mm/damon/admin/kdamonds/0/state", "on\n"),
            (
                "sys/kernel/mm/damon/admin/kdamonds/0/contexts/0/schemes/0/action",
                "pageout\n",
            ),
        ],
    );
    // The pinned CPU 6 is outside the isolated 2-5.
    let f = examine(&root, &engine(Some(2), Some(6), 10), &USER);
    let (text, ready) = render(&f);
    assert!(!ready);
    assert_eq!(level(&f, "isolated CPUs"), Level::Fail, "{text}");
    assert!(text.contains("6 not isolated"), "{text}");
    assert_eq!(level(&f, "CPU frequency governor"), Level::Fail);
    assert!(text.contains("cpu2=powersave"), "{text}");
    assert_eq!(level(&f, "transparent huge pages"), Level::Warn);
    assert_eq!(level(&f, "nohz_full"), Level::Warn);
    assert_eq!(level(&f, "invariant TSC"), Level::Fail);
    assert_eq!(
        level(&f, "memlock limit"),
        Level::Fail,
        "mlockall asked, 8 MiB limit"
    );
    assert_eq!(
        level(&f, "SCHED_FIFO permission"),
        Level::Fail,
        "priority 10 asked"
    );
    assert_eq!(level(&f, "real-time throttling"), Level::Fail, "{text}");
    assert!(
        text.contains("stopped for 50 ms of every 1000 ms") && text.contains("=-1"),
        "{text}"
    );
    // mlockall is on in this config: DAMON cannot take the journal's pages.
    assert_eq!(level(&f, "proactive reclaim"), Level::Ok, "{text}");
    let mut unlocked = engine(Some(2), Some(6), 0);
    unlocked.mlockall = false;
    let f = examine(&root, &unlocked, &USER);
    assert_eq!(level(&f, "proactive reclaim"), Level::Warn);
    assert_eq!(
        level(&f, "real-time throttling"),
        Level::Ok,
        "no SCHED_FIFO asked"
    );
}

#[test]
fn a_vm_without_cpufreq_is_a_warning() {
    let root = tuned("vm", &[]);
    for c in 0..8 {
        let _ = std::fs::remove_file(root.join(format!(
            "sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"
        )));
    }
    let f = examine(&root, &engine(Some(2), Some(3), 0), &ROOT);
    assert_eq!(level(&f, "CPU frequency governor"), Level::Warn);
}

#[test]
fn a_spinning_thread_counts_the_gaps_it_sees() {
    let h = hiccups(0, std::time::Duration::from_millis(50)).expect("CPU 0 exists");
    assert_eq!(h.cpu, 0);
    assert!(h.spun_ns >= 50_000_000, "{h:?}");
    assert!(h.over_100us <= h.over_10us, "{h:?}");
    // Each counted gap is over 10 µs, and all of them fit in the time spun.
    assert!(
        h.lost_ns >= h.over_10us * 10_000 && h.lost_ns <= h.spun_ns,
        "{h:?}"
    );
    // The longest gap is at least as long as any it counted.
    if h.over_100us > 0 {
        assert!(h.max_ns > 100_000, "{h:?}");
    }
    let f = jitter(
        &engine(Some(0), None, 0),
        std::time::Duration::from_millis(20),
    );
    assert_eq!(f.check, "scheduling jitter");
    assert!(f.found.contains("cpu0:"), "{}", f.found);
}

#[test]
fn pinned_threads_that_yield_or_park_are_a_warning_naming_the_cost() {
    let root = tuned("wait", &[]);
    for (wait, says) in [
        (WaitKind::Yield, "goes through the scheduler"),
        (WaitKind::Park, "waits for a thread to wake"),
    ] {
        let e = EngineConfig {
            wait,
            ..engine(Some(2), Some(3), 0)
        };
        let f = examine(&root, &e, &ROOT);
        assert_eq!(level(&f, "wait strategy"), Level::Warn, "{wait:?}");
        let (text, _) = render(&f);
        assert!(text.contains(says), "{text}");
    }
    // Unpinned, either is what a shared host should use: nothing to say.
    let e = EngineConfig {
        wait: WaitKind::Park,
        ..engine(None, None, 0)
    };
    assert!(
        examine(&root, &e, &ROOT)
            .iter()
            .all(|f| f.check != "wait strategy")
    );
}
