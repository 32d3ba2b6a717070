//! Starting one job's processes and following them until the job ends.
//!
//! A job is a command line; the processes that run it (one per pipeline
//! stage, or one shell) all live in one process group led by the first, so
//! that one signal reaches all of them. The engine polls a [`Launched`] job
//! whenever one of its pidfds becomes readable.

use std::ffi::OsString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use crate::sys::{Child, ExitStatus, ResourceUsage, Spawn, SpawnError};

/// The fds a job starts with.
pub struct JobIo {
    /// The job's stdin.
    pub stdin: OwnedFd,
    /// The job's stdout.
    pub stdout: OwnedFd,
    /// The job's stderr.
    pub stderr: OwnedFd,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The job's status, as its shell would have reported it.
    pub status: ExitStatus,
    /// Exit status of each stage (`PIPESTATUS`).
    pub stages: Vec<i32>,
    /// Summed CPU time, largest peak RSS.
    pub usage: ResourceUsage,
}

/// Where a launched job is.
pub enum JobState {
    /// Processes are still running.
    Running,
    /// Every process has ended.
    Done(Outcome),
}

/// A job's running processes.
pub struct Launched {
    children: Vec<Child>,
    pgid: i32,
    usage: ResourceUsage,
    last: Option<ExitStatus>,
}

impl Launched {
    /// Starts `command` under the shell `shell -c`.
    pub fn start(
        command: &[u8],
        io: JobIo,
        env: &[(&str, OsString)],
        shell: &OsString,
    ) -> Result<Launched, SpawnError> {
        use std::os::unix::ffi::OsStrExt;
        let mut spawn = Spawn::new(shell);
        spawn
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(command))
            .fd(0, io.stdin)
            .fd(1, io.stdout)
            .fd(2, io.stderr)
            .process_group(0);
        for (k, v) in env {
            spawn.env(k, v);
        }
        let child = spawn.spawn()?;
        Ok(Launched {
            pgid: child.pid(),
            children: vec![child],
            usage: ResourceUsage::default(),
            last: None,
        })
    }

    /// A job with no processes (its command could not be started).
    pub fn none() -> Launched {
        Launched {
            children: Vec::new(),
            pgid: 0,
            usage: ResourceUsage::default(),
            last: None,
        }
    }

    /// The process group of the job.
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The pidfds of the job's live processes, with their pids.
    pub fn pidfds(&self) -> impl Iterator<Item = (i32, BorrowedFd<'_>)> {
        self.children
            .iter()
            .filter_map(|c| c.pidfd().map(|fd| (c.pid(), fd)))
    }

    /// Reaps whichever processes have ended and says whether the job is done.
    pub fn poll(&mut self) -> io::Result<JobState> {
        let mut i = 0;
        while i < self.children.len() {
            match self.children[i].try_wait()? {
                Some(exit) => {
                    self.children.swap_remove(i);
                    self.usage.user += exit.usage.user;
                    self.usage.system += exit.usage.system;
                    self.usage.max_rss_kb = self.usage.max_rss_kb.max(exit.usage.max_rss_kb);
                    self.last = Some(exit.status);
                }
                None => i += 1,
            }
        }
        if !self.children.is_empty() {
            return Ok(JobState::Running);
        }
        let status = self.last.unwrap_or(ExitStatus::Exited(0));
        Ok(JobState::Done(Outcome {
            status,
            stages: vec![status.shell_code()],
            usage: self.usage,
        }))
    }

    /// Sends `signal` to the job's whole process group.
    pub fn signal(&self, signal: i32) {
        if self.pgid > 1 {
            let _ = crate::sys::signal::kill_group(self.pgid, signal);
        }
    }
}
