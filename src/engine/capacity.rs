//! How many jobs run at once when the machine runs short of file
//! descriptors or processes.
//!
//! Before the first job, the open-files limit is compared with what `-j`
//! jobs would hold; if it is too small, fewer jobs run at once, with GNU
//! parallel's warning. While jobs run, a job that can not start because
//! fds or processes ran out (`EMFILE`, `ENFILE`, `EAGAIN`, `ENOMEM`) is
//! not failed: the scheduler puts it back in the queue and lowers the
//! number of jobs at once below what runs now (again with GNU's warning),
//! so the jobs still running keep room to start their later commands. The
//! limit is never raised again, as in GNU parallel.
//!
//! When fds are tight, a few are held in reserve (copies of `/dev/null`)
//! and let go only while the shell layer starts a job or its later
//! commands: a pipeline is then never cut short half-way for lack of an
//! fd that another job's start took. If the reserve can not be taken back
//! afterwards, fewer jobs run at once.
//!
//! This module decides numbers and prints the warnings; the scheduler owns
//! the queue.

use std::io;
use std::os::fd::OwnedFd;

use crate::sys::spawn::os_error_code;

/// What ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shortage {
    /// File descriptors (`EMFILE`, `ENFILE`).
    Files,
    /// Processes, or memory for one (`EAGAIN`, `ENOMEM`).
    Processes,
}

/// Which resource `e` says ran out, if any.
pub(crate) fn shortage(e: &io::Error) -> Option<Shortage> {
    match os_error_code(e)? {
        libc::EMFILE | libc::ENFILE => Some(Shortage::Files),
        libc::EAGAIN | libc::ENOMEM => Some(Shortage::Processes),
        _ => None,
    }
}

/// Fds parx holds for one running job: the read ends of its stdout and
/// stderr pipes, the job's own copies of its stdin, stdout and stderr
/// (for its later commands), and a pidfd (measured: 6 each).
const FDS_PER_JOB: usize = 6;

/// Fds kept free for the moment a running job starts a later command
/// (a pipe, the child's three fds, its pidfd, a spill file).
const FDS_IN_FLIGHT: usize = 8;

/// Fds are tight when `-j` jobs with pipelines of this many stages would
/// not fit: the reserve is then held.
const TIGHT_FACTOR: usize = 2;

const FILE_HINTS: [&str; 3] = [
    "or increasing 'ulimit -n' (try: ulimit -n `ulimit -Hn`)",
    "or increasing 'nofile' in /etc/security/limits.conf",
    "or increasing /proc/sys/fs/file-max",
];

const PROCESS_HINTS: [&str; 3] = [
    "Try increasing 'ulimit -u' (try: ulimit -u `ulimit -Hu`)",
    "or increasing 'nproc' in /etc/security/limits.conf",
    "or increasing /proc/sys/kernel/pid_max",
];

/// The number of jobs allowed to run at once.
#[derive(Debug)]
pub(crate) struct Capacity {
    limit: usize,
    hinted_files: bool,
    hinted_processes: bool,
    /// Whether fds are tight (the reserve is kept).
    tight: bool,
    reserve: Vec<OwnedFd>,
}

impl Capacity {
    /// Room for `jobs` at once, fewer if the open-files limit is too small
    /// for that many (with a warning). Call once parx's own fds are open.
    pub(crate) fn new(jobs: usize) -> Capacity {
        let jobs = jobs.max(1);
        let mut c = Capacity {
            limit: jobs,
            hinted_files: false,
            hinted_processes: false,
            tight: false,
            reserve: Vec::new(),
        };
        if let Some(room) = free_fds() {
            c.tight = room < jobs.saturating_mul(FDS_PER_JOB * TIGHT_FACTOR) + FDS_IN_FLIGHT;
            let fit = room.saturating_sub(FDS_IN_FLIGHT) / FDS_PER_JOB;
            if fit < jobs {
                c.limit = fit.max(1);
                c.hinted_files = true;
                let n = c.limit;
                warn(&format!(
                    "Only enough file handles to run {n} jobs in parallel."
                ));
                warn(&format!("Try running 'parx -j0 -N {n} --pipe parx -j0'"));
                for h in FILE_HINTS {
                    warn(h);
                }
            }
        }
        c
    }

    /// Lets the reserved fds go, for the shell layer to use: call right
    /// before it starts a job or a job's later commands.
    pub(crate) fn release_reserve(&mut self) {
        self.reserve.clear();
    }

    /// Takes the reserve back (copies of `like`) once the shell layer is
    /// done; if fds ran out first, fewer jobs run at once than the
    /// `running` now.
    pub(crate) fn refill_reserve(&mut self, like: &OwnedFd, running: usize) {
        if !self.tight {
            return;
        }
        while self.reserve.len() < FDS_IN_FLIGHT {
            match like.try_clone() {
                Ok(fd) => self.reserve.push(fd),
                Err(e) => {
                    if let Some(kind) = shortage(&e) {
                        self.lower(running, kind);
                    }
                    return;
                }
            }
        }
    }

    /// How many jobs may run at once now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// A job could not start (or go on) for lack of `what` while `running`
    /// other jobs hold theirs: fewer jobs at once from now on, one fewer
    /// than run now so the jobs running keep some room. Returns whether
    /// the limit went down.
    pub(crate) fn lower(&mut self, running: usize, what: Shortage) -> bool {
        let new = running.saturating_sub(1).max(1);
        if new >= self.limit {
            return false;
        }
        self.limit = new;
        match what {
            Shortage::Files => {
                self.tight = true;
                warn(&format!(
                    "No more file handles: Decreasing number of running jobs to {new}."
                ));
                if !std::mem::replace(&mut self.hinted_files, true) {
                    warn(&format!("Try running 'parx -j0 -N {new} --pipe parx -j0'"));
                    for h in FILE_HINTS {
                        warn(h);
                    }
                }
            }
            Shortage::Processes => {
                warn(&format!(
                    "No more processes: Decreasing number of running jobs to {new}."
                ));
                if !std::mem::replace(&mut self.hinted_processes, true) {
                    for h in PROCESS_HINTS {
                        warn(h);
                    }
                }
            }
        }
        true
    }
}

fn warn(line: &str) {
    eprintln!("parx: Warning: {line}");
}

/// Fds this process may still open: the soft `RLIMIT_NOFILE` minus the
/// fds open now (`None` if either is unknown, or there is no limit).
fn free_fds() -> Option<usize> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current?;
    // The directory's own fd is among those listed.
    let open = std::fs::read_dir("/proc/self/fd")
        .ok()?
        .count()
        .saturating_sub(1);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Some(limit.saturating_sub(open))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_errors_also_inside_spawn_errors() {
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(shortage(&e), Some(Shortage::Files));
        let spawn = crate::sys::SpawnError::Io {
            program: "/bin/true".into(),
            source: io::Error::from_raw_os_error(libc::EAGAIN),
        };
        assert_eq!(
            shortage(&io::Error::other(spawn)),
            Some(Shortage::Processes)
        );
        assert_eq!(shortage(&io::Error::from_raw_os_error(libc::ENOENT)), None);
    }

    #[test]
    fn lowers_below_what_runs_and_never_raises() {
        let mut c = Capacity {
            limit: 20,
            hinted_files: true,
            hinted_processes: true,
            tight: false,
            reserve: Vec::new(),
        };
        assert!(c.lower(7, Shortage::Processes));
        assert_eq!(c.limit(), 6);
        assert!(!c.lower(9, Shortage::Processes));
        assert_eq!(c.limit(), 6);
        assert!(c.lower(0, Shortage::Files));
        assert_eq!(c.limit(), 1);
    }
}
