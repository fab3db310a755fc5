//! `autobot import`: data files converted once into a journal, so repeated
//! backtests replay the inputs at full speed instead of parsing text.
//!
//! The output directory holds `journal/` (the merged events, with the
//! journal's checksums) and `import.toml` (the symbols in `SymbolId` order
//! and each file with its format and row count), which a backtest reads to
//! know what it replays.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use autobot_engine::config::JournalConfig;
use autobot_engine::runtime::Journaller;

use super::{InputError, Merged, SymbolFiles};

/// Largest segment of an imported journal. The journal pre-faults each
/// segment and prepares the next one ahead (for the live core's latency);
/// for an import that is pure cost on the segments it never fills: with
/// the live 256 MiB, a 1 M-row import zeroed 512 MiB to write 150 MiB.
const IMPORT_SEGMENT_BYTES: u64 = 32 << 20;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// An input file was refused.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The journal could not be written.
    #[error("journal {}: {source}", dir.display())]
    Journal {
        /// The journal directory.
        dir: PathBuf,
        /// The journal's error.
        source: autobot_journal::JournalError,
    },
    /// The output directory is not usable, or an import directory not
    /// readable.
    #[error("{}: {reason}", dir.display())]
    Output {
        /// The directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
}

/// One imported file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportedFile {
    /// The file as given.
    pub path: String,
    /// Its detected format.
    pub format: String,
    /// Its data rows.
    pub rows: u64,
    /// bookTicker rows whose `event_time` ran backwards, stamped at the
    /// row before's time (`rows` module docs).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub held: u64,
    /// A bar or kline file's gaps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<super::rows::Gap>,
}

/// An imported file of this format (its name in `import.toml`) carries
/// funding rates, so the simulated exchange must not model its own.
pub fn holds_funding(format: &str) -> bool {
    format == super::Format::FundingRate.name()
        || format == super::feather::Kind::FundingRate.name()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `import.toml`: what an imported journal holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Symbols in `SymbolId` order.
    pub symbols: Vec<String>,
    /// Events written.
    pub events: u64,
    /// The files, in the order given.
    pub files: Vec<ImportedFile>,
}

/// The symbols of the import in `dir`, in `SymbolId` order (its
/// `import.toml`).
pub fn symbols_of(dir: &std::path::Path) -> Result<Vec<String>, ImportError> {
    let unreadable = |reason: String| ImportError::Output {
        dir: dir.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(dir.join("import.toml")).map_err(|e| {
        unreadable(format!(
            "import.toml: {e} (is this an `autobot import` directory?)"
        ))
    })?;
    let m: Manifest = toml::from_str(&text).map_err(|e| unreadable(format!("import.toml: {e}")))?;
    Ok(m.symbols)
}

/// What an import did.
#[derive(Clone, Debug)]
pub struct ImportReport {
    /// The manifest written.
    pub manifest: Manifest,
    /// Wall time of reading, merging and writing.
    pub elapsed: Duration,
}

impl ImportReport {
    /// Rows imported per second of wall time.
    pub fn rows_per_sec(&self) -> f64 {
        let rows: u64 = self.manifest.files.iter().map(|f| f.rows).sum();
        rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Imports `input` into a new journal under `out` (which must not hold one).
pub fn import(
    input: &SymbolFiles,
    journal: &JournalConfig,
    out: &Path,
) -> Result<ImportReport, ImportError> {
    let began = Instant::now();
    let dir = out.join("journal");
    if dir.exists() {
        return Err(ImportError::Output {
            dir: out.to_path_buf(),
            reason: "already holds a journal; import into a new directory".into(),
        });
    }
    // Every file is opened and its first row read before anything is
    // written, so a refused file leaves no half import.
    let merged = Merged::open(input)?;
    std::fs::create_dir_all(out).map_err(|e| ImportError::Output {
        dir: out.to_path_buf(),
        reason: e.to_string(),
    })?;
    let failed = |source| ImportError::Journal {
        dir: dir.clone(),
        source,
    };
    let mut appender = autobot_engine::runtime::appender_config(journal, &dir);
    appender.segment_size = appender.segment_size.min(IMPORT_SEGMENT_BYTES);
    let (mut journaller, _) = Journaller::open(appender).map_err(failed)?;
    let mut events = 0u64;
    let mut ahead = super::ahead::ReadAhead::start(merged)?;
    while let Some(ev) = ahead.next_mut()? {
        journaller.append(ev).map_err(failed)?;
        events += 1;
        if events.is_multiple_of(4096) {
            journaller.end_batch().map_err(failed)?;
        }
    }
    journaller.end_batch().map_err(failed)?;
    let merged = ahead.finish()?;
    let manifest = Manifest {
        symbols: input.symbols.clone(),
        events,
        files: merged
            .sources()
            .iter()
            .map(|s| ImportedFile {
                path: s.path().display().to_string(),
                format: s.format_name().to_string(),
                rows: s.rows(),
                held: s.held(),
                gaps: s.gaps().to_vec(),
            })
            .collect(),
    };
    let text = toml::to_string(&manifest).unwrap_or_default();
    crate::whole::write(&out.join("import.toml"), text).map_err(|e| ImportError::Output {
        dir: out.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(ImportReport {
        manifest,
        elapsed: began.elapsed(),
    })
}
