//! A counting semaphore shared by unrelated processes: what `parx
//! --semaphore` (and parx run as `sem`) limits commands with.
//!
//! A semaphore is a directory, `$PARALLEL_HOME/semaphores/id-NAME/` (GNU
//! parallel's place and name encoding), holding one file per slot:
//! `slot-0`, `slot-1`, …. A holder owns a slot while it holds an exclusive
//! `flock` on that slot's file. The kernel drops a `flock` when the last
//! fd of its open file closes, which happens when the holder exits for any
//! reason, `kill -9` included: a dead holder's slot is free at once, with
//! no stale lock files to clean up (GNU parallel's pid files are only
//! cleaned when a later waiter notices the pid is gone).
//!
//! Waiting does not poll. A waiter opens every slot file once and tries to
//! lock each without blocking; if all are taken, it sleeps on an inotify
//! watch of the directory for `IN_CLOSE` events, which the kernel sends
//! when a holder's file is closed — the same moment its lock is dropped —
//! and tries again. Waiters keep their own fds open while they wait, so
//! their retries cause no events of their own.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::inotify;
use rustix::fs::{FlockOperation, flock};
use rustix::io::Errno;

/// A named semaphore (its directory).
#[derive(Debug, Clone)]
pub struct Semaphore {
    dir: PathBuf,
}

/// A slot held: released when this value (its fd, and every copy of that
/// fd in other processes) is gone.
#[derive(Debug)]
pub struct Held {
    lock: OwnedFd,
    slot: usize,
}

impl Held {
    /// The slot number, from 0.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The locked fd, to hand to a process that holds the slot on.
    pub fn into_fd(self) -> OwnedFd {
        self.lock
    }
}

/// GNU parallel's file name for semaphore `name`: `id-` and the name with
/// every byte other than `[-_a-zA-Z0-9]` written as two hex digits.
pub fn encoded_name(name: &[u8]) -> OsString {
    let mut out = b"id-".to_vec();
    for &b in name {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
    }
    OsString::from_vec(out)
}

impl Semaphore {
    /// The semaphore `name` under `home` (`$PARALLEL_HOME` or
    /// `~/.parallel`), its directories made if needed.
    pub fn open(home: &Path, name: &[u8]) -> io::Result<Semaphore> {
        let dir = home.join("semaphores").join(encoded_name(name));
        std::fs::create_dir_all(&dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot make semaphore directory {}: {e}", dir.display()),
            )
        })?;
        Ok(Semaphore { dir })
    }

    /// The semaphore's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn slot_file(&self, slot: usize) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(self.dir.join(format!("slot-{slot}")))
    }

    /// Takes one of `slots` slots, waiting until one is free or until
    /// `deadline` (`Ok(None)`).
    pub fn acquire(&self, slots: usize, deadline: Option<Instant>) -> io::Result<Option<Held>> {
        let slots = slots.max(1);
        // The watch exists before the first try, so a slot freed between
        // a failed try and the sleep still wakes this waiter.
        let watch = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
        inotify::add_watch(
            &watch,
            &self.dir,
            inotify::WatchFlags::CLOSE_WRITE | inotify::WatchFlags::CLOSE_NOWRITE,
        )?;
        let mut files = Vec::with_capacity(slots);
        for slot in 0..slots {
            files.push(self.slot_file(slot)?);
        }
        loop {
            let mut free = None;
            for (slot, file) in files.iter().enumerate() {
                match flock(file, FlockOperation::NonBlockingLockExclusive) {
                    Ok(()) => {
                        free = Some(slot);
                        break;
                    }
                    Err(Errno::WOULDBLOCK) | Err(Errno::INTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some(slot) = free {
                let lock = OwnedFd::from(files.swap_remove(slot));
                return Ok(Some(Held { lock, slot }));
            }
            if !wait_for_event(&watch, deadline)? {
                return Ok(None);
            }
        }
    }

    /// Waits until no slot of the semaphore is held (`sem --wait`).
    pub fn wait_idle(&self) -> io::Result<()> {
        let mut slots: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("slot-"))
            })
            .collect();
        slots.sort();
        for path in slots {
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            loop {
                match flock(&file, FlockOperation::LockShared) {
                    Ok(()) => break,
                    Err(Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }
}

/// Sleeps until the watch reports an event (drained) or `deadline`
/// passes (`false`).
fn wait_for_event(watch: &OwnedFd, deadline: Option<Instant>) -> io::Result<bool> {
    loop {
        let timeout = match deadline {
            None => None,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                Some(Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                })
            }
        };
        let mut fds = [PollFd::new(watch, PollFlags::IN)];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(0) => continue,
            Ok(_) => break,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let mut buf = [0u8; 4096];
    loop {
        match rustix::io::read(watch.as_fd(), &mut buf) {
            Ok(0) | Err(Errno::AGAIN) => return Ok(true),
            Ok(_) | Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_as_gnu_parallel_encodes_them() {
        assert_eq!(encoded_name(b"build-1_A"), "id-build-1_A");
        assert_eq!(encoded_name(b"/dev/pts/3"), "id-2fdev2fpts2f3");
        assert_eq!(encoded_name(b"not a tty"), "id-not20a20tty");
    }

    #[test]
    fn a_slot_is_free_again_once_its_holder_is_dropped() {
        let home = tempfile::tempdir().unwrap();
        let sem = Semaphore::open(home.path(), b"t").unwrap();
        let a = sem.acquire(2, None).unwrap().unwrap();
        let b = sem.acquire(2, None).unwrap().unwrap();
        assert_ne!(a.slot(), b.slot());
        let soon = Some(Instant::now());
        assert!(
            sem.acquire(2, soon).unwrap().is_none(),
            "a third holder of 2 slots"
        );
        drop(a);
        assert!(sem.acquire(2, soon).unwrap().is_some());
    }
}
