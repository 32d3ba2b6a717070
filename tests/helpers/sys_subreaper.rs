//! Test helper: becomes a child subreaper, starts `sh` which forks a
//! `sleep 0.2` grandchild and exits at once, then reaps the orphaned
//! grandchild with `reap_orphans` when SIGCHLD says something exited.
//! Prints one line per step for `tests/sys_reap.rs` to check. Runs as its own
//! process because being a subreaper is a property of the whole process.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use parx::sys::signal::SignalPipe;
use parx::sys::{Pipe, Spawn, reap, trace};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

fn main() {
    if let Err(e) = run() {
        eprintln!("parx-test-sys-subreaper: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    trace::set_sink(Box::new(|_, line| println!("trace: {line}")));
    // Register for SIGCHLD before any child can exit, so no exit is missed.
    let mut sigchld = SignalPipe::new(&[libc::SIGCHLD])?;
    reap::become_subreaper()?;

    let out = Pipe::new()?;
    let mut sh = Spawn::new("sh");
    // The grandchild's output goes to /dev/null so that our pipe reaches EOF
    // as soon as `sh` exits.
    sh.args(["-c", "sleep 0.2 >/dev/null 2>&1 & echo $!"])
        .fd(1, out.write);
    let child = sh.spawn()?;
    let mut text = String::new();
    std::fs::File::from(out.read).read_to_string(&mut text)?;
    let exit = child.wait()?;
    println!("child exited: {}", exit.status);
    let grandchild: i32 = text.trim().parse()?;
    println!(
        "grandchild pid {grandchild}: parent {} (me {})",
        parent_of(grandchild).map_or("gone".into(), |p| p.to_string()),
        std::process::id()
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut reaped = 0;
    loop {
        reaped += reap::reap_orphans()?;
        if reaped > 0 {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let timeout = Timespec {
            tv_sec: left.as_secs() as i64,
            tv_nsec: left.subsec_nanos() as i64,
        };
        let mut fds = [PollFd::from_borrowed_fd(sigchld.fd(), PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        sigchld.drain();
    }
    println!("orphans reaped: {reaped}");
    let zombies = reap::zombie_children()?;
    println!("zombie children: {zombies:?}");
    std::io::stdout().flush()?;
    Ok(())
}

/// The parent pid from `/proc/<pid>/stat`, if the process still exists.
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}
