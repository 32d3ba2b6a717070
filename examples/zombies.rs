//! A zombie, seen in `/proc`: a child that has exited but that its parent
//! has not yet waited for keeps its process-table entry (state `Z`) so that
//! its exit status can still be collected. Waiting reaps it and the entry
//! disappears.
//!
//! ```text
//! cargo run --example zombies
//! ```

use parx::sys::{Spawn, reap};
use rustix::event::{PollFd, PollFlags, poll};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let child = Spawn::new("true").spawn()?;
    let pid = child.pid();
    println!("started child pid {pid}");

    // Block until the child has exited, *without* reaping it: its pidfd
    // becomes readable at exit (no sleeping and guessing).
    if let Some(pidfd) = child.pidfd() {
        poll(&mut [PollFd::from_borrowed_fd(pidfd, PollFlags::IN)], None)?;
    }
    println!("child {pid} has exited; not waited for yet");
    print_state(pid);

    let exit = child.wait()?;
    println!("waited for child {pid}: {}", exit.status);
    print_state(pid);
    Ok(())
}

/// Prints the state letter from `/proc/<pid>/stat`.
fn print_state(pid: i32) {
    match reap::process_state(pid) {
        Some('Z') => println!("/proc/{pid}/stat: state Z (zombie)"),
        Some(state) => println!("/proc/{pid}/stat: state {state}"),
        None => println!("/proc/{pid}: gone"),
    }
}
