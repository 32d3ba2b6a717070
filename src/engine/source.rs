//! Where jobs come from and who hears how they ended.
//!
//! A [`JobSource`] hands the scheduler its next job, or says "nothing yet,
//! ask again by then" ([`Supply::Later`]) so the event loop keeps running
//! the jobs it has instead of blocking on a source that waits for work
//! (a SQL queue whose master is still adding rows). Every iterator of
//! `Result<job, error>` is a source that never says "later".
//!
//! An [`Observer`] is told about each job once it has ended for good (no
//! retry follows), with its output if it asked for it: the SQL worker
//! writes the result back to its table from there.

use std::fmt::Display;
use std::time::Instant;

use super::JobSpec;
use crate::sys::ExitStatus;

/// What a source has to offer right now.
pub enum Supply<J, E> {
    /// The next job.
    Job(J),
    /// The source failed: the run stops starting jobs (exit 255).
    Error(E),
    /// Nothing now; ask again at this instant at the latest (or as soon
    /// as a job ends).
    Later(Instant),
    /// No job will ever come.
    Done,
}

/// A supply of jobs for [`super::run_source`].
pub trait JobSource {
    /// The jobs.
    type Job: JobSpec;
    /// Why the source failed.
    type Error: Display;
    /// The next job, or why there is none.
    fn supply(&mut self) -> Supply<Self::Job, Self::Error>;
}

impl<J: JobSpec, E: Display, I: Iterator<Item = Result<J, E>>> JobSource for I {
    type Job = J;
    type Error = E;

    fn supply(&mut self) -> Supply<J, E> {
        match self.next() {
            Some(Ok(j)) => Supply::Job(j),
            Some(Err(e)) => Supply::Error(e),
            None => Supply::Done,
        }
    }
}

/// How a job ended, for an [`Observer`].
#[derive(Debug)]
pub struct Finished<'a> {
    /// `{#}`.
    pub seq: u64,
    /// The command line that ran (the last attempt's).
    pub command: &'a [u8],
    /// How it ended.
    pub status: ExitStatus,
    /// Killed by `--timeout`.
    pub timed_out: bool,
    /// Wall-clock start, seconds since the epoch.
    pub start_time: f64,
    /// Seconds it ran.
    pub runtime: f64,
    /// Bytes sent to its stdin.
    pub send: u64,
    /// Bytes read from its stdout and stderr.
    pub receive: u64,
    /// Its stdout, when the observer asked for output.
    pub stdout: &'a [u8],
    /// Its stderr, when the observer asked for output.
    pub stderr: &'a [u8],
}

/// Hears about every job that has ended for good.
pub trait Observer {
    /// Whether to keep each job's stdout and stderr in memory for
    /// [`Observer::finished`] (they are printed or saved as usual too).
    fn wants_output(&self) -> bool {
        false
    }
    /// Job `done.seq` ended and will not be retried.
    fn finished(&mut self, done: &Finished<'_>);
}
