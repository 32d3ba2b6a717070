//! Starting one job's processes and following them until the job ends.
//!
//! A job is a command line, run by the shell layer's [`Execution`]: simple
//! commands and pipelines are spawned directly (one process per stage, no
//! shell), anything else under the fallback shell. Each pipeline gets its
//! own process group, so one signal reaches every process of the job. The
//! engine polls a [`Launched`] job whenever one of its pidfds becomes
//! readable.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

use crate::shell::{Context, Execution, JobStatus, ProcessGroup, Script, Step};
use crate::sys::{ExitStatus, ResourceUsage};

/// The fds a job starts with.
pub struct JobIo {
    /// The job's stdin.
    pub stdin: OwnedFd,
    /// The job's stdout.
    pub stdout: OwnedFd,
    /// The job's stderr.
    pub stderr: OwnedFd,
    /// The directory the job runs in (`None`: parx's own).
    pub cwd: Option<std::path::PathBuf>,
    /// stdout and stderr are pipes made for this job alone (so a builtin
    /// like `echo` may write into them without a process).
    pub fresh_pipes: bool,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The job's status, as the shell running it would have reported it:
    /// a job that is one simple command reports its signal, as `bash -c`
    /// does when it `exec`s a lone command.
    pub status: ExitStatus,
    /// Exit status of each stage of the last pipeline (`PIPESTATUS`).
    pub stages: Vec<i32>,
    /// Summed CPU time, largest peak RSS.
    pub usage: ResourceUsage,
    /// parx ended the job ([`Launched::stop`]) before it was done.
    pub stopped: bool,
}

impl Outcome {
    fn from_status(st: JobStatus) -> Outcome {
        let mut usage = ResourceUsage::default();
        for e in &st.exits {
            usage.user += e.exit.usage.user;
            usage.system += e.exit.usage.system;
            usage.max_rss_kb = usage.max_rss_kb.max(e.exit.usage.max_rss_kb);
        }
        let status = match (st.killed, st.exits.as_slice()) {
            (Some(signal), _) => ExitStatus::Signaled {
                signal,
                core_dumped: false,
            },
            (None, [only])
                if st.pipestatus.len() == 1 && only.exit.status.shell_code() == st.code =>
            {
                only.exit.status
            }
            _ => ExitStatus::Exited(st.code),
        };
        Outcome {
            status,
            stages: st.pipestatus,
            usage,
            stopped: st.stopped,
        }
    }

    /// A job whose processes could not be started at all.
    pub fn failed_to_start(code: i32) -> Outcome {
        Outcome {
            status: ExitStatus::Exited(code),
            stages: vec![code],
            usage: ResourceUsage::default(),
            stopped: false,
        }
    }
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
    exec: Execution,
    /// Process groups the job has created (for the sentinel).
    groups: HashSet<i32>,
    done: Option<Outcome>,
}

impl Launched {
    /// Starts `command`: natively when parx implements all of its syntax,
    /// else under `shell -c`.
    pub fn start(
        command: &[u8],
        io: JobIo,
        env: &[(&str, OsString)],
        shell: &OsString,
    ) -> io::Result<Launched> {
        let ctx = Context {
            stdin: Some(io.stdin),
            stdout: Some(io.stdout),
            stderr: Some(io.stderr),
            cwd: io.cwd,
            env: env
                .iter()
                .map(|(k, v)| (OsString::from(k), v.clone()))
                .collect(),
            process_group: ProcessGroup::New,
            pipefail: false,
            shell: Some(shell.clone()),
            fresh_output_pipes: io.fresh_pipes,
        };
        let mut exec = Execution::new(Script::new(command), ctx)?;
        let step = exec.start()?;
        let mut launched = Launched {
            exec,
            groups: HashSet::new(),
            done: None,
        };
        launched.note(step);
        Ok(launched)
    }

    fn note(&mut self, step: Step) {
        match step {
            Step::Running => {
                for c in self.exec.children() {
                    if c.leads_group() {
                        self.groups.insert(c.pid());
                    }
                }
            }
            Step::Done(status) => self.done = Some(Outcome::from_status(status)),
        }
    }

    /// Process groups the job has created so far.
    pub fn groups(&self) -> impl Iterator<Item = i32> + '_ {
        self.groups.iter().copied()
    }

    /// The pidfds of the job's live processes, with their pids.
    pub fn pidfds(&self) -> impl Iterator<Item = (i32, BorrowedFd<'_>)> {
        self.exec
            .children()
            .filter_map(|c| c.pidfd().map(|fd| (c.pid(), fd)))
    }

    /// Reaps whichever processes have ended and says whether the job is
    /// done (a later pipeline of the job may have been started).
    pub fn poll(&mut self) -> io::Result<JobState> {
        if self.done.is_none() {
            let pids: Vec<i32> = self.exec.children().map(|c| c.pid()).collect();
            for pid in pids {
                let step = self.exec.child_exited(pid)?;
                self.note(step);
                if self.done.is_some() {
                    break;
                }
            }
        }
        Ok(self.state())
    }

    fn state(&self) -> JobState {
        match &self.done {
            Some(outcome) => JobState::Done(outcome.clone()),
            None => JobState::Running,
        }
    }

    /// Sends `signal` to every running process of the job (their groups).
    pub fn signal(&self, signal: i32) {
        self.exec.signal(signal);
    }

    /// Ends the job with `signal` (see [`Execution::stop`]): nothing more
    /// of it runs. `Done` if it had ended on its own already.
    pub fn stop(&mut self, signal: i32) -> io::Result<JobState> {
        if self.done.is_none() {
            let step = self.exec.stop(signal)?;
            self.note(step);
        }
        Ok(self.state())
    }
}
