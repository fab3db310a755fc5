//! Latency files and tables: a run's per-stage histograms written as
//! `.hgrm` files in `RUN_DIR/latency/`, read back (from this build or any
//! HdrHistogram tool's output), and shown as a percentile table.
//!
//! Reading refuses, with the file and line: a directory without `.hgrm`
//! files, a file whose name is not a known stage, a line that is not a
//! percentile row, percentiles or counts that go backwards, and a file
//! without its footer (a file cut short). Nothing is printed or written
//! for a run until every one of its files has been read.
//!
//! A journal alone also gives every stage but `delivery` (the event
//! headers' stamps and the journal's stamp records), so an incident's
//! latency can be read after the fact ([`from_journal`]).

pub mod collector;
pub mod html;
mod journal;

pub use journal::from_journal;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use autobot_engine::runtime::latency::{Stage, StageHistograms, TICKS_PER_HALF_DISTANCE, to_hgrm};

/// The percentiles of the tables, as quantiles.
pub const QUANTILES: [(f64, &str); 5] = [
    (0.50, "p50"),
    (0.90, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
    (0.9999, "p99.99"),
];

/// Why latency files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LatencyError {
    /// The directory or a file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The run directory has no histograms.
    #[error("{}: no .hgrm files (a run writes them into RUN_DIR/latency/ when it stops)", dir.display())]
    NoHistograms {
        /// The directory searched.
        dir: PathBuf,
    },
    /// A file is named after no stage.
    #[error("{}: `{name}` is not a stage (stages: {})", path.display(), stage_names())]
    UnknownStage {
        /// The file.
        path: PathBuf,
        /// Its stem.
        name: String,
    },
    /// The journal could not be read.
    #[error("{}: {reason}", path.display())]
    Journal {
        /// The journal directory.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The journal holds no stamped event (imported journals carry none).
    #[error("{}: no event in the journal carries latency stamps (imported or backtest journals have none)", path.display())]
    NoStamps {
        /// The journal directory.
        path: PathBuf,
    },
    /// A file is not a percentile distribution.
    #[error("{}:{line}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The 1-based line (0: the file as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

fn stage_names() -> String {
    Stage::ALL.map(Stage::name).join(", ")
}

/// One stage's percentile distribution, as read from an `.hgrm` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    /// `(value in ns, quantile)` rows, both non-decreasing.
    pub points: Vec<(f64, f64)>,
    /// Values recorded.
    pub count: u64,
    /// Largest value, ns.
    pub max_ns: f64,
}

impl Distribution {
    /// The distribution of a histogram: the rows of its `.hgrm` file.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Distribution {
        Distribution {
            points: h
                .iter_quantiles(TICKS_PER_HALF_DISTANCE)
                .map(|v| (v.value_iterated_to() as f64, v.quantile_iterated_to()))
                .collect(),
            count: h.len(),
            max_ns: h.max() as f64,
        }
    }

    /// The value (ns) at quantile `q`: the first row at or above it.
    pub fn value_at(&self, q: f64) -> f64 {
        self.points
            .iter()
            .find(|(_, at)| *at >= q)
            .map_or(self.max_ns, |(v, _)| *v)
    }

    /// Parses `.hgrm` text (values in microseconds, HdrHistogram's
    /// default output scaling); `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Distribution, LatencyError> {
        let corrupt = |line: usize, reason: String| LatencyError::Corrupt {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut points: Vec<(f64, f64)> = Vec::new();
        let (mut last_total, mut footer) = (0u64, None);
        let mut header = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let n = i + 1;
            if line.is_empty() {
                continue;
            }
            if line.starts_with("Value") {
                header = true;
                continue;
            }
            if let Some(rest) = line.strip_prefix("#[Max") {
                footer = Some(
                    parse_footer(rest)
                        .ok_or_else(|| corrupt(n, format!("unreadable footer `{line}`")))?,
                );
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            if !header {
                return Err(corrupt(
                    n,
                    "expected the `Value Percentile TotalCount 1/(1-Percentile)` header first"
                        .into(),
                ));
            }
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (value, q, total) = match cols.as_slice() {
                [v, q, t] | [v, q, t, _] => (v.parse::<f64>(), q.parse::<f64>(), t.parse::<u64>()),
                _ => {
                    return Err(corrupt(
                        n,
                        format!(
                            "expected `value percentile total [1/(1-percentile)]`, got `{line}`"
                        ),
                    ));
                }
            };
            let (Ok(value), Ok(q), Ok(total)) = (value, q, total) else {
                return Err(corrupt(n, format!("not numbers: `{line}`")));
            };
            if !(value.is_finite() && value >= 0.0 && (0.0..=1.0).contains(&q)) {
                return Err(corrupt(
                    n,
                    format!("value or percentile out of range: `{line}`"),
                ));
            }
            let value = value * 1000.0;
            if let Some(&(v0, q0)) = points.last()
                && (value < v0 || q < q0 || total < last_total)
            {
                return Err(corrupt(
                    n,
                    "values, percentiles and counts must not decrease".into(),
                ));
            }
            last_total = total;
            points.push((value, q));
        }
        let Some((max_us, count)) = footer else {
            return Err(corrupt(
                0,
                "no `#[Max = …, Total count = …]` footer: the file is cut short".into(),
            ));
        };
        if points.is_empty() {
            return Err(corrupt(0, "no percentile rows".into()));
        }
        Ok(Distribution {
            points,
            count,
            max_ns: max_us * 1000.0,
        })
    }
}

/// `     = 12.3, Total count    =  45]` → (12.3, 45).
fn parse_footer(rest: &str) -> Option<(f64, u64)> {
    let rest = rest.trim().strip_suffix(']')?;
    let (max, total) = rest.split_once(',')?;
    let max = max.trim().strip_prefix('=')?.trim().parse().ok()?;
    let total = total
        .trim()
        .strip_prefix("Total count")?
        .trim()
        .strip_prefix('=')?
        .trim()
        .parse()
        .ok()?;
    Some((max, total))
}

/// The `latency/` directory of a run.
pub fn dir_of(run_dir: &Path) -> PathBuf {
    run_dir.join("latency")
}

/// Writes one `<stage>.hgrm` per recorded stage into `RUN_DIR/latency/`.
pub fn write_run(run_dir: &Path, stages: &StageHistograms) -> std::io::Result<Vec<PathBuf>> {
    let dir = dir_of(run_dir);
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (stage, h) in stages.recorded() {
        let path = dir.join(format!("{}.hgrm", stage.name()));
        write_whole(&path, &to_hgrm(h))?;
        written.push(path);
    }
    Ok(written)
}

/// The distributions of a run directory (or of a `latency/` directory
/// itself), in stage order.
pub fn read_run(run_dir: &Path) -> Result<Vec<(Stage, Distribution)>, LatencyError> {
    let dir = if run_dir.join("latency").is_dir() {
        dir_of(run_dir)
    } else {
        run_dir.to_path_buf()
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LatencyError::Io { path, source }
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let path = entry.map_err(io(&dir))?.path();
        if path.extension().is_none_or(|e| e != "hgrm") {
            continue;
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(stage) = Stage::from_name(&name) else {
            return Err(LatencyError::UnknownStage { path, name });
        };
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        found.push((stage, Distribution::parse(&path, &text)?));
    }
    if found.is_empty() {
        return Err(LatencyError::NoHistograms { dir });
    }
    found.sort_by_key(|(s, _)| *s);
    Ok(found)
}

/// Writes `text` to `path` whole or not at all (a temporary file renamed
/// over it), so a reader never sees half a page.
pub fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    crate::whole::write(path, text)
}

/// The run directory a report path belongs to: the path itself, or its
/// parent when it is a run's `latency/` or `journal/` directory.
pub fn run_root(path: &Path) -> PathBuf {
    let inner = path
        .file_name()
        .is_some_and(|n| n == "latency" || n == "journal");
    match path.parent() {
        Some(parent) if inner && !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

/// A duration in ns, in the unit that reads best.
pub fn ns(v: f64) -> String {
    if v < 1_000.0 {
        format!("{v:.0} ns")
    } else if v < 1_000_000.0 {
        format!("{:.2} µs", v / 1e3)
    } else if v < 1e9 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// The percentile table of `rows` (`label`, per-stage distributions).
pub fn table(runs: &[(String, Vec<(Stage, Distribution)>)]) -> String {
    let mut s = String::new();
    let _ = write!(s, "{:<20} {:<30}", "stage", "");
    if runs.len() > 1 {
        let _ = write!(s, " {:<10}", "run");
    }
    for (_, name) in QUANTILES {
        let _ = write!(s, " {name:>10}");
    }
    let _ = writeln!(s, " {:>10} {:>12}", "max", "count");
    for stage in Stage::ALL {
        for (label, dists) in runs {
            let Some((_, d)) = dists.iter().find(|(s, _)| *s == stage) else {
                continue;
            };
            let _ = write!(s, "{:<20} {:<30}", stage.name(), stage.describe());
            if runs.len() > 1 {
                let _ = write!(s, " {label:<10}");
            }
            for (q, _) in QUANTILES {
                let _ = write!(s, " {:>10}", ns(d.value_at(q)));
            }
            let _ = writeln!(s, " {:>10} {:>12}", ns(d.max_ns), d.count);
        }
    }
    s
}

/// The distributions of in-memory histograms (the rows their files hold).
pub fn distributions(stages: &StageHistograms) -> Vec<(Stage, Distribution)> {
    stages
        .recorded()
        .map(|(s, h)| (s, Distribution::of(h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded() -> StageHistograms {
        let mut h = StageHistograms::new();
        for v in 1..=10_000u64 {
            h.record(Stage::Decide, v * 10);
        }
        h.record(Stage::Parse, 1_500);
        h
    }

    #[test]
    fn an_hgrm_reads_back_with_its_percentiles() {
        let h = recorded();
        let text = to_hgrm(h.get(Stage::Decide));
        let d = Distribution::parse(Path::new("decide.hgrm"), &text).unwrap();
        assert_eq!(d.count, 10_000);
        assert!((d.max_ns - 100_000.0).abs() <= 100.0, "{}", d.max_ns);
        // 3 significant digits: within 0.1 % of the exact percentile.
        for (q, exact) in [(0.5, 50_000.0), (0.9, 90_000.0), (0.99, 99_000.0)] {
            let v = d.value_at(q);
            assert!((v - exact).abs() / exact < 0.002, "p{q}: {v} vs {exact}");
        }
    }

    #[test]
    fn corrupt_files_are_refused_with_their_line() {
        let good = to_hgrm(recorded().get(Stage::Decide));
        let p = Path::new("decide.hgrm");
        let cut: String = good.lines().take(10).collect::<Vec<_>>().join("\n");
        assert!(
            matches!(
                Distribution::parse(p, &cut),
                Err(LatencyError::Corrupt { line: 0, .. })
            ),
            "a file cut short"
        );
        let garbled = good.replacen("0.500000000000", "zero.five", 1);
        let e = Distribution::parse(p, &garbled).unwrap_err().to_string();
        assert!(
            e.contains("decide.hgrm:") && e.contains("not numbers"),
            "{e}"
        );
        let mut lines: Vec<&str> = good.lines().collect();
        lines.swap(3, 6);
        let e = Distribution::parse(p, &lines.join("\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must not decrease"), "{e}");
        assert!(Distribution::parse(p, "").is_err());
    }
}
