//! A job that parx ends stops whole, and a job ends when its processes
//! end (issue 11, sections 1 and 2), through the real binary.
//!
//! When parx ends a job — `--timeout`, `--halt now`, a signal to parx —
//! no later list item, pipeline or builtin of it runs, its status is the
//! signal (as `bash -c` reports it), and its output is handled as GNU
//! parallel 20221122 handles it. A background process left in the job's
//! process group is ended with the job; one that left the group (`setsid`)
//! is the user's; neither keeps parx waiting.
//!
//! Synchronisation is by FIFOs: a job writes a line into one when it has
//! started, the test reads it. A `sleep` inside a job is only ever the
//! thing being killed. The expected outputs were checked against GNU
//! parallel 20221122 with the same command lines.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Only a safety net against a hang (the behaviour under test when it is
/// broken): passing never depends on it.
const HANG: Duration = Duration::from_secs(60);

fn parx() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_parx"));
    c.stdin(Stdio::null());
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = parx().current_dir(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A FIFO jobs write lines into. The test holds it open for reading and
/// writing, so a job's `> fifo` never blocks and a read waits for a line.
struct Gate {
    path: PathBuf,
    lines: mpsc::Receiver<String>,
}

impl Gate {
    fn new(dir: &Path, name: &str) -> Gate {
        let path = dir.join(name);
        mkfifo(&path);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(file).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Gate { path, lines: rx }
    }

    fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// The next `n` lines, sorted.
    fn expect(&self, n: usize) -> Vec<String> {
        let mut got: Vec<String> = (0..n)
            .map(|i| {
                self.lines
                    .recv_timeout(HANG)
                    .unwrap_or_else(|_| panic!("only {i} of {n} jobs started"))
            })
            .collect();
        got.sort();
        got
    }
}

/// A FIFO a job's process blocks on (`read x < fifo`) until the test
/// releases it.
struct Hold {
    path: PathBuf,
}

impl Hold {
    fn new(dir: &Path, name: &str) -> Hold {
        let path = dir.join(name);
        mkfifo(&path);
        Hold { path }
    }

    fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// Lets the reader of the FIFO go on, once it opens it (a thread
    /// waits for that).
    fn release(&self) {
        let path = self.path.clone();
        std::thread::spawn(move || {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(path) {
                let _ = f.write_all(b"go\n");
            }
        });
    }
}

/// Waits for parx to exit. If it hangs, `on_hang` frees what holds it and
/// the test fails.
fn wait_exit(child: Child, on_hang: impl FnOnce()) -> (ExitStatus, String, String) {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(HANG) {
        Ok(out) => {
            let out = out.unwrap();
            (
                out.status,
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
        Err(_) => {
            on_hang();
            let _ = parx::sys::signal::kill(pid as i32, libc::SIGKILL);
            panic!("parx did not exit (it waited for a process, or a job, it should have ended)");
        }
    }
}

fn joblog_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Processes anywhere on the machine whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline"))
            && cmd.windows(marker.len()).any(|w| w == marker.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

/// Polls (bounded) until no process has `marker` in its command line: the
/// processes are what is observed, they are not a synchronisation.
fn gone(marker: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < HANG {
        if processes_with(marker).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

fn files_starting(dir: &Path, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    v.sort();
    v
}

const TIMEOUT_WARNING: &str = "parx: Warning: This job was killed because it timed out:\n";

// `parx --timeout 0.5 'sleep 2; touch side' ::: 1` created `side`.
#[test]
fn a_timed_out_job_runs_nothing_more_and_logs_signal_15() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let r = run_in(
        dir.path(),
        &[
            "--timeout",
            "0.5",
            "--joblog",
            log.to_str().unwrap(),
            "sleep 30; touch side",
            ":::",
            "1",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(!dir.path().join("side").exists(), "the list went on");
    assert!(!dir.path().join("1").exists(), "the list went on");
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        format!("{TIMEOUT_WARNING}parx: Warning: sleep 30; touch side 1\n")
    );
    let rows = joblog_rows(&log);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0][6].as_str(), rows[0][7].as_str()), ("-1", "15"));
}

// `--timeout 1 'sleep 3; echo survived'` printed `survived` and logged
// Signal 0. GNU prints what the job wrote before the kill.
#[test]
fn a_timed_out_job_prints_what_it_wrote_before_the_kill() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let r = run_in(
        dir.path(),
        &[
            "--timeout",
            "0.5",
            "--joblog",
            log.to_str().unwrap(),
            "echo before; echo err >&2; sleep 30; echo survived",
            ":::",
            "1",
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "before\n");
    assert_eq!(
        r.stderr,
        format!(
            "{TIMEOUT_WARNING}parx: Warning: echo before; echo err >&2; sleep 30; echo survived 1\nerr\n"
        )
    );
    let rows = joblog_rows(&log);
    assert_eq!((rows[0][6].as_str(), rows[0][7].as_str()), ("-1", "15"));
}

// A job parx runs itself whose process ignores SIGTERM: `--termseq` goes
// on to SIGKILL, and the status is still SIGTERM's, the signal `bash -c`
// running the list would have died of.
#[test]
fn the_termseq_ends_a_job_whose_process_ignores_term() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let r = run_in(
        dir.path(),
        &[
            "--timeout",
            "0.5",
            "--joblog",
            log.to_str().unwrap(),
            "sh -c \"trap '' TERM; sleep 30\"; touch after",
            ":::",
            "1",
        ],
    );
    assert_eq!(r.code, 1);
    assert!(!dir.path().join("after").exists(), "the list went on");
    let rows = joblog_rows(&log);
    assert_eq!((rows[0][6].as_str(), rows[0][7].as_str()), ("-1", "15"));
}

// `parx --halt now,fail=1 'sleep {}; touch side{}; test {} = 2' ::: 2 0.3`
// created `side2`. GNU neither prints nor logs the job it kills.
#[test]
fn halt_now_ends_the_other_jobs_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let r = run_in(
        dir.path(),
        &[
            "-j2",
            "--halt",
            "now,fail=1",
            "--joblog",
            log.to_str().unwrap(),
            "echo out{}; sleep {}; touch side{}; test {} = 2",
            ":::",
            "30",
            "0.3",
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(files_starting(dir.path(), "side"), ["side0.3"]);
    assert_eq!(r.stdout, "out0.3\n");
    let rows = joblog_rows(&log);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], "2");
}

/// Starts `-j3` jobs `echo out{}; echo {} > gate; <rest>` for 1 2 3, waits
/// until all three run, sends `sig` to parx once and waits for it.
fn interrupt_three(dir: &Path, rest: &str, sig: i32) -> (ExitStatus, String, Vec<Vec<String>>) {
    let gate = Gate::new(dir, &format!("gate{sig}"));
    let log = dir.join(format!("log{sig}"));
    let cmd = format!("echo out{{}}; echo {{}} > {}; {rest}", gate.path());
    let child = parx()
        .current_dir(dir)
        .args(["-j3", "--joblog", log.to_str().unwrap(), &cmd])
        .args([":::", "1", "2", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(gate.expect(3), ["1", "2", "3"]);
    parx::sys::signal::kill(child.id() as i32, sig).unwrap();
    let (status, stdout, _) = wait_exit(child, || {});
    (status, stdout, joblog_rows(&log))
}

// SIGINT/SIGTERM/SIGHUP to parx during `'sleep 2; touch after{}'` still
// created every `after*`. GNU prints and logs nothing of a killed job.
#[test]
fn one_signal_to_parx_ends_every_job_whole() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let dir = tempfile::tempdir().unwrap();
        let (status, stdout, rows) = interrupt_three(dir.path(), "sleep 30; touch after{}", sig);
        assert_eq!(status.code(), Some(128 + sig), "signal {sig}");
        assert_eq!(
            files_starting(dir.path(), "after"),
            Vec::<String>::new(),
            "signal {sig}: the lists went on"
        );
        assert_eq!(stdout, "", "signal {sig}: a killed job's output");
        assert!(
            rows.is_empty(),
            "signal {sig}: killed jobs logged: {rows:?}"
        );
    }
}

// After `'sleep 3; sleep 2; touch F'` parx even waited for the `sleep 2`.
#[test]
fn after_a_signal_no_later_command_of_the_job_starts() {
    let dir = tempfile::tempdir().unwrap();
    let rest = "sleep 30; sleep 31; touch F{}";
    let (status, _, _) = interrupt_three(dir.path(), rest, libc::SIGINT);
    assert_eq!(status.code(), Some(130));
    assert_eq!(files_starting(dir.path(), "F"), Vec::<String>::new());
}

// One SIGINT or SIGTERM must end jobs that ignore it, along --termseq
// to SIGKILL (it took a second signal).
#[test]
fn one_signal_ends_jobs_that_trap_it() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(dir.path(), "gate");
        let cmd = format!(
            "trap '' TERM INT; echo {{}} > {}; sleep 30; touch after{{}}",
            gate.path()
        );
        let child = parx()
            .current_dir(dir.path())
            .args(["-j2", &cmd, ":::", "1", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert_eq!(gate.expect(2), ["1", "2"]);
        parx::sys::signal::kill(child.id() as i32, sig).unwrap();
        let (status, _, _) = wait_exit(child, || {});
        assert_eq!(status.code(), Some(128 + sig));
        assert_eq!(
            files_starting(dir.path(), "after"),
            Vec::<String>::new(),
            "signal {sig}: a job that ignores it outlived parx's stop"
        );
    }
}

// With --joblog and --resume, 8 of 50 jobs ran twice after one Ctrl-C.
#[test]
fn resume_after_one_interrupt_runs_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Gate::new(dir.path(), "gate");
    let log = dir.path().join("log");
    let ran = dir.path().join("ran");
    // Jobs 1-10 finish at once; later ones announce themselves and wait
    // ($T seconds: 30 in the first run, 0 when resumed).
    let cmd = format!(
        "test {{}} -le 10 || echo {{}} > {g}; test {{}} -le 10 || sleep $T; echo {{}} >> {r}",
        g = gate.path(),
        r = ran.display()
    );
    let args = |resume: bool| {
        let mut v = vec![
            "-j4".to_string(),
            "--joblog".into(),
            log.display().to_string(),
        ];
        if resume {
            v.push("--resume".into());
        }
        v.push(cmd.clone());
        v.push(":::".into());
        v.extend((1..=50).map(|i| i.to_string()));
        v
    };
    let child = parx()
        .current_dir(dir.path())
        .env("T", "30")
        .args(args(false))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let running: Vec<u32> = gate.expect(4).iter().map(|s| s.parse().unwrap()).collect();
    parx::sys::signal::kill(child.id() as i32, libc::SIGINT).unwrap();
    let (status, _, _) = wait_exit(child, || {});
    assert_eq!(status.code(), Some(130));
    let logged: Vec<u32> = joblog_rows(&log)
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    for seq in &running {
        assert!(!logged.contains(seq), "job {seq} was killed but logged");
    }
    let out = parx()
        .current_dir(dir.path())
        .env("T", "0")
        .args(args(true))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut seen: Vec<u32> = std::fs::read_to_string(&ran)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<u32>>(),
        "each job exactly once"
    );
}

// `parx --timeout 1 "bash -c 'sleep 8' & echo x" ::: 1` took 8 s: a
// background process kept the job's output pipe open. It is in the job's
// process group, so it ends with the job; parx does not wait for it.
#[test]
fn a_background_process_in_the_job_group_ends_with_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let hold = Hold::new(dir.path(), "hold");
    let cmd = format!("bash -c 'read x < {}' & echo x", hold.path());
    let child = parx()
        .current_dir(dir.path())
        .args(["--timeout", "30", &cmd, ":::", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, stdout, _) = wait_exit(child, || hold.release());
    assert_eq!(status.code(), Some(0));
    assert_eq!(stdout, "x 1\n");
    assert!(gone(&hold.path()), "the job's background process survived");
}

// The same with a job parx runs itself (`sh` is the program): its
// background child holds the pipe.
#[test]
fn a_background_child_of_a_native_job_ends_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let hold = Hold::new(dir.path(), "hold");
    let cmd = format!("sh -c 'read x < {} & echo x'", hold.path());
    let child = parx()
        .current_dir(dir.path())
        .args([&cmd, ":::", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, stdout, _) = wait_exit(child, || hold.release());
    assert_eq!(status.code(), Some(0));
    assert_eq!(stdout, "x\n");
    assert!(gone(&hold.path()), "the job's background process survived");
}

// A job that starts `setsid sleep 31 &` held parx 31 s. A process that
// left the job's process group is the user's: parx neither kills it nor
// waits for it.
#[test]
fn a_setsid_daemon_is_neither_waited_for_nor_killed() {
    let dir = tempfile::tempdir().unwrap();
    let hold = Hold::new(dir.path(), "hold");
    // The job ends only once the daemon has left its group (it says so
    // through `ready`, from the program `setsid` started).
    let ready = Hold::new(dir.path(), "ready");
    let cmd = format!(
        "setsid bash -c 'echo up > {r}; read x < {h}' & read r < {r}; echo y",
        r = ready.path(),
        h = hold.path()
    );
    let child = parx()
        .current_dir(dir.path())
        .args([&cmd, ":::", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, stdout, _) = wait_exit(child, || hold.release());
    let daemon_alive = !processes_with(&hold.path()).is_empty();
    hold.release();
    assert_eq!(status.code(), Some(0));
    assert_eq!(stdout, "y 1\n");
    assert!(
        daemon_alive,
        "parx killed a daemon that left the job's group"
    );
    assert!(gone(&hold.path()));
}
