//! The trade store's schema, one text for SQLite and PostgreSQL, its
//! version, and the rows the projection writes.
//!
//! # One schema for both databases
//! The DDL uses only types both read the same way: `BIGINT` (64-bit in
//! both; SQLite gives it integer affinity), `TEXT`, `DOUBLE PRECISION`
//! and `BOOLEAN`. Decimals are exact text. Every table's first column is
//! `run`, the run directory's name, so one PostgreSQL database holds a
//! team's runs side by side; in a run's own SQLite file it is that run.
//! Inserts are written with `?` and numbered (`$1`, …) for PostgreSQL.
//!
//! # Versions
//! - 1: the first SQLite store (no `run` column, a `meta` table).
//! - 2: `run` on every table, `runs` (one row per run: journal, last
//!   input projected, whether it is complete or still being followed).
//!
//! A new store is created at [`SCHEMA_VERSION`]; an older one is taken
//! forward step by step ([`super::db`]); a newer one is refused.

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// The schema at [`SCHEMA_VERSION`], for a new store (either database).
pub const CREATE: &str = "
CREATE TABLE runs (
    run TEXT PRIMARY KEY, journal TEXT NOT NULL, last_seq BIGINT NOT NULL,
    inputs BIGINT NOT NULL, live BOOLEAN NOT NULL, complete BOOLEAN NOT NULL);
CREATE TABLE fills (
    run TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, symbol TEXT NOT NULL,
    side TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL, fee TEXT NOT NULL,
    liquidity TEXT NOT NULL, client_id BIGINT NOT NULL, status TEXT NOT NULL,
    PRIMARY KEY (run, seq));
CREATE TABLE orders (
    run TEXT NOT NULL, client_id BIGINT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, kind TEXT NOT NULL, price TEXT NOT NULL,
    qty TEXT NOT NULL, reduce_only BOOLEAN NOT NULL, post_only BOOLEAN NOT NULL,
    PRIMARY KEY (run, client_id));
CREATE TABLE cancels (
    run TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, client_id BIGINT NOT NULL,
    symbol TEXT NOT NULL);
CREATE TABLE decisions (
    run TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, id BIGINT NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, origin TEXT NOT NULL, qty TEXT NOT NULL,
    verdict TEXT NOT NULL, rule TEXT NOT NULL, value BIGINT NOT NULL, limit_value BIGINT NOT NULL);
CREATE TABLE state_changes (
    run TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, kind TEXT NOT NULL,
    from_state TEXT NOT NULL, to_state TEXT NOT NULL, cause TEXT NOT NULL);
CREATE TABLE equity (
    run TEXT NOT NULL, time_ms BIGINT NOT NULL, equity TEXT NOT NULL, balance TEXT NOT NULL,
    PRIMARY KEY (run, time_ms));
CREATE TABLE round_trips (
    run TEXT NOT NULL, seq BIGINT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, strategy TEXT NOT NULL,
    regime TEXT NOT NULL, opened TEXT NOT NULL, closed TEXT NOT NULL,
    entry DOUBLE PRECISION NOT NULL, exit DOUBLE PRECISION NOT NULL, exit_reason TEXT NOT NULL,
    gross DOUBLE PRECISION NOT NULL, fees DOUBLE PRECISION NOT NULL, pnl DOUBLE PRECISION NOT NULL);
CREATE INDEX fills_time ON fills (run, time_ms);
CREATE INDEX decisions_time ON decisions (run, time_ms);
CREATE INDEX cancels_run ON cancels (run, seq);
CREATE INDEX state_changes_run ON state_changes (run, seq);
CREATE INDEX round_trips_run ON round_trips (run, seq);
";

/// The tables that hold a run's rows (every one but `runs`), in the
/// order a dump lists them.
pub const RUN_TABLES: [&str; 7] = [
    "fills",
    "orders",
    "cancels",
    "decisions",
    "state_changes",
    "equity",
    "round_trips",
];

/// SQLite version 1 → 2: each table rebuilt with the run's name first
/// (`{run}` is replaced by it, quoted), `meta` folded into `runs`; the
/// closing input of a version-1 round trip is not known (0).
pub const SQLITE_1_TO_2: &str = "
DROP INDEX IF EXISTS fills_time;
DROP INDEX IF EXISTS decisions_time;
ALTER TABLE fills RENAME TO fills_v1;
ALTER TABLE orders RENAME TO orders_v1;
ALTER TABLE cancels RENAME TO cancels_v1;
ALTER TABLE decisions RENAME TO decisions_v1;
ALTER TABLE state_changes RENAME TO state_changes_v1;
ALTER TABLE equity RENAME TO equity_v1;
ALTER TABLE round_trips RENAME TO round_trips_v1;
{create}
INSERT INTO runs SELECT {run}, (SELECT value FROM meta WHERE key = 'journal'),
    CAST((SELECT value FROM meta WHERE key = 'last_seq') AS INTEGER),
    CAST((SELECT value FROM meta WHERE key = 'inputs') AS INTEGER), 0, 1
    WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'journal');
INSERT INTO fills SELECT {run}, * FROM fills_v1;
INSERT INTO orders SELECT {run}, * FROM orders_v1;
INSERT INTO cancels SELECT {run}, * FROM cancels_v1;
INSERT INTO decisions SELECT {run}, * FROM decisions_v1;
INSERT INTO state_changes SELECT {run}, * FROM state_changes_v1;
INSERT INTO equity SELECT {run}, * FROM equity_v1;
INSERT INTO round_trips SELECT {run}, 0, * FROM round_trips_v1;
DROP TABLE fills_v1; DROP TABLE orders_v1; DROP TABLE cancels_v1; DROP TABLE decisions_v1;
DROP TABLE state_changes_v1; DROP TABLE equity_v1; DROP TABLE round_trips_v1; DROP TABLE meta;
";

/// A value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `BIGINT`.
    I(i64),
    /// `TEXT`.
    T(String),
    /// `DOUBLE PRECISION`.
    F(f64),
    /// `BOOLEAN`.
    B(bool),
}

impl From<u64> for Val {
    /// Sequences, times in ms and client ids: far below 2^63.
    fn from(v: u64) -> Val {
        Val::I(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I(v)
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::T(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::T(v.to_string())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F(v)
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::B(v)
    }
}

/// Where a row goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `fills`.
    Fills,
    /// `orders` (the latest row of a client id wins).
    Orders,
    /// `cancels`.
    Cancels,
    /// `decisions`.
    Decisions,
    /// `state_changes`.
    StateChanges,
    /// `equity` (the latest row of a minute wins).
    Equity,
    /// `round_trips`.
    RoundTrips,
}

impl Table {
    /// Every table, in [`Table::index`] order.
    pub const ALL: [Table; 7] = [
        Table::Fills,
        Table::Orders,
        Table::Cancels,
        Table::Decisions,
        Table::StateChanges,
        Table::Equity,
        Table::RoundTrips,
    ];

    /// Its position in [`Table::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The insert, with `?` placeholders (the run's name first).
    pub fn insert(self) -> &'static str {
        match self {
            Table::Fills => "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            Table::Orders => {
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (run, client_id) DO UPDATE SET seq = excluded.seq,
                 time_ms = excluded.time_ms, symbol = excluded.symbol, side = excluded.side,
                 kind = excluded.kind, price = excluded.price, qty = excluded.qty,
                 reduce_only = excluded.reduce_only, post_only = excluded.post_only"
            }
            Table::Cancels => "INSERT INTO cancels VALUES (?, ?, ?, ?, ?)",
            Table::Decisions => "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            Table::StateChanges => "INSERT INTO state_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
            Table::Equity => {
                "INSERT INTO equity VALUES (?, ?, ?, ?)
                 ON CONFLICT (run, time_ms) DO UPDATE SET equity = excluded.equity,
                 balance = excluded.balance"
            }
            Table::RoundTrips => {
                "INSERT INTO round_trips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            }
        }
    }
}

/// One row: its table and its values after the run's name.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Where it goes.
    pub table: Table,
    /// Its columns after `run`, in the table's order.
    pub vals: Vec<Val>,
}

/// `sql` with its `?` placeholders numbered as PostgreSQL wants them.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut k = 0;
    for c in sql.chars() {
        if c == '?' {
            k += 1;
            out.push('$');
            out.push_str(&k.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_insert_has_a_placeholder_per_column_and_postgres_numbers_them() {
        let columns = |t: &str| {
            let at = CREATE.find(&format!("CREATE TABLE {t} (")).unwrap();
            let body = &CREATE[at..];
            let body = &body[..body.find(");").unwrap()];
            body.matches(" NOT NULL").count()
        };
        for (t, name) in Table::ALL.iter().zip(RUN_TABLES) {
            let sql = t.insert();
            assert!(sql.contains(&format!("INTO {name} ")), "{sql}");
            assert_eq!(sql.matches('?').count(), columns(name), "{name}");
        }
        assert_eq!(
            numbered("INSERT INTO x VALUES (?, ?, ?)"),
            "INSERT INTO x VALUES ($1, $2, $3)"
        );
    }
}
