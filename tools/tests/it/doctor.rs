//! `autobot doctor` as a script sees it: on this host (CI machines and
//! this VM isolate no CPU) it says so and exits 3; against a tuned host's
//! files with a CPU map that uses them it says ready and exits 0.

use crate::common::autobot;
use autobot_test_support::Scratch;

#[test]
fn this_host_is_examined_and_the_exit_status_tells_a_script() {
    let isolated = std::fs::read_to_string("/sys/devices/system/cpu/isolated").unwrap_or_default();
    let out = autobot().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for check in [
        "isolated CPUs",
        "nohz_full",
        "CPU frequency governor",
        "transparent huge pages",
        "invariant TSC",
        "NUMA",
        "memlock limit",
        "SCHED_FIFO permission",
        "scheduling jitter",
    ] {
        assert!(text.contains(check), "{check} missing:\n{text}");
    }
    // config/paper.toml pins nothing: never ready, whatever the host.
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("NOT READY for live trading"), "{text}");
    if isolated.trim().is_empty() {
        assert!(text.contains("this host isolates no CPU"), "{text}");
    }
}

#[test]
fn a_tuned_host_with_a_matching_cpu_map_is_ready() {
    let scratch = Scratch::new("doctor-cli");
    let root = scratch.path().to_path_buf();
    let files = [
        ("sys/devices/system/cpu/isolated", "1\n"),
        ("sys/devices/system/cpu/nohz_full", "1\n"),
        ("sys/devices/system/cpu/online", "0-1\n"),
        (
            "sys/devices/system/cpu/cpu1/cpufreq/scaling_governor",
            "performance\n",
        ),
        ("sys/devices/system/cpu/cpu1/node0/x", ""),
        ("sys/devices/system/node/online", "0\n"),
        (
            "sys/kernel/mm/transparent_hugepage/enabled",
            "always madvise [never]\n",
        ),
        ("proc/cpuinfo", "flags : tsc constant_tsc nonstop_tsc\n"),
        (
            "sys/devices/system/clocksource/clocksource0/current_clocksource",
            "tsc\n",
        ),
    ];
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    // CPU 1 exists on every CI machine (2 cores).
    let config = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/paper.toml"),
    )
    .unwrap()
    .replace("# core = 4", "core = 1")
    .replace("wait = \"yield\"", "wait = \"busy-spin\"");
    let cfg = root.join("pinned.toml");
    std::fs::write(&cfg, config).unwrap();
    let out = autobot()
        .args(["doctor", "--root"])
        .arg(&root)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CPU map core→1, all isolated"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("READY for live trading") && !text.contains("NOT READY"),
        "{text}"
    );
}
