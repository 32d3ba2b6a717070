//! Signals: sending them to whole jobs, and receiving them in the event loop.
//!
//! Each job runs in its own process group, so one `kill(-pgid, sig)` reaches
//! every process of the job, grandchildren included. Signals sent *to* parx
//! (SIGINT, SIGTERM, SIGHUP, SIGCHLD) are turned into bytes on a self-pipe by
//! an async-signal-safe handler (signal-hook), so they wake the event loop
//! instead of killing parx mid-write. The signal mask is left alone — a
//! blocked mask would be inherited by every job (signalfd's problem).

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::SigId;

pub(crate) fn kill_raw(target: i32, signal: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers and touches no memory.
    let r = unsafe { libc::kill(target, signal) };
    if r == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    // The process (group) is already gone: nothing left to signal.
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(err)
    }
}

/// Sends `signal` to every process in process group `pgid`.
pub fn kill_group(pgid: i32, signal: i32) -> io::Result<()> {
    if pgid <= 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to signal process group <= 1",
        ));
    }
    kill_raw(-pgid, signal)
}

/// Whether `signal`'s default action ends a process (a shell that has
/// not trapped it dies of it). Stop, continue and ignored-by-default
/// signals do not.
pub fn ends_process_by_default(signal: i32) -> bool {
    !matches!(
        signal,
        libc::SIGCHLD
            | libc::SIGCONT
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
            | libc::SIGURG
            | libc::SIGWINCH
    )
}

/// Sends `signal` to one process.
pub fn kill(pid: i32, signal: i32) -> io::Result<()> {
    kill_raw(pid, signal)
}

/// Signals delivered to parx, readable as an fd in an event loop.
///
/// Once a `SignalPipe` is made, the registered signals no longer have their
/// default effect on parx. Dropping it stops the reports but does **not**
/// restore the default action (signal-hook keeps its handler installed), so
/// the signals are then ignored: make one for the life of the event loop.
pub struct SignalPipe {
    read: UnixStream,
    flags: Vec<(i32, Arc<AtomicBool>, SigId, SigId)>,
}

impl SignalPipe {
    /// Catches `signals`. Each arrival sets a flag and writes a byte to the
    /// pipe, so the event loop wakes up.
    pub fn new(signals: &[i32]) -> io::Result<SignalPipe> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let mut flags = Vec::new();
        for &sig in signals {
            let flag = Arc::new(AtomicBool::new(false));
            let flag_id = signal_hook::flag::register(sig, flag.clone())?;
            let pipe_id = signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
            flags.push((sig, flag, flag_id, pipe_id));
        }
        Ok(SignalPipe { read, flags })
    }

    /// The fd to watch for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// Empties the pipe and returns the signals that arrived since the last
    /// call (each at most once, in registration order).
    pub fn drain(&mut self) -> Vec<i32> {
        let mut buf = [0u8; 64];
        while matches!(self.read.read(&mut buf), Ok(n) if n > 0) {}
        self.flags
            .iter()
            .filter(|(_, flag, _, _)| flag.swap(false, Ordering::AcqRel))
            .map(|(sig, ..)| *sig)
            .collect()
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        for (_, _, a, b) in &self.flags {
            signal_hook::low_level::unregister(*a);
            signal_hook::low_level::unregister(*b);
        }
    }
}
