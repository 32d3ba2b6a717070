//! Anonymous pipes: a read end and a write end, both owned and close-on-exec.
//!
//! A pipe only reports end-of-file once *every* copy of its write end is
//! closed, in every process. parx therefore never hands out raw fds: each end
//! is an [`OwnedFd`], and ends given to a child are moved into the child's fd
//! map (see [`crate::spawn::Spawn::fd`]) and closed in the parent as soon
//! as the child is started.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::pipe::{PipeFlags, fcntl_setpipe_size, pipe_with};

use crate::trace;

/// The two ends of one kernel pipe. Data written to `write` is read from
/// `read`, in order.
#[derive(Debug)]
pub struct Pipe {
    /// The end to read from (`pfd[0]`).
    pub read: OwnedFd,
    /// The end to write to (`pfd[1]`).
    pub write: OwnedFd,
}

impl Pipe {
    /// Creates a pipe with both ends close-on-exec, so that no child ever
    /// inherits an end it was not explicitly given.
    pub fn new() -> io::Result<Pipe> {
        Self::with_flags(PipeFlags::CLOEXEC)
    }

    /// Like [`Pipe::new`], with both ends non-blocking (for an event loop).
    pub fn new_nonblocking() -> io::Result<Pipe> {
        Self::with_flags(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)
    }

    /// Creates a pipe and asks the kernel for a buffer of `bytes` bytes
    /// (`F_SETPIPE_SZ`). The kernel rounds up to a power-of-two number of
    /// pages; an unprivileged process is capped by
    /// `/proc/sys/fs/pipe-max-size`, in which case the default size is kept.
    pub fn with_capacity(bytes: usize) -> io::Result<Pipe> {
        let pipe = Self::new()?;
        // Best effort: a smaller pipe still works, only slower.
        let _ = fcntl_setpipe_size(&pipe.write, bytes);
        Ok(pipe)
    }

    /// The pipe's current capacity in bytes (`F_GETPIPE_SZ`).
    pub fn capacity(&self) -> io::Result<usize> {
        Ok(rustix::pipe::fcntl_getpipe_size(&self.write)?)
    }

    fn with_flags(flags: PipeFlags) -> io::Result<Pipe> {
        let (read, write) = pipe_with(flags)?;
        trace::pipe_created(read.as_fd(), write.as_fd());
        Ok(Pipe { read, write })
    }

    /// Splits the pipe into its (read, write) ends.
    pub fn into_ends(self) -> (OwnedFd, OwnedFd) {
        (self.read, self.write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Write};

    #[test]
    fn data_written_is_read_back_in_order() {
        let Pipe { read, write } = Pipe::new().unwrap();
        let mut w = File::from(write);
        w.write_all(b"Hello from the write end\n").unwrap();
        drop(w);
        let mut got = Vec::new();
        File::from(read).read_to_end(&mut got).unwrap();
        assert_eq!(got, b"Hello from the write end\n");
    }

    #[test]
    fn both_ends_are_close_on_exec() {
        let pipe = Pipe::new().unwrap();
        for fd in [&pipe.read, &pipe.write] {
            let flags = rustix::io::fcntl_getfd(fd).unwrap();
            assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
        }
    }

    #[test]
    fn eof_only_after_every_write_end_is_closed() {
        let Pipe { read, write } = Pipe::new_nonblocking().unwrap();
        let second_writer = write.try_clone().unwrap();
        drop(write);
        let mut r = File::from(read);
        let mut buf = [0u8; 8];
        // One write end is still open: no EOF, the read would block.
        let err = r.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        drop(second_writer);
        assert_eq!(r.read(&mut buf).unwrap(), 0, "EOF once all writers closed");
    }

    #[test]
    fn writing_without_a_reader_is_epipe_not_death() {
        // Rust's runtime ignores SIGPIPE, so the write returns EPIPE.
        let Pipe { read, write } = Pipe::new().unwrap();
        drop(read);
        let err = File::from(write).write_all(b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn capacity_can_be_raised() {
        let pipe = Pipe::with_capacity(1 << 20).unwrap();
        assert!(pipe.capacity().unwrap() >= 1 << 16);
    }
}
