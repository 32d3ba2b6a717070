//! A started child process and how it ended.
//!
//! Every [`Child`] is waited for exactly once: [`Child::wait`] consumes it,
//! and a `Child` dropped unwaited is killed and reaped (so a forgotten
//! handle can not leave a zombie). The pidfd taken at spawn time makes the
//! child pollable in an event loop: it becomes readable when the child
//! exits. The status and resource usage come from one `wait4` call.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::{reap, trace};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit(code)` (or returned from `main`).
    Exited(i32),
    /// It was killed by `signal`; the kernel reports whether it dumped core.
    Signaled { signal: i32, core_dumped: bool },
}

impl ExitStatus {
    /// Decodes a raw `wait` status word.
    pub fn from_raw(raw: i32) -> ExitStatus {
        if libc::WIFSIGNALED(raw) {
            ExitStatus::Signaled {
                signal: libc::WTERMSIG(raw),
                core_dumped: libc::WCOREDUMP(raw),
            }
        } else {
            ExitStatus::Exited(libc::WEXITSTATUS(raw))
        }
    }

    /// True for `Exited(0)`.
    pub fn success(&self) -> bool {
        matches!(self, ExitStatus::Exited(0))
    }

    /// The status as a shell's `$?` shows it: the exit code, or 128 + the
    /// signal number for a killed process.
    pub fn shell_code(&self) -> i32 {
        match *self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled { signal, .. } => 128 + signal,
        }
    }

    /// The exit code, if the process exited rather than being killed.
    pub fn code(&self) -> Option<i32> {
        match *self {
            ExitStatus::Exited(code) => Some(code),
            ExitStatus::Signaled { .. } => None,
        }
    }

    /// The signal that killed the process, if any.
    pub fn signal(&self) -> Option<i32> {
        match *self {
            ExitStatus::Exited(_) => None,
            ExitStatus::Signaled { signal, .. } => Some(signal),
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitStatus::Exited(code) => write!(f, "status {code}"),
            ExitStatus::Signaled {
                signal,
                core_dumped,
            } => {
                write!(f, "killed by signal {signal}")?;
                if core_dumped {
                    write!(f, " (core dumped)")?;
                }
                Ok(())
            }
        }
    }
}

/// CPU time and peak memory of one child, from `wait4`'s `rusage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResourceUsage {
    /// CPU time spent in user mode.
    pub user: Duration,
    /// CPU time spent in the kernel on the child's behalf.
    pub system: Duration,
    /// Peak resident set size, in KiB.
    pub max_rss_kb: u64,
}

impl ResourceUsage {
    fn from_rusage(ru: &libc::rusage) -> ResourceUsage {
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        ResourceUsage {
            user: tv(ru.ru_utime),
            system: tv(ru.ru_stime),
            max_rss_kb: ru.ru_maxrss.max(0) as u64,
        }
    }
}

/// Everything known about a child once it has been reaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// Exit code or signal.
    pub status: ExitStatus,
    /// Wall time from spawn to the moment parx reaped it.
    pub elapsed: Duration,
    /// CPU time and peak memory.
    pub usage: ResourceUsage,
}

/// A running child process started by [`crate::spawn::Spawn`].
#[derive(Debug)]
pub struct Child {
    pid: i32,
    pidfd: Option<OwnedFd>,
    leads_group: bool,
    started: Instant,
    /// Set once the child has been reaped: later calls return it instead of
    /// calling `wait4` again on a pid that may belong to another process.
    exit: Option<Exit>,
}

impl Child {
    pub(crate) fn new(pid: i32, leads_group: bool, started: Instant) -> Child {
        reap::register(pid);
        // pidfd_open cannot race with pid reuse: only parx reaps this pid.
        let pidfd = rustix::process::Pid::from_raw(pid).and_then(|p| {
            rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok()
        });
        Child {
            pid,
            pidfd,
            leads_group,
            started,
            exit: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// When the child was spawned.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// A pidfd for the child: it becomes readable when the child exits, so
    /// it can wait in the same `epoll` set as the pipes. `None` only on
    /// kernels older than 5.3.
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    /// Whether the child leads its own process group.
    pub fn leads_group(&self) -> bool {
        self.leads_group
    }

    /// Blocks until the child exits, then reaps it. After a `try_wait` that
    /// reaped it, returns that same `Exit`.
    pub fn wait(mut self) -> io::Result<Exit> {
        if let Some(exit) = self.exit {
            return Ok(exit);
        }
        match self.wait4(0)? {
            Some(exit) => Ok(exit),
            None => Err(io::Error::other("wait4 returned no status")),
        }
    }

    /// Reaps the child if it has exited; `Ok(None)` if it still runs. Once
    /// reaped, every later call returns the same `Exit`.
    pub fn try_wait(&mut self) -> io::Result<Option<Exit>> {
        if let Some(exit) = self.exit {
            return Ok(Some(exit));
        }
        self.wait4(libc::WNOHANG)
    }

    fn wait4(&mut self, flags: i32) -> io::Result<Option<Exit>> {
        let mut raw = 0;
        // SAFETY: `rusage` is plain old data; all-zero is a valid value.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: `raw` and `ru` are valid, writable, and outlive the call.
            let r = unsafe { libc::wait4(self.pid, &mut raw, flags, &mut ru) };
            if r == self.pid {
                break;
            }
            if r == 0 {
                return Ok(None);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        reap::unregister(self.pid);
        let exit = Exit {
            status: ExitStatus::from_raw(raw),
            elapsed: self.started.elapsed(),
            usage: ResourceUsage::from_rusage(&ru),
        };
        self.exit = Some(exit);
        trace::exited(self.pid, exit.status, exit.elapsed);
        Ok(Some(exit))
    }

    /// Sends `signal` to the child's whole process group if it leads one,
    /// else to the child alone. A child that already exited (but is not yet
    /// reaped) is not an error.
    /// Whether the child has exited, without reaping it. Until
    /// [`Child::try_wait`] reaps it, its pid — and so the id of a process
    /// group it belongs to — can not be reused: the rest of its group can
    /// still be signalled safely.
    pub fn has_exited(&self) -> io::Result<bool> {
        self.peek_exit(true)
    }

    /// Blocks until the child has exited, without reaping it (see
    /// [`Child::has_exited`]).
    pub fn wait_exited(&self) -> io::Result<()> {
        self.peek_exit(false).map(|_| ())
    }

    /// `waitid(WNOWAIT)`: whether the child has exited, leaving it
    /// unreaped; with `nohang` false, waits for that.
    fn peek_exit(&self, nohang: bool) -> io::Result<bool> {
        use rustix::process::{WaitId, WaitIdOptions};
        if self.exit.is_some() {
            return Ok(true);
        }
        let Some(pid) = rustix::process::Pid::from_raw(self.pid) else {
            return Ok(true);
        };
        let mut options = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
        if nohang {
            options |= WaitIdOptions::NOHANG;
        }
        loop {
            match rustix::process::waitid(WaitId::Pid(pid), options) {
                Ok(status) => return Ok(status.is_some()),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn signal_group(&self, signal: i32) -> io::Result<()> {
        if self.exit.is_some() {
            return Ok(());
        }
        let target = if self.leads_group {
            -self.pid
        } else {
            self.pid
        };
        crate::signal::kill_raw(target, signal)
    }

    /// Sends `signal` to the child process only.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        if self.exit.is_some() {
            return Ok(());
        }
        crate::signal::kill_raw(self.pid, signal)
    }
}

impl Child {
    /// Lets the child run on after this handle and this process are gone
    /// (a background job meant to outlive its starter, like `sem --bg`'s):
    /// it is neither killed nor waited for here; when this process exits
    /// the child is re-parented to the nearest subreaper or init, which
    /// reaps it.
    pub fn detach(mut self) {
        reap::unregister(self.pid);
        // Marks the handle as finished so `Drop` leaves the process alone.
        self.exit = Some(Exit {
            status: ExitStatus::Exited(0),
            elapsed: self.started.elapsed(),
            usage: ResourceUsage::default(),
        });
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.exit.is_none() {
            // An unwaited child would become a zombie (or an orphan that
            // outlives parx): end it and reap it now.
            let _ = self.signal_group(libc::SIGKILL);
            let _ = self.wait4(0);
        }
    }
}
