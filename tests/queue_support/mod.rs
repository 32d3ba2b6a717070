//! Shared by the SQL queue tests: running parx as master and workers,
//! the scenarios every backend must pass, and a real PostgreSQL server
//! for the PostgreSQL tests.
//!
//! No sleeps: a job says it is running by writing to a FIFO the test
//! reads, and waits on a FIFO the test opens when it should go on.

#![allow(dead_code)]

pub mod pg;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// One row as the tests look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub seq: i64,
    pub exitval: i64,
    pub stdout: String,
    pub attempt: i64,
    pub v1: String,
}

/// A queue database the tests can read.
pub trait Db {
    /// The DBURL of `table`.
    fn url(&self, table: &str) -> String;
    /// Every row of `table`, by Seq.
    fn rows(&self, table: &str) -> Vec<Row>;
    /// `SELECT <GNU's columns> FROM table ORDER BY Seq` with the
    /// database's own command-line client, `|`-separated.
    fn plain_select(&self, table: &str) -> String;
}

/// GNU parallel's columns (for one value column).
pub const GNU_COLUMNS: &str = "Seq, Host, Starttime, JobRuntime, Send, Receive, Exitval, _Signal, Command, V1, Stdout, Stderr";

pub fn parx(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_parx"));
    c.current_dir(dir)
        .env_remove("PARALLEL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    parx(dir).args(args).output().unwrap()
}

pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    parx(dir).args(args).spawn().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success(), "mkfifo {}", path.display());
}

/// Blocks until a job writes a line to the FIFO `path`.
fn wait_for_line(path: &Path) -> String {
    let mut s = String::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// 1 master + 3 workers: every job runs once, its result is in its row,
/// and GNU's columns read back with a plain SELECT.
pub fn master_and_three_workers(db: &dyn Db, dir: &Path) {
    let url = db.url("many");
    let n = 40;
    let values: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    let mut args = vec!["--sqlmaster", &url, "echo", "job-{}"];
    args.push(":::");
    args.extend(values.iter().map(String::as_str));
    assert_ok("master", &run(dir, &args));
    let workers: Vec<Child> = (0..3)
        .map(|_| spawn(dir, &["--sqlworker", &url, "-j2", "echo", "job-{}"]))
        .collect();
    let mut lines = Vec::new();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        assert_ok("worker", &out);
        lines.extend(text(&out.stdout).lines().map(str::to_string));
    }
    lines.sort();
    let mut want: Vec<String> = (1..=n).map(|i| format!("job-{i}")).collect();
    want.sort();
    assert_eq!(lines, want, "every job printed once by some worker");
    let rows = db.rows("many");
    assert_eq!(rows.len(), n);
    for (i, r) in rows.iter().enumerate() {
        let i = i as i64 + 1;
        assert_eq!(r.seq, i);
        assert_eq!(r.exitval, 0, "{r:?}");
        assert_eq!(r.attempt, 1, "{r:?}");
        assert_eq!(r.stdout, format!("job-{i}\n"));
        assert_eq!(r.v1, i.to_string());
    }
    let table = db.plain_select("many");
    // Stdout holds a newline: the first row is the first 12 fields.
    let cols: Vec<&str> = table.splitn(13, '|').collect();
    let first = cols[..12].join("|");
    assert_eq!(cols.len(), 13, "{table}");
    assert_eq!(cols[0], "1");
    assert!(!cols[1].is_empty(), "Host: {first}");
    assert!(
        cols[2].parse::<f64>().unwrap() > 1.6e9,
        "Starttime: {first}"
    );
    assert!(
        cols[3].parse::<f64>().unwrap() >= 0.0,
        "JobRuntime: {first}"
    );
    assert_eq!(&cols[4..10], ["0", "6", "0", "0", "echo job-1", "1"]);
    assert_eq!(cols[10], "job-1\n");
    assert_eq!(cols[11].lines().next(), Some(""), "Stderr: {first}");
}

/// `kill -9` of a worker mid-job: its job runs again on another worker
/// once the lease runs out, and every job has exactly one result.
pub fn killed_worker_job_runs_again(db: &dyn Db, dir: &Path) {
    let url = db.url("killed");
    mkfifo(&dir.join("running"));
    let cmd = "if [ {} = 1 ] && mkdir once 2>/dev/null; then echo up > running; exec sleep 1000; fi; echo done-{}";
    assert_ok(
        "master",
        &run(dir, &["--sqlmaster", &url, cmd, ":::", "1", "2", "3"]),
    );
    let mut a = spawn(dir, &["--sqlworker", &url, "--sql-lease", "1", "-j1", cmd]);
    assert_eq!(wait_for_line(&dir.join("running")), "up\n");
    a.kill().unwrap();
    a.wait().unwrap();
    let b = run(dir, &["--sqlworker", &url, "--sql-lease", "1", "-j1", cmd]);
    assert_ok("second worker", &b);
    let rows = db.rows("killed");
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert_eq!(r.exitval, 0, "{r:?}");
        assert_eq!(r.stdout, format!("done-{}\n", r.seq));
    }
    assert_eq!(rows[0].attempt, 2, "job 1 ran twice: {rows:?}");
    assert_eq!(rows[1].attempt, 1);
    let mut printed: Vec<String> = text(&b.stdout).lines().map(str::to_string).collect();
    printed.sort();
    assert_eq!(printed, ["done-1", "done-2", "done-3"]);
}

/// A worker stopped past its lease finishes its job late: its result is
/// rejected, the row keeps the result of the worker that ran it again.
pub fn late_write_is_rejected(db: &dyn Db, dir: &Path) {
    let url = db.url("late");
    mkfifo(&dir.join("running"));
    mkfifo(&dir.join("go"));
    let cmd = ": {}; if mkdir once 2>/dev/null; then echo up > running; cat go; echo first; else echo second; fi";
    assert_ok("master", &run(dir, &["--sqlmaster", &url, cmd, ":::", "x"]));
    let a = spawn(dir, &["--sqlworker", &url, "--sql-lease", "1", "-j1", cmd]);
    assert_eq!(wait_for_line(&dir.join("running")), "up\n");
    signal(&a, rustix::process::Signal::STOP);
    let b = run(dir, &["--sqlworker", &url, "--sql-lease", "1", cmd]);
    assert_ok("second worker", &b);
    assert_eq!(text(&b.stdout), "second\n");
    // Let the first worker's job end, then the worker itself go on.
    drop(
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("go"))
            .unwrap(),
    );
    signal(&a, rustix::process::Signal::CONT);
    let a = a.wait_with_output().unwrap();
    assert_eq!(text(&a.stdout), "first\n");
    assert!(
        text(&a.stderr).contains("job 1: result not recorded"),
        "{}",
        text(&a.stderr)
    );
    let rows = db.rows("late");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].stdout, "second\n");
    assert_eq!(rows[0].attempt, 2);
}

/// Workers started before the master wait for its jobs; `--wait` gives
/// the exit status a local run would (the number of failed jobs).
pub fn workers_started_first(db: &dyn Db, dir: &Path) {
    let url = db.url("early");
    let cmd = "echo v{}; exit {}";
    let workers: Vec<Child> = (0..2)
        .map(|_| spawn(dir, &["--sqlworker", &url, cmd]))
        .collect();
    let master = run(
        dir,
        &[
            "--sqlmaster",
            &url,
            "--wait",
            cmd,
            ":::",
            "0",
            "1",
            "0",
            "2",
        ],
    );
    assert_eq!(master.status.code(), Some(2), "{}", text(&master.stderr));
    let mut lines = Vec::new();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        lines.extend(text(&out.stdout).lines().map(str::to_string));
    }
    lines.sort();
    assert_eq!(lines, ["v0", "v0", "v1", "v2"]);
    let exits: Vec<i64> = db.rows("early").iter().map(|r| r.exitval).collect();
    assert_eq!(exits, [0, 1, 0, 2]);
}

/// `+DBURL` adds jobs to the table; Seq goes on.
pub fn append_continues_the_table(db: &dyn Db, dir: &Path) {
    let url = db.url("appended");
    let plus = format!("+{url}");
    assert_ok(
        "master",
        &run(dir, &["--sqlmaster", &url, "echo", ":::", "a", "b"]),
    );
    assert_ok("worker", &run(dir, &["--sqlworker", &url, "echo"]));
    assert_ok(
        "master +",
        &run(dir, &["--sqlmaster", &plus, "echo", ":::", "c"]),
    );
    let w = run(dir, &["--sqlworker", &url]);
    assert_ok("worker without a command", &w);
    assert_eq!(text(&w.stdout), "c\n");
    let rows = db.rows("appended");
    let got: Vec<(i64, &str, &str)> = rows
        .iter()
        .map(|r| (r.seq, r.v1.as_str(), r.stdout.as_str()))
        .collect();
    assert_eq!(got, [(1, "a", "a\n"), (2, "b", "b\n"), (3, "c", "c\n")]);
}

/// `--sqlandworker` fills the table and runs it in one process.
pub fn master_and_worker_in_one(db: &dyn Db, dir: &Path) {
    let url = db.url("both");
    let out = run(
        dir,
        &[
            "--sqlandworker",
            &url,
            "--wait",
            "-k",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "0\n3\n");
    let exits: Vec<i64> = db.rows("both").iter().map(|r| r.exitval).collect();
    assert_eq!(exits, [0, 3]);
}
