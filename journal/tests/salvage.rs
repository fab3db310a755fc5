//! Reading and salvaging a journal damaged in the middle, on real files: for
//! damage at a random byte of a random record, the intact prefix reads
//! exactly the records before the damaged one, a salvage copies exactly
//! those (and with `skip_damaged`, every later record after a gap marker),
//! and the original files are unchanged byte for byte.

use autobot_test_support::Scratch;
use std::path::{Path, PathBuf};

use autobot_journal::format::KIND_GAP;
use autobot_journal::{Appender, AppenderConfig, Durability, Journal, RecordMeta, salvage};
use proptest::prelude::*;

const SEG: u64 = 16 * 1024;
/// Inputs written; a checkpoint follows every tenth.
const N: u64 = 600;

fn cfg(dir: &Path) -> AppenderConfig {
    AppenderConfig {
        dir: dir.to_path_buf(),
        segment_size: SEG,
        durability: Durability::None,
    }
}

fn payload(seq: u64) -> Vec<u8> {
    (0..40 + seq % 50)
        .map(|i| (seq as u8) ^ (i as u8).wrapping_mul(31))
        .collect()
}

fn meta(seq: u64) -> RecordMeta {
    RecordMeta {
        kind: 7,
        flags: 0,
        seq,
        recv: seq * 10,
        exchange: 1_000_000 + seq,
    }
}

/// `N` inputs over several segments, with checkpoints.
fn write(dir: &Path) {
    let (mut app, _) = Appender::open(cfg(dir)).unwrap();
    for seq in 0..N {
        app.append(&meta(seq), &payload(seq)).unwrap();
        if seq % 10 == 9 {
            app.append_meta(1, seq, &seq.to_le_bytes()).unwrap();
        }
    }
    app.end_batch().unwrap();
}

/// Every record as (is meta, seq, payload).
fn records(j: &Journal) -> Vec<(bool, u64, Vec<u8>)> {
    j.records()
        .map(|r| (r.meta.is_meta(), r.meta.seq, r.payload.to_vec()))
        .collect()
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_intact_prefix_is_read_and_salvaged_exactly(victim in 0usize..600, at in 0usize..1000) {
        let scratch = Scratch::new("salvage");
        let src = scratch.path().join("src");
        write(&src);
        let whole = records(&Journal::open(&src).unwrap());
        // Damage record `victim` (of the inputs and checkpoints, not the
        // last segment's last few) at a byte of its header or payload.
        let j = Journal::open(&src).unwrap();
        let victim = victim % (whole.len() - 5);
        let rec = j.records().nth(victim).unwrap();
        let seg = j.segments()[rec.segment].path.clone();
        let span = 40 + rec.payload.len();
        // Not the length word: a zeroed or huge length reads as a torn or
        // overlong record, covered by the torn-tail tests.
        let byte = rec.offset + 4 + at % (span - 4);
        drop(j);
        let mut b = std::fs::read(&seg).unwrap();
        b[byte] ^= 0x5a;
        std::fs::write(&seg, &b).unwrap();
        let before = files(&src);

        // The whole journal is refused; its intact prefix reads.
        prop_assert!(Journal::open(&src).is_err());
        let intact = Journal::open_intact(&src).unwrap();
        let damage = intact.damage().cloned().unwrap();
        prop_assert_eq!(&damage.path, &seg);
        prop_assert_eq!(records(&intact), whole[..victim].to_vec());
        let next_input = whole[victim..].iter().find(|r| !r.0).map_or(N, |r| r.1);
        prop_assert_eq!(damage.next_seq, next_input);
        drop(intact);

        // Salvage: exactly the prefix, a journal that opens whole.
        let out = scratch.path().join("prefix");
        let report = salvage(&src, cfg(&out), false).unwrap();
        let copy = Journal::open(&out).unwrap();
        prop_assert_eq!(records(&copy), whole[..victim].to_vec());
        prop_assert_eq!(report.inputs, whole[..victim].iter().filter(|r| !r.0).count() as u64);

        // Skipping the damage: everything but the damaged record, the
        // checkpoints after it dropped, a gap marker where an input was lost.
        let out = scratch.path().join("skip");
        let report = salvage(&src, cfg(&out), true).unwrap();
        let copy = Journal::open(&out).unwrap();
        let got = records(&copy);
        let lost_input = !whole[victim].0;
        let mut want: Vec<_> = whole[..victim].to_vec();
        if lost_input {
            let s = whole[victim].1;
            let mut marker = s.to_le_bytes().to_vec();
            marker.extend_from_slice(&[0; 16]);
            want.push((true, s + 1, marker));
        }
        want.extend(whole[victim + 1..].iter().filter(|r| !r.0).cloned());
        // Gap payloads name the source offset: compare their first word.
        let trim = |v: &[(bool, u64, Vec<u8>)]| -> Vec<(bool, u64, Vec<u8>)> {
            v.iter().map(|(m, s, p)| (*m, *s, if *m && p.len() == 24 { p[..8].to_vec() } else { p.clone() })).collect()
        };
        prop_assert_eq!(trim(&got), trim(&want));
        prop_assert_eq!(report.gaps.len(), usize::from(lost_input));
        prop_assert_eq!(copy.next_seq(), N);
        let gaps = copy.records().filter(|r| r.meta.is_meta() && r.meta.kind == KIND_GAP).count();
        prop_assert_eq!(gaps, usize::from(lost_input));

        // The original is untouched.
        prop_assert_eq!(files(&src), before);
    }
}

#[test]
fn a_salvage_refuses_an_output_that_holds_files() {
    let scratch = Scratch::new("salvage-out");
    let src = scratch.path().join("src");
    write(&src);
    let out = scratch.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("x"), "x").unwrap();
    let e = salvage(&src, cfg(&out), false).unwrap_err();
    assert!(e.to_string().contains("new or empty"), "{e}");
}

/// A whole checkpoint record at the tail whose checksum fails: resume
/// removes it as a torn tail (it may be a crash's leftover), but says what
/// it was and keeps its bytes beside the segment first.
#[test]
fn a_damaged_checkpoint_at_the_tail_is_named_and_kept_before_resume_drops_it() {
    let scratch = Scratch::new("salvage-tail");
    let dir = scratch.path().join("j");
    write(&dir);
    let j = Journal::open(&dir).unwrap();
    let last = j.records().last().unwrap();
    assert!(last.meta.is_meta(), "the journal ends with a checkpoint");
    let (seg, off, about) = (
        j.segments()[last.segment].path.clone(),
        last.offset,
        last.meta.seq,
    );
    drop(j);
    let mut b = std::fs::read(&seg).unwrap();
    b[off + 40] ^= 0xff;
    let damaged = b[off..off + 48].to_vec();
    std::fs::write(&seg, &b).unwrap();
    let (_, report) = Appender::open(cfg(&dir)).unwrap();
    let (path, at, _, what) = report.truncated.clone().unwrap();
    assert_eq!((path, at), (seg.clone(), off as u64));
    assert!(
        what.contains(&format!(
            "checkpoint or stamp record (kind 1, about input {about})"
        )),
        "{what}"
    );
    let kept = report.kept.unwrap();
    assert_eq!(kept, seg.with_extension(format!("torn-{off}")));
    // Up to its last non-zero byte (the padding after it is zeros).
    let mut want = damaged;
    while want.last() == Some(&0) {
        want.pop();
    }
    assert_eq!(std::fs::read(&kept).unwrap(), want);
    // The journal reads whole without it, and the copy does not confuse
    // the reader.
    assert_eq!(Journal::open(&dir).unwrap().next_seq(), N);
}
