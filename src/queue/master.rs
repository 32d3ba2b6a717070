//! A `--sqlmaster`: makes the table (or appends to it with `+DBURL`),
//! inserts one pending row per job in batches, marks itself done so idle
//! workers can stop, and with `--wait` waits until every row it added
//! has a result.

use std::time::Duration;

use super::{Backend, DbUrl, NewRow, QueueError, Tally};

/// Rows per insert transaction.
const BATCH: usize = 1000;

/// Longest pause between two looks at the table while waiting.
const WAIT_MAX: Duration = Duration::from_secs(1);

/// A job for the table.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The job's number in this master's run, from 1.
    pub seq: u64,
    /// Its input values.
    pub values: Vec<Vec<u8>>,
}

/// A master filling a table.
pub struct Master {
    conn: Box<dyn Backend>,
    first_seq: i64,
    command: Vec<u8>,
    pending: Vec<NewRow>,
}

impl Master {
    /// Makes the table for jobs of up to `values` values; `command` goes
    /// in every row's `Command`.
    pub fn start(url: &DbUrl, values: usize, command: Vec<u8>) -> Result<Master, QueueError> {
        let mut conn = super::open(url)?;
        let first_seq = conn.create(values, url.append)?;
        Ok(Master {
            conn,
            first_seq,
            command,
            pending: Vec::with_capacity(BATCH),
        })
    }

    /// Adds a job (written in batches).
    pub fn add(&mut self, job: NewJob) -> Result<(), QueueError> {
        let seq = self.first_seq + job.seq as i64 - 1;
        self.pending.push((seq, self.command.clone(), job.values));
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), QueueError> {
        if !self.pending.is_empty() {
            self.conn.insert(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Every job is added: workers may stop when the table is done.
    pub fn done(&mut self) -> Result<(), QueueError> {
        self.flush()?;
        self.conn.master_done()
    }

    /// `--wait`: until every row from this master has a result; returns
    /// how many failed.
    pub fn wait(&mut self) -> Result<u64, QueueError> {
        let mut pause = Duration::from_millis(10);
        loop {
            let Tally { unfinished, failed } = self.conn.tally(self.first_seq)?;
            if unfinished == 0 {
                return Ok(failed);
            }
            self.conn.wait_for_work(pause)?;
            pause = (pause * 2).min(WAIT_MAX);
        }
    }
}
