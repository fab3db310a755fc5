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

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` into Unix nanoseconds.
pub fn parse_utc(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|x| x.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':').map(|x| x.parse::<i64>().ok());
    let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().ok()? * 10i64.pow(9 - frac.len() as u32)
    };
    let secs = days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs.checked_mul(1_000_000_000)?.checked_add(nanos)?).ok()
}

/// UTC calendar fields of Unix seconds: (year, month, day, hour, minute,
/// second), by H. Hinnant's civil-from-days (no date-time dependency).
pub fn civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Formats Unix nanoseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_utc(ns: u64) -> String {
    let (y, m, d, hh, mm, ss) = civil(ns / 1_000_000_000);
    let ms = ns % 1_000_000_000 / 1_000_000;
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{ms:03}Z")
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
        assert_eq!(
            format_utc(1_704_067_205_250_000_000),
            "2024-01-01T00:00:05.250Z"
        );
    }
}
