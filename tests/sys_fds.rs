//! A job holds exactly fds 0, 1, 2 and what parx itself inherited — never a
//! pipe end or pidfd of parx or of another job, even when many jobs with
//! pipes are started from several threads at once.
//!
//! Every test here takes `SERIAL`: some count this process's fds, which
//! another test running at the same time would change.

mod sys_support;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::{Barrier, Mutex, MutexGuard};

use parx::sys::{Child, ExitStatus, Pipe, Spawn, SpawnError};
use sys_support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fd numbers the `parx-test-sys-fds` helper reports, run with its stdout
/// on a pipe.
fn child_fd_list() -> (Vec<i32>, String) {
    let (exit, text) = output(Spawn::new(&*FDS));
    assert_eq!(exit.status, ExitStatus::Exited(0));
    (parse_fd_list(&text), text)
}

/// The `pipe:[inode]` name /proc shows for a pipe end we hold.
fn pipe_name(fd: impl AsFd) -> String {
    let st = rustix::fs::fstat(fd).expect("fstat");
    format!("pipe:[{}]", st.st_ino)
}

#[test]
fn a_job_holds_only_fds_0_1_2_and_those_parx_inherited() {
    let _g = serial();
    // Some fds open in this process that a child must not see: a pipe, a
    // file, and another running child's pidfd.
    let keep = Pipe::new().unwrap();
    let file = tempfile::tempfile().unwrap();
    let other = cmd(&["sleep", "30"]).spawn().unwrap();
    assert!(other.pidfd().is_some());

    let expected = expected_child_fds();
    let (got, text) = child_fd_list();
    assert_eq!(got, expected, "child's fds:\n{text}");

    drop((keep, file));
    other.signal(libc::SIGKILL).unwrap();
    let exit = other.wait().unwrap();
    assert_eq!(exit.status.signal(), Some(libc::SIGKILL));
}

/// One "other job": `cat` with its stdin and stdout on pipes, kept running
/// because we hold the write end of its stdin.
struct Cat {
    child: Child,
    stdin: File,
    stdout: File,
    stdin_name: String,
    stdout_name: String,
}

fn start_cat() -> Cat {
    let input = Pipe::new().unwrap();
    let output = Pipe::new().unwrap();
    let stdin_name = pipe_name(&input.read);
    let stdout_name = pipe_name(&output.write);
    let mut s = Spawn::new("cat");
    s.fd(0, input.read).fd(1, output.write);
    Cat {
        child: s.spawn().unwrap(),
        stdin: File::from(input.write),
        stdout: File::from(output.read),
        stdin_name,
        stdout_name,
    }
}

#[test]
fn no_fd_leaks_between_jobs_spawned_from_four_threads_with_50_running() {
    let _g = serial();
    const THREADS: usize = 4;
    const CATS_PER_THREAD: usize = 13; // 52 other jobs with 2 pipes each
    const PROBES_PER_THREAD: usize = 10;
    let expected = expected_child_fds();
    let start = Barrier::new(THREADS);
    let all_running = Barrier::new(THREADS);

    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (expected, start, all_running) = (&expected, &start, &all_running);
                scope.spawn(move || {
                    start.wait();
                    let mut cats = Vec::new();
                    // Interleave: start jobs with pipes while probing, so
                    // pipe2() and spawns in other threads race with ours.
                    for i in 0..CATS_PER_THREAD.max(PROBES_PER_THREAD) {
                        if i < CATS_PER_THREAD {
                            cats.push(start_cat());
                        }
                        if i < PROBES_PER_THREAD {
                            let (got, text) = child_fd_list();
                            assert_eq!(&got, expected, "probe child's fds:\n{text}");
                        }
                    }
                    // Wait until each cat is in its read loop (echoes a
                    // line back): its own start-up (the loader opening
                    // libraries) is over, so its fd table is settled.
                    for cat in &mut cats {
                        cat.stdin.write_all(b"ping\n").unwrap();
                        let mut echo = [0u8; 5];
                        cat.stdout.read_exact(&mut echo).unwrap();
                        assert_eq!(&echo, b"ping\n");
                    }
                    all_running.wait();
                    // Now all 52 run: each holds exactly its own two pipe
                    // ends (as fds 0 and 1) and what every job inherits.
                    for cat in &cats {
                        let pid = cat.child.pid();
                        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
                            .unwrap()
                            .map(|e| {
                                let e = e.unwrap();
                                let n: i32 = e.file_name().to_str().unwrap().parse().unwrap();
                                let target = std::fs::read_link(e.path()).unwrap();
                                (n, target.display().to_string())
                            })
                            .collect::<std::collections::BTreeMap<_, _>>();
                        let numbers: Vec<i32> = fds.keys().copied().collect();
                        assert_eq!(&numbers, expected, "cat {pid} holds {fds:?}");
                        assert_eq!(fds[&0], cat.stdin_name, "cat {pid} stdin");
                        assert_eq!(fds[&1], cat.stdout_name, "cat {pid} stdout");
                    }
                    let (got, text) = child_fd_list();
                    assert_eq!(&got, expected, "probe with all running:\n{text}");
                    // Each cat echoes its line and sees EOF once we close
                    // the only write end of its stdin.
                    for mut cat in cats {
                        writeln!(cat.stdin, "job {}", cat.child.pid()).unwrap();
                        drop(cat.stdin);
                        let out = read_all(cat.stdout.into());
                        assert_eq!(out, format!("job {}\n", cat.child.pid()).as_bytes());
                        assert_eq!(cat.child.wait().unwrap().status, ExitStatus::Exited(0));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread panicked");
        }
    });
}

#[test]
fn a_source_fd_already_at_its_target_number_stays_open_in_the_child() {
    let _g = serial();
    // Map the pipe's write end to the child under its own number: dup2(n, n)
    // does nothing, so close-on-exec must be cleared some other way.
    let pipe = Pipe::new().unwrap();
    let n = std::os::fd::AsRawFd::as_raw_fd(&pipe.write);
    let out = Pipe::new().unwrap();
    let mut s = Spawn::new(&*FDS);
    s.fd(n, pipe.write).fd(1, out.write);
    let child = s.spawn().unwrap();
    let text = String::from_utf8(read_all(out.read)).unwrap();
    assert!(child.wait().unwrap().status.success());
    let got = parse_fd_list(&text);
    assert!(got.contains(&n), "fd {n} missing in child:\n{text}");
    drop(pipe.read);
}

#[test]
fn fd_map_sources_that_are_each_others_targets_are_not_clobbered() {
    let _g = serial();
    use std::os::fd::AsRawFd;
    let a = Pipe::new().unwrap();
    let b = Pipe::new().unwrap();
    let (ra, rb) = (a.write.as_raw_fd(), b.write.as_raw_fd());
    // Swap: child fd `ra` gets b's write end and child fd `rb` gets a's.
    let mut s = Spawn::new("bash");
    s.arg("-c")
        .arg(format!("echo to-fd-{ra} >&{ra}; echo to-fd-{rb} >&{rb}"))
        .fd(ra, b.write)
        .fd(rb, a.write);
    let child = s.spawn().unwrap();
    let from_a = String::from_utf8(read_all(a.read)).unwrap();
    let from_b = String::from_utf8(read_all(b.read)).unwrap();
    assert!(child.wait().unwrap().status.success());
    assert_eq!(from_a, format!("to-fd-{rb}\n"));
    assert_eq!(from_b, format!("to-fd-{ra}\n"));
}

#[test]
fn spawning_a_missing_program_leaks_no_fd() {
    let _g = serial();
    let before = open_fds();
    let pipe = Pipe::new().unwrap();
    let mut s = Spawn::new("parx-no-such-program-xyz");
    s.fd(0, pipe.read).fd(1, pipe.write);
    let err = s.spawn().unwrap_err();
    assert!(
        matches!(&err, SpawnError::NotFound { program } if program == "parx-no-such-program-xyz"),
        "{err:?}"
    );
    assert_eq!(err.shell_code(), 127);
    assert_eq!(open_fds(), before, "the fd map's ends must be closed");
    // An absolute path that does not exist too.
    let err = cmd(&["/nonexistent/parx/prog"]).spawn().unwrap_err();
    assert!(matches!(err, SpawnError::NotFound { .. }), "{err:?}");
    assert_eq!(open_fds(), before);
}

#[test]
fn the_parent_closes_its_copy_of_every_mapped_fd_at_spawn() {
    let _g = serial();
    let before = open_fds();
    let pipe = Pipe::new().unwrap();
    let mut s = Spawn::new("true");
    s.fd(0, pipe.read).fd(1, pipe.write);
    let child = s.spawn().unwrap();
    // Both ends were moved into the child's map: none is left here. What is
    // new is the child's pidfd, and nothing else.
    let mut now = open_fds();
    now.retain(|_, target| target != "anon_inode:[pidfd]");
    assert_eq!(now, before);
    assert!(child.wait().unwrap().status.success());
}

#[test]
fn unmapped_fds_0_1_2_are_parxs_own_and_mapped_ones_replace_them() {
    let _g = serial();
    let out = Pipe::new().unwrap();
    let out_name = pipe_name(&out.write);
    let mut s = cmd(&["sleep", "30"]);
    s.fd(1, out.write);
    let child = s.spawn().unwrap();
    let pid = child.pid();
    let link = |p: String| std::fs::read_link(p).unwrap().display().to_string();
    assert_eq!(
        link(format!("/proc/{pid}/fd/0")),
        link("/proc/self/fd/0".into())
    );
    assert_eq!(link(format!("/proc/{pid}/fd/1")), out_name);
    assert_eq!(
        link(format!("/proc/{pid}/fd/2")),
        link("/proc/self/fd/2".into())
    );
    child.signal(libc::SIGKILL).unwrap();
    child.wait().unwrap();
}

#[test]
fn dup_std_and_dev_null_give_close_on_exec_fds_for_the_map() {
    let _g = serial();
    use parx::sys::spawn::{dev_null, dup_std};
    let before = open_fds();
    let stderr_copy = dup_std(2).unwrap();
    let null = dev_null().unwrap();
    // Not inherited by anyone unless mapped.
    let (got, text) = child_fd_list();
    assert_eq!(got, expected_child_fds(), "{text}");
    // Mapped: the child's stdin is /dev/null, its stdout our stderr.
    let mut s = cmd(&["sleep", "30"]);
    s.fd(0, null).fd(1, stderr_copy);
    let child = s.spawn().unwrap();
    let pid = child.pid();
    let link = |p: String| std::fs::read_link(p).unwrap().display().to_string();
    assert_eq!(link(format!("/proc/{pid}/fd/0")), "/dev/null");
    assert_eq!(
        link(format!("/proc/{pid}/fd/1")),
        link("/proc/self/fd/2".into())
    );
    child.signal(libc::SIGKILL).unwrap();
    child.wait().unwrap();
    assert_eq!(open_fds(), before);
}
