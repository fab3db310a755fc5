//! A run's latency from its journal alone: the stamps in each input's
//! header (parse, publish, journal written) and the stamp records the
//! core and execution threads journal after it (core start, decision out,
//! order sent; see `autobot_engine::runtime::stamps`).
//!
//! A core stamp record follows the inputs it is about (the core sees an
//! input only once it is journaled), so inputs wait in a queue, in
//! sequence order, until their core stamps arrive. Inputs a run never
//! stamped (replayed into a restored core, lost to a crash before the
//! batch was flushed, or from a build before stamp records) leave the
//! queue unmatched when a later stamp passes them, or when the queue holds
//! [`MAX_WAITING`] inputs.

use std::collections::VecDeque;
use std::path::Path;

use autobot_engine::runtime::latency::{Stage, StageHistograms, is_market_data};
use autobot_engine::runtime::stamps::{
    CoreStamp, KIND_CORE_STAMPS, KIND_SENT_STAMPS, SentStamp, decode_record,
};
use autobot_engine::types::Seq;

use super::{Distribution, LatencyError, distributions};

/// Inputs kept waiting for their core stamps. A live run flushes its stamps
/// within 0.1 s, and its meta ring holds at most 4 096 × 32 stamps: far fewer.
const MAX_WAITING: usize = 1 << 20;

/// What the core stamps of an input need from its record.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    seq: Seq,
    /// Ring publish, ns after `recv` (0: not stamped).
    published: u32,
    /// Market data with a receive time (`tick_to_decision`).
    tick: bool,
}

/// Every stage a journal's stamps give (a run directory or the journal
/// directory itself), as distributions.
pub fn from_journal(dir: &Path) -> Result<Vec<(Stage, Distribution)>, LatencyError> {
    let path = crate::text::journal_dir(dir);
    let fail = |reason: String| LatencyError::Journal {
        path: path.clone(),
        reason,
    };
    let journal = autobot_journal::Journal::open(&path).map_err(|e| fail(e.to_string()))?;
    let mut stages = StageHistograms::new();
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    for rec in journal.records() {
        if rec.meta.is_meta() {
            match rec.meta.kind {
                KIND_CORE_STAMPS => {
                    for s in decode_record::<CoreStamp>(&rec).map_err(&fail)? {
                        core_stamp(&mut stages, &mut waiting, s);
                    }
                }
                KIND_SENT_STAMPS => {
                    for s in decode_record::<SentStamp>(&rec).map_err(&fail)? {
                        stages.record(Stage::TickToOrder, u64::from(s.sent));
                    }
                }
                _ => {}
            }
            continue;
        }
        let ev = autobot_engine::event::input_from_bytes(rec.payload).map_err(|e| {
            fail(format!(
                "input {} (segment {}, offset {}): {}",
                rec.meta.seq, rec.segment, rec.offset, e.0
            ))
        })?;
        stages.record_stamps(&ev);
        if waiting.len() == MAX_WAITING {
            waiting.pop_front();
        }
        waiting.push_back(Waiting {
            seq: Seq(rec.meta.seq),
            published: ev.header.stamps.published,
            tick: is_market_data(&ev.body) && ev.header.recv.0 != 0,
        });
    }
    let found = distributions(&stages);
    if found.is_empty() {
        return Err(LatencyError::NoStamps { path });
    }
    Ok(found)
}

/// Records the core stages of the input `s` is about, if it is waiting.
fn core_stamp(stages: &mut StageHistograms, waiting: &mut VecDeque<Waiting>, s: CoreStamp) {
    while waiting.front().is_some_and(|w| w.seq < s.seq) {
        waiting.pop_front();
    }
    if let Some(w) = waiting.front().copied().filter(|w| w.seq == s.seq) {
        waiting.pop_front();
        stages.record_core_since(w.published, u64::from(s.start), u64::from(s.done), w.tick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_stamps_meet_their_inputs_and_skip_unstamped_ones() {
        let mut stages = StageHistograms::new();
        let mut waiting: VecDeque<Waiting> = (1..=4)
            .map(|i| Waiting {
                seq: Seq(i),
                published: 100,
                tick: i % 2 == 0,
            })
            .collect();
        // Input 1 was never stamped (a restored core replayed it).
        for seq in 2..=4 {
            let s = CoreStamp {
                seq: Seq(seq),
                start: 400,
                done: 1_000,
            };
            core_stamp(&mut stages, &mut waiting, s);
        }
        assert!(waiting.is_empty());
        assert_eq!(stages.get(Stage::Decide).len(), 3);
        assert_eq!(stages.get(Stage::Dispatch).max(), 300);
        assert_eq!(stages.get(Stage::PublishToDecision).max(), 900);
        assert_eq!(stages.get(Stage::TickToDecision).len(), 2, "inputs 2 and 4");
        // A stamp for an input no longer waiting changes nothing.
        let late = CoreStamp {
            seq: Seq(3),
            start: 1,
            done: 2,
        };
        core_stamp(&mut stages, &mut waiting, late);
        assert_eq!(stages.get(Stage::Decide).len(), 3);
    }
}
