//! Crash test with real processes: `autobot run` is killed with SIGKILL at
//! pseudo-random moments (a fixed seed, so a failure can be rerun), then the
//! journal must open, hold every sequence once up to its recovered end, take
//! a resumed run, and pass `autobot replay --verify` (from the start and from
//! the snapshot the resumed run left).
//!
//! `CRASH_ITERATIONS` sets the number of kills (20 in `make test`; `make
//! crash-test` runs more).

use autobot_test_support::Scratch;
use std::path::Path;
use std::time::Duration;

use autobot_journal::Journal;

mod common;
use common::{autobot, config, start_run};

/// xorshift64*: a seeded, dependency-free source of kill delays.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Sequence of the oldest snapshot of a run.
fn first_snapshot_seq(run_dir: &Path) -> u64 {
    std::fs::read_dir(run_dir.join("snapshots"))
        .unwrap()
        .filter_map(|e| e.unwrap().path().file_stem()?.to_str()?.parse::<u64>().ok())
        .min()
        .expect("a resumed run that stopped cleanly leaves a snapshot")
}

/// Every input once, in order: the reader validates checksums and dense
/// sequences; this checks the sequence numbers it hands out as well.
fn check_dense(journal: &Path) -> u64 {
    let j = Journal::open(journal).unwrap_or_else(|e| panic!("journal does not open: {e}"));
    let mut next = j.first_seq();
    for r in j.records().filter(|r| !r.meta.is_meta()) {
        assert_eq!(r.meta.seq, next, "duplicated or missing sequence");
        next += 1;
    }
    assert_eq!(next, j.next_seq());
    next
}

#[test]
fn killed_runs_recover_resume_and_replay_identically() {
    let iterations: u64 = std::env::var("CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let scratch = Scratch::new("crash");
    let base = scratch.path().to_path_buf();
    let cfg = config(&base);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut torn_seen = 0;
    for i in 0..iterations {
        let runs = base.join(format!("runs-{i}"));
        std::fs::create_dir_all(&runs).unwrap();
        let (mut child, run_dir) = start_run(&["--duration", "600"], &cfg, &runs);
        // The kill moment is the point of the test, not a wait for a condition.
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let journal = run_dir.join("journal");
        let before = check_dense(&journal);
        if Journal::open(&journal).unwrap().torn().is_some() {
            torn_seen += 1;
        }
        let out = autobot()
            .args(["run", "--events", "3000", "--resume"])
            .arg(&run_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "iteration {i}: resume failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = check_dense(&journal);
        assert!(after >= before + 3000, "iteration {i}: {before} -> {after}");
        if i % 5 == 0 {
            // The resume stopped cleanly and left a snapshot: resuming again
            // restores from it; a replay from that snapshot verifies what the
            // second resume recorded.
            let first_snapshot = first_snapshot_seq(&run_dir);
            let out = autobot()
                .args(["run", "--events", "1000", "--resume"])
                .arg(&run_dir)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "iteration {i}: second resume failed");
            assert!(text.contains("after snapshot"), "iteration {i}: {text}");
            let out = autobot()
                .args(["replay", "--verify", "--snapshot", "--from"])
                .arg((first_snapshot + 1).to_string())
                .arg(&run_dir)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "iteration {i}: replay --snapshot failed:\n{text}"
            );
            assert!(
                text.contains("started from snapshot") && text.contains("verified:"),
                "{text}"
            );
        }
        let out = autobot()
            .args(["replay", "--verify"])
            .arg(&run_dir)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "iteration {i}: replay --verify failed:\n{text}"
        );
        assert!(text.contains("verified"), "{text}");
        std::fs::remove_dir_all(&runs).unwrap();
    }
    eprintln!("{iterations} kills, {torn_seen} left an incomplete record behind");
}
