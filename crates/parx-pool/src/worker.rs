//! The loop a forked worker runs: take one work message from the shared
//! work pipe, run the function, send the result frame back, repeat; exit on
//! end-of-file (the parent closed the pipe, or died).
//!
//! A worker runs nothing but the user's function, the codec, `read`/`write`
//! system calls and lock-free atomic stores: no stdio, no locks shared with
//! the parent's other threads (see [`parx_sys::fork`]).

use std::cell::RefCell;
use std::os::fd::{AsFd, BorrowedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::wire::{self, Tag};
use parx_sys::fork::SharedCells;

/// Runs one item: its index, its encoded bytes (empty for slice maps); the
/// encoded result is appended to the `Vec`, or an error message returned.
pub(crate) type WorkFn<'a> = dyn Fn(usize, &[u8], &mut Vec<u8>) -> Result<(), String> + 'a;

/// Exit codes of a worker that stopped by itself (not a crash).
pub(crate) const EXIT_DONE: i32 = 0;
const EXIT_READ_FAILED: i32 = 120;
const EXIT_BAD_MESSAGE: i32 = 121;
const EXIT_PARENT_GONE: i32 = 122;

thread_local! {
    static PANIC_TEXT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// True in a worker (set after the fork, in the worker's copy only).
static IN_WORKER: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Installs, once and in the parent (before any fork), a panic hook that
/// in a worker only records the message for the item's error, and
/// everywhere else hands over to the hook that was there before.
///
/// Why not set a hook in the worker: `set_hook` takes a global lock, and a
/// panic running on another thread at fork time holds it in the worker's
/// copy forever. The default hook takes other locks (backtrace, stderr)
/// and would print the message twice over.
pub(crate) fn install_panic_capture() {
    if std::thread::panicking() {
        return;
    }
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_WORKER.load(Ordering::Relaxed) {
                record_panic(info);
            } else {
                previous(info);
            }
        }));
    });
}

fn record_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload_as_str()
        .unwrap_or("panic with a non-string payload");
    let text = match info.location() {
        Some(at) => format!("{message} (at {}:{}:{})", at.file(), at.line(), at.column()),
        None => message.to_string(),
    };
    PANIC_TEXT.with(|t| *t.borrow_mut() = Some(text));
}

/// What a worker needs; everything else it inherited from the parent is
/// left untouched.
pub(crate) struct Worker<'w, 'a> {
    pub work_read: BorrowedFd<'w>,
    pub results: BorrowedFd<'w>,
    pub cells: &'w SharedCells,
    pub slot: usize,
    /// Start of the map, for the `since` cell; `None` when no per-item
    /// timeout is set (reading the clock per item is then wasted time).
    pub base: Option<Instant>,
    pub work: &'w WorkFn<'a>,
}

impl Worker<'_, '_> {
    /// The worker's main loop; returns its exit code.
    pub(crate) fn run(self) -> i32 {
        IN_WORKER.store(true, Ordering::Relaxed);
        let (Some(busy), Some(since)) = (
            self.cells.get(wire::busy_cell(self.slot)),
            self.cells.get(wire::since_cell(self.slot)),
        ) else {
            return EXIT_BAD_MESSAGE;
        };
        let mut msg = vec![0u8; wire::PIPE_BUF];
        let mut out = Vec::with_capacity(64 * 1024);
        loop {
            // One read takes one whole message: the pipe is in packet mode
            // and every message is at most PIPE_BUF bytes.
            let n = match rustix::io::read(self.work_read, &mut msg[..]) {
                Ok(0) => return EXIT_DONE,
                Ok(n) => n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return EXIT_READ_FAILED,
            };
            #[cfg(test)]
            test_hook::maybe_die();
            out.clear();
            let mut entries = &msg[..n];
            while !entries.is_empty() {
                let Some((index, item, rest)) = wire::next_entry(entries) else {
                    return EXIT_BAD_MESSAGE;
                };
                entries = rest;
                if let Some(base) = self.base {
                    since.store(base.elapsed().as_nanos() as u64, Ordering::Relaxed);
                }
                busy.store(index as u64 + 1, Ordering::Release);
                self.run_one(index, item, &mut out);
            }
            // One write for the whole chunk's results.
            if write_all(self.results, &out).is_err() {
                return EXIT_PARENT_GONE;
            }
            // Only now is the chunk off this worker's hands: dying before
            // this store still names the item (its result, if it arrived,
            // wins; the chunk's other unfinished items are sent again).
            busy.store(0, Ordering::Release);
        }
    }

    /// Runs one item and appends its result frame to `out`.
    fn run_one(&self, index: usize, item: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0u8; wire::RESULT_HEADER]);
        let payload = start + wire::RESULT_HEADER;
        let tag = match catch_unwind(AssertUnwindSafe(|| (self.work)(index, item, out))) {
            Ok(Ok(())) => Tag::Ok,
            Ok(Err(message)) => {
                out.truncate(payload);
                out.extend_from_slice(message.as_bytes());
                Tag::Error
            }
            Err(panic) => {
                let text = PANIC_TEXT
                    .with(|t| t.borrow_mut().take())
                    .unwrap_or_else(|| panic_payload_text(panic.as_ref()));
                out.truncate(payload);
                out.extend_from_slice(text.as_bytes());
                Tag::Panic
            }
        };
        wire::fill_result_header(&mut out[start..], index, tag);
    }
}

fn panic_payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

fn write_all(fd: impl AsFd, mut buf: &[u8]) -> rustix::io::Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(&fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Lets a unit test kill exactly one worker at the worst moment: after it
/// took a message, before it named an item.
#[cfg(test)]
pub(crate) mod test_hook {
    use std::sync::OnceLock;
    use std::sync::atomic::Ordering;

    use parx_sys::fork::{SharedCells, exit_now};

    static ARMED: OnceLock<SharedCells> = OnceLock::new();

    /// Makes the next worker that takes a message die (once, across all
    /// workers: the flag lives in shared memory).
    pub(crate) fn arm() {
        if ARMED.get().is_none()
            && let Ok(cells) = SharedCells::new(1)
        {
            let _ = ARMED.set(cells);
        }
        if let Some(flag) = ARMED.get().and_then(|c| c.get(0)) {
            flag.store(1, Ordering::SeqCst);
        }
    }

    pub(super) fn maybe_die() {
        if let Some(flag) = ARMED.get().and_then(|c| c.get(0))
            && flag.swap(0, Ordering::SeqCst) == 1
        {
            exit_now(9);
        }
    }
}
