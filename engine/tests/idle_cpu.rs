//! What an idle engine costs the machine. Under `wait = "yield"` every
//! consumer thread polls forever, a whole CPU each whenever nothing else
//! wants it (on a 2-core host the core and the execution thread kept both
//! CPUs at 100% with 1 000 events a second); under `wait = "park"` they
//! sleep on the doorbell and the next event wakes them.
//!
//! One test in its own binary: it reads the process's CPU time, which
//! other tests' threads would add to.

use std::time::Duration;

use autobot_engine::config::{Layout, WaitKind};
use autobot_test_support::Scratch;

mod common;

/// CPU time (user + system) this process has used so far, from
/// `/proc/self/stat` (clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let (_, rest) = stat.rsplit_once(") ").unwrap();
    let fields: Vec<&str> = rest.split(' ').collect();
    // Fields 14 and 15 of stat(5), counted after the command's ") ".
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// CPU time the pipeline used over `window` of no input, after a burst
/// of events; then one more event must still get through.
fn idle_cost(wait: WaitKind, name: &str, window: Duration) -> Duration {
    let dir = Scratch::new(&format!("idle-cpu-{name}"));
    let mut engine = common::engine_config(Layout::Inline);
    engine.wait = wait;
    let started = common::start_fresh(&engine, dir.path());
    let waiter = started.publisher.consumer_waiter();
    let drain = common::drain_outputs(started.outputs, waiter);
    let mut publisher = started.publisher;
    let processed = |n: u64| {
        while started.board.snapshot().events < n {
            std::thread::yield_now();
        }
    };
    for i in 0..1_000 {
        publisher.publish(common::market_event(0, i)).unwrap();
    }
    processed(1_000);
    let before = cpu_time();
    // The measurement itself: nothing to poll for, the engine is idle.
    std::thread::sleep(window);
    let used = cpu_time().saturating_sub(before);
    // A parked core still wakes for the next event.
    publisher.publish(common::market_event(0, 1_000)).unwrap();
    processed(1_001);
    drop(publisher);
    started.handle.join().unwrap();
    drain.join().unwrap();
    used
}

#[test]
fn a_parked_engine_uses_no_cpu_while_the_market_is_quiet() {
    let window = Duration::from_millis(500);
    let parked = idle_cost(WaitKind::Park, "park", window);
    let yielding = idle_cost(WaitKind::Yield, "yield", window);
    // Two polling threads (the core, the output reader) under yield take
    // up to two CPUs for the whole window; parked, they wake once per
    // PARK_TIMEOUT for their idle duties. 10% of one CPU is a wide margin
    // for a loaded CI machine and far below a thread that polls.
    assert!(
        parked <= window / 10,
        "parked: {parked:?} of CPU in {window:?} idle (yield: {yielding:?})"
    );
    eprintln!("idle {window:?}: parked {parked:?} of CPU, yielding {yielding:?}");
}
