//! `--trace`: a readable log of every process and pipe operation.
//!
//! The `sys` layer reports each operation it performs (pipe created, process
//! spawned with its argv and fd map, fd closed in the parent, child exited)
//! as an [`Event`]. Tracing is off by default and costs one relaxed atomic
//! load per operation; when on, each event becomes one line on stderr, e.g.
//! `spawn pid 4312: wc -l (stdin=0 stdout=pipe#1w)`. Pipe ends are named
//! after the pipe that made them, so a reader can follow the lecture's
//! diagrams: which process holds which end, and which end is still open.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::child::ExitStatus;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Where trace lines go: called with each event and its rendered line.
pub type Sink = Box<dyn FnMut(&Event, &str) + Send>;

struct State {
    next_pipe: u64,
    /// Raw fd in parx → the name of the pipe end it held when traced, and
    /// that end's identity: a program may close an end without telling
    /// us, and the fd number is then reused for something else.
    names: Option<HashMap<RawFd, (String, Identity)>>,
    sink: Option<Sink>,
}

static STATE: Mutex<State> = Mutex::new(State {
    next_pipe: 1,
    names: None,
    sink: None,
});

fn state() -> MutexGuard<'static, State> {
    // A panic while tracing must not silence the rest of the run.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// One operation of the `sys` layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `pipe()` returned these two fds.
    PipeCreated { id: u64, read: RawFd, write: RawFd },
    /// A process was started; `fds` lists child fd ← parent fd.
    Spawned {
        pid: i32,
        argv: Vec<OsString>,
        fds: Vec<(RawFd, RawFd)>,
    },
    /// parx closed its copy of an fd that a child now holds.
    Closed { fd: RawFd },
    /// A child ended.
    Exited {
        pid: i32,
        status: ExitStatus,
        elapsed: Duration,
    },
    /// An orphaned grandchild was reaped by parx as subreaper.
    ReapedOrphan { pid: i32, status: ExitStatus },
}

/// Turns tracing on: every later event is printed to stderr, one line each.
pub fn enable_stderr() {
    set_sink(Box::new(|_, line| {
        let _ = writeln!(std::io::stderr().lock(), "parx: trace: {line}");
    }));
}

/// Turns tracing on with a custom sink (tests, the library's users).
pub fn set_sink(sink: Sink) {
    state().sink = Some(sink);
    ENABLED.store(true, Ordering::Release);
}

/// Turns tracing off.
pub fn disable() {
    ENABLED.store(false, Ordering::Release);
    state().sink = None;
}

#[inline]
fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What an open fd refers to: (device, inode, opened for writing). Both
/// ends of a pipe share device and inode; the access mode tells them apart.
type Identity = (u64, u64, bool);

fn identity(fd: BorrowedFd<'_>) -> Option<Identity> {
    let st = rustix::fs::fstat(fd).ok()?;
    let mode = rustix::fs::fcntl_getfl(fd).ok()? & rustix::fs::OFlags::RWMODE;
    Some((st.st_dev, st.st_ino, mode != rustix::fs::OFlags::RDONLY))
}

pub(crate) fn pipe_created(read: BorrowedFd<'_>, write: BorrowedFd<'_>) {
    if !enabled() {
        return;
    }
    let mut st = state();
    let id = st.next_pipe;
    st.next_pipe += 1;
    let names = st.names.get_or_insert_with(HashMap::new);
    for (fd, end) in [(read, 'r'), (write, 'w')] {
        match identity(fd) {
            Some(ident) => names.insert(fd.as_raw_fd(), (format!("pipe#{id}{end}"), ident)),
            None => names.remove(&fd.as_raw_fd()),
        };
    }
    let (read, write) = (read.as_raw_fd(), write.as_raw_fd());
    emit(st, Event::PipeCreated { id, read, write });
}

/// A child was started; `fds` is its fd map (child fd, parx's fd), still
/// open in parx.
pub(crate) fn spawned(pid: i32, argv: &[OsString], fds: &[(RawFd, BorrowedFd<'_>)]) {
    if !enabled() {
        return;
    }
    let mut st = state();
    for (_, fd) in fds {
        forget_if_stale(&mut st, *fd);
        name_duplicate(&mut st, *fd);
    }
    let event = Event::Spawned {
        pid,
        argv: argv.to_vec(),
        fds: fds.iter().map(|(c, fd)| (*c, fd.as_raw_fd())).collect(),
    };
    emit(st, event);
}

/// An fd that is a duplicate (`dup`) of a traced pipe end gets that end's
/// name, so a stage's `stdin=pipe#4r` reads as such, whatever fd number
/// the executor's copy has.
fn name_duplicate(st: &mut State, fd: BorrowedFd<'_>) {
    let raw = fd.as_raw_fd();
    let Some(names) = st.names.as_mut() else {
        return;
    };
    if names.contains_key(&raw) {
        return;
    }
    let Some(id) = identity(fd) else {
        return;
    };
    let found = names
        .values()
        .find(|(_, other)| *other == id)
        .map(|(name, _)| name.clone());
    if let Some(name) = found {
        names.insert(raw, (name, id));
    }
}

/// parx is about to close `fd` (call before closing it).
pub(crate) fn closed(fd: BorrowedFd<'_>) {
    if !enabled() {
        return;
    }
    let mut st = state();
    forget_if_stale(&mut st, fd);
    let fd = fd.as_raw_fd();
    let event = Event::Closed { fd };
    let line = render(&st, &event);
    if let Some(n) = st.names.as_mut() {
        n.remove(&fd);
    }
    deliver(st, &event, &line);
}

/// Drops the name of `fd` if the fd no longer holds the pipe end it named.
fn forget_if_stale(st: &mut State, fd: BorrowedFd<'_>) {
    let raw = fd.as_raw_fd();
    if let Some(names) = st.names.as_mut()
        && let Some((_, ident)) = names.get(&raw)
        && identity(fd) != Some(*ident)
    {
        names.remove(&raw);
    }
}

pub(crate) fn exited(pid: i32, status: ExitStatus, elapsed: Duration) {
    if !enabled() {
        return;
    }
    emit(
        state(),
        Event::Exited {
            pid,
            status,
            elapsed,
        },
    );
}

pub(crate) fn reaped_orphan(pid: i32, status: ExitStatus) {
    if !enabled() {
        return;
    }
    emit(state(), Event::ReapedOrphan { pid, status });
}

fn emit(st: MutexGuard<'_, State>, event: Event) {
    let line = render(&st, &event);
    deliver(st, &event, &line);
}

fn deliver(mut st: MutexGuard<'_, State>, event: &Event, line: &str) {
    if let Some(sink) = st.sink.as_mut() {
        sink(event, line);
    }
}

fn fd_name(st: &State, fd: RawFd) -> String {
    st.names
        .as_ref()
        .and_then(|n| n.get(&fd))
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| fd.to_string())
}

const STD_NAMES: [&str; 3] = ["stdin", "stdout", "stderr"];

fn render(st: &State, event: &Event) -> String {
    match event {
        Event::PipeCreated { id, read, write } => {
            format!("pipe#{id}: read end fd {read}, write end fd {write}")
        }
        Event::Spawned { pid, argv, fds } => {
            let mut line = format!("spawn pid {pid}:");
            for a in argv {
                line.push(' ');
                line.push_str(&a.to_string_lossy());
            }
            line.push_str(" (");
            let mut first = true;
            for (child, parent) in fds {
                if !first {
                    line.push(' ');
                }
                first = false;
                match STD_NAMES.get(*child as usize) {
                    Some(n) => line.push_str(n),
                    None => {
                        let _ = write!(line, "fd{child}");
                    }
                }
                let _ = write!(line, "={}", fd_name(st, *parent));
            }
            if first {
                line.push_str("inherits stdin stdout stderr");
            }
            line.push(')');
            line
        }
        Event::Closed { fd } => format!("close fd {} in parent", fd_name(st, *fd)),
        Event::Exited {
            pid,
            status,
            elapsed,
        } => format!(
            "exit pid {pid}: {status} after {:.3} s",
            elapsed.as_secs_f64()
        ),
        Event::ReapedOrphan { pid, status } => {
            format!("reaped orphaned grandchild pid {pid}: {status}")
        }
    }
}
