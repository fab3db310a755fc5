//! The trade store: a read model of a run's journal in SQL, so a team can
//! query trades, orders, decisions and equity without replaying anything.
//! During `autobot run` it is kept current by [`live`] (a shadow core
//! following the journal); `autobot store rebuild RUN_DIR` makes it again
//! from any journal. SQLite in the run directory (`store.sqlite`) is the
//! default; `[store] url = "postgres://…"` writes to a PostgreSQL
//! database a team shares instead.
//!
//! # What it holds (schema version [`SCHEMA_VERSION`], [`schema`])
//! - `fills`: every execution report that filled something (time, symbol,
//!   side, price, quantity, fee, liquidity, client order id, status).
//! - `orders` and `cancels`: every order the core sent and every cancel.
//! - `decisions`: every audit record of the veto chain (approved or vetoed,
//!   the rule, its level's value and limit).
//! - `state_changes`: system states and control modes, with their cause.
//! - `equity`: the account's equity and balance once per minute of event
//!   time (the first input of each minute) and at the end.
//! - `round_trips`: each closed trip as `autobot analyze` judges it.
//! - `runs`: per run, its journal, the last input projected, whether it
//!   was kept live and whether it is complete.
//!
//! # Invariants
//! - Derived only from the journal, through the same core as `autobot
//!   replay` and the same [`project::Projection`] live and rebuilt: a
//!   rebuild gives the rows the live store holds, and twice the same rows.
//! - Decimals (prices, quantities, money) are stored as their exact text,
//!   so no float ever rounds a fill; times are integer ms of exchange time.
//! - A rebuild replaces a run's rows in one transaction (a SQLite file is
//!   built under a temporary name and renamed into place).

pub mod db;
pub mod history;
pub mod live;
pub mod project;
pub mod schema;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use autobot_engine::core::Core;
use autobot_engine::replay::{Collect, feed};
use autobot_engine::types::Seq;

pub use db::{Db, RunRow};
pub use project::{Counts, Projection};
pub use schema::SCHEMA_VERSION;

/// Where a store is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://USER@HOST:PORT/DB`).
    Postgres(String),
}

impl Target {
    /// The store of the run in `run_dir` with `[store] url` = `url`.
    pub fn of(run_dir: &Path, url: &str) -> Target {
        if url.is_empty() {
            Target::Sqlite(path_of(run_dir))
        } else {
            Target::Postgres(url.to_string())
        }
    }

    /// Opens it for writing. `shared`: read while written (a live store).
    pub fn open(&self, shared: bool) -> anyhow::Result<Box<dyn Db>> {
        Ok(match self {
            Target::Sqlite(p) => Box::new(db::Sqlite::open(p, shared)?),
            Target::Postgres(url) => Box::new(db::Postgres::open(url)?),
        })
    }
}

/// `RUN_DIR/store.sqlite`.
pub fn path_of(run_dir: &Path) -> PathBuf {
    run_dir.join("store.sqlite")
}

/// The history views' reader of the run in `run_dir` with `[store] url`
/// = `url`, when it keeps a store (live, or a SQLite file rebuilt there).
pub fn history_of(
    run_dir: &Path,
    url: &str,
    live: bool,
) -> Option<autobot_gateways::control::history::HistorySource> {
    let target = Target::of(run_dir, url);
    let exists = match &target {
        Target::Sqlite(p) => live || p.is_file(),
        Target::Postgres(_) => true,
    };
    exists.then(|| {
        autobot_gateways::control::history::HistorySource(std::sync::Arc::new(
            std::sync::Mutex::new(history::Reader::new(target, run_name(run_dir))),
        ))
    })
}

/// A run's name in the store: its directory's name.
pub fn run_name(run_dir: &Path) -> String {
    std::fs::canonicalize(run_dir)
        .unwrap_or_else(|_| run_dir.to_path_buf())
        .file_name()
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned())
}

/// Rebuilds the store of the run (or backtest kept with `--keep-journal`)
/// in `dir` from its journal: into `to` when given, else where the run's
/// `[store] url` says (its own `store.sqlite` by default). Returns the
/// store's name and what was written.
pub fn rebuild(
    dir: &Path,
    config: Option<&Path>,
    to: Option<Target>,
) -> anyhow::Result<(String, Counts)> {
    let (journal_dir, cfg, _) = crate::replay::locate(dir, config)?;
    let journal = crate::position::open_until(&journal_dir, None, &mut std::io::stderr())?;
    let target = to.unwrap_or_else(|| Target::of(dir, &cfg.store.url));
    // A SQLite file is made whole under a temporary name, then renamed.
    let (open_at, place) = match &target {
        Target::Sqlite(dest) => {
            let mut tmp = dest.as_os_str().to_owned();
            tmp.push(".partial");
            let tmp = PathBuf::from(tmp);
            let _ = std::fs::remove_file(&tmp);
            (Target::Sqlite(tmp.clone()), Some((tmp, dest.clone())))
        }
        Target::Postgres(_) => (target.clone(), None),
    };
    let mut db = open_at.open(false)?;
    let run = run_name(dir);
    let core_cfg = cfg.core();
    let mut core = Core::new(&core_cfg);
    let mut p = Projection::new(&cfg, &core_cfg);
    db.begin()?;
    db.clear(&run)?;
    let mut rows = Vec::new();
    let mut sink = Collect::default();
    let mut failed: Option<anyhow::Error> = None;
    feed(
        &journal,
        &mut core,
        Seq(0),
        None,
        &mut sink,
        |ev, core, sink| {
            p.input(ev, &sink.0, core, &mut rows);
            sink.0.clear();
            for r in rows.drain(..) {
                if failed.is_none()
                    && let Err(e) = db.put(&run, &r)
                {
                    failed = Some(e);
                }
            }
        },
    )
    .with_context(|| format!("replaying {}", journal_dir.display()))?;
    p.end(&core, &mut rows);
    for r in &rows {
        db.put(&run, r)?;
    }
    if let Some(e) = failed {
        return Err(e).with_context(|| format!("writing {}", db.describe()));
    }
    db.mark(&RunRow {
        run,
        journal: journal_dir.display().to_string(),
        last_seq: p.last_seq,
        inputs: p.counts.inputs,
        live: false,
        complete: true,
    })?;
    db.commit()
        .with_context(|| format!("committing {}", db.describe()))?;
    drop(db);
    let name = match place {
        Some((tmp, dest)) => {
            place_sqlite(&tmp, &dest)?;
            dest.display().to_string()
        }
        None => target_name(&target),
    };
    Ok((name, p.counts))
}

/// Renames a finished SQLite store `tmp` over `dest`. The old store's
/// write-ahead log and shared-memory files go first: a live store that
/// did not close cleanly (a killed run) leaves them, and SQLite would
/// replay that log into the new file.
pub fn place_sqlite(tmp: &Path, dest: &Path) -> anyhow::Result<()> {
    for side in ["-wal", "-shm"] {
        let mut p = dest.as_os_str().to_owned();
        p.push(side);
        match std::fs::remove_file(PathBuf::from(p)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}{side}", dest.display()));
            }
            _ => {}
        }
    }
    std::fs::rename(tmp, dest).with_context(|| format!("placing {}", dest.display()))
}

/// A store's name for messages (never a password).
pub fn target_name(t: &Target) -> String {
    match t {
        Target::Sqlite(p) => p.display().to_string(),
        Target::Postgres(url) => {
            db::postgres_config(url).map_or_else(|_| "postgres://…".to_string(), |(_, n)| n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first schema, as `autobot` 0.x wrote it (to test the migration).
    const V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE fills (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL, fee TEXT NOT NULL,
    liquidity TEXT NOT NULL, client_id INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE orders (client_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, kind TEXT NOT NULL, price TEXT NOT NULL,
    qty TEXT NOT NULL, reduce_only INTEGER NOT NULL, post_only INTEGER NOT NULL);
CREATE TABLE cancels (seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, client_id INTEGER NOT NULL,
    symbol TEXT NOT NULL);
CREATE TABLE decisions (seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, id INTEGER NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, origin TEXT NOT NULL, qty TEXT NOT NULL,
    verdict TEXT NOT NULL, rule TEXT NOT NULL, value INTEGER NOT NULL, limit_value INTEGER NOT NULL);
CREATE TABLE state_changes (seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    from_state TEXT NOT NULL, to_state TEXT NOT NULL, cause TEXT NOT NULL);
CREATE TABLE equity (time_ms INTEGER PRIMARY KEY, equity TEXT NOT NULL, balance TEXT NOT NULL);
CREATE TABLE round_trips (symbol TEXT NOT NULL, side TEXT NOT NULL, strategy TEXT NOT NULL,
    regime TEXT NOT NULL, opened TEXT NOT NULL, closed TEXT NOT NULL, entry REAL NOT NULL,
    exit REAL NOT NULL, exit_reason TEXT NOT NULL, gross REAL NOT NULL, fees REAL NOT NULL,
    pnl REAL NOT NULL);
CREATE INDEX fills_time ON fills (time_ms);
CREATE INDEX decisions_time ON decisions (time_ms);
INSERT INTO meta VALUES ('journal', '/runs/20261206-101010-seed7/journal');
INSERT INTO meta VALUES ('last_seq', '41');
INSERT INTO meta VALUES ('inputs', '42');
INSERT INTO fills VALUES (40, 1704067200000, 'BTCUSDT', 'BUY', '42000.1', '0.002', '0.0336',
    'Taker', 7, 'Filled');
INSERT INTO equity VALUES (1704067200000, '10000', '10000');
PRAGMA user_version = 1;
";

    #[test]
    fn a_new_store_is_created_a_first_one_migrated_and_a_newer_one_refused() {
        let dir = std::env::temp_dir().join(format!("store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let version = |c: &rusqlite::Connection| -> i64 {
            c.query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap()
        };
        let fresh = dir.join("fresh.sqlite");
        drop(db::Sqlite::open(&fresh, false).unwrap());
        // Opening again applies nothing twice.
        drop(db::Sqlite::open(&fresh, false).unwrap());
        assert_eq!(
            version(&rusqlite::Connection::open(&fresh).unwrap()),
            SCHEMA_VERSION
        );

        let old = dir.join("v1.sqlite");
        rusqlite::Connection::open(&old)
            .unwrap()
            .execute_batch(V1)
            .unwrap();
        drop(db::Sqlite::open(&old, false).unwrap());
        let c = rusqlite::Connection::open(&old).unwrap();
        assert_eq!(version(&c), 2);
        let fill: (String, i64, String) = c
            .query_row("SELECT run, seq, price FROM fills", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(fill, ("20261206-101010-seed7".into(), 40, "42000.1".into()));
        let run: (String, i64, i64) = c
            .query_row("SELECT run, last_seq, inputs FROM runs", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(run, ("20261206-101010-seed7".into(), 41, 42));
        let equity: i64 = c
            .query_row("SELECT COUNT(*) FROM equity WHERE run != ''", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(equity, 1);

        let newer = dir.join("newer.sqlite");
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        let e = format!("{:#}", db::Sqlite::open(&newer, false).err().unwrap());
        assert!(
            e.contains("schema version 99, newer than this build's 2"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
