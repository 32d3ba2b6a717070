//! The SQL job queue: `--sqlmaster` puts jobs in a table, `--sqlworker`s
//! on any number of machines claim them, run them and write the results
//! back, in GNU parallel's columns (`Seq, Host, Starttime, JobRuntime,
//! Send, Receive, Exitval, _Signal, Command, V1..Vn, Stdout, Stderr`) so
//! plain `SELECT`s keep working.
//!
//! Beyond GNU parallel, each claimed row carries a lease (three more
//! columns: `Lease_Owner`, `Lease_Until`, `Attempt`) that its worker
//! renews from a thread with its own connection while the job runs. A
//! worker that dies, even by `kill -9`, has its job claimed again by
//! another one when the lease runs out (on the database's clock); a result
//! is written only `WHERE Lease_Owner = me AND Attempt = n`, so a late
//! write from a presumed-dead worker is rejected: a job may run more than
//! once, its result is recorded exactly once.
//!
//! Two backends behind one [`Backend`] trait: SQLite (`sqlite.rs`, one
//! file in WAL mode, claims in `BEGIN IMMEDIATE`) and PostgreSQL
//! (`postgres.rs`, claims with `FOR UPDATE SKIP LOCKED`, idle workers
//! woken by `LISTEN`/`NOTIFY`, reconnects with back-off). The SQL text
//! both share is in `schema.rs`; `master.rs` fills a table, `worker.rs`
//! is the engine's job source and result writer, `lease.rs` the renewer.
//! Nothing here parses the command line or builds command lines.

mod dburl;
mod lease;
mod master;
mod postgres;
mod schema;
mod sqlite;
mod worker;

use std::ffi::OsString;
use std::time::Duration;

pub use dburl::{DbUrl, Vendor};
pub use master::{Master, NewJob};
pub use worker::{Claimed, Worker, WorkerOptions};

/// The lease when `--sql-lease` is not given.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Times a job may be claimed in all (a worker lost each time) unless
/// `--retries` allows more.
pub const MIN_CLAIMS: u32 = 3;

/// `Exitval` of a row no worker has claimed (GNU parallel's value).
pub const PENDING: i64 = -1000;
/// `Exitval` of a claimed row whose job is running (GNU's "running").
pub const RUNNING: i64 = -1220;
/// `Exitval` of a row GNU's worker has reserved but not yet marked running.
pub const RESERVED: i64 = -1210;

/// What the command line asked of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlMode {
    /// `--sqlmaster DBURL`.
    pub master: Option<DbUrl>,
    /// `--sqlworker DBURL`.
    pub worker: Option<DbUrl>,
    /// `--wait`.
    pub wait: bool,
    /// `--sql-lease`.
    pub lease: Duration,
}

impl SqlMode {
    /// From the options as typed; `None` without any `--sql*` option.
    pub fn from_options(
        master: Option<OsString>,
        worker: Option<OsString>,
        wait: bool,
        lease: Option<Duration>,
    ) -> Result<Option<SqlMode>, String> {
        let parse = |o: Option<OsString>, name: &str| -> Result<Option<DbUrl>, String> {
            o.map(|u| {
                let u = u
                    .into_string()
                    .map_err(|_| format!("{name}: the DBURL is not valid UTF-8"))?;
                DbUrl::parse(&u).map_err(|e| format!("{name}: {e}"))
            })
            .transpose()
        };
        let master = parse(master, "--sqlmaster")?;
        let mut worker = parse(worker, "--sqlworker")?;
        if master.is_none() && worker.is_none() {
            return Ok(None);
        }
        if let Some(w) = worker.as_mut() {
            // `+` only means something to the master.
            w.append = false;
        }
        let lease = lease.unwrap_or(DEFAULT_LEASE);
        if lease < Duration::from_millis(100) {
            return Err("--sql-lease: must be at least 0.1 seconds".into());
        }
        Ok(Some(SqlMode {
            master,
            worker,
            wait,
            lease,
        }))
    }
}

/// A queue failure: one line for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct QueueError(pub String);

impl QueueError {
    fn new(what: impl std::fmt::Display) -> QueueError {
        // Database errors can span lines; parx prints one.
        let text = what.to_string();
        QueueError(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// A row a worker claimed.
#[derive(Debug, Clone)]
pub struct Row {
    /// `Seq`.
    pub seq: i64,
    /// Times claimed, this claim included.
    pub attempt: i64,
    /// `Command` as the master stored it.
    pub command: Vec<u8>,
    /// `V1..Vn` up to the first NULL.
    pub values: Vec<Vec<u8>>,
}

/// A finished job, as written back.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// `Seq`.
    pub seq: i64,
    /// The claim it ran under.
    pub attempt: i64,
    /// `Host`.
    pub host: &'a str,
    /// `Starttime`.
    pub start_time: f64,
    /// `JobRuntime`.
    pub runtime: f64,
    /// `Send`.
    pub send: i64,
    /// `Receive`.
    pub receive: i64,
    /// `Exitval`.
    pub exitval: i64,
    /// `_Signal`.
    pub signal: i64,
    /// `Command`: the command line that ran.
    pub command: &'a [u8],
    /// `Stdout`.
    pub stdout: &'a [u8],
    /// `Stderr`.
    pub stderr: &'a [u8],
}

/// What a worker with nothing to claim should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// No master has made the table yet, or it is still adding rows, or
    /// other workers hold rows that may come back: wait.
    Wait,
    /// Every row has its result (or is this worker's own): stop.
    Finished,
}

/// Counts of a master's rows, for `--wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Rows without a result yet.
    pub unfinished: u64,
    /// Rows whose job failed (exit value or signal not 0).
    pub failed: u64,
}

/// A row for the table: `Seq`, `Command`, `V1..Vn`.
pub type NewRow = (i64, Vec<u8>, Vec<Vec<u8>>);

/// One connection to a queue table.
pub trait Backend: Send {
    /// Makes the job table with `values` V columns (dropping an old one
    /// unless `append`), marks its master as adding rows, and returns the
    /// first `Seq` to use.
    fn create(&mut self, values: usize, append: bool) -> Result<i64, QueueError>;
    /// Adds rows (`Seq`, `Command`, values) in one transaction; wakes
    /// waiting workers.
    fn insert(&mut self, rows: &[NewRow]) -> Result<(), QueueError>;
    /// The master has added every row.
    fn master_done(&mut self) -> Result<(), QueueError>;
    /// Claims up to `n` rows that are pending or whose lease ran out;
    /// rows claimed `max_claims` times already are failed instead.
    fn claim(
        &mut self,
        owner: &str,
        n: usize,
        lease: Duration,
        max_claims: u32,
    ) -> Result<Vec<Row>, QueueError>;
    /// Writes a result under the claim (`owner`, attempt); false if the
    /// row was claimed again by another worker since (the write is
    /// rejected).
    fn complete(&mut self, owner: &str, done: &Outcome<'_>) -> Result<bool, QueueError>;
    /// Extends the leases on `seqs` held by `owner`.
    fn renew(&mut self, owner: &str, seqs: &[i64], lease: Duration) -> Result<(), QueueError>;
    /// Gives back rows `owner` holds without a result (pending again).
    fn release(&mut self, owner: &str) -> Result<(), QueueError>;
    /// Whether a worker with nothing to claim should wait or stop.
    fn progress(&mut self, owner: &str) -> Result<Progress, QueueError>;
    /// Rows from `first_seq` on: unfinished and failed.
    fn tally(&mut self, first_seq: i64) -> Result<Tally, QueueError>;
    /// Waits up to `at_most` for a sign of new work (a notification), or
    /// just that long.
    fn wait_for_work(&mut self, at_most: Duration) -> Result<(), QueueError>;
    /// Another connection to the same table (for the lease renewer).
    fn reconnect(&self) -> Result<Box<dyn Backend>, QueueError>;
}

/// Connects to the table `url` names.
pub fn open(url: &DbUrl) -> Result<Box<dyn Backend>, QueueError> {
    match url.vendor {
        Vendor::Sqlite => Ok(Box::new(sqlite::Sqlite::open(url)?)),
        Vendor::Postgres => Ok(Box::new(postgres::Postgres::open(url)?)),
    }
}
