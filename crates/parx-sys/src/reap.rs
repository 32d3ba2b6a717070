//! Reaping: no zombie is ever left behind, grandchildren included.
//!
//! parx may make itself a *child subreaper* (`PR_SET_CHILD_SUBREAPER`): a
//! process that a job started and then abandoned (its parent exited first)
//! is re-parented to parx instead of to init, so parx can still see it and
//! must reap it. [`reap_orphans`] does that without stealing the status of
//! a child that a [`crate::child::Child`] handle is responsible for: it
//! only waits for pids that are not registered here.

use std::collections::HashSet;
use std::io;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::child::ExitStatus;
use crate::trace;

static OWNED: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// Held (shared) by a spawn from just before `posix_spawn` until the new pid
/// is registered, and (exclusive) by [`reap_orphans`]: otherwise a child
/// that exits at once could be taken for an orphan and reaped by another
/// thread before its `Child` handle owns it.
static SPAWN_GATE: RwLock<()> = RwLock::new(());

pub(crate) fn spawn_gate() -> RwLockReadGuard<'static, ()> {
    SPAWN_GATE.read().unwrap_or_else(|e| e.into_inner())
}

fn owned() -> MutexGuard<'static, Option<HashSet<i32>>> {
    OWNED.lock().unwrap_or_else(|e| e.into_inner())
}

/// This module's locks, held across a `fork` (see [`fork_guard`]).
pub(crate) struct ForkGuard {
    _owned: MutexGuard<'static, Option<HashSet<i32>>>,
    _gate: RwLockWriteGuard<'static, ()>,
}

/// Takes this module's locks (in the order every other user takes them)
/// so that a `fork` can not copy one of them while another thread holds
/// it: the child, where that thread does not exist, would wait for it
/// forever the first time it starts a child of its own. Drop the guard
/// right after the fork, in the parent and in the child.
pub(crate) fn fork_guard() -> ForkGuard {
    let gate = SPAWN_GATE.write().unwrap_or_else(|e| e.into_inner());
    ForkGuard {
        _owned: owned(),
        _gate: gate,
    }
}

pub(crate) fn register(pid: i32) {
    owned().get_or_insert_with(HashSet::new).insert(pid);
}

pub(crate) fn unregister(pid: i32) {
    if let Some(set) = owned().as_mut() {
        set.remove(&pid);
    }
}

/// Makes this process a child subreaper, so that orphaned descendants are
/// re-parented to it (and must be reaped with [`reap_orphans`]).
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer argument and touches
    // no memory of ours.
    let r = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The pids of this process's current children (all threads), from
/// `/proc/self/task/*/children`.
pub fn children() -> io::Result<Vec<i32>> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")? {
        let path = task?.path().join("children");
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        pids.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    Ok(pids)
}

/// Reaps every exited child that no `Child` handle owns (orphaned
/// grandchildren adopted by the subreaper). Returns how many were reaped.
/// Never blocks.
pub fn reap_orphans() -> io::Result<usize> {
    let _no_spawn_in_progress = SPAWN_GATE.write().unwrap_or_else(|e| e.into_inner());
    let mut reaped = 0;
    for pid in children()? {
        if owned().as_ref().is_some_and(|set| set.contains(&pid)) {
            continue;
        }
        let mut raw = 0;
        // SAFETY: `raw` is a valid writable int; WNOHANG never blocks.
        let r = unsafe { libc::waitpid(pid, &mut raw, libc::WNOHANG) };
        if r == pid {
            reaped += 1;
            trace::reaped_orphan(pid, ExitStatus::from_raw(raw));
        }
    }
    Ok(reaped)
}

/// Process ids of this process's children that are zombies right now
/// (state `Z` in `/proc/<pid>/stat`). For tests and `--trace`.
pub fn zombie_children() -> io::Result<Vec<i32>> {
    Ok(children()?
        .into_iter()
        .filter(|pid| process_state(*pid) == Some('Z'))
        .collect())
}

/// The one-letter state of a process from `/proc/<pid>/stat` (`R`, `S`,
/// `Z`, …), or `None` if it no longer exists.
pub fn process_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces or ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}
