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
    /// The host it ran on (`:` for this machine), GNU's Host column.
    pub host: String,
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

/// How `--joblog` opens its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `--joblog FILE`: a new log with its header.
    Truncate,
    /// `--joblog +FILE`: records appended, no header (GNU parallel writes
    /// none, even to a new file).
    Append,
    /// `--resume`: records appended; a header if the log is empty.
    Resume,
}

/// Which of parx's stdout (1) or stderr (2) `path` names, if any: `-` is
/// stdout, as in GNU parallel; otherwise the same file (device and inode).
fn std_fd_for(path: &Path) -> Option<i32> {
    use std::os::unix::fs::MetadataExt;
    if path.as_os_str() == "-" {
        return Some(1);
    }
    let target = std::fs::metadata(path).ok()?;
    [1, 2].into_iter().find(|&fd| {
        let std = crate::sys::stdio::std_file(fd);
        std.metadata()
            .is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino())
    })
}

/// An open joblog.
pub struct JobLog {
    file: File,
    format: Format,
}

impl JobLog {
    /// Opens `path` as `mode` says, writing GNU's header line to a TSV log
    /// that starts empty (not with `+FILE`, as GNU parallel). `-`, and a
    /// path naming parx's own stdout or stderr (`/dev/stdout`, the file
    /// stdout is redirected to), write through that fd, at its offset, so
    /// no line of the jobs' output or of the log overwrites another.
    pub fn open(path: &Path, mode: OpenMode, format: Format) -> io::Result<JobLog> {
        let file = match std_fd_for(path) {
            Some(fd) => File::from(crate::sys::spawn::dup_std(fd)?),
            None if mode == OpenMode::Truncate => File::create(path)?,
            None => OpenOptions::new().create(true).append(true).open(path)?,
        };
        let mut log = JobLog { file, format };
        let header = match mode {
            OpenMode::Truncate => true,
            OpenMode::Append => false,
            OpenMode::Resume => log.file.metadata()?.len() == 0,
        };
        if format == Format::Tsv && header {
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
