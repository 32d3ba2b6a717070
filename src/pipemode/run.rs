//! Pipe mode on the job engine: each block becomes a job's input.
//!
//! - `--pipe`: one job per block; the block is written to the job's stdin
//!   by the engine's event loop, so reading stdin stops while every slot is
//!   busy (at most one block per running job, plus the one being cut, is in
//!   memory).
//! - `--pipepart`: one job per part of a seekable file; the part is moved
//!   into the job's stdin pipe with `splice`, never through parx's memory.
//! - `--roundrobin`: `-j` long-lived jobs share one stream of blocks;
//!   whichever job's pipe has room takes the next block, whole (one
//!   producer, many competing consumers). The header goes to each job once.
//! - `--cat`: the block is written to a temporary file whose name replaces
//!   `{}`; the file is removed when the job ends.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::rc::Rc;

use crate::engine::{Chunk, Feed, JobSpec};

use super::{Block, Part, Splitter};

/// One block's input for a job: an optional header, then the records.
pub struct Unit {
    /// The header, repeated for every job (`--header`).
    pub header: Option<Chunk>,
    /// The records.
    pub body: Chunk,
}

impl Unit {
    /// A `--pipe` block (its header is the first `header_len` bytes).
    pub fn from_block(block: Block) -> Unit {
        let h = block.header_len;
        let len = block.data.len();
        let data = Rc::new(block.data);
        Unit {
            header: (h > 0).then(|| Chunk::Bytes(data.clone(), 0..h)),
            body: Chunk::Bytes(data, h..len),
        }
    }

    /// A `--pipepart` part of `file`.
    pub fn from_part(file: &Rc<File>, part: &Part) -> Unit {
        Unit {
            header: part.header.map(|(offset, len)| Chunk::FileRange {
                file: file.clone(),
                offset,
                len,
            }),
            body: Chunk::FileRange {
                file: file.clone(),
                offset: part.offset,
                len: part.len,
            },
        }
    }

    fn into_chunks(self) -> VecDeque<Chunk> {
        self.header.into_iter().chain([self.body]).collect()
    }

    /// Writes the whole unit to `out` (for `--cat`).
    fn write_to(&self, out: &mut File) -> io::Result<()> {
        for chunk in self.header.iter().chain([&self.body]) {
            match chunk {
                Chunk::Bytes(data, range) => out.write_all(&data[range.clone()])?,
                Chunk::FileRange { file, offset, len } => {
                    use std::os::unix::fs::FileExt;
                    let mut buf = vec![0; *len as usize];
                    file.read_exact_at(&mut buf, *offset)?;
                    out.write_all(&buf)?;
                }
            }
        }
        Ok(())
    }
}

/// A feed of a fixed list of chunks: one job's whole input.
struct Fixed(VecDeque<Chunk>);

impl Feed for Fixed {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        Ok(self.0.pop_front())
    }
}

/// A job of pipe mode: a job and the input it will read.
pub struct PipeJob<J> {
    job: J,
    feed: Option<Box<dyn Feed>>,
    /// `--cat`: the block's file, removed when the job is dropped.
    _file: Option<tempfile::TempPath>,
}

impl<J> PipeJob<J> {
    /// `job` reading `unit` on its stdin.
    pub fn stdin(job: J, unit: Unit) -> PipeJob<J> {
        PipeJob {
            job,
            feed: Some(Box::new(Fixed(unit.into_chunks()))),
            _file: None,
        }
    }

    /// `job` reading its input from a stream shared with other jobs.
    pub fn shared(job: J, feed: Box<dyn Feed>) -> PipeJob<J> {
        PipeJob {
            job,
            feed: Some(feed),
            _file: None,
        }
    }

    /// `job` with no input of its own (stdin is `/dev/null`).
    pub fn with_file_less(job: J) -> PipeJob<J> {
        PipeJob {
            job,
            feed: None,
            _file: None,
        }
    }

    /// `job` whose `{}` names `file` (`--cat`); stdin is `/dev/null`.
    pub fn with_file(job: J, file: tempfile::TempPath) -> PipeJob<J> {
        PipeJob {
            job,
            feed: None,
            _file: Some(file),
        }
    }
}

impl<J: JobSpec> JobSpec for PipeJob<J> {
    fn seq(&self) -> u64 {
        self.job.seq()
    }

    fn command_line(&self, slot: usize) -> Vec<u8> {
        self.job.command_line(slot)
    }

    fn tag(&self, slot: usize) -> Option<Vec<u8>> {
        self.job.tag(slot)
    }

    fn take_stdin(&mut self) -> Option<Box<dyn Feed>> {
        self.feed.take()
    }
}

/// Writes `unit` to a new temporary file in `dir` (`--cat`).
pub fn unit_to_file(unit: &Unit, dir: &std::path::Path) -> io::Result<tempfile::TempPath> {
    let mut tmp = tempfile::Builder::new().prefix("parx").tempfile_in(dir)?;
    unit.write_to(tmp.as_file_mut())?;
    Ok(tmp.into_temp_path())
}

/// Blocks cut from a stream, with the splitter's warnings printed as they
/// come (GNU's wording).
pub struct Blocks<R: Read> {
    splitter: Splitter<R>,
}

impl<R: Read> Blocks<R> {
    /// Blocks from `splitter`.
    pub fn new(splitter: Splitter<R>) -> Blocks<R> {
        Blocks { splitter }
    }
}

impl<R: Read> Iterator for Blocks<R> {
    type Item = io::Result<Unit>;

    fn next(&mut self) -> Option<io::Result<Unit>> {
        let next = self.splitter.next();
        for w in self.splitter.take_warnings() {
            eprintln!("parx: Warning: {w}");
        }
        next.map(|r| r.map(Unit::from_block))
    }
}

/// The stream `--roundrobin` jobs share.
pub struct SharedUnits<I> {
    units: I,
    peeked: Option<Unit>,
}

impl<I: Iterator<Item = io::Result<Unit>>> SharedUnits<I> {
    /// Shares `units`; returns `None` if there is no unit at all (empty
    /// input starts no job).
    pub fn new(mut units: I) -> io::Result<Option<Rc<RefCell<SharedUnits<I>>>>> {
        match units.next().transpose()? {
            None => Ok(None),
            Some(first) => Ok(Some(Rc::new(RefCell::new(SharedUnits {
                units,
                peeked: Some(first),
            })))),
        }
    }

    fn next_unit(&mut self) -> io::Result<Option<Unit>> {
        if let Some(u) = self.peeked.take() {
            return Ok(Some(u));
        }
        self.units.next().transpose()
    }
}

/// One `--roundrobin` job's view of the shared stream: it takes the next
/// whole unit whenever it has written the previous one; the header is
/// sent only with its first unit.
pub struct RoundRobinFeed<I> {
    shared: Rc<RefCell<SharedUnits<I>>>,
    pending: VecDeque<Chunk>,
    header_sent: bool,
}

impl<I> RoundRobinFeed<I> {
    /// A job's feed from the shared stream.
    pub fn new(shared: Rc<RefCell<SharedUnits<I>>>) -> RoundRobinFeed<I> {
        RoundRobinFeed {
            shared,
            pending: VecDeque::new(),
            header_sent: false,
        }
    }
}

impl<I: Iterator<Item = io::Result<Unit>>> Feed for RoundRobinFeed<I> {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        if let Some(c) = self.pending.pop_front() {
            return Ok(Some(c));
        }
        let Some(unit) = self.shared.borrow_mut().next_unit()? else {
            return Ok(None);
        };
        if let Some(h) = unit.header
            && !self.header_sent
        {
            self.pending.push_back(h);
        }
        self.header_sent = true;
        self.pending.push_back(unit.body);
        Ok(self.pending.pop_front())
    }
}
