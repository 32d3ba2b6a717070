//! The `--trace` event stream: each pipe, spawn, close and exit of the
//! `sys` layer is reported as one readable line.
//!
//! The sink is process-wide, so the tests here take `SERIAL`.

mod sys_support;

use std::sync::{Arc, Mutex};

use parx::sys::trace::{self, Event};
use parx::sys::{ExitStatus, Pipe, Spawn};
use regex::Regex;
use sys_support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn sys_operations_are_traced_one_line_each() {
    let _g = serial();
    let lines: Arc<Mutex<Vec<(Event, String)>>> = Arc::default();
    let sink = lines.clone();
    trace::set_sink(Box::new(move |event, line| {
        sink.lock().unwrap().push((event.clone(), line.to_string()));
    }));

    // echo hi | tr a-z A-Z, with tr's output read here.
    let link = Pipe::new().unwrap();
    let out = Pipe::new().unwrap();
    let mut echo = cmd(&["echo", "hi"]);
    echo.fd(1, link.write);
    let echo = echo.spawn().unwrap();
    let mut tr = cmd(&["tr", "a-z", "A-Z"]);
    tr.fd(0, link.read).fd(1, out.write);
    let tr = tr.spawn().unwrap();
    assert_eq!(read_all_within(out.read, SOON), b"HI\n");
    let (echo_pid, tr_pid) = (echo.pid(), tr.pid());
    assert!(echo.wait().unwrap().status.success());
    assert!(tr.wait().unwrap().status.success());
    // A job that inherits everything, and one that is killed.
    let t = Spawn::new("true").spawn().unwrap();
    let true_pid = t.pid();
    t.wait().unwrap();
    let sleeper = cmd(&["sleep", "30"]).spawn().unwrap();
    let sleep_pid = sleeper.pid();
    sleeper.signal(libc::SIGKILL).unwrap();
    assert_eq!(sleeper.wait().unwrap().status.signal(), Some(9));

    trace::disable();
    Spawn::new("true").spawn().unwrap().wait().unwrap();

    let got: Vec<String> = lines
        .lock()
        .unwrap()
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    let text = got.join("\n");
    // Pipes are numbered in order of creation.
    let first: u64 = got[0]
        .strip_prefix("pipe#")
        .and_then(|l| l.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("trace:\n{text}"));
    let (l, o) = (first, first + 1);
    let patterns = [
        format!(r"^pipe#{l}: read end fd \d+, write end fd \d+$"),
        format!(r"^pipe#{o}: read end fd \d+, write end fd \d+$"),
        format!(r"^spawn pid {echo_pid}: echo hi \(stdout=pipe#{l}w\)$"),
        format!(r"^close fd pipe#{l}w in parent$"),
        format!(r"^spawn pid {tr_pid}: tr a-z A-Z \(stdin=pipe#{l}r stdout=pipe#{o}w\)$"),
        format!(r"^close fd pipe#{l}r in parent$"),
        format!(r"^close fd pipe#{o}w in parent$"),
        format!(r"^exit pid {echo_pid}: status 0 after \d+\.\d{{3}} s$"),
        format!(r"^exit pid {tr_pid}: status 0 after \d+\.\d{{3}} s$"),
        format!(r"^spawn pid {true_pid}: true \(inherits stdin stdout stderr\)$"),
        format!(r"^exit pid {true_pid}: status 0 after \d+\.\d{{3}} s$"),
        format!(r"^spawn pid {sleep_pid}: sleep 30 \(inherits stdin stdout stderr\)$"),
        format!(r"^exit pid {sleep_pid}: killed by signal 9 after \d+\.\d{{3}} s$"),
    ];
    assert_eq!(got.len(), patterns.len(), "trace:\n{text}");
    for (line, pattern) in got.iter().zip(&patterns) {
        let re = Regex::new(pattern).unwrap();
        assert!(re.is_match(line), "{line:?} !~ {pattern}\ntrace:\n{text}");
    }

    // The events carry the same facts, structured.
    let events: Vec<Event> = lines
        .lock()
        .unwrap()
        .iter()
        .map(|(e, _)| e.clone())
        .collect();
    assert!(events.iter().any(|e| matches!(e,
        Event::Exited { pid, status: ExitStatus::Signaled { signal: 9, .. }, .. } if *pid == sleep_pid)));
    assert!(events.iter().any(|e| matches!(e,
        Event::Spawned { pid, fds, .. } if *pid == tr_pid && fds.iter().map(|(c, _)| *c).collect::<Vec<_>>() == [0, 1])));
}

#[test]
fn a_reused_fd_number_is_not_named_after_a_dropped_pipe() {
    let _g = serial();
    use std::os::fd::AsRawFd;
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    // The sink is process-wide: keep only this test's lines (pipe ids are
    // global, so they differ between runs).
    let pipe = Pipe::new().unwrap();
    trace::set_sink(Box::new(move |_, line| {
        sink.lock().unwrap().push(line.into())
    }));
    // fd numbers are process-wide: another thread of the test harness may
    // take the freed number first (seen once in 10 runs), so try again
    // until /dev/null gets the number of the dropped pipe end.
    let (read_fd, null) = (0..100)
        .find_map(|_| {
            let pipe2 = Pipe::new().unwrap();
            let read_fd = pipe2.read.as_raw_fd();
            // Ends dropped by the program itself, not through a spawn.
            drop(pipe2);
            let null = parx::sys::spawn::dev_null().unwrap();
            (null.as_raw_fd() == read_fd).then_some((read_fd, null))
        })
        .expect("premise: the fd number is reused");
    let mut s = Spawn::new("true");
    s.fd(0, null);
    let child = s.spawn().unwrap();
    let pid = child.pid();
    child.wait().unwrap();
    trace::disable();
    drop(pipe);
    let got = lines.lock().unwrap().clone();
    let spawn_line = got
        .iter()
        .find(|l| l.starts_with(&format!("spawn pid {pid}:")))
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(
        spawn_line,
        &format!("spawn pid {pid}: true (stdin={read_fd})"),
        "/dev/null must not be shown as a pipe end"
    );
}
