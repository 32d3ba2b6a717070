//! A remote job dies with its run: `--timeout`, SIGTERM to parx and even
//! `kill -9` of parx end the job's whole process group on the host.
//!
//! Each job writes into a FIFO the test reads: the test sees EOF only when
//! every process of the remote job that held it is gone.

mod remote_support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use remote_support::servers;

/// Failsafe for a hang; never a measure of speed.
const HANG: Duration = Duration::from_secs(60);

fn fifo(dir: &Path) -> PathBuf {
    let p = dir.join("fifo");
    let st = Command::new("mkfifo").arg(&p).status().unwrap();
    assert!(st.success());
    p
}

/// Reads the FIFO: reports its first line, then EOF.
fn watch(fifo: PathBuf) -> (mpsc::Receiver<String>, mpsc::Receiver<()>) {
    let (first_tx, first) = mpsc::channel();
    let (eof_tx, eof) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(std::fs::File::open(fifo).unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        first_tx.send(line).unwrap();
        let mut rest = Vec::new();
        let _ = r.read_to_end(&mut rest);
        eof_tx.send(()).unwrap();
    });
    (first, eof)
}

/// A job that announces itself on the FIFO, then holds it open in a
/// grandchild (a pipeline on the remote side) for a long time.
fn job(fifo: &Path) -> String {
    format!(
        "echo started {{}} > {f}; sleep 1000 > {f} | sleep 1001",
        f = fifo.display()
    )
}

fn parx(logins: &str) -> Command {
    let s = servers();
    let mut c = Command::new(env!("CARGO_BIN_EXE_parx"));
    c.env_remove("PARALLEL_SSH")
        .env_remove("PARALLEL")
        .args(["--ssh", &s.ssh, "-S", logins]);
    c
}

#[test]
fn timeout_ends_the_remote_job() {
    let s = servers();
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path());
    let (first, eof) = watch(f.clone());
    let out = parx(&format!("1/{}", s.hosts[1]))
        .args(["--timeout", "3", &job(&f), ":::", "t"])
        .output()
        .unwrap();
    assert_eq!(first.recv_timeout(HANG).unwrap(), "started t\n");
    assert_eq!(out.status.code(), Some(1));
    eof.recv_timeout(HANG)
        .expect("the remote job outlived its --timeout");
}

fn kill_parx_while_running(signal: &str) -> Option<i32> {
    let s = servers();
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path());
    let (first, eof) = watch(f.clone());
    let mut child = parx(&format!("1/{}", s.hosts[2]))
        .args([&job(&f), ":::", signal])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(
        first.recv_timeout(HANG).unwrap(),
        format!("started {signal}\n")
    );
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    eof.recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("the remote job outlived parx killed by SIG{signal}"));
    status.code()
}

#[test]
fn sigterm_to_parx_ends_the_remote_job() {
    assert_eq!(kill_parx_while_running("TERM"), Some(143));
}

#[test]
fn kill_9_of_parx_ends_the_remote_job() {
    assert_eq!(kill_parx_while_running("KILL"), None);
}
