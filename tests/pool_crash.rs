//! Failure isolation: an item that kills its worker (abort, panic, exit,
//! SIGKILL, SIGTERM) or runs too long is reported with the right cause;
//! every other item's result arrives.

use std::time::Duration;

use parx::pool::{Failure, Pool, TaskError};
use parx::sys::ExitStatus;

fn kill_self(signal: i32) {
    let _ = parx::sys::signal::kill(std::process::id() as i32, signal);
}

fn risky(n: u32) -> u32 {
    match n {
        10 => std::process::abort(),
        20 => panic!("item twenty is cursed"),
        30 => std::process::exit(3),
        40 => kill_self(libc::SIGKILL),
        50 => kill_self(libc::SIGTERM),
        _ => {}
    }
    n * 3
}

fn signaled(signal: i32) -> impl Fn(&Failure) -> bool {
    move |f| matches!(f, Failure::WorkerDied(ExitStatus::Signaled { signal: s, .. }) if *s == signal)
}

#[test]
fn each_crash_is_reported_with_its_cause_and_the_rest_complete() {
    let pool = Pool::new().workers(2);
    let results: Vec<Result<u32, TaskError>> = pool.map(0..100u32, risky).unwrap().collect();
    assert_eq!(results.len(), 100);
    for (i, r) in results.iter().enumerate() {
        let i = i as u32;
        match i {
            10 | 20 | 30 | 40 | 50 => {
                let err = r.as_ref().unwrap_err();
                assert_eq!(err.index, i as usize, "{err}");
                let ok = match i {
                    10 => signaled(libc::SIGABRT)(&err.failure),
                    20 => {
                        matches!(&err.failure, Failure::Panicked(m) if m.contains("item twenty is cursed"))
                    }
                    30 => err.failure == Failure::WorkerDied(ExitStatus::Exited(3)),
                    40 => signaled(libc::SIGKILL)(&err.failure),
                    _ => signaled(libc::SIGTERM)(&err.failure),
                };
                assert!(ok, "item {i}: unexpected failure {err}");
            }
            _ => assert_eq!(r, &Ok(i * 3)),
        }
    }
}

#[test]
fn unordered_mode_reports_crashes_too() {
    let pool = Pool::new().workers(3);
    let mut errors: Vec<usize> = pool
        .map(0..60u32, risky)
        .unwrap()
        .unordered()
        .filter_map(|(i, r)| {
            r.err().map(|e| {
                assert_eq!(e.index, i);
                i
            })
        })
        .collect();
    errors.sort_unstable();
    assert_eq!(errors, [10, 20, 30, 40, 50]);
}

#[test]
fn a_panic_message_names_the_location() {
    let pool = Pool::new().workers(1);
    let err = pool
        .map([1u8], |_: u8| -> u8 { panic!("boom") })
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    let Failure::Panicked(message) = &err.failure else {
        panic!("expected a panic, got {err}");
    };
    assert!(
        message.contains("boom") && message.contains("pool_crash.rs"),
        "{message}"
    );
    assert!(
        err.to_string().starts_with("item 0: the function panicked"),
        "{err}"
    );
}

#[test]
fn every_item_crashing_still_completes_the_map() {
    let pool = Pool::new().workers(2);
    let results: Vec<_> = pool
        .map(0..20u32, |_: u32| -> u32 { std::process::exit(7) })
        .unwrap()
        .collect();
    assert_eq!(results.len(), 20);
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(
            r,
            Err(TaskError {
                index: i,
                failure: Failure::WorkerDied(ExitStatus::Exited(7))
            })
        );
    }
}

#[test]
fn an_item_over_the_timeout_is_killed_and_reported() {
    let pool = Pool::new().workers(2).timeout(Duration::from_millis(800));
    let results: Vec<Result<u32, TaskError>> = pool
        .map(0..10u32, |n| {
            if n == 4 {
                // Blocks until killed: a pipe nobody writes to.
                let (r, _w) = std::io::pipe().unwrap();
                let mut buf = [0u8; 1];
                let _ = std::io::Read::read(&mut &r, &mut buf);
            }
            n
        })
        .unwrap()
        .collect();
    for (i, r) in results.iter().enumerate() {
        if i == 4 {
            assert_eq!(
                r,
                &Err(TaskError {
                    index: 4,
                    failure: Failure::TimedOut(Duration::from_millis(800))
                })
            );
        } else {
            assert_eq!(r, &Ok(i as u32));
        }
    }
}

#[test]
fn a_crash_inside_a_big_chunk_resends_the_chunks_other_items() {
    // Trivial items travel in chunks of hundreds; the items sharing a
    // message with the crashing one must still arrive.
    let pool = Pool::new().workers(2);
    let results: Vec<Result<u64, TaskError>> = pool
        .map(0..20_000u64, |n| {
            if n == 7_777 || n == 15_000 {
                std::process::abort();
            }
            n + 1
        })
        .unwrap()
        .collect();
    for (i, r) in results.iter().enumerate() {
        if i == 7_777 || i == 15_000 {
            let err = r.as_ref().unwrap_err();
            assert!(signaled(libc::SIGABRT)(&err.failure), "{err}");
        } else {
            assert_eq!(r, &Ok(i as u64 + 1));
        }
    }
}

/// The other workers of the pool this worker belongs to: the other
/// children of the thread that forked it (tests run on several threads).
fn siblings() -> Vec<i32> {
    let me = std::process::id() as i32;
    let parent = std::os::unix::process::parent_id();
    for task in std::fs::read_dir(format!("/proc/{parent}/task")).unwrap() {
        let children = std::fs::read_to_string(task.unwrap().path().join("children"));
        let pids: Vec<i32> = children
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if pids.contains(&me) {
            return pids.into_iter().filter(|&p| p != me).collect();
        }
    }
    Vec::new()
}

#[test]
fn a_worker_killed_from_outside_busy_or_idle_never_stalls_the_map() {
    // Item 300 SIGKILLs the other workers, whatever they are doing: running
    // an item (that item fails), waiting for work, or just taking a message.
    let pool = Pool::new().workers(3);
    let results: Vec<Result<u64, TaskError>> = pool
        .map(0..3_000u64, |n| {
            if n == 300 {
                for pid in siblings() {
                    kill_pid(pid, libc::SIGKILL);
                }
            }
            n * 2
        })
        .unwrap()
        .collect();
    assert_eq!(results.len(), 3_000);
    let mut failed = 0;
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(*v, i as u64 * 2),
            Err(e) => {
                failed += 1;
                assert!(signaled(libc::SIGKILL)(&e.failure), "{e}");
            }
        }
    }
    assert!(
        failed <= 2,
        "{failed} items failed; at most the two killed workers' items may"
    );
}

fn kill_pid(pid: i32, signal: i32) {
    let _ = parx::sys::signal::kill(pid, signal);
}
