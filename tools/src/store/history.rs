//! The dashboard's history views read from the run's trade store:
//! [`Reader`] answers `GET /store` pages
//! (`autobot_gateways::control::history`) from SQLite (read-only, beside
//! the live projector: the write-ahead log lets both go on) or
//! PostgreSQL, with the run's own rows only. It connects on the first
//! request, so a dashboard starts even when the store is not reachable
//! yet, and says why on each page it cannot serve.

use autobot_gateways::control::history::{History, Page, Query};
use serde_json::Value;

use super::Target;

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

/// Pages of one run's rows.
pub struct Reader {
    target: Target,
    run: String,
    conn: Option<Conn>,
}

impl Reader {
    /// A reader of `run`'s rows in `target` (not connected yet).
    pub fn new(target: Target, run: String) -> Reader {
        Reader {
            target,
            run,
            conn: None,
        }
    }

    fn conn(&mut self) -> Result<&mut Conn, String> {
        if self.conn.is_none() {
            let c = match &self.target {
                Target::Sqlite(p) => Conn::Sqlite(
                    rusqlite::Connection::open_with_flags(
                        p,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                    )
                    .map_err(|e| format!("{}: {e}", p.display()))?,
                ),
                Target::Postgres(url) => Conn::Postgres(Box::new(
                    super::db::connect(url).map_err(|e| format!("{e:#}"))?.0,
                )),
            };
            self.conn = Some(c);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| "no connection".to_string())
    }

    /// Rows of `sql` with parameters (the run's name, then `nums`), as
    /// column names and JSON values.
    fn fetch(&mut self, sql: &str, nums: &[i64]) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
        let run = self.run.clone();
        match self.conn()? {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).map_err(|e| e.to_string())?;
                let columns: Vec<String> =
                    st.column_names().iter().map(|n| n.to_string()).collect();
                let n = columns.len();
                let rows = st
                    .query_map(
                        rusqlite::params_from_iter(
                            std::iter::once(super::schema::Val::T(run))
                                .chain(nums.iter().map(|n| super::schema::Val::I(*n))),
                        ),
                        |r| {
                            (0..n)
                                .map(|i| {
                                    use rusqlite::types::ValueRef;
                                    Ok(match r.get_ref(i)? {
                                        ValueRef::Integer(v) => Value::from(v),
                                        ValueRef::Real(v) => Value::from(v),
                                        ValueRef::Text(t) => {
                                            Value::from(String::from_utf8_lossy(t).into_owned())
                                        }
                                        ValueRef::Null | ValueRef::Blob(_) => Value::Null,
                                    })
                                })
                                .collect::<rusqlite::Result<Vec<Value>>>()
                        },
                    )
                    .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(|e| e.to_string())?;
                Ok((columns, rows))
            }
            Conn::Postgres(c) => {
                let sql = super::schema::numbered(sql);
                let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&run];
                params.extend(
                    nums.iter()
                        .map(|n| n as &(dyn postgres::types::ToSql + Sync)),
                );
                let rows = c.query(&sql, &params).map_err(|e| e.to_string())?;
                let columns = rows.first().map_or_else(Vec::new, |r| {
                    r.columns().iter().map(|c| c.name().to_string()).collect()
                });
                let out = rows
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| {
                                use postgres::types::Type;
                                let t = r.columns()[i].type_().clone();
                                let v = if t == Type::INT8 {
                                    r.try_get::<_, i64>(i).map(Value::from)
                                } else if t == Type::INT4 {
                                    r.try_get::<_, i32>(i).map(Value::from)
                                } else if t == Type::FLOAT8 {
                                    r.try_get::<_, f64>(i).map(Value::from)
                                } else if t == Type::BOOL {
                                    r.try_get::<_, bool>(i).map(Value::from)
                                } else {
                                    r.try_get::<_, String>(i).map(Value::from)
                                };
                                v.map_err(|e| e.to_string())
                            })
                            .collect::<Result<Vec<Value>, String>>()
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok((columns, out))
            }
        }
    }
}

impl History for Reader {
    fn page(&mut self, q: &Query) -> Result<Page, String> {
        let page = self.read_page(q);
        // A SQLite file is opened for each page (cheap): a rebuild renames
        // a new file into place, which an open connection would never see.
        // A server connection is kept, and made again after an error (a
        // restarted server) rather than failing forever.
        if page.is_err() || matches!(self.target, Target::Sqlite(_)) {
            self.conn = None;
        }
        page
    }
}

impl Reader {
    fn read_page(&mut self, q: &Query) -> Result<Page, String> {
        let t = q.table;
        let key = if t == "equity" { "time_ms" } else { "seq" };
        let before = q.before.unwrap_or(i64::MAX);
        let (mut columns, mut rows) = self.fetch(
            &format!("SELECT * FROM {t} WHERE run = ? AND {key} < ? ORDER BY {key} DESC LIMIT ?"),
            &[before, i64::from(q.limit)],
        )?;
        let at = columns.iter().position(|c| c == key);
        let key_of = |r: &Vec<Value>| at.and_then(|i| r.get(i)).and_then(Value::as_i64);
        // A full page ends at a key boundary: the rows of its oldest key
        // go to the next page, unless they are all it holds (then they
        // all come now).
        if rows.len() == q.limit as usize
            && let Some(last) = rows.last().and_then(key_of)
        {
            let whole: Vec<Vec<Value>> = rows
                .iter()
                .filter(|r| key_of(r) != Some(last))
                .cloned()
                .collect();
            if whole.is_empty() {
                rows = self
                    .fetch(
                        &format!("SELECT * FROM {t} WHERE run = ? AND {key} = ?"),
                        &[last],
                    )
                    .map(|(_, r)| r)?;
            } else {
                rows = whole;
            }
        }
        let oldest = rows.last().and_then(key_of);
        let next = match oldest {
            Some(k) => {
                let (_, older) = self.fetch(
                    &format!("SELECT 1 FROM {t} WHERE run = ? AND {key} < ? LIMIT ?"),
                    &[k, 1],
                )?;
                (!older.is_empty()).then_some(k)
            }
            None => None,
        };
        let (_, run) = self.fetch("SELECT last_seq, complete FROM runs WHERE run = ?", &[])?;
        let (last_seq, complete) = run.first().map_or((None, false), |r| {
            (
                r.first().and_then(Value::as_i64),
                r.get(1)
                    .is_some_and(|v| v.as_bool().unwrap_or(v.as_i64() == Some(1))),
            )
        });
        // The run's own name is in every row: left out.
        if let Some(i) = columns.iter().position(|c| c == "run") {
            columns.remove(i);
            for r in &mut rows {
                if i < r.len() {
                    r.remove(i);
                }
            }
        }
        Ok(Page {
            table: t.to_string(),
            columns,
            rows,
            next,
            last_seq,
            complete,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::{Db as _, Sqlite};
    use crate::store::schema::{Row, Table, Val};

    fn decision(seq: u64) -> Row {
        let mut vals: Vec<Val> = vec![seq.into(), (seq * 1000).into(), 7u64.into()];
        vals.extend(
            ["BTCUSDT", "BUY", "Strategy", "0.001", "Vetoed", "Leverage"]
                .iter()
                .map(|s| Val::from(*s)),
        );
        vals.extend([Val::I(3), Val::I(2)]);
        Row {
            table: Table::Decisions,
            vals,
        }
    }

    #[test]
    fn pages_end_at_an_input_so_every_row_comes_once_newest_first() {
        let dir = std::env::temp_dir().join(format!("store-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.sqlite");
        let _ = std::fs::remove_file(&path);
        let mut db = Sqlite::open(&path, true).unwrap();
        db.begin().unwrap();
        for seq in [1, 2, 3, 3, 4, 5, 5, 5] {
            db.put("r1", &decision(seq)).unwrap();
        }
        // Another run's rows are never shown.
        db.put("r0", &decision(9)).unwrap();
        db.commit().unwrap();
        let mut reader = Reader::new(Target::Sqlite(path), "r1".into());
        let mut pages = Vec::new();
        let mut before = None;
        loop {
            let p = reader
                .page(&Query {
                    table: "decisions",
                    before,
                    limit: 2,
                })
                .unwrap();
            assert!(!p.columns.contains(&"run".to_string()));
            let at = p.columns.iter().position(|c| c == "seq").unwrap();
            pages.push(
                p.rows
                    .iter()
                    .map(|r| r[at].as_i64().unwrap())
                    .collect::<Vec<_>>(),
            );
            match p.next {
                Some(n) => before = Some(n),
                None => break,
            }
        }
        // Three rows of input 5 in one page though the limit is 2.
        assert_eq!(
            pages,
            vec![vec![5, 5, 5], vec![4], vec![3, 3], vec![2], vec![1]]
        );
        // A rebuild places a new file (the live store's log, left behind
        // by a killed run, is not replayed into it): the next page reads it.
        let fresh = dir.join("fresh.sqlite");
        let mut db = Sqlite::open(&fresh, false).unwrap();
        db.begin().unwrap();
        db.put("r1", &decision(42)).unwrap();
        db.commit().unwrap();
        drop(db);
        assert!(
            dir.join("store.sqlite-wal").exists(),
            "the live store's log is open"
        );
        crate::store::place_sqlite(&fresh, &dir.join("store.sqlite")).unwrap();
        let p = reader
            .page(&Query {
                table: "decisions",
                before: None,
                limit: 10,
            })
            .unwrap();
        assert_eq!(p.rows.len(), 1, "{p:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
