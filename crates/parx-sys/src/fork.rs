//! `fork` without `exec`: a child process that runs a closure of this
//! program, and memory that stays shared across the fork.
//!
//! This is what the process pool (the `parx-pool` crate) is built on. What `fork`
//! means, and what the child may do:
//!
//! - The child gets a copy-on-write copy of the whole address space at the
//!   moment of the call: every value the closure can see (captured data,
//!   slices, globals) is there without being serialized.
//! - Only the calling thread exists in the child. A lock that another thread
//!   held at that moment stays locked forever in the child, so the child must
//!   not take locks other threads use (`stdout()`/`stderr()` locks, a
//!   `Mutex` shared with another thread). glibc's `malloc` is made fork-safe
//!   by glibc itself, so allocating is fine.
//! - The child never returns into the caller's stack frames: [`fork_with`]
//!   runs the closure and then ends the process with `_exit`, so no
//!   destructor of the parent's values runs in the child (a `Child` dropped
//!   there would kill its sibling), and no stdio buffer copied from the
//!   parent is flushed twice.
//! - The child is killed (`SIGKILL`) when the thread that forked it exits
//!   (`PR_SET_PDEATHSIG`), so it can not outlive its parent as an orphan.
//!
//! The parent gets an ordinary [`Child`] (pidfd, `wait4`, killed and reaped
//! on drop), exactly like a spawned program.

use std::ffi::OsString;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use crate::child::Child;
use crate::trace;

/// Exit code of a forked child whose closure panicked (as Rust's own
/// runtime reports a panic in `main`).
pub const PANIC_EXIT_CODE: i32 = 101;

/// Exit code of a forked child that found its parent already gone.
pub const ORPHAN_EXIT_CODE: i32 = 125;

/// Forks this process. In the child, runs `body` and exits with the code it
/// returns (or [`PANIC_EXIT_CODE`] if it panics) via `_exit`; `body` never
/// returns into the caller. In the parent, returns the child's handle.
///
/// The child is tied to the calling *thread*: it receives `SIGKILL` when
/// that thread exits. Read the module documentation for what the child may
/// safely do.
pub fn fork_with<F: FnOnce() -> i32>(body: F) -> io::Result<Child> {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    let started = Instant::now();
    let locks = crate::reap::fork_guard();
    // SAFETY: fork has no memory-safety preconditions of its own. In the
    // child only this thread exists; it runs `body` (whose obligations are
    // documented above: no locks shared with other threads) and then
    // `_exit`s without returning into the caller's frames or running the
    // parent's destructors or atexit handlers.
    let pid = unsafe { libc::fork() };
    // Released in both processes: in the child nobody else holds them.
    drop(locks);
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        child_side(parent, body);
    }
    trace::spawned(pid, &[OsString::from("<forked worker>")], &[]);
    Ok(Child::new(pid, false, started))
}

fn child_side<F: FnOnce() -> i32>(parent: i32, body: F) -> ! {
    // SAFETY: PR_SET_PDEATHSIG takes one integer argument and touches no
    // memory of ours.
    let r = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    // SAFETY: getppid has no preconditions.
    let ppid = unsafe { libc::getppid() };
    if r != 0 || ppid != parent {
        // The parent died before PR_SET_PDEATHSIG took effect: we were
        // re-parented already and would never be killed with it.
        exit_now(ORPHAN_EXIT_CODE);
    }
    let code = catch_unwind(AssertUnwindSafe(body)).unwrap_or(PANIC_EXIT_CODE);
    exit_now(code)
}

/// Ends this process at once with `code` (`_exit`): no destructors, no
/// atexit handlers, no stdio flushing. The way a forked child must end.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(code) }
}

/// A fixed array of `AtomicU64` in a `MAP_SHARED | MAP_ANONYMOUS` mapping:
/// after a fork, parent and children see the *same* cells (unlike ordinary
/// memory, which is copy-on-write). Stores and loads are lock-free atomics,
/// so they are safe in a forked child.
pub struct SharedCells {
    ptr: NonNull<AtomicU64>,
    len: usize,
}

// SAFETY: the cells are atomics, which may be used from any thread; the
// mapping itself is owned by this value and unmapped exactly once.
unsafe impl Send for SharedCells {}
// SAFETY: as above: all access goes through `&AtomicU64`.
unsafe impl Sync for SharedCells {}

impl SharedCells {
    /// Maps `len` zeroed cells (at least one page).
    pub fn new(len: usize) -> io::Result<SharedCells> {
        let bytes = len.max(1) * std::mem::size_of::<AtomicU64>();
        // SAFETY: an anonymous mapping at an address of the kernel's
        // choosing aliases no existing memory; the arguments are valid.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<AtomicU64>())
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        Ok(SharedCells { ptr, len })
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are no cells.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Cell `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<&AtomicU64> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i < len`, the mapping holds `len` page-aligned,
        // zero-initialised (a valid AtomicU64) cells and lives as long as
        // `self`.
        Some(unsafe { &*self.ptr.as_ptr().add(i) })
    }
}

impl Drop for SharedCells {
    fn drop(&mut self) {
        let bytes = self.len.max(1) * std::mem::size_of::<AtomicU64>();
        // SAFETY: `ptr`/`bytes` is exactly the mapping made in `new`, and no
        // reference into it outlives `self`.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), bytes);
        }
    }
}

impl std::fmt::Debug for SharedCells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCells")
            .field("len", &self.len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExitStatus;
    use std::sync::atomic::Ordering;

    #[test]
    fn child_runs_the_closure_and_exits_with_its_code() {
        let child = fork_with(|| 7).unwrap();
        assert_eq!(child.wait().unwrap().status, ExitStatus::Exited(7));
    }

    #[test]
    fn shared_cells_are_seen_by_the_parent() {
        let cells = SharedCells::new(4).unwrap();
        let child = fork_with(|| {
            if let Some(c) = cells.get(2) {
                c.store(42, Ordering::Release);
            }
            0
        })
        .unwrap();
        assert!(child.wait().unwrap().status.success());
        assert_eq!(cells.get(2).unwrap().load(Ordering::Acquire), 42);
        assert!(cells.get(4).is_none());
    }
}
