//! A `--sqlworker`: the engine's job source is the rows it claims, and
//! each job's result goes back to its row, under the claim it ran with.
//!
//! The source claims a few rows at a time (as many as there are job
//! slots, more while jobs end within milliseconds). With nothing to claim it asks the database whether to wait:
//! while its own jobs run it tells the engine "later" (back-off up to
//! [`IDLE_MAX`]) so their results keep flowing; with nothing running it
//! waits for a notification (PostgreSQL) or polls (SQLite). It stops when
//! the master is done and no other worker holds an unfinished row — so a
//! job whose worker dies is still around to be claimed again.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::lease::{Held, Renewer};
use super::{Backend, DbUrl, Outcome, Progress, QueueError, Row};
use crate::engine::{Finished, JobSource, Observer, Supply};
use crate::sys::ExitStatus;

/// Claims this soon after the previous one mean short jobs: claim more
/// rows per round trip (up to [`MAX_BATCH_FACTOR`] × the job slots).
const QUICK_CLAIMS: Duration = Duration::from_millis(100);
const MAX_BATCH_FACTOR: usize = 32;

/// Shortest and longest wait between two looks at an idle queue.
const IDLE_MIN: Duration = Duration::from_millis(5);
const IDLE_MAX: Duration = Duration::from_secs(1);

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Lease length.
    pub lease: Duration,
    /// Claims a job may have in all before it is given up.
    pub max_claims: u32,
    /// Rows claimed at once at first (the job slots); more while jobs are
    /// short.
    pub batch: usize,
}

/// A claimed job, for the caller to turn into a command line.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// `Seq` (`{#}`).
    pub seq: u64,
    /// `Command` as the master stored it (its command words, joined by
    /// GNU's `\257 ` separator).
    pub command: Vec<u8>,
    /// `V1..Vn`.
    pub values: Vec<Vec<u8>>,
}

/// `V1`, `v12`: a value column.
pub fn is_value_column(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 1 && (b[0] == b'V' || b[0] == b'v') && b[1..].iter().all(u8::is_ascii_digit)
}

/// The number of value columns among a table's column `names`; `None`
/// when the table does not exist (no columns).
pub fn value_columns(names: &[String]) -> Option<usize> {
    if names.is_empty() {
        return None;
    }
    Some(names.iter().filter(|n| is_value_column(n)).count())
}

struct Shared {
    conn: Box<dyn Backend>,
    owner: String,
    host: String,
    held: Held,
    error: Option<QueueError>,
    rejected: u64,
}

/// A worker's connection, claims and lease renewer.
pub struct Worker {
    shared: Rc<RefCell<Shared>>,
    renewer: Option<Renewer>,
    opts: WorkerOptions,
}

/// This machine's name, as GNU parallel writes it in `Host`.
fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

impl Worker {
    /// Connects (twice: one connection for the lease renewer).
    pub fn start(url: &DbUrl, opts: WorkerOptions) -> Result<Worker, QueueError> {
        let conn = super::open(url)?;
        let host = hostname();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let owner = format!("{host}:{}:{nanos:08x}", std::process::id());
        let held = Held::default();
        let renewer = Renewer::start(conn.reconnect()?, owner.clone(), held.clone(), opts.lease)?;
        Ok(Worker {
            shared: Rc::new(RefCell::new(Shared {
                conn,
                owner,
                host,
                held,
                error: None,
                rejected: 0,
            })),
            renewer: Some(renewer),
            opts,
        })
    }

    /// The engine's job source: claimed rows made into jobs by `build`.
    pub fn source<J, F>(&self, build: F) -> WorkerSource<F>
    where
        F: FnMut(Claimed) -> Result<J, String>,
    {
        WorkerSource {
            shared: self.shared.clone(),
            opts: self.opts.clone(),
            build,
            buffer: VecDeque::new(),
            idle: IDLE_MIN,
            batch: self.opts.batch.max(1),
            last_claim: None,
        }
    }

    /// The engine's observer: writes each result back.
    pub fn writer(&self) -> ResultWriter {
        ResultWriter {
            shared: self.shared.clone(),
        }
    }

    /// Stops renewing, gives back the rows still held (jobs interrupted
    /// or never started), and reports a failure the engine did not see.
    pub fn finish(mut self) -> Result<u64, QueueError> {
        self.renewer.take();
        let mut s = self.shared.borrow_mut();
        let owner = s.owner.clone();
        let released = s.conn.release(&owner);
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        released?;
        Ok(s.rejected)
    }
}

/// Claimed rows as jobs (see [`Worker::source`]).
pub struct WorkerSource<F> {
    shared: Rc<RefCell<Shared>>,
    opts: WorkerOptions,
    build: F,
    buffer: VecDeque<Row>,
    idle: Duration,
    /// Rows to claim next time.
    batch: usize,
    /// When rows were last claimed.
    last_claim: Option<Instant>,
}

impl<J, F> WorkerSource<F>
where
    F: FnMut(Claimed) -> Result<J, String>,
{
    fn job(&mut self, row: Row) -> Supply<J, QueueError> {
        let seq = u64::try_from(row.seq).unwrap_or(0);
        match (self.build)(Claimed {
            seq,
            command: row.command,
            values: row.values,
        }) {
            Ok(j) => Supply::Job(j),
            Err(e) => Supply::Error(QueueError(format!("job {seq}: {e}"))),
        }
    }

    fn next_idle(&mut self) -> Duration {
        let wait = self.idle;
        self.idle = (self.idle * 2).min(IDLE_MAX).min(self.opts.lease / 3);
        wait
    }
}

impl<J, F> JobSource for WorkerSource<F>
where
    J: crate::engine::JobSpec,
    F: FnMut(Claimed) -> Result<J, String>,
{
    type Job = J;
    type Error = QueueError;

    fn supply(&mut self) -> Supply<J, QueueError> {
        if let Some(row) = self.buffer.pop_front() {
            return self.job(row);
        }
        let shared = self.shared.clone();
        let mut s = shared.borrow_mut();
        if let Some(e) = s.error.take() {
            return Supply::Error(e);
        }
        let owner = s.owner.clone();
        // Short jobs: fewer round trips per job. Long ones: no hoarding.
        let base = self.opts.batch.max(1);
        self.batch = match self.last_claim.map(|t| t.elapsed()) {
            Some(e) if e < QUICK_CLAIMS => (self.batch * 2).min(base * MAX_BATCH_FACTOR),
            Some(e) if e < QUICK_CLAIMS * 10 => self.batch,
            _ => base,
        };
        let rows = match s
            .conn
            .claim(&owner, self.batch, self.opts.lease, self.opts.max_claims)
        {
            Ok(rows) => rows,
            Err(e) => return Supply::Error(e),
        };
        if !rows.is_empty() {
            self.last_claim = Some(Instant::now());
            for r in &rows {
                s.held.add(r.seq, r.attempt);
            }
            drop(s);
            self.idle = IDLE_MIN;
            self.buffer.extend(rows);
            return match self.buffer.pop_front() {
                Some(row) => self.job(row),
                None => Supply::Later(Instant::now()),
            };
        }
        match s.conn.progress(&owner) {
            Err(e) => Supply::Error(e),
            Ok(Progress::Finished) => Supply::Done,
            Ok(Progress::Wait) => {
                let wait = self.next_idle();
                if s.held.is_empty() {
                    // Nothing of ours runs: waiting here blocks nothing.
                    if let Err(e) = s.conn.wait_for_work(wait) {
                        return Supply::Error(e);
                    }
                    Supply::Later(Instant::now())
                } else {
                    Supply::Later(Instant::now() + wait)
                }
            }
        }
    }
}

/// Writes results back (see [`Worker::writer`]).
pub struct ResultWriter {
    shared: Rc<RefCell<Shared>>,
}

impl Observer for ResultWriter {
    fn wants_output(&self) -> bool {
        true
    }

    fn finished(&mut self, done: &Finished<'_>) {
        let mut s = self.shared.borrow_mut();
        let seq = done.seq as i64;
        let Some(attempt) = s.held.remove(seq) else {
            return;
        };
        let (exitval, signal) = match done.status {
            ExitStatus::Exited(code) => (i64::from(code), 0),
            ExitStatus::Signaled { signal, .. } => (0, i64::from(signal)),
        };
        let host = s.host.clone();
        let outcome = Outcome {
            seq,
            attempt,
            host: &host,
            start_time: done.start_time,
            runtime: done.runtime,
            send: done.send as i64,
            receive: done.receive as i64,
            exitval: if done.timed_out { -1 } else { exitval },
            signal,
            command: done.command,
            stdout: done.stdout,
            stderr: done.stderr,
        };
        let owner = s.owner.clone();
        match s.conn.complete(&owner, &outcome) {
            Ok(true) => {}
            Ok(false) => {
                s.rejected += 1;
                eprintln!(
                    "parx: job {seq}: result not recorded: its lease ran out and another \
                     worker claimed it again"
                );
            }
            Err(e) => {
                if s.error.is_none() {
                    s.error = Some(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_columns() {
        assert!(is_value_column("V1"));
        assert!(is_value_column("v12"));
        assert!(!is_value_column("V"));
        assert!(!is_value_column("Vx"));
        assert!(!is_value_column("Seq"));
    }
}
