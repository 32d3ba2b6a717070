//! The `perl` co-process and its wire format: one process for the whole
//! run, started with the driver script, fed requests on its stdin and
//! answering on its fd 3.
//!
//! Every request gets one answer, in order, and the driver reads a whole
//! request before it writes a byte of the answer. parx may send one more
//! request before reading an answer (so perl works while parx prepares
//! and prints), but only a request that fits in the pipe, and never with
//! two answers owed: perl, which has read the earlier request whole, can
//! then be blocked only on writing an answer parx is about to read, and
//! parx's write always completes. The co-process ends on EOF on its stdin,
//! which the kernel delivers when parx closes its end, exits, or is killed
//! with SIGKILL.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};

use crate::sys::{Child, Pipe, Spawn, SpawnError};

/// The Perl program the co-process runs.
const DRIVER: &str = include_str!("driver.pl");

/// Why the co-process could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CoprocError {
    /// `perl` is not installed (not in `PATH`).
    #[error(
        "{{= perl expression =}} replacement strings need perl, which is not installed (apt-get install perl)"
    )]
    NotInstalled,
    /// Starting or talking to it failed.
    #[error("the perl co-process failed: {0}")]
    Io(#[from] io::Error),
}

/// Pipe size asked for: batches up to this size can be sent ahead.
const PIPE_SIZE: usize = 1 << 20;

/// A running `perl` co-process.
pub struct Coproc {
    requests: Option<File>,
    answers: File,
    child: Option<Child>,
    /// Reused request buffer.
    buf: Vec<u8>,
    /// Bytes the request pipe holds.
    capacity: usize,
}

impl Coproc {
    /// Starts `perl` with the driver; `trim` is GNU parallel's `--trim`
    /// value (`n`, `l`, `r`, `lr`).
    pub fn start(trim: &str) -> Result<Coproc, CoprocError> {
        let requests = Pipe::with_capacity(PIPE_SIZE)?;
        let answers = Pipe::with_capacity(PIPE_SIZE)?;
        let capacity = requests.capacity().unwrap_or(4096);
        let mut spawn = Spawn::new("perl");
        spawn
            .arg("-e")
            .arg(DRIVER)
            .arg(OsStr::new(trim))
            .fd(0, requests.read)
            .fd(3, answers.write);
        let child = spawn.spawn().map_err(|e| match e {
            SpawnError::NotFound { .. } | SpawnError::PermissionDenied { .. } => {
                CoprocError::NotInstalled
            }
            other => CoprocError::Io(io::Error::other(other.to_string())),
        })?;
        Ok(Coproc {
            requests: Some(File::from(requests.write)),
            answers: File::from(answers.read),
            child: Some(child),
            buf: Vec::new(),
            capacity,
        })
    }

    /// Whether the request being built fits in the pipe (so it may be sent
    /// while an answer is still owed).
    pub fn fits(&self) -> bool {
        self.buf.len() <= self.capacity
    }

    /// A request of `kind` to fill: write its body with the `put_*`
    /// helpers, then [`Coproc::exchange`].
    pub fn begin(&mut self, kind: u8) -> &mut Vec<u8> {
        self.buf.clear();
        self.buf.push(kind);
        self.buf.extend_from_slice(&[0; 4]);
        &mut self.buf
    }

    /// Sends the request built since [`Coproc::begin`] and returns the
    /// answer's kind and body.
    pub fn exchange(&mut self) -> Result<(u8, Vec<u8>), CoprocError> {
        self.send()?;
        self.receive()
    }

    /// Sends the request built since [`Coproc::begin`].
    pub fn send(&mut self) -> Result<(), CoprocError> {
        let len = u32::try_from(self.buf.len() - 5)
            .map_err(|_| io::Error::other("request larger than 4 GiB"))?;
        self.buf[1..5].copy_from_slice(&len.to_le_bytes());
        let requests = self
            .requests
            .as_mut()
            .ok_or_else(|| io::Error::other("closed"))?;
        requests.write_all(&self.buf).map_err(gone)
    }

    /// Reads the next answer: its kind and body.
    pub fn receive(&mut self) -> Result<(u8, Vec<u8>), CoprocError> {
        let mut head = [0u8; 5];
        self.answers.read_exact(&mut head).map_err(gone)?;
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len];
        self.answers.read_exact(&mut body).map_err(gone)?;
        Ok((head[0], body))
    }
}

/// An I/O error talking to perl: its end is gone.
fn gone(e: io::Error) -> CoprocError {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => CoprocError::Io(
            io::Error::other("perl exited (did the expression call exit?)"),
        ),
        _ => CoprocError::Io(e),
    }
}

impl Drop for Coproc {
    fn drop(&mut self) {
        // EOF on its stdin ends the driver; then reap it.
        self.requests = None;
        if let Some(child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

/// Appends a little-endian u32.
pub fn put_u32(buf: &mut Vec<u8>, n: u32) {
    buf.extend_from_slice(&n.to_le_bytes());
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_u32(buf, b.len() as u32);
    buf.extend_from_slice(b);
}

/// Reads answers: bytes and length-prefixed byte strings.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `data` from the start.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// One byte.
    pub fn byte(&mut self) -> Result<u8, CoprocError> {
        let (&b, rest) = self.data.split_first().ok_or_else(short)?;
        self.data = rest;
        Ok(b)
    }

    /// One length-prefixed byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], CoprocError> {
        if self.data.len() < 4 {
            return Err(short());
        }
        let n =
            u32::from_le_bytes([self.data[0], self.data[1], self.data[2], self.data[3]]) as usize;
        let rest = &self.data[4..];
        if rest.len() < n {
            return Err(short());
        }
        let (v, rest) = rest.split_at(n);
        self.data = rest;
        Ok(v)
    }
}

fn short() -> CoprocError {
    CoprocError::Io(io::Error::other("short answer from perl"))
}
