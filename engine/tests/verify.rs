//! Replay verification names the exact first divergent input wherever the
//! recorded checkpoints are dense, and a range across the gap a crash left;
//! a gap never produces a false divergence.

use autobot_engine::core::{Core, DiscardSink};
use autobot_engine::replay::{Divergence, ReplayReport, feed};
use autobot_engine::runtime::{Checkpoint, Journaller};
use autobot_engine::types::Seq;
use autobot_journal::Journal;
use autobot_test_support::Scratch;

mod common;

const N: u64 = 20_000;
/// Inputs between periodic checkpoints.
const EVERY: u64 = 1_000;

/// The recording "crashed" after input `crash` (its checkpoints up to there
/// are journaled) and the resumed run restored its core up to `resume`.
#[derive(Clone, Copy)]
struct Gap {
    crash: u64,
    resume: u64,
}

/// What to falsify in the recording.
#[derive(Clone, Copy)]
enum Tamper {
    Nothing,
    /// The checkpoint after this input records another digest.
    DigestAt(u64),
    /// The resumed run's (not dense) first checkpoint records another digest.
    ResumeDigest,
}

/// Journals N inputs with the checkpoints the pipeline writes: one after
/// every input that emitted an output and every EVERY inputs, none in the
/// gap, and a not-dense one where the resumed run starts.
/// Each checkpoint is appended `LAG` inputs after the input it is about, as
/// the dedicated journaller does when the core hands it over late.
const LAG: u64 = 37;

fn record(dir: &std::path::Path, gap: Gap, tamper: Tamper) -> (Journal, u64) {
    // Each recording starts a new journal in the same directory.
    let _ = std::fs::remove_dir_all(dir);
    let (mut j, _) = Journaller::open(autobot_engine::runtime::appender_config(
        &common::journal_config(),
        dir,
    ))
    .unwrap();
    let mut core = Core::new(&common::core_config());
    let mut in_gap_with_output = 0;
    let mut late = std::collections::VecDeque::new();
    for i in 0..N {
        let mut ev = common::market_event(i % 2, i);
        j.append(&mut ev).unwrap();
        while let Some(cp) = late.pop_front_if(|cp: &mut Checkpoint| cp.last_seq + LAG <= i) {
            j.checkpoint(&cp).unwrap();
        }
        let before = core.outputs();
        core.on_event(&ev, &mut DiscardSink);
        let mut cp = Checkpoint {
            last_seq: i,
            digest: core.digest(),
            outputs: core.outputs(),
            dense: true,
        };
        if matches!(tamper, Tamper::DigestAt(s) if s == i) {
            cp.digest ^= 1;
        }
        let emitted = core.outputs() != before;
        let periodic = i % EVERY == EVERY - 1;
        if i == gap.resume {
            cp.dense = false;
            if matches!(tamper, Tamper::ResumeDigest) {
                cp.digest ^= 1;
            }
            late.push_back(cp);
        } else if i > gap.crash && i < gap.resume {
            in_gap_with_output += u64::from(emitted);
        } else if emitted || periodic {
            late.push_back(cp);
        }
    }
    for cp in late {
        j.checkpoint(&cp).unwrap();
    }
    j.end_batch().unwrap();
    drop(j);
    (Journal::open(dir).unwrap(), in_gap_with_output)
}

fn verify(j: &Journal) -> ReplayReport {
    verify_until(j, None)
}

fn verify_until(j: &Journal, until: Option<u64>) -> ReplayReport {
    let mut core = Core::new(&common::core_config());
    feed(
        j,
        &mut core,
        Seq(0),
        until.map(Seq),
        &mut DiscardSink,
        |_, _, _| {},
    )
    .unwrap()
}

/// Inputs of the stream that emit an output, in order.
fn emitting() -> Vec<u64> {
    let mut core = Core::new(&common::core_config());
    (0..N)
        .filter(|&i| {
            let before = core.outputs();
            let mut ev = common::market_event(i % 2, i);
            ev.header.seq = Seq(i);
            core.on_event(&ev, &mut DiscardSink);
            core.outputs() != before
        })
        .collect()
}

#[test]
fn divergence_is_exact_where_dense_and_a_range_across_a_crash_gap() {
    let scratch = Scratch::new("verify");
    let dir = scratch.path().to_path_buf();
    let emitting = emitting();
    assert!(
        emitting.len() >= 2,
        "the stream must make the core trade: {emitting:?}"
    );
    // The crash hides the second emitting input's checkpoint.
    let gap = Gap {
        crash: emitting[0] + 2,
        resume: emitting[1] + 5,
    };
    assert!(gap.resume < EVERY, "no periodic checkpoint inside the gap");

    // Untampered: everything but the gap is verified, nothing diverges.
    let (j, gap_outputs) = record(&dir, gap, Tamper::Nothing);
    assert!(gap_outputs > 0, "the gap must hide some outputs");
    let r = verify(&j);
    assert_eq!(r.divergence, None);
    assert_eq!(r.events, N);
    // Unknown: after the last checkpoint before the crash, up to the resume.
    assert_eq!(r.inputs_verified, N - (gap.resume - 1 - emitting[0]));

    // Up to an input whose checkpoint comes LAG inputs later in the file:
    // still verified.
    let r = verify_until(&j, Some(emitting[0]));
    assert_eq!(r.inputs_verified, emitting[0] + 1);
    assert_eq!((r.events, r.divergence), (emitting[0] + 1, None));

    // A wrong digest before the gap: named exactly.
    let (j, _) = record(&dir, gap, Tamper::DigestAt(emitting[0]));
    let d = verify(&j).divergence.unwrap();
    assert_eq!((d.from, d.at), (Seq(emitting[0]), Seq(emitting[0])));
    assert!(d.exact());

    // A wrong digest at the resumed run's checkpoint: the first divergent
    // input is somewhere in the gap, which is what is reported.
    let (j, _) = record(&dir, gap, Tamper::ResumeDigest);
    let d: Divergence = verify(&j).divergence.unwrap();
    assert_eq!((d.from, d.at), (Seq(emitting[0] + 1), Seq(gap.resume)));
    assert!(!d.exact());

    // After the gap it is exact again (a periodic checkpoint's digest).
    let at = 5 * EVERY - 1;
    let (j, _) = record(&dir, gap, Tamper::DigestAt(at));
    let d = verify(&j).divergence.unwrap();
    assert_eq!((d.from, d.at), (Seq(at), Seq(at)));
}
