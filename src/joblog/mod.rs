//! The joblog: one record per finished job, written the moment it ends, so
//! a parx killed mid-run leaves a correct log that `--resume` can read.
//!
//! One record type ([`JobRecord`]), two writers: GNU parallel's TSV format
//! (`Seq Host Starttime JobRuntime Send Receive Exitval Signal Command`,
//! byte-compatible) and parx's JSON lines, which add per-stage statuses,
//! CPU time and peak memory.

mod json;
mod resume;
mod tsv;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub use resume::{Entry, ResumeMode, read_done, read_entries};

/// The format of `--joblog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// GNU parallel's tab-separated format.
    #[default]
    Tsv,
    /// One JSON object per line, with parx's extra fields.
    Json,
}

/// Everything the joblog records about one finished job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The job's sequence number (`{#}`).
    pub seq: u64,
    /// Unix time the job started, in seconds.
    pub start_time: f64,
    /// Wall time the job ran, in seconds.
    pub runtime: f64,
    /// Bytes sent to the job's stdin (`--pipe`), else 0.
    pub send: u64,
    /// Bytes the job wrote on stdout and stderr.
    pub receive: u64,
    /// The exit value as GNU parallel logs it (-1 for a timed-out job).
    pub exitval: i32,
    /// The signal that killed the job, or 0.
    pub signal: i32,
    /// The command line as run.
    pub command: Vec<u8>,
    /// Exit status of each pipeline stage (`PIPESTATUS`), JSON only.
    pub stages: Vec<i32>,
    /// User CPU seconds of all the job's processes, JSON only.
    pub user_time: f64,
    /// System CPU seconds, JSON only.
    pub system_time: f64,
    /// Largest peak RSS among the job's processes, KiB, JSON only.
    pub max_rss_kb: u64,
}

/// An open joblog.
pub struct JobLog {
    file: File,
    format: Format,
}

impl JobLog {
    /// Opens `path` (truncating, or appending if `append`), writing GNU's
    /// header line for a new TSV log.
    pub fn open(path: &Path, append: bool, format: Format) -> io::Result<JobLog> {
        let file = if append {
            OpenOptions::new().create(true).append(true).open(path)?
        } else {
            File::create(path)?
        };
        let mut log = JobLog { file, format };
        let empty = log.file.metadata()?.len() == 0;
        if format == Format::Tsv && (!append || empty) {
            log.file.write_all(tsv::HEADER)?;
        }
        Ok(log)
    }

    /// Appends one record, in one `write` call, so that concurrent or
    /// interrupted writers never leave half a line.
    pub fn write(&mut self, record: &JobRecord) -> io::Result<()> {
        let line = match self.format {
            Format::Tsv => tsv::line(record),
            Format::Json => json::line(record),
        };
        self.file.write_all(&line)
    }
}
