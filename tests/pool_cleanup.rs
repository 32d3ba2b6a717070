//! After a map — finished, dropped half-way, or abandoned by a panicking
//! caller — no worker is left: no zombie, no orphan, no leaked fd. One test
//! function on purpose: /proc counts must not see other tests' workers.

use std::io::Read;
use std::os::fd::AsFd;
use std::panic::{AssertUnwindSafe, catch_unwind};

use parx::pool::Pool;
use parx::sys::Pipe;
use parx::sys::fork::fork_with;
use parx::sys::reap::{children, zombie_children};

fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    fds
}

fn assert_clean(what: &str, fds_before: &[String]) {
    assert_eq!(
        children().unwrap(),
        Vec::<i32>::new(),
        "{what}: children left"
    );
    assert_eq!(
        zombie_children().unwrap(),
        Vec::<i32>::new(),
        "{what}: zombies"
    );
    // The read_dir handle itself is one fd in both listings.
    assert_eq!(open_fds(), fds_before, "{what}: fds leaked");
}

/// Blocks until process `pid` (not our child) has exited.
fn wait_gone(pid: i32) {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return;
    };
    let Ok(fd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) else {
        return; // already gone
    };
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let ten_s = rustix::event::Timespec {
        tv_sec: 10,
        tv_nsec: 0,
    };
    let n = rustix::event::poll(&mut fds, Some(&ten_s)).unwrap();
    assert_eq!(
        n, 1,
        "worker {pid:?} still alive 10 s after its parent died"
    );
}

#[test]
fn no_zombies_no_orphans_no_leaked_fds() {
    let fds = open_fds();
    assert_clean("at start", &fds);
    let pool = Pool::new().workers(3);

    // A map run to the end.
    let sum: u64 = pool
        .map(0..1000u64, |n| n)
        .unwrap()
        .map(|r| r.unwrap())
        .sum();
    assert_eq!(sum, 499_500);
    assert_clean("after a finished map", &fds);

    // A map dropped after five results, workers busy.
    let first: Vec<u64> = pool
        .map(0..1_000_000u64, |n| n + 1)
        .unwrap()
        .take(5)
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(first, [1, 2, 3, 4, 5]);
    assert_clean("after a dropped map", &fds);

    // Crashing workers, replaced, then the map finishes.
    let failed = pool
        .map(
            0..50u32,
            |n| if n % 7 == 0 { std::process::abort() } else { n },
        )
        .unwrap()
        .filter(Result::is_err)
        .count();
    assert_eq!(failed, 8);
    assert_clean("after crashed workers", &fds);

    // The caller panics in the middle of the map.
    let caught = catch_unwind(AssertUnwindSafe(|| {
        for r in pool.map(0..10_000u64, |n| n).unwrap() {
            if r.unwrap() == 100 {
                panic!("caller gives up");
            }
        }
    }));
    assert!(caught.is_err());
    assert_clean("after a caller panic", &fds);

    // The parent is killed outright (SIGKILL, no cleanup runs): its workers
    // must die too, not linger as orphans.
    let Pipe { read, write } = Pipe::new().unwrap();
    let parent = fork_with(move || {
        let pool = Pool::new().workers(2);
        let out = write;
        let map = pool.map(0..2u32, |_: u32| {
            let pid = std::process::id().to_le_bytes();
            let _ = rustix::io::write(out.as_fd(), &pid);
            // Wait forever for input nobody sends.
            let (r, _w) = std::io::pipe().unwrap();
            let _ = (&r).read(&mut [0u8; 1]);
            0u32
        });
        if let Ok(map) = map {
            for _ in map {}
        }
        0
    })
    .unwrap();
    let mut pids = [0u8; 8];
    (&std::fs::File::from(read)).read_exact(&mut pids).unwrap();
    parent.signal(libc::SIGKILL).unwrap();
    let exit = parent.wait().unwrap();
    assert_eq!(exit.status.signal(), Some(libc::SIGKILL));
    for pid in pids.chunks(4) {
        wait_gone(i32::from_le_bytes(pid.try_into().unwrap()));
    }
    assert_clean("after the parent was killed", &fds);
}
