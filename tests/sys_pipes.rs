//! Pipes between parx and its children: EOF only once every write end is
//! closed, EPIPE for a writer without readers, and two children wired
//! together (`echo | tr`) by the fd map alone.

mod sys_support;

use std::fs::File;
use std::io::{Read, Write};
use std::time::Duration;

use parx::sys::{ExitStatus, Pipe};
use sys_support::*;

#[test]
fn eof_arrives_only_when_every_write_end_is_closed() {
    // cat copies its stdin (pipe `input`) to its stdout (pipe `output`).
    let input = Pipe::new().unwrap();
    let output = Pipe::new().unwrap();
    // The classic mistake: the parent keeps a second write end of the pipe.
    let forgotten = input.write.try_clone().unwrap();
    let mut s = cmd(&["cat"]);
    s.fd(0, input.read).fd(1, output.write);
    let mut child = s.spawn().unwrap();

    let mut writer = File::from(input.write);
    writer.write_all(b"hello\n").unwrap();
    drop(writer);
    let mut reader = File::from(output.read);
    let mut line = [0u8; 6];
    reader.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"hello\n");

    // cat never sees EOF: `forgotten` is still a writer. The hang, bounded:
    assert!(
        !readable_within(&reader, Duration::from_millis(300)),
        "cat's output must stay open while a write end of its input is open"
    );
    assert!(child.try_wait().unwrap().is_none(), "cat is still running");

    // Closing the last write end lets EOF through, and cat exits.
    drop(forgotten);
    let rest = read_all_within(reader.into(), SOON);
    assert!(rest.is_empty());
    assert_eq!(child.wait().unwrap().status, ExitStatus::Exited(0));
}

#[test]
fn reading_an_empty_pipe_blocks_until_data_arrives() {
    let pipe = Pipe::new().unwrap();
    assert!(!readable_within(&pipe.read, Duration::from_millis(100)));
    File::from(pipe.write.try_clone().unwrap())
        .write_all(b"x")
        .unwrap();
    assert!(readable_within(&pipe.read, Duration::ZERO));
}

#[test]
fn writing_to_a_pipe_whose_reader_exited_is_epipe() {
    // The only read end goes to a child that exits without reading.
    let pipe = Pipe::new().unwrap();
    let mut s = cmd(&["true"]);
    s.fd(0, pipe.read);
    let child = s.spawn().unwrap();
    assert!(child.wait().unwrap().status.success());
    // Rust ignores SIGPIPE in parx, so the write fails instead of killing us.
    let err = File::from(pipe.write).write_all(b"anyone?").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
}

#[test]
fn a_child_writing_to_a_pipe_without_reader_dies_of_sigpipe() {
    // parx ignores SIGPIPE, but its children start with the default action
    // (terminate), as `yes | head -1` needs.
    let pipe = Pipe::new().unwrap();
    drop(pipe.read);
    let mut s = cmd(&["yes"]);
    s.fd(1, pipe.write);
    let exit = s.spawn().unwrap().wait().unwrap();
    assert_eq!(
        exit.status,
        ExitStatus::Signaled {
            signal: libc::SIGPIPE,
            core_dumped: false
        }
    );
    assert_eq!(exit.status.shell_code(), 141);
}

#[test]
fn two_children_joined_by_a_pipe_echo_into_tr() {
    // echo hello world | tr a-z A-Z, wired by hand.
    let link = Pipe::new().unwrap();
    let out = Pipe::new().unwrap();
    let mut echo = cmd(&["echo", "hello", "world"]);
    echo.fd(1, link.write);
    let mut tr = cmd(&["tr", "a-z", "A-Z"]);
    tr.fd(0, link.read).fd(1, out.write);
    let echo = echo.spawn().unwrap();
    let tr = tr.spawn().unwrap();
    // parx holds no end of `link` now, so tr sees EOF when echo exits.
    let text = read_all_within(out.read, SOON);
    assert_eq!(text, b"HELLO WORLD\n");
    assert_eq!(echo.wait().unwrap().status, ExitStatus::Exited(0));
    assert_eq!(tr.wait().unwrap().status, ExitStatus::Exited(0));
}

#[test]
fn a_pipe_carries_more_than_its_capacity_to_a_reading_child() {
    // 1 MiB through a 64 KiB pipe: the writer blocks until wc reads.
    let input = Pipe::new().unwrap();
    let out = Pipe::new().unwrap();
    let cap = input.capacity().unwrap();
    let mut wc = cmd(&["wc", "-c"]);
    wc.fd(0, input.read).fd(1, out.write);
    let wc = wc.spawn().unwrap();
    let data = vec![b'z'; 16 * cap];
    let mut w = File::from(input.write);
    w.write_all(&data).unwrap();
    drop(w);
    let text = String::from_utf8(read_all_within(out.read, SOON)).unwrap();
    assert_eq!(text.trim(), data.len().to_string());
    assert!(wc.wait().unwrap().status.success());
}
