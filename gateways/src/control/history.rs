//! The dashboard's History view: pages of the run's trade store (fills,
//! orders, decisions, round trips, equity, …), newest first, served at
//! `GET /store?table=T&before=K&limit=N` beside the decision log, which
//! keeps only the last rows in memory. The store itself (SQLite or
//! PostgreSQL) is the run's (`autobot::store`); this module owns the
//! request's parsing and limits and what a page looks like.
//!
//! # Paging
//! Rows are keyed by the input that caused them (`seq`; equity by its
//! time in ms). A page holds rows with keys below `before`, newest first,
//! and ends at a key boundary (so rows of one input are never split
//! between pages); `next` is the `before` of the next older page, absent
//! at the first row of the run.

use std::sync::{Arc, Mutex};

use crate::http::Response;

/// Tables a page may be asked of.
pub const TABLES: [&str; 7] = [
    "fills",
    "orders",
    "cancels",
    "decisions",
    "state_changes",
    "round_trips",
    "equity",
];
/// Rows per page when the request names none.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most rows a page holds.
pub const MAX_LIMIT: u32 = 1000;

/// One page of a table.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Page {
    /// The table.
    pub table: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, newest first, each in column order.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// `before` of the next older page; `None`: this is the oldest.
    pub next: Option<i64>,
    /// The store's last projected input and whether it holds the whole
    /// run (a live store is a few inputs behind the core).
    pub last_seq: Option<i64>,
    /// See `last_seq`.
    pub complete: bool,
}

/// A page request, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// One of [`TABLES`].
    pub table: &'static str,
    /// Keys below this; `None`: from the newest.
    pub before: Option<i64>,
    /// Rows wanted, 1 ..= [`MAX_LIMIT`].
    pub limit: u32,
}

/// Reads pages of a run's store.
pub trait History: Send {
    /// The page `q` asks for, or why not (in one sentence).
    fn page(&mut self, q: &Query) -> Result<Page, String>;
}

/// A store reader shared with the endpoint.
#[derive(Clone)]
pub struct HistorySource(pub Arc<Mutex<dyn History>>);

impl std::fmt::Debug for HistorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistorySource")
    }
}

/// The query of a `/store` URL, or why it is refused.
pub fn parse(url: &str) -> Result<Query, String> {
    let get = |k: &str| super::query(url, k);
    let table = get("table").unwrap_or("fills");
    let table = TABLES.iter().find(|t| **t == table).ok_or_else(|| {
        format!(
            "table={} is not a history table; one of {}",
            super::escaped(table, 40),
            TABLES.join(", ")
        )
    })?;
    let before = match get("before") {
        None | Some("") => None,
        Some(b) => Some(b.parse::<i64>().map_err(|_| {
            format!(
                "before={} is not a whole number (a page's `next`)",
                super::escaped(b, 40)
            )
        })?),
    };
    let limit = match get("limit") {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                format!(
                    "limit={} is out of range: 1 ..= {MAX_LIMIT}",
                    super::escaped(l, 40)
                )
            })?,
    };
    Ok(Query {
        table,
        before,
        limit,
    })
}

/// The answer to `GET /store…`.
pub fn answer(source: Option<&HistorySource>, url: &str) -> Response {
    let Some(source) = source else {
        return super::error(
            404,
            "this run keeps no trade store ([store] live = false): `autobot store rebuild RUN_DIR` makes one",
        );
    };
    let q = match parse(url) {
        Ok(q) => q,
        Err(e) => return super::error(400, &e),
    };
    let page = match source.0.lock() {
        Ok(mut h) => h.page(&q),
        Err(_) => Err("the store reader failed earlier (a bug)".to_string()),
    };
    match page {
        Ok(p) => Response::json(200, serde_json::to_string(&p).unwrap_or_default()),
        Err(e) => super::error(503, &format!("the trade store cannot be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_checked_and_refused_in_one_sentence() {
        assert_eq!(
            parse("/store").unwrap(),
            Query {
                table: "fills",
                before: None,
                limit: DEFAULT_LIMIT
            }
        );
        assert_eq!(
            parse("/store?table=equity&before=1704067200000&limit=5").unwrap(),
            Query {
                table: "equity",
                before: Some(1_704_067_200_000),
                limit: 5
            }
        );
        let e = parse("/store?table=users").unwrap_err();
        assert!(
            e.starts_with("table=users is not a history table; one of fills"),
            "{e}"
        );
        let e = parse("/store?limit=0").unwrap_err();
        assert_eq!(e, "limit=0 is out of range: 1 ..= 1000");
        let e = parse("/store?before=x").unwrap_err();
        assert!(e.starts_with("before=x is not a whole number"), "{e}");
    }
}
