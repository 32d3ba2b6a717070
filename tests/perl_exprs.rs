//! Perl expressions `{= =}` end to end: the co-process (started only when
//! an expression is used, one per run, gone with parx even after
//! `kill -9`), errors as GNU parallel reports them, and values that cross
//! the pipes as bytes. What each expression computes is compared with GNU
//! parallel in `cli_fixtures.rs` (`fixtures/perl`).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn parx() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parx"))
}

fn run(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = parx().args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The names (`comm`) of a process's children.
fn children(pid: u32) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in list.split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
            out.push((child.parse().unwrap(), comm.trim().to_string()));
        }
    }
    out
}

/// The names of parx's children, as its one job sees them (the job's
/// `sh` is a child of parx).
fn children_seen_by_job(expression: &str) -> Vec<String> {
    let script = "for p in $(cat /proc/$PPID/task/*/children); do cat /proc/$p/comm; done";
    let out = parx()
        .args(["-j1", &format!("sh -c '{script}' {expression}"), ":::", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn perl_starts_only_when_an_expression_is_used() {
    let without = children_seen_by_job("{}");
    assert!(!without.iter().any(|c| c == "perl"), "{without:?}");
    let with = children_seen_by_job("{= $_=uc =}");
    assert_eq!(
        with.iter().filter(|c| *c == "perl").count(),
        1,
        "one perl co-process: {with:?}"
    );
}

#[test]
fn syntax_error_is_gnus_message_before_any_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = parx()
        .current_dir(dir.path())
        .args(["touch", "ran", "{= $_=( =}", ":::", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "parx: Error: Cannot use $_=( : syntax error at (eval 10) line 1, at EOF\n\n"
    );
    assert!(out.stdout.is_empty());
    assert!(!dir.path().join("ran").exists(), "no job may run");
}

#[test]
fn die_stops_the_run_after_the_jobs_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = parx()
        .current_dir(dir.path())
        .args([
            "-j1",
            "touch",
            "{= die \"boom\\n\" if $_ eq \"b\" =}",
            ":::",
            "a",
            "b",
            "c",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "parx: boom\n");
    assert!(dir.path().join("a").exists());
    assert!(!dir.path().join("b").exists());
    assert!(!dir.path().join("c").exists());
}

#[test]
fn perl_missing_is_one_line_only_when_needed() {
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_str().unwrap();
    let out = parx()
        .env("PATH", path)
        .args(["--dry-run", "echo", "{= $_=uc =}", ":::", "a"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("parx: ") && err.contains("need perl"),
        "{err}"
    );
    let out = parx()
        .env("PATH", path)
        .args(["--dry-run", "echo", "{.}", ":::", "a.b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"echo a\n");
}

#[test]
fn perl_dies_with_parx_even_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut p = parx()
        .args([
            "-j1",
            &format!("echo {{= $_=uc =}} > {}; exec sleep 1000", fifo.display()),
            ":::",
            "x",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The job has started once it writes; perl is running by then.
    let mut got = String::new();
    std::fs::File::open(&fifo)
        .unwrap()
        .read_to_string(&mut got)
        .unwrap();
    assert_eq!(got, "X\n");
    let perl = children(p.id())
        .into_iter()
        .find(|(_, c)| c == "perl")
        .expect("a perl child")
        .0;
    let pid = rustix::process::Pid::from_raw(perl).unwrap();
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap();
    p.kill().unwrap();
    p.wait().unwrap();
    // EOF on its stdin ends it: its pidfd becomes readable.
    let fd = pidfd.as_fd();
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let limit = rustix::event::Timespec {
        tv_sec: 30,
        tv_nsec: 0,
    };
    let n = rustix::event::poll(&mut fds, Some(&limit)).unwrap();
    assert_eq!(n, 1, "perl still runs after parx was killed");
}

#[test]
fn values_are_bytes_of_any_size() {
    // Two values of 60,000 bytes: more than a pipe holds at once.
    let big = "x".repeat(60_000);
    let (code, out, err) = run(&[
        "--dry-run",
        "echo",
        "{= $_=length($_).\"\\0\\n\\xff\" =}",
        ":::",
        &big,
        &big,
        "a",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        b"echo '60000\0\n\xff'\necho '60000\0\n\xff'\necho '1\0\n\xff'\n"
    );
}

#[test]
fn state_lasts_across_batches() {
    let out = parx()
        .args(["--dry-run", "echo", "{= $_=++$n =}"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = out.stdin.as_ref().unwrap();
    for i in 0..5000 {
        writeln!(stdin, "{i}").unwrap();
    }
    let out = {
        let mut out = out;
        drop(out.stdin.take());
        out.wait_with_output().unwrap()
    };
    let want: String = (1..=5000).map(|i| format!("echo {i}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}

#[test]
fn jobs_do_not_wait_for_more_input() {
    let mut p = parx()
        .args(["-j1", "echo", "{= $_=uc =}"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = p.stdin.take().unwrap();
    stdin.write_all(b"a\n").unwrap();
    stdin.flush().unwrap();
    let stdout = p.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    // Input stays open: the first job must still run.
    let line = rx.recv_timeout(Duration::from_secs(60));
    drop(stdin);
    p.wait().unwrap();
    assert_eq!(line.as_deref(), Ok("A\n"));
}

#[test]
fn slot_is_the_jobs_slot() {
    let (code, out, err) = run(&[
        "-j2",
        "echo",
        "{= $_=slot() =}",
        "{%}",
        "{= $_=$job->slot() =}",
        ":::",
        "a",
        "b",
        "c",
        "d",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.lines().count(), 4);
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert!(f[0] == f[1] && f[1] == f[2], "{line}");
    }
}
