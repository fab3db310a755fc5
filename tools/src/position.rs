//! `--from` / `--until` arguments: a sequence number or a UTC time.

use std::str::FromStr;

/// A point in a journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// An input sequence.
    Seq(u64),
    /// A UTC time, Unix nanoseconds (matched against exchange time).
    Time(u64),
}

impl FromStr for Position {
    type Err = String;

    /// `12345` (a sequence) or `2024-01-01T00:00:05Z` / `2024-01-01T00:00:05.250Z`.
    fn from_str(s: &str) -> Result<Position, String> {
        if let Ok(seq) = s.parse::<u64>() {
            return Ok(Position::Seq(seq));
        }
        parse_utc(s).map(Position::Time).ok_or_else(|| {
            format!("'{s}' is neither a sequence number nor a UTC time like 2024-01-01T00:00:05Z")
        })
    }
}

impl Position {
    /// The input sequence this position names in `journal`: a time names the
    /// first input at or after it, or with `end` the last input at or before it.
    pub fn seq_in(self, journal: &autobot_journal::Journal, end: bool) -> u64 {
        match self {
            Position::Seq(s) => s,
            Position::Time(t) if end => journal.seq_at_time(t.saturating_add(1)).saturating_sub(1),
            Position::Time(t) => journal.seq_at_time(t),
        }
    }
}

/// Opens the journal in `dir` for reading up to `until`: the whole
/// journal, or, when it is damaged after `until`, its intact prefix (with a
/// note on `note`). Damage at or before `until` (or anywhere, without
/// `until`) is refused with where it is and how to read what precedes it.
pub fn open_until(
    dir: &std::path::Path,
    until: Option<Position>,
    note: &mut dyn std::io::Write,
) -> anyhow::Result<autobot_journal::Journal> {
    use autobot_journal::Journal;
    let whole_err = match Journal::open(dir) {
        Ok(j) => return Ok(j),
        Err(e) => e,
    };
    // Not a journal, or damage before any record: the first error says it.
    let Ok(intact) = Journal::open_intact(dir) else {
        return Err(whole_err.into());
    };
    let Some(damage) = intact.damage().cloned() else {
        return Ok(intact);
    };
    // A time names the last input at or before it: it is inside the prefix
    // only if an intact input comes after it.
    let inside = match until {
        Some(Position::Seq(s)) => s < damage.next_seq,
        Some(Position::Time(t)) => intact.seq_at_time(t.saturating_add(1)) < intact.next_seq(),
        None => false,
    };
    let intact_to = match damage.next_seq.checked_sub(1) {
        Some(last) => format!("--until {last} reads inputs 0..={last}, which are intact;"),
        None => "no input before it is intact;".to_string(),
    };
    if !inside {
        anyhow::bail!(
            "the journal is damaged: {damage}
  {intact_to} `autobot journal salvage {} --out NEW_DIR` copies them (--skip-damaged: and what is readable after)",
            dir.display()
        );
    }
    writeln!(
        note,
        "note: the journal is damaged after the range asked for ({damage}); reading the intact inputs before it"
    )?;
    Ok(intact)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` into Unix nanoseconds (`None`
/// for anything else, a day the month does not have included).
pub fn parse_utc(s: &str) -> Option<u64> {
    // jiff would take any offset; these arguments are UTC, said with `Z`.
    if !s.ends_with('Z') {
        return None;
    }
    let t: jiff::Timestamp = s.parse().ok()?;
    u64::try_from(t.as_nanosecond()).ok()
}

/// The UTC time of Unix nanoseconds.
fn utc(ns: u64) -> jiff::Timestamp {
    jiff::Timestamp::from_nanosecond(i128::from(ns)).unwrap_or(jiff::Timestamp::MAX)
}

/// Formats Unix nanoseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_utc(ns: u64) -> String {
    utc(ns).strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Formats Unix seconds as `YYYYMMDD-HHMMSS` (run directory names).
pub fn compact_utc(secs: u64) -> String {
    utc(secs.saturating_mul(1_000_000_000))
        .strftime("%Y%m%d-%H%M%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sequences_and_times() {
        assert_eq!("42".parse(), Ok(Position::Seq(42)));
        assert_eq!(
            "2024-01-01T00:00:05Z".parse(),
            Ok(Position::Time(1_704_067_205_000_000_000))
        );
        assert_eq!(
            parse_utc("2024-01-01T00:00:05.25Z"),
            Some(1_704_067_205_250_000_000)
        );
        assert!("yesterday".parse::<Position>().is_err());
        assert_eq!(parse_utc("2024-13-01T00:00:00Z"), None);
        // Days a month does not have, and a leap day of a common year.
        assert_eq!(parse_utc("2024-02-31T00:00:00Z"), None);
        assert_eq!(parse_utc("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_utc("2024-04-31T12:00:00Z"), None);
        assert_eq!(
            parse_utc("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000_000_000)
        );
        assert_eq!(
            format_utc(1_704_067_205_250_000_000),
            "2024-01-01T00:00:05.250Z"
        );
    }
}
