//! The sentinel: jobs never outlive parx, even when parx is killed with
//! SIGKILL and can run no cleanup at all.
//!
//! The lecture's EOF rule does the work. At the start of a run parx starts
//! one small helper process (itself, re-executed in sentinel mode) holding
//! the read end of a pipe. parx writes `+PGID` when a job's process group
//! starts and `-PGID` when it is gone. When parx dies, for any reason, the
//! kernel closes its write end; the sentinel reads EOF and kills every
//! process group still listed — TERM, then KILL.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use crate::sys::{Child, Pipe, Spawn};

/// The argument that starts parx in sentinel mode.
pub const SENTINEL_ARG: &str = "--internal-sentinel";

/// parx's side of the sentinel.
pub struct Sentinel {
    pipe: Option<File>,
    child: Option<Child>,
}

impl Sentinel {
    /// Starts `exe SENTINEL_ARG` with the read end of a fresh pipe as its
    /// stdin. The sentinel gets its own process group, so a Ctrl-C meant
    /// for parx does not kill it before it has done its job.
    pub fn start(exe: &Path) -> io::Result<Sentinel> {
        let pipe = Pipe::new()?;
        let mut spawn = Spawn::new(exe.as_os_str());
        spawn
            .arg(OsStr::new(SENTINEL_ARG))
            .fd(0, pipe.read)
            .process_group(0);
        let child = spawn.spawn().map_err(io::Error::other)?;
        Ok(Sentinel {
            pipe: Some(File::from(pipe.write)),
            child: Some(child),
        })
    }

    /// One line, one `write`: `+PGID` or `-PGID`.
    fn send(&mut self, sign: u8, pgid: i32) {
        if let Some(p) = self.pipe.as_mut() {
            let mut line = vec![sign];
            line.extend_from_slice(pgid.to_string().as_bytes());
            line.push(b'\n');
            let _ = p.write_all(&line);
        }
    }

    /// Registers a job's process group.
    pub fn started(&mut self, pgid: i32) {
        self.send(b'+', pgid);
    }

    /// Unregisters a job's process group (the job has been reaped).
    pub fn ended(&mut self, pgid: i32) {
        self.send(b'-', pgid);
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        // Closing the pipe tells the sentinel to clean up and exit.
        self.pipe = None;
        if let Some(child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

/// The sentinel's main loop: read `+PGID`/`-PGID` lines from stdin until
/// EOF, then end every group still listed.
pub fn sentinel_main() -> i32 {
    let mut live: HashSet<i32> = HashSet::new();
    let stdin = io::stdin();
    for line in BufReader::new(stdin.lock()).split(b'\n') {
        let Ok(line) = line else { break };
        let Some((&sign, num)) = line.split_first() else {
            continue;
        };
        let Some(pgid) = std::str::from_utf8(num)
            .ok()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        match sign {
            b'+' => {
                live.insert(pgid);
            }
            b'-' => {
                live.remove(&pgid);
            }
            _ => {}
        }
    }
    if live.is_empty() {
        return 0;
    }
    for &pg in &live {
        let _ = crate::sys::signal::kill_group(pg, libc::SIGTERM);
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    for &pg in &live {
        let _ = crate::sys::signal::kill_group(pg, libc::SIGKILL);
    }
    0
}
