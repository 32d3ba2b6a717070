//! Faults, through the real binary: out of file descriptors, out of
//! processes, a spill file that can not be written. parx runs fewer jobs
//! at once instead of failing them, never hangs, names the program that
//! could not start, and never prints a job's output with a hole in it.
//!
//! Limits are set with bash's `ulimit` in front of parx. The process limit
//! (`ulimit -u`) is not enforced for root, so those tests run parx as
//! `nobody` with `setpriv` (they need root for that, as CI has).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// Every test finishes well within this; a hang fails the test.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `parx args…` under bash after `setup` (e.g. `ulimit -n 32`).
fn parx_after(setup: &str, args: &[&str]) -> Output {
    parx_as(None, setup, args)
}

/// As [`parx_after`], as user `nobody` if `user` is set.
fn parx_as(user: Option<&Path>, setup: &str, args: &[&str]) -> Output {
    let script = format!("{setup}; exec \"$0\" \"$@\"");
    let mut cmd = match user {
        Some(exe) => {
            let mut c = assert_cmd::Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "bash",
                "-c",
                &script,
            ]);
            c.arg(exe);
            c.current_dir(exe.parent().unwrap());
            c
        }
        None => {
            let mut c = assert_cmd::Command::new("bash");
            c.args(["-c", &script, env!("CARGO_BIN_EXE_parx")]);
            c
        }
    };
    cmd.args(args).timeout(LIMIT);
    let out = cmd.output().expect("parx ran");
    assert!(
        out.status.code().is_some(),
        "parx did not exit on its own (hung and was killed?): {out:?}"
    );
    out
}

fn numbers(stdout: &[u8]) -> Vec<u32> {
    let mut v: Vec<u32> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("not a number: {l:?}")))
        .collect();
    v.sort_unstable();
    v
}

fn seq(n: u32) -> Vec<String> {
    (1..=n).map(|i| i.to_string()).collect()
}

fn args<'a>(head: &[&'a str], tail: &'a [String]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    v.push(":::");
    v.extend(tail.iter().map(String::as_str));
    v
}

#[test]
fn few_fds_run_every_job_fewer_at_once() {
    // The command: printed 2 lines, then hung in epoll.
    let inputs = seq(100);
    let out = parx_after(
        "ulimit -n 32",
        &args(&["-j", "20", "/bin/true && echo {}"], &inputs),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(numbers(&out.stdout), (1..=100).collect::<Vec<_>>());
    assert!(
        err.contains("parx: Warning: Only enough file handles to run"),
        "{err}"
    );
}

#[test]
fn fds_running_out_while_jobs_run_lower_the_jobs_at_once() {
    // Each job holds a six-stage pipeline: more fds than the estimate made
    // at the start, so the limit is found while jobs start.
    let inputs = seq(40);
    let out = parx_after(
        "ulimit -n 64",
        &args(
            &[
                "-j",
                "10",
                "/bin/true | /bin/true | /bin/true | /bin/true | /bin/true | cat && echo {}",
            ],
            &inputs,
        ),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(numbers(&out.stdout), (1..=40).collect::<Vec<_>>());
    assert!(
        err.contains("parx: Warning: No more file handles: Decreasing number of running jobs to"),
        "{err}"
    );
}

#[test]
fn a_job_that_never_gets_its_fds_is_reported_and_the_run_ends() {
    // A 21-stage pipeline needs more fds than the limit leaves: no job can
    // start, each is reported, and parx exits with the number that failed.
    let stages = vec!["/bin/true"; 21].join(" | ");
    let out = parx_after("ulimit -n 36", &["-j", "2", &stages, ":::", "1", "2", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(out.stdout.is_empty());
    for job in 1..=3 {
        assert!(
            err.contains(&format!(
                "parx: can not start job {job}: Too many open files"
            )),
            "{err}"
        );
    }
}

/// A copy of parx that user `nobody` can run (the build directory may not
/// be readable for it), in a directory `nobody` may use as its cwd.
fn parx_for_nobody() -> (tempfile::TempDir, PathBuf) {
    let uid = rustix::process::geteuid();
    assert!(
        uid.is_root(),
        "this test must run as root: the process limit is not enforced for root, \
         so parx is run as nobody with setpriv"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("parx");
    std::fs::copy(env!("CARGO_BIN_EXE_parx"), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, exe)
}

/// Both process-limit cases in one test: `ulimit -u` counts every process
/// of `nobody`, so two such runs at once would take each other's room.
#[test]
fn few_processes_run_every_job_fewer_at_once_and_name_what_failed() {
    let (_dir, exe) = parx_for_nobody();
    // Before: 34 of 40 jobs failed at once, each blamed on /bin/cat.
    let inputs = seq(40);
    let out = parx_as(
        Some(&exe),
        "ulimit -u 8",
        &args(&["-j", "40", "/bin/true; echo {}"], &inputs),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(numbers(&out.stdout), (1..=40).collect::<Vec<_>>());
    assert!(
        err.contains("parx: Warning: No more processes: Decreasing number of running jobs to"),
        "{err}"
    );
    assert!(!err.contains("/bin/cat"), "{err}");

    // parx and its sentinel take both processes `nobody` may have: no job
    // can start; each is reported with the program that could not start.
    let out = parx_as(
        Some(&exe),
        "ulimit -u 2",
        &["-j", "4", "/bin/true; echo {}", ":::", "1", "2", "3"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(out.stdout.is_empty());
    for job in 1..=3 {
        assert!(
            err.contains(&format!(
                "parx: can not start job {job}: /bin/true: Resource temporarily unavailable"
            )),
            "{err}"
        );
    }
    assert!(!err.contains("/bin/cat"), "{err}");
}

#[test]
fn output_that_could_not_be_spilled_is_not_printed_and_the_run_fails() {
    // `ulimit -f` makes writes to the spill file past 200 KiB fail (EFBIG),
    // as a full disk would; parx's stdout is a pipe and is not limited.
    for keep_order in [false, true] {
        let mut a = vec!["--output-memory", "64k"];
        if keep_order {
            a.push("-k");
        }
        a.extend(["{}", ":::", "head -c 1000000 /dev/zero; echo", "echo small"]);
        let out = parx_after("ulimit -f 200", &a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{err}");
        assert_eq!(out.stdout, b"small\n", "{err}");
        assert!(
            err.contains(
                "parx: job 1: output is incomplete (can not write to the spill file: File too large"
            ),
            "{err}"
        );
    }
}

#[test]
fn output_spills_into_tmpdir() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let gate = tmp.path().join("gate");
    let made = std::process::Command::new("mkfifo")
        .arg(&gate)
        .status()
        .unwrap();
    assert!(made.success());
    let spill_dir = tmp.path().join("spill");
    std::fs::create_dir(&spill_dir).unwrap();
    // With no memory for output, the first bytes go to the spill file;
    // the job then waits on the FIFO while the test looks at parx's fds.
    let job = format!("echo hello {{}}; cat {}", gate.display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_parx"))
        .args(["--output-memory", "0", "--tmpdir"])
        .arg(&spill_dir)
        .args([job.as_str(), ":::", "1"])
        .env("TMPDIR", other.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let fd_dir = format!("/proc/{}/fd", child.id());
    let start = Instant::now();
    let mut found = false;
    while start.elapsed() < LIMIT && !found {
        found = std::fs::read_dir(&fd_dir)
            .map(|d| {
                d.flatten()
                    .any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l.starts_with(&spill_dir)))
            })
            .unwrap_or(false);
        if !found {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    if found {
        // Let the job end: open the FIFO for writing and close it (the job
        // is running, so its `cat` opens the other end).
        drop(std::fs::OpenOptions::new().write(true).open(&gate).unwrap());
    } else {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    assert!(found, "no spill file of parx in {}", spill_dir.display());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hello 1\n");
}

#[test]
fn a_bad_tmpdir_is_an_error_before_any_job() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let marker = tmp.path().join("ran1");
    let job = format!("touch {}/ran{{}}", tmp.path().display());
    for dir in [tmp.path().join("missing"), file] {
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_parx"))
            .arg("--tmpdir")
            .arg(&dir)
            .args([job.as_str(), ":::", "1"])
            .timeout(LIMIT)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{err}");
        assert!(err.starts_with("parx: option '--tmpdir': "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!marker.exists());
    }
}

#[test]
fn output_memory_is_in_help() {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_parx"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--output-memory SIZE"));
}
