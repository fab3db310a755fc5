//! A real run's journal damaged in the middle, read as an investigator
//! would: `replay --until` and `journal export --until` before the damage
//! work and match the undamaged journal digest for digest; past it they are
//! refused with where the damage is and what to do; `journal salvage`
//! copies the intact prefix into a run directory that replays (and
//! verifies) to the same digest, and with `--skip-damaged` everything
//! readable after a gap marker. The damaged original is never modified.

use std::path::{Path, PathBuf};

use autobot_journal::Journal;
use autobot_test_support::Scratch;

use crate::common::{autobot, text};

fn run(args: &[&str], dirs: &[&Path]) -> std::process::Output {
    let mut c = autobot();
    c.args(args);
    for d in dirs {
        c.arg(d);
    }
    c.output().unwrap()
}

/// The replay's output digest line.
fn digest(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", text(o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with("output digest"))
        .unwrap_or_else(|| panic!("no digest in {}", text(o)))
        .to_string()
}

fn segment_bytes(journal: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(journal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dst = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

#[test]
fn a_journal_damaged_in_the_middle_is_read_up_to_the_damage_and_salvaged() {
    let scratch = Scratch::new("salvage-run");
    let base = scratch.path();
    let run_dir = crate::common::finished_run(base);
    let pristine = base.join("pristine");
    copy_dir(&run_dir, &pristine);

    // Damage the payload of an input two thirds in, not in the last
    // segment (1 MiB segments: several).
    let journal = run_dir.join("journal");
    let j = Journal::open(&journal).unwrap();
    assert!(j.segments().len() > 2, "{} segments", j.segments().len());
    let n = j.next_seq();
    let victim = j
        .records()
        .find(|r| !r.meta.is_meta() && r.meta.seq == n * 2 / 3)
        .unwrap();
    let (seg, at, seq) = (
        j.segments()[victim.segment].path.clone(),
        victim.offset + 40 + 8,
        victim.meta.seq,
    );
    drop(j);
    let mut b = std::fs::read(&seg).unwrap();
    b[at] ^= 0x10;
    std::fs::write(&seg, &b).unwrap();
    let damaged = segment_bytes(&journal);
    let before = (seq - 1).to_string();
    let after = (seq + 10).to_string();

    // Before the damage: read, and the same as the undamaged journal.
    let replay = |dir: &Path, until: &str| run(&["replay", "--until", until], &[dir]);
    let want = digest(&replay(&pristine, &before));
    assert_eq!(digest(&replay(&run_dir, &before)), want);
    let export = run(&["journal", "export", "--until", &before], &[&run_dir]);
    assert!(export.status.success(), "{}", text(&export));
    assert_eq!(
        String::from_utf8_lossy(&export.stdout).lines().count() as u64,
        seq
    );

    // At or past it, and without --until: refused, saying where and what
    // to do.
    for o in [
        replay(&run_dir, &after),
        run(&["replay"], &[&run_dir]),
        run(&["journal", "export", "--until", &after], &[&run_dir]),
    ] {
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("damaged") && t.contains(&seg.display().to_string()),
            "{t}"
        );
        assert!(t.contains(&format!("--until {before}")), "{t}");
        assert!(t.contains("journal salvage"), "{t}");
    }

    // Inspect names the damage and describes what precedes it; verify
    // refuses, pointing at both.
    let o = run(&["journal", "inspect"], &[&run_dir]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("DAMAGED: {}", seg.display())),
        "{}",
        text(&o)
    );
    let o = run(&["journal", "verify"], &[&run_dir]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("journal salvage"), "{}", text(&o));

    // Salvage: a run directory that replays and verifies to the same digest.
    let copy = base.join("salvaged");
    let o = run(&["journal", "salvage", "--out"], &[&copy, &run_dir]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("copied {} inputs", group(seq))),
        "{}",
        text(&o)
    );
    assert!(copy.join("config.toml").is_file());
    let verified = run(&["replay", "--verify"], &[&copy]);
    assert_eq!(digest(&verified), want);
    assert!(text(&verified).contains("match"), "{}", text(&verified));

    // Past the damage: one input lost behind a gap marker; the copy replays.
    let skipped = base.join("skipped");
    let o = run(
        &["journal", "salvage", "--skip-damaged", "--out"],
        &[&skipped, &run_dir],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("gap: inputs {seq}..{}", seq + 1)),
        "{}",
        text(&o)
    );
    let all = Journal::open(&skipped.join("journal")).unwrap();
    assert_eq!(all.next_seq(), n);
    assert_eq!(
        all.records().filter(|r| !r.meta.is_meta()).count() as u64,
        n - 1
    );
    let o = run(&["replay"], &[&skipped]);
    assert!(o.status.success(), "{}", text(&o));

    // The damaged original was never written.
    assert_eq!(segment_bytes(&journal), damaged);
}

fn group(n: u64) -> String {
    autobot_tools::text::group(n)
}
