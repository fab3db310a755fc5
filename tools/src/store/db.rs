//! The two databases the trade store writes to, behind one small trait:
//! SQLite (a file in the run directory, the embedded default) and
//! PostgreSQL (`[store] url`, shared by a team). Each opens at
//! [`SCHEMA_VERSION`], creating or migrating the schema, and refuses a
//! store made by a newer build.
//!
//! # Secrets
//! A PostgreSQL password comes only from `AUTOBOT_STORE_PASSWORD`; a URL
//! that carries one is refused (it would sit in config files, shell
//! history and process lists), and a store is only ever named by
//! [`Db::describe`], which has no password to show.

use std::path::Path;

use anyhow::{Context as _, bail};

use super::schema::{self, CREATE, RUN_TABLES, Row, SCHEMA_VERSION, Table, Val};

pub use crate::config::store::PASSWORD_ENV;

/// What one run's `runs` row says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRow {
    /// The run directory's name.
    pub run: String,
    /// Its journal, as the projection read it.
    pub journal: String,
    /// The last input projected.
    pub last_seq: u64,
    /// Inputs projected.
    pub inputs: u64,
    /// Kept current during the run (not rebuilt afterwards).
    pub live: bool,
    /// Holds the whole journal (a finished run, or a rebuild).
    pub complete: bool,
}

/// A store open for writing. Rows are written inside a transaction that
/// [`Db::begin`] opens and [`Db::commit`] closes; readers see whole
/// transactions only.
pub trait Db: Send {
    /// Opens a transaction.
    fn begin(&mut self) -> anyhow::Result<()>;
    /// Removes every row of `run` (a rebuild, or a resumed run projected
    /// again from its first input).
    fn clear(&mut self, run: &str) -> anyhow::Result<()>;
    /// Writes one row of `run`.
    fn put(&mut self, run: &str, row: &Row) -> anyhow::Result<()>;
    /// Writes (or replaces) the run's `runs` row.
    fn mark(&mut self, r: &RunRow) -> anyhow::Result<()>;
    /// Commits the transaction.
    fn commit(&mut self) -> anyhow::Result<()>;
    /// The store's name for messages: a path, or a URL without password.
    fn describe(&self) -> String;
}

const MARK: &str = "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (run) DO UPDATE SET journal = excluded.journal, last_seq = excluded.last_seq,
    inputs = excluded.inputs, live = excluded.live, complete = excluded.complete";

fn run_vals(r: &RunRow) -> [Val; 6] {
    [
        Val::T(r.run.clone()),
        Val::T(r.journal.clone()),
        r.last_seq.into(),
        r.inputs.into(),
        Val::B(r.live),
        Val::B(r.complete),
    ]
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::I(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Val::T(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::F(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Val::B(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
        })
    }
}

/// The embedded store: one SQLite file.
pub struct Sqlite {
    conn: rusqlite::Connection,
    path: String,
}

impl Sqlite {
    /// Opens (or creates) the store at `path`. `shared`: others read it
    /// while it is written (a live store: write-ahead log, so a reader
    /// never blocks the projector).
    pub fn open(path: &Path, shared: bool) -> anyhow::Result<Sqlite> {
        let conn = rusqlite::Connection::open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        if shared {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        migrate_sqlite(&conn).with_context(|| format!("store {}", path.display()))?;
        Ok(Sqlite {
            conn,
            path: path.display().to_string(),
        })
    }
}

/// SQLite's schema version lives in `PRAGMA user_version`.
fn migrate_sqlite(conn: &rusqlite::Connection) -> anyhow::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        bail!(
            "schema version {version}, newer than this build's {SCHEMA_VERSION}: use a newer autobot, or rebuild it"
        );
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    if version == 0 {
        tx.execute_batch(CREATE)
            .context("creating the schema (is it an autobot store?)")?;
    } else {
        // Version 1 named no run: its journal (RUN/journal) does.
        let journal: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'journal'", [], |r| {
                r.get(0)
            })
            .ok();
        let run = journal
            .as_deref()
            .map(Path::new)
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let sql = schema::SQLITE_1_TO_2
            .replace("{create}", CREATE)
            .replace("{run}", &format!("'{}'", run.replace('\'', "''")));
        tx.execute_batch(&sql)
            .context("migrating from schema version 1 to 2")?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

impl Db for Sqlite {
    fn begin(&mut self) -> anyhow::Result<()> {
        Ok(self.conn.execute_batch("BEGIN")?)
    }

    fn clear(&mut self, run: &str) -> anyhow::Result<()> {
        for t in RUN_TABLES.iter().chain(&["runs"]) {
            self.conn
                .execute(&format!("DELETE FROM {t} WHERE run = ?1"), [run])?;
        }
        Ok(())
    }

    fn put(&mut self, run: &str, row: &Row) -> anyhow::Result<()> {
        let mut stmt = self.conn.prepare_cached(row.table.insert())?;
        let run = Val::T(run.to_string());
        stmt.execute(rusqlite::params_from_iter(
            std::iter::once(&run).chain(&row.vals),
        ))?;
        Ok(())
    }

    fn mark(&mut self, r: &RunRow) -> anyhow::Result<()> {
        self.conn
            .prepare_cached(MARK)?
            .execute(rusqlite::params_from_iter(run_vals(r).iter()))?;
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn describe(&self) -> String {
        self.path.clone()
    }
}

/// A team's store: one PostgreSQL database, every run's rows keyed by
/// its name.
pub struct Postgres {
    client: postgres::Client,
    inserts: Vec<postgres::Statement>,
    mark: postgres::Statement,
    name: String,
}

/// `url` parsed, refused if it carries a password; its name for messages.
pub fn postgres_config(url: &str) -> anyhow::Result<(postgres::Config, String)> {
    let cfg: postgres::Config = url.parse().map_err(|e| {
        anyhow::anyhow!(
            "store url is not a PostgreSQL URL ({e}); want postgres://USER@HOST:PORT/DATABASE"
        )
    })?;
    if cfg.get_password().is_some() {
        bail!(
            "store url carries a password: remove it from the URL and set {PASSWORD_ENV} instead"
        );
    }
    let host = cfg
        .get_hosts()
        .first()
        .map_or_else(String::new, |h| match h {
            postgres::config::Host::Tcp(h) => h.clone(),
            postgres::config::Host::Unix(p) => p.display().to_string(),
        });
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let name = format!(
        "postgres://{}@{host}:{port}/{}",
        cfg.get_user().unwrap_or(""),
        cfg.get_dbname().unwrap_or("")
    );
    Ok((cfg, name))
}

/// A connection to the store at `url` (password from [`PASSWORD_ENV`])
/// and the store's name for messages.
pub fn connect(url: &str) -> anyhow::Result<(postgres::Client, String)> {
    let (mut cfg, name) = postgres_config(url)?;
    if let Ok(pw) = std::env::var(PASSWORD_ENV) {
        cfg.password(pw);
    }
    cfg.application_name("autobot");
    cfg.connect_timeout(std::time::Duration::from_secs(10));
    let client = cfg
        .connect(postgres::NoTls)
        .with_context(|| format!("connecting to the store {name}"))?;
    Ok((client, name))
}

/// The schema version of a PostgreSQL store, in its own table.
const PG_VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS autobot_schema (version BIGINT NOT NULL)";
/// Taken for the migration's transaction, so two runs starting at once
/// do not both create the schema.
const PG_MIGRATION_LOCK: i64 = 0x0061_7574_6f62_6f74;

impl Postgres {
    /// Connects to `url` (password from [`PASSWORD_ENV`]) and brings its
    /// schema to [`SCHEMA_VERSION`].
    pub fn open(url: &str) -> anyhow::Result<Postgres> {
        let (mut client, name) = connect(url)?;
        migrate_postgres(&mut client).with_context(|| format!("store {name}"))?;
        let mut inserts = Vec::with_capacity(Table::ALL.len());
        for t in Table::ALL {
            inserts.push(client.prepare(&schema::numbered(t.insert()))?);
        }
        let mark = client.prepare(&schema::numbered(MARK))?;
        Ok(Postgres {
            client,
            inserts,
            mark,
            name,
        })
    }
}

fn migrate_postgres(client: &mut postgres::Client) -> anyhow::Result<()> {
    client.batch_execute(PG_VERSION_TABLE)?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_MIGRATION_LOCK])?;
    let version: Option<i64> = tx
        .query_opt("SELECT max(version) FROM autobot_schema", &[])?
        .and_then(|r| r.get(0));
    match version {
        Some(v) if v > SCHEMA_VERSION => bail!(
            "schema version {v}, newer than this build's {SCHEMA_VERSION}: use a newer autobot"
        ),
        Some(_) => {}
        None => {
            tx.batch_execute(CREATE).context(
                "creating the schema (does the database hold other tables by these names?)",
            )?;
            tx.execute("INSERT INTO autobot_schema VALUES ($1)", &[&SCHEMA_VERSION])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn pg_params<'a>(
    vals: impl Iterator<Item = &'a Val>,
) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    vals.map(|v| -> &(dyn postgres::types::ToSql + Sync) {
        match v {
            Val::I(x) => x,
            Val::T(x) => x,
            Val::F(x) => x,
            Val::B(x) => x,
        }
    })
    .collect()
}

impl Db for Postgres {
    fn begin(&mut self) -> anyhow::Result<()> {
        Ok(self.client.batch_execute("BEGIN")?)
    }

    fn clear(&mut self, run: &str) -> anyhow::Result<()> {
        for t in RUN_TABLES.iter().chain(&["runs"]) {
            self.client
                .execute(&format!("DELETE FROM {t} WHERE run = $1"), &[&run])?;
        }
        Ok(())
    }

    fn put(&mut self, run: &str, row: &Row) -> anyhow::Result<()> {
        let stmt = &self.inserts[row.table.index()];
        let run = Val::T(run.to_string());
        self.client
            .execute(stmt, &pg_params(std::iter::once(&run).chain(&row.vals)))?;
        Ok(())
    }

    fn mark(&mut self, r: &RunRow) -> anyhow::Result<()> {
        let vals = run_vals(r);
        self.client.execute(&self.mark, &pg_params(vals.iter()))?;
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        Ok(self.client.batch_execute("COMMIT")?)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_a_password_is_refused_and_never_repeated() {
        let e = postgres_config("postgres://team:hunter2@db.example:5433/trades")
            .unwrap_err()
            .to_string();
        assert!(e.contains(PASSWORD_ENV), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let (_, name) = postgres_config("postgres://team@db.example:5433/trades").unwrap();
        assert_eq!(name, "postgres://team@db.example:5433/trades");
        let e = postgres_config("mysql://x").unwrap_err().to_string();
        assert!(e.contains("not a PostgreSQL URL"), "{e}");
        let e = postgres_config("postgres://team@db/trades?password=hunter2")
            .unwrap_err()
            .to_string();
        assert!(e.contains(PASSWORD_ENV) && !e.contains("hunter2"), "{e}");
    }
}
