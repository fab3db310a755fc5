//! A journal tailed from another process while `autobot run` writes it: the
//! tailer delivers every input, once, in order, byte-identical to what the
//! journal holds afterwards, across segment rolls.

use autobot_test_support::Scratch;
use std::time::{Duration, Instant};

use autobot_journal::{Journal, Tailer};

use crate::common::{config, start_run};

#[test]
fn a_journal_written_by_another_process_is_tailed_whole_and_in_order() {
    let scratch = Scratch::new("tail");
    let base = scratch.path().to_path_buf();
    let runs = base.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    let cfg = config(&base);
    // About 2 s of market at 100k events/s, over many 1 MiB segments.
    let (mut child, run_dir) = start_run(&["--events", "200000"], &cfg, &runs);
    let journal = run_dir.join("journal");

    let mut tailer = Tailer::new(&journal, 0);
    let mut seen: Vec<(u64, Vec<u8>)> = Vec::new();
    // Polls that delivered inputs before the writer was seen to exit: more
    // than one means the journal grew while it was being read.
    let (mut polls_while_running, mut exited) = (0usize, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = tailer
            .poll(|meta, payload| seen.push((meta.seq, payload.to_vec())))
            .unwrap();
        if exited.is_none() {
            polls_while_running += usize::from(n > 0);
            exited = child.try_wait().unwrap();
        } else if n == 0 {
            // The writer is gone and the tailer found nothing more.
            break;
        }
        assert!(Instant::now() < deadline, "tailing took over 120 s");
        if n == 0 {
            std::thread::yield_now();
        }
    }
    assert!(exited.unwrap().success(), "autobot run failed");
    assert!(
        polls_while_running > 1,
        "the tailer must have read while the writer was running"
    );

    let j = Journal::open(&journal).unwrap();
    assert!(j.segments().len() > 3, "the run must roll segments");
    let inputs: Vec<_> = j.records().filter(|r| !r.meta.is_meta()).collect();
    assert_eq!(seen.len(), inputs.len(), "every input delivered once");
    for ((seq, payload), rec) in seen.iter().zip(&inputs) {
        assert_eq!(*seq, rec.meta.seq);
        assert_eq!(payload.as_slice(), rec.payload, "input {seq} differs");
    }
    assert_eq!(tailer.next_seq(), j.next_seq());
    eprintln!(
        "tailed {} inputs over {} segments in {polls_while_running} polls while the writer ran",
        seen.len(),
        j.segments().len()
    );
}
