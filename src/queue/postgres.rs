//! The PostgreSQL backend (the synchronous `postgres` crate): many
//! machines, one server. A claim is `UPDATE ... WHERE Seq IN (SELECT ...
//! FOR UPDATE SKIP LOCKED) RETURNING`, so concurrent claimers skip each
//! other's rows instead of waiting. Idle workers `LISTEN` on the table's
//! channel; the master `NOTIFY`s when it adds rows and when it is done.
//!
//! A lost connection (server restart, network) is retried with back-off
//! for [`RECONNECT_FOR`]; each statement is safe to send again (a claim
//! whose answer was lost runs out its lease; a result or a batch of rows
//! that did commit is recognised and not written twice).

use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, NoTls};

use super::schema::{Dialect, Sql};
use super::{Backend, DbUrl, NewRow, Outcome, Progress, QueueError, Row, Tally};

/// How long to keep trying to reconnect before giving up.
pub const RECONNECT_FOR: Duration = Duration::from_secs(60);
/// First wait before reconnecting; doubles up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Giving up on a server that does not answer at all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection to a PostgreSQL queue.
pub struct Postgres {
    client: Client,
    url: DbUrl,
    sql: Sql,
    values: Option<usize>,
    listening: bool,
}

fn config(url: &DbUrl) -> postgres::Config {
    let mut c = postgres::Config::new();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let user = url
        .user
        .clone()
        .or_else(|| env("PGUSER"))
        .or_else(|| env("USER"))
        .or_else(|| env("LOGNAME"))
        .unwrap_or_else(|| "postgres".into());
    c.user(&user);
    if let Some(p) = url.password.clone().or_else(|| env("PGPASSWORD")) {
        c.password(p);
    }
    match url.host.clone().or_else(|| env("PGHOST")) {
        Some(h) => {
            c.host(&h);
        }
        None => {
            c.host("/var/run/postgresql");
            c.host("localhost");
        }
    }
    if let Some(p) = url
        .port
        .or_else(|| env("PGPORT").and_then(|p| p.parse().ok()))
    {
        c.port(p);
    }
    c.dbname(url.database.as_deref().unwrap_or(&user));
    c.connect_timeout(CONNECT_TIMEOUT);
    c.application_name("parx");
    c
}

/// Whether the connection is gone (as opposed to a bad statement).
fn connection_lost(client: &Client, e: &postgres::Error) -> bool {
    if client.is_closed() || e.is_closed() {
        return true;
    }
    match e.code() {
        None => true,
        Some(c) => {
            let code = c.code();
            code.starts_with("08") || code.starts_with("57") || *c == SqlState::ADMIN_SHUTDOWN
        }
    }
}

/// Text for a TEXT column: PostgreSQL takes neither NUL nor invalid UTF-8.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\0', "\u{FFFD}")
}

impl Postgres {
    /// Connects and makes the control table if missing.
    pub fn open(url: &DbUrl) -> Result<Postgres, QueueError> {
        let mut client = Self::connect(url)?;
        let sql = Sql::new(Dialect::Postgres, &url.table);
        // Two workers making the control table at once: one may lose.
        if let Err(e) = client.batch_execute(&sql.create_control())
            && e.code() != Some(&SqlState::UNIQUE_VIOLATION)
        {
            return Err(QueueError::new(format!(
                "PostgreSQL: making the control table: {e}"
            )));
        }
        Ok(Postgres {
            client,
            url: url.clone(),
            sql,
            values: None,
            listening: false,
        })
    }

    fn connect(url: &DbUrl) -> Result<Client, QueueError> {
        let mut client = config(url).connect(NoTls).map_err(|e| {
            QueueError::new(format!(
                "PostgreSQL: can not connect to {}: {e}",
                url.host.as_deref().unwrap_or("the default server")
            ))
        })?;
        // A result lost in a server crash is run again (its lease runs
        // out): no need to wait for each commit to reach the disk.
        client
            .batch_execute("SET synchronous_commit = off")
            .map_err(|e| QueueError::new(format!("PostgreSQL: {e}")))?;
        Ok(client)
    }

    /// Runs `op`, reconnecting with back-off while the connection is
    /// lost; `done_already` says whether a try whose answer was lost did
    /// take effect.
    fn retrying<T>(
        &mut self,
        what: &str,
        mut op: impl FnMut(&mut Client, &Sql) -> Result<T, postgres::Error>,
        mut done_already: impl FnMut(&mut Client, &Sql) -> Option<T>,
    ) -> Result<T, QueueError> {
        let mut lost_since: Option<Instant> = None;
        let mut backoff = BACKOFF_MIN;
        loop {
            match op(&mut self.client, &self.sql) {
                Ok(v) => return Ok(v),
                Err(e) if connection_lost(&self.client, &e) => {
                    let since = *lost_since.get_or_insert_with(Instant::now);
                    loop {
                        if since.elapsed() > RECONNECT_FOR {
                            return Err(QueueError::new(format!(
                                "PostgreSQL: {what}: lost the connection and could not \
                                 reconnect for {} s: {e}",
                                RECONNECT_FOR.as_secs()
                            )));
                        }
                        std::thread::sleep(backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        if let Ok(c) = Self::connect(&self.url) {
                            self.client = c;
                            self.listening = false;
                            break;
                        }
                    }
                    if let Some(v) = done_already(&mut self.client, &self.sql) {
                        return Ok(v);
                    }
                }
                Err(e) => return Err(QueueError::new(format!("PostgreSQL: {what}: {e}"))),
            }
        }
    }

    fn values(&mut self) -> Result<Option<usize>, QueueError> {
        if let Some(n) = self.values {
            return Ok(Some(n));
        }
        let table = self.sql.table().to_ascii_lowercase();
        let names: Vec<String> = self.retrying(
            "reading the table's columns",
            |c, _| {
                let rows = c.query(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_name = $1 AND table_schema = current_schema()",
                    &[&table],
                )?;
                Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
            },
            |_, _| None,
        )?;
        let n = super::worker::value_columns(&names);
        if n.is_some() {
            self.values = n;
        }
        Ok(n)
    }
}

fn row_bytes(r: &postgres::Row, i: usize) -> Option<Vec<u8>> {
    r.get::<_, Option<String>>(i).map(String::into_bytes)
}

impl Backend for Postgres {
    fn create(&mut self, values: usize, append: bool) -> Result<i64, QueueError> {
        self.values = None;
        self.retrying(
            "making the table",
            |c, sql| {
                let mut tx = c.transaction()?;
                let table = sql.table().to_ascii_lowercase();
                let exists = tx
                    .query_one(
                        "SELECT COUNT(*) FROM information_schema.tables \
                         WHERE table_name = $1 AND table_schema = current_schema()",
                        &[&table],
                    )?
                    .get::<_, i64>(0)
                    > 0;
                if !append || !exists {
                    tx.batch_execute(&sql.drop_table())?;
                    for stmt in sql.create_table(values) {
                        tx.batch_execute(&stmt)?;
                    }
                }
                let next: i64 = tx.query_one(&sql.max_seq(), &[])?.get(0);
                tx.execute(&sql.set_adding(), &[&1i64])?;
                tx.commit()?;
                Ok(next + 1)
            },
            |_, _| None,
        )
    }

    fn insert(&mut self, rows: &[NewRow]) -> Result<(), QueueError> {
        let n = self.values()?.unwrap_or(0);
        let mut params: Vec<Vec<Option<String>>> = Vec::with_capacity(rows.len());
        for (seq, command, values) in rows {
            if values.len() > n {
                return Err(QueueError(format!(
                    "job {seq} has {} values but the table has {n} V columns",
                    values.len()
                )));
            }
            let mut p = vec![Some(text(command))];
            for v in values {
                let s = std::str::from_utf8(v)
                    .ok()
                    .filter(|s| !s.contains('\0'))
                    .ok_or_else(|| {
                        QueueError(format!(
                            "job {seq}: a value is not UTF-8 text, which PostgreSQL can not \
                             store (use a sqlite3:// DBURL)"
                        ))
                    })?;
                p.push(Some(s.to_string()));
            }
            p.resize(n + 1, None);
            params.push(p);
        }
        let first = rows.first().map_or(0, |r| r.0);
        let notify = format!("NOTIFY {}", self.sql.channel());
        self.retrying(
            "adding jobs",
            |c, sql| {
                let mut tx = c.transaction()?;
                let stmt = tx.prepare(&sql.insert(n))?;
                for ((seq, _, _), p) in rows.iter().zip(&params) {
                    let mut args: Vec<&(dyn ToSql + Sync)> = vec![seq];
                    args.extend(p.iter().map(|v| v as &(dyn ToSql + Sync)));
                    tx.execute(&stmt, &args)?;
                }
                tx.batch_execute(&notify)?;
                tx.commit()
            },
            |c, sql| {
                // The batch committed if its first row is there.
                let q = format!("SELECT COUNT(*) FROM {} WHERE Seq = $1", sql.table());
                let n: i64 = c.query_one(&q, &[&first]).ok()?.get(0);
                (n > 0).then_some(())
            },
        )
    }

    fn master_done(&mut self) -> Result<(), QueueError> {
        let notify = format!("NOTIFY {}", self.sql.channel());
        self.retrying(
            "marking the master done",
            |c, sql| {
                let mut tx = c.transaction()?;
                tx.execute(&sql.set_adding(), &[&0i64])?;
                tx.batch_execute(&notify)?;
                tx.commit()
            },
            |_, _| None,
        )
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
        let secs = lease.as_secs_f64();
        let n = n as i64;
        let max_claims = i64::from(max_claims);
        let mut rows = self.retrying(
            "claiming jobs",
            |c, sql| {
                let rows = c.query(&sql.claim(values), &[&owner, &secs, &n, &max_claims])?;
                if rows.is_empty() {
                    // Rows whose workers kept dying are given up (only
                    // needed when nothing else is left to claim).
                    c.execute(&sql.fail_exhausted(), &[&max_claims])?;
                }
                Ok(rows
                    .iter()
                    .map(|r| Row {
                        seq: r.get(0),
                        attempt: r.get(1),
                        command: row_bytes(r, 2).unwrap_or_default(),
                        values: (0..values).map_while(|i| row_bytes(r, 3 + i)).collect(),
                    })
                    .collect::<Vec<_>>())
            },
            |_, _| None,
        )?;
        rows.sort_by_key(|r| r.seq);
        Ok(rows)
    }

    fn complete(&mut self, owner: &str, d: &Outcome<'_>) -> Result<bool, QueueError> {
        let command = text(d.command);
        let stdout = text(d.stdout);
        let stderr = text(d.stderr);
        self.retrying(
            "writing a result",
            |c, sql| {
                let n = c.execute(
                    &sql.complete(),
                    &[
                        &d.host,
                        &d.start_time,
                        &d.runtime,
                        &d.send,
                        &d.receive,
                        &d.exitval,
                        &d.signal,
                        &command,
                        &stdout,
                        &stderr,
                        &d.seq,
                        &owner,
                        &d.attempt,
                    ],
                )?;
                Ok(n == 1)
            },
            |c, sql| {
                let n: i64 = c
                    .query_one(&sql.completed_by(), &[&d.seq, &owner, &d.attempt])
                    .ok()?
                    .get(0);
                (n > 0).then_some(true)
            },
        )
    }

    fn renew(&mut self, owner: &str, seqs: &[i64], lease: Duration) -> Result<(), QueueError> {
        let secs = lease.as_secs_f64();
        self.retrying(
            "renewing leases",
            |c, sql| c.execute(&sql.renew(), &[&owner, &secs, &seqs]),
            |_, _| None,
        )?;
        Ok(())
    }

    fn release(&mut self, owner: &str) -> Result<(), QueueError> {
        match self.client.execute(&self.sql.release(), &[&owner]) {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(()),
            Err(e) => Err(QueueError::new(format!(
                "PostgreSQL: giving back jobs: {e}"
            ))),
        }
    }

    fn progress(&mut self, owner: &str) -> Result<Progress, QueueError> {
        self.retrying(
            "reading the master's state",
            |c, sql| {
                let adding = c.query_opt(&sql.adding(), &[])?.map(|r| r.get::<_, i64>(0));
                if adding != Some(0) {
                    return Ok(Progress::Wait);
                }
                let others: i64 = match c.query_one(&sql.others_unfinished(), &[&owner]) {
                    Ok(r) => r.get(0),
                    Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                        return Ok(Progress::Wait);
                    }
                    Err(e) => return Err(e),
                };
                Ok(if others == 0 {
                    Progress::Finished
                } else {
                    Progress::Wait
                })
            },
            |_, _| None,
        )
    }

    fn tally(&mut self, first_seq: i64) -> Result<Tally, QueueError> {
        self.retrying(
            "counting results",
            |c, sql| {
                let r = c.query_one(&sql.tally(), &[&first_seq])?;
                let unfinished: i64 = r.get::<_, i64>(0);
                let failed: i64 = r.get::<_, i64>(1);
                Ok(Tally {
                    unfinished: unfinished.max(0) as u64,
                    failed: failed.max(0) as u64,
                })
            },
            |_, _| None,
        )
    }

    fn wait_for_work(&mut self, at_most: Duration) -> Result<(), QueueError> {
        if !self.listening {
            let listen = format!("LISTEN {}", self.sql.channel());
            self.retrying("listening", |c, _| c.batch_execute(&listen), |_, _| None)?;
            self.listening = true;
        }
        let waited = {
            let mut notes = self.client.notifications();
            let mut it = notes.timeout_iter(at_most);
            it.next().map(|_| ())
        };
        if let Err(e) = waited {
            if self.client.is_closed() {
                // The next statement reconnects.
                self.listening = false;
                return Ok(());
            }
            return Err(QueueError::new(format!(
                "PostgreSQL: waiting for work: {e}"
            )));
        }
        // Drain the rest without waiting.
        let _ = self.client.notifications().iter().count();
        Ok(())
    }

    fn reconnect(&self) -> Result<Box<dyn Backend>, QueueError> {
        Ok(Box::new(Postgres::open(&self.url)?))
    }
}
