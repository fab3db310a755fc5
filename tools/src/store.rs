//! The trade store: a read model of a run's journal in SQL, so a team can
//! query trades, orders, decisions and equity without replaying anything:
//! `autobot store rebuild RUN_DIR` writes `RUN_DIR/store.sqlite`.
//!
//! # What it holds (schema version [`SCHEMA_VERSION`])
//! - `fills`: every execution report that filled something (time, symbol,
//!   side, price, quantity, fee, liquidity, client order id, status).
//! - `orders` and `cancels`: every order the core sent and every cancel.
//! - `decisions`: every audit record of the veto chain (approved or vetoed,
//!   the rule, its level's value and limit).
//! - `state_changes`: system states and control modes, with their cause.
//! - `equity`: the account's equity and balance once per minute of event
//!   time (the first input of each minute) and at the end.
//! - `round_trips`: each closed trip as `autobot analyze` judges it.
//! - `meta`: what was read (the journal, its last input).
//!
//! # Invariants
//! - Derived only from the journal, through the same core replay as
//!   `autobot replay`: rebuilding twice gives the same rows.
//! - Decimals (prices, quantities, money) are stored as their exact text,
//!   so no float ever rounds a fill; times are integer ms of exchange time.
//! - The schema is versioned (`PRAGMA user_version`); a store made by this
//!   version is migrated forward step by step, one made by a newer build is
//!   refused rather than misread.
//! - The file is built under a temporary name and renamed into place.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use autobot_engine::core::Core;
use autobot_engine::event::{InputBody, InputEvent, OutputBody, OutputEvent};
use autobot_engine::replay::{Collect, feed};
use autobot_engine::types::Seq;
use rusqlite::params;

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Each migration takes the schema from its index to the next version.
const MIGRATIONS: [&str; 1] = ["
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE fills (
    seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL, fee TEXT NOT NULL,
    liquidity TEXT NOT NULL, client_id INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE orders (
    client_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, kind TEXT NOT NULL, price TEXT NOT NULL,
    qty TEXT NOT NULL, reduce_only INTEGER NOT NULL, post_only INTEGER NOT NULL);
CREATE TABLE cancels (
    seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, client_id INTEGER NOT NULL,
    symbol TEXT NOT NULL);
CREATE TABLE decisions (
    seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, id INTEGER NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, origin TEXT NOT NULL, qty TEXT NOT NULL, verdict TEXT NOT NULL,
    rule TEXT NOT NULL, value INTEGER NOT NULL, limit_value INTEGER NOT NULL);
CREATE TABLE state_changes (
    seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    from_state TEXT NOT NULL, to_state TEXT NOT NULL, cause TEXT NOT NULL);
CREATE TABLE equity (time_ms INTEGER PRIMARY KEY, equity TEXT NOT NULL, balance TEXT NOT NULL);
CREATE TABLE round_trips (
    symbol TEXT NOT NULL, side TEXT NOT NULL, strategy TEXT NOT NULL, regime TEXT NOT NULL,
    opened TEXT NOT NULL, closed TEXT NOT NULL, entry REAL NOT NULL, exit REAL NOT NULL,
    exit_reason TEXT NOT NULL, gross REAL NOT NULL, fees REAL NOT NULL, pnl REAL NOT NULL);
CREATE INDEX fills_time ON fills (time_ms);
CREATE INDEX decisions_time ON decisions (time_ms);
"];

/// Opens (or creates) the store at `path`, migrated to [`SCHEMA_VERSION`].
pub fn open(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn =
        rusqlite::Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        anyhow::bail!(
            "{} has schema version {version}, newer than this build's {SCHEMA_VERSION}: use a newer autobot, or rebuild it",
            path.display()
        );
    }
    for (v, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version)?)
    {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("migrating {} to version {}", path.display(), v + 1))?;
        tx.pragma_update(None, "user_version", v as i64 + 1)?;
        tx.commit()?;
    }
    Ok(conn)
}

/// What a rebuild wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Inputs replayed.
    pub inputs: u64,
    /// Rows per table.
    pub fills: u64,
    /// See `fills`.
    pub orders: u64,
    /// See `fills`.
    pub cancels: u64,
    /// See `fills`.
    pub decisions: u64,
    /// See `fills`.
    pub state_changes: u64,
    /// See `fills`.
    pub equity: u64,
    /// See `fills`.
    pub round_trips: u64,
}

/// Rows of one input and its outputs, written in the replay's transaction.
struct Projector<'c> {
    tx: &'c rusqlite::Transaction<'c>,
    names: Vec<String>,
    last_minute: Option<u64>,
    counts: Counts,
}

impl Projector<'_> {
    fn name(&self, sym: autobot_engine::types::SymbolId) -> String {
        self.names
            .get(usize::from(sym.0))
            .cloned()
            .unwrap_or_else(|| format!("#{}", sym.0))
    }

    fn on(
        &mut self,
        ev: &InputEvent,
        outputs: &[OutputEvent],
        core: &Core,
    ) -> rusqlite::Result<()> {
        let ms = core.now().0 / 1_000_000;
        let seq = ev.header.seq.0;
        if let InputBody::OrderUpdate(u) = &ev.body
            && u.last_qty.is_positive()
        {
            self.tx.execute(
                "INSERT INTO fills VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    seq,
                    ms,
                    self.name(ev.header.symbol),
                    u.side.to_string(),
                    u.last_price.to_string(),
                    u.last_qty.to_string(),
                    u.fee.to_string(),
                    format!("{:?}", u.liquidity),
                    u.client_id.0,
                    format!("{:?}", u.status),
                ],
            )?;
            self.counts.fills += 1;
        }
        for o in outputs {
            match &o.body {
                OutputBody::NewOrder(n) => {
                    self.tx.execute(
                        "INSERT OR REPLACE INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                        params![
                            n.client_id.0,
                            seq,
                            ms,
                            self.name(n.symbol),
                            n.side.to_string(),
                            format!("{:?}", n.kind),
                            n.price.to_string(),
                            n.qty.to_string(),
                            n.reduce_only,
                            n.post_only,
                        ],
                    )?;
                    self.counts.orders += 1;
                }
                OutputBody::Cancel(c) => {
                    self.tx.execute(
                        "INSERT INTO cancels VALUES (?1, ?2, ?3, ?4)",
                        params![seq, ms, c.client_id.0, self.name(c.symbol)],
                    )?;
                    self.counts.cancels += 1;
                }
                OutputBody::Audit(a) => {
                    self.tx.execute(
                        "INSERT INTO decisions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                        params![
                            seq,
                            ms,
                            a.id.0,
                            self.name(a.symbol),
                            a.side.to_string(),
                            format!("{:?}", a.origin),
                            a.qty.to_string(),
                            format!("{:?}", a.verdict),
                            format!("{:?}", a.rule),
                            a.value,
                            a.limit,
                        ],
                    )?;
                    self.counts.decisions += 1;
                }
                OutputBody::StateChange(c) => {
                    self.state(
                        seq,
                        ms,
                        "system",
                        format!("{:?}", c.from),
                        format!("{:?}", c.to),
                        format!("{:?}", c.cause),
                    )?;
                }
                OutputBody::ModeChange(c) => {
                    self.state(
                        seq,
                        ms,
                        "mode",
                        format!("{:?}", c.from),
                        format!("{:?}", c.to),
                        format!("{:?}", c.cause),
                    )?;
                }
                _ => {}
            }
        }
        let minute = ms / 60_000;
        if self.last_minute != Some(minute) {
            self.last_minute = Some(minute);
            self.equity(ms, core)?;
        }
        Ok(())
    }

    fn state(
        &mut self,
        seq: u64,
        ms: u64,
        kind: &str,
        from: String,
        to: String,
        cause: String,
    ) -> rusqlite::Result<()> {
        self.tx.execute(
            "INSERT INTO state_changes VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![seq, ms, kind, from, to, cause],
        )?;
        self.counts.state_changes += 1;
        Ok(())
    }

    fn equity(&mut self, ms: u64, core: &Core) -> rusqlite::Result<()> {
        let a = core.account();
        let n = self.tx.execute(
            "INSERT OR REPLACE INTO equity VALUES (?1, ?2, ?3)",
            params![ms, a.equity().to_string(), a.balance().to_string()],
        )?;
        self.counts.equity += n as u64;
        Ok(())
    }
}

/// `RUN_DIR/store.sqlite`.
pub fn path_of(run_dir: &Path) -> PathBuf {
    run_dir.join("store.sqlite")
}

/// Rebuilds the store of the run (or backtest kept with `--keep-journal`)
/// in `dir` from its journal, into `out` (default `dir/store.sqlite`).
pub fn rebuild(
    dir: &Path,
    config: Option<&Path>,
    out: Option<&Path>,
) -> anyhow::Result<(PathBuf, Counts)> {
    let (journal_dir, cfg, _) = crate::replay::locate(dir, config)?;
    let journal = crate::position::open_until(&journal_dir, None, &mut std::io::stderr())?;
    let dest = out.map_or_else(|| path_of(dir), Path::to_path_buf);
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let conn = open(&tmp)?;
    let core_cfg = cfg.core();
    let mut core = Core::new(&core_cfg);
    let tx = conn.unchecked_transaction()?;
    let mut p = Projector {
        tx: &tx,
        names: core_cfg
            .instruments
            .iter()
            .map(|i| i.name.to_string())
            .collect(),
        last_minute: None,
        counts: Counts::default(),
    };
    let mut sink = Collect::default();
    let mut failed: Option<rusqlite::Error> = None;
    let mut last_seq = 0;
    feed(
        &journal,
        &mut core,
        Seq(0),
        None,
        &mut sink,
        |ev, core, sink| {
            p.counts.inputs += 1;
            last_seq = ev.header.seq.0;
            if failed.is_none()
                && let Err(e) = p.on(ev, &sink.0, core)
            {
                failed = Some(e);
            }
            sink.0.clear();
        },
    )
    .with_context(|| format!("replaying {}", journal_dir.display()))?;
    if let Some(e) = failed {
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    let end_ms = core.now().0 / 1_000_000;
    p.equity(end_ms, &core)?;
    let mut counts = p.counts;
    // Round trips as the analyzer judges them (its own replay).
    let a = crate::analyze::analyze(dir, config)?;
    for t in &a.trips {
        tx.execute(
            "INSERT INTO round_trips VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                t.symbol,
                format!("{:?}", t.side).to_lowercase(),
                t.strategy,
                t.regime,
                t.opened,
                t.closed,
                t.entry,
                t.exit,
                t.exit_reason,
                t.gross,
                t.fees,
                t.pnl,
            ],
        )?;
        counts.round_trips += 1;
    }
    for (k, v) in [
        ("journal", journal_dir.display().to_string()),
        ("last_seq", last_seq.to_string()),
        ("inputs", counts.inputs.to_string()),
    ] {
        tx.execute("INSERT INTO meta VALUES (?1, ?2)", params![k, v])?;
    }
    tx.commit()?;
    drop(conn);
    std::fs::rename(&tmp, &dest).with_context(|| format!("placing {}", dest.display()))?;
    Ok((dest, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_migrated_and_a_newer_one_refused() {
        let dir = std::env::temp_dir().join(format!("store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fresh = dir.join("fresh.sqlite");
        let conn = open(&fresh).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        drop(conn);
        // Opening again applies nothing twice.
        drop(open(&fresh).unwrap());
        let newer = dir.join("newer.sqlite");
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        let e = open(&newer).unwrap_err().to_string();
        assert!(
            e.contains("schema version 99, newer than this build's 1"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
