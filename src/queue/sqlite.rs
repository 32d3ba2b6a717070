//! The SQLite backend: one database file shared by processes on one
//! machine (not over NFS), in WAL mode so readers never wait for the
//! writer. A claim is `BEGIN IMMEDIATE` (the write lock first, so two
//! claimers never pick the same row) then `UPDATE ... RETURNING`. Idle
//! workers poll with back-off: SQLite has no notifications.

use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params_from_iter};

use super::schema::{Dialect, Sql};
use super::{Backend, DbUrl, NewRow, Outcome, Progress, QueueError, Row, Tally};

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// One connection to a SQLite queue.
pub struct Sqlite {
    conn: Connection,
    url: DbUrl,
    sql: Sql,
    /// V columns of the table, once known.
    values: Option<usize>,
}

fn err(what: &str) -> impl Fn(rusqlite::Error) -> QueueError + '_ {
    move |e| QueueError::new(format!("SQLite: {what}: {e}"))
}

/// Bytes as SQLite text when they are UTF-8, else as a blob: either way
/// they come back byte for byte.
fn value(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::Text(s.to_string()),
        Err(_) => Value::Blob(bytes.to_vec()),
    }
}

fn bytes(v: ValueRef<'_>) -> Option<Vec<u8>> {
    match v {
        ValueRef::Null => None,
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(t.to_vec()),
        ValueRef::Integer(i) => Some(i.to_string().into_bytes()),
        ValueRef::Real(f) => Some(f.to_string().into_bytes()),
    }
}

fn no_table(e: &rusqlite::Error) -> bool {
    e.to_string().contains("no such table")
}

impl Sqlite {
    /// Opens (creating if needed) the database file.
    pub fn open(url: &DbUrl) -> Result<Sqlite, QueueError> {
        let path = url.database.clone().unwrap_or_default();
        let conn = Connection::open(&path)
            .map_err(|e| QueueError::new(format!("SQLite: can not open {path}: {e}")))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(err("setting the busy timeout"))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| {
                QueueError::new(format!("SQLite: {path} is not a usable database: {e}"))
            })?;
        let _ = mode;
        conn.execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(err("setting synchronous"))?;
        let sql = Sql::new(Dialect::Sqlite, &url.table);
        conn.execute_batch(&sql.create_control())
            .map_err(err("making the control table"))?;
        Ok(Sqlite {
            conn,
            url: url.clone(),
            sql,
            values: None,
        })
    }

    /// The number of V columns (none while the table does not exist).
    fn values(&mut self) -> Result<Option<usize>, QueueError> {
        if let Some(n) = self.values {
            return Ok(Some(n));
        }
        let mut stmt = self
            .conn
            .prepare(&format!("PRAGMA table_info({})", self.sql.table()))
            .map_err(err("reading the table's columns"))?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(1))
            .map_err(err("reading the table's columns"))?
            .collect::<Result<_, _>>()
            .map_err(err("reading the table's columns"))?;
        let n = super::worker::value_columns(&names);
        if n.is_some() {
            self.values = n;
        }
        Ok(n)
    }
}

impl Backend for Sqlite {
    fn create(&mut self, values: usize, append: bool) -> Result<i64, QueueError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a transaction"))?;
        let exists: bool = tx
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [self.sql.table()],
                |r| r.get::<_, i64>(0),
            )
            .map_err(err("looking for the table"))?
            > 0;
        if !append || !exists {
            tx.execute_batch(&self.sql.drop_table())
                .map_err(err("dropping the old table"))?;
            for stmt in self.sql.create_table(values) {
                tx.execute_batch(&stmt).map_err(err("making the table"))?;
            }
        }
        let next: i64 = tx
            .query_row(&self.sql.max_seq(), [], |r| r.get(0))
            .map_err(err("reading the last Seq"))?;
        tx.execute(&self.sql.set_adding(), [1])
            .map_err(err("marking the master"))?;
        tx.commit().map_err(err("committing"))?;
        self.values = None;
        Ok(next + 1)
    }

    fn insert(&mut self, rows: &[NewRow]) -> Result<(), QueueError> {
        let n = self.values()?.unwrap_or(0);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a transaction"))?;
        {
            let mut stmt = tx
                .prepare(&self.sql.insert(n))
                .map_err(err("preparing the insert"))?;
            for (seq, command, values) in rows {
                if values.len() > n {
                    return Err(QueueError(format!(
                        "job {seq} has {} values but the table has {n} V columns",
                        values.len()
                    )));
                }
                let mut params = vec![Value::Integer(*seq), value(command)];
                params.extend(values.iter().map(|v| value(v)));
                params.resize(n + 2, Value::Null);
                stmt.execute(params_from_iter(params))
                    .map_err(err("adding a job"))?;
            }
        }
        tx.commit().map_err(err("committing the jobs"))
    }

    fn master_done(&mut self) -> Result<(), QueueError> {
        self.conn
            .execute(&self.sql.set_adding(), [0])
            .map_err(err("marking the master done"))?;
        Ok(())
    }

    fn claim(
        &mut self,
        owner: &str,
        n: usize,
        lease: Duration,
        max_claims: u32,
    ) -> Result<Vec<Row>, QueueError> {
        let Some(values) = self.values()? else {
            return Ok(Vec::new());
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a claim"))?;
        let mut rows = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(&self.sql.claim(values))
                .map_err(err("preparing a claim"))?;
            let mut q = stmt
                .query(rusqlite::params![
                    owner,
                    lease.as_secs_f64(),
                    n as i64,
                    max_claims
                ])
                .map_err(err("claiming"))?;
            while let Some(r) = q.next().map_err(err("claiming"))? {
                let mut vals = Vec::with_capacity(values);
                for i in 0..values {
                    match bytes(r.get_ref(3 + i).map_err(err("reading a value"))?) {
                        Some(v) => vals.push(v),
                        None => break,
                    }
                }
                rows.push(Row {
                    seq: r.get(0).map_err(err("reading Seq"))?,
                    attempt: r.get(1).map_err(err("reading Attempt"))?,
                    command: bytes(r.get_ref(2).map_err(err("reading Command"))?)
                        .unwrap_or_default(),
                    values: vals,
                });
            }
        }
        if rows.is_empty() {
            // Rows whose workers kept dying are given up (rarely needed:
            // only when nothing else is left to claim).
            tx.execute(&self.sql.fail_exhausted(), [max_claims])
                .map_err(err("failing lost jobs"))?;
        }
        tx.commit().map_err(err("committing a claim"))?;
        rows.sort_by_key(|r| r.seq);
        Ok(rows)
    }

    fn complete(&mut self, owner: &str, d: &Outcome<'_>) -> Result<bool, QueueError> {
        let params = vec![
            Value::Text(d.host.to_string()),
            Value::Real(d.start_time),
            Value::Real(d.runtime),
            Value::Integer(d.send),
            Value::Integer(d.receive),
            Value::Integer(d.exitval),
            Value::Integer(d.signal),
            value(d.command),
            value(d.stdout),
            value(d.stderr),
            Value::Integer(d.seq),
            Value::Text(owner.to_string()),
            Value::Integer(d.attempt),
        ];
        let n = self
            .conn
            .prepare_cached(&self.sql.complete())
            .and_then(|mut s| s.execute(params_from_iter(params)))
            .map_err(err("writing a result"))?;
        Ok(n == 1)
    }

    fn renew(&mut self, owner: &str, seqs: &[i64], lease: Duration) -> Result<(), QueueError> {
        let list = format!(
            "[{}]",
            seqs.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        self.conn
            .execute(
                &self.sql.renew(),
                rusqlite::params![owner, lease.as_secs_f64(), list],
            )
            .map_err(err("renewing leases"))?;
        Ok(())
    }

    fn release(&mut self, owner: &str) -> Result<(), QueueError> {
        match self.conn.execute(&self.sql.release(), [owner]) {
            Ok(_) => Ok(()),
            Err(e) if no_table(&e) => Ok(()),
            Err(e) => Err(err("giving back jobs")(e)),
        }
    }

    fn progress(&mut self, owner: &str) -> Result<Progress, QueueError> {
        let adding: Option<i64> = self
            .conn
            .query_row(&self.sql.adding(), [], |r| r.get(0))
            .optional()
            .map_err(err("reading the master's state"))?;
        if adding != Some(0) {
            return Ok(Progress::Wait);
        }
        let others: i64 = match self
            .conn
            .query_row(&self.sql.others_unfinished(), [owner], |r| r.get(0))
        {
            Ok(n) => n,
            Err(e) if no_table(&e) => return Ok(Progress::Wait),
            Err(e) => return Err(err("counting jobs")(e)),
        };
        Ok(if others == 0 {
            Progress::Finished
        } else {
            Progress::Wait
        })
    }

    fn tally(&mut self, first_seq: i64) -> Result<Tally, QueueError> {
        let (unfinished, failed): (i64, i64) = self
            .conn
            .query_row(&self.sql.tally(), [first_seq], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(err("counting results"))?;
        Ok(Tally {
            unfinished: unfinished.max(0) as u64,
            failed: failed.max(0) as u64,
        })
    }

    fn wait_for_work(&mut self, at_most: Duration) -> Result<(), QueueError> {
        std::thread::sleep(at_most);
        Ok(())
    }

    fn reconnect(&self) -> Result<Box<dyn Backend>, QueueError> {
        Ok(Box::new(Sqlite::open(&self.url)?))
    }
}
