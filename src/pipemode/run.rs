//! Pipe mode on the job engine: each block becomes a job's input.
//!
//! - `--pipe`: one job per block; the block is written to the job's stdin
//!   by the engine's event loop, so reading stdin stops while every slot is
//!   busy (at most one block per running job, plus the one being cut, is in
//!   memory).
//! - `--pipepart`: one job per part of a seekable file; the part is moved
//!   into the job's stdin pipe with `splice`, never through parx's memory.
//! - `--roundrobin`: `-j` long-lived jobs share one stream of blocks;
//!   each job whose pipe has room takes the next block, whole, one block
//!   per turn (one producer, many competing consumers). The header goes
//!   to each job once.
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

    /// The unit's bytes, header first (for `--cat` and `--fifo`).
    fn to_bytes(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for chunk in self.header.iter().chain([&self.body]) {
            match chunk {
                Chunk::Bytes(data, range) => out.extend_from_slice(&data[range.clone()]),
                Chunk::FileRange { file, offset, len } => {
                    use std::os::unix::fs::FileExt;
                    let start = out.len();
                    out.resize(start + *len as usize, 0);
                    file.read_exact_at(&mut out[start..], *offset)?;
                }
            }
        }
        Ok(out)
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
    /// The job's own block, given again to every attempt (`--retries`).
    block: Option<VecDeque<Chunk>>,
    /// A stream shared with other jobs (`--roundrobin`), given once.
    feed: Option<Box<dyn Feed>>,
    /// `--cat`: the block's file, removed when the job is dropped.
    _file: Option<tempfile::TempPath>,
    /// `--fifo`: the named pipe and the thread writing the block into it.
    _fifo: Option<Fifo>,
}

impl<J> PipeJob<J> {
    /// `job` reading `unit` on its stdin.
    pub fn stdin(job: J, unit: Unit) -> PipeJob<J> {
        PipeJob {
            job,
            block: Some(unit.into_chunks()),
            feed: None,
            _file: None,
            _fifo: None,
        }
    }

    /// `job` reading its input from a stream shared with other jobs.
    pub fn shared(job: J, feed: Box<dyn Feed>) -> PipeJob<J> {
        PipeJob {
            job,
            block: None,
            feed: Some(feed),
            _file: None,
            _fifo: None,
        }
    }

    /// `job` with no input of its own (stdin is `/dev/null`).
    pub fn with_file_less(job: J) -> PipeJob<J> {
        PipeJob {
            job,
            block: None,
            feed: None,
            _file: None,
            _fifo: None,
        }
    }

    /// `job` whose `{}` names `file` (`--cat`); stdin is `/dev/null`.
    pub fn with_file(job: J, file: tempfile::TempPath) -> PipeJob<J> {
        PipeJob {
            job,
            block: None,
            feed: None,
            _file: Some(file),
            _fifo: None,
        }
    }

    /// `job` whose `{}` names `fifo` (`--fifo`); stdin is `/dev/null`.
    pub fn with_fifo(job: J, fifo: Fifo) -> PipeJob<J> {
        PipeJob {
            job,
            block: None,
            feed: None,
            _file: None,
            _fifo: Some(fifo),
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

    fn skipped(&self) -> bool {
        self.job.skipped()
    }

    fn take_stdin(&mut self) -> Option<Box<dyn Feed>> {
        match &self.block {
            Some(chunks) => Some(Box::new(Fixed(chunks.clone()))),
            None => self.feed.take(),
        }
    }
}

/// Writes `unit` to a new temporary file in `dir` (`--cat`).
pub fn unit_to_file(unit: &Unit, dir: &std::path::Path) -> io::Result<tempfile::TempPath> {
    let mut tmp = tempfile::Builder::new().prefix("parx").tempfile_in(dir)?;
    tmp.as_file_mut().write_all(&unit.to_bytes()?)?;
    Ok(tmp.into_temp_path())
}

/// `--fifo`: a named pipe in a private temporary directory, and a thread
/// that writes one block into it once the job opens it for reading.
///
/// A thread is used because opening a FIFO for writing blocks until a
/// reader opens it, and the job may open it at any time, or never. When
/// the job is done the FIFO is opened for reading once, so a writer still
/// waiting for a reader is released, and the directory is removed.
pub struct Fifo {
    dir: Option<tempfile::TempDir>,
    path: std::path::PathBuf,
    writer: Option<std::thread::JoinHandle<()>>,
    /// Set by the writer once its open has returned.
    opened: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Fifo {
    /// Makes the FIFO in `dir` and starts writing `unit` into it.
    pub fn new(unit: &Unit, dir: &std::path::Path) -> io::Result<Fifo> {
        let tmp = tempfile::Builder::new().prefix("parx").tempdir_in(dir)?;
        let path = tmp.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &path,
            rustix::fs::Mode::from_raw_mode(0o600),
        )?;
        let data = unit.to_bytes()?;
        let target = path.clone();
        let opened = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = opened.clone();
        let writer = std::thread::spawn(move || {
            let file = std::fs::OpenOptions::new().write(true).open(&target);
            flag.store(true, std::sync::atomic::Ordering::Release);
            // A reader that goes away early gives EPIPE (SIGPIPE is
            // ignored in parx): the rest of its block is not delivered.
            if let Ok(mut f) = file {
                let _ = f.write_all(&data);
            }
        });
        Ok(Fifo {
            dir: Some(tmp),
            path,
            writer: Some(writer),
            opened,
        })
    }

    /// The FIFO's path (what `{}` becomes).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            // The job never opened the FIFO: be its reader until the
            // writer's open returns (holding our end, so it can not miss
            // us), then close it so the writer's write fails and it ends.
            let reader = rustix::fs::open(
                &self.path,
                rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
                rustix::fs::Mode::empty(),
            );
            while !self.opened.load(std::sync::atomic::Ordering::Acquire) && !writer.is_finished() {
                std::thread::yield_now();
            }
            drop(reader);
            let _ = writer.join();
        }
        self.dir.take();
    }
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
    /// A read error met while taking the first unit, reported on the
    /// first write.
    error: Option<io::Error>,
}

impl<I: Iterator<Item = io::Result<Unit>>> RoundRobinFeed<I> {
    /// A job's feed from the shared stream, holding its first unit
    /// already; `None` if no unit is left (GNU parallel starts a job only
    /// for a block: `-j4` with 3 blocks runs 3 jobs).
    pub fn with_first_unit(shared: Rc<RefCell<SharedUnits<I>>>) -> Option<RoundRobinFeed<I>> {
        let mut feed = RoundRobinFeed {
            shared,
            pending: VecDeque::new(),
            header_sent: false,
            error: None,
        };
        match feed.take_unit() {
            Ok(true) => Some(feed),
            Ok(false) => None,
            Err(e) => {
                feed.error = Some(e);
                Some(feed)
            }
        }
    }

    /// Moves the next shared unit into `pending`; false if none is left.
    fn take_unit(&mut self) -> io::Result<bool> {
        let Some(unit) = self.shared.borrow_mut().next_unit()? else {
            return Ok(false);
        };
        if let Some(h) = unit.header
            && !self.header_sent
        {
            self.pending.push_back(h);
        }
        self.header_sent = true;
        self.pending.push_back(unit.body);
        Ok(true)
    }
}

impl<I: Iterator<Item = io::Result<Unit>>> Feed for RoundRobinFeed<I> {
    fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.pending.is_empty() && !self.take_unit()? {
            return Ok(None);
        }
        Ok(self.pending.pop_front())
    }

    /// One block per turn: a job that reads fast must not take them all.
    fn turn_over(&self) -> bool {
        self.pending.is_empty()
    }
}
