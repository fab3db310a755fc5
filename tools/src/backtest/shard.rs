//! Sweeps across machines: `autobot backtest --sweep … --shard K/N` runs
//! one deterministic slice of the grid, and `autobot sweep merge DIR...`
//! combines the slices into the `sweep.json` and `sweep.csv` an unsharded
//! sweep writes, byte for byte.
//!
//! # Invariants
//! - Shard K of N runs the points whose index i has `i mod N = K − 1`
//!   (round robin, so neighbouring points, which often cost alike, spread
//!   over the shards); a point's report goes to `OUT/pNNN/` under its
//!   index in the whole grid, as unsharded.
//! - Each shard writes `OUT/shard.json`: its K and N, the number of points,
//!   a fingerprint of the grid (the base configuration's bytes, the axes,
//!   the data files' names and sizes) and each of its outcomes with its
//!   index. Merge refuses shards of different grids, a shard twice or
//!   missing, and a point missing or twice, naming which.
//! - Figures go through JSON exactly (`serde_json`'s `float_roundtrip`),
//!   so a merged table is the unsharded one.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::run::DataSource;
use super::sweep::{Axis, Outcome};

/// `K/N`: the K-th of N slices, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This slice, 1 ..= `of`.
    pub k: usize,
    /// Slices in all.
    pub of: usize,
}

/// Why sharding or merging failed.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// `--shard` is not `K/N` with 1 <= K <= N.
    #[error("--shard {0:?}: expected K/N with 1 <= K <= N (e.g. 2/3)")]
    Syntax(String),
    /// A shard file could not be read.
    #[error("{}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The shards do not make one whole grid.
    #[error("cannot merge: {0}")]
    Mismatch(String),
    /// An output could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Syntax(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let of: usize = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > of {
            return Err(bad());
        }
        Ok(Shard { k, of })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.of)
    }
}

impl Shard {
    /// The indices of a grid of `points` this shard runs.
    pub fn indices(&self, points: usize) -> Vec<usize> {
        (0..points).filter(|i| i % self.of == self.k - 1).collect()
    }
}

/// One outcome of a shard, by its index in the whole grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indexed {
    /// Index in the grid.
    pub point: usize,
    /// The run's figures.
    pub outcome: Outcome,
}

/// `shard.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardFile {
    /// This slice, 1-based.
    pub shard: usize,
    /// Slices in all.
    pub of: usize,
    /// Points in the whole grid.
    pub points: usize,
    /// SHA-256 of the base configuration, the axes and the data (hex).
    pub grid: String,
    /// This slice's outcomes, by index.
    pub outcomes: Vec<Indexed>,
}

/// The fingerprint two shards of one sweep share: the base configuration
/// file's bytes, each axis as given, and each data file's name and size
/// (not its path, which differs between machines) or the import's
/// `import.toml`.
pub fn fingerprint(config: &Path, axes: &[Axis], data: &DataSource) -> std::io::Result<String> {
    let mut h = sha2::Sha256::new();
    let mut eat = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    eat(&std::fs::read(config)?);
    for a in axes {
        eat(a.key.as_bytes());
        for v in &a.values {
            eat(v.as_bytes());
        }
    }
    match data {
        DataSource::Files(files) => {
            for f in files {
                let name = f.file_name().unwrap_or_default().to_string_lossy();
                eat(name.as_bytes());
                eat(&std::fs::metadata(f)?.len().to_le_bytes());
            }
        }
        DataSource::Imported(dir) => eat(&std::fs::read(dir.join("import.toml"))?),
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads `DIR/shard.json` of each directory and puts the outcomes back in
/// grid order, refusing anything that does not make one whole grid.
pub fn merge(dirs: &[PathBuf]) -> Result<Vec<Outcome>, ShardError> {
    let mut files = Vec::new();
    for dir in dirs {
        let path = dir.join("shard.json");
        let unreadable = |reason: String| ShardError::Unreadable {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            unreadable(format!(
                "{e} (is this the --out of `autobot backtest --sweep … --shard K/N`?)"
            ))
        })?;
        let f: ShardFile = serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
        files.push((dir.clone(), f));
    }
    let Some((first_dir, first)) = files.first() else {
        return Err(ShardError::Mismatch("no shard directories given".into()));
    };
    let mut seen: Vec<Option<&Path>> = vec![None; first.of];
    let mut slots: Vec<Option<Outcome>> = vec![None; first.points];
    for (dir, f) in &files {
        if (f.of, f.points, &f.grid) != (first.of, first.points, &first.grid) {
            return Err(ShardError::Mismatch(format!(
                "{} is shard {}/{} of a {}-point grid {}, {} is of a {}-point grid {} in {} shards \
                 (another configuration, sweep or data)",
                dir.display(),
                f.shard,
                f.of,
                f.points,
                short(&f.grid),
                first_dir.display(),
                first.points,
                short(&first.grid),
                first.of
            )));
        }
        let Some(slot) = f.shard.checked_sub(1).and_then(|k| seen.get_mut(k)) else {
            return Err(ShardError::Mismatch(format!(
                "{}: shard {} of {} is out of range",
                dir.display(),
                f.shard,
                f.of
            )));
        };
        if let Some(other) = slot {
            return Err(ShardError::Mismatch(format!(
                "shard {}/{} is given twice: {} and {}",
                f.shard,
                f.of,
                other.display(),
                dir.display()
            )));
        }
        *slot = Some(dir);
        for o in &f.outcomes {
            match slots.get_mut(o.point) {
                Some(s @ None) => *s = Some(o.outcome.clone()),
                Some(Some(_)) => {
                    return Err(ShardError::Mismatch(format!(
                        "point p{:03} appears twice",
                        o.point
                    )));
                }
                None => {
                    return Err(ShardError::Mismatch(format!(
                        "{}: point p{:03} is beyond the grid's {}",
                        dir.display(),
                        o.point,
                        f.points
                    )));
                }
            }
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(k, _)| format!("{}/{}", k + 1, first.of))
        .collect();
    if !missing.is_empty() {
        return Err(ShardError::Mismatch(format!(
            "shard {} missing",
            missing.join(", ")
        )));
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            o.ok_or_else(|| ShardError::Mismatch(format!("point p{i:03} has no outcome")))
        })
        .collect()
}

fn short(grid: &str) -> &str {
    grid.get(..12).unwrap_or(grid)
}

/// Copies each point's report directory (`pNNN/`) of the shard
/// directories into `out`, where it is not there already (shards that
/// wrote to one shared directory need nothing copied).
pub fn gather_reports(dirs: &[PathBuf], out: &Path) -> Result<u64, ShardError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ShardError::Write { path, source }
    };
    let mut copied = 0;
    for dir in dirs {
        for entry in std::fs::read_dir(dir).map_err(failed(dir))? {
            let entry = entry.map_err(failed(dir))?;
            let name = entry.file_name();
            let is_point = name.to_str().is_some_and(|n| {
                n.len() >= 4 && n.starts_with('p') && n[1..].bytes().all(|b| b.is_ascii_digit())
            });
            let to = out.join(&name);
            if !is_point || to.exists() {
                continue;
            }
            copy_dir(&entry.path(), &to)?;
            copied += 1;
        }
    }
    Ok(copied)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), ShardError> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ShardError::Write { path, source }
    };
    std::fs::create_dir_all(to).map_err(failed(to))?;
    for entry in std::fs::read_dir(from).map_err(failed(from))? {
        let entry = entry.map_err(failed(from))?;
        let dest = to.join(entry.file_name());
        if entry.file_type().map_err(failed(from))?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest).map_err(failed(&dest))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_the_grid_round_robin() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!(s, Shard { k: 2, of: 3 });
        assert_eq!(s.indices(8), [1, 4, 7]);
        let all: Vec<usize> = (1..=3)
            .flat_map(|k| Shard { k, of: 3 }.indices(8))
            .collect();
        let mut sorted = all.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", "/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
