//! No zombies: every child is reaped exactly once, a failed spawn leaves
//! none, and orphaned grandchildren are reaped by the subreaper.
//!
//! The tests here look at *all* children of this process, so they take
//! `SERIAL` and no other test binary's children are involved.

mod sys_support;

use std::sync::{Mutex, MutexGuard};

use parx::sys::{ExitStatus, Spawn, SpawnError, reap};
use sys_support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_thousand_children_spawned_and_waited_leave_no_zombie() {
    let _g = serial();
    const TOTAL: usize = 1000;
    const IN_FLIGHT: usize = 25;
    let mut pids = Vec::with_capacity(TOTAL);
    for _ in 0..TOTAL / IN_FLIGHT {
        let batch: Vec<_> = (0..IN_FLIGHT)
            .map(|_| Spawn::new("true").spawn().unwrap())
            .collect();
        // Wait newest first: most have long exited (zombies until now).
        for child in batch.into_iter().rev() {
            pids.push(child.pid());
            assert_eq!(child.wait().unwrap().status, ExitStatus::Exited(0));
        }
    }
    assert_eq!(pids.len(), TOTAL);
    assert_eq!(reap::zombie_children().unwrap(), Vec::<i32>::new());
    assert_eq!(reap::children().unwrap(), Vec::<i32>::new());
    // And by pid: none of them is still a process whose parent is us.
    let me = std::process::id() as i32;
    for pid in pids {
        if let Some((state, parent)) = state_and_parent(pid) {
            assert_ne!(parent, me, "pid {pid} still our child, state {state}");
        }
    }
}

#[test]
fn an_unwaited_child_is_a_zombie_until_waited() {
    let _g = serial();
    let child = Spawn::new("true").spawn().unwrap();
    let pid = child.pid();
    // The pidfd turns readable at exit; the exit status is then kept by the
    // kernel in a zombie until we wait.
    assert!(readable_within(child.pidfd().unwrap(), SOON));
    assert_eq!(reap::process_state(pid), Some('Z'));
    assert_eq!(reap::zombie_children().unwrap(), vec![pid]);
    assert!(child.wait().unwrap().status.success());
    assert_eq!(reap::process_state(pid), None);
    assert!(reap::zombie_children().unwrap().is_empty());
}

#[test]
fn a_failed_spawn_leaves_no_zombie() {
    let _g = serial();
    for _ in 0..20 {
        let err = Spawn::new("parx-no-such-program-xyz").spawn().unwrap_err();
        assert!(matches!(err, SpawnError::NotFound { .. }));
        let err = Spawn::new("/etc/passwd").spawn().unwrap_err();
        assert!(matches!(err, SpawnError::PermissionDenied { .. }));
    }
    assert_eq!(reap::children().unwrap(), Vec::<i32>::new());
}

#[test]
fn reap_orphans_leaves_children_with_a_handle_alone() {
    let _g = serial();
    let mut child = Spawn::new("true").spawn().unwrap();
    assert!(readable_within(child.pidfd().unwrap(), SOON));
    // The child exited and is ours to wait for: not an orphan.
    assert_eq!(reap::reap_orphans().unwrap(), 0);
    let exit = child.try_wait().unwrap().expect("exited");
    assert_eq!(exit.status, ExitStatus::Exited(0));
}

#[test]
fn the_subreaper_reaps_an_orphaned_grandchild() {
    let _g = serial();
    // Subreaper is a process-wide setting: a helper process does it and
    // reports each step.
    let (exit, text) = output(Spawn::new(&*SUBREAPER));
    assert_eq!(exit.status, ExitStatus::Exited(0), "{text}");
    let mut lines = text.lines().filter(|l| !l.starts_with("trace: "));
    assert_eq!(lines.next(), Some("child exited: status 0"));
    // The grandchild outlived its parent and was re-parented to the helper.
    let adopted = lines.next().unwrap();
    let (gpid, rest) = adopted
        .strip_prefix("grandchild pid ")
        .and_then(|l| l.split_once(": parent "))
        .unwrap_or_else(|| panic!("{text}"));
    let (parent, me) = rest.split_once(" (me ").unwrap();
    assert_eq!(format!("{parent})"), me, "grandchild not adopted:\n{text}");
    assert_eq!(lines.next(), Some("orphans reaped: 1"), "{text}");
    assert_eq!(lines.next(), Some("zombie children: []"));
    // The trace names the reaped orphan.
    let traced = format!("trace: reaped orphaned grandchild pid {gpid}: status 0");
    assert!(text.lines().any(|l| l == traced), "{text}");
}

#[test]
fn reap_orphans_in_another_thread_never_takes_a_new_childs_status() {
    let _g = serial();
    // One thread spawns and waits; another reaps "orphans" as fast as it
    // can. A child that exits before its pid is registered as owned must
    // still be waited for by its own handle, not reaped as an orphan.
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(reap::reap_orphans().unwrap(), 0);
            }
        });
        for _ in 0..100 {
            let child = Spawn::new("true").spawn().unwrap();
            let exit = child.wait().expect("status taken by reap_orphans");
            assert!(exit.status.success());
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}
