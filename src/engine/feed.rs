//! Feeding a job's stdin from the event loop (`--pipe`, `--roundrobin`).
//!
//! A job with a [`Feed`] gets the read end of a pipe as its stdin; parx
//! keeps the write end, non-blocking, and writes whenever epoll says the
//! pipe has room. A `Feed` hands out [`Chunk`]s one at a time; a chunk is
//! always written whole to one job, so records are never split between
//! jobs. When the feed runs dry the write end is closed and the job sees
//! EOF. A job that exits without reading makes the write fail with `EPIPE`
//! (parx ignores SIGPIPE): the rest of its chunk is dropped and the job's
//! own status tells what happened.
//!
//! For `--roundrobin` many jobs share one feed: a job whose pipe has room
//! takes the next block, one block per round of the event loop, so the
//! blocks spread over every job that keeps up (as GNU parallel writes each
//! block to the next job in turn that accepts it) — one producer, many
//! competing consumers.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

/// A piece of input written whole to one job's stdin.
#[derive(Debug, Clone)]
pub enum Chunk {
    /// A range of bytes held in memory (a `--pipe` block, or its header).
    Bytes(Rc<Vec<u8>>, std::ops::Range<usize>),
    /// A byte range of a file (a `--pipepart` part), moved to the pipe
    /// with `splice` so the data never enters parx's memory.
    FileRange {
        /// The file.
        file: Rc<File>,
        /// Where the range starts.
        offset: u64,
        /// How long it is.
        len: u64,
    },
}

impl Chunk {
    /// Bytes in the chunk.
    pub fn len(&self) -> u64 {
        match self {
            Chunk::Bytes(_, range) => range.len() as u64,
            Chunk::FileRange { len, .. } => *len,
        }
    }

    /// True if the chunk has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a job's stdin comes from.
pub trait Feed {
    /// The next chunk for this job, or `None` when its input is complete.
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>>;

    /// After a chunk is written whole: whether this job should let the
    /// other jobs sharing the input take theirs before it takes another
    /// (`--roundrobin`). The pipe then waits for the event loop's next
    /// round even if it has room, so every writable job gets a turn.
    fn turn_over(&self) -> bool {
        false
    }
}

/// A feed of a fixed list of chunks (one `--pipe` block, plus a header).
pub struct Chunks(pub std::collections::VecDeque<Chunk>);

impl Feed for Chunks {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        Ok(self.0.pop_front())
    }
}

/// The parent's side of one job's stdin pipe.
pub(crate) struct StdinWriter {
    pipe: OwnedFd,
    feed: Box<dyn Feed>,
    current: Option<(Chunk, u64)>,
    /// Bytes written so far (the joblog's `Send`).
    pub(crate) sent: u64,
}

/// What a write attempt left behind.
pub(crate) enum WriteState {
    /// The pipe is full; wait for it to have room.
    Blocked,
    /// Everything is written (or the reader is gone): close the pipe.
    Done,
}

impl StdinWriter {
    /// Takes the non-blocking write end of the job's stdin pipe.
    pub(crate) fn new(pipe: OwnedFd, feed: Box<dyn Feed>) -> StdinWriter {
        StdinWriter {
            pipe,
            feed,
            current: None,
            sent: 0,
        }
    }

    /// The feed back, for a job that did not start after all (nothing
    /// has been written yet).
    pub(crate) fn into_feed(self) -> Box<dyn Feed> {
        self.feed
    }

    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.pipe.as_fd()
    }

    /// Writes as much as the pipe takes now.
    pub(crate) fn write_some(&mut self) -> io::Result<WriteState> {
        loop {
            if self.current.is_none() {
                match self.feed.next_chunk()? {
                    Some(chunk) if chunk.is_empty() => continue,
                    Some(chunk) => self.current = Some((chunk, 0)),
                    None => return Ok(WriteState::Done),
                }
            }
            let Some((chunk, done)) = self.current.as_mut() else {
                continue;
            };
            let result = match chunk {
                Chunk::Bytes(bytes, range) => {
                    rustix::io::write(&self.pipe, &bytes[range.start + *done as usize..range.end])
                }
                Chunk::FileRange { file, offset, len } => {
                    let mut off = *offset + *done;
                    rustix::pipe::splice(
                        file.as_fd(),
                        Some(&mut off),
                        &self.pipe,
                        None,
                        (*len - *done) as usize,
                        rustix::pipe::SpliceFlags::NONBLOCK | rustix::pipe::SpliceFlags::MORE,
                    )
                }
            };
            match result {
                Ok(0) => return Ok(WriteState::Done),
                Ok(n) => {
                    *done += n as u64;
                    self.sent += n as u64;
                    if *done >= chunk.len() {
                        self.current = None;
                        if self.feed.turn_over() {
                            return Ok(WriteState::Blocked);
                        }
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return Ok(WriteState::Blocked),
                Err(rustix::io::Errno::INTR) => {}
                // The job is gone or closed its stdin: it will report its
                // own status; the rest of this chunk is not delivered.
                Err(rustix::io::Errno::PIPE) => return Ok(WriteState::Done),
                Err(e) => return Err(e.into()),
            }
        }
    }
}
