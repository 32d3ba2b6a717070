//! Signals: a job in its own process group is stopped as a whole,
//! grandchildren included; signals sent to parx arrive on a pipe.

mod sys_support;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::Duration;

use parx::sys::signal::{SignalPipe, kill, kill_group};
use parx::sys::{Child, ExitStatus, Pipe};
use sys_support::*;

/// Starts `sh` that forks a `sleep 30` grandchild and waits for it; both
/// hold the write end of the returned pipe as stdout. Returns the child,
/// the grandchild's pid, and the reader (EOF once both are dead).
fn shell_with_grandchild(own_group: bool) -> (Child, i32, BufReader<File>) {
    let out = Pipe::new().unwrap();
    let mut s = sh("sleep 30 & echo $!; wait");
    s.fd(1, out.write);
    if own_group {
        s.process_group(0);
    }
    let child = s.spawn().unwrap();
    let mut reader = BufReader::new(File::from(out.read));
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let grandchild = line.trim().parse().unwrap();
    (child, grandchild, reader)
}

fn is_eof_within(reader: &mut BufReader<File>, timeout: Duration) -> bool {
    if !readable_within(reader.get_ref(), timeout) {
        return false;
    }
    let mut rest = String::new();
    reader.read_line(&mut rest).unwrap() == 0
}

#[test]
fn signal_group_kills_grandchildren_of_a_job_in_its_own_group() {
    let (child, grandchild, mut reader) = shell_with_grandchild(true);
    assert!(child.leads_group());
    child.signal_group(libc::SIGKILL).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(
        exit.status,
        ExitStatus::Signaled {
            signal: 9,
            core_dumped: false
        }
    );
    // EOF means every holder of the write end is dead: the grandchild too.
    assert!(
        is_eof_within(&mut reader, SOON),
        "grandchild {grandchild} survived the group kill"
    );
}

#[test]
fn without_its_own_group_only_the_child_is_signalled() {
    let (child, grandchild, mut reader) = shell_with_grandchild(false);
    assert!(!child.leads_group());
    child.signal_group(libc::SIGKILL).unwrap();
    assert_eq!(child.wait().unwrap().status.signal(), Some(libc::SIGKILL));
    // The orphaned sleep still holds the pipe: no EOF (bounded wait).
    assert!(!is_eof_within(&mut reader, Duration::from_millis(200)));
    kill(grandchild, libc::SIGKILL).unwrap();
    assert!(is_eof_within(&mut reader, SOON));
}

#[test]
fn kill_group_signals_a_whole_group_and_refuses_group_0_and_1() {
    let (child, _grandchild, mut reader) = shell_with_grandchild(true);
    kill_group(child.pid(), libc::SIGTERM).unwrap();
    assert_eq!(child.wait().unwrap().status.signal(), Some(libc::SIGTERM));
    assert!(is_eof_within(&mut reader, SOON));
    for pgid in [-5, 0, 1] {
        let err = kill_group(pgid, 0).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[test]
fn signalling_an_exited_child_is_not_an_error() {
    let mut child = cmd(&["true"]).spawn().unwrap();
    assert!(readable_within(child.pidfd().unwrap(), SOON));
    // Exited, not yet reaped (zombie): kill succeeds or is ESRCH-quiet.
    child.signal_group(libc::SIGTERM).unwrap();
    assert!(child.try_wait().unwrap().unwrap().status.success());
    // Reaped: the pid may belong to someone else now; nothing is sent.
    child.signal_group(libc::SIGKILL).unwrap();
    child.signal(libc::SIGKILL).unwrap();
}

#[test]
fn a_signal_sent_to_parx_arrives_on_the_signal_pipe() {
    let mut signals = SignalPipe::new(&[libc::SIGUSR1, libc::SIGUSR2]).unwrap();
    assert!(!readable_within(signals.fd(), Duration::ZERO));
    kill(std::process::id() as i32, libc::SIGUSR1).unwrap();
    assert!(readable_within(signals.fd(), SOON));
    assert_eq!(signals.drain(), vec![libc::SIGUSR1]);
    assert_eq!(signals.drain(), Vec::<i32>::new());
    assert!(!readable_within(signals.fd(), Duration::ZERO));
}
