//! ControlMaster connections: one or more background `ssh -M` per host,
//! each carrying up to [`SESSIONS_PER_MASTER`] jobs, so a job costs a
//! session on a warm connection instead of a new login.
//!
//! A master runs a tiny remote command that prints `parx-ready <cpus>` and
//! then reads its stdin until EOF. Its stdin is the run's lifeline pipe
//! (parx holds the only write end): when parx ends, even by `kill -9`, the
//! remote side sees EOF and the master goes away.

use std::io::{self, BufRead, BufReader};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::wrap::SshTarget;
use crate::sys::{Child, Pipe, Spawn};
use crate::template::quote::quote_into;

/// sshd's default `MaxSessions` is 10; the master's own command takes one.
pub const SESSIONS_PER_MASTER: usize = 9;

/// The remote side of a master: report the CPU count with standard tools,
/// then hold the session open until parx goes.
const MASTER_REMOTE: &[u8] = b"exec /bin/sh -c 'echo parx-ready $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1); exec cat >/dev/null'";

/// One running master.
pub struct Master {
    /// Its control socket.
    pub path: PathBuf,
    child: Option<Child>,
    ready: Option<BufReader<std::fs::File>>,
    /// Jobs using it now.
    pub sessions: usize,
    /// The CPU count the host reported (`None` until ready, or if the
    /// connection failed).
    pub cpus: Option<usize>,
    /// Whether the connection came up.
    pub up: bool,
}

impl Master {
    /// Starts `ssh -M -S path host` without waiting for it to connect.
    pub fn start(target: &SshTarget, path: &Path, lifeline: &OwnedFd) -> io::Result<Master> {
        let mut line = b"exec ".to_vec();
        let mut t = target.clone();
        t.sshcommand.push_str(" -M -T -o ControlPersist=no");
        line.extend_from_slice(&t.prefix(Some(path)));
        line.push(b' ');
        quote_into(MASTER_REMOTE, &mut line);
        let out = Pipe::new()?;
        let mut spawn = Spawn::new("/bin/sh");
        spawn
            .arg("-c")
            .arg(std::ffi::OsStr::from_bytes(&line))
            .fd(0, lifeline.as_fd().try_clone_to_owned()?)
            .fd(1, out.write)
            .fd(2, crate::sys::spawn::dev_null()?)
            .process_group(0);
        let child = spawn.spawn().map_err(io::Error::other)?;
        Ok(Master {
            path: path.to_path_buf(),
            child: Some(child),
            ready: Some(BufReader::new(std::fs::File::from(out.read))),
            sessions: 0,
            cpus: None,
            up: false,
        })
    }

    /// Waits until the master is connected (its remote command answered)
    /// or has failed; true if it is up.
    pub fn wait_ready(&mut self) -> bool {
        if let Some(mut r) = self.ready.take() {
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                if let Some(n) = line.trim().strip_prefix("parx-ready") {
                    self.cpus = n.trim().parse().ok().filter(|&n: &usize| n > 0).or(Some(1));
                    self.up = true;
                    break;
                }
                line.clear();
            }
        }
        self.up
    }

    /// Ends the master and waits for it. Its jobs are over; ssh does
    /// not always act on SIGTERM while it tears a session down, so KILL.
    pub fn stop(&mut self) {
        self.ready = None;
        if let Some(c) = self.child.take() {
            let _ = c.signal_group(libc::SIGKILL);
            let _ = c.wait();
        }
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.stop();
    }
}
